// SPDX-License-Identifier: Apache-2.0
/*
 * The virtio-blk device: what it offers (features, configuration space),
 * how it takes requests off its queues, how it tells the driver about
 * completions (one interrupt per queue per loop batch) and how it
 * resets. Requests themselves are in virtio_blk_req.c.
 */
#define _GNU_SOURCE
#include "devices/virtio/virtio_blk_internal.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "common/clock.h"
#include "common/error.h"

/* The configuration space up to write_zeroes_may_unmap and its padding;
 * the secure-erase and zoned fields that follow are not offered. */
#define BLK_CONFIG_SIZE 60
_Static_assert(offsetof(struct virtio_blk_config, write_zeroes_may_unmap) == 56,
	       "virtio_blk_config layout");

static struct virtio_blk *to_blk(struct virtio_dev *dev)
{
	return dev->opaque;
}

/* Nothing is writable: `writeback` needs CONFIG_WCE, not offered. */
static void blk_config_write(struct virtio_dev *dev, uint32_t off,
			     const void *data, uint32_t len)
{
}

static int blk_activate(struct virtio_dev *dev)
{
	return 0;
}

static void blk_reset(struct virtio_dev *dev)
{
	struct virtio_blk *blk = to_blk(dev);

	/* Requests in flight point into the driver's buffers: the driver
	 * may reuse them once the reset is over, so wait for them. The
	 * loop thread completes them meanwhile (the wait drops the lock)
	 * and, seeing `quiescing`, neither pushes them nor takes more. */
	blk->quiescing = true;
	while (blk->inflight)
		pthread_cond_wait(&dev->cond, &dev->lock);
	blk->quiescing = false;
	blk->dirty = 0;
	blk->busy = 0;
	for (unsigned q = 0; q < blk->nr_queues; q++)
		blk->queues[q].poll_misses = blk->queues[q].poll_skip = 0;
}

/* A busy queue asks for a notification after one new request per this
 * many in flight (at most 4, at least 1): fewer are taken at the next
 * completion (see drain_queue). */
#define BLK_BUSY_KICK_PER_INFLIGHT 8
#define BLK_BUSY_KICK_MAX 4

static uint16_t busy_kick_batch(const struct blk_queue *bq)
{
	unsigned k = bq->inflight / BLK_BUSY_KICK_PER_INFLIGHT;
	return k < 1 ? 1 : k > BLK_BUSY_KICK_MAX ? BLK_BUSY_KICK_MAX : (uint16_t)k;
}

/*
 * Takes everything the driver made available, with notifications off
 * meanwhile; turning them back on tells whether more arrived in the
 * window, which must be taken too or the queue could stall.
 *
 * While requests are in flight (and with EVENT_IDX) the driver is asked
 * to notify only every few requests (busy_kick_batch), and the queue is
 * polled after each completion batch (blk_flush): a driver keeping a deep
 * queue then adds requests without a VM exit each (1.8x the random-write
 * IOPS at QD32 in the rig). Fully silent polling made requests added
 * between completions wait for the next one (-10% IOPS at QD32 in the
 * backend benchmark), and a fixed batch of 4 still starved QD8 of 1 MiB
 * requests (0.70 of fio): the batch shrinks with the queue's depth. An
 * idle queue is notified for every request, so queue depth 1 sees no
 * change.
 */
static void drain_queue(struct virtio_blk *blk, struct blk_queue *bq)
{
	struct virtqueue *vq = &blk->vqs[bq->index];
	uint64_t bit = 1ull << bq->index;

	for (;;) {
		vq_set_notify(vq, false);
		for (;;) {
			if (!virtio_dev_running(&blk->dev))
				return;
			int r = vq_pop(vq, blk->mem, &bq->scratch);
			if (r == 0)
				break;
			if (r < 0) {
				virtio_dev_fail(&blk->dev, (int)bq->index,
						vq->error);
				return;
			}
			blk_req_start(bq);
		}
		if (bq->inflight && vq->event_idx) {
			blk->busy |= bit;
			if (vq_notify_after(vq, busy_kick_batch(bq)))
				continue;
			return;
		}
		blk->busy &= ~bit;
		if (!vq_set_notify(vq, true))
			return;
	}
}

static void blk_queue_notify(struct virtio_dev *dev, unsigned q)
{
	struct virtio_blk *blk = to_blk(dev);

	pthread_mutex_lock(&dev->lock);
	if (q < blk->nr_queues && !blk->quiescing && virtio_dev_running(dev))
		drain_queue(blk, &blk->queues[q]);
	pthread_mutex_unlock(&dev->lock);
}

/*
 * A queue left idle by its completions is watched for a moment
 * (idle_poll_ns, BLK_IDLE_POLL_NS) before the loop sleeps: a driver that
 * waits for each answer before its next request and polls for it (queue
 * depth 1 in the device benchmark, a guest with polled block I/O) adds
 * that request within a few microseconds, which then costs the guest no
 * VM exit and the loop no wake-up (docs/performance.md). Deeper queues
 * are already polled after each completion (busy). A driver that answers
 * later, through its interrupt, makes the watch miss: each miss in a row
 * doubles the idle times that pass before the next watch (up to 255), so
 * its cost stays near zero. The queues of one completion batch share one
 * watch's time, so many queues do not hold up the loop's other devices
 * for longer. *end: that time's end, 0 until a watch starts it.
 */
