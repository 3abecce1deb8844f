/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Split virtqueues through virtio_dev with a trivial "echo" device (it
 * returns every chain at once): chains, index wrap-around, indirect
 * tables, notification suppression both ways, and every malformed ring
 * the device must refuse with DEVICE_NEEDS_RESET instead of crashing.
 */
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "check.h"
#include "devices/virtio/virtio_dev.h"
#include "virtio_sim.h"

#define LOW_RAM (16u << 20)
#define HIGH_RAM (1u << 20)
#define F_EVENT_IDX (1ull << VIRTIO_RING_F_EVENT_IDX)
#define F_INDIRECT (1ull << VIRTIO_RING_F_INDIRECT_DESC)
#define F_V1 (1ull << VIRTIO_F_VERSION_1)

struct echo {
	struct virtio_dev dev;
	struct virtqueue vqs[2];
	struct iovec iov[300];
	struct vq_chain chain; /* the last chain popped */
	int last_pop;
	unsigned popped;
};

static struct virtio_sim *sim;
static struct echo echo;

static void echo_notify(struct virtio_dev *dev, unsigned q)
{
	struct echo *e = dev->opaque;
	struct virtqueue *vq = &dev->queues[q];
	bool pushed = false;

	pthread_mutex_lock(&dev->lock);
	if (!virtio_dev_running(dev))
		goto out;
	do {
		vq_set_notify(vq, false);
		while ((e->last_pop = vq_pop(vq, dev->mem, &e->chain)) > 0) {
			e->popped++;
			vq_push(vq, e->chain.head, e->chain.in_len);
			pushed = true;
		}
		if (e->last_pop < 0) {
			virtio_dev_fail(dev, (int)q, vq->error);
			break;
		}
	} while (vq_set_notify(vq, true));
	if (pushed)
		virtio_dev_signal_queue(dev, q);
out:
	pthread_mutex_unlock(&dev->lock);
}

static const struct virtio_dev_ops echo_ops = {.queue_notify = echo_notify};

/* Resets and starts the echo device with chains of up to max_iov buffers. */
static void start(uint64_t features, uint16_t size, uint16_t max_iov)
{
	echo.chain.iov = echo.iov;
	echo.chain.max_iov = max_iov;
	echo.last_pop = 0;
	echo.popped = 0;
	sim->config_interrupts = 0;
	sim->logs = 0;
	sim->last_log[0] = 0;
	CHECK(sim_start(sim, F_V1 | features, 1, size) == 0);
}

static uint16_t used_idx(void)
{
	return __atomic_load_n(&sim->q[0].used->idx, __ATOMIC_ACQUIRE);
}

static void run(void)
{
	sim_kick(sim, 0);
	sim_run(sim);
}

/* Kicks and expects the device to find the ring broken for `why`. */
static void expect_broken(const char *what, const char *why)
{
	uint16_t before = used_idx();
	run();
	int failures = check_failures;
	CHECK(echo.last_pop == -1);
	CHECK(sim_needs_reset(sim));
	CHECK(sim->config_interrupts == 1);
	CHECK(sim->logs == 1);
	CHECK_STR_CONTAINS(sim->last_log, why);
	CHECK(used_idx() == before);
	if (check_failures != failures)
		fprintf(stderr, "  ... in case: %s\n", what);
	/* The device stays quiet until reset, whatever the driver does. */
	run();
	CHECK(sim->logs == 1);
}

