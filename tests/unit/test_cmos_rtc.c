/* SPDX-License-Identifier: Apache-2.0 */
/* The CMOS RTC: the clock in its formats, the guest setting it, registers
 * A to D, the RAM sizes OVMF reads, the memory, accesses of every width
 * and garbage, the calendar against glibc's, the DSDT part. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "cmos_guest.h"

#define MiB (1024ull * 1024)
#define GiB (1024 * MiB)

/* 2024-02-29 13:45:07 UTC, a Thursday. */
#define LEAP_DAY 1709214307

struct fake_clock {
	struct timespec now;
};

static void fake_now(void *opaque, struct timespec *now)
{
	*now = ((struct fake_clock *)opaque)->now;
}

static struct cmos_rtc *make(struct fake_clock *clk, uint64_t below,
			     uint64_t above)
{
	struct cmos_rtc_params p = {
		.ram_below_4g = below,
		.ram_above_4g = above,
		.clock = fake_now,
		.clock_opaque = clk,
	};
	return cmos_rtc_create(&p);
}

static void test_time_formats(void)
{
	struct fake_clock clk = {{LEAP_DAY, 0}};
	struct cmos_rtc *rtc = make(&clk, 256 * MiB, 0);
	REQUIRE(rtc);
	/* A new CMOS is in 24-hour BCD, as a PC's firmware leaves it. */
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_B), CMOS_B_24H);
	struct cmos_time t = cmos_read_clock(rtc);
	CHECK_EQ_U64(t.sec, 0x07);
	CHECK_EQ_U64(t.min, 0x45);
	CHECK_EQ_U64(t.hour, 0x13);
	CHECK_EQ_U64(t.wday, 5);
	CHECK_EQ_U64(t.mday, 0x29);
	CHECK_EQ_U64(t.mon, 0x02);
	CHECK_EQ_U64(t.year, 0x24);
	CHECK_EQ_U64(t.century, 0x20);

	cmos_wr(rtc, CMOS_B, CMOS_B_24H | CMOS_B_BINARY);
	t = cmos_read_clock(rtc);
	CHECK(t.sec == 7 && t.min == 45 && t.hour == 13 && t.wday == 5);
	CHECK(t.mday == 29 && t.mon == 2 && t.year == 24 && t.century == 20);

	/* The clock runs with the host's. */
	clk.now.tv_sec += 60 * 60 * 11; /* 00:45:07 on 1 March */
	t = cmos_read_clock(rtc);
	CHECK(t.hour == 0 && t.mday == 1 && t.mon == 3 && t.wday == 6);
	cmos_rtc_destroy(rtc);
}

static void test_12_hour(void)
{
	struct fake_clock clk = {{LEAP_DAY - 13 * 3600, 0}}; /* 00:45:07 */
	struct cmos_rtc *rtc = make(&clk, 256 * MiB, 0);
	REQUIRE(rtc);
	static const struct {
		unsigned hour;
		uint8_t bcd, bin;
	} cases[] = {
		{0, 0x12, 12},	  {1, 0x01, 1},	    {11, 0x11, 11},
		{12, 0x92, 0x8c}, {13, 0x81, 0x81}, {23, 0x91, 0x8b},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		clk.now.tv_sec = LEAP_DAY - 13 * 3600 + cases[i].hour * 3600;
		cmos_wr(rtc, CMOS_B, 0);
		CHECK_EQ_U64(cmos_rd(rtc, CMOS_HOUR), cases[i].bcd);
		cmos_wr(rtc, CMOS_B, CMOS_B_BINARY);
		CHECK_EQ_U64(cmos_rd(rtc, CMOS_HOUR), cases[i].bin);
	}
	/* The guest sets 3 PM in 12-hour BCD; 24-hour mode shows 15. */
	cmos_wr(rtc, CMOS_B, 0);
	cmos_wr(rtc, CMOS_HOUR, 0x83);
	cmos_wr(rtc, CMOS_B, CMOS_B_24H);
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_HOUR), 0x15);
	/* Hour 0 and 13 are no 12-hour values: the clock ignores them. */
	cmos_wr(rtc, CMOS_B, 0);
	cmos_wr(rtc, CMOS_HOUR, 0x00);
	cmos_wr(rtc, CMOS_HOUR, 0x13);
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_HOUR), 0x83);
	cmos_rtc_destroy(rtc);
}

