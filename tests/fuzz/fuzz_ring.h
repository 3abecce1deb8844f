/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A hostile driver's ring steps for the fuzz targets of two-queue devices
 * (virtio-input, virtio-console), read from the fuzz input (fuzz_prog.h):
 * chains of any address, length and direction, direct or indirect, raw
 * descriptors, available entries and index jumps, kicks (also of queues
 * the device does not have), loop runs, used entries taken back.
 */
#ifndef PHY_TESTS_FUZZ_RING_H
#define PHY_TESTS_FUZZ_RING_H

#include <stdbool.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "fuzz_prog.h"
#include "virtio_sim.h"

/* Queue q's driver-side ring, when the simulator has set one up. */
static inline struct sim_queue *fz_ring(struct virtio_sim *sim, unsigned q)
{
	return sim->q[q].desc ? &sim->q[q] : NULL;
}

/* The features a target's start step asks for: bit 0 of k EVENT_IDX,
 * bit 1 INDIRECT_DESC. */
static inline uint64_t fz_features(uint8_t k)
{
	uint64_t f = 1ull << VIRTIO_F_VERSION_1;
	if (k & 1)
		f |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	if (k & 2)
		f |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	return f;
}

/* Resets nothing: negotiates fz_features(k), sets up queues 0..nq-1 of
 * `size` entries, each unless bit 2 + q of k says to leave it off (a
 * driver may), and sets DRIVER_OK. -1 when the device refused the
 * features. */
static inline int fz_start(struct virtio_sim *sim, uint8_t k, unsigned nq,
			   uint16_t size)
{
	if (sim_negotiate(sim, fz_features(k)))
		return -1;
	for (unsigned q = 0; q < nq; q++)
		if (!(k & 4u << q))
			sim_queue_setup(sim, q, size);
	sim_driver_ok(sim);
	return 0;
}

/* Writes the n descriptors d at `head` of sq (head < sq->size), direct
 * or, with `indirect`, as a table at `at` (not in RAM: nothing), and
 * makes the head available. */
static inline void fz_place_chain(struct virtio_sim *sim, struct sim_queue *sq,
				  uint16_t head, struct vring_desc *d,
				  unsigned n, bool indirect, uint64_t at)
{
	if (indirect) {
		struct vring_desc *t = sim_ptr(sim, at, sizeof(d[0]) * n);
		if (!t)
			return;
		for (unsigned i = 0; i < n; i++)
			d[i].next = (uint16_t)(i + 1);
		memcpy(t, d, sizeof(d[0]) * n);
		sq->desc[head] = (struct vring_desc){
			at, (uint32_t)sizeof(d[0]) * n, VRING_DESC_F_INDIRECT, 0};
	} else {
		for (unsigned i = 0; i < n; i++) {
			d[i].next = (uint16_t)((head + i + 1) % sq->size);
			sq->desc[(head + i) % sq->size] = d[i];
		}
	}
	sim_publish(sim, sq->index, head);
}

/* A chain of 1..4 buffers written at a head the input names (not from
 * a free list: raw writes may have broken any), direct or through an
 * indirect table anywhere, then made available. */
static inline void fz_add_chain(struct virtio_sim *sim, struct prog *g,
				uint64_t ram)
{
	uint8_t k = prog_byte(g);
	struct sim_queue *sq = fz_ring(sim, (k >> 2) & 1);
	uint16_t head = prog_byte(g), n = (k & 3) + 1;
	struct vring_desc d[4];
	for (unsigned i = 0; i < n; i++) {
		d[i].addr = prog_address(g, ram);
		d[i].len = prog_byte(g);
		d[i].flags = (prog_byte(g) & 1 ? VRING_DESC_F_WRITE : 0) |
			     (i + 1 < n ? VRING_DESC_F_NEXT : 0);
	}
	uint64_t at = k & 8 ? prog_address(g, ram) : 0;
	if (sq)
		fz_place_chain(sim, sq, head % sq->size, d, n, k & 8, at);
}

static inline void fz_raw_desc(struct virtio_sim *sim, struct prog *g,
			       uint64_t ram)
{
	uint8_t k = prog_byte(g);
	struct vring_desc *d = sim_desc(sim, k & 1, (uint16_t)(k >> 1));
	uint64_t addr = prog_address(g, ram);
	uint32_t len = prog_byte(g);
	uint16_t flags = prog_byte(g) & 7, next = prog_byte(g);
	if (d && fz_ring(sim, k & 1))
		*d = (struct vring_desc){addr, len, flags, next};
}

/* The driver takes back what the device used. (Nothing is checked in
 * the entries: buffers may overlap the rings, and what the device
 * writes then lands in them.) */
static inline void fz_take_used(struct virtio_sim *sim)
{
	uint16_t id;
	uint32_t len;
	for (unsigned q = 0; q < 2; q++)
		while (fz_ring(sim, q) && sim_get_used(sim, q, &id, &len)) {
		}
}

/* The ring steps, numbered as the targets' op % 10 (0, 1 and 7 are
 * each target's own): false for a number that is not one of them. */
static inline bool fz_ring_step(struct virtio_sim *sim, unsigned op,
				struct prog *g, uint64_t ram)
{
	switch (op) {
	case 2:
		fz_add_chain(sim, g, ram);
		return true;
	case 3:
		fz_raw_desc(sim, g, ram);
		return true;
	case 4: {
		struct sim_queue *sq = fz_ring(sim, prog_byte(g) & 1);
		uint16_t head = prog_byte(g);
		if (sq)
			sim_publish(sim, sq->index, head);
		return true;
	}
	case 5: {
		uint8_t q = prog_byte(g);
		if (q & 0x80)
			sim->dev->ops->queue_notify(sim->dev, q & 0x7f);
		else
			sim_kick(sim, q & 1);
		return true;
	}
	case 6:
		sim_run(sim);
		return true;
	case 8:
		fz_take_used(sim);
		return true;
	case 9: {
		struct sim_queue *sq = fz_ring(sim, prog_byte(g) & 1);
		uint8_t by = prog_byte(g);
		if (sq)
			__atomic_store_n(&sq->avail->idx,
					 (uint16_t)(sq->avail->idx + by),
					 __ATOMIC_RELEASE);
		return true;
	}
	}
	return false;
}

#endif
