// SPDX-License-Identifier: Apache-2.0
/*
 * The virtio-rng device: requests taken off the requestq one at a time,
 * each a read of the entropy source straight into the driver's buffers
 * on the device loop's io_uring, under a token-bucket rate limit whose
 * waits are io_uring timeouts. virtio_rng.h describes the device.
 */
#define _GNU_SOURCE
#include "devices/virtio/virtio_rng.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <liburing.h>
#include <linux/time_types.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/io_loop.h"

#define REQUESTQ 0
#define NSEC_PER_SEC 1000000000ull

/* One of the device's operations on the ring: the read, the poll of a
 * non-blocking source that had nothing, the rate limiter's timeout. */
struct rng_op {
	struct io_op op;
	struct virtio_rng *rng;
	bool busy; /* on the ring: its completion is still to come */
};

struct virtio_rng {
	struct virtio_dev dev;
	struct virtqueue vq;
	const struct guest_mem *mem;
	struct io_loop *loop;
	int src_fd;
	int wake_fd; /* a reset asks the loop to cancel what is in flight */
	char *name, *src_name;
	uint64_t rate;  /* bytes per second; 0: unlimited */
	uint32_t burst; /* the bucket's depth in bytes */

	/* Under dev.lock. */
	struct rng_op read, poll, timer;
	struct __kernel_timespec ts; /* the timeout's, read at submission */
	/* A chain was taken off the ring and its read (or the poll before
	 * a retry) is in flight; its buffers are the first read_nr iovecs,
	 * cut to read_len bytes. */
	bool has_chain;
	struct vq_chain chain;
	struct iovec iov[VIRTIO_RNG_MAX_BUFFERS];
	unsigned read_nr;
	uint32_t read_len;
	uint32_t charged;    /* what the request took from the bucket */
	/* The bucket, in byte-nanoseconds (bytes * 10^9): refilled at
	 * `rate` per nanosecond without rounding anything away. */
	uint64_t tokens;
	uint64_t refilled_ns; /* CLOCK_MONOTONIC of the last refill */
	bool quiescing; /* a reset waits for what is in flight */
	bool stopping;  /* the loop is stopping: start nothing more */
	bool dirty;     /* used entries not yet signalled */
	struct virtio_rng_stats st;
};

static struct virtio_rng *to_rng(struct virtio_dev *dev)
{
	return dev->opaque;
}

static bool in_flight(const struct virtio_rng *rng)
{
	return rng->read.busy || rng->poll.busy || rng->timer.busy;
}

/* Whether the device takes requests now. */
static bool serving(const struct virtio_rng *rng)
{
	return virtio_dev_running(&rng->dev) && !rng->quiescing && !rng->stopping;
}

/* ---- the token bucket ---- */

static uint64_t bucket_depth(const struct virtio_rng *rng)
{
	return (uint64_t)rng->burst * NSEC_PER_SEC;
}

/* The least a request takes from the bucket, and what it must hold for
 * a request to be taken off the ring. */
static uint32_t min_charge(const struct virtio_rng *rng)
{
	return rng->burst < VIRTIO_RNG_MIN_CHARGE ? rng->burst : VIRTIO_RNG_MIN_CHARGE;
}

static void bucket_add(struct virtio_rng *rng, unsigned __int128 nb)
{
	uint64_t room = bucket_depth(rng) - rng->tokens;
	rng->tokens += nb < room ? (uint64_t)nb : room;
}

static void refill(struct virtio_rng *rng)
{
	uint64_t now = phy_monotonic_ns();
	uint64_t elapsed = now - rng->refilled_ns;
	rng->refilled_ns = now;
	bucket_add(rng, (unsigned __int128)elapsed * rng->rate);
}

/* ---- the requests (loop thread, dev.lock held) ---- */

static void fail_device(struct virtio_rng *rng, const char *why)
{
	virtio_dev_fail(&rng->dev, -1, why);
}

/* The source failed (res < 0) or ended (0): no entropy to give. */
static void fail_source(struct virtio_rng *rng, int res)
{
	char why[200];
	rng->st.source_errors++;
	if (res == 0)
		snprintf(why, sizeof(why), "entropy source %s reached its end",
			 rng->src_name);
	else
		snprintf(why, sizeof(why), "entropy source %s: read failed: %s",
			 rng->src_name, strerror(-res));
	fail_device(rng, why);
}

/* Whether the driver made buffers available that are not taken yet. */
static bool ring_has_work(const struct virtqueue *vq)
{
	if (!vq->ready || vq->error)
		return false;
	return __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE) != vq->last_avail;
}

