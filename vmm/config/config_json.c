// SPDX-License-Identifier: Apache-2.0
/*
 * VmConfig <-> struct phy_config with jansson. jansson rather than json-c
 * or cJSON: it is in Debian 12 (libjansson-dev 2.14), rejects duplicate
 * keys while loading (JSON_REJECT_DUPLICATES), keeps integers as 64-bit
 * (memory sizes), and its object iteration makes "every member is known"
 * a loop over the document rather than a list of lookups.
 */
#define _GNU_SOURCE
#include "vmm/config/config_json.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "vmm/config/config_disk.h"
#include "vmm/config/config_firmware.h"
#include "vmm/config/config_gpu.h"
#include "vmm/config/config_net.h"
#include "vmm/config/config_landlock.h"
#include "vmm/config/config_rng.h"
#include "vmm/config/config_vsock.h"
#include "vmm/config/config_fs.h"
#include "vmm/config/config_balloon.h"
#include "vmm/config/cpu_affinity.h"

/* Arrays past this are refused before anything is added. */
#define JSON_MAX_ARRAY 64

/* Where we are in the document, for messages: "vm.create: disks[1].path". */
struct jpath {
	const char *what;
	char at[96];
	struct phy_error *err;
};

static int jfail(const struct jpath *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int jfail(const struct jpath *p, const char *fmt, ...)
{
	char msg[PHY_ERROR_MESSAGE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return phy_err(p->err, PHY_E_INVALID, "%s: %s%s%s", p->what, p->at,
		       p->at[0] ? ": " : "", msg);
}

/* A message from the option layer ("--disk: ..."), placed in the document. */
static int jwrap(const struct jpath *p, int ret)
{
	if (!ret)
		return 0;
	char inner[PHY_ERROR_MESSAGE_MAX];
	snprintf(inner, sizeof(inner), "%s", p->err ? p->err->message : "");
	phy_err(p->err, -ret, "%s: %s%s%s", p->what, p->at, p->at[0] ? ": " : "",
		inner);
	return ret;
}

static void jenter(const struct jpath *parent, struct jpath *child,
		   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void jenter(const struct jpath *parent, struct jpath *child,
		   const char *fmt, ...)
{
	char name[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	*child = *parent;
	size_t n = strlen(child->at);
	const char *dot = n && name[0] != '[' ? "." : "";
	/* A path too deep for the buffer is cut: the message stays one line. */
	if (n < sizeof(child->at))
		(void)!snprintf(child->at + n, sizeof(child->at) - n, "%s%.60s",
				dot, name);
}

/* ---- members ---- */

/* A Cloud Hypervisor member we do not implement, with its default: the
 * only value we accept for it (null is always accepted). */
struct ch_default {
	const char *name;
	const char *json;
};

static bool is_default(json_t *v, const char *dflt_json)
{
	if (json_is_null(v))
		return true;
	json_t *d = json_loads(dflt_json, JSON_DECODE_ANY, NULL);
	bool same = d && json_equal(v, d);
	json_decref(d);
	return same;
}

/* Every member of obj is in `known` or a default-valued one of
 * `defaults`. */
static int check_members(const struct jpath *p, json_t *obj,
			 const char *const *known,
			 const struct ch_default *defaults)
{
	if (!json_is_object(obj))
		return jfail(p, "expected an object");
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		bool found = false;
		for (const char *const *k = known; *k && !found; k++)
			found = !strcmp(*k, key);
		if (found)
			continue;
		const struct ch_default *d = defaults;
		while (d && d->name && strcmp(d->name, key))
			d++;
		struct jpath m;
		jenter(p, &m, "%s", key);
		if (!d || !d->name)
			return jfail(&m, "unknown member");
		if (!is_default(v, d->json) && !strcmp(d->json, "null"))
			return jfail(&m, "not supported (only null)");
		if (!is_default(v, d->json))
			return jfail(&m, "not supported (only %s, Cloud Hypervisor's default, or null)",
				     d->json);
	}
	return 0;
}

/* The member, or NULL when absent or null. */
static json_t *member(json_t *obj, const char *name)
{
	json_t *v = json_object_get(obj, name);
	return json_is_null(v) ? NULL : v;
}

static int get_uint(const struct jpath *p, json_t *obj, const char *name,
		    uint64_t max, uint64_t *out, bool *given)
{
	json_t *v = member(obj, name);
	*given = v != NULL;
	if (!v)
		return 0;
	struct jpath m;
	jenter(p, &m, "%s", name);
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return jfail(&m, "expected an integer from 0 to %" PRIu64, max);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int get_bool(const struct jpath *p, json_t *obj, const char *name,
		    bool *out)
{
	json_t *v = member(obj, name);
	if (!v)
		return 0;
	struct jpath m;
	jenter(p, &m, "%s", name);
	if (!json_is_boolean(v))
		return jfail(&m, "expected true or false");
	*out = json_is_true(v);
	return 0;
}

/* A string member; *out stays NULL when absent or null. */
static int get_str(const struct jpath *p, json_t *obj, const char *name,
		   const char **out)
{
	json_t *v = member(obj, name);
	*out = NULL;
	if (!v)
		return 0;
	struct jpath m;
	jenter(p, &m, "%s", name);
	if (!json_is_string(v))
		return jfail(&m, "expected a string");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return jfail(&m, "a string with a NUL byte");
	*out = json_string_value(v);
	return 0;
}

/* ---- the sections ---- */

/* One cpus.affinity entry: {"vcpu": N, "host_cpus": [N, ...]}. */
static int add_affinity(struct cpu_affinity **list, unsigned *n,
			const struct jpath *p, json_t *o)
{
	static const char *const known[] = { "vcpu", "host_cpus", NULL };
	uint64_t vcpu = 0;
	bool has_vcpu;
	int ret = check_members(p, o, known, NULL);
	if (!ret)
		ret = get_uint(p, o, "vcpu", UINT32_MAX, &vcpu, &has_vcpu);
	if (ret)
		return ret;
	json_t *hc = member(o, "host_cpus");
	if (!has_vcpu || !hc)
		return jfail(p, "vcpu and host_cpus are required");
	struct jpath m;
	jenter(p, &m, "host_cpus");
	if (!json_is_array(hc) || json_array_size(hc) > CPU_AFFINITY_MAX)
		return jfail(&m, "expected an array of at most %d host CPU numbers",
			     CPU_AFFINITY_MAX);
	if (!json_array_size(hc))
		return jfail(&m, "no host CPU");
	struct cpu_affinity *e;
	ret = jwrap(p, cpu_affinity_add(list, n, (unsigned)vcpu, &e, p->err));
	if (ret)
		return ret;
	size_t i;
	json_t *c;
	json_array_foreach(hc, i, c) {
		if (!json_is_integer(c) || json_integer_value(c) < 0 ||
		    json_integer_value(c) >= CPU_AFFINITY_MAX) {
			struct jpath ce;
			jenter(&m, &ce, "[%zu]", i);
			return jfail(&ce, "expected a host CPU number from 0 to %d",
				     CPU_AFFINITY_MAX - 1);
		}
		cpu_affinity_set(e, (unsigned)json_integer_value(c));
	}
	return 0;
}

static int apply_affinity(struct phy_config *cfg, const struct jpath *parent,
			  json_t *a)
{
	struct jpath p;
	jenter(parent, &p, "affinity");
	if (!json_is_array(a) || json_array_size(a) > JSON_MAX_ARRAY)
		return jfail(&p, "expected an array of at most %d entries",
			     JSON_MAX_ARRAY);
	struct cpu_affinity *list = NULL;
	unsigned n = 0;
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) {
		struct jpath e;
		jenter(&p, &e, "[%zu]", i);
		int ret = add_affinity(&list, &n, &e, v);
		if (ret) {
			free(list);
			return ret;
		}
	}
	free(cfg->affinity);
	cfg->affinity = list;
	cfg->nr_affinity = n;
	return 0;
}

static int apply_cpus(struct phy_config *cfg, const struct jpath *p, json_t *o)
{
	static const char *const known[] = { "boot_vcpus", "max_vcpus",
					     "affinity", NULL };
	static const struct ch_default defaults[] = {
		{ "topology", "null" }, { "kvm_hyperv", "false" },
		{ "max_phys_bits", "46" },
		{ "features", "{}" }, { "nested", "true" }, { NULL, NULL },
	};
	uint64_t boot = cfg->cpus, max = 0;
	bool has_boot, has_max;
	int ret = check_members(p, o, known, defaults);
	if (!ret)
		ret = get_uint(p, o, "boot_vcpus", 1024, &boot, &has_boot);
	if (!ret)
		ret = get_uint(p, o, "max_vcpus", 1024, &max, &has_max);
	if (ret)
		return ret;
	if (has_max && max != boot) {
		struct jpath m;
		jenter(p, &m, "max_vcpus");
		return jfail(&m, "%" PRIu64 " is not boot_vcpus (%" PRIu64 "): there is no CPU hotplug",
			     max, boot);
	}
	json_t *aff = member(o, "affinity");
	if (aff && (ret = apply_affinity(cfg, p, aff)))
		return ret;
	return jwrap(p, phy_config_set_cpus(cfg, (unsigned)boot, p->err));
}

static int apply_memory(struct phy_config *cfg, const struct jpath *p,
			json_t *o)
{
	static const char *const known[] = { "size", "shared", "thp", NULL };
	static const struct ch_default defaults[] = {
		{ "mergeable", "false" }, { "hotplug_method", "\"Acpi\"" },
		{ "hotplug_size", "null" }, { "hotplugged_size", "null" },
		{ "hugepages", "false" }, { "hugepage_size", "null" },
		{ "prefault", "false" }, { "zones", "null" }, { NULL, NULL },
	};
	uint64_t size = cfg->memory;
	bool has_size, shared = cfg->memory_shared, thp = cfg->memory_thp;
	int ret = check_members(p, o, known, defaults);
	if (!ret)
		ret = get_uint(p, o, "size", UINT64_MAX >> 1, &size, &has_size);
	if (!ret)
		ret = get_bool(p, o, "shared", &shared);
	if (!ret)
		ret = get_bool(p, o, "thp", &thp);
	if (ret)
		return ret;
	char v[96];
	snprintf(v, sizeof(v), "size=%" PRIu64 ",shared=%s,thp=%s", size,
		 shared ? "on" : "off", thp ? "on" : "off");
	return jwrap(p, phy_config_set(cfg, "memory", v, p->err));
}

/* key=value lists have no escaping. */
static int no_comma(const struct jpath *p, const char *name, const char *s)
{
	if (!s || !strchr(s, ','))
		return 0;
	struct jpath m;
	jenter(p, &m, "%s", name);
	return jfail(&m, "paths with ',' are not supported");
}

static int apply_payload(struct phy_config *cfg, const struct jpath *p,
			 json_t *o, json_t *ours)
{
	static const char *const known[] = { "kernel", "cmdline", "initramfs",
					     "firmware", NULL };
	static const struct ch_default defaults[] = {
		{ "igvm", "null" }, { "host_data", "null" }, { NULL, NULL },
	};
	const char *kernel, *cmdline, *initramfs, *firmware;
	const char *vars = NULL, *vars_template = NULL;
	struct jpath op = { .what = p->what, .at = "phyllome", .err = p->err };
	int ret = check_members(p, o, known, defaults);
	if (!ret)
		ret = get_str(p, o, "kernel", &kernel);
	if (!ret)
		ret = get_str(p, o, "cmdline", &cmdline);
	if (!ret)
		ret = get_str(p, o, "initramfs", &initramfs);
	if (!ret)
		ret = get_str(p, o, "firmware", &firmware);
	if (!ret && ours)
		ret = get_str(&op, ours, "firmware_vars", &vars);
	if (!ret && ours)
		ret = get_str(&op, ours, "firmware_vars_template", &vars_template);
	if (ret)
		return ret;
	if (kernel)
		ret = jwrap(p, phy_config_set_kernel(cfg, kernel, initramfs,
						     cmdline, p->err));
	else if (initramfs || cmdline)
		return jfail(p, "initramfs and cmdline need a kernel");
	if (!ret && (vars || vars_template) && !firmware)
		return jfail(&op, "firmware_vars needs payload.firmware");
	if (!ret && firmware) {
		ret = no_comma(p, "firmware", firmware);
		if (!ret)
			ret = no_comma(&op, "firmware_vars", vars);
		if (!ret)
			ret = no_comma(&op, "firmware_vars_template", vars_template);
		char *v = NULL;
		if (!ret && asprintf(&v, "path=%s%s%s%s%s", firmware,
				     vars ? ",vars=" : "", vars ? vars : "",
				     vars_template ? ",vars_template=" : "",
				     vars_template ? vars_template : "") < 0)
			return phy_err(p->err, PHY_E_NOMEM, "%s: out of memory", p->what);
		if (!ret)
			ret = jwrap(p, phy_config_set(cfg, "firmware", v, p->err));
		free(v);
	}
	return ret;
}

static int disk_options(const struct jpath *p, json_t *o,
			struct phy_disk_options *d)
{
	static const char *const known[] = { "path", "readonly", "direct",
					     "num_queues", "queue_size", "id",
					     NULL };
	static const struct ch_default defaults[] = {
		{ "iommu", "false" }, { "vhost_user", "false" },
		{ "vhost_socket", "null" }, { "rate_limit_group", "null" },
		{ "rate_limiter_config", "null" }, { "pci_segment", "0" },
		{ "serial", "null" }, { "disable_io_uring", "false" },
		{ "disable_aio", "false" }, { "queue_affinity", "null" },
		{ NULL, NULL },
	};
	bool ro = false, direct = false, given;
	uint64_t nq = 0, qs = 0;
	int ret = check_members(p, o, known, defaults);
	if (!ret)
		ret = get_str(p, o, "path", &d->path);
	if (!ret && !d->path)
		return jfail(p, "path is required");
	if (!ret)
		ret = get_bool(p, o, "readonly", &ro);
	if (!ret)
		ret = get_bool(p, o, "direct", &direct);
	if (!ret)
		ret = get_uint(p, o, "num_queues", 65535, &nq, &given);
	if (!ret)
		ret = get_uint(p, o, "queue_size", 65535, &qs, &given);
	if (!ret)
		ret = get_str(p, o, "id", &d->id);
	d->readonly = ro;
	d->direct = direct;
	d->num_queues = (unsigned)nq;
	d->queue_size = (unsigned)qs;
	return ret;
}

static int net_options(const struct jpath *p, json_t *o,
		       struct phy_net_options *n)
{
	static const char *const known[] = { "tap", "ip", "mask", "mac",
					     "num_queues", "queue_size", "id",
					     NULL };
	static const struct ch_default defaults[] = {
		{ "host_mac", "null" }, { "mtu", "null" }, { "iommu", "false" },
		{ "vhost_user", "false" }, { "vhost_socket", "null" },
		{ "vhost_mode", "\"Client\"" }, { "fds", "null" },
		{ "rate_limiter_config", "null" }, { "pci_segment", "0" },
		{ "offload_tso", "true" }, { "offload_ufo", "true" },
		{ "offload_csum", "true" }, { NULL, NULL },
	};
	uint64_t nq = 0, qs = 0;
	bool given;
	int ret = check_members(p, o, known, defaults);
	if (!ret)
		ret = get_str(p, o, "tap", &n->tap);
	if (!ret)
		ret = get_str(p, o, "ip", &n->ip);
	if (!ret)
		ret = get_str(p, o, "mask", &n->mask);
	if (!ret)
		ret = get_str(p, o, "mac", &n->mac);
	if (!ret)
		ret = get_uint(p, o, "num_queues", 65535, &nq, &given);
	if (!ret)
		ret = get_uint(p, o, "queue_size", 65535, &qs, &given);
	if (!ret)
		ret = get_str(p, o, "id", &n->id);
	n->num_queues = (unsigned)nq;
	n->queue_size = (unsigned)qs;
	return ret;
}

static int apply_array(struct phy_config *cfg, const struct jpath *p,
		       json_t *a,
		       int (*one)(struct phy_config *, const struct jpath *,
				  json_t *))
{
	if (!json_is_array(a))
		return jfail(p, "expected an array");
	if (json_array_size(a) > JSON_MAX_ARRAY)
		return jfail(p, "more than %d entries", JSON_MAX_ARRAY);
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) {
		struct jpath e;
		jenter(p, &e, "[%zu]", i);
		int ret = one(cfg, &e, v);
		if (ret)
			return ret;
	}
	return 0;
}

static int add_disk(struct phy_config *cfg, const struct jpath *p, json_t *o)
{
	struct phy_disk_options d = { 0 };
	int ret = disk_options(p, o, &d);
	return ret ? ret : jwrap(p, phy_config_add_disk(cfg, &d, p->err));
}

static int add_net(struct phy_config *cfg, const struct jpath *p, json_t *o)
{
	struct phy_net_options n = { 0 };
	int ret = net_options(p, o, &n);
	return ret ? ret : jwrap(p, phy_config_add_net(cfg, &n, p->err));
}

static int apply_rng(struct phy_config *cfg, const struct jpath *p, json_t *o)
{
	static const char *const known[] = { "src", NULL };
	static const struct ch_default defaults[] = {
		{ "iommu", "false" }, { NULL, NULL },
	};
	const char *src;
	int ret = check_members(p, o, known, defaults);
	if (!ret)
		ret = get_str(p, o, "src", &src);
	if (ret)
		return ret;
	if (!src)
		return jfail(p, "src is required");
	char *v = NULL;
	if (asprintf(&v, "src=%s", src) < 0)
		return phy_err(p->err, PHY_E_NOMEM, "%s: out of memory", p->what);
	ret = no_comma(p, "src", src);
	if (!ret)
		ret = jwrap(p, phy_config_set(cfg, "rng", v, p->err));
	free(v);
	return ret;
}

/* LandlockConfig: --landlock-rules path=PATH,access=ACCESS. */
static int add_landlock_rule(struct phy_config *cfg, const struct jpath *p,
			     json_t *o)
{
	static const char *const known[] = { "path", "access", NULL };
	const char *path, *access;
	int ret = check_members(p, o, known, NULL);
	if (!ret)
		ret = get_str(p, o, "path", &path);
	if (!ret)
		ret = get_str(p, o, "access", &access);
	if (!ret && (!path || !access))
		ret = jfail(p, "path and access are required");
	if (!ret)
		ret = jwrap(p, phy_config_add_landlock_rule(cfg, path, access, p->err));
	return ret;
}

/* VsockConfig: --vsock cid=N,socket=PATH[,id=ID]. */
static int apply_vsock(struct phy_config *cfg, const struct jpath *p, json_t *o)
{
	static const char *const known[] = { "cid", "socket", "id", NULL };
	static const struct ch_default defaults[] = {
		{ "iommu", "false" }, { "pci_segment", "0" }, { NULL, NULL },
	};
	uint64_t cid = 0;
	bool has_cid = false;
	const char *sock = NULL, *id = NULL;
	int ret = check_members(p, o, known, defaults);
	if (!ret)
		ret = get_uint(p, o, "cid", UINT32_MAX, &cid, &has_cid);
	if (!ret)
		ret = get_str(p, o, "socket", &sock);
	if (!ret)
		ret = get_str(p, o, "id", &id);
	if (ret)
		return ret;
	if (!has_cid)
		return jfail(p, "cid is required");
	if (!sock)
		return jfail(p, "socket is required");
	ret = no_comma(p, "socket", sock);
	if (!ret && id)
		ret = no_comma(p, "id", id);
	if (ret)
		return ret;
	char *v = NULL;
	if (asprintf(&v, "cid=%" PRIu64 ",socket=%s%s%s", cid, sock,
		     id ? ",id=" : "", id ? id : "") < 0)
		return phy_err(p->err, PHY_E_NOMEM, "%s: out of memory", p->what);
	ret = jwrap(p, phy_config_set(cfg, "vsock", v, p->err));
	free(v);
	return ret;
}

/* FsConfig: --fs tag=TAG,socket=PATH[,num_queues=N][,queue_size=N][,id=ID]. */
static int add_fs(struct phy_config *cfg, const struct jpath *p, json_t *o)
{
	static const char *const known[] = {
		"tag", "socket", "num_queues", "queue_size", "id", NULL,
	};
	static const struct ch_default defaults[] = {
		{ "pci_segment", "0" }, { NULL, NULL },
	};
	const char *tag = NULL, *sock = NULL, *id = NULL;
	uint64_t nq = 1, qs = CONFIG_FS_QUEUE_SIZE;
	bool given;
	static const char *const names[] = { "tag", "socket", "id" };
	const char **strs[] = { &tag, &sock, &id };
	int ret = check_members(p, o, known, defaults);
	for (unsigned i = 0; !ret && i < 3; i++) {
		ret = get_str(p, o, names[i], strs[i]);
		if (!ret && *strs[i])
			ret = no_comma(p, names[i], *strs[i]);
	}
	if (!ret)
		ret = get_uint(p, o, "num_queues", UINT16_MAX, &nq, &given);
	if (!ret)
		ret = get_uint(p, o, "queue_size", UINT16_MAX, &qs, &given);
	if (!ret && (!tag || !sock))
		ret = jfail(p, "%s is required", tag ? "socket" : "tag");
	if (ret)
		return ret;
	char *v = NULL;
	if (asprintf(&v, "tag=%s,socket=%s,num_queues=%" PRIu64 ",queue_size=%" PRIu64 "%s%s",
		     tag, sock, nq, qs, id ? ",id=" : "", id ? id : "") < 0)
		return phy_err(p->err, PHY_E_NOMEM, "%s: out of memory", p->what);
	ret = jwrap(p, phy_config_set(cfg, "fs", v, p->err));
	free(v);
	return ret;
}

/* BalloonConfig: --balloon size=N[,deflate_on_oom=on][,free_page_reporting=on]. */
static int apply_balloon(struct phy_config *cfg, const struct jpath *p, json_t *o)
{
	static const char *const known[] = {
		"size", "deflate_on_oom", "free_page_reporting", NULL,
	};
	uint64_t size = 0;
	bool has_size = false, oom = false, report = false;
	int ret = check_members(p, o, known, NULL);
	if (!ret)
		ret = get_uint(p, o, "size", UINT64_MAX >> 1, &size, &has_size);
	if (!ret)
		ret = get_bool(p, o, "deflate_on_oom", &oom);
	if (!ret)
		ret = get_bool(p, o, "free_page_reporting", &report);
	if (ret)
		return ret;
	if (!has_size)
		return jfail(p, "size is required");
	char v[96];
	snprintf(v, sizeof(v), "size=%" PRIu64 ",deflate_on_oom=%s,free_page_reporting=%s",
		 size, oom ? "on" : "off", report ? "on" : "off");
	return jwrap(p, phy_config_set(cfg, "balloon", v, p->err));
}

/* ConsoleConfig (serial, console): the option's value spelled from mode. */
static int apply_console(struct phy_config *cfg, const struct jpath *p,
			 json_t *o, const char *option)
{
	static const char *const known[] = { "mode", "file", "socket", NULL };
	static const struct ch_default defaults[] = {
		{ "iommu", "false" }, { "url", "null" }, { NULL, NULL },
	};
	static const struct {
		const char *mode, *value, *member;
	} modes[] = {
		{ "Off", "off", NULL },   { "Null", "null", NULL },
		{ "Tty", "tty", NULL },   { "Pty", "pty", NULL },
		{ "File", "file=", "file" }, { "Socket", "socket=", "socket" },
	};
	const char *mode, *file, *socket;
	int ret = check_members(p, o, known, defaults);
	if (!ret)
		ret = get_str(p, o, "mode", &mode);
	if (!ret)
		ret = get_str(p, o, "file", &file);
	if (!ret)
		ret = get_str(p, o, "socket", &socket);
	if (ret)
		return ret;
	if (!mode)
		return jfail(p, "mode is required");
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(mode, modes[i].mode))
			continue;
		const char *arg = !modes[i].member ? "" :
				  modes[i].member[0] == 'f' ? file : socket;
		if (!arg)
			return jfail(p, "mode %s needs %s", mode, modes[i].member);
		char *v = NULL;
		if (asprintf(&v, "%s%s", modes[i].value, arg) < 0)
			return phy_err(p->err, PHY_E_NOMEM, "%s: out of memory", p->what);
		ret = jwrap(p, phy_config_set(cfg, option, v, p->err));
		free(v);
		return ret;
	}
	struct jpath m;
	jenter(p, &m, "mode");
	return jfail(&m, "'%s' is not Off, Null, Tty, Pty, File or Socket", mode);
}

