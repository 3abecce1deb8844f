/* SPDX-License-Identifier: Apache-2.0 */
/* Option parsing: good values land in the config, bad ones give an error
 * that names the option. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "tun_helper.h"
#include "vmm/config/config.h"
#include "vmm/config/config_disk.h"
#include "vmm/config/config_gpu.h"
#include "vmm/config/config_net.h"
#include "vmm/config/config_firmware.h"
#include "vmm/config/config_rng.h"
#include "vmm/config/config_vsock.h"
#include "vmm/config/config_fs.h"
#include "vmm/config/config_balloon.h"
#include "vmm/config/config_landlock.h"
#include "vmm/config/cpu_affinity.h"

/* The n-th --disk and --net, as the parser stored them. */
#define DISK(c, n) ((const struct disk_config *)config_item((c), &disk_option, (n)))
#define NET(c, n) ((const struct net_config *)config_item((c), &net_option, (n)))

static struct phy_error err;

static int set(struct phy_config *c, const char *o, const char *v)
{
	memset(&err, 0, sizeof(err));
	return phy_config_set(c, o, v, &err);
}

static void bad(struct phy_config *c, const char *o, const char *v,
		const char *expect)
{
	int r = set(c, o, v);
	CHECK(r == -PHY_E_INVALID);
	CHECK(err.code == PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, expect);
	CHECK(strchr(err.message, '\n') == NULL);
}

