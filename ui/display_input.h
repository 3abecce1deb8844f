/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a window's keyboard and pointer become for the guest: SDL
 * scancodes (USB HID usages, and SDL's own codes for media keys) to Linux
 * evdev key codes, and window positions, buttons and wheel turns to the
 * virtio-input tablet's updates. Pure functions: no SDL call, no state;
 * display_sdl.c feeds them SDL's events.
 */
#ifndef PHY_UI_DISPLAY_INPUT_H
#define PHY_UI_DISPLAY_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/virtio/virtio_input.h"

/* The longest update an encoder writes (with its SYN_REPORT). */
#define DISPLAY_EV_MAX 4

/* The KEY_* an SDL scancode stands for on a PC keyboard; 0 for none
 * (also for values outside SDL's range). Every code returned is one the
 * virtio-input keyboard offers (1..VIRTIO_INPUT_KEY_MAX). */
unsigned display_keycode(int sdl_scancode);

/* Where the guest's image (img_w x img_h pixels) is drawn in the window:
 * scaled to fit, aspect ratio kept, centred (letterboxed). */
struct display_view {
	int x, y, w, h; /* the image's rectangle, in window coordinates */
	unsigned img_w, img_h;
};
struct display_view display_fit(int win_w, int win_h, unsigned img_w,
				unsigned img_h);

/*
 * The tablet coordinate (0..VIRTIO_INPUT_ABS_MAX) of window position pos
 * along one axis of the view (origin, extent in window coordinates,
 * n image pixels): positions outside the image are clamped to its edge.
 * A guest that maps abs to pixel abs * n / (VIRTIO_INPUT_ABS_MAX + 1)
 * (libinput, X's evdev driver) lands on the image pixel under pos.
 */
int32_t display_abs(int pos, int origin, int extent, unsigned n);

/*
 * Updates, each ending in EV_SYN/SYN_REPORT, written to out (room for
 * DISPLAY_EV_MAX events); each returns how many events it wrote, 0 when
 * there is nothing to send.
 */
size_t display_encode_key(struct virtio_input_event *out, unsigned key,
			  bool down);
/* The pointer at window position (x, y). */
size_t display_encode_motion(struct virtio_input_event *out,
			     const struct display_view *v, int x, int y);
/* SDL button (SDL_BUTTON_LEFT..SDL_BUTTON_X2) pressed or released at
 * (x, y); 0 for other buttons. */
size_t display_encode_button(struct virtio_input_event *out,
			     const struct display_view *v, int x, int y,
			     unsigned sdl_button, bool down);
/* Wheel clicks: dy > 0 away from the user (up), dx > 0 to the right, as
 * SDL reports them with SDL_MOUSEWHEEL_NORMAL. */
size_t display_encode_wheel(struct virtio_input_event *out, int dx, int dy);

#endif
