// SPDX-License-Identifier: Apache-2.0
/*
 * The 2D commands (GPU thread): display information and EDID, 2D
 * resources (host pixels in 2D mode, virglrenderer textures in 3D mode),
 * backing pages, transfers from them, scanouts, flushes, and the cursor.
 *
 * Every rectangle, offset and id comes from the guest: rectangles must lie
 * inside their resource and transfers inside the backing, computed in 64
 * bits so no sum can wrap.
 */
#define _GNU_SOURCE
#include "devices/virtio/virtio_gpu_internal.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "devices/gpu/edid.h"

#define PIPE_TEXTURE_2D 2

struct rect {
	uint32_t x, y, w, h;
};

/* The guest's rectangle, if it lies inside a width x height resource. */
static bool rect_inside(const struct virtio_gpu_rect *g, uint32_t width,
			uint32_t height, struct rect *r)
{
	*r = (struct rect){le32toh(g->x), le32toh(g->y), le32toh(g->width),
			   le32toh(g->height)};
	return (uint64_t)r->x + r->w <= width &&
	       (uint64_t)r->y + r->h <= height;
}

uint32_t gpu_cmd_display_info(struct virtio_gpu *gpu, struct gpu_cmd *cmd)
{
	struct virtio_gpu_resp_display_info *d = (void *)cmd->resp;

	memset(d, 0, sizeof(*d));
	/* The outputs stand side by side, all enabled. */
	for (unsigned i = 0; i < gpu->outputs; i++) {
		d->pmodes[i].r.x = htole32(i * gpu->width);
		d->pmodes[i].r.width = htole32(gpu->width);
		d->pmodes[i].r.height = htole32(gpu->height);
		d->pmodes[i].enabled = htole32(1);
	}
	cmd->resp_len = sizeof(*d);
	return VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
}

uint32_t gpu_cmd_edid(struct virtio_gpu *gpu, struct gpu_cmd *cmd)
{
	struct virtio_gpu_resp_edid *e = (void *)cmd->resp;
	uint32_t scanout = le32toh(cmd->req.edid.scanout);

	if (scanout >= gpu->outputs)
		return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
	memset(e, 0, sizeof(*e));
	edid_build(e->edid, gpu->width, gpu->height, scanout + 1);
	e->size = htole32(EDID_BLOCK_SIZE);
	cmd->resp_len = sizeof(*e);
	return VIRTIO_GPU_RESP_OK_EDID;
}

