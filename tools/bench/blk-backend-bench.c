// SPDX-License-Identifier: Apache-2.0
/*
 * The virtio-blk backend alone, without a guest: the device, its disk
 * image (O_DIRECT) and the io_uring device loop, driven by the simulated
 * virtio driver of the unit tests (tests/unit/virtio_sim.h) on this
 * thread. The driver behaves as Linux's virtio-blk does: VERSION_1,
 * EVENT_IDX and INDIRECT_DESC negotiated, each request an indirect chain
 * (header, data, status) with its data 4 KiB-aligned in guest RAM, QD
 * requests kept in flight on one queue, a request re-submitted as soon as
 * its completion is reaped, a kick only when EVENT_IDX asks for one.
 * Guest RAM is mapped as phyllome-vmm maps a guest's, huge pages
 * included: the page size decides how many segments the host's block
 * layer sees in a large request, and so how it splits and merges them.
 *
 * One job per run; prints one JSON line (see usage()). tools/bench/
 * run-blk-backend-bench runs it beside fio on the same file.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "devices/block/disk_image.h"
#include "devices/virtio/virtio_blk.h"
#include "virtio_sim.h"
#include "vmm/config/parse.h"
#include "common/io_loop.h"

#define QUEUE 0
#define MAX_SEGS 64 /* data segments per request (--seg) */

struct opts {
	const char *file;
	const char *rw;    /* randread, randwrite, read, write */
	const char *name;  /* job name in the output */
	uint64_t bs;       /* bytes per request */
	uint64_t seg;      /* bytes per data descriptor; 0: one */
	unsigned qd;
	unsigned queue_size;
	double ramp, runtime; /* seconds */
	bool direct_chains; /* no indirect descriptors */
	bool call_notify;   /* kick by calling queue_notify, not the eventfd */
	unsigned ram_flags; /* GUEST_MEM_*: how guest RAM is mapped */
	bool is_write, is_random;
};

/* One request slot: its buffers in guest RAM stay put across reuse. */
struct slot {
	uint64_t hdr_gpa, data_gpa, status_gpa;
	struct virtio_blk_outhdr *hdr;
	uint8_t *status;
};

/* Counters sampled at the start and the end of the measured window. */
struct sample {
	double t;      /* seconds, CLOCK_MONOTONIC */
	double usr, sys; /* seconds of CPU, the whole process */
	uint64_t ops, bytes, kicks, interrupts, sqes, enters;
	double kick_s; /* wall time in the driver's kick writes */
};

struct bench {
	struct opts o;
	struct disk_image img;
	struct virtio_sim *sim;
	struct virtio_blk *blk;
	struct slot *slots;
	int16_t *slot_of_head; /* descriptor head -> slot */
	uint64_t nr_blocks;    /* bs-sized blocks in the image */
	uint64_t next_block;   /* sequential jobs */
	uint64_t rng;
	uint64_t ops, bytes, kicks, errors;
	double kick_s;
	unsigned inflight;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: blk-backend-bench --file PATH --rw randread|randwrite|read|write\n"
		"         [--bs BYTES] [--qd N] [--runtime S] [--ramp S] [--name NAME]\n"
		"         [--queue-size N] [--seg BYTES] [--direct-chains] [--call-notify]\n"
		"         [--thp on|off] [--shared on|off]\n"
		"The file is opened with O_DIRECT (disk_image_open, direct=on) and\n"
		"served by virtio_blk on the io_uring device loop; a simulated driver\n"
		"keeps QD requests in flight for ramp + runtime seconds. Prints one\n"
		"JSON line over the runtime: ops, iops, mb_s (10^6 B/s), cpu_us_per_op\n"
		"(user + sys, getrusage of the process: device loop and simulated\n"
		"driver), usr/sys split, and per op: io_uring_enter calls, SQEs,\n"
		"driver kicks (eventfd writes) and the time spent in them (part of\n"
		"cpu_us_per_op that a guest's vCPU would pay), queue interrupts.\n"
		"Diagnostics: --seg splits the data into descriptors of that size;\n"
		"--direct-chains uses no indirect descriptors; --call-notify kicks\n"
		"by calling the device's queue_notify directly instead of through\n"
		"the eventfd the loop watches (the kick path's cost, isolated).\n"
		"Guest RAM is mapped as phyllome-vmm maps a guest's (guest_mem_create):\n"
		"--thp and --shared as --memory's keys, defaults thp=on, shared=off.\n");
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
}

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	return *end ? 0 : v;
}

