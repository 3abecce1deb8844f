/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devbench: a polling virtio-blk driver that runs in guest user mode (see
 * entry.S), so that on a PVM host, where guest kernel mode is emulated, it
 * still drives the device at native speed. It finds the virtio-blk function
 * (1af4:1042) on bus 0 through ECAM at 0xE000_0000 (phyllome-vmm; QEMU
 * microvm with pcie=on), assigns its BARs from the window at 0xC000_0000
 * when no firmware did (QEMU microvm), negotiates VERSION_1 (+ EVENT_IDX),
 * sets up queue 0 with interrupts suppressed (no MSI-X vector, used_event
 * kept behind / NO_INTERRUPT) and polls the used ring; it notifies only
 * when the device asks (avail_event / NO_NOTIFY).
 *
 * Jobs (blk-randread-qd1, -qd32, blk-randwrite-qd1, -qd32, blk-read-1m,
 * blk-write-1m; "verify" runs them all): every read is checked against
 * the disk pattern (pattern.h); a write job writes its own generation and
 * then reads back what it wrote. On COM1, per job:
 *   DEVBENCH begin job=NAME
 *   DEVBENCH job=NAME ops= bytes= cycles= tsc_khz= iops= kBps=
 *            lat_p50_ns= lat_p90_ns= lat_p99_ns= lat_p999_ns= lat_max_ns=
 *            kicks= verified= errors=
 *   DEVBENCH readback job=NAME logged= read= verified= errors=  (writes)
 * then "DEVBENCH-RESULT pass|fail" and the VM is powered off (QEMU's
 * isa-debug-exit at 0xF4: status 1 for pass, 3 for fail; ACPI S5 at 0x600).
 * Port I/O from user mode goes through entry.S's #GP handler on PVM.
 *
 * Command line (PVH start_info): jobs=NAME,NAME,... ms=N (per job)
 * ops=N (per job, at most) span_mb=N (the part of the disk used; 0: all)
 * gen=N (the first write generation; the host fills with 0) maxgen=N
 * (the highest generation the disk may hold) tsc_khz=N (else CPUID
 * 0x40000010, else the PIT, which does not work on PVM) verify=0|1.
 */
#include <stddef.h>
#include <stdint.h>

#include "pattern.h"

uint32_t devbench_start_info;

/* ---------------------------------------------------------------- basics */
void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;
	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = s;
	while (n--)
		*p++ = *q++;
	return d;
}

#define barrier() __asm__ volatile("" ::: "memory")
#define mb() __asm__ volatile("mfence" ::: "memory")

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" ::"a"(v), "d"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" ::"a"(v), "d"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "d"(port));
	return v;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static inline void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(0));
}

static inline uint32_t rd32(uint64_t a)
{
	return *(volatile uint32_t *)a;
}

static inline void wr32(uint64_t a, uint32_t v)
{
	*(volatile uint32_t *)a = v;
}

static inline void wr16(uint64_t a, uint16_t v)
{
	*(volatile uint16_t *)a = v;
}

static inline uint16_t rd16(uint64_t a)
{
	return *(volatile uint16_t *)a;
}

static inline void wr8(uint64_t a, uint8_t v)
{
	*(volatile uint8_t *)a = v;
}

static inline uint8_t rd8(uint64_t a)
{
	return *(volatile uint8_t *)a;
}

/* ---------------------------------------------------------------- output */
static void putc(char c)
{
	for (int i = 0; i < 100000 && !(inb(0x3fd) & 0x20); i++)
		;
	outb(0x3f8, (uint8_t)c);
}

static void puts(const char *s)
{
	while (*s)
		putc(*s++);
}

static void putu(uint64_t v)
{
	char b[21];
	int i = 20;
	b[i] = 0;
	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	puts(b + i);
}

static void puthex(uint64_t v)
{
	char b[19];
	b[0] = '0';
	b[1] = 'x';
	for (int i = 0; i < 16; i++)
		b[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 15];
	b[18] = 0;
	puts(b);
}

static void kv(const char *k, uint64_t v)
{
	putc(' ');
	puts(k);
	putc('=');
	putu(v);
}

