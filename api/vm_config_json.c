/* SPDX-License-Identifier: Apache-2.0 */
#include "api/vm_config_json.h"

#include <stdio.h>

#include "vmm/config/config_disk.h"
#include "vmm/config/config_firmware.h"
#include "vmm/config/config_net.h"

void vm_disk_id(const struct phy_config *cfg, unsigned i, char *buf,
		size_t size)
{
	const struct disk_config *d = config_item(cfg, &disk_option, i);
	if (d->id[0])
		snprintf(buf, size, "%s", d->id);
	else
		snprintf(buf, size, "_disk%u", i);
}

void vm_net_id(const struct phy_config *cfg, unsigned i, char *buf,
	       size_t size)
{
	const struct net_config *n = config_item(cfg, &net_option, i);
	if (n->id[0])
		snprintf(buf, size, "%s", n->id);
	else
		snprintf(buf, size, "_net%u", i);
}

static const char *serial_mode(enum serial_mode m)
{
	switch (m) {
	case SERIAL_TTY: return "Tty";
	case SERIAL_OFF: return "Off";
	case SERIAL_NULL: return "Null";
	case SERIAL_FILE: return "File";
	}
	return "Off";
}

static void disks_json(struct json_buf *b, const struct phy_config *cfg)
{
	unsigned n = config_count(cfg, &disk_option);
	if (!n) {
		json_lit(b, "null");
		return;
	}
	json_lit(b, "[");
	for (unsigned i = 0; i < n; i++) {
		const struct disk_config *d = config_item(cfg, &disk_option, i);
		char id[CONFIG_DISK_ID_LEN + 16];
		vm_disk_id(cfg, i, id, sizeof(id));
		json_lit(b, i ? ",{\"path\":" : "{\"path\":");
		json_str(b, d->path);
		json_lit(b, ",\"readonly\":");
		json_bool(b, d->readonly);
		json_lit(b, ",\"direct\":");
		json_bool(b, d->direct);
		json_printf(b, ",\"num_queues\":%u,\"queue_size\":%u,\"id\":",
			    d->num_queues, d->queue_size);
		json_str(b, id);
		json_lit(b, "}");
	}
	json_lit(b, "]");
}

static void nets_json(struct json_buf *b, const struct phy_config *cfg)
{
	unsigned nr = config_count(cfg, &net_option);
	if (!nr) {
		json_lit(b, "null");
		return;
	}
	json_lit(b, "[");
	for (unsigned i = 0; i < nr; i++) {
		const struct net_config *n = config_item(cfg, &net_option, i);
		char id[CONFIG_NET_ID_LEN + 16];
		vm_net_id(cfg, i, id, sizeof(id));
		json_lit(b, i ? ",{\"tap\":" : "{\"tap\":");
		json_str(b, n->tap[0] ? n->tap : NULL);
		json_printf(b, ",\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\"",
			    n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4],
			    n->mac[5]);
		json_printf(b, ",\"num_queues\":%u,\"queue_size\":%u,\"id\":",
			    2 * n->pairs, n->queue_size);
		json_str(b, id);
		json_lit(b, "}");
	}
	json_lit(b, "]");
}

void vm_config_json(struct json_buf *b, const struct phy_config *cfg)
{
	/* CPU hotplug does not exist: max is boot. */
	json_printf(b, "{\"cpus\":{\"boot_vcpus\":%u,\"max_vcpus\":%u},",
		    cfg->cpus, cfg->cpus);
	json_lit(b, "\"memory\":{\"size\":");
	json_u64(b, cfg->memory);
	json_printf(b, ",\"shared\":%s,\"thp\":%s",
		    cfg->memory_shared ? "true" : "false",
		    cfg->memory_thp ? "true" : "false");
	const struct firmware_config *fw = config_firmware(cfg);
	json_lit(b, "},\"payload\":{\"firmware\":");
	json_str(b, fw ? fw->path : NULL);
	json_lit(b, ",\"kernel\":");
	json_str(b, cfg->kernel);
	/* A command line is the kernel's: firmware boot has none. */
	json_lit(b, ",\"cmdline\":");
	json_str(b, fw ? NULL : cfg->cmdline ? cfg->cmdline : CONFIG_DEFAULT_CMDLINE);
	json_lit(b, ",\"initramfs\":");
	json_str(b, cfg->initramfs);
	json_lit(b, "},\"disks\":");
	disks_json(b, cfg);
	json_lit(b, ",\"net\":");
	nets_json(b, cfg);
	json_lit(b, ",\"serial\":{\"file\":");
	json_str(b, cfg->serial == SERIAL_FILE ? cfg->serial_path : NULL);
	json_lit(b, ",\"mode\":");
	json_str(b, serial_mode(cfg->serial));
	/* There is no virtio console: it is always off. */
	json_lit(b, "},\"console\":{\"file\":null,\"mode\":\"Off\"}}");
}
