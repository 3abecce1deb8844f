/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The allow-lists, one table: each system call with the thread kinds that
 * need it and why. They come from strace -f of the unit, payload and CLI
 * tests (each thread named by its PR_SET_NAME) and, for what those cannot
 * reach (the window under X11, virgl on a render node), from reading the
 * code, checked against the e2e suite's system call census
 * (tools/seccomp-audit); docs/security.md sums them up.
 *
 * A thread that builds a machine (the control API at vm.boot, the
 * supervisor at a guest reboot, an embedder's thread that asked for a
 * filter) starts every other kind of thread, which inherits its filter:
 * it therefore allows the union of all lists, and each child narrows it.
 */
#define _GNU_SOURCE
#include "common/sandbox_rules.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h> /* _IOW, for if_tun.h */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/sockios.h>

#define V (1u << SANDBOX_VCPU)
#define D (1u << SANDBOX_DEVICES)
#define G (1u << SANDBOX_GPU)
#define A (1u << SANDBOX_API)
#define S (1u << SANDBOX_SUPERVISOR)
#define C (1u << SANDBOX_CHARDEV)
#define W (1u << SANDBOX_WINDOW)
#define M (1u << SANDBOX_VMM)
#define ALL ((1u << SANDBOX_NR_KINDS) - 1)
/* The builders: they allow every kind's calls, and these for building. */
#define B (A | S | M)

/* Restrictions on arguments, for the kinds that need no more. */
enum cond {
	ANY,
	IOCTL_VCPU,    /* ioctl with a request of vcpu_ioctls[] */
	IOCTL_DEVICES, /* ... of devices_ioctls[] */
	IOCTL_CHARDEV, /* ... of chardev_ioctls[] */
	PRCTL_NAME,    /* prctl(PR_SET_NAME / PR_GET_NAME) */
	SOCKET_UNIX,   /* socket(AF_UNIX, ...) */
	IOCTL_TCGETS,  /* ioctl(fd, TCGETS, ...): isatty() */
};

/*
 * The ioctls of a running machine, by number: set-up (KVM_CREATE_*,
 * KVM_SET_CPUID2, registers, the tap's TUNSETIFF) is over before a
 * thread's filter goes in, and a type alone would let through what the
 * thread never needs (KVM_CREATE_VCPU; the terminals' 'T' that TUN
 * shares).
 */
static const unsigned long vcpu_ioctls[] = {
	KVM_RUN,
	KVM_KVMCLOCK_CTRL,          /* the guest was paused (vm.pause) */
	KVM_GET_REGS, KVM_GET_SREGS, /* a crash's register dump */
	/* The guest's own register writes: an interrupt line (the UART,
	 * the ACPI event device), MSI-X routes and irqfds, a BAR moved
	 * (its notify ioeventfds), a flash switched between ROM and
	 * command mode (its memory slot). */
	KVM_IRQ_LINE, KVM_SET_GSI_ROUTING, KVM_IRQFD, KVM_IOEVENTFD,
	KVM_SET_USER_MEMORY_REGION,
	/* virtio-net's features and queue pairs at DRIVER_OK. */
	TUNSETOFFLOAD, TUNSETQUEUE,
};
static const unsigned long devices_ioctls[] = {
	/* Interrupts the loop raises or re-routes (an irqfd's resample), a
	 * device reset the loop finishes (ioeventfds, memory slots). */
	KVM_IRQ_LINE, KVM_SET_GSI_ROUTING, KVM_IRQFD, KVM_IOEVENTFD,
	KVM_SET_USER_MEMORY_REGION,
	/* virtio-net's control queue (queue pairs, offloads), and a tap's
	 * link state when its netlink watch lost messages: the interface's
	 * flags, through the socket the tap opened at set-up. */
	TUNSETOFFLOAD, TUNSETQUEUE, SIOCGIFFLAGS,
};
/* A byte typed for the guest raises the UART's line. */
static const unsigned long chardev_ioctls[] = { KVM_IRQ_LINE };

struct rule {
	int nr;
	unsigned kinds;
	enum cond cond;
};

#define R(name, kinds) { SCMP_SYS(name), kinds, ANY }
#define RC(name, kinds, cond) { SCMP_SYS(name), kinds, cond }

