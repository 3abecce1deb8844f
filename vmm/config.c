/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Option parsing with Cloud Hypervisor's syntax: each option's value is a
 * comma-separated list of key=value pairs ("boot=4", "size=1G"), or a plain
 * word where Cloud Hypervisor takes one ("--serial tty"). Every error names
 * the option.
 */
#define _GNU_SOURCE
#include "vmm/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/layout.h"
#include "common/error.h"

static const struct phy_option_info options[] = {
	{ "kernel", "PATH", "Linux kernel: bzImage or ELF vmlinux with a PVH note" },
	{ "initramfs", "PATH", "initial ramdisk loaded next to the kernel" },
	{ "cmdline", "STRING", "kernel command line (default: \"" CONFIG_DEFAULT_CMDLINE "\")" },
	{ "cpus", "boot=N", "number of vCPUs (default 1, at most 255)" },
	{ "memory", "size=SIZE", "guest RAM, e.g. 512M or 4G (default 512M)" },
	{ "serial", "tty|off|null|file=PATH", "where COM1 goes (default tty)" },
	{ "console", "off", "virtio console (not implemented yet: only 'off')" },
};

const struct phy_option_info *phy_config_options(size_t *count)
{
	if (count)
		*count = sizeof(options) / sizeof(options[0]);
	return options;
}

struct phy_config *phy_config_new(void)
{
	struct phy_config *cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return NULL;
	cfg->cpus = CONFIG_DEFAULT_CPUS;
	cfg->memory = CONFIG_DEFAULT_MEMORY;
	cfg->serial = SERIAL_TTY;
	return cfg;
}

void config_release(struct phy_config *cfg)
{
	free(cfg->kernel);
	free(cfg->initramfs);
	free(cfg->cmdline);
	free(cfg->serial_path);
	memset(cfg, 0, sizeof(*cfg));
}

void phy_config_free(struct phy_config *cfg)
{
	if (!cfg)
		return;
	config_release(cfg);
	free(cfg);
}

static int dup_opt(char **s, const char *v)
{
	char *d = strdup(v);
	if (!d)
		return -1;
	free(*s);
	*s = d;
	return 0;
}

int config_copy(struct phy_config *dst, const struct phy_config *src)
{
	*dst = *src;
	dst->kernel = dst->initramfs = dst->cmdline = dst->serial_path = NULL;
	if ((src->kernel && dup_opt(&dst->kernel, src->kernel)) ||
	    (src->initramfs && dup_opt(&dst->initramfs, src->initramfs)) ||
	    (src->cmdline && dup_opt(&dst->cmdline, src->cmdline)) ||
	    (src->serial_path && dup_opt(&dst->serial_path, src->serial_path))) {
		config_release(dst);
		return -1;
	}
	return 0;
}

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

/*
 * Walks "k1=v1,k2=v2": calls fn for each pair. Unknown keys and missing
 * values are errors naming the option and the key.
 */
typedef int (*kv_fn)(struct phy_config *cfg, const char *opt, const char *key,
		     const char *val, struct phy_error *err);

