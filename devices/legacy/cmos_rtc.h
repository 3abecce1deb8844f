/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PC's CMOS real-time clock (an MC146818 as in a PC chipset, at ports
 * 0x70/0x71), which UEFI firmware (OVMF) and Windows expect: 128 bytes
 * behind an index register (port 0x70) and a data register (port 0x71).
 * The index is 7 bits: bit 7, a PC's NMI mask, is kept and read back but
 * masks nothing, so indexes 0x80-0xFF select 0x00-0x7F again (there is
 * no second bank at 0x72/0x73).
 *
 * The clock (0x00-0x09 and the century, 0x32) is the host's clock plus a
 * whole number of seconds that the guest sets: register B's SET bit
 * freezes what the clock registers show, writes to them change what is
 * frozen, and clearing SET sets the clock to it (a time that is no valid
 * date in B's format is dropped, and the clock goes on as before). A
 * write to a clock register without SET sets that field at once. The
 * registers always show the clock in B's current format: changing DM or
 * 24/12 re-encodes them, where the chip would need the guest to rewrite
 * them. The weekday follows from the date; the alarm registers are
 * memory.
 *
 * Register A: bit 7, update in progress, reads 1 during the last 244 us
 * of each second (the datasheet's warning time before an update; a guest
 * that saw it 0 has that long to read the clock whole), never while SET;
 * the divider and rate bits are kept and do nothing. Register C: update
 * ended (UF) once a second boundary passed since C was last read, with
 * IRQF when B enables update interrupts; the read clears them. The device
 * raises no interrupt: no periodic, alarm or update-ended IRQ 8 (AF and PF
 * stay 0). Register D reads 0x80 (valid RAM and time), writes ignored.
 * Every other byte is memory the guest reads and writes, where the VMM
 * publishes the RAM sizes as QEMU does, for OVMF and SeaBIOS:
 *   0x15-0x16  base memory, KiB (640 at most)
 *   0x17-0x18  RAM from 1 MiB, KiB, at most 0xFFFF; again at 0x30-0x31
 *   0x34-0x35  RAM from 16 MiB to 4 GiB, 64 KiB units, at most 0xFFFF
 *              (OVMF's PlatformGetSystemMemorySizeBelow4gb)
 *   0x5b-0x5d  RAM above 4 GiB, 64 KiB units, at most 0xFFFFFF
 *              (OVMF's PlatformGetSystemMemorySizeAbove4gb)
 *
 * Accesses of any width go byte by byte (a 2-byte write at 0x70 writes
 * the index, then the data), each whole under the device's lock; a byte
 * past the two ports reads 0xFF and is not written. Port 0x70 reads back
 * what was last written to it.
 *
 * Thread-safe: vCPU threads call it at once.
 */
#ifndef PHY_DEVICES_LEGACY_CMOS_RTC_H
#define PHY_DEVICES_LEGACY_CMOS_RTC_H

#include <stdint.h>
#include <time.h>

#include "common/aml.h"
#include "devices/bus.h"

#define CMOS_RTC_IO_SIZE 2
#define CMOS_RTC_SIZE 128

/* The registers: what the index register selects. */
enum cmos_rtc_reg {
	CMOS_SEC = 0x00,
	CMOS_SEC_ALARM = 0x01,
	CMOS_MIN = 0x02,
	CMOS_MIN_ALARM = 0x03,
	CMOS_HOUR = 0x04,
	CMOS_HOUR_ALARM = 0x05,
	CMOS_WDAY = 0x06,
	CMOS_MDAY = 0x07,
	CMOS_MON = 0x08,
	CMOS_YEAR = 0x09,
	CMOS_A = 0x0a,
	CMOS_B = 0x0b,
	CMOS_C = 0x0c,
	CMOS_D = 0x0d,
	CMOS_CENTURY = 0x32,
};

#define CMOS_A_UIP 0x80
#define CMOS_B_SET 0x80
#define CMOS_B_UIE 0x10 /* update-ended interrupt enable */
#define CMOS_C_IRQF 0x80
#define CMOS_C_UF 0x10	/* update ended */
#define CMOS_D_VRT 0x80 /* valid RAM and time */

/* The host's time now, UTC (CLOCK_REALTIME's epoch). */
typedef void (*cmos_rtc_clock_fn)(void *opaque, struct timespec *now);

/* What a PC's CMOS keeps on its battery: the guest's clock and the
 * memory. A machine rebuilt for a guest reboot may carry it over. */
struct cmos_rtc_saved {
	int64_t clock_offset; /* the guest's clock minus the host's, seconds */
	uint8_t bytes[CMOS_RTC_SIZE];
};

struct cmos_rtc_params {
	uint64_t ram_below_4g;	 /* bytes of RAM from address 0 */
	uint64_t ram_above_4g;	 /* bytes of RAM from 4 GiB */
	cmos_rtc_clock_fn clock; /* NULL: clock_gettime(CLOCK_REALTIME) */
	void *clock_opaque;
	/* NULL: a new CMOS (the host's time, B in 24-hour BCD). Otherwise
	 * cmos_rtc_save()'s, with SET cleared and the RAM sizes rewritten. */
	const struct cmos_rtc_saved *restore;
};

struct cmos_rtc;

/* NULL when out of memory. */
struct cmos_rtc *cmos_rtc_create(const struct cmos_rtc_params *p);
void cmos_rtc_destroy(struct cmos_rtc *rtc);

void cmos_rtc_save(struct cmos_rtc *rtc, struct cmos_rtc_saved *out);

/* CMOS_RTC_IO_SIZE ports: the index register, then the data register. */
extern const struct bus_device_ops cmos_rtc_bus_ops;

/*
 * The DSDT's part (inside \_SB): RTC_ (PNP0B00) with its I/O ports at
 * `port`, and no interrupt (see cmos_rtc.c). A range past 0xFFFF or port
 * 0 is aml_fail().
 */
void cmos_rtc_aml(struct aml *a, uint16_t port);

#endif
