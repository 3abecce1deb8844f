/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A VM's --api-socket server and --event-monitor: a front-end of the VM
 * (vmm/frontend.h), opened from its configuration at the end of
 * phy_vm_create(): a bad path, or a socket another VMM listens on, fails
 * the create with an error naming the option. Every lifecycle event
 * reaches the monitor as a listener; the server thread is joined first in
 * phy_vm_destroy(), so no API call reaches a VM being torn down, and the
 * monitor writes its final events last, once no thread can emit any more.
 * The server reaches the VM through the public API only (pause, resume,
 * state, disk stats, ...), from its own thread.
 */
#ifndef PHY_API_VM_API_H
#define PHY_API_VM_API_H

#include "vmm/frontend.h"

extern const struct vm_frontend api_frontend;

#endif
