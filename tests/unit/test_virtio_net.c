/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net driven by the simulated driver, with a SOCK_SEQPACKET
 * socketpair per queue pair standing in for the tap (one message per
 * frame, virtio-net header first, as a tap with IFF_VNET_HDR): transmit
 * and receive, mergeable buffers, receive starvation and recovery,
 * malformed frames and chains (dropped and counted), malformed rings
 * (NEEDS_RESET), a backend at its end, a reset with reads in flight,
 * several queue pairs and the control queue, link changes and the
 * counters.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "check.h"
#include "devices/virtio/virtio_net.h"
#include "devices/virtio/virtio_net_internal.h"
#include "virtio_sim.h"
#include "common/io_loop.h"

#define F(bit) (1ull << (bit))
#define F_BASE (F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS))
#define F_OFFLOADS                                                        \
	(F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) |              \
	 F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6) |          \
	 F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6))
#define HDR VIRTIO_NET_HDR_LEN

struct rig {
	struct virtio_sim *sim;
	struct virtio_net *net;
	struct virtio_dev *dev;
	int peer[VIRTIO_NET_MAX_PAIRS]; /* the wire's far end */
	int near[VIRTIO_NET_MAX_PAIRS]; /* the device's end */
	int link_fd;
	struct phy_net_queue_stats stats[VIRTIO_NET_MAX_PAIRS];
	/* What the device asked of its backend. */
	uint64_t offload_features;
	unsigned offload_calls, queues_set;
	bool link_up;
};

static int be_offload(void *opaque, uint64_t f)
{
	struct rig *r = opaque;
	r->offload_features = f;
	r->offload_calls++;
	return 0;
}

static int be_queues(void *opaque, unsigned pairs)
{
	((struct rig *)opaque)->queues_set = pairs;
	return 0;
}

static bool be_link(void *opaque)
{
	struct rig *r = opaque;
	uint64_t v;
	if (read(r->link_fd, &v, sizeof(v)) < 0) {
		/* nothing pending: the state stands */
	}
	return r->link_up;
}

static const struct net_backend_ops be_ops = {
	.set_offload = be_offload,
	.set_queues = be_queues,
	.poll_link = be_link,
};

static bool net_busy(void *opaque)
{
	struct virtio_net *net = opaque;
	pthread_mutex_lock(&net->dev.lock);
	unsigned tx = 0;
	for (unsigned p = 0; p < net->nr_pairs; p++)
		tx += net->txq[p].inflight;
	pthread_mutex_unlock(&net->dev.lock);
	return tx > 0;
}

static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* A queue pair's wire: sv[0] the device's end, non-blocking as the
 * tap's queues are; sv[1] the far end. */
static int backend_pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -1;
	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	return 0;
}

static int rig_open(struct rig *r, unsigned pairs, bool offloads, uint16_t qsize)
{
	memset(r, 0, sizeof(*r));
	r->link_up = true;
	struct net_backend be = {
		.nr_pairs = pairs,
		.offloads = offloads,
		.link_up = true,
		.stats = r->stats,
		.ops = &be_ops,
		.opaque = r,
	};
	for (unsigned p = 0; p < pairs; p++) {
		int sv[2];
		if (backend_pair(sv))
			return -1;
		be.fds[p] = r->near[p] = sv[0];
		r->peer[p] = sv[1];
	}
	r->link_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	be.link_fd = r->link_fd;
	struct phy_error err = { 0 };
	r->sim = sim_create(32u << 20, 1u << 20);
	if (!r->sim || virtio_net_create(&r->net, &be, MAC, qsize, "virtio-net0",
					 &r->sim->mem, r->sim->loop, &err)) {
		fprintf(stderr, "rig: %s\n", err.message);
		return -1;
	}
	r->dev = virtio_net_dev(r->net);
	sim_attach(r->sim, r->dev, net_busy, r->net);
	return 0;
}

static void rig_close(struct rig *r)
{
	virtio_net_cancel_all(r->net);
	while (virtio_net_inflight(r->net))
		io_loop_run_once(r->sim->loop, true);
	virtio_net_destroy(r->net);
	sim_destroy(r->sim);
	for (unsigned p = 0; p < VIRTIO_NET_MAX_PAIRS; p++)
		if (r->peer[p] > 0) {
			close(r->peer[p]);
			close(r->near[p]);
		}
	close(r->link_fd);
}

/* Drives the loop until the predicate holds or ~2 s pass. */
static bool run_until(struct rig *r, bool (*pred)(struct rig *, void *), void *arg)
{
	for (int i = 0; i < 2000; i++) {
		if (pred(r, arg))
			return true;
		io_loop_run_once(r->sim->loop, false);
		usleep(1000);
	}
	return pred(r, arg);
}

static bool has_used(struct rig *r, void *arg)
{
	unsigned q = *(unsigned *)arg;
	struct sim_queue *sq = &r->sim->q[q];
	return __atomic_load_n(&sq->used->idx, __ATOMIC_ACQUIRE) != sq->last_used;
}

/* Adds n receive chains of `len` bytes each (one buffer each, or split
 * in two buffers when split) and kicks. Returns the first buffer's GPA;
 * heads (when not NULL) gets each chain's head. */
static uint64_t add_rx_heads(struct rig *r, unsigned q, unsigned n, uint32_t len,
			     bool split, int *heads)
{
	uint64_t base = sim_alloc(r->sim, (uint64_t)n * len, 64);
	for (unsigned i = 0; i < n; i++) {
		uint64_t gpa = base + (uint64_t)i * len;
		struct sim_buf b[2] = { { gpa, split ? len / 2 : len, true },
					{ gpa + len / 2, len - len / 2, true } };
		int head = sim_add(r->sim, q, b, split ? 2 : 1, false);
		CHECK(head >= 0);
		if (heads)
			heads[i] = head;
	}
	sim_kick(r->sim, q);
	sim_run(r->sim);
	return base;
}

static uint64_t add_rx(struct rig *r, unsigned q, unsigned n, uint32_t len, bool split)
{
	return add_rx_heads(r, q, n, len, split, NULL);
}

static void frame_bytes(uint8_t *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 13 + seed);
}

/* A frame as the tap hands it over: a zero header, then bytes. */
static void peer_send(struct rig *r, unsigned pair, size_t frame_len, unsigned seed)
{
	uint8_t *buf = calloc(1, HDR + frame_len);
	frame_bytes(buf + HDR, frame_len, seed);
	CHECK(send(r->peer[pair], buf, HDR + frame_len, 0) == (ssize_t)(HDR + frame_len));
	free(buf);
}

static uint64_t features_of(bool offloads, bool mrg)
{
	return F_BASE | F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_RING_F_INDIRECT_DESC) |
	       (offloads ? F_OFFLOADS : 0) | (mrg ? F(VIRTIO_NET_F_MRG_RXBUF) : 0);
}

static void test_config(void)
{
	struct rig r;
	CHECK(rig_open(&r, 2, true, 256) == 0);
	uint64_t f = r.dev->host_features;
	CHECK(f & F(VIRTIO_F_VERSION_1));
	CHECK(f & F(VIRTIO_NET_F_MRG_RXBUF));
	CHECK((f & F_OFFLOADS) == F_OFFLOADS);
	CHECK(f & F(VIRTIO_NET_F_MQ) && f & F(VIRTIO_NET_F_CTRL_VQ));
	CHECK(!(f & F(VIRTIO_NET_F_GUEST_UFO)) && !(f & F(VIRTIO_NET_F_CTRL_RX)));
	CHECK(r.dev->nr_queues == 5);
	uint8_t mac[6];
	uint16_t status, pairs;
	sim_config_read(r.sim, 0, mac, 6);
	sim_config_read(r.sim, 6, &status, 2);
	sim_config_read(r.sim, 8, &pairs, 2);
	CHECK(!memcmp(mac, MAC, 6));
	CHECK(le16toh(status) == VIRTIO_NET_S_LINK_UP);
	CHECK(le16toh(pairs) == 2);
	rig_close(&r);

	/* Without offloads in the backend, none are offered; one pair has
	 * no control queue. */
	CHECK(rig_open(&r, 1, false, 256) == 0);
	CHECK(!(r.dev->host_features & F_OFFLOADS));
	CHECK(!(r.dev->host_features & F(VIRTIO_NET_F_MQ)));
	CHECK(r.dev->nr_queues == 2);
	CHECK(sim_start(r.sim, features_of(false, true), 2, 256) == 0);
	CHECK(r.offload_calls == 1 && r.offload_features == features_of(false, true));
	rig_close(&r);
}

