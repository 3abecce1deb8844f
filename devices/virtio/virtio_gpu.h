/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-gpu (virtio 1.2 § 5.7): a control queue and a cursor queue, the 2D
 * command set on host-memory resources, and, in 3D mode, the virgl command
 * set rendered by virglrenderer on EGL surfaceless (Mesa's llvmpipe where
 * there is no GPU). Scanouts can be read back and written as PNG files at
 * any time.
 *
 * Threads: the device owns one GPU thread, which alone calls
 * virglrenderer, executes every command and pushes every used entry. The
 * transport's queue notifications (device loop thread) only wake it. A
 * driver reset (vCPU thread, dev->lock held) hands the clean-up to the GPU
 * thread and waits for it, so no command touches guest memory once it
 * returns and the resources and contexts the guest left are gone.
 *
 * virglrenderer is a process-wide singleton: one device per process gets
 * 3D; another asking for it gets 2D and says why.
 */
#ifndef PHY_DEVICES_VIRTIO_VIRTIO_GPU_H
#define PHY_DEVICES_VIRTIO_VIRTIO_GPU_H

#include <stdbool.h>
#include <stdint.h>

#include <phyllome/vmm.h>

#include "common/guest_mem.h"
#include "common/latency_hist.h"
#include "common/sandbox.h"
#include "devices/virtio/virtio_dev.h"

struct virtio_gpu;

enum virtio_gpu_mode {
	VIRTIO_GPU_MODE_2D,
	VIRTIO_GPU_MODE_VIRGL,
};

#define VIRTIO_GPU_DEFAULT_WIDTH 1024
#define VIRTIO_GPU_DEFAULT_HEIGHT 768
#define VIRTIO_GPU_DEFAULT_HOST_MEM (256ull << 20)
/* Display sizes the device offers (an EDID detailed timing holds 12 bits). */
#define VIRTIO_GPU_MIN_DISPLAY 16
#define VIRTIO_GPU_MAX_DISPLAY 4095

struct virtio_gpu_params {
	enum virtio_gpu_mode mode;
	unsigned width, height; /* each output's preferred mode; 0: default */
	unsigned outputs;	/* scanouts, 1..16; 0: 1 */
	/* Host memory the guest's resources may take, in bytes (pixels,
	 * textures as virglrenderer will hold them, backing tables); 0:
	 * VIRTIO_GPU_DEFAULT_HOST_MEM. */
	uint64_t max_host_mem;
	enum sandbox_mode sandbox; /* the GPU thread's seccomp filter */
};

/*
 * Creates the device and starts its GPU thread. With mode VIRGL, the
 * thread starts virglrenderer first; if that cannot be done the device
 * runs in 2D and virtio_gpu_fallback_reason() says why. `name` is copied;
 * mem must outlive the device. Fails only for bad parameters or when out
 * of host resources.
 */
int virtio_gpu_create(struct virtio_gpu **out,
		      const struct virtio_gpu_params *params, const char *name,
		      const struct guest_mem *mem, struct phy_error *err);

/* The transport-independent device, for the transport to plug in. */
struct virtio_dev *virtio_gpu_dev(struct virtio_gpu *gpu);

/* Whether 3D is on (VIRTIO_GPU_F_VIRGL offered). */
bool virtio_gpu_has_virgl(const struct virtio_gpu *gpu);

/* One line on why mode VIRGL runs in 2D, or NULL when it does not. */
const char *virtio_gpu_fallback_reason(const struct virtio_gpu *gpu);

/* An image read from a scanout: rows top to bottom, 3 bytes (R, G, B) a
 * pixel, no padding. Free rgb with free(). */
struct virtio_gpu_image {
	unsigned width, height;
	uint8_t *rgb;
};

/*
 * What scanout `index` shows now, the right way up. From any thread but
 * the GPU thread (the request is handed to it, and waited for).
 * PHY_E_INVALID: no such scanout, or it shows nothing; PHY_E_IO: the
 * image cannot be read (an unsupported pixel format, virglrenderer
 * refused).
 */
int virtio_gpu_read_scanout(struct virtio_gpu *gpu, unsigned index,
			    struct virtio_gpu_image *img,
			    struct phy_error *err);

/* The same, written to `path` as an 8-bit RGB PNG. */
int virtio_gpu_screenshot(struct virtio_gpu *gpu, unsigned index,
			  const char *path, struct phy_error *err);

/* The cursor the driver set (UPDATE_CURSOR), as the GPU thread saw it. */
struct virtio_gpu_cursor {
	bool visible;
	uint32_t scanout, x, y, hot_x, hot_y;
	uint8_t rgba[64 * 64 * 4]; /* rows top to bottom, R, G, B, A */
};
int virtio_gpu_read_cursor(struct virtio_gpu *gpu,
			   struct virtio_gpu_cursor *cursor,
			   struct phy_error *err);

/* What the device counted since it was created. */
struct virtio_gpu_stats {
	uint64_t submits; /* SUBMIT_3D commands served */
	/* Fenced SUBMIT_3D commands answered: the time from taking each off
	 * the control queue to returning it once virglrenderer retired the
	 * fence made after it (the guest sees its fence signalled then). */
	struct latency_hist fence_latency;
};
/* A copy of the counters; any thread. */
void virtio_gpu_stats(struct virtio_gpu *gpu, struct virtio_gpu_stats *out);

/* Host memory charged to the guest's resources now, in bytes. */
uint64_t virtio_gpu_host_mem(struct virtio_gpu *gpu);

/*
 * Waits until the GPU thread has served every notification so far and
 * retired every fence (tests, fuzzing). Not from the GPU thread.
 */
void virtio_gpu_wait_idle(struct virtio_gpu *gpu);

/* Stops the GPU thread (which frees what the guest left and releases
 * virglrenderer) and frees the device. No transport may call it any more.
 * NULL is allowed. */
void virtio_gpu_destroy(struct virtio_gpu *gpu);

#endif
