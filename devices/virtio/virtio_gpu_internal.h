/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the virtio-gpu files share:
 *   virtio_gpu.c          the device: features, config space, ops, life cycle
 *   virtio_gpu_thread.c   the GPU thread: wake-ups, reset, calls from others
 *   virtio_gpu_queue.c    taking commands off a queue, responses, fences
 *   virtio_gpu_2d.c       display info, EDID, 2D resources, scanouts, cursor
 *   virtio_gpu_3d.c       capsets, contexts, 3D resources, transfers, submit
 *   virtio_gpu_res.c      resource and context tables, backing, the memory cap
 *   virtio_gpu_virgl.c    starting and stopping virglrenderer
 *   virtio_gpu_scanout.c  reading scanouts and the cursor image
 *
 * Locking: dev.lock guards the virtio state, the queues, the fence FIFO
 * and the fields marked "lock" below. Everything else belongs to the GPU
 * thread, which never holds dev.lock while it calls virglrenderer
 * (virglrenderer calls back into write_fence, which takes it).
 */
#ifndef PHY_DEVICES_VIRTIO_VIRTIO_GPU_INTERNAL_H
#define PHY_DEVICES_VIRTIO_VIRTIO_GPU_INTERNAL_H

#include <linux/virtio_gpu.h>
#include <sys/uio.h>

#include "devices/virtio/virtio_gpu.h"

#define GPU_CONTROLQ 0
#define GPU_CURSORQ 1
#define GPU_NR_QUEUES 2
#define GPU_QUEUE_SIZE 256
/* Buffers in one chain: a SUBMIT_3D of GPU_MAX_SUBMIT bytes in pages, its
 * header and the response. */
#define GPU_MAX_SUBMIT (4u << 20)
#define GPU_MAX_IOV (GPU_MAX_SUBMIT / 4096 + 16)
/* What one guest may create: ids are checked against these before any
 * allocation. */
#define GPU_MAX_RESOURCES (1u << 18)
#define GPU_MAX_CONTEXTS 256
#define GPU_MAX_BACKING_ENTRIES (1u << 17)
#define GPU_MAX_TEXTURE 16384 /* width, height */
#define GPU_MAX_LAYERS 2048   /* depth, array size */
#define GPU_CURSOR_SIZE 64
/* Bytes charged per resource on top of its contents, and per context:
 * an llvmpipe context takes 2.3 MiB of the process's memory (measured
 * with virglrenderer 0.10.4 and Mesa 22.3). */
#define GPU_OBJECT_CHARGE 256
#define GPU_CONTEXT_CHARGE (3u << 20)

/* Table entries start with this: resources and contexts by guest id. */
struct gpu_node {
	struct gpu_node *next;
	uint32_t id;
};

struct gpu_table {
	struct gpu_node **buckets;
	unsigned nr_buckets; /* a power of two */
	unsigned count;
};

struct gpu_resource {
	struct gpu_node node;
	uint32_t format, width, height;
	/* 3D only: what transfers are checked against. */
	uint32_t target, depth, array_size, last_level;
	bool created_2d;       /* RESOURCE_CREATE_2D: 4 bytes a pixel */
	bool virgl;	       /* lives in virglrenderer */
	uint64_t charge;       /* host bytes counted against the cap */
	uint8_t *pixels;       /* 2D mode: width * height * 4 bytes */
	struct iovec *backing; /* guest pages, as host pointers */
	unsigned nr_backing;
	uint64_t backing_len;
	uint64_t backing_charge; /* for the iovec array */
};

struct gpu_context {
	struct gpu_node node;
};

/* An RGB image a scanout showed: kept when it goes dark. */
struct gpu_frame {
	uint32_t width, height;
	uint8_t *rgb; /* NULL: none */
};

/* Bytes of last frames a device keeps, all scanouts together: frames
 * past it are not kept (they are the host's memory, not the guest's). */
#define GPU_LAST_FRAMES_MAX (64u << 20)

struct gpu_scanout {
	uint32_t resource_id; /* 0: disabled */
	uint32_t x, y, width, height;
	uint64_t flushes; /* RESOURCE_FLUSH commands that touched it */
	/* What it showed last before it went dark (the guest turned it
	 * off, freed its resource, reset the device): screenshots of a
	 * VM that powered off show that, as a monitor holds its image. */
	struct gpu_frame last;
};

