// SPDX-License-Identifier: Apache-2.0
#include "devices/legacy/acpi_pm.h"

#include <string.h>

#include "common/clock.h"

#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_TYP_MASK 0x1c00
#define PM1_CNT_SLP_EN 0x2000

void acpi_pm_init(struct acpi_pm *pm, uint8_t s5_slp_typ,
		  acpi_pm_poweroff_fn poweroff, void *opaque)
{
	memset(pm, 0, sizeof(*pm));
	pthread_mutex_init(&pm->lock, NULL);
	pm->s5_slp_typ = s5_slp_typ;
	pm->poweroff = poweroff;
	pm->opaque = opaque;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
	pthread_mutex_destroy(&pm->lock);
}

void acpi_pm_set_enabled(struct acpi_pm *pm, bool enabled)
{
	pthread_mutex_lock(&pm->lock);
	pm->enabled = enabled;
	pthread_mutex_unlock(&pm->lock);
}

uint32_t acpi_pm_timer_at(uint64_t ns)
{
	/* 128 bits: ns * 3.58 MHz overflows 64 bits after 43 minutes. */
	unsigned __int128 ticks =
		(unsigned __int128)ns * ACPI_PM_TIMER_HZ / 1000000000u;
	return (uint32_t)ticks & ACPI_PM_TIMER_MASK;
}

/* The 16 or 32-bit register an access at `off` falls in, as little-endian
 * bytes, so that any width and offset reads what the bytes hold. */
static uint32_t reg_value(struct acpi_pm *pm, uint64_t reg)
{
	switch (reg) {
	case ACPI_PM1_STS:
		return pm->pm1_sts;
	case ACPI_PM1_EN:
		return pm->pm1_en;
	case ACPI_PM1_CNT:
		return pm->pm1_cnt;
	case ACPI_PM_TMR:
		return acpi_pm_timer_at(pm->clock ? pm->clock(pm->clock_opaque)
						  : phy_monotonic_ns());
	default:
		return 0;
	}
}

static uint64_t reg_base(uint64_t off)
{
	return off < ACPI_PM_TMR ? off & ~1ull : off & ~3ull;
}

static void pm_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	struct acpi_pm *pm = opaque;
	pthread_mutex_lock(&pm->lock);
	bool on = pm->enabled;
	for (uint32_t i = 0; i < len; i++) {
		uint64_t o = off + i, base = reg_base(o);
		data[i] = on && o < ACPI_PM_SIZE
				  ? (uint8_t)(reg_value(pm, base) >>
					      (8 * (o - base)))
				  : 0xff;
	}
	pthread_mutex_unlock(&pm->lock);
}

/* Bytes of a write that land in the 16-bit register at `reg`: the new
 * value, and which of its bytes the write covered. */
static uint16_t merge16(uint16_t old, uint64_t reg, uint64_t off,
			const uint8_t *data, uint32_t len, uint16_t *written)
{
	uint16_t v = old;
	*written = 0;
	for (uint32_t i = 0; i < len; i++) {
		if (off + i < reg || off + i >= reg + 2)
			continue;
		unsigned sh = 8 * (unsigned)(off + i - reg);
		v = (uint16_t)((v & ~(0xffu << sh)) |
			       ((unsigned)data[i] << sh));
		*written |= (uint16_t)(0xffu << sh);
	}
	return v;
}

static void pm_write(void *opaque, uint64_t off, const uint8_t *data,
		     uint32_t len)
{
	struct acpi_pm *pm = opaque;
	bool poweroff = false;
	uint16_t w;
	pthread_mutex_lock(&pm->lock);
	if (pm->enabled) {
		uint16_t sts = merge16(0, ACPI_PM1_STS, off, data, len, &w);
		pm->pm1_sts &= (uint16_t) ~(sts & w); /* write 1 to clear */
		pm->pm1_en =
			merge16(pm->pm1_en, ACPI_PM1_EN, off, data, len, &w);
		uint16_t cnt =
			merge16(pm->pm1_cnt, ACPI_PM1_CNT, off, data, len, &w);
		/* SLP_EN is write-only: it triggers and never reads back. */
		pm->pm1_cnt = cnt & (uint16_t)~PM1_CNT_SLP_EN;
		poweroff = (w & PM1_CNT_SLP_EN) && (cnt & PM1_CNT_SLP_EN) &&
			   ((cnt & PM1_CNT_SLP_TYP_MASK) >>
			    PM1_CNT_SLP_TYP_SHIFT) == pm->s5_slp_typ;
	}
	pthread_mutex_unlock(&pm->lock);
	if (poweroff && pm->poweroff)
		pm->poweroff(pm->opaque);
}

const struct bus_device_ops acpi_pm_bus_ops = {
	.read = pm_read,
	.write = pm_write,
};
