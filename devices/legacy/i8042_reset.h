/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Only the reset line of a PC keyboard controller: `reboot=k` guests write
 * 0xFE to port 0x64. The status port reads "buffers empty" so the guest's
 * wait loop ends at once. The FADT says there is no 8042, so nothing probes
 * for a keyboard here.
 */
#ifndef PHY_DEVICES_LEGACY_I8042_RESET_H
#define PHY_DEVICES_LEGACY_I8042_RESET_H

#include "devices/bus.h"

#define I8042_DATA_PORT 0x60
#define I8042_COMMAND_PORT 0x64
#define I8042_CMD_RESET 0xfe

typedef void (*i8042_reset_fn)(void *opaque);

struct i8042_reset {
	i8042_reset_fn reset;
	void *opaque;
};

/* Register at I8042_DATA_PORT with size 5 (0x60..0x64). */
extern const struct bus_device_ops i8042_reset_bus_ops;

#endif
