// SPDX-License-Identifier: Apache-2.0
/*
 * Starting and stopping virglrenderer (on the GPU thread, which must make
 * every later call too).
 *
 * Headless: EGL on Mesa's surfaceless platform, so no display server and
 * no GPU are needed (llvmpipe renders where there is no GPU). Before
 * virgl_renderer_init() the EGL client extensions are checked for
 * EGL_MESA_platform_surfaceless: without an EGL vendor library
 * virglrenderer crashes instead of failing. Whatever goes wrong, the
 * device runs in 2D and gpu->fallback says why in one line.
 *
 * virglrenderer keeps its state in globals: one renderer per process.
 * The device that has it is recorded in `owner`, the one piece of
 * process-wide state here, which also routes virglrenderer's messages
 * (its debug callback has no cookie) to that device's log.
 */
#define _GNU_SOURCE
#include "devices/virtio/virtio_gpu_internal.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <epoxy/egl.h>
#include <virglrenderer.h>

/* virglrenderer lines logged per device; the rest are dropped. */
#define MAX_MESSAGES 32

static struct virtio_gpu *owner;

static void write_fence(void *cookie, uint32_t fence)
{
	gpu_retire_fences(cookie, fence);
}

/* Version 1: only write_fence; virglrenderer makes its own EGL context. */
static struct virgl_renderer_callbacks callbacks = {
	.version = 1,
	.write_fence = write_fence,
};

