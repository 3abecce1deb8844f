/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-balloon, driven through its rings by the simulated driver on
 * guest RAM mapped as the VMM maps it (private, and a shared memfd):
 * what it offers (ID 5, the features asked for, the queues), the target
 * in the configuration space with a configuration interrupt and a target
 * above RAM refused, inflated pages really leaving the host (mincore:
 * not resident any more; they read back as zeroes), deflated pages
 * counted, a page outside RAM failing the device with nothing discarded,
 * free page reporting (its queue index with and without the stats
 * queue; unaligned ranges refused), the statistics buffer held and given
 * back when fresh numbers are asked for, and `actual` from the driver.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/virtio_balloon.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>

#include "check.h"
#include "common/io_loop.h"
#include "devices/virtio/virtio_balloon.h"
#include "virtio_sim.h"

#define F(bit) (1ull << (bit))
#define F_V1 (F(VIRTIO_F_VERSION_1) | F(VIRTIO_RING_F_EVENT_IDX)) /* as Linux */
#define RAM (32u << 20)
#define PAGE 4096u

struct rig {
	struct virtio_sim *sim;
	struct virtio_balloon *b;
	struct virtio_dev *dev;
};

static int rig_open(struct rig *r, unsigned mem_flags, bool oom, bool report)
{
	struct phy_error err = {0};
	memset(r, 0, sizeof(*r));
	r->sim = sim_create_vm_ram(RAM, mem_flags);
	if (!r->sim)
		return -1;
	struct virtio_balloon_params p = {.deflate_on_oom = oom, .free_page_reporting = report};
	if (virtio_balloon_create(&r->b, &p, "virtio-balloon0", &r->sim->mem,
				  r->sim->loop, &err)) {
		fprintf(stderr, "virtio_balloon_create: %s\n", err.message);
		return -1;
	}
	r->dev = virtio_balloon_dev(r->b);
	sim_attach(r->sim, r->dev, NULL, NULL);
	return 0;
}

static void rig_close(struct rig *r)
{
	virtio_balloon_destroy(r->b);
	sim_destroy(r->sim);
}

static struct virtio_balloon_stats stats(struct rig *r)
{
	struct virtio_balloon_stats st;
	virtio_balloon_stats(r->b, &st);
	return st;
}

/* Adds a chain and notifies when the driver must (EVENT_IDX). */
static int add_kick(struct virtio_sim *sim, unsigned q, const struct sim_buf *b, unsigned n)
{
	uint16_t old = sim->q[q].avail_idx;
	int head = sim_add(sim, q, b, n, false);
	if (head >= 0 && sim_kick_needed(sim, q, old))
		sim_kick(sim, q);
	return head;
}

static void pump(struct rig *r)
{
	for (int i = 0; i < 10; i++) {
		io_loop_run_once(r->sim->loop, false);
		usleep(200);
	}
}

/* Pages of [gpa, gpa+len) resident in the host. */
static unsigned resident(struct rig *r, uint64_t gpa, uint64_t len)
{
	unsigned char vec[4096];
	if (len / PAGE > sizeof(vec) || mincore(sim_ptr(r->sim, gpa, len), len, vec))
		return ~0u;
	unsigned n = 0;
	for (uint64_t i = 0; i < len / PAGE; i++)
		n += vec[i] & 1;
	return n;
}

static uint64_t touched(struct rig *r, uint64_t len)
{
	uint64_t gpa = sim_alloc(r->sim, len, 2u << 20);
	memset(sim_ptr(r->sim, gpa, len), 0xa5, len);
	return gpa;
}

/* One readable buffer of page frame numbers on queue q. */
static void send_pfns(struct rig *r, unsigned q, const uint32_t *pfns, unsigned n)
{
	uint64_t gpa = sim_alloc(r->sim, n * 4u, 8);
	memcpy(sim_ptr(r->sim, gpa, n * 4u), pfns, n * 4u);
	struct sim_buf b = {gpa, n * 4u, false};
	REQUIRE(add_kick(r->sim, q, &b, 1) >= 0);
	pump(r);
}

static bool used(struct rig *r, unsigned q)
{
	uint16_t id;
	uint32_t len;
	return sim_get_used(r->sim, q, &id, &len) == 1;
}

