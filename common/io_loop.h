/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device loop: one thread and one io_uring. Queue notifications arrive
 * as completions of multishot polls on the devices' ioeventfds; devices
 * submit their backend I/O on the same ring, a few SQEs at a time
 * (io_loop.c says why), the last with the io_uring_enter() that also
 * waits for the next completion. No epoll, no thread per request, and
 * vCPU threads never touch the ring.
 *
 * Everything except create/destroy/start/stop runs on the loop thread,
 * or before start().
 */
#ifndef PHY_COMMON_IO_LOOP_H
#define PHY_COMMON_IO_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include <phyllome/vmm.h>

#include "common/sandbox.h"

struct io_loop;
struct io_uring_sqe;

/* Embedded in whatever an SQE works for; its address is the user_data. */
struct io_op {
	void (*done)(struct io_op *op, int res);
};

/* Called on the loop thread each time the eventfd was written. */
typedef void (*io_eventfd_fn)(void *opaque);

/* Called once after each batch of completions: the place to push used
 * buffers and raise one interrupt per queue instead of one per request. */
typedef void (*io_flush_fn)(void *opaque);

int io_loop_create(struct io_loop **out, unsigned entries,
		   struct phy_error *err);
void io_loop_destroy(struct io_loop *loop);

/* Watches an eventfd (before start, or from the loop thread). */
int io_loop_watch_eventfd(struct io_loop *loop, int fd, io_eventfd_fn fn,
			  void *opaque, struct phy_error *err);
int io_loop_add_flush(struct io_loop *loop, io_flush_fn fn, void *opaque,
		      struct phy_error *err);
/* Removes a hook added with the same fn and opaque (a device going away
 * while the loop lives on); from the loop thread or with it stopped. */
void io_loop_remove_flush(struct io_loop *loop, io_flush_fn fn, void *opaque);

/*
 * Called once on the loop thread when it is asked to stop, before it
 * waits for the in-flight operations: the place for a device to cancel
 * operations that may never finish on their own (a read on a tap).
 */
int io_loop_add_stop_hook(struct io_loop *loop, io_flush_fn fn, void *opaque,
			  struct phy_error *err);

void io_loop_remove_stop_hook(struct io_loop *loop, io_flush_fn fn,
			      void *opaque);

/* Asks the kernel to cancel op; op->done() then sees -ECANCELED (or its
 * result, if it finished first). Loop thread only. */
int io_loop_cancel(struct io_loop *loop, struct io_op *op);

int io_loop_start(struct io_loop *loop, struct phy_error *err);
/* The seccomp filter its thread installs (common/sandbox.h); before
 * io_loop_start(). */
void io_loop_set_sandbox(struct io_loop *loop, enum sandbox_mode mode);
/* Stops the thread and waits for it; in-flight I/O is waited for too. */
void io_loop_stop(struct io_loop *loop);

/* A free SQE whose user_data will be op; submits what is queued first if
 * the SQ ring is full. NULL only if the kernel refuses new work. */
struct io_uring_sqe *io_loop_sqe(struct io_loop *loop, struct io_op *op);

/* Runs one pass without a thread (tests, fuzzing): submits what is
 * queued, waits for at least one completion when wait is true, and
 * dispatches all completions. Returns completions handled, or -errno. */
int io_loop_run_once(struct io_loop *loop, bool wait);

/* Number of SQEs submitted and io_uring_enter() calls made (benchmarks). */
void io_loop_stats(const struct io_loop *loop, uint64_t *sqes,
		   uint64_t *enters);

#endif
