/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A tap interface opened for a --net option: one file descriptor per queue
 * pair (IFF_MULTI_QUEUE when there are several), virtio-net headers on
 * every frame (IFF_VNET_HDR, 12 bytes), offloads switched to what the
 * guest accepts, and a netlink socket that hears the interface going up
 * and down.
 *
 * Like a disk image, the tap belongs to the VM, not to the device model:
 * it stays open across guest reboots, so a tap the VMM created keeps its
 * name and host-side set-up, and its counters carry on. A tap the VMM
 * created is not persistent: the kernel removes it with its last file
 * descriptor, so it goes away even if the VMM is killed.
 */
#ifndef PHY_DEVICES_NET_TAP_H
#define PHY_DEVICES_NET_TAP_H

#include <stdbool.h>
#include <stdint.h>

#include <phyllome/vmm.h>

#define TAP_NAME_LEN 15 /* IFNAMSIZ - 1 */

/* What --net says about the tap. */
struct tap_params {
	const char *name; /* an existing tap, or a new one; "": the kernel names it */
	bool has_ip;
	uint32_t ip, mask; /* host-side IPv4 of the tap, network order */
	unsigned pairs;    /* queue pairs, 1..PHY_NET_MAX_QUEUE_PAIRS */
};

struct tap {
	int fds[PHY_NET_MAX_QUEUE_PAIRS];
	unsigned nr_fds;
	char name[TAP_NAME_LEN + 1]; /* the kernel's, when it chose */
	int ifindex;
	bool created;  /* by this VMM: removed when it exits */
	bool offloads; /* takes checksum and TSO offloads (TUNSETOFFLOAD) */
	unsigned mtu;
	int link_fd;   /* netlink, RTMGRP_LINK, non-blocking; -1: none */
	bool link_up;  /* IFF_UP, as last seen */
	unsigned active; /* queues attached (TUNSETQUEUE) */

	/* Per queue pair; relaxed atomics, read with tap_stats(). */
	struct phy_net_queue_stats stats[PHY_NET_MAX_QUEUE_PAIRS];
};

/* Opens or creates p->name; errors name --net and the interface. */
int tap_open(struct tap *t, const struct tap_params *p,
	     struct phy_error *err);
/* Safe on a zeroed tap, a failed open, or twice. */
void tap_close(struct tap *t);

/* Offloads for frames the tap hands the guest, from the guest's
 * virtio-net features (GUEST_CSUM, GUEST_TSO4/6, GUEST_ECN). */
int tap_set_offload(struct tap *t, uint64_t guest_features);

/* Lets the kernel steer frames to the first n queues only. */
int tap_set_queues(struct tap *t, unsigned n);

/* Reads what the netlink socket has and returns whether the interface
 * is up; t->link_up follows. */
bool tap_poll_link(struct tap *t);

void tap_stats(const struct tap *t, struct phy_net_stats *out);

#endif
