/* SPDX-License-Identifier: Apache-2.0 */
/* The key=value parsing that the option parsers share. */
#ifndef PHY_VMM_CONFIG_PARSE_H
#define PHY_VMM_CONFIG_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "vmm/config/config.h"

/*
 * Walks "k1=v1,k2=v2": calls fn for each pair. Unknown keys and missing
 * values are errors naming the option and the key. A value in brackets
 * keeps its commas: "fd=[3,4],mac=..." gives fd the value "[3,4]".
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

/* The keys several devices share, each with the same checks and messages
 * ("--disk: queue_size=3 is not a power of two from 2 to 1024"). */
/* key=on|off. */
int parse_switch_key(const char *opt, const char *key, const char *val,
		     bool *out, struct phy_error *err);
/* num_queues: from lo to hi; with `even`, even (receive + transmit). */
int parse_num_queues(const char *opt, const char *val, unsigned lo,
		     unsigned hi, bool even, unsigned *out,
		     struct phy_error *err);
/* queue_size: a power of two from 2 to max. */
int parse_queue_size(const char *opt, const char *val, unsigned max,
		     unsigned *out, struct phy_error *err);
/* id: 1 to max printable characters, copied into buf (max + 1 bytes). */
int parse_id(const char *opt, const char *val, size_t max, char *buf,
	     struct phy_error *err);
/* path: not empty; *out takes a copy (freeing what it held). */
int parse_path(const char *opt, const char *key, const char *val, char **out,
	       struct phy_error *err);

#endif
