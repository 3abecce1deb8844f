/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The two functions of a PIIX south bridge that UEFI firmware for an
 * i440FX machine (Debian's OVMF) looks for at slot 1:
 *   00:01.0  a PIIX3 PCI-to-ISA bridge (8086:7000, multi-function): its
 *            presence is what makes the firmware's SIO bus driver put
 *            COM1 (its serial console) and the PS/2 ports on it. Its
 *            registers (PIRQ routing at 0x60-0x63, ...) keep what the
 *            firmware writes and route nothing: devices use MSI-X.
 *   00:01.3  a PIIX4 power management function (8086:7113): the I/O base
 *            of the ACPI register block (PMBA, 0x40) and its enable
 *            (PMREGMISC bit 0, 0x80). The block (acpi_pm.h) sits at a
 *            fixed port, the one the firmware programs; it decodes only
 *            while enabled and programmed there.
 * Both keep the rest of their configuration space as plain storage, with
 * the identity and header read-only.
 */
#ifndef PHY_DEVICES_PCI_PIIX_H
#define PHY_DEVICES_PCI_PIIX_H

#include <stdint.h>

#include "devices/legacy/acpi_pm.h"
#include "devices/pci/pci_host.h"

#define PIIX_SLOT 1
#define PIIX_ISA_DEVFN PCI_DEVFN(PIIX_SLOT, 0)
#define PIIX_PM_DEVFN PCI_DEVFN(PIIX_SLOT, 3)
#define PIIX_PM_PMBA 0x40
#define PIIX_PM_PMREGMISC 0x80

struct piix_isa {
	struct pci_function fn;
};

struct piix_pm {
	struct pci_function fn;
	struct acpi_pm *pm;
	uint16_t port; /* where the block is registered */
};

void piix_isa_init(struct piix_isa *isa);

/* `pm` is registered at `port` (ACPI_PM_SIZE aligned) by the caller. */
void piix_pm_init(struct piix_pm *p, struct acpi_pm *pm, uint16_t port);

#endif
