/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the SDL window sends the guest (vmm/display_input.c), without a
 * window: every SDL scancode's KEY_* code (and none for the rest), the
 * image's place in the window, window positions to tablet coordinates
 * that land on the right guest pixel, and each update's events.
 *
 * The expected key codes are not a copy of the table: evdev numbers the
 * keys of a PC keyboard in the order of the XT scan code set, so runs of
 * keys, named as SDL names them (SDL_GetScancodeFromName), must get
 * consecutive codes from the run's first.
 */
#define _GNU_SOURCE
#include <limits.h>

#include <SDL_keyboard.h>
#include <SDL_mouse.h>
#include <SDL_scancode.h>
#include <linux/input-event-codes.h>

#include "check.h"
#include "input_driver.h"
#include "ui/display_input.h"

/* ---- the key table ---- */

#define MAX_RUN 90

struct run {
	unsigned first; /* KEY_* of the first key; the next is first + 1 */
	const char *names[MAX_RUN]; /* SDL's names, NULL-terminated */
};

static const struct run named_runs[] = {
	/* The main block, the F-keys to F10 and the keypad: 1..83. */
	{KEY_ESC,
	 {"Escape",	"1",	      "2",	  "3",		"4",
	  "5",		"6",	      "7",	  "8",		"9",
	  "0",		"-",	      "=",	  "Backspace",	"Tab",
	  "Q",		"W",	      "E",	  "R",		"T",
	  "Y",		"U",	      "I",	  "O",		"P",
	  "[",		"]",	      "Return",	  "Left Ctrl",	"A",
	  "S",		"D",	      "F",	  "G",		"H",
	  "J",		"K",	      "L",	  ";",		"'",
	  "`",		"Left Shift", "\\",	  "Z",		"X",
	  "C",		"V",	      "B",	  "N",		"M",
	  ",",		".",	      "/",	  "Right Shift", "Keypad *",
	  "Left Alt",	"Space",      "CapsLock", "F1",		"F2",
	  "F3",		"F4",	      "F5",	  "F6",		"F7",
	  "F8",		"F9",	      "F10",	  "Numlock",	"ScrollLock",
	  "Keypad 7",	"Keypad 8",   "Keypad 9", "Keypad -",	"Keypad 4",
	  "Keypad 5",	"Keypad 6",   "Keypad +", "Keypad 1",	"Keypad 2",
	  "Keypad 3",	"Keypad 0",   "Keypad .", NULL}},
	{KEY_F11, {"F11", "F12", NULL}},
	/* PrintScreen is KEY_SYSRQ on a PC keyboard. */
	{KEY_KPENTER,
	 {"Keypad Enter", "Right Ctrl", "Keypad /", "PrintScreen", "Right Alt",
	  NULL}},
	{KEY_HOME,
	 {"Home", "Up", "PageUp", "Left", "Right", "End", "Down", "PageDown",
	  "Insert", "Delete", NULL}},
	{KEY_MUTE,
	 {"Mute", "VolumeDown", "VolumeUp", "Power", "Keypad =", "Keypad +/-",
	  "Pause", NULL}},
	{KEY_KPCOMMA, {"Keypad ,", NULL}},
	/* Application is the Menu key of a PC keyboard: KEY_COMPOSE. */
	{KEY_LEFTMETA,
	 {"Left GUI", "Right GUI", "Application", "Stop", "Again", NULL}},
	{KEY_UNDO,
	 {"Undo", "Select", "Copy", "Execute", "Paste", "Find", "Cut", "Help",
	  "Menu", "Calculator", NULL}},
	{KEY_SLEEP, {"Sleep", NULL}},
	{KEY_WWW, {"WWW", NULL}},
	{KEY_MAIL,
	 {"Mail", "AC Bookmarks", "Computer", "AC Back", "AC Forward", NULL}},
	{KEY_EJECTCD, {"Eject", NULL}},
	{KEY_NEXTSONG, {"AudioNext", "AudioPlay", "AudioPrev", "AudioStop", NULL}},
	{KEY_REWIND, {"AudioRewind", NULL}},
	{KEY_HOMEPAGE, {"AC Home", "AC Refresh", NULL}},
	{KEY_KPLEFTPAREN, {"Keypad (", "Keypad )", NULL}},
	{KEY_F13,
	 {"F13", "F14", "F15", "F16", "F17", "F18", "F19", "F20", "F21", "F22",
	  "F23", "F24", NULL}},
	{KEY_FASTFORWARD, {"AudioFastForward", NULL}},
	{KEY_SEARCH, {"AC Search", NULL}},
	{KEY_ALTERASE,
	 {"AltErase", "Cancel", "BrightnessDown", "BrightnessUp",
	  "MediaSelect", "DisplaySwitch", "KBDIllumToggle", "KBDIllumDown",
	  "KBDIllumUp", NULL}},
	/* Second names for a key. */
	{KEY_SYSRQ, {"SysReq", NULL}},
	{KEY_STOP, {"AC Stop", NULL}},
	{KEY_MUTE, {"AudioMute", NULL}},
	{KEY_BACKSLASH, {"#", NULL}}, /* ISO: the key left of Enter */
};

