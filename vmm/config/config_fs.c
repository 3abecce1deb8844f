// SPDX-License-Identifier: Apache-2.0
#include "vmm/config/config_fs.h"

#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "common/error.h"
#include "vmm/config/config.h"
#include "vmm/config/parse.h"

static int fs_tag(struct fs_config *c, const char *val, struct phy_error *err)
{
	if (c->tag[0])
		return phy_err(err, PHY_E_INVALID, "--fs: tag= given twice");
	if (!val[0] || strlen(val) > VIRTIO_FS_TAG_LEN)
		return phy_err(err, PHY_E_INVALID,
			       "--fs: tag=%s must be 1 to %d bytes", val,
			       VIRTIO_FS_TAG_LEN);
	strcpy(c->tag, val);
	return 0;
}

static int fs_kv(void *target, const char *opt, const char *key,
		 const char *val, struct phy_error *err)
{
	struct fs_config *c = target;
	if (!strcmp(key, "tag"))
		return fs_tag(c, val, err);
	if (!strcmp(key, "socket")) {
		if (c->socket)
			return phy_err(err, PHY_E_INVALID, "--fs: socket= given twice");
		if (strlen(val) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return phy_err(err, PHY_E_INVALID,
				       "--fs: socket=%s is too long for a Unix socket", val);
		return parse_path(opt, key, val, &c->socket, err);
	}
	if (!strcmp(key, "num_queues"))
		return parse_num_queues(opt, val, 1, VIRTIO_FS_MAX_REQUEST_QUEUES,
					false, &c->num_queues, err);
	if (!strcmp(key, "queue_size"))
		return parse_queue_size(opt, val, 1024, &c->queue_size, err);
	if (!strcmp(key, "id"))
		return parse_id(opt, val, CONFIG_FS_ID_LEN, c->id, err);
	if (!strcmp(key, "pci_segment") && !strcmp(val, "0"))
		return 0;
	return phy_err(err, PHY_E_INVALID,
		       "--%s: unknown key '%s' (known: tag, socket, num_queues, "
		       "queue_size, id, pci_segment=0)", opt, key);
}

static int fs_parse(void *conf, const char *value, unsigned index,
		    struct phy_error *err)
{
	struct fs_config *c = conf;
	(void)index;
	c->num_queues = 1;
	c->queue_size = CONFIG_FS_QUEUE_SIZE;
	int ret = parse_kv_list(c, "fs", value, fs_kv, err);
	if (!ret && !c->tag[0])
		ret = phy_err(err, PHY_E_INVALID, "--fs: tag= is required");
	if (!ret && !c->socket)
		ret = phy_err(err, PHY_E_INVALID, "--fs: socket= is required");
	return ret;
}

/* The back end maps guest RAM: it must be a memfd. Tags tell the guest's
 * mounts apart: no two alike. */
static int fs_validate(const struct phy_config *cfg, struct phy_error *err)
{
	unsigned n = config_count(cfg, &fs_option);
	for (unsigned i = 0; i < n; i++) {
		const struct fs_config *c = config_item(cfg, &fs_option, i);
		if (!cfg->memory_shared)
			return phy_err(err, PHY_E_INVALID,
				       "--fs: tag=%s needs --memory shared=on (the "
				       "vhost-user back end maps guest memory)", c->tag);
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(c->tag, ((const struct fs_config *)
					     config_item(cfg, &fs_option, j))->tag))
				return phy_err(err, PHY_E_INVALID,
					       "--fs: tag=%s given twice", c->tag);
	}
	return 0;
}

static int fs_copy(void *conf)
{
	struct fs_config *c = conf;
	c->socket = strdup(c->socket);
	return c->socket ? 0 : -1;
}

static void fs_release(void *conf)
{
	struct fs_config *c = conf;
	free(c->socket);
	c->socket = NULL;
}

const struct device_option fs_option = {
	.name = "fs",
	.noun = "virtio-fs device",
	.nouns = "virtio-fs devices",
	.max = CONFIG_FS_MAX,
	.conf_size = sizeof(struct fs_config),
	.parse = fs_parse,
	.validate = fs_validate,
	.copy = fs_copy,
	.release = fs_release,
};