static int parse_kv_list(struct phy_config *cfg, const char *opt,
			 const char *value, kv_fn fn, struct phy_error *err)
{
	char *copy = strdup(value);
	if (!copy)
		return phy_err(err, PHY_E_NOMEM, "--%s: out of memory", opt);
	int ret = 0;
	/* Applied to a scratch copy (the kv handlers only set scalars), so a
	 * bad item later in the list leaves the config untouched. */
	struct phy_config scratch = *cfg;
	/* Empty items ("a=1,,b=2") are mistakes, so no strtok here. */
	for (char *tok = copy, *next; tok && !ret; tok = next) {
		next = strchr(tok, ',');
		if (next)
			*next++ = '\0';
		char *eq = strchr(tok, '=');
		if (!eq || eq == tok) {
			ret = phy_err(err, PHY_E_INVALID,
				      "--%s: expected key=value, got '%s'", opt, tok);
			break;
		}
		*eq = '\0';
		ret = fn(&scratch, opt, tok, eq + 1, err);
	}
	if (!ret && !strchr(value, '='))
		ret = phy_err(err, PHY_E_INVALID,
			      "--%s: expected key=value, got '%s'", opt, value);
	if (!ret)
		*cfg = scratch;
	free(copy);
	return ret;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
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

static int cpus_kv(struct phy_config *cfg, const char *opt, const char *key,
		   const char *val, struct phy_error *err)
{
	unsigned long n;
	if (!strcmp(key, "boot")) {
		if (parse_uint(val, ULONG_MAX, &n) || n == 0 || n > X86_MAX_VCPUS)
			return phy_err(err, PHY_E_INVALID,
				       "--cpus: boot=%s is not a number from 1 to %d",
				       val, X86_MAX_VCPUS);
		cfg->cpus = (unsigned)n;
		return 0;
	}
	if (!strcmp(key, "max")) {
		if (parse_uint(val, ULONG_MAX, &n) || n == 0 || n > X86_MAX_VCPUS)
			return phy_err(err, PHY_E_INVALID,
				       "--cpus: max=%s is not a number from 1 to %d",
				       val, X86_MAX_VCPUS);
		/* CPU hotplug is not implemented: max only has to cover boot. */
		return 0;
	}
	return phy_err(err, PHY_E_INVALID, "--%s: unknown key '%s' (known: boot, max)",
		       opt, key);
}

static int memory_kv(struct phy_config *cfg, const char *opt, const char *key,
		     const char *val, struct phy_error *err)
{
	if (strcmp(key, "size"))
		return phy_err(err, PHY_E_INVALID,
			       "--%s: unknown key '%s' (known: size)", opt, key);
	uint64_t sz;
	if (config_parse_size(val, &sz))
		return phy_err(err, PHY_E_INVALID,
			       "--memory: size=%s is not a size (e.g. 512M, 4G)", val);
	if (sz < CONFIG_MIN_MEMORY || sz > CONFIG_MAX_MEMORY)
		return phy_err(err, PHY_E_INVALID,
			       "--memory: size=%s is outside 16M..1T", val);
	if (sz & 0xfff)
		return phy_err(err, PHY_E_INVALID,
			       "--memory: size=%s is not a multiple of 4 KiB", val);
	cfg->memory = sz;
	return 0;
}

static int set_serial(struct phy_config *cfg, const char *value,
		      struct phy_error *err)
{
	if (!strcmp(value, "tty")) {
		cfg->serial = SERIAL_TTY;
	} else if (!strcmp(value, "off")) {
		cfg->serial = SERIAL_OFF;
	} else if (!strcmp(value, "null")) {
		cfg->serial = SERIAL_NULL;
	} else if (!strncmp(value, "file=", 5)) {
		if (!value[5])
			return phy_err(err, PHY_E_INVALID, "--serial: file= needs a path");
		if (dup_opt(&cfg->serial_path, value + 5))
			return phy_err(err, PHY_E_NOMEM, "--serial: out of memory");
		cfg->serial = SERIAL_FILE;
	} else {
		return phy_err(err, PHY_E_INVALID,
			       "--serial: '%s' is not one of tty, off, null, file=PATH",
			       value);
	}
	return 0;
}

static int set_path(char **dst, const char *opt, const char *value,
		    struct phy_error *err)
{
	if (!*value)
		return phy_err(err, PHY_E_INVALID, "--%s: empty path", opt);
	if (dup_opt(dst, value))
		return phy_err(err, PHY_E_NOMEM, "--%s: out of memory", opt);
	return 0;
}

int phy_config_set(struct phy_config *cfg, const char *option,
		   const char *value, struct phy_error *err)
{
	if (!cfg || !option)
		return phy_err(err, PHY_E_INVALID, "phy_config_set: NULL argument");
	if (!value)
		return phy_err(err, PHY_E_INVALID, "--%s: missing value", option);
	if (!strcmp(option, "kernel"))
		return set_path(&cfg->kernel, option, value, err);
	if (!strcmp(option, "initramfs"))
		return set_path(&cfg->initramfs, option, value, err);
	if (!strcmp(option, "cmdline")) {
		if (dup_opt(&cfg->cmdline, value))
			return phy_err(err, PHY_E_NOMEM, "--cmdline: out of memory");
		return 0;
	}
	if (!strcmp(option, "cpus"))
		return parse_kv_list(cfg, option, value, cpus_kv, err);
	if (!strcmp(option, "memory"))
		return parse_kv_list(cfg, option, value, memory_kv, err);
	if (!strcmp(option, "serial"))
		return set_serial(cfg, value, err);
	if (!strcmp(option, "console")) {
		if (strcmp(value, "off"))
			return phy_err(err, PHY_E_INVALID,
				       "--console: '%s' is not supported (only 'off': there is no virtio console yet)",
				       value);
		cfg->console_off = true;
		return 0;
	}
	return phy_err(err, PHY_E_INVALID, "unknown option '--%s'", option);
}

int phy_config_validate(const struct phy_config *cfg, struct phy_error *err)
{
	if (!cfg)
		return phy_err(err, PHY_E_INVALID, "no configuration");
	if (!cfg->kernel && cfg->payload_mode == PAYLOAD_NONE)
		return phy_err(err, PHY_E_INVALID, "--kernel: a kernel is required");
	if (cfg->initramfs && !cfg->kernel)
		return phy_err(err, PHY_E_INVALID, "--initramfs: needs --kernel");
	if (cfg->cmdline && strlen(cfg->cmdline) >= X86_CMDLINE_MAX)
		return phy_err(err, PHY_E_INVALID, "--cmdline: longer than %llu bytes",
			       (unsigned long long)X86_CMDLINE_MAX - 1);
	return 0;
}