static void test_guest_sets_clock(void)
{
	struct fake_clock clk = {{LEAP_DAY, 0}};
	struct cmos_rtc *rtc = make(&clk, 256 * MiB, 0);
	REQUIRE(rtc);
	/* 1999-12-31 23:59:58, a Friday. */
	struct cmos_time eve = {0x58, 0x59, 0x23, 6, 0x31, 0x12, 0x99, 0x19};
	cmos_guest_set(rtc, &eve);
	struct cmos_time t = cmos_read_clock(rtc);
	CHECK(cmos_same_time(&t, &eve));
	/* It keeps running from there, across the century. */
	clk.now.tv_sec += 3;
	t = cmos_read_clock(rtc);
	struct cmos_time y2k = {0x01, 0x00, 0x00, 7, 0x01, 0x01, 0x00, 0x20};
	CHECK(cmos_same_time(&t, &y2k));
	/* A new device with what the battery kept shows the same. */
	struct cmos_rtc_saved saved;
	cmos_rtc_save(rtc, &saved);
	struct cmos_rtc_params p = {
		.ram_below_4g = 256 * MiB,
		.clock = fake_now,
		.clock_opaque = &clk,
		.restore = &saved,
	};
	struct cmos_rtc *again = cmos_rtc_create(&p);
	REQUIRE(again);
	t = cmos_read_clock(again);
	CHECK(cmos_same_time(&t, &y2k));
	cmos_rtc_destroy(again);

	/* While SET the registers are frozen; what the guest writes shows. */
	cmos_wr(rtc, CMOS_B, CMOS_B_24H | CMOS_B_SET | CMOS_B_UIE);
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_B),
		     CMOS_B_24H | CMOS_B_SET); /* SET clears UIE */
	clk.now.tv_sec += 100;
	t = cmos_read_clock(rtc);
	CHECK(cmos_same_time(&t, &y2k));
	cmos_wr(rtc, CMOS_MIN, 0x30);
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_MIN), 0x30);
	/* A reboot while SET: the frozen fields were no choice. */
	cmos_rtc_save(rtc, &saved);
	again = cmos_rtc_create(&p);
	REQUIRE(again);
	CHECK_EQ_U64(cmos_rd(again, CMOS_B), CMOS_B_24H);
	CHECK_EQ_U64(cmos_rd(again, CMOS_MIN), 0x01); /* 00:01:41 */
	cmos_rtc_destroy(again);
	cmos_wr(rtc, CMOS_B, CMOS_B_24H);
	t = cmos_read_clock(rtc);
	CHECK(t.min == 0x30 && t.sec == 0x01 && t.hour == 0 && t.year == 0);

	/* An invalid date is dropped: the clock goes on as before. */
	struct cmos_time bad = eve;
	bad.mon = 0x13;
	cmos_guest_set(rtc, &bad);
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_MIN), 0x30);
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_YEAR), 0x00);
	bad = eve;
	bad.mday = 0x30;
	bad.mon = 0x02;
	cmos_guest_set(rtc, &bad);
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_MON), 0x01);
	bad.sec = 0x5a; /* no BCD */
	bad.mday = 0x29;
	bad.year = 0x00;
	bad.century = 0x20; /* 2000 was a leap year: only the seconds are bad */
	cmos_guest_set(rtc, &bad);
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_MON), 0x01);
	bad.sec = 0x00;
	cmos_guest_set(rtc, &bad);
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_MON), 0x02);
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_MDAY), 0x29);
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_WDAY), 3); /* a Tuesday */

	/* Without SET a write sets its field at once. */
	cmos_wr(rtc, CMOS_YEAR, 0x24);
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_YEAR), 0x24);
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_WDAY), 5);
	cmos_wr(rtc, CMOS_MDAY, 0x30); /* no 30 February */
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_MDAY), 0x29);

	/* In binary, 12-hour mode too. */
	cmos_wr(rtc, CMOS_B, CMOS_B_BINARY);
	struct cmos_time late = {30, 15, 0x80 | 11, 1, 9, 6, 77, 19};
	cmos_guest_set(rtc, &late); /* 1977-06-09 23:15:30: a Thursday */
	t = cmos_read_clock(rtc);
	late.wday = 5;
	CHECK(cmos_same_time(&t, &late));
	cmos_rtc_destroy(rtc);
}

