/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A virtio-gpu driver for tests and fuzzing, on the simulated driver
 * (virtio_sim.h): a device on fake guest RAM, commands built from the
 * structs of <linux/virtio_gpu.h>, sent on a queue and answered, and
 * guest-side helpers for resources with backing pages.
 */
#ifndef PHY_TESTS_GPU_DRIVER_H
#define PHY_TESTS_GPU_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_gpu.h>

#include "devices/virtio/virtio_gpu.h"
#include "virtio_sim.h"

#define GPU_LOW_RAM (64u << 20)
#define GPU_HIGH_RAM (16u << 20)

struct gpu_rig {
	struct virtio_sim *sim;
	struct virtio_gpu *gpu;
	struct virtio_dev *dev;
	uint64_t high_next; /* next free byte of high RAM */
};

/* A device with `params` on fresh guest RAM, not yet started. Returns 0,
 * or -1 with the reason on stderr. */
int gpu_rig_open(struct gpu_rig *r, const struct virtio_gpu_params *params);
void gpu_rig_close(struct gpu_rig *r);
/* Negotiates `features` (all offered when ~0) and starts both queues;
 * 0 when DRIVER_OK stuck. */
int gpu_rig_start(struct gpu_rig *r, uint64_t features);

/* A request: the command (its header filled in by the caller), optional
 * data after it in a second buffer, and room for the response. */
struct gpu_req {
	const void *cmd;
	uint32_t cmd_len;
	const void *data;
	uint32_t data_len;
	uint32_t resp_len; /* 0: no writable buffer at all */
};

/* Puts the request in guest RAM and on queue q without kicking; returns
 * the head (or -1) and the response's guest address in *resp_gpa. */
int gpu_queue(struct gpu_rig *r, unsigned q, const struct gpu_req *req,
	      uint64_t *resp_gpa);
/* Kicks q and waits until the device is idle. */
void gpu_kick_wait(struct gpu_rig *r, unsigned q);

/*
 * Sends one request and waits for its answer. Returns the response's type
 * (0 when no used entry came back or the response is shorter than a
 * header); copies up to resp_len bytes of it to `resp` when non-NULL, and
 * the used length to *used_len when non-NULL.
 */
uint32_t gpu_send(struct gpu_rig *r, unsigned q, const struct gpu_req *req,
		  void *resp, uint32_t *used_len);
/* The same for a bare command on the control queue with a header-sized
 * response. */
uint32_t gpu_ctrl(struct gpu_rig *r, const void *cmd, uint32_t len);

/* A header of `type` (host values). */
struct virtio_gpu_ctrl_hdr gpu_hdr(uint32_t type, uint32_t ctx_id);

/* Guest memory of `size` bytes split into `pieces` backing entries, the
 * last one in high RAM (so the device has to follow a real scatter
 * list); attaches it to resource `id`. Returns the response type and the
 * guest addresses of the pieces (each size/pieces bytes, the last takes
 * the rest) in gpa[]. */
uint32_t gpu_attach(struct gpu_rig *r, uint32_t id, uint32_t size,
		    unsigned pieces, uint64_t gpa[]);
/* Copies between a host buffer and such a scattered backing. */
void gpu_backing_write(struct gpu_rig *r, const uint64_t gpa[], unsigned pieces,
		       uint32_t size, const void *src);
void gpu_backing_read_back(struct gpu_rig *r, const uint64_t gpa[],
			   unsigned pieces, uint32_t size, void *dst);

/* RESOURCE_CREATE_2D, SET_SCANOUT and TRANSFER_TO_HOST_2D, FLUSH. */
uint32_t gpu_create_2d(struct gpu_rig *r, uint32_t id, uint32_t format,
		       uint32_t w, uint32_t h);
uint32_t gpu_set_scanout(struct gpu_rig *r, uint32_t scanout, uint32_t id,
			 uint32_t x, uint32_t y, uint32_t w, uint32_t h);
uint32_t gpu_transfer_2d(struct gpu_rig *r, uint32_t id, uint32_t x, uint32_t y,
			 uint32_t w, uint32_t h, uint64_t offset);
uint32_t gpu_flush(struct gpu_rig *r, uint32_t id, uint32_t x, uint32_t y,
		   uint32_t w, uint32_t h);

/* A known pattern, asymmetric in x and y and different in each channel:
 * pixel (x, y) as R, G, B; w x h pixels of it as B8G8R8A8 rows with this
 * alpha; and how many pixels of an RGB image (rows top first) differ
 * from the pattern's rectangle at (x0, y0). */
void gpu_pattern_pixel(unsigned x, unsigned y, uint8_t rgb[3]);
void gpu_pattern_fill(uint8_t *bgra, unsigned w, unsigned h, uint8_t alpha);
unsigned gpu_pattern_mismatches(const uint8_t *rgb, unsigned w, unsigned h,
				unsigned x0, unsigned y0);

/* Reads a PNG file as 8-bit RGB (tests check screenshots with it). NULL
 * when it is not one; free() the result. */
uint8_t *png_read_rgb(const char *path, unsigned *width, unsigned *height);

#endif
