/* SPDX-License-Identifier: Apache-2.0 */
/* --balloon size=SIZE[,deflate_on_oom=on][,free_page_reporting=on]: the
 * virtio-balloon device, Cloud Hypervisor's syntax; size is the balloon
 * asked of the guest at boot (0 is fine: one to inflate later through
 * vm.resize or phy_vm_set_balloon()). One per VM. */
#ifndef PHY_VMM_CONFIG_CONFIG_BALLOON_H
#define PHY_VMM_CONFIG_CONFIG_BALLOON_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/config/option.h"

struct balloon_config {
	uint64_t size; /* bytes, at most the VM's memory */
	bool size_given;
	bool deflate_on_oom;
	bool free_page_reporting;
};

extern const struct device_option balloon_option;

struct phy_config;

/* vm.resize's desired_balloon becomes the configuration's, as in Cloud
 * Hypervisor: vm.info shows it and the next vm.boot starts with it.
 * Nothing happens to a configuration without a balloon. */
void config_balloon_set_size(struct phy_config *cfg, uint64_t size);

#endif