static void test_register_a(void)
{
	struct fake_clock clk = {{LEAP_DAY, 0}};
	struct cmos_rtc *rtc = make(&clk, 256 * MiB, 0);
	REQUIRE(rtc);
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_A), 0x26);
	/* Update in progress: the last 244 us of a second. */
	clk.now.tv_nsec = 999756000;
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_A), 0x80 | 0x26);
	clk.now.tv_nsec = 999755999;
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_A), 0x26);
	clk.now.tv_nsec = 999999999;
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_A), 0x80 | 0x26);
	cmos_wr(rtc, CMOS_B, CMOS_B_24H | CMOS_B_SET);
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_A), 0x26);
	cmos_wr(rtc, CMOS_B, CMOS_B_24H);
	/* The divider and rate bits are kept; UIP is not written. */
	clk.now.tv_nsec = 0;
	cmos_wr(rtc, CMOS_A, 0xf0);
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_A), 0x70);
	cmos_wr(rtc, CMOS_A, 0x26);
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_A), 0x26);
	/* A nanosecond count out of range is read as 0. */
	clk.now.tv_nsec = -1;
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_A), 0x26);
	clk.now.tv_nsec = 2000000000;
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_A), 0x26);
	cmos_rtc_destroy(rtc);
}

static void test_registers_c_d(void)
{
	struct fake_clock clk = {{LEAP_DAY, 0}};
	struct cmos_rtc *rtc = make(&clk, 256 * MiB, 0);
	REQUIRE(rtc);
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_C), 0);
	clk.now.tv_sec++;
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_C), 0x10); /* update ended */
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_C), 0);	  /* read-to-clear */
	cmos_wr(rtc, CMOS_B, CMOS_B_24H | CMOS_B_UIE);
	clk.now.tv_sec++;
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_C), 0x90);
	cmos_wr(rtc, CMOS_C, 0xff);
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_C), 0);
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_D), 0x80);
	/* OVMF writes 0 to D; it still says valid. */
	cmos_wr(rtc, CMOS_D, 0);
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_D), 0x80);
	cmos_rtc_destroy(rtc);
}

static unsigned get16(struct cmos_rtc *rtc, uint8_t lo)
{
	return cmos_rd(rtc, lo) | cmos_rd(rtc, lo + 1) << 8;
}

static unsigned get24(struct cmos_rtc *rtc, uint8_t lo)
{
	return get16(rtc, lo) | (unsigned)cmos_rd(rtc, lo + 2) << 16;
}

static void test_ram_sizes(void)
{
	static const struct {
		uint64_t below, above;
		unsigned base, ext, mid, high;
	} cases[] = {
		{512 * 1024, 0, 512, 0, 0, 0},
		{32 * MiB, 0, 640, 31 * 1024, 256, 0},
		{256 * MiB, 0, 640, 0xFFFF, 0x0F00, 0},
		{3 * GiB, 0, 640, 0xFFFF, 0xBF00, 0},
		/* 6 GiB as this machine lays it out: 3 below, 3 above. */
		{3 * GiB, 3 * GiB, 640, 0xFFFF, 0xBF00, 0xC000},
		{4 * GiB, 1023 * GiB, 640, 0xFFFF, 0xFF00, 0xFFC000},
		/* Capped. */
		{8 * GiB, 2048 * GiB, 640, 0xFFFF, 0xFFFF, 0xFFFFFF},
		{0, 64 * 1024 - 1, 0, 0, 0, 0},
	};
	struct fake_clock clk = {{LEAP_DAY, 0}};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cmos_rtc *rtc =
			make(&clk, cases[i].below, cases[i].above);
		REQUIRE(rtc);
		CHECK_EQ_U64(get16(rtc, 0x15), cases[i].base);
		CHECK_EQ_U64(get16(rtc, 0x17), cases[i].ext);
		CHECK_EQ_U64(get16(rtc, 0x30), cases[i].ext);
		CHECK_EQ_U64(get16(rtc, 0x34), cases[i].mid);
		CHECK_EQ_U64(get24(rtc, 0x5b), cases[i].high);
		/* OVMF's sums give the sizes back below the caps. */
		if (cases[i].below > 16 * MiB && cases[i].below <= 4 * GiB)
			CHECK_EQ_U64(((uint64_t)get16(rtc, 0x34) << 16) +
					     16 * MiB,
				     cases[i].below);
		if (cases[i].above < 1024 * GiB)
			CHECK_EQ_U64((uint64_t)get24(rtc, 0x5b) << 16,
				     cases[i].above & ~0xFFFFull);
		cmos_rtc_destroy(rtc);
	}
}

