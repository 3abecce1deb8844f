/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-vsock, driven through its rings by the simulated driver with
 * real Unix sockets on the host side: what it offers (ID 19, the CID in
 * its configuration space, three queues), a host program's CONNECT and
 * the guest's RESPONSE (OK <hostport>), a guest's REQUEST to PATH_P and
 * to a port nothing listens on, data both ways, the guest's credit (the
 * device reads no more than it, and resumes on CREDIT_UPDATE), the
 * device's credit (a guest past it is reset; a host that does not read
 * makes the device stop taking data, not buffer it), shutdown both ways
 * and RST, a driver reset and a transport reset with connections open,
 * many connections at once, CONNECT lines that are garbage, too long or
 * never end, a guest that never answers, and malformed packets.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_vsock.h>

#include "check.h"
#include "common/io_loop.h"
#include "devices/virtio/virtio_vsock.h"
#include "virtio_sim.h"

#define F_V1 (1ull << VIRTIO_F_VERSION_1)
/* What Linux's driver takes: notifications by EVENT_IDX. */
#define F_ALL (F_V1 | 1ull << VIRTIO_RING_F_EVENT_IDX | 1ull << VIRTIO_RING_F_INDIRECT_DESC)
#define RAM (16u << 20)
#define CID 3
#define HDR ((uint32_t)sizeof(struct virtio_vsock_hdr))
#define RXQ 0
#define TXQ 1
#define EVQ 2
#define RXBUF 4096
#define BUF_ALLOC 8192
#define TIMEOUT_MS 300
#define QSIZE 256

struct rig {
	struct virtio_sim *sim;
	struct virtio_vsock *v;
	struct virtio_dev *dev;
	char dir[64], path[108];
	int lfd;
	uint64_t rx_gpa[QSIZE]; /* each rx head's buffer */
};

static int listen_at(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 64)) {
		perror("listen_at");
		abort();
	}
	return fd;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("connect_to");
		abort();
	}
	return fd;
}

static int rig_open(struct rig *r, uint32_t buf_alloc)
{
	struct phy_error err = {0};
	memset(r, 0, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "/tmp/vsock-test-XXXXXX");
	if (!mkdtemp(r->dir))
		return -1;
	snprintf(r->path, sizeof(r->path), "%s/v.sock", r->dir);
	r->lfd = listen_at(r->path);
	r->sim = sim_create(RAM, 0);
	if (!r->sim)
		return -1;
	struct virtio_vsock_params p = {
		.guest_cid = CID, .listen_fd = r->lfd, .path = r->path,
		.buf_alloc = buf_alloc, .timeout_ms = TIMEOUT_MS,
	};
	if (virtio_vsock_create(&r->v, &p, "virtio-vsock0", &r->sim->mem,
				r->sim->loop, &err)) {
		fprintf(stderr, "virtio_vsock_create: %s\n", err.message);
		return -1;
	}
	r->dev = virtio_vsock_dev(r->v);
	sim_attach(r->sim, r->dev, NULL, NULL);
	return 0;
}

static void rig_close(struct rig *r)
{
	virtio_vsock_destroy(r->v);
	sim_destroy(r->sim);
	close(r->lfd);
	unlink(r->path);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", r->dir);
	if (system(cmd)) {
		/* a leftover directory in /tmp */
	}
}

/* Lets the loop handle what the sockets and the kicks brought. */
static void pump(struct rig *r)
{
	for (int i = 0; i < 20; i++) {
		io_loop_run_once(r->sim->loop, false);
		usleep(500);
	}
}

static int rig_start(struct rig *r, uint32_t buf_alloc)
{
	if (rig_open(r, buf_alloc))
		return -1;
	return sim_start(r->sim, F_ALL, 3, QSIZE);
}

/* Notifies queue q when the driver must (EVENT_IDX), as Linux does. */
static void kick(struct rig *r, unsigned q, uint16_t old)
{
	if (sim_kick_needed(r->sim, q, old))
		sim_kick(r->sim, q);
}

