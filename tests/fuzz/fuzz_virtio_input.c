/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: a hostile driver of a virtio-input device. The input
 * is a program of driver and host steps, one opcode byte and its
 * arguments each: configuration writes anywhere (select, subsel and the
 * rest), buffers of any address, length and direction on either queue
 * (direct or indirect), raw descriptors and available entries, index
 * jumps, kicks (also of queues the device does not have), resets, used
 * entries taken back, and events sent by the host. The device must
 * neither crash nor touch memory outside guest RAM (ASan watches both
 * regions' edges), and its counters must add up: every event sent is
 * delivered, dropped, discarded or still pending, never more than the
 * queue's bound, and none is pending after a reset.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "devices/virtio/virtio_input.h"
#include "fuzz_prog.h"
#include "fuzz_ring.h"
#include "virtio_sim.h"

#define FZ_RAM 0x40000 /* rings and indirect tables, then buffers */
#define FZ_HIGH_RAM 0x1000
#define FZ_QSIZE 16

struct fz {
	struct virtio_sim *sim;
	struct virtio_input *in[2]; /* keyboard, tablet */
	uint64_t sent[2];
};

static void die(const char *what)
{
	fprintf(stderr, "fuzz_virtio_input: %s\n", what);
	abort();
}

static bool busy(void *opaque)
{
	return virtio_input_busy(opaque);
}

static struct fz *fz_get(void)
{
	static struct fz f;
	if (f.sim)
		return &f;
	f.sim = sim_create(FZ_RAM, FZ_HIGH_RAM);
	if (!f.sim)
		die("no simulator (io_uring?)");
	struct phy_error err;
	for (int k = 0; k < 2; k++)
		if (virtio_input_create(&f.in[k],
					k ? VIRTIO_INPUT_TABLET
					  : VIRTIO_INPUT_KEYBOARD,
					k ? "fuzz-tablet" : "fuzz-kbd", NULL,
					&f.sim->mem, f.sim->loop, &err))
			die(err.message);
	return &f;
}

static void start(struct virtio_sim *sim, uint8_t k)
{
	if (fz_start(sim, k, 2, FZ_QSIZE))
		die("features refused");
}

static void config_write(struct virtio_dev *dev, struct prog *g)
{
	uint8_t off = prog_byte(g), len = (uint8_t)((prog_byte(g) & 3) + 1), data[4];
	for (int i = 0; i < 4; i++)
		data[i] = prog_byte(g);
	pthread_mutex_lock(&dev->lock);
	/* As the transport checks it. */
	if (off + len <= dev->config_size)
		dev->ops->config_write(dev, off, data, len);
	struct virtio_input_config c;
	virtio_dev_read_config(dev, 0, &c, sizeof(c));
	pthread_mutex_unlock(&dev->lock);
	if (c.size > sizeof(c.u))
		die("configuration size beyond the union");
}

static void send(struct fz *f, int k, struct prog *g)
{
	struct virtio_input_event ev[40];
	unsigned n = prog_byte(g) % 40;
	for (unsigned i = 0; i < n; i++) {
		uint8_t t = prog_byte(g);
		/* Mostly updates of one or two events and a SYN_REPORT. */
		ev[i] = t < 0x40 ? virtio_input_ev(0, 0, 0)
				 : virtio_input_ev(t & 0x1f, prog_word(g),
						   (int32_t)prog_word(g));
	}
	virtio_input_send(f->in[k], ev, n);
	f->sent[k] += n;
}

static void check_counts(struct fz *f, int k)
{
	struct virtio_input_stats st;
	virtio_input_stats(f->in[k], &st);
	if (st.pending > VIRTIO_INPUT_PENDING_MAX)
		die("more pending than the bound");
	if (st.delivered + st.dropped + st.discarded + st.pending != f->sent[k])
		die("events lost or made up");
}

static void step(struct fz *f, int k, uint8_t op, struct prog *g)
{
	struct virtio_sim *sim = f->sim;
	switch (op % 10) {
	case 0:
		config_write(sim->dev, g);
		break;
	case 1:
		send(f, k, g);
		break;
	case 7:
		sim_set_status(sim, 0);
		start(sim, prog_byte(g));
		break;
	default:
		fz_ring_step(sim, op % 10, g, FZ_RAM);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	struct fz *f = fz_get();
	struct virtio_sim *sim = f->sim;
	struct prog g = {data, size};
	int k = prog_byte(&g) & 1;

	sim_attach(sim, virtio_input_dev(f->in[k]), busy, f->in[k]);
	start(sim, prog_byte(&g));
	/* Past the rings, the same RAM every run. */
	memset(sim->low + sim->alloc_next, 0, FZ_RAM - sim->alloc_next);
	memset(sim->high, 0, FZ_HIGH_RAM);
	for (unsigned steps = 0; g.n && steps < 256; steps++) {
		step(f, k, prog_byte(&g), &g);
		check_counts(f, k);
	}
	sim_run(sim);
	fz_take_used(sim);
	check_counts(f, k);
	/* A reset forgets what waits for buffers. */
	sim_set_status(sim, 0);
	struct virtio_input_stats st;
	virtio_input_stats(f->in[k], &st);
	if (st.pending || sim_status(sim))
		die("reset left events or status");
	check_counts(f, k);
	return 0;
}
