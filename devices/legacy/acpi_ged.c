/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/legacy/acpi_ged.h"

#include <stdlib.h>
#include <string.h>

struct acpi_ged *acpi_ged_create(acpi_ged_irq_fn set_irq, void *opaque)
{
	struct acpi_ged *ged = calloc(1, sizeof(*ged));
	if (!ged)
		return NULL;
	pthread_mutex_init(&ged->lock, NULL);
	ged->set_irq = set_irq;
	ged->opaque = opaque;
	return ged;
}

void acpi_ged_destroy(struct acpi_ged *ged)
{
	if (!ged)
		return;
	pthread_mutex_destroy(&ged->lock);
	free(ged);
}

void acpi_ged_signal(struct acpi_ged *ged, uint32_t events)
{
	if (!events)
		return;
	pthread_mutex_lock(&ged->lock);
	ged->pending |= events;
	/* Level-triggered: events latched while the line is up need no new
	 * edge; the guest's next read collects them all. */
	if (!ged->asserted) {
		ged->asserted = true;
		ged->set_irq(ged->opaque, 1);
	}
	pthread_mutex_unlock(&ged->lock);
}

static void ged_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	struct acpi_ged *ged = opaque;
	memset(data, 0, len);
	pthread_mutex_lock(&ged->lock);
	/* Only the bytes the access covers are returned and cleared, so a
	 * guest reading the register byte by byte loses nothing. */
	for (uint32_t i = 0; i < len && off + i < ACPI_GED_REG_SIZE; i++) {
		unsigned shift = 8 * (unsigned)(off + i);
		data[i] = (uint8_t)(ged->pending >> shift);
		ged->pending &= ~(0xFFu << shift);
	}
	if (!ged->pending && ged->asserted) {
		ged->asserted = false;
		ged->set_irq(ged->opaque, 0);
	}
	pthread_mutex_unlock(&ged->lock);
}

static void ged_write(void *opaque, uint64_t off, const uint8_t *data,
		      uint32_t len)
{
}

const struct bus_device_ops acpi_ged_bus_ops = {
	.read = ged_read,
	.write = ged_write,
};

#define NOTIFY_BUTTON_PRESSED 0x80 /* power button: "S0 button pressed" */

/* The power button, a control-method one (ACPI 6.5, "Control Method Power
 * Button"): the GED notifies it; Linux's "button" driver turns that into a
 * KEY_POWER input event. */
static void pwrb_aml(struct aml *a)
{
	size_t dev = aml_device_begin(a, "PWRB");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0C0C");
	aml_name_integer(a, "_UID", 0);
	aml_end(a, dev);
}

/*
 * The Generic Event Device (ACPI 6.1 and later): hardware-reduced ACPI's way
 * to run AML on an interrupt. The VMM latches events in the register and
 * raises the GSI (level-triggered, so an event is never lost between two
 * edges); the OS runs _EVT, whose read of the register returns the events,
 * clears them and lowers the line.
 *
 *   OperationRegion (GDST, SystemIO, port, 4)
 *   Field (GDST, DWordAcc, NoLock, WriteAsZeros) { GDAT, 32 }
 *   Method (_EVT, 1, Serialized) {
 *       Local0 = GDAT
 *       If (Local0 & power_button_bit) { Notify (\_SB.PWRB, 0x80) }
 *   }
 */
void acpi_ged_aml(struct aml *a, uint16_t port, uint32_t gsi, uint32_t nr_gsis)
{
	if (!port || port > 0xFFFF - (ACPI_GED_REG_SIZE - 1) || gsi < 16 ||
	    gsi >= nr_gsis) {
		aml_fail(a);
		return;
	}
	pwrb_aml(a);
	size_t dev = aml_device_begin(a, "GED0");

	aml_name(a, "_HID");
	aml_string(a, "ACPI0013");
	aml_name_integer(a, "_UID", 0);
	aml_name(a, "_CRS");
	size_t rt = aml_rt_begin(a);
	aml_rt_interrupt(a, gsi, false, false);
	aml_rt_end(a, rt);

	aml_operation_region(a, "GDST", AML_SPACE_SYSTEM_IO, port,
			     ACPI_GED_REG_SIZE);
	size_t fld = aml_field_begin(a, "GDST", AML_FIELD_DWORD_ACC,
				     AML_FIELD_WRITE_AS_ZEROS);
	aml_field_unit(a, "GDAT", 8 * ACPI_GED_REG_SIZE);
	aml_end(a, fld);

	/* Serialized: two _EVT runs would race for the read-to-clear. */
	size_t m = aml_method_begin(a, "_EVT", 1, true);
	aml_store(a);
	aml_name_string(a, "GDAT");
	aml_local(a, 0);
	size_t pwr = aml_if_begin(a);
	aml_and(a);
	aml_local(a, 0);
	aml_integer(a, ACPI_GED_EVT_POWER_BUTTON);
	aml_null_target(a);
	aml_notify(a);
	aml_name_string(a, "\\_SB.PWRB");
	aml_integer(a, NOTIFY_BUTTON_PRESSED);
	aml_end(a, pwr);
	aml_end(a, m);

	aml_end(a, dev);
}
