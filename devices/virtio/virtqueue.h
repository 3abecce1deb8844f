/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Split virtqueues (virtio 1.2 § 2.7), device side. The rings live in guest
 * memory, which the guest may change at any moment: every index, address,
 * length and chain read from it is checked here, and a malformed ring makes
 * vq_pop() fail rather than touch memory outside the guest or loop. The
 * device then sets DEVICE_NEEDS_RESET (virtio_dev.c).
 *
 * A queue is used by one thread at a time (the device loop, or the vCPU
 * thread that configures it while the device is not running).
 */
#ifndef PHY_DEVICES_VIRTIO_VIRTQUEUE_H
#define PHY_DEVICES_VIRTIO_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "common/guest_mem.h"

#define VQ_MAX_SIZE 32768 /* the split ring's limit */

struct vring_desc;
struct vring_avail;
struct vring_used;

struct virtqueue {
	/* Set by the driver through the transport while !ready. */
	uint16_t size;      /* power of two, <= max_size */
	uint16_t max_size;  /* what the device offers */
	uint16_t msix_vector;
	bool ready;
	uint64_t desc_gpa, avail_gpa, used_gpa;

	/* Negotiated before the queue is enabled. */
	bool event_idx;
	bool indirect;

	/* Runtime state, valid while ready. */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t last_avail; /* next avail entry to take */
	uint16_t used_idx;   /* shadow of used->idx */
	uint16_t published_used; /* what used->idx says */
	uint16_t signalled_used; /* used_idx when the guest was last told */
	bool signalled_valid;
	const char *error; /* why the ring was found malformed, or NULL */
};

/* One request taken from the ring: its readable (driver-to-device) buffers,
 * then its writable ones, as host iovecs into guest RAM. */
struct vq_chain {
	uint16_t head;
	uint16_t nr_out, nr_in;
	uint32_t out_len, in_len;
	struct iovec *iov; /* nr_out + nr_in entries used */
	uint16_t max_iov;  /* capacity of iov, set by the caller */
};

/* Resets to the unconfigured state (size = max_size, vector NO_VECTOR). */
void vq_reset(struct virtqueue *vq, uint16_t max_size);

/*
 * Validates the driver's configuration and maps the rings: size a power of
 * two up to max_size, each ring aligned and wholly inside guest RAM. Returns
 * 0, or -1 with vq->error set.
 */
int vq_enable(struct virtqueue *vq, const struct guest_mem *mem);

/*
 * Takes the next available chain. Returns 1 with *chain filled, 0 when the
 * ring is empty, -1 when the ring is malformed (vq->error says why; the
 * queue must not be used again until reset).
 */
int vq_pop(struct virtqueue *vq, const struct guest_mem *mem,
	   struct vq_chain *chain);

/* Puts back the chain vq_pop() returned last (device out of resources). */
void vq_unpop(struct virtqueue *vq);

/* Returns a chain to the driver with `len` bytes written to its writable
 * buffers. Completions may come in any order. */
void vq_push(struct virtqueue *vq, uint16_t head, uint32_t len);

/*
 * The same, for a device that completes many buffers in a row: the
 * element goes on the ring at once, the used index only once `batch` wait
 * unpublished (or at vq_publish_used(), which the device must call before
 * it stops working the queue; vq_should_notify() does too). A driver
 * polling the used ring reads its index all the time, so each index write
 * takes the cache line back from the driver's CPU: once a frame, that cost
 * the transmit path ~20% of its throughput (docs/performance.md).
 */
void vq_push_batch(struct virtqueue *vq, uint16_t head, uint32_t len,
		   uint16_t batch);
void vq_publish_used(struct virtqueue *vq);

/*
 * Whether the driver wants an interrupt for what was pushed since the last
 * one: the used_event index with EVENT_IDX, else VRING_AVAIL_F_NO_INTERRUPT.
 * A true result marks the guest as told.
 */
bool vq_should_notify(struct virtqueue *vq);

/*
 * Stops (false) or resumes (true) notifications from the driver while the
 * device works through the ring. Resuming returns whether more buffers
 * arrived meanwhile: the caller must then poll again, or it could sleep
 * with work pending.
 */
bool vq_set_notify(struct virtqueue *vq, bool enable);

/*
 * With EVENT_IDX: asks the driver to notify only once it has made n more
 * buffers available (n >= 1), for a device that also polls the ring.
 * Returns whether n or more are available already (take them now).
 */
bool vq_notify_after(struct virtqueue *vq, uint16_t n);

/*
 * Asks for a notification when the driver next makes a buffer available,
 * however many it made available before: for a device that stopped taking
 * buffers until the driver acts (with EVENT_IDX, avail_event at the
 * driver's avail->idx; else notifications on). Returns whether the driver
 * made one available meanwhile, which it may not notify: act as if it had.
 */
bool vq_notify_next(struct virtqueue *vq);

/*
 * Asks the driver not to notify what it adds from now on, with EVENT_IDX
 * too (avail_event just behind last_avail), for a device that watches the
 * ring itself for a while (vq_has_avail); vq_set_notify(vq, true) turns
 * notifications back on.
 */
void vq_notify_off(struct virtqueue *vq);
/* Whether the driver made a buffer available that the device has not
 * taken. */
bool vq_has_avail(const struct virtqueue *vq);

/* Copies n bytes at offset off from an iovec array; returns bytes copied. */
size_t iov_to_buf(const struct iovec *iov, unsigned nr, size_t off,
		  void *buf, size_t n);
size_t iov_from_buf(const struct iovec *iov, unsigned nr, size_t off,
		    const void *buf, size_t n);

#endif