static int apply_gpu(struct phy_config *cfg, const struct jpath *p, json_t *o)
{
	static const char *const known[] = { "mode", "width", "height",
					     "outputs", "max_hostmem", NULL };
	const char *mode;
	uint64_t num[4];
	bool given[4];
	static const char *const keys[] = { "width", "height", "outputs",
					    "max_hostmem" };
	int ret = check_members(p, o, known, NULL);
	if (!ret)
		ret = get_str(p, o, "mode", &mode);
	for (int i = 0; i < 4 && !ret; i++)
		ret = get_uint(p, o, keys[i], UINT64_MAX >> 1, &num[i], &given[i]);
	if (ret)
		return ret;
	if (!mode)
		return jfail(p, "mode is required");
	char v[256];
	int n = snprintf(v, sizeof(v), "mode=%s", mode);
	if (strchr(mode, ','))
		return jfail(p, "mode '%s' is not virgl or 2d", mode);
	for (int i = 0; i < 4 && n < (int)sizeof(v); i++)
		if (given[i])
			n += snprintf(v + n, sizeof(v) - (size_t)n, ",%s=%" PRIu64,
				      keys[i], num[i]);
	return jwrap(p, phy_config_set(cfg, "gpu", v, p->err));
}

/* Our additions beside the payload's firmware_vars (apply_payload). */
static int apply_ours(struct phy_config *cfg, const struct jpath *p, json_t *o)
{
	static const char *const known[] = { "gpu", "display",
					     "screenshot_on_exit",
					     "firmware_vars",
					     "firmware_vars_template", NULL };
	const char *display, *shot;
	json_t *gpu = member(o, "gpu");
	int ret = check_members(p, o, known, NULL);
	if (!ret && gpu) {
		struct jpath g;
		jenter(p, &g, "gpu");
		ret = apply_gpu(cfg, &g, gpu);
	}
	if (!ret)
		ret = get_str(p, o, "display", &display);
	if (!ret && display)
		ret = jwrap(p, phy_config_set(cfg, "display", display, p->err));
	if (!ret)
		ret = get_str(p, o, "screenshot_on_exit", &shot);
	if (!ret && shot)
		ret = jwrap(p, phy_config_set(cfg, "screenshot-on-exit", shot,
					      p->err));
	return ret;
}