/* A fenced command whose response waits for its virgl fence. */
struct gpu_fence {
	uint32_t seq;
	uint16_t head;
	uint32_t len;
	uint64_t submit_ns; /* a SUBMIT_3D: when it was taken; else 0 */
};

/* Work handed to the GPU thread by another thread (screenshots, ...). */
struct gpu_call {
	void (*fn)(struct virtio_gpu *gpu, void *arg);
	void *arg;
	bool done;
};

/* One command being served: its chain and a copy of its request. */
struct gpu_cmd {
	unsigned q;
	struct vq_chain chain;
	uint64_t taken_ns; /* CLOCK_MONOTONIC when it came off the queue */
	uint32_t type, flags, ctx_id;
	uint64_t fence_id;
	/* The request, copied out of guest memory (the guest may change it
	 * meanwhile); bytes past what the guest sent are zero. */
	union {
		struct virtio_gpu_ctrl_hdr hdr;
		struct virtio_gpu_resource_create_2d create_2d;
		struct virtio_gpu_resource_unref unref;
		struct virtio_gpu_set_scanout set_scanout;
		struct virtio_gpu_resource_flush flush;
		struct virtio_gpu_transfer_to_host_2d t2d;
		struct virtio_gpu_resource_attach_backing attach;
		struct virtio_gpu_resource_detach_backing detach;
		struct virtio_gpu_get_capset_info capset_info;
		struct virtio_gpu_get_capset capset;
		struct virtio_gpu_cmd_get_edid edid;
		struct virtio_gpu_ctx_create ctx_create;
		struct virtio_gpu_ctx_resource ctx_res;
		struct virtio_gpu_resource_create_3d create_3d;
		struct virtio_gpu_transfer_host_3d t3d;
		struct virtio_gpu_cmd_submit submit;
		struct virtio_gpu_update_cursor cursor;
	} req;
	/* The response: the handler fills resp past the header and sets
	 * resp_len; the header is written from the handler's result. */
	uint8_t *resp;
	uint32_t resp_len;
};

struct virtio_gpu {
	struct virtio_dev dev;
	enum sandbox_mode sandbox;
	struct virtqueue vqs[GPU_NR_QUEUES];
	char *name;
	const struct guest_mem *mem;
	unsigned width, height, outputs;
	uint64_t max_host_mem;
	bool virgl;	    /* 3D on; fixed once created */
	char fallback[256]; /* why VIRGL became 2D; "" when it did not */
	uint32_t nr_capsets;
	uint32_t capset_version[2], capset_size[2]; /* VIRGL, VIRGL2 */
	struct virtio_gpu_config config;	    /* little-endian; lock */

	pthread_t thread;
	int wake_fd;  /* eventfd: the GPU thread has something to look at */
	int virgl_fd; /* virglrenderer's fence eventfd, or -1 */

	/* lock: the GPU thread's inbox. */
	bool started, stopping, busy;
	/* From a reset's request to its return: the GPU thread may get the
	 * lock after doing the work and before the reset returns, while the
	 * status and rings are still the old instance's. */
	bool resetting;
	unsigned reset_req, reset_done;
	uint64_t kick_seq, served_seq;
	struct gpu_call *call;
	struct gpu_fence fences[GPU_QUEUE_SIZE]; /* FIFO, oldest first */
	unsigned fence_first, nr_fences;
	uint32_t retired_seq; /* the last fence virglrenderer retired */
	struct virtio_gpu_stats stats;

	/* The GPU thread's own. */
	uint32_t fence_seq;
	struct gpu_table resources, contexts;
	uint64_t host_mem; /* charged; others read it with __atomic_load */
	struct gpu_scanout scanouts[VIRTIO_GPU_MAX_SCANOUTS];
	uint64_t last_frames_bytes; /* of scanouts[].last, GPU_LAST_FRAMES_MAX */
	struct virtio_gpu_cursor cursor;
	uint8_t *resp; /* response buffer of resp_size bytes */
	uint32_t resp_size;
	uint8_t *submit_buf; /* SUBMIT_3D streams are copied here */
	uint32_t submit_size;
	struct iovec chain_iov[GPU_MAX_IOV];
	unsigned virgl_messages; /* virglrenderer lines logged */
};

