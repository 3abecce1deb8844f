// SPDX-License-Identifier: Apache-2.0
/*
 * The SDL window: the display thread's start-up and shut-down, its loop
 * (SDL's events, and a scanout read every period), drawing, the guest's
 * cursor, and the input path to the virtio-input devices. What a key,
 * a button or a position becomes is in display_input.c.
 */
#define _GNU_SOURCE
#include "ui/display_sdl.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL.h>

#include "common/error.h"
#include "common/sandbox.h"
#include "common/thread.h"
#include "devices/virtio/virtio_gpu.h"
#include "devices/virtio/virtio_input.h"
#include "ui/display_input.h"

#define CURSOR_SIZE 64
#define INITIAL_W 640
#define INITIAL_H 480

/* The one SDL display a process may have (SDL is a singleton). */
static atomic_bool sdl_taken;

struct display_sdl {
	enum sandbox_mode sandbox;
	/* Fixed from create on. */
	char title[128];
	unsigned period_ms;
	bool driver_chosen; /* SDL_VIDEODRIVER is set: SDL's choice is the user's */
	display_close_fn on_close;
	void *close_opaque;
	pthread_t thread;

	/* The devices; the display thread holds dev_lock while it uses
	 * them, so display_sdl_attach() can wait for it. */
	pthread_mutex_t dev_lock;
	struct virtio_gpu *gpu;
	struct virtio_input *keyboard, *tablet;

	/* Start-up, shut-down and the counters, under lock. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool started;
	int start_code; /* -PHY_E_*: the window could not be opened */
	char start_msg[PHY_ERROR_MESSAGE_MAX];
	bool quitting; /* SDL_Quit() is next: no more SDL_PushEvent() */
	struct display_sdl_stats st;
	atomic_bool stop;
	uint32_t wake_event; /* pushed by display_sdl_destroy() */

	/* The display thread's own. */
	SDL_LogOutputFunction old_log; /* put back when SDL is done */
	void *old_log_opaque;
	SDL_Window *win;
	SDL_Renderer *ren;
	SDL_Texture *tex;
	unsigned tex_w, tex_h;
	uint8_t *shown; /* the image in tex, tex_w * tex_h * 3 bytes */
	bool dirty;	/* the window needs drawing */
	SDL_Cursor *cursor;
	bool cursor_hidden;
	struct virtio_gpu_cursor guest_cursor; /* as read last */
	struct virtio_gpu_cursor cursor_shown; /* what `cursor` is made of */
	uint8_t held[VIRTIO_INPUT_KEY_MAX / 8 + 1]; /* keys down, by KEY_* */
};

/* ---- the devices ---- */

static void send(struct display_sdl *d, bool tablet,
		 const struct virtio_input_event *ev, size_t n)
{
	if (n == 0)
		return;
	pthread_mutex_lock(&d->dev_lock);
	struct virtio_input *in = tablet ? d->tablet : d->keyboard;
	if (in)
		virtio_input_send(in, ev, n);
	pthread_mutex_unlock(&d->dev_lock);
	pthread_mutex_lock(&d->lock);
	if (in)
		d->st.events += n;
	pthread_mutex_unlock(&d->lock);
}

/* Reads the scanout and the cursor; 0 when there is an image. */
static int read_gpu(struct display_sdl *d, struct virtio_gpu_image *img,
		    bool *have_cursor)
{
	int r = -PHY_E_INVALID;
	pthread_mutex_lock(&d->dev_lock);
	if (d->gpu) {
		r = virtio_gpu_read_scanout(d->gpu, 0, img, NULL);
		*have_cursor = virtio_gpu_read_cursor(d->gpu, &d->guest_cursor,
						      NULL) == 0;
	}
	pthread_mutex_unlock(&d->dev_lock);
	return r;
}

/* ---- drawing ---- */

static struct display_view current_view(struct display_sdl *d)
{
	int w = 0, h = 0;
	SDL_GetWindowSize(d->win, &w, &h);
	return display_fit(w, h, d->tex_w, d->tex_h);
}

