// SPDX-License-Identifier: Apache-2.0
#include "lib/library.h"

#include "api/vm_api.h"
#include "ui/window.h"
#include "vmm/vm_internal.h"

/* In the order they are opened: the window before the control API, whose
 * vm.info then describes a VM that is whole. */
static const struct vm_frontend *const frontends[] = {
	&window_frontend,
	&api_frontend,
};

int library_vm_create(const struct phy_config *cfg,
		      const struct vm_test_hooks *hooks, struct phy_vm **out,
		      struct phy_error *err)
{
	return vm_create(cfg, hooks, frontends,
			 sizeof(frontends) / sizeof(frontends[0]), out, err);
}

int phy_vm_create(const struct phy_config *cfg, struct phy_vm **out,
		  struct phy_error *err)
{
	return library_vm_create(cfg, NULL, out, err);
}
