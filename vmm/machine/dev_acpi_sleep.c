// SPDX-License-Identifier: Apache-2.0
/* Hardware-reduced ACPI's sleep registers, which the FADT points at: a
 * write of \_S5's SLP_TYP with SLP_EN powers the VM off. */
#include <stdlib.h>

#include "arch/x86_64/layout.h"
#include "common/error.h"
#include "devices/legacy/acpi_sleep.h"
#include "vmm/machine/device.h"
#include "vmm/vm_internal.h"

static void guest_poweroff(void *opaque)
{
	vm_request(opaque, VM_REQ_POWEROFF);
}

static int sleep_create(struct vm_device *d, struct machine *m,
			struct phy_error *err)
{
	struct acpi_sleep *s = malloc(sizeof(*s));
	if (!s)
		return phy_err(err, PHY_E_NOMEM, "%s: out of memory", d->name);
	*s = (struct acpi_sleep){ X86_S5_SLP_TYP, guest_poweroff, d->vm };
	d->dev = s;
	/* Control and status, one byte each. */
	return machine_add_pio(m, d, X86_SLEEP_CONTROL_PORT, 2,
			       &acpi_sleep_bus_ops, s, true, err);
}

static void sleep_destroy(struct vm_device *d)
{
	free(d->dev);
	d->dev = NULL;
}

static void sleep_aml(void *d, struct aml *a)
{
	acpi_sleep_aml(a, X86_S5_SLP_TYP);
}

const struct device_type acpi_sleep_type = {
	.name = "acpi-sleep",
	.create = sleep_create,
	.destroy = sleep_destroy,
	.aml = sleep_aml,
};
