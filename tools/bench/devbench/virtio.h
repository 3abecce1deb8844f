/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devbench's virtio 1.x over PCI: the function found through ECAM, its
 * BARs assigned where no firmware did, the capabilities walked, features
 * negotiated, split queues set up for polling (no MSI-X vector, no
 * interrupt asked for), notifications only where the device asks.
 */
#ifndef DEVBENCH_VIRTIO_H
#define DEVBENCH_VIRTIO_H

#include <stdint.h>

#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_RING_EVENT_IDX 29
#define DESC_F_NEXT 1
#define DESC_F_WRITE 2
#define QSIZE_MAX 256
#define ECAM 0xe0000000ull
#define DEV_ACK 1
#define DEV_DRIVER 2
#define DEV_DRIVER_OK 4
#define DEV_FEATURES_OK 8
#define DEV_NEEDS_RESET 0x40

/* virtio_pci_common_cfg */
#define CC_DFSELECT 0x00
#define CC_DF 0x04
#define CC_GFSELECT 0x08
#define CC_GF 0x0c
#define CC_STATUS 0x14
#define CC_Q_SELECT 0x16
#define CC_Q_SIZE 0x18
#define CC_Q_MSIX 0x1a
#define CC_Q_ENABLE 0x1c
#define CC_Q_NOFF 0x1e
#define CC_Q_DESC 0x20
#define CC_Q_AVAIL 0x28
#define CC_Q_USED 0x30

#define VIRTIO_QUEUES_MAX 3

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct vring_avail {
	uint16_t flags, idx;
	uint16_t ring[QSIZE_MAX + 1]; /* + used_event */
};

struct vring_used {
	uint16_t flags, idx;
	struct {
		uint32_t id, len;
	} ring[QSIZE_MAX];
	uint16_t avail_event;
};

struct vring_mem {
	struct vring_desc desc[QSIZE_MAX] __attribute__((aligned(4096)));
	struct vring_avail avail __attribute__((aligned(4096)));
	struct vring_used used __attribute__((aligned(4096)));
};

struct virtq {
	struct vring_mem *ring;
	uint16_t size, avail_idx, last_used;
	int event_idx;
	uint64_t notify; /* the queue's notify address */
	uint16_t index;
	uint64_t kicks;
};

struct virtio_dev {
	unsigned slot;
	uint64_t bar[6];
	uint64_t common, notify, device;
	uint32_t notify_mult;
	uint64_t features; /* negotiated */
	struct virtq q[VIRTIO_QUEUES_MAX];
};

/* Finds device ID `id` (0x1040 + virtio type) on bus 0, negotiates
 * VERSION_1 + EVENT_IDX (if offered) + the `want` bits the device has, and
 * sets up `nq` queues on `rings`; fails (powering off) on any error. */
void virtio_init(struct virtio_dev *d, uint16_t id, uint64_t want, unsigned nq,
		 struct vring_mem *rings);
/* Fails if the device has set DEVICE_NEEDS_RESET. */
void virtio_check(struct virtio_dev *d, const char *what);

/* Adds descriptor chain `head` to the available ring (not yet visible). */
static inline void vq_add(struct virtq *q, uint16_t head)
{
	q->ring->avail.ring[q->avail_idx % q->size] = head;
	q->avail_idx++;
}

/* Makes what was added visible and notifies the device if it asked. */
void vq_publish(struct virtq *q);

/* The device's used index (volatile read). */
static inline uint16_t vq_used_idx(const struct virtq *q)
{
	return *(volatile const uint16_t *)&q->ring->used.idx;
}

/* Spins until the device has used something; its used index. Fails
 * (what) if nothing comes for ~2^34 polls. */
uint16_t vq_wait_used(struct virtq *q, const char *what);

/* The next used element's id (and length in *len), advancing last_used. */
static inline uint32_t vq_pop_used(struct virtq *q, uint32_t *len)
{
	uint16_t i = q->last_used++ % q->size;
	if (len)
		*len = q->ring->used.ring[i].len;
	return q->ring->used.ring[i].id;
}

/* After consuming used entries: keep used_event behind, so that no
 * interrupt is asked for (EVENT_IDX). */
static inline void vq_consumed(struct virtq *q)
{
	if (q->event_idx)
		*(volatile uint16_t *)&q->ring->avail.ring[q->size] =
			(uint16_t)(q->last_used - 1);
}

#endif
