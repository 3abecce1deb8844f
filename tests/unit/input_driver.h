/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A virtio-input driver for tests, on the simulated driver (virtio_sim.h):
 * a device on fake guest RAM, event buffers posted on the eventq as Linux
 * posts them (one 8-byte writable buffer each), events collected in
 * order, and status events sent on the statusq.
 *
 * The thread that calls these is the device loop's thread.
 */
#ifndef PHY_TESTS_INPUT_DRIVER_H
#define PHY_TESTS_INPUT_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/virtio/virtio_input.h"
#include "virtio_sim.h"

#define INPUT_RAM (4u << 20)
#define INPUT_EVENTQ 0
#define INPUT_STATUSQ 1

struct input_rig {
	struct virtio_sim *sim;
	struct virtio_input *in;
	struct virtio_dev *dev;
	uint64_t bufs_gpa; /* one event per eventq descriptor head */
	uint64_t status_gpa;
};

/* A device of `kind` on fresh guest RAM, not yet started. Returns 0, or
 * -1 with the reason on stderr. */
int input_rig_open(struct input_rig *r, enum virtio_input_kind kind);
void input_rig_close(struct input_rig *r);
/* Negotiates `features` and starts both queues of `size` entries; 0 when
 * DRIVER_OK stuck. */
int input_rig_start(struct input_rig *r, uint64_t features, uint16_t size);

/* Posts n event buffers on the eventq and kicks it when the driver must;
 * returns how many were posted (the ring may be full). */
unsigned input_post(struct input_rig *r, unsigned n);
/* Runs the loop until the device has nothing left to do. */
void input_run(struct input_rig *r);
/* Takes up to max events the device wrote, in order; checks each used
 * length is one event. Returns how many, or -1 for a bad used length. */
int input_collect(struct input_rig *r, struct virtio_input_event *ev,
		  unsigned max);
/* Sends one event on the statusq and runs the loop; returns whether the
 * device gave the buffer back. */
bool input_status(struct input_rig *r, uint16_t type, uint16_t code,
		  int32_t value);

/* Host-order views of an event. */
static inline uint16_t ev_type(const struct virtio_input_event *e)
{
	return le16toh(e->type);
}
static inline uint16_t ev_code(const struct virtio_input_event *e)
{
	return le16toh(e->code);
}
static inline int32_t ev_value(const struct virtio_input_event *e)
{
	return (int32_t)le32toh(e->value);
}

#endif
