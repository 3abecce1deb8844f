/* SPDX-License-Identifier: Apache-2.0 */
/* --rng src=PATH[,iommu=off] | off: the virtio-rng device, on by default
 * with src=/dev/urandom, as Cloud Hypervisor has it. */
#ifndef PHY_VMM_CONFIG_CONFIG_RNG_H
#define PHY_VMM_CONFIG_CONFIG_RNG_H

#include "vmm/config/option.h"

#define CONFIG_RNG_DEFAULT_SRC "/dev/urandom"

struct rng_config {
	char *src; /* the entropy source the device reads */
};

extern const struct device_option rng_option;

#endif
