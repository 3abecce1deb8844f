/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The seccomp filters one by one, each in a child process of its own:
 * every kind's list compiles and loads, the thread keeps doing what its
 * kind does (a vCPU's KVM-type ioctl passes, another type does not), and a
 * forbidden call kills the process by SIGSYS without the reporter, ends
 * it with status 159 and one line with it, and goes on in log mode. The
 * mode words as --seccomp takes them.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "common/sandbox.h"

enum probe {
	PROBE_NONE, PROBE_MOUNT, PROBE_KVM_IOCTL, PROBE_BLK_IOCTL, PROBE_GIFFLAGS,
	PROBE_TUN_OFFLOAD, PROBE_TTY_IOCTL, PROBE_KVM_CREATE,
};

/* Runs kind's filter in a child, then the probe; the child's wait status.
 * The child's stderr goes to err_fd when >= 0. */
static int in_child(enum sandbox_mode mode, enum sandbox_kind kind,
		    bool reporter, enum probe probe, int err_fd)
{
	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };
		setrlimit(RLIMIT_CORE, &no_core);
		if (err_fd >= 0)
			dup2(err_fd, STDERR_FILENO);
		if (reporter && sandbox_install_reporter())
			_exit(3);
		prctl(PR_SET_NAME, "sandboxed", 0, 0, 0);
		sandbox_enter(mode, kind);
		if (probe == PROBE_MOUNT)
			syscall(SYS_mount, NULL, NULL, NULL, 0UL, NULL);
		if (probe == PROBE_KVM_IOCTL)
			ioctl(-1, KVM_IRQ_LINE, 0); /* on no fd */
		if (probe == PROBE_KVM_CREATE)
			ioctl(-1, KVM_CREATE_VCPU, 0); /* KVM's type, not a running machine's */
		if (probe == PROBE_GIFFLAGS)
			ioctl(-1, SIOCGIFFLAGS, 0); /* a tap's link state */
		if (probe == PROBE_TUN_OFFLOAD)
			ioctl(-1, TUNSETOFFLOAD, 0); /* a tap's offloads */
		if (probe == PROBE_TTY_IOCTL)
			ioctl(-1, TIOCGWINSZ, 0); /* the terminals' type 'T', as TUN's */
		if (probe == PROBE_BLK_IOCTL)
			ioctl(-1, _IOR(0x12, 114, size_t), 0); /* BLKGETSIZE64: neither KVM's nor a tap's type */
		_exit(0);
	}
	int status = -1;
	waitpid(pid, &status, 0);
	return status;
}

static bool exited(int status, int code)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == code;
}

static bool killed_by_sigsys(int status)
{
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
}

static void test_modes(void)
{
	enum sandbox_mode m = SANDBOX_LOG;
	CHECK(sandbox_parse_mode("true", &m) == 0 && m == SANDBOX_ON);
	CHECK(sandbox_parse_mode("false", &m) == 0 && m == SANDBOX_OFF);
	CHECK(sandbox_parse_mode("log", &m) == 0 && m == SANDBOX_LOG);
	CHECK(sandbox_parse_mode("maybe", &m) == -1 && m == SANDBOX_LOG);
	CHECK(sandbox_parse_mode("", &m) == -1);
	CHECK(sandbox_parse_mode(NULL, &m) == -1);
	CHECK(!strcmp(sandbox_kind_name(SANDBOX_VCPU), "vcpu"));
	CHECK(!strcmp(sandbox_kind_name(SANDBOX_NR_KINDS), "?"));
}

static void test_each_kind(void)
{
	for (int k = 0; k < SANDBOX_NR_KINDS; k++) {
		/* Loads, and the thread lives on and exits. */
		int st = in_child(SANDBOX_ON, k, false, PROBE_NONE, -1);
		CHECK(exited(st, 0));
		/* mount(2) is in no list: killed without the reporter... */
		st = in_child(SANDBOX_ON, k, false, PROBE_MOUNT, -1);
		CHECK(killed_by_sigsys(st));
		/* ... only logged in log mode, and off is off. */
		CHECK(exited(in_child(SANDBOX_LOG, k, false, PROBE_MOUNT, -1), 0));
		CHECK(exited(in_child(SANDBOX_OFF, k, false, PROBE_MOUNT, -1), 0));
		if (!exited(st, 0) && !killed_by_sigsys(st))
			fprintf(stderr, "kind %s: status %#x\n", sandbox_kind_name(k), st);
	}
}

