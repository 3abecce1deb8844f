// SPDX-License-Identifier: Apache-2.0
/*
 * The virtio-gpu device: what it offers (features, configuration space),
 * its virtio_dev ops, and its life cycle. The commands run on the GPU
 * thread (virtio_gpu_thread.c).
 */
#define _GNU_SOURCE
#include "devices/virtio/virtio_gpu_internal.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "common/error.h"

static struct virtio_gpu *to_gpu(struct virtio_dev *dev)
{
	return dev->opaque;
}

/* Only events_clear is writable: a 1 clears that bit of events_read. */
static void gpu_config_write(struct virtio_dev *dev, uint32_t off,
			     const void *data, uint32_t len)
{
	struct virtio_gpu_config *c = &to_gpu(dev)->config;
	const uint32_t at = offsetof(struct virtio_gpu_config, events_clear);
	uint8_t *events = (uint8_t *)&c->events_read;

	for (uint32_t i = 0; i < len; i++)
		if (off + i >= at && off + i < at + 4)
			events[off + i - at] &= ~((const uint8_t *)data)[i];
}

static int gpu_activate(struct virtio_dev *dev)
{
	return 0;
}

/* The GPU thread does the work (it alone may call virglrenderer): it
 * finishes the command it is on without answering it, then frees what
 * the guest created. Waiting drops dev->lock, which the GPU thread needs. */
static void gpu_reset(struct virtio_dev *dev)
{
	struct virtio_gpu *gpu = to_gpu(dev);
	unsigned ticket = ++gpu->reset_req;

	gpu->resetting = true;
	gpu_wake(gpu);
	while ((int)(gpu->reset_done - ticket) < 0)
		pthread_cond_wait(&dev->cond, &dev->lock);
	gpu->resetting = false;
}

/* Device loop thread: the GPU thread takes it from here. */
static void gpu_queue_notify(struct virtio_dev *dev, unsigned q)
{
	struct virtio_gpu *gpu = to_gpu(dev);

	pthread_mutex_lock(&dev->lock);
	gpu->kick_seq++;
	pthread_mutex_unlock(&dev->lock);
	gpu_wake(gpu);
}

static const struct virtio_dev_ops gpu_ops = {
	.config_write = gpu_config_write,
	.activate = gpu_activate,
	.reset = gpu_reset,
	.queue_notify = gpu_queue_notify,
};

static uint64_t gpu_features(const struct virtio_gpu *gpu)
{
	uint64_t f = 1ull << VIRTIO_GPU_F_EDID |
		     1ull << VIRTIO_RING_F_EVENT_IDX |
		     1ull << VIRTIO_RING_F_INDIRECT_DESC;
	if (gpu->virgl)
		f |= 1ull << VIRTIO_GPU_F_VIRGL;
	return f;
}

static int check_params(const struct virtio_gpu_params *p, const char *name,
			struct phy_error *err)
{
	if (p->mode != VIRTIO_GPU_MODE_2D && p->mode != VIRTIO_GPU_MODE_VIRGL)
		return phy_err(err, PHY_E_INVALID, "%s: unknown mode", name);
	if (p->outputs > VIRTIO_GPU_MAX_SCANOUTS)
		return phy_err(err, PHY_E_INVALID,
			       "%s: outputs=%u is not from 1 to %u", name,
			       p->outputs, VIRTIO_GPU_MAX_SCANOUTS);
	const unsigned dims[2] = {p->width, p->height};
	for (unsigned i = 0; i < 2; i++)
		if (dims[i] && (dims[i] < VIRTIO_GPU_MIN_DISPLAY ||
				dims[i] > VIRTIO_GPU_MAX_DISPLAY))
			return phy_err(err, PHY_E_INVALID,
				       "%s: %s=%u is not from %u to %u", name,
				       i ? "height" : "width", dims[i],
				       VIRTIO_GPU_MIN_DISPLAY,
				       VIRTIO_GPU_MAX_DISPLAY);
	if (p->max_host_mem && p->max_host_mem < (1u << 20))
		return phy_err(err, PHY_E_INVALID,
			       "%s: a host memory cap under 1 MiB leaves no "
			       "room for a screen",
			       name);
	return 0;
}

