/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-gpu in 2D mode, driven through its rings by the simulated
 * driver: features and configuration space, display information and
 * EDID, a known asymmetric pattern through scattered backing pages to a
 * PNG screenshot read back pixel by pixel, partial updates and scanout
 * rectangles, every pixel format, the cursor, every malformed command
 * with the error it must get, the host memory cap, driver bugs that need
 * a reset, and a reset with resources alive (and resets racing the GPU
 * thread: one while it is busy, and thousands right after a kick).
 */
#define _GNU_SOURCE
#include <endian.h>
#include <stdlib.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "check.h"
#include "devices/gpu/edid.h"
#include "gpu_driver.h"
#include "common/io_loop.h"

#define HDR sizeof(struct virtio_gpu_ctrl_hdr)
#define W 64
#define H 48
#define BGRX VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM
#define ALL_FEATURES (~0ull)

#define OK VIRTIO_GPU_RESP_OK_NODATA
#define E_UNSPEC VIRTIO_GPU_RESP_ERR_UNSPEC
#define E_OOM VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY
#define E_SCANOUT VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID
#define E_RES VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID
#define E_PARAM VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER

static const struct virtio_gpu_params params_2d = {
	.mode = VIRTIO_GPU_MODE_2D,
};

static int open_started(struct gpu_rig *r, const struct virtio_gpu_params *p)
{
	if (gpu_rig_open(r, p))
		return -1;
	if (gpu_rig_start(r, ALL_FEATURES)) {
		fprintf(stderr, "the device did not start\n");
		gpu_rig_close(r);
		return -1;
	}
	return 0;
}

static void tmp_png(char *path, size_t n, const char *tag)
{
	const char *dir = getenv("TMPDIR");
	snprintf(path, n, "%s/phy-gpu-%s-%d.png", dir && *dir ? dir : "/tmp",
		 tag, (int)getpid());
}

/* ---- tests ---- */

static void test_features_and_config(void)
{
	struct virtio_gpu_params p = {.mode = VIRTIO_GPU_MODE_2D,
				      .width = 800,
				      .height = 600,
				      .outputs = 2};
	struct gpu_rig r;
	REQUIRE(gpu_rig_open(&r, &p) == 0);
	uint64_t f = r.dev->host_features;
	CHECK(f & (1ull << VIRTIO_GPU_F_EDID));
	CHECK(f & (1ull << VIRTIO_RING_F_EVENT_IDX));
	CHECK(f & (1ull << VIRTIO_RING_F_INDIRECT_DESC));
	CHECK(f & (1ull << VIRTIO_F_VERSION_1));
	CHECK(!(f & (1ull << VIRTIO_GPU_F_VIRGL)));
	CHECK(!virtio_gpu_has_virgl(r.gpu));
	CHECK(virtio_gpu_fallback_reason(r.gpu) == NULL);

	struct virtio_gpu_config c;
	sim_config_read(r.sim, 0, &c, sizeof(c));
	CHECK_EQ_U64(le32toh(c.num_scanouts), 2);
	CHECK_EQ_U64(le32toh(c.num_capsets), 0);
	CHECK_EQ_U64(le32toh(c.events_read), 0);
	/* events_clear is write-to-clear; nothing else is writable. */
	uint32_t v = htole32(~0u);
	pthread_mutex_lock(&r.dev->lock);
	r.dev->ops->config_write(r.dev, 4, &v, 4);
	r.dev->ops->config_write(r.dev, 8, &v, 4);
	pthread_mutex_unlock(&r.dev->lock);
	sim_config_read(r.sim, 0, &c, sizeof(c));
	CHECK_EQ_U64(le32toh(c.num_scanouts), 2);

	CHECK(gpu_rig_start(&r, ALL_FEATURES) == 0);
	struct virtio_gpu_ctrl_hdr q =
		gpu_hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO, 0);
	struct virtio_gpu_resp_display_info d;
	struct gpu_req req = {&q, sizeof(q), NULL, 0, sizeof(d)};
	uint32_t len = 0;
	CHECK_EQ_U64(gpu_send(&r, 0, &req, &d, &len),
		     VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	CHECK_EQ_U64(len, sizeof(d));
	for (unsigned i = 0; i < VIRTIO_GPU_MAX_SCANOUTS; i++) {
		CHECK_EQ_U64(le32toh(d.pmodes[i].enabled), i < 2);
		CHECK_EQ_U64(le32toh(d.pmodes[i].r.width), i < 2 ? 800 : 0);
		CHECK_EQ_U64(le32toh(d.pmodes[i].r.height), i < 2 ? 600 : 0);
	}
	CHECK_EQ_U64(le32toh(d.pmodes[1].r.x), 800);
	gpu_rig_close(&r);
}

/* An EDID block a Linux guest accepts: header, checksum, and a preferred
 * detailed timing of the configured size. */
static void check_edid(const uint8_t *e, unsigned w, unsigned h)
{
	static const uint8_t header[8] = {0,	0xff, 0xff, 0xff,
					  0xff, 0xff, 0xff, 0};
	uint8_t sum = 0;
	for (unsigned i = 0; i < EDID_BLOCK_SIZE; i++)
		sum += e[i];
	CHECK(!memcmp(e, header, 8));
	CHECK_EQ_U64(sum, 0);
	CHECK_EQ_U64(e[18], 1);
	CHECK_EQ_U64(e[19], 4);
	const uint8_t *dtd = e + 54;
	CHECK((dtd[0] | dtd[1]) != 0); /* a timing, not a descriptor */
	CHECK_EQ_U64(dtd[2] | (dtd[4] >> 4) << 8, w);
	CHECK_EQ_U64(dtd[5] | (dtd[7] >> 4) << 8, h);
	CHECK(!memcmp(e + 72 + 5, "phyllome\n", 9));
}

