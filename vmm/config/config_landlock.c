// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include "vmm/config/config_landlock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error.h"
#include "common/landlock.h"
#include "vmm/config/options.h"
#include "vmm/config/parse.h"

int config_set_landlock(struct phy_config *cfg, const char *value,
			struct phy_error *err)
{
	/* The CLI gives a bare --landlock as "". */
	if (!*value) {
		cfg->landlock = true;
		return 0;
	}
	if (parse_switch(value, &cfg->landlock))
		return phy_err(err, PHY_E_INVALID,
			       "--landlock: '%s' is not on or off (or nothing)", value);
	return 0;
}

/* "r", "w" or "rw", each letter once. */
static int parse_access(const char *val, unsigned *out, struct phy_error *err)
{
	unsigned a = 0;
	for (const char *c = val; *c; c++) {
		unsigned bit = *c == 'r' ? LANDLOCK_R : *c == 'w' ? LANDLOCK_W : 0;
		if (!bit || (a & bit))
			return phy_err(err, PHY_E_INVALID,
				       "--landlock-rules: access=%s is not r, w or rw", val);
		a |= bit;
	}
	if (!a)
		return phy_err(err, PHY_E_INVALID,
			       "--landlock-rules: access= needs r, w or rw");
	*out = a;
	return 0;
}

static int rule_kv(void *target, const char *opt, const char *key,
		   const char *val, struct phy_error *err)
{
	struct landlock_rule_config *r = target;
	if (!strcmp(key, "path"))
		return parse_path(opt, key, val, &r->path, err);
	if (!strcmp(key, "access"))
		return parse_access(val, &r->access, err);
	return phy_err(err, PHY_E_INVALID, "--%s: unknown key '%s' (known: path, access)",
		       opt, key);
}

static int rule_parse(void *conf, const char *value, unsigned index,
		      struct phy_error *err)
{
	struct landlock_rule_config *r = conf;
	struct stat st;
	int ret = parse_kv_list(r, "landlock-rules", value, rule_kv, err);
	if (!ret && !r->path)
		ret = phy_err(err, PHY_E_INVALID, "--landlock-rules: path= is required");
	if (!ret && !r->access)
		ret = phy_err(err, PHY_E_INVALID, "--landlock-rules: access= is required");
	/* Landlock needs the file to exist when the rule is made. */
	if (!ret && stat(r->path, &st))
		ret = phy_err_errno(err, PHY_E_INVALID, errno,
				    "--landlock-rules: path=%s", r->path);
	return ret;
}

static int rule_copy(void *conf)
{
	struct landlock_rule_config *r = conf;
	r->path = strdup(r->path);
	return r->path ? 0 : -1;
}

static void rule_release(void *conf)
{
	struct landlock_rule_config *r = conf;
	free(r->path);
	r->path = NULL;
}

const struct device_option landlock_rule_option = {
	.name = "landlock-rules",
	.noun = "Landlock rule",
	.nouns = "Landlock rules",
	.max = CONFIG_MAX_LANDLOCK_RULES,
	.conf_size = sizeof(struct landlock_rule_config),
	.parse = rule_parse,
	.copy = rule_copy,
	.release = rule_release,
};

static bool has_rule(const struct phy_config *cfg,
		     const struct landlock_rule_config *r)
{
	const struct landlock_rule_config *o;
	for (unsigned i = 0; (o = config_item(cfg, &landlock_rule_option, i)); i++)
		if (o->access == r->access && !strcmp(o->path, r->path))
			return true;
	return false;
}

int config_add_landlock(struct phy_config *dst, const struct phy_config *src,
			struct phy_error *err)
{
	dst->landlock |= src->landlock;
	if (src->landlock_socket && !dst->landlock_socket &&
	    !(dst->landlock_socket = strdup(src->landlock_socket)))
		return phy_err(err, PHY_E_NOMEM, "--landlock: out of memory");
	const struct landlock_rule_config *r;
	int ret = 0;
	for (unsigned i = 0; !ret && (r = config_item(src, &landlock_rule_option, i)); i++) {
		if (has_rule(dst, r))
			continue;
		char *v = NULL;
		if (asprintf(&v, "path=%s,access=%s%s", r->path,
			     (r->access & LANDLOCK_R) ? "r" : "",
			     (r->access & LANDLOCK_W) ? "w" : "") < 0)
			return phy_err(err, PHY_E_NOMEM, "--landlock-rules: out of memory");
		ret = config_add_device(dst, &landlock_rule_option, v, false, err);
		free(v);
	}
	return ret;
}
