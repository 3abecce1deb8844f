// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include "common/io_loop.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <liburing.h>

#include "common/error.h"
#include "common/thread.h"

#define IO_LOOP_MAX_WATCHES 128
#define IO_LOOP_MAX_FLUSHES 32

struct io_watch {
	struct io_op op;
	struct io_loop *loop;
	int fd;
	io_eventfd_fn fn;
	void *opaque;
};

struct io_hook {
	io_flush_fn fn;
	void *opaque;
};

struct io_loop {
	struct io_uring ring;
	bool enabled;   /* rings created disabled: enabled by their user */
	bool stopping;
	bool armed;     /* the watches' reads are queued */
	bool running;
	pthread_t thread;
	int stop_fd;
	uint64_t inflight; /* device ops, watches excluded */
	struct io_watch *watches[IO_LOOP_MAX_WATCHES];
	unsigned nr_watches;
	struct io_hook flushes[IO_LOOP_MAX_FLUSHES];
	unsigned nr_flushes;
	struct io_hook stop_hooks[IO_LOOP_MAX_FLUSHES];
	unsigned nr_stop_hooks;
	uint64_t sqes, enters;
	unsigned cqe_flags; /* of the completion being dispatched */
	enum sandbox_mode sandbox;
};

static void stop_requested(void *opaque)
{
	((struct io_loop *)opaque)->stopping = true;
}

int io_loop_create(struct io_loop **out, unsigned entries,
		   struct phy_error *err)
{
	struct io_loop *loop = calloc(1, sizeof(*loop));
	if (!loop)
		return phy_err(err, PHY_E_NOMEM, "out of memory");
	/* One task submits and reaps, so completions run in its context
	 * when it asks for them (DEFER_TASKRUN) rather than interrupting
	 * it. The ring starts disabled so that this task can be the loop
	 * thread, not the creator. Older kernels: plain flags. */
	struct io_uring_params p = {
		.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
			 IORING_SETUP_R_DISABLED,
	};
	int r = io_uring_queue_init_params(entries, &loop->ring, &p);
	if (r == -EINVAL) {
		memset(&p, 0, sizeof(p));
		r = io_uring_queue_init_params(entries, &loop->ring, &p);
		loop->enabled = true;
	}
	if (r < 0) {
		free(loop);
		return phy_err_errno(err, PHY_E_IO, -r, "io_uring_queue_init");
	}
	/* Blocking, like every eventfd the loop reads: io_uring waits for a
	 * blocking read, while a non-blocking one can fail with EAGAIN at
	 * once on kernels without FMODE_NOWAIT eventfds, and the re-arm
	 * would spin. */
	loop->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (loop->stop_fd < 0) {
		r = errno;
		io_uring_queue_exit(&loop->ring);
		free(loop);
		return phy_err_errno(err, PHY_E_IO, r, "eventfd");
	}
	if (io_loop_watch_eventfd(loop, loop->stop_fd, stop_requested, loop, err)) {
		io_loop_destroy(loop);
		return -PHY_E_NOMEM;
	}
	*out = loop;
	return 0;
}

void io_loop_destroy(struct io_loop *loop)
{
	if (!loop)
		return;
	io_loop_stop(loop);
	/* Exiting the ring cancels the watches' reads before their
	 * buffers go away. */
	io_uring_queue_exit(&loop->ring);
	for (unsigned i = 0; i < loop->nr_watches; i++)
		free(loop->watches[i]);
	close(loop->stop_fd);
	free(loop);
}

/* Submits a burst in pieces of this many SQEs rather than all at once:
 * the block layer plugs a larger batch and sends none of it to the disk
 * before it has prepared all of it. With a guest's burst of 20 requests
 * at QD32 that cost ~20 us of latency per request and 10-20% of IOPS
 * against fio (tools/bench/run-blk-backend-bench); 4 recovered it for
 * 0.2 more io_uring_enter() per request. */
#define IO_LOOP_SUBMIT_BATCH 4

static void submit_queued(struct io_loop *loop)
{
	int r = io_uring_submit(&loop->ring);
	loop->enters++;
	if (r > 0)
		loop->sqes += (unsigned)r;
}

