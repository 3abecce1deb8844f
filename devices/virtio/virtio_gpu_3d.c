// SPDX-License-Identifier: Apache-2.0
/*
 * The 3D commands (GPU thread), passed to virglrenderer once the ids,
 * sizes and boxes the guest sent have been checked here: capsets,
 * contexts, 3D resources, transfers in both directions, and command
 * streams. virglrenderer checks a transfer's exact extent itself (it
 * knows every format's layout); this file checks what needs no format
 * knowledge, so that no guest value reaches it unbounded.
 */
#define _GNU_SOURCE
#include "devices/virtio/virtio_gpu_internal.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include <virglrenderer.h>

struct virgl_box {
	uint32_t x, y, z;
	uint32_t w, h, d;
};

/* Gallium's texture targets (virglrenderer's pipe_texture_target). */
enum {
	PIPE_BUFFER,
	PIPE_TEXTURE_1D,
	PIPE_TEXTURE_2D,
	PIPE_TEXTURE_3D,
	PIPE_TEXTURE_CUBE,
	PIPE_TEXTURE_RECT,
	PIPE_TEXTURE_1D_ARRAY,
	PIPE_TEXTURE_2D_ARRAY,
	PIPE_TEXTURE_CUBE_ARRAY,
};
#define MAX_LEVELS 15 /* a 16384-texel mipmap chain */
#define MAX_SAMPLES 32

#define HDR_SIZE sizeof(struct virtio_gpu_ctrl_hdr)

uint32_t gpu_cmd_capset_info(struct virtio_gpu *gpu, struct gpu_cmd *cmd)
{
	uint32_t i = le32toh(cmd->req.capset_info.capset_index);
	struct virtio_gpu_resp_capset_info *r = (void *)cmd->resp;

	if (i >= gpu->nr_capsets)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	memset(r, 0, sizeof(*r));
	r->capset_id = htole32(i + 1); /* VIRGL, then VIRGL2 */
	r->capset_max_version = htole32(gpu->capset_version[i]);
	r->capset_max_size = htole32(gpu->capset_size[i]);
	cmd->resp_len = sizeof(*r);
	return VIRTIO_GPU_RESP_OK_CAPSET_INFO;
}

uint32_t gpu_cmd_capset(struct virtio_gpu *gpu, struct gpu_cmd *cmd)
{
	uint32_t id = le32toh(cmd->req.capset.capset_id);
	uint32_t version = le32toh(cmd->req.capset.capset_version);

	if (id < 1 || id > gpu->nr_capsets ||
	    version > gpu->capset_version[id - 1])
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	uint32_t size = gpu->capset_size[id - 1];
	memset(cmd->resp + HDR_SIZE, 0, size);
	virgl_renderer_fill_caps(id, version, cmd->resp + HDR_SIZE);
	cmd->resp_len = HDR_SIZE + size;
	return VIRTIO_GPU_RESP_OK_CAPSET;
}

