/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --landlock: the Landlock ruleset of one VM, made from its configuration
 * (the files and directories it uses, and --landlock-rules), which every
 * thread the VM starts restricts itself to (common/thread.h).
 */
#ifndef PHY_VMM_VM_LANDLOCK_H
#define PHY_VMM_VM_LANDLOCK_H

#include "common/landlock.h"
#include "vmm/config/config.h"

/* Fills rs from cfg (rs->fd -1 when cfg has no --landlock); `abi` is
 * landlock_abi()'s answer. */
int vm_landlock_ruleset(const struct phy_config *cfg, int abi,
			struct landlock_ruleset *rs, struct phy_error *err);

#endif