static void test_pop_push(void)
{
	start(0, 8, 16);
	uint64_t out = sim_alloc(sim, 64, 8), in = sim_alloc(sim, 256, 8);
	struct sim_buf b[] = {{out, 16, false},
			      {out + 16, 48, false},
			      {in, 100, true},
			      {in + 128, 128, true}};
	int head = sim_add(sim, 0, b, 4, false);
	run();
	uint16_t id;
	uint32_t len;
	CHECK(sim_get_used(sim, 0, &id, &len) == 1);
	CHECK(id == head && len == 228);
	CHECK(echo.chain.nr_out == 2 && echo.chain.nr_in == 2);
	CHECK(echo.chain.out_len == 64 && echo.chain.in_len == 228);
	CHECK(echo.iov[0].iov_base == sim_ptr(sim, out, 16));
	CHECK(echo.iov[3].iov_base == sim_ptr(sim, in + 128, 128));
	CHECK(sim_get_used(sim, 0, &id, &len) == 0);
	/* Without EVENT_IDX or NO_INTERRUPT every completion interrupts. */
	CHECK(sim->q[0].interrupts == 1);

	/* Zero-length buffers take no iovec; buffers in high RAM work. */
	uint64_t high = SIM_HIGH_GPA + 4096;
	struct sim_buf z[] = {{0xdead0000, 0, false}, {high, 512, true}};
	sim_add(sim, 0, z, 2, false);
	run();
	CHECK(sim_get_used(sim, 0, &id, &len) == 1 && len == 512);
	CHECK(echo.chain.nr_out == 0 && echo.chain.nr_in == 1);
	CHECK(!sim_needs_reset(sim));
}

/* 16-bit ring indexes wrap: run requests across 65535 -> 0. */
static void test_wrap_around(uint64_t features)
{
	start(features | F_INDIRECT, 4, 16);
	struct sim_queue *sq = &sim->q[0];
	uint16_t first = 65530;
	sq->avail_idx = sq->last_used = first;
	sq->avail->idx = sq->used->idx = first;
	*sq->used_event = (uint16_t)(first - 1);
	echo.vqs[0].last_avail = echo.vqs[0].used_idx = first;
	echo.vqs[0].signalled_used = first;
	uint64_t buf = sim_alloc(sim, 64, 8);
	unsigned good = 0;
	for (unsigned i = 0; i < 12; i++) {
		struct sim_buf b[] = {{buf, 8, false}, {buf + 8, i + 1, true}};
		int h1 = sim_add(sim, 0, b, 2, false);
		int h2 = sim_add(sim, 0, b, 2, true);
		run();
		uint16_t id1, id2;
		uint32_t l1, l2;
		good += sim_get_used(sim, 0, &id1, &l1) == 1 && id1 == h1 &&
			l1 == i + 1 && sim_get_used(sim, 0, &id2, &l2) == 1 &&
			id2 == h2 && l2 == i + 1;
	}
	CHECK(good == 12);
	CHECK(used_idx() == (uint16_t)(first + 24));
	CHECK(!sim_needs_reset(sim));
}

static void test_indirect(void)
{
	start(F_INDIRECT, 8, 200);
	uint64_t buf = sim_alloc(sim, 4096, 8);
	struct sim_buf b[150];
	for (unsigned i = 0; i < 150; i++)
		b[i] = (struct sim_buf){buf + i * 16, 16, i >= 50};
	int head = sim_add(sim, 0, b, 150, true);
	run();
	uint16_t id;
	uint32_t len;
	CHECK(sim_get_used(sim, 0, &id, &len) == 1 && id == head &&
	      len == 100 * 16);
	CHECK(echo.chain.nr_out == 50 && echo.chain.nr_in == 100);
	CHECK(echo.iov[149].iov_base == sim_ptr(sim, buf + 149 * 16, 16));

	/* A direct buffer followed by an indirect table is one chain. */
	uint64_t table = sim_alloc(sim, 32, 16);
	struct vring_desc *t = sim_ptr(sim, table, 32);
	t[0] = (struct vring_desc){buf + 100, 4, 0, 0};
	t[0].flags = VRING_DESC_F_NEXT;
	t[0].next = 1;
	t[1] = (struct vring_desc){buf + 200, 8, VRING_DESC_F_WRITE, 0};
	*sim_desc(sim, 0, 5) =
		(struct vring_desc){buf, 16, VRING_DESC_F_NEXT, 6};
	*sim_desc(sim, 0, 6) =
		(struct vring_desc){table, 32, VRING_DESC_F_INDIRECT, 0};
	sim_publish(sim, 0, 5);
	run();
	CHECK(sim_get_used(sim, 0, &id, &len) == 1 && id == 5 && len == 8);
	CHECK(echo.chain.nr_out == 2 && echo.chain.nr_in == 1);
	CHECK(!sim_needs_reset(sim));
}