static void free_gpu(struct virtio_gpu *gpu)
{
	for (unsigned i = 0; i < VIRTIO_GPU_MAX_SCANOUTS; i++)
		free(gpu->scanouts[i].last.rgb);
	free(gpu->resp);
	free(gpu->submit_buf);
	free(gpu->name);
	free(gpu);
}

/* The response buffer holds the largest response: EDID, display info,
 * or the largest capset after its header. */
static int alloc_response(struct virtio_gpu *gpu)
{
	uint32_t size = sizeof(struct virtio_gpu_resp_edid);
	if (size < sizeof(struct virtio_gpu_resp_display_info))
		size = sizeof(struct virtio_gpu_resp_display_info);
	for (unsigned i = 0; i < gpu->nr_capsets; i++)
		if (size <
		    sizeof(struct virtio_gpu_ctrl_hdr) + gpu->capset_size[i])
			size = sizeof(struct virtio_gpu_ctrl_hdr) +
			       gpu->capset_size[i];
	gpu->resp = calloc(1, size);
	gpu->resp_size = size;
	return gpu->resp ? 0 : -1;
}

int virtio_gpu_create(struct virtio_gpu **out,
		      const struct virtio_gpu_params *params, const char *name,
		      const struct guest_mem *mem, struct phy_error *err)
{
	int r = check_params(params, name, err);
	if (r)
		return r;
	struct virtio_gpu *gpu = calloc(1, sizeof(*gpu));
	if (!gpu || !(gpu->name = strdup(name))) {
		free(gpu);
		return phy_err(err, PHY_E_NOMEM, "%s: out of memory", name);
	}
	gpu->mem = mem;
	gpu->width = params->width ? params->width : VIRTIO_GPU_DEFAULT_WIDTH;
	gpu->height =
		params->height ? params->height : VIRTIO_GPU_DEFAULT_HEIGHT;
	gpu->outputs = params->outputs ? params->outputs : 1;
	gpu->max_host_mem = params->max_host_mem ? params->max_host_mem
						 : VIRTIO_GPU_DEFAULT_HOST_MEM;
	gpu->virgl = params->mode == VIRTIO_GPU_MODE_VIRGL;
	gpu->sandbox = params->sandbox;
	gpu->virgl_fd = -1;
	/* Starts virglrenderer (on the GPU thread, where every later call
	 * must be made) before the features are fixed: a failure turns
	 * gpu->virgl off and says why in gpu->fallback. */
	virtio_dev_init(&gpu->dev, gpu->name, VIRTIO_ID_GPU, 0,
			sizeof(struct virtio_gpu_config), gpu->vqs,
			GPU_NR_QUEUES, GPU_QUEUE_SIZE, mem, &gpu_ops, gpu);
	gpu->dev.config = &gpu->config;
	r = gpu_thread_start(gpu, err);
	if (r) {
		virtio_dev_destroy(&gpu->dev);
		free_gpu(gpu);
		return r;
	}
	gpu->dev.host_features =
		gpu_features(gpu) | (1ull << VIRTIO_F_VERSION_1);
	gpu->config.num_scanouts = htole32(gpu->outputs);
	gpu->config.num_capsets = htole32(gpu->nr_capsets);
	if (alloc_response(gpu)) {
		virtio_gpu_destroy(gpu);
		return phy_err(err, PHY_E_NOMEM, "%s: out of memory", name);
	}
	*out = gpu;
	return 0;
}

struct virtio_dev *virtio_gpu_dev(struct virtio_gpu *gpu)
{
	return &gpu->dev;
}

bool virtio_gpu_has_virgl(const struct virtio_gpu *gpu)
{
	return gpu->virgl;
}

const char *virtio_gpu_fallback_reason(const struct virtio_gpu *gpu)
{
	return gpu->fallback[0] ? gpu->fallback : NULL;
}

uint64_t virtio_gpu_host_mem(struct virtio_gpu *gpu)
{
	return __atomic_load_n(&gpu->host_mem, __ATOMIC_RELAXED);
}

void virtio_gpu_stats(struct virtio_gpu *gpu, struct virtio_gpu_stats *out)
{
	pthread_mutex_lock(&gpu->dev.lock);
	*out = gpu->stats;
	pthread_mutex_unlock(&gpu->dev.lock);
}

void virtio_gpu_destroy(struct virtio_gpu *gpu)
{
	if (!gpu)
		return;
	gpu_thread_stop(gpu);
	virtio_dev_destroy(&gpu->dev);
	free_gpu(gpu);
}