uint32_t gpu_cmd_create_2d(struct virtio_gpu *gpu, struct gpu_cmd *cmd)
{
	const struct virtio_gpu_resource_create_2d *c = &cmd->req.create_2d;
	uint32_t format = le32toh(c->format), w = le32toh(c->width),
		 h = le32toh(c->height), resp;
	unsigned rgb[3];

	if (!gpu_format_rgb(format, rgb) || w == 0 || h == 0 ||
	    w > GPU_MAX_TEXTURE || h > GPU_MAX_TEXTURE)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	uint64_t bytes = (uint64_t)w * h * 4;
	struct gpu_resource *res =
		gpu_resource_new(gpu, le32toh(c->resource_id), bytes, &resp);
	if (!res)
		return resp;
	res->format = format;
	res->width = w;
	res->height = h;
	res->target = PIPE_TEXTURE_2D;
	res->depth = res->array_size = 1;
	res->created_2d = true;
	if (gpu->virgl) {
		if (gpu_virgl_create_2d(res)) {
			gpu_resource_destroy(gpu, res);
			return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
		}
		res->virgl = true;
	} else if (!(res->pixels = calloc(1, bytes))) {
		gpu_resource_destroy(gpu, res);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t gpu_cmd_unref(struct virtio_gpu *gpu, struct gpu_cmd *cmd)
{
	struct gpu_resource *res =
		gpu_resource_find(gpu, le32toh(cmd->req.unref.resource_id));
	if (!res)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	gpu_resource_destroy(gpu, res);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t gpu_cmd_set_scanout(struct virtio_gpu *gpu, struct gpu_cmd *cmd)
{
	const struct virtio_gpu_set_scanout *s = &cmd->req.set_scanout;
	uint32_t index = le32toh(s->scanout_id), id = le32toh(s->resource_id);
	struct rect r;

	if (index >= gpu->outputs)
		return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
	struct gpu_scanout *so = &gpu->scanouts[index];
	if (id == 0) { /* the driver turns the output off */
		gpu_scanout_off(gpu, index, NULL);
		return VIRTIO_GPU_RESP_OK_NODATA;
	}
	struct gpu_resource *res = gpu_resource_find(gpu, id);
	if (!res)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!rect_inside(&s->r, res->width, res->height, &r) || !r.w || !r.h)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	gpu_scanout_forget(gpu, index);
	*so = (struct gpu_scanout){id, r.x, r.y, r.w, r.h, so->flushes, {0}};
	return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t gpu_cmd_flush(struct virtio_gpu *gpu, struct gpu_cmd *cmd)
{
	uint32_t id = le32toh(cmd->req.flush.resource_id);
	struct gpu_resource *res = gpu_resource_find(gpu, id);
	struct rect r;

	if (!res)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!rect_inside(&cmd->req.flush.r, res->width, res->height, &r))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	/* No window to update yet: count it for whoever shows scanouts. */
	for (unsigned i = 0; i < gpu->outputs; i++)
		if (gpu->scanouts[i].resource_id == id)
			gpu->scanouts[i].flushes++;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

/* Host rows y..y+h-1, columns x..x+w-1 from the backing: row i starts at
 * `off` + i * stride there, as Linux lays out a framebuffer's damage. */
static bool copy_rows(struct gpu_resource *res, const struct rect *r,
		      uint64_t off)
{
	const uint64_t stride = (uint64_t)res->width * 4;
	uint8_t *dst = res->pixels + r->y * stride + r->x * 4ull;
	struct gpu_backing_cursor c = {0, 0};

	if (r->x == 0 && r->w == res->width) /* whole rows: one copy */
		return gpu_backing_read(res, &c, off, dst, r->h * stride);
	for (uint32_t i = 0; i < r->h; i++)
		if (!gpu_backing_read(res, &c, off + i * stride,
				      dst + i * stride, r->w * 4ull))
			return false;
	return true;
}

uint32_t gpu_cmd_transfer_2d(struct virtio_gpu *gpu, struct gpu_cmd *cmd)
{
	const struct virtio_gpu_transfer_to_host_2d *t = &cmd->req.t2d;
	struct gpu_resource *res =
		gpu_resource_find(gpu, le32toh(t->resource_id));
	uint64_t off = le64toh(t->offset);
	struct rect r;

	if (!res)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!res->backing)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (!rect_inside(&t->r, res->width, res->height, &r))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	if (!r.w || !r.h)
		return VIRTIO_GPU_RESP_OK_NODATA;
	/* The last byte read: the rectangle's last row in the backing. */
	if (res->created_2d) {
		uint64_t need = (r.h - 1ull) * res->width * 4 + r.w * 4ull;
		if (off > res->backing_len || need > res->backing_len - off)
			return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	if (res->virgl) {
		return gpu_virgl_write_2d(res->node.id, r.x, r.y, r.w, r.h, off)
			       ? VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER
			       : VIRTIO_GPU_RESP_OK_NODATA;
	}
	if (!res->pixels || !copy_rows(res, &r, off))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t gpu_cmd_attach_backing(struct virtio_gpu *gpu, struct gpu_cmd *cmd)
{
	struct gpu_resource *res =
		gpu_resource_find(gpu, le32toh(cmd->req.attach.resource_id));
	if (!res)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	return gpu_backing_attach(gpu, cmd, res);
}

uint32_t gpu_cmd_detach_backing(struct virtio_gpu *gpu, struct gpu_cmd *cmd)
{
	struct gpu_resource *res =
		gpu_resource_find(gpu, le32toh(cmd->req.detach.resource_id));
	if (!res)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!res->backing)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	gpu_backing_detach(gpu, res);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

/* Both cursor commands: MOVE only moves; UPDATE also takes the image
 * (a copy: the resource may change or go afterwards), or hides the
 * cursor with resource 0. */
uint32_t gpu_cmd_cursor(struct virtio_gpu *gpu, struct gpu_cmd *cmd)
{
	const struct virtio_gpu_update_cursor *u = &cmd->req.cursor;
	uint32_t scanout = le32toh(u->pos.scanout_id);
	uint32_t id = le32toh(u->resource_id);
	struct virtio_gpu_cursor *c = &gpu->cursor;

	if (scanout >= gpu->outputs)
		return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
	if (cmd->type == VIRTIO_GPU_CMD_UPDATE_CURSOR) {
		struct gpu_resource *res =
			id ? gpu_resource_find(gpu, id) : NULL;
		if (id && !res)
			return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
		if (res && (res->width != GPU_CURSOR_SIZE ||
			    res->height != GPU_CURSOR_SIZE))
			return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
		if (res && !gpu_cursor_load(gpu, res))
			return VIRTIO_GPU_RESP_ERR_UNSPEC;
		c->visible = res != NULL;
		c->hot_x = le32toh(u->hot_x);
		c->hot_y = le32toh(u->hot_y);
	}
	c->scanout = scanout;
	c->x = le32toh(u->pos.x);
	c->y = le32toh(u->pos.y);
	return VIRTIO_GPU_RESP_OK_NODATA;
}
