/* SPDX-License-Identifier: Apache-2.0 */
/* Writes well-formed seed inputs for fuzz_virtio_gpu (format in
 * fuzz_virtio_gpu.h): the 2D life of a framebuffer and a cursor, the 3D
 * life of a context and a render target with a clear under fences, and
 * the same requests split, indirect, without answers and reset midway.
 * Usage: make-seeds-virtio-gpu DIR */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <linux/virtio_gpu.h>

#include "fuzz_virtio_gpu.h"

#define BACKING_GPA (48u << 20) /* above what the harness allocates */

static uint8_t input[1 << 16];
static size_t used;

static void begin(uint8_t knobs)
{
	used = 0;
	input[used++] = knobs;
}

static void rec(uint8_t op, uint8_t resp16, const void *req, uint16_t len)
{
	input[used++] = op;
	input[used++] = resp16;
	input[used++] = (uint8_t)len;
	input[used++] = (uint8_t)(len >> 8);
	memcpy(input + used, req, len);
	used += len;
}

static void put(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(input, 1, used, f) != used || fclose(f)) {
		perror(path);
		return;
	}
}

static struct virtio_gpu_ctrl_hdr hdr(uint32_t type, uint32_t ctx,
				      uint64_t fence)
{
	return (struct virtio_gpu_ctrl_hdr){
		.type = type,
		.flags = fence ? VIRTIO_GPU_FLAG_FENCE : 0,
		.fence_id = fence,
		.ctx_id = ctx};
}

#define REC(op, resp16, s) rec(op, resp16, &(s), sizeof(s))

static void create_2d(uint8_t op, uint32_t id, uint32_t w, uint32_t h)
{
	struct virtio_gpu_resource_create_2d c = {
		hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, 0, 0), id,
		VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, w, h};
	REC(op, 0, c);
}

static void attach(uint8_t op, uint32_t id, uint32_t bytes)
{
	struct {
		struct virtio_gpu_resource_attach_backing a;
		struct virtio_gpu_mem_entry e[2];
	} __attribute__((packed)) m = {
		{hdr(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, 0, 0), id, 2},
		{{BACKING_GPA, bytes / 2, 0},
		 {BACKING_GPA + bytes / 2, bytes - bytes / 2, 0}}};
	REC(op, 0, m);
}

static void two_d(uint8_t op)
{
	struct virtio_gpu_ctrl_hdr info =
		hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO, 0, 0);
	REC(op, 26, info);
	struct virtio_gpu_cmd_get_edid edid = {
		hdr(VIRTIO_GPU_CMD_GET_EDID, 0, 0), 1, 0};
	REC(op, 66, edid);
	create_2d(op, 1, 64, 48);
	attach(op, 1, 64 * 48 * 4);
	struct virtio_gpu_transfer_to_host_2d t = {
		hdr(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, 0, 1),
		{0, 0, 64, 48}, 0, 1, 0};
	REC(op, 0, t);
	struct virtio_gpu_set_scanout s = {
		hdr(VIRTIO_GPU_CMD_SET_SCANOUT, 0, 0), {0, 0, 64, 48}, 0, 1};
	REC(op, 0, s);
	struct virtio_gpu_resource_flush f = {
		hdr(VIRTIO_GPU_CMD_RESOURCE_FLUSH, 0, 2), {0, 0, 64, 48}, 1, 0};
	REC(op, 0, f);
	create_2d(op, 2, 64, 64);
	attach(op, 2, 64 * 64 * 4);
	struct virtio_gpu_update_cursor u = {
		hdr(VIRTIO_GPU_CMD_UPDATE_CURSOR, 0, 0), {0, 10, 20, 0}, 2, 1, 1,
		0};
	REC(op | FZG_OP_CURSORQ | FZG_OP_NO_RESP, 0, u);
	u.hdr.type = VIRTIO_GPU_CMD_MOVE_CURSOR;
	REC(op | FZG_OP_CURSORQ, 0, u);
	struct virtio_gpu_resource_detach_backing d = {
		hdr(VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, 0, 0), 1, 0};
	REC(op, 0, d);
	struct virtio_gpu_resource_unref un = {
		hdr(VIRTIO_GPU_CMD_RESOURCE_UNREF, 0, 0), 1, 0};
	REC(op, 0, un);
}