/* Sends one frame from the guest as `nbufs` buffers; returns the used len
 * or -1 when nothing came back. */
static int guest_send(struct rig *r, unsigned q, const uint8_t *frame, size_t len,
		      unsigned nbufs, bool indirect)
{
	uint64_t gpa = sim_alloc(r->sim, len, 8);
	memcpy(sim_ptr(r->sim, gpa, len), frame, len);
	struct sim_buf b[8];
	size_t per = len / nbufs, off = 0;
	for (unsigned i = 0; i < nbufs; i++) {
		size_t n = i + 1 == nbufs ? len - off : per;
		b[i] = (struct sim_buf){ gpa + off, (uint32_t)n, false };
		off += n;
	}
	int head = sim_add(r->sim, q, b, nbufs, indirect);
	CHECK(head >= 0);
	sim_kick(r->sim, q);
	sim_run(r->sim);
	if (!run_until(r, has_used, &q))
		return -1;
	uint16_t id;
	uint32_t ulen;
	CHECK(sim_get_used(r->sim, q, &id, &ulen) == 1);
	CHECK(id == head);
	return (int)ulen;
}

static void test_tx(void)
{
	struct rig r;
	CHECK(rig_open(&r, 1, true, 256) == 0);
	CHECK(sim_start(r.sim, features_of(true, true), 2, 256) == 0);
	uint8_t frame[HDR + 1000] = { 0 };
	frame_bytes(frame + HDR, 1000, 5);
	for (unsigned nb = 1; nb <= 3; nb++) {
		CHECK(guest_send(&r, 1, frame, sizeof(frame), nb, nb == 3) == 0);
		uint8_t got[2000];
		ssize_t n = recv(r.peer[0], got, sizeof(got), MSG_DONTWAIT);
		CHECK(n == (ssize_t)sizeof(frame) && !memcmp(got, frame, sizeof(frame)));
	}
	/* A TSO frame with its checksum left to the host is passed on. */
	struct virtio_net_hdr_v1 *h = (void *)frame;
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h->gso_size = htole16(1448);
	h->csum_start = htole16(34);
	h->csum_offset = htole16(16);
	CHECK(guest_send(&r, 1, frame, sizeof(frame), 2, false) == 0);
	uint8_t got[2000];
	CHECK(recv(r.peer[0], got, sizeof(got), MSG_DONTWAIT) == (ssize_t)sizeof(frame));
	CHECK(r.stats[0].tx_packets == 4 && r.stats[0].tx_bytes == 4000);
	CHECK(r.stats[0].tx_drops == 0);

	/* A burst of frames in one kick reaches the wire in ring order (one
	 * write on the backend at a time). */
	memset(frame, 0, HDR);
	for (unsigned i = 0; i < 16; i++) {
		uint64_t gpa = sim_alloc(r.sim, sizeof(frame), 8);
		frame_bytes(frame + HDR, 1000, (uint8_t)(100 + i));
		memcpy(sim_ptr(r.sim, gpa, sizeof(frame)), frame, sizeof(frame));
		struct sim_buf b = { gpa, sizeof(frame), false };
		CHECK(sim_add(r.sim, 1, &b, 1, false) >= 0);
	}
	sim_kick(r.sim, 1);
	sim_run(r.sim);
	unsigned in_order = 0;
	for (unsigned i = 0; i < 16; i++) {
		ssize_t n = -1;
		for (int t = 0; t < 200 && n < 0; t++) {
			n = recv(r.peer[0], got, sizeof(got), MSG_DONTWAIT);
			if (n < 0) {
				io_loop_run_once(r.sim->loop, false);
				usleep(1000);
			}
		}
		uint8_t want[1000];
		frame_bytes(want, 1000, (uint8_t)(100 + i));
		in_order += n == (ssize_t)sizeof(frame) && !memcmp(got + HDR, want, 1000);
	}
	CHECK_EQ_U64(in_order, 16);
	CHECK_EQ_U64(r.stats[0].tx_packets, 20);
	rig_close(&r);
}

/* The far end's reader for test_tx_large_frames: the used index the
 * driver could see as each frame reached the wire. */
struct wire_watch {
	int fd;
	const struct sim_queue *q;
	unsigned n;
	uint16_t seen[16];
	ssize_t len[16];
};

static void *watch_wire(void *p)
{
	struct wire_watch *w = p;
	static uint8_t buf[HDR + 65536];
	for (unsigned i = 0; i < w->n; i++) {
		w->len[i] = recv(w->fd, buf, sizeof(buf), 0);
		w->seen[i] = __atomic_load_n(&w->q->used->idx, __ATOMIC_ACQUIRE);
	}
	return NULL;
}

/* Large frames in one pass: the used index goes out every
 * NET_TX_USED_BYTES of them, before the next frame is written, not only
 * when the pass ends, so a driver with few frames out can refill. */
static void test_tx_large_frames(void)
{
	enum { N = 16, LEN = 60000 };
	const unsigned per_publish = (NET_TX_USED_BYTES + LEN - 1) / LEN;
	struct rig r;
	CHECK(rig_open(&r, 1, true, 256) == 0);
	/* Room for the whole pass: no EAGAIN ends it early. */
	int big = 8 << 20;
	REQUIRE(setsockopt(r.near[0], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) == 0);
	CHECK(sim_start(r.sim, features_of(true, true), 2, 256) == 0);
	static uint8_t frame[HDR + LEN];
	for (unsigned i = 0; i < N; i++) {
		uint64_t gpa = sim_alloc(r.sim, sizeof(frame), 8);
		frame_bytes(frame + HDR, LEN, (uint8_t)i);
		memcpy(sim_ptr(r.sim, gpa, sizeof(frame)), frame, sizeof(frame));
		struct sim_buf b = { gpa, sizeof(frame), false };
		CHECK(sim_add(r.sim, 1, &b, 1, false) >= 0);
	}
	struct wire_watch w = { .fd = r.peer[0], .q = &r.sim->q[1], .n = N };
	pthread_t t;
	REQUIRE(pthread_create(&t, NULL, watch_wire, &w) == 0);
	sim_kick(r.sim, 1);
	sim_run(r.sim);
	pthread_join(t, NULL);
	/* Frame i left after the publication of every full batch before it. */
	for (unsigned i = 0; i < N; i++) {
		CHECK_EQ_U64(w.len[i], HDR + LEN);
		CHECK(w.seen[i] >= i / per_publish * per_publish);
	}
	CHECK(per_publish < N && w.seen[per_publish] >= per_publish);
	CHECK_EQ_U64(r.sim->q[1].used->idx, N);
	CHECK_EQ_U64(r.stats[0].tx_packets, N);
	rig_close(&r);
}