static void test_edid(void)
{
	struct virtio_gpu_params p = {.mode = VIRTIO_GPU_MODE_2D,
				      .width = 1920,
				      .height = 1080,
				      .outputs = 2};
	struct gpu_rig r;
	REQUIRE(open_started(&r, &p) == 0);
	struct virtio_gpu_cmd_get_edid g = {
		.hdr = gpu_hdr(VIRTIO_GPU_CMD_GET_EDID, 0),
		.scanout = htole32(1)};
	struct virtio_gpu_resp_edid e;
	struct gpu_req req = {&g, sizeof(g), NULL, 0, sizeof(e)};
	CHECK_EQ_U64(gpu_send(&r, 0, &req, &e, NULL), VIRTIO_GPU_RESP_OK_EDID);
	CHECK_EQ_U64(le32toh(e.size), EDID_BLOCK_SIZE);
	check_edid(e.edid, 1920, 1080);
	g.scanout = htole32(2);
	CHECK_EQ_U64(gpu_send(&r, 0, &req, &e, NULL), E_SCANOUT);
	gpu_rig_close(&r);

	/* Sizes at the ends of the range. */
	uint8_t block[EDID_BLOCK_SIZE];
	edid_build(block, VIRTIO_GPU_MAX_DISPLAY, VIRTIO_GPU_MAX_DISPLAY, 1);
	check_edid(block, VIRTIO_GPU_MAX_DISPLAY, VIRTIO_GPU_MAX_DISPLAY);
	edid_build(block, VIRTIO_GPU_MIN_DISPLAY, VIRTIO_GPU_MIN_DISPLAY, 1);
	check_edid(block, VIRTIO_GPU_MIN_DISPLAY, VIRTIO_GPU_MIN_DISPLAY);

	/* A driver that did not negotiate EDID cannot ask for it. */
	REQUIRE(gpu_rig_open(&r, &params_2d) == 0);
	CHECK(gpu_rig_start(&r, ~(1ull << VIRTIO_GPU_F_EDID)) == 0);
	g.scanout = 0;
	CHECK_EQ_U64(gpu_send(&r, 0, &req, &e, NULL), E_UNSPEC);
	gpu_rig_close(&r);
}

/* Resource id, W x H BGRX, backed by 3 scattered pieces (gpa) holding
 * the pattern from buf, transferred and shown on scanout 0. */
static void show_pattern(struct gpu_rig *r, uint32_t id, uint64_t gpa[3],
			 uint8_t *buf)
{
	CHECK_EQ_U64(gpu_create_2d(r, id, BGRX, W, H), OK);
	CHECK_EQ_U64(gpu_attach(r, id, W * H * 4, 3, gpa), OK);
	gpu_pattern_fill(buf, W, H, 0x77);
	gpu_backing_write(r, gpa, 3, W * H * 4, buf);
	CHECK_EQ_U64(gpu_transfer_2d(r, id, 0, 0, W, H, 0), OK);
	CHECK_EQ_U64(gpu_set_scanout(r, 0, id, 0, 0, W, H), OK);
}

static void test_pattern_to_png(void)
{
	struct gpu_rig r;
	uint64_t gpa[3];
	uint8_t *buf = malloc(W * H * 4);
	char path[256];

	REQUIRE(open_started(&r, &params_2d) == 0);
	show_pattern(&r, 1, gpa, buf);
	CHECK_EQ_U64(gpu_flush(&r, 1, 0, 0, W, H), OK);

	tmp_png(path, sizeof(path), "2d");
	struct phy_error err = {0};
	CHECK(virtio_gpu_screenshot(r.gpu, 0, path, &err) == 0);
	unsigned pw = 0, ph = 0;
	uint8_t *png = png_read_rgb(path, &pw, &ph);
	CHECK(png != NULL);
	CHECK_EQ_U64(pw, W);
	CHECK_EQ_U64(ph, H);
	if (png)
		CHECK_EQ_U64(gpu_pattern_mismatches(png, W, H, 0, 0), 0);
	free(png);
	unlink(path);

	/* A damaged rectangle: only it is transferred, from the offset Linux
	 * gives (its first byte in the framebuffer), its rows crossing from
	 * one backing entry to the next. The framebuffer now holds the
	 * pattern inverted: the rectangle shows it, the rest does not. */
	for (unsigned i = 0; i < W * H * 4; i++)
		buf[i] = (uint8_t)~buf[i];
	gpu_backing_write(&r, gpa, 3, W * H * 4, buf);
	CHECK_EQ_U64(gpu_transfer_2d(&r, 1, 5, 10, 20, 7, (10 * W + 5) * 4),
		     OK);
	struct virtio_gpu_image img;
	CHECK(virtio_gpu_read_scanout(r.gpu, 0, &img, &err) == 0);
	unsigned bad = 0;
	for (unsigned y = 0; y < H; y++)
		for (unsigned x = 0; x < W; x++) {
			const uint8_t *p = img.rgb + 3 * (y * W + x);
			bool in = x >= 5 && x < 25 && y >= 10 && y < 17;
			uint8_t want[3];
			gpu_pattern_pixel(x, y, want);
			for (unsigned c = 0; c < 3; c++)
				bad += p[c] !=
				       (in ? (uint8_t)~want[c] : want[c]);
		}
	CHECK_EQ_U64(bad, 0);
	free(img.rgb);

	/* A scanout showing part of the resource. */
	gpu_pattern_fill(buf, W, H, 0x77);
	gpu_backing_write(&r, gpa, 3, W * H * 4, buf);
	CHECK_EQ_U64(gpu_transfer_2d(&r, 1, 0, 0, W, H, 0), OK);
	CHECK_EQ_U64(gpu_set_scanout(&r, 0, 1, 8, 4, 32, 16), OK);
	CHECK(virtio_gpu_read_scanout(r.gpu, 0, &img, &err) == 0);
	CHECK_EQ_U64(img.width, 32);
	CHECK_EQ_U64(img.height, 16);
	CHECK_EQ_U64(gpu_pattern_mismatches(img.rgb, 32, 16, 8, 4), 0);
	free(img.rgb);
	CHECK(!sim_needs_reset(r.sim));
	gpu_rig_close(&r);
	free(buf);
}