static void draw(struct display_sdl *d)
{
	SDL_SetRenderDrawColor(d->ren, 0, 0, 0, 255);
	SDL_RenderClear(d->ren);
	if (d->tex) {
		struct display_view v = current_view(d);
		SDL_Rect dst = {v.x, v.y, v.w, v.h};
		SDL_RenderCopy(d->ren, d->tex, NULL, &dst);
	}
	SDL_RenderPresent(d->ren);
	d->dirty = false;
	pthread_mutex_lock(&d->lock);
	d->st.frames++;
	pthread_mutex_unlock(&d->lock);
}

static void forget_image(struct display_sdl *d)
{
	if (d->tex)
		SDL_DestroyTexture(d->tex);
	d->tex = NULL;
	d->tex_w = d->tex_h = 0;
	free(d->shown);
	d->shown = NULL;
}

static void set_size_stat(struct display_sdl *d)
{
	pthread_mutex_lock(&d->lock);
	d->st.width = d->tex_w;
	d->st.height = d->tex_h;
	pthread_mutex_unlock(&d->lock);
}

/* A texture for a scanout of w x h, and the window resized to it. */
static int new_texture(struct display_sdl *d, unsigned w, unsigned h)
{
	forget_image(d);
	d->tex = SDL_CreateTexture(d->ren, SDL_PIXELFORMAT_RGB24,
				   SDL_TEXTUREACCESS_STREAMING, (int)w, (int)h);
	if (!d->tex)
		return -1;
	d->tex_w = w;
	d->tex_h = h;
	SDL_SetWindowSize(d->win, (int)w, (int)h);
	set_size_stat(d);
	return 0;
}

/* Takes img->rgb when it shows something new. */
static void show_image(struct display_sdl *d, struct virtio_gpu_image *img)
{
	size_t n = (size_t)img->width * img->height * 3;
	if (img->width != d->tex_w || img->height != d->tex_h) {
		if (new_texture(d, img->width, img->height))
			return;
	} else if (d->shown && memcmp(d->shown, img->rgb, n) == 0) {
		return;
	}
	SDL_UpdateTexture(d->tex, NULL, img->rgb, (int)img->width * 3);
	free(d->shown);
	d->shown = img->rgb;
	img->rgb = NULL;
	d->dirty = true;
}

static void show_nothing(struct display_sdl *d)
{
	if (!d->tex)
		return;
	forget_image(d);
	set_size_stat(d);
	d->dirty = true;
}

/* The guest's cursor becomes the host's pointer over the window (with
 * an absolute tablet the two move together). Until the guest defines
 * one, the host's own arrow stays. */
static void update_cursor(struct display_sdl *d)
{
	struct virtio_gpu_cursor *c = &d->guest_cursor;
	bool show = c->visible && c->scanout == 0;

	if (!show) {
		if (d->cursor && !d->cursor_hidden)
			SDL_ShowCursor(SDL_DISABLE);
		d->cursor_hidden = d->cursor != NULL;
		return;
	}
	if (!d->cursor || c->hot_x != d->cursor_shown.hot_x ||
	    c->hot_y != d->cursor_shown.hot_y ||
	    memcmp(c->rgba, d->cursor_shown.rgba, sizeof(c->rgba))) {
		SDL_Surface *s = SDL_CreateRGBSurfaceWithFormatFrom(
			c->rgba, CURSOR_SIZE, CURSOR_SIZE, 32, CURSOR_SIZE * 4,
			SDL_PIXELFORMAT_RGBA32);
		SDL_Cursor *cur =
			s ? SDL_CreateColorCursor(
				    s, c->hot_x < CURSOR_SIZE ? (int)c->hot_x : 0,
				    c->hot_y < CURSOR_SIZE ? (int)c->hot_y : 0)
			  : NULL;
		if (s)
			SDL_FreeSurface(s);
		if (!cur)
			return;
		SDL_SetCursor(cur);
		if (d->cursor)
			SDL_FreeCursor(d->cursor);
		d->cursor = cur;
		d->cursor_shown = *c;
	}
	if (d->cursor_hidden)
		SDL_ShowCursor(SDL_ENABLE);
	d->cursor_hidden = false;
}

