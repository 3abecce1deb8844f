/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-rng, driven through its ring by the simulated driver: what it
 * offers (no configuration space, no device features), requests of many
 * sizes and shapes filled from a source whose bytes are known (checked
 * byte for byte, in order, and nothing written past the used length),
 * /dev/urandom, a driver that never takes its used buffers back, driver
 * bugs and failing sources (NEEDS_RESET, one log line naming the source),
 * a non-blocking source that has nothing yet, the rate limiter (its
 * pace, and a flood of one-byte requests held to the bound), resets with
 * a read and with a timeout in flight, and destroying the device with
 * requests outstanding, with and without a loop thread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "check.h"
#include "common/io_loop.h"
#include "devices/virtio/virtio_rng.h"
#include "virtio_sim.h"

#define F(bit) (1ull << (bit))
#define F_V1 F(VIRTIO_F_VERSION_1)
#define F_ALL (F_V1 | F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_RING_F_INDIRECT_DESC))
#define RAM (8u << 20)
#define HIGH_RAM (256u << 10)
#define GUARD 0x5a
#define PAT_SIZE (1u << 20)

static uint8_t pattern[PAT_SIZE];

/* A byte sequence with no short period (xorshift32). */
static void make_pattern(void)
{
	uint32_t x = 0x12345678;
	for (size_t i = 0; i < PAT_SIZE; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		pattern[i] = (uint8_t)(x >> 11);
	}
}

/* A regular file (a memfd) holding the first n bytes of the pattern,
 * read from its start. */
