/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Firmware boot's "bootorder" fw_cfg file: the disks in --disk order, as
 * the OpenFirmware device paths QEMU writes for them ("/pci@i0cf8/scsi@4/
 * disk@0,0" for a virtio-blk function in slot 4), which OVMF turns into
 * its boot options' order. The OS disk is then the first --disk.
 */
#ifndef PHY_VMM_MACHINE_FIRMWARE_BOOTORDER_H
#define PHY_VMM_MACHINE_FIRMWARE_BOOTORDER_H

#include <stddef.h>

#include <phyllome/vmm.h>

struct fw_cfg;

/* The file for disks in these PCI slots, newline-separated and NUL
 * terminated; returns its length with the NUL, 0 when it does not fit in
 * `size` bytes (or there are no disks). */
size_t firmware_bootorder_format(const unsigned *slots, unsigned nr,
				 char *out, size_t size);

/* Adds "bootorder" for the machine's disks, if it has any. */
int firmware_bootorder_add(struct fw_cfg *fw, const unsigned *slots,
			   unsigned nr, struct phy_error *err);

#endif
