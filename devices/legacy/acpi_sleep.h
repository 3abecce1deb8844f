/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hardware-reduced ACPI sleep registers: the guest powers off by writing
 * SLP_TYP (from the DSDT's _S5) and SLP_EN to the sleep control register.
 */
#ifndef PHY_DEVICES_LEGACY_ACPI_SLEEP_H
#define PHY_DEVICES_LEGACY_ACPI_SLEEP_H

#include <stdint.h>

#include "common/aml.h"
#include "devices/bus.h"

typedef void (*acpi_sleep_fn)(void *opaque);

struct acpi_sleep {
	uint8_t s5_slp_typ;
	acpi_sleep_fn poweroff;
	void *opaque;
};

/* Register at the sleep control port with size 2: offset 0 is control,
 * offset 1 is status. */
extern const struct bus_device_ops acpi_sleep_bus_ops;

/* Decodes one control write; returns 1 when it asks for S5 (power off). */
int acpi_sleep_is_poweroff(uint8_t value, uint8_t s5_slp_typ);

/* The DSDT's \_S5 object: the SLP_TYP the guest writes to power off
 * (3 bits; a larger one is aml_fail()). Only the first element matters
 * on hardware-reduced systems. */
void acpi_sleep_aml(struct aml *a, uint8_t s5_slp_typ);

#endif