static int apply_root(struct phy_config *cfg, const struct jpath *p, json_t *o)
{
	static const char *const known[] = {
		"cpus", "memory", "payload", "disks", "net", "rng", "serial",
		"console", "phyllome", "vsock", "balloon", "fs", "landlock_enable",
		"landlock_rules", NULL,
	};
	static const struct ch_default defaults[] = {
		{ "rate_limit_groups", "null" },
		{ "pmem", "null" }, { "devices", "[]" },
		{ "user_devices", "null" }, { "vdpa", "null" },
		{ "pvpanic", "false" }, { "iommu", "false" },
		{ "sgx_epc", "null" }, { "numa", "null" }, { "watchdog", "false" },
		{ "platform", "null" }, { "tpm", "null" },
		{ "preserved_fds", "null" }, { "pci_segments", "null" },
		{ "debug_console", "{\"file\":null,\"mode\":\"Off\",\"iobase\":233}" },
		{ NULL, NULL },
	};
	int ret = check_members(p, o, known, defaults);
	struct jpath s;
#define SECTION(name, call)                                                   \
	if (!ret && member(o, name)) {                                        \
		jenter(p, &s, name);                                          \
		ret = call;                                                   \
	}
	json_t *ours = member(o, "phyllome");
	if (ours && !json_is_object(ours)) {
		jenter(p, &s, "phyllome");
		return jfail(&s, "expected an object");
	}
	SECTION("cpus", apply_cpus(cfg, &s, member(o, "cpus")))
	SECTION("memory", apply_memory(cfg, &s, member(o, "memory")))
	if (!ret && (member(o, "payload") || ours)) {
		jenter(p, &s, "payload");
		json_t *empty = json_object();
		json_t *pl = member(o, "payload");
		ret = empty ? apply_payload(cfg, &s, pl ? pl : empty, ours)
			    : phy_err(p->err, PHY_E_NOMEM, "out of memory");
		json_decref(empty);
	}
	SECTION("disks", apply_array(cfg, &s, member(o, "disks"), add_disk))
	SECTION("net", apply_array(cfg, &s, member(o, "net"), add_net))
	if (!ret && json_is_null(json_object_get(o, "rng")))
		ret = phy_config_set(cfg, "rng", "off", p->err);
	SECTION("rng", apply_rng(cfg, &s, member(o, "rng")))
	SECTION("vsock", apply_vsock(cfg, &s, member(o, "vsock")))
	SECTION("balloon", apply_balloon(cfg, &s, member(o, "balloon")))
	SECTION("fs", apply_array(cfg, &s, member(o, "fs"), add_fs))
	SECTION("serial", apply_console(cfg, &s, member(o, "serial"), "serial"))
	SECTION("console", apply_console(cfg, &s, member(o, "console"), "console"))
	SECTION("phyllome", apply_ours(cfg, &s, ours))
	bool landlock = false;
	if (!ret)
		ret = get_bool(p, o, "landlock_enable", &landlock);
	if (!ret && landlock)
		ret = phy_config_set(cfg, "landlock", "on", p->err);
	SECTION("landlock_rules",
		apply_array(cfg, &s, member(o, "landlock_rules"), add_landlock_rule))
#undef SECTION
	return ret;
}