/* Frames the device must not pass on cost a counter, nothing else. */
static void test_tx_malformed(void)
{
	struct rig r;
	CHECK(rig_open(&r, 1, true, 256) == 0);
	/* Negotiated without HOST_TSO6 and without ECN. */
	uint64_t f = features_of(true, true) & ~F(VIRTIO_NET_F_HOST_TSO6);
	CHECK(sim_start(r.sim, f, 2, 256) == 0);
	uint8_t frame[HDR + 200] = { 0 };
	struct virtio_net_hdr_v1 *h = (void *)frame;
	unsigned drops = 0;

	CHECK(guest_send(&r, 1, frame, 8, 1, false) == 0); /* short header */
	drops++;
	CHECK(guest_send(&r, 1, frame, HDR, 1, false) == 0); /* no frame */
	drops++;
	h->gso_type = VIRTIO_NET_HDR_GSO_TCPV6; /* not negotiated */
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->gso_size = htole16(1000);
	CHECK(guest_send(&r, 1, frame, sizeof(frame), 1, false) == 0);
	drops++;
	h->gso_type = VIRTIO_NET_HDR_GSO_UDP; /* UFO: never offered */
	CHECK(guest_send(&r, 1, frame, sizeof(frame), 1, false) == 0);
	drops++;
	h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
	CHECK(guest_send(&r, 1, frame, sizeof(frame), 1, false) == 0);
	drops++;
	h->gso_type = VIRTIO_NET_HDR_GSO_NONE;
	h->csum_start = htole16(190); /* checksum beyond the frame */
	h->csum_offset = htole16(16);
	CHECK(guest_send(&r, 1, frame, sizeof(frame), 1, false) == 0);
	drops++;
	h->flags = 0x40; /* unknown flag */
	CHECK(guest_send(&r, 1, frame, sizeof(frame), 1, false) == 0);
	drops++;
	/* Larger than any frame. */
	size_t big = HDR + NET_MAX_FRAME + 1;
	uint8_t *huge = calloc(1, big);
	CHECK(guest_send(&r, 1, huge, big, 4, false) == 0);
	drops++;
	free(huge);
	/* A writable buffer in a transmit chain. */
	uint64_t gpa = sim_alloc(r.sim, 256, 8);
	struct sim_buf b[2] = { { gpa, HDR + 60, false }, { gpa + 128, 64, true } };
	unsigned q = 1;
	CHECK(sim_add(r.sim, 1, b, 2, false) >= 0);
	sim_kick(r.sim, 1);
	sim_run(r.sim);
	CHECK(run_until(&r, has_used, &q));
	uint16_t id;
	uint32_t len;
	CHECK(sim_get_used(r.sim, 1, &id, &len) == 1 && len == 0);
	drops++;

	char junk[64];
	CHECK(recv(r.peer[0], junk, sizeof(junk), MSG_DONTWAIT) < 0); /* none passed */
	CHECK_EQ_U64(r.stats[0].tx_drops, drops);
	CHECK(r.stats[0].tx_packets == 0);
	CHECK(!sim_needs_reset(r.sim));
	/* And the queue still works. */
	memset(frame, 0, HDR);
	CHECK(guest_send(&r, 1, frame, sizeof(frame), 1, false) == 0);
	uint8_t got[512];
	CHECK(recv(r.peer[0], got, sizeof(got), MSG_DONTWAIT) == (ssize_t)sizeof(frame));
	CHECK(r.stats[0].tx_packets == 1);
	rig_close(&r);
}

static void check_rx_frame(struct rig *r, uint64_t gpa, size_t frame_len,
			   unsigned seed, uint16_t num_buffers)
{
	const struct virtio_net_hdr_v1 *h = sim_ptr(r->sim, gpa, HDR);
	CHECK_EQ_U64(le16toh(h->num_buffers), num_buffers);
	uint8_t *want = malloc(frame_len);
	frame_bytes(want, frame_len, seed);
	CHECK(!memcmp(sim_ptr(r->sim, gpa + HDR, frame_len), want, frame_len));
	free(want);
}

/* Without mergeable buffers: one chain per frame. */
static void test_rx_small(void)
{
	struct rig r;
	CHECK(rig_open(&r, 1, true, 256) == 0);
	CHECK(sim_start(r.sim, features_of(false, false), 2, 256) == 0);
	int heads[8];
	uint64_t base = add_rx_heads(&r, 0, 8, 1536, true, heads);
	unsigned q = 0;
	for (unsigned i = 0; i < 3; i++) {
		peer_send(&r, 0, 60 + i * 500, i);
		CHECK(run_until(&r, has_used, &q));
		uint16_t id;
		uint32_t len;
		CHECK(sim_get_used(r.sim, 0, &id, &len) == 1);
		CHECK_EQ_U64(len, HDR + 60 + i * 500);
		/* Chains are taken in the ring's order. */
		CHECK_EQ_U64(id, heads[i]);
		check_rx_frame(&r, base + (uint64_t)i * 1536, 60 + i * 500, i, 1);
	}
	CHECK(r.sim->q[0].interrupts >= 1);
	CHECK(r.stats[0].rx_packets == 3 && r.stats[0].rx_bytes == 60 + 560 + 1060);
	rig_close(&r);
}

/* Mergeable buffers: a large frame spans chains; what it leaves is used
 * next, in order. */
static void test_rx_mergeable(void)
{
	struct rig r;
	CHECK(rig_open(&r, 1, true, 256) == 0);
	CHECK(sim_start(r.sim, features_of(true, true), 2, 256) == 0);
	uint64_t base = add_rx(&r, 0, 64, 2048, false);
	unsigned q = 0;
	peer_send(&r, 0, 5000, 7);
	CHECK(run_until(&r, has_used, &q));
	uint32_t lens[3];
	uint16_t ids[3];
	for (int i = 0; i < 3; i++)
		CHECK(sim_get_used(r.sim, 0, &ids[i], &lens[i]) == 1);
	CHECK(lens[0] == 2048 && lens[1] == 2048 && lens[2] == HDR + 5000 - 4096);
	/* One frame: the header counts the buffers; the bytes run on. */
	const struct virtio_net_hdr_v1 *h = sim_ptr(r.sim, base, HDR);
	CHECK_EQ_U64(le16toh(h->num_buffers), 3);
	uint8_t *want = malloc(5000);
	frame_bytes(want, 5000, 7);
	CHECK(!memcmp(sim_ptr(r.sim, base + HDR, 5000), want, 5000));
	free(want);
	uint16_t dummy;
	uint32_t dl;
	CHECK(sim_get_used(r.sim, 0, &dummy, &dl) == 0);

	/* The next frame lands in the fourth chain. */
	peer_send(&r, 0, 100, 9);
	CHECK(run_until(&r, has_used, &q));
	CHECK(sim_get_used(r.sim, 0, &dummy, &dl) == 1);
	CHECK_EQ_U64(dl, HDR + 100);
	check_rx_frame(&r, base + 3 * 2048, 100, 9, 1);
	/* A 64 KiB GSO-sized frame. */
	peer_send(&r, 0, 60000, 3);
	CHECK(run_until(&r, has_used, &q));
	uint32_t total = 0;
	unsigned n = 0;
	while (sim_get_used(r.sim, 0, &dummy, &dl) == 1) {
		total += dl;
		n++;
	}
	CHECK_EQ_U64(total, HDR + 60000);
	CHECK_EQ_U64(n, (HDR + 60000 + 2047) / 2048);
	CHECK(r.stats[0].rx_packets == 3);
	CHECK(r.stats[0].rx_drops == 0);
	rig_close(&r);
}

static void run_loop(struct rig *r, int passes)
{
	for (int i = 0; i < passes; i++)
		io_loop_run_once(r->sim->loop, false);
}

/* The bytes the driver got back in its next `n` used chains, whose
 * buffers are at gpas[] in ring order (a frame's chains are used in the
 * order they were added). Returns the total length. */
static size_t take_frame(struct rig *r, const uint64_t *gpas, unsigned n, uint8_t *out)
{
	size_t total = 0;
	for (unsigned i = 0; i < n; i++) {
		uint16_t id;
		uint32_t len;
		CHECK(sim_get_used(r->sim, 0, &id, &len) == 1);
		memcpy(out + total, sim_ptr(r->sim, gpas[i], len), len);
		total += len;
	}
	return total;
}