/* Each format's byte order, through a 2x1 resource. */
static void test_formats(void)
{
	static const struct {
		uint32_t format;
		uint8_t bytes[4]; /* in memory, for R=0x11 G=0x22 B=0x33 */
	} cases[] = {
		{VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, {0x33, 0x22, 0x11, 0xff}},
		{VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, {0x33, 0x22, 0x11, 0x00}},
		{VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM, {0xff, 0x11, 0x22, 0x33}},
		{VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM, {0x00, 0x11, 0x22, 0x33}},
		{VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, {0x11, 0x22, 0x33, 0xff}},
		{VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM, {0x00, 0x33, 0x22, 0x11}},
		{VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, {0xff, 0x33, 0x22, 0x11}},
		{VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, {0x11, 0x22, 0x33, 0x00}},
	};
	struct gpu_rig r;
	REQUIRE(open_started(&r, &params_2d) == 0);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t id = 10 + i;
		uint64_t gpa[1];
		uint8_t px[8];
		memcpy(px, cases[i].bytes, 4);
		memcpy(px + 4, cases[i].bytes, 4);
		CHECK_EQ_U64(gpu_create_2d(&r, id, cases[i].format, 2, 1), OK);
		CHECK_EQ_U64(gpu_attach(&r, id, 8, 1, gpa), OK);
		gpu_backing_write(&r, gpa, 1, 8, px);
		CHECK_EQ_U64(gpu_transfer_2d(&r, id, 0, 0, 2, 1, 0), OK);
		CHECK_EQ_U64(gpu_set_scanout(&r, 0, id, 0, 0, 2, 1), OK);
		struct virtio_gpu_image img;
		CHECK(virtio_gpu_read_scanout(r.gpu, 0, &img, NULL) == 0);
		CHECK(img.rgb && img.rgb[0] == 0x11 && img.rgb[1] == 0x22 &&
		      img.rgb[2] == 0x33 && img.rgb[3] == 0x11);
		free(img.rgb);
	}
	gpu_rig_close(&r);
}

/* The cursor image is copied at UPDATE_CURSOR, from a 64x64 resource;
 * cursor commands come without a response buffer (as Linux sends them). */
static void test_cursor(void)
{
	struct gpu_rig r;
	uint64_t gpa[2];
	uint8_t *buf = malloc(64 * 64 * 4);

	REQUIRE(open_started(&r, &params_2d) == 0);
	CHECK_EQ_U64(
		gpu_create_2d(&r, 7, VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 64, 64),
		OK);
	CHECK_EQ_U64(gpu_attach(&r, 7, 64 * 64 * 4, 2, gpa), OK);
	gpu_pattern_fill(buf, 64, 64, 0x77);
	gpu_backing_write(&r, gpa, 2, 64 * 64 * 4, buf);
	CHECK_EQ_U64(gpu_transfer_2d(&r, 7, 0, 0, 64, 64, 0), OK);

	struct virtio_gpu_update_cursor u = {
		.hdr = gpu_hdr(VIRTIO_GPU_CMD_UPDATE_CURSOR, 0),
		.pos = {.x = htole32(100), .y = htole32(50)},
		.resource_id = htole32(7),
		.hot_x = htole32(3),
		.hot_y = htole32(4),
	};
	struct gpu_req req = {&u, sizeof(u), NULL, 0, 0};
	uint32_t len = 99;
	gpu_send(&r, 1, &req, NULL, &len);
	CHECK_EQ_U64(len, 0);
	struct virtio_gpu_cursor *c = calloc(1, sizeof(*c));
	CHECK(virtio_gpu_read_cursor(r.gpu, c, NULL) == 0);
	CHECK(c->visible);
	CHECK(c->x == 100 && c->y == 50 && c->hot_x == 3 && c->hot_y == 4);
	unsigned bad = 0;
	for (unsigned y = 0; y < 64; y++)
		for (unsigned x = 0; x < 64; x++) {
			uint8_t want[3], *p = c->rgba + 4 * (y * 64 + x);
			gpu_pattern_pixel(x, y, want);
			bad += memcmp(p, want, 3) != 0 || p[3] != 0x77;
		}
	CHECK_EQ_U64(bad, 0);

	/* MOVE moves only; with a response buffer it is answered. */
	u.hdr.type = htole32(VIRTIO_GPU_CMD_MOVE_CURSOR);
	u.pos.x = htole32(7);
	u.resource_id = htole32(12345);
	req.resp_len = HDR;
	CHECK_EQ_U64(gpu_send(&r, 1, &req, NULL, NULL), OK);
	CHECK(virtio_gpu_read_cursor(r.gpu, c, NULL) == 0);
	CHECK(c->visible && c->x == 7 && c->hot_x == 3);

	/* Not 64x64, unknown, bad scanout: refused, cursor unchanged. */
	CHECK_EQ_U64(gpu_create_2d(&r, 8, BGRX, 32, 32), OK);
	u.hdr.type = htole32(VIRTIO_GPU_CMD_UPDATE_CURSOR);
	u.resource_id = htole32(8);
	CHECK_EQ_U64(gpu_send(&r, 1, &req, NULL, NULL), E_PARAM);
	u.resource_id = htole32(9);
	CHECK_EQ_U64(gpu_send(&r, 1, &req, NULL, NULL), E_RES);
	u.pos.scanout_id = htole32(1);
	CHECK_EQ_U64(gpu_send(&r, 1, &req, NULL, NULL), E_SCANOUT);
	CHECK(virtio_gpu_read_cursor(r.gpu, c, NULL) == 0);
	CHECK(c->visible && c->x == 7);
	/* Resource 0 hides it. */
	u.pos.scanout_id = 0;
	u.resource_id = 0;
	CHECK_EQ_U64(gpu_send(&r, 1, &req, NULL, NULL), OK);
	CHECK(virtio_gpu_read_cursor(r.gpu, c, NULL) == 0);
	CHECK(!c->visible);
	CHECK(!sim_needs_reset(r.sim));
	free(c);
	free(buf);
	gpu_rig_close(&r);
}

