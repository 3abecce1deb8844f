/* SPDX-License-Identifier: Apache-2.0 */
/* A VM's configuration as Cloud Hypervisor's VmConfig (vm.info's "config"),
 * for the subset of fields we have. */
#ifndef PHY_API_VM_CONFIG_JSON_H
#define PHY_API_VM_CONFIG_JSON_H

#include <stddef.h>

#include "api/json.h"
#include "vmm/config/config.h"

/* The JSON object, e.g. {"cpus":{"boot_vcpus":2,"max_vcpus":2},...}. */
void vm_config_json(struct json_buf *b, const struct phy_config *cfg);

/* Disk i's identifier: its id= if given, else Cloud Hypervisor's
 * default "_disk<i>". The vm.counters key. */
void vm_disk_id(const struct phy_config *cfg, unsigned i, char *buf,
		size_t size);
/* A NIC's id: --net id=..., or Cloud Hypervisor's default "_net<i>". */
void vm_net_id(const struct phy_config *cfg, unsigned i, char *buf,
	       size_t size);

#endif