struct io_uring_sqe *io_loop_sqe(struct io_loop *loop, struct io_op *op)
{
	/* Every caller fills its SQE before asking for the next, so all
	 * queued ones are complete here. */
	if (io_uring_sq_ready(&loop->ring) >= IO_LOOP_SUBMIT_BATCH)
		submit_queued(loop);
	struct io_uring_sqe *sqe = io_uring_get_sqe(&loop->ring);
	if (!sqe) {
		submit_queued(loop);
		sqe = io_uring_get_sqe(&loop->ring);
		if (!sqe)
			return NULL;
	}
	io_uring_sqe_set_data(sqe, op);
	if (op && op->done)
		loop->inflight++;
	return sqe;
}

/*
 * A multishot poll: one completion per write to the eventfd (each write
 * wakes its pollers), with nothing to re-arm and no read. The counter is
 * never reset, which costs nothing: it would take 2^64 writes to fill.
 * Reading it instead, as the loop once did, took a read attempt, a poll
 * arm, a retry and a new SQE per kick; in the rig, where the kernel is
 * emulated, that was much of the device loop's CPU time.
 */
static void watch_arm(struct io_watch *w)
{
	struct io_uring_sqe *sqe = io_loop_sqe(w->loop, NULL);
	if (!sqe)
		return;
	io_uring_prep_poll_multishot(sqe, w->fd, POLLIN);
	io_uring_sqe_set_data(sqe, &w->op);
}

static void watch_done(struct io_op *op, int res)
{
	struct io_watch *w = (struct io_watch *)op;
	if (res > 0)
		w->fn(w->opaque);
	else if (res != -EAGAIN && res != -EINTR && res != -ENOBUFS)
		return; /* -ECANCELED at exit, or a closed fd: stop watching */
	/* The kernel ends a multishot poll now and then (overflow, or a
	 * completion without IORING_CQE_F_MORE): arm it again. */
	if (!(w->loop->cqe_flags & IORING_CQE_F_MORE) && !w->loop->stopping)
		watch_arm(w);
}

int io_loop_watch_eventfd(struct io_loop *loop, int fd, io_eventfd_fn fn,
			  void *opaque, struct phy_error *err)
{
	if (loop->nr_watches == IO_LOOP_MAX_WATCHES)
		return phy_err(err, PHY_E_INVALID, "too many eventfds on one device loop");
	struct io_watch *w = calloc(1, sizeof(*w));
	if (!w)
		return phy_err(err, PHY_E_NOMEM, "out of memory");
	w->op.done = watch_done;
	w->loop = loop;
	w->fd = fd;
	w->fn = fn;
	w->opaque = opaque;
	loop->watches[loop->nr_watches++] = w;
	if (loop->armed)
		watch_arm(w);
	return 0;
}

static int add_hook(struct io_hook *hooks, unsigned *nr, io_flush_fn fn,
		    void *opaque, struct phy_error *err)
{
	if (*nr == IO_LOOP_MAX_FLUSHES)
		return phy_err(err, PHY_E_INVALID, "too many devices on one device loop");
	hooks[*nr].fn = fn;
	hooks[*nr].opaque = opaque;
	(*nr)++;
	return 0;
}

int io_loop_add_flush(struct io_loop *loop, io_flush_fn fn, void *opaque,
		      struct phy_error *err)
{
	return add_hook(loop->flushes, &loop->nr_flushes, fn, opaque, err);
}

static void remove_hook(struct io_hook *hooks, unsigned *nr, io_flush_fn fn,
			void *opaque)
{
	for (unsigned i = 0; i < *nr; i++) {
		if (hooks[i].fn != fn || hooks[i].opaque != opaque)
			continue;
		(*nr)--;
		memmove(&hooks[i], &hooks[i + 1], (*nr - i) * sizeof(hooks[0]));
		return;
	}
}

void io_loop_remove_flush(struct io_loop *loop, io_flush_fn fn, void *opaque)
{
	remove_hook(loop->flushes, &loop->nr_flushes, fn, opaque);
}

void io_loop_remove_stop_hook(struct io_loop *loop, io_flush_fn fn,
			      void *opaque)
{
	remove_hook(loop->stop_hooks, &loop->nr_stop_hooks, fn, opaque);
}

