// SPDX-License-Identifier: Apache-2.0
#include "vmm/config/config_balloon.h"

#include <string.h>

#include "common/error.h"
#include "vmm/config/config.h"
#include "vmm/config/parse.h"

static int balloon_kv(void *target, const char *opt, const char *key,
		      const char *val, struct phy_error *err)
{
	struct balloon_config *b = target;
	if (!strcmp(key, "size")) {
		if (config_parse_size(val, &b->size) || b->size % 4096)
			return phy_err(err, PHY_E_INVALID,
				       "--balloon: size=%s is not a size in 4 KiB pages (e.g. 256M, 0)",
				       val);
		b->size_given = true;
		return 0;
	}
	if (!strcmp(key, "deflate_on_oom"))
		return parse_switch_key(opt, key, val, &b->deflate_on_oom, err);
	if (!strcmp(key, "free_page_reporting"))
		return parse_switch_key(opt, key, val, &b->free_page_reporting, err);
	return phy_err(err, PHY_E_INVALID,
		       "--%s: unknown key '%s' (known: size, deflate_on_oom, free_page_reporting)",
		       opt, key);
}

static int balloon_parse(void *conf, const char *value, unsigned index,
			 struct phy_error *err)
{
	struct balloon_config *b = conf;
	(void)index;
	int ret = parse_kv_list(b, "balloon", value, balloon_kv, err);
	if (!ret && !b->size_given)
		ret = phy_err(err, PHY_E_INVALID, "--balloon: size= is required");
	return ret;
}

/* Not above the VM's memory, whichever option came first. */
static int balloon_validate(const struct phy_config *cfg, struct phy_error *err)
{
	const struct balloon_config *b = config_item(cfg, &balloon_option, 0);
	if (b && b->size > cfg->memory)
		return phy_err(err, PHY_E_INVALID,
			       "--balloon: size=%llu is more than the VM's memory (%llu)",
			       (unsigned long long)b->size, (unsigned long long)cfg->memory);
	return 0;
}

const struct device_option balloon_option = {
	.name = "balloon",
	.noun = "balloon",
	.nouns = "balloons",
	.max = 1,
	.conf_size = sizeof(struct balloon_config),
	.parse = balloon_parse,
	.validate = balloon_validate,
};

void config_balloon_set_size(struct phy_config *cfg, uint64_t size)
{
	for (unsigned i = 0; i < cfg->nr_items; i++)
		if (cfg->items[i].opt == &balloon_option)
			((struct balloon_config *)cfg->items[i].conf)->size = size;
}
