// SPDX-License-Identifier: Apache-2.0
/*
 * Reading what the guest shows: a scanout's rectangle, or the cursor
 * image, from host pixels (2D mode) or through virglrenderer (3D mode).
 *
 * Orientation: row 0 of a 2D resource is the top of the screen. A
 * virglrenderer texture made with VIRTIO_GPU_RESOURCE_FLAG_Y_0_TOP
 * (every 2D resource in 3D mode, and the scanout buffers Mesa's virgl
 * driver makes) is stored bottom row first, as GL stores images, but its
 * transfers turn the rows over both ways: virgl_renderer_transfer_read_iov
 * returns rows as the guest wrote and rendered them, top first, for
 * resources with and without the flag — which is what the guest shows
 * (QEMU's display flips Y_0_TOP textures when it samples them directly).
 * So the rows read here need no flip; test_virtio_gpu_virgl checks both
 * kinds of resource against a known asymmetric pattern.
 *
 * Requests from other threads are handed to the GPU thread (gpu_call).
 */
#define _GNU_SOURCE
#include "devices/virtio/virtio_gpu_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "devices/gpu/png.h"

/* Gallium names formats by byte order: B8G8R8A8 is B, G, R, A in memory. */
bool gpu_format_rgb(uint32_t format, unsigned off[3])
{
	static const struct {
		uint32_t format;
		uint8_t r, g, b;
	} formats[] = {
		{VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 2, 1, 0},
		{VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 2, 1, 0},
		{VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM, 1, 2, 3},
		{VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM, 1, 2, 3},
		{VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, 0, 1, 2},
		{VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM, 3, 2, 1},
		{VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, 3, 2, 1},
		{VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, 0, 1, 2},
	};
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (formats[i].format == format) {
			off[0] = formats[i].r;
			off[1] = formats[i].g;
			off[2] = formats[i].b;
			return true;
		}
	return false;
}

/* Where alpha is in the formats that have it; -1 for the X formats. */
static int alpha_offset(uint32_t format)
{
	switch (format) {
	case VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM:
	case VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM:
		return 3;
	case VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM:
	case VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM:
		return 0;
	default:
		return -1;
	}
}

/* w x h pixels at (x, y) of the resource, 4 bytes each in its format,
 * rows top first. NULL when they cannot be read. */
static uint8_t *read_pixels(struct gpu_resource *res, uint32_t x, uint32_t y,
			    uint32_t w, uint32_t h)
{
	uint8_t *p = malloc((size_t)w * h * 4);
	if (!p)
		return NULL;
	if (res->virgl) {
		if (gpu_virgl_read_2d(res->node.id, x, y, w, h, p)) {
			free(p);
			return NULL;
		}
		return p;
	}
	if (!res->pixels) {
		free(p);
		return NULL;
	}
	for (uint32_t row = 0; row < h; row++)
		memcpy(p + (size_t)row * w * 4,
		       res->pixels + ((size_t)(y + row) * res->width + x) * 4,
		       (size_t)w * 4);
	return p;
}

bool gpu_cursor_load(struct virtio_gpu *gpu, struct gpu_resource *res)
{
	unsigned rgb[3];
	if (!gpu_format_rgb(res->format, rgb))
		return false;
	uint8_t *p = read_pixels(res, 0, 0, GPU_CURSOR_SIZE, GPU_CURSOR_SIZE);
	if (!p)
		return false;
	int a = alpha_offset(res->format);
	for (unsigned i = 0; i < GPU_CURSOR_SIZE * GPU_CURSOR_SIZE; i++) {
		uint8_t *out = gpu->cursor.rgba + 4 * i, *in = p + 4 * i;
		for (unsigned c = 0; c < 3; c++)
			out[c] = in[rgb[c]];
		out[3] = a < 0 ? 0xff : in[a];
	}
	free(p);
	return true;
}

struct scanout_read {
	unsigned index;
	struct virtio_gpu_image *img;
	int code; /* PHY_E_*, 0 when read */
	char msg[160];
};

static void fail_read(struct scanout_read *rd, int code, const char *msg)
{
	rd->code = code;
	snprintf(rd->msg, sizeof(rd->msg), "%s", msg);
}

/* What scanout `so` shows, from resource res (NULL: the one the table
 * has), as an RGB image (GPU thread). 0, or a PHY_E_* code with *why
 * saying what is wrong. */
