/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --display sdl: an SDL2 window that shows scanout 0 of a virtio-gpu
 * device and feeds the person's keyboard and pointer to virtio-input
 * devices (a keyboard and an absolute tablet).
 *
 * Threads: the display owns one thread, which alone calls SDL (SDL_Init,
 * the window, the renderer, the event queue) from create to destroy. It
 * reads the scanout refresh_hz times a second (virtio_gpu_read_scanout(),
 * served by the GPU thread), redraws when the image changed, resizes the
 * window when the scanout's size does, shows the guest's cursor as the
 * host's pointer, and turns SDL's events into virtio-input updates
 * (virtio_input_send(): any thread). Key repeat is left to the guest
 * (the keyboard offers EV_REP); keys still held when the window loses
 * the focus are released, so none stays stuck in the guest.
 *
 * One display per process: SDL is a process-wide singleton (SDL_Init and
 * SDL_Quit, one event queue, one video driver). A second
 * display_sdl_create() while one exists fails with PHY_E_STATE; after
 * display_sdl_destroy() another may be created. An embedder with a
 * display must not use SDL itself. The library installs no signal
 * handler through SDL (SDL_HINT_NO_SIGNAL_HANDLERS) and prints nothing
 * (SDL's log output is dropped).
 */
#ifndef PHY_UI_DISPLAY_SDL_H
#define PHY_UI_DISPLAY_SDL_H

#include <stdint.h>

#include <phyllome/vmm.h>

#include "common/sandbox.h"

struct display_sdl;
struct virtio_gpu;
struct virtio_input;

/* The person asked to close the window (its close button, or the window
 * manager). Runs on the display thread; the window stays open: the VMM
 * decides (it presses the guest's power button), and may call
 * display_sdl_destroy() later, from another thread. It must not call
 * display_sdl_destroy() or display_sdl_attach() itself. */
typedef void (*display_close_fn)(void *opaque);

#define DISPLAY_SDL_DEFAULT_HZ 30
#define DISPLAY_SDL_MAX_HZ 240

struct display_sdl_params {
	const char *title;	   /* the window's title; NULL: "phyllome-vmm" */
	unsigned refresh_hz;	   /* scanout reads a second; 0: the default */
	display_close_fn on_close; /* NULL: closing does nothing */
	void *close_opaque;
	/* What the window shows and drives; any may be NULL (a black
	 * window, input dropped), and display_sdl_attach() changes them. */
	struct virtio_gpu *gpu; /* scanout 0 is shown */
	struct virtio_input *keyboard;
	struct virtio_input *tablet;
	enum sandbox_mode sandbox; /* the window thread's seccomp filter */
};

/*
 * Opens the window (SDL's video driver picks X11 or Wayland from the
 * environment) and starts the display thread. PHY_E_STATE: another
 * display exists in this process; PHY_E_IO: SDL cannot open a window
 * (no DISPLAY, say), with SDL's reason; PHY_E_INVALID: refresh_hz above
 * DISPLAY_SDL_MAX_HZ.
 */
int display_sdl_create(struct display_sdl **out,
		       const struct display_sdl_params *params,
		       struct phy_error *err);

/*
 * Points the display at other devices (a machine rebuilt on reboot), or
 * at none (NULL). Returns once the display thread no longer uses the old
 * ones, which may then be destroyed. Any thread but the display thread.
 */
void display_sdl_attach(struct display_sdl *d, struct virtio_gpu *gpu,
			struct virtio_input *keyboard,
			struct virtio_input *tablet);

/* What the display thread did so far (tests, diagnostics). */
struct display_sdl_stats {
	uint64_t frames;      /* images drawn (new content, or exposed) */
	uint64_t reads;       /* scanout reads that returned an image */
	uint64_t events;      /* input events sent to the devices */
	uint64_t closes;      /* close requests passed to on_close */
	unsigned width, height; /* the image shown now; 0 x 0: none */
	char renderer[32];	/* SDL's renderer ("opengl", "software") */
};
void display_sdl_stats(struct display_sdl *d, struct display_sdl_stats *st);

/* Closes the window, ends SDL and joins the display thread. NULL is
 * allowed. Not from the display thread (not from on_close). */
void display_sdl_destroy(struct display_sdl *d);

#endif
