/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: a hostile guest and a hostile wire under a virtio-net
 * device. The input is a script of steps: transmit chains with any
 * header and layout, receive chains (writable or not, any sizes), frames
 * arriving from the wire (a socketpair standing in for the tap), raw
 * descriptors published without checks, control commands, resets with
 * reads in flight, and rtnetlink buffers for the link-state parser. The
 * device must never touch memory outside guest RAM (ASan watches both
 * regions' edges), crash or hang, and after every input it must cancel
 * and finish everything it posted.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "devices/net/netlink_link.h"
#include "devices/virtio/virtio_net.h"
#include "virtio_sim.h"
#include "common/io_loop.h"

#define QSIZE 64
#define PAIRS 2
#define NR_VQS (2 * PAIRS + 1)
#define STEPS 64

struct input {
	const uint8_t *p;
	size_t left;
};

static uint8_t take8(struct input *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static uint16_t take16(struct input *in)
{
	return (uint16_t)(take8(in) | take8(in) << 8);
}

/* Up to n bytes of the input (fewer at its end). */
static size_t take(struct input *in, void *dst, size_t n)
{
	if (n > in->left)
		n = in->left;
	memcpy(dst, in->p, n);
	in->p += n;
	in->left -= n;
	return n;
}

struct fz {
	struct virtio_sim *sim;
	struct virtio_net *net;
	int peer[PAIRS], near[PAIRS];
	struct phy_net_queue_stats stats[PAIRS];
	/* Queues whose descriptors the input wrote raw: the simulated
	 * driver's free list is gone, so it adds and takes nothing more
	 * there until the next reset. */
	bool raw[NR_VQS];
};

static int be_offload(void *o, uint64_t f) { return 0; }
static int be_queues(void *o, unsigned n) { return 0; }
static bool be_link(void *o) { return true; }
static const struct net_backend_ops be_ops = { be_offload, be_queues, be_link };

static bool never_busy(void *o) { return false; }

static void die(const char *what)
{
	fprintf(stderr, "fuzz_virtio_net: %s\n", what);
	abort();
}

static void fz_open(struct fz *f, bool offloads)
{
	memset(f, 0, sizeof(*f));
	struct net_backend be = {
		.nr_pairs = PAIRS, .offloads = offloads, .link_up = true,
		.link_fd = -1, .stats = f->stats, .ops = &be_ops,
	};
	for (int p = 0; p < PAIRS; p++) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
			die("socketpair");
		be.fds[p] = f->near[p] = sv[0];
		f->peer[p] = sv[1];
		/* Neither end blocks: not the fuzzer's, nor the device's,
		 * which reads and writes it itself, as it does a tap. */
		if (fcntl(sv[0], F_SETFL, O_NONBLOCK) || fcntl(sv[1], F_SETFL, O_NONBLOCK))
			die("fcntl");
	}
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };
	struct phy_error err;
	f->sim = sim_create(2u << 20, 64u << 10);
	if (!f->sim || virtio_net_create(&f->net, &be, mac, QSIZE, "fuzz-net",
					 &f->sim->mem, f->sim->loop, &err))
		die("device");
	sim_attach(f->sim, virtio_net_dev(f->net), never_busy, NULL);
}

static void fz_close(struct fz *f)
{
	virtio_net_cancel_all(f->net);
	for (int i = 0; i < 10000 && virtio_net_inflight(f->net); i++)
		io_loop_run_once(f->sim->loop, true);
	if (virtio_net_inflight(f->net))
		die("operations left in flight");
	virtio_net_destroy(f->net);
	sim_destroy(f->sim);
	for (int p = 0; p < PAIRS; p++) {
		close(f->peer[p]);
		close(f->near[p]);
	}
}

static uint64_t features(uint8_t k)
{
	uint64_t f = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_NET_F_MAC |
		     1ull << VIRTIO_NET_F_STATUS | 1ull << VIRTIO_NET_F_MQ |
		     1ull << VIRTIO_NET_F_CTRL_VQ;
	if (k & 1)
		f |= 1ull << VIRTIO_NET_F_MRG_RXBUF;
	if (k & 2)
		f |= 1ull << VIRTIO_NET_F_CSUM | 1ull << VIRTIO_NET_F_GUEST_CSUM |
		     1ull << VIRTIO_NET_F_HOST_TSO4 | 1ull << VIRTIO_NET_F_GUEST_TSO4;
	if (k & 4)
		f |= 1ull << VIRTIO_NET_F_HOST_TSO6 | 1ull << VIRTIO_NET_F_HOST_ECN |
		     1ull << VIRTIO_NET_F_GUEST_TSO6 | 1ull << VIRTIO_NET_F_GUEST_ECN;
	if (k & 8)
		f |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	if (k & 16)
		f |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	return f;
}

