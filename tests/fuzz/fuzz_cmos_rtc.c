/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: a hostile guest at the CMOS RTC's ports, on a host
 * clock the input moves. The input sets the RAM sizes, then is a program
 * of steps, one opcode byte and its arguments each: index and data bytes,
 * reads, accesses of any width at any offset (past the two ports too),
 * the host's clock moved a little or anywhere (past what the chip can
 * show), the clock set the guest's way (SET, the fields, SET cleared) in
 * whatever format register B holds, and the battery's state carried into
 * a new device as across a reboot.
 *
 * After every step, whatever the guest wrote: register D reads 0x80;
 * UIP is set exactly in the last 244 us of a second without SET; C never
 * shows the alarm or periodic flags; without SET the clock registers are
 * a valid time in B's format with the weekday of that date (the guest's
 * garbage reaches them only while SET freezes them). A clock the guest
 * set reads back as set and then runs with the host's; a restored device
 * shows the same clock and memory, with the RAM sizes published again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmos_guest.h"
#include "fuzz_prog.h"

#define UIP_FROM 999756000L

struct fz {
	struct cmos_rtc *rtc;
	struct timespec now; /* the host's clock */
	uint64_t below, above;
	/* The clock the guest last set: t at host second `at`, while
	 * nothing else touched it. */
	bool set;
	int64_t t, at;
};

static void die(const char *what)
{
	fprintf(stderr, "fuzz_cmos_rtc: %s\n", what);
	abort();
}

static void fz_now(void *opaque, struct timespec *now)
{
	*now = ((struct fz *)opaque)->now;
}

static struct cmos_rtc *create(struct fz *f, const struct cmos_rtc_saved *s)
{
	struct cmos_rtc_params p = {
		.ram_below_4g = f->below,
		.ram_above_4g = f->above,
		.clock = fz_now,
		.clock_opaque = f,
		.restore = s,
	};
	struct cmos_rtc *rtc = cmos_rtc_create(&p);
	if (!rtc)
		die("out of memory");
	return rtc;
}

static long ns_of(const struct fz *f)
{
	long ns = f->now.tv_nsec;
	return ns >= 0 && ns < 1000000000L ? ns : 0;
}

/* What the guest's clock must read now, if it set it last. */
static int64_t expected(const struct fz *f)
{
	return cmos_time_clamp(cmos_time_clamp(f->now.tv_sec) + f->t -
			       cmos_time_clamp(f->at));
}

static void check_clock(struct fz *f, uint8_t b)
{
	struct cmos_time t = cmos_read_clock(f->rtc), again;
	int64_t secs;
	if (!cmos_time_decode(&t, b, &secs))
		die("the clock registers are no valid time");
	cmos_time_encode(secs, b, &again);
	if (again.wday != t.wday)
		die("the weekday is not the date's");
	if (f->set) {
		cmos_time_encode(expected(f), b, &again);
		if (memcmp(&again, &t, sizeof(t)))
			die("the clock the guest set does not read back");
	}
}

/* The invariants, through the ports; the guest's index is put back. */
static void check(struct fz *f)
{
	uint8_t index = cmos_in(f->rtc, 0);
	if (cmos_rd(f->rtc, CMOS_D) != 0x80)
		die("register D is not 0x80");
	uint8_t b = cmos_rd(f->rtc, CMOS_B);
	bool uip = !(b & CMOS_B_SET) && ns_of(f) >= UIP_FROM;
	if (!(cmos_rd(f->rtc, CMOS_A) & 0x80) != !uip)
		die("UIP is wrong");
	if (!(b & CMOS_B_SET))
		check_clock(f, b);
	cmos_out(f->rtc, 0, index);
}

static unsigned cap(uint64_t v, uint64_t max)
{
	return (unsigned)(v > max ? max : v);
}

static unsigned get(struct fz *f, uint8_t index, unsigned bytes)
{
	unsigned v = 0;
	for (unsigned i = bytes; i--;)
		v = v << 8 | cmos_rd(f->rtc, (uint8_t)(index + i));
	return v;
}

/* The RAM sizes as OVMF and SeaBIOS read them. */
static void check_ram(struct fz *f)
{
	uint64_t below = f->below, mib = 1 << 20;
	unsigned ext = cap(below > mib ? (below - mib) >> 10 : 0, 0xFFFF);
	if (get(f, 0x15, 2) != cap(below >> 10, 640) ||
	    get(f, 0x17, 2) != ext || get(f, 0x30, 2) != ext ||
	    get(f, 0x34, 2) !=
		    cap(below > 16 * mib ? (below - 16 * mib) >> 16 : 0,
			0xFFFF) ||
	    get(f, 0x5b, 3) != cap(f->above >> 16, 0xFFFFFF))
		die("a RAM size is wrong");
}

