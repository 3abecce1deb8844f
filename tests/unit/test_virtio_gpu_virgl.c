/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-gpu in 3D mode on virglrenderer, headless (EGL surfaceless on
 * Mesa's llvmpipe), driven through its rings by the simulated driver:
 * capsets, a context, a render target, a command stream that clears it to
 * a known colour under fences retired in order, the pixels read back with
 * TRANSFER_FROM_HOST_3D and through a PNG of the scanout; an asymmetric
 * pattern the right way up in PNGs of textures with and without
 * Y_0_TOP; every malformed 3D command with its error; a reset that frees
 * what the guest left inside virglrenderer; and a second 3D device in the
 * same process falling back to 2D.
 *
 * This test does not skip: without EGL surfaceless (libegl1,
 * libegl-mesa0, libgl1-mesa-dri) it fails and says why.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <virglrenderer.h>

#include "check.h"
#include "devices/virtio/virtio_gpu_internal.h"
#include "gpu_driver.h"

#define HDR sizeof(struct virtio_gpu_ctrl_hdr)
#define W 64
#define H 48
#define BGRA VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM

#define OK VIRTIO_GPU_RESP_OK_NODATA
#define E_UNSPEC VIRTIO_GPU_RESP_ERR_UNSPEC
#define E_OOM VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY
#define E_RES VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID
#define E_CTX VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID
#define E_PARAM VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER

/*
 * The few pieces of the virgl protocol the clear needs, from
 * virglrenderer's src/virgl_protocol.h and Gallium's p_defines.h (neither
 * is installed by Debian): a command is a header dword (opcode | object
 * type << 8 | length in dwords << 16) followed by `length` dwords.
 */
#define VIRGL_CMD0(cmd, obj, len) ((cmd) | ((obj) << 8) | ((len) << 16))
#define VIRGL_CCMD_NOP 0
#define VIRGL_CCMD_CREATE_OBJECT 1
#define VIRGL_CCMD_SET_FRAMEBUFFER_STATE 5
#define VIRGL_CCMD_CLEAR 7
#define VIRGL_OBJECT_SURFACE 8
#define PIPE_CLEAR_COLOR0 (1u << 2)
#define PIPE_TEXTURE_2D 2
#define PIPE_BUFFER 0
#define VIRGL_BIND_RENDER_TARGET (1u << 1)
#define VIRGL_BIND_SAMPLER_VIEW (1u << 3)
#define VIRGL_BIND_VERTEX_BUFFER (1u << 4)

/* The clear colour and what it becomes in 8 bits. */
static const float clear_rgba[4] = {0.25f, 0.5f, 0.75f, 1.0f};
static const uint8_t clear_rgb8[3] = {64, 128, 191};

static const struct virtio_gpu_params params_virgl = {
	.mode = VIRTIO_GPU_MODE_VIRGL,
};

/* A started 3D device, or a loud failure saying why 3D is off. */
static int open_virgl(struct gpu_rig *r, const struct virtio_gpu_params *p)
{
	if (gpu_rig_open(r, p))
		return -1;
	if (!virtio_gpu_has_virgl(r->gpu)) {
		fprintf(stderr, "virgl is not available: %s\n",
			virtio_gpu_fallback_reason(r->gpu));
		gpu_rig_close(r);
		return -1;
	}
	return gpu_rig_start(r, ~0ull);
}

static uint32_t ctx_create(struct gpu_rig *r, uint32_t ctx, uint32_t nlen)
{
	struct virtio_gpu_ctx_create c = {
		.hdr = gpu_hdr(VIRTIO_GPU_CMD_CTX_CREATE, ctx),
		.nlen = htole32(nlen),
	};
	memcpy(c.debug_name, "test", 4);
	return gpu_ctrl(r, &c, sizeof(c));
}

static uint32_t ctx_resource(struct gpu_rig *r, uint32_t type, uint32_t ctx,
			     uint32_t id)
{
	struct virtio_gpu_ctx_resource c = {.hdr = gpu_hdr(type, ctx),
					    .resource_id = htole32(id)};
	return gpu_ctrl(r, &c, sizeof(c));
}

static struct virtio_gpu_resource_create_3d texture(uint32_t id, uint32_t w,
						    uint32_t h, uint32_t flags)
{
	return (struct virtio_gpu_resource_create_3d){
		.hdr = gpu_hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, 0),
		.resource_id = htole32(id),
		.target = htole32(PIPE_TEXTURE_2D),
		.format = htole32(BGRA),
		.bind = htole32(VIRGL_BIND_RENDER_TARGET |
				VIRGL_BIND_SAMPLER_VIEW),
		.width = htole32(w),
		.height = htole32(h),
		.depth = htole32(1),
		.array_size = htole32(1),
		.flags = htole32(flags),
	};
}

