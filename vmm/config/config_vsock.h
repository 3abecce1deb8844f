/* SPDX-License-Identifier: Apache-2.0 */
/* --vsock cid=N,socket=PATH[,id=ID][,iommu=off][,pci_segment=0]: the
 * virtio-vsock device with Cloud Hypervisor's hybrid Unix-socket host
 * side (devices/virtio/virtio_vsock.h). One per VM. */
#ifndef PHY_VMM_CONFIG_CONFIG_VSOCK_H
#define PHY_VMM_CONFIG_CONFIG_VSOCK_H

#include <stdint.h>

#include "vmm/config/option.h"

#define CONFIG_VSOCK_ID_LEN 31

struct vsock_config {
	uint64_t cid;  /* 3 .. 2^32 - 2 */
	char *socket;  /* the listening socket's path; PATH_P for guest ports */
	char id[CONFIG_VSOCK_ID_LEN + 1]; /* "": none given */
};

extern const struct device_option vsock_option;

#endif
