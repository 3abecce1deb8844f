/* SPDX-License-Identifier: Apache-2.0 */
/* --landlock and --landlock-rules path=PATH,access=[rw] (Cloud
 * Hypervisor's syntax): confine the VM to its own files and these. */
#ifndef PHY_VMM_CONFIG_CONFIG_LANDLOCK_H
#define PHY_VMM_CONFIG_CONFIG_LANDLOCK_H

#include "common/landlock.h"
#include "vmm/config/option.h"

#define CONFIG_MAX_LANDLOCK_RULES 16

struct landlock_rule_config {
	char *path;
	unsigned access; /* LANDLOCK_R | LANDLOCK_W (common/landlock.h) */
};

extern const struct device_option landlock_rule_option;

/* --landlock: a flag ("" or on/off, true/false). */
int config_set_landlock(struct phy_config *cfg, const char *value,
			struct phy_error *err);

/* Turns on src's --landlock in dst and adds src's rules that dst lacks: the
 * VMM's command line to every VM it creates, a client's VmConfig
 * included (a sandbox its client could leave out would be none). */
int config_add_landlock(struct phy_config *dst, const struct phy_config *src,
			struct phy_error *err);

#endif
