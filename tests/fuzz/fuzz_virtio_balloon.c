/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: a hostile driver of a virtio-balloon device on guest
 * RAM mapped as the VMM maps it. The input is a program of steps: page
 * frame arrays of any numbers (inside, at the edge of and far outside
 * RAM) on the inflate and deflate queues, chains of any address, length
 * and direction on every queue (reporting ranges, stats buffers), the
 * features the driver takes (which decide the queues' roles),
 * configuration writes, targets from the host (also above RAM),
 * statistics asked for, resets and loop passes. The device must neither
 * crash (ASan, UBSan) nor hang, and a reset must always return.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <linux/virtio_balloon.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "common/io_loop.h"
#include "devices/virtio/virtio_balloon.h"
#include "fuzz_prog.h"
#include "virtio_sim.h"

#define FZ_RAM (4u << 20)
#define FZ_QSIZE 16
#define FZ_PAGES (FZ_RAM / 4096)

struct fz {
	struct virtio_sim *sim;
	struct virtio_balloon *b;
	uint64_t data; /* where page arrays and buffers go */
	unsigned nr_queues;
};

static void die(const char *what)
{
	fprintf(stderr, "fuzz_virtio_balloon: %s\n", what);
	abort();
}

static void start(struct fz *f, uint8_t k)
{
	uint64_t feat = 1ull << VIRTIO_F_VERSION_1;
	if (k & 1)
		feat |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	if (k & 2)
		feat |= 1ull << VIRTIO_BALLOON_F_STATS_VQ;
	if (k & 4)
		feat |= 1ull << VIRTIO_BALLOON_F_REPORTING;
	if (sim_negotiate(f->sim, feat))
		die("features refused");
	for (unsigned q = 0; q < f->nr_queues; q++)
		sim_queue_setup(f->sim, q, FZ_QSIZE);
	sim_driver_ok(f->sim);
}

static struct fz *fz_get(void)
{
	static struct fz f;
	if (f.sim)
		return &f;
	f.sim = sim_create_vm_ram(FZ_RAM, 0);
	if (!f.sim)
		die("no simulator (io_uring?)");
	struct virtio_balloon_params p = {.deflate_on_oom = true, .free_page_reporting = true};
	struct phy_error err;
	if (virtio_balloon_create(&f.b, &p, "fuzz-balloon", &f.sim->mem, f.sim->loop, &err))
		die(err.message);
	sim_attach(f.sim, virtio_balloon_dev(f.b), NULL, NULL);
	f.nr_queues = virtio_balloon_dev(f.b)->nr_queues;
	start(&f, 7);
	f.data = sim_alloc(f.sim, 64 * 1024, 4096);
	return &f;
}

static void passes(struct fz *f, int n)
{
	for (int i = 0; i < n; i++)
		io_loop_run_once(f->sim->loop, false);
}

static uint32_t pfn(struct prog *g)
{
	uint8_t k = prog_byte(g);
	switch (k & 3) {
	case 0: return prog_word(g) % FZ_PAGES;
	case 1: return FZ_PAGES - 1 + (k >> 2) % 3; /* the last page and past it */
	case 2: return (uint32_t)prog_word(g) << 16 | prog_word(g);
	default: return 0x100000 + prog_byte(g); /* 4 GiB up: no RAM there */
	}
}

static void pages(struct fz *f, struct prog *g)
{
	uint8_t k = prog_byte(g);
	unsigned n = 1 + prog_byte(g) % 64;
	uint32_t *a = sim_ptr(f->sim, f->data + (k & 0xf) * 256, n * 4);
	if (!a)
		return;
	for (unsigned i = 0; i < n; i++)
		a[i] = htole32(k & 0x10 && i ? le32toh(a[i - 1]) + 1 : pfn(g));
	struct sim_buf b = {f->data + (k & 0xf) * 256, n * 4, (k & 0x20) != 0};
	unsigned q = (k >> 6) & 1;
	if (sim_add(f->sim, q, &b, 1, false) >= 0)
		sim_kick(f->sim, q);
}

static void raw_chain(struct fz *f, struct prog *g)
{
	uint8_t k = prog_byte(g);
	struct sim_buf b[3];
	unsigned n = 1 + k % 3;
	for (unsigned i = 0; i < n; i++) {
		b[i].gpa = prog_byte(g) & 1 ? (uint64_t)(prog_word(g) % (FZ_PAGES + 4)) * 4096
					    : prog_address(g, FZ_RAM);
		b[i].len = prog_byte(g) & 1 ? 4096u << (prog_byte(g) % 6) : prog_word(g);
		b[i].writable = prog_byte(g) & 1;
	}
	unsigned q = (k >> 3) % f->nr_queues;
	if (sim_add(f->sim, q, b, n, k & 0x80) >= 0)
		sim_kick(f->sim, q);
}

static void take_used(struct fz *f)
{
	uint16_t id;
	uint32_t len;
	for (unsigned q = 0; q < f->nr_queues; q++)
		for (int i = 0; i < 4 * FZ_QSIZE && sim_get_used(f->sim, q, &id, &len); i++) {
		}
}

static void step(struct fz *f, uint8_t op, struct prog *g)
{
	struct virtio_dev *dev = virtio_balloon_dev(f->b);
	struct phy_error err;
	struct virtio_balloon_stats st;
	switch (op % 10) {
	case 0: case 1: case 2: pages(f, g); break;
	case 3: case 4: raw_chain(f, g); break;
	case 5: take_used(f); break;
	case 6: {
		uint32_t v = (uint32_t)prog_word(g) << 16 | prog_word(g);
		uint8_t off = prog_byte(g) % 12, len = 1 + prog_byte(g) % 4;
		pthread_mutex_lock(&dev->lock);
		if (off + len <= dev->config_size && dev->ops->config_write)
			dev->ops->config_write(dev, off, &v, len);
		pthread_mutex_unlock(&dev->lock);
		break;
	}
	case 7:
		virtio_balloon_set_target(f->b, (uint64_t)prog_word(g) * 4096 * (prog_byte(g) & 3), &err);
		break;
	case 8: virtio_balloon_stats(f->b, &st); break;
	default:
		if (op & 0x80) {
			if (!sim_reset_from_vcpu(f->sim, 10000))
				die("the reset did not return");
			start(f, prog_byte(g));
		} else {
			passes(f, 1 + (op >> 5));
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz *f = fz_get();
	struct prog g = {data, size};
	while (g.n) {
		step(f, prog_byte(&g), &g);
		passes(f, 1);
	}
	if (!sim_reset_from_vcpu(f->sim, 10000))
		die("the reset did not return");
	start(f, 7);
	return 0;
}
