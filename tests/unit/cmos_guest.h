/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The guest's side of the CMOS RTC, for its unit test and its fuzz
 * target: registers read and written through the two ports, the clock
 * read whole, and set as OVMF and Linux set it.
 */
#ifndef PHY_TESTS_CMOS_GUEST_H
#define PHY_TESTS_CMOS_GUEST_H

#include "devices/legacy/cmos_rtc.h"
#include "devices/legacy/cmos_rtc_time.h"

static inline uint8_t cmos_in(struct cmos_rtc *rtc, unsigned port)
{
	uint8_t v;
	cmos_rtc_bus_ops.read(rtc, port, &v, 1);
	return v;
}

static inline void cmos_out(struct cmos_rtc *rtc, unsigned port, uint8_t v)
{
	cmos_rtc_bus_ops.write(rtc, port, &v, 1);
}

static inline uint8_t cmos_rd(struct cmos_rtc *rtc, uint8_t index)
{
	cmos_out(rtc, 0, index);
	return cmos_in(rtc, 1);
}

static inline void cmos_wr(struct cmos_rtc *rtc, uint8_t index, uint8_t v)
{
	cmos_out(rtc, 0, index);
	cmos_out(rtc, 1, v);
}

static inline struct cmos_time cmos_read_clock(struct cmos_rtc *rtc)
{
	return (struct cmos_time){
		.sec = cmos_rd(rtc, CMOS_SEC),
		.min = cmos_rd(rtc, CMOS_MIN),
		.hour = cmos_rd(rtc, CMOS_HOUR),
		.wday = cmos_rd(rtc, CMOS_WDAY),
		.mday = cmos_rd(rtc, CMOS_MDAY),
		.mon = cmos_rd(rtc, CMOS_MON),
		.year = cmos_rd(rtc, CMOS_YEAR),
		.century = cmos_rd(rtc, CMOS_CENTURY),
	};
}

static inline bool cmos_same_time(const struct cmos_time *x,
				  const struct cmos_time *y)
{
	return x->sec == y->sec && x->min == y->min && x->hour == y->hour &&
	       x->wday == y->wday && x->mday == y->mday && x->mon == y->mon &&
	       x->year == y->year && x->century == y->century;
}

/* SET, the fields (in whatever format B holds), SET cleared. */
static inline void cmos_guest_set(struct cmos_rtc *rtc,
				  const struct cmos_time *t)
{
	uint8_t b = cmos_rd(rtc, CMOS_B);
	cmos_wr(rtc, CMOS_B, b | CMOS_B_SET);
	cmos_wr(rtc, CMOS_SEC, t->sec);
	cmos_wr(rtc, CMOS_MIN, t->min);
	cmos_wr(rtc, CMOS_HOUR, t->hour);
	cmos_wr(rtc, CMOS_WDAY, t->wday);
	cmos_wr(rtc, CMOS_MDAY, t->mday);
	cmos_wr(rtc, CMOS_MON, t->mon);
	cmos_wr(rtc, CMOS_YEAR, t->year);
	cmos_wr(rtc, CMOS_CENTURY, t->century);
	cmos_wr(rtc, CMOS_B, b & ~CMOS_B_SET);
}

#endif
