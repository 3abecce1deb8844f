/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SDL window for real, on a virtual X server (Xvfb) started here: a
 * 2D virtio-gpu (driven by the simulated driver) shows a known pattern
 * on scanout 0; an X screenshot (xwd) of the window must show it pixel
 * for pixel, also after the guest changes resolution (the window follows)
 * and turns black when no GPU is attached. Keys typed with xdotool reach
 * the virtio-input keyboard (through the simulated driver) as the evdev
 * codes of the keys pressed, for the keys of a whole PC keyboard; keys
 * held when the window loses the focus are released; pointer motion,
 * buttons and the wheel reach the tablet at the right guest pixel; the
 * guest's cursor becomes the X cursor (XFixes). Closing the window as a
 * window manager does (WM_DELETE_WINDOW) calls the close callback. Then
 * one display per process, and a clear error without an X server.
 *
 * Skips (exit 77) only when Xvfb is not installed; xdotool and xwd are
 * required then (tools/install-deps installs all three).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/Xfixes.h>
#include <linux/input-event-codes.h>

#include "check.h"
#include "devices/gpu/png.h"
#include "gpu_driver.h"
#include "input_driver.h"
#include "ui/display_sdl.h"
#include "common/io_loop.h"

#define W1 320 /* the first mode */
#define H1 200
#define W2 200 /* the second */
#define H2 150
#define BGRX VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM
#define OK VIRTIO_GPU_RESP_OK_NODATA
#define TIMEOUT_MS 10000

/* ---- the X server and the tools ---- */

static pid_t xvfb_pid = -1;

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool in_path(const char *prog)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

/* Whether display n looks taken: its lock file, or its socket (also an
 * abstract one, which another sandbox's server on this network
 * namespace may hold while our /tmp shows nothing). */
static bool display_taken(int n)
{
	char path[64], want[64], line[512];
	snprintf(path, sizeof(path), "/tmp/.X%d-lock", n);
	if (access(path, F_OK) == 0)
		return true;
	snprintf(want, sizeof(want), "/tmp/.X11-unix/X%d\n", n);
	FILE *f = fopen("/proc/net/unix", "r");
	bool taken = false;
	while (f && !taken && fgets(line, sizeof(line), f)) {
		size_t len = strlen(line), wl = strlen(want);
		taken = len >= wl && strcmp(line + len - wl, want) == 0;
	}
	if (f)
		fclose(f);
	return taken;
}

/* Starts Xvfb on display n; 0 once it accepts clients. */
static int xvfb_try(int n)
{
	int fds[2];
	if (pipe(fds))
		return -1;
	xvfb_pid = fork();
	if (xvfb_pid < 0)
		return -1;
	if (xvfb_pid == 0) {
		char fd[16], display[16];
		snprintf(fd, sizeof(fd), "%d", fds[1]);
		snprintf(display, sizeof(display), ":%d", n);
		close(fds[0]);
		prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the test */
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execlp("Xvfb", "Xvfb", display, "-displayfd", fd, "-screen", "0",
		       "1024x768x24", "-nolisten", "tcp", "-noreset", NULL);
		_exit(127);
	}
	close(fds[1]);
	/* Xvfb writes its display number once it accepts clients, then a
	 * newline in a second write: closing the pipe before that one
	 * would kill it (a failed write there is fatal to Xvfb). */
	char num[16] = {0};
	size_t got = 0;
	long end = now_ms() + TIMEOUT_MS;
	while (got < sizeof(num) - 1 && !strchr(num, '\n') && now_ms() < end) {
		struct pollfd p = {fds[0], POLLIN, 0};
		ssize_t k = poll(&p, 1, 1000) == 1
				    ? read(fds[0], num + got, sizeof(num) - 1 - got)
				    : 0;
		if (k < 0 || (k == 0 && (p.revents & POLLHUP)))
			break;
		got += (size_t)(k > 0 ? k : 0);
	}
	close(fds[0]);
	if (!strchr(num, '\n') || atoi(num) != n) {
		kill(xvfb_pid, SIGTERM);
		waitpid(xvfb_pid, NULL, 0);
		xvfb_pid = -1;
		return -1;
	}
	return 0;
}

/* Starts Xvfb on a free display and points DISPLAY at it. */
static int xvfb_start(void)
{
	int n = 100 + (int)(getpid() % 800), tries = 0;
	for (; tries < 5; n++) {
		if (display_taken(n))
			continue;
		tries++;
		if (xvfb_try(n) == 0)
			break;
	}
	if (tries == 5)
		return -1;
	char display[32];
	snprintf(display, sizeof(display), ":%d", n);
	setenv("DISPLAY", display, 1);
	unsetenv("WAYLAND_DISPLAY"); /* SDL must use this X server */
	unsetenv("SDL_VIDEODRIVER");
	printf("Xvfb on %s\n", display);
	return 0;
}