int io_loop_add_stop_hook(struct io_loop *loop, io_flush_fn fn, void *opaque,
			  struct phy_error *err)
{
	return add_hook(loop->stop_hooks, &loop->nr_stop_hooks, fn, opaque, err);
}

int io_loop_cancel(struct io_loop *loop, struct io_op *op)
{
	struct io_uring_sqe *sqe = io_loop_sqe(loop, NULL);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_cancel(sqe, op, 0);
	io_uring_sqe_set_data(sqe, NULL);
	return 0;
}

static void loop_begin(struct io_loop *loop)
{
	if (!loop->enabled) {
		/* Debian's liburing 2.3 declares io_uring_enable_rings()
		 * but does not export it. */
		syscall(__NR_io_uring_register, loop->ring.ring_fd,
			IORING_REGISTER_ENABLE_RINGS, NULL, 0);
		loop->enabled = true;
	}
	if (!loop->armed) {
		loop->armed = true;
		for (unsigned i = 0; i < loop->nr_watches; i++)
			watch_arm(loop->watches[i]);
	}
}

int io_loop_run_once(struct io_loop *loop, bool wait)
{
	loop_begin(loop);
	/* Without waiting, still ask for events: with DEFER_TASKRUN,
	 * finished work is only posted when the ring is entered for them. */
	int r = wait ? io_uring_submit_and_wait(&loop->ring, 1)
		     : io_uring_submit_and_get_events(&loop->ring);
	loop->enters++;
	/* Transient: a signal, completions to reap first (EBUSY), or no
	 * resources for now. Reap what is there; SQEs not taken stay
	 * queued for the next pass. */
	if (r < 0 && r != -EINTR && r != -EBUSY && r != -ETIME && r != -EAGAIN)
		return r;
	if (r > 0)
		loop->sqes += (unsigned)r;

	struct io_uring_cqe *cqe;
	unsigned head, n = 0;
	/* Copy out before dispatching: a handler may queue new SQEs, and the
	 * CQ slot must be released before the kernel can reuse it. */
	io_uring_for_each_cqe(&loop->ring, head, cqe) {
		struct io_op *op = io_uring_cqe_get_data(cqe);
		int res = cqe->res;
		unsigned flags = cqe->flags;
		n++;
		io_uring_cq_advance(&loop->ring, 1);
		if (!op)
			continue;
		if (op->done != watch_done)
			loop->inflight--;
		loop->cqe_flags = flags;
		op->done(op, res);
	}
	if (n)
		for (unsigned i = 0; i < loop->nr_flushes; i++)
			loop->flushes[i].fn(loop->flushes[i].opaque);
	return (int)n;
}

static void *loop_thread(void *opaque)
{
	struct io_loop *loop = opaque;
	/* Named for ps and libvirt's thread list, not after its creator. */
	pthread_setname_np(pthread_self(), "phy-devices");
	sandbox_enter(loop->sandbox, SANDBOX_DEVICES);
	while (!loop->stopping)
		if (io_loop_run_once(loop, true) < 0)
			break;
	for (unsigned i = 0; i < loop->nr_stop_hooks; i++)
		loop->stop_hooks[i].fn(loop->stop_hooks[i].opaque);
	/* Guest memory must outlive every request that points into it. */
	while (loop->inflight)
		if (io_loop_run_once(loop, true) < 0)
			break;
	return NULL;
}

void io_loop_set_sandbox(struct io_loop *loop, enum sandbox_mode mode)
{
	loop->sandbox = mode;
}

int io_loop_start(struct io_loop *loop, struct phy_error *err)
{
	int r = phy_thread_create(&loop->thread, loop_thread, loop);
	if (r)
		return phy_err_errno(err, PHY_E_INTERNAL, r, "cannot start the device loop");
	loop->running = true;
	return 0;
}

void io_loop_stop(struct io_loop *loop)
{
	if (!loop->running)
		return;
	uint64_t one = 1;
	if (write(loop->stop_fd, &one, sizeof(one)) < 0) {
		/* Cannot fail on an eventfd short of overflow; nothing to do. */
	}
	pthread_join(loop->thread, NULL);
	loop->running = false;
}

void io_loop_stats(const struct io_loop *loop, uint64_t *sqes,
		   uint64_t *enters)
{
	*sqes = loop->sqes;
	*enters = loop->enters;
}
