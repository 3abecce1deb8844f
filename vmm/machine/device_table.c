// SPDX-License-Identifier: Apache-2.0
/*
 * The device table: every device a machine can have, one row each, in the
 * order they are plugged (which is also their PCI slot order and their
 * order in the DSDT). A row's own file says how many the configuration
 * asks for and how each is built; docs/adding-a-device.md walks through
 * adding one.
 */
#include "vmm/machine/device.h"

extern const struct device_type firmware_type;
extern const struct device_type com1_type;
extern const struct device_type acpi_sleep_type;
extern const struct device_type acpi_ged_type;
extern const struct device_type i8042_reset_type;
extern const struct device_type debug_exit_type;
extern const struct device_type piix_type;
extern const struct device_type fw_cfg_type;
extern const struct device_type cmos_type;
extern const struct device_type virtio_blk_type;
extern const struct device_type virtio_net_type;
extern const struct device_type virtio_gpu_type;
extern const struct device_type virtio_keyboard_type;
extern const struct device_type virtio_tablet_type;
extern const struct device_type virtio_rng_type;
extern const struct device_type virtio_console_type;
extern const struct device_type virtio_vsock_type;
extern const struct device_type virtio_balloon_type;
extern const struct device_type virtio_fs_type;

const struct device_type *const device_table[] = {
	&firmware_type,        /* --firmware: its ROM and variables */
	&com1_type,            /* COM1, unless --serial off */
	&acpi_sleep_type,      /* power off */
	&acpi_ged_type,        /* the power button */
	&i8042_reset_type,     /* reboot=k */
	&debug_exit_type,      /* payload tests only */
	&piix_type,            /* --firmware: ISA bridge, PM (00:01.x) */
	&fw_cfg_type,          /* --firmware: its configuration device */
	&cmos_type,            /* --firmware: the CMOS clock */
	&virtio_blk_type,      /* --disk */
	&virtio_net_type,      /* --net */
	&virtio_gpu_type,      /* --gpu */
	&virtio_keyboard_type, /* --display sdl */
	&virtio_tablet_type,   /* --display sdl */
	&virtio_rng_type,      /* --rng, on by default */
	&virtio_console_type,  /* --console, unless off (the default) */
	&virtio_vsock_type,    /* --vsock */
	&virtio_balloon_type,  /* --balloon */
	&virtio_fs_type,       /* --fs */
};

const unsigned device_table_size = sizeof(device_table) / sizeof(device_table[0]);
