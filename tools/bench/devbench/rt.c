/* SPDX-License-Identifier: Apache-2.0 */
#include "rt.h"

uint32_t devbench_start_info; /* set by entry.S: PVH hvm_start_info */

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

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

int memeq(const char *a, const char *b, size_t n)
{
	while (n--)
		if (*a++ != *b++)
			return 0;
	return 1;
}

static inline void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(0));
}

/* ---------------------------------------------------------------- output */
void putc(char c)
{
	for (int i = 0; i < 100000 && !(inb(0x3fd) & 0x20); i++)
		;
	outb(0x3f8, (uint8_t)c);
}

void puts(const char *s)
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

void puthex(uint64_t v)
{
	char b[19];
	b[0] = '0';
	b[1] = 'x';
	for (int i = 0; i < 16; i++)
		b[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 15];
	b[18] = 0;
	puts(b);
}

void kv(const char *k, uint64_t v)
{
	putc(' ');
	puts(k);
	putc('=');
	putu(v);
}

/* isa-debug-exit (QEMU: exit status 2 * code + 1), then ACPI S5
 * (phyllome-vmm: port 0x600, SLP_TYP 5 | SLP_EN). */
void poweroff(int code)
{
	outl(0xf4, (uint32_t)code);
	outb(0x600, 5 << 2 | 0x20);
	for (;;)
		;
}

void fail(const char *what, uint64_t v)
{
	puts("DEVBENCH-ERROR ");
	puts(what);
	putc(' ');
	puthex(v);
	puts("\nDEVBENCH-RESULT fail\n");
	poweroff(1);
}

/* ---------------------------------------------------------------- options */
struct options opt = {.ms = 2000, .ops = 1000000, .gen = 1, .verify = 1};

static int has_prefix(const char *s, const char *p)
{
	return memeq(s, p, strlen(p));
}

static uint64_t parse_u64(const char *s)
{
	uint64_t v = 0;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (uint64_t)(*s++ - '0');
	return v;
}

void parse_cmdline(void)
{
	static const struct {
		const char *key;
		uint64_t *val;
	} keys[] = {{"ms=", &opt.ms},		{"ops=", &opt.ops},
		    {"span_mb=", &opt.span_mb}, {"gen=", &opt.gen},
		    {"maxgen=", &opt.maxgen},	{"tsc_khz=", &opt.tsc_khz},
		    {"verify=", &opt.verify},	{"seed=", &opt.seed}};
	const char *s = 0;
	if (devbench_start_info) /* hvm_start_info.cmdline_paddr */
		s = (const char *)(uintptr_t) *
		    (volatile uint64_t *)((uintptr_t)devbench_start_info + 24);
	for (; s && *s;) {
		while (*s == ' ')
			s++;
		if (has_prefix(s, "jobs=")) {
			size_t n = 0;
			for (s += 5;
			     *s && *s != ' ' && n + 1 < sizeof(opt.jobs);)
				opt.jobs[n++] = *s++;
			opt.jobs[n] = 0;
		}
		for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
			if (has_prefix(s, keys[k].key))
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
 * rises (as on PVM here: the host runner passes tsc_khz= instead). */
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

uint64_t tsc_khz(const char **src)
{
	uint32_t r[4];
	*src = "cmdline";
	if (opt.tsc_khz)
		return opt.tsc_khz;
	cpuid(0x40000000, r);
	if (r[0] >= 0x40000010 && r[0] < 0x40000100) {
		cpuid(0x40000010, r);
		if (r[0]) {
			*src = "cpuid";
			return r[0];
		}
	}
	*src = "pit";
	uint64_t khz = tsc_khz_from_pit();
	if (!khz)
		fail("no-tsc-frequency: pass tsc_khz=", 0);
	return khz;
}

/* ---------------------------------------------------------------- latency */
#define HIST_SUB 16
#define HIST_N (64 * HIST_SUB)
static uint32_t hist[HIST_N];
static uint64_t hist_total;

void hist_reset(void)
{
	memset(hist, 0, sizeof(hist));
	hist_total = 0;
}

void hist_add(uint64_t v)
{
	unsigned idx = (unsigned)v;
	if (v >= HIST_SUB) {
		unsigned msb = 63u - (unsigned)__builtin_clzll(v);
		unsigned sub = (unsigned)(v >> (msb - 4)) & (HIST_SUB - 1);
		idx = (msb - 3) * HIST_SUB + sub;
	}
	hist[idx]++;
	hist_total++;
}

/* A bucket's middle. */
static uint64_t hist_value(unsigned idx)
{
	if (idx < HIST_SUB)
		return idx;
	unsigned msb = idx / HIST_SUB + 3, sub = idx % HIST_SUB;
	uint64_t lo = (uint64_t)(HIST_SUB + sub) << (msb - 4);
	return lo + ((1ull << (msb - 4)) >> 1);
}

uint64_t hist_pct(uint64_t per_mille)
{
	uint64_t want = (hist_total * per_mille + 999) / 1000, seen = 0;
	for (unsigned i = 0; i < HIST_N && want; i++) {
		seen += hist[i];
		if (seen >= want)
			return hist_value(i);
	}
	return 0;
}

uint64_t rnd(void)
{
	static uint64_t x = 0x2545f4914f6cdd1dull;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}