/* The bytes a new device makes anew rather than restoring them. */
static bool made_anew(unsigned i)
{
	return i <= CMOS_D || i == CMOS_CENTURY || (i >= 0x15 && i <= 0x18) ||
	       i == 0x30 || i == 0x31 || i == 0x34 || i == 0x35 ||
	       (i >= 0x5b && i <= 0x5d);
}

/* Any width at any offset, straight to the ops (the bus would refuse
 * what crosses the end of the range). */
static void wide(struct fz *f, struct prog *g)
{
	uint8_t k = prog_byte(g), data[8];
	uint64_t off = k & 0x80 ? UINT64_MAX - (k & 3) : k & 3;
	uint32_t len = (k >> 2) & 7;
	if (k & 0x40) {
		cmos_rtc_bus_ops.read(f->rtc, off, data, len);
		return;
	}
	for (uint32_t i = 0; i < len; i++)
		data[i] = prog_byte(g);
	cmos_rtc_bus_ops.write(f->rtc, off, data, len);
}

/* The guest sets its clock to a time of the input's, in B's format. */
static void guest_set(struct fz *f, struct prog *g)
{
	uint64_t x = 0;
	for (int i = 0; i < 5; i++)
		x = x << 8 | prog_byte(g);
	int64_t t =
		CMOS_TIME_MIN +
		(int64_t)(x % (uint64_t)(CMOS_TIME_MAX - CMOS_TIME_MIN + 1));
	struct cmos_time r;
	cmos_time_encode(t, cmos_rd(f->rtc, CMOS_B), &r);
	cmos_guest_set(f->rtc, &r);
	f->set = true;
	f->t = t;
	f->at = f->now.tv_sec;
}

/* A reboot: what the battery kept, in a new device. */
static void reboot(struct fz *f)
{
	struct cmos_rtc_saved saved;
	cmos_rtc_save(f->rtc, &saved);
	uint8_t b = cmos_rd(f->rtc, CMOS_B);
	struct cmos_time before = cmos_read_clock(f->rtc);
	cmos_rtc_destroy(f->rtc);
	f->rtc = create(f, &saved);
	if (cmos_rd(f->rtc, CMOS_B) != (b & ~CMOS_B_SET))
		die("register B was not kept");
	for (unsigned i = 0; i < CMOS_RTC_SIZE; i++)
		if (!made_anew(i) &&
		    cmos_rd(f->rtc, (uint8_t)i) != saved.bytes[i])
			die("the memory was not kept");
	check_ram(f);
	if (!(b & CMOS_B_SET)) {
		struct cmos_time after = cmos_read_clock(f->rtc);
		if (memcmp(&before, &after, sizeof(before)))
			die("the clock was not kept");
	} else {
		f->set = false; /* frozen fields are dropped */
	}
}

static void step(struct fz *f, uint8_t op, struct prog *g)
{
	switch (op % 9) {
	case 0:
		cmos_out(f->rtc, 0, prog_byte(g));
		break;
	case 1: {
		/* A write to the clock (or B, A...) may change the clock. */
		uint8_t index = cmos_in(f->rtc, 0) & 0x7f;
		if (index <= CMOS_B || index == CMOS_CENTURY)
			f->set = false;
		cmos_out(f->rtc, 1, prog_byte(g));
		break;
	}
	case 2: {
		uint8_t index = cmos_in(f->rtc, 0) & 0x7f,
			port = prog_byte(g) & 1;
		uint8_t v = cmos_in(f->rtc, port);
		if (port == 1 && index == CMOS_C && (v & 0x6f))
			die("register C shows a flag it never sets");
		break;
	}
	case 3:
		f->set = false;
		wide(f, g);
		break;
	case 4: { /* a little time passes */
		if (f->now.tv_sec < INT64_MAX - 255)
			f->now.tv_sec += prog_byte(g);
		f->now.tv_nsec = (long)prog_word(g) * 15259;
		break;
	}
	case 5:
		guest_set(f, g);
		break;
	case 6:
		reboot(f);
		break;
	case 7: { /* the host's clock jumps anywhere */
		uint64_t s = 0;
		for (int i = 0; i < 8; i++)
			s = s << 8 | prog_byte(g);
		f->now.tv_sec = (time_t)s;
		f->now.tv_nsec = (long)(int16_t)prog_word(g) * 65536;
		break;
	}
	case 8: /* the nanoseconds just before a second's end */
		f->now.tv_nsec = UIP_FROM - 2 + prog_byte(g) % 4;
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prog g = {data, size};
	struct fz f = {.now = {1709214307, 0}};
	/* Below 4 GiB up to 8 GiB and above up to 2 TiB, past the caps. */
	f.below = (uint64_t)prog_word(&g) << 17;
	f.above = (uint64_t)prog_word(&g) << 25;
	f.rtc = create(&f, NULL);
	check_ram(&f);
	check(&f);
	for (unsigned steps = 0; g.n && steps < 512; steps++) {
		step(&f, prog_byte(&g), &g);
		check(&f);
	}
	cmos_rtc_destroy(f.rtc);
	return 0;
}
