// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include "devices/net/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_tun.h>
#include <linux/kcmp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/virtio_net.h>
#include <net/if.h>

#include "common/error.h"
#include "devices/net/netlink_link.h"

#define TAP_VNET_HDR_LEN 12 /* struct virtio_net_hdr_v1: VERSION_1 */

static int set_vnet_hdr(struct tap *t, int fd, struct phy_error *err)
{
	int hdr = TAP_VNET_HDR_LEN;
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0)
		return phy_err_errno(err, PHY_E_IO, errno,
				     "--net: tap %s: TUNSETVNETHDRSZ", t->name);
	return 0;
}

static int open_queue(struct tap *t, const struct tap_params *cfg,
		      struct phy_error *err)
{
	/* Non-blocking: the device thread reads and writes the tap itself
	 * and must never wait on it; an empty or full tap answers EAGAIN
	 * and the queue polls it (struct net_poll). */
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return phy_err_errno(err, PHY_E_IO, errno, "--net: /dev/net/tun");
	struct ifreq ifr = { 0 };
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (cfg->pairs > 1)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	/* The first open may leave the name to the kernel; the others
	 * attach to the interface it made. */
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s",
		 t->nr_fds ? t->name : cfg->name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		close(fd);
		if (e == EINVAL && cfg->pairs > 1)
			return phy_err(err, PHY_E_INVALID,
				       "--net: tap %s exists and is not a multi-queue tap (num_queues=%u needs one)",
				       cfg->name, 2 * cfg->pairs);
		if (e == EBUSY)
			return phy_err(err, PHY_E_INVALID,
				       "--net: tap %s is in use by another process", cfg->name);
		return phy_err_errno(err, e == EPERM ? PHY_E_INVALID : PHY_E_IO, e,
				     "--net: cannot open tap '%s'", cfg->name);
	}
	if (!t->nr_fds)
		memcpy(t->name, ifr.ifr_name, sizeof(t->name) - 1);
	t->fds[t->nr_fds++] = fd;
	return set_vnet_hdr(t, fd, err);
}

int tap_check_fd(int fd, bool multi_queue, char name[TAP_NAME_LEN + 1],
		 struct phy_error *err)
{
	struct stat st;
	if (fcntl(fd, F_GETFD) < 0)
		return phy_err(err, PHY_E_INVALID,
			       "--net: fd=%d is not an open descriptor", fd);
	/* No tap ioctl on what cannot be one (a socket's ioctls go to
	 * its protocol). */
	if (fstat(fd, &st) || !S_ISCHR(st.st_mode))
		return phy_err(err, PHY_E_INVALID,
			       "--net: fd=%d is not a tap (not a character device)", fd);
	struct ifreq ifr = { 0 };
	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return phy_err_errno(err, PHY_E_INVALID, errno,
				     "--net: fd=%d is not a queue attached to a tap (TUNGETIFF)",
				     fd);
	memcpy(name, ifr.ifr_name, TAP_NAME_LEN);
	name[TAP_NAME_LEN] = '\0';
	unsigned fl = (unsigned short)ifr.ifr_flags;
	if (!(fl & IFF_TAP))
		return phy_err(err, PHY_E_INVALID,
			       "--net: fd=%d is a queue of %s, a tun (IP) device, not a tap",
			       fd, name);
	if (!(fl & IFF_VNET_HDR) || !(fl & IFF_NO_PI))
		return phy_err(err, PHY_E_INVALID,
			       "--net: fd=%d: tap %s was opened without %s, which only its opener can set",
			       fd, name, fl & IFF_NO_PI ? "IFF_VNET_HDR" : "IFF_NO_PI");
	if (multi_queue && !(fl & IFF_MULTI_QUEUE))
		return phy_err(err, PHY_E_INVALID,
			       "--net: fd=%d: tap %s is not a multi-queue tap (several fds need IFF_MULTI_QUEUE)",
			       fd, name);
	return 0;
}

/* Whether a and b are the same open file (one queue), where the kernel
 * can tell (kcmp). */
static bool same_file(int a, int b)
{
	pid_t pid = getpid();
	return syscall(SYS_kcmp, pid, pid, KCMP_FILE, a, b) == 0;
}