/* One period: what the scanout shows now, drawn if it changed. */
static void refresh(struct display_sdl *d)
{
	struct virtio_gpu_image img = {0};
	bool have_cursor = false;

	if (read_gpu(d, &img, &have_cursor) == 0) {
		pthread_mutex_lock(&d->lock);
		d->st.reads++;
		pthread_mutex_unlock(&d->lock);
		show_image(d, &img);
	} else {
		show_nothing(d);
	}
	free(img.rgb);
	if (have_cursor)
		update_cursor(d);
	if (d->dirty)
		draw(d);
}

/* ---- input ---- */

static bool key_held(const struct display_sdl *d, unsigned key)
{
	return d->held[key / 8] >> (key % 8) & 1;
}

static void key_event(struct display_sdl *d, const SDL_KeyboardEvent *k)
{
	unsigned key = display_keycode(k->keysym.scancode);
	bool down = k->state == SDL_PRESSED;
	struct virtio_input_event ev[DISPLAY_EV_MAX];

	/* The guest repeats keys itself (EV_REP). */
	if (!key || k->repeat || down == key_held(d, key))
		return;
	d->held[key / 8] ^= (uint8_t)(1u << (key % 8));
	send(d, false, ev, display_encode_key(ev, key, down));
}

/* Keys held when the window loses the focus would never see their
 * release: let them go now. */
static void release_keys(struct display_sdl *d)
{
	struct virtio_input_event ev[DISPLAY_EV_MAX];
	for (unsigned key = 1; key <= VIRTIO_INPUT_KEY_MAX; key++)
		if (key_held(d, key)) {
			d->held[key / 8] ^= (uint8_t)(1u << (key % 8));
			send(d, false, ev, display_encode_key(ev, key, false));
		}
}

static void window_event(struct display_sdl *d, const SDL_WindowEvent *w)
{
	switch (w->event) {
	case SDL_WINDOWEVENT_CLOSE:
		pthread_mutex_lock(&d->lock);
		d->st.closes++;
		pthread_mutex_unlock(&d->lock);
		if (d->on_close)
			d->on_close(d->close_opaque);
		break;
	case SDL_WINDOWEVENT_FOCUS_LOST:
		release_keys(d);
		break;
	case SDL_WINDOWEVENT_EXPOSED:
	case SDL_WINDOWEVENT_SIZE_CHANGED:
		d->dirty = true;
		break;
	}
}

static void handle(struct display_sdl *d, const SDL_Event *e)
{
	struct virtio_input_event ev[DISPLAY_EV_MAX];
	struct display_view v;

	switch (e->type) {
	case SDL_KEYDOWN:
	case SDL_KEYUP:
		key_event(d, &e->key);
		break;
	case SDL_MOUSEMOTION:
		v = current_view(d);
		send(d, true, ev,
		     display_encode_motion(ev, &v, e->motion.x, e->motion.y));
		break;
	case SDL_MOUSEBUTTONDOWN:
	case SDL_MOUSEBUTTONUP:
		v = current_view(d);
		send(d, true, ev,
		     display_encode_button(ev, &v, e->button.x, e->button.y,
					   e->button.button,
					   e->button.state == SDL_PRESSED));
		break;
	case SDL_MOUSEWHEEL: {
		int s = e->wheel.direction == SDL_MOUSEWHEEL_FLIPPED ? -1 : 1;
		send(d, true, ev,
		     display_encode_wheel(ev, s * e->wheel.x, s * e->wheel.y));
		break;
	}
	case SDL_WINDOWEVENT:
		window_event(d, &e->window);
		break;
	}
}

/* ---- the thread ---- */

static void drop_log(void *opaque, int category, SDL_LogPriority priority,
		     const char *message)
{
}