static int pattern_fd(size_t n)
{
	int fd = memfd_create("rng-pattern", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	for (size_t done = 0; done < n;) {
		ssize_t w = write(fd, pattern + done, n - done);
		if (w <= 0) {
			close(fd);
			return -1;
		}
		done += (size_t)w;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

struct rig {
	struct virtio_sim *sim;
	struct virtio_rng *rng;
	struct virtio_dev *dev;
	int fd; /* the source, closed after the device */
};

static bool rng_busy(void *opaque)
{
	return virtio_rng_busy(opaque);
}

/* A device on fd (owned by the rig from here on); 0, or -1 with the
 * reason on stderr. */
static int rig_open(struct rig *r, int fd, const char *src, uint64_t rate,
		    uint32_t burst, uint16_t qsize)
{
	struct phy_error err = {0};
	struct virtio_rng_params p = {
		.src_fd = fd, .src_name = src, .bytes_per_sec = rate,
		.burst = burst, .queue_size = qsize,
	};
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->sim = sim_create(RAM, HIGH_RAM);
	if (!r->sim || fd < 0) {
		fprintf(stderr, "rig_open: no simulated driver or no source\n");
		sim_destroy(r->sim);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (virtio_rng_create(&r->rng, &p, "virtio-rng0", &r->sim->mem,
			      r->sim->loop, &err)) {
		fprintf(stderr, "virtio_rng_create: %s\n", err.message);
		sim_destroy(r->sim);
		close(fd);
		return -1;
	}
	r->dev = virtio_rng_dev(r->rng);
	sim_attach(r->sim, r->dev, rng_busy, r->rng);
	return 0;
}

static void rig_close(struct rig *r)
{
	virtio_rng_destroy(r->rng);
	sim_destroy(r->sim);
	if (r->fd >= 0)
		close(r->fd);
}

static struct virtio_rng_stats stats(struct rig *r)
{
	struct virtio_rng_stats st;
	virtio_rng_stats(r->rng, &st);
	return st;
}

/* Writable buffers of lens[i] bytes (fresh RAM, filled with GUARD; in
 * the high region when high), one chain, kicked when the driver must.
 * Returns the head; gpas[] gets the buffers' addresses. */
static int post(struct rig *r, const uint32_t *lens, unsigned n,
		bool indirect, bool high, uint64_t *gpas)
{
	static uint64_t high_next;
	struct sim_buf b[80];
	if (n > 80)
		abort();
	for (unsigned i = 0; i < n; i++) {
		uint64_t gpa;
		if (high) {
			if (high_next + lens[i] > HIGH_RAM)
				high_next = 0;
			gpa = SIM_HIGH_GPA + high_next;
			high_next += lens[i];
		} else {
			gpa = sim_alloc(r->sim, lens[i] ? lens[i] : 1, 8);
		}
		if (lens[i])
			memset(sim_ptr(r->sim, gpa, lens[i]), GUARD, lens[i]);
		b[i] = (struct sim_buf){gpa, lens[i], true};
		if (gpas)
			gpas[i] = gpa;
	}
	uint16_t old = r->sim->q[0].avail_idx;
	int head = sim_add(r->sim, 0, b, n, indirect);
	if (head >= 0 && sim_kick_needed(r->sim, 0, old))
		sim_kick(r->sim, 0);
	return head;
}

/* One writable buffer of len bytes. */
static int post1(struct rig *r, uint32_t len, uint64_t *gpa)
{
	return post(r, &len, 1, false, false, gpa);
}

static void kick(struct rig *r)
{
	sim_kick(r->sim, 0);
}

/* Lets what was just queued reach the kernel and what completes at once
 * complete (a read that finds a non-blocking source empty). */
static void settle(struct rig *r)
{
	for (int i = 0; i < 10; i++) {
		io_loop_run_once(r->sim->loop, false);
		usleep(1000);
	}
}

/* Whether the loop has nothing to do: a few passes without waiting
 * complete nothing. */
static bool loop_quiet(struct rig *r)
{
	for (int i = 0; i < 5; i++) {
		if (io_loop_run_once(r->sim->loop, false) != 0)
			return false;
		usleep(2000);
	}
	return true;
}

/* Runs the loop (without blocking for long) until pred holds or ~3 s. */
static bool run_until(struct rig *r, bool (*pred)(struct rig *))
{
	for (int i = 0; i < 3000 && !pred(r); i++) {
		io_loop_run_once(r->sim->loop, false);
		if (!pred(r))
			usleep(1000);
	}
	return pred(r);
}

static bool is_busy(struct rig *r) { return virtio_rng_busy(r->rng); }
static bool is_idle(struct rig *r) { return !virtio_rng_busy(r->rng); }
static bool has_used(struct rig *r)
{
	struct sim_queue *sq = &r->sim->q[0];
	return __atomic_load_n(&sq->used->idx, __ATOMIC_ACQUIRE) != sq->last_used;
}

/* ---- what the device offers ---- */

static void test_features(void)
{
	struct rig r;
	REQUIRE(rig_open(&r, open("/dev/urandom", O_RDONLY | O_CLOEXEC),
			 "/dev/urandom", 0, 0, 0) == 0);
	CHECK_EQ_U64(r.dev->device_id, VIRTIO_ID_RNG);
	CHECK_EQ_U64(r.dev->device_id, 4);
	CHECK_EQ_U64(r.dev->config_size, 0);
	CHECK_EQ_U64(r.dev->nr_queues, 1);
	CHECK_EQ_U64(r.dev->queues[0].max_size, VIRTIO_RNG_DEFAULT_QUEUE_SIZE);
	/* No device feature bits: only the ring's and VERSION_1. */
	CHECK_EQ_U64(r.dev->host_features, F_ALL);

	CHECK(sim_negotiate(r.sim, F_V1) == 0);
	CHECK(sim_negotiate(r.sim, F_ALL) == 0);
	CHECK(sim_negotiate(r.sim, 0) == -1);       /* legacy: refused */
	CHECK(sim_negotiate(r.sim, F_V1 | F(0)) == -1); /* not offered */
	CHECK(sim_negotiate(r.sim, F_V1 | F(VIRTIO_F_ACCESS_PLATFORM)) == -1);
	CHECK(sim_negotiate(r.sim, F_V1 | F(VIRTIO_F_RING_PACKED)) == -1);

	/* The configuration space is empty: it reads zeros. */
	uint32_t w = 0xdeadbeef;
	sim_config_read(r.sim, 0, &w, 4);
	CHECK_EQ_U64(w, 0);
	w = 0xdeadbeef;
	pthread_mutex_lock(&r.dev->lock);
	virtio_dev_read_config(r.dev, 0, &w, 4);
	pthread_mutex_unlock(&r.dev->lock);
	CHECK_EQ_U64(w, 0);
	CHECK(r.dev->ops->config_write == NULL); /* nothing to write */

	/* Kicks of queues it does not have, or before DRIVER_OK, do
	 * nothing. */
	CHECK(sim_start(r.sim, F_ALL, 1, 16) == 0);
	r.dev->ops->queue_notify(r.dev, 1);
	r.dev->ops->queue_notify(r.dev, 200);
	CHECK(!virtio_rng_busy(r.rng));
	CHECK(sim_negotiate(r.sim, F_ALL) == 0);
	CHECK(sim_queue_setup(r.sim, 0, 16) == 0);
	post1(&r, 16, NULL);
	kick(&r);
	sim_run(r.sim);
	CHECK_EQ_U64(stats(&r).requests, 0);
	sim_driver_ok(r.sim);
	kick(&r);
	sim_run(r.sim);
	CHECK_EQ_U64(stats(&r).requests, 1);
	CHECK(!sim_needs_reset(r.sim));
	rig_close(&r);
}

static void test_create_errors(void)
{
	struct virtio_sim *sim = sim_create(1 << 20, 0);
	REQUIRE(sim);
	struct virtio_rng *rng = NULL;
	struct phy_error err = {0};
	struct virtio_rng_params p = {.src_fd = -1, .src_name = "/nowhere"};

	CHECK_EQ_U64(virtio_rng_create(&rng, &p, "rng", &sim->mem, sim->loop, &err),
		     -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "/nowhere");
	CHECK_STR_CONTAINS(err.message, "not an open descriptor");

	int pfd[2];
	REQUIRE(pipe2(pfd, O_CLOEXEC) == 0);
	p.src_fd = pfd[1]; /* write-only */
	p.src_name = "the pipe";
	CHECK_EQ_U64(virtio_rng_create(&rng, &p, "rng", &sim->mem, sim->loop, &err),
		     -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "the pipe is not open for reading");

	int opath = open("/dev/urandom", O_PATH | O_CLOEXEC);
	p.src_fd = opath;
	p.src_name = NULL; /* named by its number */
	CHECK_EQ_U64(virtio_rng_create(&rng, &p, "rng", &sim->mem, sim->loop, &err),
		     -PHY_E_INVALID);
	char fdname[32];
	snprintf(fdname, sizeof(fdname), "fd %d", opath);
	CHECK_STR_CONTAINS(err.message, fdname);

	p.src_fd = pfd[0];
	p.queue_size = 48;
	CHECK_EQ_U64(virtio_rng_create(&rng, &p, "rng", &sim->mem, sim->loop, &err),
		     -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "queue size 48");
	CHECK_EQ_U64(virtio_rng_create(&rng, NULL, "rng", &sim->mem, sim->loop, &err),
		     -PHY_E_INVALID);
	CHECK(rng == NULL);

	p.queue_size = 1024;
	REQUIRE(virtio_rng_create(&rng, &p, "rng", &sim->mem, sim->loop, &err) == 0);
	CHECK_EQ_U64(virtio_rng_dev(rng)->queues[0].max_size, 1024);
	virtio_rng_destroy(rng);
	virtio_rng_destroy(NULL);
	close(opath);
	close(pfd[0]);
	close(pfd[1]);
	sim_destroy(sim);
}

/* ---- requests filled from a known source ---- */

/* Checks that the chain posted as `head` came back with what the source
 * holds at *off: the used length (the chain's length up to the cap),
 * each buffer byte for byte in order, the GUARD untouched after. */
static void check_filled(struct rig *r, int head, const uint32_t *lens,
			 const uint64_t *gpas, unsigned n, size_t *off)
{
	uint16_t id;
	uint32_t len;
	uint64_t total = 0;
	for (unsigned i = 0; i < n; i++)
		total += lens[i];
	uint32_t want = total < VIRTIO_RNG_MAX_REQUEST ? (uint32_t)total
						       : VIRTIO_RNG_MAX_REQUEST;
	REQUIRE(sim_get_used(r->sim, 0, &id, &len) == 1);
	CHECK_EQ_U64(id, (uint16_t)head);
	CHECK_EQ_U64(len, want);
	uint32_t left = len;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *p = sim_ptr(r->sim, gpas[i], lens[i]);
		uint32_t k = lens[i] < left ? lens[i] : left;
		CHECK(*off + k <= PAT_SIZE && memcmp(p, pattern + *off, k) == 0);
		*off += k;
		left -= k;
		bool guard = true;
		for (uint32_t j = k; j < lens[i]; j++)
			guard &= p[j] == GUARD;
		CHECK(guard);
	}
}

static void check_pattern_reads(uint64_t features)
{
	struct rig r;
	REQUIRE(rig_open(&r, pattern_fd(PAT_SIZE), "pattern", 0, 0, 64) == 0);
	REQUIRE(sim_start(r.sim, features, 1, 64) == 0);
	bool indirect = features & F(VIRTIO_RING_F_INDIRECT_DESC);
	size_t off = 0;
	uint64_t gpas[80];

	/* One buffer each, one request at a time. */
	static const uint32_t sizes[] = {1, 2, 63, 64, 100, 511, 4096, 65535,
					 65536, 65537, 100000};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned irq = r.sim->q[0].interrupts;
		int head = post(&r, &sizes[i], 1, false, false, gpas);
		REQUIRE(head >= 0);
		sim_run(r.sim);
		check_filled(&r, head, &sizes[i], gpas, 1, &off);
		CHECK_EQ_U64(r.sim->q[0].interrupts, irq + 1);
	}

	/* Chains of several buffers, direct and indirect, in low and high
	 * RAM; several posted at once, served in order. */
	static const uint32_t three[] = {10, 4000, 30000};
	static const uint32_t over[] = {40000, 40000}; /* cut at 64 KiB */
	uint32_t many[70];
	for (int i = 0; i < 70; i++)
		many[i] = 7 + i;
	struct {
		const uint32_t *lens;
		unsigned n;
		bool indirect, high;
	} chains[] = {
		{three, 3, false, false}, {three, 3, false, true},
		{over, 2, false, false},  {many, 8, false, true},
		{three, 3, true, false},  {many, 60, true, true},
	};
	int heads[6];
	uint64_t cg[6][80];
	unsigned nch = 0;
	for (unsigned i = 0; i < 6; i++) {
		if (chains[i].indirect && !indirect)
			continue;
		heads[nch] = post(&r, chains[i].lens, chains[i].n,
				  chains[i].indirect, chains[i].high, cg[nch]);
		REQUIRE(heads[nch] >= 0);
		chains[nch] = chains[i];
		nch++;
	}
	unsigned irq = r.sim->q[0].interrupts;
	sim_run(r.sim);
	CHECK(r.sim->q[0].interrupts > irq);
	for (unsigned i = 0; i < nch; i++)
		check_filled(&r, heads[i], chains[i].lens, cg[i], chains[i].n, &off);

	struct virtio_rng_stats st = stats(&r);
	CHECK_EQ_U64(st.bytes, off);
	CHECK_EQ_U64(st.requests, sizeof(sizes) / sizeof(sizes[0]) + nch);
	CHECK_EQ_U64(st.throttled, 0);
	CHECK_EQ_U64(st.source_errors, 0);
	CHECK(!sim_needs_reset(r.sim));
	CHECK(!virtio_rng_busy(r.rng));
	CHECK_EQ_U64(r.sim->logs, 0);
	rig_close(&r);
}

static void test_pattern_reads(void)
{
	check_pattern_reads(F_ALL);
	check_pattern_reads(F_V1); /* no EVENT_IDX, no indirect */
}

/* A 100-byte file: a whole request, a short one, then the end. */
static void test_source_end(void)
{
	struct rig r;
	REQUIRE(rig_open(&r, pattern_fd(100), "/var/lib/seed.bin", 0, 0, 16) == 0);
	REQUIRE(sim_start(r.sim, F_ALL, 1, 16) == 0);
	uint64_t g1, g2, g3;
	int h1 = post1(&r, 64, &g1);
	int h2 = post1(&r, 64, &g2);
	sim_run(r.sim);
	uint16_t id;
	uint32_t len;
	REQUIRE(sim_get_used(r.sim, 0, &id, &len) == 1);
	CHECK(id == h1 && len == 64);
	CHECK(memcmp(sim_ptr(r.sim, g1, 64), pattern, 64) == 0);
	REQUIRE(sim_get_used(r.sim, 0, &id, &len) == 1);
	CHECK(id == h2 && len == 36); /* the spec allows fewer bytes */
	CHECK(memcmp(sim_ptr(r.sim, g2, 36), pattern + 64, 36) == 0);
	CHECK_EQ_U64(*(uint8_t *)sim_ptr(r.sim, g2 + 36, 1), GUARD);
	CHECK(!sim_needs_reset(r.sim));

	post1(&r, 64, &g3);
	sim_run(r.sim);
	CHECK(sim_needs_reset(r.sim));
	CHECK_EQ_U64(r.sim->logs, 1);
	CHECK_STR_CONTAINS(r.sim->last_log, "virtio-rng0");
	CHECK_STR_CONTAINS(r.sim->last_log, "/var/lib/seed.bin");
	CHECK_STR_CONTAINS(r.sim->last_log, "reached its end");
	CHECK_STR_CONTAINS(r.sim->last_log, "needs a reset");
	CHECK(r.sim->config_interrupts >= 1);
	CHECK_EQ_U64(sim_get_used(r.sim, 0, &id, &len), 0);
	CHECK_EQ_U64(stats(&r).source_errors, 1);
	CHECK_EQ_U64(*(uint8_t *)sim_ptr(r.sim, g3, 1), GUARD);

	/* Failed: kicks read nothing more, and nothing spins. */
	post1(&r, 64, NULL);
	kick(&r);
	sim_run(r.sim);
	CHECK(!virtio_rng_busy(r.rng));
	CHECK(loop_quiet(&r));
	CHECK_EQ_U64(stats(&r).source_errors, 1);
	CHECK_EQ_U64(r.sim->logs, 1);
	rig_close(&r);

	/* An empty file fails the first request. */
	REQUIRE(rig_open(&r, pattern_fd(0), "empty.seed", 0, 0, 16) == 0);
	REQUIRE(sim_start(r.sim, F_ALL, 1, 16) == 0);
	post1(&r, 32, NULL);
	sim_run(r.sim);
	CHECK(sim_needs_reset(r.sim));
	CHECK_STR_CONTAINS(r.sim->last_log, "entropy source empty.seed reached its end");
	CHECK_EQ_U64(stats(&r).requests, 0);
	/* A reset and a new start: the source is still at its end. */
	REQUIRE(sim_start(r.sim, F_ALL, 1, 16) == 0);
	CHECK(!sim_needs_reset(r.sim));
	post1(&r, 32, NULL);
	sim_run(r.sim);
	CHECK(sim_needs_reset(r.sim));
	CHECK_EQ_U64(r.sim->logs, 2);
	rig_close(&r);

	/* A pipe whose writer left. */
	int pfd[2];
	REQUIRE(pipe2(pfd, O_CLOEXEC) == 0);
	close(pfd[1]);
	REQUIRE(rig_open(&r, pfd[0], "seed-pipe", 0, 0, 16) == 0);
	REQUIRE(sim_start(r.sim, F_ALL, 1, 16) == 0);
	post1(&r, 32, NULL);
	sim_run(r.sim);
	CHECK(sim_needs_reset(r.sim));
	CHECK_STR_CONTAINS(r.sim->last_log, "seed-pipe reached its end");
	rig_close(&r);
}

/* A source whose reads fail: a directory. */
static void test_source_error(void)
{
	struct rig r;
	REQUIRE(rig_open(&r, open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC),
			 "the root directory", 0, 0, 16) == 0);
	REQUIRE(sim_start(r.sim, F_ALL, 1, 16) == 0);
	uint64_t gpa;
	post1(&r, 32, &gpa);
	sim_run(r.sim);
	CHECK(sim_needs_reset(r.sim));
	CHECK_EQ_U64(r.sim->logs, 1);
	CHECK_STR_CONTAINS(r.sim->last_log, "entropy source the root directory: read failed");
	CHECK_STR_CONTAINS(r.sim->last_log, strerror(EISDIR));
	CHECK_EQ_U64(stats(&r).source_errors, 1);
	CHECK_EQ_U64(stats(&r).requests, 0);
	CHECK_EQ_U64(r.sim->q[0].used->idx, 0);
	CHECK_EQ_U64(*(uint8_t *)sim_ptr(r.sim, gpa, 1), GUARD);
	post1(&r, 32, NULL);
	kick(&r);
	sim_run(r.sim);
	CHECK(!virtio_rng_busy(r.rng));
	CHECK(loop_quiet(&r));
	CHECK_EQ_U64(stats(&r).source_errors, 1);
	rig_close(&r);
}

static void test_urandom(void)
{
	struct rig r;
	REQUIRE(rig_open(&r, open("/dev/urandom", O_RDONLY | O_CLOEXEC),
			 "/dev/urandom", 0, 0, 0) == 0);
	REQUIRE(sim_start(r.sim, F_ALL, 1, 64) == 0);
	uint64_t a, b, c;
	post1(&r, 4096, &a);
	post1(&r, 4096, &b);
	post1(&r, 200000, &c);
	sim_run(r.sim);
	uint16_t id;
	uint32_t len;
	REQUIRE(sim_get_used(r.sim, 0, &id, &len) == 1);
	CHECK_EQ_U64(len, 4096);
	REQUIRE(sim_get_used(r.sim, 0, &id, &len) == 1);
	CHECK_EQ_U64(len, 4096);
	REQUIRE(sim_get_used(r.sim, 0, &id, &len) == 1);
	CHECK_EQ_U64(len, VIRTIO_RNG_MAX_REQUEST);
	const uint8_t *pa = sim_ptr(r.sim, a, 4096), *pb = sim_ptr(r.sim, b, 4096);
	const uint8_t *pc = sim_ptr(r.sim, c, 200000);
	CHECK(memcmp(pa, pb, 4096) != 0);
	/* Random bytes: no long run of the guard, all byte values seen. */
	unsigned seen[256] = {0}, guards = 0;
	for (uint32_t i = 0; i < VIRTIO_RNG_MAX_REQUEST; i++)
		seen[pc[i]]++;
	for (int v = 0; v < 256; v++)
		CHECK(seen[v] > 0);
	for (uint32_t i = 0; i < 64; i++)
		guards += pa[i] == GUARD;
	CHECK(guards < 16);
	CHECK_EQ_U64(pc[VIRTIO_RNG_MAX_REQUEST], GUARD); /* the cap held */
	CHECK_EQ_U64(stats(&r).bytes, 8192 + VIRTIO_RNG_MAX_REQUEST);
	rig_close(&r);
}

/* The driver posts a ring's worth and never takes its used buffers back:
 * the device fills them all, then has nothing to do and waits for a
 * notification, neither reading nor spinning. */
static void check_never_consumed(uint64_t features)
{
	struct rig r;
	REQUIRE(rig_open(&r, open("/dev/urandom", O_RDONLY | O_CLOEXEC),
			 "/dev/urandom", 0, 0, 8) == 0);
	REQUIRE(sim_start(r.sim, features, 1, 8) == 0);
	for (int i = 0; i < 8; i++)
		REQUIRE(post1(&r, 32, NULL) >= 0);
	CHECK(post1(&r, 32, NULL) < 0); /* the ring is full */
	sim_run(r.sim);
	struct sim_queue *sq = &r.sim->q[0];
	CHECK_EQ_U64(sq->used->idx, 8);
	CHECK_EQ_U64(stats(&r).requests, 8);
	for (int i = 0; i < 20; i++)
		kick(&r);
	sim_run(r.sim);
	CHECK_EQ_U64(stats(&r).requests, 8);
	CHECK_EQ_U64(sq->used->idx, 8);
	CHECK(!virtio_rng_busy(r.rng));
	CHECK(loop_quiet(&r));
	/* It asked to be notified of the next buffer. */
	if (features & F(VIRTIO_RING_F_EVENT_IDX))
		CHECK_EQ_U64(*sq->avail_event, 8);
	else
		CHECK_EQ_U64(sq->used->flags & VRING_USED_F_NO_NOTIFY, 0);
	CHECK(!sim_needs_reset(r.sim));
	rig_close(&r);
}

static void test_never_consumed(void)
{
	check_never_consumed(F_ALL);
	check_never_consumed(F_V1);
}

/* ---- driver bugs ---- */

static void expect_bug(const struct sim_buf *b, unsigned n, bool indirect,
		       const char *why)
{
	struct rig r;
	REQUIRE(rig_open(&r, pattern_fd(4096), "pattern", 0, 0, 16) == 0);
	REQUIRE(sim_start(r.sim, F_ALL, 1, 16) == 0);
	CHECK(sim_add(r.sim, 0, b, n, indirect) >= 0);
	kick(&r);
	sim_run(r.sim);
	CHECK(sim_needs_reset(r.sim));
	CHECK_STR_CONTAINS(r.sim->last_log, why);
	CHECK_STR_CONTAINS(r.sim->last_log, "needs a reset");
	CHECK(r.sim->config_interrupts >= 1);
	CHECK_EQ_U64(r.sim->q[0].used->idx, 0);
	CHECK_EQ_U64(stats(&r).requests, 0);
	CHECK_EQ_U64(lseek(r.fd, 0, SEEK_CUR), 0); /* nothing was read */
	CHECK(!virtio_rng_busy(r.rng));
	rig_close(&r);
}

static void test_driver_bugs(void)
{
	/* Past the rings and indirect tables sim_start() allocates. */
	const uint64_t a = 0x100000, b = 0x110000;
	struct sim_buf readable[] = {{a, 16, false}, {b, 16, true}};
	expect_bug(readable, 2, false, "request has a device-readable buffer");
	expect_bug(readable, 2, true, "request has a device-readable buffer");
	struct sim_buf only_out[] = {{a, 16, false}};
	expect_bug(only_out, 1, false, "device-readable");
	struct sim_buf empty[] = {{a, 0, true}};
	expect_bug(empty, 1, false, "request has no writable buffer");
	struct sim_buf outside[] = {{RAM - 8, 16, true}};
	expect_bug(outside, 1, false, "outside guest RAM");
	struct sim_buf too_many[VIRTIO_RNG_MAX_BUFFERS + 1];
	for (unsigned i = 0; i <= VIRTIO_RNG_MAX_BUFFERS; i++)
		too_many[i] = (struct sim_buf){a + 16 * i, 16, true};
	expect_bug(too_many, VIRTIO_RNG_MAX_BUFFERS + 1, true, "more buffers");
	/* As many as allowed are fine. */
	struct rig r;
	REQUIRE(rig_open(&r, pattern_fd(4096), "pattern", 0, 0, 16) == 0);
	REQUIRE(sim_start(r.sim, F_ALL, 1, 16) == 0);
	CHECK(sim_add(r.sim, 0, too_many, VIRTIO_RNG_MAX_BUFFERS, true) >= 0);
	kick(&r);
	sim_run(r.sim);
	uint16_t id;
	uint32_t len;
	CHECK(sim_get_used(r.sim, 0, &id, &len) == 1 && len == 16 * VIRTIO_RNG_MAX_BUFFERS);
	CHECK(!sim_needs_reset(r.sim));

	/* A malformed ring: the avail index jumps past the ring. */
	r.sim->q[0].avail->idx = (uint16_t)(r.sim->q[0].avail_idx + 100);
	kick(&r);
	sim_run(r.sim);
	CHECK(sim_needs_reset(r.sim));
	CHECK_STR_CONTAINS(r.sim->last_log, "more than the queue size");
	rig_close(&r);
}

/* ---- a non-blocking source with nothing to read ---- */

/* Linux 6.1's io_uring answers a read of an empty non-blocking pipe with
 * -EAGAIN, and the device polls the source; later kernels poll inside
 * io_uring. Either way the request waits without a spin, and is served
 * once the pipe has something. */

static void test_nonblocking_source(void)
{
	int pfd[2];
	REQUIRE(pipe2(pfd, O_CLOEXEC | O_NONBLOCK) == 0);
	struct rig r;
	REQUIRE(rig_open(&r, pfd[0], "nb-pipe", 0, 0, 16) == 0);
	REQUIRE(sim_start(r.sim, F_ALL, 1, 16) == 0);
	uint64_t gpa;
	int head = post1(&r, 64, &gpa);
	REQUIRE(run_until(&r, is_busy));
	settle(&r);
	/* Waiting on a poll, not retrying: the loop is quiet. */
	CHECK(loop_quiet(&r));
	CHECK(virtio_rng_busy(r.rng));
	CHECK_EQ_U64(stats(&r).requests, 0);
	CHECK_EQ_U64(*(uint8_t *)sim_ptr(r.sim, gpa, 1), GUARD);

	REQUIRE(write(pfd[1], "0123456789abcdefghijklmnopqrstuv", 32) == 32);
	CHECK(run_until(&r, has_used));
	uint16_t id;
	uint32_t len;
	REQUIRE(sim_get_used(r.sim, 0, &id, &len) == 1);
	CHECK(id == head && len == 32);
	CHECK(memcmp(sim_ptr(r.sim, gpa, 32), "0123456789abcdefghijklmnopqrstuv", 32) == 0);
	CHECK(!sim_needs_reset(r.sim));

	/* The writer leaves while a request waits: the end. */
	post1(&r, 64, NULL);
	CHECK(run_until(&r, is_busy));
	close(pfd[1]);
	CHECK(run_until(&r, is_idle));
	CHECK(sim_needs_reset(r.sim));
	CHECK_STR_CONTAINS(r.sim->last_log, "nb-pipe reached its end");
	rig_close(&r);
}

/* While a request is being served the driver need not notify: the
 * device looks at the ring when the read completes. Once the ring is
 * empty it asks for notifications again. */
static void check_notify_suppressed(uint64_t features)
{
	int pfd[2];
	REQUIRE(pipe2(pfd, O_CLOEXEC) == 0);
	struct rig r;
	REQUIRE(rig_open(&r, pfd[0], "pipe", 0, 0, 16) == 0);
	REQUIRE(sim_start(r.sim, features, 1, 16) == 0);
	struct sim_queue *sq = &r.sim->q[0];
	post1(&r, 64, NULL);
	REQUIRE(run_until(&r, is_busy));
	if (!(features & F(VIRTIO_RING_F_EVENT_IDX)))
		CHECK(sq->used->flags & VRING_USED_F_NO_NOTIFY);
	uint64_t gpa = sim_alloc(r.sim, 64, 8);
	struct sim_buf b = {gpa, 64, true};
	uint16_t old = sq->avail_idx;
	REQUIRE(sim_add(r.sim, 0, &b, 1, false) >= 0);
	CHECK(!sim_kick_needed(r.sim, 0, old));
	REQUIRE(write(pfd[1], "first", 5) == 5);
	CHECK(run_until(&r, has_used));
	settle(&r);
	CHECK(virtio_rng_busy(r.rng)); /* the second, without a kick */
	REQUIRE(write(pfd[1], "second", 6) == 6);
	CHECK(run_until(&r, is_idle));
	CHECK(memcmp(sim_ptr(r.sim, gpa, 6), "second", 6) == 0);
	CHECK_EQ_U64(stats(&r).requests, 2);
	if (features & F(VIRTIO_RING_F_EVENT_IDX))
		CHECK_EQ_U64(*sq->avail_event, 2);
	else
		CHECK_EQ_U64(sq->used->flags & VRING_USED_F_NO_NOTIFY, 0);
	old = sq->avail_idx;
	b.gpa = sim_alloc(r.sim, 64, 8);
	REQUIRE(sim_add(r.sim, 0, &b, 1, false) >= 0);
	CHECK(sim_kick_needed(r.sim, 0, old));
	rig_close(&r);
	close(pfd[1]);
}

static void test_notify_suppressed(void)
{
	check_notify_suppressed(F_ALL);
	check_notify_suppressed(F_V1);
}

/* ---- the rate limiter ---- */

/* 256 KiB at 256 KiB/s with a 4 KiB bucket: about a second, in pieces
 * no larger than the bucket. */
static void test_rate_limit(void)
{
	const uint64_t rate = 256 << 10, total = 256 << 10;
	const uint32_t burst = 4096;
	struct rig r;
	REQUIRE(rig_open(&r, open("/dev/urandom", O_RDONLY | O_CLOEXEC),
			 "/dev/urandom", rate, burst, 16) == 0);
	REQUIRE(sim_start(r.sim, F_ALL, 1, 16) == 0);
	uint64_t base = sim_alloc(r.sim, 16 * 16384, 8);

	double t0 = now_s();
	uint64_t got = 0;
	bool sizes_ok = true;
	unsigned requests = 0;
	while (got < total && now_s() - t0 < 20) {
		struct sim_queue *sq = &r.sim->q[0];
		uint16_t old = sq->avail_idx;
		while (sq->num_free) {
			struct sim_buf b = {base + 16384ull * sq->free_head, 16384, true};
			sim_add(r.sim, 0, &b, 1, false);
		}
		if (sim_kick_needed(r.sim, 0, old))
			kick(&r);
		io_loop_run_once(r.sim->loop, true);
		uint16_t id;
		uint32_t len;
		while (sim_get_used(r.sim, 0, &id, &len)) {
			sizes_ok &= len > 0 && len <= burst;
			got += len;
			requests++;
		}
	}
	double dt = now_s() - t0, ideal = (double)(total - burst) / rate;
	printf("rate limit: %" PRIu64 " bytes in %u requests, %.3f s (ideal %.3f s), %" PRIu64
	       " waits\n", got, requests, dt, ideal, stats(&r).throttled);
	CHECK(got >= total);
	CHECK(sizes_ok);
	CHECK(dt >= 0.5 * ideal);
	CHECK(dt <= 4 * ideal + 1);
	struct virtio_rng_stats st = stats(&r);
	CHECK(st.throttled >= total / VIRTIO_RNG_RESUME_BYTES / 2);
	CHECK_EQ_U64(st.bytes, got);
	CHECK(!sim_needs_reset(r.sim));
	rig_close(&r);
}

/* A guest that floods one-byte requests (its ring always full, a kick
 * after each look at it) gets at most (burst + rate * t) /
 * VIRTIO_RNG_MIN_CHARGE of them. */
static void test_flood(void)
{
	const uint64_t rate = 64 << 10;
	const uint32_t burst = 4096;
	struct rig r;
	REQUIRE(rig_open(&r, open("/dev/urandom", O_RDONLY | O_CLOEXEC),
			 "/dev/urandom", rate, burst, 64) == 0);
	REQUIRE(sim_start(r.sim, F_ALL, 1, 64) == 0);
	uint64_t base = sim_alloc(r.sim, 64 * 8, 8);
	uint64_t sqes0, enters0, sqes1, enters1;
	io_loop_stats(r.sim->loop, &sqes0, &enters0);

	double t0 = now_s();
	while (now_s() - t0 < 0.5) {
		struct sim_queue *sq = &r.sim->q[0];
		while (sq->num_free) {
			struct sim_buf b = {base + 8ull * sq->free_head, 1, true};
			sim_add(r.sim, 0, &b, 1, false);
		}
		kick(&r);
		io_loop_run_once(r.sim->loop, true);
		uint16_t id;
		uint32_t len;
		while (sim_get_used(r.sim, 0, &id, &len))
			;
		/* A kick every 100 us or so: the guest need not spin the
		 * host's CPUs for the test (a loaded host would run the
		 * loop late and the small bucket would overflow). */
		usleep(100);
	}
	double dt = now_s() - t0;
	io_loop_stats(r.sim->loop, &sqes1, &enters1);
	struct virtio_rng_stats st = stats(&r);
	double bound = (burst + rate * dt) / VIRTIO_RNG_MIN_CHARGE;
	printf("flood: %" PRIu64 " requests in %.3f s (bound %.0f), %" PRIu64
	       " waits, %" PRIu64 " SQEs\n", st.requests, dt, bound, st.throttled,
	       sqes1 - sqes0);
	CHECK(st.requests <= bound + 2);
	/* Not starved either, though a loaded host that runs the loop
	 * late loses what would overflow the small bucket meanwhile. */
	CHECK(st.requests >= bound / 4);
	CHECK_EQ_U64(st.bytes, st.requests);
	CHECK(st.throttled >= 2);
	/* The device's own work: a read per request, a timeout per wait
	 * (the kicks' polls are multishot: no SQE each). */
	CHECK(sqes1 - sqes0 <= st.requests + st.throttled + 16);
	rig_close(&r);
}

/* A read shorter than asked pays for what it got: the rest goes back
 * into the bucket, and the next request does not wait for it. */
static void test_short_read_refund(void)
{
	int pfd[2];
	REQUIRE(pipe2(pfd, O_CLOEXEC) == 0);
	struct rig r;
	/* 16 bytes/s: the bucket refills next to nothing during the test. */
	REQUIRE(rig_open(&r, pfd[0], "pipe", 16, 4096, 16) == 0);
	REQUIRE(sim_start(r.sim, F_ALL, 1, 16) == 0);
	char buf[4096];
	memset(buf, 'x', sizeof(buf));
	REQUIRE(write(pfd[1], buf, 100) == 100);
	uint64_t gpa;
	post1(&r, 4096, &gpa);
	CHECK(run_until(&r, has_used));
	uint16_t id;
	uint32_t len;
	REQUIRE(sim_get_used(r.sim, 0, &id, &len) == 1);
	CHECK_EQ_U64(len, 100);
	REQUIRE(write(pfd[1], buf, 3000) == 3000);
	post1(&r, 3000, &gpa);
	CHECK(run_until(&r, has_used));
	REQUIRE(sim_get_used(r.sim, 0, &id, &len) == 1);
	CHECK_EQ_U64(len, 3000);
	CHECK_EQ_U64(stats(&r).throttled, 0);
	/* What is left (996 bytes, and the few that came back since) is
	 * what the next one gets. */
	REQUIRE(write(pfd[1], buf, 3000) == 3000);
	post1(&r, 3000, &gpa);
	CHECK(run_until(&r, has_used));
	REQUIRE(sim_get_used(r.sim, 0, &id, &len) == 1);
	CHECK(len >= 996 && len < 1500);
	rig_close(&r);
	close(pfd[1]);
}

/* ---- resets ---- */

/* Something that must return did not (it waits for an operation that
 * was never cancelled): fail now rather than hang. */
static void give_up(const char *what)
{
	CHECK(!what);
	fprintf(stderr, "test_virtio_rng: %s within 3 s; giving up\n", what);
	exit(check_report("test_virtio_rng"));
}

/* Resets the device from another thread, as a vCPU writing the status
 * register does, while this one runs the loop; returns the seconds it
 * took (the test ends, failed, when it has not returned within 3 s). */
static double reset_from_vcpu(struct rig *r)
{
	double t0 = now_s();
	if (!sim_reset_from_vcpu(r->sim, 3000))
		give_up("the reset did not return");
	return now_s() - t0;
}

/* A read waits on a pipe with nothing in it: the reset cancels it, and
 * what the pipe gets later lands in the next driver's buffer, not the
 * old one. */
static void test_reset_read_in_flight(void)
{
	int pfd[2];
	REQUIRE(pipe2(pfd, O_CLOEXEC) == 0);
	struct rig r;
	REQUIRE(rig_open(&r, pfd[0], "pipe", 0, 0, 16) == 0);
	REQUIRE(sim_start(r.sim, F_ALL, 1, 16) == 0);
	uint64_t old_gpa, new_gpa;
	post1(&r, 64, &old_gpa);
	REQUIRE(run_until(&r, is_busy));
	settle(&r);
	CHECK(loop_quiet(&r));

	double dt = reset_from_vcpu(&r);
	CHECK(dt < 2);
	CHECK_EQ_U64(sim_status(r.sim), 0);
	CHECK(!virtio_rng_busy(r.rng));
	CHECK_EQ_U64(stats(&r).requests, 0);
	CHECK_EQ_U64(stats(&r).source_errors, 0);

	REQUIRE(write(pfd[1], "fresh entropy!", 14) == 14);
	CHECK(loop_quiet(&r));
	CHECK_EQ_U64(*(uint8_t *)sim_ptr(r.sim, old_gpa, 1), GUARD);

	REQUIRE(sim_start(r.sim, F_ALL, 1, 16) == 0);
	int head = post1(&r, 64, &new_gpa);
	CHECK(run_until(&r, has_used));
	uint16_t id;
	uint32_t len;
	REQUIRE(sim_get_used(r.sim, 0, &id, &len) == 1);
	CHECK(id == head && len == 14);
	CHECK(memcmp(sim_ptr(r.sim, new_gpa, 14), "fresh entropy!", 14) == 0);
	CHECK_EQ_U64(*(uint8_t *)sim_ptr(r.sim, old_gpa, 1), GUARD);
	CHECK(!sim_needs_reset(r.sim));
	rig_close(&r);
	close(pfd[1]);
}

static bool timer_waits(struct rig *r)
{
	return virtio_rng_busy(r->rng) && stats(r).throttled > 0;
}

/* The bucket is dry and the device sleeps for seconds: a reset returns
 * at once, without its timeout; the bucket stays dry after it. */
static void test_reset_timer_armed(void)
{
	struct rig r;
	/* 16 bytes/s, a 64-byte bucket: the next request waits 4 s. */
	REQUIRE(rig_open(&r, open("/dev/urandom", O_RDONLY | O_CLOEXEC),
			 "/dev/urandom", 16, 64, 16) == 0);
	REQUIRE(sim_start(r.sim, F_ALL, 1, 16) == 0);
	post1(&r, 64, NULL);
	uint64_t gpa;
	post1(&r, 64, &gpa);
	REQUIRE(run_until(&r, timer_waits));
	CHECK_EQ_U64(stats(&r).requests, 1);
	CHECK_EQ_U64(stats(&r).throttled, 1);
	CHECK(loop_quiet(&r));

	double dt = reset_from_vcpu(&r);
	CHECK(dt < 1);
	CHECK(!virtio_rng_busy(r.rng));
	CHECK_EQ_U64(stats(&r).requests, 1);
	CHECK_EQ_U64(*(uint8_t *)sim_ptr(r.sim, gpa, 1), GUARD);

	/* After a new start the bucket is still nearly empty: the request
	 * waits again rather than being served at once. */
	REQUIRE(sim_start(r.sim, F_ALL, 1, 16) == 0);
	post1(&r, 64, NULL);
	CHECK(run_until(&r, is_busy));
	CHECK_EQ_U64(stats(&r).throttled, 2);
	CHECK_EQ_U64(stats(&r).requests, 1);
	CHECK(reset_from_vcpu(&r) < 1);
	CHECK(!virtio_rng_busy(r.rng));
	rig_close(&r);
}

/* ---- destroying the device with requests outstanding ---- */

/* With the loop never run as a thread: the ring's exit cancels the read
 * (the sim frees RAM after it). And with a timeout armed. */
static void test_destroy_outstanding(void)
{
	int pfd[2];
	REQUIRE(pipe2(pfd, O_CLOEXEC) == 0);
	struct rig r;
	REQUIRE(rig_open(&r, pfd[0], "pipe", 0, 0, 16) == 0);
	REQUIRE(sim_start(r.sim, F_ALL, 1, 16) == 0);
	for (int i = 0; i < 4; i++)
		post1(&r, 64, NULL);
	CHECK(run_until(&r, is_busy));
	rig_close(&r);
	close(pfd[1]);

	REQUIRE(rig_open(&r, open("/dev/urandom", O_RDONLY | O_CLOEXEC),
			 "/dev/urandom", 16, 64, 16) == 0);
	REQUIRE(sim_start(r.sim, F_ALL, 1, 16) == 0);
	post1(&r, 64, NULL);
	post1(&r, 64, NULL);
	CHECK(run_until(&r, timer_waits));
	rig_close(&r);
}

static bool wait_for(struct rig *r, bool (*pred)(struct rig *))
{
	for (int i = 0; i < 3000 && !pred(r); i++)
		usleep(1000);
	return pred(r);
}

static bool used_2(struct rig *r)
{
	return __atomic_load_n(&r->sim->q[0].used->idx, __ATOMIC_ACQUIRE) >= 2;
}

struct stopper {
	struct io_loop *loop;
	bool *done;
};

static void *stop_thread(void *opaque)
{
	struct stopper *st = opaque;
	io_loop_stop(st->loop);
	__atomic_store_n(st->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* As the VMM runs it: the loop on a thread of its own serves requests
 * (the flush hook raises the interrupt); stopping the loop with a read
 * in flight cancels it through the stop hook and waits for it, after
 * which the device goes. */
static void test_loop_thread_stop(void)
{
	int pfd[2];
	REQUIRE(pipe2(pfd, O_CLOEXEC) == 0);
	REQUIRE(write(pfd[1], "abcdefgh", 8) == 8);
	struct rig r;
	REQUIRE(rig_open(&r, pfd[0], "pipe", 0, 0, 16) == 0);
	/* Rings and kick eventfds set up before the thread starts. */
	REQUIRE(sim_start(r.sim, F_ALL, 1, 16) == 0);
	struct phy_error err = {0};
	REQUIRE(io_loop_start(r.sim->loop, &err) == 0);

	uint64_t g1, g2, g3;
	post1(&r, 8, &g1);
	kick(&r);
	REQUIRE(wait_for(&r, has_used));
	REQUIRE(write(pfd[1], "ijklmnop", 8) == 8);
	post1(&r, 8, &g2);
	kick(&r);
	CHECK(wait_for(&r, used_2));
	CHECK(memcmp(sim_ptr(r.sim, g1, 8), "abcdefgh", 8) == 0);
	CHECK(memcmp(sim_ptr(r.sim, g2, 8), "ijklmnop", 8) == 0);
	CHECK(r.sim->q[0].interrupts >= 1);

	post1(&r, 8, &g3);
	kick(&r);
	CHECK(wait_for(&r, is_busy));
	pthread_t t;
	bool stopped = false;
	struct stopper st = {r.sim->loop, &stopped};
	REQUIRE(pthread_create(&t, NULL, stop_thread, &st) == 0);
	for (int i = 0; i < 3000 && !__atomic_load_n(&stopped, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	if (!__atomic_load_n(&stopped, __ATOMIC_ACQUIRE))
		give_up("io_loop_stop() did not return");
	pthread_join(t, NULL);
	CHECK(!virtio_rng_busy(r.rng));
	CHECK_EQ_U64(stats(&r).requests, 2);
	virtio_rng_destroy(r.rng);
	r.rng = NULL;
	/* Nothing reads the pipe any more. */
	REQUIRE(write(pfd[1], "qrstuvwx", 8) == 8);
	usleep(10000);
	CHECK_EQ_U64(*(uint8_t *)sim_ptr(r.sim, g3, 1), GUARD);
	char left[8];
	CHECK(read(pfd[0], left, 8) == 8 && memcmp(left, "qrstuvwx", 8) == 0);
	sim_destroy(r.sim);
	close(pfd[0]);
	close(pfd[1]);
}

int main(void)
{
	make_pattern();
	test_features();
	test_create_errors();
	test_pattern_reads();
	test_source_end();
	test_source_error();
	test_urandom();
	test_never_consumed();
	test_driver_bugs();
	test_nonblocking_source();
	test_notify_suppressed();
	test_rate_limit();
	test_flood();
	test_short_read_refund();
	test_reset_read_in_flight();
	test_reset_timer_armed();
	test_destroy_outstanding();
	test_loop_thread_stop();
	return check_report("test_virtio_rng");
}
