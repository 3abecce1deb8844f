// SPDX-License-Identifier: Apache-2.0
#include "vmm/config/parse.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

int config_parse_size(const char *s, uint64_t *out)
{
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	unsigned shift = 0;
	switch (toupper((unsigned char)*end)) {
	case '\0': break;
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	default: return -1;
	}
	if (*end) {
		end++;
		/* Accept "512M", "512MB", "512MiB". */
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'b' || *end == 'B')
			end++;
		if (*end)
			return -1;
	}
	if (shift && v > (ULLONG_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

/* The comma that ends the item at tok, or NULL. A value that starts
 * with '[' is a list ("fd=[3,4]", Cloud Hypervisor's form): its commas
 * up to the matching ']' belong to it; without one it runs to the end,
 * for the key's own parser to refuse. */
static char *item_end(char *tok)
{
	char *p = tok + strcspn(tok, ",=");
	if (*p != '=' || p[1] != '[')
		return strchr(tok, ',');
	unsigned depth = 0;
	for (p++; *p; p++) {
		if (*p == '[')
			depth++;
		else if (*p == ']' && --depth == 0)
			return strchr(p, ',');
	}
	return NULL;
}

int parse_kv_list(void *target, const char *opt, const char *value,
		  kv_fn fn, struct phy_error *err)
{
	char *copy = strdup(value);
	if (!copy)
		return phy_err(err, PHY_E_NOMEM, "--%s: out of memory", opt);
	int ret = 0;
	/* Empty items ("a=1,,b=2") are mistakes, so no strtok here. */
	for (char *tok = copy, *next; tok && !ret; tok = next) {
		next = item_end(tok);
		if (next)
			*next++ = '\0';
		char *eq = strchr(tok, '=');
		if (!eq || eq == tok) {
			ret = phy_err(err, PHY_E_INVALID,
				      "--%s: expected key=value, got '%s'", opt, tok);
			break;
		}
		*eq = '\0';
		ret = fn(target, opt, tok, eq + 1, err);
	}
	if (!ret && !strchr(value, '='))
		ret = phy_err(err, PHY_E_INVALID,
			      "--%s: expected key=value, got '%s'", opt, value);
	free(copy);
	return ret;
}

int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

int parse_switch(const char *val, bool *out)
{
	if (!strcmp(val, "on") || !strcmp(val, "true")) {
		*out = true;
		return 0;
	}
	if (!strcmp(val, "off") || !strcmp(val, "false")) {
		*out = false;
		return 0;
	}
	return -1;
}

int parse_switch_key(const char *opt, const char *key, const char *val,
		     bool *out, struct phy_error *err)
{
	if (parse_switch(val, out))
		return phy_err(err, PHY_E_INVALID, "--%s: %s=%s is not on or off",
			       opt, key, val);
	return 0;
}

int parse_num_queues(const char *opt, const char *val, unsigned lo,
		     unsigned hi, bool even, unsigned *out,
		     struct phy_error *err)
{
	unsigned long n;
	if (parse_uint(val, ULONG_MAX, &n) || n < lo || n > hi || (even && n % 2))
		return phy_err(err, PHY_E_INVALID,
			       "--%s: num_queues=%s is not %s from %u to %u", opt,
			       val, even ? "an even number" : "a number", lo, hi);
	*out = (unsigned)n;
	return 0;
}

int parse_queue_size(const char *opt, const char *val, unsigned max,
		     unsigned *out, struct phy_error *err)
{
	unsigned long n;
	if (parse_uint(val, ULONG_MAX, &n) || n < 2 || n > max || (n & (n - 1)))
		return phy_err(err, PHY_E_INVALID,
			       "--%s: queue_size=%s is not a power of two from 2 to %u",
			       opt, val, max);
	*out = (unsigned)n;
	return 0;
}

int parse_id(const char *opt, const char *val, size_t max, char *buf,
	     struct phy_error *err)
{
	size_t len = strlen(val);
	bool ok = len > 0 && len <= max;
	for (size_t i = 0; ok && i < len; i++)
		ok = isgraph((unsigned char)val[i]);
	if (!ok)
		return phy_err(err, PHY_E_INVALID,
			       "--%s: id=%s must be 1 to %zu printable characters",
			       opt, val, max);
	memcpy(buf, val, len + 1);
	return 0;
}

int parse_path(const char *opt, const char *key, const char *val, char **out,
	       struct phy_error *err)
{
	if (!*val)
		return phy_err(err, PHY_E_INVALID, "--%s: %s= needs a path", opt, key);
	char *d = strdup(val);
	if (!d)
		return phy_err(err, PHY_E_NOMEM, "--%s: out of memory", opt);
	free(*out);
	*out = d;
	return 0;
}