/* isa-debug-exit (QEMU: exit status 2 * code + 1), then ACPI S5
 * (phyllome-vmm: port 0x600, SLP_TYP 5 | SLP_EN). */
static void __attribute__((noreturn)) poweroff(int code)
{
	outl(0xf4, (uint32_t)code);
	outb(0x600, 5 << 2 | 0x20);
	for (;;)
		;
}

static void __attribute__((noreturn)) fail(const char *what, uint64_t v)
{
	puts("DEVBENCH-ERROR ");
	puts(what);
	putc(' ');
	puthex(v);
	puts("\nDEVBENCH-RESULT fail\n");
	poweroff(1);
}

/* ---------------------------------------------------------------- options */
static struct {
	char jobs[256];
	uint64_t ms, ops, span_mb, gen, maxgen, tsc_khz, verify;
} opt = {.ms = 2000, .ops = 1000000, .gen = 1, .verify = 1};

static int memeq(const char *a, const char *b, size_t n)
{
	while (n--)
		if (*a++ != *b++)
			return 0;
	return 1;
}

static int streq_prefix(const char *s, const char *p)
{
	while (*p)
		if (*s++ != *p++)
			return 0;
	return 1;
}

static uint64_t parse_u64(const char *s)
{
	uint64_t v = 0;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (uint64_t)(*s++ - '0');
	return v;
}

static void parse_cmdline(void)
{
	static const struct {
		const char *key;
		uint64_t *val;
	} keys[] = {{"ms=", &opt.ms},		{"ops=", &opt.ops},
		    {"span_mb=", &opt.span_mb}, {"gen=", &opt.gen},
		    {"maxgen=", &opt.maxgen},	{"tsc_khz=", &opt.tsc_khz},
		    {"verify=", &opt.verify}};
	const char *s = 0;
	if (devbench_start_info)
		s = (const char *)(uintptr_t) *
		    (volatile uint64_t *)((uintptr_t)devbench_start_info + 24);
	for (; s && *s;) {
		while (*s == ' ')
			s++;
		if (streq_prefix(s, "jobs=")) {
			size_t n = 0;
			for (s += 5;
			     *s && *s != ' ' && n + 1 < sizeof(opt.jobs);)
				opt.jobs[n++] = *s++;
			opt.jobs[n] = 0;
		}
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (streq_prefix(s, keys[k].key))
				*keys[k].val =
					parse_u64(s + strlen(keys[k].key));
		while (*s && *s != ' ')
			s++;
	}
	if (!opt.jobs[0])
		memcpy(opt.jobs, "verify", 7);
	if (opt.maxgen < opt.gen + 16)
		opt.maxgen = opt.gen + 16;
}

/* ---------------------------------------------------------------- time */
/* Channel 2 of the PIT, gated through port 0x61; 0 if its output never
 * rises (the host runner passes tsc_khz= instead). */
static uint64_t tsc_khz_from_pit(void)
{
	const unsigned ms = 50, latch = 1193182 * ms / 1000;
	outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
	outb(0x43, 0xb0); /* channel 2, lo/hi byte, mode 0 */
	outb(0x42, latch & 0xff);
	outb(0x42, (uint8_t)(latch >> 8));
	uint64_t t0 = rdtsc(), t1 = t0;
	while (!(inb(0x61) & 0x20)) {
		t1 = rdtsc();
		if (t1 - t0 > (10ull << 30)) /* ~3 s at a few GHz */
			return 0;
	}
	return (t1 - t0) / ms;
}

static const char *tsc_src = "cmdline";

static uint64_t tsc_khz(void)
{
	uint32_t r[4];
	if (opt.tsc_khz)
		return opt.tsc_khz;
	cpuid(0x40000000, r);
	if (r[0] >= 0x40000010 && r[0] < 0x40000100) {
		cpuid(0x40000010, r);
		if (r[0]) {
			tsc_src = "cpuid";
			return r[0];
		}
	}
	tsc_src = "pit";
	uint64_t khz = tsc_khz_from_pit();
	if (!khz)
		fail("no-tsc-frequency: pass tsc_khz=", 0);
	return khz;
}