static int sdl_open(struct display_sdl *d)
{
	SDL_LogGetOutputFunction(&d->old_log, &d->old_log_opaque);
	SDL_LogSetOutputFunction(drop_log, NULL);
	SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
	SDL_SetHint(SDL_HINT_VIDEO_ALLOW_SCREENSAVER, "1");
	SDL_SetHint(SDL_HINT_VIDEO_X11_NET_WM_BYPASS_COMPOSITOR, "0");
	SDL_SetHint(SDL_HINT_MOUSE_FOCUS_CLICKTHROUGH, "1");
	if (SDL_Init(SDL_INIT_VIDEO))
		return -1;
	/* Without a window system SDL may pick a driver that shows
	 * nothing (offscreen, a bare framebuffer): only a driver the user
	 * asked for, or X11 or Wayland. */
	const char *drv = SDL_GetCurrentVideoDriver();
	if (!d->driver_chosen && (!drv || (strcmp(drv, "x11") &&
					   strcmp(drv, "wayland")))) {
		SDL_SetError("no window system (SDL found only \"%s\")",
			     drv ? drv : "none");
		return -1;
	}
	d->wake_event = SDL_RegisterEvents(1);
	d->win = SDL_CreateWindow(d->title, SDL_WINDOWPOS_UNDEFINED,
				  SDL_WINDOWPOS_UNDEFINED, INITIAL_W, INITIAL_H,
				  SDL_WINDOW_RESIZABLE);
	if (!d->win || d->wake_event == (uint32_t)-1)
		return -1;
	/* Accelerated if the host can, else SDL's software renderer. */
	d->ren = SDL_CreateRenderer(d->win, -1, 0);
	if (!d->ren)
		return -1;
	SDL_RendererInfo info;
	if (SDL_GetRendererInfo(d->ren, &info) == 0) {
		pthread_mutex_lock(&d->lock);
		snprintf(d->st.renderer, sizeof(d->st.renderer), "%s",
			 info.name);
		pthread_mutex_unlock(&d->lock);
	}
	SDL_StopTextInput(); /* keys only: no input method */
	d->dirty = true;
	return 0;
}

static void sdl_close(struct display_sdl *d)
{
	forget_image(d);
	if (d->cursor)
		SDL_FreeCursor(d->cursor);
	if (d->ren)
		SDL_DestroyRenderer(d->ren);
	if (d->win)
		SDL_DestroyWindow(d->win);
	pthread_mutex_lock(&d->lock);
	d->quitting = true;
	pthread_mutex_unlock(&d->lock);
	SDL_Quit();
	SDL_LogSetOutputFunction(d->old_log, d->old_log_opaque);
}

