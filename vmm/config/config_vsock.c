// SPDX-License-Identifier: Apache-2.0
#include "vmm/config/config_vsock.h"

#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "common/error.h"
#include "devices/virtio/virtio_vsock.h"
#include "vmm/config/parse.h"

/* Cloud Hypervisor's keys without a meaning here: accepted at their
 * only value. */
static int vsock_fixed(const char *key, const char *val, struct phy_error *err)
{
	if (!strcmp(key, "iommu")) {
		bool on;
		int ret = parse_switch_key("vsock", key, val, &on, err);
		if (!ret && on)
			ret = phy_err(err, PHY_E_INVALID,
				      "--vsock: iommu=on is not supported (no virtual IOMMU)");
		return ret;
	}
	if (strcmp(val, "0"))
		return phy_err(err, PHY_E_INVALID,
			       "--vsock: pci_segment=%s: there is only segment 0", val);
	return 0;
}

static int vsock_kv(void *target, const char *opt, const char *key,
		    const char *val, struct phy_error *err)
{
	struct vsock_config *c = target;
	if (!strcmp(key, "cid")) {
		unsigned long cid;
		if (parse_uint(val, VIRTIO_VSOCK_MAX_CID, &cid) ||
		    cid <= VIRTIO_VSOCK_HOST_CID)
			return phy_err(err, PHY_E_INVALID,
				       "--vsock: cid=%s is reserved or not a number (3 to %llu)",
				       val, VIRTIO_VSOCK_MAX_CID);
		c->cid = cid;
		return 0;
	}
	if (!strcmp(key, "socket")) {
		if (c->socket)
			return phy_err(err, PHY_E_INVALID, "--vsock: socket= given twice");
		/* PATH_P must fit a Unix address too: room for "_4294967295". */
		if (strlen(val) + 11 >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return phy_err(err, PHY_E_INVALID,
				       "--vsock: socket=%s is too long for a Unix socket "
				       "(at most %zu bytes)", val,
				       sizeof(((struct sockaddr_un *)0)->sun_path) - 12);
		return parse_path(opt, key, val, &c->socket, err);
	}
	if (!strcmp(key, "id"))
		return parse_id(opt, val, CONFIG_VSOCK_ID_LEN, c->id, err);
	if (!strcmp(key, "iommu") || !strcmp(key, "pci_segment"))
		return vsock_fixed(key, val, err);
	return phy_err(err, PHY_E_INVALID,
		       "--%s: unknown key '%s' (known: cid, socket, id, iommu, pci_segment)",
		       opt, key);
}

static int vsock_parse(void *conf, const char *value, unsigned index,
		       struct phy_error *err)
{
	struct vsock_config *c = conf;
	(void)index;
	int ret = parse_kv_list(c, "vsock", value, vsock_kv, err);
	if (!ret && !c->cid)
		ret = phy_err(err, PHY_E_INVALID, "--vsock: cid= is required");
	if (!ret && !c->socket)
		ret = phy_err(err, PHY_E_INVALID, "--vsock: socket= is required");
	return ret;
}

static int vsock_copy(void *conf)
{
	struct vsock_config *c = conf;
	c->socket = strdup(c->socket);
	return c->socket ? 0 : -1;
}

static void vsock_release(void *conf)
{
	struct vsock_config *c = conf;
	free(c->socket);
	c->socket = NULL;
}

const struct device_option vsock_option = {
	.name = "vsock",
	.noun = "vsock device",
	.nouns = "vsock devices",
	.max = 1,
	.conf_size = sizeof(struct vsock_config),
	.parse = vsock_parse,
	.copy = vsock_copy,
	.release = vsock_release,
};
