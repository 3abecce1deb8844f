// SPDX-License-Identifier: Apache-2.0
/*
 * --net tap=NAME|fd=N|fd=[N,M,...][,mac=MAC][,ip=IP,mask=MASK]
 *       [,num_queues=N][,queue_size=N][,id=ID]
 * Cloud Hypervisor's syntax: num_queues counts receive and transmit
 * queues together, so it is even and twice the queue pairs; with fd=,
 * one descriptor per pair.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "devices/net/tap.h"
#include "vmm/config/config_net.h"
#include "vmm/config/parse.h"

/* What the kernel's dev_valid_name() takes, which is what TUNSETIFF
 * will be asked to create. */
static bool valid_ifname(const char *s)
{
	size_t len = strlen(s);
	if (len > CONFIG_NET_IFNAME_LEN || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '/' || s[i] == ':' || !isgraph((unsigned char)s[i]))
			return false;
	return true;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;
	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[i * 3]) ||
		    !isxdigit((unsigned char)s[i * 3 + 1]))
			return -1;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

static int parse_ipv4(const char *s, uint32_t *out)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = a.s_addr;
	return 0;
}

/* A netmask is ones then zeroes. */
static bool valid_mask(uint32_t mask_be)
{
	uint32_t inv = ~ntohl(mask_be);
	return mask_be != 0 && (inv & (inv + 1)) == 0;
}

/* "3" or "[3,4]": descriptor numbers, at most one per queue pair. */
static int parse_fds(const char *val, struct net_config *n,
		     struct phy_error *err)
{
	size_t len = strlen(val);
	bool list = val[0] == '[';
	if (list && (len < 2 || val[len - 1] != ']'))
		return phy_err(err, PHY_E_INVALID,
			       "--net: fd=%s is not a descriptor number or a list like [3,4]",
			       val);
	if (!strcmp(val, "[]"))
		return phy_err(err, PHY_E_INVALID, "--net: fd=[] gives no descriptor");
	char *copy = list ? strndup(val + 1, len - 2) : strdup(val);
	if (!copy)
		return phy_err(err, PHY_E_NOMEM, "--net: out of memory");
	int ret = 0;
	n->nr_fds = 0;
	for (char *tok = copy, *next; tok && !ret; tok = next) {
		next = strchr(tok, ',');
		if (next)
			*next++ = '\0';
		unsigned long fd;
		if (parse_uint(tok, INT_MAX, &fd))
			ret = phy_err(err, PHY_E_INVALID,
				      "--net: fd=%s: '%s' is not a descriptor number",
				      val, tok);
		else if (n->nr_fds == CONFIG_NET_MAX_QUEUE_PAIRS)
			ret = phy_err(err, PHY_E_INVALID,
				      "--net: fd=%s: more than %d descriptors (one per queue pair)",
				      val, CONFIG_NET_MAX_QUEUE_PAIRS);
		else
			n->given_fds[n->nr_fds++] = (int)fd;
	}
	free(copy);
	return ret;
}

static int net_kv(void *target, const char *opt, const char *key,
		  const char *val, struct phy_error *err)
{
	struct net_config *n = target;

	if (!strcmp(key, "tap")) {
		if (!valid_ifname(val))
			return phy_err(err, PHY_E_INVALID,
				       "--net: tap=%s is not an interface name (at most %d characters, no '/', ':' or spaces)",
				       val, CONFIG_NET_IFNAME_LEN);
		strcpy(n->tap, val);
		n->tap_given = true;
		return 0;
	}
	if (!strcmp(key, "fd"))
		return parse_fds(val, n, err);
	if (!strcmp(key, "mac")) {
		if (parse_mac(val, n->mac))
			return phy_err(err, PHY_E_INVALID,
				       "--net: mac=%s is not a MAC address like 52:54:00:12:34:56", val);
		if (n->mac[0] & 1)
			return phy_err(err, PHY_E_INVALID,
				       "--net: mac=%s is a multicast address", val);
		static const uint8_t zero[6];
		if (!memcmp(n->mac, zero, 6))
			return phy_err(err, PHY_E_INVALID, "--net: mac=%s is all zeroes", val);
		n->mac_given = true;
		return 0;
	}
	if (!strcmp(key, "ip")) {
		if (parse_ipv4(val, &n->ip))
			return phy_err(err, PHY_E_INVALID,
				       "--net: ip=%s is not an IPv4 address", val);
		n->has_ip = true;
		return 0;
	}
	if (!strcmp(key, "mask")) {
		if (parse_ipv4(val, &n->mask) || !valid_mask(n->mask))
			return phy_err(err, PHY_E_INVALID,
				       "--net: mask=%s is not an IPv4 netmask like 255.255.255.0", val);
		return 0;
	}
	if (!strcmp(key, "num_queues")) {
		unsigned q;
		int ret = parse_num_queues(opt, val, 2, 2 * CONFIG_NET_MAX_QUEUE_PAIRS,
					   true, &q, err);
		if (!ret) {
			n->pairs = q / 2;
			n->queues_given = true;
		}
		return ret;
	}
	if (!strcmp(key, "queue_size"))
		return parse_queue_size(opt, val, CONFIG_NET_MAX_QUEUE_SIZE,
					&n->queue_size, err);
	if (!strcmp(key, "id"))
		return parse_id(opt, val, CONFIG_NET_ID_LEN, n->id, err);
	return phy_err(err, PHY_E_INVALID,
		       "--%s: unknown key '%s' (known: tap, fd, mac, ip, mask, num_queues, queue_size, id)",
		       opt, key);
}