static void report_start(struct display_sdl *d, int code, const char *why)
{
	pthread_mutex_lock(&d->lock);
	d->started = true;
	d->start_code = code;
	if (why)
		snprintf(d->start_msg, sizeof(d->start_msg),
			 "display: SDL cannot open a window: %s", why);
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

static void run(struct display_sdl *d)
{
	uint32_t next = SDL_GetTicks();
	SDL_Event e;

	while (!atomic_load(&d->stop)) {
		if ((int32_t)(SDL_GetTicks() - next) >= 0) {
			refresh(d);
			next = SDL_GetTicks() + d->period_ms;
		}
		int32_t wait = (int32_t)(next - SDL_GetTicks());
		if (SDL_WaitEventTimeout(&e, wait > 0 ? wait : 0)) {
			do
				handle(d, &e);
			while (SDL_PollEvent(&e));
			if (d->dirty)
				draw(d);
		}
	}
}

static void *display_thread(void *opaque)
{
	struct display_sdl *d = opaque;
	pthread_setname_np(pthread_self(), "phy-window");

	if (sdl_open(d)) {
		char why[PHY_ERROR_MESSAGE_MAX / 2];
		snprintf(why, sizeof(why), "%s", SDL_GetError());
		sdl_close(d);
		report_start(d, -PHY_E_IO, why);
		return NULL;
	}
	report_start(d, 0, NULL);
	sandbox_enter(d->sandbox, SANDBOX_WINDOW);
	run(d);
	sdl_close(d);
	return NULL;
}

/* ---- the API ---- */

static void free_display(struct display_sdl *d)
{
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
	pthread_mutex_destroy(&d->dev_lock);
	free(d);
}

static int start_thread(struct display_sdl *d, struct phy_error *err)
{
	int r = phy_thread_create(&d->thread, display_thread, d);
	if (r)
		return phy_err_errno(err, PHY_E_INTERNAL, r,
				     "display: cannot start its thread");
	pthread_mutex_lock(&d->lock);
	while (!d->started)
		pthread_cond_wait(&d->cond, &d->lock);
	r = d->start_code;
	pthread_mutex_unlock(&d->lock);
	if (r) {
		pthread_join(d->thread, NULL);
		return phy_err(err, -r, "%s", d->start_msg);
	}
	return 0;
}

int display_sdl_create(struct display_sdl **out,
		       const struct display_sdl_params *p,
		       struct phy_error *err)
{
	if (p->refresh_hz > DISPLAY_SDL_MAX_HZ)
		return phy_err(err, PHY_E_INVALID,
			       "display: refresh rate %u Hz is above %u",
			       p->refresh_hz, DISPLAY_SDL_MAX_HZ);
	const char *x11 = getenv("DISPLAY"), *wl = getenv("WAYLAND_DISPLAY"),
		   *drv = getenv("SDL_VIDEODRIVER");
	bool chosen = drv && *drv;
	if (!chosen && !(x11 && *x11) && !(wl && *wl))
		return phy_err(err, PHY_E_IO,
			       "display: no window system to open a window on "
			       "(neither DISPLAY nor WAYLAND_DISPLAY is set)");
	if (atomic_exchange(&sdl_taken, true))
		return phy_err(err, PHY_E_STATE,
			       "display: this process has an SDL display "
			       "already (SDL allows one)");
	struct display_sdl *d = calloc(1, sizeof(*d));
	if (!d) {
		atomic_store(&sdl_taken, false);
		return phy_err(err, PHY_E_NOMEM, "display: out of memory");
	}
	snprintf(d->title, sizeof(d->title), "%s",
		 p->title ? p->title : "phyllome-vmm");
	d->period_ms = 1000 / (p->refresh_hz ? p->refresh_hz
					     : DISPLAY_SDL_DEFAULT_HZ);
	d->driver_chosen = chosen;
	d->on_close = p->on_close;
	d->close_opaque = p->close_opaque;
	d->gpu = p->gpu;
	d->keyboard = p->keyboard;
	d->tablet = p->tablet;
	d->sandbox = p->sandbox;
	pthread_mutex_init(&d->dev_lock, NULL);
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	int r = start_thread(d, err);
	if (r) {
		free_display(d);
		atomic_store(&sdl_taken, false);
		return r;
	}
	*out = d;
	return 0;
}

void display_sdl_attach(struct display_sdl *d, struct virtio_gpu *gpu,
			struct virtio_input *keyboard,
			struct virtio_input *tablet)
{
	pthread_mutex_lock(&d->dev_lock);
	d->gpu = gpu;
	d->keyboard = keyboard;
	d->tablet = tablet;
	pthread_mutex_unlock(&d->dev_lock);
}

void display_sdl_stats(struct display_sdl *d, struct display_sdl_stats *st)
{
	pthread_mutex_lock(&d->lock);
	*st = d->st;
	pthread_mutex_unlock(&d->lock);
}

void display_sdl_destroy(struct display_sdl *d)
{
	if (!d)
		return;
	atomic_store(&d->stop, true);
	/* Wake the thread from SDL_WaitEventTimeout(), unless it is past
	 * its loop already and SDL may be going away. */
	pthread_mutex_lock(&d->lock);
	if (!d->quitting) {
		SDL_Event e = {.type = d->wake_event};
		SDL_PushEvent(&e);
	}
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->thread, NULL);
	free_display(d);
	atomic_store(&sdl_taken, false);
}