static struct virtio_gpu_transfer_host_3d
transfer(uint32_t type, uint32_t ctx, uint32_t id, uint32_t w, uint32_t h)
{
	return (struct virtio_gpu_transfer_host_3d){
		.hdr = gpu_hdr(type, ctx),
		.box = {.w = htole32(w), .h = htole32(h), .d = htole32(1)},
		.resource_id = htole32(id),
		.stride = htole32(w * 4),
	};
}

/* A SUBMIT_3D request: its header, then the stream as data. */
static struct virtio_gpu_cmd_submit submit_hdr(uint32_t ctx, uint32_t size)
{
	return (struct virtio_gpu_cmd_submit){
		.hdr = gpu_hdr(VIRTIO_GPU_CMD_SUBMIT_3D, ctx),
		.size = htole32(size)};
}

/* Surface 1 on resource `id`, bound as the only colour buffer, cleared. */
static unsigned clear_stream(uint32_t *s, uint32_t id)
{
	unsigned n = 0;
	s[n++] = VIRGL_CMD0(VIRGL_CCMD_CREATE_OBJECT, VIRGL_OBJECT_SURFACE, 5);
	s[n++] = 1;    /* surface handle */
	s[n++] = id;   /* resource */
	s[n++] = BGRA; /* format */
	s[n++] = 0;    /* level */
	s[n++] = 0;    /* first and last layer */
	s[n++] = VIRGL_CMD0(VIRGL_CCMD_SET_FRAMEBUFFER_STATE, 0, 3);
	s[n++] = 1; /* colour buffers */
	s[n++] = 0; /* no depth buffer */
	s[n++] = 1; /* surface 1 */
	s[n++] = VIRGL_CMD0(VIRGL_CCMD_CLEAR, 0, 8);
	s[n++] = PIPE_CLEAR_COLOR0;
	for (unsigned i = 0; i < 4; i++)
		memcpy(&s[n++], &clear_rgba[i], 4);
	s[n++] = 0; /* depth: a double */
	s[n++] = 0;
	s[n++] = 0; /* stencil */
	return n;
}

static bool near(uint8_t a, uint8_t b)
{
	return a + 1 >= b && b + 1 >= a;
}

/* ---- capsets, contexts, the clear, fences ---- */

static void test_capsets(struct gpu_rig *r)
{
	struct virtio_gpu_config c;
	sim_config_read(r->sim, 0, &c, sizeof(c));
	CHECK_EQ_U64(le32toh(c.num_capsets), 2);
	CHECK(r->sim->features & (1ull << VIRTIO_GPU_F_VIRGL));

	uint32_t sizes[2] = {0};
	for (uint32_t i = 0; i < 3; i++) {
		struct virtio_gpu_get_capset_info q = {
			.hdr = gpu_hdr(VIRTIO_GPU_CMD_GET_CAPSET_INFO, 0),
			.capset_index = htole32(i)};
		struct virtio_gpu_resp_capset_info a;
		struct gpu_req req = {&q, sizeof(q), NULL, 0, sizeof(a)};
		uint32_t type = gpu_send(r, 0, &req, &a, NULL);
		if (i == 2) {
			CHECK_EQ_U64(type, E_PARAM);
			break;
		}
		CHECK_EQ_U64(type, VIRTIO_GPU_RESP_OK_CAPSET_INFO);
		CHECK_EQ_U64(le32toh(a.capset_id), i + 1);
		CHECK_EQ_U64(le32toh(a.capset_max_version), i + 1);
		sizes[i] = le32toh(a.capset_max_size);
		CHECK(sizes[i] >= 300 && sizes[i] <= 65536);
	}
	/* The VIRGL2 caps begin with their version (virgl_caps_v1). */
	struct virtio_gpu_get_capset g = {
		.hdr = gpu_hdr(VIRTIO_GPU_CMD_GET_CAPSET, 0),
		.capset_id = htole32(2),
		.capset_version = htole32(2)};
	uint8_t *resp = malloc(HDR + sizes[1]);
	struct gpu_req req = {&g, sizeof(g), NULL, 0, HDR + sizes[1]};
	uint32_t len = 0;
	CHECK_EQ_U64(gpu_send(r, 0, &req, resp, &len),
		     VIRTIO_GPU_RESP_OK_CAPSET);
	CHECK_EQ_U64(len, HDR + sizes[1]);
	uint32_t version;
	memcpy(&version, resp + HDR, 4);
	CHECK_EQ_U64(le32toh(version), 2);
	free(resp);
	/* Unknown ids and versions, and a response buffer too small. */
	g.capset_id = htole32(3);
	CHECK_EQ_U64(gpu_send(r, 0, &req, NULL, NULL), E_PARAM);
	g.capset_id = 0;
	CHECK_EQ_U64(gpu_send(r, 0, &req, NULL, NULL), E_PARAM);
	g.capset_id = htole32(2);
	g.capset_version = htole32(3);
	CHECK_EQ_U64(gpu_send(r, 0, &req, NULL, NULL), E_PARAM);
	g.capset_version = htole32(2);
	req.resp_len = HDR + 16;
	CHECK_EQ_U64(gpu_send(r, 0, &req, NULL, NULL), E_UNSPEC);
}

