// SPDX-License-Identifier: Apache-2.0
/*
 * The GPU thread: the only thread that runs commands and calls
 * virglrenderer. Others leave it work under dev->lock and write its
 * eventfd: queue notifications (kick_seq), a driver reset (reset_req), a
 * call such as a screenshot (call), the end (stopping). It sleeps in
 * poll() on that eventfd and, while fences are pending, on
 * virglrenderer's fence eventfd (or a 1 ms tick when there is none).
 *
 * Priorities, highest first: stop, reset, calls, queues, fences. A reset
 * waits at most for the command in progress.
 */
#define _GNU_SOURCE
#include "devices/virtio/virtio_gpu_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/error.h"
#include "common/sandbox.h"
#include "common/thread.h"

void gpu_wake(struct virtio_gpu *gpu)
{
	uint64_t one = 1;
	/* Cannot fail on an eventfd short of overflow, which needs 2^64
	 * wake-ups nobody consumed. */
	if (write(gpu->wake_fd, &one, sizeof(one)) < 0)
		return;
}

bool gpu_serving(const struct virtio_gpu *gpu)
{
	return !gpu->stopping && !gpu->resetting &&
	       virtio_dev_running(&gpu->dev);
}

/* Every guest-made object goes; so do the answers waiting for fences
 * (the driver will not look for them after a reset). */
static void do_reset(struct virtio_gpu *gpu)
{
	gpu_destroy_all(gpu);
	pthread_mutex_lock(&gpu->dev.lock);
	gpu->nr_fences = 0;
	gpu->reset_done = gpu->reset_req;
	pthread_cond_broadcast(&gpu->dev.cond);
	pthread_mutex_unlock(&gpu->dev.lock);
}

static void do_call(struct virtio_gpu *gpu)
{
	struct gpu_call *c = gpu->call;
	pthread_mutex_unlock(&gpu->dev.lock);
	c->fn(gpu, c->arg);
	pthread_mutex_lock(&gpu->dev.lock);
	c->done = true;
	gpu->call = NULL;
	pthread_cond_broadcast(&gpu->dev.cond);
}

/* Sleeps until woken, or until virglrenderer may have retired a fence:
 * its eventfd says so when it has one (the timeout is a backstop),
 * otherwise it is asked every millisecond. */
static void wait_for_work(struct virtio_gpu *gpu, bool fences_pending)
{
	struct pollfd fds[2] = {{.fd = gpu->wake_fd, .events = POLLIN}};
	nfds_t n = 1;
	int timeout = -1;

	if (fences_pending && gpu->virgl_fd >= 0) {
		fds[n++] =
			(struct pollfd){.fd = gpu->virgl_fd, .events = POLLIN};
		timeout = 10;
	} else if (fences_pending) {
		timeout = 1;
	}
	if (poll(fds, n, timeout) > 0 && (fds[0].revents & POLLIN)) {
		uint64_t v;
		if (read(gpu->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			return;
	}
}

static void gpu_loop(struct virtio_gpu *gpu)
{
	pthread_mutex_lock(&gpu->dev.lock);
	while (!gpu->stopping) {
		if (gpu->reset_done != gpu->reset_req) {
			pthread_mutex_unlock(&gpu->dev.lock);
			do_reset(gpu);
			pthread_mutex_lock(&gpu->dev.lock);
			continue;
		}
		if (gpu->call) {
			do_call(gpu);
			continue;
		}
		if (gpu->kick_seq != gpu->served_seq) {
			gpu->served_seq = gpu->kick_seq;
			gpu->busy = true;
			pthread_mutex_unlock(&gpu->dev.lock);
			gpu_serve_queues(gpu);
			gpu_virgl_poll(gpu);
			pthread_mutex_lock(&gpu->dev.lock);
			gpu->busy = false;
			continue;
		}
		bool fences = gpu->nr_fences > 0;
		/* Idle unless fences are pending: tell whoever waits. */
		pthread_cond_broadcast(&gpu->dev.cond);
		pthread_mutex_unlock(&gpu->dev.lock);
		wait_for_work(gpu, fences);
		gpu_virgl_poll(gpu);
		pthread_mutex_lock(&gpu->dev.lock);
	}
	pthread_mutex_unlock(&gpu->dev.lock);
}

static void *gpu_thread(void *opaque)
{
	struct virtio_gpu *gpu = opaque;
	pthread_setname_np(pthread_self(), "phy-gpu");
	/* Before virglrenderer starts: Mesa's helper threads (llvmpipe,
	 * vrend-sync) are started there and inherit the filter. */
	sandbox_enter(gpu->sandbox, SANDBOX_GPU);

	if (gpu->virgl)
		gpu_virgl_start(gpu);
	pthread_mutex_lock(&gpu->dev.lock);
	gpu->started = true;
	pthread_cond_broadcast(&gpu->dev.cond);
	pthread_mutex_unlock(&gpu->dev.lock);

	gpu_loop(gpu);

	gpu_destroy_all(gpu);
	if (gpu->virgl)
		gpu_virgl_stop(gpu);
	return NULL;
}

int gpu_thread_start(struct virtio_gpu *gpu, struct phy_error *err)
{
	gpu->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (gpu->wake_fd < 0)
		return phy_err_errno(err, PHY_E_INTERNAL, errno, "%s: eventfd",
				     gpu->name);
	int r = phy_thread_create(&gpu->thread, gpu_thread, gpu);
	if (r) {
		close(gpu->wake_fd);
		return phy_err_errno(err, PHY_E_INTERNAL, r,
				     "%s: cannot start the GPU thread",
				     gpu->name);
	}
	/* The features depend on whether virglrenderer started. */
	pthread_mutex_lock(&gpu->dev.lock);
	while (!gpu->started)
		pthread_cond_wait(&gpu->dev.cond, &gpu->dev.lock);
	pthread_mutex_unlock(&gpu->dev.lock);
	return 0;
}

void gpu_thread_stop(struct virtio_gpu *gpu)
{
	pthread_mutex_lock(&gpu->dev.lock);
	gpu->stopping = true;
	pthread_mutex_unlock(&gpu->dev.lock);
	gpu_wake(gpu);
	pthread_join(gpu->thread, NULL);
	close(gpu->wake_fd);
}

int gpu_call(struct virtio_gpu *gpu, void (*fn)(struct virtio_gpu *, void *),
	     void *arg)
{
	if (pthread_equal(pthread_self(), gpu->thread))
		return -1;
	struct gpu_call c = {.fn = fn, .arg = arg};

	pthread_mutex_lock(&gpu->dev.lock);
	while (gpu->call)
		pthread_cond_wait(&gpu->dev.cond, &gpu->dev.lock);
	gpu->call = &c;
	pthread_mutex_unlock(&gpu->dev.lock);
	gpu_wake(gpu);
	pthread_mutex_lock(&gpu->dev.lock);
	while (!c.done)
		pthread_cond_wait(&gpu->dev.cond, &gpu->dev.lock);
	pthread_mutex_unlock(&gpu->dev.lock);
	return 0;
}

static bool idle(const struct virtio_gpu *gpu)
{
	return gpu->kick_seq == gpu->served_seq && !gpu->busy &&
	       !gpu->nr_fences && !gpu->call &&
	       gpu->reset_done == gpu->reset_req;
}

void virtio_gpu_wait_idle(struct virtio_gpu *gpu)
{
	pthread_mutex_lock(&gpu->dev.lock);
	while (!idle(gpu))
		pthread_cond_wait(&gpu->dev.cond, &gpu->dev.lock);
	pthread_mutex_unlock(&gpu->dev.lock);
}
