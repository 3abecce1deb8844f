/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The library's assembly: the VM core with the front-ends this build has
 * (the control API, and the window when built with SDL). phy_vm_create()
 * is library_vm_create() without test hooks.
 */
#ifndef PHY_LIB_LIBRARY_H
#define PHY_LIB_LIBRARY_H

#include <phyllome/vmm.h>

struct vm_test_hooks;

/* phy_vm_create() with test hooks (tests/payload); hooks may be NULL. */
int library_vm_create(const struct phy_config *cfg,
		      const struct vm_test_hooks *hooks, struct phy_vm **out,
		      struct phy_error *err);

#endif