/* A surface on resource `id`, bound and cleared (virgl_protocol.h). */
static void submit_clear(uint8_t op, uint32_t ctx, uint32_t id,
			 uint64_t fence)
{
	struct {
		struct virtio_gpu_cmd_submit s;
		uint32_t dw[20];
	} __attribute__((packed)) m = {
		{hdr(VIRTIO_GPU_CMD_SUBMIT_3D, ctx, fence), 20 * 4, 0},
		{1 | 8 << 8 | 5 << 16, 1, id, 1, 0, 0, /* create surface 1 */
		 5 | 3 << 16, 1, 0, 1,                  /* framebuffer state */
		 7 | 8 << 16, 4, 0x3e800000, 0x3f000000, 0x3f400000,
		 0x3f800000, 0, 0, 0, /* clear colour 0 */
		 0}};
	REC(op, 0, m);
}

static void three_d(uint8_t op)
{
	for (uint32_t i = 0; i < 2; i++) {
		struct virtio_gpu_get_capset_info ci = {
			hdr(VIRTIO_GPU_CMD_GET_CAPSET_INFO, 0, 0), i, 0};
		REC(op, 2, ci);
	}
	struct virtio_gpu_get_capset cs = {hdr(VIRTIO_GPU_CMD_GET_CAPSET, 0, 0),
					   2, 2};
	REC(op, 100, cs);
	struct virtio_gpu_ctx_create cc = {hdr(VIRTIO_GPU_CMD_CTX_CREATE, 1, 0),
					   4, 0, "seed"};
	REC(op, 0, cc);
	struct virtio_gpu_resource_create_3d c3 = {
		hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, 0, 0),
		5, 2, 1, (1 << 1) | (1 << 3), 64, 48, 1, 1, 0, 0, 0, 0};
	REC(op, 0, c3);
	attach(op, 5, 64 * 48 * 4);
	struct virtio_gpu_ctx_resource cr = {
		hdr(VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, 1, 0), 5, 0};
	REC(op, 0, cr);
	struct virtio_gpu_transfer_host_3d t = {
		hdr(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, 1, 0),
		{0, 0, 0, 64, 48, 1}, 0, 5, 0, 256, 0};
	REC(op, 0, t);
	submit_clear(op, 1, 5, 10);
	t.hdr = hdr(VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, 1, 11);
	REC(op, 0, t);
	struct virtio_gpu_set_scanout s = {
		hdr(VIRTIO_GPU_CMD_SET_SCANOUT, 0, 0), {0, 0, 64, 48}, 1, 5};
	REC(op, 0, s);
	cr.hdr.type = VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE;
	REC(op, 0, cr);
	struct virtio_gpu_ctx_destroy cd = {
		hdr(VIRTIO_GPU_CMD_CTX_DESTROY, 1, 0)};
	REC(op, 0, cd);
	struct virtio_gpu_resource_unref un = {
		hdr(VIRTIO_GPU_CMD_RESOURCE_UNREF, 0, 0), 5, 0};
	REC(op, 0, un);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: make-seeds-virtio-gpu DIR\n");
		return 2;
	}
	const char *dir = argv[1];
	const uint8_t fix = FZG_K_FIX_BACKING;

	begin(fix);
	two_d(0);
	put(dir, "2d");
	begin(fix | FZG_K_EVENT_IDX | FZG_K_INDIRECT | FZG_K_KICK_EACH);
	two_d(FZG_OP_INDIRECT | 3 << 2 | FZG_OP_SPLIT_RESP);
	put(dir, "2d-split-indirect");
	begin(FZG_K_VIRGL | fix);
	three_d(0);
	put(dir, "3d");
	begin(FZG_K_VIRGL | fix | FZG_K_RAW_STREAMS | FZG_K_EVENT_IDX);
	three_d(1 << 2);
	put(dir, "3d-raw-split");
	begin(FZG_K_VIRGL | fix | FZG_K_RAW_STREAMS);
	three_d(0);
	two_d(FZG_OP_RESET);
	put(dir, "3d-reset");
	begin(FZG_K_VIRGL | FZG_K_NO_3D | fix);
	three_d(FZG_OP_NO_RESP);
	put(dir, "3d-unnegotiated");
	return 0;
}
