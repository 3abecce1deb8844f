// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include "gpu_driver.h"

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#define HDR sizeof(struct virtio_gpu_ctrl_hdr)

static void wait_idle(void *opaque)
{
	virtio_gpu_wait_idle(opaque);
}

int gpu_rig_open(struct gpu_rig *r, const struct virtio_gpu_params *params)
{
	struct phy_error err = {0};
	memset(r, 0, sizeof(*r));
	r->sim = sim_create(GPU_LOW_RAM, GPU_HIGH_RAM);
	if (!r->sim || virtio_gpu_create(&r->gpu, params, "virtio-gpu0",
					 &r->sim->mem, &err)) {
		fprintf(stderr, "gpu rig: %s\n",
			r->sim ? err.message : "no simulator");
		sim_destroy(r->sim);
		r->sim = NULL;
		return -1;
	}
	r->dev = virtio_gpu_dev(r->gpu);
	r->high_next = SIM_HIGH_GPA;
	sim_attach(r->sim, r->dev, NULL, NULL);
	sim_set_waiter(r->sim, wait_idle, r->gpu);
	return 0;
}

void gpu_rig_close(struct gpu_rig *r)
{
	virtio_gpu_destroy(r->gpu);
	sim_destroy(r->sim);
	memset(r, 0, sizeof(*r));
}

int gpu_rig_start(struct gpu_rig *r, uint64_t features)
{
	return sim_start(r->sim, features & r->dev->host_features, 2, 64);
}

struct virtio_gpu_ctrl_hdr gpu_hdr(uint32_t type, uint32_t ctx_id)
{
	return (struct virtio_gpu_ctrl_hdr){.type = htole32(type),
					    .ctx_id = htole32(ctx_id)};
}

static uint64_t copy_in(struct gpu_rig *r, const void *src, uint32_t len)
{
	uint64_t gpa = sim_alloc(r->sim, len ? len : 1, 16);
	memcpy(sim_ptr(r->sim, gpa, len), src, len);
	return gpa;
}

int gpu_queue(struct gpu_rig *r, unsigned q, const struct gpu_req *req,
	      uint64_t *resp_gpa)
{
	struct sim_buf b[3];
	unsigned n = 0;

	b[n++] = (struct sim_buf){copy_in(r, req->cmd, req->cmd_len),
				  req->cmd_len, false};
	if (req->data_len)
		b[n++] = (struct sim_buf){copy_in(r, req->data, req->data_len),
					  req->data_len, false};
	*resp_gpa = 0;
	if (req->resp_len) {
		*resp_gpa = sim_alloc(r->sim, req->resp_len, 16);
		/* Garbage, so a response the device did not write shows. */
		memset(sim_ptr(r->sim, *resp_gpa, req->resp_len), 0xa5,
		       req->resp_len);
		b[n++] = (struct sim_buf){*resp_gpa, req->resp_len, true};
	}
	return sim_add(r->sim, q, b, n, false);
}

void gpu_kick_wait(struct gpu_rig *r, unsigned q)
{
	sim_kick(r->sim, q);
	sim_run(r->sim);
}

uint32_t gpu_send(struct gpu_rig *r, unsigned q, const struct gpu_req *req,
		  void *resp, uint32_t *used_len)
{
	uint64_t resp_gpa;
	uint16_t id;
	uint32_t len;
	int head = gpu_queue(r, q, req, &resp_gpa);

	if (head < 0)
		return 0;
	gpu_kick_wait(r, q);
	if (sim_get_used(r->sim, q, &id, &len) != 1 || id != head)
		return 0;
	if (used_len)
		*used_len = len;
	if (!req->resp_len || len < HDR)
		return 0;
	const uint8_t *p = sim_ptr(r->sim, resp_gpa, req->resp_len);
	if (resp)
		memcpy(resp, p, len < req->resp_len ? len : req->resp_len);
	return le32toh(((const struct virtio_gpu_ctrl_hdr *)p)->type);
}

uint32_t gpu_ctrl(struct gpu_rig *r, const void *cmd, uint32_t len)
{
	struct gpu_req req = {.cmd = cmd, .cmd_len = len, .resp_len = HDR};
	return gpu_send(r, 0, &req, NULL, NULL);
}

/* Piece i of `pieces` over `size` bytes: its offset and length. */
static void piece(uint32_t size, unsigned pieces, unsigned i, uint32_t *off,
		  uint32_t *len)
{
	uint32_t chunk = size / pieces;
	*off = i * chunk;
	*len = i + 1 < pieces ? chunk : size - *off;
}

/* A bump allocator in high RAM, as sim_alloc() is in low RAM. */
static uint64_t high_alloc(struct gpu_rig *r, uint32_t len)
{
	uint64_t gpa = (r->high_next + 63) & ~63ull;
	if (gpa + len > SIM_HIGH_GPA + GPU_HIGH_RAM) {
		fprintf(stderr, "gpu rig: out of high guest RAM\n");
		abort();
	}
	r->high_next = gpa + len;
	return gpa;
}

