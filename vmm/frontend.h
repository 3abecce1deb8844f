/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Front-ends: what the library puts around the VM core for a user to
 * reach it, the control API and event monitor (api/) and the window
 * (ui/). The core knows them only through this table of hooks, which the
 * library's assembly (lib/) hands to vm_create(); a front-end hears of
 * lifecycle events as a listener, like the embedder's own handler.
 *
 * Threads: open() and close() run on the creator's and the destroyer's
 * thread; machine() on the supervisor thread (or the creator's), with no
 * lock held and the vCPUs not running.
 */
#ifndef PHY_VMM_FRONTEND_H
#define PHY_VMM_FRONTEND_H

#include <stdbool.h>

#include <phyllome/vmm.h>

#include "vmm/config/config.h"

struct vm_frontend {
	const char *name;
	/* At the end of phy_vm_create(), the first machine built: *state
	 * stays NULL when the configuration asks nothing of this front-end
	 * (the other hooks are then not called). */
	int (*open)(struct phy_vm *vm, const struct phy_config *cfg,
		    void **state, struct phy_error *err);
	/* Optional: a reboot built a new machine (built) or is about to tear
	 * the machine down (!built). */
	void (*machine)(void *state, struct phy_vm *vm, bool built);
	/* First in phy_vm_destroy(): once it returns, no thread of the
	 * front-end calls into the VM any more. Events may still arrive. */
	void (*stop)(void *state);
	/* Last in phy_vm_destroy(), when no event can come any more. */
	void (*close)(void *state);
};

/* Lifecycle events to a front-end: called as the embedder's handler is
 * (vmm.h), before it, for every event. */
typedef void (*vm_listener_fn)(void *opaque, const struct phy_event *ev);
int vm_add_listener(struct phy_vm *vm, vm_listener_fn fn, void *opaque);

/* The embedder's log hook, for a front-end's one-line messages. */
void vm_log(void *vm, const char *msg);

#endif
