/* SPDX-License-Identifier: Apache-2.0 */
/*
 * seccomp-bpf per thread kind (docs/security.md): each library thread,
 * once set up and before it serves the guest, installs on itself only the
 * allow-list of its kind. Filters stack and are inherited, so a thread
 * that builds a machine (and starts its threads) allows the union of all
 * kinds; each child then narrows it with its own.
 */
#ifndef PHY_COMMON_SANDBOX_H
#define PHY_COMMON_SANDBOX_H

#include <stdbool.h>

enum sandbox_mode {
	SANDBOX_OFF = 0,
	SANDBOX_ON,  /* a forbidden call ends the process */
	SANDBOX_LOG, /* a forbidden call is logged by the kernel, and runs */
};

enum sandbox_kind {
	SANDBOX_VCPU,
	SANDBOX_DEVICES,    /* the io_uring device loop */
	SANDBOX_GPU,        /* virtio-gpu's thread: virglrenderer and Mesa */
	SANDBOX_API,        /* the control API: builds and boots VMs */
	SANDBOX_SUPERVISOR, /* rebuilds the machine on a guest reboot */
	SANDBOX_CHARDEV,    /* pty and socket consoles */
	SANDBOX_WINDOW,     /* the SDL window */
	SANDBOX_VMM,        /* an embedder's thread that asked for it */
	SANDBOX_NR_KINDS,
};

/* The kind's name as reports and PHYLLOME_SECCOMP_SELFTEST spell it. */
const char *sandbox_kind_name(enum sandbox_kind kind);

/*
 * Installs the kind's filter on the calling thread (nothing with
 * SANDBOX_OFF). A forbidden call raises SIGSYS when the process runs
 * sandbox_sigsys_reporter() as its handler (sandbox_install_reporter()),
 * and kills the process otherwise. A filter that cannot be installed
 * ends the process with a one-line report: a sandbox asked for is never
 * silently missing. Test hook: PHYLLOME_SECCOMP_SELFTEST=<kind name>
 * makes the thread call mount(2), which no list allows, right after.
 */
void sandbox_enter(enum sandbox_mode mode, enum sandbox_kind kind);

/*
 * Whether a thread the caller starts now inherits the builders' filter in
 * this mode (the caller installed it); such a thread, itself a builder,
 * calls sandbox_adopt() instead of sandbox_enter(): the same bookkeeping
 * and test hook, without compiling and stacking the same filter again.
 */
bool sandbox_inherits(enum sandbox_mode mode);
void sandbox_adopt(enum sandbox_mode mode, enum sandbox_kind kind);

/* Installs the one-line SIGSYS reporter for the whole process; 0 or
 * -errno. */
int sandbox_install_reporter(void);

/* Parses "true", "false", "log"; 0 or -1. */
int sandbox_parse_mode(const char *s, enum sandbox_mode *mode);

#endif
