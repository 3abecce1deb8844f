/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devbench's virtio-blk jobs: random 4 KiB reads and writes at queue depth
 * 1 and 32, sequential 1 MiB reads and writes at depth 8, the data checked
 * against the disk pattern (pattern.h) on every read, and every write job
 * read back; and blk-errors, requests the device must refuse.
 *
 * Each slot has two data buffers and alternates between them, so that a
 * completed read is checked after its slot went out again with the other
 * one: the check stays off the path between a completion and the next
 * request, as fio (which checks nothing) has no such step. Checking each
 * completion before resubmitting made randread QD32 0.80x of fio against
 * 0.96x without the check (docs/performance.md).
 */
#include "jobs.h"
#include "pattern.h"
#include "rt.h"
#include "virtio.h"

#define BLK_T_IN 0
#define BLK_T_OUT 1
#define QD_MAX 32
#define BUF_BYTES (8u << 20) /* each of the two halves */
#define LOG_MAX 65536
#define READBACK_BYTES (256u << 20)

struct blk_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

static struct virtio_dev dev;
static struct vring_mem ring;
static uint64_t capacity; /* sectors */
static uint8_t bufs[2][BUF_BYTES] __attribute__((aligned(4096)));
static struct blk_hdr hdrs[QD_MAX];
static volatile uint8_t status[QD_MAX];
static uint64_t slot_sector[QD_MAX], slot_t0[QD_MAX];
static uint8_t slot_half[QD_MAX]; /* the buffer the slot's request uses */
static uint64_t wlog[LOG_MAX];

/* A read completed, its data to check once its slot went out again. */
struct done {
	const uint8_t *buf;
	uint64_t sector;
};

struct job {
	const char *name;
	int write, seq;
	uint32_t bs; /* bytes */
	unsigned qd;
};

static const struct job jobs[] = {
	{"blk-randread-qd1", 0, 0, 4096, 1},
	{"blk-randread-qd32", 0, 0, 4096, 32},
	{"blk-randwrite-qd1", 1, 0, 4096, 1},
	{"blk-randwrite-qd32", 1, 0, 4096, 32},
	{"blk-read-1m", 0, 1, 1u << 20, 8},
	{"blk-write-1m", 1, 1, 1u << 20, 8},
};

const char *const blk_job_names[] = {
	"blk-randread-qd1",  "blk-randread-qd32",
	"blk-randwrite-qd1", "blk-randwrite-qd32",
	"blk-read-1m",	     "blk-write-1m",
	"blk-errors",	     0,
};

/* One run of requests: what a job or a read-back pass issues. */
struct run {
	const struct job *j;
	uint64_t gen;	     /* written, or expected on read-back */
	uint64_t blocks;     /* span in blocks of j->bs */
	uint64_t next_seq;   /* sequential: the next block */
	uint64_t nlog, ilog; /* write log; read-back position */
	int readback;
	uint64_t ops, errors, verified, lat_max;
};

static void blk_init(void)
{
	virtio_init(&dev, 0x1042, 0, 1, &ring);
	capacity = rd32(dev.device) | (uint64_t)rd32(dev.device + 4) << 32;
	puts("DEVBENCH device=blk");
	kv("slot", dev.slot);
	kv("capacity_sectors", capacity);
	kv("queue_size", dev.q[0].size);
	kv("event_idx", (uint64_t)dev.q[0].event_idx);
	putc('\n');
}

static uint8_t *slot_buf(const struct run *r, unsigned slot)
{
	return bufs[slot_half[slot]] + (uint64_t)slot * r->j->bs;
}

/* Slot i uses descriptors 3i (header), 3i+1 (data), 3i+2 (status). */
static void slot_setup(const struct run *r, unsigned slot, int write)
{
	struct vring_desc *d = &ring.desc[3 * slot];
	d[0] = (struct vring_desc){(uintptr_t)&hdrs[slot], 16, DESC_F_NEXT,
				   (uint16_t)(3 * slot + 1)};
	d[1] = (struct vring_desc){
		(uintptr_t)slot_buf(r, slot), r->j->bs,
		(uint16_t)(DESC_F_NEXT | (write ? 0 : DESC_F_WRITE)),
		(uint16_t)(3 * slot + 2)};
	d[2] = (struct vring_desc){(uintptr_t)&status[slot], 1, DESC_F_WRITE,
				   0};
}

static uint64_t next_block(struct run *r)
{
	if (r->readback)
		return r->ilog++;
	if (r->j->seq) {
		uint64_t b = r->next_seq++;
		if (r->next_seq >= r->blocks)
			r->next_seq = 0;
		return b;
	}
	return rnd() % r->blocks;
}

