/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: a hostile driver and hostile host programs around a
 * virtio-vsock device. The input is a program of steps, one opcode byte
 * and its arguments each: packets from the guest with any header (CIDs,
 * ports near the live connections', any op, type, flags, credit, a len
 * that may disagree with the buffer) and payload, raw chains of any
 * address and direction on every queue, rx and event buffers, host
 * programs connecting with CONNECT lines good and bad, writing, reading
 * and closing, a host listener on PATH_5000 accepting the guest's
 * connections, used entries taken back, driver and transport resets and
 * loop passes. The device must neither crash nor touch memory outside
 * guest RAM (ASan), and after every input a driver reset leaves no
 * connection open.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_vsock.h>

#include "common/io_loop.h"
#include "devices/virtio/virtio_vsock.h"
#include "fuzz_prog.h"
#include "virtio_sim.h"

#define FZ_RAM 0x80000
#define FZ_QSIZE 16
#define FZ_CID 3
#define FZ_CLIENTS 6
#define FZ_HDR ((uint32_t)sizeof(struct virtio_vsock_hdr))

struct fz {
	struct virtio_sim *sim;
	struct virtio_vsock *v;
	char dir[64], path[108], gpath[120];
	int lfd, glfd;
	int client[FZ_CLIENTS];
	int accepted[FZ_CLIENTS];
	uint32_t host_ports[4]; /* from the REQUESTs seen */
	uint64_t scratch; /* a data area past the rings */
};

static void die(const char *what)
{
	fprintf(stderr, "fuzz_virtio_vsock: %s (%s)\n", what, strerror(errno));
	abort();
}

static int listen_at(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 16))
		die("listen");
	return fd;
}

static void start(struct fz *f)
{
	if (sim_negotiate(f->sim, 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_RING_F_EVENT_IDX))
		die("features refused");
	for (unsigned q = 0; q < 3; q++)
		sim_queue_setup(f->sim, q, FZ_QSIZE);
	sim_driver_ok(f->sim);
}

static struct fz *fz_get(void)
{
	static struct fz f;
	if (f.sim)
		return &f;
	snprintf(f.dir, sizeof(f.dir), "/tmp/fuzz-vsock-XXXXXX");
	if (!mkdtemp(f.dir))
		die("mkdtemp");
	snprintf(f.path, sizeof(f.path), "%s/v", f.dir);
	snprintf(f.gpath, sizeof(f.gpath), "%s_5000", f.path);
	f.lfd = listen_at(f.path);
	f.glfd = listen_at(f.gpath);
	f.sim = sim_create(FZ_RAM, 0);
	if (!f.sim)
		die("no simulator (io_uring?)");
	struct virtio_vsock_params p = {
		.guest_cid = FZ_CID, .listen_fd = f.lfd, .path = f.path,
		.buf_alloc = 4096, .max_conns = 8, .timeout_ms = 20,
	};
	struct phy_error err;
	if (virtio_vsock_create(&f.v, &p, "fuzz-vsock", &f.sim->mem, f.sim->loop, &err))
		die(err.message);
	sim_attach(f.sim, virtio_vsock_dev(f.v), NULL, NULL);
	for (int i = 0; i < FZ_CLIENTS; i++)
		f.client[i] = f.accepted[i] = -1;
	start(&f);
	f.scratch = sim_alloc(f.sim, 0x20000, 8);
	return &f;
}

static void passes(struct fz *f, int n)
{
	for (int i = 0; i < n; i++)
		io_loop_run_once(f->sim->loop, false);
}

static uint32_t port(struct fz *f, struct prog *g, bool host)
{
	uint8_t k = prog_byte(g);
	if (host && (k & 4))
		return f->host_ports[k & 3];
	return k < 0xf0 ? (k & 3) + (host ? 5000 : 1) : prog_word(g) | (uint32_t)prog_word(g) << 16;
}

/* A packet from the guest, header from the input, in one or two
 * readable buffers. */
static void tx_packet(struct fz *f, struct prog *g)
{
	uint8_t k = prog_byte(g);
	uint32_t len = prog_byte(g);
	if (k & 0x80)
		len = (uint32_t)prog_word(g) & 0xffff;
	struct virtio_vsock_hdr h = {
		.src_cid = htole64(k & 1 ? prog_byte(g) : FZ_CID),
		.dst_cid = htole64(k & 2 ? prog_byte(g) : 2),
		.src_port = htole32(port(f, g, false)),
		.dst_port = htole32(port(f, g, true)),
		.len = htole32(k & 4 ? len + prog_byte(g) : len),
		.type = htole16(k & 8 ? prog_byte(g) : VIRTIO_VSOCK_TYPE_STREAM),
		.op = htole16(prog_byte(g) % 9),
		.flags = htole32(prog_byte(g) & 3),
		.buf_alloc = htole32((uint32_t)prog_word(g) << 4),
		.fwd_cnt = htole32((uint32_t)prog_word(g) << 4),
	};
	uint64_t gpa = f->scratch + (prog_word(g) & 0xfff0);
	uint8_t *p = sim_ptr(f->sim, gpa, FZ_HDR + len);
	if (!p)
		return;
	memcpy(p, &h, FZ_HDR);
	for (uint32_t i = 0; i < len && i < 64; i++)
		p[FZ_HDR + i] = prog_byte(g);
	struct sim_buf b[2] = {{gpa, FZ_HDR + len, false}};
	unsigned n = 1;
	if (k & 0x40 && len > 1) {
		uint32_t cut = FZ_HDR / 2 + (k & 0x30);
		b[0].len = cut;
		b[1] = (struct sim_buf){gpa + cut, FZ_HDR + len - cut, false};
		n = 2;
	}
	if (sim_add(f->sim, 1, b, n, k & 0x20) >= 0)
		sim_kick(f->sim, 1);
}

