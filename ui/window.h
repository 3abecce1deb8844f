/* SPDX-License-Identifier: Apache-2.0 */
/* --display sdl: the window, a front-end of the VM (vmm/frontend.h). */
#ifndef PHY_UI_WINDOW_H
#define PHY_UI_WINDOW_H

#include "vmm/frontend.h"

extern const struct vm_frontend window_frontend;

#endif