static bool special(unsigned i)
{
	return i <= CMOS_D || i == CMOS_CENTURY;
}

static void test_nvram(void)
{
	struct fake_clock clk = {{LEAP_DAY, 0}};
	struct cmos_rtc *rtc = make(&clk, 3 * GiB, 3 * GiB);
	REQUIRE(rtc);
	for (unsigned i = 0; i < CMOS_RTC_SIZE; i++)
		if (!special(i))
			cmos_wr(rtc, (uint8_t)i, (uint8_t)(i * 7 + 3));
	/* The alarms are memory. */
	cmos_wr(rtc, CMOS_SEC_ALARM, 0xc5);
	for (unsigned i = 0; i < CMOS_RTC_SIZE; i++)
		if (!special(i))
			CHECK_EQ_U64(cmos_rd(rtc, (uint8_t)i),
				     (uint8_t)(i * 7 + 3));
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_SEC_ALARM), 0xc5);
	/* Saved and restored; the RAM sizes are the VMM's again. */
	struct cmos_rtc_saved saved;
	cmos_rtc_save(rtc, &saved);
	cmos_rtc_destroy(rtc);
	struct cmos_rtc_params p = {
		.ram_below_4g = 3 * GiB,
		.ram_above_4g = 3 * GiB,
		.clock = fake_now,
		.clock_opaque = &clk,
		.restore = &saved,
	};
	rtc = cmos_rtc_create(&p);
	REQUIRE(rtc);
	CHECK_EQ_U64(cmos_rd(rtc, 0x40), (uint8_t)(0x40 * 7 + 3));
	CHECK_EQ_U64(cmos_rd(rtc, 0x7f), (uint8_t)(0x7f * 7 + 3));
	CHECK_EQ_U64(get16(rtc, 0x34), 0xBF00);
	CHECK_EQ_U64(get24(rtc, 0x5b), 0xC000);
	cmos_rtc_destroy(rtc);
}

static void test_index_register(void)
{
	struct fake_clock clk = {{LEAP_DAY, 0}};
	struct cmos_rtc *rtc = make(&clk, 256 * MiB, 0);
	REQUIRE(rtc);
	cmos_wr(rtc, 0x40, 0xaa);
	/* Bit 7 masks NMIs: kept, read back, not part of the index. */
	uint8_t idx = 0x80 | 0x40, v;
	cmos_rtc_bus_ops.write(rtc, 0, &idx, 1);
	cmos_rtc_bus_ops.read(rtc, 0, &v, 1);
	CHECK_EQ_U64(v, 0xc0);
	cmos_rtc_bus_ops.read(rtc, 1, &v, 1);
	CHECK_EQ_U64(v, 0xaa);
	CHECK_EQ_U64(cmos_rd(rtc, 0x80 | CMOS_D), 0x80);
	cmos_rtc_destroy(rtc);
}