/* A locally administered unicast address from the NIC's id (or its place
 * on the command line): the same guest gets the same MAC every boot, and
 * its DHCP lease and udev names with it. */
static void default_mac(struct net_config *n, unsigned index)
{
	char key[64];
	if (n->id[0])
		snprintf(key, sizeof(key), "phyllome-net:%s", n->id);
	else
		snprintf(key, sizeof(key), "phyllome-net:#%u", index);
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	for (const char *p = key; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	for (int i = 0; i < 6; i++)
		n->mac[i] = (uint8_t)(h >> (8 * i));
	n->mac[0] = (uint8_t)((n->mac[0] & 0xfc) | 0x02);
}

/* fd=: the descriptors checked, one per queue pair, and duplicated into
 * the item (net_release() closes them, also after a failure here). */
static int take_fds(struct net_config *n, struct phy_error *err)
{
	if (n->tap_given)
		return phy_err(err, PHY_E_INVALID, "--net: give one of tap= and fd=");
	if (n->queues_given && n->pairs != n->nr_fds)
		return phy_err(err, PHY_E_INVALID,
			       "--net: num_queues=%u does not match fd= (%u descriptors, one per queue pair: num_queues=%u)",
			       2 * n->pairs, n->nr_fds, 2 * n->nr_fds);
	n->pairs = n->nr_fds;
	int ret = tap_check_fds(n->given_fds, n->nr_fds, n->tap, err);
	for (unsigned i = 0; !ret && i < n->nr_fds; i++) {
		n->fds[i] = fcntl(n->given_fds[i], F_DUPFD_CLOEXEC, 0);
		if (n->fds[i] < 0)
			ret = phy_err_errno(err, PHY_E_IO, errno,
					    "--net: fd=%d: cannot duplicate it",
					    n->given_fds[i]);
	}
	return ret;
}

static int net_parse(void *conf, const char *value, unsigned index,
		     struct phy_error *err)
{
	struct net_config *n = conf;
	n->pairs = 1;
	n->queue_size = CONFIG_NET_DEFAULT_QUEUE_SIZE;
	for (unsigned i = 0; i < CONFIG_NET_MAX_QUEUE_PAIRS; i++)
		n->fds[i] = -1;
	int ret = parse_kv_list(n, "net", value, net_kv, err);
	if (ret)
		return ret;
	if (n->nr_fds && (ret = take_fds(n, err)))
		return ret;
	/* "tap=" (empty) is a request for a new tap named by the kernel. */
	if (!n->tap_given && !n->nr_fds)
		return phy_err(err, PHY_E_INVALID,
			       "--net: tap= or fd= is required (tap= with no name creates a new one)");
	if (n->mask && !n->has_ip)
		return phy_err(err, PHY_E_INVALID, "--net: mask= needs ip=");
	if (n->has_ip && !n->mask)
		n->mask = htonl(0xffffff00u);
	if (!n->mac_given)
		default_mac(n, index);
	return 0;
}

static int net_validate(const struct phy_config *cfg, struct phy_error *err)
{
	unsigned nr = config_count(cfg, &net_option);
	for (unsigned i = 0; i < nr; i++) {
		const struct net_config *a = config_item(cfg, &net_option, i);
		for (unsigned j = 0; j < i; j++) {
			const struct net_config *b = config_item(cfg, &net_option, j);
			/* With fd=, tap[] is the name of the fds' tap. */
			if (a->tap[0] && !strcmp(a->tap, b->tap))
				return phy_err(err, PHY_E_INVALID,
					       a->nr_fds || b->nr_fds
						       ? "--net: two devices use tap %s (fd= gives its queues)"
						       : "--net: tap=%s is given twice",
					       a->tap);
			if (a->id[0] && !strcmp(a->id, b->id))
				return phy_err(err, PHY_E_INVALID,
					       "--net: id=%s is given twice", a->id);
			if (!memcmp(a->mac, b->mac, 6))
				return phy_err(err, PHY_E_INVALID,
					       "--net: two devices have the MAC %02x:%02x:%02x:%02x:%02x:%02x",
					       a->mac[0], a->mac[1], a->mac[2],
					       a->mac[3], a->mac[4], a->mac[5]);
		}
	}
	return 0;
}

static int net_copy(void *conf)
{
	struct net_config *n = conf;
	for (unsigned i = 0; i < n->nr_fds; i++) {
		n->fds[i] = fcntl(n->fds[i], F_DUPFD_CLOEXEC, 0);
		if (n->fds[i] < 0) {
			while (i--)
				close(n->fds[i]);
			return -1;
		}
	}
	return 0;
}

static void net_release(void *conf)
{
	struct net_config *n = conf;
	for (unsigned i = 0; i < n->nr_fds; i++)
		if (n->fds[i] >= 0)
			close(n->fds[i]);
}

const struct device_option net_option = {
	.name = "net",
	.noun = "network device",
	.nouns = "network devices",
	.max = CONFIG_MAX_NETS,
	.conf_size = sizeof(struct net_config),
	.parse = net_parse,
	.validate = net_validate,
	.copy = net_copy,
	.release = net_release,
};
