// SPDX-License-Identifier: Apache-2.0
/* A configuration's life: defaults, deep copies, release, and its device
 * items. */
#include "vmm/config/config.h"

#include <stdlib.h>
#include <string.h>

#include "vmm/config/cpu_affinity.h"
#include "vmm/config/option.h"
#include "vmm/config/options.h"

struct phy_config *phy_config_new(void)
{
	struct phy_config *cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return NULL;
	cfg->cpus = CONFIG_DEFAULT_CPUS;
	cfg->memory = CONFIG_DEFAULT_MEMORY;
	cfg->memory_thp = true;
	cfg->serial = SERIAL_TTY;
	cfg->console = SERIAL_OFF;
	cfg->api_socket_fd = cfg->event_monitor_fd = -1;
	size_t n;
	phy_config_options(&n);
	for (size_t i = 0; i < n; i++) {
		const struct device_option *opt = config_device_option(i);
		if (opt && opt->default_value &&
		    config_add_device(cfg, opt, opt->default_value, true, NULL)) {
			phy_config_free(cfg);
			return NULL;
		}
	}
	return cfg;
}

static void release_items(struct config_item *items, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (items[i].opt->release)
			items[i].opt->release(items[i].conf);
		free(items[i].conf);
	}
}

void config_release(struct phy_config *cfg)
{
	free(cfg->kernel);
	free(cfg->initramfs);
	free(cfg->cmdline);
	free(cfg->serial_path);
	free(cfg->console_path);
	free(cfg->api_socket);
	free(cfg->event_monitor);
	free(cfg->screenshot_on_exit);
	free(cfg->landlock_socket);
	free(cfg->affinity);
	release_items(cfg->items, cfg->nr_items);
	memset(cfg, 0, sizeof(*cfg));
}

void phy_config_free(struct phy_config *cfg)
{
	if (!cfg)
		return;
	config_release(cfg);
	free(cfg);
}

static int dup_str(char **s)
{
	if (!*s)
		return 0;
	*s = strdup(*s);
	return *s ? 0 : -1;
}

/* dst holds src's bytes: gives it copies of what they point to. */
static int copy_owned(struct phy_config *dst)
{
	char **strs[] = { &dst->kernel, &dst->initramfs, &dst->cmdline,
			  &dst->serial_path, &dst->console_path, &dst->api_socket, &dst->event_monitor,
			  &dst->screenshot_on_exit, &dst->landlock_socket };
	bool ok = true;
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		ok &= !dup_str(strs[i]);
	if (dst->affinity) {
		size_t bytes = dst->nr_affinity * sizeof(*dst->affinity);
		struct cpu_affinity *a = malloc(bytes);
		if (a)
			memcpy(a, dst->affinity, bytes);
		dst->affinity = a;
		ok &= a != NULL;
	}
	unsigned n = dst->nr_items, done = 0;
	for (; ok && done < n; done++) {
		struct config_item *it = &dst->items[done];
		void *conf = malloc(it->opt->conf_size);
		if (!conf)
			break;
		memcpy(conf, it->conf, it->opt->conf_size);
		it->conf = conf;
		if (it->opt->copy && it->opt->copy(conf)) {
			free(conf);
			break;
		}
	}
	/* Items not copied still point into the source: not ours to free. */
	dst->nr_items = done;
	return ok && done == n ? 0 : -1;
}

int config_copy(struct phy_config *dst, const struct phy_config *src)
{
	*dst = *src;
	if (copy_owned(dst)) {
		config_release(dst);
		return -1;
	}
	return 0;
}

unsigned config_count(const struct phy_config *cfg,
		      const struct device_option *opt)
{
	unsigned n = 0;
	for (unsigned i = 0; i < cfg->nr_items; i++)
		n += cfg->items[i].opt == opt;
	return n;
}

const void *config_item(const struct phy_config *cfg,
			const struct device_option *opt, unsigned n)
{
	for (unsigned i = 0; i < cfg->nr_items; i++)
		if (cfg->items[i].opt == opt && n-- == 0)
			return cfg->items[i].conf;
	return NULL;
}
