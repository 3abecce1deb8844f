// SPDX-License-Identifier: Apache-2.0
#include "lib/library.h"

#include "api/vmm_control.h"
#include "common/error.h"
#include "ui/window.h"
#include "vmm/vm_internal.h"

/* The VM's own front-ends; the control API and the event monitor are the
 * VMM's (api/vmm_control.c), around the VM. */
static const struct vm_frontend *const frontends[] = {
	&window_frontend,
};

int library_vm_create(const struct phy_config *cfg,
		      const struct vm_test_hooks *hooks, struct phy_vm **out,
		      struct phy_error *err)
{
	if (cfg && (cfg->api_socket || cfg->api_socket_fd >= 0))
		return phy_err(err, PHY_E_INVALID,
			       "--api-socket: a control API belongs to a VMM: use phy_vmm_create()");
	if (cfg && (cfg->event_monitor || cfg->event_monitor_fd >= 0))
		return phy_err(err, PHY_E_INVALID,
			       "--event-monitor: events are a VMM's: use phy_vmm_create()");
	return vm_create(cfg, hooks, frontends,
			 sizeof(frontends) / sizeof(frontends[0]), out, err);
}

int phy_vm_create(const struct phy_config *cfg, struct phy_vm **out,
		  struct phy_error *err)
{
	return library_vm_create(cfg, NULL, out, err);
}

static int create_with_hooks(void *ctx, const struct phy_config *cfg,
			     struct phy_vm **out, struct phy_error *err)
{
	return library_vm_create(cfg, ctx, out, err);
}

int library_vmm_create(const struct phy_config *cfg,
		       const struct vm_test_hooks *test_hooks,
		       const struct phy_vmm_hooks *hooks, struct phy_vmm **out,
		       struct phy_error *err)
{
	const struct vmm_factory factory = {
		.create = create_with_hooks,
		.ctx = (void *)test_hooks,
	};
	return vmm_control_create(cfg, hooks, &factory, out, err);
}

int phy_vmm_create(const struct phy_config *cfg,
		   const struct phy_vmm_hooks *hooks, struct phy_vmm **out,
		   struct phy_error *err)
{
	return library_vmm_create(cfg, NULL, hooks, out, err);
}
