/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-balloon (virtio 1.2 § 5.5): the host asks the guest for memory
 * back (num_pages in the configuration space, 4 KiB pages) and the guest
 * gives it page by page.
 *
 * Queues, in the order the driver finds them: inflateq (0) and deflateq
 * (1), then statsq if STATS_VQ was negotiated, then reporting_vq if
 * PAGE_REPORTING was: the device offers all it may have and gives each
 * index its role when the driver starts it.
 * - inflateq: arrays of le32 page frame numbers the guest gave up; the
 *   whole array is checked against guest RAM first (one page outside is
 *   a driver error and nothing is discarded), then each run of pages goes
 *   back to the host: MADV_DONTNEED for private memory, a hole punched
 *   in the memfd (FALLOC_FL_PUNCH_HOLE) for shared memory, where
 *   MADV_DONTNEED would only drop the mapping.
 * - deflateq: pages the guest takes back; nothing to do (they fault in,
 *   zeroed, at the next touch).
 * - statsq: the guest's statistics (tag, value pairs); the device keeps
 *   the buffer and returns it when someone asks for fresh ones.
 * - reporting_vq: free page ranges (scatter lists of page-aligned
 *   buffers) the guest reports; discarded as inflated pages are, then
 *   returned.
 *
 * Threads: the queues run on the device loop under dev->lock; the target
 * and the statistics are set and read from any thread (dev->lock); a
 * stats refresh is handed to the loop through an eventfd. Nothing is in
 * flight on the ring, so a reset has nothing to wait for.
 */
#ifndef PHY_DEVICES_VIRTIO_VIRTIO_BALLOON_H
#define PHY_DEVICES_VIRTIO_VIRTIO_BALLOON_H

#include <stdbool.h>
#include <stdint.h>

#include <phyllome/vmm.h>

#include "common/guest_mem.h"
#include "devices/virtio/virtio_dev.h"

struct io_loop;
struct virtio_balloon;

#define VIRTIO_BALLOON_PAGE 4096u
#define VIRTIO_BALLOON_QUEUE_SIZE 128
#define VIRTIO_BALLOON_NR_STATS 16 /* tags 0..15 kept (PHY_BALLOON_GUEST_STATS) */

struct virtio_balloon_params {
	bool deflate_on_oom;
	bool free_page_reporting;
};

int virtio_balloon_create(struct virtio_balloon **out,
			  const struct virtio_balloon_params *p, const char *name,
			  struct guest_mem *mem, struct io_loop *loop,
			  struct phy_error *err);

struct virtio_dev *virtio_balloon_dev(struct virtio_balloon *b);

/* Asks the guest to hold `bytes` (rounded down to pages, at most its
 * RAM: PHY_E_INVALID above). Any thread. */
int virtio_balloon_set_target(struct virtio_balloon *b, uint64_t bytes,
			      struct phy_error *err);

struct virtio_balloon_stats {
	uint64_t target_bytes;   /* what was asked */
	uint64_t actual_bytes;   /* what the driver says it holds */
	uint64_t inflated_pages; /* pages discarded from inflateq */
	uint64_t deflated_pages;
	uint64_t reported_bytes; /* discarded from reporting_vq */
	uint64_t discard_errors; /* madvise/fallocate that failed */
	/* The guest's last statistics, by tag (VIRTIO_BALLOON_S_*);
	 * guest_stats_valid bit i: tag i was reported. */
	uint64_t guest_stats[VIRTIO_BALLOON_NR_STATS];
	uint32_t guest_stats_valid;
};
/* Any thread; also asks the guest for fresh statistics. */
void virtio_balloon_stats(struct virtio_balloon *b, struct virtio_balloon_stats *st);

/* With the loop stopped (or never started). NULL is allowed. */
void virtio_balloon_destroy(struct virtio_balloon *b);

#endif
