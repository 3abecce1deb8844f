/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Installing a thread's filter, and the SIGSYS reporter that names the
 * thread and the call. The lists themselves are in sandbox_rules.c.
 */
#define _GNU_SOURCE
#include "common/sandbox.h"

#include <errno.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/sandbox_rules.h"

/* The report's exit status: what a shell shows for a death by SIGSYS. */
#define SANDBOX_EXIT_STATUS (128 + SIGSYS)
#define SANDBOX_MAX_NR 512

static const char *const kind_names[SANDBOX_NR_KINDS] = {
	[SANDBOX_VCPU] = "vcpu",       [SANDBOX_DEVICES] = "devices",
	[SANDBOX_GPU] = "gpu",         [SANDBOX_API] = "api",
	[SANDBOX_SUPERVISOR] = "supervisor", [SANDBOX_CHARDEV] = "chardev",
	[SANDBOX_WINDOW] = "window",   [SANDBOX_VMM] = "vmm",
};

/* What the reporter prints, prepared while it is still safe to: the
 * thread's own name and kind (per thread), and the system calls' names.
 * The names are the process's, like the SIGSYS handler they serve, and
 * are written once (pthread_once) before the handler is installed. */
static __thread char thread_label[48] __attribute__((tls_model("initial-exec")));
static const char *syscall_names[SANDBOX_MAX_NR];
/* The mode of the builders' filter this thread installed (SANDBOX_OFF:
 * none): a builder it starts inherits that filter and needs no other. */
static __thread enum sandbox_mode thread_builder_mode
	__attribute__((tls_model("initial-exec")));
static pthread_once_t names_once = PTHREAD_ONCE_INIT;
/* One report per process: two threads of a kind can trap together. */
static atomic_flag reported = ATOMIC_FLAG_INIT;

const char *sandbox_kind_name(enum sandbox_kind kind)
{
	return (unsigned)kind < SANDBOX_NR_KINDS ? kind_names[kind] : "?";
}

int sandbox_parse_mode(const char *s, enum sandbox_mode *mode)
{
	static const char *const words[] = { "false", "true", "log" };
	for (int i = 0; i < 3; i++)
		if (s && !strcmp(s, words[i])) {
			*mode = (enum sandbox_mode)i;
			return 0;
		}
	return -1;
}

/* ---- the reporter ---- */

static size_t put(char *buf, size_t at, size_t cap, const char *s)
{
	while (*s && at < cap)
		buf[at++] = *s++;
	return at;
}

static size_t put_uint(char *buf, size_t at, size_t cap, unsigned long v)
{
	char digits[24];
	int n = 0;
	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < (int)sizeof(digits));
	while (n && at < cap)
		buf[at++] = digits[--n];
	return at;
}

/* Async-signal-safe: only write(2) and _exit(2), which every list allows,
 * so the report itself cannot trap again. */
static void sandbox_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	if (atomic_flag_test_and_set(&reported))
		for (;;) /* the first report's _exit() ends this thread too */
			nanosleep(&(struct timespec){ 1, 0 }, NULL);
	char line[160];
	size_t cap = sizeof(line) - 1, n = 0;
	unsigned long nr = (unsigned long)si->si_syscall;
	n = put(line, n, cap, "phyllome-vmm: seccomp: thread ");
	n = put(line, n, cap, thread_label[0] ? thread_label :
		"? (a helper of virglrenderer, Mesa or SDL)");
	n = put(line, n, cap, " made a forbidden system call: ");
	n = put(line, n, cap, nr < SANDBOX_MAX_NR && syscall_names[nr] ?
		syscall_names[nr] : "?");
	n = put(line, n, cap, " (");
	n = put_uint(line, n, cap, nr);
	n = put(line, n, cap, ")");
	line[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
	_exit(SANDBOX_EXIT_STATUS);
}

static void resolve_names(void)
{
	for (int nr = 0; nr < SANDBOX_MAX_NR; nr++)
		syscall_names[nr] = seccomp_syscall_resolve_num_arch(
			SCMP_ARCH_NATIVE, nr); /* kept: for the handler */
}

int sandbox_install_reporter(void)
{
	pthread_once(&names_once, resolve_names);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sandbox_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigfillset(&sa.sa_mask);
	return sigaction(SIGSYS, &sa, NULL) ? -errno : 0;
}

static bool reporter_installed(void)
{
	struct sigaction sa;
	return !sigaction(SIGSYS, NULL, &sa) && (sa.sa_flags & SA_SIGINFO) &&
	       sa.sa_sigaction == sandbox_sigsys;
}

/* ---- installing ---- */

static void fail(enum sandbox_kind kind, int e)
{
	fprintf(stderr, "phyllome-vmm: seccomp: cannot install the %s thread's filter: %s\n",
		sandbox_kind_name(kind), strerror(e));
	_exit(1);
}

static bool is_builder(enum sandbox_kind kind)
{
	return kind == SANDBOX_API || kind == SANDBOX_SUPERVISOR || kind == SANDBOX_VMM;
}

bool sandbox_inherits(enum sandbox_mode mode)
{
	return mode != SANDBOX_OFF && thread_builder_mode == mode;
}

static void enter(enum sandbox_mode mode, enum sandbox_kind kind, bool load)
{
	if (mode == SANDBOX_OFF)
		return;
	char comm[16] = "";
	prctl(PR_GET_NAME, comm, 0, 0, 0);
	snprintf(thread_label, sizeof(thread_label), "%s (%s)", comm,
		 sandbox_kind_name(kind));
	bool trap = mode == SANDBOX_ON && reporter_installed();
	uint32_t deny = mode == SANDBOX_LOG ? SCMP_ACT_LOG :
			trap ? SCMP_ACT_TRAP : SCMP_ACT_KILL_PROCESS;
	/* The library's threads block every signal, and the kernel delivers
	 * a seccomp SIGSYS that is blocked with its default action (a core
	 * dump) instead of the handler: let the report's own signal in. */
	if (trap) {
		sigset_t sys;
		sigemptyset(&sys);
		sigaddset(&sys, SIGSYS);
		pthread_sigmask(SIG_UNBLOCK, &sys, NULL);
	}
	if (load) {
		scmp_filter_ctx ctx = seccomp_init(deny);
		if (!ctx)
			fail(kind, ENOMEM);
		int r = sandbox_rules_add(ctx, kind);
		if (!r)
			r = seccomp_load(ctx);
		seccomp_release(ctx);
		if (r)
			fail(kind, -r);
	}
	if (is_builder(kind))
		thread_builder_mode = mode;
	const char *test = getenv("PHYLLOME_SECCOMP_SELFTEST");
	if (test && !strcmp(test, sandbox_kind_name(kind)))
		syscall(SYS_mount, NULL, NULL, NULL, 0UL, NULL);
}

void sandbox_enter(enum sandbox_mode mode, enum sandbox_kind kind)
{
	enter(mode, kind, true);
}

void sandbox_adopt(enum sandbox_mode mode, enum sandbox_kind kind)
{
	if (!is_builder(kind))
		fail(kind, EINVAL); /* only the builders' list is inherited whole */
	enter(mode, kind, false);
}