static json_t *load(const struct jpath *p, const char *text, size_t len)
{
	if (len > CONFIG_JSON_MAX) {
		jfail(p, "the document is larger than %d bytes", CONFIG_JSON_MAX);
		return NULL;
	}
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		jfail(p, "not JSON: %s (at byte %d)", jerr.text, jerr.position);
	else if (!json_is_object(root)) {
		jfail(p, "expected a JSON object");
		json_decref(root);
		root = NULL;
	}
	return root;
}

int config_json_apply(struct phy_config *cfg, const char *text, size_t len,
		      const char *what, struct phy_error *err)
{
	struct jpath p = { .what = what, .err = err };
	json_t *root = load(&p, text, len);
	if (!root)
		return -PHY_E_INVALID;
	int ret = apply_root(cfg, &p, root);
	json_decref(root);
	return ret;
}

/* One device added to a copy, which replaces cfg only when all is well. */
static int add_one(struct phy_config *cfg, const char *what, const char *text,
		   size_t len, struct phy_error *err,
		   int (*one)(struct phy_config *, const struct jpath *, json_t *))
{
	struct jpath p = { .what = what, .err = err };
	json_t *root = load(&p, text, len);
	if (!root)
		return -PHY_E_INVALID;
	struct phy_config copy;
	int ret = config_copy(&copy, cfg);
	if (ret)
		ret = phy_err(err, PHY_E_NOMEM, "%s: out of memory", what);
	else
		ret = one(&copy, &p, root);
	json_decref(root);
	if (ret) {
		config_release(&copy);
		return ret;
	}
	config_release(cfg);
	*cfg = copy;
	return 0;
}

