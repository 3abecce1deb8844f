// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-fs over vhost-user: virtio_fs.h describes the device, its
 * eventfds and what happens when the back end dies.
 */
#include "devices/virtio/virtio_fs.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/virtio_fs.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "common/error.h"
#include "common/io_loop.h"
#include "devices/vhost/vhost_user_link.h"

struct fs_queue {
	struct virtio_fs *fs;
	unsigned q;
	int kick, call;
};

struct virtio_fs {
	struct virtio_dev dev;
	char name[32];
	struct virtio_fs_config config;
	struct vhost_user *vu;
	struct vhost_user_link link;
	struct virtqueue *vqs;
	struct fs_queue *fq;
	unsigned nr_queues;
	bool started; /* the back end has the rings */
	bool gone;    /* its loss was logged: log its return */
	struct virtio_fs_stats stats;
};

static void fs_log(struct virtio_fs *fs, const char *what, const char *why)
{
	char msg[256];
	snprintf(msg, sizeof(msg), "%s: vhost-user back end at %s: %s%s%s", fs->name,
		 fs->vu->path, what, why ? ": " : "", why ? why : "");
	if (fs->dev.log)
		fs->dev.log(fs->dev.log_opaque, msg);
}

/* The back end is gone (or never came): the device keeps running and the
 * link dials again. Not DEVICE_NEEDS_RESET: Linux's virtio-fs driver
 * never resets its device, so that would end the share until a reboot.
 * Lock held. */
static void fs_gone(struct virtio_fs *fs, const char *what, const char *why)
{
	vhost_user_disconnect(fs->vu);
	fs->started = false;
	if (!fs->gone)
		fs_log(fs, what, why);
	fs->gone = true;
}

/*
 * Hands the rings over. A new back end after a lost one starts at the
 * used index the guest sees: the requests the old one took and never
 * answered are handed again, and a fresh back end answers them (with an
 * error: the guest's FUSE session was with the old one), which unblocks
 * whoever waits for them. One that answered out of order and died may
 * see a request again that was answered: that is the cost of not
 * knowing what it held.
 */
static int fs_start_rings(struct virtio_fs *fs, bool resume, const char **why)
{
	struct vhost_user_ring rings[VIRTIO_FS_MAX_REQUEST_QUEUES + 1];
	uint64_t ring_bits = 1ull << VIRTIO_RING_F_EVENT_IDX |
			     1ull << VIRTIO_RING_F_INDIRECT_DESC;
	if (fs->dev.driver_features & ring_bits & ~fs->vu->features) {
		*why = "it lacks a ring feature the driver took";
		vhost_user_disconnect(fs->vu);
		return -1;
	}
	for (unsigned q = 0; q < fs->nr_queues; q++) {
		const struct virtqueue *vq = &fs->vqs[q];
		uint16_t used = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
		rings[q] = (struct vhost_user_ring){
			.num = vq->size, .base = resume ? le16toh(used) : 0,
			.desc = vq->desc, .avail = vq->avail, .used = vq->used,
			.kick = fs->fq[q].kick, .call = fs->fq[q].call,
		};
	}
	/* Device bits only: the transport's own (VERSION_1, ring layout) are
	 * the back end's business too, it reads the rings. */
	if (vhost_user_start(fs->vu, fs->dev.mem, fs->dev.driver_features, rings,
			     fs->nr_queues, why))
		return -1;
	fs->started = true;
	return 0;
}

/* Connects if the session ended, then starts the rings: 0, or -1 with
 * the session ended and counted (not a dial nobody answered). */
static int fs_bring_up(struct virtio_fs *fs, bool resume, const char **what,
		       const char **why)
{
	bool dialled = !vhost_user_connected(fs->vu) || vhost_user_broken(fs->vu);
	if (dialled) {
		int r = vhost_user_connect(fs->vu, fs->nr_queues, why);
		*what = "cannot connect";
		if (r) {
			fs->stats.failures += r != VHOST_USER_NO_PEER;
			return -1;
		}
	}
	*what = "starting the rings";
	if (fs_start_rings(fs, resume, why)) {
		fs->stats.failures++;
		return -1;
	}
	fs->stats.connects += dialled;
	if (fs->gone)
		fs_log(fs, "back", NULL);
	fs->gone = false;
	return 0;
}