/* ---- malformed commands ---- */

static uint32_t create_2d_raw(struct gpu_rig *r, uint32_t id, uint32_t format,
			      uint32_t w, uint32_t h)
{
	return gpu_create_2d(r, id, format, w, h);
}

static uint32_t attach_raw(struct gpu_rig *r, uint32_t id, uint32_t nr,
			   const struct virtio_gpu_mem_entry *e, unsigned given)
{
	struct virtio_gpu_resource_attach_backing a = {
		.hdr = gpu_hdr(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, 0),
		.resource_id = htole32(id),
		.nr_entries = htole32(nr),
	};
	struct gpu_req req = {&a, sizeof(a), e, given * (uint32_t)sizeof(*e),
			      HDR};
	return gpu_send(r, 0, &req, NULL, NULL);
}

static struct virtio_gpu_mem_entry entry(uint64_t addr, uint32_t len)
{
	return (struct virtio_gpu_mem_entry){htole64(addr), htole32(len), 0};
}

static void test_bad_resources(struct gpu_rig *r)
{
	CHECK_EQ_U64(create_2d_raw(r, 0, BGRX, 4, 4), E_RES);
	CHECK_EQ_U64(create_2d_raw(r, 1, BGRX, 4, 4), OK);
	CHECK_EQ_U64(create_2d_raw(r, 1, BGRX, 4, 4), E_RES); /* exists */
	CHECK_EQ_U64(create_2d_raw(r, 2, 99, 4, 4), E_PARAM); /* format */
	CHECK_EQ_U64(create_2d_raw(r, 2, BGRX, 0, 4), E_PARAM);
	CHECK_EQ_U64(create_2d_raw(r, 2, BGRX, 4, 0), E_PARAM);
	CHECK_EQ_U64(create_2d_raw(r, 2, BGRX, 16385, 4), E_PARAM);
	CHECK_EQ_U64(create_2d_raw(r, 2, BGRX, 4, 0xffffffff), E_PARAM);
	/* 1 GiB: over the default 256 MiB cap. */
	CHECK_EQ_U64(create_2d_raw(r, 2, BGRX, 16384, 16384), E_OOM);

	struct virtio_gpu_resource_unref u = {
		.hdr = gpu_hdr(VIRTIO_GPU_CMD_RESOURCE_UNREF, 0),
		.resource_id = htole32(42)};
	CHECK_EQ_U64(gpu_ctrl(r, &u, sizeof(u)), E_RES);
	struct virtio_gpu_resource_detach_backing d = {
		.hdr = gpu_hdr(VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, 0),
		.resource_id = htole32(42)};
	CHECK_EQ_U64(gpu_ctrl(r, &d, sizeof(d)), E_RES);
	d.resource_id = htole32(1);
	CHECK_EQ_U64(gpu_ctrl(r, &d, sizeof(d)), E_UNSPEC); /* no backing */
}

static void test_bad_backing(struct gpu_rig *r)
{
	uint64_t ok = sim_alloc(r->sim, 64, 64);
	struct virtio_gpu_mem_entry e[2] = {entry(ok, 64), entry(ok, 64)};

	CHECK_EQ_U64(attach_raw(r, 42, 1, e, 1), E_RES);
	CHECK_EQ_U64(attach_raw(r, 1, 0, e, 0), E_PARAM);
	CHECK_EQ_U64(attach_raw(r, 1, (1u << 17) + 1, e, 1), E_PARAM);
	CHECK_EQ_U64(attach_raw(r, 1, 2, e, 1), E_UNSPEC); /* one missing */
	e[1] = entry(GPU_LOW_RAM - 32, 64); /* runs off low RAM */
	CHECK_EQ_U64(attach_raw(r, 1, 2, e, 2), E_PARAM);
	e[1] = entry(SIM_HIGH_GPA - 8, 16); /* straddles the hole */
	CHECK_EQ_U64(attach_raw(r, 1, 2, e, 2), E_PARAM);
	e[1] = entry(~0ull - 7, 16); /* wraps */
	CHECK_EQ_U64(attach_raw(r, 1, 2, e, 2), E_PARAM);
	/* A failed attach leaves nothing attached and nothing charged. */
	CHECK_EQ_U64(virtio_gpu_host_mem(r->gpu), 4 * 4 * 4 + 256);
	e[1] = entry(ok, 0); /* an empty entry is allowed */
	CHECK_EQ_U64(attach_raw(r, 1, 2, e, 2), OK);
	CHECK_EQ_U64(attach_raw(r, 1, 1, e, 1), E_UNSPEC); /* attached */
}

static uint32_t transfer_raw(struct gpu_rig *r, uint32_t id, uint32_t x,
			     uint32_t y, uint32_t w, uint32_t h, uint64_t off)
{
	return gpu_transfer_2d(r, id, x, y, w, h, off);
}

