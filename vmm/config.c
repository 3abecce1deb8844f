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
#include <sys/un.h>

#include "arch/x86_64/layout.h"
#include "common/error.h"
#include "vmm/config_parse.h"

static const struct phy_option_info options[] = {
	{ "kernel", "PATH", "Linux kernel: bzImage or ELF vmlinux with a PVH note" },
	{ "initramfs", "PATH", "initial ramdisk loaded next to the kernel" },
	{ "cmdline", "STRING", "kernel command line (default: \"" CONFIG_DEFAULT_CMDLINE "\")" },
	{ "cpus", "boot=N", "number of vCPUs (default 1, at most 255)" },
	{ "memory", "size=SIZE[,thp=on|off][,shared=on|off]",
	  "guest RAM, e.g. 512M or 4G (default 512M), on transparent huge pages "
	  "(default thp=on), private unless shared=on (a memfd)" },
	{ "serial", "tty|off|null|file=PATH", "where COM1 goes (default tty)" },
	{ "console", "off", "virtio console (not implemented yet: only 'off')" },
	{ "disk", "path=IMG[,readonly=on][,direct=on][,num_queues=N][,queue_size=N][,id=ID]",
	  "virtio-blk disk on a raw image or block device (repeatable, up to 16)" },
	{ "net", "tap=NAME[,mac=MAC][,ip=IP,mask=MASK][,num_queues=N][,queue_size=N][,id=ID]",
	  "virtio-net on a tap device, created when NAME is new or empty (repeatable, up to 8)" },
	{ "gpu", "mode=virgl|2d[,width=W,height=H][,outputs=N][,max_hostmem=SIZE]",
	  "virtio-gpu: 3D through virglrenderer (headless, EGL surfaceless) or 2D only" },
	{ "display", "none|sdl",
	  "sdl: a window showing the GPU's first output, with keyboard and tablet (default none)" },
	{ "screenshot-on-exit", "PATH", "write a PNG of scanout 0 when the VM stops (needs --gpu)" },
	{ "api-socket", "path=PATH|PATH",
	  "serve Cloud Hypervisor's HTTP control API on this Unix socket" },
	{ "event-monitor", "path=PATH|PATH",
	  "append lifecycle events, one JSON object per line, to this file or FIFO" },
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
	cfg->memory_thp = true;
	cfg->serial = SERIAL_TTY;
	return cfg;
}

