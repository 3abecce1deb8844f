/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-console, driven through its rings by the simulated driver:
 * features and the configuration space; the guest's output on the
 * transmitq reaching the output function byte for byte (one buffer,
 * scattered and indirect chains, high RAM); the host's input filling
 * receive buffers in order across several of them, waiting while there
 * are none, bounded at VIRTIO_CONSOLE_PENDING_MAX, refused while the
 * driver is not running and forgotten by a reset; and driver bugs
 * (buffers of the wrong direction, zero-length buffers, buffers outside
 * RAM) ending in NEEDS_RESET without crossing into the output.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "check.h"
#include "common/io_loop.h"
#include "devices/virtio/virtio_console.h"
#include "virtio_sim.h"

#define F(bit) (1ull << (bit))
#define F_V1 F(VIRTIO_F_VERSION_1)
#define F_ALL (F_V1 | F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_RING_F_INDIRECT_DESC))
#define RXQ 0
#define TXQ 1
#define QSIZE 64
#define RAM (4u << 20)

struct rig {
	struct virtio_sim *sim;
	struct virtio_console *con;
	uint8_t out[256 * 1024]; /* what the output function got */
	size_t out_len;
	unsigned out_calls;
};

static void on_output(void *opaque, const uint8_t *buf, size_t len)
{
	struct rig *r = opaque;
	NEED(r->out_len + len <= sizeof(r->out));
	memcpy(r->out + r->out_len, buf, len);
	r->out_len += len;
	r->out_calls++;
}

static bool busy(void *opaque)
{
	return virtio_console_busy(opaque);
}

static struct rig *rig_open(uint64_t high)
{
	struct rig *r = calloc(1, sizeof(*r));
	NEED(r);
	r->sim = sim_create(RAM, high);
	NEED(r->sim);
	struct phy_error err;
	NEED(virtio_console_create(&r->con, "virtio-console0", &r->sim->mem,
				      r->sim->loop, on_output, r, &err) == 0);
	sim_attach(r->sim, virtio_console_dev(r->con), busy, r->con);
	return r;
}

static struct rig *rig_start(uint64_t high)
{
	struct rig *r = rig_open(high);
	NEED(sim_start(r->sim, F_ALL, 2, QSIZE) == 0);
	return r;
}

static void rig_close(struct rig *r)
{
	virtio_console_destroy(r->con);
	sim_destroy(r->sim);
	free(r);
}

static void fill_pattern(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed + i / 251);
}

/* Sends len bytes of the guest's output as one chain of nbuf buffers. */
static void transmit(struct rig *r, const uint8_t *data, size_t len,
		     unsigned nbuf, bool indirect, uint64_t base)
{
	struct sim_buf b[64];
	NEED(nbuf <= 64 && nbuf <= len);
	uint64_t gpa = base ? base : sim_alloc(r->sim, len, 8);
	memcpy(sim_ptr(r->sim, gpa, len), data, len);
	size_t off = 0;
	for (unsigned i = 0; i < nbuf; i++) {
		size_t n = i + 1 == nbuf ? len - off : len / nbuf;
		b[i] = (struct sim_buf){ gpa + off, (uint32_t)n, false };
		off += n;
	}
	NEED(sim_add(r->sim, TXQ, b, nbuf, indirect) >= 0);
	sim_kick(r->sim, TXQ);
	sim_run(r->sim);
}

/* Posts n receive buffers of `size` bytes; returns the first's address. */
static uint64_t post_rx(struct rig *r, unsigned n, uint32_t size)
{
	uint64_t gpa = sim_alloc(r->sim, (uint64_t)n * size, 8);
	for (unsigned i = 0; i < n; i++) {
		struct sim_buf b = { gpa + (uint64_t)i * size, size, true };
		NEED(sim_add(r->sim, RXQ, &b, 1, false) >= 0);
	}
	sim_kick(r->sim, RXQ);
	sim_run(r->sim);
	return gpa;
}