/* Lines virglrenderer prints at every start and context creation. */
static bool chatter(const char *line)
{
	static const char *const prefixes[] = {"gl_version ",
					       "GLSL feature level "};
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(line, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

/* Until the renderer is up its lines explain a failure; then they are
 * (mostly) about a guest's bad command streams. */
static void on_message(const char *fmt, va_list ap)
{
	struct virtio_gpu *gpu = __atomic_load_n(&owner, __ATOMIC_ACQUIRE);
	char line[160];

	if (!gpu)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = 0;
	if (!gpu->nr_capsets) { /* starting: keep the first complaint */
		if (!gpu->fallback[0] && !chatter(line))
			snprintf(gpu->fallback, sizeof(gpu->fallback), "%s",
				 line);
		return;
	}
	if (!chatter(line) && gpu->virgl_messages < MAX_MESSAGES)
		gpu_log(gpu, "%s: virglrenderer: %s%s", gpu->name, line,
			++gpu->virgl_messages == MAX_MESSAGES
				? " (further messages are not logged)"
				: "");
}

static bool has_extension(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; p && (p = strstr(p, name)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
	return false;
}

/* Why EGL surfaceless cannot work here, or NULL. */
static const char *egl_problem(void)
{
	/* libepoxy aborts the process when it cannot load libEGL. */
	void *lib = dlopen("libEGL.so.1", RTLD_LAZY | RTLD_LOCAL);
	if (!lib)
		return "libEGL.so.1 cannot be loaded (Debian: libegl1)";
	dlclose(lib);
	const char *ext = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
	if (!has_extension(ext, "EGL_MESA_platform_surfaceless"))
		return "EGL has no surfaceless platform (Debian: libegl-mesa0)";
	return NULL;
}

static void fall_back(struct virtio_gpu *gpu, const char *why,
		      const char *detail)
{
	bool more = detail && *detail;
	snprintf(gpu->fallback, sizeof(gpu->fallback),
		 "%.40s: 3D is off, running in 2D: %s%s%.100s", gpu->name, why,
		 more ? ": " : "", more ? detail : "");
	gpu->virgl = false;
}

/* Capsets VIRGL and VIRGL2 only: virglrenderer also reports Venus's
 * when Venus is off. The response buffer must hold the larger. */
static bool read_capsets(struct virtio_gpu *gpu)
{
	unsigned n = 0;
	for (uint32_t id = VIRTIO_GPU_CAPSET_VIRGL;
	     id <= VIRTIO_GPU_CAPSET_VIRGL2; id++) {
		uint32_t version = 0, size = 0;
		virgl_renderer_get_cap_set(id, &version, &size);
		if (!size || size > 65536)
			break;
		gpu->capset_version[n] = version;
		gpu->capset_size[n++] = size;
	}
	gpu->nr_capsets = n;
	return n > 0;
}

void gpu_virgl_start(struct virtio_gpu *gpu)
{
	struct virtio_gpu *none = NULL;
	if (!__atomic_compare_exchange_n(&owner, &none, gpu, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		fall_back(gpu,
			  "another virtio-gpu device of this process has "
			  "virglrenderer (one per process)",
			  NULL);
		return;
	}
	const char *why = egl_problem();
	if (why) {
		__atomic_store_n(&owner, NULL, __ATOMIC_RELEASE);
		fall_back(gpu, why, NULL);
		return;
	}
	virgl_set_debug_callback(on_message);
	int r = virgl_renderer_init(gpu,
				    VIRGL_RENDERER_USE_EGL |
					    VIRGL_RENDERER_USE_SURFACELESS |
					    VIRGL_RENDERER_THREAD_SYNC,
				    &callbacks);
	if (r || !read_capsets(gpu)) {
		char detail[sizeof(gpu->fallback)];
		snprintf(detail, sizeof(detail), "%s", gpu->fallback);
		if (!r)
			virgl_renderer_cleanup(gpu);
		gpu->nr_capsets = 0;
		__atomic_store_n(&owner, NULL, __ATOMIC_RELEASE);
		fall_back(gpu,
			  r ? "virglrenderer cannot start on EGL surfaceless"
			    : "virglrenderer offers no virgl capset",
			  detail);
		return;
	}
	gpu->fallback[0] = 0; /* it held virglrenderer's start-up lines */
	gpu->virgl_fd = virgl_renderer_get_poll_fd();
}

void gpu_virgl_stop(struct virtio_gpu *gpu)
{
	virgl_renderer_cleanup(gpu);
	__atomic_store_n(&owner, NULL, __ATOMIC_RELEASE);
}

void gpu_virgl_poll(struct virtio_gpu *gpu)
{
	if (gpu->virgl)
		virgl_renderer_poll();
}

/* ---- what the 2D command set and the resources call in 3D mode ---- */

/* virglrenderer's transfer box (its header only declares the struct). */
struct virgl_box {
	uint32_t x, y, z;
	uint32_t w, h, d;
};

#define PIPE_TEXTURE_2D 2
#define VIRGL_BIND_RENDER_TARGET (1u << 1)

int gpu_virgl_create_2d(const struct gpu_resource *res)
{
	struct virgl_renderer_resource_create_args a = {
		.handle = res->node.id,
		.target = PIPE_TEXTURE_2D,
		.format = res->format,
		.bind = VIRGL_BIND_RENDER_TARGET,
		.width = res->width,
		.height = res->height,
		.depth = 1,
		.array_size = 1,
		.flags = VIRTIO_GPU_RESOURCE_FLAG_Y_0_TOP,
	};
	return virgl_renderer_resource_create(&a, NULL, 0);
}

int gpu_virgl_write_2d(uint32_t id, uint32_t x, uint32_t y, uint32_t w,
		       uint32_t h, uint64_t off)
{
	struct virgl_box box = {x, y, 0, w, h, 1};
	return virgl_renderer_transfer_write_iov(id, 0, 0, 0, 0, &box, off,
						 NULL, 0);
}

int gpu_virgl_read_2d(uint32_t id, uint32_t x, uint32_t y, uint32_t w,
		      uint32_t h, void *buf)
{
	struct virgl_box box = {x, y, 0, w, h, 1};
	struct iovec iov = {buf, (size_t)w * h * 4};
	return virgl_renderer_transfer_read_iov(id, 0, 0, w * 4, 0, &box, 0,
						&iov, 1);
}

int gpu_virgl_fence(uint32_t seq)
{
	return virgl_renderer_create_fence((int)seq, 0);
}

int gpu_virgl_attach(uint32_t id, struct iovec *iov, unsigned n)
{
	return virgl_renderer_resource_attach_iov((int)id, iov, (int)n);
}

void gpu_virgl_detach(uint32_t id)
{
	struct iovec *iov = NULL;
	int n = 0;
	virgl_renderer_resource_detach_iov((int)id, &iov, &n);
}

void gpu_virgl_unref(uint32_t id)
{
	virgl_renderer_resource_unref(id);
}

void gpu_virgl_ctx_destroy(uint32_t id)
{
	virgl_renderer_context_destroy(id);
}
