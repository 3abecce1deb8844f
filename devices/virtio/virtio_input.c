// SPDX-License-Identifier: Apache-2.0
/*
 * The virtio-input device: what a keyboard and a tablet offer (the
 * configuration space's select/subsel answers), the queue of events
 * waiting for the driver's buffers, and the two virtqueues.
 */
#define _GNU_SOURCE
#include "devices/virtio/virtio_input.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/input-event-codes.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "common/error.h"
#include "common/io_loop.h"

#define EVENTQ 0
#define STATUSQ 1
#define EV_SIZE sizeof(struct virtio_input_event)
#define BITMAP_BYTES sizeof(((struct virtio_input_config *)0)->u.bitmap)
#define NR_TYPES (EV_MAX + 1)
/* A chain of more buffers than this is refused (Linux uses one). */
#define MAX_IOV 16

/* BUS_VIRTUAL and the virtio PCI vendor; the product tells the kinds apart. */
#define INPUT_BUS 0x06
#define INPUT_VENDOR 0x1af4
#define INPUT_VERSION 1

struct virtio_input {
	struct virtio_dev dev;
	struct virtqueue vqs[2];
	enum virtio_input_kind kind;
	const struct guest_mem *mem;
	struct io_loop *loop;
	int wake_fd;
	char *name;
	char serial[BITMAP_BYTES];

	/* What the device offers: a bitmap of codes per event type (an
	 * empty one: the type is not offered). */
	uint8_t bits[NR_TYPES][BITMAP_BYTES];
	uint8_t props[BITMAP_BYTES];

	/* Under dev.lock. */
	struct virtio_input_config cfg; /* as the driver reads it */
	struct virtio_input_event pending[VIRTIO_INPUT_PENDING_MAX];
	unsigned head, count; /* the ring of pending events */
	bool wake_pending;    /* the eventfd was written, not yet served */
	struct virtio_input_stats st;
	struct vq_chain chain;
	struct iovec iov[MAX_IOV];
};

static struct virtio_input *to_input(struct virtio_dev *dev)
{
	return dev->opaque;
}

static void set_bit(uint8_t *map, unsigned bit)
{
	map[bit / 8] |= (uint8_t)(1u << (bit % 8));
}

static void offer_keyboard(struct virtio_input *in)
{
	for (unsigned k = KEY_ESC; k <= VIRTIO_INPUT_KEY_MAX; k++)
		set_bit(in->bits[EV_KEY], k);
	set_bit(in->bits[EV_REP], REP_DELAY);
	set_bit(in->bits[EV_REP], REP_PERIOD);
	for (unsigned l = LED_NUML; l <= LED_KANA; l++)
		set_bit(in->bits[EV_LED], l);
}

static void offer_tablet(struct virtio_input *in)
{
	static const uint16_t buttons[] = {BTN_LEFT, BTN_RIGHT, BTN_MIDDLE,
					   BTN_SIDE, BTN_EXTRA};
	for (size_t i = 0; i < sizeof(buttons) / sizeof(buttons[0]); i++)
		set_bit(in->bits[EV_KEY], buttons[i]);
	set_bit(in->bits[EV_REL], REL_WHEEL);
	set_bit(in->bits[EV_REL], REL_HWHEEL);
	set_bit(in->bits[EV_ABS], ABS_X);
	set_bit(in->bits[EV_ABS], ABS_Y);
}

/* Bytes of a bitmap up to its last set bit: 0 for an empty one. */
static uint8_t bitmap_size(const uint8_t *map)
{
	unsigned n = BITMAP_BYTES;
	while (n && !map[n - 1])
		n--;
	return (uint8_t)n;
}

static uint8_t answer_string(struct virtio_input_config *c, const char *s)
{
	size_t n = strlen(s);
	if (n > BITMAP_BYTES)
		n = BITMAP_BYTES;
	memcpy(c->u.string, s, n); /* no NUL terminator (§ 5.8.5) */
	return (uint8_t)n;
}