static int parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "file", 1, 0, 'f' }, { "rw", 1, 0, 'w' }, { "bs", 1, 0, 'b' },
		{ "qd", 1, 0, 'q' }, { "runtime", 1, 0, 't' }, { "ramp", 1, 0, 'r' },
		{ "name", 1, 0, 'n' }, { "queue-size", 1, 0, 's' },
		{ "seg", 1, 0, 'g' }, { "direct-chains", 0, 0, 'd' },
		{ "call-notify", 0, 0, 'c' }, { "thp", 1, 0, 'H' },
		{ "shared", 1, 0, 'S' },
		{ "help", 0, 0, 'h' }, { 0 },
	};
	*o = (struct opts){ .rw = "randread", .bs = 4096, .qd = 1,
			    .queue_size = 256, .runtime = 5, .ramp = 1,
			    .ram_flags = GUEST_MEM_THP };
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'f': o->file = optarg; break;
		case 'w': o->rw = optarg; break;
		case 'b': o->bs = parse_size(optarg); break;
		case 'q': o->qd = (unsigned)atoi(optarg); break;
		case 't': o->runtime = atof(optarg); break;
		case 'r': o->ramp = atof(optarg); break;
		case 'n': o->name = optarg; break;
		case 's': o->queue_size = (unsigned)atoi(optarg); break;
		case 'g': o->seg = parse_size(optarg); break;
		case 'd': o->direct_chains = true; break;
		case 'c': o->call_notify = true; break;
		case 'H':
		case 'S': {
			unsigned bit = c == 'H' ? GUEST_MEM_THP : GUEST_MEM_SHARED;
			bool on;
			if (parse_switch(optarg, &on))
				return -1;
			o->ram_flags = on ? o->ram_flags | bit : o->ram_flags & ~bit;
			break;
		}
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	o->is_write = !strcmp(o->rw, "randwrite") || !strcmp(o->rw, "write");
	o->is_random = !strncmp(o->rw, "rand", 4);
	if (!o->file || optind != argc || (!o->is_write && strcmp(o->rw, "randread") &&
					   strcmp(o->rw, "read")))
		return -1;
	if (o->bs < 512 || o->bs % 512 || o->qd < 1 || o->qd > o->queue_size ||
	    o->runtime <= 0 || o->ramp < 0)
		return -1;
	if (o->seg == 0 || o->seg > o->bs)
		o->seg = o->bs;
	if (o->bs % o->seg || o->bs / o->seg > MAX_SEGS)
		return -1;
	/* A direct chain takes a ring descriptor per buffer. */
	if (o->direct_chains && o->qd * (o->bs / o->seg + 2) > o->queue_size)
		return -1;
	return 0;
}

static uint64_t rand64(struct bench *b)
{
	/* xorshift64* */
	b->rng ^= b->rng >> 12;
	b->rng ^= b->rng << 25;
	b->rng ^= b->rng >> 27;
	return b->rng * 0x2545F4914F6CDD1Dull;
}

static uint64_t next_sector(struct bench *b)
{
	uint64_t blk;
	if (b->o.is_random) {
		blk = rand64(b) % b->nr_blocks;
	} else {
		blk = b->next_block;
		b->next_block = (b->next_block + 1) % b->nr_blocks;
	}
	return blk * b->o.bs / 512;
}

/* Makes slot s's request available; the caller decides on the kick. */
static void submit(struct bench *b, unsigned s)
{
	struct slot *sl = &b->slots[s];
	struct sim_buf bufs[MAX_SEGS + 2];
	unsigned n = 0;
	uint64_t nseg = b->o.bs / b->o.seg;

	sl->hdr->type = htole32(b->o.is_write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN);
	sl->hdr->ioprio = 0;
	sl->hdr->sector = htole64(next_sector(b));
	*sl->status = 0xff;
	bufs[n++] = (struct sim_buf){ sl->hdr_gpa, sizeof(*sl->hdr), false };
	for (uint64_t i = 0; i < nseg; i++)
		bufs[n++] = (struct sim_buf){ sl->data_gpa + i * b->o.seg,
					      (uint32_t)b->o.seg, !b->o.is_write };
	bufs[n++] = (struct sim_buf){ sl->status_gpa, 1, true };
	int head = sim_add(b->sim, QUEUE, bufs, n, !b->o.direct_chains);
	if (head < 0) {
		fprintf(stderr, "blk-backend-bench: ring full\n");
		exit(1);
	}
	b->slot_of_head[head] = (int16_t)s;
	b->inflight++;
}

static void kick_if_needed(struct bench *b, uint16_t old_avail)
{
	if (b->sim->q[QUEUE].avail_idx != old_avail &&
	    sim_kick_needed(b->sim, QUEUE, old_avail)) {
		/* A guest's notify write costs its vCPU, not the device
		 * loop: timed, so it can be told apart (a non-blocking
		 * eventfd write: its wall time is its CPU time). */
		double t = now();
		if (b->o.call_notify) {
			struct virtio_dev *dev = virtio_blk_dev(b->blk);
			dev->ops->queue_notify(dev, QUEUE);
		} else {
			sim_kick(b->sim, QUEUE);
		}
		b->kick_s += now() - t;
		b->kicks++;
	}
}