/* Adds one 1000-byte frame numbered i to transmit queue 1. */
static void add_tx_frame(struct rig *r, unsigned i)
{
	uint8_t frame[HDR + 1000] = { 0 };
	uint64_t gpa = sim_alloc(r->sim, sizeof(frame), 8);
	frame_bytes(frame + HDR, 1000, (uint8_t)i);
	memcpy(sim_ptr(r->sim, gpa, sizeof(frame)), frame, sizeof(frame));
	struct sim_buf b = { gpa, sizeof(frame), false };
	CHECK(sim_add(r->sim, 1, &b, 1, false) >= 0);
}

/* The backend's send buffer full: frames wait (a write or a poll in
 * flight, depending on the kernel: see struct net_poll; not retried in a
 * loop, not dropped) and go out in order once it drains. Meanwhile the
 * driver is asked for no notification; once idle, it is again. */
static void test_tx_backpressure(void)
{
	struct rig r;
	CHECK(rig_open(&r, 1, true, 256) == 0);
	int small = 4096;
	CHECK(setsockopt(r.near[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)) == 0);
	CHECK(sim_start(r.sim, features_of(true, true), 2, 256) == 0);
	enum { N = 100 };
	for (unsigned i = 0; i < N; i++)
		add_tx_frame(&r, i);
	sim_kick(r.sim, 1);
	run_loop(&r, 20);
	/* The write waits in the kernel (kernels that poll for it), or
	 * the queue polls after -EAGAIN (6.1). */
	CHECK(r.net->txq[0].inflight == 1);
	uint64_t sent = r.stats[0].tx_packets;
	CHECK(sent > 0 && sent < N);
	uint64_t sqes0, sqes1, enters;
	io_loop_stats(r.sim->loop, &sqes0, &enters);
	run_loop(&r, 50);
	io_loop_stats(r.sim->loop, &sqes1, &enters);
	CHECK(sqes1 == sqes0); /* waiting, not retrying */
	CHECK(r.stats[0].tx_packets == sent && r.stats[0].tx_drops == 0);
	/* Busy: a frame added now needs no kick; the drain finds it. */
	uint16_t before = r.sim->q[1].avail_idx;
	add_tx_frame(&r, N);
	CHECK(!sim_kick_needed(r.sim, 1, before));
	unsigned in_order = 0;
	for (unsigned i = 0; i <= N; i++) {
		uint8_t got[2000];
		ssize_t n = -1;
		for (int t = 0; t < 500 && n < 0; t++) {
			n = recv(r.peer[0], got, sizeof(got), MSG_DONTWAIT);
			if (n < 0) {
				io_loop_run_once(r.sim->loop, false);
				usleep(1000);
			}
		}
		uint8_t want[1000];
		frame_bytes(want, 1000, (uint8_t)i);
		in_order += n == (ssize_t)(HDR + 1000) && !memcmp(got + HDR, want, 1000);
	}
	CHECK_EQ_U64(in_order, N + 1);
	run_loop(&r, 5);
	CHECK_EQ_U64(r.stats[0].tx_packets, N + 1);
	CHECK_EQ_U64(r.stats[0].tx_drops, 0);
	/* Idle: the next frame needs a kick. */
	before = r.sim->q[1].avail_idx;
	add_tx_frame(&r, N + 1);
	CHECK(sim_kick_needed(r.sim, 1, before));
	rig_close(&r);
}

/* Buffers posted and nothing to read: a read or a poll waits (struct
 * net_poll), nothing is tried again and again; a frame then arrives. */
static void test_rx_idle(void)
{
	struct rig r;
	CHECK(rig_open(&r, 1, true, 256) == 0);
	CHECK(sim_start(r.sim, features_of(true, true), 2, 256) == 0);
	uint64_t base = add_rx(&r, 0, 8, 2048, false);
	run_loop(&r, 5);
	CHECK(r.net->rxq[0].inflight == 1);
	uint64_t sqes0, sqes1, enters;
	io_loop_stats(r.sim->loop, &sqes0, &enters);
	run_loop(&r, 50);
	io_loop_stats(r.sim->loop, &sqes1, &enters);
	CHECK(sqes1 == sqes0);
	peer_send(&r, 0, 200, 4);
	unsigned q = 0;
	CHECK(run_until(&r, has_used, &q));
	uint16_t id;
	uint32_t len;
	CHECK(sim_get_used(r.sim, 0, &id, &len) == 1 && len == HDR + 200);
	check_rx_frame(&r, base, 200, 4, 1);
	rig_close(&r);
}

/* Mergeable buffers: a frame longer than the chain it was read into
 * waits for the chains its rest needs, and a frame behind it waits its
 * turn. */
static void test_rx_frame_waits(void)
{
	struct rig r;
	CHECK(rig_open(&r, 1, true, 256) == 0);
	CHECK(sim_start(r.sim, features_of(true, true), 2, 256) == 0);
	unsigned q = 0;
	uint64_t gpas[21];
	gpas[0] = add_rx(&r, 0, 1, 2048, false);
	peer_send(&r, 0, 20000, 5);
	peer_send(&r, 0, 70, 6);
	run_loop(&r, 20);
	CHECK(!has_used(&r, &q));
	CHECK(r.stats[0].rx_packets == 0 && r.stats[0].rx_drops == 0);
	/* 10 KiB of chains: still short of 20012 bytes. */
	uint64_t more = add_rx(&r, 0, 4, 2048, false);
	run_loop(&r, 20);
	CHECK(!has_used(&r, &q));
	uint64_t rest = add_rx(&r, 0, 16, 2048, false);
	CHECK(run_until(&r, has_used, &q));
	for (unsigned i = 0; i < 4; i++)
		gpas[1 + i] = more + i * 2048ull;
	for (unsigned i = 0; i < 16; i++)
		gpas[5 + i] = rest + i * 2048ull;
	unsigned chains = (HDR + 20000 + 2047) / 2048; /* 10 */
	uint8_t *got = malloc(21 * 2048), *want = malloc(20000);
	CHECK_EQ_U64(take_frame(&r, gpas, chains, got), HDR + 20000);
	const struct virtio_net_hdr_v1 *h = (const void *)got;
	CHECK_EQ_U64(le16toh(h->num_buffers), chains);
	frame_bytes(want, 20000, 5);
	CHECK(!memcmp(got + HDR, want, 20000));
	/* The frame behind it, in the next chain. */
	CHECK(run_until(&r, has_used, &q));
	CHECK_EQ_U64(take_frame(&r, &gpas[chains], 1, got), HDR + 70);
	check_rx_frame(&r, gpas[chains], 70, 6, 1);
	CHECK(r.stats[0].rx_packets == 2 && r.stats[0].rx_drops == 0);
	CHECK(r.stats[0].rx_bytes == 20070);
	free(got);
	free(want);
	rig_close(&r);
}

/* A first chain shorter than the header: the header runs on into the
 * next chain, num_buffers included. */
static void test_rx_split_header(void)
{
	struct rig r;
	CHECK(rig_open(&r, 1, true, 256) == 0);
	CHECK(sim_start(r.sim, features_of(true, true), 2, 256) == 0);
	unsigned q = 0;
	uint64_t gpas[2];
	gpas[0] = add_rx(&r, 0, 1, 8, false);
	gpas[1] = add_rx(&r, 0, 4, 2048, false);
	peer_send(&r, 0, 100, 2);
	CHECK(run_until(&r, has_used, &q));
	uint8_t got[HDR + 100];
	CHECK_EQ_U64(take_frame(&r, gpas, 2, got), HDR + 100);
	const struct virtio_net_hdr_v1 *h = (const void *)got;
	CHECK_EQ_U64(le16toh(h->num_buffers), 2);
	uint8_t want[100];
	frame_bytes(want, 100, 2);
	CHECK(!memcmp(got + HDR, want, 100));
	rig_close(&r);
}

/* A frame larger than the driver's whole ring is dropped, counted, and
 * the queue goes on with the same chains. */