static void rx_post(struct rig *r, unsigned n)
{
	uint16_t old = r->sim->q[RXQ].avail_idx;
	for (unsigned i = 0; i < n; i++) {
		uint64_t gpa = sim_alloc(r->sim, RXBUF, 8);
		struct sim_buf b = {gpa, RXBUF, true};
		int head = sim_add(r->sim, RXQ, &b, 1, false);
		if (head < 0)
			abort();
		r->rx_gpa[head] = gpa;
	}
	kick(r, RXQ, old);
}

struct pkt {
	struct virtio_vsock_hdr h;
	uint8_t data[RXBUF];
	uint32_t len; /* data bytes */
};

/* The next packet the device gave the guest: 1, or 0 when none; its
 * buffer goes back on the ring. */
static int rx_get(struct rig *r, struct pkt *p)
{
	uint16_t id;
	uint32_t len;
	if (!sim_get_used(r->sim, RXQ, &id, &len))
		return 0;
	uint8_t *b = sim_ptr(r->sim, r->rx_gpa[id], RXBUF);
	memcpy(&p->h, b, HDR);
	p->len = len - HDR;
	memcpy(p->data, b + HDR, p->len);
	struct sim_buf sb = {r->rx_gpa[id], RXBUF, true};
	uint16_t old = r->sim->q[RXQ].avail_idx;
	int head = sim_add(r->sim, RXQ, &sb, 1, false);
	r->rx_gpa[head] = sb.gpa;
	kick(r, RXQ, old);
	return 1;
}

struct txp {
	uint64_t src_cid, dst_cid;
	uint32_t gport, hport;
	uint16_t op, type;
	uint32_t flags, buf_alloc, fwd_cnt;
	const void *data;
	uint32_t len;
	int32_t len_delta; /* header's len minus the data's */
};

static void tx_send(struct rig *r, const struct txp *t)
{
	uint64_t gpa = sim_alloc(r->sim, HDR + t->len + 1, 8);
	struct virtio_vsock_hdr h = {
		.src_cid = htole64(t->src_cid ? t->src_cid : CID),
		.dst_cid = htole64(t->dst_cid ? t->dst_cid : 2),
		.src_port = htole32(t->gport),
		.dst_port = htole32(t->hport),
		.len = htole32((uint32_t)((int32_t)t->len + t->len_delta)),
		.type = htole16(t->type ? t->type : VIRTIO_VSOCK_TYPE_STREAM),
		.op = htole16(t->op),
		.flags = htole32(t->flags),
		.buf_alloc = htole32(t->buf_alloc ? t->buf_alloc : 65536),
		.fwd_cnt = htole32(t->fwd_cnt),
	};
	memcpy(sim_ptr(r->sim, gpa, HDR), &h, HDR);
	if (t->len)
		memcpy(sim_ptr(r->sim, gpa + HDR, t->len), t->data, t->len);
	struct sim_buf b = {gpa, HDR + t->len, false};
	uint16_t old = r->sim->q[TXQ].avail_idx;
	REQUIRE(sim_add(r->sim, TXQ, &b, 1, false) >= 0);
	kick(r, TXQ, old);
	pump(r);
	uint16_t id;
	uint32_t len;
	while (sim_get_used(r->sim, TXQ, &id, &len))
		;
}

static void tx_op(struct rig *r, uint16_t op, uint32_t gport, uint32_t hport)
{
	tx_send(r, &(struct txp){.op = op, .gport = gport, .hport = hport});
}

static ssize_t host_read(int fd, void *buf, size_t n)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, 200) <= 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	return recv(fd, buf, n, MSG_DONTWAIT);
}

/* A host program's connection to guest port gport, answered by the
 * guest: its socket and *hport. */
static int host_connect(struct rig *r, uint32_t gport, uint32_t guest_buf,
			uint32_t *hport)
{
	int fd = connect_to(r->path);
	char line[32];
	int n = snprintf(line, sizeof(line), "CONNECT %u\n", gport);
	if (write(fd, line, (size_t)n) != n)
		abort();
	pump(r);
	struct pkt p;
	if (!rx_get(r, &p) || le16toh(p.h.op) != VIRTIO_VSOCK_OP_REQUEST ||
	    le32toh(p.h.dst_port) != gport) {
		fprintf(stderr, "host_connect: no REQUEST\n");
		close(fd);
		return -1;
	}
	*hport = le32toh(p.h.src_port);
	tx_send(r, &(struct txp){.op = VIRTIO_VSOCK_OP_RESPONSE, .gport = gport,
				 .hport = *hport, .buf_alloc = guest_buf});
	char ok[32] = {0};
	n = snprintf(line, sizeof(line), "OK %u\n", *hport);
	if (host_read(fd, ok, (size_t)n) != n || memcmp(ok, line, (size_t)n)) {
		fprintf(stderr, "host_connect: no OK line\n");
		close(fd);
		return -1;
	}
	return fd;
}