static void test_features(void)
{
	struct rig r;
	REQUIRE(rig_open(&r, 0, false, false) == 0);
	CHECK_EQ_U64(r.dev->device_id, VIRTIO_ID_BALLOON);
	CHECK_EQ_U64(r.dev->device_id, 5);
	CHECK_EQ_U64(r.dev->nr_queues, 3);
	CHECK_EQ_U64(r.dev->config_size, 8);
	CHECK(r.dev->host_features & F(VIRTIO_BALLOON_F_STATS_VQ));
	CHECK(!(r.dev->host_features & F(VIRTIO_BALLOON_F_DEFLATE_ON_OOM)));
	CHECK(!(r.dev->host_features & F(VIRTIO_BALLOON_F_REPORTING)));
	CHECK(sim_negotiate(r.sim, F_V1 | F(VIRTIO_BALLOON_F_REPORTING)) == -1);
	rig_close(&r);

	REQUIRE(rig_open(&r, 0, true, true) == 0);
	CHECK_EQ_U64(r.dev->nr_queues, 4);
	CHECK(r.dev->host_features & F(VIRTIO_BALLOON_F_DEFLATE_ON_OOM));
	CHECK(r.dev->host_features & F(VIRTIO_BALLOON_F_REPORTING));
	REQUIRE(sim_start(r.sim, F_V1 | F(VIRTIO_BALLOON_F_STATS_VQ), 3, 64) == 0);

	/* The target: num_pages, and a configuration interrupt. */
	struct phy_error err = {0};
	unsigned before = r.sim->config_interrupts;
	CHECK(virtio_balloon_set_target(r.b, 256u << 10, &err) == 0);
	uint32_t cfg[2];
	sim_config_read(r.sim, 0, cfg, 8);
	CHECK_EQ_U64(le32toh(cfg[0]), 64);
	CHECK(r.sim->config_interrupts > before);
	CHECK_EQ_U64(stats(&r).target_bytes, 256u << 10);
	CHECK(virtio_balloon_set_target(r.b, (uint64_t)RAM + 1, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "more than the guest's");
	CHECK(virtio_balloon_set_target(r.b, RAM, &err) == 0);
	/* The driver says what it holds. */
	uint32_t actual = htole32(48);
	pthread_mutex_lock(&r.dev->lock);
	r.dev->ops->config_write(r.dev, 4, &actual, 4);
	r.dev->ops->config_write(r.dev, 0, &actual, 4); /* num_pages: the host's */
	pthread_mutex_unlock(&r.dev->lock);
	sim_config_read(r.sim, 0, cfg, 8);
	CHECK_EQ_U64(le32toh(cfg[0]), RAM / PAGE);
	CHECK_EQ_U64(le32toh(cfg[1]), 48);
	CHECK_EQ_U64(stats(&r).actual_bytes, 48 * PAGE);
	rig_close(&r);
}

/* Inflated pages leave the host, on private and on shared memory. */
static void test_inflate(unsigned mem_flags)
{
	struct rig r;
	REQUIRE(rig_open(&r, mem_flags, false, false) == 0);
	REQUIRE(sim_start(r.sim, F_V1 | F(VIRTIO_BALLOON_F_STATS_VQ), 3, 64) == 0);
	uint64_t gpa = touched(&r, 4u << 20);
	CHECK_EQ_U64(resident(&r, gpa, 4u << 20), 1024);
	static uint32_t pfns[1024];
	/* Out of order, with a gap, as a driver's pages come. */
	for (unsigned i = 0; i < 1024; i++)
		pfns[i] = htole32((uint32_t)(gpa / PAGE) + (i < 512 ? 512 + i : i - 512));
	send_pfns(&r, 0, pfns, 1000);
	CHECK(used(&r, 0));
	CHECK_EQ_U64(stats(&r).inflated_pages, 1000);
	CHECK_EQ_U64(stats(&r).discard_errors, 0);
	CHECK_EQ_U64(resident(&r, gpa, 4u << 20), 24);
	uint8_t *p = sim_ptr(r.sim, gpa, 4u << 20);
	CHECK(p[0] == 0 && p[(4u << 20) - 1] == 0 && p[500 * PAGE] == 0xa5);

	/* Deflated pages come back by being touched: counted, nothing else. */
	send_pfns(&r, 1, pfns, 1000);
	CHECK(used(&r, 1));
	CHECK_EQ_U64(stats(&r).deflated_pages, 1000);
	CHECK(!sim_needs_reset(r.sim));

	/* One page outside RAM: the device fails, nothing is discarded. */
	memset(sim_ptr(r.sim, gpa, 4u << 20), 0x5a, 4u << 20);
	pfns[700] = htole32(RAM / PAGE + 3);
	send_pfns(&r, 0, pfns, 1000);
	CHECK(sim_needs_reset(r.sim));
	CHECK_STR_CONTAINS(r.sim->last_log, "outside guest RAM");
	CHECK_EQ_U64(resident(&r, gpa, 4u << 20), 1024);
	CHECK_EQ_U64(stats(&r).inflated_pages, 1000);
	rig_close(&r);
}

static void test_reporting(void)
{
	struct rig r;
	/* With the stats queue, reporting is queue 3. */
	REQUIRE(rig_open(&r, GUEST_MEM_SHARED, false, true) == 0);
	REQUIRE(sim_start(r.sim, F_V1 | F(VIRTIO_BALLOON_F_STATS_VQ) |
				 F(VIRTIO_BALLOON_F_REPORTING), 4, 64) == 0);
	uint64_t gpa = touched(&r, 4u << 20);
	struct sim_buf b[2] = {{gpa, 2u << 20, true}, {gpa + (3u << 20), 1u << 20, true}};
	REQUIRE(add_kick(r.sim, 3, b, 2) >= 0);
	pump(&r);
	CHECK(used(&r, 3));
	CHECK_EQ_U64(stats(&r).reported_bytes, 3u << 20);
	CHECK_EQ_U64(resident(&r, gpa, 4u << 20), 256);
	/* A range not page-aligned. */
	struct sim_buf bad = {gpa + 512, PAGE, true};
	REQUIRE(add_kick(r.sim, 3, &bad, 1) >= 0);
	pump(&r);
	CHECK(sim_needs_reset(r.sim));
	CHECK_STR_CONTAINS(r.sim->last_log, "not page-aligned");
	rig_close(&r);

	/* Without it, queue 2. */
	REQUIRE(rig_open(&r, 0, false, true) == 0);
	REQUIRE(sim_start(r.sim, F_V1 | F(VIRTIO_BALLOON_F_REPORTING), 3, 64) == 0);
	gpa = touched(&r, 2u << 20);
	struct sim_buf one = {gpa, 2u << 20, true};
	REQUIRE(add_kick(r.sim, 2, &one, 1) >= 0);
	pump(&r);
	CHECK(used(&r, 2));
	CHECK_EQ_U64(resident(&r, gpa, 2u << 20), 0);
	CHECK_EQ_U64(stats(&r).reported_bytes, 2u << 20);
	rig_close(&r);
}

static void test_stats(void)
{
	struct rig r;
	REQUIRE(rig_open(&r, 0, false, false) == 0);
	REQUIRE(sim_start(r.sim, F_V1 | F(VIRTIO_BALLOON_F_STATS_VQ), 3, 64) == 0);
	struct __attribute__((packed)) {
		uint16_t tag;
		uint64_t val;
	} rec[3] = {
		{htole16(VIRTIO_BALLOON_S_MEMFREE), htole64(12345)},
		{htole16(VIRTIO_BALLOON_S_MEMTOT), htole64(1u << 30)},
		{htole16(99), htole64(7)}, /* unknown: ignored */
	};
	uint64_t gpa = sim_alloc(r.sim, sizeof(rec), 8);
	memcpy(sim_ptr(r.sim, gpa, sizeof(rec)), rec, sizeof(rec));
	struct sim_buf b = {gpa, sizeof(rec), false};
	REQUIRE(add_kick(r.sim, 2, &b, 1) >= 0);
	pump(&r);
	CHECK(!used(&r, 2)); /* held */
	struct virtio_balloon_stats st = stats(&r); /* and asks for more */
	CHECK_EQ_U64(st.guest_stats[VIRTIO_BALLOON_S_MEMFREE], 12345);
	CHECK_EQ_U64(st.guest_stats[VIRTIO_BALLOON_S_MEMTOT], 1u << 30);
	CHECK_EQ_U64(st.guest_stats_valid, F(VIRTIO_BALLOON_S_MEMFREE) | F(VIRTIO_BALLOON_S_MEMTOT));
	pump(&r);
	CHECK(used(&r, 2));
	CHECK(r.sim->q[2].interrupts > 0);
	/* A writable stats buffer is a driver error. */
	b.writable = true;
	REQUIRE(add_kick(r.sim, 2, &b, 1) >= 0);
	pump(&r);
	CHECK(sim_needs_reset(r.sim));
	/* A reset forgets what the driver held; the target stays. */
	struct phy_error err;
	CHECK(virtio_balloon_set_target(r.b, 1u << 20, &err) == 0);
	CHECK(sim_reset_from_vcpu(r.sim, 2000));
	CHECK_EQ_U64(stats(&r).actual_bytes, 0);
	CHECK_EQ_U64(stats(&r).target_bytes, 1u << 20);
	rig_close(&r);
}

int main(void)
{
	test_features();
	test_inflate(0);
	test_inflate(GUEST_MEM_SHARED);
	test_reporting();
	test_stats();
	return check_report("test_virtio_balloon");
}
