// SPDX-License-Identifier: Apache-2.0
/* The reset line of a PC keyboard controller, which `reboot=k` guests use;
 * nothing else of an 8042. */
#include <stdlib.h>

#include "common/error.h"
#include "devices/legacy/i8042_reset.h"
#include "vmm/config/config_firmware.h"
#include "vmm/machine/device.h"
#include "vmm/vm_internal.h"

/* Firmware boot has none: OVMF's PS/2 driver then finds port 0x64 reading
 * all ones, an empty bus, instead of waiting out a keyboard that never
 * answers; firmware resets through 0xCF9. */
static unsigned i8042_count(const struct phy_vm *vm)
{
	return config_firmware(&vm->cfg) ? 0 : 1;
}

static void guest_reset(void *opaque)
{
	vm_request(opaque, VM_REQ_RESET);
}

static int i8042_create(struct vm_device *d, struct machine *m,
			struct phy_error *err)
{
	struct i8042_reset *r = malloc(sizeof(*r));
	if (!r)
		return phy_err(err, PHY_E_NOMEM, "%s: out of memory", d->name);
	*r = (struct i8042_reset){ guest_reset, d->vm };
	d->dev = r;
	return machine_add_pio(m, d, I8042_DATA_PORT, 5, &i8042_reset_bus_ops, r,
			       false, err);
}

static void i8042_destroy(struct vm_device *d)
{
	free(d->dev);
	d->dev = NULL;
}

const struct device_type i8042_reset_type = {
	.name = "i8042-reset",
	.count = i8042_count,
	.create = i8042_create,
	.destroy = i8042_destroy,
};
