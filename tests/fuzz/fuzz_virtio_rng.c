/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: a hostile driver of a virtio-rng device. The input
 * picks one of four devices (/dev/urandom without a limit, /dev/urandom
 * behind a small token bucket, a 300-byte file that ends, a directory
 * whose reads fail) and the features, then is a program of driver steps,
 * one opcode byte and its arguments each: chains of any address, length
 * and direction (direct or indirect), raw descriptors and available
 * entries, index jumps, kicks (also of queues the device does not
 * have), status writes, resets from another thread while reads or
 * timeouts are in flight, used entries taken back, loop passes. The
 * device must neither crash nor touch memory outside guest RAM (ASan
 * watches both regions' edges); /dev/urandom never fails it; the bucket
 * is never overdrawn (every request costs VIRTIO_RNG_MIN_CHARGE at
 * least); and after every input a reset leaves nothing in flight.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "common/io_loop.h"
#include "devices/virtio/virtio_rng.h"
#include "fuzz_prog.h"
#include "fuzz_ring.h"
#include "virtio_sim.h"

#define FZ_RAM 0x40000 /* rings and indirect tables, then buffers */
#define FZ_HIGH_RAM 0x1000
#define FZ_QSIZE 16
#define FZ_DEVS 4
#define FZ_FILE_SIZE 300
#define FZ_RATE (4u << 20) /* the limited device: 4 MiB/s... */
#define FZ_BURST 512       /* ... with a 512-byte bucket */

enum { DEV_URANDOM, DEV_LIMITED, DEV_FILE, DEV_DIR };

struct fz {
	struct virtio_sim *sim;
	struct virtio_rng *rng[FZ_DEVS];
	int fd[FZ_DEVS];
	double created; /* when the limited device's bucket started */
};

static void die(const char *what)
{
	fprintf(stderr, "fuzz_virtio_rng: %s\n", what);
	abort();
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static bool busy(void *opaque)
{
	return virtio_rng_busy(opaque);
}

static struct fz *fz_get(void)
{
	static struct fz f;
	if (f.sim)
		return &f;
	f.sim = sim_create(FZ_RAM, FZ_HIGH_RAM);
	if (!f.sim)
		die("no simulator (io_uring?)");
	f.fd[DEV_URANDOM] = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	f.fd[DEV_LIMITED] = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	f.fd[DEV_FILE] = memfd_create("fuzz-rng-seed", MFD_CLOEXEC);
	f.fd[DEV_DIR] = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	uint8_t seed[FZ_FILE_SIZE];
	for (int i = 0; i < FZ_FILE_SIZE; i++)
		seed[i] = (uint8_t)(i * 37 + 11);
	if (f.fd[DEV_FILE] < 0 || write(f.fd[DEV_FILE], seed, sizeof(seed)) != sizeof(seed))
		die("seed file");
	static const char *const names[FZ_DEVS] = {"/dev/urandom", "/dev/urandom (limited)",
						   "seed file", "a directory"};
	struct phy_error err;
	for (int k = 0; k < FZ_DEVS; k++) {
		struct virtio_rng_params p = {
			.src_fd = f.fd[k], .src_name = names[k],
			.bytes_per_sec = k == DEV_LIMITED ? FZ_RATE : 0,
			.burst = FZ_BURST, .queue_size = FZ_QSIZE,
		};
		if (f.fd[k] < 0 || virtio_rng_create(&f.rng[k], &p, "fuzz-rng",
						     &f.sim->mem, f.sim->loop, &err))
			die(f.fd[k] < 0 ? "source" : err.message);
	}
	f.created = now_s();
	return &f;
}

static void start(struct virtio_sim *sim, uint8_t k)
{
	if (fz_start(sim, k, 1, FZ_QSIZE))
		die("features refused");
}

/* A vCPU resets the device while the loop runs (a read or a timeout may
 * be in flight: the reset waits for the loop to cancel them). */
static void reset(struct virtio_sim *sim)
{
	if (!sim_reset_from_vcpu(sim, 10000))
		die("the reset did not return");
}

/* Mostly short, now and then up to 128 KiB (past the request cap). */
static uint32_t length(struct prog *g)
{
	uint8_t l = prog_byte(g);
	return l < 0xf0 ? l : (uint32_t)prog_word(g) * 2;
}

static struct sim_queue *ring(struct virtio_sim *sim)
{
	return sim->q[0].desc ? &sim->q[0] : NULL;
}

/* A chain of 1..4 buffers written at a head the input names (not from
 * a free list: raw writes may have broken any), direct or through an
 * indirect table anywhere, then made available. */
static void add_chain(struct virtio_sim *sim, struct prog *g)
{
	uint8_t k = prog_byte(g);
	struct sim_queue *sq = ring(sim);
	uint16_t head = prog_byte(g), n = (k & 3) + 1;
	struct vring_desc d[4];
	for (unsigned i = 0; i < n; i++) {
		d[i].addr = prog_address(g, FZ_RAM);
		d[i].len = length(g);
		/* Mostly writable, as a driver's requests are. */
		d[i].flags = ((prog_byte(g) & 7) ? VRING_DESC_F_WRITE : 0) |
			     (i + 1 < n ? VRING_DESC_F_NEXT : 0);
	}
	uint64_t at = k & 8 ? prog_address(g, FZ_RAM) : 0;
	if (sq)
		fz_place_chain(sim, sq, head % sq->size, d, n, k & 8, at);
}

static void raw_desc(struct virtio_sim *sim, struct prog *g)
{
	uint8_t k = prog_byte(g);
	struct vring_desc *d = sim_desc(sim, 0, (uint16_t)(k & 0x1f));
	uint64_t addr = prog_address(g, FZ_RAM);
	uint32_t len = length(g);
	uint16_t flags = prog_byte(g) & 7, next = prog_byte(g);
	if (d && ring(sim))
		*d = (struct vring_desc){addr, len, flags, next};
}

/* The driver takes back what the device used. (Nothing is checked in
 * the entries: buffers may overlap the rings, and random bytes then
 * land in them.) */
static void take_used(struct virtio_sim *sim)
{
	uint16_t id;
	uint32_t len;
	for (int i = 0; ring(sim) && i < 4 * FZ_QSIZE && sim_get_used(sim, 0, &id, &len); i++) {
	}
}

static void step(struct fz *f, uint8_t op, struct prog *g)
{
	struct virtio_sim *sim = f->sim;
	switch (op % 11) {
	case 0:
	case 1:
		add_chain(sim, g);
		break;
	case 2:
		raw_desc(sim, g);
		break;
	case 3: {
		uint8_t head = prog_byte(g);
		if (ring(sim))
			sim_publish(sim, 0, head);
		break;
	}
	case 4: {
		uint8_t q = prog_byte(g);
		if (q & 0x80)
			sim->dev->ops->queue_notify(sim->dev, q & 0x7f);
		else if (ring(sim))
			sim_kick(sim, 0);
		break;
	}
	case 5:
		sim_run(sim);
		break;
	case 6:
		reset(sim);
		start(sim, prog_byte(g));
		break;
	case 7:
		take_used(sim);
		break;
	case 8: {
		struct sim_queue *sq = ring(sim);
		uint8_t by = prog_byte(g);
		if (sq)
			__atomic_store_n(&sq->avail->idx,
					 (uint16_t)(sq->avail->idx + by),
					 __ATOMIC_RELEASE);
		break;
	}
	case 9: /* a pass of the loop: reads may stay in flight */
		io_loop_run_once(sim->loop, false);
		break;
	case 10: { /* any status but 0 (a reset goes through case 6) */
		uint8_t s = prog_byte(g);
		if (s)
			sim_set_status(sim, s);
		break;
	}
	}
}

static void check(struct fz *f, int k)
{
	struct virtio_rng_stats st;
	virtio_rng_stats(f->rng[k], &st);
	if ((k == DEV_URANDOM || k == DEV_LIMITED) && st.source_errors)
		die("a read of /dev/urandom failed");
	if (st.bytes > st.requests * (uint64_t)VIRTIO_RNG_MAX_REQUEST)
		die("a request read more than the cap");
	if (k == DEV_LIMITED) {
		double allowed = FZ_BURST + FZ_RATE * (now_s() - f->created) + 1;
		if ((double)st.requests * VIRTIO_RNG_MIN_CHARGE > allowed ||
		    (double)st.bytes > allowed)
			die("the token bucket was overdrawn");
	}
	if (k == DEV_FILE && st.bytes > FZ_FILE_SIZE * st.requests)
		die("more bytes than the file has");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	struct fz *f = fz_get();
	struct virtio_sim *sim = f->sim;
	struct prog g = {data, size};
	int k = prog_byte(&g) % FZ_DEVS;

	sim_attach(sim, virtio_rng_dev(f->rng[k]), busy, f->rng[k]);
	start(sim, prog_byte(&g));
	/* The same file and RAM past the rings every run. */
	if (lseek(f->fd[DEV_FILE], 0, SEEK_SET) != 0)
		die("lseek");
	memset(sim->low + sim->alloc_next, 0, FZ_RAM - sim->alloc_next);
	memset(sim->high, 0, FZ_HIGH_RAM);
	for (unsigned steps = 0; g.n && steps < 256; steps++) {
		step(f, prog_byte(&g), &g);
		check(f, k);
	}
	sim_run(sim);
	take_used(sim);
	check(f, k);
	/* A reset must take back everything, with something in flight or
	 * not. */
	reset(sim);
	if (virtio_rng_busy(f->rng[k]) || sim_status(sim))
		die("reset left work in flight or a status");
	return 0;
}
