// SPDX-License-Identifier: Apache-2.0
/*
 * --display sdl: one window for the VM's life, showing the GPU's scanout 0
 * and feeding a virtio keyboard and tablet. The window outlives machines:
 * a reboot detaches the old devices before they go and attaches the new
 * ones (vm_display_attach() from machine_virtio.c).
 *
 * Closing the window presses the power button, as closing a physical
 * machine's lid would ask it to shut down; a guest that ignores it gets
 * stopped when the window is closed a second time.
 */
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "vmm/display_sdl.h"
#include "vmm/machine/rows.h"
#include "vmm/vm_internal.h"

/* A device of the window's, or NULL (none, or between machines). */
static void *window_device(struct phy_vm *vm, const struct device_type *type)
{
	struct vm_device *d = vm_device_find(vm, type, 0);
	return d ? d->dev : NULL;
}

/* On the display thread. */
static void window_closed(void *opaque)
{
	struct phy_vm *vm = opaque;
	if (vm->display_closes++ == 0 && phy_vm_power_button(vm, NULL) == 0) {
		vm_log(vm, "--display: window closed, power button pressed (close again to stop the VM)");
		return;
	}
	vm_log(vm, "--display: window closed again, stopping the VM");
	phy_vm_stop(vm);
}

int vm_display_open(struct phy_vm *vm, struct phy_error *err)
{
	if (vm->cfg.display != DISPLAY_SDL)
		return 0;
	struct display_sdl_params p = {
		.title = "phyllome-vmm",
		.on_close = window_closed,
		.close_opaque = vm,
		.gpu = window_device(vm, &virtio_gpu_type),
		.keyboard = window_device(vm, &virtio_keyboard_type),
		.tablet = window_device(vm, &virtio_tablet_type),
	};
	struct phy_error why = { 0 };
	int ret = display_sdl_create(&vm->display, &p, &why);
	/* No window system is the user's mistake (exit status 2), like any
	 * other unusable option value. */
	const char *msg = why.message;
	if (!strncmp(msg, "display: ", 9))
		msg += 9;
	if (ret)
		return phy_err(err, ret == -PHY_E_NOMEM ? PHY_E_NOMEM : PHY_E_INVALID,
			       "--display: %s", msg);
	return 0;
}

void vm_display_close(struct phy_vm *vm)
{
	display_sdl_destroy(vm->display);
	vm->display = NULL;
}

void vm_display_attach(struct phy_vm *vm, bool machine)
{
	if (!vm->display)
		return;
	if (machine)
		display_sdl_attach(vm->display, window_device(vm, &virtio_gpu_type),
				   window_device(vm, &virtio_keyboard_type),
				   window_device(vm, &virtio_tablet_type));
	else
		display_sdl_attach(vm->display, NULL, NULL, NULL);
}
