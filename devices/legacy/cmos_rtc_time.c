/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/legacy/cmos_rtc_time.h"

#define DAY 86400
#define HOURS_PM 0x80 /* 12-hour mode: bit 7 of the hours register */

/*
 * Days since 1970-01-01 of a date in the proleptic Gregorian calendar.
 * Counted in 400-year eras that start on 1 March, so that the leap day
 * is the last day of its year and each era has the same 146097 days;
 * month 0 is March. Exact for every year, without gmtime()'s time zone
 * or its range of time_t.
 */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;		  /* 0..399 */
	unsigned mp = m > 2 ? m - 3 : m + 9;	  /* March = 0 */
	int64_t doy = (153 * mp + 2) / 5 + d - 1; /* 0..365 */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468; /* 0000-03-01 to 1970-01-01 */
}

/* The inverse of days_from_civil(). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (unsigned)((5 * doy + 2) / 153);
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (*m <= 2);
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const uint8_t days[12] = {31, 28, 31, 30, 31, 30,
					 31, 31, 30, 31, 30, 31};
	bool leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
	return days[m - 1] + (m == 2 && leap);
}

int64_t cmos_time_clamp(int64_t t)
{
	if (t < CMOS_TIME_MIN)
		return CMOS_TIME_MIN;
	return t > CMOS_TIME_MAX ? CMOS_TIME_MAX : t;
}

static uint8_t put(unsigned v, bool binary)
{
	return (uint8_t)(binary ? v : (v / 10) << 4 | v % 10);
}

/* A register's value, or false for a BCD byte with a nibble above 9. */
static bool get(uint8_t b, bool binary, unsigned *v)
{
	if (binary) {
		*v = b;
		return true;
	}
	if ((b & 0x0f) > 9 || b >> 4 > 9)
		return false;
	*v = (b >> 4) * 10u + (b & 0x0f);
	return true;
}

static uint8_t put_hour(unsigned h, uint8_t reg_b)
{
	bool binary = reg_b & CMOS_B_BINARY;
	if (reg_b & CMOS_B_24H)
		return put(h, binary);
	unsigned h12 = h % 12 ? h % 12 : 12;
	return (uint8_t)(put(h12, binary) | (h >= 12 ? HOURS_PM : 0));
}

static bool get_hour(uint8_t b, uint8_t reg_b, unsigned *h)
{
	bool binary = reg_b & CMOS_B_BINARY;
	if (reg_b & CMOS_B_24H)
		return get(b, binary, h) && *h < 24;
	unsigned h12;
	if (!get(b & ~HOURS_PM, binary, &h12) || h12 < 1 || h12 > 12)
		return false;
	*h = h12 % 12 + (b & HOURS_PM ? 12 : 0);
	return true;
}

void cmos_time_encode(int64_t t, uint8_t reg_b, struct cmos_time *out)
{
	bool binary = reg_b & CMOS_B_BINARY;
	t = cmos_time_clamp(t);
	/* Floor division: the times before 1970 are negative. */
	int64_t days = (t >= 0 ? t : t - (DAY - 1)) / DAY;
	unsigned secs = (unsigned)(t - days * DAY);
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);

	out->sec = put(secs % 60, binary);
	out->min = put(secs / 60 % 60, binary);
	out->hour = put_hour(secs / 3600, reg_b);
	/* 1970-01-01 was a Thursday, weekday 5. */
	out->wday = put((unsigned)(((days + 4) % 7 + 7) % 7) + 1, binary);
	out->mday = put(d, binary);
	out->mon = put(m, binary);
	out->year = put((unsigned)(y % 100), binary);
	out->century = put((unsigned)(y / 100), binary);
}

bool cmos_time_decode(const struct cmos_time *r, uint8_t reg_b, int64_t *t)
{
	bool binary = reg_b & CMOS_B_BINARY;
	unsigned sec, min, hour, mday, mon, year, century;
	if (!get(r->sec, binary, &sec) || sec > 59 ||
	    !get(r->min, binary, &min) || min > 59 ||
	    !get_hour(r->hour, reg_b, &hour) || !get(r->year, binary, &year) ||
	    year > 99 || !get(r->century, binary, &century) || century > 99 ||
	    !get(r->mon, binary, &mon) || mon < 1 || mon > 12)
		return false;
	int64_t y = century * 100 + year;
	if (!get(r->mday, binary, &mday) || mday < 1 ||
	    mday > days_in_month(y, mon))
		return false;
	*t = days_from_civil(y, mon, mday) * DAY + hour * 3600 + min * 60 + sec;
	return true;
}
