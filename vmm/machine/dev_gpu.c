// SPDX-License-Identifier: Apache-2.0
/*
 * --gpu: virtio-gpu, 2D or 3D on virglrenderer. Screenshots (from any
 * thread: the embedder, the control API) and the counters need the live
 * device across reboots that replace it, so the row's VM-lifetime state
 * keeps it under a lock of its own, with what earlier devices counted.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/error.h"
#include "devices/virtio/virtio_gpu.h"
#include "vmm/config/config_gpu.h"
#include "vmm/machine/device.h"
#include "vmm/machine/rows.h"
#include "vmm/vm_internal.h"

struct gpu_state {
	pthread_mutex_t lock;
	struct virtio_gpu *gpu; /* the live device, or NULL between machines */
	struct virtio_gpu_stats before; /* what earlier devices counted */
};

static int gpu_open(struct vm_device *d, struct phy_error *err)
{
	struct gpu_state *s = calloc(1, sizeof(*s));
	if (!s)
		return phy_err(err, PHY_E_NOMEM, "--gpu: out of memory");
	pthread_mutex_init(&s->lock, NULL);
	d->state = s;
	return 0;
}

static void gpu_close(struct vm_device *d)
{
	struct gpu_state *s = d->state;
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static int gpu_create(struct vm_device *d, struct machine *m,
		      struct phy_error *err)
{
	const struct gpu_config *g = d->conf;
	struct gpu_state *s = d->state;
	struct virtio_gpu_params p = {
		.mode = g->mode == GPU_VIRGL ? VIRTIO_GPU_MODE_VIRGL : VIRTIO_GPU_MODE_2D,
		.width = g->width,
		.height = g->height,
		.outputs = g->outputs,
		.max_host_mem = g->max_host_mem,
		.sandbox = d->vm->cfg.seccomp,
	};
	struct virtio_gpu *gpu;
	int ret = virtio_gpu_create(&gpu, &p, d->name, &d->vm->mem, err);
	if (ret)
		return ret;
	pthread_mutex_lock(&s->lock);
	s->gpu = gpu;
	pthread_mutex_unlock(&s->lock);
	d->dev = gpu;
	/* No EGL or no virglrenderer: the guest still gets a display. Said
	 * once, not on every reboot. */
	const char *why = virtio_gpu_fallback_reason(gpu);
	if (why && d->vm->reboots == 0) {
		char msg[PHY_ERROR_MESSAGE_MAX];
		snprintf(msg, sizeof(msg),
			 "--gpu: mode=virgl is not available, running mode=2d: %s", why);
		vm_log(d->vm, msg);
	}
	return machine_plug_virtio(m, d, virtio_gpu_dev(gpu), err);
}

static void add_stats(struct virtio_gpu_stats *into,
		      const struct virtio_gpu_stats *from)
{
	into->submits += from->submits;
	latency_hist_merge(&into->fence_latency, &from->fence_latency);
}

static void gpu_destroy(struct vm_device *d)
{
	struct gpu_state *s = d->state;
	pthread_mutex_lock(&s->lock);
	if (s->gpu) {
		struct virtio_gpu_stats now;
		virtio_gpu_stats(s->gpu, &now);
		add_stats(&s->before, &now);
	}
	virtio_gpu_destroy(s->gpu);
	s->gpu = NULL;
	pthread_mutex_unlock(&s->lock);
	d->dev = NULL;
}

/* --screenshot-on-exit, once the vCPUs have stopped. */
static void gpu_stopped(struct vm_device *d)
{
	const char *path = d->vm->cfg.screenshot_on_exit;
	if (!path)
		return;
	struct phy_error err = { 0 };
	if (phy_vm_screenshot(d->vm, 0, path, &err)) {
		char msg[PHY_ERROR_MESSAGE_MAX + 64];
		snprintf(msg, sizeof(msg), "--screenshot-on-exit: %s", err.message);
		vm_log(d->vm, msg);
	}
}

static int gpu_stats(struct vm_device *d, void *out, struct phy_error *err)
{
	struct gpu_state *s = d->state;
	pthread_mutex_lock(&s->lock);
	struct virtio_gpu_stats st = s->before;
	if (s->gpu) {
		struct virtio_gpu_stats now;
		virtio_gpu_stats(s->gpu, &now);
		add_stats(&st, &now);
	}
	pthread_mutex_unlock(&s->lock);
	const struct latency_hist *h = &st.fence_latency;
	*(struct phy_gpu_stats *)out = (struct phy_gpu_stats){
		.submits = st.submits,
		.fences = h->count,
		.fence_latency_sum_ns = h->sum_ns,
		.fence_latency_max_ns = h->max_ns,
		.fence_latency_p50_ns = latency_hist_quantile(h, 0.50),
		.fence_latency_p90_ns = latency_hist_quantile(h, 0.90),
		.fence_latency_p99_ns = latency_hist_quantile(h, 0.99),
	};
	return 0;
}

const struct device_type virtio_gpu_type = {
	.name = "virtio-gpu",
	.numbered = true,
	.option = &gpu_option,
	.open = gpu_open,
	.close = gpu_close,
	.create = gpu_create,
	.destroy = gpu_destroy,
	.stopped = gpu_stopped,
	.stats = gpu_stats,
};

int phy_vm_gpu_stats(struct phy_vm *vm, struct phy_gpu_stats *out,
		     struct phy_error *err)
{
	if (!vm || !out)
		return phy_err(err, PHY_E_INVALID, "phy_vm_gpu_stats: NULL argument");
	if (!vm_device_find(vm, &virtio_gpu_type, 0))
		return phy_err(err, PHY_E_INVALID,
			       "phy_vm_gpu_stats: the VM has no GPU (--gpu)");
	return vm_device_stats(vm, &virtio_gpu_type, 0, out, "phy_vm_gpu_stats",
			       err);
}

/* From any thread: the GPU thread reads the scanout while the row's lock
 * keeps a reboot from freeing the device meanwhile. */
int phy_vm_screenshot(struct phy_vm *vm, unsigned scanout, const char *path,
		      struct phy_error *err)
{
	if (!vm || !path || !*path)
		return phy_err(err, PHY_E_INVALID, "phy_vm_screenshot: NULL argument");
	struct vm_device *d = vm_device_find(vm, &virtio_gpu_type, 0);
	if (!d)
		return phy_err(err, PHY_E_INVALID,
			       "phy_vm_screenshot: the VM has no GPU (--gpu)");
	struct gpu_state *s = d->state;
	pthread_mutex_lock(&s->lock);
	int ret = s->gpu ? virtio_gpu_screenshot(s->gpu, scanout, path, err)
			 : phy_err(err, PHY_E_STATE,
				   "phy_vm_screenshot: the VM is rebooting or gone");
	pthread_mutex_unlock(&s->lock);
	return ret;
}