static void test_bad_transfers_and_scanouts(struct gpu_rig *r)
{
	/* Resource 1 is 4x4 with 64 bytes of backing; 3 has none. */
	CHECK_EQ_U64(create_2d_raw(r, 3, BGRX, 4, 4), OK);
	CHECK_EQ_U64(transfer_raw(r, 42, 0, 0, 1, 1, 0), E_RES);
	CHECK_EQ_U64(transfer_raw(r, 3, 0, 0, 1, 1, 0), E_UNSPEC);
	CHECK_EQ_U64(transfer_raw(r, 1, 0, 0, 5, 1, 0), E_PARAM);
	CHECK_EQ_U64(transfer_raw(r, 1, 3, 0, 2, 1, 0), E_PARAM);
	CHECK_EQ_U64(transfer_raw(r, 1, 0xffffffff, 0, 2, 1, 0), E_PARAM);
	CHECK_EQ_U64(transfer_raw(r, 1, 0, 0xfffffffe, 1, 4, 0), E_PARAM);
	CHECK_EQ_U64(transfer_raw(r, 1, 0, 0, 4, 4, 4), E_PARAM); /* 1 over */
	CHECK_EQ_U64(transfer_raw(r, 1, 0, 0, 1, 1, 64), E_PARAM);
	CHECK_EQ_U64(transfer_raw(r, 1, 0, 0, 1, 1, ~0ull), E_PARAM);
	CHECK_EQ_U64(transfer_raw(r, 1, 0, 0, 1, 1, ~0ull - 3), E_PARAM);
	CHECK_EQ_U64(transfer_raw(r, 1, 0, 0, 4, 4, 0), OK);
	CHECK_EQ_U64(transfer_raw(r, 1, 3, 3, 1, 1, 60), OK); /* last pixel */
	CHECK_EQ_U64(transfer_raw(r, 1, 2, 2, 0, 0, ~0ull), OK); /* empty */

	CHECK_EQ_U64(gpu_set_scanout(r, 1, 1, 0, 0, 4, 4), E_SCANOUT);
	CHECK_EQ_U64(gpu_set_scanout(r, 16, 1, 0, 0, 4, 4), E_SCANOUT);
	CHECK_EQ_U64(gpu_set_scanout(r, ~0u, 1, 0, 0, 4, 4), E_SCANOUT);
	CHECK_EQ_U64(gpu_set_scanout(r, 0, 42, 0, 0, 4, 4), E_RES);
	CHECK_EQ_U64(gpu_set_scanout(r, 0, 1, 0, 0, 5, 4), E_PARAM);
	CHECK_EQ_U64(gpu_set_scanout(r, 0, 1, 1, 0, 4, 4), E_PARAM);
	CHECK_EQ_U64(gpu_set_scanout(r, 0, 1, 0xffffffff, 0, 2, 4), E_PARAM);
	CHECK_EQ_U64(gpu_set_scanout(r, 0, 1, 0, 0, 0, 4), E_PARAM);
	CHECK_EQ_U64(gpu_set_scanout(r, 0, 0, 0, 0, 0, 0), OK); /* off */
	CHECK_EQ_U64(gpu_flush(r, 42, 0, 0, 1, 1), E_RES);
	CHECK_EQ_U64(gpu_flush(r, 1, 0, 0, 5, 5), E_PARAM);
	CHECK_EQ_U64(gpu_flush(r, 1, 0xfffffffc, 0, 8, 1), E_PARAM);
}

static void test_bad_headers(struct gpu_rig *r)
{
	struct virtio_gpu_ctrl_hdr h = gpu_hdr(0x1234, 0);
	CHECK_EQ_U64(gpu_ctrl(r, &h, sizeof(h)), E_UNSPEC); /* unknown */
	h = gpu_hdr(VIRTIO_GPU_CMD_UPDATE_CURSOR, 0);	    /* wrong queue */
	CHECK_EQ_U64(gpu_ctrl(r, &h, sizeof(h)), E_UNSPEC);
	h = gpu_hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, 0); /* short */
	CHECK_EQ_U64(gpu_ctrl(r, &h, sizeof(h)), E_UNSPEC);
	CHECK_EQ_U64(gpu_ctrl(r, &h, 8), E_UNSPEC); /* shorter than a header */
	/* 3D commands in 2D mode. */
	struct virtio_gpu_ctx_create c = {
		.hdr = gpu_hdr(VIRTIO_GPU_CMD_CTX_CREATE, 1)};
	CHECK_EQ_U64(gpu_ctrl(r, &c, sizeof(c)), E_UNSPEC);
	struct virtio_gpu_get_capset_info ci = {
		.hdr = gpu_hdr(VIRTIO_GPU_CMD_GET_CAPSET_INFO, 0)};
	CHECK_EQ_U64(gpu_ctrl(r, &ci, sizeof(ci)), E_UNSPEC);

	/* A response buffer too small for the data: an error header. */
	h = gpu_hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO, 0);
	CHECK_EQ_U64(gpu_ctrl(r, &h, sizeof(h)), E_UNSPEC);

	/* A fence is echoed, with its id, in the response. */
	h.flags = htole32(VIRTIO_GPU_FLAG_FENCE);
	h.fence_id = htole64(0x123456789abcull);
	struct virtio_gpu_resp_display_info d;
	struct gpu_req req = {&h, sizeof(h), NULL, 0, sizeof(d)};
	CHECK_EQ_U64(gpu_send(r, 0, &req, &d, NULL),
		     VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	CHECK_EQ_U64(le32toh(d.hdr.flags), VIRTIO_GPU_FLAG_FENCE);
	CHECK_EQ_U64(le64toh(d.hdr.fence_id), 0x123456789abcull);
}

static void test_malformed(void)
{
	struct gpu_rig r;
	REQUIRE(open_started(&r, &params_2d) == 0);
	test_bad_resources(&r);
	test_bad_backing(&r);
	test_bad_transfers_and_scanouts(&r);
	test_bad_headers(&r);
	/* None of that is a reason to stop the device. */
	CHECK(!sim_needs_reset(r.sim));
	CHECK_EQ_U64(r.sim->logs, 0);
	gpu_rig_close(&r);
}

/* ---- limits, driver bugs, reset ---- */

static void test_memory_cap(void)
{
	struct virtio_gpu_params p = {.mode = VIRTIO_GPU_MODE_2D,
				      .max_host_mem = 1u << 20};
	struct gpu_rig r;
	REQUIRE(open_started(&r, &p) == 0);
	const uint64_t each = 256 * 256 * 4 + 256;
	for (uint32_t id = 1; id <= 3; id++)
		CHECK_EQ_U64(gpu_create_2d(&r, id, BGRX, 256, 256), OK);
	CHECK_EQ_U64(virtio_gpu_host_mem(r.gpu), 3 * each);
	CHECK_EQ_U64(gpu_create_2d(&r, 4, BGRX, 256, 256), E_OOM);
	/* Backing tables count too: 16 bytes an entry. */
	const unsigned nr = 1u << 16;
	struct virtio_gpu_mem_entry *e = malloc(nr * sizeof(*e));
	uint64_t page = sim_alloc(r.sim, 64, 64);
	for (unsigned i = 0; i < nr; i++)
		e[i] = entry(page, 64);
	CHECK_EQ_U64(attach_raw(&r, 1, nr, e, nr), E_OOM);
	CHECK_EQ_U64(attach_raw(&r, 1, 16, e, 16), OK);
	free(e);
	CHECK_EQ_U64(virtio_gpu_host_mem(r.gpu), 3 * each + 16 * 16);
	struct virtio_gpu_resource_unref u = {
		.hdr = gpu_hdr(VIRTIO_GPU_CMD_RESOURCE_UNREF, 0),
		.resource_id = htole32(2)};
	CHECK_EQ_U64(gpu_ctrl(&r, &u, sizeof(u)), OK);
	CHECK_EQ_U64(virtio_gpu_host_mem(r.gpu), 2 * each + 16 * 16);
	CHECK_EQ_U64(gpu_create_2d(&r, 4, BGRX, 256, 256), OK);
	gpu_rig_close(&r);
}

