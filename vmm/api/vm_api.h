/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A VM's --api-socket server and --event-monitor, started from its
 * configuration. The VM calls:
 *   vm_api_open()   in phy_vm_create(), once the machine is built: a bad
 *                   path, or a socket another VMM listens on, fails the
 *                   create with an error naming the option;
 *   vm_api_event()  for every lifecycle event (vm_emit);
 *   vm_api_stop()   first thing in phy_vm_destroy(): the server thread is
 *                   joined, so no API call reaches a VM being torn down;
 *   vm_api_free()   last thing in phy_vm_destroy(): the monitor writes its
 *                   final events once no thread can emit any more.
 * The server reaches the VM through the public API only (pause, resume,
 * state, disk stats, ...), from its own thread.
 */
#ifndef PHY_VMM_API_VM_API_H
#define PHY_VMM_API_VM_API_H

#include <phyllome/vmm.h>

#include "vmm/config/config.h"

struct vm_api;

/* *out stays NULL when the configuration names neither option. */
int vm_api_open(struct phy_vm *vm, const struct phy_config *cfg,
		struct vm_api **out, struct phy_error *err);
/* From any thread; never blocks. NULL api: a no-op. */
void vm_api_event(struct vm_api *api, const struct phy_event *ev);
void vm_api_stop(struct vm_api *api);
void vm_api_free(struct vm_api *api);

#endif