/* "Used Buffer Notification Suppression": with EVENT_IDX the driver names
 * the used index it wants an interrupt at; the device interrupts when
 * used->idx passes it, once per window since its last decision. */
static void test_event_idx_math(void)
{
	start(F_EVENT_IDX, 8, 16);
	struct virtqueue *vq = &echo.vqs[0];
	uint16_t *event = sim->q[0].used_event;

	pthread_mutex_lock(&echo.dev.lock);
	*event = 0;
	vq_push(vq, 0, 0);
	CHECK(vq_should_notify(vq)); /* the first decision always notifies */
	vq_push(vq, 0, 0);
	CHECK(!vq_should_notify(vq)); /* 2 is past 0+1 but 1 was told */
	*event = 2;
	vq_push(vq, 0, 0);
	CHECK(vq_should_notify(vq)); /* 2 -> 3 crosses event 2 */
	*event = 10;
	for (int i = 0; i < 3; i++)
		vq_push(vq, 0, 0);
	CHECK(!vq_should_notify(vq)); /* 6 has not reached 11 */
	for (int i = 0; i < 5; i++)
		vq_push(vq, 0, 0);
	CHECK(vq_should_notify(vq)); /* the window 6..11 crosses 10 */
	*event = 1;
	vq_push(vq, 0, 0);
	CHECK(!vq_should_notify(vq)); /* event long behind: stays quiet */
	/* Across the 16-bit wrap. */
	vq->used_idx = vq->signalled_used = 65534;
	*event = 65535;
	vq_push(vq, 0, 0);
	vq_push(vq, 0, 0);
	CHECK(vq->used_idx == 0);
	CHECK(vq_should_notify(vq));
	*event = 3;
	vq_push(vq, 0, 0);
	CHECK(!vq_should_notify(vq));
	pthread_mutex_unlock(&echo.dev.lock);
}

static void test_interrupt_suppression(void)
{
	uint64_t buf = sim_alloc(sim, 64, 8);
	struct sim_buf b[] = {{buf, 16, false}, {buf + 16, 1, true}};
	uint16_t id;
	uint32_t len;

	/* NO_INTERRUPT without EVENT_IDX. */
	start(0, 8, 16);
	sim->q[0].avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	sim_add(sim, 0, b, 2, false);
	run();
	CHECK(sim->q[0].interrupts == 0);
	CHECK(sim_get_used(sim, 0, &id, &len) == 1);
	sim->q[0].avail->flags = 0;
	sim_add(sim, 0, b, 2, false);
	run();
	CHECK(sim->q[0].interrupts == 1);

	/* EVENT_IDX: a driver that has not caught up gets no new one. */
	start(F_EVENT_IDX, 8, 16);
	sim_add(sim, 0, b, 2, false);
	run();
	CHECK(sim->q[0].interrupts == 1);
	sim_add(sim, 0, b, 2, false);
	run();
	CHECK(sim->q[0].interrupts == 1);
	CHECK(sim_get_used(sim, 0, &id, &len) == 1);
	CHECK(sim_get_used(sim, 0, &id, &len) == 1);
	sim_add(sim, 0, b, 2, false);
	run();
	CHECK(sim->q[0].interrupts == 2);
}

/* The device turns driver notifications off while it works; turning
 * them back on must report buffers that arrived in between. */
static void test_notify_race(uint64_t features)
{
	start(features, 8, 16);
	struct virtqueue *vq = &echo.vqs[0];
	uint64_t buf = sim_alloc(sim, 64, 8);
	struct sim_buf b[] = {{buf, 16, false}, {buf + 16, 1, true}};

	pthread_mutex_lock(&echo.dev.lock);
	CHECK(!vq_set_notify(vq, false));
	uint16_t old = sim->q[0].avail_idx;
	sim_add(sim, 0, b, 2, false); /* the driver, meanwhile */
	if (!(features & F_EVENT_IDX))
		CHECK(!sim_kick_needed(sim, 0, old));
	CHECK(vq_set_notify(vq, true)); /* more arrived: poll again */
	CHECK(vq_pop(vq, &sim->mem, &echo.chain) == 1);
	vq_push(vq, echo.chain.head, 0);
	CHECK(!vq_set_notify(vq, true)); /* nothing new: safe to sleep */
	old = sim->q[0].avail_idx;
	sim_add(sim, 0, b, 2, false);
	CHECK(sim_kick_needed(sim, 0, old)); /* and the driver will kick */
	pthread_mutex_unlock(&echo.dev.lock);
	run();
	CHECK(echo.popped == 1);
	CHECK(!sim_needs_reset(sim));
}

