// SPDX-License-Identifier: Apache-2.0
#include "vmm/config/config_firmware.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "vmm/config/parse.h"

static int firmware_kv(void *target, const char *opt, const char *key,
		       const char *val, struct phy_error *err)
{
	struct firmware_config *f = target;
	char **dst = !strcmp(key, "path")	   ? &f->path :
		     !strcmp(key, "vars")	   ? &f->vars :
		     !strcmp(key, "vars_template") ? &f->vars_template :
						     NULL;
	if (!dst)
		return phy_err(err, PHY_E_INVALID,
			       "--%s: unknown key '%s' (known: path, vars, "
			       "vars_template)", opt, key);
	if (*dst)
		return phy_err(err, PHY_E_INVALID, "--%s: %s= given twice", opt,
			       key);
	return parse_path(opt, key, val, dst, err);
}

static int firmware_parse(void *conf, const char *value, unsigned index,
			  struct phy_error *err)
{
	struct firmware_config *f = conf;
	if (!strchr(value, '='))
		return parse_path("firmware", "path", value, &f->path, err);
	int ret = parse_kv_list(f, "firmware", value, firmware_kv, err);
	if (!ret && !f->path)
		ret = phy_err(err, PHY_E_INVALID, "--firmware: path= is required");
	if (!ret && f->vars_template && !f->vars)
		ret = phy_err(err, PHY_E_INVALID,
			      "--firmware: vars_template= needs vars=");
	return ret;
}

const struct firmware_config *config_firmware(const struct phy_config *cfg)
{
	return config_item(cfg, &firmware_option, 0);
}

/* Direct kernel boot and firmware boot are two ways to start; QEMU would
 * hand the kernel to the firmware through fw_cfg, which OVMF's generic
 * build then boots without a boot loader: here the firmware boots what
 * is on the disks, and a kernel of its own is a user's mistake. */
static int firmware_validate(const struct phy_config *cfg,
			     struct phy_error *err)
{
	if (!config_firmware(cfg))
		return 0;
	const char *with = cfg->kernel ? "kernel" : cfg->initramfs ? "initramfs" :
				cfg->cmdline ? "cmdline" : NULL;
	if (with)
		return phy_err(err, PHY_E_INVALID,
			       "--firmware: cannot be combined with --%s (the "
			       "firmware boots the OS from its disk)", with);
	return 0;
}

static int firmware_copy(void *conf)
{
	struct firmware_config *f = conf;
	char **s[] = { &f->path, &f->vars, &f->vars_template };
	int ret = 0;
	/* After a failure the rest still point into the source: dropped, so
	 * that release() frees only copies. */
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		if (ret)
			*s[i] = NULL;
		else if (*s[i] && !(*s[i] = strdup(*s[i])))
			ret = -1;
	return ret;
}

static void firmware_release(void *conf)
{
	struct firmware_config *f = conf;
	free(f->path);
	free(f->vars);
	free(f->vars_template);
	memset(f, 0, sizeof(*f));
}

const struct device_option firmware_option = {
	.name = "firmware",
	.noun = "firmware",
	.nouns = "firmware images",
	.max = 1,
	.conf_size = sizeof(struct firmware_config),
	.parse = firmware_parse,
	.validate = firmware_validate,
	.copy = firmware_copy,
	.release = firmware_release,
};