static int fs_activate(struct virtio_dev *dev)
{
	struct virtio_fs *fs = dev->opaque;
	const char *what, *why;
	for (unsigned q = 0; q < fs->nr_queues; q++)
		if (!fs->vqs[q].ready) {
			virtio_dev_fail(dev, (int)q, "DRIVER_OK with a queue not enabled");
			return 0;
		}
	if (fs_bring_up(fs, false, &what, &why))
		fs_gone(fs, what, why);
	vhost_user_link_update(&fs->link);
	return 0;
}

static void fs_stop(struct virtio_fs *fs)
{
	const char *why;
	if (fs->started && vhost_user_stop(fs->vu, fs->nr_queues, NULL, &why))
		fs->stats.failures++; /* ended; the next DRIVER_OK reconnects */
	fs->started = false;
}

static void fs_reset(struct virtio_dev *dev)
{
	struct virtio_fs *fs = dev->opaque;
	fs_stop(fs);
	vhost_user_link_update(&fs->link);
}

/* Loop thread: the guest notified queue q; pass it on. Without a back
 * end the kick is dropped: a new one gets one kick per queue. */
static void fs_queue_notify(struct virtio_dev *dev, unsigned q)
{
	struct virtio_fs *fs = dev->opaque;
	uint64_t one = 1;
	pthread_mutex_lock(&dev->lock);
	if (fs->started && q < fs->nr_queues) {
		fs->stats.kicks++;
		if (write(fs->fq[q].kick, &one, sizeof(one)) < 0) {
			/* A full counter: the back end has kicks to read. */
		}
	}
	pthread_mutex_unlock(&dev->lock);
}

/* Loop thread: the back end signalled queue q. */
static void fs_called(void *opaque)
{
	struct fs_queue *fq = opaque;
	struct virtio_fs *fs = fq->fs;
	pthread_mutex_lock(&fs->dev.lock);
	if (virtio_dev_running(&fs->dev) && fs->dev.transport_ops) {
		fs->stats.calls++;
		fs->dev.transport_ops->notify_queue(fs->dev.transport, fq->q);
	}
	pthread_mutex_unlock(&fs->dev.lock);
}

/* ---- the link's hooks (loop thread, lock held) ---- */

static enum vhost_user_want fs_want(void *opaque)
{
	struct virtio_fs *fs = opaque;
	if (fs->started)
		return VHOST_USER_UP;
	return virtio_dev_running(&fs->dev) ? VHOST_USER_DOWN : VHOST_USER_IDLE;
}

static void fs_lost(void *opaque)
{
	struct virtio_fs *fs = opaque;
	fs->stats.failures++;
	fs_gone(fs, "lost", "it hung up or sent an unasked message; reconnecting");
}

static int fs_restart(void *opaque)
{
	struct virtio_fs *fs = opaque;
	const char *what, *why;
	uint64_t one = 1;
	if (fs_bring_up(fs, true, &what, &why))
		return -1;
	/* The guest's kicks while it was gone were dropped. */
	for (unsigned q = 0; q < fs->nr_queues; q++)
		if (write(fs->fq[q].kick, &one, sizeof(one)) < 0) {
			/* A full counter is a kick too. */
		}
	return 0;
}

static const struct vhost_user_link_ops fs_link_ops = {
	.want = fs_want,
	.lost = fs_lost,
	.restart = fs_restart,
};

static const struct virtio_dev_ops fs_ops = {
	.activate = fs_activate,
	.reset = fs_reset,
	.queue_notify = fs_queue_notify,
};