/* A device that stops taking buffers with some still available (a
 * stalled backend) asks for a notification at the driver's next one,
 * however many wait: the driver must kick for it. */
static void test_notify_next(uint64_t features)
{
	start(features, 8, 16);
	struct virtqueue *vq = &echo.vqs[0];
	uint64_t buf = sim_alloc(sim, 64, 8);
	struct sim_buf b[] = {{buf, 16, false}, {buf + 16, 1, true}};

	pthread_mutex_lock(&echo.dev.lock);
	CHECK(!vq_set_notify(vq, false));
	sim_add(sim, 0, b, 2, false);
	sim_add(sim, 0, b, 2, false);
	CHECK(!vq_notify_next(vq)); /* nothing added after it looked */
	uint16_t old = sim->q[0].avail_idx;
	sim_add(sim, 0, b, 2, false);
	CHECK(sim_kick_needed(sim, 0, old));
	pthread_mutex_unlock(&echo.dev.lock);
	run();
	CHECK(echo.popped == 3);
	CHECK(!sim_needs_reset(sim));
}

/* A device watching an idle ring itself: after vq_notify_off() the
 * driver's next buffer needs no notification, with EVENT_IDX or without,
 * vq_has_avail() sees it, and vq_set_notify(vq, true) turns notifications
 * back on. */
static void test_notify_off(uint64_t features)
{
	start(features, 8, 16);
	struct virtqueue *vq = &echo.vqs[0];
	uint64_t buf = sim_alloc(sim, 64, 8);
	struct sim_buf b[] = {{buf, 16, false}, {buf + 16, 1, true}};

	pthread_mutex_lock(&echo.dev.lock);
	CHECK(!vq_set_notify(vq, true)); /* idle, notifications on */
	CHECK(!vq_has_avail(vq));
	vq_notify_off(vq);
	uint16_t old = sim->q[0].avail_idx;
	sim_add(sim, 0, b, 2, false);
	CHECK(!sim_kick_needed(sim, 0, old));
	CHECK(vq_has_avail(vq));
	CHECK(vq_pop(vq, &sim->mem, &echo.chain) == 1);
	vq_push(vq, echo.chain.head, 1);
	CHECK(!vq_has_avail(vq));
	CHECK(!vq_set_notify(vq, true));
	old = sim->q[0].avail_idx;
	sim_add(sim, 0, b, 2, false);
	CHECK(sim_kick_needed(sim, 0, old));
	pthread_mutex_unlock(&echo.dev.lock);
	run();
	CHECK(echo.popped == 1);
	CHECK(!sim_needs_reset(sim));
}

/* Batched pushes: each element goes on the ring at once, the used index
 * at the batch, at vq_publish_used(), or when an interrupt is decided. */
static void test_push_batch(void)
{
	start(F_EVENT_IDX, 16, 16);
	struct virtqueue *vq = &echo.vqs[0];
	uint64_t buf = sim_alloc(sim, 64, 8);
	struct sim_buf b[] = {{buf, 16, false}, {buf + 16, 1, true}};
	uint16_t heads[5];

	pthread_mutex_lock(&echo.dev.lock);
	for (unsigned i = 0; i < 5; i++)
		CHECK(sim_add(sim, 0, b, 2, false) >= 0);
	for (unsigned i = 0; i < 4; i++) {
		CHECK(vq_pop(vq, &sim->mem, &echo.chain) == 1);
		heads[i] = echo.chain.head;
		vq_push_batch(vq, heads[i], 1, 3);
		CHECK(used_idx() == (i < 2 ? 0 : 3));
	}
	vq_publish_used(vq);
	CHECK(used_idx() == 4);
	vq_publish_used(vq);
	CHECK(used_idx() == 4);
	CHECK(vq_pop(vq, &sim->mem, &echo.chain) == 1);
	heads[4] = echo.chain.head;
	vq_push_batch(vq, heads[4], 1, 8);
	CHECK(used_idx() == 4);
	CHECK(vq_should_notify(vq));
	CHECK(used_idx() == 5);
	pthread_mutex_unlock(&echo.dev.lock);
	for (unsigned i = 0; i < 5; i++) {
		uint16_t id;
		uint32_t len;
		CHECK(sim_get_used(sim, 0, &id, &len) == 1);
		CHECK(id == heads[i] && len == 1);
	}
	CHECK(!sim_needs_reset(sim));
}

