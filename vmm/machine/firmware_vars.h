/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VM's UEFI variables file (--firmware vars=FILE): created from its
 * template when missing, locked against a second VMM, mapped shared so
 * what the firmware programs into its flash lands in the file.
 */
#ifndef PHY_VMM_MACHINE_FIRMWARE_VARS_H
#define PHY_VMM_MACHINE_FIRMWARE_VARS_H

#include <stddef.h>
#include <stdint.h>

#include <phyllome/vmm.h>

struct firmware_vars {
	int fd;
	uint8_t *data;
	size_t size;
};

/*
 * Opens `path`, creating it from `template` when it does not exist. A
 * NULL template means the store `image` starts with (OVMF.fd) or else the
 * OVMF_VARS file beside an OVMF_CODE `image_path`. Every error names
 * --firmware; nothing is written unless the template is a valid store.
 */
int firmware_vars_open(struct firmware_vars *v, const char *path,
		       const char *template, const char *image_path,
		       const uint8_t *image, size_t image_size,
		       struct phy_error *err);
/* Writes what the guest changed back and lets the file go. */
void firmware_vars_close(struct firmware_vars *v);

#endif