static void test_rx_larger_than_ring(void)
{
	struct rig r;
	CHECK(rig_open(&r, 1, true, 16) == 0);
	CHECK(sim_start(r.sim, features_of(true, true), 2, 16) == 0);
	unsigned q = 0;
	uint64_t base = add_rx(&r, 0, 16, 1024, false);
	peer_send(&r, 0, 30000, 1);
	peer_send(&r, 0, 90, 2);
	CHECK(run_until(&r, has_used, &q));
	uint16_t id;
	uint32_t len;
	CHECK(sim_get_used(r.sim, 0, &id, &len) == 1 && len == HDR + 90);
	check_rx_frame(&r, base, 90, 2, 1);
	CHECK(r.stats[0].rx_drops == 1 && r.stats[0].rx_packets == 1);
	CHECK(!sim_needs_reset(r.sim));
	rig_close(&r);
}

/* A reset forgets a frame waiting for chains; the queue starts clean. */
static void test_rx_reset_waiting(void)
{
	struct rig r;
	CHECK(rig_open(&r, 1, true, 256) == 0);
	CHECK(sim_start(r.sim, features_of(true, true), 2, 256) == 0);
	unsigned q = 0;
	add_rx(&r, 0, 1, 2048, false);
	peer_send(&r, 0, 20000, 1);
	run_loop(&r, 20);
	CHECK(!has_used(&r, &q));
	sim_set_status(r.sim, 0);
	CHECK(sim_status(r.sim) == 0);
	peer_send(&r, 0, 300, 3);
	CHECK(sim_start(r.sim, features_of(true, true), 2, 256) == 0);
	uint64_t base = add_rx(&r, 0, 64, 2048, false);
	CHECK(run_until(&r, has_used, &q));
	uint16_t id;
	uint32_t len;
	CHECK(sim_get_used(r.sim, 0, &id, &len) == 1 && len == HDR + 300);
	check_rx_frame(&r, base, 300, 3, 1);
	CHECK(r.stats[0].rx_packets == 1);
	rig_close(&r);
}

/* No buffers: nothing is read and nothing spins; frames wait in the
 * backend and arrive, in order, once the driver adds buffers. */
static void test_rx_starvation(void)
{
	struct rig r;
	CHECK(rig_open(&r, 1, true, 256) == 0);
	CHECK(sim_start(r.sim, features_of(false, false), 2, 256) == 0);
	for (unsigned i = 0; i < 3; i++)
		peer_send(&r, 0, 100 + i, i);
	uint64_t sqes0, enters0, sqes1, enters1;
	io_loop_run_once(r.sim->loop, false); /* the link watch goes in */
	io_loop_stats(r.sim->loop, &sqes0, &enters0);
	unsigned handled = 0;
	for (int i = 0; i < 50; i++)
		handled += (unsigned)io_loop_run_once(r.sim->loop, false);
	io_loop_stats(r.sim->loop, &sqes1, &enters1);
	CHECK(handled == 0);
	CHECK(sqes1 == sqes0); /* no read posted, none retried */
	CHECK(r.stats[0].rx_packets == 0 && r.stats[0].rx_drops == 0);

	uint64_t base = add_rx(&r, 0, 2, 1536, false);
	unsigned q = 0, got = 0;
	uint16_t id;
	uint32_t len;
	while (got < 2 && run_until(&r, has_used, &q))
		while (sim_get_used(r.sim, 0, &id, &len) == 1)
			got++;
	CHECK(got == 2);
	check_rx_frame(&r, base, 100, 0, 1);
	check_rx_frame(&r, base + 1536, 101, 1, 1);
	/* The third waits for a buffer, then comes. */
	base = add_rx(&r, 0, 1, 1536, false);
	CHECK(run_until(&r, has_used, &q));
	CHECK(sim_get_used(r.sim, 0, &id, &len) == 1 && len == HDR + 102);
	check_rx_frame(&r, base, 102, 2, 1);
	CHECK(r.stats[0].rx_packets == 3 && r.stats[0].rx_drops == 0);
	rig_close(&r);
}

/* More frames waiting than one pass reads (NET_RX_BUDGET): the rest
 * come on the next passes, in order, none lost or read twice. */
static void test_rx_budget(void)
{
	enum { N = 3 * NET_RX_BUDGET + 5 };
	struct rig r;
	CHECK(rig_open(&r, 1, true, 256) == 0);
	CHECK(sim_start(r.sim, features_of(false, false), 2, 256) == 0);
	for (unsigned i = 0; i < N; i++)
		peer_send(&r, 0, 60 + i % 64, i);
	int heads[N + 8];
	uint64_t base = add_rx_heads(&r, 0, N + 8, 256, false, heads);
	unsigned q = 0, got = 0;
	uint16_t id;
	uint32_t len;
	while (got < N && run_until(&r, has_used, &q))
		while (got < N && sim_get_used(r.sim, 0, &id, &len) == 1) {
			CHECK_EQ_U64(id, heads[got]);
			CHECK_EQ_U64(len, HDR + 60 + got % 64);
			check_rx_frame(&r, base + (uint64_t)got * 256, 60 + got % 64, got, 1);
			got++;
		}
	CHECK_EQ_U64(got, N);
	CHECK(r.stats[0].rx_packets == N && r.stats[0].rx_drops == 0);
	CHECK(r.sim->q[0].interrupts >= 1);
	/* The tap is empty and the ring is not: the queue polls the tap. */
	run_loop(&r, 5);
	CHECK(r.net->rxq[0].inflight == 1);
	CHECK(sim_get_used(r.sim, 0, &id, &len) == 0);
	rig_close(&r);
}

/* The backend at its end (a read returns 0 bytes, as at a socket's EOF):
 * the queue stops reading, with no retry loop, and asks the driver for a
 * notification; the driver's next kick reads again. */
static void test_rx_backend_eof(void)
{
	struct rig r;
	CHECK(rig_open(&r, 1, true, 256) == 0);
	CHECK(sim_start(r.sim, features_of(false, false), 2, 256) == 0);
	uint64_t base = add_rx(&r, 0, 8, 2048, false);
	run_loop(&r, 5);
	CHECK(r.net->rxq[0].inflight == 1); /* polling the empty backend */
	close(r.peer[0]);
	run_loop(&r, 5);
	CHECK(r.net->rxq[0].stalled && r.net->rxq[0].inflight == 0);
	uint64_t sqes0, sqes1, enters;
	io_loop_stats(r.sim->loop, &sqes0, &enters);
	unsigned handled = 0;
	for (int i = 0; i < 50; i++)
		handled += (unsigned)io_loop_run_once(r.sim->loop, false);
	io_loop_stats(r.sim->loop, &sqes1, &enters);
	CHECK(handled == 0);
	CHECK(sqes1 == sqes0); /* no read or poll posted again */
	unsigned q = 0;
	CHECK(!has_used(&r, &q));
	CHECK(r.stats[0].rx_packets == 0 && r.stats[0].rx_drops == 0);

	/* The backend is back (a new socket on the device's fd). */
	int sv[2];
	CHECK(backend_pair(sv) == 0);
	CHECK(dup3(sv[0], r.near[0], O_CLOEXEC) == r.near[0]);
	close(sv[0]);
	r.peer[0] = sv[1];
	peer_send(&r, 0, 90, 7);
	uint16_t before = r.sim->q[0].avail_idx;
	struct sim_buf b = { sim_alloc(r.sim, 2048, 64), 2048, true };
	CHECK(sim_add(r.sim, 0, &b, 1, false) >= 0);
	CHECK(sim_kick_needed(r.sim, 0, before));
	sim_kick(r.sim, 0);
	sim_run(r.sim);
	CHECK(run_until(&r, has_used, &q));
	uint16_t id;
	uint32_t len;
	CHECK(sim_get_used(r.sim, 0, &id, &len) == 1 && len == HDR + 90);
	check_rx_frame(&r, base, 90, 7, 1);
	CHECK(r.stats[0].rx_packets == 1 && r.stats[0].rx_drops == 0);
	CHECK(!sim_needs_reset(r.sim));
	rig_close(&r);
}