/* Sends the clear (fenced) and reads the target back (fenced): both
 * answers carry their fences; the pixels are the clear colour. */
static void test_clear_and_read_back(struct gpu_rig *r)
{
	uint64_t gpa[3];
	uint32_t s[32];
	uint8_t *px = malloc(W * H * 4);

	struct virtio_gpu_resource_create_3d c = texture(10, W, H, 0);
	CHECK_EQ_U64(gpu_ctrl(r, &c, sizeof(c)), OK);
	CHECK_EQ_U64(gpu_attach(r, 10, W * H * 4, 3, gpa), OK);
	CHECK_EQ_U64(ctx_resource(r, VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, 1, 10),
		     OK);
	unsigned n = clear_stream(s, 10);
	struct virtio_gpu_cmd_submit sub = submit_hdr(1, n * 4);
	sub.hdr.flags = htole32(VIRTIO_GPU_FLAG_FENCE);
	sub.hdr.fence_id = htole64(100);
	struct virtio_gpu_ctrl_hdr resp;
	struct gpu_req req = {&sub, sizeof(sub), s, n * 4, HDR};
	CHECK_EQ_U64(gpu_send(r, 0, &req, &resp, NULL), OK);
	CHECK_EQ_U64(le32toh(resp.flags), VIRTIO_GPU_FLAG_FENCE);
	CHECK_EQ_U64(le64toh(resp.fence_id), 100);

	struct virtio_gpu_transfer_host_3d t =
		transfer(VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, 1, 10, W, H);
	t.hdr.flags = htole32(VIRTIO_GPU_FLAG_FENCE);
	t.hdr.fence_id = htole64(101);
	req = (struct gpu_req){&t, sizeof(t), NULL, 0, HDR};
	CHECK_EQ_U64(gpu_send(r, 0, &req, &resp, NULL), OK);
	CHECK_EQ_U64(le64toh(resp.fence_id), 101);
	gpu_backing_read_back(r, gpa, 3, W * H * 4, px);
	unsigned bad = 0;
	for (unsigned i = 0; i < W * H; i++) {
		const uint8_t *p = px + 4 * i; /* B, G, R, A */
		bad += !near(p[2], clear_rgb8[0]) ||
		       !near(p[1], clear_rgb8[1]) ||
		       !near(p[0], clear_rgb8[2]) || p[3] != 0xff;
	}
	CHECK_EQ_U64(bad, 0);

	/* The scanout shows the same, through a PNG. */
	CHECK_EQ_U64(gpu_set_scanout(r, 0, 10, 0, 0, W, H), OK);
	struct virtio_gpu_image img;
	CHECK(virtio_gpu_read_scanout(r->gpu, 0, &img, NULL) == 0);
	bad = 0;
	for (unsigned i = 0; img.rgb && i < W * H; i++)
		for (unsigned k = 0; k < 3; k++)
			bad += !near(img.rgb[3 * i + k], clear_rgb8[k]);
	CHECK(img.rgb && bad == 0);
	free(img.rgb);
	free(px);
}

/* Fenced commands queued together come back in fence order, each with
 * its own fence; an unfenced one in between needs no fence. */
