/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A VM's configuration as Cloud Hypervisor's VmConfig JSON (jansson):
 * what vm.create and --config read and what vm.info writes.
 *
 * Reading: every member goes through the same typed setters as the
 * command line (config_typed.c), so a JSON document and a command line get
 * the same checks. A member Cloud Hypervisor has and we do not is accepted
 * only with Cloud Hypervisor's default value (null, false, its default
 * number), so a VmConfig that another host's Cloud Hypervisor wrote with
 * every member spelled out still loads; any other value, and any member
 * neither of us knows, is refused with its path ("cpus.topology: ...").
 * Our own additions live under "phyllome", a name Cloud Hypervisor cannot
 * grow.
 */
#ifndef PHY_VMM_CONFIG_CONFIG_JSON_H
#define PHY_VMM_CONFIG_CONFIG_JSON_H

#include <stddef.h>

#include <phyllome/vmm.h>

#include "vmm/config/config.h"

/* Bodies past this are refused before parsing. */
#define CONFIG_JSON_MAX (1024 * 1024)

/*
 * Applies a whole VmConfig (vm.create, --config) to cfg, as the options
 * it spells would be, in this order: cpus, memory, payload, disks, net,
 * rng, serial, console, phyllome. `what` names the source in messages
 * ("vm.create", "--config"). On failure cfg may hold part of the document.
 */
int config_json_apply(struct phy_config *cfg, const char *text, size_t len,
		      const char *what, struct phy_error *err);

/* One DiskConfig (vm.add-disk) or NetConfig (vm.add-net) added to cfg;
 * on failure cfg is as it was. fds: tap descriptors that came with the
 * request, one per queue pair (cfg keeps duplicates; the caller closes
 * its own). */
int config_json_add_disk(struct phy_config *cfg, const char *text, size_t len,
			 struct phy_error *err);
int config_json_add_net(struct phy_config *cfg, const char *text, size_t len,
			const int *fds, unsigned nr_fds, struct phy_error *err);

/* What only a running VM knows, for vm.info. */
struct config_json_runtime {
	const char *serial_file;  /* a pty's path; NULL: the configured file */
	const char *console_file;
};

/* The VmConfig (malloc'd, NUL-terminated), or NULL when out of memory. */
char *config_json_dump(const struct phy_config *cfg,
		       const struct config_json_runtime *rt);

/* Disk i's identifier: its id if given, else Cloud Hypervisor's default
 * "_disk<i>" (the vm.counters key); a NIC's likewise "_net<i>". */
void config_disk_id(const struct phy_config *cfg, unsigned i, char *buf,
		    size_t size);
void config_net_id(const struct phy_config *cfg, unsigned i, char *buf,
		   size_t size);

#endif