int tap_check_fds(const int *fds, unsigned n, char name[TAP_NAME_LEN + 1],
		  struct phy_error *err)
{
	if (n < 1 || n > PHY_NET_MAX_QUEUE_PAIRS)
		return phy_err(err, PHY_E_INVALID,
			       "--net: fd= takes 1 to %d descriptors, one per queue pair; %u given",
			       PHY_NET_MAX_QUEUE_PAIRS, n);
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = 0; j < i; j++)
			if (fds[j] == fds[i])
				return phy_err(err, PHY_E_INVALID,
					       "--net: fd=%d is given twice", fds[i]);
	for (unsigned i = 0; i < n; i++) {
		char this[TAP_NAME_LEN + 1];
		int ret = tap_check_fd(fds[i], n > 1, i ? this : name, err);
		if (ret)
			return ret;
		if (i && strcmp(this, name))
			return phy_err(err, PHY_E_INVALID,
				       "--net: fd=%d is a queue of tap %s, fd=%d of tap %s",
				       fds[0], name, fds[i], this);
		for (unsigned j = 0; j < i; j++)
			if (same_file(fds[j], fds[i]))
				return phy_err(err, PHY_E_INVALID,
					       "--net: fd=%d and fd=%d are the same queue of tap %s",
					       fds[j], fds[i], name);
	}
	return 0;
}

/* fd=: the caller's queues, checked, each as a non-blocking duplicate. */
static int adopt_queues(struct tap *t, const struct tap_params *cfg,
			struct phy_error *err)
{
	t->adopted = true;
	int ret = tap_check_fds(cfg->fds, cfg->nr_fds, t->name, err);
	for (unsigned i = 0; !ret && i < cfg->nr_fds; i++) {
		int given = cfg->fds[i];
		int fd = fcntl(given, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			return phy_err_errno(err, PHY_E_IO, errno,
					     "--net: fd=%d: cannot duplicate it", given);
		t->fds[t->nr_fds++] = fd;
		/* See open_queue() on why non-blocking; the flag is the open
		 * file's, so the caller's descriptor gets it too. */
		int fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
			return phy_err_errno(err, PHY_E_IO, errno,
					     "--net: fd=%d: cannot make it non-blocking", given);
		ret = set_vnet_hdr(t, fd, err);
	}
	return ret;
}

/* ioctls on the interface (not the queue) go through any socket. */
static int if_ioctl(unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	int r = ioctl(s, req, ifr) < 0 ? -errno : 0;
	close(s);
	return r;
}

static int set_addr(struct tap *t, unsigned long req, uint32_t addr)
{
	struct ifreq ifr = { 0 };
	memcpy(ifr.ifr_name, t->name, IFNAMSIZ - 1);
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = addr;
	return if_ioctl(req, &ifr);
}

/* The host side of the link: an address when asked for one, and up
 * when the VMM made the interface (an existing one is left as it is). */
static int configure_host(struct tap *t, const struct tap_params *cfg,
			  struct phy_error *err)
{
	int r;
	if (cfg->has_ip && ((r = set_addr(t, SIOCSIFADDR, cfg->ip)) ||
			    (r = set_addr(t, SIOCSIFNETMASK, cfg->mask))))
		return phy_err_errno(err, PHY_E_IO, -r,
				     "--net: tap %s: cannot set ip=/mask=", t->name);
	struct ifreq ifr = { 0 };
	memcpy(ifr.ifr_name, t->name, IFNAMSIZ - 1);
	if ((r = if_ioctl(SIOCGIFFLAGS, &ifr)))
		return phy_err_errno(err, PHY_E_IO, -r, "--net: tap %s: flags", t->name);
	if (t->created && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if ((r = if_ioctl(SIOCSIFFLAGS, &ifr)))
			return phy_err_errno(err, PHY_E_IO, -r,
					     "--net: tap %s: cannot bring it up", t->name);
	}
	t->link_up = t->created || (ifr.ifr_flags & IFF_UP);
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, t->name, IFNAMSIZ - 1);
	t->mtu = if_ioctl(SIOCGIFMTU, &ifr) ? 1500 : (unsigned)ifr.ifr_mtu;
	return 0;
}

/* Checksum and TSO offloads are taken together or not at all: TSO
 * without checksum offload is refused by the kernel, and a guest gets
 * either both or neither. */
static void probe_offloads(struct tap *t)
{
	unsigned all = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
	t->offloads = ioctl(t->fds[0], TUNSETOFFLOAD, all) == 0;
	if (ioctl(t->fds[0], TUNSETOFFLOAD, 0) < 0) {
		/* Offloads stay off until a guest asks: nothing to undo. */
	}
}

static void open_link_watch(struct tap *t)
{
	t->ctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	t->link_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    NETLINK_ROUTE);
	if (t->link_fd < 0)
		return;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	if (bind(t->link_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(t->link_fd);
		t->link_fd = -1;
	}
}

