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
 *
 * Or the tap is adopted (--net fd=): someone else (libvirt) opened its
 * queues and hands over the descriptors. The tap then works on
 * close-on-exec duplicates of them, which share the open files (and
 * their O_NONBLOCK, offloads and queue attachment) with the originals;
 * it closes only its duplicates, with every queue attached again.
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
	/* Adopt these queues (one per pair, nr_fds == pairs) instead of
	 * opening `name`; they stay the caller's (tap_open duplicates them). */
	const int *fds;
	unsigned nr_fds;
};

struct tap {
	int fds[PHY_NET_MAX_QUEUE_PAIRS];
	unsigned nr_fds;
	char name[TAP_NAME_LEN + 1]; /* the kernel's, when it chose */
	int ifindex;
	bool created;  /* by this VMM: removed when it exits */
	bool adopted;  /* queues from tap_params.fds */
	bool offloads; /* takes checksum and TSO offloads (TUNSETOFFLOAD) */
	unsigned mtu;
	int link_fd;   /* netlink, RTMGRP_LINK, non-blocking; -1: none */
	/* An AF_INET datagram socket for the interface's flags, opened with
	 * the watch, so that polling the link opens none (seccomp). */
	int ctl_fd;
	bool link_up;  /* IFF_UP, as last seen */
	unsigned active; /* queues attached (TUNSETQUEUE) */

	/* Per queue pair; relaxed atomics, read with tap_stats(). */
	struct phy_net_queue_stats stats[PHY_NET_MAX_QUEUE_PAIRS];
};

/* Opens or creates p->name, or adopts p->fds; errors name --net and the
 * interface (or the descriptor). */
int tap_open(struct tap *t, const struct tap_params *p,
	     struct phy_error *err);

/*
 * Checks that fd can be adopted as a queue of a tap for virtio-net: an
 * open character device attached to a tap (TUNGETIFF; not a tun) with
 * virtio-net headers (IFF_VNET_HDR) and no packet information
 * (IFF_NO_PI), both of which only the opener can set, and, when the
 * device has several queue pairs, IFF_MULTI_QUEUE. Fills name with the
 * interface's. Changes nothing; errors are one line naming --net and fd=.
 */
int tap_check_fd(int fd, bool multi_queue, char name[TAP_NAME_LEN + 1],
		 struct phy_error *err);
/* tap_check_fd() on each of n (1..PHY_NET_MAX_QUEUE_PAIRS), which must
 * also be n different queues of one tap; name: the tap's. */
int tap_check_fds(const int *fds, unsigned n, char name[TAP_NAME_LEN + 1],
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