static void xvfb_stop(void)
{
	if (xvfb_pid > 0) {
		kill(xvfb_pid, SIGTERM);
		waitpid(xvfb_pid, NULL, 0);
	}
}

/* Runs a shell command; its first line of output in out (may be NULL).
 * Returns its exit status. */
static int sh(char *out, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int sh(char *out, size_t n, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	FILE *f = popen(cmd, "r");
	if (!f)
		return -1;
	char line[256] = {0};
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	while (fgetc(f) != EOF) {
	}
	int st = pclose(f);
	if (out) {
		line[strcspn(line, "\n")] = 0;
		snprintf(out, n, "%s", line);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- an X screenshot (xwd's format: big-endian header, then rows) ---- */

struct shot {
	unsigned w, h;
	uint8_t *rgb;
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static unsigned mask_shift(uint32_t mask)
{
	unsigned s = 0;
	while (mask && !(mask & 1)) {
		mask >>= 1;
		s++;
	}
	return s;
}

/* Decodes a ZPixmap dump of 24 or 32 bits a pixel into RGB. */
static int xwd_decode(const uint8_t *buf, size_t len, struct shot *s)
{
	if (len < 100)
		return -1;
	uint32_t hdr = be32(buf), w = be32(buf + 16), h = be32(buf + 20),
		 order = be32(buf + 28), bytes = be32(buf + 44) / 8,
		 stride = be32(buf + 48),
		 rmask = be32(buf + 56), gmask = be32(buf + 60),
		 bmask = be32(buf + 64), ncolors = be32(buf + 76);
	size_t data = (size_t)hdr + (size_t)ncolors * 12;
	if (be32(buf + 4) != 7 || be32(buf + 8) != 2 ||
	    (bytes != 3 && bytes != 4) || stride < bytes * w ||
	    data + (size_t)stride * h > len)
		return -1;
	s->w = w;
	s->h = h;
	s->rgb = malloc((size_t)w * h * 3);
	if (!s->rgb)
		return -1;
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			const uint8_t *p =
				buf + data + (size_t)y * stride + bytes * x;
			uint32_t px = 0;
			for (uint32_t b = 0; b < bytes; b++)
				px |= (uint32_t)p[order ? b : bytes - 1 - b]
				      << (8 * (bytes - 1 - b));
			uint8_t *o = s->rgb + 3 * ((size_t)y * w + x);
			o[0] = (uint8_t)((px & rmask) >> mask_shift(rmask));
			o[1] = (uint8_t)((px & gmask) >> mask_shift(gmask));
			o[2] = (uint8_t)((px & bmask) >> mask_shift(bmask));
		}
	return 0;
}

/* The whole X screen, as xwd sees it. */
static int screenshot(struct shot *s)
{
	char path[64];
	snprintf(path, sizeof(path), "/tmp/phy-display-%d.xwd", (int)getpid());
	int r = sh(NULL, 0, "xwd -root -silent -out %s", path);
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(8u << 20);
	size_t len = f && buf ? fread(buf, 1, 8u << 20, f) : 0;
	if (f)
		fclose(f);
	unlink(path);
	if (r || !len) {
		fprintf(stderr, "xwd failed (status %d, %zu bytes)\n", r, len);
		r = -1;
	} else if ((r = xwd_decode(buf, len, s))) {
		fprintf(stderr,
			"xwd wrote what this test cannot read: %zu bytes, "
			"header %u, version %u, format %u, bpp %u, %ux%u, "
			"stride %u, colours %u\n",
			len, be32(buf), be32(buf + 4), be32(buf + 8),
			be32(buf + 44), be32(buf + 16), be32(buf + 20),
			be32(buf + 48), be32(buf + 76));
	}
	free(buf);
	return r;
}

/* Copies the w x h rectangle at (x, y) of a screenshot. */
static uint8_t *crop(const struct shot *s, int x, int y, unsigned w,
		     unsigned h)
{
	if (x < 0 || y < 0 || x + w > s->w || y + h > s->h)
		return NULL;
	uint8_t *out = malloc((size_t)w * h * 3);
	for (unsigned row = 0; out && row < h; row++)
		memcpy(out + (size_t)row * w * 3,
		       s->rgb + 3 * ((size_t)(y + row) * s->w + x),
		       (size_t)w * 3);
	return out;
}

/* ---- the rig: a GPU, a keyboard, a tablet, the window ---- */

struct rig {
	struct gpu_rig g;
	struct input_rig kbd, tab;
	struct display_sdl *d;
	Display *x;
	char title[64];
	unsigned long win;
	int wx, wy, ww, wh; /* where the window is, from xdotool */
	int closes;	    /* on_close calls */
};

static void on_close(void *opaque)
{
	__atomic_add_fetch(&((struct rig *)opaque)->closes, 1, __ATOMIC_SEQ_CST);
}

/* Runs the input devices' loops (this thread is their loop thread). */
static void pump(struct rig *r)
{
	struct input_rig *in[2] = {&r->kbd, &r->tab};
	for (int i = 0; i < 2; i++)
		if (virtio_input_busy(in[i]->in))
			io_loop_run_once(in[i]->sim->loop, false);
	usleep(2000);
}

static struct display_sdl_stats stats(struct rig *r)
{
	struct display_sdl_stats st;
	display_sdl_stats(r->d, &st);
	return st;
}

/* Waits for the display to show a w x h image. */
static bool wait_size(struct rig *r, unsigned w, unsigned h)
{
	for (long end = now_ms() + TIMEOUT_MS; now_ms() < end; pump(r)) {
		struct display_sdl_stats st = stats(r);
		if (st.width == w && st.height == h && st.frames)
			return true;
	}
	return false;
}

/* Where the window is and how big, once it is w x h. */
static bool window_at(struct rig *r, int w, int h)
{
	for (long end = now_ms() + TIMEOUT_MS; now_ms() < end; usleep(20000)) {
		char line[256];
		/* One line: "X Y WIDTH HEIGHT". */
		if (sh(line, sizeof(line),
		       "eval $(xdotool getwindowgeometry --shell %lu) && "
		       "echo $X $Y $WIDTH $HEIGHT",
		       r->win))
			continue;
		if (sscanf(line, "%d %d %d %d", &r->wx, &r->wy, &r->ww,
			   &r->wh) == 4 &&
		    r->ww == w && r->wh == h)
			return true;
	}
	return false;
}

/* With PHY_TEST_DUMP=DIR, a screenshot that did not match is kept
 * there as a PNG, to be looked at. */
static void dump(const struct shot *s, const char *why)
{
	const char *dir = getenv("PHY_TEST_DUMP");
	if (!dir || !*dir)
		return;
	char path[512];
	snprintf(path, sizeof(path), "%s/display-%s.png", dir, why);
	if (png_write_rgb(path, s->rgb, s->w, s->h, NULL) == 0)
		fprintf(stderr, "screenshot kept in %s\n", path);
}

/* Pixels of the window's w x h area that differ from the pattern (or
 * are not black, with black set), the last of a few tries. */
static unsigned window_mismatches(struct rig *r, unsigned w, unsigned h,
				  bool black)
{
	unsigned bad = w * h;
	for (int tries = 0; tries < 25 && bad; tries++, usleep(200000)) {
		struct shot s = {0};
		if (screenshot(&s))
			continue;
		uint8_t *img = crop(&s, r->wx, r->wy, w, h);
		if (img && black) {
			bad = 0;
			for (size_t i = 0; i < (size_t)w * h * 3; i++)
				bad += img[i] != 0;
		} else if (img) {
			bad = gpu_pattern_mismatches(img, w, h, 0, 0);
		}
		if (bad && tries == 24) {
			fprintf(stderr, "window at %d,%d: %u of %u pixels "
				"differ\n", r->wx, r->wy, bad, w * h);
			dump(&s, black ? "black" : "pattern");
		}
		free(img);
		free(s.rgb);
	}
	return bad;
}

/* Resource `id` of w x h with the pattern, shown on scanout 0. */
static bool show_pattern(struct rig *r, uint32_t id, unsigned w, unsigned h)
{
	uint64_t gpa[2];
	uint8_t *buf = malloc((size_t)w * h * 4);
	if (!buf)
		return false;
	gpu_pattern_fill(buf, w, h, 0xff);
	bool ok = gpu_create_2d(&r->g, id, BGRX, w, h) == OK &&
		  gpu_attach(&r->g, id, w * h * 4, 2, gpa) == OK;
	if (ok)
		gpu_backing_write(&r->g, gpa, 2, w * h * 4, buf);
	free(buf);
	return ok && gpu_transfer_2d(&r->g, id, 0, 0, w, h, 0) == OK &&
	       gpu_set_scanout(&r->g, 0, id, 0, 0, w, h) == OK &&
	       gpu_flush(&r->g, id, 0, 0, w, h) == OK;
}

static int rig_open(struct rig *r)
{
	static const struct virtio_gpu_params p = {.mode = VIRTIO_GPU_MODE_2D};
	memset(r, 0, sizeof(*r));
	if (gpu_rig_open(&r->g, &p) || gpu_rig_start(&r->g, ~0ull) ||
	    input_rig_open(&r->kbd, VIRTIO_INPUT_KEYBOARD) ||
	    input_rig_open(&r->tab, VIRTIO_INPUT_TABLET) ||
	    input_rig_start(&r->kbd, ~0ull & r->kbd.dev->host_features, 64) ||
	    input_rig_start(&r->tab, ~0ull & r->tab.dev->host_features, 64))
		return -1;
	input_post(&r->kbd, 64);
	input_post(&r->tab, 64);
	input_run(&r->kbd);
	input_run(&r->tab);
	long end = now_ms() + TIMEOUT_MS;
	while (!(r->x = XOpenDisplay(NULL)) && now_ms() < end)
		usleep(100000);
	if (!r->x) {
		fprintf(stderr, "cannot connect to %s\n", getenv("DISPLAY"));
		return -1;
	}
	return show_pattern(r, 1, W1, H1) ? 0 : -1;
}

static void rig_close(struct rig *r)
{
	display_sdl_destroy(r->d);
	if (r->x)
		XCloseDisplay(r->x);
	input_rig_close(&r->kbd);
	input_rig_close(&r->tab);
	gpu_rig_close(&r->g);
}

static int open_window(struct rig *r)
{
	struct phy_error err = {0};
	snprintf(r->title, sizeof(r->title), "phyllome-test-%d", (int)getpid());
	struct display_sdl_params p = {
		.title = r->title,
		.refresh_hz = 60,
		.on_close = on_close,
		.close_opaque = r,
		.gpu = r->g.gpu,
		.keyboard = r->kbd.in,
		.tablet = r->tab.in,
	};
	if (display_sdl_create(&r->d, &p, &err)) {
		fprintf(stderr, "display_sdl_create: %s\n", err.message);
		return -1;
	}
	char id[64];
	if (sh(id, sizeof(id), "xdotool search --sync --name '^%s$' | head -1",
	       r->title) ||
	    !*id)
		return -1;
	r->win = strtoul(id, NULL, 10);
	return 0;
}

/* Takes what a device delivered (reposting the buffers) until `want`
 * events came or time ran out; returns how many. */
static unsigned collect(struct rig *r, struct input_rig *in,
			struct virtio_input_event *ev, unsigned want)
{
	unsigned got = 0;
	for (long end = now_ms() + TIMEOUT_MS; got < want && now_ms() < end;
	     pump(r)) {
		int n = input_collect(in, ev + got, want - got);
		if (n > 0) {
			got += (unsigned)n;
			input_post(in, (unsigned)n);
			input_run(in);
		}
	}
	return got;
}

/* Takes what a device delivers until nothing more comes for half a
 * second (or max events came); returns how many. */
static unsigned collect_quiet(struct rig *r, struct input_rig *in,
			      struct virtio_input_event *ev, unsigned max)
{
	unsigned got = 0;
	long quiet = now_ms() + 500, end = now_ms() + TIMEOUT_MS;
	for (; got < max && now_ms() < quiet && now_ms() < end; pump(r)) {
		int n = input_collect(in, ev + got, max - got);
		if (n > 0) {
			got += (unsigned)n;
			input_post(in, (unsigned)n);
			input_run(in);
			quiet = now_ms() + 500;
		}
	}
	return got;
}

static bool is(const struct virtio_input_event *e, uint16_t type,
	       uint16_t code, int32_t value)
{
	return ev_type(e) == type && ev_code(e) == code && ev_value(e) == value;
}

/* ---- the tests ---- */

static void test_picture(struct rig *r)
{
	REQUIRE(wait_size(r, W1, H1));
	REQUIRE(window_at(r, W1, H1));
	CHECK_EQ_U64(window_mismatches(r, W1, H1, false), 0);
	printf("picture: %dx%d window at %d,%d matches the scanout (SDL "
	       "renderer %s)\n",
	       r->ww, r->wh, r->wx, r->wy, stats(r).renderer);
}

/* The keys of a PC keyboard (US layout, as Xvfb has it), by X keysym;
 * Xvfb's keycodes are evdev's plus 8. */
static const char *const keysyms[] = {
	"Escape", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "F10",
	"F11", "F12", "Print", "Scroll_Lock", "Pause", "grave", "1", "2", "3",
	"4", "5", "6", "7", "8", "9", "0", "minus", "equal", "BackSpace",
	"Tab", "q", "w", "e", "r", "t", "y", "u", "i", "o", "p",
	"bracketleft", "bracketright", "backslash", "a", "s", "d", "f", "g",
	"h", "j", "k", "l", "semicolon", "apostrophe", "Return", "Shift_L",
	"z", "x", "c", "v", "b", "n", "m", "comma", "period", "slash",
	"Shift_R", "Control_L", "Super_L", "Alt_L", "space", "Super_R",
	"Menu", "Control_R", "Insert", "Home", "Prior", "Delete", "End",
	"Next", "Up", "Left", "Down", "Right", "KP_Divide", "KP_Multiply",
	"KP_Subtract", "KP_Add", "KP_Enter", "KP_Home", "KP_Up", "KP_Prior",
	"KP_Left", "KP_Begin", "KP_Right", "KP_End", "KP_Down", "KP_Next",
	"KP_Insert", "KP_Delete", "XF86AudioMute", "XF86AudioLowerVolume",
	"XF86AudioRaiseVolume", "XF86AudioPlay", "XF86AudioNext",
	"XF86AudioPrev", "XF86Calculator", "XF86Mail", "XF86Back",
	"XF86Forward",
};
#define NR_KEYSYMS (sizeof(keysyms) / sizeof(keysyms[0]))
#define N_EV (8 * NR_KEYSYMS)

static void test_keys(struct rig *r)
{
	struct virtio_input_event ev[N_EV];

	REQUIRE(sh(NULL, 0, "xdotool windowfocus --sync %lu", r->win) == 0);
	REQUIRE(sh(NULL, 0, "xdotool key a") == 0);
	REQUIRE(collect(r, &r->kbd, ev, 4) == 4);
	CHECK(is(&ev[0], EV_KEY, KEY_A, 1) && is(&ev[1], EV_SYN, SYN_REPORT, 0));
	CHECK(is(&ev[2], EV_KEY, KEY_A, 0) && is(&ev[3], EV_SYN, SYN_REPORT, 0));

	/* The whole keyboard in one go. xdotool types a right-hand
	 * modifier with its left-hand twin held (its modifier map): those
	 * extra presses may come too, nothing else. */
	char cmd[4096] = "xdotool key --delay 8";
	unsigned expect[NR_KEYSYMS];
	for (size_t i = 0; i < NR_KEYSYMS; i++) {
		KeyCode kc = XKeysymToKeycode(r->x, XStringToKeysym(keysyms[i]));
		if (kc < 9)
			fprintf(stderr, "no X keycode for %s\n", keysyms[i]);
		CHECK(kc >= 9);
		expect[i] = kc - 8u;
		strcat(cmd, " ");
		strcat(cmd, keysyms[i]);
	}
	REQUIRE(sh(NULL, 0, "%s", cmd) == 0);
	unsigned got = collect_quiet(r, &r->kbd, ev, N_EV);
	unsigned next = 0, extra = 0, unsynced = 0;
	int held = 0;
	for (unsigned i = 0; i < got; i++) {
		if (ev_type(&ev[i]) != EV_KEY)
			continue;
		unsigned code = ev_code(&ev[i]);
		unsynced += i + 1 == got || !is(&ev[i + 1], EV_SYN, SYN_REPORT, 0);
		held += ev_value(&ev[i]) ? 1 : -1;
		if (!ev_value(&ev[i]))
			continue;
		if (next < NR_KEYSYMS && code == expect[next])
			next++;
		else if (code == KEY_LEFTSHIFT || code == KEY_LEFTCTRL ||
			 code == KEY_LEFTMETA || code == KEY_LEFTALT)
			extra++;
		else
			fprintf(stderr, "key %u arrived, %s (KEY %u) expected\n",
				code, next < NR_KEYSYMS ? keysyms[next] : "none",
				next < NR_KEYSYMS ? expect[next] : 0);
	}
	CHECK_EQ_U64(next, NR_KEYSYMS);
	CHECK(extra <= 4);
	CHECK_EQ_U64(unsynced, 0);
	CHECK_EQ_U64(held, 0); /* every press released */
	printf("keys: %u of %zu typed keys arrived as their evdev codes, in "
	       "order\n",
	       next, NR_KEYSYMS);

	/* A key held while the window loses the focus is let go. */
	REQUIRE(sh(NULL, 0, "xdotool keydown Shift_L") == 0);
	REQUIRE(collect(r, &r->kbd, ev, 2) == 2);
	CHECK(is(&ev[0], EV_KEY, KEY_LEFTSHIFT, 1));
	XSetInputFocus(r->x, PointerRoot, RevertToPointerRoot, CurrentTime);
	XSync(r->x, False);
	REQUIRE(collect(r, &r->kbd, ev, 2) == 2);
	CHECK(is(&ev[0], EV_KEY, KEY_LEFTSHIFT, 0));
	sh(NULL, 0, "xdotool keyup Shift_L");
	REQUIRE(sh(NULL, 0, "xdotool windowfocus --sync %lu", r->win) == 0);
	/* Nothing else arrived: the release outside the window is not
	 * sent a second time. */
	CHECK_EQ_U64(collect(r, &r->kbd, ev, 1), 0);
}

/* The last update's position, in guest pixels of a w x h image. */
static bool last_position(const struct virtio_input_event *ev, unsigned n,
			  unsigned w, unsigned h, unsigned *x, unsigned *y)
{
	bool seen = false;
	for (unsigned i = 0; i + 1 < n; i++)
		if (is(&ev[i], EV_ABS, ABS_X, ev_value(&ev[i])) &&
		    ev_code(&ev[i + 1]) == ABS_Y) {
			*x = (unsigned)((uint64_t)ev_value(&ev[i]) * w / 32768);
			*y = (unsigned)((uint64_t)ev_value(&ev[i + 1]) * h / 32768);
			seen = true;
		}
	return seen;
}

/* Events until one matching (type, code, value) arrived; its index+1. */
static unsigned collect_until(struct rig *r, struct virtio_input_event *ev,
			      unsigned max, uint16_t type, uint16_t code,
			      int32_t value)
{
	for (unsigned n = 0; n < max;) {
		if (collect(r, &r->tab, ev + n, 1) != 1)
			return 0;
		if (is(&ev[n++], type, code, value))
			return n;
	}
	return 0;
}

static void test_pointer(struct rig *r)
{
	struct virtio_input_event ev[256];
	unsigned x = 0, y = 0, n;

	REQUIRE(sh(NULL, 0, "xdotool mousemove --sync --window %lu 100 50",
		   r->win) == 0);
	/* Motion may come in steps: wait for the one at (100, 50). */
	bool there = false;
	for (n = 0; !there && n + 3 <= 240;) {
		unsigned k = collect(r, &r->tab, ev + n, 3);
		if (k < 3)
			break;
		n += k;
		there = last_position(ev, n, W1, H1, &x, &y) && x == 100 &&
			y == 50;
	}
	CHECK(there);
	CHECK(is(&ev[n - 1], EV_SYN, SYN_REPORT, 0));

	static const struct {
		int xbutton;
		uint16_t code;
	} buttons[] = {{1, BTN_LEFT}, {2, BTN_MIDDLE}, {3, BTN_RIGHT}};
	for (size_t i = 0; i < 3; i++) {
		REQUIRE(sh(NULL, 0, "xdotool click %d", buttons[i].xbutton) == 0);
		n = collect_until(r, ev, 64, EV_KEY, buttons[i].code, 0);
		CHECK(n >= 7);
		if (n < 7)
			continue;
		/* ABS_X, ABS_Y, BTN 1, SYN, ABS_X, ABS_Y, BTN 0, (SYN). */
		CHECK(is(&ev[n - 5], EV_KEY, buttons[i].code, 1));
		CHECK(is(&ev[n - 4], EV_SYN, SYN_REPORT, 0));
		CHECK(last_position(ev, n, W1, H1, &x, &y) && x == 100 &&
		      y == 50);
		CHECK_EQ_U64(collect(r, &r->tab, ev, 1), 1);
		CHECK(is(&ev[0], EV_SYN, SYN_REPORT, 0));
	}
	/* X buttons 4 and 5 are the wheel, 6 and 7 its sideways tilt. */
	static const struct {
		int xbutton;
		uint16_t code;
		int32_t value;
	} wheel[] = {{4, REL_WHEEL, 1},
		     {5, REL_WHEEL, -1},
		     {6, REL_HWHEEL, -1},
		     {7, REL_HWHEEL, 1}};
	for (size_t i = 0; i < 4; i++) {
		REQUIRE(sh(NULL, 0, "xdotool click %d", wheel[i].xbutton) == 0);
		n = collect_until(r, ev, 64, EV_REL, wheel[i].code,
				  wheel[i].value);
		CHECK(n >= 1);
		CHECK_EQ_U64(collect(r, &r->tab, ev, 1), 1);
		CHECK(is(&ev[0], EV_SYN, SYN_REPORT, 0));
	}
	printf("pointer: motion, three buttons and the wheel at guest pixel "
	       "(100, 50)\n");
}

/* The guest's cursor, as the X server shows it over the window. */
static void test_cursor(struct rig *r)
{
	int ev_base, err_base;
	REQUIRE(XFixesQueryExtension(r->x, &ev_base, &err_base));
	uint64_t gpa[1];
	uint8_t *buf = malloc(64 * 64 * 4);
	REQUIRE(buf);
	gpu_pattern_fill(buf, 64, 64, 0xff);
	CHECK_EQ_U64(gpu_create_2d(&r->g, 9, VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM,
				   64, 64),
		     OK);
	CHECK_EQ_U64(gpu_attach(&r->g, 9, 64 * 64 * 4, 1, gpa), OK);
	gpu_backing_write(&r->g, gpa, 1, 64 * 64 * 4, buf);
	free(buf);
	CHECK_EQ_U64(gpu_transfer_2d(&r->g, 9, 0, 0, 64, 64, 0), OK);
	struct virtio_gpu_update_cursor u = {
		.hdr = gpu_hdr(VIRTIO_GPU_CMD_UPDATE_CURSOR, 0),
		.resource_id = htole32(9),
		.hot_x = htole32(3),
		.hot_y = htole32(4),
	};
	struct gpu_req req = {&u, sizeof(u), NULL, 0, 0};
	gpu_send(&r->g, 1, &req, NULL, NULL);

	unsigned bad = 64 * 64;
	XFixesCursorImage *ci = NULL;
	for (long end = now_ms() + TIMEOUT_MS; bad && now_ms() < end;
	     usleep(50000)) {
		if (ci)
			XFree(ci);
		ci = XFixesGetCursorImage(r->x);
		if (!ci || ci->width != 64 || ci->height != 64 ||
		    ci->xhot != 3 || ci->yhot != 4)
			continue;
		bad = 0;
		for (unsigned i = 0; i < 64 * 64; i++) {
			uint8_t want[3];
			gpu_pattern_pixel(i % 64, i / 64, want);
			unsigned long p = ci->pixels[i];
			bad += (p >> 24 & 0xff) != 0xff ||
			       (p >> 16 & 0xff) != want[0] ||
			       (p >> 8 & 0xff) != want[1] || (p & 0xff) != want[2];
		}
	}
	CHECK_EQ_U64(bad, 0);
	if (ci)
		XFree(ci);

	/* Hidden by the guest: no pointer over the window. */
	u.resource_id = 0;
	gpu_send(&r->g, 1, &req, NULL, NULL);
	bool hidden = false;
	for (long end = now_ms() + TIMEOUT_MS; !hidden && now_ms() < end;
	     usleep(50000)) {
		ci = XFixesGetCursorImage(r->x);
		hidden = ci != NULL;
		for (unsigned i = 0; ci && i < (unsigned)ci->width * ci->height; i++)
			hidden &= (ci->pixels[i] >> 24) == 0;
		if (ci)
			XFree(ci);
	}
	CHECK(hidden);
	printf("cursor: the guest's 64x64 cursor, then none, over the window\n");
}

static void test_resolution_change(struct rig *r)
{
	REQUIRE(show_pattern(r, 2, W2, H2));
	REQUIRE(wait_size(r, W2, H2));
	REQUIRE(window_at(r, W2, H2));
	CHECK_EQ_U64(window_mismatches(r, W2, H2, false), 0);

	/* The tablet follows the new mode. */
	struct virtio_input_event ev[64];
	REQUIRE(sh(NULL, 0, "xdotool mousemove --sync --window %lu 150 20",
		   r->win) == 0);
	unsigned n = 0, x = 0, y = 0;
	bool there = false;
	while (!there && n + 3 <= 60 && collect(r, &r->tab, ev + n, 3) == 3) {
		n += 3;
		there = last_position(ev, n, W2, H2, &x, &y) && x == 150 &&
			y == 20;
	}
	CHECK(there);

	/* No GPU: a black window. Then the GPU again. */
	display_sdl_attach(r->d, NULL, r->kbd.in, r->tab.in);
	bool gone = false;
	for (long end = now_ms() + TIMEOUT_MS; !gone && now_ms() < end; pump(r))
		gone = stats(r).width == 0;
	CHECK(gone);
	CHECK_EQ_U64(window_mismatches(r, W2, H2, true), 0);
	display_sdl_attach(r->d, r->g.gpu, r->kbd.in, r->tab.in);
	CHECK(wait_size(r, W2, H2));
	CHECK_EQ_U64(window_mismatches(r, W2, H2, false), 0);
	printf("resolution: the window became %dx%d with the scanout, black "
	       "without a GPU\n",
	       r->ww, r->wh);
}

/* What a window manager sends when its close button is pressed. */
static void test_close(struct rig *r)
{
	XEvent e = {0};
	e.xclient.type = ClientMessage;
	e.xclient.window = r->win;
	e.xclient.message_type = XInternAtom(r->x, "WM_PROTOCOLS", False);
	e.xclient.format = 32;
	e.xclient.data.l[0] = (long)XInternAtom(r->x, "WM_DELETE_WINDOW", False);
	e.xclient.data.l[1] = CurrentTime;
	REQUIRE(XSendEvent(r->x, r->win, False, NoEventMask, &e));
	XFlush(r->x);
	for (long end = now_ms() + TIMEOUT_MS;
	     !__atomic_load_n(&r->closes, __ATOMIC_SEQ_CST) && now_ms() < end;)
		pump(r);
	CHECK_EQ_U64(__atomic_load_n(&r->closes, __ATOMIC_SEQ_CST), 1);
	CHECK_EQ_U64(stats(r).closes, 1);
	/* The window stays until the VMM destroys the display. */
	char id[64];
	CHECK(sh(id, sizeof(id), "xdotool search --name '^%s$' | head -1",
		 r->title) == 0 &&
	      strtoul(id, NULL, 10) == r->win);
	display_sdl_destroy(r->d);
	r->d = NULL;
	CHECK(sh(id, sizeof(id), "xdotool search --name '^%s$' | head -1",
		 r->title) != 0 ||
	      !*id);
	printf("close: the callback ran once; the window went with "
	       "display_sdl_destroy()\n");
}

static void test_window(void)
{
	struct rig r;
	REQUIRE(rig_open(&r) == 0);
	if (open_window(&r) == 0) {
		test_picture(&r);
		test_keys(&r);
		test_pointer(&r);
		test_cursor(&r);
		test_resolution_change(&r);
		test_close(&r);
	} else {
		CHECK(!"the window opened");
	}
	struct virtio_input_stats st;
	virtio_input_stats(r.kbd.in, &st);
	CHECK_EQ_U64(st.dropped, 0);
	rig_close(&r);
}

/* One display per process; another after it is gone; none without an X
 * server, with SDL's reason. */
static void test_singleton(void)
{
	struct display_sdl_params p = {.title = "phyllome-second"};
	struct display_sdl *a = NULL, *b = NULL;
	struct phy_error err = {0};

	REQUIRE(display_sdl_create(&a, &p, &err) == 0);
	CHECK_EQ_U64(display_sdl_create(&b, &p, &err), -PHY_E_STATE);
	CHECK_STR_CONTAINS(err.message, "SDL allows one");
	p.refresh_hz = DISPLAY_SDL_MAX_HZ + 1;
	CHECK_EQ_U64(display_sdl_create(&b, &p, &err), -PHY_E_INVALID);
	p.refresh_hz = 0;
	/* A black window with no devices at all draws and stays up. */
	struct display_sdl_stats st;
	long end = now_ms() + TIMEOUT_MS;
	do {
		usleep(10000);
		display_sdl_stats(a, &st);
	} while (!st.frames && now_ms() < end);
	CHECK(st.frames >= 1);
	CHECK_EQ_U64(st.width, 0);
	display_sdl_destroy(a);

	/* SDL starts again in the same process. */
	REQUIRE(display_sdl_create(&a, &p, &err) == 0);
	display_sdl_destroy(a);

	char *display = strdup(getenv("DISPLAY"));
	unsetenv("DISPLAY");
	CHECK_EQ_U64(display_sdl_create(&a, &p, &err), -PHY_E_IO);
	CHECK_STR_CONTAINS(err.message, "no window system");
	setenv("DISPLAY", display, 1);
	free(display);
	/* The failure left nothing taken. */
	REQUIRE(display_sdl_create(&a, &p, &err) == 0);
	display_sdl_destroy(a);
	display_sdl_destroy(NULL);
	printf("singleton: one display at a time; \"%s\" without X\n",
	       err.message);
}

int main(void)
{
	if (!in_path("Xvfb")) {
		printf("SKIP: Xvfb is not installed (tools/install-deps)\n");
		return 77;
	}
	/* Installed with Xvfb by tools/install-deps: their absence fails. */
	if (!in_path("xdotool") || !in_path("xwd")) {
		fprintf(stderr, "xdotool and xwd are needed (tools/install-deps)\n");
		return 1;
	}
	if (xvfb_start()) {
		fprintf(stderr, "Xvfb did not start\n");
		xvfb_stop();
		return 1;
	}
	test_window();
	test_singleton();
	xvfb_stop();
	return check_report("test_display_sdl");
}