static void expect_needs_reset(struct gpu_rig *r, const char *why)
{
	CHECK(sim_needs_reset(r->sim));
	CHECK_STR_CONTAINS(r->sim->last_log, why);
	CHECK(r->sim->config_interrupts > 0);
}

static void test_driver_bugs(void)
{
	struct gpu_rig r;
	struct virtio_gpu_ctrl_hdr h =
		gpu_hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO, 0);

	/* A control request with no room for a response. */
	REQUIRE(open_started(&r, &params_2d) == 0);
	struct gpu_req req = {&h, sizeof(h), NULL, 0, 0};
	gpu_send(&r, 0, &req, NULL, NULL);
	expect_needs_reset(&r, "room for its response");
	/* ... and with 8 bytes of it. */
	CHECK(gpu_rig_start(&r, ALL_FEATURES) == 0);
	req.resp_len = 8;
	gpu_send(&r, 0, &req, NULL, NULL);
	expect_needs_reset(&r, "room for its response");

	/* A garbage ring: a descriptor whose next is out of range. */
	CHECK(gpu_rig_start(&r, ALL_FEATURES) == 0);
	struct vring_desc *d = sim_desc(r.sim, 0, 0);
	d->addr = sim_alloc(r.sim, 64, 64);
	d->len = 64;
	d->flags = VRING_DESC_F_NEXT;
	d->next = 999;
	sim_publish(r.sim, 0, 0);
	gpu_kick_wait(&r, 0);
	expect_needs_reset(&r, "out of range");
	/* The device serves nothing more until reset, then works again. */
	CHECK(gpu_rig_start(&r, ALL_FEATURES) == 0);
	CHECK(!sim_needs_reset(r.sim));
	CHECK_EQ_U64(gpu_create_2d(&r, 1, BGRX, 4, 4), OK);
	gpu_rig_close(&r);
}

/* A scanout that goes dark (turned off, its resource freed, the device
 * reset: what a guest does as it powers off) keeps its last frame for
 * screenshots; a new image replaces it. */
