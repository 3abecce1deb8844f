/* SPDX-License-Identifier: Apache-2.0 */
/* Taps and tuns made the way libvirt makes them, for the tests that hand
 * their descriptors to --net fd=, and a count of this process's open
 * descriptors, to show that nothing leaked. */
#ifndef PHY_TEST_TUN_HELPER_H
#define PHY_TEST_TUN_HELPER_H

#include <dirent.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* A queue of tun/tap `name` with these TUNSETIFF flags; -1 on failure. */
static inline int tun_queue(const char *name, short flags)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct ifreq ifr = { .ifr_flags = flags };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

#define TAP_FLAGS (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)

static inline int open_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

#endif