uint32_t gpu_cmd_ctx_create(struct virtio_gpu *gpu, struct gpu_cmd *cmd)
{
	const struct virtio_gpu_ctx_create *c = &cmd->req.ctx_create;
	uint32_t id = cmd->ctx_id, nlen = le32toh(c->nlen);
	char name[sizeof(c->debug_name) + 1] = "";

	/* Context 0 is virglrenderer's own. */
	if (id == 0 || gpu_context_find(gpu, id))
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	if (nlen > sizeof(c->debug_name))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	if (gpu->contexts.count >= GPU_MAX_CONTEXTS ||
	    !gpu_charge(gpu, GPU_CONTEXT_CHARGE))
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	struct gpu_context *ctx = calloc(1, sizeof(*ctx));
	memcpy(name, c->debug_name, nlen);
	if (ctx)
		ctx->node.id = id;
	if (!ctx || gpu_table_insert(&gpu->contexts, &ctx->node)) {
		free(ctx);
		gpu_uncharge(gpu, GPU_CONTEXT_CHARGE);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	if (virgl_renderer_context_create(id, nlen, name)) {
		gpu_table_remove(&gpu->contexts, &ctx->node);
		free(ctx);
		gpu_uncharge(gpu, GPU_CONTEXT_CHARGE);
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t gpu_cmd_ctx_destroy(struct virtio_gpu *gpu, struct gpu_cmd *cmd)
{
	struct gpu_context *ctx = gpu_context_find(gpu, cmd->ctx_id);
	if (!ctx)
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	gpu_context_destroy(gpu, ctx);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t ctx_resource(struct virtio_gpu *gpu, struct gpu_cmd *cmd,
			     bool attach)
{
	uint32_t id = le32toh(cmd->req.ctx_res.resource_id);
	if (!gpu_context_find(gpu, cmd->ctx_id))
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	if (!gpu_resource_find(gpu, id))
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (attach)
		virgl_renderer_ctx_attach_resource((int)cmd->ctx_id, (int)id);
	else
		virgl_renderer_ctx_detach_resource((int)cmd->ctx_id, (int)id);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t gpu_cmd_ctx_attach(struct virtio_gpu *gpu, struct gpu_cmd *cmd)
{
	return ctx_resource(gpu, cmd, true);
}

uint32_t gpu_cmd_ctx_detach(struct virtio_gpu *gpu, struct gpu_cmd *cmd)
{
	return ctx_resource(gpu, cmd, false);
}

/*
 * What virglrenderer will hold for the resource, an estimate that errs
 * high: 4 bytes a texel for the formats up to 23 (8-bit-channel colour,
 * depth, stencil), 32 for the 64-bit-float ones, 16 for all others;
 * buffers are `width` bytes. A mipmap chain adds a third.
 */
static uint64_t estimate_bytes(const struct gpu_resource *r, uint32_t samples)
{
	uint64_t texel = r->format <= 23 ? 4 : r->format <= 27 ? 32 : 16;
	if (r->target == PIPE_BUFFER)
		texel = 1;
	uint64_t b = texel * r->width * r->height * r->depth * r->array_size *
		     (samples ? samples : 1);
	return r->last_level ? b + b / 3 : b;
}

/* The limits here keep estimate_bytes() below 2^62. */
static bool valid_3d(const struct virtio_gpu_resource_create_3d *c,
		     struct gpu_resource *r, uint32_t *samples)
{
	r->target = le32toh(c->target);
	r->format = le32toh(c->format);
	r->width = le32toh(c->width);
	r->height = le32toh(c->height);
	r->depth = le32toh(c->depth);
	r->array_size = le32toh(c->array_size);
	r->last_level = le32toh(c->last_level);
	*samples = le32toh(c->nr_samples);
	uint32_t max_w =
		r->target == PIPE_BUFFER ? UINT32_MAX : GPU_MAX_TEXTURE;
	return r->target <= PIPE_TEXTURE_CUBE_ARRAY && r->width &&
	       r->width <= max_w && r->height && r->height <= GPU_MAX_TEXTURE &&
	       r->depth && r->depth <= GPU_MAX_LAYERS && r->array_size &&
	       r->array_size <= GPU_MAX_LAYERS && r->last_level < MAX_LEVELS &&
	       *samples <= MAX_SAMPLES &&
	       (r->target != PIPE_BUFFER ||
		(r->height == 1 && r->depth == 1 && r->array_size == 1));
}

uint32_t gpu_cmd_create_3d(struct virtio_gpu *gpu, struct gpu_cmd *cmd)
{
	const struct virtio_gpu_resource_create_3d *c = &cmd->req.create_3d;
	struct gpu_resource shape = {0};
	uint32_t samples, resp;

	if (!valid_3d(c, &shape, &samples))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	struct gpu_resource *res =
		gpu_resource_new(gpu, le32toh(c->resource_id),
				 estimate_bytes(&shape, samples), &resp);
	if (!res)
		return resp;
	shape.node = res->node;
	shape.charge = res->charge;
	*res = shape;
	struct virgl_renderer_resource_create_args a = {
		.handle = res->node.id,
		.target = res->target,
		.format = res->format,
		.bind = le32toh(c->bind),
		.width = res->width,
		.height = res->height,
		.depth = res->depth,
		.array_size = res->array_size,
		.last_level = res->last_level,
		.nr_samples = samples,
		.flags = le32toh(c->flags),
	};
	if (virgl_renderer_resource_create(&a, NULL, 0)) {
		gpu_resource_destroy(gpu, res);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	res->virgl = true;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

/* level <= last_level < MAX_LEVELS: the shift is defined. */
static uint32_t minify(uint32_t size, uint32_t level)
{
	return size >> level ? size >> level : 1;
}

/* The box must lie in the level: layers are y for 1D arrays, z for the
 * other arrays and cube maps, depth slices z for 3D textures. */
static bool box_inside(const struct gpu_resource *r, uint32_t level,
		       const struct virtio_gpu_box *b, struct virgl_box *box)
{
	if (level > r->last_level)
		return false;
	uint64_t lim[3] = {minify(r->width, level), minify(r->height, level),
			   r->array_size};
	if (r->target == PIPE_TEXTURE_3D)
		lim[2] = minify(r->depth, level);
	if (r->target == PIPE_TEXTURE_1D_ARRAY) {
		lim[1] = r->array_size;
		lim[2] = 1;
	}
	*box = (struct virgl_box){le32toh(b->x), le32toh(b->y), le32toh(b->z),
				  le32toh(b->w), le32toh(b->h), le32toh(b->d)};
	return box->x + (uint64_t)box->w <= lim[0] &&
	       box->y + (uint64_t)box->h <= lim[1] &&
	       box->z + (uint64_t)box->d <= lim[2];
}

/* At least one byte a texel: the smallest extent the transfer can have
 * in the backing must fit there. */
static bool fits_backing(const struct gpu_resource *r,
			 const struct virgl_box *b, uint64_t off,
			 uint32_t stride, uint32_t layer_stride)
{
	if (!b->w || !b->h || !b->d)
		return off <= r->backing_len;
	uint64_t need =
		(b->d - 1ull) * layer_stride + (b->h - 1ull) * stride + b->w;
	return off <= r->backing_len && need <= r->backing_len - off;
}

static uint32_t transfer_3d(struct virtio_gpu *gpu, struct gpu_cmd *cmd,
			    bool to_host)
{
	const struct virtio_gpu_transfer_host_3d *t = &cmd->req.t3d;
	struct gpu_resource *res =
		gpu_resource_find(gpu, le32toh(t->resource_id));
	uint32_t level = le32toh(t->level), stride = le32toh(t->stride),
		 layer_stride = le32toh(t->layer_stride);
	uint64_t off = le64toh(t->offset);
	struct virgl_box box;

	if (!res)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (cmd->ctx_id && !gpu_context_find(gpu, cmd->ctx_id))
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	if (!res->backing)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (!box_inside(res, level, &t->box, &box) ||
	    !fits_backing(res, &box, off, stride, layer_stride))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	int r = to_host ? virgl_renderer_transfer_write_iov(
				  res->node.id, cmd->ctx_id, (int)level, stride,
				  layer_stride, &box, off, NULL, 0)
			: virgl_renderer_transfer_read_iov(
				  res->node.id, cmd->ctx_id, level, stride,
				  layer_stride, &box, off, NULL, 0);
	return r ? VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER
		 : VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t gpu_cmd_transfer_to_3d(struct virtio_gpu *gpu, struct gpu_cmd *cmd)
{
	return transfer_3d(gpu, cmd, true);
}

uint32_t gpu_cmd_transfer_from_3d(struct virtio_gpu *gpu, struct gpu_cmd *cmd)
{
	return transfer_3d(gpu, cmd, false);
}

/* The stream is copied out of guest memory first: virglrenderer decodes
 * it in place, and the guest could change it under the decoder. */
uint32_t gpu_cmd_submit_3d(struct virtio_gpu *gpu, struct gpu_cmd *cmd)
{
	uint32_t size = le32toh(cmd->req.submit.size);
	const size_t at = sizeof(cmd->req.submit);

	if (!gpu_context_find(gpu, cmd->ctx_id))
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	if (size % 4 || size > GPU_MAX_SUBMIT || at + size > cmd->chain.out_len)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	if (!size)
		return VIRTIO_GPU_RESP_OK_NODATA;
	if (size > gpu->submit_size) {
		void *p = realloc(gpu->submit_buf, size);
		if (!p)
			return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
		gpu->submit_buf = p;
		gpu->submit_size = size;
	}
	iov_to_buf(cmd->chain.iov, cmd->chain.nr_out, at, gpu->submit_buf,
		   size);
	return virgl_renderer_submit_cmd(gpu->submit_buf, (int)cmd->ctx_id,
					 (int)(size / 4))
		       ? VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER
		       : VIRTIO_GPU_RESP_OK_NODATA;
}