#define BLK_POLL_MAX_BACKOFF 8

static void poll_idle(struct virtio_blk *blk, struct blk_queue *bq,
		      uint64_t *end)
{
	struct virtqueue *vq = &blk->vqs[bq->index];

	if (bq->inflight || blk->quiescing || !virtio_dev_running(&blk->dev) ||
	    !vq->ready || vq->error)
		return;
	if (bq->poll_skip) {
		bq->poll_skip--;
		return;
	}
	uint64_t now = phy_monotonic_ns();
	if (!*end)
		*end = now + blk->idle_poll_ns;
	else if (now >= *end)
		return; /* the batch's time is spent: not this queue's miss */
	vq_notify_off(vq);
	bool hit;
	while (!(hit = vq_has_avail(vq)) && phy_monotonic_ns() < *end)
		__builtin_ia32_pause();
	if (hit) {
		bq->poll_misses = 0;
		drain_queue(blk, bq);
		return;
	}
	if (bq->poll_misses < BLK_POLL_MAX_BACKOFF)
		bq->poll_misses++;
	bq->poll_skip = (uint16_t)((1u << bq->poll_misses) - 1);
	/* Notifications back on; takes what came in the meantime. */
	drain_queue(blk, bq);
}

/* Signals the queues with used entries, then takes what the driver added
 * to the busy ones meanwhile, until nothing is left to signal. */
static void signal_and_drain(struct virtio_blk *blk)
{
	do {
		uint64_t dirty = blk->dirty;
		blk->dirty = 0;
		for (unsigned q = 0; dirty; q++, dirty >>= 1)
			if ((dirty & 1) && virtio_dev_running(&blk->dev))
				virtio_dev_signal_queue(&blk->dev, q);
		/* Then take what the driver added meanwhile (polled queues
		 * get no notification for it). Requests that complete at
		 * once (errors, GET_ID) need their interrupt now: no later
		 * completion may come to carry it. */
		uint64_t busy = blk->busy;
		for (unsigned q = 0; busy; q++, busy >>= 1)
			if ((busy & 1) && !blk->quiescing &&
			    virtio_dev_running(&blk->dev))
				drain_queue(blk, &blk->queues[q]);
	} while (blk->dirty);
}

/* After each batch of loop completions: one interrupt per queue that
 * got used entries, however many requests finished in the batch; then
 * the queues this left idle are watched (poll_idle). */
static void blk_flush(void *opaque)
{
	struct virtio_blk *blk = opaque;

	pthread_mutex_lock(&blk->dev.lock);
	uint64_t answered = blk->dirty, end = 0;
	signal_and_drain(blk);
	for (unsigned q = 0; answered; q++, answered >>= 1)
		if (answered & 1)
			poll_idle(blk, &blk->queues[q], &end);
	/* Requests the watch took that completed at once. */
	if (blk->dirty)
		signal_and_drain(blk);
	pthread_mutex_unlock(&blk->dev.lock);
}

static const struct virtio_dev_ops blk_ops = {
	.config_write = blk_config_write,
	.activate = blk_activate,
	.reset = blk_reset,
	.queue_notify = blk_queue_notify,
};

static uint64_t blk_features(const struct virtio_blk *blk)
{
	const struct disk_image *img = blk->img;
	uint64_t f =
		1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE |
		1ull << VIRTIO_BLK_F_FLUSH | 1ull << VIRTIO_BLK_F_TOPOLOGY |
		1ull << VIRTIO_RING_F_EVENT_IDX |
		1ull << VIRTIO_RING_F_INDIRECT_DESC;
	if (img->readonly)
		f |= 1ull << VIRTIO_BLK_F_RO;
	if (blk->nr_queues > 1)
		f |= 1ull << VIRTIO_BLK_F_MQ;
	if (img->can_discard)
		f |= 1ull << VIRTIO_BLK_F_DISCARD;
	if (img->can_write_zeroes)
		f |= 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	return f;
}