/* A chain of anything, anywhere, on queue q. */
static void raw_chain(struct fz *f, struct prog *g)
{
	uint8_t k = prog_byte(g);
	struct sim_buf b[3];
	unsigned n = (k & 1) + 1 + ((k >> 1) & 1);
	for (unsigned i = 0; i < n; i++) {
		b[i].gpa = prog_address(g, FZ_RAM);
		b[i].len = prog_byte(g) * 17u;
		b[i].writable = prog_byte(g) & 1;
	}
	unsigned q = (k >> 2) % 3;
	if (sim_add(f->sim, q, b, n, k & 0x20) >= 0)
		sim_kick(f->sim, q);
}

static void rx_buffers(struct fz *f, struct prog *g)
{
	uint8_t n = prog_byte(g) & 7;
	uint32_t len = FZ_HDR + prog_byte(g) * 16u;
	for (uint8_t i = 0; i < n; i++) {
		uint64_t gpa = f->scratch + 0x10000 + (uint64_t)(prog_byte(g) & 0xf) * 0x1000;
		struct sim_buf b = {gpa, len > 0x1000 ? 0x1000 : len, true};
		if (sim_add(f->sim, 0, &b, 1, false) < 0)
			break;
	}
	sim_kick(f->sim, 0);
}

static void event_buffer(struct fz *f)
{
	struct sim_buf b = {f->scratch + 0x1fff0, 8, true};
	if (sim_add(f->sim, 2, &b, 1, false) >= 0)
		sim_kick(f->sim, 2);
}

/* Takes back what the device used; notes the host ports of REQUESTs. */
static void take_used(struct fz *f)
{
	uint16_t id;
	uint32_t len;
	for (unsigned q = 0; q < 3; q++) {
		for (int i = 0; i < 4 * FZ_QSIZE && sim_get_used(f->sim, q, &id, &len); i++) {
			struct vring_desc *d = sim_desc(f->sim, q, id);
			struct virtio_vsock_hdr *h = d && q == 0 && d->len >= FZ_HDR
				? sim_ptr(f->sim, d->addr, FZ_HDR) : NULL;
			if (h && le16toh(h->op) == VIRTIO_VSOCK_OP_REQUEST)
				f->host_ports[i & 3] = le32toh(h->src_port);
		}
	}
}

static void client_step(struct fz *f, struct prog *g)
{
	uint8_t k = prog_byte(g);
	int *fd = &f->client[k % FZ_CLIENTS];
	static const char *const lines[] = {
		"CONNECT 1\n", "CONNECT 2\n", "CONNECT 4294967295\n", "CONNECT\n",
		"CONNECT 1", "garbage garbage garbage garbage garbage\n", "",
		"CONNECT 99999999999\n",
	};
	switch ((k >> 3) & 3) {
	case 0: {
		if (*fd >= 0)
			close(*fd);
		*fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
		if (*fd >= 0 && connect(*fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			const char *l = lines[(k >> 5) & 7];
			if (send(*fd, l, strlen(l), MSG_NOSIGNAL) < 0) {
				/* the device closed it already */
			}
		}
		break;
	}
	case 1:
		if (*fd >= 0) {
			char buf[512];
			memset(buf, k, sizeof(buf));
			if (send(*fd, buf, (size_t)prog_byte(g) * 2, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
				/* full, or closed */
			}
		}
		break;
	case 2:
		if (*fd >= 0) {
			char buf[4096];
			if (recv(*fd, buf, sizeof(buf), MSG_DONTWAIT) < 0) {
				/* nothing yet */
			}
		}
		break;
	default:
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
}

static void accept_step(struct fz *f, struct prog *g)
{
	uint8_t k = prog_byte(g);
	int *fd = &f->accepted[k % FZ_CLIENTS];
	if (*fd >= 0) {
		if (k & 0x80) {
			close(*fd);
			*fd = -1;
		} else if (send(*fd, "data", 4, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			/* closed */
		}
		return;
	}
	*fd = accept4(f->glfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
}

static void reset(struct fz *f)
{
	if (!sim_reset_from_vcpu(f->sim, 10000))
		die("the reset did not return");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz *f = fz_get();
	struct prog g = {data, size};
	while (g.n) {
		uint8_t op = prog_byte(&g);
		switch (op % 12) {
		case 0: case 1: case 2: tx_packet(f, &g); break;
		case 3: raw_chain(f, &g); break;
		case 4: rx_buffers(f, &g); break;
		case 5: event_buffer(f); break;
		case 6: client_step(f, &g); break;
		case 7: accept_step(f, &g); break;
		case 8: take_used(f); break;
		case 9: reset(f); start(f); break;
		case 10: virtio_vsock_transport_reset(f->v); break;
		default: passes(f, 1 + (op >> 4)); break;
		}
		passes(f, 1);
	}
	/* Whatever happened, a reset ends every connection. */
	for (int i = 0; i < FZ_CLIENTS; i++) {
		if (f->client[i] >= 0)
			close(f->client[i]);
		if (f->accepted[i] >= 0)
			close(f->accepted[i]);
		f->client[i] = f->accepted[i] = -1;
	}
	reset(f);
	struct virtio_vsock_stats st;
	virtio_vsock_stats(f->v, &st);
	if (st.conns)
		die("connections left after a reset");
	int fd;
	while ((fd = accept4(f->glfd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		close(fd);
	passes(f, 4);
	start(f);
	return 0;
}
