/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/legacy/i8042_reset.h"

#include <string.h>

static void i8042_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	memset(data, 0, len);
}

static void i8042_write(void *opaque, uint64_t off, const uint8_t *data,
			uint32_t len)
{
	struct i8042_reset *k = opaque;
	if (off == I8042_COMMAND_PORT - I8042_DATA_PORT && len == 1 &&
	    data[0] == I8042_CMD_RESET && k->reset)
		k->reset(k->opaque);
}

const struct bus_device_ops i8042_reset_bus_ops = {
	.read = i8042_read,
	.write = i8042_write,
};