static bool submit_read(struct virtio_rng *rng)
{
	struct io_uring_sqe *sqe = io_loop_sqe(rng->loop, &rng->read.op);
	if (!sqe)
		return false;
	/* Offset -1: the file position, for a regular file as a source;
	 * ignored by pipes and character devices. */
	io_uring_prep_readv(sqe, rng->src_fd, rng->iov, rng->read_nr, (uint64_t)-1);
	rng->read.busy = true;
	return true;
}

static bool submit_poll(struct virtio_rng *rng)
{
	struct io_uring_sqe *sqe = io_loop_sqe(rng->loop, &rng->poll.op);
	if (!sqe)
		return false;
	io_uring_prep_poll_add(sqe, rng->src_fd, POLLIN);
	rng->poll.busy = true;
	return true;
}

/* The bucket is dry: sleep until VIRTIO_RNG_RESUME_BYTES (at most the
 * whole bucket) are back, with the driver's notifications off. */
static void wait_for_tokens(struct virtio_rng *rng)
{
	uint64_t want = rng->burst < VIRTIO_RNG_RESUME_BYTES ? rng->burst
							     : VIRTIO_RNG_RESUME_BYTES;
	uint64_t need = want * NSEC_PER_SEC - rng->tokens;
	uint64_t ns = (uint64_t)(((unsigned __int128)need + rng->rate - 1) / rng->rate);
	struct io_uring_sqe *sqe = io_loop_sqe(rng->loop, &rng->timer.op);
	if (!sqe) {
		fail_device(rng, "the device loop refused a timeout");
		return;
	}
	rng->ts = phy_kernel_timespec(ns);
	io_uring_prep_timeout(sqe, &rng->ts, 0, 0);
	rng->timer.busy = true;
	rng->st.throttled++;
	vq_set_notify(&rng->vq, false);
}

/* Cuts the chain's writable buffers (the first nr_in iovecs: a request
 * has no readable ones) to len bytes. */
static void cut_buffers(struct virtio_rng *rng, uint32_t len)
{
	uint32_t left = len;
	unsigned n = 0;
	while (left && n < rng->chain.nr_in) {
		if (rng->iov[n].iov_len > left)
			rng->iov[n].iov_len = left;
		left -= (uint32_t)rng->iov[n].iov_len;
		n++;
	}
	rng->read_nr = n;
	rng->read_len = len;
}

/* Starts the next request, if the driver made one available, the
 * bucket allows it and none is in flight. */
static void pump(struct virtio_rng *rng)
{
	struct vq_chain *c = &rng->chain;

	while (serving(rng) && !rng->has_chain && !rng->timer.busy) {
		uint32_t grant = min_charge(rng);
		if (rng->rate) {
			refill(rng);
			if (rng->tokens < (uint64_t)grant * NSEC_PER_SEC) {
				/* Nothing to wait for while the ring is
				 * empty: the driver's kick comes first. */
				if (ring_has_work(&rng->vq))
					wait_for_tokens(rng);
				else if (vq_set_notify(&rng->vq, true))
					continue;
				return;
			}
		}
		if (!virtio_dev_next_chain(&rng->dev, REQUESTQ, &rng->chain))
			return;
		if (c->nr_out) {
			fail_device(rng, "request has a device-readable buffer");
			return;
		}
		if (!c->in_len) {
			fail_device(rng, "request has no writable buffer");
			return;
		}
		uint32_t len = c->in_len < VIRTIO_RNG_MAX_REQUEST ? c->in_len
								  : VIRTIO_RNG_MAX_REQUEST;
		if (rng->rate) {
			uint64_t have = rng->tokens / NSEC_PER_SEC;
			if (len > have)
				len = (uint32_t)have; /* a part now, the rest later */
			rng->charged = len > grant ? len : grant;
			rng->tokens -= (uint64_t)rng->charged * NSEC_PER_SEC;
		}
		cut_buffers(rng, len);
		/* The next request is looked for when this one is done. */
		vq_set_notify(&rng->vq, false);
		rng->has_chain = true;
		if (!submit_read(rng)) {
			rng->has_chain = false;
			fail_device(rng, "the device loop refused a read");
		}
		return;
	}
}

/* An operation finished while a reset or a stop waits, or after the
 * device failed: the chain goes with the reset; wake the reset. */
static bool abandoned(struct virtio_rng *rng)
{
	if (serving(rng))
		return false;
	rng->has_chain = false;
	pthread_cond_broadcast(&rng->dev.cond);
	return true;
}