static unsigned log2u(uint32_t v)
{
	unsigned n = 0;
	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

static void fill_config(struct virtio_blk *blk)
{
	const struct disk_image *img = blk->img;
	struct virtio_blk_config *c = &blk->config;
	uint32_t lbs = img->logical_block_size;
	uint32_t min_io = img->min_io_size / lbs;

	/* Whole logical blocks only: the guest cannot address the rest. */
	blk->capacity = img->size / lbs * (lbs / BLK_SECTOR);
	memset(c, 0, sizeof(*c));
	c->capacity = htole64(blk->capacity);
	c->seg_max = htole32(VIRTIO_BLK_SEG_MAX);
	c->blk_size = htole32(lbs);
	c->physical_block_exp = (uint8_t)log2u(img->physical_block_size / lbs);
	c->min_io_size =
		htole16(min_io > UINT16_MAX ? UINT16_MAX : (uint16_t)min_io);
	c->opt_io_size = htole32(img->opt_io_size / lbs);
	c->num_queues = htole16((uint16_t)blk->nr_queues);
	c->max_discard_sectors = htole32(BLK_MAX_ZERO_SECTORS);
	c->max_discard_seg = htole32(1);
	c->discard_sector_alignment =
		htole32(img->physical_block_size / BLK_SECTOR);
	c->max_write_zeroes_sectors = htole32(BLK_MAX_ZERO_SECTORS);
	c->max_write_zeroes_seg = htole32(1);
	c->write_zeroes_may_unmap = img->can_discard;
}

/* Request slots and the iovec arrays they (and the per-queue scratch
 * chains) own: allocated once, so serving a request allocates nothing. */
static int alloc_queues(struct virtio_blk *blk)
{
	unsigned n = blk->nr_queues, size = blk->queue_size;
	const unsigned max_iov = VIRTIO_BLK_SEG_MAX + 2;

	blk->vqs = calloc(n, sizeof(*blk->vqs));
	blk->queues = calloc(n, sizeof(*blk->queues));
	blk->iov_pool =
		calloc((size_t)n * (size + 1) * max_iov, sizeof(struct iovec));
	if (!blk->vqs || !blk->queues || !blk->iov_pool)
		return -1;
	struct iovec *iov = blk->iov_pool;
	for (unsigned q = 0; q < n; q++) {
		struct blk_queue *bq = &blk->queues[q];
		bq->blk = blk;
		bq->index = q;
		bq->reqs = calloc(size, sizeof(*bq->reqs));
		if (!bq->reqs)
			return -1;
		bq->scratch.iov = iov;
		bq->scratch.max_iov = max_iov;
		iov += max_iov;
		for (unsigned i = 0; i < size; i++) {
			bq->reqs[i].bq = bq;
			bq->reqs[i].chain.iov = iov;
			bq->reqs[i].chain.max_iov = max_iov;
			iov += max_iov;
		}
	}
	return 0;
}

static void free_blk(struct virtio_blk *blk)
{
	if (blk->queues)
		for (unsigned q = 0; q < blk->nr_queues; q++)
			free(blk->queues[q].reqs);
	free(blk->queues);
	free(blk->vqs);
	free(blk->iov_pool);
	free(blk->name);
	free(blk);
}

int virtio_blk_create(struct virtio_blk **out, struct disk_image *img,
		      const struct virtio_blk_params *cfg, const char *name,
		      const struct guest_mem *mem, struct io_loop *loop,
		      struct phy_error *err)
{
	unsigned qs = cfg->queue_size;
	if (qs < 2 || qs > VQ_MAX_SIZE || (qs & (qs - 1)))
		return phy_err(err, PHY_E_INVALID,
			       "--disk: queue_size=%u is not a power of two "
			       "from 2 to %u",
			       qs, VQ_MAX_SIZE);
	if (cfg->num_queues < 1 || cfg->num_queues > 64)
		return phy_err(err, PHY_E_INVALID,
			       "--disk: num_queues=%u is not from 1 to 64",
			       cfg->num_queues);

	struct virtio_blk *blk = calloc(1, sizeof(*blk));
	if (!blk)
		return phy_err(err, PHY_E_NOMEM, "%s: out of memory", name);
	blk->img = img;
	blk->loop = loop;
	blk->mem = mem;
	blk->nr_queues = cfg->num_queues;
	blk->queue_size = (uint16_t)qs;
	blk->idle_poll_ns = BLK_IDLE_POLL_NS;
	blk->name = strdup(name);
	if (!blk->name || alloc_queues(blk)) {
		free_blk(blk);
		return phy_err(err, PHY_E_NOMEM, "%s: out of memory", name);
	}
	/* NUL-padded, not NUL-terminated at 20 bytes ("Device Operation"). */
	if (cfg->id)
		memcpy(blk->id, cfg->id, strnlen(cfg->id, VIRTIO_BLK_ID_BYTES));
	fill_config(blk);
	virtio_dev_init(&blk->dev, blk->name, VIRTIO_ID_BLOCK,
			blk_features(blk), BLK_CONFIG_SIZE, blk->vqs,
			blk->nr_queues, blk->queue_size, mem, &blk_ops, blk);
	blk->dev.config = &blk->config;
	int r = io_loop_add_flush(loop, blk_flush, blk, err);
	if (r) {
		virtio_dev_destroy(&blk->dev);
		free_blk(blk);
		return r;
	}
	*out = blk;
	return 0;
}

struct virtio_dev *virtio_blk_dev(struct virtio_blk *blk)
{
	return &blk->dev;
}

unsigned virtio_blk_inflight(struct virtio_blk *blk)
{
	pthread_mutex_lock(&blk->dev.lock);
	unsigned n = blk->inflight;
	pthread_mutex_unlock(&blk->dev.lock);
	return n;
}

void virtio_blk_destroy(struct virtio_blk *blk)
{
	if (!blk)
		return;
	io_loop_remove_flush(blk->loop, blk_flush, blk);
	virtio_dev_destroy(&blk->dev);
	free_blk(blk);
}
