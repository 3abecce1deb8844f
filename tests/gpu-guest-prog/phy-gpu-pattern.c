// SPDX-License-Identifier: Apache-2.0
/*
 * phy-gpu-pattern: the guest half of the GPU tests (tests/e2e/gpu-suite.sh).
 *
 * Runs inside the Debian guest on a virtio-gpu device. Default (GL) mode:
 * renders a known, asymmetric pattern with OpenGL ES 2 through Mesa's virgl
 * driver (EGL on a GBM device on the DRM node), reads it back with
 * glReadPixels and compares every pixel, then puts the rendered buffer on
 * the KMS scanout, so the host can compare the VMM's screenshot with the
 * same pattern. --2d draws the pattern into a dumb buffer with the CPU
 * (no GL at all) for a device without 3D (phyllome-vmm --gpu mode=2d).
 *
 * The pattern, as seen on the screen (y grows downwards), for a W x H mode:
 *   quadrants split at W/2 and H/2: top-left red, top-right green,
 *   bottom-left blue, bottom-right magenta; a yellow square marker of side
 *   min(W,H)/8 at (W/16, H/16) inside the top-left quadrant.
 * Every mirror, flip or rotation changes the quadrants' colours; a red/blue
 * channel swap also does, and turns the marker cyan, which tells it apart
 * from a vertical flip. tests/gpu-guest-prog/check-screenshot.py holds the
 * same definition: change both together.
 *
 * --finish N measures instead: N times a 16x16 scissored clear followed by
 * glFinish(), each timed on the guest's clock. With Mesa's virgl driver
 * glFinish() sends the command stream (a fenced SUBMIT_3D) and waits for
 * its fence: the guest's view of the device's round trip, the same on
 * every VMM (tools/bench/gpu-bench.py prints it beside the VMM's count).
 * Nothing is shown on the scanout.
 *
 * Output, on stdout (the serial console), one "PHYLLOME-GPU: " line each:
 *   device PATH driver NAME      the DRM node opened and its kernel driver
 *   mode WxH                     the connector's mode used
 *   renderer TEXT / version TEXT GL_RENDERER / GL_VERSION (GL mode)
 *   readback ok | readback bad N pixels, first at X,Y got R,G,B want R,G,B
 *   shown WxH via gbm-bo|dumb    the pattern is on the scanout
 *   finish N avg A p50 B p99 C max D   --finish: microseconds per round trip
 *   error TEXT                   what failed (then exit status 1)
 * After "shown" the program returns, but a child process keeps the DRM file
 * open for --hold seconds (default: until the guest powers off): closing the
 * last reference would give the display back to the kernel's fbdev console,
 * and the host takes its screenshot when the VM stops.
 *
 * Build (tools/guest/build-gpu-guest.sh does it):
 *   gcc -O2 -Wall -Wextra -Werror phy-gpu-pattern.c \
 *       $(pkg-config --cflags --libs egl glesv2 gbm libdrm)
 */
#define _GNU_SOURCE
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GLES2/gl2.h>
#include <errno.h>
#include <fcntl.h>
#include <gbm.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

struct rgb {
	uint8_t r, g, b;
};

static const struct rgb TOP_LEFT = {255, 0, 0};
static const struct rgb TOP_RIGHT = {0, 255, 0};
static const struct rgb BOTTOM_LEFT = {0, 0, 255};
static const struct rgb BOTTOM_RIGHT = {255, 0, 255};
static const struct rgb MARKER = {255, 255, 0};

/* A rectangle in screen coordinates: x right, y down, [x0,x1) x [y0,y1). */
struct rect {
	int x0, y0, x1, y1;
};

static struct rect marker_rect(int w, int h)
{
	int side = (w < h ? w : h) / 8;
	struct rect r = {w / 16, h / 16, w / 16 + side, h / 16 + side};
	return r;
}

