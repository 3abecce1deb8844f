/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VMM (struct phy_vmm, public in vmm.h): what one cloud-hypervisor
 * process is, a control plane holding at most one VM. It owns the
 * --api-socket server and the --event-monitor, and the VM's configuration
 * from vm.create (or the command line) to vm.delete; the VM itself exists
 * from vm.boot to vm.shutdown, which leaves the configuration in place for
 * the next vm.boot. A VM that stops of itself (the guest powers off or
 * crashes) ends the VMM, as it ends a Cloud Hypervisor process; so do
 * vmm.shutdown and phy_vmm_stop().
 *
 * Threads: the server thread runs every request under the VMM's lock; the
 * embedder's thread runs phy_vmm_wait(), which stops the VM when the VMM
 * ends. The VM's listener (its supervisor thread) takes no lock: a
 * vm.shutdown holds the lock while it waits for that very thread.
 */
#ifndef PHY_API_VMM_CONTROL_H
#define PHY_API_VMM_CONTROL_H

#include <phyllome/vmm.h>

/* How the VMM makes a VM: the library's assembly (lib/), with its
 * front-ends and, in tests, payload hooks. */
struct vmm_factory {
	int (*create)(void *ctx, const struct phy_config *cfg,
		      struct phy_vm **out, struct phy_error *err);
	void *ctx;
};

int vmm_control_create(const struct phy_config *cfg,
		       const struct phy_vmm_hooks *hooks,
		       const struct vmm_factory *factory, struct phy_vmm **out,
		       struct phy_error *err);

/* The VM booted now, or NULL: for tests, which look inside it. */
struct phy_vm *vmm_control_vm(struct phy_vmm *vmm);

#endif
