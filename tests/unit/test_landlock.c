// SPDX-License-Identifier: Apache-2.0
/*
 * Landlock (common/landlock.c, common/thread.c, vmm/vm_landlock.c) on this
 * machine's kernel: a confined thread opens what its rules allow and
 * nothing else, rulesets made for older ABIs leave their newer rights
 * alone (best effort), a kernel without Landlock is one line naming the
 * option, threads created in a sandbox scope are confined while their
 * creator and later threads are not, and a VM's ruleset from its
 * configuration: its kernel, read-only and read-write disks, console
 * file and --landlock-rules, nothing beside them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "gpu_driver.h"
#include "common/landlock.h"
#include "common/thread.h"
#include "vmm/config/config.h"
#include "vmm/vm_landlock.h"

static char dir[64];

/* What a thread got from one open() (or truncate() with O_TRUNC alone). */
struct probe {
	const char *path;
	int flags;
	int ruleset_fd; /* >= 0: the thread confines itself first */
	int err;        /* 0: it worked */
};

static void *probe_fn(void *arg)
{
	struct probe *p = arg;
	if (p->ruleset_fd >= 0 && landlock_restrict_fd(p->ruleset_fd)) {
		p->err = -1;
		return NULL;
	}
	int fd = p->flags == O_TRUNC ? truncate(p->path, 0)
				      : open(p->path, p->flags | O_CLOEXEC, 0600);
	p->err = fd < 0 ? errno : 0;
	if (fd > 0)
		close(fd);
	return NULL;
}

/* errno of open(path, flags) on a fresh thread confined to rs. */
static int try_open(const struct landlock_ruleset *rs, const char *path, int flags)
{
	struct probe p = { path, flags, rs ? rs->fd : -1, -2 };
	pthread_t t;
	NEED(pthread_create(&t, NULL, probe_fn, &p) == 0);
	pthread_join(t, NULL);
	return p.err;
}

static void make_file(const char *path)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	NEED(fd >= 0);
	NEED(write(fd, "data", 4) == 4);
	close(fd);
}

static char *at(const char *name)
{
	static char buf[8][128];
	static unsigned n;
	char *b = buf[n++ % 8];
	snprintf(b, sizeof(buf[0]), "%s/%s", dir, name);
	return b;
}

static void test_kernel_has_landlock(void)
{
	/* The project's machines run a kernel with Landlock (ABI 7 when
	 * this was written); without it nothing below can be shown. */
	int abi = landlock_abi();
	printf("  Landlock ABI %d\n", abi);
	CHECK(abi >= 1);
}