/* The pattern's colour at screen pixel (x, y), y counted from the top. */
static struct rgb pattern_at(int w, int h, int x, int y)
{
	struct rect m = marker_rect(w, h);
	if (x >= m.x0 && x < m.x1 && y >= m.y0 && y < m.y1)
		return MARKER;
	if (y < h / 2)
		return x < w / 2 ? TOP_LEFT : TOP_RIGHT;
	return x < w / 2 ? BOTTOM_LEFT : BOTTOM_RIGHT;
}

static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("PHYLLOME-GPU: ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
	fflush(stdout);
}

static int fail(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	say("error %s", buf);
	return 1;
}

/* ------------------------------------------------------------- KMS */

/* The first connected connector, its preferred mode and a CRTC that can
 * drive it: what the scanout needs. */
struct kms {
	uint32_t connector, crtc;
	drmModeModeInfo mode;
};

static int kms_find(int fd, struct kms *k)
{
	drmModeRes *res = drmModeGetResources(fd);
	if (!res)
		return fail("drmModeGetResources: %s (not a KMS device?)", strerror(errno));
	int rc = 1;
	for (int i = 0; i < res->count_connectors && rc; i++) {
		drmModeConnector *c = drmModeGetConnector(fd, res->connectors[i]);
		if (!c)
			continue;
		if (c->connection == DRM_MODE_CONNECTED && c->count_modes > 0) {
			/* The preferred mode is the device's configured size
			 * (virtio-gpu's display info); else the first one. */
			k->mode = c->modes[0];
			for (int m = 0; m < c->count_modes; m++)
				if (c->modes[m].type & DRM_MODE_TYPE_PREFERRED) {
					k->mode = c->modes[m];
					break;
				}
			k->connector = c->connector_id;
			/* Any CRTC an encoder of this connector can use. */
			for (int e = 0; e < c->count_encoders && rc; e++) {
				drmModeEncoder *enc = drmModeGetEncoder(fd, c->encoders[e]);
				if (!enc)
					continue;
				for (int j = 0; j < res->count_crtcs; j++)
					if (enc->possible_crtcs & (1u << j)) {
						k->crtc = res->crtcs[j];
						rc = 0;
						break;
					}
				drmModeFreeEncoder(enc);
			}
		}
		drmModeFreeConnector(c);
	}
	drmModeFreeResources(res);
	if (rc)
		return fail("no connected connector with a mode and a CRTC");
	say("mode %ux%u", k->mode.hdisplay, k->mode.vdisplay);
	return 0;
}

static int kms_show(int fd, struct kms *k, uint32_t fb)
{
	if (drmModeSetCrtc(fd, k->crtc, fb, 0, 0, &k->connector, 1, &k->mode))
		return fail("drmModeSetCrtc: %s", strerror(errno));
	/* Legacy SetCrtc flushes the whole plane on virtio-gpu already; an
	 * explicit dirty call is for drivers that wait for one (errors, e.g.
	 * ENOSYS where there is no dirty hook, do not matter). */
	drmModeClip clip = {0, 0, k->mode.hdisplay, k->mode.vdisplay};
	(void)drmModeDirtyFB(fd, fb, &clip, 1);
	return 0;
}

/* A CPU-mapped dumb buffer in XRGB8888, filled by the caller: the 2D path,
 * and the GL path's fallback when the GBM buffer cannot be scanned out. */
struct dumb {
	uint32_t handle, pitch, fb;
	uint64_t size;
	uint8_t *map;
};

static int dumb_create(int fd, int w, int h, struct dumb *d)
{
	struct drm_mode_create_dumb c = {.width = (uint32_t)w, .height = (uint32_t)h, .bpp = 32};
	if (drmIoctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &c))
		return fail("DRM_IOCTL_MODE_CREATE_DUMB %dx%d: %s", w, h, strerror(errno));
	d->handle = c.handle;
	d->pitch = c.pitch;
	d->size = c.size;
	struct drm_mode_map_dumb m = {.handle = c.handle};
	if (drmIoctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &m))
		return fail("DRM_IOCTL_MODE_MAP_DUMB: %s", strerror(errno));
	d->map = mmap(NULL, d->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)m.offset);
	if (d->map == MAP_FAILED)
		return fail("mmap of the dumb buffer: %s", strerror(errno));
	if (drmModeAddFB(fd, (uint32_t)w, (uint32_t)h, 24, 32, d->pitch, d->handle, &d->fb))
		return fail("drmModeAddFB (dumb): %s", strerror(errno));
	return 0;
}

