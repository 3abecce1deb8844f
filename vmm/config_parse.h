/* SPDX-License-Identifier: Apache-2.0 */
/* The key=value parsing that the option parsers (config*.c) share. */
#ifndef PHY_VMM_CONFIG_PARSE_H
#define PHY_VMM_CONFIG_PARSE_H

#include <stdbool.h>

#include "vmm/config.h"

/*
 * Walks "k1=v1,k2=v2": calls fn for each pair. Unknown keys and missing
 * values are errors naming the option and the key.
 */
typedef int (*kv_fn)(void *target, const char *opt, const char *key,
		     const char *val, struct phy_error *err);

/* The handlers write into `target`, a scratch copy the caller keeps only
 * on success, so a bad item later in the list changes nothing. */
int parse_kv_list(void *target, const char *opt, const char *value,
		  kv_fn fn, struct phy_error *err);

/* A decimal number up to max; returns 0 or -1. */
int parse_uint(const char *s, unsigned long max, unsigned long *out);

/* on/true or off/false; returns 0 or -1. */
int parse_switch(const char *val, bool *out);

/* --net (config_net.c): adds one NIC; checks across NICs at validation. */
int config_add_net(struct phy_config *cfg, const char *value,
		   struct phy_error *err);
int config_validate_nets(const struct phy_config *cfg, struct phy_error *err);

/* --gpu and --display (config_gpu.c). */
int config_set_gpu(struct phy_config *cfg, const char *value,
		   struct phy_error *err);
int config_set_display(struct phy_config *cfg, const char *value,
		       struct phy_error *err);
int config_validate_gpu(const struct phy_config *cfg, struct phy_error *err);

#endif
