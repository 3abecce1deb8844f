/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-input, driven through its rings by the simulated driver: the
 * configuration space's answer to every select (and to nonsense), events
 * delivered in order one per buffer, the bounded queue while the driver
 * has no buffers (whole updates dropped, the newest kept), the statusq
 * (LEDs), driver bugs that need a reset, a reset with events queued, and
 * a sender thread racing the loop.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include <linux/input-event-codes.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "check.h"
#include "input_driver.h"
#include "common/io_loop.h"

#define F(bit) (1ull << (bit))
#define F_V1 F(VIRTIO_F_VERSION_1)
#define F_ALL (F_V1 | F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_RING_F_INDIRECT_DESC))
#define QSIZE 64
#define CFG_U 8 /* offset of the union in the configuration space */

static struct virtio_input_config config_query(struct input_rig *r,
					       uint8_t select, uint8_t subsel)
{
	struct virtio_dev *dev = r->dev;
	struct virtio_input_config c;

	pthread_mutex_lock(&dev->lock);
	dev->ops->config_write(dev, 0, &select, 1);
	dev->ops->config_write(dev, 1, &subsel, 1);
	pthread_mutex_unlock(&dev->lock);
	sim_config_read(r->sim, 0, &c, sizeof(c));
	return c;
}

static bool bit(const uint8_t *map, unsigned b)
{
	return map[b / 8] >> (b % 8) & 1;
}

static void send1(struct input_rig *r, uint16_t type, uint16_t code,
		  int32_t value)
{
	struct virtio_input_event ev = virtio_input_ev(type, code, value);
	virtio_input_send(r->in, &ev, 1);
}

static void send_key(struct input_rig *r, uint16_t key, int32_t down)
{
	struct virtio_input_event ev[2] = {
		virtio_input_ev(EV_KEY, key, down),
		virtio_input_ev(EV_SYN, SYN_REPORT, 0),
	};
	virtio_input_send(r->in, ev, 2);
}

static struct virtio_input_stats stats(struct input_rig *r)
{
	struct virtio_input_stats st;
	virtio_input_stats(r->in, &st);
	return st;
}

static bool same_event(const struct virtio_input_event *e, uint16_t type,
		       uint16_t code, int32_t value)
{
	return ev_type(e) == type && ev_code(e) == code && ev_value(e) == value;
}

/* ---- configuration space ---- */

/* What both kinds answer alike; `types` are the EV_* the kind offers
 * (1 << type each): every other type answers size 0. */
static void check_common_config(struct input_rig *r, const char *name,
				uint16_t product, uint32_t types)
{
	struct virtio_input_config c;

	CHECK_EQ_U64(r->dev->device_id, VIRTIO_ID_INPUT);
	CHECK_EQ_U64(r->dev->config_size, sizeof(struct virtio_input_config));
	CHECK(r->dev->host_features & F_V1);

	c = config_query(r, VIRTIO_INPUT_CFG_ID_NAME, 0);
	CHECK_EQ_U64(c.select, VIRTIO_INPUT_CFG_ID_NAME);
	CHECK_EQ_U64(c.size, strlen(name));
	CHECK(memcmp(c.u.string, name, strlen(name)) == 0);
	CHECK_EQ_U64(c.u.string[strlen(name)], 0);

	c = config_query(r, VIRTIO_INPUT_CFG_ID_SERIAL, 0);
	const char *serial = product == 1 ? "virtio-kbd0" : "virtio-tablet0";
	CHECK_EQ_U64(c.size, strlen(serial));
	CHECK(memcmp(c.u.string, serial, strlen(serial)) == 0);

	c = config_query(r, VIRTIO_INPUT_CFG_ID_DEVIDS, 0);
	CHECK_EQ_U64(c.size, sizeof(struct virtio_input_devids));
	CHECK_EQ_U64(le16toh(c.u.ids.bustype), 0x06); /* BUS_VIRTUAL */
	CHECK_EQ_U64(le16toh(c.u.ids.vendor), 0x1af4);
	CHECK_EQ_U64(le16toh(c.u.ids.product), product);
	CHECK_EQ_U64(le16toh(c.u.ids.version), 1);

	c = config_query(r, VIRTIO_INPUT_CFG_PROP_BITS, 0);
	CHECK_EQ_U64(c.size, 0);

	/* Unsupported combinations answer size 0 and an empty union. */
	static const uint8_t bad_selects[] = {VIRTIO_INPUT_CFG_UNSET, 0x04, 0x0f,
					      0x13, 0x80, 0xff};
	for (size_t i = 0; i < sizeof(bad_selects); i++) {
		c = config_query(r, bad_selects[i], 0);
		CHECK_EQ_U64(c.size, 0);
		CHECK_EQ_U64(c.u.bitmap[0], 0);
	}
	static const uint8_t id_selects[] = {VIRTIO_INPUT_CFG_ID_NAME,
					     VIRTIO_INPUT_CFG_ID_SERIAL,
					     VIRTIO_INPUT_CFG_ID_DEVIDS,
					     VIRTIO_INPUT_CFG_PROP_BITS};
	for (size_t i = 0; i < sizeof(id_selects); i++) {
		c = config_query(r, id_selects[i], 1);
		CHECK_EQ_U64(c.size, 0);
		c = config_query(r, id_selects[i], 0xff);
		CHECK_EQ_U64(c.size, 0);
	}
	for (unsigned sub = EV_MAX + 1; sub < 256; sub += 7) {
		c = config_query(r, VIRTIO_INPUT_CFG_EV_BITS, (uint8_t)sub);
		CHECK_EQ_U64(c.size, 0);
	}
	for (unsigned t = 0; t <= EV_MAX; t++) {
		c = config_query(r, VIRTIO_INPUT_CFG_EV_BITS, (uint8_t)t);
		CHECK_EQ_U64(c.size != 0, (types >> t) & 1);
	}
	c = config_query(r, VIRTIO_INPUT_CFG_ABS_INFO, 0xff);
	CHECK_EQ_U64(c.size, 0);
}

