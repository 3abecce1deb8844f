/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The event register behind the DSDT's ACPI Generic Event Device (GED0).
 * Hardware-reduced ACPI has no GPE blocks, so the VMM signals events (the
 * power button) this way: it latches event bits here and raises the GED's
 * level-triggered interrupt; the guest's GED._EVT reads the register, which
 * returns the latched bits, clears them and lowers the line once none are
 * left. The meaning of each bit is the DSDT's: acpi_ged_aml() writes it.
 *
 * Thread-safe: the VMM latches events from the embedder's thread while a
 * vCPU thread reads the register.
 */
#ifndef PHY_DEVICES_LEGACY_ACPI_GED_H
#define PHY_DEVICES_LEGACY_ACPI_GED_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/aml.h"
#include "devices/bus.h"

#define ACPI_GED_REG_SIZE 4
#define ACPI_GED_EVT_POWER_BUTTON 0x1 /* notifies \_SB.PWRB */

/* Drives the interrupt line: 1 asserted, 0 deasserted. */
typedef void (*acpi_ged_irq_fn)(void *opaque, int level);

struct acpi_ged {
	pthread_mutex_t lock;
	uint32_t pending;
	bool asserted; /* the line's level, so only changes reach KVM */
	acpi_ged_irq_fn set_irq;
	void *opaque;
};

/* NULL when out of memory. */
struct acpi_ged *acpi_ged_create(acpi_ged_irq_fn set_irq, void *opaque);
void acpi_ged_destroy(struct acpi_ged *ged);

/* Latches `events` and asserts the line. */
void acpi_ged_signal(struct acpi_ged *ged, uint32_t events);

/* Register ACPI_GED_REG_SIZE bytes. A read returns the latched bits it
 * covers and clears them; writes are ignored. */
extern const struct bus_device_ops acpi_ged_bus_ops;

/*
 * The DSDT's part (inside \_SB): GED0 (ACPI0013) with its level-triggered
 * interrupt `gsi` and an _EVT that reads the register at I/O `port` and
 * notifies the power button, PWRB (PNP0C0C), for ACPI_GED_EVT_POWER_BUTTON.
 * The GSI must be an IOAPIC pin below nr_gsis that is no ISA IRQ (whose
 * trigger mode the MADT would have to override); otherwise aml_fail().
 */
void acpi_ged_aml(struct aml *a, uint16_t port, uint32_t gsi, uint32_t nr_gsis);

#endif
