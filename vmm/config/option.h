/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A device's command-line option (--disk, --net, --gpu, --rng): how its
 * value is parsed into the device's own configuration struct, how many
 * the VM may have, and its default. The option table (config.c) names it
 * once; the device table (vmm/machine/device_table.c) turns each item it
 * made into a device.
 */
#ifndef PHY_VMM_CONFIG_OPTION_H
#define PHY_VMM_CONFIG_OPTION_H

#include <stdbool.h>
#include <stddef.h>

#include "vmm/config/config.h"

struct device_option {
	const char *name;  /* without the dashes: "disk" */
	const char *noun;  /* for messages: "disk", "GPU" */
	const char *nouns; /* "disks", "GPUs" */
	/* Items at most. With 1, giving the option again is an error,
	 * unless the item there is the default, which it replaces. */
	unsigned max;
	/* Given by phy_config_new(); NULL: none. */
	const char *default_value;
	/* "off" removes every item of this option (e.g. the default). */
	bool can_be_off;
	size_t conf_size;
	/*
	 * Fills conf (zeroed) from value; `index` is how many items of this
	 * option exist already. Errors name --name. May allocate what
	 * release() frees, also on failure.
	 */
	int (*parse)(void *conf, const char *value, unsigned index,
		     struct phy_error *err);
	/* Checks across the configuration at phy_config_validate(); optional. */
	int (*validate)(const struct phy_config *cfg, struct phy_error *err);
	/* After a byte copy: duplicates what conf owns; -1 when out of
	 * memory (the copy is then released). Optional. */
	int (*copy)(void *conf);
	/* Frees what conf owns (not conf itself); optional. */
	void (*release)(void *conf);
};

#endif
