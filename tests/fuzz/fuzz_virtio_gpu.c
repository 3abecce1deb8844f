/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: hostile requests on virtio-gpu's queues. Each input
 * is a run of requests (format in fuzz_virtio_gpu.h) for a 2D device or a
 * 3D one on virglrenderer (headless, llvmpipe): any command type with any
 * contents and trailing data, split over up to eight buffers, direct or
 * indirect, with a response buffer of any size or none, on either queue,
 * with resets racing the GPU thread. The device must answer or refuse
 * each without touching memory outside guest RAM or its own buffers
 * (ASan), crashing, hanging or leaking: after every input it is idle and
 * a reset leaves no host memory charged to the guest.
 *
 * SUBMIT_3D streams reach virglrenderer as NOPs of the same length unless
 * the input asks for them raw: the parser under test here is the
 * device's (bounds, copies, ids), and random streams would mostly fuzz
 * virglrenderer's decoder and Mesa, which are not built with sanitizers
 * here and have fuzzers of their own upstream.
 *
 * Built without virglrenderer (-DPHYLLOME_VIRGL=OFF, PHY_HAVE_VIRGL 0)
 * there is no 3D device: inputs that ask for it drive the 2D one.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_gpu.h>
#include <linux/virtio_ring.h>

#include "fuzz_virtio_gpu.h"
#include "gpu_driver.h"
#include "common/io_loop.h"

struct fz_dev {
	struct gpu_rig rig;
	uint64_t ram_mark; /* sim_alloc() start for each input's buffers */
	bool started;
};

static struct fz_dev devs[2]; /* 2D, 3D */

/* Whether knob byte k picks the 3D device (never without virglrenderer). */
static bool fz_virgl(uint8_t k)
{
	return PHY_HAVE_VIRGL && (k & FZG_K_VIRGL);
}

static void die(const char *what)
{
	fprintf(stderr, "fuzz_virtio_gpu: %s\n", what);
	abort();
}

static struct fz_dev *fz_get(bool virgl)
{
	struct fz_dev *d = &devs[virgl];
	if (!d->rig.gpu) {
		struct virtio_gpu_params p = {
			.mode = virgl ? VIRTIO_GPU_MODE_VIRGL
				      : VIRTIO_GPU_MODE_2D,
			.outputs = 2,
			.max_host_mem = 64u << 20,
		};
		if (gpu_rig_open(&d->rig, &p))
			die("no device");
		if (virgl && !virtio_gpu_has_virgl(d->rig.gpu))
			die(virtio_gpu_fallback_reason(d->rig.gpu));
	}
	return d;
}

static uint64_t driver_features(const struct virtio_dev *dev, uint8_t k)
{
	uint64_t f = dev->host_features &
		     ~((1ull << VIRTIO_RING_F_EVENT_IDX) |
		       (1ull << VIRTIO_RING_F_INDIRECT_DESC));
	if (k & FZG_K_EVENT_IDX)
		f |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	if (k & FZG_K_INDIRECT)
		f |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	if (k & FZG_K_NO_EDID)
		f &= ~(1ull << VIRTIO_GPU_F_EDID);
	if (k & FZG_K_NO_3D)
		f &= ~(1ull << VIRTIO_GPU_F_VIRGL);
	return f;
}

static void start(struct fz_dev *d, uint8_t k)
{
	struct virtio_sim *sim = d->rig.sim;
	if (sim_start(sim, driver_features(d->rig.dev, k), 2, FZG_QSIZE)) {
		/* What the device said, for a failure that may not come
		 * back from the saved input (it depends on the GPU thread's
		 * timing, as the reset race fixed in 2f8804a did). */
		fprintf(stderr,
			"fuzz_virtio_gpu: status %#x after start, %u log "
			"lines, the last: %s\n",
			sim_status(sim), sim->logs, sim->last_log);
		die("the device did not start");
	}
	if (!d->started) { /* the rings are allocated once */
		d->ram_mark = sim->alloc_next;
		d->started = true;
	}
}

static void drain_used(struct virtio_sim *sim)
{
	uint16_t id;
	uint32_t len;
	for (unsigned q = 0; q < 2; q++)
		while (sim_get_used(sim, q, &id, &len) == 1)
			continue;
}

static void kick_and_wait(struct gpu_rig *r)
{
	sim_kick(r->sim, 0);
	sim_kick(r->sim, 1);
	sim_run(r->sim);
	drain_used(r->sim);
}

/* Input bytes the harness rewrites: streams into NOPs, backing entries
 * into guest RAM (so that transfers find real pages). */
