// SPDX-License-Identifier: Apache-2.0
/* A test hook (tests/payload): a port whose write stops the VM and keeps
 * the value written, for payloads to report a result. */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "vmm/machine/device.h"
#include "vmm/vm_internal.h"

static unsigned debug_exit_count(const struct phy_vm *vm)
{
	return vm->hooks.debug_exit_port != 0;
}

static int debug_exit_open(struct vm_device *d, struct phy_error *err)
{
	d->state = calloc(1, sizeof(uint32_t));
	return d->state ? 0 : phy_err(err, PHY_E_NOMEM, "out of memory");
}

static void debug_exit_close(struct vm_device *d)
{
	free(d->state);
}

static void debug_exit_write(void *opaque, uint64_t off, const uint8_t *data,
			     uint32_t len)
{
	struct vm_device *d = opaque;
	uint32_t v = 0;
	memcpy(&v, data, len > 4 ? 4 : len);
	*(uint32_t *)d->state = v;
	vm_request(d->vm, VM_REQ_STOP);
}

static const struct bus_device_ops debug_exit_ops = { .write = debug_exit_write };

static int debug_exit_create(struct vm_device *d, struct machine *m,
			     struct phy_error *err)
{
	return machine_add_pio(m, d, d->vm->hooks.debug_exit_port, 4,
			       &debug_exit_ops, d, false, err);
}

static void debug_exit_destroy(struct vm_device *d)
{
}

const struct device_type debug_exit_type = {
	.name = "debug-exit",
	.count = debug_exit_count,
	.open = debug_exit_open,
	.close = debug_exit_close,
	.create = debug_exit_create,
	.destroy = debug_exit_destroy,
};

uint32_t vm_debug_exit_value(const struct phy_vm *vm)
{
	struct vm_device *d = vm_device_find(vm, &debug_exit_type, 0);
	return d ? *(const uint32_t *)d->state : 0;
}