/* ---- virtio_gpu_thread.c ---- */
int gpu_thread_start(struct virtio_gpu *gpu, struct phy_error *err);
void gpu_thread_stop(struct virtio_gpu *gpu);
void gpu_wake(struct virtio_gpu *gpu);
/* Runs fn on the GPU thread and waits for it; -1 from the GPU thread. */
int gpu_call(struct virtio_gpu *gpu, void (*fn)(struct virtio_gpu *, void *),
	     void *arg);
/* Whether the GPU thread may still serve queues (lock held). */
bool gpu_serving(const struct virtio_gpu *gpu);

/* ---- virtio_gpu_queue.c ---- */
/* Serves both queues until they are empty (GPU thread, lock not held). */
void gpu_serve_queues(struct virtio_gpu *gpu);
/* virglrenderer retired fence `seq`: push what waited for it. */
void gpu_retire_fences(struct virtio_gpu *gpu, uint32_t seq);
/* Logs one line through the device's log hook (lock not held). */
void gpu_log(struct virtio_gpu *gpu, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- command handlers: return VIRTIO_GPU_RESP_* ---- */
uint32_t gpu_cmd_display_info(struct virtio_gpu *gpu, struct gpu_cmd *cmd);
uint32_t gpu_cmd_edid(struct virtio_gpu *gpu, struct gpu_cmd *cmd);
uint32_t gpu_cmd_create_2d(struct virtio_gpu *gpu, struct gpu_cmd *cmd);
uint32_t gpu_cmd_unref(struct virtio_gpu *gpu, struct gpu_cmd *cmd);
uint32_t gpu_cmd_set_scanout(struct virtio_gpu *gpu, struct gpu_cmd *cmd);
uint32_t gpu_cmd_flush(struct virtio_gpu *gpu, struct gpu_cmd *cmd);
uint32_t gpu_cmd_transfer_2d(struct virtio_gpu *gpu, struct gpu_cmd *cmd);
uint32_t gpu_cmd_attach_backing(struct virtio_gpu *gpu, struct gpu_cmd *cmd);
uint32_t gpu_cmd_detach_backing(struct virtio_gpu *gpu, struct gpu_cmd *cmd);
uint32_t gpu_cmd_cursor(struct virtio_gpu *gpu, struct gpu_cmd *cmd);
uint32_t gpu_cmd_capset_info(struct virtio_gpu *gpu, struct gpu_cmd *cmd);
uint32_t gpu_cmd_capset(struct virtio_gpu *gpu, struct gpu_cmd *cmd);
uint32_t gpu_cmd_ctx_create(struct virtio_gpu *gpu, struct gpu_cmd *cmd);
uint32_t gpu_cmd_ctx_destroy(struct virtio_gpu *gpu, struct gpu_cmd *cmd);
uint32_t gpu_cmd_ctx_attach(struct virtio_gpu *gpu, struct gpu_cmd *cmd);
uint32_t gpu_cmd_ctx_detach(struct virtio_gpu *gpu, struct gpu_cmd *cmd);
uint32_t gpu_cmd_create_3d(struct virtio_gpu *gpu, struct gpu_cmd *cmd);
uint32_t gpu_cmd_transfer_to_3d(struct virtio_gpu *gpu, struct gpu_cmd *cmd);
uint32_t gpu_cmd_transfer_from_3d(struct virtio_gpu *gpu, struct gpu_cmd *cmd);
uint32_t gpu_cmd_submit_3d(struct virtio_gpu *gpu, struct gpu_cmd *cmd);

/* ---- virtio_gpu_res.c ---- */
struct gpu_node *gpu_table_find(const struct gpu_table *t, uint32_t id);
int gpu_table_insert(struct gpu_table *t, struct gpu_node *n);
void gpu_table_remove(struct gpu_table *t, struct gpu_node *n);
/* Any entry (for tearing a table down), or NULL when empty. */
struct gpu_node *gpu_table_any(const struct gpu_table *t);
void gpu_table_free(struct gpu_table *t);

struct gpu_resource *gpu_resource_find(struct virtio_gpu *gpu, uint32_t id);
struct gpu_context *gpu_context_find(struct virtio_gpu *gpu, uint32_t id);
/* Counts bytes against the cap: false (nothing counted) when over it. */
bool gpu_charge(struct virtio_gpu *gpu, uint64_t bytes);
void gpu_uncharge(struct virtio_gpu *gpu, uint64_t bytes);
/* A new resource with `charge` bytes counted, in the table; NULL with
 * *resp set (OUT_OF_MEMORY, INVALID_RESOURCE_ID). */
struct gpu_resource *gpu_resource_new(struct virtio_gpu *gpu, uint32_t id,
				      uint64_t charge, uint32_t *resp);
/* Drops the resource: off every scanout and the cursor, out of
 * virglrenderer, its backing and memory freed. */
void gpu_resource_destroy(struct virtio_gpu *gpu, struct gpu_resource *res);
void gpu_context_destroy(struct virtio_gpu *gpu, struct gpu_context *ctx);
/* Everything the guest created, gone (reset, destroy). */
void gpu_destroy_all(struct virtio_gpu *gpu);
/*
 * Reads the ATTACH_BACKING entries that follow the request and checks
 * each lies in guest RAM. Returns a VIRTIO_GPU_RESP_*; on OK the
 * resource holds the backing.
 */
uint32_t gpu_backing_attach(struct virtio_gpu *gpu, struct gpu_cmd *cmd,
			    struct gpu_resource *res);
void gpu_backing_detach(struct virtio_gpu *gpu, struct gpu_resource *res);
/* Where the last read of a backing ended, so that reads at increasing
 * offsets (the rows of a rectangle) walk its entries once. Start with
 * {0, 0}. */
struct gpu_backing_cursor {
	unsigned i;    /* entry */
	uint64_t base; /* its offset in the backing */
};
/* Copies n bytes at `off` of the backing; false when out of range. */
bool gpu_backing_read(const struct gpu_resource *res,
		      struct gpu_backing_cursor *c, uint64_t off, void *dst,
		      size_t n);

/* ---- virtio_gpu_virgl.c (virtio_gpu_novirgl.c in a build without
 * virglrenderer: start() says so and the device runs in 2D) ---- */
/* On the GPU thread: starts virglrenderer, or fills gpu->fallback. */
void gpu_virgl_start(struct virtio_gpu *gpu);
void gpu_virgl_stop(struct virtio_gpu *gpu);
/* Lets virglrenderer retire fences (GPU thread). */
void gpu_virgl_poll(struct virtio_gpu *gpu);
/* What the 2D command set and the resources do with virglrenderer in 3D
 * mode (GPU thread); each returns 0 or nonzero as virglrenderer does. */
/* A 2D resource as a texture 3D contexts can use too, rows top first. */
int gpu_virgl_create_2d(const struct gpu_resource *res);
/* Guest backing -> texture (the rectangle, from backing offset off). */
int gpu_virgl_write_2d(uint32_t id, uint32_t x, uint32_t y, uint32_t w,
		       uint32_t h, uint64_t off);
/* Texture -> buf: w x h pixels of 4 bytes, rows top first. */
int gpu_virgl_read_2d(uint32_t id, uint32_t x, uint32_t y, uint32_t w,
		      uint32_t h, void *buf);
int gpu_virgl_fence(uint32_t seq);
int gpu_virgl_attach(uint32_t id, struct iovec *iov, unsigned n);
void gpu_virgl_detach(uint32_t id);
void gpu_virgl_unref(uint32_t id);
void gpu_virgl_ctx_destroy(uint32_t id);

/* ---- virtio_gpu_scanout.c ---- */
/* Bytes of R, G and B in a 4-byte pixel of a virtio-gpu format; false
 * for formats the device does not know. */
bool gpu_format_rgb(uint32_t format, unsigned off[3]);
/* The cursor image from a 64x64 resource (GPU thread); false if it
 * cannot be read. */
bool gpu_cursor_load(struct virtio_gpu *gpu, struct gpu_resource *res);
/* Scanout i goes dark: keep what it shows now as its last frame (when
 * it can be read and fits GPU_LAST_FRAMES_MAX), then disable it. res:
 * the resource it shows, when it is already out of the table; NULL: look
 * it up. */
void gpu_scanout_off(struct virtio_gpu *gpu, unsigned i,
		     struct gpu_resource *res);
/* Forgets scanout i's last frame (it shows something new). */
void gpu_scanout_forget(struct virtio_gpu *gpu, unsigned i);

#endif