/* Latency histogram: 16 linear steps per power of two of TSC cycles. */
#define HIST_SUB 16
#define HIST_N (64 * HIST_SUB)
static uint32_t hist[HIST_N];

static unsigned hist_index(uint64_t v)
{
	if (v < HIST_SUB)
		return (unsigned)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	unsigned sub = (unsigned)(v >> (msb - 4)) & (HIST_SUB - 1);
	return (msb - 3) * HIST_SUB + sub;
}

static uint64_t hist_value(unsigned idx)
{
	if (idx < HIST_SUB)
		return idx;
	unsigned msb = idx / HIST_SUB + 3, sub = idx % HIST_SUB;
	uint64_t lo = (uint64_t)(HIST_SUB + sub) << (msb - 4);
	return lo + ((1ull << (msb - 4)) >> 1); /* the bucket's middle */
}

static uint64_t hist_pct(uint64_t total, uint64_t per_mille)
{
	uint64_t want = (total * per_mille + 999) / 1000, seen = 0;
	for (unsigned i = 0; i < HIST_N; i++) {
		seen += hist[i];
		if (seen >= want && want)
			return hist_value(i);
	}
	return 0;
}

/* ---------------------------------------------------------------- PCI */
#define ECAM 0xe0000000ull
#define BAR_WINDOW 0xc0000000ull
#define BAR_WINDOW_END 0xe0000000ull

static uint64_t cfg_addr(unsigned dev, unsigned off)
{
	return ECAM | (uint64_t)dev << 15 | off;
}

static uint8_t cfg8(unsigned dev, unsigned off)
{
	return (uint8_t)(rd32(cfg_addr(dev, off & ~3u)) >> (8 * (off & 3)));
}

static uint64_t bar_next = BAR_WINDOW;
static uint64_t bar_base[6];

/* The BAR's address, assigning one from the window if it has none. */
static uint64_t bar_address(unsigned dev, unsigned bar)
{
	if (bar > 5)
		fail("bad-bar-index", bar);
	if (bar_base[bar])
		return bar_base[bar];
	unsigned off = 0x10 + 4 * bar;
	uint32_t lo = rd32(cfg_addr(dev, off));
	int is64 = (lo & 6) == 4;
	if (lo & 1)
		fail("io-bar", bar);
	uint64_t a = lo & ~0xfull;
	if (is64)
		a |= (uint64_t)rd32(cfg_addr(dev, off + 4)) << 32;
	if (!a) {
		wr32(cfg_addr(dev, off), 0xffffffff);
		uint64_t size =
			~(uint64_t)(rd32(cfg_addr(dev, off)) & ~0xfu) + 1;
		size &= 0xffffffffull;
		if (!size)
			fail("bar-size", bar);
		a = (bar_next + size - 1) & ~(size - 1);
		if (a + size > BAR_WINDOW_END)
			fail("bar-window-full", size);
		bar_next = a + size;
		wr32(cfg_addr(dev, off), (uint32_t)a);
		if (is64)
			wr32(cfg_addr(dev, off + 4), 0);
	}
	bar_base[bar] = a;
	return a;
}

/* ---------------------------------------------------------------- virtio */
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_RING_EVENT_IDX 29
#define DEV_ACK 1
#define DEV_DRIVER 2
#define DEV_DRIVER_OK 4
#define DEV_FEATURES_OK 8
#define DEV_NEEDS_RESET 0x40
#define DESC_F_NEXT 1
#define DESC_F_WRITE 2
#define BLK_T_IN 0
#define BLK_T_OUT 1

#define QSIZE_MAX 256

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct vring_avail {
	uint16_t flags, idx;
	uint16_t ring[QSIZE_MAX + 1]; /* + used_event */
};

struct vring_used {
	uint16_t flags, idx;
	struct {
		uint32_t id, len;
	} ring[QSIZE_MAX];
	uint16_t avail_event;
};

static struct {
	struct vring_desc desc[QSIZE_MAX] __attribute__((aligned(4096)));
	struct vring_avail avail __attribute__((aligned(4096)));
	struct vring_used used __attribute__((aligned(4096)));
} vq;

