/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tap backend against real taps, in a network namespace of the test's
 * own (so nothing touches the host's interfaces): creating and opening
 * taps, host addresses, frames both ways with virtio-net headers (a
 * packet socket on the interface plays the host's stack), offloads, link
 * changes heard through rtnetlink, multi-queue attach and detach, the
 * errors a user sees, and the tap going away with the VMM.
 *
 * Needs CAP_SYS_ADMIN and CAP_NET_ADMIN (root): without them it says so
 * and exits 77, which ctest reports as skipped.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "devices/net/tap.h"
#include "tun_helper.h"

#define HDR 12

static struct tap_params cfg(const char *name, unsigned pairs)
{
	return (struct tap_params){ .name = name, .pairs = pairs };
}

static int packet_socket(int ifindex)
{
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	struct sockaddr_ll sa = { .sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_ALL),
				  .sll_ifindex = ifindex };
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)))
		return -1;
	return s;
}

static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, ms) == 1;
}

/* An Ethernet frame with an EtherType nobody handles, so the host's
 * stack answers nothing. */
static size_t make_frame(uint8_t *f, size_t len, uint8_t seed)
{
	memset(f, 0xff, 6);
	uint8_t src[6] = { 0x02, 0, 0, 0, 0, seed };
	memcpy(f + 6, src, 6);
	f[12] = 0x88;
	f[13] = 0xb5; /* local experimental EtherType */
	for (size_t i = 14; i < len; i++)
		f[i] = (uint8_t)(i + seed);
	return len;
}

static void set_up(const char *name, bool up)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	CHECK(ioctl(s, SIOCGIFFLAGS, &ifr) == 0);
	if (up)
		ifr.ifr_flags |= IFF_UP;
	else
		ifr.ifr_flags &= ~IFF_UP;
	CHECK(ioctl(s, SIOCSIFFLAGS, &ifr) == 0);
	close(s);
}

/* The host sends: the tap hands over a header and the frame. Then the
 * guest sends: the host sees the frame. A packet socket on the interface
 * plays the host. */
static void frames_both_ways(const struct tap *t, uint8_t seed)
{
	int ps = packet_socket(t->ifindex);
	REQUIRE(ps >= 0);
	uint8_t f[200], buf[400];
	size_t n = make_frame(f, sizeof(f), seed);
	CHECK(send(ps, f, n, 0) == (ssize_t)n);
	/* IPv6 chatter may come first on a fresh interface: skip it. */
	ssize_t got = -1;
	for (int i = 0; i < 20 && readable(t->fds[0], 1000); i++) {
		got = read(t->fds[0], buf, sizeof(buf));
		if (got == (ssize_t)(HDR + n) && !memcmp(buf + HDR, f, n))
			break;
	}
	CHECK(got == (ssize_t)(HDR + n) && !memcmp(buf + HDR, f, n));

	memset(buf, 0, HDR);
	make_frame(buf + HDR, 100, (uint8_t)(seed + 1));
	CHECK(write(t->fds[0], buf, HDR + 100) == HDR + 100);
	bool seen = false;
	for (int i = 0; i < 20 && !seen && readable(ps, 1000); i++) {
		got = recv(ps, f, sizeof(f), 0);
		seen = got == 100 && !memcmp(f, buf + HDR, 100);
	}
	CHECK(seen);
	close(ps);
}

