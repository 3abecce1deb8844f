// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-fs over vhost-user: virtio_fs.h describes the device, its
 * eventfds and what happens when the back end dies.
 */
#include "devices/virtio/virtio_fs.h"

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
	struct virtqueue *vqs;
	struct fs_queue *fq;
	unsigned nr_queues;
	bool started; /* the back end has the rings */
	struct virtio_fs_stats stats;
};

/* The session ended on an error: the device needs a reset. Lock held. */
static void fs_broken(struct virtio_fs *fs, const char *what, const char *why)
{
	char msg[200];
	snprintf(msg, sizeof(msg), "vhost-user back end at %s: %s: %s",
		 fs->vu->path, what, why);
	vhost_user_disconnect(fs->vu);
	fs->started = false;
	fs->stats.failures++;
	virtio_dev_fail(&fs->dev, -1, msg);
}

static int fs_activate(struct virtio_dev *dev)
{
	struct virtio_fs *fs = dev->opaque;
	struct vhost_user_ring rings[VIRTIO_FS_MAX_REQUEST_QUEUES + 1];
	const char *why;
	for (unsigned q = 0; q < fs->nr_queues; q++) {
		const struct virtqueue *vq = &fs->vqs[q];
		if (!vq->ready) {
			virtio_dev_fail(dev, (int)q, "DRIVER_OK with a queue not enabled");
			return 0;
		}
		rings[q] = (struct vhost_user_ring){
			.num = vq->size, .base = 0,
			.desc = vq->desc, .avail = vq->avail, .used = vq->used,
			.kick = fs->fq[q].kick, .call = fs->fq[q].call,
		};
	}
	if (!vhost_user_connected(fs->vu) || vhost_user_broken(fs->vu)) {
		if (vhost_user_connect(fs->vu, fs->nr_queues, &why)) {
			fs_broken(fs, "cannot connect", why);
			return 0;
		}
		fs->stats.connects++;
	}
	/* Device bits only: the transport's own (VERSION_1, ring layout) are
	 * the back end's business too, it reads the rings. */
	if (vhost_user_start(fs->vu, dev->mem, dev->driver_features, rings,
			     fs->nr_queues, &why)) {
		fs_broken(fs, "starting the rings", why);
		return 0;
	}
	fs->started = true;
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
	fs_stop(dev->opaque);
}

/* Loop thread: the guest notified queue q; pass it on. */
static void fs_queue_notify(struct virtio_dev *dev, unsigned q)
{
	struct virtio_fs *fs = dev->opaque;
	uint64_t one = 1;
	pthread_mutex_lock(&dev->lock);
	if (fs->started && vhost_user_broken(fs->vu))
		fs_broken(fs, "lost", "it hung up or sent an unasked message");
	else if (fs->started && q < fs->nr_queues) {
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
	int ret = fs_eventfds(fs, loop, err);
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