/* Unusable receive chains are handed back empty and counted. */
static void test_rx_bad_chain(void)
{
	struct rig r;
	CHECK(rig_open(&r, 1, true, 256) == 0);
	CHECK(sim_start(r.sim, features_of(false, false), 2, 256) == 0);
	uint64_t gpa = sim_alloc(r.sim, 4096, 64);
	struct sim_buf ro = { gpa, 1536, false }; /* read-only: unusable */
	CHECK(sim_add(r.sim, 0, &ro, 1, false) >= 0);
	struct sim_buf ok = { gpa + 2048, 1536, true };
	CHECK(sim_add(r.sim, 0, &ok, 1, false) >= 0);
	sim_kick(r.sim, 0);
	sim_run(r.sim);
	unsigned q = 0;
	CHECK(run_until(&r, has_used, &q));
	uint16_t id;
	uint32_t len;
	CHECK(sim_get_used(r.sim, 0, &id, &len) == 1 && len == 0);
	CHECK(r.stats[0].rx_drops == 1);
	peer_send(&r, 0, 80, 4);
	CHECK(run_until(&r, has_used, &q));
	CHECK(sim_get_used(r.sim, 0, &id, &len) == 1 && len == HDR + 80);
	check_rx_frame(&r, gpa + 2048, 80, 4, 1);
	CHECK(!sim_needs_reset(r.sim));
	rig_close(&r);
}

/* A malformed ring stops the device (NEEDS_RESET), not the VMM. */
static void test_bad_ring(void)
{
	struct rig r;
	CHECK(rig_open(&r, 1, true, 256) == 0);
	CHECK(sim_start(r.sim, features_of(true, true), 2, 256) == 0);
	struct vring_desc *d = sim_desc(r.sim, 0, 0);
	d->addr = htole64(0x7fff00000000ull); /* outside RAM */
	d->len = htole32(4096);
	d->flags = htole16(VRING_DESC_F_WRITE);
	sim_publish(r.sim, 0, 0);
	sim_kick(r.sim, 0);
	sim_run(r.sim);
	CHECK(sim_needs_reset(r.sim));
	CHECK(r.sim->logs == 1);
	CHECK(r.sim->config_interrupts >= 1);
	/* Transmit chains that loop. */
	rig_close(&r);
	CHECK(rig_open(&r, 1, true, 256) == 0);
	CHECK(sim_start(r.sim, features_of(true, true), 2, 256) == 0);
	d = sim_desc(r.sim, 1, 0);
	d->addr = htole64(0x1000);
	d->len = htole32(64);
	d->flags = htole16(VRING_DESC_F_NEXT);
	d->next = htole16(0);
	sim_publish(r.sim, 1, 0);
	sim_kick(r.sim, 1);
	sim_run(r.sim);
	CHECK(sim_needs_reset(r.sim));
	rig_close(&r);
}

/* Resets the device from another thread, as a vCPU writing the status
 * register does, while this one runs the loop; false if the reset has
 * not returned within ~2 s. */
static bool reset_from_vcpu(struct rig *r)
{
	return sim_reset_from_vcpu(r->sim, 2000);
}

/* A reset takes back the buffers posted in reads before it returns. */
static void test_reset_in_flight(void)
{
	struct rig r;
	CHECK(rig_open(&r, 1, true, 256) == 0);
	CHECK(sim_start(r.sim, features_of(true, true), 2, 256) == 0);
	add_rx(&r, 0, 128, 2048, false);
	CHECK(virtio_net_inflight(r.net) >= 2); /* reads + link watch */
	CHECK(reset_from_vcpu(&r));
	CHECK(sim_status(r.sim) == 0);
	CHECK(virtio_net_inflight(r.net) == 1); /* the link watch only */
	CHECK(r.queues_set == 1);
	/* A frame sent now waits; after a new start it arrives. */
	peer_send(&r, 0, 300, 1);
	CHECK(sim_start(r.sim, features_of(true, true), 2, 256) == 0);
	uint64_t base = add_rx(&r, 0, 64, 2048, false);
	unsigned q = 0;
	CHECK(run_until(&r, has_used, &q));
	uint16_t id;
	uint32_t len;
	CHECK(sim_get_used(r.sim, 0, &id, &len) == 1 && len == HDR + 300);
	check_rx_frame(&r, base, 300, 1, 1);
	rig_close(&r);
}

static unsigned used_waiting(struct rig *r, unsigned q)
{
	struct sim_queue *sq = &r->sim->q[q];
	return (uint16_t)(__atomic_load_n(&sq->used->idx, __ATOMIC_ACQUIRE) - sq->last_used);
}

/* Runs the loop until queue q has n used entries waiting (~2 s at most). */
struct used_wait {
	unsigned q, n;
};

static bool has_n_used(struct rig *r, void *arg)
{
	const struct used_wait *w = arg;
	return used_waiting(r, w->q) >= w->n;
}

static bool run_until_used(struct rig *r, unsigned q, unsigned n)
{
	struct used_wait w = { q, n };
	return run_until(r, has_n_used, &w);
}

/* A queue's interrupt count moved past `before`. */
struct irq_wait {
	const unsigned *irq;
	unsigned before;
};

static bool interrupt_raised(struct rig *r, void *arg)
{
	(void)r;
	const struct irq_wait *w = arg;
	return *w->irq != w->before;
}

static bool hold_disarmed(struct rig *r, void *arg)
{
	(void)r;
	return !((const struct irq_hold *)arg)->armed;
}

/* The guest sends 20 frames of 1000 bytes (more than NET_HOLD_STREAM_BYTES)
 * and takes them back; the wire gets them. */
static void stream_out(struct rig *r)
{
	for (unsigned i = 0; i < 20; i++)
		add_tx_frame(r, i);
	sim_kick(r->sim, 1);
	sim_run(r->sim);
	CHECK(run_until_used(r, 1, 20));
	uint16_t id;
	uint32_t len;
	while (sim_get_used(r->sim, 1, &id, &len) == 1)
		;
	uint8_t got[2000];
	while (recv(r->peer[0], got, sizeof(got), MSG_DONTWAIT) > 0)
		;
}

/* The wire sends 20 frames of 1000 bytes (more than
 * NET_HOLD_STREAM_BYTES) into 20 new buffers, and the driver takes them. */
static void stream_in(struct rig *r)
{
	add_rx(r, 0, 20, 2048, false);
	for (unsigned i = 0; i < 20; i++)
		peer_send(r, 0, 1000, i);
	CHECK(run_until_used(r, 0, 20));
	uint16_t id;
	uint32_t len;
	while (sim_get_used(r->sim, 0, &id, &len) == 1)
		;
}

/* Takes the next n used entries of rx queue 0: frames seed..seed+n-1 of
 * 60+seed bytes, in the chains of heads[] from *next on. */
static void take_paced(struct rig *r, uint64_t base, const int *heads,
		       unsigned *next, unsigned seed, unsigned n)
{
	uint16_t id;
	uint32_t len;
	for (unsigned i = 0; i < n; i++, (*next)++) {
		CHECK(sim_get_used(r->sim, 0, &id, &len) == 1);
		CHECK_EQ_U64(id, heads[*next]);
		CHECK_EQ_U64(len, HDR + 60 + seed + i);
		check_rx_frame(r, base + (uint64_t)*next * 256, 60 + seed + i, seed + i, 1);
	}
}

/* Drives the loop for about `ms` ms, in which the driver must get no
 * frame: the queue is in a pause. */
static void check_nothing_for(struct rig *r, int ms)
{
	for (int i = 0; i < ms; i++) {
		io_loop_run_once(r->sim->loop, false);
		usleep(1000);
	}
	CHECK_EQ_U64(used_waiting(r, 0), 0);
}

/* A device started with 16 receive chains of 256 bytes, idle: its
 * queue polls the backend. */
struct paced_rig {
	struct rig r;
	struct net_rxq *q;
	int heads[16];
	unsigned next; /* the next chain the device fills */
	uint64_t base; /* the chains' buffers */
};