static void read_done(struct io_op *op, int res)
{
	struct virtio_rng *rng = ((struct rng_op *)op)->rng;

	pthread_mutex_lock(&rng->dev.lock);
	rng->read.busy = false;
	if (abandoned(rng)) {
		/* nothing more */
	} else if (res > 0) {
		uint32_t got = (uint32_t)res < rng->read_len ? (uint32_t)res : rng->read_len;
		vq_push(&rng->vq, rng->chain.head, got);
		rng->dirty = true;
		rng->st.requests++;
		rng->st.bytes += got;
		/* A short read pays for what it got (and at least the
		 * minimum): the rest goes back into the bucket. */
		uint32_t cost = got > min_charge(rng) ? got : min_charge(rng);
		if (rng->rate && rng->charged > cost)
			bucket_add(rng, (unsigned __int128)(rng->charged - cost) * NSEC_PER_SEC);
		rng->has_chain = false;
		pump(rng);
	} else if (res == -EAGAIN || res == -EINTR) {
		/* A non-blocking source with nothing to read: wait until it
		 * has something, then read again into the same buffers. */
		if (!submit_poll(rng)) {
			rng->has_chain = false;
			fail_device(rng, "the device loop refused a poll");
		}
	} else {
		rng->has_chain = false;
		fail_source(rng, res);
	}
	pthread_mutex_unlock(&rng->dev.lock);
}

static void poll_done(struct io_op *op, int res)
{
	struct virtio_rng *rng = ((struct rng_op *)op)->rng;

	pthread_mutex_lock(&rng->dev.lock);
	rng->poll.busy = false;
	if (abandoned(rng)) {
		/* nothing more */
	} else if (res < 0) {
		rng->has_chain = false;
		fail_source(rng, res);
	} else if (!submit_read(rng)) {
		/* Readable, hung up or in error: the read tells which. */
		rng->has_chain = false;
		fail_device(rng, "the device loop refused a read");
	}
	pthread_mutex_unlock(&rng->dev.lock);
}

static void timer_done(struct io_op *op, int res)
{
	struct virtio_rng *rng = ((struct rng_op *)op)->rng;

	pthread_mutex_lock(&rng->dev.lock);
	rng->timer.busy = false;
	if (!abandoned(rng))
		pump(rng);
	pthread_mutex_unlock(&rng->dev.lock);
}

static void cancel_ops(struct virtio_rng *rng)
{
	struct rng_op *ops[] = {&rng->read, &rng->poll, &rng->timer};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (ops[i]->busy)
			io_loop_cancel(rng->loop, &ops[i]->op);
}

/* ---- loop hooks ---- */

static void rng_queue_notify(struct virtio_dev *dev, unsigned q)
{
	struct virtio_rng *rng = to_rng(dev);

	pthread_mutex_lock(&dev->lock);
	if (q == REQUESTQ)
		pump(rng);
	pthread_mutex_unlock(&dev->lock);
}

/* After each batch of loop completions: one interrupt for what was
 * pushed. */
static void rng_flush(void *opaque)
{
	struct virtio_rng *rng = opaque;

	pthread_mutex_lock(&rng->dev.lock);
	if (rng->dirty && serving(rng))
		virtio_dev_signal_queue(&rng->dev, REQUESTQ);
	rng->dirty = false;
	pthread_mutex_unlock(&rng->dev.lock);
}

/* A reset is waiting: take the guest's buffers back from the source. */
static void rng_wake(void *opaque)
{
	struct virtio_rng *rng = opaque;

	pthread_mutex_lock(&rng->dev.lock);
	if (rng->quiescing)
		cancel_ops(rng);
	pthread_mutex_unlock(&rng->dev.lock);
}

/* The loop is stopping: a read of a source that has nothing (a pipe, a
 * blocking /dev/random) might never finish on its own. */
static void rng_stop(void *opaque)
{
	struct virtio_rng *rng = opaque;

	pthread_mutex_lock(&rng->dev.lock);
	rng->stopping = true;
	cancel_ops(rng);
	pthread_mutex_unlock(&rng->dev.lock);
}

/* ---- virtio_dev ops (vCPU threads, dev.lock held) ---- */

static void rng_reset(struct virtio_dev *dev)
{
	struct virtio_rng *rng = to_rng(dev);

	/* The read points into the driver's buffers, which are the
	 * driver's again once the reset returns: the loop cancels it (it
	 * alone may touch the ring), and with it the timeout, and the
	 * reset waits for both to complete. The bucket is the device's,
	 * not the driver's: a reset does not fill it. */
	rng->quiescing = true;
	uint64_t one = 1;
	if (in_flight(rng) && write(rng->wake_fd, &one, sizeof(one)) < 0) {
		/* An eventfd write fails only on overflow: it is set. */
	}
	while (in_flight(rng))
		pthread_cond_wait(&dev->cond, &dev->lock);
	rng->quiescing = false;
	rng->has_chain = false;
	rng->dirty = false;
}

static const struct virtio_dev_ops rng_ops = {
	.reset = rng_reset,
	.queue_notify = rng_queue_notify,
};

/* ---- the device ---- */

void virtio_rng_stats(struct virtio_rng *rng, struct virtio_rng_stats *st)
{
	pthread_mutex_lock(&rng->dev.lock);
	*st = rng->st;
	pthread_mutex_unlock(&rng->dev.lock);
}

