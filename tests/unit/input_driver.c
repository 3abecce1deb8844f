// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include "input_driver.h"

#include <stdio.h>
#include <string.h>

#include "common/error.h"

#define EV_SIZE sizeof(struct virtio_input_event)

static bool input_busy(void *opaque)
{
	return virtio_input_busy(opaque);
}

int input_rig_open(struct input_rig *r, enum virtio_input_kind kind)
{
	struct phy_error err = {0};

	memset(r, 0, sizeof(*r));
	r->sim = sim_create(INPUT_RAM, 0);
	if (!r->sim) {
		fprintf(stderr, "input_rig_open: no simulated driver\n");
		return -1;
	}
	if (virtio_input_create(&r->in, kind,
				kind == VIRTIO_INPUT_KEYBOARD ? "virtio-kbd0"
							      : "virtio-tablet0",
				NULL, &r->sim->mem, r->sim->loop, &err)) {
		fprintf(stderr, "virtio_input_create: %s\n", err.message);
		sim_destroy(r->sim);
		return -1;
	}
	r->dev = virtio_input_dev(r->in);
	sim_attach(r->sim, r->dev, input_busy, r->in);
	r->bufs_gpa = sim_alloc(r->sim, EV_SIZE * VQ_MAX_SIZE, 8);
	r->status_gpa = sim_alloc(r->sim, EV_SIZE * VQ_MAX_SIZE, 8);
	return 0;
}

void input_rig_close(struct input_rig *r)
{
	virtio_input_destroy(r->in);
	sim_destroy(r->sim);
}

int input_rig_start(struct input_rig *r, uint64_t features, uint16_t size)
{
	return sim_start(r->sim, features, 2, size);
}

/* Adds a one-buffer chain at base + 8 * head on queue q; -1 when full. */
static int add_one(struct input_rig *r, unsigned q, uint64_t base,
		   bool writable)
{
	struct sim_queue *sq = &r->sim->q[q];
	if (sq->num_free == 0)
		return -1;
	struct sim_buf b = {base + EV_SIZE * sq->free_head, EV_SIZE, writable};
	return sim_add(r->sim, q, &b, 1, false);
}

static void kick_if_needed(struct input_rig *r, unsigned q, uint16_t old)
{
	if (sim_kick_needed(r->sim, q, old))
		sim_kick(r->sim, q);
}

unsigned input_post(struct input_rig *r, unsigned n)
{
	uint16_t old = r->sim->q[INPUT_EVENTQ].avail_idx;
	unsigned done = 0;
	while (done < n && add_one(r, INPUT_EVENTQ, r->bufs_gpa, true) >= 0)
		done++;
	kick_if_needed(r, INPUT_EVENTQ, old);
	return done;
}

void input_run(struct input_rig *r)
{
	sim_run(r->sim);
}

int input_collect(struct input_rig *r, struct virtio_input_event *ev,
		  unsigned max)
{
	unsigned n = 0;
	uint16_t id;
	uint32_t len;

	while (n < max && sim_get_used(r->sim, INPUT_EVENTQ, &id, &len)) {
		if (len != EV_SIZE)
			return -1;
		memcpy(&ev[n++], sim_ptr(r->sim, r->bufs_gpa + EV_SIZE * id,
					 EV_SIZE),
		       EV_SIZE);
	}
	return (int)n;
}

bool input_status(struct input_rig *r, uint16_t type, uint16_t code,
		  int32_t value)
{
	struct sim_queue *sq = &r->sim->q[INPUT_STATUSQ];
	uint16_t old = sq->avail_idx, id;
	uint32_t len;
	uint64_t gpa = r->status_gpa + EV_SIZE * sq->free_head;
	struct virtio_input_event ev = virtio_input_ev(type, code, value);

	memcpy(sim_ptr(r->sim, gpa, EV_SIZE), &ev, EV_SIZE);
	if (add_one(r, INPUT_STATUSQ, r->status_gpa, false) < 0)
		return false;
	kick_if_needed(r, INPUT_STATUSQ, old);
	input_run(r);
	return sim_get_used(r->sim, INPUT_STATUSQ, &id, &len) == 1 && len == 0;
}
