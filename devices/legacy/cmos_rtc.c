/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/legacy/cmos_rtc.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "devices/legacy/cmos_rtc_time.h"

#define INDEX_MASK 0x7f /* bit 7 of the index is the NMI mask */

/* The datasheet's update cycle: UIP rises 244 us before it. */
#define UIP_NS 244000
#define NS_PER_S 1000000000L

/* A's divider and rate bits as a PC's firmware leaves them: 32.768 kHz,
 * 1024 Hz; B: 24-hour BCD. */
#define A_DEFAULT 0x26
#define B_DEFAULT CMOS_B_24H

struct cmos_rtc {
	pthread_mutex_t lock;
	uint8_t index; /* as last written to port 0x70 */
	/* The memory, A and B; the clock registers only while B's SET
	 * freezes them (then what the guest reads and writes). */
	uint8_t reg[CMOS_RTC_SIZE];
	int64_t offset;	  /* the guest's clock minus the host's, seconds */
	int64_t c_second; /* the host's second when C was last read */
	cmos_rtc_clock_fn clock;
	void *clock_opaque;
};

static void realtime(void *opaque, struct timespec *now)
{
	clock_gettime(CLOCK_REALTIME, now);
}

/* The host's time, clamped into what the clock can show, so that adding
 * an offset can neither overflow nor leave the calendar. */
static int64_t host_now(const struct cmos_rtc *rtc, long *ns)
{
	struct timespec ts = {0};
	rtc->clock(rtc->clock_opaque, &ts);
	if (ns)
		*ns = ts.tv_nsec >= 0 && ts.tv_nsec < NS_PER_S ? ts.tv_nsec : 0;
	return cmos_time_clamp(ts.tv_sec);
}

static bool is_clock_reg(unsigned i)
{
	switch (i) {
	case CMOS_SEC:
	case CMOS_MIN:
	case CMOS_HOUR:
	case CMOS_WDAY:
	case CMOS_MDAY:
	case CMOS_MON:
	case CMOS_YEAR:
	case CMOS_CENTURY:
		return true;
	}
	return false;
}

static void time_to_regs(uint8_t *reg, const struct cmos_time *t)
{
	reg[CMOS_SEC] = t->sec;
	reg[CMOS_MIN] = t->min;
	reg[CMOS_HOUR] = t->hour;
	reg[CMOS_WDAY] = t->wday;
	reg[CMOS_MDAY] = t->mday;
	reg[CMOS_MON] = t->mon;
	reg[CMOS_YEAR] = t->year;
	reg[CMOS_CENTURY] = t->century;
}

static void regs_to_time(const uint8_t *reg, struct cmos_time *t)
{
	*t = (struct cmos_time){
		.sec = reg[CMOS_SEC],
		.min = reg[CMOS_MIN],
		.hour = reg[CMOS_HOUR],
		.wday = reg[CMOS_WDAY],
		.mday = reg[CMOS_MDAY],
		.mon = reg[CMOS_MON],
		.year = reg[CMOS_YEAR],
		.century = reg[CMOS_CENTURY],
	};
}

/* Freezes the clock registers at the guest's time now, in reg_b's format. */
static void latch_locked(struct cmos_rtc *rtc, uint8_t reg_b)
{
	struct cmos_time t;
	cmos_time_encode(host_now(rtc, NULL) + rtc->offset, reg_b, &t);
	time_to_regs(rtc->reg, &t);
}

/* Sets the guest's clock to what the frozen registers say in reg_b's
 * format; a time that is no valid date is dropped. */
static void commit_locked(struct cmos_rtc *rtc, uint8_t reg_b)
{
	struct cmos_time t;
	int64_t guest;
	regs_to_time(rtc->reg, &t);
	if (cmos_time_decode(&t, reg_b, &guest))
		rtc->offset = guest - host_now(rtc, NULL);
}

static uint8_t clock_read_locked(struct cmos_rtc *rtc, unsigned i)
{
	if (!(rtc->reg[CMOS_B] & CMOS_B_SET))
		latch_locked(rtc, rtc->reg[CMOS_B]);
	return rtc->reg[i];
}