static void put_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	*sim_desc(sim, 0, i) = (struct vring_desc){addr, len, flags, next};
}

static void test_malformed_chains(void)
{
	const uint16_t N = VRING_DESC_F_NEXT, W = VRING_DESC_F_WRITE,
		       I = VRING_DESC_F_INDIRECT;
	uint64_t buf = sim_alloc(sim, 4096, 16);
	uint64_t table = sim_alloc(sim, 64 * 16, 16);
	struct vring_desc *t = sim_ptr(sim, table, 64 * 16);

	start(F_INDIRECT, 8, 16);
	put_desc(0, buf, 16, N, 1);
	put_desc(1, buf, 16, N, 2);
	put_desc(2, buf, 16, N, 0);
	sim_publish(sim, 0, 0);
	expect_broken("loop", "loops");

	start(F_INDIRECT, 8, 16);
	put_desc(0, buf, 16, N, 0);
	sim_publish(sim, 0, 0);
	expect_broken("self loop", "loops");

	start(F_INDIRECT, 8, 16);
	put_desc(3, buf, 16, N, 8);
	sim_publish(sim, 0, 3);
	expect_broken("next out of range", "out of range");

	start(F_INDIRECT, 8, 16);
	put_desc(0, 0x80000000ull, 16, 0, 0);
	sim_publish(sim, 0, 0);
	expect_broken("address in the hole", "outside guest RAM");

	start(F_INDIRECT, 8, 16);
	put_desc(0, LOW_RAM - 8, 16, 0, 0);
	sim_publish(sim, 0, 0);
	expect_broken("straddles the end of low RAM", "outside guest RAM");

	start(F_INDIRECT, 8, 16);
	put_desc(0, SIM_HIGH_GPA + HIGH_RAM - 1, 2, W, 0);
	sim_publish(sim, 0, 0);
	expect_broken("straddles the end of high RAM", "outside guest RAM");

	start(F_INDIRECT, 8, 16);
	put_desc(0, 0xfffffffffffffff0ull, 0x20, 0, 0);
	sim_publish(sim, 0, 0);
	expect_broken("address wraps around", "outside guest RAM");

	start(F_INDIRECT, 8, 16);
	put_desc(0, buf, 0xffffffffu, W, 0);
	sim_publish(sim, 0, 0);
	expect_broken("oversize length", "outside guest RAM");

	start(F_INDIRECT, 8, 16);
	put_desc(0, buf, 16, W, 1);
	put_desc(0, buf, 16, W | N, 1);
	put_desc(1, buf, 16, 0, 0);
	sim_publish(sim, 0, 0);
	expect_broken("readable after writable",
		      "readable buffer after a writable");

	start(F_INDIRECT, 8, 4);
	for (uint16_t i = 0; i < 5; i++)
		put_desc(i, buf, 16, i < 4 ? N : 0, (uint16_t)(i + 1));
	sim_publish(sim, 0, 0);
	expect_broken("more buffers than the device takes", "more buffers");

	start(F_INDIRECT, 8, 16);
	sim->q[0].avail->ring[0] = 8;
	sim->q[0].avail_idx = 1;
	__atomic_store_n(&sim->q[0].avail->idx, 1, __ATOMIC_RELEASE);
	expect_broken("head out of range", "out of range");

	start(F_INDIRECT, 8, 16);
	__atomic_store_n(&sim->q[0].avail->idx, 9, __ATOMIC_RELEASE);
	expect_broken("avail index jumps by size + 1",
		      "more than the queue size");

	start(F_INDIRECT, 8, 16);
	__atomic_store_n(&sim->q[0].avail->idx, 0xffff, __ATOMIC_RELEASE);
	expect_broken("avail index moves backwards",
		      "more than the queue size");

	/* Indirect tables. */
	start(F_INDIRECT, 8, 16);
	t[0] = (struct vring_desc){buf, 16, N, 1};
	t[1] = (struct vring_desc){table, 32, I, 0};
	put_desc(0, table, 32, I, 0);
	sim_publish(sim, 0, 0);
	expect_broken("nested indirect", "inside an indirect table");

	start(F_INDIRECT, 8, 16);
	put_desc(0, table, 32, I | N, 1);
	put_desc(1, buf, 16, W, 0);
	sim_publish(sim, 0, 0);
	expect_broken("indirect with NEXT", "also has NEXT");

	start(0, 8, 16);
	t[0] = (struct vring_desc){buf, 16, 0, 0};
	put_desc(0, table, 16, I, 0);
	sim_publish(sim, 0, 0);
	expect_broken("indirect not negotiated",
		      "without VIRTIO_F_INDIRECT_DESC");

	static const uint32_t bad_len[] = {0, 17, 16u * (VQ_MAX_SIZE + 1)};
	for (unsigned i = 0; i < 3; i++) {
		start(F_INDIRECT, 8, 16);
		put_desc(0, table, bad_len[i], I, 0);
		sim_publish(sim, 0, 0);
		expect_broken("indirect table length", "bad length");
	}

	start(F_INDIRECT, 8, 16);
	put_desc(0, 0x90000000ull, 64, I, 0);
	sim_publish(sim, 0, 0);
	expect_broken("indirect table outside RAM", "outside guest RAM");

	start(F_INDIRECT, 8, 16);
	t[0] = (struct vring_desc){buf, 16, N, 1};
	t[1] = (struct vring_desc){buf, 16, N, 0};
	put_desc(0, table, 32, I, 0);
	sim_publish(sim, 0, 0);
	expect_broken("loop in an indirect table", "loops");

	start(F_INDIRECT, 8, 16);
	t[0] = (struct vring_desc){buf, 16, N, 2};
	put_desc(0, table, 32, I, 0);
	sim_publish(sim, 0, 0);
	expect_broken("next beyond an indirect table", "out of range");

	start(F_INDIRECT, 8, 4);
	for (uint16_t i = 0; i < 5; i++)
		t[i] = (struct vring_desc){buf, 16, i < 4 ? N : 0,
					   (uint16_t)(i + 1)};
	put_desc(0, table, 5 * 16, I, 0);
	sim_publish(sim, 0, 0);
	expect_broken("indirect table with too many buffers", "more buffers");

	/* After a reset the device serves the same queue again. */
	start(F_INDIRECT, 8, 16);
	struct sim_buf ok[] = {{buf, 16, false}, {buf + 16, 4, true}};
	sim_add(sim, 0, ok, 2, true);
	run();
	uint16_t id;
	uint32_t len;
	CHECK(sim_get_used(sim, 0, &id, &len) == 1 && len == 4);
	CHECK(!sim_needs_reset(sim));
}