static struct {
	uint64_t common, notify, device;
	uint32_t notify_mult;
	uint16_t qsize, avail_idx, last_used;
	int event_idx;
	uint64_t capacity; /* sectors */
	uint64_t kicks;
} blk;

static void find_caps(unsigned dev)
{
	unsigned ptr = cfg8(dev, 0x34) & ~3u;
	for (int n = 0; ptr && n < 48; n++) {
		uint8_t id = cfg8(dev, ptr), next = cfg8(dev, ptr + 1);
		if (id == 0x09) {
			uint8_t type = cfg8(dev, ptr + 3),
				bar = cfg8(dev, ptr + 4);
			uint64_t off = rd32(cfg_addr(dev, ptr + 8));
			if (type == 1)
				blk.common = bar_address(dev, bar) + off;
			else if (type == 2) {
				blk.notify = bar_address(dev, bar) + off;
				blk.notify_mult = rd32(cfg_addr(dev, ptr + 16));
			} else if (type == 4)
				blk.device = bar_address(dev, bar) + off;
		}
		ptr = next & ~3u;
	}
	if (!blk.common || !blk.notify || !blk.device)
		fail("virtio-caps-missing", 0);
}

static unsigned find_blk(void)
{
	for (unsigned dev = 0; dev < 32; dev++)
		if (rd32(cfg_addr(dev, 0)) == 0x10421af4)
			return dev;
	fail("no-virtio-blk-on-bus-0", 0);
}

static uint64_t features(uint64_t common)
{
	wr32(common + 0x00, 0);
	uint64_t f = rd32(common + 0x04);
	wr32(common + 0x00, 1);
	return f | (uint64_t)rd32(common + 0x04) << 32;
}

static void blk_init(void)
{
	unsigned dev = find_blk();
	find_caps(dev);
	wr32(cfg_addr(dev, 4), rd32(cfg_addr(dev, 4)) | 0x6); /* MEM, master */
	uint64_t c = blk.common;
	wr8(c + 0x14, 0);
	for (int i = 0; rd8(c + 0x14) && i < 1000000; i++)
		;
	wr8(c + 0x14, DEV_ACK);
	wr8(c + 0x14, DEV_ACK | DEV_DRIVER);
	uint64_t have = features(c);
	if (!(have >> VIRTIO_F_VERSION_1 & 1))
		fail("no-version-1", have);
	uint64_t want = 1ull << VIRTIO_F_VERSION_1 |
			(have & 1ull << VIRTIO_F_RING_EVENT_IDX);
	blk.event_idx = (want >> VIRTIO_F_RING_EVENT_IDX) & 1;
	wr32(c + 0x08, 0);
	wr32(c + 0x0c, (uint32_t)want);
	wr32(c + 0x08, 1);
	wr32(c + 0x0c, (uint32_t)(want >> 32));
	wr8(c + 0x14, DEV_ACK | DEV_DRIVER | DEV_FEATURES_OK);
	if (!(rd8(c + 0x14) & DEV_FEATURES_OK))
		fail("features-refused", want);

	wr16(c + 0x16, 0);
	uint16_t max = rd16(c + 0x18);
	if (!max)
		fail("no-queue-0", 0);
	blk.qsize = max < QSIZE_MAX ? max : QSIZE_MAX;
	wr16(c + 0x18, blk.qsize);
	wr16(c + 0x1a, 0xffff); /* no MSI-X vector: we poll */
	uint64_t d = (uintptr_t)vq.desc, a = (uintptr_t)&vq.avail,
		 u = (uintptr_t)&vq.used;
	wr32(c + 0x20, (uint32_t)d);
	wr32(c + 0x24, (uint32_t)(d >> 32));
	wr32(c + 0x28, (uint32_t)a);
	wr32(c + 0x2c, (uint32_t)(a >> 32));
	wr32(c + 0x30, (uint32_t)u);
	wr32(c + 0x34, (uint32_t)(u >> 32));
	blk.notify += (uint64_t)rd16(c + 0x1e) * blk.notify_mult;
	if (!blk.event_idx)
		vq.avail.flags = 1; /* VRING_AVAIL_F_NO_INTERRUPT */
	wr16(c + 0x1c, 1);
	wr8(c + 0x14, DEV_ACK | DEV_DRIVER | DEV_FEATURES_OK | DEV_DRIVER_OK);
	blk.capacity = rd32(blk.device) | (uint64_t)rd32(blk.device + 4) << 32;
	if (rd8(c + 0x14) & DEV_NEEDS_RESET)
		fail("device-needs-reset", rd8(c + 0x14));
	puts("DEVBENCH device");
	kv("slot", dev);
	kv("capacity_sectors", blk.capacity);
	kv("queue_size", blk.qsize);
	kv("event_idx", (uint64_t)blk.event_idx);
	putc('\n');
}

