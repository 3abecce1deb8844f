/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Firmware boot's ACPI tables: built at address 0 and handed to the
 * firmware through fw_cfg as QEMU does ("etc/acpi/tables",
 * "etc/acpi/rsdp" and the "etc/table-loader" script that places them
 * and patches their pointers and checksums). OVMF installs every table a
 * pointer of the script reaches; it makes its own RSDP and XSDT.
 */
#ifndef PHY_VMM_MACHINE_FIRMWARE_ACPI_H
#define PHY_VMM_MACHINE_FIRMWARE_ACPI_H

#include <phyllome/vmm.h>

#include "arch/x86_64/acpi.h"

struct fw_cfg;

int firmware_acpi_add(struct fw_cfg *fw, const struct x86_acpi_config *cfg,
		      struct phy_error *err);

#endif