static uint8_t reg_c_read_locked(struct cmos_rtc *rtc)
{
	int64_t now = host_now(rtc, NULL);
	uint8_t c = 0;
	if (now != rtc->c_second)
		c |= CMOS_C_UF;
	if ((c & CMOS_C_UF) && (rtc->reg[CMOS_B] & CMOS_B_UIE))
		c |= CMOS_C_IRQF;
	rtc->c_second = now;
	return c;
}

static uint8_t reg_read_locked(struct cmos_rtc *rtc, unsigned i)
{
	if (is_clock_reg(i))
		return clock_read_locked(rtc, i);
	switch (i) {
	case CMOS_A: {
		long ns;
		host_now(rtc, &ns);
		bool uip = !(rtc->reg[CMOS_B] & CMOS_B_SET) &&
			   ns >= NS_PER_S - UIP_NS;
		return (uint8_t)(rtc->reg[CMOS_A] | (uip ? CMOS_A_UIP : 0));
	}
	case CMOS_C:
		return reg_c_read_locked(rtc);
	case CMOS_D:
		return CMOS_D_VRT;
	}
	return rtc->reg[i];
}

static void reg_b_write_locked(struct cmos_rtc *rtc, uint8_t v)
{
	uint8_t old = rtc->reg[CMOS_B];
	if (v & CMOS_B_SET) {
		/* The datasheet: setting SET clears UIE. */
		v &= (uint8_t)~CMOS_B_UIE;
		if (!(old & CMOS_B_SET))
			latch_locked(rtc, v);
	} else if (old & CMOS_B_SET) {
		commit_locked(rtc, v);
	}
	rtc->reg[CMOS_B] = v;
}

static void reg_write_locked(struct cmos_rtc *rtc, unsigned i, uint8_t v)
{
	if (is_clock_reg(i)) {
		if (rtc->reg[CMOS_B] & CMOS_B_SET) {
			rtc->reg[i] = v;
			return;
		}
		/* Without SET the chip takes the field at once: the same as
		 * SET, this one write, and SET cleared. */
		latch_locked(rtc, rtc->reg[CMOS_B]);
		rtc->reg[i] = v;
		commit_locked(rtc, rtc->reg[CMOS_B]);
		return;
	}
	switch (i) {
	case CMOS_A:
		rtc->reg[CMOS_A] = v & (uint8_t)~CMOS_A_UIP;
		return;
	case CMOS_B:
		reg_b_write_locked(rtc, v);
		return;
	case CMOS_C:
	case CMOS_D:
		return; /* read-only */
	}
	rtc->reg[i] = v;
}

static void put16(uint8_t *reg, unsigned lo, uint64_t v)
{
	v = v > 0xFFFF ? 0xFFFF : v;
	reg[lo] = (uint8_t)v;
	reg[lo + 1] = (uint8_t)(v >> 8);
}

#define KiB 1024ull
#define MiB (1024 * KiB)

/* The RAM sizes where QEMU's pc and microvm machines put them, which
 * SeaBIOS and OVMF read when no fw_cfg e820 table says otherwise. */
static void publish_ram(uint8_t *reg, uint64_t below, uint64_t above)
{
	put16(reg, 0x15, below / KiB > 640 ? 640 : below / KiB);
	uint64_t ext = below > MiB ? (below - MiB) / KiB : 0;
	put16(reg, 0x17, ext);
	put16(reg, 0x30, ext);
	put16(reg, 0x34,
	      below > 16 * MiB ? (below - 16 * MiB) / (64 * KiB) : 0);
	uint64_t high = above / (64 * KiB);
	high = high > 0xFFFFFF ? 0xFFFFFF : high;
	reg[0x5b] = (uint8_t)high;
	reg[0x5c] = (uint8_t)(high >> 8);
	reg[0x5d] = (uint8_t)(high >> 16);
}