static uint8_t answer_bitmap(struct virtio_input_config *c,
			     const uint8_t *map)
{
	uint8_t n = bitmap_size(map);
	memcpy(c->u.bitmap, map, n);
	return n;
}

/* What the driver reads after writing select and subsel; size 0 for
 * every combination the device does not support (§ 5.8.5.2). */
static void answer_config(struct virtio_input *in)
{
	struct virtio_input_config *c = &in->cfg;
	uint8_t sub = c->subsel, size = 0;

	memset(&c->u, 0, sizeof(c->u));
	switch (c->select) {
	case VIRTIO_INPUT_CFG_ID_NAME:
		if (sub == 0)
			size = answer_string(c, in->kind == VIRTIO_INPUT_KEYBOARD
							? "phyllome keyboard"
							: "phyllome tablet");
		break;
	case VIRTIO_INPUT_CFG_ID_SERIAL:
		if (sub == 0)
			size = answer_string(c, in->serial);
		break;
	case VIRTIO_INPUT_CFG_ID_DEVIDS:
		if (sub == 0) {
			c->u.ids.bustype = htole16(INPUT_BUS);
			c->u.ids.vendor = htole16(INPUT_VENDOR);
			c->u.ids.product = htole16(in->kind + 1);
			c->u.ids.version = htole16(INPUT_VERSION);
			size = sizeof(c->u.ids);
		}
		break;
	case VIRTIO_INPUT_CFG_PROP_BITS:
		if (sub == 0)
			size = answer_bitmap(c, in->props);
		break;
	case VIRTIO_INPUT_CFG_EV_BITS:
		if (sub < NR_TYPES)
			size = answer_bitmap(c, in->bits[sub]);
		break;
	case VIRTIO_INPUT_CFG_ABS_INFO:
		if (sub <= ABS_MAX && (in->bits[EV_ABS][sub / 8] >> (sub % 8) & 1)) {
			c->u.abs.min = htole32(0);
			c->u.abs.max = htole32(VIRTIO_INPUT_ABS_MAX);
			size = sizeof(c->u.abs);
		}
		break;
	}
	c->size = size;
}

/* Only select (byte 0) and subsel (byte 1) are writable; a write of any
 * width that covers them sets them. */
static void input_config_write(struct virtio_dev *dev, uint32_t off,
			       const void *data, uint32_t len)
{
	struct virtio_input *in = to_input(dev);
	const uint8_t *p = data;
	bool changed = false;

	for (uint32_t i = 0; i < len; i++) {
		if (off + i == 0)
			in->cfg.select = p[i];
		else if (off + i == 1)
			in->cfg.subsel = p[i];
		else
			continue;
		changed = true;
	}
	if (changed)
		answer_config(in);
}

/* ---- the pending events ---- */

static bool is_syn_report(const struct virtio_input_event *ev)
{
	return ev->type == htole16(EV_SYN) && ev->code == htole16(SYN_REPORT);
}

static struct virtio_input_event *pending_at(struct virtio_input *in,
					     unsigned i)
{
	return &in->pending[(in->head + i) % VIRTIO_INPUT_PENDING_MAX];
}

static void pending_pop(struct virtio_input *in)
{
	in->head = (in->head + 1) % VIRTIO_INPUT_PENDING_MAX;
	in->count--;
}

/* The queue is full: drops its oldest update, up to and including its
 * SYN_REPORT; if no event in the queue ends an update (a sender that
 * never syncs), just the oldest event. */
static void drop_oldest_update(struct virtio_input *in)
{
	unsigned n = 1;
	for (unsigned i = 0; i < in->count; i++)
		if (is_syn_report(pending_at(in, i))) {
			n = i + 1;
			break;
		}
	in->head = (in->head + n) % VIRTIO_INPUT_PENDING_MAX;
	in->count -= n;
	in->st.dropped += n;
}