int config_json_add_disk(struct phy_config *cfg, const char *text, size_t len,
			 struct phy_error *err)
{
	return add_one(cfg, "vm.add-disk", text, len, err, add_disk);
}

int config_json_add_net(struct phy_config *cfg, const char *text, size_t len,
			const int *fds, unsigned nr_fds, struct phy_error *err)
{
	struct jpath p = { .what = "vm.add-net", .err = err };
	json_t *root = load(&p, text, len);
	if (!root)
		return -PHY_E_INVALID;
	struct phy_net_options n = { .fds = fds, .nr_fds = nr_fds };
	int ret = net_options(&p, root, &n);
	if (!ret && nr_fds && n.tap)
		ret = jfail(&p, "tap and descriptors name two taps: give one");
	/* phy_config_add_net() leaves cfg as it was when it fails and
	 * keeps duplicates of the descriptors when it succeeds. */
	if (!ret && (ret = phy_config_add_net(cfg, &n, err)))
		ret = jwrap(&p, ret);
	json_decref(root);
	return ret;
}

/* ---- writing ---- */

void config_disk_id(const struct phy_config *cfg, unsigned i, char *buf,
		    size_t size)
{
	const struct disk_config *d = config_item(cfg, &disk_option, i);
	if (d && d->id[0])
		snprintf(buf, size, "%s", d->id);
	else
		snprintf(buf, size, "_disk%u", i);
}