/* XRGB8888 is a little-endian 32-bit word: bytes B, G, R, X in memory. */
static void put_xrgb(uint8_t *p, struct rgb c)
{
	p[0] = c.b;
	p[1] = c.g;
	p[2] = c.r;
	p[3] = 0xff;
}

/* ------------------------------------------------------------- 2D */

static int run_2d(int fd, struct kms *k)
{
	int w = k->mode.hdisplay, h = k->mode.vdisplay;
	struct dumb d;
	if (dumb_create(fd, w, h, &d))
		return 1;
	/* Row 0 of a scanout buffer is the top of the screen. */
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			put_xrgb(d.map + (size_t)y * d.pitch + (size_t)x * 4, pattern_at(w, h, x, y));
	if (kms_show(fd, k, d.fb))
		return 1;
	say("shown %dx%d via dumb", w, h);
	return 0;
}

/* ------------------------------------------------------------- GL */

static const char *VERTEX_SHADER =
	"attribute vec2 pos;\n"
	"void main() { gl_Position = vec4(pos, 0.0, 1.0); }\n";
static const char *FRAGMENT_SHADER =
	"precision mediump float;\n"
	"uniform vec4 color;\n"
	"void main() { gl_FragColor = color; }\n";

static GLuint compile(GLenum type, const char *src)
{
	GLuint s = glCreateShader(type);
	glShaderSource(s, 1, &src, NULL);
	glCompileShader(s);
	GLint ok = 0;
	glGetShaderiv(s, GL_COMPILE_STATUS, &ok);
	if (!ok) {
		char log[256] = "";
		glGetShaderInfoLog(s, sizeof(log), NULL, log);
		fail("shader does not compile: %s", log);
		return 0;
	}
	return s;
}

/* Fills screen rectangle r with colour c by a scissored clear: GL's window
 * origin is the bottom-left corner, so screen row y is GL row h-1-y. */
static void clear_rect(int h, struct rect r, struct rgb c)
{
	glScissor(r.x0, h - r.y1, r.x1 - r.x0, r.y1 - r.y0);
	glClearColor(c.r / 255.0f, c.g / 255.0f, c.b / 255.0f, 1.0f);
	glClear(GL_COLOR_BUFFER_BIT);
}

/* Draws the pattern: the quadrants with clears, the marker as two
 * triangles through a shader, so both the clear path and a real draw
 * (shader compilation, vertex upload, rasterisation) go through virgl. */