static void pending_push(struct virtio_input *in,
			 const struct virtio_input_event *ev)
{
	if (in->count == VIRTIO_INPUT_PENDING_MAX)
		drop_oldest_update(in);
	*pending_at(in, in->count) = *ev;
	in->count++;
}

/* ---- the queues (loop thread, dev.lock held) ---- */

/* Writes pending events into the driver's buffers, one each, until
 * either runs out; returns whether any buffer was used. */
static bool deliver(struct virtio_input *in)
{
	struct vq_chain *c = &in->chain;
	bool used = false;

	while (in->count && virtio_dev_running(&in->dev) &&
	       virtio_dev_next_chain(&in->dev, EVENTQ, c)) {
		if (c->nr_out || c->in_len < EV_SIZE) {
			virtio_dev_fail(&in->dev, EVENTQ,
					c->nr_out ? "event buffer is not writable"
						  : "event buffer is shorter than an event");
			break;
		}
		iov_from_buf(c->iov, c->nr_in, 0, pending_at(in, 0), EV_SIZE);
		vq_push(&in->vqs[EVENTQ], c->head, EV_SIZE);
		pending_pop(in);
		in->st.delivered++;
		used = true;
	}
	return used;
}

/* One statusq buffer: whole events, read and remembered (LEDs). */
static void read_status(struct virtio_input *in)
{
	struct vq_chain *c = &in->chain;

	for (uint32_t off = 0; off + EV_SIZE <= c->out_len; off += EV_SIZE) {
		struct virtio_input_event ev;
		iov_to_buf(c->iov, c->nr_out, off, &ev, EV_SIZE);
		in->st.statuses++;
		uint16_t type = le16toh(ev.type), code = le16toh(ev.code);
		if (type != EV_LED || code > LED_MAX ||
		    in->kind != VIRTIO_INPUT_KEYBOARD)
			continue;
		if (ev.value)
			in->st.leds |= 1u << code;
		else
			in->st.leds &= ~(1u << code);
	}
}

/* Takes every buffer the driver put on the statusq; returns whether any
 * was used. */
static bool drain_status(struct virtio_input *in)
{
	struct vq_chain *c = &in->chain;
	bool used = false;

	while (virtio_dev_running(&in->dev) &&
	       virtio_dev_next_chain(&in->dev, STATUSQ, c)) {
		if (c->out_len < EV_SIZE) {
			virtio_dev_fail(&in->dev, STATUSQ,
					"status buffer is shorter than an event");
			break;
		}
		read_status(in);
		vq_push(&in->vqs[STATUSQ], c->head, 0);
		used = true;
	}
	return used;
}

static void serve(struct virtio_input *in, unsigned q)
{
	if (!virtio_dev_running(&in->dev))
		return;
	bool used = q == STATUSQ ? drain_status(in) : deliver(in);
	if (used && virtio_dev_running(&in->dev))
		virtio_dev_signal_queue(&in->dev, q);
}

static void input_queue_notify(struct virtio_dev *dev, unsigned q)
{
	struct virtio_input *in = to_input(dev);

	pthread_mutex_lock(&dev->lock);
	if (q < 2)
		serve(in, q);
	pthread_mutex_unlock(&dev->lock);
}

/* The eventfd virtio_input_send() writes. */
static void input_woken(void *opaque)
{
	struct virtio_input *in = opaque;

	pthread_mutex_lock(&in->dev.lock);
	in->wake_pending = false;
	serve(in, EVENTQ);
	pthread_mutex_unlock(&in->dev.lock);
}

static void input_reset(struct virtio_dev *dev)
{
	struct virtio_input *in = to_input(dev);
	in->st.discarded += in->count;
	in->head = in->count = 0;
}

static const struct virtio_dev_ops input_ops = {
	.config_write = input_config_write,
	.reset = input_reset,
	.queue_notify = input_queue_notify,
};

