// SPDX-License-Identifier: Apache-2.0
#include "devices/net/netlink_link.h"

#include <string.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

int netlink_link_state(const void *buf, size_t len, int ifindex, bool *up)
{
	const unsigned char *p = buf;
	int found = 0;

	while (len >= sizeof(struct nlmsghdr)) {
		struct nlmsghdr h;
		memcpy(&h, p, sizeof(h)); /* the buffer need not be aligned */
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len)
			return found ? found : -1;
		if ((h.nlmsg_type == RTM_NEWLINK || h.nlmsg_type == RTM_DELLINK) &&
		    h.nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifinfomsg))) {
			struct ifinfomsg ifi;
			memcpy(&ifi, p + NLMSG_HDRLEN, sizeof(ifi));
			if (ifi.ifi_index == ifindex) {
				*up = h.nlmsg_type == RTM_NEWLINK &&
				      (ifi.ifi_flags & IFF_UP);
				found = 1;
			}
		}
		size_t step = NLMSG_ALIGN(h.nlmsg_len);
		if (step >= len)
			break;
		p += step;
		len -= step;
	}
	return found;
}