static int draw_pattern(int w, int h)
{
	glViewport(0, 0, w, h);
	glEnable(GL_SCISSOR_TEST);
	clear_rect(h, (struct rect){0, 0, w / 2, h / 2}, TOP_LEFT);
	clear_rect(h, (struct rect){w / 2, 0, w, h / 2}, TOP_RIGHT);
	clear_rect(h, (struct rect){0, h / 2, w / 2, h}, BOTTOM_LEFT);
	clear_rect(h, (struct rect){w / 2, h / 2, w, h}, BOTTOM_RIGHT);
	glDisable(GL_SCISSOR_TEST);

	GLuint vs = compile(GL_VERTEX_SHADER, VERTEX_SHADER);
	GLuint fs = compile(GL_FRAGMENT_SHADER, FRAGMENT_SHADER);
	if (!vs || !fs)
		return 1;
	GLuint prog = glCreateProgram();
	glAttachShader(prog, vs);
	glAttachShader(prog, fs);
	glBindAttribLocation(prog, 0, "pos");
	glLinkProgram(prog);
	GLint ok = 0;
	glGetProgramiv(prog, GL_LINK_STATUS, &ok);
	if (!ok)
		return fail("shader program does not link");
	glUseProgram(prog);
	/* Marker corners in normalised device coordinates (y up): edges on
	 * pixel boundaries, so exactly the marker's pixels' centres are in. */
	struct rect m = marker_rect(w, h);
	float x0 = 2.0f * m.x0 / w - 1, x1 = 2.0f * m.x1 / w - 1;
	float y0 = 1 - 2.0f * m.y0 / h, y1 = 1 - 2.0f * m.y1 / h;
	const GLfloat quad[] = {x0, y0, x1, y0, x0, y1, x1, y1};
	glUniform4f(glGetUniformLocation(prog, "color"), MARKER.r / 255.0f, MARKER.g / 255.0f,
		    MARKER.b / 255.0f, 1.0f);
	glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 0, quad);
	glEnableVertexAttribArray(0);
	glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
	GLenum err = glGetError();
	if (err != GL_NO_ERROR)
		return fail("GL error 0x%x while drawing", err);
	return 0;
}

/* Reads the framebuffer back and compares every pixel with the pattern.
 * Returns the pixels (GL order: bottom row first, RGBA) for the dumb
 * fallback, or NULL when the read itself failed. */