static void test_widths(void)
{
	struct fake_clock clk = {{LEAP_DAY, 0}};
	struct cmos_rtc *rtc = make(&clk, 256 * MiB, 0);
	REQUIRE(rtc);
	/* A word at 0x70: the index, then the data. */
	uint8_t w[4] = {0x50, 0x5a, 0x11, 0x22};
	cmos_rtc_bus_ops.write(rtc, 0, w, 2);
	CHECK_EQ_U64(cmos_rd(rtc, 0x50), 0x5a);
	uint8_t r[4] = {0};
	w[0] = 0x50;
	cmos_rtc_bus_ops.write(rtc, 0, w, 1);
	cmos_rtc_bus_ops.read(rtc, 0, r, 2);
	CHECK(r[0] == 0x50 && r[1] == 0x5a);
	/* Past the two ports: reads 0xFF, writes nothing. */
	memset(r, 0, sizeof(r));
	cmos_rtc_bus_ops.read(rtc, 0, r, 4);
	CHECK(r[0] == 0x50 && r[1] == 0x5a && r[2] == 0xff && r[3] == 0xff);
	w[0] = 0x51;
	w[1] = 0x77;
	cmos_rtc_bus_ops.write(rtc, 0, w, 4);
	CHECK_EQ_U64(cmos_rd(rtc, 0x51), 0x77);
	cmos_rtc_bus_ops.write(rtc, 1, w, 4); /* data 0x51 to index 0x51 */
	CHECK_EQ_U64(cmos_rd(rtc, 0x51), 0x51);
	cmos_rtc_bus_ops.read(rtc, 1, r, 3);
	CHECK(r[0] == 0x51 && r[1] == 0xff && r[2] == 0xff);
	cmos_rtc_bus_ops.read(rtc, 2, r, 4);
	CHECK(r[0] == 0xff && r[3] == 0xff);
	cmos_rtc_bus_ops.write(rtc, 2, w, 4);
	cmos_rtc_bus_ops.read(rtc, UINT64_MAX, r, 4);
	CHECK(r[0] == 0xff && r[1] == 0xff);
	cmos_rtc_bus_ops.write(rtc, UINT64_MAX, w, 4);
	cmos_rtc_bus_ops.read(rtc, 0, r, 0);
	cmos_rtc_bus_ops.write(rtc, 0, w, 0);
	CHECK_EQ_U64(cmos_rd(rtc, 0x51), 0x51);
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_D), 0x80);
	cmos_rtc_destroy(rtc);
}

/* Every value into every index, each read back; the clock, D and the
 * memory still work after. */
static void test_garbage(void)
{
	struct fake_clock clk = {{LEAP_DAY, 0}};
	struct cmos_rtc *rtc = make(&clk, 256 * MiB, 0);
	REQUIRE(rtc);
	for (unsigned i = 0; i < 256; i++) {
		for (unsigned v = 0; v < 256; v++) {
			cmos_wr(rtc, (uint8_t)i, (uint8_t)v);
			(void)cmos_rd(rtc, (uint8_t)i);
			clk.now.tv_nsec = (long)(v * 3906250u);
		}
		clk.now.tv_sec += 17;
	}
	cmos_wr(rtc, CMOS_A, 0x26);
	cmos_wr(rtc, CMOS_B, CMOS_B_24H);
	struct cmos_time t = cmos_read_clock(rtc);
	int64_t secs;
	CHECK(cmos_time_decode(&t, CMOS_B_24H, &secs));
	CHECK_EQ_U64(cmos_rd(rtc, CMOS_D), 0x80);
	cmos_wr(rtc, 0x60, 0x12);
	CHECK_EQ_U64(cmos_rd(rtc, 0x60), 0x12);
	struct cmos_time now = {0x00, 0x00, 0x12, 1, 0x01, 0x01, 0x30, 0x20};
	cmos_guest_set(rtc, &now);
	t = cmos_read_clock(rtc);
	now.wday = 3; /* 2030-01-01, a Tuesday */
	CHECK(cmos_same_time(&t, &now));
	cmos_rtc_destroy(rtc);
}