static void test_fence_order(struct gpu_rig *r)
{
	uint32_t s[32];
	unsigned n = clear_stream(s, 10);
	struct virtio_gpu_cmd_submit sub[3];
	uint64_t resp_gpa[4];
	int head[4];

	for (unsigned i = 0; i < 3; i++) {
		sub[i] = submit_hdr(1, n * 4);
		sub[i].hdr.flags = htole32(VIRTIO_GPU_FLAG_FENCE);
		sub[i].hdr.fence_id = htole64(200 + i);
		struct gpu_req req = {&sub[i], sizeof(sub[i]), s, n * 4, HDR};
		head[i] = gpu_queue(r, 0, &req, &resp_gpa[i]);
	}
	struct virtio_gpu_ctrl_hdr info =
		gpu_hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO, 0);
	struct gpu_req req = {&info, sizeof(info), NULL, 0,
			      sizeof(struct virtio_gpu_resp_display_info)};
	head[3] = gpu_queue(r, 0, &req, &resp_gpa[3]);
	gpu_kick_wait(r, 0);

	unsigned seen = 0, fenced_seen = 0, in_order = 1;
	uint16_t id;
	uint32_t len;
	while (sim_get_used(r->sim, 0, &id, &len) == 1) {
		seen++;
		for (unsigned i = 0; i < 3; i++)
			if (id == head[i]) {
				in_order &= i == fenced_seen++;
				const struct virtio_gpu_ctrl_hdr *h =
					sim_ptr(r->sim, resp_gpa[i], HDR);
				CHECK_EQ_U64(le64toh(h->fence_id), 200 + i);
				CHECK_EQ_U64(le32toh(h->type), OK);
			}
	}
	CHECK_EQ_U64(seen, 4);
	CHECK_EQ_U64(fenced_seen, 3);
	CHECK(in_order);
	CHECK(head[3] >= 0);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Bucket counts add up to the count, and the summary agrees with itself. */
static void check_hist(const struct latency_hist *h)
{
	uint64_t in_buckets = 0;
	for (unsigned i = 0; i < LATENCY_HIST_BUCKETS; i++)
		in_buckets += h->buckets[i];
	CHECK_EQ_U64(in_buckets, h->count);
	CHECK(h->count && h->max_ns >= h->sum_ns / h->count);
	CHECK(h->buckets[0] == 0); /* no fence retires in no time */
	uint64_t p50 = latency_hist_quantile(h, 0.5);
	uint64_t p99 = latency_hist_quantile(h, 0.99);
	CHECK(p50 > 0 && p50 <= p99 && p99 <= h->max_ns);
}

/* Fenced SUBMIT_3Ds are timed up to their answer, which comes after the
 * fence: each takes more than nothing and less than the round trip the
 * driver saw. Unfenced and failed submits and other fenced commands are
 * not timed; every SUBMIT_3D served is counted. */
static void test_fence_latency(struct gpu_rig *r)
{
	struct virtio_gpu_stats before, after;
	uint32_t s[32];
	unsigned n = clear_stream(s, 10);
	struct virtio_gpu_ctrl_hdr resp;

	/* So far: the clear and the three fenced clears of
	 * test_fence_order, all fenced. */
	virtio_gpu_stats(r->gpu, &before);
	CHECK_EQ_U64(before.submits, 4);
	CHECK_EQ_U64(before.fence_latency.count, 4);
	check_hist(&before.fence_latency);

	uint64_t t0 = mono_ns();
	for (unsigned i = 0; i < 5; i++) {
		struct virtio_gpu_cmd_submit sub = submit_hdr(1, n * 4);
		sub.hdr.flags = htole32(VIRTIO_GPU_FLAG_FENCE);
		/* Guest fence ids need not grow or be small. */
		sub.hdr.fence_id = htole64(i % 2 ? ~0ull - i : 7);
		struct gpu_req req = {&sub, sizeof(sub), s, n * 4, HDR};
		CHECK_EQ_U64(gpu_send(r, 0, &req, &resp, NULL), OK);
	}
	uint64_t wall = mono_ns() - t0;
	virtio_gpu_stats(r->gpu, &after);
	CHECK_EQ_U64(after.submits, before.submits + 5);
	CHECK_EQ_U64(after.fence_latency.count, before.fence_latency.count + 5);
	uint64_t sum = after.fence_latency.sum_ns - before.fence_latency.sum_ns;
	CHECK(sum > 0 && sum <= wall);
	check_hist(&after.fence_latency);
	printf("test_virtio_gpu_virgl: SUBMIT_3D to fence: %.1f us on average "
	       "(p50 %.1f, max %.1f) over %llu; 5 round trips took %.1f us\n",
	       after.fence_latency.sum_ns / 1e3 /
		       (double)after.fence_latency.count,
	       latency_hist_quantile(&after.fence_latency, 0.5) / 1e3,
	       after.fence_latency.max_ns / 1e3,
	       (unsigned long long)after.fence_latency.count, wall / 1e3);

	/* Unfenced, fenced but refused (no such context), and a fenced
	 * transfer: counted as submits where they are ones, never timed. */
	before = after;
	struct virtio_gpu_cmd_submit sub = submit_hdr(1, n * 4);
	struct gpu_req req = {&sub, sizeof(sub), s, n * 4, HDR};
	CHECK_EQ_U64(gpu_send(r, 0, &req, &resp, NULL), OK);
	sub = submit_hdr(9, n * 4);
	sub.hdr.flags = htole32(VIRTIO_GPU_FLAG_FENCE);
	CHECK_EQ_U64(gpu_send(r, 0, &req, &resp, NULL), E_CTX);
	struct virtio_gpu_transfer_host_3d t =
		transfer(VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, 1, 10, W, H);
	t.hdr.flags = htole32(VIRTIO_GPU_FLAG_FENCE);
	req = (struct gpu_req){&t, sizeof(t), NULL, 0, HDR};
	CHECK_EQ_U64(gpu_send(r, 0, &req, &resp, NULL), OK);
	CHECK_EQ_U64(le32toh(resp.flags), VIRTIO_GPU_FLAG_FENCE);
	virtio_gpu_stats(r->gpu, &after);
	CHECK_EQ_U64(after.submits, before.submits + 1);
	CHECK_EQ_U64(after.fence_latency.count, before.fence_latency.count);
	CHECK_EQ_U64(after.fence_latency.sum_ns, before.fence_latency.sum_ns);
}