static void submit(struct run *r, unsigned slot)
{
	int write = r->j->write && !r->readback;
	uint64_t sector = r->readback ? wlog[next_block(r)]
				      : next_block(r) * (r->j->bs / DB_SECTOR);
	hdrs[slot] = (struct blk_hdr){write ? BLK_T_OUT : BLK_T_IN, 0, sector};
	slot_half[slot] ^= 1;
	ring.desc[3 * slot + 1].addr = (uintptr_t)slot_buf(r, slot);
	if (write)
		for (uint32_t s = 0; s < r->j->bs / DB_SECTOR; s++)
			db_fill((uint64_t *)(slot_buf(r, slot) + s * DB_SECTOR),
				sector + s, r->gen);
	status[slot] = 0xff;
	slot_sector[slot] = sector;
	vq_add(&dev.q[0], (uint16_t)(3 * slot));
	slot_t0[slot] = rdtsc();
}

static void report_error(struct run *r, const char *what, uint64_t v)
{
	if (r->errors++ < 8) {
		puts("DEVBENCH-ERROR job=");
		puts(r->j->name);
		puts(r->readback ? " phase=readback " : " phase=job ");
		puts(what);
		putc(' ');
		puthex(v);
		putc('\n');
	}
}

/* A request's answer, as its slot comes back: counted, its status
 * checked; a read's data is left in *d for check_data(). Returns whether
 * it did. */
static int complete(struct run *r, unsigned slot, uint64_t now,
		    struct done *d)
{
	uint64_t lat = now - slot_t0[slot];
	r->ops++;
	hist_add(lat);
	if (lat > r->lat_max)
		r->lat_max = lat;
	if (status[slot] != 0) {
		report_error(r, "status", status[slot]);
		return 0;
	}
	if (r->j->write && !r->readback) {
		if (r->nlog < LOG_MAX)
			wlog[r->nlog++] = slot_sector[slot];
		return 0;
	}
	if (!opt.verify)
		return 0;
	*d = (struct done){slot_buf(r, slot), slot_sector[slot]};
	return 1;
}

static void check_data(struct run *r, const struct done *d)
{
	for (uint32_t s = 0; s < r->j->bs / DB_SECTOR; s++) {
		const uint64_t *w = (const uint64_t *)(d->buf + s * DB_SECTOR);
		uint64_t gen, sector = d->sector + s;
		if (db_check(w, sector, opt.maxgen, &gen) ||
		    (r->readback && gen != r->gen)) {
			report_error(r, "bad-sector", sector);
			return;
		}
	}
	r->verified++;
}

/* Runs r at its queue depth until `limit` requests or `end` (TSC). */
static void run_requests(struct run *r, uint64_t limit, uint64_t end)
{
	struct virtq *q = &dev.q[0];
	unsigned qd = r->j->qd, inflight = 0, free_slots[QD_MAX], nfree = 0;
	unsigned ndone = 0;
	struct done done[QD_MAX];
	uint64_t issued = 0;
	for (unsigned s = 0; s < qd; s++)
		slot_setup(r, s, r->j->write && !r->readback);
	for (unsigned s = qd; s-- > 0;)
		free_slots[nfree++] = s;
	for (;;) {
		uint64_t now = rdtsc();
		while (nfree && issued < limit && now < end) {
			submit(r, free_slots[--nfree]);
			issued++;
			inflight++;
		}
		vq_publish(q);
		/* The reads answered last pass, while the device serves
		 * the requests just made: their buffers are the other half. */
		for (unsigned i = 0; i < ndone; i++)
			check_data(r, &done[i]);
		ndone = 0;
		if (!inflight)
			break;
		uint16_t used = vq_wait_used(q, "device-stalled");
		now = rdtsc();
		while (q->last_used != used) {
			uint32_t id = vq_pop_used(q, 0);
			unsigned slot = id / 3;
			if (id % 3 || slot >= qd)
				fail("bad-used-id", id);
			ndone += (unsigned)complete(r, slot, now, &done[ndone]);
			free_slots[nfree++] = slot;
			inflight--;
		}
		vq_consumed(q);
	}
}

static void print_result(const struct run *r, uint64_t cycles, uint64_t kicks,
			 uint64_t khz)
{
	const struct job *j = r->j;
	puts("DEVBENCH job=");
	puts(j->name);
	kv("ops", r->ops);
	kv("bytes", r->ops * j->bs);
	kv("cycles", cycles);
	kv("tsc_khz", khz);
	kv("iops", cycles ? r->ops * khz * 1000 / cycles : 0);
	kv("kBps", cycles ? r->ops * (j->bs / 1024) * khz * 1000 / cycles : 0);
	kv("lat_p50_ns", hist_pct(500) * 1000000 / khz);
	kv("lat_p90_ns", hist_pct(900) * 1000000 / khz);
	kv("lat_p99_ns", hist_pct(990) * 1000000 / khz);
	kv("lat_p999_ns", hist_pct(999) * 1000000 / khz);
	kv("lat_max_ns", r->lat_max * 1000000 / khz);
	kv("kicks", kicks);
	kv("verified", r->verified);
	kv("errors", r->errors);
	putc('\n');
}

/* Reads back what the write job r wrote (the last READBACK_BYTES of its
 * log): this job's generation, no other. */