/* The driver may write select and subsel in one access, in any order;
 * writes elsewhere change nothing; reads at any offset and width see the
 * same bytes. */
static void check_config_access(struct input_rig *r)
{
	struct virtio_dev *dev = r->dev;
	uint8_t both[2] = {VIRTIO_INPUT_CFG_ID_NAME, 0};
	uint8_t junk[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct virtio_input_config c, again;

	pthread_mutex_lock(&dev->lock);
	dev->ops->config_write(dev, 0, both, 2);
	dev->ops->config_write(dev, 2, junk, 6);	   /* size, reserved */
	dev->ops->config_write(dev, CFG_U, junk, 8);	   /* the union */
	dev->ops->config_write(dev, 128, junk, 8);	   /* its end */
	pthread_mutex_unlock(&dev->lock);
	sim_config_read(r->sim, 0, &c, sizeof(c));
	CHECK_EQ_U64(c.select, VIRTIO_INPUT_CFG_ID_NAME);
	CHECK_EQ_U64(c.subsel, 0);
	CHECK(c.size > 0);
	CHECK(c.u.string[0] == 'p');
	CHECK_EQ_U64(c.u.bitmap[127], 0);

	/* subsel first, then select. */
	uint8_t sub = ABS_Y, sel = VIRTIO_INPUT_CFG_ABS_INFO;
	pthread_mutex_lock(&dev->lock);
	dev->ops->config_write(dev, 1, &sub, 1);
	dev->ops->config_write(dev, 0, &sel, 1);
	pthread_mutex_unlock(&dev->lock);
	sim_config_read(r->sim, 0, &c, sizeof(c));
	CHECK_EQ_U64(c.subsel, ABS_Y);
	for (uint32_t off = 0; off < sizeof(c); off++) {
		uint8_t b;
		sim_config_read(r->sim, off, &b, 1);
		CHECK_EQ_U64(b, ((uint8_t *)&c)[off]);
	}
	/* Out of range: the transport's check reads zeros. */
	uint32_t w = 0xdeadbeef;
	sim_config_read(r->sim, sizeof(c) - 2, &w, 4);
	CHECK_EQ_U64(w, 0);
	sim_config_read(r->sim, 0, &again, sizeof(again));
	CHECK(memcmp(&c, &again, sizeof(c)) == 0);
}

/* A device of `kind` whose common answers were checked; 0 when opened. */
static int open_checked(struct input_rig *r, enum virtio_input_kind kind,
			uint32_t types)
{
	if (input_rig_open(r, kind))
		return -1;
	bool kbd = kind == VIRTIO_INPUT_KEYBOARD;
	check_common_config(r, kbd ? "phyllome keyboard" : "phyllome tablet",
			    kbd ? 1 : 2, types);
	check_config_access(r);
	return 0;
}

static void test_keyboard_config(void)
{
	struct input_rig r;
	REQUIRE(open_checked(&r, VIRTIO_INPUT_KEYBOARD,
			     1u << EV_KEY | 1u << EV_REP | 1u << EV_LED) == 0);
	struct virtio_input_config c =
		config_query(&r, VIRTIO_INPUT_CFG_EV_BITS, EV_KEY);
	CHECK_EQ_U64(c.size, VIRTIO_INPUT_KEY_MAX / 8 + 1);
	CHECK(!bit(c.u.bitmap, KEY_RESERVED));
	for (unsigned k = KEY_ESC; k <= VIRTIO_INPUT_KEY_MAX; k++)
		CHECK(bit(c.u.bitmap, k));
	for (unsigned k = VIRTIO_INPUT_KEY_MAX + 1; k < 8 * c.size; k++)
		CHECK(!bit(c.u.bitmap, k));
	/* udev calls it a keyboard when KEY_ESC..KEY_D (1..31) are all set. */
	CHECK_EQ_U64(c.u.bitmap[0] | c.u.bitmap[1] << 8 | c.u.bitmap[2] << 16 |
			     (uint32_t)c.u.bitmap[3] << 24,
		     0xfffffffe);
	CHECK(bit(c.u.bitmap, KEY_102ND) && bit(c.u.bitmap, KEY_SYSRQ) &&
	      bit(c.u.bitmap, KEY_PAUSE) && bit(c.u.bitmap, KEY_COMPOSE) &&
	      bit(c.u.bitmap, KEY_RIGHTMETA) && bit(c.u.bitmap, KEY_MICMUTE));

	c = config_query(&r, VIRTIO_INPUT_CFG_EV_BITS, EV_REP);
	CHECK_EQ_U64(c.size, 1);
	CHECK_EQ_U64(c.u.bitmap[0], 1u << REP_DELAY | 1u << REP_PERIOD);
	c = config_query(&r, VIRTIO_INPUT_CFG_EV_BITS, EV_LED);
	CHECK_EQ_U64(c.size, 1);
	CHECK_EQ_U64(c.u.bitmap[0], 0x1f); /* num, caps, scroll, compose, kana */

	for (unsigned a = 0; a <= ABS_MAX; a++) {
		c = config_query(&r, VIRTIO_INPUT_CFG_ABS_INFO, (uint8_t)a);
		CHECK_EQ_U64(c.size, 0);
	}
	input_rig_close(&r);
}

static void test_tablet_config(void)
{
	struct input_rig r;
	REQUIRE(open_checked(&r, VIRTIO_INPUT_TABLET,
			     1u << EV_KEY | 1u << EV_REL | 1u << EV_ABS) == 0);
	struct virtio_input_config c =
		config_query(&r, VIRTIO_INPUT_CFG_EV_BITS, EV_KEY);
	CHECK_EQ_U64(c.size, BTN_EXTRA / 8 + 1);
	for (unsigned k = 0; k < 8 * c.size; k++)
		CHECK_EQ_U64(bit(c.u.bitmap, k),
			     k == BTN_LEFT || k == BTN_RIGHT || k == BTN_MIDDLE ||
				     k == BTN_SIDE || k == BTN_EXTRA);
	c = config_query(&r, VIRTIO_INPUT_CFG_EV_BITS, EV_REL);
	CHECK_EQ_U64(c.size, 2);
	CHECK_EQ_U64(c.u.bitmap[0], 1u << REL_HWHEEL); /* 6 */
	CHECK_EQ_U64(c.u.bitmap[1], 1u << (REL_WHEEL - 8)); /* 8 */
	c = config_query(&r, VIRTIO_INPUT_CFG_EV_BITS, EV_ABS);
	CHECK_EQ_U64(c.size, 1);
	CHECK_EQ_U64(c.u.bitmap[0], 1u << ABS_X | 1u << ABS_Y);
	for (unsigned a = 0; a <= 0xff; a++) {
		c = config_query(&r, VIRTIO_INPUT_CFG_ABS_INFO, (uint8_t)a);
		if (a != ABS_X && a != ABS_Y) {
			CHECK_EQ_U64(c.size, 0);
			continue;
		}
		CHECK_EQ_U64(c.size, sizeof(struct virtio_input_absinfo));
		CHECK_EQ_U64(le32toh(c.u.abs.min), 0);
		CHECK_EQ_U64(le32toh(c.u.abs.max), 32767);
		CHECK_EQ_U64(le32toh(c.u.abs.fuzz), 0);
		CHECK_EQ_U64(le32toh(c.u.abs.flat), 0);
		CHECK_EQ_U64(le32toh(c.u.abs.res), 0);
	}
	input_rig_close(&r);
}

static void test_create_errors(void)
{
	struct virtio_sim *sim = sim_create(1 << 20, 0);
	REQUIRE(sim);
	struct virtio_input *in = NULL;
	struct phy_error err = {0};
	CHECK_EQ_U64(virtio_input_create(&in, (enum virtio_input_kind)7, "x",
					 NULL, &sim->mem, sim->loop, &err),
		     -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "kind");
	CHECK(in == NULL);
	/* A long serial is cut at 127 bytes. */
	char serial[300];
	memset(serial, 's', sizeof(serial) - 1);
	serial[sizeof(serial) - 1] = 0;
	REQUIRE(virtio_input_create(&in, VIRTIO_INPUT_TABLET, "t", serial,
				    &sim->mem, sim->loop, &err) == 0);
	struct input_rig r = {.sim = sim, .in = in, .dev = virtio_input_dev(in)};
	sim_attach(sim, r.dev, NULL, NULL);
	struct virtio_input_config c = config_query(&r, VIRTIO_INPUT_CFG_ID_SERIAL, 0);
	CHECK_EQ_U64(c.size, 127);
	CHECK(c.u.string[126] == 's');
	virtio_input_destroy(in);
	virtio_input_destroy(NULL);
	sim_destroy(sim);
}

/* ---- events ---- */

static void check_delivery(uint64_t features)
{
	struct input_rig r;
	REQUIRE(input_rig_open(&r, VIRTIO_INPUT_KEYBOARD) == 0);
	REQUIRE(input_rig_start(&r, features, QSIZE) == 0);
	CHECK_EQ_U64(input_post(&r, 16), 16);
	input_run(&r);
	CHECK_EQ_U64(r.sim->q[INPUT_EVENTQ].interrupts, 0);

	send_key(&r, KEY_A, 1);
	send_key(&r, KEY_A, 0);
	send_key(&r, KEY_LEFTSHIFT, 1);
	input_run(&r);
	struct virtio_input_event ev[16];
	REQUIRE(input_collect(&r, ev, 16) == 6);
	CHECK(same_event(&ev[0], EV_KEY, KEY_A, 1));
	CHECK(same_event(&ev[1], EV_SYN, SYN_REPORT, 0));
	CHECK(same_event(&ev[2], EV_KEY, KEY_A, 0));
	CHECK(same_event(&ev[3], EV_SYN, SYN_REPORT, 0));
	CHECK(same_event(&ev[4], EV_KEY, KEY_LEFTSHIFT, 1));
	CHECK(same_event(&ev[5], EV_SYN, SYN_REPORT, 0));
	CHECK(r.sim->q[INPUT_EVENTQ].interrupts >= 1);
	struct virtio_input_stats st = stats(&r);
	CHECK_EQ_U64(st.delivered, 6);
	CHECK_EQ_U64(st.pending, 0);
	CHECK_EQ_U64(st.dropped, 0);

	/* Negative values survive the trip (REL_WHEEL down, on a keyboard
	 * too: the device does not filter what the host sends). */
	send1(&r, EV_REL, REL_WHEEL, -3);
	send1(&r, EV_SYN, SYN_REPORT, 0);
	input_run(&r);
	REQUIRE(input_collect(&r, ev, 16) == 2);
	CHECK(same_event(&ev[0], EV_REL, REL_WHEEL, -3));
	CHECK_EQ_U64(sim_needs_reset(r.sim), 0);
	input_rig_close(&r);
}

static void test_delivery(void)
{
	check_delivery(F_ALL);
	check_delivery(F_V1); /* no EVENT_IDX, no indirect */
}

/* The driver has no buffers: events wait, then go out in order as
 * buffers come, over many wraps of the ring. */
static void test_waiting_for_buffers(void)
{
	struct input_rig r;
	REQUIRE(input_rig_open(&r, VIRTIO_INPUT_TABLET) == 0);
	REQUIRE(input_rig_start(&r, F_ALL, 8) == 0);

	for (int i = 0; i < 100; i++) {
		send1(&r, EV_ABS, ABS_X, i);
		send1(&r, EV_SYN, SYN_REPORT, 0);
	}
	input_run(&r);
	struct virtio_input_stats st = stats(&r);
	CHECK_EQ_U64(st.pending, 200);
	CHECK_EQ_U64(st.delivered, 0);

	struct virtio_input_event ev[8];
	int next = 0, got = 0;
	for (int round = 0; round < 100 && got < 200; round++) {
		input_post(&r, 8);
		input_run(&r);
		int n = input_collect(&r, ev, 8);
		REQUIRE(n > 0);
		for (int i = 0; i < n; i++, got++) {
			if (got % 2 == 0)
				CHECK(same_event(&ev[i], EV_ABS, ABS_X, next++));
			else
				CHECK(same_event(&ev[i], EV_SYN, SYN_REPORT, 0));
		}
	}
	CHECK_EQ_U64(got, 200);
	st = stats(&r);
	CHECK_EQ_U64(st.pending, 0);
	CHECK_EQ_U64(st.delivered, 200);
	CHECK_EQ_U64(st.dropped, 0);
	input_rig_close(&r);
}

/* Beyond VIRTIO_INPUT_PENDING_MAX the oldest whole updates go: the driver
 * then gets the newest ones, each complete. */
static void test_bounded_queue(void)
{
	struct input_rig r;
	REQUIRE(input_rig_open(&r, VIRTIO_INPUT_TABLET) == 0);
	REQUIRE(input_rig_start(&r, F_ALL, QSIZE) == 0);

	const int updates = 1000; /* 3000 events, three times the bound */
	for (int i = 0; i < updates; i++) {
		struct virtio_input_event ev[3] = {
			virtio_input_ev(EV_ABS, ABS_X, i),
			virtio_input_ev(EV_ABS, ABS_Y, 32767 - i),
			virtio_input_ev(EV_SYN, SYN_REPORT, 0),
		};
		virtio_input_send(r.in, ev, 3);
	}
	input_run(&r);
	struct virtio_input_stats st = stats(&r);
	CHECK(st.pending <= VIRTIO_INPUT_PENDING_MAX);
	CHECK(st.pending > VIRTIO_INPUT_PENDING_MAX - 3);
	CHECK_EQ_U64(st.pending % 3, 0);
	CHECK_EQ_U64(st.dropped + st.pending, 3 * updates);

	int first = updates - (int)st.pending / 3, expect = first;
	unsigned got = 0;
	struct virtio_input_event ev[QSIZE];
	while (got < st.pending) {
		input_post(&r, QSIZE);
		input_run(&r);
		int n = input_collect(&r, ev, QSIZE);
		REQUIRE(n > 0);
		for (int i = 0; i < n; i++, got++) {
			switch (got % 3) {
			case 0:
				CHECK(same_event(&ev[i], EV_ABS, ABS_X, expect));
				break;
			case 1:
				CHECK(same_event(&ev[i], EV_ABS, ABS_Y,
						 32767 - expect));
				break;
			default:
				CHECK(same_event(&ev[i], EV_SYN, SYN_REPORT, 0));
				expect++;
			}
		}
	}
	CHECK_EQ_U64(expect, updates);
	CHECK_EQ_U64(stats(&r).delivered, got);

	input_rig_close(&r);

	/* An update with no SYN_REPORT larger than the queue: bounded all
	 * the same, one event dropped for each one too many, and what
	 * stays is its newest part. */
	REQUIRE(input_rig_open(&r, VIRTIO_INPUT_TABLET) == 0);
	REQUIRE(input_rig_start(&r, F_ALL, QSIZE) == 0);
	struct virtio_input_event *big =
		calloc(VIRTIO_INPUT_PENDING_MAX + 10, sizeof(*big));
	REQUIRE(big);
	for (int i = 0; i < VIRTIO_INPUT_PENDING_MAX + 10; i++)
		big[i] = virtio_input_ev(EV_REL, REL_WHEEL, i);
	virtio_input_send(r.in, big, VIRTIO_INPUT_PENDING_MAX + 10);
	free(big);
	input_run(&r);
	st = stats(&r);
	CHECK_EQ_U64(st.pending, VIRTIO_INPUT_PENDING_MAX);
	CHECK_EQ_U64(st.dropped, 10);
	input_post(&r, 1);
	input_run(&r);
	REQUIRE(input_collect(&r, ev, 1) == 1);
	CHECK_EQ_U64(ev_value(&ev[0]), 10);
	input_rig_close(&r);
}

/* ---- the statusq ---- */

static void test_status(void)
{
	struct input_rig r;
	REQUIRE(input_rig_open(&r, VIRTIO_INPUT_KEYBOARD) == 0);
	REQUIRE(input_rig_start(&r, F_ALL, QSIZE) == 0);
	CHECK(input_status(&r, EV_LED, LED_CAPSL, 1));
	CHECK(input_status(&r, EV_LED, LED_NUML, 1));
	CHECK_EQ_U64(stats(&r).leds, 1u << LED_CAPSL | 1u << LED_NUML);
	CHECK(input_status(&r, EV_LED, LED_CAPSL, 0));
	CHECK_EQ_U64(stats(&r).leds, 1u << LED_NUML);
	/* Anything else is read and ignored. */
	CHECK(input_status(&r, EV_LED, 0xffff, 1));
	CHECK(input_status(&r, EV_SND, SND_BELL, 1));
	CHECK(input_status(&r, 0xffff, 0xffff, -1));
	CHECK(input_status(&r, EV_REP, REP_DELAY, 250));
	struct virtio_input_stats st = stats(&r);
	CHECK_EQ_U64(st.leds, 1u << LED_NUML);
	CHECK_EQ_U64(st.statuses, 7);
	CHECK(r.sim->q[INPUT_STATUSQ].interrupts >= 1);

	/* Two events in one buffer, split over two descriptors. */
	uint64_t gpa = sim_alloc(r.sim, 16, 8);
	struct virtio_input_event two[2] = {
		virtio_input_ev(EV_LED, LED_SCROLLL, 1),
		virtio_input_ev(EV_LED, LED_KANA, 1),
	};
	memcpy(sim_ptr(r.sim, gpa, 16), two, 16);
	struct sim_buf bufs[2] = {{gpa, 5, false}, {gpa + 5, 11, false}};
	CHECK(sim_add(r.sim, INPUT_STATUSQ, bufs, 2, true) >= 0);
	sim_kick(r.sim, INPUT_STATUSQ);
	input_run(&r);
	st = stats(&r);
	CHECK_EQ_U64(st.statuses, 9);
	CHECK_EQ_U64(st.leds, 1u << LED_NUML | 1u << LED_SCROLLL | 1u << LED_KANA);
	CHECK_EQ_U64(sim_needs_reset(r.sim), 0);
	input_rig_close(&r);

	/* A tablet ignores LEDs. */
	REQUIRE(input_rig_open(&r, VIRTIO_INPUT_TABLET) == 0);
	REQUIRE(input_rig_start(&r, F_ALL, QSIZE) == 0);
	CHECK(input_status(&r, EV_LED, LED_CAPSL, 1));
	CHECK_EQ_U64(stats(&r).leds, 0);
	input_rig_close(&r);
}

/* ---- driver bugs ---- */

static void expect_reset(struct input_rig *r, const char *why)
{
	CHECK(sim_needs_reset(r->sim));
	CHECK_STR_CONTAINS(r->sim->last_log, why);
	CHECK_STR_CONTAINS(r->sim->last_log, "needs a reset");
	CHECK(r->sim->config_interrupts >= 1);
}

static void bug_rig(struct input_rig *r)
{
	if (input_rig_open(r, VIRTIO_INPUT_KEYBOARD) ||
	    input_rig_start(r, F_ALL, 8)) {
		fprintf(stderr, "bug_rig: no device\n");
		abort();
	}
}

static void add_raw(struct input_rig *r, unsigned q, uint64_t gpa,
		    uint32_t len, bool writable)
{
	struct sim_buf b = {gpa, len, writable};
	if (sim_add(r->sim, q, &b, 1, false) < 0)
		abort();
	sim_kick(r->sim, q);
}

/* One buffer of `len` bytes on queue q (a key sent for the eventq) that
 * must put the device in NEEDS_RESET, logging `why`, with the ring left
 * alone. */
static void bad_buffer(unsigned q, uint64_t gpa, uint32_t len, bool writable,
		       const char *why)
{
	struct input_rig r;
	bug_rig(&r);
	if (gpa == 0)
		gpa = sim_alloc(r.sim, 8, 8);
	add_raw(&r, q, gpa, len, writable);
	if (q == INPUT_EVENTQ)
		send_key(&r, KEY_B, 1);
	input_run(&r);
	expect_reset(&r, why);
	CHECK_EQ_U64(stats(&r).delivered, 0);
	CHECK_EQ_U64(stats(&r).statuses, 0);
	CHECK_EQ_U64(r.sim->q[q].used->idx, 0);
	/* Once failed, sends are discarded and nothing touches the ring. */
	uint64_t discarded = stats(&r).discarded;
	send_key(&r, KEY_B, 0);
	input_run(&r);
	CHECK_EQ_U64(stats(&r).discarded, discarded + 2);
	CHECK_EQ_U64(r.sim->q[q].used->idx, 0);
	input_rig_close(&r);
}

static void test_driver_bugs(void)
{
	struct input_rig r;

	bad_buffer(INPUT_EVENTQ, 0, 8, false, "event buffer is not writable");
	bad_buffer(INPUT_EVENTQ, 0, 7, true, "shorter than an event");
	bad_buffer(INPUT_EVENTQ, INPUT_RAM - 4, 8, true, "outside guest RAM");
	bad_buffer(INPUT_STATUSQ, 0, 4, false, "status buffer is shorter");
	/* Writable only: no readable bytes at all. */
	bad_buffer(INPUT_STATUSQ, 0, 8, true, "status buffer is shorter");

	/* An available entry naming a descriptor out of range. */
	bug_rig(&r);
	sim_publish(r.sim, INPUT_EVENTQ, 200);
	sim_kick(r.sim, INPUT_EVENTQ);
	send_key(&r, KEY_B, 1);
	input_run(&r);
	expect_reset(&r, "out of range");
	input_rig_close(&r);

	/* A descriptor chain that loops. */
	bug_rig(&r);
	add_raw(&r, INPUT_EVENTQ, sim_alloc(r.sim, 8, 8), 8, true);
	struct vring_desc *d = sim_desc(r.sim, INPUT_EVENTQ, 0);
	d->flags |= VRING_DESC_F_NEXT;
	d->next = 0;
	send_key(&r, KEY_B, 1);
	input_run(&r);
	expect_reset(&r, "loops");
	input_rig_close(&r);

	/* The avail index jumping past the ring, on the statusq. */
	bug_rig(&r);
	r.sim->q[INPUT_STATUSQ].avail->idx = 100;
	sim_kick(r.sim, INPUT_STATUSQ);
	input_run(&r);
	expect_reset(&r, "more than the queue size");
	input_rig_close(&r);

	/* Rings outside RAM are refused when the queue is enabled. */
	REQUIRE(input_rig_open(&r, VIRTIO_INPUT_KEYBOARD) == 0);
	REQUIRE(sim_negotiate(r.sim, F_ALL) == 0);
	pthread_mutex_lock(&r.dev->lock);
	struct virtqueue *vq = &r.dev->queues[INPUT_EVENTQ];
	vq->size = 8;
	vq->desc_gpa = INPUT_RAM - 64;
	vq->avail_gpa = 0x1000;
	vq->used_gpa = 0x2000;
	virtio_dev_enable_queue(r.dev, INPUT_EVENTQ);
	pthread_mutex_unlock(&r.dev->lock);
	CHECK(sim_needs_reset(r.sim));
	CHECK_STR_CONTAINS(r.sim->last_log, "outside guest RAM");
	input_rig_close(&r);
}

/* ---- reset ---- */

static void test_reset_with_queued_events(void)
{
	struct input_rig r;
	REQUIRE(input_rig_open(&r, VIRTIO_INPUT_KEYBOARD) == 0);

	/* Before DRIVER_OK nothing is queued. */
	send_key(&r, KEY_Q, 1);
	CHECK_EQ_U64(stats(&r).discarded, 2);
	CHECK_EQ_U64(stats(&r).pending, 0);

	REQUIRE(input_rig_start(&r, F_ALL, QSIZE) == 0);
	for (int i = 0; i < 10; i++)
		send_key(&r, KEY_1 + i, 1);
	input_run(&r);
	CHECK_EQ_U64(stats(&r).pending, 20);

	sim_set_status(r.sim, 0);
	struct virtio_input_stats st = stats(&r);
	CHECK_EQ_U64(st.pending, 0);
	CHECK_EQ_U64(st.discarded, 22);
	CHECK_EQ_U64(sim_status(r.sim), 0);
	/* A wake-up still in the eventfd finds a reset device. */
	input_run(&r);
	CHECK_EQ_U64(sim_needs_reset(r.sim), 0);

	/* The driver starts again: only new events arrive. */
	REQUIRE(input_rig_start(&r, F_ALL, QSIZE) == 0);
	input_post(&r, QSIZE);
	input_run(&r);
	CHECK_EQ_U64(stats(&r).delivered, 0);
	send_key(&r, KEY_ENTER, 1);
	input_run(&r);
	struct virtio_input_event ev[QSIZE];
	REQUIRE(input_collect(&r, ev, QSIZE) == 2);
	CHECK(same_event(&ev[0], EV_KEY, KEY_ENTER, 1));

	/* A reset after a failure clears NEEDS_RESET, and the device works. */
	add_raw(&r, INPUT_STATUSQ, sim_alloc(r.sim, 8, 8), 4, false);
	input_run(&r);
	CHECK(sim_needs_reset(r.sim));
	REQUIRE(input_rig_start(&r, F_ALL, QSIZE) == 0);
	CHECK_EQ_U64(sim_needs_reset(r.sim), 0);
	input_post(&r, 4);
	send_key(&r, KEY_ESC, 1);
	input_run(&r);
	REQUIRE(input_collect(&r, ev, QSIZE) == 2);
	CHECK(same_event(&ev[0], EV_KEY, KEY_ESC, 1));
	input_rig_close(&r);
}

/* ---- another thread sends while the loop delivers ---- */

#define RACE_UPDATES 20000

static void *sender(void *opaque)
{
	struct input_rig *r = opaque;
	for (int i = 1; i <= RACE_UPDATES; i++) {
		struct virtio_input_event ev[2] = {
			virtio_input_ev(EV_ABS, ABS_X, i),
			virtio_input_ev(EV_SYN, SYN_REPORT, 0),
		};
		virtio_input_send(r->in, ev, 2);
		if (i % 64 == 0)
			usleep(20); /* let the loop keep up now and then */
	}
	return NULL;
}

struct race {
	int last, got;
	bool ordered, whole;
};

/* Takes what the device delivered: updates of ABS_X (rising) and SYN. */
static void race_collect(struct input_rig *r, struct race *rc)
{
	struct virtio_input_event ev[QSIZE];
	int n = input_collect(r, ev, QSIZE);
	rc->whole &= n >= 0;
	for (int i = 0; i < n; i++, rc->got++) {
		if (ev_type(&ev[i]) == EV_ABS) {
			rc->ordered &= ev_value(&ev[i]) > rc->last;
			rc->last = ev_value(&ev[i]);
			rc->whole &= rc->got % 2 == 0;
		} else {
			rc->whole &= rc->got % 2 == 1 &&
				     same_event(&ev[i], EV_SYN, SYN_REPORT, 0);
		}
	}
	if (n > 0)
		input_post(r, (unsigned)n);
}

static void test_sender_thread(void)
{
	struct input_rig r;
	REQUIRE(input_rig_open(&r, VIRTIO_INPUT_TABLET) == 0);
	REQUIRE(input_rig_start(&r, F_ALL, QSIZE) == 0);
	input_post(&r, QSIZE);
	input_run(&r);

	pthread_t t;
	REQUIRE(pthread_create(&t, NULL, sender, &r) == 0);
	struct race rc = {.ordered = true, .whole = true};
	struct virtio_input_stats st;
	for (;;) {
		virtio_input_stats(r.in, &st);
		if (st.delivered + st.dropped == 2 * RACE_UPDATES)
			break;
		/* Serve the wake-up (it may come a moment later). */
		if (virtio_input_busy(r.in))
			io_loop_run_once(r.sim->loop, true);
		race_collect(&r, &rc);
		input_run(&r);
	}
	pthread_join(t, NULL);
	race_collect(&r, &rc);
	virtio_input_stats(r.in, &st);
	CHECK(rc.ordered);
	CHECK(rc.whole);
	CHECK_EQ_U64(rc.last, RACE_UPDATES); /* the newest is never dropped */
	CHECK_EQ_U64(st.delivered, (uint64_t)rc.got);
	CHECK_EQ_U64(st.delivered + st.dropped, 2 * RACE_UPDATES);
	CHECK_EQ_U64(st.dropped % 2, 0);
	printf("sender thread: %d events delivered, %" PRIu64 " dropped\n",
	       rc.got, st.dropped);
	input_rig_close(&r);
}

int main(void)
{
	test_keyboard_config();
	test_tablet_config();
	test_create_errors();
	test_delivery();
	test_waiting_for_buffers();
	test_bounded_queue();
	test_status();
	test_driver_bugs();
	test_reset_with_queued_events();
	test_sender_thread();
	return check_report("test_virtio_input");
}
