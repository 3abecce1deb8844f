// SPDX-License-Identifier: Apache-2.0
/*
 * The window in a build without SDL2 (cmake -DPHYLLOME_SDL=OFF): there is
 * none. --display sdl is refused with the option (vmm/config/options.c),
 * so no configuration reaching this front-end asks for a window.
 */
#include "ui/window.h"

static int no_window(struct phy_vm *vm, const struct phy_config *cfg,
		     void **state, struct phy_error *err)
{
	return 0;
}

const struct vm_frontend window_frontend = {
	.name = "window",
	.open = no_window,
};