static void test_features_and_config(void)
{
	struct rig *r = rig_open(0);
	struct virtio_dev *dev = virtio_console_dev(r->con);
	CHECK_EQ_U64(dev->device_id, VIRTIO_ID_CONSOLE);
	CHECK_EQ_U64(dev->nr_queues, 2);
	CHECK(dev->host_features & F_V1);
	/* One port, nothing of its own: no size, no multiport, no emergency
	 * write. */
	CHECK(!(dev->host_features & (F(VIRTIO_CONSOLE_F_SIZE) |
				      F(VIRTIO_CONSOLE_F_MULTIPORT) |
				      F(VIRTIO_CONSOLE_F_EMERG_WRITE))));
	CHECK_EQ_U64(dev->config_size, sizeof(struct virtio_console_config));
	CHECK(sim_negotiate(r->sim, F_V1 | F(VIRTIO_CONSOLE_F_MULTIPORT)) == -1);
	CHECK(sim_negotiate(r->sim, F_ALL) == 0);
	struct virtio_console_config c;
	memset(&c, 0xff, sizeof(c));
	sim_config_read(r->sim, 0, &c, sizeof(c));
	CHECK_EQ_U64(c.cols, 0);
	CHECK_EQ_U64(c.max_nr_ports, 0);
	rig_close(r);
}

static void test_transmit(void)
{
	struct rig *r = rig_start(1u << 20);
	static uint8_t data[70000];
	fill_pattern(data, sizeof(data), 3);

	transmit(r, (const uint8_t *)"hello\n", 6, 1, false, 0);
	CHECK_EQ_U64(r->out_len, 6);
	CHECK(!memcmp(r->out, "hello\n", 6));
	uint16_t id;
	uint32_t len;
	CHECK(sim_get_used(r->sim, TXQ, &id, &len) == 1 && len == 0);
	CHECK(r->sim->q[TXQ].interrupts >= 1);

	/* Scattered across 40 buffers, then through an indirect table, then
	 * in high RAM: the same bytes in the same order. */
	r->out_len = 0;
	transmit(r, data, sizeof(data), 40, false, 0);
	transmit(r, data, 1000, 7, true, 0);
	transmit(r, data + 1000, 5000, 3, false, SIM_HIGH_GPA + 4096);
	CHECK_EQ_U64(r->out_len, sizeof(data) + 6000);
	CHECK(!memcmp(r->out, data, sizeof(data)));
	CHECK(!memcmp(r->out + sizeof(data), data, 6000));
	struct virtio_console_stats st;
	virtio_console_stats(r->con, &st);
	CHECK_EQ_U64(st.tx_bytes, 6 + sizeof(data) + 6000);
	CHECK(!sim_needs_reset(r->sim));
	rig_close(r);
}

static void test_receive(void)
{
	struct rig *r = rig_start(0);
	uint8_t in[10000];
	fill_pattern(in, sizeof(in), 9);

	/* No buffers yet: the input waits, bounded, and is taken in part. */
	CHECK_EQ_U64(virtio_console_input(r->con, in, 3000), 3000);
	sim_run(r->sim);
	CHECK_EQ_U64(virtio_console_input(r->con, in + 3000, 7000),
		     VIRTIO_CONSOLE_PENDING_MAX - 3000);
	sim_run(r->sim);
	struct virtio_console_stats st;
	virtio_console_stats(r->con, &st);
	CHECK_EQ_U64(st.pending, VIRTIO_CONSOLE_PENDING_MAX);
	CHECK_EQ_U64(virtio_console_input(r->con, in, 1), 0);

	/* Ten buffers of 1000 bytes take it all, in order, 1000 each but the
	 * last; the rest of the input then goes into the remaining ones. */
	uint64_t gpa = post_rx(r, 10, 1000);
	uint16_t id;
	uint32_t len;
	size_t got = 0;
	uint8_t *buf = sim_ptr(r->sim, gpa, 10000);
	while (sim_get_used(r->sim, RXQ, &id, &len) == 1) {
		CHECK(len == 1000 || got + len == VIRTIO_CONSOLE_PENDING_MAX);
		got += len;
	}
	CHECK_EQ_U64(got, VIRTIO_CONSOLE_PENDING_MAX);
	CHECK(!memcmp(buf, in, VIRTIO_CONSOLE_PENDING_MAX));
	/* The next 5000 bytes: the buffer takes 4096 at a time. */
	const uint8_t *next = in + VIRTIO_CONSOLE_PENDING_MAX;
	CHECK_EQ_U64(virtio_console_input(r->con, next, 5000),
		     VIRTIO_CONSOLE_PENDING_MAX);
	sim_run(r->sim);
	CHECK_EQ_U64(virtio_console_input(r->con, next + VIRTIO_CONSOLE_PENDING_MAX,
					  5000 - VIRTIO_CONSOLE_PENDING_MAX),
		     5000 - VIRTIO_CONSOLE_PENDING_MAX);
	sim_run(r->sim);
	size_t more = 0;
	while (sim_get_used(r->sim, RXQ, &id, &len) == 1)
		more += len;
	/* Each buffer is used once, however little it got (the fifth got
	 * 96 bytes): the five left hold the next 4096, and the last 904 wait
	 * for the buffer posted after. */
	CHECK_EQ_U64(more, VIRTIO_CONSOLE_PENDING_MAX);
	CHECK(!memcmp(buf + 5000, next, VIRTIO_CONSOLE_PENDING_MAX));
	virtio_console_stats(r->con, &st);
	CHECK_EQ_U64(st.pending, 5000 - VIRTIO_CONSOLE_PENDING_MAX);
	uint64_t last = post_rx(r, 1, 1000);
	CHECK(sim_get_used(r->sim, RXQ, &id, &len) == 1 &&
	      len == 5000 - VIRTIO_CONSOLE_PENDING_MAX);
	CHECK(!memcmp(sim_ptr(r->sim, last, len), next + VIRTIO_CONSOLE_PENDING_MAX,
		      len));
	virtio_console_stats(r->con, &st);
	CHECK_EQ_U64(st.rx_bytes, VIRTIO_CONSOLE_PENDING_MAX + 5000);
	CHECK(r->sim->q[RXQ].interrupts >= 2);

	/* A reset forgets what waits; a device not running takes nothing. */
	CHECK_EQ_U64(virtio_console_input(r->con, in, 100), 100);
	sim_set_status(r->sim, 0);
	virtio_console_stats(r->con, &st);
	CHECK_EQ_U64(st.pending, 0);
	CHECK_EQ_U64(st.discarded, 100);
	CHECK_EQ_U64(virtio_console_input(r->con, in, 100), 0);
	sim_run(r->sim);
	rig_close(r);
}

