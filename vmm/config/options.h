/* SPDX-License-Identifier: Apache-2.0 */
/* The option table's interface to the rest of the configuration code. */
#ifndef PHY_VMM_CONFIG_OPTIONS_H
#define PHY_VMM_CONFIG_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "vmm/config/config.h"

struct device_option;

/* Row i of the option table (i < the count phy_config_options() gives)
 * when it is a device's option; NULL for the machine's own options. */
const struct device_option *config_device_option(size_t i);

/* Adds what opt makes of value (or, for "off", removes opt's items). */
int config_add_device(struct phy_config *cfg, const struct device_option *opt,
		      const char *value, bool is_default, struct phy_error *err);

/* Removes item i (releasing what it owns), keeping the others in order. */
void config_drop_item(struct phy_config *cfg, unsigned i);

/* phy_config_validate(); boot_given: the VM boots something other than
 * --kernel (a test payload), so no kernel is needed. */
int config_validate(const struct phy_config *cfg, bool boot_given,
		    struct phy_error *err);

#endif