static uint8_t *check_readback(int w, int h, int *bad)
{
	uint8_t *px = malloc((size_t)w * h * 4);
	if (!px) {
		fail("out of memory");
		return NULL;
	}
	glPixelStorei(GL_PACK_ALIGNMENT, 1);
	glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, px);
	GLenum err = glGetError();
	if (err != GL_NO_ERROR) {
		fail("glReadPixels: GL error 0x%x", err);
		free(px);
		return NULL;
	}
	int nbad = 0, fx = 0, fy = 0;
	struct rgb got = {0, 0, 0}, want = {0, 0, 0};
	for (int row = 0; row < h; row++)
		for (int x = 0; x < w; x++) {
			const uint8_t *p = px + ((size_t)row * w + x) * 4;
			int y = h - 1 - row;
			struct rgb e = pattern_at(w, h, x, y);
			/* Colours are 0 or 255 per channel: any correct path
			 * gives them exactly. */
			if (p[0] != e.r || p[1] != e.g || p[2] != e.b) {
				if (nbad++ == 0) {
					fx = x, fy = y;
					got = (struct rgb){p[0], p[1], p[2]};
					want = e;
				}
			}
		}
	if (nbad)
		say("readback bad %d pixels, first at %d,%d got %u,%u,%u want %u,%u,%u", nbad, fx, fy,
		    got.r, got.g, got.b, want.r, want.g, want.b);
	else
		say("readback ok %dx%d", w, h);
	*bad = nbad;
	return px;
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* --finish: n round trips of a tiny clear and glFinish(). The first ten
 * (shader and state set-up in the host's context) are left out. */
static int finish_latency(int n)
{
	enum { WARM_UP = 10 };
	double *t = malloc(sizeof(double) * (size_t)n);
	if (!t)
		return fail("out of memory");
	glEnable(GL_SCISSOR_TEST);
	glScissor(0, 0, 16, 16);
	for (int i = -WARM_UP; i < n; i++) {
		glClearColor((float)(i & 1), 0.5f, 0.25f, 1.0f);
		double t0 = now_us();
		glClear(GL_COLOR_BUFFER_BIT);
		glFinish();
		if (i >= 0)
			t[i] = now_us() - t0;
	}
	glDisable(GL_SCISSOR_TEST);
	if (glGetError() != GL_NO_ERROR)
		return fail("GL error in the finish loop");
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += t[i];
	qsort(t, (size_t)n, sizeof(double), cmp_double);
	say("finish %d avg %.1f p50 %.1f p99 %.1f max %.1f", n, sum / n, t[n / 2],
	    t[(size_t)n * 99 / 100], t[n - 1]);
	free(t);
	return 0;
}

static int run_gl(int fd, struct kms *k, int finish)
{
	int w = k->mode.hdisplay, h = k->mode.vdisplay;
	/* GBM on the same DRM file: the buffers Mesa renders into are then
	 * GEM objects the KMS side can scan out directly. */
	struct gbm_device *gbm = gbm_create_device(fd);
	if (!gbm)
		return fail("gbm_create_device failed");
	struct gbm_surface *surf = gbm_surface_create(gbm, (uint32_t)w, (uint32_t)h, GBM_FORMAT_XRGB8888,
						       GBM_BO_USE_SCANOUT | GBM_BO_USE_RENDERING);
	if (!surf)
		return fail("gbm_surface_create %dx%d XRGB8888: %s", w, h, strerror(errno));

	/* EGL on the GBM platform: Mesa picks the driver by the kernel
	 * driver's name (virtio_gpu -> virtio_gpu_dri.so, the virgl driver). */
	PFNEGLGETPLATFORMDISPLAYEXTPROC get_display =
		(PFNEGLGETPLATFORMDISPLAYEXTPROC)eglGetProcAddress("eglGetPlatformDisplayEXT");
	if (!get_display)
		return fail("no eglGetPlatformDisplayEXT (EGL_EXT_platform_base)");
	EGLDisplay dpy = get_display(EGL_PLATFORM_GBM_KHR, gbm, NULL);
	EGLint major, minor;
	if (dpy == EGL_NO_DISPLAY || !eglInitialize(dpy, &major, &minor))
		return fail("eglInitialize on GBM: 0x%x (is virtio_gpu_dri.so there?)", eglGetError());
	if (!eglBindAPI(EGL_OPENGL_ES_API))
		return fail("eglBindAPI(GLES): 0x%x", eglGetError());

	/* The config must match the GBM surface's format, so the buffers
	 * the window surface gets are the scanout-capable ones. */
	static const EGLint attrs[] = {EGL_SURFACE_TYPE, EGL_WINDOW_BIT, EGL_RED_SIZE, 8,
				       EGL_GREEN_SIZE, 8, EGL_BLUE_SIZE, 8, EGL_ALPHA_SIZE, 0,
				       EGL_RENDERABLE_TYPE, EGL_OPENGL_ES2_BIT, EGL_NONE};
	EGLConfig configs[64], config = NULL;
	EGLint n = 0;
	if (!eglChooseConfig(dpy, attrs, configs, 64, &n) || n == 0)
		return fail("no EGL config for GLES2 with XRGB8888");
	for (EGLint i = 0; i < n && !config; i++) {
		EGLint id = 0;
		if (eglGetConfigAttrib(dpy, configs[i], EGL_NATIVE_VISUAL_ID, &id) &&
		    (uint32_t)id == GBM_FORMAT_XRGB8888)
			config = configs[i];
	}
	if (!config)
		return fail("no EGL config whose native visual is XRGB8888 (%d configs)", n);
	static const EGLint ctx_attrs[] = {EGL_CONTEXT_CLIENT_VERSION, 2, EGL_NONE};
	EGLContext ctx = eglCreateContext(dpy, config, EGL_NO_CONTEXT, ctx_attrs);
	if (ctx == EGL_NO_CONTEXT)
		return fail("eglCreateContext: 0x%x", eglGetError());
	EGLSurface es = eglCreateWindowSurface(dpy, config, (EGLNativeWindowType)surf, NULL);
	if (es == EGL_NO_SURFACE)
		return fail("eglCreateWindowSurface: 0x%x", eglGetError());
	if (!eglMakeCurrent(dpy, es, es, ctx))
		return fail("eglMakeCurrent: 0x%x", eglGetError());
	say("renderer %s", (const char *)glGetString(GL_RENDERER));
	say("version %s", (const char *)glGetString(GL_VERSION));
	if (finish > 0)
		return finish_latency(finish);

	if (draw_pattern(w, h))
		return 1;
	/* Before the swap: after it the back buffer's contents are undefined. */
	int bad = 0;
	uint8_t *px = check_readback(w, h, &bad);
	if (!px)
		return 1;

	/* The rendered buffer becomes the front buffer; scan it out as it is,
	 * so the host sees what virgl rendered, orientation included. */
	if (!eglSwapBuffers(dpy, es))
		return fail("eglSwapBuffers: 0x%x", eglGetError());
	struct gbm_bo *bo = gbm_surface_lock_front_buffer(surf);
	uint32_t fb = 0;
	const char *how = "gbm-bo";
	if (!bo || drmModeAddFB(fd, (uint32_t)w, (uint32_t)h, 24, 32, gbm_bo_get_stride(bo),
				gbm_bo_get_handle(bo).u32, &fb)) {
		/* Fallback: the pixels read back, copied into a dumb buffer
		 * (flipped: GL's first row is the bottom one). The suite
		 * notices "via dumb": that no longer tests GL scanout. */
		say("note: cannot scan out the GBM buffer (%s), using a dumb buffer",
		    bo ? strerror(errno) : "no front buffer");
		struct dumb d;
		if (dumb_create(fd, w, h, &d))
			return 1;
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++) {
				const uint8_t *p = px + ((size_t)(h - 1 - y) * w + x) * 4;
				put_xrgb(d.map + (size_t)y * d.pitch + (size_t)x * 4,
					 (struct rgb){p[0], p[1], p[2]});
			}
		fb = d.fb;
		how = "dumb";
	}
	free(px);
	if (kms_show(fd, k, fb))
		return 1;
	say("shown %dx%d via %s", w, h, how);
	return bad ? 1 : 0;
}