/* The host's clock anywhere, even past what the chip can show. */
static void test_clock_extremes(void)
{
	struct fake_clock clk = {{INT64_MAX, 999999999}};
	struct cmos_rtc *rtc = make(&clk, 256 * MiB, 0);
	REQUIRE(rtc);
	struct cmos_time t = cmos_read_clock(rtc);
	struct cmos_time end = {0x59, 0x59, 0x23, 6, 0x31, 0x12, 0x99, 0x99};
	CHECK(cmos_same_time(&t, &end));
	clk.now.tv_sec = INT64_MIN;
	t = cmos_read_clock(rtc);
	struct cmos_time start = {0, 0, 0, 7, 0x01, 0x01, 0x00, 0x00};
	CHECK(cmos_same_time(&t, &start)); /* 0000-01-01 was a Saturday */
	/* A guest's year 9999 on a host far in the past stays in range. */
	cmos_guest_set(rtc, &end);
	clk.now.tv_sec = INT64_MAX;
	t = cmos_read_clock(rtc);
	CHECK(cmos_same_time(&t, &end));
	cmos_rtc_destroy(rtc);

	struct cmos_rtc_saved saved = {.clock_offset = INT64_MAX};
	saved.bytes[CMOS_B] = CMOS_B_24H;
	struct cmos_rtc_params p = {
		.clock = fake_now,
		.clock_opaque = &clk,
		.restore = &saved,
	};
	rtc = cmos_rtc_create(&p);
	REQUIRE(rtc);
	t = cmos_read_clock(rtc);
	CHECK(cmos_same_time(&t, &end));
	cmos_rtc_destroy(rtc);
}

/* No fake clock: the host's UTC time. */
static void test_host_clock(void)
{
	struct cmos_rtc_params p = {.ram_below_4g = 256 * MiB};
	struct cmos_rtc *rtc = cmos_rtc_create(&p);
	REQUIRE(rtc);
	cmos_wr(rtc, CMOS_B, CMOS_B_24H | CMOS_B_BINARY);
	time_t before = time(NULL);
	struct cmos_time t = cmos_read_clock(rtc);
	time_t after = time(NULL);
	int64_t secs;
	REQUIRE(cmos_time_decode(&t, CMOS_B_24H | CMOS_B_BINARY, &secs));
	CHECK(secs >= before && secs <= after);
	cmos_rtc_destroy(rtc);
	cmos_rtc_destroy(NULL);
}

/* The calendar against glibc's gmtime_r() and timegm(), in every
 * format, from year 0 to 9999. */
static void test_calendar(void)
{
	static const uint8_t formats[] = {0, CMOS_B_24H, CMOS_B_BINARY,
					  CMOS_B_BINARY | CMOS_B_24H};
	uint64_t x = 88172645463325252ull; /* xorshift64 */
	for (int n = 0; n < 200000; n++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int64_t span = CMOS_TIME_MAX - CMOS_TIME_MIN + 1;
		int64_t t = CMOS_TIME_MIN + (int64_t)(x % (uint64_t)span);
		if (n < 4)
			t = n < 2 ? CMOS_TIME_MIN + n : CMOS_TIME_MAX - (n - 2);
		time_t tt = (time_t)t;
		struct tm tm;
		REQUIRE(gmtime_r(&tt, &tm));
		CHECK_EQ_U64(timegm(&tm), t);
		for (unsigned f = 0; f < sizeof(formats); f++) {
			struct cmos_time r;
			cmos_time_encode(t, formats[f], &r);
			int64_t back = 0;
			CHECK(cmos_time_decode(&r, formats[f], &back));
			CHECK_EQ_U64(back, t);
			if (formats[f] == (CMOS_B_BINARY | CMOS_B_24H)) {
				int year = tm.tm_year + 1900;
				CHECK_EQ_U64(r.century * 100 + r.year, year);
				CHECK_EQ_U64(r.mon, tm.tm_mon + 1);
				CHECK_EQ_U64(r.mday, tm.tm_mday);
				CHECK_EQ_U64(r.hour, tm.tm_hour);
				CHECK_EQ_U64(r.wday, tm.tm_wday + 1);
			}
		}
		if (check_failures)
			return;
	}
	/* Leap years: 2000 and 2400 are, 1900 and 2100 not. */
	struct cmos_time r = {0, 0, 0, 1, 0x29, 0x02, 0x00, 0x20};
	int64_t t;
	CHECK(cmos_time_decode(&r, CMOS_B_24H, &t));
	r.century = 0x24;
	CHECK(cmos_time_decode(&r, CMOS_B_24H, &t));
	r.century = 0x19;
	CHECK(!cmos_time_decode(&r, CMOS_B_24H, &t));
	r.century = 0x21;
	CHECK(!cmos_time_decode(&r, CMOS_B_24H, &t));
	r.century = 0x9a;
	CHECK(!cmos_time_decode(&r, CMOS_B_24H, &t));
	r.century = 100;
	CHECK(!cmos_time_decode(&r, CMOS_B_24H | CMOS_B_BINARY, &t));
}

