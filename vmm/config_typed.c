// SPDX-License-Identifier: Apache-2.0
/*
 * Typed configuration setters. Each one spells its value the way the CLI
 * would and goes through phy_config_set(), so a program and a command line
 * get exactly the same checks and error messages.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "vmm/config.h"

int phy_config_set_kernel(struct phy_config *cfg, const char *kernel,
			  const char *initramfs, const char *cmdline,
			  struct phy_error *err)
{
	if (!cfg || !kernel)
		return phy_err(err, PHY_E_INVALID, "phy_config_set_kernel: NULL argument");
	int ret = phy_config_set(cfg, "kernel", kernel, err);
	if (!ret && initramfs)
		ret = phy_config_set(cfg, "initramfs", initramfs, err);
	if (!ret && cmdline)
		ret = phy_config_set(cfg, "cmdline", cmdline, err);
	return ret;
}

int phy_config_set_cpus(struct phy_config *cfg, unsigned cpus,
			struct phy_error *err)
{
	char v[32];
	snprintf(v, sizeof(v), "boot=%u", cpus);
	return phy_config_set(cfg, "cpus", v, err);
}

int phy_config_set_memory(struct phy_config *cfg, uint64_t bytes,
			  struct phy_error *err)
{
	char v[40];
	snprintf(v, sizeof(v), "size=%" PRIu64, bytes);
	return phy_config_set(cfg, "memory", v, err);
}

int phy_config_add_disk(struct phy_config *cfg,
			const struct phy_disk_options *d,
			struct phy_error *err)
{
	if (!cfg || !d || !d->path)
		return phy_err(err, PHY_E_INVALID, "phy_config_add_disk: NULL argument");
	/* The key=value syntax has no escaping: a comma would split the
	 * value, so say so rather than parse something else. */
	if (strchr(d->path, ',') || (d->id && strchr(d->id, ',')))
		return phy_err(err, PHY_E_INVALID,
			       "--disk: path and id may not contain ','");
	char v[4096 + 128];
	int n = snprintf(v, sizeof(v), "path=%s,readonly=%s,direct=%s", d->path,
			 d->readonly ? "on" : "off", d->direct ? "on" : "off");
	if (n >= 0 && (size_t)n < sizeof(v) && d->num_queues)
		n += snprintf(v + n, sizeof(v) - (size_t)n, ",num_queues=%u", d->num_queues);
	if (n >= 0 && (size_t)n < sizeof(v) && d->queue_size)
		n += snprintf(v + n, sizeof(v) - (size_t)n, ",queue_size=%u", d->queue_size);
	if (n >= 0 && (size_t)n < sizeof(v) && d->id)
		n += snprintf(v + n, sizeof(v) - (size_t)n, ",id=%s", d->id);
	if (n < 0 || (size_t)n >= sizeof(v))
		return phy_err(err, PHY_E_INVALID, "--disk: path is too long");
	return phy_config_set(cfg, "disk", v, err);
}
