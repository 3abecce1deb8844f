// SPDX-License-Identifier: Apache-2.0
/* The power button: an ACPI Generic Event Device whose interrupt runs the
 * DSDT's _EVT, which notifies the button device. phy_vm_power_button()
 * presses it from the embedder's thread, so the GED is published under
 * vm->lock. */
#include "arch/x86_64/layout.h"
#include "common/error.h"
#include "devices/legacy/acpi_ged.h"
#include "vmm/machine/device.h"
#include "vmm/vm_internal.h"

static void ged_irq(void *opaque, int level)
{
	struct vm_device *d = opaque;
	vm_ops_set_line(machine_vm_ops(&d->vm->m), X86_GED_GSI, level);
}

static int ged_create(struct vm_device *d, struct machine *m,
		      struct phy_error *err)
{
	struct acpi_ged *ged = acpi_ged_create(ged_irq, d);
	if (!ged)
		return phy_err(err, PHY_E_NOMEM, "%s: out of memory", d->name);
	pthread_mutex_lock(&d->vm->lock);
	d->dev = ged;
	pthread_mutex_unlock(&d->vm->lock);
	return machine_add_pio(m, d, X86_GED_PORT, ACPI_GED_REG_SIZE,
			       &acpi_ged_bus_ops, ged, true, err);
}

static void ged_destroy(struct vm_device *d)
{
	pthread_mutex_lock(&d->vm->lock);
	acpi_ged_destroy(d->dev);
	d->dev = NULL;
	pthread_mutex_unlock(&d->vm->lock);
}

static void ged_aml(void *d, struct aml *a)
{
	acpi_ged_aml(a, X86_GED_PORT, X86_GED_GSI, X86_IOAPIC_PINS);
}

const struct device_type acpi_ged_type = {
	.name = "acpi-ged",
	.create = ged_create,
	.destroy = ged_destroy,
	.aml = ged_aml,
};

bool vm_press_power_button(struct phy_vm *vm)
{
	struct vm_device *d = vm_device_find(vm, &acpi_ged_type, 0);
	if (!d || !d->dev)
		return false;
	acpi_ged_signal(d->dev, ACPI_GED_EVT_POWER_BUTTON);
	return true;
}