/* ------------------------------------------------------------- main */

static void usage(FILE *f)
{
	fprintf(f, "usage: phy-gpu-pattern [--2d] [--device PATH] [--hold SECONDS] [--finish N]\n"
		   "  --2d           draw with the CPU into a dumb buffer (no GL)\n"
		   "  --finish N     time N tiny clears + glFinish() instead (GL)\n"
		   "  --device PATH  DRM node (default /dev/dri/card0)\n"
		   "  --hold S       keep the pattern on the scanout S seconds after\n"
		   "                 returning (default 0: until power-off)\n");
}

int main(int argc, char **argv)
{
	const char *dev = "/dev/dri/card0";
	int mode_2d = 0;
	long hold = 0, finish = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--2d"))
			mode_2d = 1;
		else if (!strcmp(argv[i], "--finish") && i + 1 < argc)
			finish = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--device") && i + 1 < argc)
			dev = argv[++i];
		else if (!strcmp(argv[i], "--hold") && i + 1 < argc)
			hold = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	/* The primary node (card0), not the render node: KMS needs it, and
	 * the first opener of a primary node becomes DRM master, which
	 * drmModeSetCrtc requires. Rendering works on it too. */
	int fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fail("open %s: %s", dev, strerror(errno));
	drmVersionPtr v = drmGetVersion(fd);
	say("device %s driver %s", dev, v ? v->name : "?");
	if (v)
		drmFreeVersion(v);
	struct kms k;
	if (kms_find(fd, &k))
		return 1;
	if (finish < 0 || finish > 1000000 || (finish && mode_2d)) {
		usage(stderr);
		return 2;
	}
	int rc = mode_2d ? run_2d(fd, &k) : run_gl(fd, &k, (int)finish);
	if (rc || finish)
		return rc;
	/* Keep the DRM file open in a child: the display stays as it is
	 * until the child ends (or the guest powers off), while the caller
	 * goes on. _exit in the parent: no library destructors that could
	 * tear down what the scanout uses. */
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return fail("fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	setsid();
	if (hold > 0)
		sleep((unsigned)hold);
	else
		for (;;)
			pause();
	_exit(0);
}
