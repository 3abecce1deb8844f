/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fixed ACPI register block of a PIIX4-style power management
 * function, as UEFI firmware (OVMF on an i440FX machine) uses it: the PM
 * timer it calibrates its delays against, and PM1 control, whose SLP_EN
 * with the S5 sleep type powers the machine off (the firmware's
 * ResetSystem(EfiResetShutdown), the shell's `reset -s`).
 *
 *   +0  PM1 status (16)   write 1 to clear; nothing sets bits (no SCI)
 *   +2  PM1 enable (16)   kept, no effect
 *   +4  PM1 control (16)  SCI_EN kept; SLP_TYP[12:10] + SLP_EN[13]
 *   +8  PM timer (32)     3.579545 MHz, 24 bits, from CLOCK_MONOTONIC
 * The rest of the 64 bytes reads 0 and ignores writes.
 *
 * The block decodes only while its function enables it (PMREGMISC and
 * the I/O base it was given, piix.h); otherwise it reads all ones, as an
 * empty bus would. Thread-safe: vCPU threads access it concurrently.
 */
#ifndef PHY_DEVICES_LEGACY_ACPI_PM_H
#define PHY_DEVICES_LEGACY_ACPI_PM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"

#define ACPI_PM_SIZE 64
#define ACPI_PM_TIMER_HZ 3579545ULL
#define ACPI_PM_TIMER_MASK 0xffffffu

#define ACPI_PM1_STS 0x0
#define ACPI_PM1_EN 0x2
#define ACPI_PM1_CNT 0x4
#define ACPI_PM_TMR 0x8

typedef void (*acpi_pm_poweroff_fn)(void *opaque);
/* Nanoseconds of a monotonic clock; tests pass their own. */
typedef uint64_t (*acpi_pm_clock_fn)(void *opaque);

struct acpi_pm {
	pthread_mutex_t lock;
	bool enabled;
	uint16_t pm1_sts, pm1_en, pm1_cnt;
	uint8_t s5_slp_typ;
	acpi_pm_poweroff_fn poweroff;
	void *opaque;
	acpi_pm_clock_fn clock; /* NULL: CLOCK_MONOTONIC */
	void *clock_opaque;
};

/* Disabled until its function enables it. */
void acpi_pm_init(struct acpi_pm *pm, uint8_t s5_slp_typ,
		  acpi_pm_poweroff_fn poweroff, void *opaque);
void acpi_pm_destroy(struct acpi_pm *pm);
void acpi_pm_set_enabled(struct acpi_pm *pm, bool enabled);

/* The timer's value at `ns` nanoseconds of its clock. */
uint32_t acpi_pm_timer_at(uint64_t ns);

/* Register ACPI_PM_SIZE bytes of PIO at the block's port. */
extern const struct bus_device_ops acpi_pm_bus_ops;

#endif
