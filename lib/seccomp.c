// SPDX-License-Identifier: Apache-2.0
/* The public face of common/sandbox.c. */
#include <phyllome/vmm.h>

#include "common/error.h"
#include "common/sandbox.h"
#include "vmm/config/config.h"

int phy_config_set_seccomp(struct phy_config *cfg, enum phy_seccomp mode,
			   struct phy_error *err)
{
	static const char *const words[] = { "false", "true", "log" };
	if ((unsigned)mode > PHY_SECCOMP_LOG)
		return phy_err(err, PHY_E_INVALID, "--seccomp: %d is not a mode",
			       (int)mode);
	return phy_config_set(cfg, "seccomp", words[mode], err);
}

int phy_seccomp_install_reporter(void)
{
	return sandbox_install_reporter();
}

void phy_seccomp_enter_thread(const struct phy_config *cfg)
{
	if (cfg)
		sandbox_enter(cfg->seccomp, SANDBOX_VMM);
}
