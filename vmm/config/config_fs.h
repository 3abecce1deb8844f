/* SPDX-License-Identifier: Apache-2.0 */
/* --fs tag=TAG,socket=PATH[,num_queues=N][,queue_size=N][,id=ID]: a
 * virtio-fs device served by a vhost-user back end (virtiofsd) on the
 * Unix socket PATH (devices/virtio/virtio_fs.h). Needs --memory
 * shared=on. Cloud Hypervisor's syntax; num_queues counts the request
 * queues (the hiprio queue comes on top). */
#ifndef PHY_VMM_CONFIG_CONFIG_FS_H
#define PHY_VMM_CONFIG_CONFIG_FS_H

#include "devices/virtio/virtio_fs.h"
#include "vmm/config/option.h"

#define CONFIG_FS_ID_LEN 31
#define CONFIG_FS_QUEUE_SIZE 1024 /* Cloud Hypervisor's default */
#define CONFIG_FS_MAX 8

struct fs_config {
	char tag[VIRTIO_FS_TAG_LEN + 1];
	char *socket;
	unsigned num_queues; /* request queues, default 1 */
	unsigned queue_size;
	char id[CONFIG_FS_ID_LEN + 1]; /* "": none given */
};

extern const struct device_option fs_option;

#endif