static struct virtio_vsock_stats stats(struct rig *r)
{
	struct virtio_vsock_stats st;
	virtio_vsock_stats(r->v, &st);
	return st;
}

/* Whether the device closed the host socket: EOF, or ECONNRESET when
 * it left bytes unread. */
static bool host_closed(int fd)
{
	char c;
	ssize_t n = host_read(fd, &c, 1);
	return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* ---- what the device offers ---- */

static void test_features(void)
{
	struct rig r;
	REQUIRE(rig_open(&r, 0) == 0);
	CHECK_EQ_U64(r.dev->device_id, VIRTIO_ID_VSOCK);
	CHECK_EQ_U64(r.dev->device_id, 19);
	CHECK_EQ_U64(r.dev->nr_queues, 3);
	CHECK_EQ_U64(r.dev->config_size, 8);
	uint64_t cid = 0;
	sim_config_read(r.sim, 0, &cid, 8);
	CHECK_EQ_U64(le64toh(cid), CID);
	CHECK(sim_start(r.sim, F_V1, 3, QSIZE) == 0);
	CHECK(sim_negotiate(r.sim, F_V1 | (1ull << VIRTIO_VSOCK_F_SEQPACKET)) == -1);
	rig_close(&r);

	/* Reserved CIDs and missing sockets are refused. */
	struct virtio_sim *sim = sim_create(RAM, 0);
	REQUIRE(sim);
	struct phy_error err = {0};
	struct virtio_vsock *v;
	uint64_t bad[] = {0, 1, 2, 0xffffffffull, 1ull << 40};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct virtio_vsock_params p = {.guest_cid = bad[i], .listen_fd = 0,
						.path = "/x"};
		CHECK(virtio_vsock_create(&v, &p, "vs", &sim->mem, sim->loop, &err) != 0);
		CHECK_STR_CONTAINS(err.message, "reserved");
	}
	struct virtio_vsock_params p = {.guest_cid = 3, .listen_fd = -1, .path = "/x"};
	CHECK(virtio_vsock_create(&v, &p, "vs", &sim->mem, sim->loop, &err) != 0);
	sim_destroy(sim);
}

/* ---- connections ---- */

static void test_host_connect(void)
{
	struct rig r;
	REQUIRE(rig_start(&r, BUF_ALLOC) == 0);
	rx_post(&r, 16);
	uint32_t hp;
	int fd = host_connect(&r, 1234, 65536, &hp);
	REQUIRE(fd >= 0);
	CHECK(hp >= (1u << 30));
	CHECK_EQ_U64(stats(&r).host_connects, 1);
	CHECK_EQ_U64(stats(&r).conns, 1);

	/* Host to guest. */
	REQUIRE(write(fd, "hello", 5) == 5);
	pump(&r);
	struct pkt p;
	REQUIRE(rx_get(&r, &p));
	CHECK_EQ_U64(le16toh(p.h.op), VIRTIO_VSOCK_OP_RW);
	CHECK_EQ_U64(le64toh(p.h.src_cid), 2);
	CHECK_EQ_U64(le64toh(p.h.dst_cid), CID);
	CHECK_EQ_U64(le32toh(p.h.src_port), hp);
	CHECK_EQ_U64(le32toh(p.h.dst_port), 1234);
	CHECK_EQ_U64(le32toh(p.h.buf_alloc), BUF_ALLOC);
	CHECK(p.len == 5 && memcmp(p.data, "hello", 5) == 0);

	/* Guest to host. */
	tx_send(&r, &(struct txp){.op = VIRTIO_VSOCK_OP_RW, .gport = 1234,
				  .hport = hp, .data = "world", .len = 5});
	char buf[16];
	CHECK(host_read(fd, buf, sizeof(buf)) == 5 && memcmp(buf, "world", 5) == 0);
	CHECK_EQ_U64(stats(&r).tx_bytes, 5);
	CHECK_EQ_U64(stats(&r).rx_bytes, 5);

	/* A guest that resets it: the host socket closes. */
	tx_op(&r, VIRTIO_VSOCK_OP_RST, 1234, hp);
	CHECK(host_closed(fd));
	CHECK_EQ_U64(stats(&r).conns, 0);
	close(fd);

	/* A guest that refuses: RST to the REQUEST. */
	fd = connect_to(r.path);
	REQUIRE(write(fd, "CONNECT 99\n", 11) == 11);
	pump(&r);
	REQUIRE(rx_get(&r, &p));
	CHECK_EQ_U64(le16toh(p.h.op), VIRTIO_VSOCK_OP_REQUEST);
	tx_op(&r, VIRTIO_VSOCK_OP_RST, 99, le32toh(p.h.src_port));
	CHECK(host_closed(fd));
	close(fd);
	rig_close(&r);
}