void virtio_input_send(struct virtio_input *in,
		       const struct virtio_input_event *ev, size_t n)
{
	bool wake = false;

	pthread_mutex_lock(&in->dev.lock);
	if (!virtio_dev_running(&in->dev)) {
		in->st.discarded += n;
	} else if (n) {
		for (size_t i = 0; i < n; i++)
			pending_push(in, &ev[i]);
		wake = !in->wake_pending;
		in->wake_pending = true;
	}
	pthread_mutex_unlock(&in->dev.lock);
	if (wake) {
		uint64_t one = 1;
		/* Cannot fail short of a counter overflow: the loop
		 * resets it with every read. */
		if (write(in->wake_fd, &one, sizeof(one)) != sizeof(one)) {
			pthread_mutex_lock(&in->dev.lock);
			in->wake_pending = false;
			pthread_mutex_unlock(&in->dev.lock);
		}
	}
}

void virtio_input_stats(struct virtio_input *in, struct virtio_input_stats *st)
{
	pthread_mutex_lock(&in->dev.lock);
	*st = in->st;
	st->pending = in->count;
	pthread_mutex_unlock(&in->dev.lock);
}

bool virtio_input_busy(struct virtio_input *in)
{
	pthread_mutex_lock(&in->dev.lock);
	bool busy = in->wake_pending;
	pthread_mutex_unlock(&in->dev.lock);
	return busy;
}

struct virtio_dev *virtio_input_dev(struct virtio_input *in)
{
	return &in->dev;
}

static void free_input(struct virtio_input *in)
{
	if (in->wake_fd >= 0)
		close(in->wake_fd);
	free(in->name);
	free(in);
}

int virtio_input_create(struct virtio_input **out, enum virtio_input_kind kind,
			const char *name, const char *serial,
			const struct guest_mem *mem, struct io_loop *loop,
			struct phy_error *err)
{
	if (kind != VIRTIO_INPUT_KEYBOARD && kind != VIRTIO_INPUT_TABLET)
		return phy_err(err, PHY_E_INVALID, "%s: unknown input device kind %d",
			       name, (int)kind);
	struct virtio_input *in = calloc(1, sizeof(*in));
	if (!in)
		return phy_err(err, PHY_E_NOMEM, "%s: out of memory", name);
	in->kind = kind;
	in->mem = mem;
	in->loop = loop;
	in->name = strdup(name);
	/* Blocking, as every eventfd the loop reads (see io_loop.c). */
	in->wake_fd = eventfd(0, EFD_CLOEXEC);
	if (!in->name || in->wake_fd < 0) {
		int e = errno;
		free_input(in);
		return phy_err_errno(err, PHY_E_NOMEM, e, "%s: set-up", name);
	}
	snprintf(in->serial, sizeof(in->serial), "%s", serial ? serial : name);
	in->chain.iov = in->iov;
	in->chain.max_iov = MAX_IOV;
	if (kind == VIRTIO_INPUT_KEYBOARD)
		offer_keyboard(in);
	else
		offer_tablet(in);
	answer_config(in);
	virtio_dev_init(&in->dev, in->name, VIRTIO_ID_INPUT,
			1ull << VIRTIO_RING_F_EVENT_IDX |
				1ull << VIRTIO_RING_F_INDIRECT_DESC,
			sizeof(struct virtio_input_config), in->vqs, 2,
			VIRTIO_INPUT_QUEUE_SIZE, mem, &input_ops, in);
	in->dev.config = &in->cfg;
	int r = io_loop_watch_eventfd(loop, in->wake_fd, input_woken, in, err);
	if (r) {
		virtio_dev_destroy(&in->dev);
		free_input(in);
		return r;
	}
	*out = in;
	return 0;
}

void virtio_input_destroy(struct virtio_input *in)
{
	if (!in)
		return;
	virtio_dev_destroy(&in->dev);
	free_input(in);
}
