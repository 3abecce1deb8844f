/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: a hostile driver of the virtio console. The input is
 * a program of driver and host steps, one opcode byte and its arguments
 * each: the ring steps of fuzz_ring.h on both queues (buffers of any
 * address, length and direction, direct or indirect, raw descriptors,
 * index jumps, kicks, used entries taken back), resets with other
 * features, and input sent by the host. The device must neither crash
 * nor touch memory outside guest RAM (ASan watches both regions' edges),
 * and its counts must add up: every byte of input it took is delivered,
 * pending (never more than its bound) or forgotten by a reset; every
 * byte it counts as transmitted reached the output function.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "devices/virtio/virtio_console.h"
#include "fuzz_prog.h"
#include "fuzz_ring.h"
#include "virtio_sim.h"

#define FZ_RAM 0x40000 /* rings and indirect tables, then buffers */
#define FZ_HIGH_RAM 0x1000
#define FZ_QSIZE 16

struct fz {
	struct virtio_sim *sim;
	struct virtio_console *con;
	uint64_t taken;  /* input bytes the device took */
	uint64_t output; /* bytes the output function got */
};

static void die(const char *what)
{
	fprintf(stderr, "fuzz_virtio_console: %s\n", what);
	abort();
}

static bool busy(void *opaque)
{
	return virtio_console_busy(opaque);
}

static void on_output(void *opaque, const uint8_t *buf, size_t len)
{
	struct fz *f = opaque;
	if (!len || !buf)
		die("empty output");
	f->output += len;
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
	if (virtio_console_create(&f.con, "fuzz-console", &f.sim->mem, f.sim->loop,
				  on_output, &f, &err))
		die(err.message);
	sim_attach(f.sim, virtio_console_dev(f.con), busy, f.con);
	return &f;
}

static void start(struct virtio_sim *sim, uint8_t k)
{
	if (fz_start(sim, k, 2, FZ_QSIZE))
		die("features refused");
}

static void send(struct fz *f, struct prog *g)
{
	uint8_t buf[6000];
	size_t n = prog_word(g) % sizeof(buf);
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)i;
	size_t took = virtio_console_input(f->con, buf, n);
	if (took > n)
		die("took more than was sent");
	f->taken += took;
}

static void check_counts(struct fz *f)
{
	struct virtio_console_stats st;
	virtio_console_stats(f->con, &st);
	if (st.pending > VIRTIO_CONSOLE_PENDING_MAX)
		die("more pending than the bound");
	if (st.rx_bytes + st.pending + st.discarded != f->taken)
		die("input lost or made up");
	if (st.tx_bytes != f->output)
		die("output counted but not handed over, or the other way");
}

static void step(struct fz *f, uint8_t op, struct prog *g)
{
	struct virtio_sim *sim = f->sim;
	switch (op % 10) {
	case 0:
	case 1:
		send(f, g);
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
	if (size < 1)
		return 0;
	struct fz *f = fz_get();
	struct virtio_sim *sim = f->sim;
	struct prog g = {data, size};

	start(sim, prog_byte(&g));
	/* Past the rings, the same RAM every run. */
	memset(sim->low + sim->alloc_next, 0, FZ_RAM - sim->alloc_next);
	memset(sim->high, 0, FZ_HIGH_RAM);
	for (unsigned steps = 0; g.n && steps < 256; steps++) {
		step(f, prog_byte(&g), &g);
		check_counts(f);
	}
	sim_run(sim);
	fz_take_used(sim);
	check_counts(f);
	/* A reset forgets what waits for buffers. */
	sim_set_status(sim, 0);
	struct virtio_console_stats st;
	virtio_console_stats(f->con, &st);
	if (st.pending || sim_status(sim))
		die("reset left input or status");
	check_counts(f);
	return 0;
}