static void paced_start(struct paced_rig *p)
{
	CHECK(sim_start(p->r.sim, features_of(false, false), 2, 256) == 0);
	p->q = &p->r.net->rxq[0];
	p->next = 0;
	p->base = add_rx_heads(&p->r, 0, 16, 256, false, p->heads);
	run_loop(&p->r, 5);
}

static void paced_open(struct paced_rig *p)
{
	CHECK(rig_open(&p->r, 1, true, 256) == 0);
	paced_start(p);
}

/* A pass that read a stream's frames (NET_RX_PACE_MIN or more) until the
 * backend ran dry reads again after a pause, not at the next frame: a
 * frame sent meanwhile waits for it, then comes in order; a pass of one
 * frame polls again. A reset during a pause returns without waiting for
 * it. */
static void test_rx_paced(void)
{
	struct paced_rig p;
	paced_open(&p);
	CHECK(p.q->inflight == 1 && !p.q->paced); /* idle: polls the backend */

	/* A stream under the default pause: every frame comes, in order. */
	for (unsigned i = 0; i < 4; i++)
		peer_send(&p.r, 0, 60 + i, i);
	CHECK(run_until_used(&p.r, 0, 4));
	take_paced(&p.r, p.base, p.heads, &p.next, 0, 4);
	CHECK(p.q->inflight == 1 && p.q->paced);
	peer_send(&p.r, 0, 64, 4);
	CHECK(run_until_used(&p.r, 0, 1));
	take_paced(&p.r, p.base, p.heads, &p.next, 4, 1);
	/* That pass read one frame: the queue polls again. So does a
	 * pass of one frame that came later than the pause after it. */
	CHECK(p.q->inflight == 1 && !p.q->paced);
	usleep(10 * NET_RX_PACE_US);
	peer_send(&p.r, 0, 65, 5);
	CHECK(run_until_used(&p.r, 0, 1));
	take_paced(&p.r, p.base, p.heads, &p.next, 5, 1);
	CHECK(!p.q->paced);

	/* A pause longer than the test: the frame sent during it waits. */
	p.r.net->rx_pace_us = 60u * 1000 * 1000;
	for (unsigned i = 0; i < 3; i++)
		peer_send(&p.r, 0, 66 + i, 6 + i);
	CHECK(run_until_used(&p.r, 0, 3));
	take_paced(&p.r, p.base, p.heads, &p.next, 6, 3);
	CHECK(p.q->paced);
	peer_send(&p.r, 0, 69, 9);
	check_nothing_for(&p.r, 20);
	CHECK(p.q->paced && p.r.stats[0].rx_packets == 9);
	CHECK(reset_from_vcpu(&p.r));
	CHECK(p.q->inflight == 0 && !p.q->paced);
	CHECK(p.r.stats[0].rx_drops == 0);
	rig_close(&p.r);
}

/* One frame, taken by a pass of its own. */
static void one_frame_in(struct paced_rig *p)
{
	unsigned seed = p->next;
	peer_send(&p->r, 0, 60 + seed, seed);
	CHECK(run_until_used(&p->r, 0, 1));
	take_paced(&p->r, p->base, p->heads, &p->next, seed, 1);
}

/* One-frame passes in a row are a one-way stream while the guest sends
 * nothing and they come within the pause of each other: the queue
 * pauses after them. A frame the guest sent between them (a request's
 * answer) or a longer gap keeps the poll. */
static void test_rx_paced_one_way(void)
{
	struct paced_rig p;
	paced_open(&p);
	p.r.net->rx_pace_us = 60u * 1000 * 1000;

	one_frame_in(&p); /* the first: after no frames */
	CHECK(p.q->inflight == 1 && !p.q->paced);
	for (unsigned i = 0; i < 2; i++) {
		/* The guest answers, then the next frame comes: polled. */
		add_tx_frame(&p.r, i);
		sim_kick(p.r.sim, 1);
		sim_run(p.r.sim);
		CHECK(run_until_used(&p.r, 1, 1));
		uint16_t id;
		uint32_t len;
		CHECK(sim_get_used(p.r.sim, 1, &id, &len) == 1);
		one_frame_in(&p);
		CHECK(p.q->inflight == 1 && !p.q->paced);
	}

	/* No answer: the second frame in a row starts a pause, and the
	 * frame after it waits. */
	one_frame_in(&p);
	CHECK(p.q->inflight == 1 && p.q->paced);
	peer_send(&p.r, 0, 60 + p.next, p.next);
	check_nothing_for(&p.r, 20);
	CHECK(reset_from_vcpu(&p.r));
	CHECK(p.q->inflight == 0 && !p.q->paced);
	uint8_t left[256];
	CHECK(recv(p.r.near[0], left, sizeof(left), MSG_DONTWAIT) == HDR + 60 + p.next);

	/* Further apart than the pause: polled. */
	paced_start(&p);
	p.r.net->rx_pace_us = 1000;
	for (unsigned i = 0; i < 3; i++) {
		usleep(10 * 1000);
		one_frame_in(&p);
		CHECK(p.q->inflight == 1 && !p.q->paced);
	}
	CHECK(p.r.stats[0].rx_drops == 0);
	rig_close(&p.r);
}

/* While the guest receives a stream, the transmit interrupt for what it
 * sends back (ACKs) waits the same way; not for a frame of a stream of
 * its own. */
static void test_tx_interrupt_hold(struct rig *r)
{
	unsigned *irq = &r->sim->q[1].interrupts;
	struct irq_hold *hold = &r->net->txq[0].hold;
	r->net->hold_us = 5000;
	stream_in(r);
	unsigned before = *irq;
	add_tx_frame(r, 1);
	sim_kick(r->sim, 1);
	sim_run(r->sim);
	CHECK(run_until_used(r, 1, 1));
	CHECK(hold->held && hold->armed);
	CHECK_EQ_U64(*irq, before);
	run_until(r, interrupt_raised, &(struct irq_wait){ irq, before });
	CHECK_EQ_U64(*irq, before + 1);
	CHECK(!hold->held && !hold->armed);
	uint16_t id;
	uint32_t len;
	CHECK(sim_get_used(r->sim, 1, &id, &len) == 1);

	/* A frame larger than NET_HOLD_STREAM_BYTES is the guest's own
	 * stream: its interrupt comes with it. */
	stream_in(r);
	before = *irq;
	size_t big = NET_HOLD_STREAM_BYTES + 1000;
	uint8_t *frame = calloc(1, HDR + big);
	CHECK(guest_send(r, 1, frame, HDR + big, 2, false) == 0);
	CHECK_EQ_U64(*irq, before + 1);
	CHECK(!hold->held);
	free(frame);
	uint8_t got[NET_HOLD_STREAM_BYTES + 2000];
	while (recv(r->peer[0], got, sizeof(got), MSG_DONTWAIT) > 0)
		;
}

/* While the guest streams out, the receive interrupt for what comes back
 * (its ACKs) waits for hold_us or NET_HOLD_FRAMES frames; a guest
 * that sends little gets it with the frame. A reset does not wait for a
 * held interrupt's timeout. Then the same for transmit interrupts. */