static void test_guest_connect(void)
{
	struct rig r;
	REQUIRE(rig_start(&r, BUF_ALLOC) == 0);
	rx_post(&r, 16);
	char lpath[128];
	snprintf(lpath, sizeof(lpath), "%s_5000", r.path);
	int l = listen_at(lpath);
	tx_op(&r, VIRTIO_VSOCK_OP_REQUEST, 777, 5000);
	struct pkt p;
	REQUIRE(rx_get(&r, &p));
	CHECK_EQ_U64(le16toh(p.h.op), VIRTIO_VSOCK_OP_RESPONSE);
	CHECK_EQ_U64(le32toh(p.h.dst_port), 777);
	CHECK_EQ_U64(le32toh(p.h.src_port), 5000);
	int fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	REQUIRE(fd >= 0);
	CHECK_EQ_U64(stats(&r).guest_connects, 1);

	tx_send(&r, &(struct txp){.op = VIRTIO_VSOCK_OP_RW, .gport = 777,
				  .hport = 5000, .data = "ping", .len = 4});
	char buf[8];
	CHECK(host_read(fd, buf, sizeof(buf)) == 4 && memcmp(buf, "ping", 4) == 0);
	REQUIRE(write(fd, "pong", 4) == 4);
	pump(&r);
	REQUIRE(rx_get(&r, &p));
	CHECK(le16toh(p.h.op) == VIRTIO_VSOCK_OP_RW && p.len == 4 &&
	      memcmp(p.data, "pong", 4) == 0);

	/* The guest closes: SHUTDOWN both ways, the device answers RST
	 * and the host sees the end. */
	tx_send(&r, &(struct txp){.op = VIRTIO_VSOCK_OP_SHUTDOWN, .gport = 777,
				  .hport = 5000,
				  .flags = VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND});
	REQUIRE(rx_get(&r, &p));
	CHECK_EQ_U64(le16toh(p.h.op), VIRTIO_VSOCK_OP_RST);
	CHECK(host_closed(fd));
	close(fd);

	/* Nothing listens on PATH_5001: RST. */
	tx_op(&r, VIRTIO_VSOCK_OP_REQUEST, 778, 5001);
	REQUIRE(rx_get(&r, &p));
	CHECK_EQ_U64(le16toh(p.h.op), VIRTIO_VSOCK_OP_RST);
	CHECK_EQ_U64(le32toh(p.h.dst_port), 778);

	/* The host closes first: SHUTDOWN to the guest, whose own
	 * SHUTDOWN then gets RST. */
	tx_op(&r, VIRTIO_VSOCK_OP_REQUEST, 779, 5000);
	REQUIRE(rx_get(&r, &p));
	fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	REQUIRE(fd >= 0);
	close(fd);
	pump(&r);
	REQUIRE(rx_get(&r, &p));
	CHECK_EQ_U64(le16toh(p.h.op), VIRTIO_VSOCK_OP_SHUTDOWN);
	CHECK(le32toh(p.h.flags) & VIRTIO_VSOCK_SHUTDOWN_SEND);
	tx_send(&r, &(struct txp){.op = VIRTIO_VSOCK_OP_SHUTDOWN, .gport = 779,
				  .hport = 5000, .flags = VIRTIO_VSOCK_SHUTDOWN_SEND});
	REQUIRE(rx_get(&r, &p));
	CHECK_EQ_U64(le16toh(p.h.op), VIRTIO_VSOCK_OP_RST);
	CHECK_EQ_U64(stats(&r).conns, 0);
	close(l);
	unlink(lpath);
	rig_close(&r);
}