/* Ring addresses and sizes the driver programs are checked at enable. */
static void test_bad_queue_config(void)
{
	static const struct {
		const char *what;
		uint16_t size;
		uint64_t desc, avail, used;
		const char *why;
	} cases[] = {
		{"desc in the hole", 8, 0x80000000ull, 0x2000, 0x3000,
		 "outside guest RAM"},
		{"used straddles RAM end", 8, 0x1000, 0x2000, LOW_RAM - 8,
		 "outside guest RAM"},
		{"misaligned desc", 8, 0x1008, 0x2000, 0x3000, "misaligned"},
		{"misaligned used", 8, 0x1000, 0x2000, 0x3002, "misaligned"},
		{"size not a power of two", 6, 0x1000, 0x2000, 0x3000,
		 "power of two"},
		{"size above the maximum", 512, 0x1000, 0x2000, 0x3000,
		 "power of two"},
		{"size 0", 0, 0x1000, 0x2000, 0x3000, "power of two"},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sim->logs = 0;
		CHECK(sim_negotiate(sim, F_V1) == 0);
		pthread_mutex_lock(&echo.dev.lock);
		struct virtqueue *vq = &echo.vqs[0];
		vq->size = cases[i].size;
		vq->desc_gpa = cases[i].desc;
		vq->avail_gpa = cases[i].avail;
		vq->used_gpa = cases[i].used;
		virtio_dev_enable_queue(&echo.dev, 0);
		bool ready = vq->ready;
		pthread_mutex_unlock(&echo.dev.lock);
		int failures = check_failures;
		CHECK(!ready);
		CHECK(sim_needs_reset(sim));
		CHECK_STR_CONTAINS(sim->last_log, cases[i].why);
		if (check_failures != failures)
			fprintf(stderr, "  ... in case: %s\n", cases[i].what);
	}
	/* Enabling a queue before FEATURES_OK is a driver bug too. */
	sim_set_status(sim, 0);
	sim_set_status(sim,
		       VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	pthread_mutex_lock(&echo.dev.lock);
	virtio_dev_enable_queue(&echo.dev, 0);
	pthread_mutex_unlock(&echo.dev.lock);
	CHECK(sim_needs_reset(sim));
}

static void test_features(void)
{
	/* Features not offered, or a driver without VERSION_1, are refused. */
	CHECK(sim_negotiate(sim, F_V1 | F_INDIRECT | F_EVENT_IDX) == 0);
	CHECK(sim_negotiate(sim, F_V1 | (1ull << 40)) == -1);
	CHECK(sim_negotiate(sim, F_INDIRECT) == -1);
	/* DRIVER_OK without FEATURES_OK. */
	sim_set_status(sim, 0);
	sim_set_status(sim, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				    VIRTIO_CONFIG_S_DRIVER |
				    VIRTIO_CONFIG_S_DRIVER_OK);
	CHECK(sim_needs_reset(sim));
	/* The driver cannot clear NEEDS_RESET except by a reset. */
	sim_set_status(sim, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	CHECK(sim_needs_reset(sim));
	sim_set_status(sim, 0);
	CHECK(sim_status(sim) == 0);
}

static void test_iov_copy(void)
{
	uint8_t a[3] = {1, 2, 3}, b[5] = {4, 5, 6, 7, 8}, out[8] = {0};
	struct iovec v[] = {{a, 3}, {b, 5}};
	CHECK(iov_to_buf(v, 2, 2, out, 4) == 4);
	CHECK(out[0] == 3 && out[1] == 4 && out[3] == 6);
	CHECK(iov_to_buf(v, 2, 6, out, 8) == 2);
	CHECK(iov_to_buf(v, 2, 9, out, 8) == 0);
	uint8_t src[4] = {9, 9, 9, 9};
	CHECK(iov_from_buf(v, 2, 1, src, 4) == 4);
	CHECK(a[0] == 1 && a[1] == 9 && a[2] == 9 && b[0] == 9 && b[1] == 9 &&
	      b[2] == 6);
}

int main(void)
{
	sim = sim_create(LOW_RAM, HIGH_RAM);
	if (!sim) {
		fprintf(stderr, "cannot create the simulator (io_uring?)\n");
		return 1;
	}
	virtio_dev_init(&echo.dev, "echo", 0x3f, F_EVENT_IDX | F_INDIRECT, 0,
			echo.vqs, 1, 256, &sim->mem, &echo_ops, &echo);
	sim_attach(sim, &echo.dev, NULL, NULL);

	test_pop_push();
	test_wrap_around(0);
	test_wrap_around(F_EVENT_IDX);
	test_indirect();
	test_event_idx_math();
	test_interrupt_suppression();
	test_notify_race(0);
	test_notify_race(F_EVENT_IDX);
	test_notify_next(0);
	test_notify_next(F_EVENT_IDX);
	test_notify_off(0);
	test_notify_off(F_EVENT_IDX);
	test_push_batch();
	test_malformed_chains();
	test_bad_queue_config();
	test_features();
	test_iov_copy();

	virtio_dev_destroy(&echo.dev);
	sim_destroy(sim);
	return check_report("test_virtqueue");
}
