// SPDX-License-Identifier: Apache-2.0
/* Firmware boot: the PIIX functions at slot 1 that OVMF's i440FX platform
 * code needs (piix.h), with the ACPI PM block at the port it programs. */
#include <stdlib.h>

#include "arch/x86_64/layout.h"
#include "common/error.h"
#include "devices/pci/piix.h"
#include "vmm/machine/device.h"
#include "vmm/vm_internal.h"

struct piix {
	struct piix_isa isa;
	struct piix_pm pm_fn;
	struct acpi_pm pm;
};

static void guest_poweroff(void *opaque)
{
	vm_request(opaque, VM_REQ_POWEROFF);
}

static int piix_create(struct vm_device *d, struct machine *m,
		       struct phy_error *err)
{
	struct piix *p = malloc(sizeof(*p));
	if (!p)
		return phy_err(err, PHY_E_NOMEM, "%s: out of memory", d->name);
	acpi_pm_init(&p->pm, X86_FW_PM_S5_SLP_TYP, guest_poweroff, d->vm);
	piix_isa_init(&p->isa);
	piix_pm_init(&p->pm_fn, &p->pm, X86_FW_PM_PORT);
	d->dev = p;
	int ret = pci_host_plug_devfn(&m->pci, PIIX_ISA_DEVFN, &p->isa.fn, err);
	if (!ret)
		ret = pci_host_plug_devfn(&m->pci, PIIX_PM_DEVFN, &p->pm_fn.fn,
					  err);
	if (!ret)
		ret = machine_add_pio(m, d, X86_FW_PM_PORT, ACPI_PM_SIZE,
				      &acpi_pm_bus_ops, &p->pm, true, err);
	return ret;
}

/* The host bridge goes after the devices (machine_teardown), so the
 * functions are taken out here, before their memory is. */
static void piix_destroy(struct vm_device *d)
{
	struct piix *p = d->dev;
	if (!p)
		return;
	pci_host_unplug(&d->vm->m.pci, PIIX_ISA_DEVFN);
	pci_host_unplug(&d->vm->m.pci, PIIX_PM_DEVFN);
	acpi_pm_destroy(&p->pm);
	free(p);
	d->dev = NULL;
}

const struct device_type piix_type = {
	.name = "piix",
	.count = device_count_firmware,
	.create = piix_create,
	.destroy = piix_destroy,
};
