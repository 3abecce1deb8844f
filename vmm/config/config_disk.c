// SPDX-License-Identifier: Apache-2.0
#include "vmm/config/config_disk.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "vmm/config/parse.h"

static int disk_kv(void *target, const char *opt, const char *key,
		   const char *val, struct phy_error *err)
{
	struct disk_config *d = target;

	if (!strcmp(key, "path")) {
		if (d->path)
			return phy_err(err, PHY_E_INVALID, "--disk: path= given twice");
		return parse_path(opt, key, val, &d->path, err);
	}
	if (!strcmp(key, "readonly"))
		return parse_switch_key(opt, key, val, &d->readonly, err);
	if (!strcmp(key, "direct"))
		return parse_switch_key(opt, key, val, &d->direct, err);
	if (!strcmp(key, "num_queues"))
		return parse_num_queues(opt, val, 1, CONFIG_DISK_MAX_QUEUES, false,
					&d->num_queues, err);
	if (!strcmp(key, "queue_size"))
		return parse_queue_size(opt, val, CONFIG_DISK_MAX_QUEUE_SIZE,
					&d->queue_size, err);
	if (!strcmp(key, "id"))
		return parse_id(opt, val, CONFIG_DISK_ID_LEN, d->id, err);
	return phy_err(err, PHY_E_INVALID,
		       "--%s: unknown key '%s' (known: path, readonly, direct, num_queues, queue_size, id)",
		       opt, key);
}

static int disk_parse(void *conf, const char *value, unsigned index,
		      struct phy_error *err)
{
	struct disk_config *d = conf;
	d->num_queues = 1;
	d->queue_size = CONFIG_DISK_DEFAULT_QUEUE_SIZE;
	int ret = parse_kv_list(d, "disk", value, disk_kv, err);
	if (!ret && !d->path)
		ret = phy_err(err, PHY_E_INVALID, "--disk: path= is required");
	return ret;
}

static int disk_validate(const struct phy_config *cfg, struct phy_error *err)
{
	unsigned n = config_count(cfg, &disk_option);
	for (unsigned i = 0; i < n; i++) {
		const struct disk_config *a = config_item(cfg, &disk_option, i);
		for (unsigned j = 0; j < i; j++) {
			const struct disk_config *b = config_item(cfg, &disk_option, j);
			if (!strcmp(a->path, b->path))
				return phy_err(err, PHY_E_INVALID,
					       "--disk: '%s' is given twice", a->path);
		}
	}
	return 0;
}

static int disk_copy(void *conf)
{
	struct disk_config *d = conf;
	d->path = strdup(d->path);
	return d->path ? 0 : -1;
}

static void disk_release(void *conf)
{
	struct disk_config *d = conf;
	free(d->path);
	d->path = NULL;
}

const struct device_option disk_option = {
	.name = "disk",
	.noun = "disk",
	.nouns = "disks",
	.max = CONFIG_MAX_DISKS,
	.conf_size = sizeof(struct disk_config),
	.parse = disk_parse,
	.validate = disk_validate,
	.copy = disk_copy,
	.release = disk_release,
};
