/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/legacy/acpi_sleep.h"

#include <string.h>

#define SLP_TYP_SHIFT 2
#define SLP_TYP_MASK 0x1c
#define SLP_EN 0x20

int acpi_sleep_is_poweroff(uint8_t value, uint8_t s5_slp_typ)
{
	return (value & SLP_EN) &&
	       ((value & SLP_TYP_MASK) >> SLP_TYP_SHIFT) == s5_slp_typ;
}

/* Nothing ever wakes the guest, so the status register (WAK_STS) reads 0. */
static void sleep_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	memset(data, 0, len);
}

static void sleep_write(void *opaque, uint64_t off, const uint8_t *data,
			uint32_t len)
{
	struct acpi_sleep *s = opaque;
	if (off == 0 && acpi_sleep_is_poweroff(data[0], s->s5_slp_typ) &&
	    s->poweroff)
		s->poweroff(s->opaque);
}

const struct bus_device_ops acpi_sleep_bus_ops = {
	.read = sleep_read,
	.write = sleep_write,
};

void acpi_sleep_aml(struct aml *a, uint8_t s5_slp_typ)
{
	if (s5_slp_typ > 7) {
		aml_fail(a);
		return;
	}
	aml_name(a, "\\_S5");
	size_t pkg = aml_package_begin(a, 4);
	aml_integer(a, s5_slp_typ);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_end(a, pkg);
}