struct hammer {
	struct cmos_rtc *rtc;
	unsigned k;
	bool ok;
};

#define HAMMER_INDEX 0x40

/* Thread k writes only byte 0x40 + k, values whose low two bits are k.
 * Each word access is the index and the data under one lock, so a word
 * read sees an index and that byte's data, never another thread's index
 * between the two halves of its own write or read. */
static void *hammer_thread(void *opaque)
{
	struct hammer *h = opaque;
	h->ok = true;
	for (unsigned i = 0; i < 20000; i++) {
		uint8_t w[2] = {(uint8_t)(HAMMER_INDEX + h->k),
				(uint8_t)(i << 2 | h->k)};
		uint8_t r[2];
		cmos_rtc_bus_ops.write(h->rtc, 0, w, 2);
		cmos_rtc_bus_ops.read(h->rtc, 0, r, 2);
		unsigned owner = (unsigned)(r[0] - HAMMER_INDEX);
		if (owner > 3 || (r[1] & 3) != owner)
			h->ok = false;
	}
	return NULL;
}

static void test_threads(void)
{
	struct cmos_rtc_params p = {.ram_below_4g = 256 * MiB};
	struct cmos_rtc *rtc = cmos_rtc_create(&p);
	REQUIRE(rtc);
	struct hammer h[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		h[i] = (struct hammer){rtc, (unsigned)i, false};
		REQUIRE(pthread_create(&th[i], NULL, hammer_thread, &h[i]) ==
			0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK(h[i].ok);
	}
	cmos_rtc_destroy(rtc);
}

static void test_aml(void)
{
	uint8_t buf[128];
	struct aml a;
	aml_init(&a, buf, sizeof(buf));
	cmos_rtc_aml(&a, 0x70);
	REQUIRE(aml_ok(&a));
	/* What iasl makes of the ASL in cmos_rtc.c. */
	static const char expect[] =
		"\x5b\x82\x22RTC_"		   /* Device */
		"\x08_HID\x0c\x41\xd0\x0b\x00"	   /* PNP0B00 */
		"\x08_CRS\x11\x0d\x0a\x0a"	   /* Buffer */
		"\x47\x01\x70\x00\x70\x00\x01\x02" /* IO */
		"\x79\x00";			   /* end tag */
	CHECK_EQ_U64(a.len, sizeof(expect) - 1);
	CHECK(a.len == sizeof(expect) - 1 && !memcmp(buf, expect, a.len));
	uint32_t id;
	CHECK(aml_eisaid_value("PNP0B00", &id) && id == 0x000bd041);

	aml_init(&a, buf, sizeof(buf));
	cmos_rtc_aml(&a, 0);
	CHECK(!aml_ok(&a));
	aml_init(&a, buf, sizeof(buf));
	cmos_rtc_aml(&a, 0xffff);
	CHECK(!aml_ok(&a));
	aml_init(&a, buf, sizeof(buf));
	cmos_rtc_aml(&a, 0xfffe);
	CHECK(aml_ok(&a));
}

int main(void)
{
	test_time_formats();
	test_12_hour();
	test_guest_sets_clock();
	test_register_a();
	test_registers_c_d();
	test_ram_sizes();
	test_nvram();
	test_index_register();
	test_widths();
	test_garbage();
	test_clock_extremes();
	test_host_clock();
	test_calendar();
	test_threads();
	test_aml();
	return check_report("test_cmos_rtc");
}
