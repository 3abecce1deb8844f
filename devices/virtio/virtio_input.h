/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-input (virtio 1.2 § 5.8): a PC keyboard or an absolute pointer
 * (a "tablet"), as evdev events. The host hands events to the device with
 * virtio_input_send() from any thread (the display thread); the device
 * loop writes them into the buffers the driver keeps on the eventq, one
 * event per buffer, in order. Events wait in a bounded queue while the
 * driver has no buffers; when it is full the oldest whole updates (the
 * events up to and including an EV_SYN/SYN_REPORT) are dropped and
 * counted, as the spec asks: never part of an update. The statusq carries
 * the driver's feedback (keyboard LEDs): consumed, remembered, otherwise
 * ignored.
 *
 * What the device offers:
 *   keyboard  EV_KEY: KEY_ESC..KEY_MICMUTE (1..248, every key code of
 *             the keyboard range), EV_REP (the guest repeats keys
 *             itself), EV_LED: num, caps and scroll lock, compose, kana
 *   tablet    EV_ABS: ABS_X and ABS_Y, 0..VIRTIO_INPUT_ABS_MAX each;
 *             EV_KEY: BTN_LEFT, BTN_RIGHT, BTN_MIDDLE, BTN_SIDE,
 *             BTN_EXTRA; EV_REL: REL_WHEEL, REL_HWHEEL
 *
 * Threads: only the loop thread touches the rings. virtio_input_send()
 * queues under dev->lock and wakes the loop through an eventfd it
 * watches; the transport calls the virtio_dev ops on vCPU threads with
 * dev->lock held. Nothing is in flight outside the lock, so a driver
 * reset simply forgets the queued events.
 */
#ifndef PHY_DEVICES_VIRTIO_VIRTIO_INPUT_H
#define PHY_DEVICES_VIRTIO_VIRTIO_INPUT_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_input.h>

#include <phyllome/vmm.h>

#include "common/guest_mem.h"
#include "devices/virtio/virtio_dev.h"

struct io_loop;
struct virtio_input;

enum virtio_input_kind {
	VIRTIO_INPUT_KEYBOARD,
	VIRTIO_INPUT_TABLET,
};

#define VIRTIO_INPUT_QUEUE_SIZE 64    /* entries offered on each queue */
#define VIRTIO_INPUT_PENDING_MAX 1024 /* events waiting for buffers */
#define VIRTIO_INPUT_ABS_MAX 32767    /* the tablet's axes: 0..this */
/* Keys the keyboard offers: 1..this (KEY_MICMUTE). */
#define VIRTIO_INPUT_KEY_MAX 248

/* One event as the guest reads it (little-endian fields). */
static inline struct virtio_input_event virtio_input_ev(uint16_t type,
							uint16_t code,
							int32_t value)
{
	return (struct virtio_input_event){htole16(type), htole16(code),
					   htole32((uint32_t)value)};
}

/*
 * Creates a device of `kind`. `name` (for messages) and `serial` (what
 * the driver reads as ID_SERIAL, at most 127 bytes kept; NULL: the name)
 * are copied; mem and loop must outlive the device. Watches an eventfd on
 * the loop: call before the loop thread starts.
 */
int virtio_input_create(struct virtio_input **out, enum virtio_input_kind kind,
			const char *name, const char *serial,
			const struct guest_mem *mem, struct io_loop *loop,
			struct phy_error *err);

/* The transport-independent device, for the transport to plug in. */
struct virtio_dev *virtio_input_dev(struct virtio_input *in);

/*
 * Hands n events to the device, in order; any thread. Each update should
 * end with EV_SYN/SYN_REPORT (virtio_input_ev(EV_SYN, SYN_REPORT, 0)).
 * While the driver is not running (no DRIVER_OK yet, or the device needs
 * a reset) events are discarded, not queued: keys typed before the guest
 * has a driver must not arrive minutes later.
 */
void virtio_input_send(struct virtio_input *in,
		       const struct virtio_input_event *ev, size_t n);

struct virtio_input_stats {
	uint64_t delivered; /* events written to the driver's buffers */
	uint64_t dropped;   /* queued events dropped: the queue was full */
	uint64_t discarded; /* events sent while the driver was not running */
	uint64_t statuses;  /* events the driver sent on the statusq */
	unsigned pending;   /* events waiting for buffers now */
	uint32_t leds;      /* LED_* bits the driver turned on (1 << code) */
};
void virtio_input_stats(struct virtio_input *in, struct virtio_input_stats *st);

/* Whether a wake-up of the loop is outstanding (tests drive the loop
 * until it is served). */
bool virtio_input_busy(struct virtio_input *in);

/* Frees the device: with the loop stopped (or on the loop thread), and no
 * transport and no sender using it any more. NULL is allowed. */
void virtio_input_destroy(struct virtio_input *in);

#endif
