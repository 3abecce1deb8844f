/* SPDX-License-Identifier: Apache-2.0 */
/* Reading link state out of rtnetlink messages (RTM_NEWLINK/DELLINK). */
#ifndef PHY_DEVICES_NET_NETLINK_LINK_H
#define PHY_DEVICES_NET_NETLINK_LINK_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Walks a buffer of netlink messages as recv() returned it and reports
 * the last state it holds for interface `ifindex`: 1 with *up set (IFF_UP;
 * a deleted interface is down), 0 when no message is about it, -1 when
 * the buffer turns malformed before any message about it (a state seen
 * before the fault is still reported, with 1).
 */
int netlink_link_state(const void *buf, size_t len, int ifindex, bool *up);

#endif