static const struct rule rules[] = {
	/* Every thread: memory (malloc, thread stacks, glibc's arenas),
	 * futexes (locks, condition variables), signal masks, thread exit,
	 * clocks where the vDSO falls back, the SIGSYS report (write,
	 * exit_group) and abort() (getpid, gettid, tgkill). */
	R(brk, ALL), R(mmap, ALL), R(munmap, ALL), R(mprotect, ALL),
	R(mremap, ALL), R(madvise, ALL), R(futex, ALL),
	R(rt_sigprocmask, ALL), R(rt_sigreturn, ALL), R(restart_syscall, ALL),
	R(exit, ALL), R(exit_group, ALL), R(write, ALL), R(getpid, ALL),
	R(gettid, ALL), R(tgkill, ALL), R(clock_gettime, ALL),
	R(clock_nanosleep, ALL), R(nanosleep, ALL), R(sched_yield, ALL),

	/* vCPU: KVM_RUN and the ioctls of exits (vcpu_ioctls[]). */
	RC(ioctl, V, IOCTL_VCPU),
	/* Consoles: KVM_IRQ_LINE (chardev_ioctls[]). */
	RC(ioctl, C, IOCTL_CHARDEV),
	/* vCPU: the kick (rt_sigtimedwait takes the pending one after
	 * KVM_RUN), eventfd writes (write, above) and read-backs, the event
	 * monitor's socket and the serial's socket or pty. */
	R(rt_sigtimedwait, V), R(read, V | D | G | C | W | B),
	/* vCPU: a device's reset or activation from a register write:
	 * cancelling its ring's requests, closing and making eventfds. */
	R(io_uring_enter, V), R(close, V), R(eventfd2, V), R(fcntl, V),
	/* vCPU: a vhost-user device (virtio-fs) started by the guest's
	 * DRIVER_OK write dials its back end's Unix socket and sends it the
	 * memory table and the rings' eventfds (SCM_RIGHTS). */
	RC(socket, V, SOCKET_UNIX), R(connect, V), R(sendmsg, V), R(recvmsg, V),
	R(sendto, V | D | C | B), R(poll, V | G | C | W | B),
	/* Device loop: a vhost-user device (virtio-fs) whose back end died
	 * dials it again from the loop and redoes the session (socket and
	 * connect below, sendmsg and recvmsg, poll for each reply). */
	R(poll, D),

	/* Device loop: io_uring does its I/O; besides, the backends that
	 * talk to sockets directly (vsock's host side: AF_UNIX only), the
	 * balloon (madvise above, fallocate to punch a memfd) and eventfd
	 * reads and writes. */
	R(io_uring_enter, D | B), R(io_uring_register, D | B),
	R(recvfrom, D | W | B), R(recvmsg, D | W | B), R(sendmsg, D | W | B),
	R(accept4, D | C | B),
	/* virtio-net: a frame a readv() or writev() on the tap (vsock's
	 * host side reads with readv() too). */
	R(readv, D | W | B), R(writev, D | W | B),
	R(connect, D | G | W | B), RC(socket, D, SOCKET_UNIX), R(shutdown, D | B),
	R(close, D | G | C | W | B), R(fallocate, D | B), R(fcntl, D | G | W | B),
	R(getsockopt, W | B), R(fsync, B), R(fdatasync, B),
	R(pread64, G | W | B), R(pwrite64, B),
	R(ppoll, G | W | B),
	RC(ioctl, D, IOCTL_DEVICES), /* devices_ioctls[] */

	/* GPU thread: virglrenderer with Mesa (llvmpipe or a render node
	 * through EGL). Mesa loads its driver (openat, fstat, mmap of the
	 * .so, readlink of /proc/self/exe), reads drirc files (openat,
	 * getdents64), scans /dev/dri and /sys for render nodes, asks the
	 * render node (ioctl: DRM, unrestricted since the driver picks its
	 * own), starts llvmpipe's and vrend's helper threads (clone3, rseq,
	 * set_robust_list, sched_*affinity, PR_SET_NAME), JITs shaders
	 * (mprotect above), keeps its shader cache (mkdir, flock, rename,
	 * ftruncate) and may probe an X or Wayland socket (socket, connect).
	 * The widest list after the builders': this is the code that takes
	 * guest shaders. */
	R(openat, G | W | B), R(newfstatat, G | W | B), R(fstat, G | W | B),
	R(statx, G | W | B), R(lseek, G | W | B), R(getdents64, G | W | B),
	R(readlink, G | W | B), R(access, G | W | B), R(faccessat2, G | W | B),
	R(ioctl, G | W | B), R(clone3, G | W | B), R(clone, G | W | B),
	R(rseq, G | W | B), R(set_robust_list, G | W | B),
	R(sched_getaffinity, G | W | B), R(sched_setaffinity, G | W | B),
	R(sched_setscheduler, G | W | B), R(sched_getparam, G | W | B),
	R(sched_getscheduler, G | W | B), R(setpriority, G | W | B), /* a low-priority queue */
	RC(prctl, G | W, PRCTL_NAME), R(getuid, G | W | B), R(geteuid, G | W | B),
	R(getgid, G | W | B), R(getegid, G | W | B), R(getrandom, G | W | B),
	R(eventfd2, G | W | B), R(socket, G | W | B), R(uname, G | W | B),
	R(sysinfo, G | W | B), R(memfd_create, G | W | B), R(ftruncate, G | W | B),
	R(dup, G | W | B), R(dup3, G | W | B), R(mkdir, G | W | B), R(flock, G | W | B),
	R(rename, G | W | B), R(unlink, G | W | B), R(pipe2, G | W | B),
	R(membarrier, G | W | B), R(getcwd, G | W | B),

	/* Window (SDL on X11): SDL's GL renderer runs Mesa in this thread
	 * too (GLX, llvmpipe under Xvfb), so it has the GPU's Mesa entries
	 * above; besides, the X connection (socket, connect, readv,
	 * writev, recvmsg, sendmsg, poll), MIT-SHM images, and what SDL
	 * loads lazily (openat above); inotify and epoll for its input
	 * devices. */
	R(shmget, W | B), R(shmat, W | B), R(shmdt, W | B), R(shmctl, W | B),
	R(inotify_init1, W | B), R(inotify_add_watch, W | B),
	R(epoll_create1, W | B), R(epoll_ctl, W | B), R(epoll_wait, W | B),
	R(epoll_pwait, W | B), R(getsockname, W | B), R(getpeername, W | B),
	R(setsockopt, W | B),
	R(shutdown, W), /* the X connection closed */
	R(rt_sigaction, W), /* SDL_Quit() puts back the handlers SDL_Init() replaced */

	/* Builders: open the VM's files, devices and sockets (the API socket,
	 * vsock and console listeners, SCM_RIGHTS), set up KVM and io_uring,
	 * guest memory (memfd), ptys, screenshots (write, rename), and start
	 * threads. */
	R(io_uring_setup, B), R(bind, B), R(listen, B), R(accept, B),
	R(socketpair, B), R(unlinkat, B), R(chmod, B), R(fchmod, B),
	R(msync, B), R(fstatfs, B), R(statfs, B), R(prctl, B),
	R(rt_sigaction, B), R(sigaltstack, B), R(set_tid_address, B),
	R(close_range, B), R(timerfd_create, B), R(timerfd_settime, B),
	R(kill, B), R(wait4, B), R(prlimit64, B), R(getrusage, B),
	R(mbind, B), R(get_mempolicy, B), R(set_mempolicy, B),
	R(mkdirat, B), R(renameat2, B), R(symlink, B), R(fadvise64, B),
	R(getppid, B), R(getpgrp, B), R(getresuid, B), R(getresgid, B),
	R(rt_sigtimedwait, B), R(pselect6, B), R(select, B),
	/* Builders: each child installs its own, narrower filter on top
	 * (libseccomp: seccomp(2), and prctl(PR_SET_NO_NEW_PRIVS) above). */
	R(seccomp, B),
	/* Builders: whether --net fd= queues are one tap (kcmp KCMP_FILE). */
	R(kcmp, B),
	/* Builders: --landlock's ruleset is made when a VM is created, and
	 * each thread they start restricts itself with it first thing, still
	 * under its creator's filter. */
	R(landlock_create_ruleset, B), R(landlock_add_rule, B),
	R(landlock_restrict_self, B),

#ifdef PHY_SANITIZE
	/* The sanitizer build only: ASan's reports and LeakSanitizer's
	 * check at exit (which stops the threads under ptrace from a
	 * helper thread it clones) in whichever thread they run. */
	R(openat, ALL), R(read, ALL), R(close, ALL), R(readlink, ALL),
	R(newfstatat, ALL), R(fstat, ALL), R(lseek, ALL), R(pread64, ALL),
	R(getdents64, ALL), R(clone, ALL), R(clone3, ALL), R(ptrace, ALL),
	R(wait4, ALL), R(prctl, ALL), R(sigaltstack, ALL), R(rt_sigaction, ALL),
	R(sched_getaffinity, ALL), R(getrlimit, ALL), R(prlimit64, ALL),
	R(set_robust_list, ALL), R(rseq, ALL), R(uname, ALL), R(dup2, ALL),
	R(pipe2, ALL), R(kill, ALL), R(getppid, ALL),
	/* The sanitizer runtime makes the old x86_64 calls itself (its
	 * internal_open() is open(2), its directory reads getdents(2)). */
	R(open, ALL), R(getdents, ALL), R(stat, ALL), R(lstat, ALL),
	R(access, ALL), R(sched_yield, ALL), R(arch_prctl, ALL),
	/* Whether a report goes to a terminal (its colours). */
	RC(ioctl, ALL, IOCTL_TCGETS),
#endif
};

