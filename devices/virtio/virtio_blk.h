/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-blk (virtio 1.2 § 5.2) on a raw disk image, served by the device
 * loop: reads and writes go to io_uring as readv/writev straight into guest
 * memory, flushes as fsync, discard and write-zeroes as fallocate. Each
 * queue has one request slot per descriptor head, allocated up front, so
 * serving a request allocates nothing.
 *
 * Threads: queue notifications and completions run on the loop thread;
 * the transport calls the virtio_dev ops (status, features, config) on
 * vCPU threads with dev->lock held. A driver reset waits there until no
 * request is in flight, so the loop must be running (or be driven) while
 * the driver resets the device.
 */
#ifndef PHY_DEVICES_VIRTIO_VIRTIO_BLK_H
#define PHY_DEVICES_VIRTIO_VIRTIO_BLK_H

#include <phyllome/vmm.h>

#include "common/guest_mem.h"
#include "devices/block/disk_image.h"
#include "devices/virtio/virtio_dev.h"

struct io_loop;
struct virtio_blk;

/* Data segments per request the device accepts (config seg_max). A
 * chain may hold two more buffers: the request header and the status. */
#define VIRTIO_BLK_SEG_MAX 126

struct virtio_blk_params {
	unsigned num_queues; /* 1..64 */
	unsigned queue_size; /* a power of two, 2..VQ_MAX_SIZE */
	const char *id;      /* the serial number (up to 20 bytes); NULL: none */
};

/*
 * Creates the device on an open image: p->num_queues queues of up to
 * p->queue_size entries, the serial number p->id. `name` is copied
 * (for messages). img, mem and loop must outlive the device. Registers a
 * flush hook on the loop; call before the loop thread starts.
 */
int virtio_blk_create(struct virtio_blk **out, struct disk_image *img,
		      const struct virtio_blk_params *p, const char *name,
		      const struct guest_mem *mem, struct io_loop *loop,
		      struct phy_error *err);

/* The transport-independent device, for the transport to plug in. */
struct virtio_dev *virtio_blk_dev(struct virtio_blk *blk);

/* Requests submitted and not yet completed (tests, benchmarks). */
unsigned virtio_blk_inflight(struct virtio_blk *blk);

/*
 * Frees the device. No request may be in flight: stop the loop first
 * (io_loop_stop() waits for in-flight I/O), or drive it until
 * virtio_blk_inflight() is 0. Runs on the loop thread or with the loop
 * stopped, since it removes the loop's flush hook.
 */
void virtio_blk_destroy(struct virtio_blk *blk);

#endif