/* --serial and --console: every mode, and the checks across them. */
static void test_console_modes(void)
{
	struct phy_config *c = phy_config_new();
	CHECK(set(c, "kernel", "/k") == 0);
	CHECK(set(c, "console", "pty") == 0 && c->console == SERIAL_PTY &&
	      !c->console_path);
	CHECK(set(c, "console", "socket=/tmp/con.sock") == 0 &&
	      c->console == SERIAL_SOCKET && !strcmp(c->console_path, "/tmp/con.sock"));
	CHECK(set(c, "console", "file=/tmp/con.log") == 0 &&
	      c->console == SERIAL_FILE && !strcmp(c->console_path, "/tmp/con.log"));
	CHECK(set(c, "console", "null") == 0 && c->console == SERIAL_NULL &&
	      !c->console_path);
	CHECK(set(c, "serial", "pty") == 0 && c->serial == SERIAL_PTY && !c->serial_path);
	CHECK(set(c, "serial", "socket=/tmp/ser.sock") == 0 &&
	      c->serial == SERIAL_SOCKET && !strcmp(c->serial_path, "/tmp/ser.sock"));
	/* A socket path that cannot fit sun_path. */
	char longp[200];
	memset(longp, 'a', sizeof(longp));
	memcpy(longp, "socket=/", 8);
	longp[sizeof(longp) - 1] = '\0';
	bad(c, "console", longp, "--console: socket=: the path is longer");
	CHECK(c->console == SERIAL_NULL); /* left as it was */

	/* One terminal: both tty is an error naming --console. */
	CHECK(set(c, "serial", "tty") == 0 && set(c, "console", "tty") == 0);
	CHECK(phy_config_validate(c, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--console: tty, but --serial");
	CHECK(set(c, "serial", "pty") == 0);
	CHECK(phy_config_validate(c, &err) == 0);
	/* The same path for both, or for a console and the API socket. */
	CHECK(set(c, "serial", "socket=/tmp/same") == 0 &&
	      set(c, "console", "socket=/tmp/same") == 0);
	CHECK(phy_config_validate(c, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--console: '/tmp/same' is also the --serial's");
	CHECK(set(c, "console", "file=/tmp/other") == 0);
	CHECK(phy_config_validate(c, &err) == 0);
	CHECK(set(c, "api-socket", "/tmp/same") == 0);
	CHECK(phy_config_validate(c, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--serial: '/tmp/same' is also the --api-socket");

	struct phy_config copy;
	CHECK(config_copy(&copy, c) == 0);
	CHECK(copy.console_path != c->console_path &&
	      !strcmp(copy.console_path, "/tmp/other"));
	config_release(&copy);

	CHECK(set(c, "api-socket", "/tmp/api") == 0);
	CHECK(set(c, "serial", "tty") == 0 && !c->serial_path);
	CHECK(set(c, "console", "off") == 0 && !c->console_path);
	CHECK(phy_config_validate(c, &err) == 0);
	phy_config_free(c);
}

static void test_sizes(void)
{
	uint64_t v;
	CHECK(config_parse_size("512M", &v) == 0 && v == 512ULL << 20);
	CHECK(config_parse_size("4G", &v) == 0 && v == 4ULL << 30);
	CHECK(config_parse_size("4g", &v) == 0 && v == 4ULL << 30);
	CHECK(config_parse_size("1024K", &v) == 0 && v == 1ULL << 20);
	CHECK(config_parse_size("2GiB", &v) == 0 && v == 2ULL << 30);
	CHECK(config_parse_size("1MB", &v) == 0 && v == 1ULL << 20);
	CHECK(config_parse_size("65536", &v) == 0 && v == 65536);
	CHECK(config_parse_size("", &v) == -1);
	CHECK(config_parse_size("M", &v) == -1);
	CHECK(config_parse_size("-1G", &v) == -1);
	CHECK(config_parse_size("12X", &v) == -1);
	CHECK(config_parse_size("1GG", &v) == -1);
	CHECK(config_parse_size("99999999999999999999", &v) == -1);
	CHECK(config_parse_size("99999999999T", &v) == -1);
	CHECK(config_parse_size(NULL, &v) == -1);
}

static void test_good(void)
{
	struct phy_config *c = phy_config_new();
	CHECK(c->cpus == 1 && c->memory == 512ULL << 20 && c->serial == SERIAL_TTY);
	CHECK(set(c, "kernel", "/boot/vmlinuz") == 0);
	CHECK(c->kernel && !strcmp(c->kernel, "/boot/vmlinuz"));
	CHECK(set(c, "initramfs", "/boot/initrd") == 0);
	CHECK(set(c, "cmdline", "console=ttyS0 quiet") == 0);
	CHECK(!strcmp(c->cmdline, "console=ttyS0 quiet"));
	CHECK(set(c, "cmdline", "") == 0);
	CHECK(set(c, "cpus", "boot=4") == 0 && c->cpus == 4);
	CHECK(set(c, "cpus", "boot=16,max=16") == 0 && c->cpus == 16);
	CHECK(set(c, "memory", "size=4G") == 0 && c->memory == 4ULL << 30);
	CHECK(c->memory_thp && !c->memory_shared); /* the defaults */
	CHECK(set(c, "memory", "size=1G,thp=off,shared=on") == 0);
	CHECK(c->memory == 1ULL << 30 && !c->memory_thp && c->memory_shared);
	/* Setting the size alone keeps the other keys. */
	CHECK(phy_config_set_memory(c, 2ULL << 30, &err) == 0 && !c->memory_thp);
	CHECK(set(c, "memory", "thp=true,shared=false") == 0);
	CHECK(c->memory == 2ULL << 30 && c->memory_thp && !c->memory_shared);
	CHECK(set(c, "serial", "off") == 0 && c->serial == SERIAL_OFF);
	CHECK(set(c, "serial", "null") == 0 && c->serial == SERIAL_NULL);
	CHECK(set(c, "serial", "file=/tmp/x.log") == 0 && c->serial == SERIAL_FILE);
	CHECK(!strcmp(c->serial_path, "/tmp/x.log"));
	CHECK(set(c, "serial", "tty") == 0 && c->serial == SERIAL_TTY);
	CHECK(set(c, "console", "off") == 0 && c->console == SERIAL_OFF);
	CHECK(phy_config_validate(c, &err) == 0);

	struct phy_config copy;
	CHECK(config_copy(&copy, c) == 0);
	CHECK(copy.kernel != c->kernel && !strcmp(copy.kernel, c->kernel));
	config_release(&copy);
	phy_config_free(c);
}

static void test_bad(void)
{
	struct phy_config *c = phy_config_new();
	bad(c, "kernal", "x", "unknown option '--kernal'");
	bad(c, "kernel", "", "--kernel");
	bad(c, "cpus", "4", "--cpus");
	bad(c, "cpus", "boot=0", "--cpus");
	bad(c, "cpus", "boot=256", "--cpus");
	bad(c, "cpus", "boot=-1", "--cpus");
	bad(c, "cpus", "boot=", "--cpus");
	bad(c, "cpus", "boot=4x", "--cpus");
	bad(c, "cpus", "cores=4", "unknown key 'cores'");
	bad(c, "cpus", "boot=2,,", "--cpus");
	bad(c, "cpus", "=2", "--cpus");
	bad(c, "memory", "512M", "--memory");
	bad(c, "memory", "size=lots", "--memory");
	bad(c, "memory", "size=1M", "--memory");
	bad(c, "memory", "size=2T", "--memory");
	bad(c, "memory", "size=16777217", "--memory");
	bad(c, "memory", "sise=1G", "unknown key 'sise'");
	bad(c, "memory", "thp=maybe", "--memory: thp=maybe is not on or off");
	bad(c, "memory", "shared=", "--memory");
	/* A bad key later in the list leaves the earlier ones unset. */
	bad(c, "memory", "size=1G,thp=off,shared=2", "--memory: shared=2");
	CHECK(c->memory == 512ULL << 20 && c->memory_thp);
	bad(c, "serial", "pts", "--serial: 'pts' is not one of");
	bad(c, "serial", "file=", "--serial: file= needs a path");
	bad(c, "serial", "socket=", "--serial: socket= needs a path");
	bad(c, "serial", "", "--serial");
	bad(c, "serial", "Pty", "--serial");
	bad(c, "console", "maybe", "--console: 'maybe' is not one of");
	bad(c, "console", "socket=", "--console: socket= needs a path");
	bad(c, "console", "file=", "--console: file= needs a path");
	bad(c, "console", "tty,pty", "--console");
	CHECK(phy_config_set(c, "kernel", NULL, &err) == -PHY_E_INVALID);
	CHECK(phy_config_set(NULL, "kernel", "x", &err) == -PHY_E_INVALID);
	CHECK(phy_config_set(c, "kernel", "x", NULL) == 0); /* err optional */
	/* Nothing bad got in. */
	CHECK(c->cpus == 1 && c->memory == 512ULL << 20);
	phy_config_free(c);

	c = phy_config_new();
	CHECK(phy_config_validate(c, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--kernel");
	set(c, "initramfs", "/x");
	CHECK(phy_config_validate(c, &err) == -PHY_E_INVALID);
	CHECK(phy_config_validate(NULL, &err) == -PHY_E_INVALID);
	char *longline = malloc(70000);
	memset(longline, 'a', 69999);
	longline[69999] = 0;
	set(c, "kernel", "/k");
	set(c, "cmdline", longline);
	CHECK(phy_config_validate(c, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--cmdline");
	free(longline);
	phy_config_free(c);
	phy_config_free(NULL);
}

static void test_disks(void)
{
	struct phy_config *c = phy_config_new();
	CHECK(set(c, "disk", "path=/a.img") == 0);
	CHECK(set(c, "disk", "path=/b.img,readonly=on,direct=on,num_queues=4,queue_size=1024,id=data-1") == 0);
	CHECK(config_count(c, &disk_option) == 2);
	CHECK(!strcmp(DISK(c, 0)->path, "/a.img") && !DISK(c, 0)->readonly &&
	      !DISK(c, 0)->direct && DISK(c, 0)->num_queues == 1 &&
	      DISK(c, 0)->queue_size == 256 && DISK(c, 0)->id[0] == 0);
	CHECK(DISK(c, 1)->readonly && DISK(c, 1)->direct &&
	      DISK(c, 1)->num_queues == 4 && DISK(c, 1)->queue_size == 1024 &&
	      !strcmp(DISK(c, 1)->id, "data-1"));

	bad(c, "disk", "/a.img", "--disk");
	bad(c, "disk", "readonly=on", "path= is required");
	bad(c, "disk", "path=", "--disk");
	bad(c, "disk", "path=/x,path=/y", "given twice");
	bad(c, "disk", "path=/x,readonly=yes", "readonly=yes");
	bad(c, "disk", "path=/x,direct=1", "direct=1");
	bad(c, "disk", "path=/x,num_queues=0", "num_queues=0");
	bad(c, "disk", "path=/x,num_queues=17", "num_queues=17");
	bad(c, "disk", "path=/x,queue_size=100", "queue_size=100");
	bad(c, "disk", "path=/x,queue_size=2048", "queue_size=2048");
	bad(c, "disk", "path=/x,queue_size=1", "queue_size=1");
	bad(c, "disk", "path=/x,id=123456789012345678901", "id=");
	bad(c, "disk", "path=/x,id=a b", "printable");
	bad(c, "disk", "path=/x,vhost_user=on", "unknown key 'vhost_user'");
	bad(c, "disk", "path=/x,,readonly=on", "--disk");
	CHECK(config_count(c, &disk_option) == 2); /* nothing bad got in */

	struct phy_config copy;
	CHECK(config_copy(&copy, c) == 0);
	CHECK(DISK(&copy, 1)->path != DISK(c, 1)->path &&
	      !strcmp(DISK(&copy, 1)->path, "/b.img"));
	config_release(&copy);

	set(c, "kernel", "/k");
	CHECK(phy_config_validate(c, &err) == 0);
	CHECK(set(c, "disk", "path=/a.img,readonly=on") == 0);
	CHECK(phy_config_validate(c, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "given twice");
	phy_config_free(c);

	c = phy_config_new();
	char v[64];
	for (int i = 0; i < 16; i++) {
		snprintf(v, sizeof(v), "path=/d%d", i);
		CHECK(set(c, "disk", v) == 0);
	}
	bad(c, "disk", "path=/d16", "at most 16");
	phy_config_free(c);
}

/* --api-socket and --event-monitor: path=PATH or a bare path. */
static void test_api_options(void)
{
	struct phy_config *c = phy_config_new();
	CHECK(c->api_socket == NULL && c->event_monitor == NULL);
	CHECK(set(c, "api-socket", "path=/run/vm.sock") == 0);
	CHECK(c->api_socket && !strcmp(c->api_socket, "/run/vm.sock"));
	CHECK(set(c, "api-socket", "/tmp/other.sock") == 0);
	CHECK(!strcmp(c->api_socket, "/tmp/other.sock"));
	CHECK(set(c, "event-monitor", "path=/tmp/events") == 0);
	CHECK(c->event_monitor && !strcmp(c->event_monitor, "/tmp/events"));
	CHECK(set(c, "event-monitor", "/tmp/events2") == 0);
	CHECK(!strcmp(c->event_monitor, "/tmp/events2"));

	bad(c, "api-socket", "", "--api-socket");
	bad(c, "api-socket", "path=", "--api-socket");
	bad(c, "api-socket", "path=/a,fd=3", "--api-socket");
	bad(c, "api-socket", "socket=/a", "--api-socket");
	bad(c, "event-monitor", "", "--event-monitor");
	bad(c, "event-monitor", "path=", "--event-monitor");
	/* Nothing bad got in. */
	CHECK(!strcmp(c->api_socket, "/tmp/other.sock"));
	CHECK(!strcmp(c->event_monitor, "/tmp/events2"));

	struct phy_config copy;
	CHECK(config_copy(&copy, c) == 0);
	CHECK(copy.api_socket != c->api_socket &&
	      !strcmp(copy.api_socket, c->api_socket));
	CHECK(copy.event_monitor != c->event_monitor &&
	      !strcmp(copy.event_monitor, c->event_monitor));
	config_release(&copy);

	set(c, "kernel", "/k");
	CHECK(phy_config_validate(c, &err) == 0);
	char longpath[200];
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = 0;
	CHECK(set(c, "api-socket", longpath) == 0);
	CHECK(phy_config_validate(c, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--api-socket");
	CHECK(set(c, "api-socket", "/tmp/same") == 0);
	CHECK(set(c, "event-monitor", "/tmp/same") == 0);
	CHECK(phy_config_validate(c, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--event-monitor");

	size_t n;
	const struct phy_option_info *o = phy_config_options(&n);
	int listed = 0;
	for (size_t i = 0; i < n; i++)
		listed += !strcmp(o[i].name, "api-socket") ||
			  !strcmp(o[i].name, "event-monitor");
	CHECK(listed == 2);
	phy_config_free(c);
}

/* fd=N: a descriptor the caller passed, checked when it is set. */
static void test_api_fds(void)
{
	struct phy_config *c = phy_config_new();
	CHECK(c->api_socket_fd == -1 && c->event_monitor_fd == -1);
	int sv[2], dgram[2], pipefd[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, dgram) == 0);
	CHECK(pipe(pipefd) == 0);
	char v[32];

	snprintf(v, sizeof(v), "fd=%d", sv[0]);
	CHECK(set(c, "api-socket", v) == 0);
	CHECK(c->api_socket_fd == sv[0] && c->api_socket == NULL);
	CHECK(fcntl(sv[0], F_GETFD) & FD_CLOEXEC);
	/* A path replaces the descriptor, and the other way round. */
	CHECK(set(c, "api-socket", "/tmp/a.sock") == 0);
	CHECK(c->api_socket_fd == -1 && !strcmp(c->api_socket, "/tmp/a.sock"));
	CHECK(set(c, "api-socket", v) == 0);
	CHECK(c->api_socket_fd == sv[0] && c->api_socket == NULL);

	snprintf(v, sizeof(v), "fd=%d", pipefd[1]);
	CHECK(set(c, "event-monitor", v) == 0);
	CHECK(c->event_monitor_fd == pipefd[1] && c->event_monitor == NULL);
	CHECK(fcntl(pipefd[1], F_GETFD) & FD_CLOEXEC);
	snprintf(v, sizeof(v), "fd=%d", sv[1]); /* any writable descriptor */
	CHECK(set(c, "event-monitor", v) == 0);
	CHECK(c->event_monitor_fd == sv[1]);

	static const char *const garbage[] = {
		"fd=", "fd=-1", "fd=abc", "fd=3x", "fd= 3", "fd=99999",
		"fd=2147483648", "fd=3,fd=3", "path=/a,fd=3", "fd=3,path=/a",
		"socket=3", ",fd=3", "fd=3,",
	};
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		bad(c, "api-socket", garbage[i], "--api-socket");
		bad(c, "event-monitor", garbage[i], "--event-monitor");
	}
	bad(c, "api-socket", "fd=99999", "not an open descriptor");
	bad(c, "api-socket", "fd=-1", "not a descriptor number");
	bad(c, "api-socket", "socket=3", "unknown key 'socket'");
	bad(c, "api-socket", "path=/a,fd=3", "one of path= and fd=");
	/* The wrong kind of descriptor. */
	snprintf(v, sizeof(v), "fd=%d", pipefd[1]);
	bad(c, "api-socket", v, "not a Unix stream socket");
	snprintf(v, sizeof(v), "fd=%d", dgram[0]);
	bad(c, "api-socket", v, "not a Unix stream socket");
	snprintf(v, sizeof(v), "fd=%d", pipefd[0]);
	bad(c, "event-monitor", v, "not open for writing");
	/* Nothing bad got in. */
	CHECK(c->api_socket_fd == sv[0] && c->event_monitor_fd == sv[1]);

	/* A copy shares the numbers: the VM duplicates, the caller closes. */
	struct phy_config copy;
	CHECK(config_copy(&copy, c) == 0);
	CHECK(copy.api_socket_fd == sv[0] && copy.event_monitor_fd == sv[1]);
	config_release(&copy);
	set(c, "kernel", "/k");
	CHECK(phy_config_validate(c, &err) == 0);
	/* One socket cannot be both. */
	snprintf(v, sizeof(v), "fd=%d", sv[0]);
	CHECK(set(c, "event-monitor", v) == 0);
	CHECK(phy_config_validate(c, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--event-monitor");
	CHECK_STR_CONTAINS(err.message, "also the --api-socket");
	phy_config_free(c);
	CHECK(fcntl(sv[0], F_GETFD) >= 0 && fcntl(pipefd[1], F_GETFD) >= 0);
	int fds[] = { sv[0], sv[1], dgram[0], dgram[1], pipefd[0], pipefd[1] };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		close(fds[i]);
}

static void test_typed(void)
{
	struct phy_config *c = phy_config_new();
	CHECK(phy_config_set_kernel(c, "/k", "/i", "console=hvc0", &err) == 0);
	CHECK(!strcmp(c->kernel, "/k") && !strcmp(c->initramfs, "/i") &&
	      !strcmp(c->cmdline, "console=hvc0"));
	CHECK(phy_config_set_cpus(c, 4, &err) == 0 && c->cpus == 4);
	CHECK(phy_config_set_cpus(c, 0, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--cpus");
	CHECK(phy_config_set_memory(c, 1ULL << 30, &err) == 0 && c->memory == 1ULL << 30);
	CHECK(phy_config_set_memory(c, 1000, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--memory");
	struct phy_disk_options d = { .path = "/a.img", .readonly = 1, .num_queues = 2, .id = "x" };
	CHECK(phy_config_add_disk(c, &d, &err) == 0);
	CHECK(config_count(c, &disk_option) == 1 && DISK(c, 0)->readonly && DISK(c, 0)->num_queues == 2 &&
	      DISK(c, 0)->queue_size == 256 && !strcmp(DISK(c, 0)->id, "x"));
	d = (struct phy_disk_options){ .path = "/b,c.img" };
	CHECK(phy_config_add_disk(c, &d, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--disk");
	d = (struct phy_disk_options){ .path = "/b.img", .queue_size = 3 };
	CHECK(phy_config_add_disk(c, &d, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "queue_size=3");
	CHECK(phy_config_add_disk(c, NULL, &err) == -PHY_E_INVALID);
	CHECK(phy_config_set_kernel(NULL, "/k", NULL, NULL, &err) == -PHY_E_INVALID);
	CHECK(config_count(c, &disk_option) == 1);
	struct phy_net_options n = { .tap = "tap3", .ip = "10.0.0.1", .num_queues = 4 };
	CHECK(phy_config_add_net(c, &n, &err) == 0);
	CHECK(config_count(c, &net_option) == 1 && !strcmp(NET(c, 0)->tap, "tap3") && NET(c, 0)->pairs == 2 &&
	      NET(c, 0)->has_ip && NET(c, 0)->mask == htonl(0xffffff00u));
	n = (struct phy_net_options){ .mac = "52:54:00:00:00:0g" };
	CHECK(phy_config_add_net(c, &n, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--net: mac=");
	n = (struct phy_net_options){ .tap = "a,b" };
	CHECK(phy_config_add_net(c, &n, &err) == -PHY_E_INVALID);
	CHECK(phy_config_add_net(c, NULL, &err) == -PHY_E_INVALID);
	n = (struct phy_net_options){ .tap = NULL };
	CHECK(phy_config_add_net(c, &n, &err) == 0 && NET(c, 1)->tap[0] == 0);
	CHECK(config_count(c, &net_option) == 2);
	phy_config_free(c);
}
/* A configuration that fails to validate, naming expect. */
static void invalid(struct phy_config *c, const char *expect)
{
	struct phy_error e;
	CHECK(phy_config_validate(c, &e) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(e.message, expect);
	CHECK(strchr(e.message, '\n') == NULL);
}

/* --firmware: a bare path (Cloud Hypervisor's) or keys; instead of a
 * kernel, never with one. */
static void test_firmware(void)
{
	struct phy_config *c = phy_config_new();
	invalid(c, "--kernel: a kernel (or --firmware) is required");
	CHECK(set(c, "firmware", "/usr/share/ovmf/OVMF.fd") == 0);
	const struct firmware_config *f = config_firmware(c);
	CHECK(f && !strcmp(f->path, "/usr/share/ovmf/OVMF.fd") && !f->vars);
	CHECK(phy_config_validate(c, &err) == 0);
	bad(c, "firmware", "/other.fd", "--firmware: given twice");
	CHECK(set(c, "cmdline", "quiet") == 0);
	invalid(c, "--firmware: cannot be combined with --cmdline");
	CHECK(set(c, "kernel", "/k") == 0);
	invalid(c, "--firmware: cannot be combined with --kernel");
	phy_config_free(c);

	c = phy_config_new();
	CHECK(set(c, "firmware", "path=/c.fd,vars=/v.fd,vars_template=/t.fd") == 0);
	f = config_firmware(c);
	CHECK(f && !strcmp(f->path, "/c.fd") && !strcmp(f->vars, "/v.fd") &&
	      !strcmp(f->vars_template, "/t.fd"));
	struct phy_config copy;
	CHECK(config_copy(&copy, c) == 0);
	const struct firmware_config *fc = config_firmware(&copy);
	CHECK(fc && fc->vars != f->vars && !strcmp(fc->vars, "/v.fd"));
	config_release(&copy);
	phy_config_free(c);

	c = phy_config_new();
	bad(c, "firmware", "", "--firmware");
	bad(c, "firmware", "path=", "--firmware: path= needs a path");
	bad(c, "firmware", "vars=/v", "--firmware: path= is required");
	bad(c, "firmware", "path=/a,path=/b", "path= given twice");
	bad(c, "firmware", "path=/a,vars_template=/t", "vars_template= needs vars=");
	bad(c, "firmware", "path=/a,bios=/b", "unknown key 'bios'");
	bad(c, "firmware", "path=/a,,vars=/v", "--firmware");
	CHECK(config_firmware(c) == NULL);
	phy_config_free(c);
}

/* Two --net options that are fine alone and not together. */
static void bad_pair(const char *first, const char *second, const char *expect)
{
	struct phy_error e;
	struct phy_config *v = phy_config_new();
	set(v, "kernel", "/k");
	CHECK(set(v, "net", first) == 0 && set(v, "net", second) == 0);
	CHECK(phy_config_validate(v, &e) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(e.message, expect);
	phy_config_free(v);
}

/* The 3D mode where this build has it: the key checks are the same. */
#if PHY_HAVE_VIRGL
#define MODE "mode=virgl"
#else
#define MODE "mode=2d"
#endif

static void test_gpu(void)
{
	struct phy_config *c = phy_config_new();
	CHECK(!config_gpu(c) && c->display == DISPLAY_NONE);
#if PHY_HAVE_VIRGL
	CHECK(set(c, "gpu", "mode=virgl") == 0);
	CHECK(config_gpu(c)->mode == GPU_VIRGL && config_gpu(c)->width == 1024 && config_gpu(c)->height == 768 &&
	      config_gpu(c)->outputs == 1 && config_gpu(c)->max_host_mem == CONFIG_GPU_DEFAULT_HOST_MEM);
#else
	bad(c, "gpu", "mode=virgl",
	    "--gpu: mode=virgl is not in this build (cmake -DPHYLLOME_VIRGL=OFF)");
	CHECK(set(c, "gpu", "mode=2d") == 0);
	CHECK(config_gpu(c)->mode == GPU_2D && config_gpu(c)->width == 1024 && config_gpu(c)->height == 768 &&
	      config_gpu(c)->outputs == 1 && config_gpu(c)->max_host_mem == CONFIG_GPU_DEFAULT_HOST_MEM);
#endif
	bad(c, "gpu", "mode=2d", "given twice");
	phy_config_free(c);
	c = phy_config_new();
	CHECK(set(c, "gpu", "mode=2d,width=1920,height=1080,outputs=2,max_hostmem=1G") == 0);
	CHECK(config_gpu(c)->mode == GPU_2D && config_gpu(c)->width == 1920 && config_gpu(c)->height == 1080 &&
	      config_gpu(c)->outputs == 2 && config_gpu(c)->max_host_mem == 1ULL << 30);
	phy_config_free(c);
	c = phy_config_new();
	bad(c, "gpu", "", "--gpu");
	bad(c, "gpu", "width=800", "mode=virgl or mode=2d is required");
	bad(c, "gpu", "mode=3d", "mode=3d");
	bad(c, "gpu", MODE ",width=8", "width=8");
	bad(c, "gpu", MODE ",height=4096", "height=4096");
	bad(c, "gpu", MODE ",width=abc", "width=abc");
	bad(c, "gpu", MODE ",outputs=0", "outputs=0");
	bad(c, "gpu", MODE ",outputs=17", "outputs=17");
	bad(c, "gpu", MODE ",max_hostmem=1M", "max_hostmem=1M");
	bad(c, "gpu", MODE ",max_hostmem=lots", "max_hostmem=lots");
	bad(c, "gpu", MODE ",vram=64M", "unknown key 'vram'");
	CHECK(!config_gpu(c));
	bad(c, "display", "gtk", "--display: 'gtk'");
	bad(c, "screenshot-on-exit", "", "--screenshot-on-exit");
	struct phy_error e;
	set(c, "kernel", "/k");
#if PHY_HAVE_SDL
	CHECK(set(c, "display", "sdl") == 0 && c->display == DISPLAY_SDL);
	CHECK(phy_config_validate(c, &e) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(e.message, "--display: needs --gpu");
#else
	bad(c, "display", "sdl",
	    "--display: sdl is not in this build (cmake -DPHYLLOME_SDL=OFF)");
#endif
	CHECK(set(c, "display", "none") == 0);
	CHECK(set(c, "screenshot-on-exit", "/tmp/x.png") == 0);
	CHECK(phy_config_validate(c, &e) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(e.message, "--screenshot-on-exit: needs --gpu");
	CHECK(set(c, "gpu", "mode=2d") == 0);
	CHECK(phy_config_validate(c, &e) == 0);
	phy_config_free(c);
}

/* --rng: on by default (src=/dev/urandom), replaced by one given, gone
 * with off, and garbage refused naming the option. */
static void test_rng(void)
{
	struct phy_config *c = phy_config_new();
	const struct rng_config *r = config_item(c, &rng_option, 0);
	CHECK(config_count(c, &rng_option) == 1 && r && !strcmp(r->src, "/dev/urandom"));
	CHECK(set(c, "rng", "src=/dev/random") == 0);
	r = config_item(c, &rng_option, 0);
	CHECK(config_count(c, &rng_option) == 1 && !strcmp(r->src, "/dev/random"));
	bad(c, "rng", "src=/dev/urandom", "--rng: given twice");
	CHECK(set(c, "rng", "off") == 0 && config_count(c, &rng_option) == 0);
	CHECK(set(c, "rng", "src=/tmp/pool,iommu=off") == 0);
	r = config_item(c, &rng_option, 0);
	CHECK(r && !strcmp(r->src, "/tmp/pool"));
	struct phy_config copy;
	CHECK(config_copy(&copy, c) == 0);
	const struct rng_config *rc = config_item(&copy, &rng_option, 0);
	CHECK(rc && rc->src != r->src && !strcmp(rc->src, "/tmp/pool"));
	config_release(&copy);
	phy_config_free(c);

	c = phy_config_new();
	bad(c, "rng", "", "--rng");
	bad(c, "rng", "/dev/urandom", "--rng: expected key=value");
	bad(c, "rng", "src=", "--rng: src= needs a path");
	bad(c, "rng", "iommu=off", "--rng: src= is required");
	bad(c, "rng", "src=/a,src=/b", "src= given twice");
	bad(c, "rng", "src=/a,iommu=on", "iommu=on is not supported");
	bad(c, "rng", "src=/a,iommu=maybe", "iommu=maybe is not on or off");
	bad(c, "rng", "src=/a,rate=1", "unknown key 'rate'");
	bad(c, "rng", "src=/a,,iommu=off", "--rng");
	r = config_item(c, &rng_option, 0); /* the default is still there */
	CHECK(config_count(c, &rng_option) == 1 && !strcmp(r->src, "/dev/urandom"));
	phy_config_free(c);
}

/* --fs: Cloud Hypervisor's syntax, up to 8 devices with distinct tags,
 * only on shared memory; garbage refused naming the option. */
static void test_fs(void)
{
	struct phy_config *c = phy_config_new();
	CHECK(set(c, "kernel", "/k") == 0);
	CHECK(set(c, "fs", "tag=myfs,socket=/tmp/fs.sock") == 0);
	CHECK(set(c, "fs", "socket=/tmp/b.sock,tag=b,num_queues=4,queue_size=256,id=f1,pci_segment=0") == 0);
	const struct fs_config *f = config_item(c, &fs_option, 0);
	CHECK(f && !strcmp(f->tag, "myfs") && !strcmp(f->socket, "/tmp/fs.sock") &&
	      f->num_queues == 1 && f->queue_size == 1024 && !f->id[0]);
	f = config_item(c, &fs_option, 1);
	CHECK(f && f->num_queues == 4 && f->queue_size == 256 && !strcmp(f->id, "f1"));
	CHECK(phy_config_validate(c, &err) == -PHY_E_INVALID);
	CHECK(strstr(err.message, "--fs: tag=myfs needs --memory shared=on") != NULL);
	CHECK(set(c, "memory", "size=512M,shared=on") == 0);
	CHECK(phy_config_validate(c, &err) == 0);
	CHECK(set(c, "fs", "tag=b,socket=/tmp/c.sock") == 0);
	CHECK(phy_config_validate(c, &err) == -PHY_E_INVALID);
	CHECK(strstr(err.message, "--fs: tag=b given twice") != NULL);
	struct phy_config copy;
	CHECK(config_copy(&copy, c) == 0);
	const struct fs_config *fc = config_item(&copy, &fs_option, 0);
	CHECK(fc && fc->socket != config_item(c, &fs_option, 0) &&
	      !strcmp(fc->socket, "/tmp/fs.sock"));
	config_release(&copy);
	phy_config_free(c);

	static const char *const cases[][2] = {
		{ "", "--fs" },
		{ "socket=/s", "--fs: tag= is required" },
		{ "tag=t", "--fs: socket= is required" },
		{ "tag=,socket=/s", "--fs: tag= must be 1 to 36 bytes" },
		{ "tag=0123456789012345678901234567890123456,socket=/s", "must be 1 to 36 bytes" },
		{ "tag=a,tag=b,socket=/s", "--fs: tag= given twice" },
		{ "tag=t,socket=", "--fs: socket= needs a path" },
		{ "tag=t,socket=/a,socket=/b", "--fs: socket= given twice" },
		{ "tag=t,socket=/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "too long for a Unix socket" },
		{ "tag=t,socket=/s,num_queues=0", "--fs: num_queues=0" },
		{ "tag=t,socket=/s,num_queues=65", "--fs: num_queues=65" },
		{ "tag=t,socket=/s,queue_size=3", "--fs: queue_size=3" },
		{ "tag=t,socket=/s,pci_segment=1", "unknown key 'pci_segment'" },
		{ "tag=t,socket=/s,cache=always", "unknown key 'cache'" },
	};
	c = phy_config_new();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		bad(c, "fs", cases[i][0], cases[i][1]);
	CHECK(config_count(c, &fs_option) == 0);
	phy_config_free(c);
}

/* --vsock: Cloud Hypervisor's syntax, one device, the spec's reserved
 * CIDs and garbage refused naming the option. */
static void test_vsock(void)
{
	struct phy_config *c = phy_config_new();
	CHECK(config_count(c, &vsock_option) == 0);
	CHECK(set(c, "vsock", "cid=3,socket=/tmp/v.sock,id=vs0,iommu=off,pci_segment=0") == 0);
	const struct vsock_config *v = config_item(c, &vsock_option, 0);
	CHECK(v && v->cid == 3 && !strcmp(v->socket, "/tmp/v.sock") && !strcmp(v->id, "vs0"));
	bad(c, "vsock", "cid=4,socket=/tmp/w", "--vsock: given twice");
	struct phy_config copy;
	CHECK(config_copy(&copy, c) == 0);
	const struct vsock_config *vc = config_item(&copy, &vsock_option, 0);
	CHECK(vc && vc->socket != v->socket && !strcmp(vc->socket, "/tmp/v.sock"));
	config_release(&copy);
	phy_config_free(c);

	c = phy_config_new();
	CHECK(set(c, "vsock", "socket=/s,cid=4294967294") == 0);
	v = config_item(c, &vsock_option, 0);
	CHECK(v && v->cid == 4294967294u);
	phy_config_free(c);

	c = phy_config_new();
	bad(c, "vsock", "", "--vsock");
	bad(c, "vsock", "cid=3", "--vsock: socket= is required");
	bad(c, "vsock", "socket=/s", "--vsock: cid= is required");
	bad(c, "vsock", "cid=0,socket=/s", "--vsock: cid=0 is reserved");
	bad(c, "vsock", "cid=1,socket=/s", "--vsock: cid=1 is reserved");
	bad(c, "vsock", "cid=2,socket=/s", "--vsock: cid=2 is reserved");
	bad(c, "vsock", "cid=4294967295,socket=/s", "--vsock: cid=4294967295 is reserved");
	bad(c, "vsock", "cid=99999999999999999999,socket=/s", "--vsock: cid=");
	bad(c, "vsock", "cid=-3,socket=/s", "--vsock: cid=-3");
	bad(c, "vsock", "cid=x,socket=/s", "--vsock: cid=x");
	bad(c, "vsock", "cid=3,socket=", "--vsock: socket= needs a path");
	bad(c, "vsock", "cid=3,socket=/a,socket=/b", "socket= given twice");
	bad(c, "vsock", "cid=3,socket=/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "too long for a Unix socket");
	bad(c, "vsock", "cid=3,socket=/s,iommu=on", "iommu=on is not supported");
	bad(c, "vsock", "cid=3,socket=/s,pci_segment=1", "only segment 0");
	bad(c, "vsock", "cid=3,socket=/s,port=1", "unknown key 'port'");
	CHECK(config_count(c, &vsock_option) == 0);
	phy_config_free(c);
}

/* --balloon: Cloud Hypervisor's syntax, one device, not above the VM's
 * memory (checked at validation, whichever option came first). */
static void test_balloon(void)
{
	struct phy_config *c = phy_config_new();
	CHECK(set(c, "balloon", "size=256M,deflate_on_oom=on,free_page_reporting=on") == 0);
	const struct balloon_config *b = config_item(c, &balloon_option, 0);
	CHECK(b && b->size == 256u << 20 && b->deflate_on_oom && b->free_page_reporting);
	bad(c, "balloon", "size=0", "--balloon: given twice");
	struct phy_error e = {0};
	CHECK(set(c, "memory", "size=256M") == 0);
	CHECK(phy_config_validate(c, &e) != 0 || !c->kernel);
	phy_config_free(c);

	c = phy_config_new();
	CHECK(set(c, "kernel", "/k") == 0);
	CHECK(set(c, "balloon", "size=1G") == 0);
	CHECK(phy_config_validate(c, &e) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(e.message, "--balloon: size=1073741824 is more than the VM's memory");
	CHECK(set(c, "memory", "size=2G") == 0);
	CHECK(phy_config_validate(c, &e) == 0);
	phy_config_free(c);

	c = phy_config_new();
	CHECK(set(c, "balloon", "size=0") == 0);
	b = config_item(c, &balloon_option, 0);
	CHECK(b && b->size == 0 && !b->deflate_on_oom);
	phy_config_free(c);

	c = phy_config_new();
	bad(c, "balloon", "", "--balloon");
	bad(c, "balloon", "deflate_on_oom=on", "--balloon: size= is required");
	bad(c, "balloon", "size=", "--balloon");
	bad(c, "balloon", "size=1x", "--balloon: size=1x is not a size");
	bad(c, "balloon", "size=4097", "--balloon: size=4097 is not a size in 4 KiB pages");
	bad(c, "balloon", "size=-1", "--balloon: size=-1");
	bad(c, "balloon", "size=1M,deflate_on_oom=yes", "deflate_on_oom=yes is not on or off");
	bad(c, "balloon", "size=1M,free_page_reporting=2", "free_page_reporting=2 is not on or off");
	bad(c, "balloon", "size=1M,free_page_hint=on", "unknown key 'free_page_hint'");
	CHECK(config_count(c, &balloon_option) == 0);
	phy_config_free(c);
}

static void test_nets(void)
{
	struct phy_config *c = phy_config_new();
	CHECK(set(c, "net", "tap=tap0") == 0);
	CHECK(set(c, "net", "tap=,mac=02:00:00:00:00:01,ip=192.168.7.1,mask=255.255.0.0,"
		  "num_queues=8,queue_size=1024,id=lan") == 0);
	CHECK(config_count(c, &net_option) == 2);
	const struct net_config *a = NET(c, 0), *b = NET(c, 1);
	CHECK(!strcmp(a->tap, "tap0") && a->pairs == 1 && a->queue_size == 256 &&
	      !a->has_ip && !a->mac_given);
	/* The default MAC: locally administered, unicast, stable. */
	CHECK((a->mac[0] & 3) == 2);
	CHECK(b->tap[0] == 0 && b->pairs == 4 && b->queue_size == 1024 &&
	      b->has_ip && b->ip == htonl(0xc0a80701u) && b->mask == htonl(0xffff0000u) &&
	      !strcmp(b->id, "lan") && b->mac[5] == 1);
	struct phy_config *d = phy_config_new();
	CHECK(set(d, "net", "tap=tap0") == 0);
	CHECK(!memcmp(NET(d, 0)->mac, a->mac, 6));
	CHECK(set(d, "net", "tap=tap1,id=x") == 0 && set(d, "net", "tap=tap2,id=y") == 0);
	CHECK(memcmp(NET(d, 1)->mac, NET(d, 2)->mac, 6) != 0);
	phy_config_free(d);

	bad(c, "net", "", "--net");
	bad(c, "net", "tap", "--net");
	bad(c, "net", "mac=02:00:00:00:00:02", "tap= or fd= is required");
	bad(c, "net", "tap=waytoolongname123", "tap=waytoolongname123");
	bad(c, "net", "tap=a/b", "tap=a/b");
	bad(c, "net", "tap=a:b", "tap=a:b");
	bad(c, "net", "tap=..", "tap=..");
	bad(c, "net", "tap=a b", "tap=a b");
	bad(c, "net", "tap=x,mac=zz", "mac=zz");
	bad(c, "net", "tap=x,mac=01:00:00:00:00:01", "multicast");
	bad(c, "net", "tap=x,mac=00:00:00:00:00:00", "all zeroes");
	bad(c, "net", "tap=x,mac=02:00:00:00:00:0100", "mac=");
	bad(c, "net", "tap=x,mac=02-00-00-00-00-01", "mac=");
	bad(c, "net", "tap=x,mac=2:0:0:0:0:1", "mac=");
	bad(c, "net", "tap=x,mac= 2:00:00:00:00:01", "mac=");
	bad(c, "net", "tap=x,ip=10.0.0", "ip=10.0.0");
	bad(c, "net", "tap=x,ip=fe80::1", "ip=fe80::1");
	bad(c, "net", "tap=x,mask=255.255.255.0", "mask= needs ip=");
	bad(c, "net", "tap=x,ip=10.0.0.1,mask=255.0.255.0", "mask=255.0.255.0");
	bad(c, "net", "tap=x,ip=10.0.0.1,mask=0.0.0.0", "mask=0.0.0.0");
	bad(c, "net", "tap=x,num_queues=3", "num_queues=3");
	bad(c, "net", "tap=x,num_queues=0", "num_queues=0");
	bad(c, "net", "tap=x,num_queues=18", "num_queues=18");
	bad(c, "net", "tap=x,num_queues=-2", "num_queues=-2");
	bad(c, "net", "tap=x,queue_size=100", "queue_size=100");
	bad(c, "net", "tap=x,queue_size=2048", "queue_size=2048");
	bad(c, "net", "tap=x,id=", "id=");
	bad(c, "net", "tap=x,id=0123456789012345678901234567890123", "id=");
	bad(c, "net", "tap=x,vhost=on", "unknown key 'vhost'");
	bad(c, "net", "tap=x,,id=a", "--net");
	CHECK(config_count(c, &net_option) == 2); /* nothing bad got in */
	for (int i = 2; i < 8; i++) {
		char v[32];
		snprintf(v, sizeof(v), "tap=t%d", i);
		CHECK(set(c, "net", v) == 0);
	}
	bad(c, "net", "tap=t9", "at most 8");

	/* Checks across devices, at validation. */
	bad_pair("tap=same", "tap=same", "tap=same is given twice");
	bad_pair("tap=,mac=02:00:00:00:00:09", "tap=,mac=02:00:00:00:00:09",
		 "--net: two devices have the MAC 02:00:00:00:00:09");
	bad_pair("tap=,id=a", "tap=,id=a", "id=a is given twice");
	phy_config_free(c);
}

/* --net fd=: what is wrong without looking at a descriptor. */
static void test_net_fd_syntax(void)
{
	struct phy_config *c = phy_config_new();
	int before = open_fd_count();
	int pipefd[2], sv[2];
	CHECK(pipe(pipefd) == 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	int null = open("/dev/null", O_RDWR);
	bad(c, "net", "fd=[]", "--net: fd=[] gives no descriptor");
	bad(c, "net", "fd=[3,", "--net: fd=[3, is not a descriptor number or a list");
	bad(c, "net", "fd=[3,,4]", "--net: fd=[3,,4]: '' is not a descriptor number");
	bad(c, "net", "fd=[3]x", "--net: fd=[3]x is not");
	bad(c, "net", "fd=x", "--net: fd=x: 'x' is not a descriptor number");
	bad(c, "net", "fd=-1", "--net: fd=-1: '-1' is not a descriptor number");
	bad(c, "net", "fd=2147483648", "--net: fd=2147483648");
	bad(c, "net", "fd=[3,3]", "--net: fd=3 is given twice");
	bad(c, "net", "fd=[3,4,5,6,7,8,9,10,11]", "--net: fd=[3,4,5,6,7,8,9,10,11]: more than 8");
	bad(c, "net", "tap=x,fd=3", "--net: give one of tap= and fd=");
	bad(c, "net", "fd=[3,4],tap=", "--net: give one of tap= and fd=");
	bad(c, "net", "fd=[3,4],num_queues=2",
	    "--net: num_queues=2 does not match fd= (2 descriptors, one per queue pair: num_queues=4)");
	bad(c, "net", "fd=99999", "--net: fd=99999 is not an open descriptor");
	char v[64];
	snprintf(v, sizeof(v), "fd=%d", pipefd[0]);
	bad(c, "net", v, "not a tap (not a character device)");
	snprintf(v, sizeof(v), "fd=%d,mac=02:00:00:00:00:01", sv[0]);
	bad(c, "net", v, "not a tap (not a character device)");
	snprintf(v, sizeof(v), "mac=02:00:00:00:00:01,fd=[%d]", null);
	bad(c, "net", v, "is not a queue attached to a tap (TUNGETIFF)");
	/* Through the library's struct, the same checks. */
	int fds[9] = { null, pipefd[0], 20, 21, 22, 23, 24, 25, 26 };
	struct phy_net_options o = { .fds = fds, .nr_fds = 2 };
	CHECK(phy_config_add_net(c, &o, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--net: fd=");
	o.nr_fds = 9;
	CHECK(phy_config_add_net(c, &o, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "more than 8 descriptors");
	o = (struct phy_net_options){ .nr_fds = 1 };
	CHECK(phy_config_add_net(c, &o, &err) == -PHY_E_INVALID);
	CHECK(config_count(c, &net_option) == 0);
	phy_config_free(c);
	close(null);
	close(pipefd[0]);
	close(pipefd[1]);
	close(sv[0]);
	close(sv[1]);
	CHECK(open_fd_count() == before);
}

/* --net fd= on real taps (in a network namespace of the test's own). */
static void test_net_fd_taps(void)
{
	if (unshare(CLONE_NEWNET) || access("/dev/net/tun", R_OK | W_OK)) {
		printf("test_config: no network namespace or /dev/net/tun (%s): --net fd= on taps skipped\n",
		       strerror(errno));
		return;
	}
	int before = open_fd_count();
	int one = tun_queue("fdt0", TAP_FLAGS);
	int mq0 = tun_queue("fdmq0", TAP_FLAGS | IFF_MULTI_QUEUE);
	int mq1 = tun_queue("fdmq0", TAP_FLAGS | IFF_MULTI_QUEUE);
	int tun = tun_queue("fdtun0", IFF_TUN | IFF_NO_PI | IFF_VNET_HDR);
	int nohdr = tun_queue("fdpi0", IFF_TAP | IFF_NO_PI);
	REQUIRE(one >= 0 && mq0 >= 0 && mq1 >= 0 && tun >= 0 && nohdr >= 0);
	int opened = open_fd_count();
	struct phy_config *c = phy_config_new();
	set(c, "kernel", "/k");
	char v[80];

	snprintf(v, sizeof(v), "fd=%d,ip=10.9.0.1", one);
	CHECK(set(c, "net", v) == 0);
	const struct net_config *n = NET(c, 0);
	CHECK(n->nr_fds == 1 && n->pairs == 1 && n->given_fds[0] == one &&
	      !strcmp(n->tap, "fdt0") && n->has_ip && !n->tap_given);
	/* The configuration's own descriptor: a close-on-exec duplicate. */
	CHECK(n->fds[0] >= 0 && n->fds[0] != one && (fcntl(n->fds[0], F_GETFD) & FD_CLOEXEC));
	CHECK(open_fd_count() == opened + 1);
	snprintf(v, sizeof(v), "fd=[%d,%d],num_queues=4,id=mq", mq0, mq1);
	CHECK(set(c, "net", v) == 0);
	CHECK(NET(c, 1)->pairs == 2 && NET(c, 1)->nr_fds == 2 && !strcmp(NET(c, 1)->tap, "fdmq0"));
	CHECK(open_fd_count() == opened + 3);
	/* A copy (the VM's) has duplicates of its own; freeing it closes them. */
	struct phy_config copy;
	CHECK(config_copy(&copy, c) == 0);
	CHECK(open_fd_count() == opened + 6);
	CHECK(((const struct net_config *)config_item(&copy, &net_option, 1))->fds[1] != NET(c, 1)->fds[1]);
	config_release(&copy);
	CHECK(open_fd_count() == opened + 3);

	/* Descriptors that are not what a virtio-net device needs. */
	snprintf(v, sizeof(v), "fd=%d", tun);
	bad(c, "net", v, "a tun (IP) device, not a tap");
	snprintf(v, sizeof(v), "fd=%d", nohdr);
	bad(c, "net", v, "tap fdpi0 was opened without IFF_VNET_HDR");
	snprintf(v, sizeof(v), "fd=[%d,%d]", one, mq0);
	bad(c, "net", v, "tap fdt0 is not a multi-queue tap");
	snprintf(v, sizeof(v), "fd=[%d,%d]", mq0, one);
	bad(c, "net", v, "tap fdt0 is not a multi-queue tap");
	int mqd = dup(mq0);
	snprintf(v, sizeof(v), "fd=[%d,%d]", mq0, mqd);
	bad(c, "net", v, "are the same queue of tap fdmq0");
	close(mqd);
	/* The same tap for a second device: refused at validation. */
	snprintf(v, sizeof(v), "fd=%d", one);
	CHECK(set(c, "net", v) == 0);
	CHECK(phy_config_validate(c, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--net: two devices use tap fdt0");
	phy_config_free(c);
	CHECK(open_fd_count() == opened);

	/* phy_config_add_net() checks against the devices there already:
	 * a failure leaves the configuration, and the descriptors, as
	 * they were; the caller's stay open either way. */
	c = phy_config_new();
	set(c, "kernel", "/k");
	int q[2] = { mq0, mq1 };
	struct phy_net_options o = { .fds = q, .nr_fds = 2, .mac = "02:00:00:00:00:07" };
	CHECK(phy_config_add_net(c, &o, &err) == 0);
	CHECK(NET(c, 0)->pairs == 2 && !strcmp(NET(c, 0)->tap, "fdmq0"));
	o.mac = NULL;
	CHECK(phy_config_add_net(c, &o, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "two devices use tap fdmq0");
	o = (struct phy_net_options){ .fds = &one, .nr_fds = 1, .mac = "02:00:00:00:00:07" };
	CHECK(phy_config_add_net(c, &o, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "two devices have the MAC");
	o = (struct phy_net_options){ .fds = &one, .nr_fds = 1, .tap = "x" };
	CHECK(phy_config_add_net(c, &o, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "give one of tap= and fd=");
	o = (struct phy_net_options){ .fds = &one, .nr_fds = 1, .num_queues = 2 };
	CHECK(phy_config_add_net(c, &o, &err) == 0);
	CHECK(config_count(c, &net_option) == 2 && open_fd_count() == opened + 3);
	CHECK(phy_config_validate(c, &err) == 0);
	phy_config_free(c);
	CHECK(open_fd_count() == opened);
	close(one);
	close(mq0);
	close(mq1);
	close(tun);
	close(nohdr);
	CHECK(open_fd_count() == before);
}

/* Random garbage never crashes the parser and always either succeeds or
 * says which option is wrong. */
static void test_garbage(void)
{
	static const char *opts[] = { "cpus", "memory", "serial", "console", "kernel",
				      "disk", "api-socket", "event-monitor", "rng", "vsock", "balloon" };
	unsigned seed = 12345;
	struct phy_config *c = phy_config_new();
	for (int i = 0; i < 20000; i++) {
		char v[32];
		int n = rand_r(&seed) % 31;
		for (int j = 0; j < n; j++)
			v[j] = "bootmaxsize=,0123456789GMKfile/x\xffpathreadonlyqueue_snum"[rand_r(&seed) % 55];
		v[n] = 0;
		const char *o = opts[rand_r(&seed) % (sizeof(opts) / sizeof(opts[0]))];
		if (set(c, o, v) != 0) {
			char name[32];
			snprintf(name, sizeof(name), "--%s", o);
			CHECK_STR_CONTAINS(err.message, name);
		}
	}
	CHECK(c->cpus >= 1 && c->cpus <= 255);
	CHECK(c->memory >= 16ULL << 20);
	phy_config_free(c);
}

/* The host CPUs of vCPU v as "0,2,3" (empty when it has no entry). */
static const char *host_cpus(const struct phy_config *c, unsigned v)
{
	static char buf[64];
	const struct cpu_affinity *e = cpu_affinity_of(c->affinity, c->nr_affinity, v);
	size_t n = 0;
	buf[0] = 0;
	for (unsigned cpu = 0; e && cpu < CPU_AFFINITY_MAX && n < sizeof(buf) - 8; cpu++)
		if (cpu_affinity_has(e, cpu))
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%u", n ? "," : "", cpu);
	return buf;
}

/* --cpus affinity=[V@[CPUS],...], Cloud Hypervisor's syntax, with
 * ranges; checked against boot= and this process's CPUs at validation. */
static void test_cpu_affinity(void)
{
	struct phy_config *c = phy_config_new();
	CHECK(set(c, "kernel", "/k") == 0);
	CHECK(set(c, "cpus", "boot=3,affinity=[0@[0],2@[1,3-5,7]]") == 0);
	CHECK(c->cpus == 3 && c->nr_affinity == 2);
	CHECK(!strcmp(host_cpus(c, 0), "0"));
	CHECK(!strcmp(host_cpus(c, 1), ""));
	CHECK(!strcmp(host_cpus(c, 2), "1,3,4,5,7"));
	/* boot= alone keeps the affinity; affinity= replaces it. */
	CHECK(set(c, "cpus", "boot=2") == 0 && c->nr_affinity == 2);
	CHECK(set(c, "cpus", "affinity=[1@[1023]]") == 0 && c->nr_affinity == 1);
	CHECK(!strcmp(host_cpus(c, 1), "1023") && !strcmp(host_cpus(c, 0), ""));
	CHECK(set(c, "cpus", "affinity=[]") == 0 && c->nr_affinity == 0 && !c->affinity);
	bad(c, "cpus", "affinity=[1024@[1]]", "--cpus: affinity names vCPU 1024");
	CHECK(set(c, "cpus", "affinity=[0@[1],0@[2]]") == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--cpus: affinity gives vCPU 0 twice");
	/* A refused value changes nothing. */
	CHECK(set(c, "cpus", "affinity=[0@[1]]") == 0);
	bad(c, "cpus", "boot=4,affinity=[0@[x]]", "--cpus: affinity=[0@[x]]: expected host CPUs");
	CHECK(c->cpus == 2 && !strcmp(host_cpus(c, 0), "1"));
	static const char *const garbage[] = {
		"affinity=", "affinity=0@[1]", "affinity=[0]", "affinity=[0@]",
		"affinity=[0@1]", "affinity=[0@[]]", "affinity=[0@[1]", "affinity=[@[1]]",
		"affinity=[0@[1]],", "affinity=[0@[1],]", "affinity=[0@[1]]x",
		"affinity=[0@[3-1]]", "affinity=[0@[1-]]", "affinity=[0@[-1]]",
		"affinity=[0@[1024]]", "affinity=[0@[99999999999999999999]]",
		"affinity=[99999999999@[1]]", "affinity=[0@[1,,2]]", "affinity=[0@[1]][",
		"affinity=[[0@[1]]]", "affinity=[0 @[1]]", "affinity=[0@[+1]]",
	};
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++)
		bad(c, "cpus", garbage[i], "--cpus: ");
	CHECK(c->nr_affinity == 1 && !strcmp(host_cpus(c, 0), "1"));

	/* Validation: vCPUs the VM has, CPUs this process may use. */
	cpu_set_t mine;
	REQUIRE(sched_getaffinity(0, sizeof(mine), &mine) == 0);
	unsigned usable = 0, unusable = CPU_SETSIZE;
	for (unsigned cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (CPU_ISSET(cpu, &mine))
			usable = cpu;
		else if (unusable == CPU_SETSIZE)
			unusable = cpu;
	}
	char v[64];
	snprintf(v, sizeof(v), "boot=2,affinity=[1@[%u]]", usable);
	CHECK(set(c, "cpus", v) == 0 && phy_config_validate(c, &err) == 0);
	CHECK(set(c, "cpus", "boot=1") == 0);
	CHECK(phy_config_validate(c, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--cpus: affinity names vCPU 1, but the VM has 1");
	snprintf(v, sizeof(v), "boot=2,affinity=[0@[%u]]", unusable);
	CHECK(set(c, "cpus", v) == 0);
	CHECK(phy_config_validate(c, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "is not one this process may run on");

	/* The VM's copy is its own. */
	snprintf(v, sizeof(v), "boot=2,affinity=[0@[%u],1@[%u]]", usable, usable);
	CHECK(set(c, "cpus", v) == 0);
	struct phy_config cp;
	CHECK(config_copy(&cp, c) == 0 && cp.nr_affinity == 2 && cp.affinity != c->affinity);
	CHECK(!strcmp(host_cpus(&cp, 1), host_cpus(c, 1)));
	config_release(&cp);
	phy_config_free(c);
}

#define RULE(c, n) \
	((const struct landlock_rule_config *)config_item((c), &landlock_rule_option, (n)))

/* --landlock (a flag: "" from the CLI, or on/off) and --landlock-rules
 * path=PATH,access=[rw]: paths must exist, access is r, w or rw. */
static void test_landlock(void)
{
	struct phy_config *c = phy_config_new();
	CHECK(!c->landlock);
	CHECK(set(c, "landlock", "") == 0 && c->landlock);
	CHECK(set(c, "landlock", "off") == 0 && !c->landlock);
	CHECK(set(c, "landlock", "true") == 0 && c->landlock);
	bad(c, "landlock", "maybe", "--landlock: 'maybe' is not on or off");
	CHECK(set(c, "landlock-rules", "path=/tmp,access=rw") == 0);
	CHECK(set(c, "landlock-rules", "access=r,path=/dev/zero") == 0);
	CHECK(set(c, "landlock-rules", "path=/dev/null,access=w") == 0);
	REQUIRE(config_count(c, &landlock_rule_option) == 3);
	CHECK(!strcmp(RULE(c, 0)->path, "/tmp") && RULE(c, 0)->access == (LANDLOCK_R | LANDLOCK_W));
	CHECK(RULE(c, 1)->access == LANDLOCK_R && RULE(c, 2)->access == LANDLOCK_W);
	bad(c, "landlock-rules", "access=rw", "--landlock-rules: path= is required");
	bad(c, "landlock-rules", "path=/tmp", "--landlock-rules: access= is required");
	bad(c, "landlock-rules", "path=,access=r", "--landlock-rules: path= needs a path");
	bad(c, "landlock-rules", "path=/nonexistent/x,access=r",
	    "--landlock-rules: path=/nonexistent/x: No such file");
	bad(c, "landlock-rules", "path=/tmp,access=x", "--landlock-rules: access=x is not r, w or rw");
	bad(c, "landlock-rules", "path=/tmp,access=rr", "access=rr is not");
	bad(c, "landlock-rules", "path=/tmp,access=", "--landlock-rules: access= needs r, w or rw");
	bad(c, "landlock-rules", "path=/tmp,access=rw,mode=1", "--landlock-rules: unknown key 'mode'");
	bad(c, "landlock-rules", "/tmp", "--landlock-rules");
	CHECK(config_count(c, &landlock_rule_option) == 3);
	for (int i = 3; i < CONFIG_MAX_LANDLOCK_RULES; i++)
		CHECK(set(c, "landlock-rules", "path=/tmp,access=r") == 0);
	bad(c, "landlock-rules", "path=/tmp,access=r", "--landlock-rules: at most 16");
	/* The typed setters spell the same options. */
	struct phy_config *t = phy_config_new();
	CHECK(phy_config_set_landlock(t, 1, &err) == 0 && t->landlock);
	CHECK(phy_config_add_landlock_rule(t, "/tmp", "rw", &err) == 0);
	CHECK(phy_config_add_landlock_rule(t, "/tmp", "rx", &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--landlock-rules: access=rx");
	CHECK(phy_config_add_landlock_rule(t, "/a,b", "r", &err) == -PHY_E_INVALID);
	CHECK(config_count(t, &landlock_rule_option) == 1);
	/* A copy keeps them (the VM's own configuration). */
	struct phy_config cp;
	CHECK(config_copy(&cp, c) == 0 && cp.landlock);
	CHECK(config_count(&cp, &landlock_rule_option) == CONFIG_MAX_LANDLOCK_RULES);
	CHECK(RULE(&cp, 0)->path != RULE(c, 0)->path && !strcmp(RULE(&cp, 0)->path, "/tmp"));
	config_release(&cp);
	/* The VMM's command line into a client's configuration. */
	struct phy_config *u = phy_config_new();
	CHECK(config_add_landlock(u, t, &err) == 0 && u->landlock);
	REQUIRE(config_count(u, &landlock_rule_option) == 1);
	CHECK(RULE(u, 0)->access == (LANDLOCK_R | LANDLOCK_W));
	CHECK(config_add_landlock(u, t, &err) == 0); /* nothing twice */
	CHECK(config_count(u, &landlock_rule_option) == 1);
	phy_config_free(u);
	/* 16 others do not fit beside t's one. */
	static const char *const paths[] = { "/", "/dev", "/dev/null", "/dev/zero", "/proc", "/tmp" };
	static const char *const acc[] = { "r", "w", "rw" };
	struct phy_config *big = phy_config_new();
	for (unsigned i = 0; config_count(big, &landlock_rule_option) < 16; i++)
		NEED(phy_config_add_landlock_rule(big, paths[i / 3], acc[i % 3], &err) == 0);
	CHECK(config_add_landlock(t, big, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--landlock-rules: at most 16");
	phy_config_free(big);
	phy_config_free(t);
	phy_config_free(c);
}

static void test_options_table(void)
{
	size_t n = 0;
	const struct phy_option_info *o = phy_config_options(&n);
	CHECK(n >= 7);
	struct phy_config *c = phy_config_new();
	for (size_t i = 0; i < n; i++) {
		/* Every listed option is one phy_config_set() knows. */
		set(c, o[i].name, "");
		CHECK(strstr(err.message, "unknown option") == NULL);
	}
	phy_config_free(c);
}

int main(void)
{
	test_sizes();
	test_good();
	test_bad();
	test_console_modes();
	test_disks();
	test_nets();
	test_net_fd_syntax();
	test_rng();
	test_vsock();
	test_fs();
	test_balloon();
	test_firmware();
	test_gpu();
	test_typed();
	test_api_options();
	test_api_fds();
	test_garbage();
	test_cpu_affinity();
	test_options_table();
	test_landlock();
	test_net_fd_taps(); /* last: it moves the test to a network namespace */
	return check_report("test_config");
}