/* What the driver's interrupt handler does: reap every used entry,
 * re-submitting each slot unless the run is over, then kick once. */
static void reap(struct bench *b, bool resubmit)
{
	uint16_t old_avail = b->sim->q[QUEUE].avail_idx, head;
	uint32_t len;

	while (sim_get_used(b->sim, QUEUE, &head, &len)) {
		int s = head < b->o.queue_size ? b->slot_of_head[head] : -1;
		if (s < 0) {
			fprintf(stderr, "blk-backend-bench: unknown head %u\n", head);
			exit(1);
		}
		b->slot_of_head[head] = -1;
		b->inflight--;
		uint32_t want = b->o.is_write ? 1 : (uint32_t)b->o.bs + 1;
		if (*b->slots[s].status != VIRTIO_BLK_S_OK || len != want)
			b->errors++;
		b->ops++;
		b->bytes += b->o.bs;
		if (resubmit)
			submit(b, (unsigned)s);
	}
	kick_if_needed(b, old_avail);
}

static void take_sample(struct bench *b, struct sample *s)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	s->t = now();
	s->usr = tv_s(ru.ru_utime);
	s->sys = tv_s(ru.ru_stime);
	s->ops = b->ops;
	s->bytes = b->bytes;
	s->kicks = b->kicks;
	s->kick_s = b->kick_s;
	s->interrupts = b->sim->q[QUEUE].interrupts;
	io_loop_stats(b->sim->loop, &s->sqes, &s->enters);
}

static bool blk_busy(void *opaque)
{
	return virtio_blk_inflight(opaque) > 0;
}

static int setup(struct bench *b)
{
	struct opts *o = &b->o;
	struct phy_error err = { 0 };
	struct disk_image_params img = { .path = o->file, .direct = true };
	struct virtio_blk_params blk = { .num_queues = 1,
					 .queue_size = o->queue_size,
					 .id = "blk-backend-bench" };

	/* Whole 2 MiB pages, so every buffer can sit on a huge page. */
	uint64_t ram = ((uint64_t)o->qd * (o->bs + 4096) + (8ull << 20) +
			(2ull << 20) - 1) & ~((2ull << 20) - 1);
	b->sim = sim_create_vm_ram(ram, o->ram_flags);
	if (!b->sim) {
		fprintf(stderr, "blk-backend-bench: cannot create the simulator\n");
		return -1;
	}
	if (disk_image_open(&b->img, &img, &err) ||
	    virtio_blk_create(&b->blk, &b->img, &blk, "virtio-blk0", &b->sim->mem,
			      b->sim->loop, &err)) {
		fprintf(stderr, "blk-backend-bench: %s\n", err.message);
		return -1;
	}
	struct virtio_dev *dev = virtio_blk_dev(b->blk);
	sim_attach(b->sim, dev, blk_busy, b->blk);
	/* What Linux's virtio-blk takes of what this device offers. */
	uint64_t want = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_RING_F_EVENT_IDX |
			1ull << VIRTIO_RING_F_INDIRECT_DESC | 1ull << VIRTIO_BLK_F_SEG_MAX |
			1ull << VIRTIO_BLK_F_BLK_SIZE | 1ull << VIRTIO_BLK_F_FLUSH |
			1ull << VIRTIO_BLK_F_TOPOLOGY;
	uint64_t f = dev->host_features & want;
	if ((f & want) != want || sim_start(b->sim, f, 1, (uint16_t)o->queue_size)) {
		fprintf(stderr, "blk-backend-bench: feature negotiation failed (%#llx)\n",
			(unsigned long long)dev->host_features);
		return -1;
	}
	uint32_t lbs;
	sim_config_read(b->sim, offsetof(struct virtio_blk_config, blk_size), &lbs, 4);
	if (o->bs % le32toh(lbs) || o->seg % le32toh(lbs)) {
		fprintf(stderr, "blk-backend-bench: bs/seg not a multiple of the "
				"device's block size %u\n", le32toh(lbs));
		return -1;
	}
	b->nr_blocks = b->img.size / o->bs;
	if (b->nr_blocks == 0) {
		fprintf(stderr, "blk-backend-bench: %s is smaller than bs\n", o->file);
		return -1;
	}
	b->slots = calloc(o->qd, sizeof(*b->slots));
	b->slot_of_head = malloc(o->queue_size * sizeof(*b->slot_of_head));
	if (!b->slots || !b->slot_of_head)
		return -1;
	memset(b->slot_of_head, 0xff, o->queue_size * sizeof(*b->slot_of_head));
	for (unsigned i = 0; i < o->qd; i++) {
		struct slot *s = &b->slots[i];
		s->data_gpa = sim_alloc(b->sim, o->bs, 4096);
		s->hdr_gpa = sim_alloc(b->sim, 64, 64);
		s->status_gpa = s->hdr_gpa + sizeof(struct virtio_blk_outhdr);
		s->hdr = sim_ptr(b->sim, s->hdr_gpa, sizeof(*s->hdr));
		s->status = sim_ptr(b->sim, s->status_gpa, 1);
		memset(sim_ptr(b->sim, s->data_gpa, o->bs), 0xa5 ^ i, o->bs);
	}
	b->rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)time(NULL);
	return 0;
}

