/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VM configuration behind the opaque struct phy_config: the machine's
 * own options (kernel, CPUs, memory, serial, ...) as fields, and one item
 * per device option given (--disk, --net, --gpu, --rng, ...), each holding
 * what that option's parser made of its value (option.h).
 */
#ifndef PHY_VMM_CONFIG_CONFIG_H
#define PHY_VMM_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include <phyllome/vmm.h>

#include "common/sandbox.h"

struct cpu_affinity;
struct device_option;

/* Where a console goes: --serial (the UART) and --console (virtio-console)
 * alike (vmm/chardev.h). */
enum serial_mode {
	SERIAL_TTY,    /* the VMM's stdout (and the CLI feeds stdin) */
	SERIAL_OFF,    /* no device at all */
	SERIAL_NULL,   /* a device whose output is discarded */
	SERIAL_FILE,   /* output written to a file (path) */
	SERIAL_PTY,    /* a pseudo-terminal the VMM opens */
	SERIAL_SOCKET, /* a Unix socket the VMM listens on (path) */
};

enum display_mode {
	DISPLAY_NONE, /* headless (default) */
	DISPLAY_SDL,  /* an SDL2 window for scanout 0, with keyboard and tablet */
};

#define CONFIG_DEFAULT_CPUS 1
#define CONFIG_DEFAULT_MEMORY (512ULL << 20)
#define CONFIG_MIN_MEMORY (16ULL << 20)
#define CONFIG_MAX_MEMORY (1ULL << 40)
#define CONFIG_DEFAULT_CMDLINE "console=ttyS0"

/* Device options given, all kinds together (each kind has its own cap). */
#define CONFIG_MAX_ITEMS 64

struct config_item {
	const struct device_option *opt; /* the option that made it */
	void *conf;                      /* opt->conf_size bytes, owned */
	bool is_default;                 /* from opt->default_value */
};

struct phy_config {
	char *kernel;
	char *initramfs;
	char *cmdline; /* NULL: CONFIG_DEFAULT_CMDLINE */
	unsigned cpus;
	struct cpu_affinity *affinity; /* --cpus affinity=, owned */
	unsigned nr_affinity;
	uint64_t memory;
	bool memory_thp;    /* advise transparent huge pages (default on) */
	bool memory_shared; /* a memfd instead of private memory */
	enum serial_mode serial;  /* --serial, default tty */
	char *serial_path;        /* file= or socket=; NULL for the others */
	enum serial_mode console; /* --console (virtio-console), default off */
	char *console_path;
	enum display_mode display;
	char *screenshot_on_exit; /* PNG of scanout 0 when the VM stops */
	/* --api-socket and --event-monitor: a path, or fd=N (a descriptor
	 * the caller passed and keeps; -1 when none). At most one of each. */
	char *api_socket;
	int api_socket_fd;
	char *event_monitor;
	int event_monitor_fd;
	bool landlock; /* --landlock: the VM's threads confined (vm_landlock.c) */
	/* The VMM's --api-socket, which a confined thread removes at the
	 * end: its directory's sockets are the VM's too. Not an option. */
	char *landlock_socket;
	/* --seccomp: the library's threads' filters (off unless asked);
	 * the VMM's, not VmConfig's, as in Cloud Hypervisor. */
	enum sandbox_mode seccomp;

	struct config_item items[CONFIG_MAX_ITEMS];
	unsigned nr_items;
};

/* How many items opt made, and the n-th of them (NULL past the end). */
unsigned config_count(const struct phy_config *cfg,
		      const struct device_option *opt);
const void *config_item(const struct phy_config *cfg,
			const struct device_option *opt, unsigned n);

/* Parses "512M", "1G", "4096" (bytes) ...; returns 0 or -1. */
int config_parse_size(const char *s, uint64_t *out);

/* Deep copy, for a VM that outlives the caller's config. */
int config_copy(struct phy_config *dst, const struct phy_config *src);
void config_release(struct phy_config *cfg);

#endif