/* ---- credit ---- */

static void test_guest_credit(void)
{
	struct rig r;
	REQUIRE(rig_start(&r, BUF_ALLOC) == 0);
	rx_post(&r, 64);
	uint32_t hp;
	int fd = host_connect(&r, 42, 1000, &hp);
	REQUIRE(fd >= 0);
	static uint8_t big[5000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	REQUIRE(write(fd, big, sizeof(big)) == (ssize_t)sizeof(big));
	pump(&r);
	pump(&r);
	/* No more than the guest's 1000 bytes of credit. */
	struct pkt p;
	uint32_t got = 0;
	while (rx_get(&r, &p)) {
		CHECK_EQ_U64(le16toh(p.h.op), VIRTIO_VSOCK_OP_RW);
		CHECK(memcmp(p.data, big + got, p.len) == 0);
		got += p.len;
	}
	CHECK_EQ_U64(got, 1000);
	pump(&r);
	CHECK(!rx_get(&r, &p));
	CHECK_EQ_U64(stats(&r).rx_bytes, 1000);

	/* The guest read it all: the rest comes, 1000 at a time. */
	uint32_t fwd = 1000;
	while (got < sizeof(big)) {
		tx_send(&r, &(struct txp){.op = VIRTIO_VSOCK_OP_CREDIT_UPDATE,
					  .gport = 42, .hport = hp,
					  .buf_alloc = 1000, .fwd_cnt = fwd});
		uint32_t before = got;
		while (rx_get(&r, &p)) {
			CHECK(memcmp(p.data, big + got, p.len) == 0);
			got += p.len;
		}
		CHECK(got - before <= 1000);
		if (got == before)
			break;
		fwd = got;
	}
	CHECK_EQ_U64(got, sizeof(big));

	/* A CREDIT_REQUEST gets our credit. */
	tx_op(&r, VIRTIO_VSOCK_OP_CREDIT_REQUEST, 42, hp);
	REQUIRE(rx_get(&r, &p));
	CHECK_EQ_U64(le16toh(p.h.op), VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	CHECK_EQ_U64(le32toh(p.h.buf_alloc), BUF_ALLOC);
	close(fd);
	rig_close(&r);
}

/* The host program does not read: the device takes the guest's data
 * while its own buffer and the socket's have room, never past the
 * credit it gave; once the program reads, credit comes back. */
static void test_host_not_reading(void)
{
	struct rig r;
	REQUIRE(rig_start(&r, BUF_ALLOC) == 0);
	rx_post(&r, 64);
	uint32_t hp;
	int fd = host_connect(&r, 43, 65536, &hp);
	REQUIRE(fd >= 0);
	static uint8_t chunk[2048];
	uint32_t sent = 0, fwd_seen = 0, buf_alloc = BUF_ALLOC;
	struct pkt p;
	/* A driver that respects the credit it was told. */
	for (int round = 0; round < 2000; round++) {
		while (rx_get(&r, &p))
			if (le16toh(p.h.op) == VIRTIO_VSOCK_OP_CREDIT_UPDATE ||
			    le16toh(p.h.op) == VIRTIO_VSOCK_OP_RW)
				fwd_seen = le32toh(p.h.fwd_cnt);
		uint32_t credit = buf_alloc - (sent - fwd_seen);
		if (credit < sizeof(chunk))
			break;
		memset(chunk, (uint8_t)round, sizeof(chunk));
		tx_send(&r, &(struct txp){.op = VIRTIO_VSOCK_OP_RW, .gport = 43,
					  .hport = hp, .data = chunk,
					  .len = sizeof(chunk)});
		sent += sizeof(chunk);
	}
	CHECK(sent - fwd_seen >= buf_alloc - sizeof(chunk));
	CHECK(sent < 4u << 20); /* it stopped */
	CHECK_EQ_U64(stats(&r).conns, 1);

	/* Past the credit: RST. */
	static uint8_t over[BUF_ALLOC];
	tx_send(&r, &(struct txp){.op = VIRTIO_VSOCK_OP_RW, .gport = 43,
				  .hport = hp, .data = over, .len = sizeof(over)});
	while (rx_get(&r, &p))
		if (le16toh(p.h.op) == VIRTIO_VSOCK_OP_RST)
			break;
	CHECK_EQ_U64(le16toh(p.h.op), VIRTIO_VSOCK_OP_RST);
	CHECK_EQ_U64(stats(&r).conns, 0);
	close(fd);

	/* Again, and this time the host reads: every byte arrives. */
	fd = host_connect(&r, 44, 65536, &hp);
	REQUIRE(fd >= 0);
	sent = fwd_seen = 0;
	uint32_t host_got = 0;
	for (int round = 0; round < 400; round++) {
		while (rx_get(&r, &p))
			fwd_seen = le32toh(p.h.fwd_cnt);
		if (buf_alloc - (sent - fwd_seen) >= sizeof(chunk)) {
			tx_send(&r, &(struct txp){.op = VIRTIO_VSOCK_OP_RW, .gport = 44,
						  .hport = hp, .data = chunk,
						  .len = sizeof(chunk)});
			sent += sizeof(chunk);
		} else {
			pump(&r);
		}
		if (round % 50 == 49) {
			static uint8_t sink[1 << 20];
			ssize_t n;
			while ((n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT)) > 0)
				host_got += (uint32_t)n;
			pump(&r);
		}
	}
	CHECK(sent >= 400u * sizeof(chunk) / 2);
	static uint8_t sink[1 << 20];
	ssize_t n;
	pump(&r);
	while ((n = host_read(fd, sink, sizeof(sink))) > 0)
		host_got += (uint32_t)n;
	CHECK_EQ_U64(host_got, sent);
	close(fd);
	rig_close(&r);
}

/* ---- resets ---- */

static void test_resets(void)
{
	struct rig r;
	REQUIRE(rig_start(&r, BUF_ALLOC) == 0);
	rx_post(&r, 16);
	uint32_t hp1, hp2;
	int a = host_connect(&r, 10, 65536, &hp1);
	int b = host_connect(&r, 11, 65536, &hp2);
	REQUIRE(a >= 0 && b >= 0);
	CHECK_EQ_U64(stats(&r).conns, 2);
	CHECK(sim_reset_from_vcpu(r.sim, 2000));
	pump(&r);
	CHECK(host_closed(a));
	CHECK(host_closed(b));
	CHECK_EQ_U64(stats(&r).conns, 0);
	close(a);
	close(b);

	/* The driver again, and a transport reset: the event and the
	 * connections' end. */
	REQUIRE(sim_start(r.sim, F_ALL, 3, QSIZE) == 0);
	rx_post(&r, 16);
	uint64_t ev = sim_alloc(r.sim, 8, 8);
	struct sim_buf eb = {ev, 8, true};
	REQUIRE(sim_add(r.sim, EVQ, &eb, 1, false) >= 0);
	sim_kick(r.sim, EVQ);
	pump(&r);
	a = host_connect(&r, 12, 65536, &hp1);
	REQUIRE(a >= 0);
	virtio_vsock_transport_reset(r.v);
	pump(&r);
	uint16_t id;
	uint32_t len;
	CHECK(sim_get_used(r.sim, EVQ, &id, &len) == 1 && len == 4);
	CHECK_EQ_U64(*(uint32_t *)sim_ptr(r.sim, ev, 4), VIRTIO_VSOCK_EVENT_TRANSPORT_RESET);
	CHECK(host_closed(a));
	close(a);
	rig_close(&r);
}

static void test_many(void)
{
	enum { N = 40 };
	struct rig r;
	REQUIRE(rig_start(&r, BUF_ALLOC) == 0);
	rx_post(&r, 128);
	int fd[N];
	uint32_t hp[N];
	for (int i = 0; i < N; i++)
		REQUIRE((fd[i] = host_connect(&r, 100 + (uint32_t)i, 65536, &hp[i])) >= 0);
	CHECK_EQ_U64(stats(&r).conns, N);
	for (int i = 0; i < N; i++) {
		char msg[16];
		int n = snprintf(msg, sizeof(msg), "conn %d", i);
		REQUIRE(write(fd[i], msg, (size_t)n) == n);
	}
	pump(&r);
	unsigned seen = 0;
	struct pkt p;
	while (rx_get(&r, &p)) {
		uint32_t g = le32toh(p.h.dst_port) - 100;
		char msg[16];
		int n = snprintf(msg, sizeof(msg), "conn %u", g);
		CHECK(g < N && le32toh(p.h.src_port) == hp[g]);
		CHECK(p.len == (uint32_t)n && memcmp(p.data, msg, (size_t)n) == 0);
		seen++;
		if (!(seen % 50))
			pump(&r);
	}
	CHECK_EQ_U64(seen, N);
	for (int i = 0; i < N; i++) {
		tx_send(&r, &(struct txp){.op = VIRTIO_VSOCK_OP_RW, .gport = 100 + (uint32_t)i,
					  .hport = hp[i], .data = "x", .len = 1});
		char c;
		CHECK(host_read(fd[i], &c, 1) == 1 && c == 'x');
		close(fd[i]);
	}
	rig_close(&r);
}

/* ---- bad input ---- */

static void test_bad_lines(void)
{
	struct rig r;
	REQUIRE(rig_start(&r, BUF_ALLOC) == 0);
	rx_post(&r, 16);
	const char *bad[] = {
		"HELLO\n", "CONNECT\n", "CONNECT \n", "CONNECT x1\n",
		"CONNECT 4294967296\n", "CONNECT 12345678901\n", "connect 5\n",
		"CONNECT 5 \n", "CONNECT -5\n",
		"CONNECT 1111111111111111111111111111111111111111111", /* too long */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = connect_to(r.path);
		REQUIRE(write(fd, bad[i], strlen(bad[i])) == (ssize_t)strlen(bad[i]));
		pump(&r);
		CHECK(host_closed(fd));
		close(fd);
	}
	struct pkt p;
	CHECK(!rx_get(&r, &p)); /* none reached the guest */

	/* A line that never ends, and a program that sends nothing. */
	int a = connect_to(r.path), b = connect_to(r.path);
	REQUIRE(write(a, "CONN", 4) == 4);
	pump(&r);
	CHECK_EQ_U64(stats(&r).conns, 2);
	for (int i = 0; i < 200 && stats(&r).conns; i++)
		pump(&r);
	/* The sockets close once the loop has cancelled their polls (a
	 * poll holds the file): one more turn of the loop. */
	pump(&r);
	CHECK(host_closed(a));
	CHECK(host_closed(b));
	close(a);
	close(b);

	/* A guest that never answers the REQUEST: the host socket closes
	 * after the timeout and the guest gets RST. */
	a = connect_to(r.path);
	REQUIRE(write(a, "CONNECT 7\n", 10) == 10);
	pump(&r);
	REQUIRE(rx_get(&r, &p));
	CHECK_EQ_U64(le16toh(p.h.op), VIRTIO_VSOCK_OP_REQUEST);
	for (int i = 0; i < 200 && stats(&r).conns; i++)
		pump(&r);
	CHECK(host_closed(a));
	REQUIRE(rx_get(&r, &p));
	CHECK_EQ_U64(le16toh(p.h.op), VIRTIO_VSOCK_OP_RST);
	close(a);

	/* Data after the line stays for the guest. */
	a = connect_to(r.path);
	REQUIRE(write(a, "CONNECT 8\nearly", 15) == 15);
	pump(&r);
	REQUIRE(rx_get(&r, &p));
	uint32_t hp = le32toh(p.h.src_port);
	tx_send(&r, &(struct txp){.op = VIRTIO_VSOCK_OP_RESPONSE, .gport = 8, .hport = hp});
	char ok[32];
	int n = snprintf(ok, sizeof(ok), "OK %u\n", hp);
	char got[32] = {0};
	CHECK(host_read(a, got, (size_t)n) == n && !memcmp(got, ok, (size_t)n));
	REQUIRE(rx_get(&r, &p));
	CHECK(le16toh(p.h.op) == VIRTIO_VSOCK_OP_RW && p.len == 5 &&
	      !memcmp(p.data, "early", 5));
	close(a);
	rig_close(&r);
}

static void test_bad_packets(void)
{
	struct rig r;
	REQUIRE(rig_start(&r, BUF_ALLOC) == 0);
	rx_post(&r, 32);
	struct pkt p;
	struct txp bad[] = {
		{.op = VIRTIO_VSOCK_OP_REQUEST, .src_cid = 4, .gport = 1, .hport = 2},
		{.op = VIRTIO_VSOCK_OP_REQUEST, .dst_cid = 3, .gport = 1, .hport = 2},
		{.op = VIRTIO_VSOCK_OP_REQUEST, .type = 2, .gport = 1, .hport = 2},
		{.op = 99, .gport = 1, .hport = 2},
		{.op = VIRTIO_VSOCK_OP_RW, .gport = 1, .hport = 2, .data = "x", .len = 1},
		{.op = VIRTIO_VSOCK_OP_RESPONSE, .gport = 1, .hport = 2},
		{.op = VIRTIO_VSOCK_OP_SHUTDOWN, .gport = 1, .hport = 2},
		{.op = VIRTIO_VSOCK_OP_CREDIT_UPDATE, .gport = 1, .hport = 2},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tx_send(&r, &bad[i]);
		CHECK(rx_get(&r, &p));
		CHECK_EQ_U64(le16toh(p.h.op), VIRTIO_VSOCK_OP_RST);
		CHECK_EQ_U64(le32toh(p.h.dst_port), 1);
	}
	/* RST for nothing: no answer. */
	tx_op(&r, VIRTIO_VSOCK_OP_RST, 1, 2);
	CHECK(!rx_get(&r, &p));
	CHECK_EQ_U64(stats(&r).bad_packets, sizeof(bad) / sizeof(bad[0]));

	/* An unknown op on a live connection resets it. */
	uint32_t hp;
	int fd = host_connect(&r, 9, 65536, &hp);
	REQUIRE(fd >= 0);
	tx_op(&r, 42, 9, hp);
	CHECK(rx_get(&r, &p) && le16toh(p.h.op) == VIRTIO_VSOCK_OP_RST);
	CHECK(host_closed(fd));
	close(fd);
	CHECK(!sim_needs_reset(r.sim));

	/* A header's len past its buffer: a driver error. */
	tx_send(&r, &(struct txp){.op = VIRTIO_VSOCK_OP_RW, .gport = 1, .hport = 2,
				  .data = "abc", .len = 3, .len_delta = 1});
	CHECK(sim_needs_reset(r.sim));
	CHECK_STR_CONTAINS(r.sim->last_log, "len");

	/* A chain shorter than the header. */
	REQUIRE(sim_start(r.sim, F_ALL, 3, QSIZE) == 0);
	uint64_t g = sim_alloc(r.sim, 16, 8);
	struct sim_buf sb = {g, 16, false};
	REQUIRE(sim_add(r.sim, TXQ, &sb, 1, false) >= 0);
	sim_kick(r.sim, TXQ);
	pump(&r);
	CHECK(sim_needs_reset(r.sim));
	CHECK_STR_CONTAINS(r.sim->last_log, "shorter");

	/* An rx buffer the device cannot write. */
	REQUIRE(sim_start(r.sim, F_ALL, 3, QSIZE) == 0);
	sb = (struct sim_buf){sim_alloc(r.sim, RXBUF, 8), RXBUF, false};
	REQUIRE(sim_add(r.sim, RXQ, &sb, 1, false) >= 0);
	sim_kick(r.sim, RXQ);
	tx_op(&r, VIRTIO_VSOCK_OP_REQUEST, 1, 2); /* something to send */
	CHECK(sim_needs_reset(r.sim));
	CHECK_STR_CONTAINS(r.sim->last_log, "rx buffer");
	rig_close(&r);
}

int main(void)
{
	test_features();
	test_host_connect();
	test_guest_connect();
	test_guest_credit();
	test_host_not_reading();
	test_resets();
	test_many();
	test_bad_lines();
	test_bad_packets();
	return check_report("test_virtio_vsock");
}