static void test_no_landlock(void)
{
	struct landlock_ruleset rs;
	struct phy_error err = { 0 };
	CHECK(landlock_ruleset_open(&rs, -ENOSYS, "landlock", &err) == -PHY_E_INVALID);
	CHECK(rs.fd == -1);
	CHECK_STR_CONTAINS(err.message, "--landlock: this kernel has no Landlock");
	CHECK_STR_CONTAINS(err.message, strerror(ENOSYS));
	CHECK(strchr(err.message, '\n') == NULL);
	CHECK(landlock_ruleset_open(&rs, -EOPNOTSUPP, "landlock", &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, strerror(EOPNOTSUPP));

	/* The VM's ruleset says the same, and nothing without --landlock. */
	struct phy_config *c = phy_config_new();
	NEED(c);
	CHECK(vm_landlock_ruleset(c, -ENOSYS, &rs, &err) == 0 && rs.fd == -1);
	NEED(phy_config_set(c, "landlock", "", &err) == 0);
	CHECK(vm_landlock_ruleset(c, -EOPNOTSUPP, &rs, &err) == -PHY_E_INVALID);
	CHECK(rs.fd == -1);
	CHECK_STR_CONTAINS(err.message, "--landlock: this kernel has no Landlock");
	phy_config_free(c);
}

/* Each ABI handles the rights it knows, no more (1: bits 0-12, 2: REFER,
 * 3: TRUNCATE, 5: IOCTL_DEV), and a ruleset made for an old ABI works on
 * this newer kernel, leaving what it does not handle free: truncate(2)
 * outside the rules works under ABI 2, not under ABI 3. */
static void test_abi_downgrade(void)
{
	static const struct {
		int abi;
		uint64_t handled;
	} abis[] = { { 1, 0x1fff }, { 2, 0x3fff }, { 3, 0x7fff },
		     { 4, 0x7fff }, { 5, 0xffff }, { 7, 0xffff } };
	struct phy_error err;
	make_file(at("outside"));
	NEED(mkdir(at("in"), 0700) == 0);
	for (size_t i = 0; i < sizeof(abis) / sizeof(abis[0]); i++) {
		struct landlock_ruleset rs;
		REQUIRE(landlock_ruleset_open(&rs, abis[i].abi, "landlock", &err) == 0);
		CHECK_EQ_U64(rs.handled, abis[i].handled);
		REQUIRE(landlock_allow(&rs, at("in"), LANDLOCK_R | LANDLOCK_W,
				       "landlock", &err) == 0);
		CHECK(try_open(&rs, at("outside"), O_RDONLY) == EACCES);
		CHECK(try_open(&rs, at("in/new"), O_CREAT | O_RDWR) == 0);
		CHECK(try_open(&rs, at("outside"), O_TRUNC) ==
		      (abis[i].abi >= 3 ? EACCES : 0));
		landlock_ruleset_close(&rs);
		CHECK(rs.fd == -1);
	}
	CHECK(try_open(NULL, at("outside"), O_RDONLY) == 0); /* unconfined */
}

/* r and w on files and directories; a missing path names the option. */
static void test_rules(void)
{
	struct phy_error err;
	struct landlock_ruleset rs;
	make_file(at("ro"));
	make_file(at("rw"));
	make_file(at("wo"));
	NEED(mkdir(at("rodir"), 0700) == 0);
	make_file(at("rodir/f"));
	REQUIRE(landlock_ruleset_open(&rs, landlock_abi(), "landlock", &err) == 0);
	CHECK(landlock_allow(&rs, at("ro"), LANDLOCK_R, "landlock", &err) == 0);
	CHECK(landlock_allow(&rs, at("rw"), LANDLOCK_R | LANDLOCK_W, "landlock", &err) == 0);
	CHECK(landlock_allow(&rs, at("wo"), LANDLOCK_W, "landlock", &err) == 0);
	CHECK(landlock_allow(&rs, at("rodir"), LANDLOCK_R, "landlock", &err) == 0);
	CHECK(landlock_allow(&rs, at("nothere"), LANDLOCK_R, "landlock-rules", &err) ==
	      -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--landlock-rules: '");
	CHECK_STR_CONTAINS(err.message, "nothere");
	CHECK_STR_CONTAINS(err.message, strerror(ENOENT));
	CHECK(try_open(&rs, at("ro"), O_RDONLY) == 0);
	CHECK(try_open(&rs, at("ro"), O_WRONLY) == EACCES);
	CHECK(try_open(&rs, at("rw"), O_RDWR) == 0);
	CHECK(try_open(&rs, at("wo"), O_WRONLY) == 0);
	CHECK(try_open(&rs, at("wo"), O_RDONLY) == EACCES);
	CHECK(try_open(&rs, at("rodir/f"), O_RDONLY) == 0);
	CHECK(try_open(&rs, at("rodir/f"), O_WRONLY) == EACCES);
	CHECK(try_open(&rs, at("rodir/g"), O_CREAT | O_WRONLY) == EACCES);
	CHECK(try_open(&rs, at("outside"), O_RDONLY) == EACCES);
	landlock_ruleset_close(&rs);
}

static void *opener(void *arg)
{
	struct probe *p = arg;
	int fd = open(p->path, O_RDONLY | O_CLOEXEC);
	p->err = fd < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* Threads made in a sandbox scope confine themselves before they run;
 * the creator is not confined, nor are threads made after the scope. A
 * ruleset that cannot be applied fails the creation, and the thread's
 * function never runs. */
static void test_thread_scope(void)
{
	struct phy_error err;
	struct landlock_ruleset rs;
	make_file(at("scope-in"));
	REQUIRE(landlock_ruleset_open(&rs, landlock_abi(), "landlock", &err) == 0);
	REQUIRE(landlock_allow(&rs, at("scope-in"), LANDLOCK_R, "landlock", &err) == 0);
	struct probe in = { .path = at("scope-in"), .err = -2 };
	struct probe out = { .path = at("outside"), .err = -2 };
	struct probe later = { .path = at("outside"), .err = -2 };
	pthread_t t[3];
	phy_thread_sandbox(rs.fd);
	CHECK(phy_thread_create(&t[0], opener, &in) == 0);
	CHECK(phy_thread_create_unmasked(&t[1], opener, &out) == 0);
	phy_thread_sandbox(-1);
	CHECK(phy_thread_create(&t[2], opener, &later) == 0);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	CHECK(in.err == 0);
	CHECK(out.err == EACCES);
	CHECK(later.err == 0);
	CHECK(try_open(NULL, at("outside"), O_RDONLY) == 0);

	/* Not a ruleset: the thread does not start. */
	int notrs = open("/dev/null", O_RDONLY | O_CLOEXEC);
	struct probe never = { .path = at("outside"), .err = -2 };
	phy_thread_sandbox(notrs);
	int r = phy_thread_create(&t[0], opener, &never);
	phy_thread_sandbox(-1);
	CHECK(r == EBADFD || r == EINVAL);
	CHECK(never.err == -2);
	close(notrs);
	landlock_ruleset_close(&rs);
}

/* The VM's ruleset from a configuration: what it names, as it names it. */
static void test_vm_ruleset(void)
{
	struct phy_error err = { 0 };
	struct landlock_ruleset rs;
	NEED(mkdir(at("vm"), 0700) == 0 && mkdir(at("vm/extra"), 0700) == 0);
	make_file(at("vm/kernel"));
	make_file(at("vm/ro.img"));
	make_file(at("vm/rw.img"));
	make_file(at("vm/other"));
	struct phy_config *c = phy_config_new();
	NEED(c);
	char v[256];
	NEED(phy_config_set(c, "kernel", at("vm/kernel"), &err) == 0);
	snprintf(v, sizeof(v), "path=%s,readonly=on", at("vm/ro.img"));
	NEED(phy_config_set(c, "disk", v, &err) == 0);
	snprintf(v, sizeof(v), "path=%s", at("vm/rw.img"));
	NEED(phy_config_set(c, "disk", v, &err) == 0);
	snprintf(v, sizeof(v), "file=%s", at("vm/serial.log"));
	NEED(phy_config_set(c, "serial", v, &err) == 0);
	NEED(phy_config_set(c, "rng", "off", &err) == 0);
	NEED(phy_config_add_landlock_rule(c, at("vm/extra"), "rw", &err) == 0);
	NEED(phy_config_set_landlock(c, 1, &err) == 0);
	REQUIRE(vm_landlock_ruleset(c, landlock_abi(), &rs, &err) == 0);
	CHECK(rs.fd >= 0);
	CHECK(try_open(&rs, at("vm/kernel"), O_RDONLY) == 0);
	CHECK(try_open(&rs, at("vm/kernel"), O_WRONLY) == EACCES);
	CHECK(try_open(&rs, at("vm/ro.img"), O_RDONLY) == 0);
	CHECK(try_open(&rs, at("vm/ro.img"), O_RDWR) == EACCES);
	CHECK(try_open(&rs, at("vm/rw.img"), O_RDWR) == 0);
	CHECK(try_open(&rs, at("vm/serial.log"), O_CREAT | O_WRONLY) == 0);
	CHECK(try_open(&rs, at("vm/extra/new"), O_CREAT | O_RDWR) == 0);
	CHECK(try_open(&rs, "/dev/kvm", O_RDWR) != EACCES);
	CHECK(try_open(&rs, at("vm/other"), O_RDONLY) == EACCES);
	CHECK(try_open(&rs, "/dev/urandom", O_RDONLY) == EACCES); /* --rng off */
	landlock_ruleset_close(&rs);

	/* A rule whose path went away since the option was read. */
	NEED(unlink(at("vm/extra/new")) == 0 && rmdir(at("vm/extra")) == 0);
	CHECK(vm_landlock_ruleset(c, landlock_abi(), &rs, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--landlock-rules: '");
	CHECK(rs.fd == -1);
	phy_config_free(c);
}

#if PHY_HAVE_VIRGL
/* With --gpu mode=virgl, the GPU thread starts confined and still gets
 * virglrenderer on EGL and Mesa's driver (llvmpipe without a GPU): the
 * rules cover what they load (without /usr/lib among them it falls back
 * to 2D: "libEGL.so.1 cannot be loaded"). */
static void test_gpu_confined(void)
{
	struct phy_error err = { 0 };
	struct landlock_ruleset rs;
	struct phy_config *c = phy_config_new();
	NEED(c && phy_config_set(c, "gpu", "mode=virgl", &err) == 0);
	NEED(phy_config_set(c, "rng", "off", &err) == 0);
	NEED(phy_config_set_landlock(c, 1, &err) == 0);
	REQUIRE(vm_landlock_ruleset(c, landlock_abi(), &rs, &err) == 0);
	struct virtio_gpu_params p = { .mode = VIRTIO_GPU_MODE_VIRGL, .outputs = 1 };
	struct gpu_rig rig;
	phy_thread_sandbox(rs.fd);
	int r = gpu_rig_open(&rig, &p);
	phy_thread_sandbox(-1);
	REQUIRE(r == 0);
	const char *why = virtio_gpu_fallback_reason(rig.gpu);
	CHECK(why == NULL);
	if (why)
		printf("  fell back: %s\n", why);
	gpu_rig_close(&rig);
	landlock_ruleset_close(&rs);
	phy_config_free(c);
}
#endif

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/phy-test-landlock-XXXXXX");
	NEED(mkdtemp(dir));
	test_kernel_has_landlock();
	test_no_landlock();
	test_abi_downgrade();
	test_rules();
	test_thread_scope();
	test_vm_ruleset();
#if PHY_HAVE_VIRGL
	test_gpu_confined();
#endif
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	NEED(system(cmd) == 0);
	return check_report("test_landlock");
}
