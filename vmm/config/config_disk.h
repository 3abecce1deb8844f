/* SPDX-License-Identifier: Apache-2.0 */
/* --disk path=IMG[,readonly=on][,direct=on|off][,num_queues=N]
 *        [,queue_size=N][,id=ID]: a virtio-blk disk. */
#ifndef PHY_VMM_CONFIG_CONFIG_DISK_H
#define PHY_VMM_CONFIG_CONFIG_DISK_H

#include <stdbool.h>

#include "vmm/config/option.h"

#define CONFIG_MAX_DISKS 16
#define CONFIG_DISK_DEFAULT_QUEUE_SIZE 256
#define CONFIG_DISK_MAX_QUEUE_SIZE 1024
#define CONFIG_DISK_MAX_QUEUES 16
#define CONFIG_DISK_ID_LEN 20 /* VIRTIO_BLK_ID_BYTES */

struct disk_config {
	char *path;
	bool readonly;
	bool direct;
	unsigned num_queues; /* 1..CONFIG_DISK_MAX_QUEUES */
	unsigned queue_size; /* power of two, 2..CONFIG_DISK_MAX_QUEUE_SIZE */
	char id[CONFIG_DISK_ID_LEN + 1]; /* "" : none given */
};

extern const struct device_option disk_option;

#endif
