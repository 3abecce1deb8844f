/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The MC146818's clock registers and seconds since 1970-01-01 00:00:00
 * UTC, both ways: the calendar arithmetic of the CMOS RTC, apart from its
 * registers so that it can be tested and fuzzed alone.
 *
 * Register B chooses the format: binary or BCD (DM), 24-hour or 12-hour
 * (in which bit 7 of the hours register means PM and the hours run
 * 12, 1, ..., 11). The weekday runs from 1 (Sunday) to 7, the PC's
 * convention. The clock is UTC: there is no time zone and register B's
 * daylight saving bit (DSE) is not honoured. It covers the years 0 to
 * 9999, the century register (0x32) holding 0 to 99.
 */
#ifndef PHY_DEVICES_LEGACY_CMOS_RTC_TIME_H
#define PHY_DEVICES_LEGACY_CMOS_RTC_TIME_H

#include <stdbool.h>
#include <stdint.h>

/* Register B's format bits. */
#define CMOS_B_24H 0x02
#define CMOS_B_BINARY 0x04

/* 0000-01-01 00:00:00 and 9999-12-31 23:59:59, in seconds since 1970. */
#define CMOS_TIME_MIN (-62167219200LL)
#define CMOS_TIME_MAX 253402300799LL

/* The clock's registers (0x00, 0x02, 0x04, 0x06-0x09 and 0x32). */
struct cmos_time {
	uint8_t sec, min, hour, wday, mday, mon, year, century;
};

/* t clamped into [CMOS_TIME_MIN, CMOS_TIME_MAX]. */
int64_t cmos_time_clamp(int64_t t);

/* The registers for time t (clamped first) in reg_b's format. */
void cmos_time_encode(int64_t t, uint8_t reg_b, struct cmos_time *out);

/*
 * The time the registers say in reg_b's format, or false when one of them
 * is no valid value there (a BCD nibble above 9, the 31st of April, an
 * hour 0 in 12-hour mode...). The weekday is not read: it follows from the
 * date.
 */
bool cmos_time_decode(const struct cmos_time *r, uint8_t reg_b, int64_t *t);

#endif
