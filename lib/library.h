/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The library's assembly: the VM core with the front-ends this build has
 * (the window when built with SDL), and the VMM around it (the control
 * API). phy_vm_create() and phy_vmm_create() are these without test
 * hooks.
 */
#ifndef PHY_LIB_LIBRARY_H
#define PHY_LIB_LIBRARY_H

#include <phyllome/vmm.h>

struct vm_test_hooks;

/* phy_vm_create() with test hooks (tests/payload); hooks may be NULL. */
int library_vm_create(const struct phy_config *cfg,
		      const struct vm_test_hooks *hooks, struct phy_vm **out,
		      struct phy_error *err);

/* phy_vmm_create() whose VMs get test hooks; test_hooks may be NULL and
 * must outlive the VMM. */
int library_vmm_create(const struct phy_config *cfg,
		       const struct vm_test_hooks *test_hooks,
		       const struct phy_vmm_hooks *hooks, struct phy_vmm **out,
		       struct phy_error *err);

#endif
