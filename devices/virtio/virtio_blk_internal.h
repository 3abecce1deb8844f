/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What virtio_blk.c (the device: features, config, queues, reset) and
 * virtio_blk_req.c (one request: parse, submit, complete) share.
 * Everything here is guarded by dev.lock.
 */
#ifndef PHY_DEVICES_VIRTIO_VIRTIO_BLK_INTERNAL_H
#define PHY_DEVICES_VIRTIO_VIRTIO_BLK_INTERNAL_H

#include <linux/virtio_blk.h>

#include "devices/virtio/virtio_blk.h"
#include "common/io_loop.h"

#define BLK_SECTOR 512u
#define BLK_IDLE_POLL_NS 5000u

struct blk_queue;

/* One request, in the slot named by its descriptor head. */
struct blk_req {
	struct io_op op;
	struct blk_queue *bq;
	struct vq_chain chain;
	uint8_t *status;    /* the chain's last writable byte */
	struct iovec *data; /* inside chain.iov: the payload only */
	unsigned nr_data;
	uint64_t offset; /* bytes into the image of the next I/O */
	uint64_t len;	 /* bytes still to move, or the range length */
	uint64_t done;	 /* bytes moved so far */
	uint32_t type;	 /* VIRTIO_BLK_T_* */
	uint8_t step;	 /* discard / write zeroes: enum blk_fa_step */
	bool busy;
};

struct blk_queue {
	struct virtio_blk *blk;
	unsigned index;
	struct blk_req *reqs;	 /* queue_size slots, indexed by head */
	struct vq_chain scratch; /* vq_pop() target; its iov array is
				  * swapped with the slot's */
	unsigned inflight;	 /* this queue's share of blk->inflight */
	/* Watching the ring once the queue went idle (poll_idle): polls
	 * in a row that found nothing, and idle times to let pass before
	 * the next one. */
	uint8_t poll_misses;
	uint16_t poll_skip;
};

struct virtio_blk {
	struct virtio_dev dev;
	struct disk_image *img;
	struct io_loop *loop;
	const struct guest_mem *mem;
	struct virtqueue *vqs;
	struct blk_queue *queues;
	unsigned nr_queues;
	uint16_t queue_size;
	uint32_t idle_poll_ns; /* see poll_idle() in virtio_blk.c */
	struct iovec *iov_pool;
	uint64_t capacity; /* in 512-byte sectors */
	unsigned inflight;
	uint64_t dirty; /* queues with used entries not yet signalled */
	uint64_t busy;  /* queues with notifications off while requests
			 * are in flight: polled after each completion */
	bool quiescing; /* a reset waits for the in-flight requests */
	char *name;
	uint8_t id[VIRTIO_BLK_ID_BYTES];
	struct virtio_blk_config
		config; /* little-endian, as the guest reads it */
};

/* Largest discard / write-zeroes range, in sectors: 2 GiB - 4 KiB keeps
 * every range 4 KiB-aligned and the byte count well inside off_t. */
#define BLK_MAX_ZERO_SECTORS 0x3ffff8u

/* Takes over the chain just popped into bq->scratch and starts it;
 * a malformed request sets NEEDS_RESET instead. */
void blk_req_start(struct blk_queue *bq);

#endif