/* Makes what was added visible and notifies the device if it asked. */
static void blk_publish(void)
{
	uint16_t old = vq.avail.idx, new = blk.avail_idx;
	if (old == new)
		return;
	barrier();
	vq.avail.idx = new;
	mb();
	int kick;
	if (blk.event_idx) {
		uint16_t ev = *(volatile uint16_t *)&vq.used.ring[blk.qsize];
		kick = (uint16_t)(new - ev - 1) < (uint16_t)(new - old);
	} else {
		kick = !(*(volatile uint16_t *)&vq.used.flags & 1);
	}
	if (kick) {
		wr16(blk.notify, 0);
		blk.kicks++;
	}
}

/* ---------------------------------------------------------------- jobs */
#define QD_MAX 32
#define BUF_BYTES (8u << 20)
#define LOG_MAX 65536
#define READBACK_BYTES (256u << 20)

struct blk_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

static uint8_t bufs[BUF_BYTES] __attribute__((aligned(4096)));
static struct blk_hdr hdrs[QD_MAX];
static volatile uint8_t status[QD_MAX];
static uint64_t slot_sector[QD_MAX], slot_t0[QD_MAX];
static uint64_t wlog[LOG_MAX];
static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

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

static uint8_t *slot_buf(const struct run *r, unsigned slot)
{
	return bufs + (uint64_t)slot * r->j->bs;
}

