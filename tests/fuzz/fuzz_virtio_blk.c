/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: hostile guest RAM under a virtio-blk device. The input
 * supplies the descriptor tables, avail rings, indirect tables, request
 * headers and data (see fuzz_virtio_blk.h); the simulated driver only
 * negotiates, places the rings and kicks. The device must serve or refuse
 * whatever it finds without touching memory outside guest RAM (ASan
 * watches both RAM regions' edges), crashing, hanging or leaking
 * requests: after every input it must be idle and resettable.
 *
 * The images are memfds: no disk latency, and tmpfs's lack of ZERO_RANGE
 * exercises the write-zeroes fallback.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>

#include "devices/virtio/virtio_blk.h"
#include "fuzz_virtio_blk.h"
#include "virtio_sim.h"

struct fz_disk {
	int fd;
	struct disk_image img;
	struct virtio_blk *blk;
};

struct fz {
	struct virtio_sim *sim;
	struct fz_disk disk[2]; /* read-write, read-only */
};

static bool blk_busy(void *opaque)
{
	return virtio_blk_inflight(opaque) > 0;
}

static void die(const char *what)
{
	fprintf(stderr, "fuzz_virtio_blk: %s\n", what);
	abort();
}

static void disk_init(struct fz *f, struct fz_disk *d, bool ro)
{
	d->fd = memfd_create("fuzz-disk", MFD_CLOEXEC);
	if (d->fd < 0 || ftruncate(d->fd, FZ_DISK_BYTES))
		die("memfd");
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", d->fd);
	struct disk_image_params img = {.path = path, .readonly = ro};
	struct virtio_blk_params blk = {.num_queues = 2,
					.queue_size = FZ_MAX_QSIZE,
					.id = "fuzz"};
	struct phy_error err;
	if (disk_image_open(&d->img, &img, &err) ||
	    virtio_blk_create(&d->blk, &d->img, &blk,
			      ro ? "fuzz-ro" : "fuzz-rw", &f->sim->mem,
			      f->sim->loop, &err))
		die(err.message);
}

static struct fz *fz_get(void)
{
	static struct fz f;
	if (!f.sim) {
		f.sim = sim_create(FZ_RAM, FZ_HIGH_RAM);
		if (!f.sim)
			die("no simulator (io_uring?)");
		disk_init(&f, &f.disk[0], false);
		disk_init(&f, &f.disk[1], true);
	}
	return &f;
}

static uint64_t driver_features(const struct virtio_dev *dev, uint8_t k0)
{
	uint64_t f =
		dev->host_features & ~((1ull << VIRTIO_RING_F_EVENT_IDX) |
				       (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
				       (1ull << VIRTIO_BLK_F_MQ));
	if (k0 & FZ_K0_EVENT_IDX)
		f |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	if (k0 & FZ_K0_INDIRECT)
		f |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	if (k0 & FZ_K0_TWO_QUEUES)
		f |= 1ull << VIRTIO_BLK_F_MQ;
	return f;
}

/* Negotiates and enables the queues on rings already in RAM. */
static void start(struct virtio_sim *sim, uint8_t k0, uint16_t qsize)
{
	if (sim_negotiate(sim, driver_features(sim->dev, k0)))
		die("features refused");
	sim_queue_setup_at(sim, 0, qsize, FZ_Q0_DESC, FZ_Q0_AVAIL, FZ_Q0_USED);
	if (k0 & FZ_K0_TWO_QUEUES)
		sim_queue_setup_at(sim, 1, qsize, FZ_Q1_DESC, FZ_Q1_AVAIL,
				   FZ_Q1_USED);
	sim_driver_ok(sim);
}

static void load_ram(struct virtio_sim *sim, const uint8_t *data, size_t size)
{
	memset(sim->low, 0, FZ_RAM);
	memset(sim->high, 0, FZ_HIGH_RAM);
	size_t n = size < FZ_RAM ? size : FZ_RAM;
	memcpy(sim->low, data, n);
	if (size > FZ_RAM)
		memcpy(sim->high, data + FZ_RAM,
		       size - FZ_RAM < FZ_HIGH_RAM ? size - FZ_RAM
						   : FZ_HIGH_RAM);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < FZ_KNOBS)
		return 0;
	struct fz *f = fz_get();
	struct virtio_sim *sim = f->sim;
	const uint8_t k0 = data[0], k2 = data[2], k3 = data[3];
	unsigned log2 = data[1] & 7;
	uint16_t qsize = (uint16_t)(1u << (log2 < 1 ? 1 : log2 > 6 ? 6 : log2));
	struct fz_disk *d = &f->disk[k0 & FZ_K0_READONLY];
	struct virtio_dev *dev = virtio_blk_dev(d->blk);

	/* Same image contents every run: reads stay reproducible. */
	if (ftruncate(d->fd, 0) || ftruncate(d->fd, FZ_DISK_BYTES))
		die("ftruncate");
	sim_attach(sim, dev, blk_busy, d->blk);
	load_ram(sim, data + FZ_KNOBS, size - FZ_KNOBS);
	start(sim, k0, qsize);
	for (unsigned r = 0; r < FZ_K0_ROUNDS(k0); r++) {
		if (r && (k0 & FZ_K0_RESET)) {
			sim_set_status(sim, 0);
			start(sim, k0, qsize);
		}
		if (r) {
			uint16_t *idx = &sim->q[0].avail->idx;
			__atomic_store_n(idx, (uint16_t)(*idx + k2),
					 __ATOMIC_RELEASE);
		}
		sim_kick(sim, 0);
		if (k0 & FZ_K0_TWO_QUEUES)
			sim_kick(sim, 1);
		if (k3 & 1)
			dev->ops->queue_notify(dev, 5);
		sim_run(sim);
	}
	/* Nothing may be left in flight, and a reset must bring the
	 * device back to a clean state. */
	if (virtio_blk_inflight(d->blk))
		die("requests left in flight");
	sim_set_status(sim, 0);
	if (sim_status(sim) != 0)
		die("reset failed");
	return 0;
}
