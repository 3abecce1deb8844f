// SPDX-License-Identifier: Apache-2.0
/*
 * A vhost-user back end watched and dialled again from the device loop:
 * vhost_user_link.h describes when. One poll and one timeout on the
 * loop's ring at most; link_sync() alone decides what is armed, from what the
 * device wants, so every event ends by calling it.
 */
#define _GNU_SOURCE
#include "devices/vhost/vhost_user_link.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <liburing.h>

#include "common/clock.h"
#include "common/error.h"

#define LINK_FIRST_MS 200
#define LINK_MAX_MS 1000

static void back_off(struct vhost_user_link *l)
{
	l->backoff_ms = l->backoff_ms * 2 > LINK_MAX_MS ? LINK_MAX_MS
							: l->backoff_ms * 2;
}

/* A poll, not a watch (io_loop_watch_eventfd): the socket changes with
 * every session, and a poll can be cancelled when it does. */
static void arm_hup(struct vhost_user_link *l)
{
	struct io_uring_sqe *sqe = io_loop_sqe(l->loop, &l->hup_op);
	if (!sqe)
		return; /* the next update or event tries again */
	io_uring_prep_poll_add(sqe, l->vu->sock, POLLIN | POLLRDHUP);
	l->hup_armed = true;
	l->hup_cancelled = false;
	l->hup_session = l->vu->sessions;
}

static void arm_timer(struct vhost_user_link *l)
{
	struct io_uring_sqe *sqe = io_loop_sqe(l->loop, &l->timer_op);
	if (!sqe)
		return;
	l->ts = phy_kernel_timespec((uint64_t)l->backoff_ms * 1000000);
	io_uring_prep_timeout(sqe, &l->ts, 0, 0);
	l->timer_armed = true;
	l->timer_cancelled = false;
}

/* Arms what the device's state needs and cancels the rest. Lock held. */
static void link_sync(struct vhost_user_link *l)
{
	enum vhost_user_want w =
		l->stopping ? VHOST_USER_IDLE : l->ops->want(l->opaque);
	bool hup_stale =
		w != VHOST_USER_UP || l->hup_session != l->vu->sessions;
	if (l->hup_armed && hup_stale && !l->hup_cancelled &&
	    !io_loop_cancel(l->loop, &l->hup_op))
		l->hup_cancelled = true;
	if (l->timer_armed && w != VHOST_USER_DOWN && !l->timer_cancelled &&
	    !io_loop_cancel(l->loop, &l->timer_op))
		l->timer_cancelled = true;
	if (!l->hup_armed && w == VHOST_USER_UP)
		arm_hup(l);
	if (!l->timer_armed && w == VHOST_USER_DOWN)
		arm_timer(l);
}

static void hup_done(struct io_op *op, int res)
{
	struct vhost_user_link *l =
		(void *)((char *)op - offsetof(struct vhost_user_link, hup_op));
	pthread_mutex_lock(l->lock);
	bool current = !l->hup_cancelled && l->hup_session == l->vu->sessions;
	l->hup_armed = false;
	/* POLLIN may be a reply that a vCPU has taken meanwhile: broken()
	 * looks again. A poll the kernel refuses ends the session too,
	 * rather than being armed again at once, for ever. */
	bool watched = current && !l->stopping &&
		       l->ops->want(l->opaque) == VHOST_USER_UP;
	if (watched &&
	    (res < 0 ? res != -ECANCELED : vhost_user_broken(l->vu))) {
		if (phy_monotonic_ns() - l->up_since_ns >= LINK_MAX_MS * 1000000ull)
			l->backoff_ms = LINK_FIRST_MS;
		else
			back_off(l);
		l->ops->lost(l->opaque);
	}
	link_sync(l);
	pthread_mutex_unlock(l->lock);
}

static void timer_done(struct io_op *op, int res)
{
	struct vhost_user_link *l =
		(void *)((char *)op -
			 offsetof(struct vhost_user_link, timer_op));
	(void)res; /* -ETIME, or -ECANCELED: the state says which matters */
	pthread_mutex_lock(l->lock);
	bool cancelled = l->timer_cancelled;
	l->timer_armed = false;
	if (!cancelled && !l->stopping &&
	    l->ops->want(l->opaque) == VHOST_USER_DOWN) {
		if (l->ops->restart(l->opaque))
			back_off(l);
		else
			l->up_since_ns = phy_monotonic_ns();
	}
	link_sync(l);
	pthread_mutex_unlock(l->lock);
}

static void woken(void *opaque)
{
	struct vhost_user_link *l = opaque;
	pthread_mutex_lock(l->lock);
	link_sync(l);
	pthread_mutex_unlock(l->lock);
}

/* The loop waits for its operations before it stops: cancel ours. */
static void loop_stopping(void *opaque)
{
	struct vhost_user_link *l = opaque;
	pthread_mutex_lock(l->lock);
	l->stopping = true;
	link_sync(l);
	pthread_mutex_unlock(l->lock);
}

int vhost_user_link_init(struct vhost_user_link *l, struct vhost_user *vu,
			 struct io_loop *loop, pthread_mutex_t *lock,
			 const struct vhost_user_link_ops *ops, void *opaque,
			 struct phy_error *err)
{
	*l = (struct vhost_user_link){
		.vu = vu,
		.loop = loop,
		.lock = lock,
		.ops = ops,
		.opaque = opaque,
		.wake_fd = -1,
		.hup_op.done = hup_done,
		.timer_op.done = timer_done,
		.backoff_ms = LINK_FIRST_MS,
	};
	if (!loop)
		return 0;
	/* Blocking, as every eventfd the loop watches (io_loop.c says why). */
	l->wake_fd = eventfd(0, EFD_CLOEXEC);
	if (l->wake_fd < 0)
		return phy_err_errno(err, PHY_E_IO, errno,
				     "vhost-user: eventfd");
	int ret = io_loop_add_stop_hook(loop, loop_stopping, l, err);
	if (!ret) {
		ret = io_loop_watch_eventfd(loop, l->wake_fd, woken, l, err);
		if (ret)
			io_loop_remove_stop_hook(loop, loop_stopping, l);
	}
	if (ret) {
		close(l->wake_fd);
		l->wake_fd = -1;
	}
	return ret;
}

void vhost_user_link_destroy(struct vhost_user_link *l)
{
	if (l->wake_fd < 0)
		return;
	io_loop_remove_stop_hook(l->loop, loop_stopping, l);
	close(l->wake_fd);
	l->wake_fd = -1;
}

void vhost_user_link_update(struct vhost_user_link *l)
{
	uint64_t one = 1;
	if (l->wake_fd >= 0 && write(l->wake_fd, &one, sizeof(one)) < 0) {
		/* Only on overflow: the loop has a wake-up to read anyway. */
	}
}
