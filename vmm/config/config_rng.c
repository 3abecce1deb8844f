// SPDX-License-Identifier: Apache-2.0
#include "vmm/config/config_rng.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "vmm/config/parse.h"

static int rng_kv(void *target, const char *opt, const char *key,
		  const char *val, struct phy_error *err)
{
	struct rng_config *r = target;
	if (!strcmp(key, "src")) {
		if (r->src)
			return phy_err(err, PHY_E_INVALID, "--rng: src= given twice");
		return parse_path(opt, key, val, &r->src, err);
	}
	if (!strcmp(key, "iommu")) {
		/* Cloud Hypervisor's key; there is no virtual IOMMU here. */
		bool on;
		int ret = parse_switch_key(opt, key, val, &on, err);
		if (!ret && on)
			ret = phy_err(err, PHY_E_INVALID,
				      "--rng: iommu=on is not supported (no virtual IOMMU)");
		return ret;
	}
	return phy_err(err, PHY_E_INVALID, "--%s: unknown key '%s' (known: src, iommu)",
		       opt, key);
}

static int rng_parse(void *conf, const char *value, unsigned index,
		     struct phy_error *err)
{
	struct rng_config *r = conf;
	int ret = parse_kv_list(r, "rng", value, rng_kv, err);
	if (!ret && !r->src)
		ret = phy_err(err, PHY_E_INVALID, "--rng: src= is required (or --rng off)");
	return ret;
}

static int rng_copy(void *conf)
{
	struct rng_config *r = conf;
	r->src = strdup(r->src);
	return r->src ? 0 : -1;
}

static void rng_release(void *conf)
{
	struct rng_config *r = conf;
	free(r->src);
	r->src = NULL;
}

const struct device_option rng_option = {
	.name = "rng",
	.noun = "entropy device",
	.nouns = "entropy devices",
	.max = 1,
	.default_value = "src=" CONFIG_RNG_DEFAULT_SRC,
	.can_be_off = true,
	.conf_size = sizeof(struct rng_config),
	.parse = rng_parse,
	.copy = rng_copy,
	.release = rng_release,
};