/* ---- orientation ---- */

/* A texture with the pattern uploaded by TRANSFER_TO_HOST_3D; its PNG
 * must show the guest's row 0 at the top, as the guest's own read-back
 * (TRANSFER_FROM_HOST_3D) does. */
static void check_orientation(struct gpu_rig *r, uint32_t id, uint32_t flags)
{
	uint64_t gpa[2], back[2];
	uint8_t *buf = malloc(W * H * 4), *px = malloc(W * H * 4);
	char path[256];
	const char *dir = getenv("TMPDIR");

	struct virtio_gpu_resource_create_3d c = texture(id, W, H, flags);
	CHECK_EQ_U64(gpu_ctrl(r, &c, sizeof(c)), OK);
	CHECK_EQ_U64(gpu_attach(r, id, W * H * 4, 2, gpa), OK);
	gpu_pattern_fill(buf, W, H, 0xff);
	gpu_backing_write(r, gpa, 2, W * H * 4, buf);
	struct virtio_gpu_transfer_host_3d t =
		transfer(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, 0, id, W, H);
	CHECK_EQ_U64(gpu_ctrl(r, &t, sizeof(t)), OK);
	CHECK_EQ_U64(gpu_set_scanout(r, 0, id, 0, 0, W, H), OK);

	snprintf(path, sizeof(path), "%s/phy-gpu-virgl-%u-%d.png",
		 dir && *dir ? dir : "/tmp", id, (int)getpid());
	struct phy_error err = {0};
	CHECK(virtio_gpu_screenshot(r->gpu, 0, path, &err) == 0);
	unsigned pw = 0, ph = 0;
	uint8_t *png = png_read_rgb(path, &pw, &ph);
	CHECK(png && pw == W && ph == H);
	if (png)
		CHECK_EQ_U64(gpu_pattern_mismatches(png, W, H, 0, 0), 0);
	free(png);
	unlink(path);

	/* The guest reads back what it wrote, rows in the same order. */
	struct virtio_gpu_resource_detach_backing d = {
		.hdr = gpu_hdr(VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, 0),
		.resource_id = htole32(id)};
	CHECK_EQ_U64(gpu_ctrl(r, &d, sizeof(d)), OK);
	CHECK_EQ_U64(gpu_attach(r, id, W * H * 4, 2, back), OK);
	t.hdr.type = htole32(VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D);
	CHECK_EQ_U64(gpu_ctrl(r, &t, sizeof(t)), OK);
	gpu_backing_read_back(r, back, 2, W * H * 4, px);
	CHECK(!memcmp(px, buf, W * H * 4));
	free(buf);
	free(px);
}