/* Keys SDL has no name for: the ISO key and the Asian keyboards'. */
static const struct {
	unsigned first;
	SDL_Scancode sc[8];
	unsigned n;
} nameless_runs[] = {
	{KEY_ZENKAKUHANKAKU, {SDL_SCANCODE_LANG5, SDL_SCANCODE_NONUSBACKSLASH}, 2},
	{KEY_RO,
	 {SDL_SCANCODE_INTERNATIONAL1, SDL_SCANCODE_LANG3, SDL_SCANCODE_LANG4,
	  SDL_SCANCODE_INTERNATIONAL4, SDL_SCANCODE_INTERNATIONAL2,
	  SDL_SCANCODE_INTERNATIONAL5, SDL_SCANCODE_INTERNATIONAL6},
	 7},
	{KEY_HANGEUL,
	 {SDL_SCANCODE_LANG1, SDL_SCANCODE_LANG2, SDL_SCANCODE_INTERNATIONAL3},
	 3},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static unsigned expected[SDL_NUM_SCANCODES];

/* Records that scancode sc must give key; each scancode once. */
static void expect(int sc, unsigned key, const char *what)
{
	if (sc <= SDL_SCANCODE_UNKNOWN || sc >= SDL_NUM_SCANCODES) {
		fprintf(stderr, "no SDL scancode named \"%s\"\n", what);
		CHECK(0);
		return;
	}
	CHECK_EQ_U64(expected[sc], 0);
	expected[sc] = key;
}

static void test_keycodes(void)
{
	unsigned nr_expected = 0;
	for (size_t r = 0; r < N(named_runs); r++)
		for (unsigned i = 0; named_runs[r].names[i]; i++, nr_expected++) {
			const char *name = named_runs[r].names[i];
			expect(SDL_GetScancodeFromName(name),
			       named_runs[r].first + i, name);
		}
	for (size_t r = 0; r < N(nameless_runs); r++)
		for (unsigned i = 0; i < nameless_runs[r].n; i++, nr_expected++)
			expect(nameless_runs[r].sc[i], nameless_runs[r].first + i,
			       SDL_GetScancodeName(nameless_runs[r].sc[i]));

	/* Every scancode: the right key where one is expected, none
	 * elsewhere, and every key one the virtio keyboard offers. */
	unsigned mapped = 0;
	for (int sc = 0; sc < SDL_NUM_SCANCODES; sc++) {
		unsigned key = display_keycode(sc);
		if (key != expected[sc])
			fprintf(stderr, "scancode %d (%s): KEY %u, expected %u\n",
				sc, SDL_GetScancodeName(sc), key, expected[sc]);
		CHECK_EQ_U64(key, expected[sc]);
		CHECK(key <= VIRTIO_INPUT_KEY_MAX);
		mapped += key != 0;
	}
	CHECK_EQ_U64(mapped, nr_expected);
	printf("keycodes: %u SDL scancodes mapped\n", mapped);

	/* A few spelled out, as a reader would check them. */
	CHECK_EQ_U64(display_keycode(SDL_SCANCODE_A), KEY_A);
	CHECK_EQ_U64(display_keycode(SDL_SCANCODE_RETURN), KEY_ENTER);
	CHECK_EQ_U64(display_keycode(SDL_SCANCODE_LGUI), KEY_LEFTMETA);
	CHECK_EQ_U64(display_keycode(SDL_SCANCODE_KP_ENTER), KEY_KPENTER);
	CHECK_EQ_U64(display_keycode(SDL_SCANCODE_NONUSBACKSLASH), KEY_102ND);
	CHECK_EQ_U64(display_keycode(SDL_SCANCODE_RALT), KEY_RIGHTALT);

	/* Unmapped and out of range. */
	CHECK_EQ_U64(display_keycode(SDL_SCANCODE_UNKNOWN), 0);
	CHECK_EQ_U64(display_keycode(SDL_SCANCODE_MODE), 0);
	CHECK_EQ_U64(display_keycode(SDL_SCANCODE_KP_EQUALSAS400), 0);
	CHECK_EQ_U64(display_keycode(SDL_SCANCODE_KP_HEXADECIMAL), 0);
	CHECK_EQ_U64(display_keycode(SDL_SCANCODE_ENDCALL), 0);
	CHECK_EQ_U64(display_keycode(-1), 0);
	CHECK_EQ_U64(display_keycode(INT_MIN), 0);
	CHECK_EQ_U64(display_keycode(SDL_NUM_SCANCODES), 0);
	CHECK_EQ_U64(display_keycode(INT_MAX), 0);
}

/* ---- the view and tablet coordinates ---- */

static void check_view(struct display_view v, int x, int y, int w, int h)
{
	CHECK_EQ_U64(v.x, x);
	CHECK_EQ_U64(v.y, y);
	CHECK_EQ_U64(v.w, w);
	CHECK_EQ_U64(v.h, h);
}

static void test_fit(void)
{
	check_view(display_fit(640, 480, 640, 480), 0, 0, 640, 480);
	check_view(display_fit(640, 480, 320, 240), 0, 0, 640, 480);
	check_view(display_fit(800, 480, 320, 240), 80, 0, 640, 480);
	check_view(display_fit(640, 600, 320, 240), 0, 60, 640, 480);
	check_view(display_fit(1024, 768, 4095, 16), 0, 382, 1024, 4);
	check_view(display_fit(100, 100, 16, 4095), 49, 0, 1, 100);
	/* Nothing to fit: the whole window. */
	check_view(display_fit(640, 480, 0, 0), 0, 0, 640, 480);
	check_view(display_fit(0, 0, 320, 240), 0, 0, 0, 0);
	struct display_view v = display_fit(801, 601, 800, 600);
	CHECK_EQ_U64(v.img_w, 800);
	CHECK_EQ_U64(v.img_h, 600);
}

/* What libinput and X's evdev driver make of a tablet value. */
static unsigned guest_pixel(int32_t abs, unsigned n)
{
	return (unsigned)((uint64_t)abs * n / (VIRTIO_INPUT_ABS_MAX + 1));
}

static void test_abs(void)
{
	static const unsigned sizes[] = {2, 3, 7, 320, 640, 1024, 1080, 1920,
					 4095, 32768};
	for (size_t s = 0; s < N(sizes); s++) {
		unsigned n = sizes[s];
		bool exact = true, rising = true;
		int32_t last = -1;
		for (unsigned px = 0; px < n; px++) {
			int32_t a = display_abs((int)px, 0, (int)n, n);
			exact &= guest_pixel(a, n) == px;
			rising &= a > last && a <= VIRTIO_INPUT_ABS_MAX;
			last = a;
			/* Scaled 3x, with the view 10 pixels in: every
			 * window pixel over one image pixel maps to it. */
			for (int k = 0; k < 3; k++)
				exact &= display_abs(10 + 3 * (int)px + k, 10,
						     3 * (int)n, n) == a;
		}
		CHECK(exact);
		CHECK(rising);
		CHECK_EQ_U64(display_abs(0, 0, (int)n, n), 0);
		CHECK_EQ_U64(display_abs((int)n - 1, 0, (int)n, n),
			     VIRTIO_INPUT_ABS_MAX);
	}
	/* Outside the image: its edges. */
	CHECK_EQ_U64(display_abs(-5, 0, 100, 100), 0);
	CHECK_EQ_U64(display_abs(40, 50, 100, 100), 0);
	CHECK_EQ_U64(display_abs(150, 50, 100, 100), VIRTIO_INPUT_ABS_MAX);
	CHECK_EQ_U64(display_abs(INT_MAX, 0, 100, 100), VIRTIO_INPUT_ABS_MAX);
	/* Degenerate views. */
	CHECK_EQ_U64(display_abs(5, 0, 0, 100), 0);
	CHECK_EQ_U64(display_abs(5, 0, 10, 1), 0);
	CHECK_EQ_U64(display_abs(5, 0, 10, 0), 0);
}

/* ---- updates ---- */

static bool is(const struct virtio_input_event *e, uint16_t type,
	       uint16_t code, int32_t value)
{
	return ev_type(e) == type && ev_code(e) == code && ev_value(e) == value;
}

static bool is_syn(const struct virtio_input_event *e)
{
	return is(e, EV_SYN, SYN_REPORT, 0);
}

static void test_encode_key(void)
{
	struct virtio_input_event ev[DISPLAY_EV_MAX];
	CHECK_EQ_U64(display_encode_key(ev, KEY_A, true), 2);
	CHECK(is(&ev[0], EV_KEY, KEY_A, 1) && is_syn(&ev[1]));
	CHECK_EQ_U64(display_encode_key(ev, KEY_MICMUTE, false), 2);
	CHECK(is(&ev[0], EV_KEY, KEY_MICMUTE, 0) && is_syn(&ev[1]));
	CHECK_EQ_U64(display_encode_key(ev, 0, true), 0);
	CHECK_EQ_U64(display_encode_key(ev, VIRTIO_INPUT_KEY_MAX + 1, true), 0);
	CHECK_EQ_U64(display_encode_key(ev, BTN_LEFT, true), 0);
	/* Little-endian on the wire. */
	display_encode_key(ev, 0x1234 & VIRTIO_INPUT_KEY_MAX, true);
	const uint8_t *b = (const uint8_t *)&ev[0];
	CHECK(b[0] == EV_KEY && b[1] == 0 && b[4] == 1 && b[7] == 0);
}

static void test_encode_pointer(void)
{
	struct virtio_input_event ev[DISPLAY_EV_MAX];
	/* A 320 x 200 image drawn twice its size, 40 pixels from the left. */
	struct display_view v = {40, 0, 640, 400, 320, 200};

	CHECK_EQ_U64(display_encode_motion(ev, &v, 40, 0), 3);
	CHECK(is(&ev[0], EV_ABS, ABS_X, 0) && is(&ev[1], EV_ABS, ABS_Y, 0) &&
	      is_syn(&ev[2]));
	CHECK_EQ_U64(display_encode_motion(ev, &v, 679, 399), 3);
	CHECK(is(&ev[0], EV_ABS, ABS_X, 32767) &&
	      is(&ev[1], EV_ABS, ABS_Y, 32767));
	display_encode_motion(ev, &v, 40 + 2 * 100, 2 * 50);
	CHECK_EQ_U64(guest_pixel(ev_value(&ev[0]), 320), 100);
	CHECK_EQ_U64(guest_pixel(ev_value(&ev[1]), 200), 50);

	static const struct {
		unsigned sdl;
		uint16_t btn;
	} buttons[] = {{SDL_BUTTON_LEFT, BTN_LEFT},
		       {SDL_BUTTON_MIDDLE, BTN_MIDDLE},
		       {SDL_BUTTON_RIGHT, BTN_RIGHT},
		       {SDL_BUTTON_X1, BTN_SIDE},
		       {SDL_BUTTON_X2, BTN_EXTRA}};
	for (size_t i = 0; i < N(buttons); i++)
		for (int down = 0; down < 2; down++) {
			CHECK_EQ_U64(display_encode_button(ev, &v, 240, 100,
							   buttons[i].sdl, down),
				     4);
			CHECK_EQ_U64(guest_pixel(ev_value(&ev[0]), 320), 100);
			CHECK(is(&ev[2], EV_KEY, buttons[i].btn, down));
			CHECK(is_syn(&ev[3]));
		}
	CHECK_EQ_U64(display_encode_button(ev, &v, 0, 0, 0, true), 0);
	CHECK_EQ_U64(display_encode_button(ev, &v, 0, 0, 6, true), 0);
	CHECK_EQ_U64(display_encode_button(ev, &v, 0, 0, 255, false), 0);

	CHECK_EQ_U64(display_encode_wheel(ev, 0, 1), 2);
	CHECK(is(&ev[0], EV_REL, REL_WHEEL, 1) && is_syn(&ev[1]));
	CHECK_EQ_U64(display_encode_wheel(ev, 0, -3), 2);
	CHECK(is(&ev[0], EV_REL, REL_WHEEL, -3));
	CHECK_EQ_U64(display_encode_wheel(ev, -2, 0), 2);
	CHECK(is(&ev[0], EV_REL, REL_HWHEEL, -2) && is_syn(&ev[1]));
	CHECK_EQ_U64(display_encode_wheel(ev, 1, 1), 3);
	CHECK(is(&ev[0], EV_REL, REL_WHEEL, 1) &&
	      is(&ev[1], EV_REL, REL_HWHEEL, 1) && is_syn(&ev[2]));
	CHECK_EQ_U64(display_encode_wheel(ev, 0, 0), 0);
}

int main(void)
{
	test_keycodes();
	test_fit();
	test_abs();
	test_encode_key();
	test_encode_pointer();
	return check_report("test_display_input");
}
