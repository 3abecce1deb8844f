/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keeps a vhost-user device's back end on the device loop, so that the
 * device survives the back end's restart without the guest noticing
 * more than failed requests:
 *   - while the back end holds the rings, a poll on the session's socket
 *     sees it hang up (or speak unasked) at once, not at the next guest
 *     notification;
 *   - while the device runs without one, a timer dials again: 200 ms
 *     after the loss, then each failed attempt doubles the wait up to
 *     1 s, and so does a loss within 1 s of coming back (a back end that
 *     accepts and dies at once costs one attempt a second, no spin).
 * Device-independent: the device says what it needs (want) and does the
 * work in its hooks (lost, restart); virtio-fs is the first user, a
 * vhost-user-blk would be the next.
 *
 * Threads: vhost_user_link_update() from any thread with the device's
 * lock held (a vCPU that started or reset the device); the rest runs on
 * the loop thread, which takes that lock around the hooks. restart()
 * talks to the back end on the loop thread: a back end that accepts and
 * then says nothing stalls the loop for the session's reply timeout per
 * attempt, no more, and the wait before the next attempt grows.
 */
#ifndef PHY_DEVICES_VHOST_VHOST_USER_LINK_H
#define PHY_DEVICES_VHOST_VHOST_USER_LINK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/time_types.h>

#include <phyllome/vmm.h>

#include "common/io_loop.h"
#include "devices/vhost/vhost_user.h"

enum vhost_user_want {
	VHOST_USER_IDLE, /* no rings with a back end and none wanted */
	VHOST_USER_UP,	 /* the back end has the rings: watch its socket */
	VHOST_USER_DOWN, /* the device runs without a back end: dial again */
};

/* Called with the device's lock held. */
struct vhost_user_link_ops {
	enum vhost_user_want (*want)(void *opaque);
	/* The back end hung up or spoke unasked: end the session. */
	void (*lost)(void *opaque);
	/* One attempt to bring a back end back: 0 once it has the rings. */
	int (*restart)(void *opaque);
};

struct vhost_user_link {
	struct vhost_user *vu;
	struct io_loop *loop; /* NULL: nothing is watched (tests) */
	pthread_mutex_t *lock;
	const struct vhost_user_link_ops *ops;
	void *opaque;
	int wake_fd;
	/* Loop thread only, from here on. */
	struct io_op hup_op, timer_op;
	bool hup_armed, hup_cancelled, timer_armed, timer_cancelled;
	bool stopping;
	uint64_t hup_session; /* vu->sessions the poll watches */
	struct __kernel_timespec ts;
	unsigned backoff_ms;  /* before the next attempt */
	uint64_t up_since_ns; /* the last restart that worked */
};

int vhost_user_link_init(struct vhost_user_link *l, struct vhost_user *vu,
			 struct io_loop *loop, pthread_mutex_t *lock,
			 const struct vhost_user_link_ops *ops, void *opaque,
			 struct phy_error *err);
/* The loop must be stopped (or never started, or not running: tests). */
void vhost_user_link_destroy(struct vhost_user_link *l);

/* What the device wants changed: the loop looks again. Lock held. */
void vhost_user_link_update(struct vhost_user_link *l);

#endif