static void test_orientation(struct gpu_rig *r)
{
	check_orientation(r, 20, 0);
	check_orientation(r, 21, VIRTIO_GPU_RESOURCE_FLAG_Y_0_TOP);

	/* A 2D resource in 3D mode (a Y_0_TOP texture), the 2D way. */
	uint64_t gpa[3];
	uint8_t *buf = malloc(W * H * 4);
	CHECK_EQ_U64(gpu_create_2d(r, 22, BGRA, W, H), OK);
	CHECK_EQ_U64(gpu_attach(r, 22, W * H * 4, 3, gpa), OK);
	gpu_pattern_fill(buf, W, H, 0xff);
	gpu_backing_write(r, gpa, 3, W * H * 4, buf);
	CHECK_EQ_U64(gpu_transfer_2d(r, 22, 0, 0, W, H, 0), OK);
	CHECK_EQ_U64(gpu_set_scanout(r, 0, 22, 0, 0, W, H), OK);
	struct virtio_gpu_image img;
	CHECK(virtio_gpu_read_scanout(r->gpu, 0, &img, NULL) == 0);
	CHECK(img.rgb && gpu_pattern_mismatches(img.rgb, W, H, 0, 0) == 0);
	free(img.rgb);

	/* Its cursor image too, from a 64x64 one. */
	CHECK_EQ_U64(gpu_create_2d(r, 23, BGRA, 64, 64), OK);
	CHECK_EQ_U64(gpu_attach(r, 23, 64 * 64 * 4, 1, gpa), OK);
	uint8_t *cur = malloc(64 * 64 * 4);
	gpu_pattern_fill(cur, 64, 64, 0xff);
	gpu_backing_write(r, gpa, 1, 64 * 64 * 4, cur);
	CHECK_EQ_U64(gpu_transfer_2d(r, 23, 0, 0, 64, 64, 0), OK);
	struct virtio_gpu_update_cursor u = {
		.hdr = gpu_hdr(VIRTIO_GPU_CMD_UPDATE_CURSOR, 0),
		.resource_id = htole32(23)};
	struct gpu_req req = {&u, sizeof(u), NULL, 0, HDR};
	CHECK_EQ_U64(gpu_send(r, 1, &req, NULL, NULL), OK);
	struct virtio_gpu_cursor *c = calloc(1, sizeof(*c));
	CHECK(virtio_gpu_read_cursor(r->gpu, c, NULL) == 0);
	unsigned bad = 0;
	for (unsigned i = 0; i < 64 * 64; i++)
		bad += c->rgba[4 * i] != cur[4 * i + 2] ||
		       c->rgba[4 * i + 1] != cur[4 * i + 1] ||
		       c->rgba[4 * i + 2] != cur[4 * i] ||
		       c->rgba[4 * i + 3] != 0xff;
	CHECK(c->visible && bad == 0);
	free(c);
	free(cur);
	free(buf);
}

/* ---- malformed 3D commands ---- */

static void test_bad_contexts(struct gpu_rig *r)
{
	CHECK_EQ_U64(ctx_create(r, 1, 4), E_CTX); /* exists */
	CHECK_EQ_U64(ctx_create(r, 0, 4), E_CTX); /* virglrenderer's own */
	CHECK_EQ_U64(ctx_create(r, 2, 65), E_PARAM);
	struct virtio_gpu_ctx_destroy d = {
		.hdr = gpu_hdr(VIRTIO_GPU_CMD_CTX_DESTROY, 7)};
	CHECK_EQ_U64(gpu_ctrl(r, &d, sizeof(d)), E_CTX);
	CHECK_EQ_U64(ctx_resource(r, VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, 7, 10),
		     E_CTX);
	CHECK_EQ_U64(
		ctx_resource(r, VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, 1, 999),
		E_RES);
	CHECK_EQ_U64(ctx_resource(r, VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, 1, 10),
		     OK);
	CHECK_EQ_U64(ctx_resource(r, VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, 1, 10),
		     OK);
}

static void test_bad_create_3d(struct gpu_rig *r)
{
	struct virtio_gpu_resource_create_3d c;
	struct {
		uint32_t *field, value, want;
	} cases[] = {
		{&c.resource_id, 0, E_RES},
		{&c.resource_id, 10, E_RES}, /* exists */
		{&c.target, 9, E_PARAM},
		{&c.width, 0, E_PARAM},
		{&c.height, 0, E_PARAM},
		{&c.depth, 0, E_PARAM},
		{&c.array_size, 0, E_PARAM},
		{&c.width, 16385, E_PARAM},
		{&c.array_size, 2049, E_PARAM},
		{&c.last_level, 15, E_PARAM},
		{&c.nr_samples, 33, E_PARAM},
		{&c.format, 9999, E_PARAM}, /* virglrenderer refuses it */
		{&c.height, 16384, E_OOM},  /* 64x16384x2048: 8 GiB */
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = texture(30, W, H, 0);
		if (cases[i].want == E_OOM)
			c.array_size = htole32(2048);
		*cases[i].field = htole32(cases[i].value);
		if (cases[i].field == &c.array_size)
			c.target = htole32(7); /* a 2D array */
		uint32_t got = gpu_ctrl(r, &c, sizeof(c));
		if (got != cases[i].want)
			fprintf(stderr, "create_3d case %u: 0x%x\n", i, got);
		CHECK_EQ_U64(got, cases[i].want);
	}
	/* A buffer has one row, one layer. */
	c = texture(30, 4096, 2, 0);
	c.target = htole32(PIPE_BUFFER);
	c.format = htole32(64); /* R8_UNORM */
	c.bind = htole32(VIRGL_BIND_VERTEX_BUFFER);
	CHECK_EQ_U64(gpu_ctrl(r, &c, sizeof(c)), E_PARAM);
	c.height = htole32(1);
	CHECK_EQ_U64(gpu_ctrl(r, &c, sizeof(c)), OK);
}