static void test_report(void)
{
	int fd = memfd_create("seccomp-report", 0); /* the child's stderr */
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	int st = in_child(SANDBOX_ON, SANDBOX_DEVICES, true, PROBE_MOUNT, fd);
	CHECK(exited(st, 159));
	char line[256] = "";
	ssize_t n = pread(fd, line, sizeof(line) - 1, 0);
	close(fd);
	CHECK(n > 0);
	CHECK(!strcmp(line, "phyllome-vmm: seccomp: thread sandboxed (devices) "
			    "made a forbidden system call: mount (165)\n"));
	if (n > 0 && strstr(line, "mount") == NULL)
		fprintf(stderr, "report: %s", line);
}

static void test_vcpu_ioctl(void)
{
	/* A running machine's KVM request passes the vCPU's argument check
	 * (and fails with EBADF); the device loop's too; the API thread's
	 * list is wide. Set-up requests of the same type do not pass. */
	CHECK(exited(in_child(SANDBOX_ON, SANDBOX_VCPU, false, PROBE_KVM_IOCTL, -1), 0));
	CHECK(exited(in_child(SANDBOX_ON, SANDBOX_DEVICES, false, PROBE_KVM_IOCTL, -1), 0));
	/* The chardev thread raises the UART's line (KVM_IRQ_LINE) when a
	 * client types, and makes no other ioctl. */
	CHECK(exited(in_child(SANDBOX_ON, SANDBOX_CHARDEV, false, PROBE_KVM_IOCTL, -1), 0));
	CHECK(killed_by_sigsys(in_child(SANDBOX_ON, SANDBOX_CHARDEV, false,
					PROBE_BLK_IOCTL, -1)));
	for (int k = SANDBOX_VCPU; k <= SANDBOX_DEVICES; k++)
		CHECK(killed_by_sigsys(in_child(SANDBOX_ON, k, false, PROBE_KVM_CREATE, -1)));
	CHECK(killed_by_sigsys(in_child(SANDBOX_ON, SANDBOX_CHARDEV, false,
					PROBE_KVM_CREATE, -1)));
	CHECK(exited(in_child(SANDBOX_ON, SANDBOX_API, false, PROBE_KVM_CREATE, -1), 0));
	CHECK(killed_by_sigsys(in_child(SANDBOX_ON, SANDBOX_VCPU, false,
					PROBE_BLK_IOCTL, -1)));
	/* The device loop may read an interface's flags (a tap's link), and
	 * no other thread outside the builders needs to. */
	CHECK(exited(in_child(SANDBOX_ON, SANDBOX_DEVICES, false, PROBE_GIFFLAGS, -1), 0));
	CHECK(killed_by_sigsys(in_child(SANDBOX_ON, SANDBOX_DEVICES, false,
					PROBE_BLK_IOCTL, -1)));
	CHECK(killed_by_sigsys(in_child(SANDBOX_ON, SANDBOX_VCPU, false,
					PROBE_GIFFLAGS, -1)));
	/* A tap's requests by number on the vCPU and the device loop, not
	 * the terminals' that share their type; the chardev thread has
	 * KVM's only. */
	for (int k = SANDBOX_VCPU; k <= SANDBOX_DEVICES; k++) {
		CHECK(exited(in_child(SANDBOX_ON, k, false, PROBE_TUN_OFFLOAD, -1), 0));
		CHECK(killed_by_sigsys(in_child(SANDBOX_ON, k, false, PROBE_TTY_IOCTL, -1)));
	}
	CHECK(killed_by_sigsys(in_child(SANDBOX_ON, SANDBOX_CHARDEV, false,
					PROBE_TUN_OFFLOAD, -1)));
	CHECK(killed_by_sigsys(in_child(SANDBOX_ON, SANDBOX_CHARDEV, false,
					PROBE_TTY_IOCTL, -1)));
}

int main(void)
{
	test_modes();
	test_each_kind();
	test_report();
	test_vcpu_ioctl();
	return check_report("test_sandbox");
}