static int read_back(const struct run *r)
{
	const struct job *j = r->j;
	uint64_t n = r->nlog < READBACK_BYTES / j->bs ? r->nlog
						      : READBACK_BYTES / j->bs;
	struct run b = {
		.j = j, .gen = r->gen, .ilog = r->nlog - n, .readback = 1};
	run_requests(&b, n, ~0ull);
	puts("DEVBENCH readback job=");
	puts(j->name);
	kv("logged", r->nlog);
	kv("read", n);
	kv("verified", b.verified);
	kv("errors", b.errors);
	putc('\n');
	return b.errors || !n || b.verified != n ? -1 : 0;
}

static int run_job(const struct job *j, uint64_t gen, uint64_t khz)
{
	struct run r = {.j = j, .gen = gen};
	uint64_t span = opt.span_mb ? opt.span_mb << 20 : capacity * DB_SECTOR;
	if (span > capacity * DB_SECTOR)
		span = capacity * DB_SECTOR;
	r.blocks = span / j->bs;
	if (!r.blocks)
		fail("disk-too-small", capacity);
	r.next_seq = rnd() % r.blocks;
	hist_reset();
	puts("DEVBENCH begin job=");
	puts(j->name);
	putc('\n');
	uint64_t kicks0 = dev.q[0].kicks, t0 = rdtsc();
	run_requests(&r, opt.ops, t0 + opt.ms * khz);
	print_result(&r, rdtsc() - t0, dev.q[0].kicks - kicks0, khz);
	virtio_check(&dev, "device-needs-reset");
	int bad = r.errors != 0;
	if (j->write && opt.verify)
		bad |= read_back(&r) != 0;
	return bad ? -1 : 0;
}

/* One request on slot 0, waited for: its status byte. The data buffer is
 * device-writable (reads and the unknown type). */
static uint8_t blk_sync(uint32_t type, uint64_t sector, uint32_t len)
{
	struct virtq *q = &dev.q[0];
	struct vring_desc *d = ring.desc;
	hdrs[0] = (struct blk_hdr){type, 0, sector};
	d[0] = (struct vring_desc){(uintptr_t)&hdrs[0], 16, DESC_F_NEXT, 1};
	d[1] = (struct vring_desc){(uintptr_t)bufs[0], len,
				   DESC_F_NEXT | DESC_F_WRITE, 2};
	d[2] = (struct vring_desc){(uintptr_t)&status[0], 1, DESC_F_WRITE, 0};
	status[0] = 0xff;
	vq_add(q, 0);
	vq_publish(q);
	uint16_t used = vq_wait_used(q, "device-stalled");
	if ((uint16_t)(used - q->last_used) != 1 || vq_pop_used(q, 0) != 0)
		fail("bad-used-entry", used);
	vq_consumed(q);
	return status[0];
}

/* blk-errors: requests a device must refuse without failing: reads at and
 * across the end of the disk (IOERR), an unknown request type (UNSUPP);
 * then a good read, checked, and the device still not NEEDS_RESET. */
static int errors_job(void)
{
	static const struct {
		const char *what;
		uint32_t type, len;
		int64_t from_end; /* sector: capacity + from_end, or 0 */
		uint8_t want;
	} cases[] = {
		{"read-past-end", BLK_T_IN, 4096, 0, 1},
		{"read-across-end", BLK_T_IN, 4096, -4, 1},
		{"unknown-type", 0x7f, 512, INT64_MIN, 2},
		{"good-read", BLK_T_IN, 4096, INT64_MIN, 0},
	};
	uint64_t errors = 0;
	puts("DEVBENCH begin job=blk-errors\n");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t sector =
			cases[i].from_end == INT64_MIN
				? 0
				: capacity + (uint64_t)cases[i].from_end;
		uint8_t st = blk_sync(cases[i].type, sector, cases[i].len);
		int bad = st != cases[i].want;
		for (uint32_t k = 0;
		     !bad && !st && k < cases[i].len / DB_SECTOR; k++) {
			uint64_t gen;
			bad = db_check((const uint64_t *)(bufs[0] + k * DB_SECTOR),
				       k, opt.maxgen, &gen) != 0;
		}
		if (bad) {
			errors++;
			puts("DEVBENCH-ERROR job=blk-errors ");
			puts(cases[i].what);
			kv("status", st);
			kv("want", cases[i].want);
			putc('\n');
		}
	}
	virtio_check(&dev, "device-needs-reset");
	puts("DEVBENCH job=blk-errors");
	kv("ops", ARRAY_SIZE(cases));
	kv("verified", ARRAY_SIZE(cases) - errors);
	kv("errors", errors);
	putc('\n');
	return errors ? -1 : 0;
}

int blk_job(const char *name, size_t n, uint64_t khz, uint64_t *gen)
{
	if (n == 10 && memeq(name, "blk-errors", 10)) {
		if (!dev.common)
			blk_init();
		return errors_job();
	}
	for (size_t i = 0; i < ARRAY_SIZE(jobs); i++) {
		const struct job *j = &jobs[i];
		if (strlen(j->name) != n || !memeq(j->name, name, n))
			continue;
		if (!dev.common)
			blk_init();
		return run_job(j, j->write ? (*gen)++ : *gen, khz);
	}
	return JOB_UNKNOWN;
}
