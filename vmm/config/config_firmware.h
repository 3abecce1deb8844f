/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --firmware PATH | path=PATH[,vars=FILE[,vars_template=FILE]]: boot UEFI
 * firmware (Debian's OVMF) from its reset vector instead of a kernel.
 * A bare path is Cloud Hypervisor's syntax; vars= is ours: the VM's own
 * UEFI variable store, kept across runs, created from vars_template= (by
 * default the OVMF_VARS file beside an OVMF_CODE image, or the store the
 * image itself starts with) when the file does not exist yet.
 */
#ifndef PHY_VMM_CONFIG_CONFIG_FIRMWARE_H
#define PHY_VMM_CONFIG_CONFIG_FIRMWARE_H

#include "vmm/config/option.h"

struct firmware_config {
	char *path;
	char *vars;          /* NULL: variables live in RAM, lost at exit */
	char *vars_template; /* NULL: the default described above */
};

extern const struct device_option firmware_option;

/* The firmware the configuration boots, or NULL (a kernel). */
const struct firmware_config *config_firmware(const struct phy_config *cfg);

#endif