void config_net_id(const struct phy_config *cfg, unsigned i, char *buf,
		   size_t size)
{
	const struct net_config *n = config_item(cfg, &net_option, i);
	if (n && n->id[0])
		snprintf(buf, size, "%s", n->id);
	else
		snprintf(buf, size, "_net%u", i);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *disks_json(const struct phy_config *cfg)
{
	unsigned n = config_count(cfg, &disk_option);
	if (!n)
		return json_null();
	json_t *a = json_array();
	for (unsigned i = 0; i < n && a; i++) {
		const struct disk_config *d = config_item(cfg, &disk_option, i);
		char id[CONFIG_DISK_ID_LEN + 16];
		config_disk_id(cfg, i, id, sizeof(id));
		json_array_append_new(a, json_pack("{s:s,s:b,s:b,s:i,s:i,s:s}",
			"path", d->path, "readonly", d->readonly,
			"direct", d->direct, "num_queues", d->num_queues,
			"queue_size", d->queue_size, "id", id));
	}
	return a;
}

static json_t *nets_json(const struct phy_config *cfg)
{
	unsigned nr = config_count(cfg, &net_option);
	if (!nr)
		return json_null();
	json_t *a = json_array();
	for (unsigned i = 0; i < nr && a; i++) {
		const struct net_config *n = config_item(cfg, &net_option, i);
		char id[CONFIG_NET_ID_LEN + 16], mac[18];
		char ip[INET_ADDRSTRLEN] = "", mask[INET_ADDRSTRLEN] = "";
		config_net_id(cfg, i, id, sizeof(id));
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
			 n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4],
			 n->mac[5]);
		if (n->has_ip) {
			inet_ntop(AF_INET, &n->ip, ip, sizeof(ip));
			inet_ntop(AF_INET, &n->mask, mask, sizeof(mask));
		}
		json_array_append_new(a, json_pack("{s:o,s:o,s:o,s:s,s:i,s:i,s:s}",
			"tap", str_or_null(n->tap[0] ? n->tap : NULL),
			"ip", str_or_null(ip[0] ? ip : NULL),
			"mask", str_or_null(mask[0] ? mask : NULL),
			"mac", mac, "num_queues", 2 * n->pairs,
			"queue_size", n->queue_size, "id", id));
	}
	return a;
}