int tap_open(struct tap *t, const struct tap_params *cfg,
	     struct phy_error *err)
{
	memset(t, 0, sizeof(*t));
	t->link_fd = -1;
	t->ctl_fd = -1;
	int ret = 0;
	if (cfg->nr_fds) {
		ret = adopt_queues(t, cfg, err);
	} else {
		t->created = !cfg->name[0] || !if_nametoindex(cfg->name);
		for (unsigned i = 0; !ret && i < cfg->pairs; i++)
			ret = open_queue(t, cfg, err);
	}
	if (!ret) {
		t->ifindex = (int)if_nametoindex(t->name);
		t->active = t->nr_fds;
		open_link_watch(t);
		ret = configure_host(t, cfg, err);
	}
	if (!ret) {
		probe_offloads(t);
		ret = tap_set_queues(t, 1);
		if (ret)
			ret = phy_err_errno(err, PHY_E_IO, -ret,
					    "--net: tap %s: TUNSETQUEUE", t->name);
	}
	if (ret)
		tap_close(t);
	return ret;
}

void tap_close(struct tap *t)
{
	/* The caller's descriptors share our queues' attachment: leave
	 * them all attached, as they came. */
	if (t->adopted)
		tap_set_queues(t, t->nr_fds);
	for (unsigned i = 0; i < t->nr_fds; i++)
		close(t->fds[i]);
	t->nr_fds = 0;
	if (t->link_fd >= 0)
		close(t->link_fd);
	t->link_fd = -1;
	if (t->ctl_fd >= 0)
		close(t->ctl_fd);
	t->ctl_fd = -1;
}

int tap_set_offload(struct tap *t, uint64_t f)
{
	unsigned flags = 0;
	if (t->offloads && (f & (1ull << VIRTIO_NET_F_GUEST_CSUM))) {
		flags |= TUN_F_CSUM;
		if (f & (1ull << VIRTIO_NET_F_GUEST_TSO4))
			flags |= TUN_F_TSO4;
		if (f & (1ull << VIRTIO_NET_F_GUEST_TSO6))
			flags |= TUN_F_TSO6;
		if ((flags & (TUN_F_TSO4 | TUN_F_TSO6)) &&
		    (f & (1ull << VIRTIO_NET_F_GUEST_ECN)))
			flags |= TUN_F_TSO_ECN;
	}
	return ioctl(t->fds[0], TUNSETOFFLOAD, flags) < 0 ? -errno : 0;
}

int tap_set_queues(struct tap *t, unsigned n)
{
	if (t->nr_fds < 2 || n == t->active)
		return 0;
	if (n < 1)
		n = 1;
	if (n > t->nr_fds)
		n = t->nr_fds;
	/* Attach before detaching, so that at least one queue is always
	 * attached and the interface keeps its carrier. */
	for (unsigned i = 0; i < t->nr_fds; i++) {
		struct ifreq ifr = { .ifr_flags = i < n ? IFF_ATTACH_QUEUE
						      : IFF_DETACH_QUEUE };
		if (ioctl(t->fds[i], TUNSETQUEUE, &ifr) < 0 && errno != EINVAL)
			return -errno;
	}
	__atomic_store_n(&t->active, n, __ATOMIC_RELAXED);
	return 0;
}

bool tap_poll_link(struct tap *t)
{
	char buf[8192];
	ssize_t n;
	bool seen = false, up = t->link_up;
	while (t->link_fd >= 0 &&
	       (n = recv(t->link_fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		seen |= netlink_link_state(buf, (size_t)n, t->ifindex, &up) > 0;
	/* An overrun socket (ENOBUFS) lost messages: ask the interface. */
	if (!seen && t->link_fd >= 0 && t->ctl_fd >= 0) {
		struct ifreq ifr = { 0 };
		memcpy(ifr.ifr_name, t->name, IFNAMSIZ - 1);
		if (!ioctl(t->ctl_fd, SIOCGIFFLAGS, &ifr))
			up = ifr.ifr_flags & IFF_UP;
	}
	__atomic_store_n(&t->link_up, up, __ATOMIC_RELAXED);
	return up;
}

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

void tap_stats(const struct tap *t, struct phy_net_stats *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->tap, t->name, sizeof(t->name));
	out->queue_pairs = t->nr_fds;
	out->link_up = __atomic_load_n(&t->link_up, __ATOMIC_RELAXED);
	out->active_pairs = __atomic_load_n(&t->active, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < t->nr_fds && i < PHY_NET_MAX_QUEUE_PAIRS; i++) {
		const struct phy_net_queue_stats *s = &t->stats[i];
		struct phy_net_queue_stats *o = &out->queues[i];
		o->rx_packets = LOAD(s->rx_packets);
		o->rx_bytes = LOAD(s->rx_bytes);
		o->rx_drops = LOAD(s->rx_drops);
		o->tx_packets = LOAD(s->tx_packets);
		o->tx_bytes = LOAD(s->tx_bytes);
		o->tx_drops = LOAD(s->tx_drops);
		out->total.rx_packets += o->rx_packets;
		out->total.rx_bytes += o->rx_bytes;
		out->total.rx_drops += o->rx_drops;
		out->total.tx_packets += o->tx_packets;
		out->total.tx_bytes += o->tx_bytes;
		out->total.tx_drops += o->tx_drops;
	}
}