struct cmos_rtc *cmos_rtc_create(const struct cmos_rtc_params *p)
{
	struct cmos_rtc *rtc = calloc(1, sizeof(*rtc));
	if (!rtc)
		return NULL;
	pthread_mutex_init(&rtc->lock, NULL);
	rtc->clock = p->clock ? p->clock : realtime;
	rtc->clock_opaque = p->clock_opaque;
	rtc->reg[CMOS_A] = A_DEFAULT;
	rtc->reg[CMOS_B] = B_DEFAULT;
	if (p->restore) {
		memcpy(rtc->reg, p->restore->bytes, CMOS_RTC_SIZE);
		rtc->reg[CMOS_A] &= (uint8_t)~CMOS_A_UIP;
		/* A guest that rebooted while setting the clock loses that
		 * setting: its frozen registers are not a time it chose. */
		rtc->reg[CMOS_B] &= (uint8_t)~CMOS_B_SET;
		/* Within what a commit can make of it, so that the guest's
		 * clock (host + offset) never overflows. */
		int64_t span = CMOS_TIME_MAX - CMOS_TIME_MIN;
		int64_t off = p->restore->clock_offset;
		rtc->offset = off > span ? span : off < -span ? -span : off;
	}
	publish_ram(rtc->reg, p->ram_below_4g, p->ram_above_4g);
	rtc->c_second = host_now(rtc, NULL);
	return rtc;
}

void cmos_rtc_destroy(struct cmos_rtc *rtc)
{
	if (!rtc)
		return;
	pthread_mutex_destroy(&rtc->lock);
	free(rtc);
}

void cmos_rtc_save(struct cmos_rtc *rtc, struct cmos_rtc_saved *out)
{
	pthread_mutex_lock(&rtc->lock);
	out->clock_offset = rtc->offset;
	memcpy(out->bytes, rtc->reg, CMOS_RTC_SIZE);
	pthread_mutex_unlock(&rtc->lock);
}

/* How many bytes of an access at `off` land on the ports: the first ones,
 * the rest lie past them. */
static uint32_t on_ports(uint64_t off, uint32_t len)
{
	if (off >= CMOS_RTC_IO_SIZE)
		return 0;
	uint64_t room = CMOS_RTC_IO_SIZE - off;
	return len < room ? len : (uint32_t)room;
}

static void rtc_bus_read(void *opaque, uint64_t off, uint8_t *data,
			 uint32_t len)
{
	struct cmos_rtc *rtc = opaque;
	uint32_t n = on_ports(off, len);
	memset(data + n, 0xFF, len - n);
	pthread_mutex_lock(&rtc->lock);
	for (uint32_t i = 0; i < n; i++) {
		if (off + i == 0)
			data[i] = rtc->index;
		else
			data[i] = reg_read_locked(rtc, rtc->index & INDEX_MASK);
	}
	pthread_mutex_unlock(&rtc->lock);
}

static void rtc_bus_write(void *opaque, uint64_t off, const uint8_t *data,
			  uint32_t len)
{
	struct cmos_rtc *rtc = opaque;
	uint32_t n = on_ports(off, len);
	pthread_mutex_lock(&rtc->lock);
	for (uint32_t i = 0; i < n; i++) {
		if (off + i == 0)
			rtc->index = data[i];
		else
			reg_write_locked(rtc, rtc->index & INDEX_MASK, data[i]);
	}
	pthread_mutex_unlock(&rtc->lock);
}

const struct bus_device_ops cmos_rtc_bus_ops = {
	.read = rtc_bus_read,
	.write = rtc_bus_write,
};

/*
 * Device (RTC_) { Name (_HID, EisaId ("PNP0B00"))
 *                 Name (_CRS, ResourceTemplate () { IO (Decode16, port,
 *                                                    port, 1, 2) }) }
 *
 * No IRQ 8: this model never raises it, and a guest told of one would
 * wait on it. Linux's rtc_cmos would take it and offer alarms and
 * update interrupts, and hwclock, which waits for the update interrupt
 * when the driver offers one, would time out. Without it (and with
 * hardware-reduced ACPI, which has no legacy PIC for rtc_cmos to assume
 * IRQ 8 on) the driver runs without alarms, and the kernel emulates
 * update interrupts by polling the clock.
 */
void cmos_rtc_aml(struct aml *a, uint16_t port)
{
	if (!port || port > 0xFFFF - (CMOS_RTC_IO_SIZE - 1)) {
		aml_fail(a);
		return;
	}
	size_t dev = aml_device_begin(a, "RTC");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0B00");
	aml_name(a, "_CRS");
	size_t rt = aml_rt_begin(a);
	aml_rt_io(a, port, port, 1, CMOS_RTC_IO_SIZE);
	aml_rt_end(a, rt);
	aml_end(a, dev);
}