static uint32_t transfer_case(struct gpu_rig *r, uint32_t ctx, uint32_t id,
			      const struct virtio_gpu_box *box, uint32_t level,
			      uint64_t off, uint32_t stride)
{
	struct virtio_gpu_transfer_host_3d t =
		transfer(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, ctx, id, W, H);
	t.box = *box;
	t.level = htole32(level);
	t.offset = htole64(off);
	t.stride = htole32(stride);
	return gpu_ctrl(r, &t, sizeof(t));
}

static void test_bad_transfers(struct gpu_rig *r)
{
	const uint32_t s = W * 4;
	struct virtio_gpu_box full = {0,	  0,	      0,
				      htole32(W), htole32(H), htole32(1)};
	struct virtio_gpu_box b = full;
	struct virtio_gpu_resource_create_3d c = texture(31, W, H, 0);
	CHECK_EQ_U64(gpu_ctrl(r, &c, sizeof(c)), OK); /* no backing */

	CHECK_EQ_U64(transfer_case(r, 1, 999, &full, 0, 0, s), E_RES);
	CHECK_EQ_U64(transfer_case(r, 7, 10, &full, 0, 0, s), E_CTX);
	CHECK_EQ_U64(transfer_case(r, 1, 31, &full, 0, 0, s), E_UNSPEC);
	CHECK_EQ_U64(transfer_case(r, 1, 10, &full, 1, 0, s), E_PARAM);
	CHECK_EQ_U64(transfer_case(r, 1, 10, &full, 0x41000000, 0, s), E_PARAM);
	b.w = htole32(W + 1);
	CHECK_EQ_U64(transfer_case(r, 1, 10, &b, 0, 0, s), E_PARAM);
	b = full;
	b.x = htole32(0xffffffff);
	b.w = htole32(2);
	CHECK_EQ_U64(transfer_case(r, 1, 10, &b, 0, 0, s), E_PARAM);
	b = full;
	b.z = htole32(1); /* a 2D texture has one layer */
	CHECK_EQ_U64(transfer_case(r, 1, 10, &b, 0, 0, s), E_PARAM);
	CHECK_EQ_U64(transfer_case(r, 1, 10, &full, 0, W * H * 4 + 1, s),
		     E_PARAM);
	CHECK_EQ_U64(transfer_case(r, 1, 10, &full, 0, ~0ull, s), E_PARAM);
	/* The rows would run past the backing. */
	CHECK_EQ_U64(transfer_case(r, 1, 10, &full, 0, 0, 0x10000000), E_PARAM);
	CHECK_EQ_U64(transfer_case(r, 1, 10, &full, 0, 4, s), E_PARAM);
	CHECK_EQ_U64(transfer_case(r, 1, 10, &full, 0, 0, s), OK);
	CHECK_EQ_U64(transfer_case(r, 0, 10, &full, 0, 0, s), OK); /* ctx 0 */
}

static void test_bad_submits(struct gpu_rig *r)
{
	uint32_t s[16] = {0};
	struct virtio_gpu_cmd_submit sub = submit_hdr(7, 16);
	struct gpu_req req = {&sub, sizeof(sub), s, 16, HDR};
	CHECK_EQ_U64(gpu_send(r, 0, &req, NULL, NULL), E_CTX);
	sub = submit_hdr(1, 6);
	CHECK_EQ_U64(gpu_send(r, 0, &req, NULL, NULL), E_PARAM);
	sub = submit_hdr(1, 64); /* only 16 bytes follow */
	CHECK_EQ_U64(gpu_send(r, 0, &req, NULL, NULL), E_PARAM);
	sub = submit_hdr(1, (4u << 20) + 4);
	CHECK_EQ_U64(gpu_send(r, 0, &req, NULL, NULL), E_PARAM);
	sub = submit_hdr(1, 0);
	CHECK_EQ_U64(gpu_send(r, 0, &req, NULL, NULL), OK);
	/* A command longer than the stream: virglrenderer refuses it. */
	s[0] = VIRGL_CMD0(VIRGL_CCMD_CLEAR, 0, 1000);
	sub = submit_hdr(1, 16);
	CHECK_EQ_U64(gpu_send(r, 0, &req, NULL, NULL), E_PARAM);
}

/* ---- reset, a second device ---- */

struct virgl_probe {
	uint32_t ctx, res;
	int ctx_result, res_result;
};