static void test_last_frame(void)
{
	struct gpu_rig r;
	uint64_t gpa[3];
	uint8_t *buf = malloc(W * H * 4);
	struct phy_error err = {0};
	struct virtio_gpu_image img;
	const struct virtio_gpu_params two = {.mode = VIRTIO_GPU_MODE_2D, .outputs = 2};

	REQUIRE(open_started(&r, &two) == 0);
	show_pattern(&r, 1, gpa, buf);
	/* Turned off: the pattern stays. */
	CHECK_EQ_U64(gpu_set_scanout(&r, 0, 0, 0, 0, 0, 0), OK);
	CHECK(virtio_gpu_read_scanout(r.gpu, 0, &img, &err) == 0);
	CHECK(img.width == W && img.height == H &&
	      gpu_pattern_mismatches(img.rgb, W, H, 0, 0) == 0);
	free(img.rgb);
	/* Shown again, then its resource freed: the pattern stays. */
	CHECK_EQ_U64(gpu_set_scanout(&r, 0, 1, 0, 0, W, H), OK);
	struct virtio_gpu_resource_unref u = {
		.hdr = gpu_hdr(VIRTIO_GPU_CMD_RESOURCE_UNREF, 0),
		.resource_id = htole32(1)};
	CHECK_EQ_U64(gpu_ctrl(&r, &u, sizeof(u)), OK);
	CHECK_EQ_U64(virtio_gpu_host_mem(r.gpu), 0);
	CHECK(virtio_gpu_read_scanout(r.gpu, 0, &img, &err) == 0);
	CHECK(img.width == W && img.height == H &&
	      gpu_pattern_mismatches(img.rgb, W, H, 0, 0) == 0);
	free(img.rgb);
	/* A new image (the pattern inverted, part of it shown) replaces it,
	 * and a reset keeps that one. */
	CHECK_EQ_U64(gpu_create_2d(&r, 2, BGRX, W, H), OK);
	CHECK_EQ_U64(gpu_attach(&r, 2, W * H * 4, 3, gpa), OK);
	for (unsigned i = 0; i < W * H * 4; i++)
		buf[i] = (uint8_t)~buf[i];
	gpu_backing_write(&r, gpa, 3, W * H * 4, buf);
	CHECK_EQ_U64(gpu_transfer_2d(&r, 2, 0, 0, W, H, 0), OK);
	CHECK_EQ_U64(gpu_set_scanout(&r, 0, 2, 8, 4, 32, 16), OK);
	CHECK(gpu_rig_start(&r, ALL_FEATURES) == 0); /* resets first */
	CHECK_EQ_U64(virtio_gpu_host_mem(r.gpu), 0);
	CHECK(virtio_gpu_read_scanout(r.gpu, 0, &img, &err) == 0);
	unsigned bad = 0;
	for (unsigned y = 0; img.rgb && y < 16; y++)
		for (unsigned x = 0; x < 32; x++) {
			uint8_t want[3];
			gpu_pattern_pixel(x + 8, y + 4, want);
			for (unsigned c = 0; c < 3; c++) {
				int got = img.rgb[3 * (y * 32 + x) + c];
				bad += got != 255 - want[c]; /* inverted */
			}
		}
	CHECK(img.width == 32 && img.height == 16 && bad == 0);
	free(img.rgb);
	/* A scanout never set has nothing to show. */
	CHECK(virtio_gpu_read_scanout(r.gpu, 1, &img, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "shows nothing");
	gpu_rig_close(&r);
	free(buf);
}

/* Last frames are the host's memory: beyond GPU_LAST_FRAMES_MAX (all
 * scanouts together) a scanout going dark keeps nothing. */
static void test_last_frame_budget(void)
{
	struct gpu_rig r;
	struct phy_error err = {0};
	struct virtio_gpu_image img;
	/* 4000x3000 RGB is 36 MB: one fits in 64 MiB, two do not. */
	const struct virtio_gpu_params two = {.mode = VIRTIO_GPU_MODE_2D, .outputs = 2,
					      .max_host_mem = 256u << 20};

	REQUIRE(open_started(&r, &two) == 0);
	for (unsigned s = 0; s < 2; s++) {
		CHECK_EQ_U64(gpu_create_2d(&r, s + 1, BGRX, 4000, 3000), OK);
		CHECK_EQ_U64(gpu_set_scanout(&r, s, s + 1, 0, 0, 4000, 3000), OK);
	}
	for (unsigned s = 0; s < 2; s++)
		CHECK_EQ_U64(gpu_set_scanout(&r, s, 0, 0, 0, 0, 0), OK);
	CHECK(virtio_gpu_read_scanout(r.gpu, 0, &img, &err) == 0);
	CHECK(img.width == 4000 && img.height == 3000);
	free(img.rgb);
	CHECK(virtio_gpu_read_scanout(r.gpu, 1, &img, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "shows nothing");
	/* Scanout 0 shows something new: its frame is given back, and
	 * scanout 1 can keep one again. */
	CHECK_EQ_U64(gpu_set_scanout(&r, 0, 1, 0, 0, 16, 16), OK);
	CHECK_EQ_U64(gpu_set_scanout(&r, 1, 2, 0, 0, 4000, 3000), OK);
	CHECK_EQ_U64(gpu_set_scanout(&r, 1, 0, 0, 0, 0, 0), OK);
	CHECK(virtio_gpu_read_scanout(r.gpu, 1, &img, &err) == 0);
	CHECK(img.width == 4000 && img.height == 3000);
	free(img.rgb);
	gpu_rig_close(&r);
}

static void test_reset_frees_everything(void)
{
	struct gpu_rig r;
	uint64_t gpa[2];
	REQUIRE(open_started(&r, &params_2d) == 0);
	for (uint32_t id = 1; id <= 20; id++) {
		CHECK_EQ_U64(gpu_create_2d(&r, id, BGRX, 32, 32), OK);
		CHECK_EQ_U64(gpu_attach(&r, id, 32 * 32 * 4, 2, gpa), OK);
	}
	CHECK_EQ_U64(gpu_set_scanout(&r, 0, 5, 0, 0, 32, 32), OK);
	CHECK(virtio_gpu_host_mem(r.gpu) > 20 * 32 * 32 * 4);
	CHECK(gpu_rig_start(&r, ALL_FEATURES) == 0); /* resets first */
	CHECK_EQ_U64(virtio_gpu_host_mem(r.gpu), 0);
	/* The scanout went dark with the reset and keeps its last frame,
	 * outside what the guest is charged for. */
	struct phy_error err = {0};
	struct virtio_gpu_image img;
	CHECK(virtio_gpu_read_scanout(r.gpu, 0, &img, &err) == 0);
	CHECK(img.width == 32 && img.height == 32);
	free(img.rgb);
	/* The same ids are free again. */
	CHECK_EQ_U64(gpu_create_2d(&r, 5, BGRX, 32, 32), OK);
	gpu_rig_close(&r);
}

/* A reset while the GPU thread works through a full queue: it returns
 * once the command in progress is done; nothing is answered after it. */
static void test_reset_while_busy(void)
{
	struct gpu_rig r;
	uint64_t gpa[1], resp;
	REQUIRE(open_started(&r, &params_2d) == 0);
	CHECK_EQ_U64(gpu_create_2d(&r, 1, BGRX, 2048, 512), OK);
	CHECK_EQ_U64(gpu_attach(&r, 1, 2048 * 512 * 4, 1, gpa), OK);
	struct virtio_gpu_transfer_to_host_2d t = {
		.hdr = gpu_hdr(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, 0),
		.r = {0, 0, htole32(2048), htole32(512)},
		.resource_id = htole32(1),
	};
	struct gpu_req req = {&t, sizeof(t), NULL, 0, HDR};
	for (unsigned i = 0; i < 30; i++)
		CHECK(gpu_queue(&r, 0, &req, &resp) >= 0);
	sim_kick(r.sim, 0);
	io_loop_run_once(r.sim->loop, true); /* the GPU thread is woken */
	sim_set_status(r.sim, 0);
	CHECK_EQ_U64(virtio_gpu_host_mem(r.gpu), 0);
	uint16_t used_before = r.sim->q[0].used->idx;
	virtio_gpu_wait_idle(r.gpu);
	CHECK_EQ_U64(r.sim->q[0].used->idx, used_before);
	CHECK(gpu_rig_start(&r, ALL_FEATURES) == 0);
	CHECK_EQ_U64(gpu_create_2d(&r, 1, BGRX, 4, 4), OK);
	gpu_rig_close(&r);
}

/* A reset right after a kick, over and over. The GPU thread, woken for
 * the kick, may get dev.lock after doing the reset's work but before the
 * reset returns: it must take nothing from the old rings then. A
 * resource it created would outlive the reset (host memory charged to a
 * fresh device, its id taken), and an answer would land in the new
 * rings (a used entry the new driver never made available). */
static void test_reset_racing_kick(void)
{
	struct gpu_rig r;
	unsigned bad_starts = 0, leaked = 0, stray_used = 0, failed = 0;
	REQUIRE(open_started(&r, &params_2d) == 0);
	const uint64_t mark = r.sim->alloc_next;
	struct virtio_gpu_resource_create_2d c = {
		.hdr = gpu_hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, 0),
		.resource_id = htole32(1),
		.format = htole32(BGRX),
		.width = htole32(256),
		.height = htole32(256),
	};
	for (unsigned i = 0; i < 3000; i++) {
		r.sim->alloc_next = mark;
		struct gpu_req req = {&c, sizeof(c), NULL, 0, HDR};
		uint64_t resp;
		CHECK(gpu_queue(&r, 0, &req, &resp) >= 0);
		sim_kick(r.sim, 0);
		io_loop_run_once(r.sim->loop, true); /* the GPU thread is woken */
		if (gpu_rig_start(&r, ALL_FEATURES)) {
			bad_starts++;
			CHECK(gpu_rig_start(&r, ALL_FEATURES) == 0);
			continue;
		}
		virtio_gpu_wait_idle(r.gpu);
		leaked += virtio_gpu_host_mem(r.gpu) != 0;
		stray_used += r.sim->q[0].used->idx != 0;
		failed += sim_needs_reset(r.sim);
	}
	CHECK_EQ_U64(bad_starts, 0);
	CHECK_EQ_U64(leaked, 0);
	CHECK_EQ_U64(stray_used, 0);
	CHECK_EQ_U64(failed, 0);
	CHECK(gpu_rig_start(&r, ALL_FEATURES) == 0);
	CHECK_EQ_U64(gpu_create_2d(&r, 1, BGRX, 4, 4), OK);
	gpu_rig_close(&r);
}

/* A kick between the rings' set-up and DRIVER_OK (a stale one, or a
 * hostile driver's) must leave the rings alone: a NO_NOTIFY written then
 * would stay, and the driver would never kick again. */
static void test_kick_before_driver_ok(void)
{
	struct gpu_rig r;
	REQUIRE(open_started(&r, &params_2d) == 0);
	uint64_t f = r.dev->host_features & ~(1ull << VIRTIO_RING_F_EVENT_IDX);
	CHECK(sim_negotiate(r.sim, f) == 0);
	CHECK(sim_queue_setup(r.sim, 0, 64) == 0);
	CHECK(sim_queue_setup(r.sim, 1, 64) == 0);
	sim_kick(r.sim, 0);
	sim_kick(r.sim, 1);
	sim_run(r.sim);
	virtio_gpu_wait_idle(r.gpu);
	CHECK_EQ_U64(r.sim->q[0].used->flags, 0);
	CHECK_EQ_U64(r.sim->q[1].used->flags, 0);
	sim_driver_ok(r.sim);
	CHECK(!sim_needs_reset(r.sim));
	CHECK_EQ_U64(gpu_create_2d(&r, 1, BGRX, 4, 4), OK);
	gpu_rig_close(&r);
}

static void test_bad_params_and_calls(void)
{
	struct virtio_gpu *gpu;
	struct phy_error err = {0};
	struct guest_mem mem = {.memfd = -1};
	struct virtio_gpu_params p = {.mode = VIRTIO_GPU_MODE_2D,
				      .outputs = 17};
	CHECK(virtio_gpu_create(&gpu, &p, "gpu", &mem, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "outputs=17");
	p = (struct virtio_gpu_params){.width = 10};
	CHECK(virtio_gpu_create(&gpu, &p, "gpu", &mem, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "width=10");
	p = (struct virtio_gpu_params){.height = 4096};
	CHECK(virtio_gpu_create(&gpu, &p, "gpu", &mem, &err) == -PHY_E_INVALID);
	p = (struct virtio_gpu_params){.mode = 7};
	CHECK(virtio_gpu_create(&gpu, &p, "gpu", &mem, &err) == -PHY_E_INVALID);
	p = (struct virtio_gpu_params){.max_host_mem = 4096};
	CHECK(virtio_gpu_create(&gpu, &p, "gpu", &mem, &err) == -PHY_E_INVALID);

	struct gpu_rig r;
	REQUIRE(open_started(&r, &params_2d) == 0);
	struct virtio_gpu_image img;
	CHECK(virtio_gpu_read_scanout(r.gpu, 1, &img, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "no scanout 1");
	CHECK(virtio_gpu_read_scanout(r.gpu, 0, &img, &err) == -PHY_E_INVALID);
	CHECK_EQ_U64(gpu_create_2d(&r, 1, BGRX, 4, 4), OK);
	CHECK_EQ_U64(gpu_set_scanout(&r, 0, 1, 0, 0, 4, 4), OK);
	CHECK(virtio_gpu_screenshot(r.gpu, 0, "/nonexistent/dir/x.png", &err) ==
	      -PHY_E_IO);
	CHECK_STR_CONTAINS(err.message, "/nonexistent/dir/x.png");
	/* Unref takes the resource off the scanout, which keeps its last
	 * frame (test_last_frame). */
	struct virtio_gpu_resource_unref u = {
		.hdr = gpu_hdr(VIRTIO_GPU_CMD_RESOURCE_UNREF, 0),
		.resource_id = htole32(1)};
	CHECK_EQ_U64(gpu_ctrl(&r, &u, sizeof(u)), OK);
	CHECK_EQ_U64(virtio_gpu_host_mem(r.gpu), 0);
	CHECK(virtio_gpu_read_scanout(r.gpu, 0, &img, &err) == 0);
	CHECK(img.width == 4 && img.height == 4);
	free(img.rgb);
	gpu_rig_close(&r);
}

int main(void)
{
	test_features_and_config();
	test_edid();
	test_pattern_to_png();
	test_formats();
	test_cursor();
	test_malformed();
	test_memory_cap();
	test_driver_bugs();
	test_reset_frees_everything();
	test_last_frame();
	test_last_frame_budget();
	test_reset_while_busy();
	test_reset_racing_kick();
	test_kick_before_driver_ok();
	test_bad_params_and_calls();
	return check_report("test_virtio_gpu_2d");
}