static json_t *console_json(enum serial_mode mode, const char *path,
			    const char *runtime_file)
{
	static const char *const names[] = {
		[SERIAL_TTY] = "Tty", [SERIAL_OFF] = "Off",
		[SERIAL_NULL] = "Null", [SERIAL_FILE] = "File",
		[SERIAL_PTY] = "Pty", [SERIAL_SOCKET] = "Socket",
	};
	const char *name = (unsigned)mode < sizeof(names) / sizeof(names[0]) &&
			   names[mode] ? names[mode] : "Off";
	const char *file = runtime_file ? runtime_file :
			   mode == SERIAL_FILE ? path : NULL;
	return json_pack("{s:o,s:s,s:o}", "file", str_or_null(file), "mode",
			 name, "socket",
			 str_or_null(mode == SERIAL_SOCKET ? path : NULL));
}

static json_t *ours_json(const struct phy_config *cfg,
			 const struct firmware_config *fw)
{
	const struct gpu_config *g = config_gpu(cfg);
	json_t *gpu = g ? json_pack("{s:s,s:i,s:i,s:i,s:I}",
				    "mode", g->mode == GPU_VIRGL ? "virgl" : "2d",
				    "width", g->width, "height", g->height,
				    "outputs", g->outputs,
				    "max_hostmem", (json_int_t)g->max_host_mem)
			: json_null();
	return json_pack("{s:o,s:s,s:o,s:o,s:o}", "gpu", gpu,
			 "display", cfg->display == DISPLAY_SDL ? "sdl" : "none",
			 "screenshot_on_exit", str_or_null(cfg->screenshot_on_exit),
			 "firmware_vars", str_or_null(fw ? fw->vars : NULL),
			 "firmware_vars_template",
			 str_or_null(fw ? fw->vars_template : NULL));
}