uint32_t gpu_attach(struct gpu_rig *r, uint32_t id, uint32_t size,
		    unsigned pieces, uint64_t gpa[])
{
	struct virtio_gpu_mem_entry e[pieces];
	struct virtio_gpu_resource_attach_backing a = {
		.hdr = gpu_hdr(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, 0),
		.resource_id = htole32(id),
		.nr_entries = htole32(pieces),
	};

	for (unsigned i = 0; i < pieces; i++) {
		uint32_t off, len;
		piece(size, pieces, i, &off, &len);
		if (i + 1 == pieces && pieces > 1) {
			gpa[i] = high_alloc(r, len); /* the last in high RAM */
		} else {
			sim_alloc(r->sim, 64, 64); /* a gap: not contiguous */
			gpa[i] = sim_alloc(r->sim, len, 64);
		}
		e[i] = (struct virtio_gpu_mem_entry){.addr = htole64(gpa[i]),
						     .length = htole32(len)};
	}
	struct gpu_req req = {&a, sizeof(a), e, (uint32_t)sizeof(e), HDR};
	return gpu_send(r, 0, &req, NULL, NULL);
}

static void backing_copy(struct gpu_rig *r, const uint64_t gpa[],
			 unsigned pieces, uint32_t size, uint8_t *host,
			 bool to_guest)
{
	for (unsigned i = 0; i < pieces; i++) {
		uint32_t off, len;
		piece(size, pieces, i, &off, &len);
		uint8_t *g = sim_ptr(r->sim, gpa[i], len);
		if (to_guest)
			memcpy(g, host + off, len);
		else
			memcpy(host + off, g, len);
	}
}

void gpu_backing_write(struct gpu_rig *r, const uint64_t gpa[], unsigned pieces,
		       uint32_t size, const void *src)
{
	backing_copy(r, gpa, pieces, size, (uint8_t *)src, true);
}

void gpu_backing_read_back(struct gpu_rig *r, const uint64_t gpa[],
			   unsigned pieces, uint32_t size, void *dst)
{
	backing_copy(r, gpa, pieces, size, dst, false);
}

uint32_t gpu_create_2d(struct gpu_rig *r, uint32_t id, uint32_t format,
		       uint32_t w, uint32_t h)
{
	struct virtio_gpu_resource_create_2d c = {
		.hdr = gpu_hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, 0),
		.resource_id = htole32(id),
		.format = htole32(format),
		.width = htole32(w),
		.height = htole32(h),
	};
	return gpu_ctrl(r, &c, sizeof(c));
}

static struct virtio_gpu_rect rect(uint32_t x, uint32_t y, uint32_t w,
				   uint32_t h)
{
	return (struct virtio_gpu_rect){htole32(x), htole32(y), htole32(w),
					htole32(h)};
}

uint32_t gpu_set_scanout(struct gpu_rig *r, uint32_t scanout, uint32_t id,
			 uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	struct virtio_gpu_set_scanout s = {
		.hdr = gpu_hdr(VIRTIO_GPU_CMD_SET_SCANOUT, 0),
		.r = rect(x, y, w, h),
		.scanout_id = htole32(scanout),
		.resource_id = htole32(id),
	};
	return gpu_ctrl(r, &s, sizeof(s));
}

uint32_t gpu_transfer_2d(struct gpu_rig *r, uint32_t id, uint32_t x, uint32_t y,
			 uint32_t w, uint32_t h, uint64_t offset)
{
	struct virtio_gpu_transfer_to_host_2d t = {
		.hdr = gpu_hdr(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, 0),
		.r = rect(x, y, w, h),
		.offset = htole64(offset),
		.resource_id = htole32(id),
	};
	return gpu_ctrl(r, &t, sizeof(t));
}

uint32_t gpu_flush(struct gpu_rig *r, uint32_t id, uint32_t x, uint32_t y,
		   uint32_t w, uint32_t h)
{
	struct virtio_gpu_resource_flush f = {
		.hdr = gpu_hdr(VIRTIO_GPU_CMD_RESOURCE_FLUSH, 0),
		.r = rect(x, y, w, h),
		.resource_id = htole32(id),
	};
	return gpu_ctrl(r, &f, sizeof(f));
}

void gpu_pattern_pixel(unsigned x, unsigned y, uint8_t rgb[3])
{
	rgb[0] = (uint8_t)(x * 4 + 1);
	rgb[1] = (uint8_t)(y * 5 + 2);
	rgb[2] = (uint8_t)((x + y * 3) ^ 0x5a);
}

void gpu_pattern_fill(uint8_t *bgra, unsigned w, unsigned h, uint8_t alpha)
{
	for (unsigned y = 0; y < h; y++)
		for (unsigned x = 0; x < w; x++) {
			uint8_t rgb[3], *p = bgra + ((size_t)y * w + x) * 4;
			gpu_pattern_pixel(x, y, rgb);
			p[0] = rgb[2];
			p[1] = rgb[1];
			p[2] = rgb[0];
			p[3] = alpha;
		}
}

unsigned gpu_pattern_mismatches(const uint8_t *rgb, unsigned w, unsigned h,
				unsigned x0, unsigned y0)
{
	unsigned bad = 0;
	for (unsigned y = 0; y < h; y++)
		for (unsigned x = 0; x < w; x++) {
			uint8_t want[3];
			gpu_pattern_pixel(x0 + x, y0 + y, want);
			bad += memcmp(rgb + 3 * ((size_t)y * w + x), want, 3) !=
			       0;
		}
	return bad;
}

uint8_t *png_read_rgb(const char *path, unsigned *width, unsigned *height)
{
	png_image img = {.version = PNG_IMAGE_VERSION};
	if (!png_image_begin_read_from_file(&img, path))
		return NULL;
	img.format = PNG_FORMAT_RGB;
	uint8_t *rgb = malloc(PNG_IMAGE_SIZE(img));
	if (!rgb || !png_image_finish_read(&img, NULL, rgb, 0, NULL)) {
		png_image_free(&img);
		free(rgb);
		return NULL;
	}
	*width = img.width;
	*height = img.height;
	return rgb;
}