static void test_create_and_frames(void)
{
	struct phy_error err = { 0 };
	struct tap_params c = cfg("", 1);
	c.has_ip = true;
	inet_pton(AF_INET, "10.77.0.1", &c.ip);
	inet_pton(AF_INET, "255.255.255.0", &c.mask);
	struct tap t;
	CHECK(tap_open(&t, &c, &err) == 0);
	CHECK(t.created);
	CHECK(!strncmp(t.name, "tap", 3));
	CHECK(t.ifindex > 0 && (int)if_nametoindex(t.name) == t.ifindex);
	CHECK(t.link_up && t.offloads && t.mtu == 1500);
	CHECK(t.link_fd >= 0);

	frames_both_ways(&t, 1);

	/* Offloads follow the guest's features. */
	CHECK(tap_set_offload(&t, 1ull << VIRTIO_NET_F_GUEST_CSUM |
				      1ull << VIRTIO_NET_F_GUEST_TSO4 |
				      1ull << VIRTIO_NET_F_GUEST_ECN) == 0);
	CHECK(tap_set_offload(&t, 0) == 0);

	/* Down and up, heard through rtnetlink. */
	set_up(t.name, false);
	CHECK(readable(t.link_fd, 2000));
	CHECK(!tap_poll_link(&t));
	set_up(t.name, true);
	CHECK(readable(t.link_fd, 2000));
	CHECK(tap_poll_link(&t));
	struct phy_net_stats st;
	tap_stats(&t, &st);
	CHECK(st.link_up == 1 && st.queue_pairs == 1 && !strcmp(st.tap, t.name));

	/* A second opener of a tap in use is told so. */
	struct tap t2;
	struct tap_params c2 = cfg(t.name, 1);
	CHECK(tap_open(&t2, &c2, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--net: tap");
	CHECK_STR_CONTAINS(err.message, "in use");
	/* It went away with the VMM that made it. */
	char name[16];
	memcpy(name, t.name, sizeof(name));
	tap_close(&t);
	tap_close(&t); /* twice is fine */
	CHECK(if_nametoindex(name) == 0);
}

static void test_existing_and_multiqueue(void)
{
	struct phy_error err = { 0 };
	/* A persistent tap someone else made: opened, left as it is
	 * (down stays down), and still there afterwards. */
	int fd = open("/dev/net/tun", O_RDWR);
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "keep0");
	CHECK(ioctl(fd, TUNSETIFF, &ifr) == 0 && ioctl(fd, TUNSETPERSIST, 1) == 0);
	close(fd);
	struct tap t;
	struct tap_params c = cfg("keep0", 1);
	CHECK(tap_open(&t, &c, &err) == 0);
	CHECK(!t.created && !t.link_up);
	tap_close(&t);
	CHECK(if_nametoindex("keep0") != 0);
	/* Not multi-queue: asking for two pairs is a clear error. */
	c = cfg("keep0", 2);
	CHECK(tap_open(&t, &c, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "not a multi-queue tap");

	/* A new multi-queue tap: one queue attached until the guest asks. */
	c = cfg("mq0", 3);
	CHECK(tap_open(&t, &c, &err) == 0);
	CHECK(t.nr_fds == 3 && t.active == 1);
	CHECK(tap_set_queues(&t, 3) == 0 && t.active == 3);
	CHECK(tap_set_queues(&t, 2) == 0 && t.active == 2);
	/* A detached queue has nothing to read (and a blocking read there
	 * waits rather than failing: no retry loop in the device). */
	uint8_t buf[64];
	int fl = fcntl(t.fds[2], F_GETFL);
	fcntl(t.fds[2], F_SETFL, fl | O_NONBLOCK);
	ssize_t r = read(t.fds[2], buf, sizeof(buf));
	CHECK(r < 0 && errno == EAGAIN);
	CHECK(tap_set_queues(&t, 1) == 0 && t.active == 1);
	tap_close(&t);
	CHECK(if_nametoindex("mq0") == 0);

	/* No permission to open the clone device is a --net error too. */
	c = cfg("bad/name", 1);
	CHECK(tap_open(&t, &c, &err) < 0);
	CHECK_STR_CONTAINS(err.message, "--net");
}

/* --net fd=: a tap someone else opened, adopted; frames flow through its
 * queue; the caller's descriptor stays open and its own. */
static void test_adopt_one(void)
{
	struct phy_error err = { 0 };
	int before = open_fd_count();
	int q = tun_queue("ad0", TAP_FLAGS);
	REQUIRE(q >= 0);
	set_up("ad0", true);
	struct tap_params c = cfg("", 1);
	c.fds = &q;
	c.nr_fds = 1;
	c.has_ip = true;
	inet_pton(AF_INET, "10.78.0.1", &c.ip);
	inet_pton(AF_INET, "255.255.255.0", &c.mask);
	struct tap t;
	REQUIRE(tap_open(&t, &c, &err) == 0);
	CHECK(t.adopted && !t.created && !strcmp(t.name, "ad0") && t.nr_fds == 1);
	CHECK(t.fds[0] != q && (fcntl(t.fds[0], F_GETFD) & FD_CLOEXEC));
	CHECK(fcntl(q, F_GETFL) & O_NONBLOCK); /* the open file's flag */
	CHECK(t.link_up && t.offloads && t.ifindex == (int)if_nametoindex("ad0"));
	/* ip= configured the adopted interface. */
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "ad0");
	CHECK(ioctl(s, SIOCGIFADDR, &ifr) == 0 &&
	      ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr == c.ip);
	close(s);

	/* Frames both ways through the adopted queue, with 12-byte headers
	 * (TUNSETVNETHDRSZ on the shared file). */
	frames_both_ways(&t, 7);
	tap_close(&t);
	/* Only the duplicate went: the caller's queue still works. */
	CHECK(fcntl(q, F_GETFD) >= 0 && if_nametoindex("ad0") != 0);
	CHECK(ioctl(q, TUNGETIFF, &ifr) == 0);
	close(q);
	CHECK(if_nametoindex("ad0") == 0);
	CHECK(open_fd_count() == before);
}

/* Two queues of a multi-queue tap: one attached while the guest has
 * not asked for more, and all attached again when the VM lets go. */
static void test_adopt_multiqueue(void)
{
	struct phy_error err = { 0 };
	int before = open_fd_count();
	int q[2] = { tun_queue("admq0", TAP_FLAGS | IFF_MULTI_QUEUE),
		     tun_queue("admq0", TAP_FLAGS | IFF_MULTI_QUEUE) };
	REQUIRE(q[0] >= 0 && q[1] >= 0);
	struct tap_params c = cfg("", 2);
	c.fds = q;
	c.nr_fds = 2;
	struct tap t;
	REQUIRE(tap_open(&t, &c, &err) == 0);
	CHECK(t.nr_fds == 2 && t.active == 1 && !strcmp(t.name, "admq0"));
	/* Detaching a detached queue, or attaching an attached one, is
	 * EINVAL: the caller's q[1] shares our detached queue. */
	struct ifreq detach = { .ifr_flags = IFF_DETACH_QUEUE };
	struct ifreq attach = { .ifr_flags = IFF_ATTACH_QUEUE };
	CHECK(ioctl(q[1], TUNSETQUEUE, &detach) < 0 && errno == EINVAL);
	CHECK(tap_set_queues(&t, 2) == 0 && t.active == 2);
	CHECK(tap_set_queues(&t, 1) == 0);
	tap_close(&t);
	/* Both attached again, as they came. */
	CHECK(ioctl(q[0], TUNSETQUEUE, &attach) < 0 && errno == EINVAL);
	CHECK(ioctl(q[1], TUNSETQUEUE, &attach) < 0 && errno == EINVAL);
	/* So a second VM (vm.shutdown, vm.boot) adopts them again. */
	REQUIRE(tap_open(&t, &c, &err) == 0);
	CHECK(t.nr_fds == 2);
	tap_close(&t);
	close(q[0]);
	close(q[1]);
	CHECK(open_fd_count() == before);
}

static void refused(int fd, unsigned pairs, const char *expect)
{
	struct phy_error err = { 0 };
	int fds[2] = { fd, fd };
	struct tap_params c = cfg("", pairs);
	c.fds = fds;
	c.nr_fds = pairs;
	struct tap t;
	CHECK(tap_open(&t, &c, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--net: fd=");
	CHECK_STR_CONTAINS(err.message, expect);
	CHECK(strchr(err.message, '\n') == NULL);
	tap_close(&t);
}

/* What cannot be adopted, each refused in one line naming --net and the
 * descriptor, with nothing leaked. */
static void test_adopt_refused(void)
{
	int before = open_fd_count();
	int p[2], sv[2];
	CHECK(pipe(p) == 0 && socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
	int null = open("/dev/null", O_RDWR);
	int unattached = open("/dev/net/tun", O_RDWR);
	int tun = tun_queue("adtun0", IFF_TUN | IFF_NO_PI | IFF_VNET_HDR);
	int nohdr = tun_queue("adhdr0", IFF_TAP | IFF_NO_PI);
	int single = tun_queue("adsq0", TAP_FLAGS);
	REQUIRE(tun >= 0 && nohdr >= 0 && single >= 0);
	int opened = open_fd_count();
	refused(p[0], 1, "is not a tap (not a character device)");
	refused(sv[0], 1, "is not a tap (not a character device)");
	refused(null, 1, "is not a queue attached to a tap (TUNGETIFF)");
	refused(unattached, 1, "is not a queue attached to a tap (TUNGETIFF)");
	refused(tun, 1, "a tun (IP) device, not a tap");
	refused(nohdr, 1, "opened without IFF_VNET_HDR");
	refused(single, 2, "is given twice");
	refused(99999, 1, "fd=99999 is not an open descriptor");
	int two[2] = { single, dup(single) };
	struct phy_error err;
	char name[TAP_NAME_LEN + 1];
	CHECK(tap_check_fds(two, 2, name, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "not a multi-queue tap");
	close(two[1]);
	CHECK(tap_check_fds(two, 0, name, &err) == -PHY_E_INVALID);
	CHECK(tap_check_fds(two, PHY_NET_MAX_QUEUE_PAIRS + 1, name, &err) == -PHY_E_INVALID);
	CHECK(tap_check_fds(&single, 1, name, &err) == 0 && !strcmp(name, "adsq0"));
	CHECK(open_fd_count() == opened);
	int all[] = { p[0], p[1], sv[0], sv[1], null, unattached, tun, nohdr, single };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		close(all[i]);
	CHECK(open_fd_count() == before);
}

int main(void)
{
	if (unshare(CLONE_NEWNET)) {
		printf("test_tap: no network namespace (%s): needs root; skipped\n",
		       strerror(errno));
		return 77;
	}
	if (access("/dev/net/tun", R_OK | W_OK)) {
		printf("test_tap: no /dev/net/tun; skipped\n");
		return 77;
	}
	test_create_and_frames();
	test_existing_and_multiqueue();
	test_adopt_one();
	test_adopt_multiqueue();
	test_adopt_refused();
	return check_report("test_tap");
}