/* A driver bug on queue q: NEEDS_RESET, nothing reaches the output, and
 * the device takes no more work until reset. */
static void check_bug(const char *what, unsigned q, const struct sim_buf *b,
		      unsigned n)
{
	struct rig *r = rig_start(0);
	if (q == RXQ)
		CHECK_EQ_U64(virtio_console_input(r->con, (const uint8_t *)"abc", 3), 3);
	int head = sim_add(r->sim, q, b, n, false);
	NEED(head >= 0);
	sim_kick(r->sim, q);
	sim_run(r->sim);
	if (!sim_needs_reset(r->sim))
		fprintf(stderr, "not reset: %s\n", what);
	CHECK(sim_needs_reset(r->sim));
	CHECK_EQ_U64(r->out_len, 0);
	CHECK(r->sim->logs >= 1);
	CHECK_EQ_U64(virtio_console_input(r->con, (const uint8_t *)"x", 1), 0);
	/* A reset and a new start bring it back. */
	NEED(sim_start(r->sim, F_ALL, 2, QSIZE) == 0);
	transmit(r, (const uint8_t *)"ok", 2, 1, false, 0);
	CHECK_EQ_U64(r->out_len, 2);
	rig_close(r);
}

static void test_driver_bugs(void)
{
	uint64_t a = 0x200000;
	struct sim_buf writable_tx[] = { { a, 16, true } };
	struct sim_buf mixed_tx[] = { { a, 16, false }, { a + 16, 16, true } };
	struct sim_buf empty_tx[] = { { a, 0, false } };
	struct sim_buf outside_tx[] = { { RAM - 8, 16, false } };
	struct sim_buf far_tx[] = { { 1ull << 40, 16, false } };
	struct sim_buf readable_rx[] = { { a, 16, false } };
	struct sim_buf empty_rx[] = { { a, 0, true } };
	struct sim_buf outside_rx[] = { { (uint64_t)RAM + 4096, 16, true } };
	check_bug("writable tx", TXQ, writable_tx, 1);
	check_bug("mixed tx", TXQ, mixed_tx, 2);
	check_bug("empty tx", TXQ, empty_tx, 1);
	check_bug("tx across RAM's end", TXQ, outside_tx, 1);
	check_bug("tx far outside", TXQ, far_tx, 1);
	check_bug("readable rx", RXQ, readable_rx, 1);
	check_bug("empty rx", RXQ, empty_rx, 1);
	check_bug("rx outside", RXQ, outside_rx, 1);

	/* A malformed ring: an avail entry naming a head past the ring. */
	struct rig *r = rig_start(0);
	sim_publish(r->sim, TXQ, QSIZE + 3);
	sim_kick(r->sim, TXQ);
	sim_run(r->sim);
	CHECK(sim_needs_reset(r->sim));
	CHECK_EQ_U64(r->out_len, 0);
	rig_close(r);
}

int main(void)
{
	test_features_and_config();
	test_transmit();
	test_receive();
	test_driver_bugs();
	return check_report("test_virtio_console");
}