static void test_interrupt_hold(void)
{
	struct rig r;
	CHECK(rig_open(&r, 1, true, 256) == 0);
	r.net->hold_us = 5000;
	CHECK(sim_start(r.sim, features_of(true, true), 2, 256) == 0);
	add_rx(&r, 0, 64, 2048, false);
	unsigned *irq = &r.sim->q[0].interrupts;
	struct irq_hold *hold = &r.net->rxq[0].hold;
	uint16_t id;
	uint32_t len;

	/* Sending little: the interrupt comes with the frame. */
	unsigned before = *irq;
	peer_send(&r, 0, 100, 1);
	CHECK(run_until_used(&r, 0, 1));
	CHECK_EQ_U64(*irq, before + 1);
	CHECK(sim_get_used(r.sim, 0, &id, &len) == 1);

	/* Streaming out: the frame is used at once, its interrupt comes
	 * when the hold time is over. */
	stream_out(&r);
	before = *irq;
	peer_send(&r, 0, 60, 2);
	CHECK(run_until_used(&r, 0, 1));
	CHECK(hold->held && hold->armed);
	CHECK_EQ_U64(*irq, before);
	run_until(&r, interrupt_raised, &(struct irq_wait){ irq, before });
	CHECK_EQ_U64(*irq, before + 1);
	CHECK(!hold->held && !hold->armed);
	CHECK(sim_get_used(r.sim, 0, &id, &len) == 1);

	/* With a hold longer than the test, the frame count ends it: the
	 * interrupt comes with the NET_HOLD_FRAMES-th frame, and the
	 * timeout is cancelled. */
	r.net->hold_us = 10u * 1000 * 1000;
	stream_out(&r);
	before = *irq;
	for (unsigned i = 0; i < NET_HOLD_FRAMES - 1; i++)
		peer_send(&r, 0, 60, 3 + i);
	CHECK(run_until_used(&r, 0, NET_HOLD_FRAMES - 1));
	run_loop(&r, 10);
	CHECK_EQ_U64(*irq, before);
	CHECK(hold->held);
	peer_send(&r, 0, 60, 20);
	CHECK(run_until_used(&r, 0, NET_HOLD_FRAMES));
	run_until(&r, hold_disarmed, hold);
	CHECK(!hold->armed);
	CHECK_EQ_U64(*irq, before + 1);
	while (sim_get_used(r.sim, 0, &id, &len) == 1)
		;

	/* A reset with an interrupt held returns without its timeout. */
	stream_out(&r);
	peer_send(&r, 0, 60, 21);
	CHECK(run_until_used(&r, 0, 1));
	CHECK(hold->held && hold->armed);
	CHECK(reset_from_vcpu(&r));
	CHECK(!hold->held && !hold->armed);
	CHECK(sim_start(r.sim, features_of(true, true), 2, 256) == 0);
	test_tx_interrupt_hold(&r);
	rig_close(&r);
}

/* Sends a control command; returns the ack byte (0xff: none). */
static uint8_t ctrl(struct rig *r, unsigned q, uint8_t cls, uint8_t cmd,
		    const void *data, size_t len)
{
	uint64_t gpa = sim_alloc(r->sim, 64, 8);
	uint8_t *p = sim_ptr(r->sim, gpa, 64);
	p[0] = cls;
	p[1] = cmd;
	if (len) /* data may be NULL then: memcpy's arguments must not be */
		memcpy(p + 2, data, len);
	p[32] = 0xff;
	struct sim_buf b[2] = { { gpa, (uint32_t)(2 + len), false }, { gpa + 32, 1, true } };
	CHECK(sim_add(r->sim, q, b, 2, false) >= 0);
	sim_kick(r->sim, q);
	sim_run(r->sim);
	uint16_t id;
	uint32_t ulen;
	if (!run_until(r, has_used, &q) || sim_get_used(r->sim, q, &id, &ulen) != 1)
		return 0xfe;
	CHECK(ulen == 1);
	return p[32];
}

static void test_multiqueue(void)
{
	struct rig r;
	CHECK(rig_open(&r, 2, true, 256) == 0);
	uint64_t f = features_of(true, true) | F(VIRTIO_NET_F_MQ) | F(VIRTIO_NET_F_CTRL_VQ);
	CHECK(sim_start(r.sim, f, 5, 256) == 0);
	CHECK(r.queues_set == 1);
	add_rx(&r, 0, 64, 2048, false);
	add_rx(&r, 2, 64, 2048, false);
	/* Pair 1 is not in use yet: no read posted on it. */
	CHECK(r.net->rxq[1].inflight == 0);
	uint16_t two = htole16(2), three = htole16(3), zero = 0;
	CHECK(ctrl(&r, 4, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &two, 2) == VIRTIO_NET_OK);
	CHECK(r.queues_set == 2);
	CHECK(r.net->rxq[1].inflight > 0);
	CHECK(ctrl(&r, 4, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &three, 2) == VIRTIO_NET_ERR);
	CHECK(ctrl(&r, 4, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &zero, 2) == VIRTIO_NET_ERR);
	CHECK(ctrl(&r, 4, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &two, 1) == VIRTIO_NET_ERR);
	CHECK(ctrl(&r, 4, 0 /* RX */, 0, &two, 1) == VIRTIO_NET_ERR);
	CHECK(ctrl(&r, 4, 99, 7, NULL, 0) == VIRTIO_NET_ERR);
	CHECK(r.queues_set == 2);

	/* Each pair carries its own frames, both ways. */
	unsigned q = 2;
	peer_send(&r, 1, 700, 2);
	CHECK(run_until(&r, has_used, &q));
	uint16_t id;
	uint32_t len;
	CHECK(sim_get_used(r.sim, 2, &id, &len) == 1 && len == HDR + 700);
	uint8_t frame[HDR + 64] = { 0 };
	CHECK(guest_send(&r, 3, frame, sizeof(frame), 1, false) == 0);
	uint8_t got[256];
	CHECK(recv(r.peer[1], got, sizeof(got), MSG_DONTWAIT) == (ssize_t)sizeof(frame));
	CHECK(r.stats[1].rx_packets == 1 && r.stats[1].tx_packets == 1);
	CHECK(r.stats[0].rx_packets == 0 && r.stats[0].tx_packets == 0);
	/* A command with nowhere to answer is not run. */
	uint64_t gpa = sim_alloc(r.sim, 16, 8);
	uint8_t *p = sim_ptr(r.sim, gpa, 16);
	p[0] = VIRTIO_NET_CTRL_MQ;
	p[1] = VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET;
	p[2] = 1;
	struct sim_buf b = { gpa, 4, false };
	CHECK(sim_add(r.sim, 4, &b, 1, false) >= 0);
	sim_kick(r.sim, 4);
	sim_run(r.sim);
	q = 4;
	CHECK(run_until(&r, has_used, &q));
	CHECK(sim_get_used(r.sim, 4, &id, &len) == 1 && len == 0);
	CHECK(r.queues_set == 2);
	rig_close(&r);
}

static void test_link(void)
{
	struct rig r;
	CHECK(rig_open(&r, 1, true, 256) == 0);
	CHECK(sim_start(r.sim, features_of(true, true), 2, 256) == 0);
	unsigned before = r.sim->config_interrupts;
	uint64_t one = 1;
	r.link_up = false;
	CHECK(write(r.link_fd, &one, sizeof(one)) == sizeof(one));
	for (int i = 0; i < 100 && r.sim->config_interrupts == before; i++) {
		io_loop_run_once(r.sim->loop, false);
		usleep(1000);
	}
	uint16_t status;
	sim_config_read(r.sim, 6, &status, 2);
	CHECK(le16toh(status) == 0);
	CHECK(r.sim->config_interrupts == before + 1);
	r.link_up = true;
	CHECK(write(r.link_fd, &one, sizeof(one)) == sizeof(one));
	for (int i = 0; i < 100 && r.sim->config_interrupts == before + 1; i++) {
		io_loop_run_once(r.sim->loop, false);
		usleep(1000);
	}
	sim_config_read(r.sim, 6, &status, 2);
	CHECK(le16toh(status) == VIRTIO_NET_S_LINK_UP);
	CHECK(r.sim->config_interrupts == before + 2);
	rig_close(&r);
}

int main(void)
{
	test_config();
	test_tx();
	test_tx_malformed();
	test_rx_small();
	test_rx_mergeable();
	test_tx_backpressure();
	test_tx_large_frames();
	test_rx_idle();
	test_interrupt_hold();
	test_rx_frame_waits();
	test_rx_split_header();
	test_rx_larger_than_ring();
	test_rx_reset_waiting();
	test_rx_starvation();
	test_rx_budget();
	test_rx_backend_eof();
	test_rx_bad_chain();
	test_bad_ring();
	test_reset_in_flight();
	test_rx_paced();
	test_rx_paced_one_way();
	test_multiqueue();
	test_link();
	return check_report("test_virtio_net");
}