static void slot_setup(const struct run *r, unsigned slot, int write)
{
	struct vring_desc *d = &vq.desc[3 * slot];
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
	if (write)
		for (uint32_t s = 0; s < r->j->bs / DB_SECTOR; s++)
			db_fill((uint64_t *)(slot_buf(r, slot) + s * DB_SECTOR),
				sector + s, r->gen);
	status[slot] = 0xff;
	slot_sector[slot] = sector;
	vq.avail.ring[blk.avail_idx % blk.qsize] = (uint16_t)(3 * slot);
	blk.avail_idx++;
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

static void complete(struct run *r, unsigned slot, uint64_t now)
{
	uint64_t lat = now - slot_t0[slot];
	r->ops++;
	hist[hist_index(lat)]++;
	if (lat > r->lat_max)
		r->lat_max = lat;
	if (status[slot] != 0) {
		report_error(r, "status", status[slot]);
		return;
	}
	int write = r->j->write && !r->readback;
	if (write) {
		if (r->nlog < LOG_MAX)
			wlog[r->nlog++] = slot_sector[slot];
		return;
	}
	if (!opt.verify)
		return;
	for (uint32_t s = 0; s < r->j->bs / DB_SECTOR; s++) {
		const uint64_t *w =
			(const uint64_t *)(slot_buf(r, slot) + s * DB_SECTOR);
		uint64_t gen, sector = slot_sector[slot] + s;
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
	unsigned qd = r->j->qd, inflight = 0, free_slots[QD_MAX], nfree = 0;
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
		blk_publish();
		if (!inflight)
			break;
		uint16_t used;
		uint64_t spins = 0;
		while ((used = *(volatile uint16_t *)&vq.used.idx) ==
		       blk.last_used)
			if (++spins == (1ull << 34))
				fail("device-stalled", blk.last_used);
		barrier();
		now = rdtsc();
		while (blk.last_used != used) {
			uint32_t id =
				vq.used.ring[blk.last_used % blk.qsize].id;
			unsigned slot = id / 3;
			if (id % 3 || slot >= qd)
				fail("bad-used-id", id);
			complete(r, slot, now);
			free_slots[nfree++] = slot;
			inflight--;
			blk.last_used++;
		}
		if (blk.event_idx) /* no interrupt wanted: keep used_event
				      behind */
			*(volatile uint16_t *)&vq.avail.ring[blk.qsize] =
				(uint16_t)(blk.last_used - 1);
	}
}

static int run_job(const struct job *j, uint64_t gen, uint64_t khz)
{
	struct run r = {.j = j, .gen = gen};
	uint64_t span =
		opt.span_mb ? opt.span_mb << 20 : blk.capacity * DB_SECTOR;
	if (span > blk.capacity * DB_SECTOR)
		span = blk.capacity * DB_SECTOR;
	r.blocks = span / j->bs;
	if (!r.blocks)
		fail("disk-too-small", blk.capacity);
	r.next_seq = rnd() % r.blocks;
	memset(hist, 0, sizeof(hist));
	puts("DEVBENCH begin job=");
	puts(j->name);
	putc('\n');
	uint64_t kicks0 = blk.kicks, t0 = rdtsc();
	run_requests(&r, opt.ops, t0 + opt.ms * khz);
	uint64_t cycles = rdtsc() - t0, kicks = blk.kicks - kicks0;
	uint64_t total = r.ops;

	puts("DEVBENCH job=");
	puts(j->name);
	kv("ops", r.ops);
	kv("bytes", r.ops * j->bs);
	kv("cycles", cycles);
	kv("tsc_khz", khz);
	kv("iops", cycles ? r.ops * khz * 1000 / cycles : 0);
	kv("kBps", cycles ? r.ops * (j->bs / 1024) * khz * 1000 / cycles : 0);
	kv("lat_p50_ns", hist_pct(total, 500) * 1000000 / khz);
	kv("lat_p90_ns", hist_pct(total, 900) * 1000000 / khz);
	kv("lat_p99_ns", hist_pct(total, 990) * 1000000 / khz);
	kv("lat_p999_ns", hist_pct(total, 999) * 1000000 / khz);
	kv("lat_max_ns", r.lat_max * 1000000 / khz);
	kv("kicks", kicks);
	kv("verified", r.verified);
	kv("errors", r.errors);
	putc('\n');
	if (!j->write || !opt.verify)
		return r.errors ? -1 : 0;

	/* Read back what was written (the last READBACK_BYTES of the log):
	 * this job's generation, no other. */
	uint64_t n = r.nlog < READBACK_BYTES / j->bs ? r.nlog
						     : READBACK_BYTES / j->bs;
	struct run b = {.j = j, .gen = gen, .ilog = r.nlog - n, .readback = 1};
	run_requests(&b, n, ~0ull);
	puts("DEVBENCH readback job=");
	puts(j->name);
	kv("logged", r.nlog);
	kv("read", n);
	kv("verified", b.verified);
	kv("errors", b.errors);
	putc('\n');
	return r.errors || b.errors || !n || b.verified != n ? -1 : 0;
}

static const struct job *job_named(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++)
		if (strlen(jobs[i].name) == n && memeq(jobs[i].name, s, n))
			return &jobs[i];
	return 0;
}

void __attribute__((noreturn)) devbench_main(void)
{
	parse_cmdline();
	uint64_t khz = tsc_khz();
	puts("DEVBENCH start");
	kv("tsc_khz", khz);
	puts(" tsc_src=");
	puts(tsc_src);
	putc('\n');
	blk_init();
	int bad = 0;
	uint64_t gen = opt.gen;
	const char *s = opt.jobs;
	while (*s) {
		size_t n = 0;
		while (s[n] && s[n] != ',')
			n++;
		int all = n == 6 && memeq(s, "verify", 6);
		for (size_t i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++) {
			const struct job *j = all ? &jobs[i] : job_named(s, n);
			if (!j) {
				puts("DEVBENCH-ERROR unknown-job\n");
				bad = 1;
				break;
			}
			bad |= run_job(j, j->write ? gen++ : gen, khz) != 0;
			if (!all)
				break;
		}
		s += n;
		if (*s == ',')
			s++;
	}
	puts(bad ? "DEVBENCH-RESULT fail\n" : "DEVBENCH-RESULT pass\n");
	poweroff(bad);
}