static int fs_eventfds(struct virtio_fs *fs, struct io_loop *loop,
		       struct phy_error *err)
{
	for (unsigned q = 0; q < fs->nr_queues; q++) {
		struct fs_queue *fq = &fs->fq[q];
		/* The call is blocking: io_uring then polls it (see
		 * virtio_pci.c); nobody but the back end writes it. */
		fq->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		fq->call = eventfd(0, EFD_CLOEXEC);
		if (fq->kick < 0 || fq->call < 0)
			return phy_err_errno(err, PHY_E_IO, errno, "%s: eventfd", fs->name);
		if (loop) {
			int ret = io_loop_watch_eventfd(loop, fq->call, fs_called, fq, err);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static uint64_t fs_features(const struct vhost_user *vu)
{
	uint64_t ring = 1ull << VIRTIO_RING_F_EVENT_IDX |
			1ull << VIRTIO_RING_F_INDIRECT_DESC;
	/* Unconnected (a back end that died before this boot): the common
	 * ring features every virtiofsd has. */
	return vhost_user_connected(vu) ? vu->features & ring : ring;
}

int virtio_fs_create(struct virtio_fs **out, const struct virtio_fs_params *p,
		     const char *name, const struct guest_mem *mem,
		     struct io_loop *loop, struct phy_error *err)
{
	size_t tag = strlen(p->tag);
	if (!tag || tag > VIRTIO_FS_TAG_LEN || !p->request_queues ||
	    p->request_queues > VIRTIO_FS_MAX_REQUEST_QUEUES)
		return phy_err(err, PHY_E_INVALID, "%s: bad tag or queue count", name);
	struct virtio_fs *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return phy_err(err, PHY_E_NOMEM, "%s: out of memory", name);
	snprintf(fs->name, sizeof(fs->name), "%s", name);
	fs->vu = p->session;
	fs->nr_queues = p->request_queues + 1;
	memcpy(fs->config.tag, p->tag, tag);
	fs->config.num_request_queues = p->request_queues; /* x86: LE */
	fs->vqs = calloc(fs->nr_queues, sizeof(*fs->vqs));
	fs->fq = calloc(fs->nr_queues, sizeof(*fs->fq));
	if (!fs->vqs || !fs->fq) {
		free(fs->vqs);
		free(fs->fq);
		free(fs);
		return phy_err(err, PHY_E_NOMEM, "%s: out of memory", name);
	}
	for (unsigned q = 0; q < fs->nr_queues; q++)
		fs->fq[q] = (struct fs_queue){fs, q, -1, -1};
	virtio_dev_init(&fs->dev, fs->name, VIRTIO_ID_FS, fs_features(fs->vu),
			sizeof(fs->config), fs->vqs, fs->nr_queues, p->queue_size,
			mem, &fs_ops, fs);
	fs->dev.config = &fs->config;
	int ret = vhost_user_link_init(&fs->link, fs->vu, loop, &fs->dev.lock,
				       &fs_link_ops, fs, err);
	if (ret) {
		virtio_fs_destroy(fs);
		return ret;
	}
	ret = fs_eventfds(fs, loop, err);
	if (ret) {
		virtio_fs_destroy(fs);
		return ret;
	}
	*out = fs;
	return 0;
}

struct virtio_dev *virtio_fs_dev(struct virtio_fs *fs)
{
	return &fs->dev;
}

void virtio_fs_destroy(struct virtio_fs *fs)
{
	if (!fs)
		return;
	pthread_mutex_lock(&fs->dev.lock);
	fs_stop(fs);
	pthread_mutex_unlock(&fs->dev.lock);
	vhost_user_link_destroy(&fs->link);
	for (unsigned q = 0; q < fs->nr_queues; q++) {
		if (fs->fq[q].kick >= 0)
			close(fs->fq[q].kick);
		if (fs->fq[q].call >= 0)
			close(fs->fq[q].call);
	}
	virtio_dev_destroy(&fs->dev);
	free(fs->vqs);
	free(fs->fq);
	free(fs);
}

void virtio_fs_stats(struct virtio_fs *fs, struct virtio_fs_stats *out)
{
	pthread_mutex_lock(&fs->dev.lock);
	*out = fs->stats;
	pthread_mutex_unlock(&fs->dev.lock);
}
