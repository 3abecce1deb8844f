/* SPDX-License-Identifier: Apache-2.0 */
/* --net tap=NAME|fd=N|fd=[N,M,...][,mac=MAC][,ip=IP,mask=MASK]
 *       [,num_queues=N][,queue_size=N][,id=ID]: a virtio-net device on a
 * tap, opened (or created) by name or adopted from descriptors.
 *
 * fd=: the descriptors stay the caller's. Parsing checks them
 * (tap_check_fds()) and keeps close-on-exec duplicates in the item, so
 * the configuration owns its own from the moment phy_config_set() or
 * phy_config_add_net() succeeds, and closes them when it is freed (or
 * the item replaced or dropped); on failure it keeps none. A copy of the
 * configuration (phy_vm_create()) duplicates them again, and the VM's
 * tap works on duplicates of those: phy_vm_destroy() closes the VM's. */
#ifndef PHY_VMM_CONFIG_CONFIG_NET_H
#define PHY_VMM_CONFIG_CONFIG_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/config/option.h"

#define CONFIG_MAX_NETS 8
#define CONFIG_NET_MAX_QUEUE_PAIRS PHY_NET_MAX_QUEUE_PAIRS
#define CONFIG_NET_DEFAULT_QUEUE_SIZE 256
#define CONFIG_NET_MAX_QUEUE_SIZE 1024
#define CONFIG_NET_IFNAME_LEN 15 /* IFNAMSIZ - 1 */
#define CONFIG_NET_ID_LEN 31

struct net_config {
	char tap[CONFIG_NET_IFNAME_LEN + 1]; /* "": the kernel picks a name */
	uint8_t mac[6];   /* the guest's; a stable default from the id */
	bool mac_given;
	bool has_ip;
	uint32_t ip, mask; /* host-side IPv4 of the tap, network order */
	unsigned pairs;      /* queue pairs: num_queues / 2 */
	unsigned queue_size; /* power of two, 2..CONFIG_NET_MAX_QUEUE_SIZE */
	char id[CONFIG_NET_ID_LEN + 1]; /* "": none given */
	bool tap_given; /* tap= (perhaps empty) was given */
	bool queues_given; /* num_queues= was given */
	/* fd=: nr_fds descriptors as the caller numbered them (for vm.info)
	 * and the item's own duplicates (-1: none); tap[] is then the name
	 * the kernel gives their interface. */
	unsigned nr_fds;
	int given_fds[CONFIG_NET_MAX_QUEUE_PAIRS];
	int fds[CONFIG_NET_MAX_QUEUE_PAIRS];
};

extern const struct device_option net_option;

#endif
