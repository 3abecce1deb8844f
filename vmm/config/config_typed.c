// SPDX-License-Identifier: Apache-2.0
/*
 * Typed configuration setters. Each one spells its value the way the CLI
 * would and goes through phy_config_set(), so a program and a command line
 * get exactly the same checks and error messages.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "vmm/config/config.h"
#include "vmm/config/config_net.h"
#include "vmm/config/options.h"

int phy_config_set_kernel(struct phy_config *cfg, const char *kernel,
			  const char *initramfs, const char *cmdline,
			  struct phy_error *err)
{
	if (!cfg || !kernel)
		return phy_err(err, PHY_E_INVALID, "phy_config_set_kernel: NULL argument");
	int ret = phy_config_set(cfg, "kernel", kernel, err);
	if (!ret && initramfs)
		ret = phy_config_set(cfg, "initramfs", initramfs, err);
	if (!ret && cmdline)
		ret = phy_config_set(cfg, "cmdline", cmdline, err);
	return ret;
}

int phy_config_set_cpus(struct phy_config *cfg, unsigned cpus,
			struct phy_error *err)
{
	char v[32];
	snprintf(v, sizeof(v), "boot=%u", cpus);
	return phy_config_set(cfg, "cpus", v, err);
}

int phy_config_set_memory(struct phy_config *cfg, uint64_t bytes,
			  struct phy_error *err)
{
	char v[40];
	snprintf(v, sizeof(v), "size=%" PRIu64, bytes);
	return phy_config_set(cfg, "memory", v, err);
}

/* A key=value list being built; `over` once it no longer fits. */
struct kv_text {
	char buf[4096 + 256];
	size_t len;
	bool over;
};

static void kv_add(struct kv_text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void kv_add(struct kv_text *t, const char *fmt, ...)
{
	if (t->over)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(t->buf) - t->len)
		t->over = true;
	else
		t->len += (size_t)n;
}

/* The key=value syntax has no escaping: a comma would split the value,
 * so say so rather than parse something else. */
static bool has_comma(const char *s)
{
	return s && strchr(s, ',');
}

int phy_config_add_disk(struct phy_config *cfg,
			const struct phy_disk_options *d,
			struct phy_error *err)
{
	if (!cfg || !d || !d->path)
		return phy_err(err, PHY_E_INVALID, "phy_config_add_disk: NULL argument");
	if (has_comma(d->path) || has_comma(d->id))
		return phy_err(err, PHY_E_INVALID,
			       "--disk: path and id may not contain ','");
	struct kv_text t = { .len = 0 };
	kv_add(&t, "path=%s,readonly=%s,direct=%s", d->path,
	       d->readonly ? "on" : "off", d->direct ? "on" : "off");
	if (d->num_queues)
		kv_add(&t, ",num_queues=%u", d->num_queues);
	if (d->queue_size)
		kv_add(&t, ",queue_size=%u", d->queue_size);
	if (d->id)
		kv_add(&t, ",id=%s", d->id);
	if (t.over)
		return phy_err(err, PHY_E_INVALID, "--disk: path is too long");
	return phy_config_set(cfg, "disk", t.buf, err);
}

int phy_config_add_net(struct phy_config *cfg, const struct phy_net_options *o,
		       struct phy_error *err)
{
	if (!cfg || !o)
		return phy_err(err, PHY_E_INVALID, "phy_config_add_net: NULL argument");
	if (has_comma(o->tap) || has_comma(o->mac) || has_comma(o->ip) ||
	    has_comma(o->mask) || has_comma(o->id))
		return phy_err(err, PHY_E_INVALID, "--net: values may not contain ','");
	if (o->nr_fds && !o->fds)
		return phy_err(err, PHY_E_INVALID, "phy_config_add_net: nr_fds without fds");
	struct kv_text t = { .len = 0 };
	/* With fds, tap= only when given (an error: one or the other). */
	if (!o->nr_fds || (o->tap && o->tap[0]))
		kv_add(&t, "tap=%s,", o->tap ? o->tap : "");
	if (o->nr_fds) {
		kv_add(&t, "fd=[");
		for (unsigned i = 0; i < o->nr_fds; i++)
			kv_add(&t, i ? ",%d" : "%d", o->fds[i]);
		kv_add(&t, "],");
	}
	if (o->mac)
		kv_add(&t, "mac=%s,", o->mac);
	if (o->ip)
		kv_add(&t, "ip=%s,", o->ip);
	if (o->mask)
		kv_add(&t, "mask=%s,", o->mask);
	if (o->num_queues)
		kv_add(&t, "num_queues=%u,", o->num_queues);
	if (o->queue_size)
		kv_add(&t, "queue_size=%u,", o->queue_size);
	if (o->id)
		kv_add(&t, "id=%s,", o->id);
	if (t.over)
		return phy_err(err, PHY_E_INVALID, "--net: a value is too long");
	if (t.len)
		t.buf[--t.len] = '\0'; /* the last ',' */
	int ret = phy_config_set(cfg, "net", t.buf, err);
	/* Checked against the other devices now, so that a NIC added to a
	 * configuration already validated (before boot: vm.add-net) either
	 * fits or leaves it as it was. --net adds no default item, so the
	 * new one is the last. */
	if (!ret && (ret = net_option.validate(cfg, err)))
		config_drop_item(cfg, cfg->nr_items - 1);
	return ret;
}

int phy_config_set_landlock(struct phy_config *cfg, int on,
			    struct phy_error *err)
{
	return phy_config_set(cfg, "landlock", on ? "on" : "off", err);
}

int phy_config_add_landlock_rule(struct phy_config *cfg, const char *path,
				 const char *access, struct phy_error *err)
{
	if (!cfg || !path || !access)
		return phy_err(err, PHY_E_INVALID,
			       "phy_config_add_landlock_rule: NULL argument");
	if (has_comma(path) || has_comma(access))
		return phy_err(err, PHY_E_INVALID,
			       "--landlock-rules: path and access may not contain ','");
	struct kv_text t = { .len = 0 };
	kv_add(&t, "path=%s,access=%s", path, access);
	if (t.over)
		return phy_err(err, PHY_E_INVALID, "--landlock-rules: path too long");
	return phy_config_set(cfg, "landlock-rules", t.buf, err);
}