static json_t *affinity_json(const struct phy_config *cfg)
{
	json_t *a = json_array();
	for (unsigned i = 0; a && i < cfg->nr_affinity; i++) {
		const struct cpu_affinity *e = &cfg->affinity[i];
		json_t *cpus = json_array();
		for (unsigned c = 0; cpus && c < CPU_AFFINITY_MAX; c++)
			if (cpu_affinity_has(e, c))
				json_array_append_new(cpus, json_integer(c));
		json_array_append_new(a, json_pack("{s:i,s:o*}", "vcpu", e->vcpu,
						   "host_cpus", cpus));
	}
	return a;
}

static json_t *vsock_json(const struct phy_config *cfg)
{
	const struct vsock_config *v = config_item(cfg, &vsock_option, 0);
	if (!v)
		return json_null();
	return json_pack("{s:I,s:s,s:b,s:o,s:i}", "cid", (json_int_t)v->cid,
			 "socket", v->socket, "iommu", 0,
			 "id", str_or_null(v->id[0] ? v->id : NULL), "pci_segment", 0);
}

static json_t *landlock_rules_json(const struct phy_config *cfg)
{
	const struct landlock_rule_config *r = config_item(cfg, &landlock_rule_option, 0);
	json_t *a = r ? json_array() : json_null();
	for (unsigned i = 0; a && (r = config_item(cfg, &landlock_rule_option, i)); i++) {
		const char *acc = r->access == (LANDLOCK_R | LANDLOCK_W) ? "rw" :
				  r->access == LANDLOCK_W ? "w" : "r";
		json_array_append_new(a, json_pack("{s:s,s:s}", "path", r->path,
						   "access", acc));
	}
	return a;
}

static json_t *fs_json(const struct phy_config *cfg)
{
	unsigned n = config_count(cfg, &fs_option);
	json_t *a = n ? json_array() : json_null();
	for (unsigned i = 0; i < n && a; i++) {
		const struct fs_config *f = config_item(cfg, &fs_option, i);
		json_array_append_new(a, json_pack("{s:s,s:s,s:i,s:i,s:o,s:i}",
			"tag", f->tag, "socket", f->socket,
			"num_queues", f->num_queues, "queue_size", f->queue_size,
			"id", str_or_null(f->id[0] ? f->id : NULL), "pci_segment", 0));
	}
	return a;
}

static json_t *balloon_json(const struct phy_config *cfg)
{
	const struct balloon_config *b = config_item(cfg, &balloon_option, 0);
	if (!b)
		return json_null();
	return json_pack("{s:I,s:b,s:b}", "size", (json_int_t)b->size,
			 "deflate_on_oom", b->deflate_on_oom,
			 "free_page_reporting", b->free_page_reporting);
}

char *config_json_dump(const struct phy_config *cfg,
		       const struct config_json_runtime *rt)
{
	const struct firmware_config *fw = config_firmware(cfg);
	const struct rng_config *rng = config_item(cfg, &rng_option, 0);
	struct config_json_runtime none = { 0 };
	if (!rt)
		rt = &none;
	/* A command line is the kernel's: without one (firmware, or no
	 * payload yet) there is none. */
	const char *cmdline = !cfg->kernel ? NULL :
			      cfg->cmdline ? cfg->cmdline : CONFIG_DEFAULT_CMDLINE;
	json_t *root = json_pack(
		"{s:{s:i,s:i},s:{s:I,s:b,s:b},s:{s:o,s:o,s:o,s:o},"
		"s:o,s:o,s:o,s:o,s:o,s:o}",
		/* CPU hotplug does not exist: max is boot. */
		"cpus", "boot_vcpus", cfg->cpus, "max_vcpus", cfg->cpus,
		"memory", "size", (json_int_t)cfg->memory,
		"shared", cfg->memory_shared, "thp", cfg->memory_thp,
		"payload", "firmware", str_or_null(fw ? fw->path : NULL),
		"kernel", str_or_null(cfg->kernel),
		"cmdline", str_or_null(cmdline),
		"initramfs", str_or_null(cfg->initramfs),
		"disks", disks_json(cfg), "net", nets_json(cfg),
		"rng", rng ? json_pack("{s:s}", "src", rng->src) : json_null(),
		"serial", console_json(cfg->serial, cfg->serial_path, rt->serial_file),
		"console", console_json(cfg->console, cfg->console_path,
					rt->console_file),
		"phyllome", ours_json(cfg, fw));
	if (!root || (cfg->nr_affinity &&
		      json_object_set_new(json_object_get(root, "cpus"),
					  "affinity", affinity_json(cfg))) ||
	    json_object_set_new(root, "vsock", vsock_json(cfg)) ||
	    json_object_set_new(root, "balloon", balloon_json(cfg)) ||
	    json_object_set_new(root, "fs", fs_json(cfg)) ||
	    json_object_set_new(root, "landlock_enable", json_boolean(cfg->landlock)) ||
	    json_object_set_new(root, "landlock_rules", landlock_rules_json(cfg))) {
		json_decref(root);
		return NULL;
	}
	char *text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	return text;
}