static void adjust(uint8_t *req, uint32_t len, uint8_t k)
{
	uint32_t type;
	if (len < 4)
		return;
	memcpy(&type, req, 4);
	type = le32toh(type);
	const size_t sub = sizeof(struct virtio_gpu_cmd_submit);
	if (type == VIRTIO_GPU_CMD_SUBMIT_3D && !(k & FZG_K_RAW_STREAMS) &&
	    len > sub)
		memset(req + sub, 0, len - sub); /* VIRGL_CCMD_NOP, length 0 */
	const size_t ab = sizeof(struct virtio_gpu_resource_attach_backing);
	if (type == VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING &&
	    (k & FZG_K_FIX_BACKING))
		for (size_t at = ab; at + 16 <= len; at += 16) {
			struct virtio_gpu_mem_entry e;
			memcpy(&e, req + at, 16);
			e.addr = htole64(le64toh(e.addr) % GPU_LOW_RAM);
			memcpy(req + at, &e, 16);
		}
}

/* Queues one request; false when guest RAM for it ran out. */
static bool queue_request(struct gpu_rig *r, uint8_t op, uint32_t resp_len,
			  uint8_t *req, uint32_t len)
{
	struct virtio_sim *sim = r->sim;
	unsigned q = op & FZG_OP_CURSORQ;
	unsigned pieces = FZG_OP_PIECES(op);
	struct sim_buf b[10];
	unsigned n = 0;

	if (sim->alloc_next + len + resp_len + 64 * 16 > GPU_LOW_RAM)
		return false;
	/* The request in `pieces` buffers of near-equal size. */
	uint64_t gpa = len ? sim_alloc(sim, len, 8) : 0;
	if (len)
		memcpy(sim_ptr(sim, gpa, len), req, len);
	for (unsigned i = 0; i < pieces && len; i++) {
		uint32_t from = len * i / pieces, to = len * (i + 1) / pieces;
		if (to > from)
			b[n++] = (struct sim_buf){gpa + from, to - from, false};
	}
	if (!(op & FZG_OP_NO_RESP)) {
		uint64_t resp = sim_alloc(sim, resp_len, 8);
		uint32_t first = op & FZG_OP_SPLIT_RESP ? resp_len / 2 : resp_len;
		b[n++] = (struct sim_buf){resp, first, true};
		if (first < resp_len)
			b[n++] = (struct sim_buf){resp + first, resp_len - first,
						  true};
	}
	if (!n)
		return true;
	bool indirect = (op & FZG_OP_INDIRECT) &&
			(sim->features & (1ull << VIRTIO_RING_F_INDIRECT_DESC));
	if (sim_add(sim, q, b, n, indirect) < 0) {
		kick_and_wait(r); /* the ring is full: empty it */
		sim_add(sim, q, b, n, indirect);
	}
	return true;
}

/* Both devices are made before the first input, so that what
 * virglrenderer and Mesa allocate once is not counted against it. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_get(false);
	if (PHY_HAVE_VIRGL)
		fz_get(true);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const uint8_t k = data[0];
	struct fz_dev *d = fz_get(fz_virgl(k));
	struct gpu_rig *r = &d->rig;
	size_t at = 1;

	start(d, k);
	r->sim->alloc_next = d->ram_mark;
	while (at + FZG_RECORD_HDR <= size) {
		uint8_t op = data[at], resp16 = data[at + 1];
		uint32_t len = data[at + 2] | (uint32_t)data[at + 3] << 8;
		at += FZG_RECORD_HDR;
		if (len > size - at)
			len = (uint32_t)(size - at);
		uint8_t *req = malloc(len ? len : 1);
		memcpy(req, data + at, len);
		at += len;
		adjust(req, len, k);
		bool queued = queue_request(r, op, resp16 ? resp16 * 16u : 24,
					    req, len);
		free(req);
		if (!queued)
			break;
		if (op & FZG_OP_RESET) {
			sim_kick(r->sim, 0);
			io_loop_run_once(r->sim->loop, true);
			start(d, k);
			r->sim->alloc_next = d->ram_mark;
		} else if (k & FZG_K_KICK_EACH) {
			kick_and_wait(r);
		}
	}
	kick_and_wait(r);
	/* A reset frees whatever the input left behind. */
	sim_set_status(r->sim, 0);
	if (sim_status(r->sim) != 0)
		die("reset failed");
	if (virtio_gpu_host_mem(r->gpu) != 0)
		die("host memory still charged after a reset");
	return 0;
}