/* On the GPU thread: whether virglrenderer still has the context and
 * the resource (a NOP submitted to it, and a resource query). */
static void probe_virgl(struct virtio_gpu *gpu, void *arg)
{
	struct virgl_probe *p = arg;
	struct virgl_renderer_resource_info info;
	uint32_t nop = VIRGL_CMD0(VIRGL_CCMD_NOP, 0, 0);
	p->ctx_result = virgl_renderer_submit_cmd(&nop, (int)p->ctx, 1);
	p->res_result = virgl_renderer_resource_get_info((int)p->res, &info);
}

static void test_reset_frees_virgl_objects(struct gpu_rig *r)
{
	/* Context 1 refuses streams since test_bad_transfers made it do a
	 * transfer virglrenderer refused (it marks the context in error):
	 * probe a fresh one. */
	struct virgl_probe p = {.ctx = 5, .res = 10};
	CHECK_EQ_U64(ctx_create(r, 5, 4), OK);
	CHECK(gpu_call(r->gpu, probe_virgl, &p) == 0);
	CHECK(p.ctx_result == 0 && p.res_result == 0);
	CHECK(virtio_gpu_host_mem(r->gpu) > W * H * 4);

	CHECK(gpu_rig_start(r, ~0ull) == 0); /* resets first */
	CHECK_EQ_U64(virtio_gpu_host_mem(r->gpu), 0);
	CHECK(gpu_call(r->gpu, probe_virgl, &p) == 0);
	CHECK(p.ctx_result != 0 && p.res_result != 0);
	/* Everything works again with the same ids. */
	CHECK_EQ_U64(ctx_create(r, 1, 4), OK);
	struct virtio_gpu_resource_create_3d c = texture(10, W, H, 0);
	CHECK_EQ_U64(gpu_ctrl(r, &c, sizeof(c)), OK);
}

static void test_second_device_falls_back(void)
{
	struct gpu_rig second;
	REQUIRE(gpu_rig_open(&second, &params_virgl) == 0);
	CHECK(!virtio_gpu_has_virgl(second.gpu));
	CHECK_STR_CONTAINS(virtio_gpu_fallback_reason(second.gpu),
			   "one per process");
	CHECK(!(second.dev->host_features & (1ull << VIRTIO_GPU_F_VIRGL)));
	CHECK(gpu_rig_start(&second, ~0ull) == 0);
	CHECK_EQ_U64(gpu_create_2d(&second, 1, BGRA, 4, 4), OK);
	gpu_rig_close(&second);
}

/* virglrenderer starts again in the same process once let go; contexts
 * are charged what llvmpipe takes for one (3 MiB): five fit in 16 MiB. */
static void test_context_cap(void)
{
	const struct virtio_gpu_params p = {.mode = VIRTIO_GPU_MODE_VIRGL,
					    .max_host_mem = 16u << 20};
	struct gpu_rig r;
	REQUIRE(open_virgl(&r, &p) == 0);
	for (uint32_t ctx = 1; ctx <= 5; ctx++)
		CHECK_EQ_U64(ctx_create(&r, ctx, 4), OK);
	CHECK_EQ_U64(virtio_gpu_host_mem(r.gpu), 5 * (3u << 20));
	CHECK_EQ_U64(ctx_create(&r, 6, 4), E_OOM);
	struct virtio_gpu_ctx_destroy d = {
		.hdr = gpu_hdr(VIRTIO_GPU_CMD_CTX_DESTROY, 3)};
	CHECK_EQ_U64(gpu_ctrl(&r, &d, sizeof(d)), OK);
	CHECK_EQ_U64(ctx_create(&r, 6, 4), OK);
	gpu_rig_close(&r);
}

int main(void)
{
	struct gpu_rig r;
	if (open_virgl(&r, &params_virgl)) {
		CHECK(!"3D mode is available (EGL surfaceless, virglrenderer)");
		return check_report("test_virtio_gpu_virgl");
	}
	CHECK(virtio_gpu_fallback_reason(r.gpu) == NULL);
	test_capsets(&r);
	CHECK_EQ_U64(ctx_create(&r, 1, 4), OK);
	test_clear_and_read_back(&r);
	test_fence_order(&r);
	test_fence_latency(&r);
	test_orientation(&r);
	test_bad_contexts(&r);
	test_bad_create_3d(&r);
	test_bad_transfers(&r);
	test_bad_submits(&r);
	CHECK(!sim_needs_reset(r.sim));
	test_second_device_falls_back();
	test_reset_frees_virgl_objects(&r);
	gpu_rig_close(&r);

	test_context_cap();
	return check_report("test_virtio_gpu_virgl");
}
