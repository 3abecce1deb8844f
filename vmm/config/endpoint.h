/* SPDX-License-Identifier: Apache-2.0 */
/* --api-socket and --event-monitor: a path, or a descriptor the caller
 * passed (Cloud Hypervisor's path=|fd=, which libvirt uses). */
#ifndef PHY_VMM_CONFIG_ENDPOINT_H
#define PHY_VMM_CONFIG_ENDPOINT_H

#include "common/error.h"

enum endpoint_kind {
	ENDPOINT_UNIX_STREAM, /* fd= must be an AF_UNIX SOCK_STREAM socket */
	ENDPOINT_WRITABLE,    /* fd= must be open for writing */
};

/*
 * Parses "path=PATH", "fd=N" or a bare PATH into *path or *fd (the other
 * becomes NULL or -1). A descriptor must be open and of the kind asked for;
 * it gets FD_CLOEXEC and stays the caller's (the VM uses a duplicate).
 * On error nothing changes.
 */
int config_set_endpoint(char **path, int *fd, const char *opt,
			const char *value, enum endpoint_kind kind,
			struct phy_error *err);

#endif