void config_release(struct phy_config *cfg)
{
	free(cfg->kernel);
	free(cfg->initramfs);
	free(cfg->cmdline);
	free(cfg->serial_path);
	free(cfg->api_socket);
	free(cfg->event_monitor);
	free(cfg->screenshot_on_exit);
	for (unsigned i = 0; i < cfg->nr_disks; i++)
		free(cfg->disks[i].path);
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
	dst->api_socket = dst->event_monitor = dst->screenshot_on_exit = NULL;
	for (unsigned i = 0; i < src->nr_disks; i++)
		dst->disks[i].path = NULL;
	bool disks_ok = true;
	for (unsigned i = 0; i < src->nr_disks; i++)
		disks_ok &= !dup_opt(&dst->disks[i].path, src->disks[i].path);
	if (!disks_ok ||
	    (src->kernel && dup_opt(&dst->kernel, src->kernel)) ||
	    (src->initramfs && dup_opt(&dst->initramfs, src->initramfs)) ||
	    (src->cmdline && dup_opt(&dst->cmdline, src->cmdline)) ||
	    (src->serial_path && dup_opt(&dst->serial_path, src->serial_path)) ||
	    (src->api_socket && dup_opt(&dst->api_socket, src->api_socket)) ||
	    (src->event_monitor &&
	     dup_opt(&dst->event_monitor, src->event_monitor)) ||
	    (src->screenshot_on_exit &&
	     dup_opt(&dst->screenshot_on_exit, src->screenshot_on_exit))) {
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

int parse_kv_list(void *target, const char *opt, const char *value,
		  kv_fn fn, struct phy_error *err)
{
	char *copy = strdup(value);
	if (!copy)
		return phy_err(err, PHY_E_NOMEM, "--%s: out of memory", opt);
	int ret = 0;
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
		ret = fn(target, opt, tok, eq + 1, err);
	}
	if (!ret && !strchr(value, '='))
		ret = phy_err(err, PHY_E_INVALID,
			      "--%s: expected key=value, got '%s'", opt, value);
	free(copy);
	return ret;
}

/* For options whose keys set scalars of the config. */
static int parse_config_kv(struct phy_config *cfg, const char *opt,
			   const char *value, kv_fn fn, struct phy_error *err)
{
	struct phy_config scratch = *cfg;
	int ret = parse_kv_list(&scratch, opt, value, fn, err);
	if (!ret)
		*cfg = scratch;
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

static int cpus_kv(void *target, const char *opt, const char *key,
		   const char *val, struct phy_error *err)
{
	struct phy_config *cfg = target;
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

static int memory_kv(void *target, const char *opt, const char *key,
		     const char *val, struct phy_error *err)
{
	struct phy_config *cfg = target;
	if (!strcmp(key, "thp") || !strcmp(key, "shared")) {
		bool *dst = key[0] == 't' ? &cfg->memory_thp : &cfg->memory_shared;
		if (parse_switch(val, dst))
			return phy_err(err, PHY_E_INVALID,
				       "--memory: %s=%s is not on or off", key, val);
		return 0;
	}
	if (strcmp(key, "size"))
		return phy_err(err, PHY_E_INVALID,
			       "--%s: unknown key '%s' (known: size, thp, shared)",
			       opt, key);
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

/* "path=PATH", or a bare PATH (no '='), as Cloud Hypervisor takes both. */
static int set_path_option(char **dst, const char *opt, const char *value,
			   struct phy_error *err)
{
	if (!strchr(value, '='))
		return set_path(dst, opt, value, err);
	if (strncmp(value, "path=", 5))
		return phy_err(err, PHY_E_INVALID,
			       "--%s: expected path=PATH or a path, got '%s'",
			       opt, value);
	if (strchr(value + 5, ','))
		return phy_err(err, PHY_E_INVALID,
			       "--%s: only path= is known (got '%s')", opt, value);
	return set_path(dst, opt, value + 5, err);
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

static int disk_kv(void *target, const char *opt, const char *key,
		   const char *val, struct phy_error *err)
{
	struct disk_config *d = target;
	unsigned long n;

	if (!strcmp(key, "path")) {
		if (!*val)
			return phy_err(err, PHY_E_INVALID, "--disk: path= needs a file");
		if (d->path)
			return phy_err(err, PHY_E_INVALID, "--disk: path= given twice");
		d->path = strdup(val);
		if (!d->path)
			return phy_err(err, PHY_E_NOMEM, "--disk: out of memory");
		return 0;
	}
	if (!strcmp(key, "readonly") || !strcmp(key, "direct")) {
		if (parse_switch(val, !strcmp(key, "readonly") ? &d->readonly : &d->direct))
			return phy_err(err, PHY_E_INVALID, "--disk: %s=%s is not on or off", key, val);
		return 0;
	}
	if (!strcmp(key, "num_queues")) {
		if (parse_uint(val, ULONG_MAX, &n) || n == 0 || n > CONFIG_DISK_MAX_QUEUES)
			return phy_err(err, PHY_E_INVALID,
				       "--disk: num_queues=%s is not a number from 1 to %d",
				       val, CONFIG_DISK_MAX_QUEUES);
		d->num_queues = (unsigned)n;
		return 0;
	}
	if (!strcmp(key, "queue_size")) {
		if (parse_uint(val, ULONG_MAX, &n) || n < 2 ||
		    n > CONFIG_DISK_MAX_QUEUE_SIZE || (n & (n - 1)))
			return phy_err(err, PHY_E_INVALID,
				       "--disk: queue_size=%s is not a power of two from 2 to %d",
				       val, CONFIG_DISK_MAX_QUEUE_SIZE);
		d->queue_size = (unsigned)n;
		return 0;
	}
	if (!strcmp(key, "id")) {
		size_t len = strlen(val);
		if (len == 0 || len > CONFIG_DISK_ID_LEN)
			return phy_err(err, PHY_E_INVALID,
				       "--disk: id=%s must be 1 to %d characters",
				       val, CONFIG_DISK_ID_LEN);
		for (size_t i = 0; i < len; i++)
			if (!isgraph((unsigned char)val[i]))
				return phy_err(err, PHY_E_INVALID,
					       "--disk: id=%s may only hold printable characters",
					       val);
		memcpy(d->id, val, len + 1);
		return 0;
	}
	return phy_err(err, PHY_E_INVALID,
		       "--%s: unknown key '%s' (known: path, readonly, direct, num_queues, queue_size, id)",
		       opt, key);
}

static int add_disk(struct phy_config *cfg, const char *value,
		    struct phy_error *err)
{
	if (cfg->nr_disks == CONFIG_MAX_DISKS)
		return phy_err(err, PHY_E_INVALID, "--disk: at most %d disks",
			       CONFIG_MAX_DISKS);
	struct disk_config d = {
		.num_queues = 1,
		.queue_size = CONFIG_DISK_DEFAULT_QUEUE_SIZE,
	};
	int ret = parse_kv_list(&d, "disk", value, disk_kv, err);
	if (!ret && !d.path)
		ret = phy_err(err, PHY_E_INVALID, "--disk: path= is required");
	if (ret) {
		free(d.path);
		return ret;
	}
	cfg->disks[cfg->nr_disks++] = d;
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
		return parse_config_kv(cfg, option, value, cpus_kv, err);
	if (!strcmp(option, "memory"))
		return parse_config_kv(cfg, option, value, memory_kv, err);
	if (!strcmp(option, "serial"))
		return set_serial(cfg, value, err);
	if (!strcmp(option, "disk"))
		return add_disk(cfg, value, err);
	if (!strcmp(option, "net"))
		return config_add_net(cfg, value, err);
	if (!strcmp(option, "gpu"))
		return config_set_gpu(cfg, value, err);
	if (!strcmp(option, "display"))
		return config_set_display(cfg, value, err);
	if (!strcmp(option, "screenshot-on-exit"))
		return set_path(&cfg->screenshot_on_exit, option, value, err);
	if (!strcmp(option, "api-socket"))
		return set_path_option(&cfg->api_socket, option, value, err);
	if (!strcmp(option, "event-monitor"))
		return set_path_option(&cfg->event_monitor, option, value, err);
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
	/* A Unix socket path lives in sun_path, NUL included. */
	if (cfg->api_socket &&
	    strlen(cfg->api_socket) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return phy_err(err, PHY_E_INVALID,
			       "--api-socket: the path is longer than %zu bytes",
			       sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	if (cfg->api_socket && cfg->event_monitor &&
	    !strcmp(cfg->api_socket, cfg->event_monitor))
		return phy_err(err, PHY_E_INVALID,
			       "--event-monitor: '%s' is also the --api-socket",
			       cfg->event_monitor);
	for (unsigned i = 0; i < cfg->nr_disks; i++)
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(cfg->disks[i].path, cfg->disks[j].path))
				return phy_err(err, PHY_E_INVALID,
					       "--disk: '%s' is given twice",
					       cfg->disks[i].path);
	int ret = config_validate_nets(cfg, err);
	return ret ? ret : config_validate_gpu(cfg, err);
}