static int scanout_rgb(struct virtio_gpu *gpu, const struct gpu_scanout *so,
		       struct gpu_resource *res, struct gpu_frame *out,
		       const char **why)
{
	unsigned rgb[3];

	if (!res)
		res = gpu_resource_find(gpu, so->resource_id);
	if (!so->resource_id || !res) {
		*why = "shows nothing";
		return PHY_E_INVALID;
	}
	if (!gpu_format_rgb(res->format, rgb)) {
		*why = "has a pixel format screenshots do not support";
		return PHY_E_IO;
	}
	uint8_t *p = read_pixels(res, so->x, so->y, so->width, so->height);
	size_t n = (size_t)so->width * so->height;
	uint8_t *img = p ? malloc(n * 3) : NULL;
	if (!img) {
		free(p);
		*why = "cannot be read";
		return PHY_E_IO;
	}
	for (size_t i = 0; i < n; i++)
		for (unsigned c = 0; c < 3; c++)
			img[3 * i + c] = p[4 * i + rgb[c]];
	free(p);
	*out = (struct gpu_frame){so->width, so->height, img};
	return 0;
}

void gpu_scanout_forget(struct virtio_gpu *gpu, unsigned i)
{
	struct gpu_frame *f = &gpu->scanouts[i].last;
	if (!f->rgb)
		return;
	gpu->last_frames_bytes -= (uint64_t)f->width * f->height * 3;
	free(f->rgb);
	*f = (struct gpu_frame){0};
}

void gpu_scanout_off(struct virtio_gpu *gpu, unsigned i,
		     struct gpu_resource *res)
{
	struct gpu_scanout *so = &gpu->scanouts[i];
	struct gpu_frame now;
	const char *why;
	gpu_scanout_forget(gpu, i);
	uint64_t bytes = (uint64_t)so->width * so->height * 3;
	if (so->resource_id &&
	    bytes <= GPU_LAST_FRAMES_MAX - gpu->last_frames_bytes &&
	    scanout_rgb(gpu, so, res, &now, &why) == 0) {
		so->last = now;
		gpu->last_frames_bytes += bytes;
	}
	so->resource_id = 0;
}

/* GPU thread: what the scanout shows, or showed last before it went
 * dark. */
static void read_scanout(struct virtio_gpu *gpu, void *arg)
{
	struct scanout_read *rd = arg;
	const struct gpu_scanout *so = &gpu->scanouts[rd->index];
	const struct gpu_frame *last = &so->last;
	struct gpu_frame f;
	const char *why = NULL;

	if (!so->resource_id && last->rgb) {
		size_t n = (size_t)last->width * last->height * 3;
		f = (struct gpu_frame){last->width, last->height, malloc(n)};
		if (!f.rgb)
			return fail_read(rd, PHY_E_IO, "cannot be read");
		memcpy(f.rgb, last->rgb, n);
	} else {
		int code = scanout_rgb(gpu, so, NULL, &f, &why);
		if (code)
			return fail_read(rd, code, why);
	}
	*rd->img = (struct virtio_gpu_image){f.width, f.height, f.rgb};
}

int virtio_gpu_read_scanout(struct virtio_gpu *gpu, unsigned index,
			    struct virtio_gpu_image *img, struct phy_error *err)
{
	struct scanout_read rd = {.index = index, .img = img};

	*img = (struct virtio_gpu_image){0};
	if (index >= gpu->outputs)
		return phy_err(err, PHY_E_INVALID,
			       "%s: no scanout %u (it has %u)", gpu->name,
			       index, gpu->outputs);
	if (gpu_call(gpu, read_scanout, &rd))
		return phy_err(err, PHY_E_STATE,
			       "%s: scanouts cannot be read from the GPU "
			       "thread",
			       gpu->name);
	if (rd.code)
		return phy_err(err, rd.code, "%s: scanout %u %s", gpu->name,
			       index, rd.msg);
	return 0;
}

int virtio_gpu_screenshot(struct virtio_gpu *gpu, unsigned index,
			  const char *path, struct phy_error *err)
{
	struct virtio_gpu_image img;
	int r = virtio_gpu_read_scanout(gpu, index, &img, err);
	if (r)
		return r;
	/* Encoding and writing happen here, off the GPU thread. */
	r = png_write_rgb(path, img.rgb, img.width, img.height, err);
	free(img.rgb);
	return r;
}

static void copy_cursor(struct virtio_gpu *gpu, void *arg)
{
	memcpy(arg, &gpu->cursor, sizeof(gpu->cursor));
}

int virtio_gpu_read_cursor(struct virtio_gpu *gpu,
			   struct virtio_gpu_cursor *cursor,
			   struct phy_error *err)
{
	if (gpu_call(gpu, copy_cursor, cursor))
		return phy_err(err, PHY_E_STATE,
			       "%s: the cursor cannot be read from the GPU "
			       "thread",
			       gpu->name);
	return 0;
}