static void print_result(const struct bench *b, const struct sample *s0,
			 const struct sample *s1)
{
	const struct opts *o = &b->o;
	double secs = s1->t - s0->t;
	double ops = (double)(s1->ops - s0->ops);
	double per = ops > 0 ? 1.0 / ops : 0;
	double usr = s1->usr - s0->usr, sys = s1->sys - s0->sys;

	printf("{\"job\":\"%s\",\"rw\":\"%s\",\"bs\":%llu,\"qd\":%u,"
	       "\"seconds\":%.3f,\"ops\":%.0f,\"iops\":%.1f,\"mb_s\":%.2f,"
	       "\"cpu_us_per_op\":%.3f,\"usr_us_per_op\":%.3f,\"sys_us_per_op\":%.3f,"
	       "\"cpu_util\":%.3f,\"enters_per_op\":%.3f,\"sqes_per_op\":%.3f,"
	       "\"kicks_per_op\":%.3f,\"kick_us_per_op\":%.3f,"
	       "\"interrupts_per_op\":%.3f,\"errors\":%llu}\n",
	       o->name ? o->name : o->rw, o->rw, (unsigned long long)o->bs, o->qd,
	       secs, ops, ops / secs, (double)(s1->bytes - s0->bytes) / secs / 1e6,
	       (usr + sys) * 1e6 * per, usr * 1e6 * per, sys * 1e6 * per,
	       (usr + sys) / secs, (double)(s1->enters - s0->enters) * per,
	       (double)(s1->sqes - s0->sqes) * per,
	       (double)(s1->kicks - s0->kicks) * per,
	       (s1->kick_s - s0->kick_s) * 1e6 * per,
	       (double)(s1->interrupts - s0->interrupts) * per,
	       (unsigned long long)b->errors);
	fflush(stdout);
}

static int run(struct bench *b)
{
	struct sample s0 = { 0 }, s1;
	uint16_t old_avail = b->sim->q[QUEUE].avail_idx;
	double t_start = now(), t_measure = t_start + b->o.ramp;
	double t_end = t_measure + b->o.runtime;
	bool measuring = false;

	for (unsigned i = 0; i < b->o.qd; i++)
		submit(b, i);
	kick_if_needed(b, old_avail);
	if (b->o.ramp == 0) {
		take_sample(b, &s0);
		measuring = true;
	}
	for (;;) {
		int r = io_loop_run_once(b->sim->loop, true);
		if (r < 0) {
			fprintf(stderr, "blk-backend-bench: io_loop: %s\n", strerror(-r));
			return -1;
		}
		double t = now();
		if (!measuring && t >= t_measure) {
			take_sample(b, &s0);
			measuring = true;
		}
		if (t >= t_end)
			break;
		reap(b, true);
	}
	/* The window ends here: draining what is in flight is not counted. */
	take_sample(b, &s1);
	while (b->inflight) {
		reap(b, false);
		if (b->inflight && io_loop_run_once(b->sim->loop, true) < 0)
			return -1;
	}
	if (sim_needs_reset(b->sim)) {
		fprintf(stderr, "blk-backend-bench: device needs reset: %s\n",
			b->sim->last_log);
		return -1;
	}
	print_result(b, &s0, &s1);
	if (b->errors) {
		fprintf(stderr, "blk-backend-bench: %llu requests failed\n",
			(unsigned long long)b->errors);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bench b = { 0 };

	if (parse_opts(&b.o, argc, argv)) {
		usage(stderr);
		return 2;
	}
	int r = setup(&b) ? 1 : run(&b) ? 1 : 0;
	if (b.blk) {
		sim_run(b.sim);
		virtio_blk_destroy(b.blk);
	}
	sim_destroy(b.sim);
	disk_image_close(&b.img);
	free(b.slots);
	free(b.slot_of_head);
	return r;
}
