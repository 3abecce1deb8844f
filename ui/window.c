// SPDX-License-Identifier: Apache-2.0
/*
 * --display sdl as a front-end of the VM: one window for the VM's life,
 * showing the GPU's scanout 0 and feeding a virtio keyboard and tablet.
 * The window outlives machines: a reboot detaches the old devices before
 * they go and attaches the new ones (the machine() hook).
 *
 * Closing the window presses the power button, as closing a physical
 * machine's lid would ask it to shut down; a guest that ignores it gets
 * stopped when the window is closed a second time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "ui/display_sdl.h"
#include "ui/window.h"
#include "vmm/machine/rows.h"
#include "vmm/vm_internal.h"

struct window {
	struct phy_vm *vm;
	struct display_sdl *display; /* NULL once stopped */
	unsigned closes;
};

/* A device of the window's, or NULL (none, or between machines). */
static void *window_device(struct phy_vm *vm, const struct device_type *type)
{
	struct vm_device *d = vm_device_find(vm, type, 0);
	return d ? d->dev : NULL;
}

/* On the display thread. */
static void window_closed(void *opaque)
{
	struct window *w = opaque;
	if (w->closes++ == 0 && phy_vm_power_button(w->vm, NULL) == 0) {
		vm_log(w->vm, "--display: window closed, power button pressed (close again to stop the VM)");
		return;
	}
	vm_log(w->vm, "--display: window closed again, stopping the VM");
	phy_vm_stop(w->vm);
}

static int window_open(struct phy_vm *vm, const struct phy_config *cfg,
		       void **state, struct phy_error *err)
{
	if (cfg->display != DISPLAY_SDL)
		return 0;
	struct window *w = calloc(1, sizeof(*w));
	if (!w)
		return phy_err(err, PHY_E_NOMEM, "--display: out of memory");
	w->vm = vm;
	struct display_sdl_params p = {
		.title = "phyllome-vmm",
		.on_close = window_closed,
		.close_opaque = w,
		.gpu = window_device(vm, &virtio_gpu_type),
		.keyboard = window_device(vm, &virtio_keyboard_type),
		.tablet = window_device(vm, &virtio_tablet_type),
		.sandbox = cfg->seccomp,
	};
	struct phy_error why = { 0 };
	int ret = display_sdl_create(&w->display, &p, &why);
	if (ret) {
		free(w);
		/* No window system is the user's mistake (exit status 2), like
		 * any other unusable option value. */
		const char *msg = why.message;
		if (!strncmp(msg, "display: ", 9))
			msg += 9;
		return phy_err(err, ret == -PHY_E_NOMEM ? PHY_E_NOMEM : PHY_E_INVALID,
			       "--display: %s", msg);
	}
	*state = w;
	return 0;
}

static void window_machine(void *state, struct phy_vm *vm, bool built)
{
	struct window *w = state;
	if (!w->display)
		return;
	if (built)
		display_sdl_attach(w->display, window_device(vm, &virtio_gpu_type),
				   window_device(vm, &virtio_keyboard_type),
				   window_device(vm, &virtio_tablet_type));
	else
		display_sdl_attach(w->display, NULL, NULL, NULL);
}

/* The display thread may call into the VM (window_closed): gone first. */
static void window_stop(void *state)
{
	struct window *w = state;
	display_sdl_destroy(w->display);
	w->display = NULL;
}

static void window_close(void *state)
{
	free(state);
}

const struct vm_frontend window_frontend = {
	.name = "window",
	.open = window_open,
	.machine = window_machine,
	.stop = window_stop,
	.close = window_close,
};
