/* SPDX-License-Identifier: Apache-2.0 */
/* The VM configuration behind the opaque struct phy_config. */
#ifndef PHY_VMM_CONFIG_H
#define PHY_VMM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include <phyllome/vmm.h>

enum serial_mode {
	SERIAL_TTY,  /* the VMM's stdout (and the CLI feeds stdin) */
	SERIAL_OFF,  /* no UART at all */
	SERIAL_NULL, /* a UART whose output is discarded */
	SERIAL_FILE, /* output appended to a file */
};

/* A raw guest program instead of a Linux kernel (payload tests). */
enum payload_mode {
	PAYLOAD_NONE,
	PAYLOAD_REAL16, /* loaded at 0x1000, entered in real mode at 0:0x1000 */
	PAYLOAD_LONG64, /* loaded at 1 MiB, entered in 64-bit mode at 1 MiB */
};

#define CONFIG_DEFAULT_CPUS 1
#define CONFIG_DEFAULT_MEMORY (512ULL << 20)
#define CONFIG_MIN_MEMORY (16ULL << 20)
#define CONFIG_MAX_MEMORY (1ULL << 40)
#define CONFIG_DEFAULT_CMDLINE "console=ttyS0"

#define CONFIG_MAX_DISKS 16
#define CONFIG_DISK_DEFAULT_QUEUE_SIZE 256
#define CONFIG_DISK_MAX_QUEUE_SIZE 1024
#define CONFIG_DISK_MAX_QUEUES 16
#define CONFIG_DISK_ID_LEN 20 /* VIRTIO_BLK_ID_BYTES */

/* --disk path=IMG[,readonly=on][,direct=on|off][,num_queues=N]
 *        [,queue_size=N][,id=ID] */
struct disk_config {
	char *path;
	bool readonly;
	bool direct;
	unsigned num_queues; /* 1..CONFIG_DISK_MAX_QUEUES */
	unsigned queue_size; /* power of two, 2..CONFIG_DISK_MAX_QUEUE_SIZE */
	char id[CONFIG_DISK_ID_LEN + 1]; /* "" : none given */
};

#define CONFIG_MAX_NETS 8
#define CONFIG_NET_MAX_QUEUE_PAIRS 8
#define CONFIG_NET_DEFAULT_QUEUE_SIZE 256
#define CONFIG_NET_MAX_QUEUE_SIZE 1024
#define CONFIG_NET_IFNAME_LEN 15 /* IFNAMSIZ - 1 */
#define CONFIG_NET_ID_LEN 31

/* --net tap=NAME[,mac=MAC][,ip=IP,mask=MASK][,num_queues=N]
 *       [,queue_size=N][,id=ID] */
struct net_config {
	char tap[CONFIG_NET_IFNAME_LEN + 1]; /* "": the kernel picks a name */
	uint8_t mac[6];   /* the guest's; a stable default from the id */
	bool mac_given;
	bool has_ip;
	uint32_t ip, mask; /* host-side IPv4 of the tap, network order */
	unsigned pairs;      /* queue pairs: num_queues / 2 */
	unsigned queue_size; /* power of two, 2..CONFIG_NET_MAX_QUEUE_SIZE */
	char id[CONFIG_NET_ID_LEN + 1]; /* "": none given */
};

#define CONFIG_GPU_MAX_OUTPUTS 16
#define CONFIG_GPU_MIN_DISPLAY 16
#define CONFIG_GPU_MAX_DISPLAY 4095 /* an EDID detailed timing: 12 bits */
#define CONFIG_GPU_DEFAULT_HOST_MEM (256ULL << 20)

enum gpu_mode {
	GPU_NONE,
	GPU_2D,
	GPU_VIRGL,
};

/* --gpu mode=virgl|2d[,width=W,height=H][,outputs=N][,max_hostmem=SIZE] */
struct gpu_config {
	enum gpu_mode mode;
	unsigned width, height; /* preferred display mode */
	unsigned outputs;       /* scanouts, 1..CONFIG_GPU_MAX_OUTPUTS */
	uint64_t max_host_mem;  /* bytes the guest's resources may take */
};

enum display_mode {
	DISPLAY_NONE, /* headless (default) */
	DISPLAY_SDL,  /* an SDL2 window for scanout 0, with keyboard and tablet */
};

struct phy_config {
	char *kernel;
	char *initramfs;
	char *cmdline; /* NULL: CONFIG_DEFAULT_CMDLINE */
	unsigned cpus;
	uint64_t memory;
	bool memory_thp;    /* advise transparent huge pages (default on) */
	bool memory_shared; /* a memfd instead of private memory */
	enum serial_mode serial;
	char *serial_path;
	bool console_off;
	struct disk_config disks[CONFIG_MAX_DISKS];
	unsigned nr_disks;
	struct net_config nets[CONFIG_MAX_NETS];
	unsigned nr_nets;
	struct gpu_config gpu;
	enum display_mode display;
	char *screenshot_on_exit; /* PNG of scanout 0 when the VM stops */
	char *api_socket;    /* --api-socket: the control API's Unix socket */
	char *event_monitor; /* --event-monitor: file or FIFO for events */

	/* Test hooks, not options: see tests/payload. */
	enum payload_mode payload_mode;
	const uint8_t *payload;
	size_t payload_size;
	uint16_t debug_exit_port; /* 0: none; a write stops the VM */
};

/* Parses "512M", "1G", "4096" (bytes) ...; returns 0 or -1. */
int config_parse_size(const char *s, uint64_t *out);

/* Deep copy, for a VM that outlives the caller's config. */
int config_copy(struct phy_config *dst, const struct phy_config *src);
void config_release(struct phy_config *cfg);

#endif
