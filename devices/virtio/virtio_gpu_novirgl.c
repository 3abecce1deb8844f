// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-gpu in a build without virglrenderer (cmake -DPHYLLOME_VIRGL=OFF):
 * the device is 2D only. The options refuse mode=virgl before a device is
 * made (vmm/config/config_gpu.c); a device asked for 3D anyway (tests,
 * embedders of the devices layer) says why it runs in 2D, as it does when
 * EGL is missing. With the VIRGL feature never offered, the guest's 3D
 * commands are unnegotiated and answered ERR_UNSPEC before they get here,
 * so the calls below the first three are not reached.
 */
#include "devices/virtio/virtio_gpu_internal.h"

#include <stdio.h>

void gpu_virgl_start(struct virtio_gpu *gpu)
{
	snprintf(gpu->fallback, sizeof(gpu->fallback),
		 "%.40s: 3D is off, running in 2D: this build has no virglrenderer "
		 "(cmake -DPHYLLOME_VIRGL=OFF)", gpu->name);
	gpu->virgl = false;
}

void gpu_virgl_stop(struct virtio_gpu *gpu)
{
}

void gpu_virgl_poll(struct virtio_gpu *gpu)
{
}

int gpu_virgl_create_2d(const struct gpu_resource *res)
{
	return -1;
}

int gpu_virgl_write_2d(uint32_t id, uint32_t x, uint32_t y, uint32_t w,
		       uint32_t h, uint64_t off)
{
	return -1;
}

int gpu_virgl_read_2d(uint32_t id, uint32_t x, uint32_t y, uint32_t w,
		      uint32_t h, void *buf)
{
	return -1;
}

int gpu_virgl_fence(uint32_t seq)
{
	return -1;
}

int gpu_virgl_attach(uint32_t id, struct iovec *iov, unsigned n)
{
	return -1;
}

void gpu_virgl_detach(uint32_t id)
{
}

void gpu_virgl_unref(uint32_t id)
{
}

void gpu_virgl_ctx_destroy(uint32_t id)
{
}

#define NO_3D(name)                                                          \
	uint32_t name(struct virtio_gpu *gpu, struct gpu_cmd *cmd)           \
	{                                                                    \
		return VIRTIO_GPU_RESP_ERR_UNSPEC;                           \
	}
NO_3D(gpu_cmd_capset_info)
NO_3D(gpu_cmd_capset)
NO_3D(gpu_cmd_ctx_create)
NO_3D(gpu_cmd_ctx_destroy)
NO_3D(gpu_cmd_ctx_attach)
NO_3D(gpu_cmd_ctx_detach)
NO_3D(gpu_cmd_create_3d)
NO_3D(gpu_cmd_transfer_to_3d)
NO_3D(gpu_cmd_transfer_from_3d)
NO_3D(gpu_cmd_submit_3d)