#undef R
#undef RC

/* The kinds whose lists the kind's filter holds. */
static unsigned wanted(enum sandbox_kind kind)
{
	unsigned bit = 1u << kind;
	return bit & B ? ALL : bit;
}

/* SCMP_A0() leaves datum_b to the initializer, which clang's
 * -Wmissing-field-initializers refuses: all four fields here. */
static struct scmp_arg_cmp arg0_eq(uint64_t v)
{
	return (struct scmp_arg_cmp){ 0, SCMP_CMP_EQ, v, 0 };
}

static struct scmp_arg_cmp arg1_eq(uint64_t v)
{
	return (struct scmp_arg_cmp){ 1, SCMP_CMP_EQ, v, 0 };
}

/* One rule a request: libseccomp has no "one of". */
static int add_requests(scmp_filter_ctx ctx, int nr, const unsigned long *req,
			size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, arg1_eq(req[i]));
		if (r && r != -EEXIST)
			return r;
	}
	return 0;
}

#define ADD_REQUESTS(ctx, nr, list) \
	add_requests(ctx, nr, list, sizeof(list) / sizeof(list[0]))

static int add_cond(scmp_filter_ctx ctx, int nr, enum cond cond)
{
	const uint32_t ok = SCMP_ACT_ALLOW;
	switch (cond) {
	case IOCTL_VCPU:
		return ADD_REQUESTS(ctx, nr, vcpu_ioctls);
	case IOCTL_DEVICES:
		return ADD_REQUESTS(ctx, nr, devices_ioctls);
	case IOCTL_CHARDEV:
		return ADD_REQUESTS(ctx, nr, chardev_ioctls);
	case PRCTL_NAME: {
		int r = seccomp_rule_add(ctx, ok, nr, 1, arg0_eq(PR_SET_NAME));
		return r ? r : seccomp_rule_add(ctx, ok, nr, 1, arg0_eq(PR_GET_NAME));
	}
	case SOCKET_UNIX:
		return seccomp_rule_add(ctx, ok, nr, 1, arg0_eq(AF_UNIX));
	case IOCTL_TCGETS:
		return seccomp_rule_add(ctx, ok, nr, 1, arg1_eq(TCGETS));
	case ANY:
		break;
	}
	return seccomp_rule_add(ctx, ok, nr, 0);
}

/* Whether an earlier matching rule already allowed nr (with no
 * condition, or with this same one). */
static bool covered(size_t upto, int nr, unsigned want, enum cond cond)
{
	for (size_t i = 0; i < upto; i++)
		if (rules[i].nr == nr && (rules[i].kinds & want) &&
		    (rules[i].cond == ANY || rules[i].cond == cond))
			return true;
	return false;
}

/* Whether a later matching rule allows nr with no condition. */
static bool widened(size_t from, int nr, unsigned want)
{
	for (size_t i = from + 1; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].nr == nr && (rules[i].kinds & want) && rules[i].cond == ANY)
			return true;
	return false;
}

int sandbox_rules_add(scmp_filter_ctx ctx, enum sandbox_kind kind)
{
	unsigned want = wanted(kind);
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct rule *r = &rules[i];
		if (!(r->kinds & want) || covered(i, r->nr, want, r->cond))
			continue;
		if (r->cond != ANY && widened(i, r->nr, want))
			continue;
		int e = add_cond(ctx, r->nr, r->cond);
		if (e && e != -EEXIST)
			return e;
	}
	return 0;
}