/* A chain of up to 4 buffers somewhere in RAM, contents from the input. */
static void add_chain(struct fz *f, struct input *in, unsigned q, bool writable)
{
	uint8_t shape = take8(in);
	if (f->raw[q])
		return;
	unsigned n = 1 + (shape & 3);
	struct sim_buf b[4];
	for (unsigned i = 0; i < n; i++) {
		uint32_t len = take16(in) & 0xfff;
		uint64_t gpa = sim_alloc(f->sim, len ? len : 1, 8);
		if (!writable || (shape & (0x10 << i)))
			take(in, sim_ptr(f->sim, gpa, len ? len : 1), len);
		b[i] = (struct sim_buf){ gpa, len, writable ^ !!(shape & (0x10 << i)) };
	}
	if (sim_add(f->sim, q, b, n, shape & 4) >= 0)
		sim_kick(f->sim, q);
}

/* A vCPU resets the device while the loop runs (polls may be armed). */
static void reset(struct fz *f)
{
	if (!sim_reset_from_vcpu(f->sim, 10000))
		die("the reset did not return");
}

static void start(struct fz *f, uint8_t k)
{
	if (sim_start(f->sim, features(k), NR_VQS, QSIZE) == 0)
		return;
	/* Refused (MQ without CTRL_VQ cannot happen here): start plain. */
	sim_start(f->sim, 1ull << VIRTIO_F_VERSION_1, 2 * PAIRS, QSIZE);
}

static void step(struct fz *f, struct input *in, uint8_t k)
{
	uint8_t op = take8(in);
	unsigned pair = (op >> 4) & 1;
	switch (op & 7) {
	case 0: /* the guest sends */
		add_chain(f, in, 2 * pair + 1, false);
		break;
	case 1: /* the guest adds receive buffers */
		add_chain(f, in, 2 * pair, true);
		break;
	case 2: { /* a frame from the wire */
		uint8_t frame[2048];
		size_t n = take(in, frame, take16(in) % sizeof(frame));
		if (send(f->peer[pair], frame, n, MSG_DONTWAIT) < 0) {
			/* full, or empty: the wire drops it */
		}
		break;
	}
	case 3: { /* a raw descriptor, published unchecked */
		unsigned q = take8(in) % NR_VQS;
		uint16_t i = take16(in) % QSIZE;
		if (!f->sim->q[q].desc)
			break; /* a queue the driver did not set up */
		struct vring_desc *d = sim_desc(f->sim, q, i);
		take(in, d, sizeof(*d));
		sim_publish(f->sim, q, take16(in));
		sim_kick(f->sim, q);
		f->raw[q] = true;
		break;
	}
	case 4: /* a control command */
		add_chain(f, in, 2 * PAIRS, false);
		add_chain(f, in, 2 * PAIRS, true);
		break;
	case 5:
		reset(f);
		start(f, k);
		memset(f->raw, 0, sizeof(f->raw));
		break;
	case 6: { /* what rtnetlink might send */
		uint8_t buf[512];
		size_t n = take(in, buf, take16(in) % sizeof(buf));
		bool up = false;
		netlink_link_state(buf, n, (int)take8(in), &up);
		break;
	}
	default:
		for (int i = 0; i < 4; i++)
			io_loop_run_once(f->sim->loop, false);
		break;
	}
	/* The driver takes what came back, so its ring never fills up. */
	uint16_t id;
	uint32_t len;
	for (unsigned q = 0; q < NR_VQS; q++)
		while (!f->raw[q] && f->sim->q[q].desc && sim_get_used(f->sim, q, &id, &len) == 1)
			;
	sim_run(f->sim);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	struct input in = { data + 1, size - 1 };
	struct fz f;
	fz_open(&f, data[0] & 0x80);
	start(&f, data[0]);
	for (int s = 0; s < STEPS && in.left; s++)
		step(&f, &in, data[0]);
	fz_close(&f);
	return 0;
}