bool virtio_rng_busy(struct virtio_rng *rng)
{
	pthread_mutex_lock(&rng->dev.lock);
	bool busy = in_flight(rng);
	pthread_mutex_unlock(&rng->dev.lock);
	return busy;
}

struct virtio_dev *virtio_rng_dev(struct virtio_rng *rng)
{
	return &rng->dev;
}

static void free_rng(struct virtio_rng *rng)
{
	if (rng->wake_fd >= 0)
		close(rng->wake_fd);
	free(rng->name);
	free(rng->src_name);
	free(rng);
}

/* Refuses a descriptor that cannot be read: not open, write-only, or
 * O_PATH. Anything else (a directory, a socket...) shows at the first
 * read, as a source error. */
static int check_source(const struct virtio_rng_params *p, const char *name,
			const char *src, struct phy_error *err)
{
	int fl = p->src_fd < 0 ? -1 : fcntl(p->src_fd, F_GETFL);
	if (fl < 0)
		return phy_err(err, PHY_E_INVALID, "%s: entropy source %s is not an open descriptor",
			       name, src);
	if ((fl & O_PATH) || (fl & O_ACCMODE) == O_WRONLY)
		return phy_err(err, PHY_E_INVALID, "%s: entropy source %s is not open for reading",
			       name, src);
	return 0;
}

int virtio_rng_create(struct virtio_rng **out, const struct virtio_rng_params *p,
		      const char *name, const struct guest_mem *mem,
		      struct io_loop *loop, struct phy_error *err)
{
	if (!p)
		return phy_err(err, PHY_E_INVALID, "%s: no parameters", name);
	char fdname[32];
	snprintf(fdname, sizeof(fdname), "fd %d", p->src_fd);
	const char *src = p->src_name ? p->src_name : fdname;
	int r = check_source(p, name, src, err);
	if (r)
		return r;
	unsigned qsize = p->queue_size ? p->queue_size : VIRTIO_RNG_DEFAULT_QUEUE_SIZE;
	if (qsize < 2 || (qsize & (qsize - 1)))
		return phy_err(err, PHY_E_INVALID, "%s: queue size %u is not a power of two",
			       name, qsize);

	struct virtio_rng *rng = calloc(1, sizeof(*rng));
	if (!rng)
		return phy_err(err, PHY_E_NOMEM, "%s: out of memory", name);
	rng->mem = mem;
	rng->loop = loop;
	rng->src_fd = p->src_fd;
	rng->name = strdup(name);
	rng->src_name = strdup(src);
	/* Blocking, as every eventfd the loop reads (see io_loop.c). */
	rng->wake_fd = eventfd(0, EFD_CLOEXEC);
	if (!rng->name || !rng->src_name || rng->wake_fd < 0) {
		int e = errno;
		free_rng(rng);
		return phy_err_errno(err, PHY_E_NOMEM, e, "%s: set-up", name);
	}
	rng->rate = p->bytes_per_sec;
	rng->burst = p->burst ? p->burst : VIRTIO_RNG_DEFAULT_BURST;
	rng->tokens = bucket_depth(rng); /* a full bucket to start with */
	rng->refilled_ns = phy_monotonic_ns();
	rng->read = (struct rng_op){.op.done = read_done, .rng = rng};
	rng->poll = (struct rng_op){.op.done = poll_done, .rng = rng};
	rng->timer = (struct rng_op){.op.done = timer_done, .rng = rng};
	rng->chain.iov = rng->iov;
	rng->chain.max_iov = VIRTIO_RNG_MAX_BUFFERS;
	virtio_dev_init(&rng->dev, rng->name, VIRTIO_ID_RNG,
			1ull << VIRTIO_RING_F_EVENT_IDX |
				1ull << VIRTIO_RING_F_INDIRECT_DESC,
			0, &rng->vq, 1, (uint16_t)qsize, mem, &rng_ops, rng);
	r = io_loop_add_flush(loop, rng_flush, rng, err);
	if (!r)
		r = io_loop_add_stop_hook(loop, rng_stop, rng, err);
	if (!r)
		r = io_loop_watch_eventfd(loop, rng->wake_fd, rng_wake, rng, err);
	if (r) {
		io_loop_remove_flush(loop, rng_flush, rng);
		io_loop_remove_stop_hook(loop, rng_stop, rng);
		virtio_dev_destroy(&rng->dev);
		free_rng(rng);
		return r;
	}
	*out = rng;
	return 0;
}

void virtio_rng_destroy(struct virtio_rng *rng)
{
	if (!rng)
		return;
	io_loop_remove_flush(rng->loop, rng_flush, rng);
	io_loop_remove_stop_hook(rng->loop, rng_stop, rng);
	virtio_dev_destroy(&rng->dev);
	free_rng(rng);
}
