/* SPDX-License-Identifier: Apache-2.0 */
/*
 * phyllome-vmm: the command-line front-end. It only uses the public API of
 * libphyllome-vmm; what it adds is argument parsing, the terminal (raw mode,
 * restored on every exit path) and signal handling, which a library must not
 * own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#ifdef PHY_SANITIZE
#include <sanitizer/lsan_interface.h>
#endif

#include <phyllome/vmm.h>

#define EXIT_USAGE 2
#define ESCAPE_CHAR 0x01 /* Ctrl-A, then x to quit */
/* The Cloud Hypervisor release whose API we follow (docs/http-api.md).
 * Called as cloud-hypervisor, we give it as our version: libvirt's ch
 * driver reads "cloud-hypervisor v<MAJ>.<MIN>.<MIC>" from the start of
 * --version and picks its request shapes by it. */
#define CH_API_VERSION "51.1.0"

/* Set with the stop signals blocked; until then the handler only records
 * the signal, and main acts on it. */
static struct phy_vmm *the_vmm;
static volatile sig_atomic_t stop_signal;
/* The stdin thread feeds the VM until main destroys it. */
static pthread_mutex_t input_lock = PTHREAD_MUTEX_INITIALIZER;
static int input_closed;
static struct termios saved_tio;
static int tio_saved;
/* Whether --serial / --console asked for a pty or a socket: their paths
 * are printed at start (phy_vm_console_path). */
static const char *console_kind[2];

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: phyllome-vmm --kernel PATH [OPTIONS]\n"
		"\n"
		"Boots a Linux guest under KVM on a small x86_64 \"virt\" machine.\n"
		"Options use Cloud Hypervisor's syntax (--opt VALUE or --opt=VALUE):\n\n");
	size_t n;
	const struct phy_option_info *o = phy_config_options(&n);
	for (size_t i = 0; i < n; i++) {
		/* A long syntax gets its own line, the help under it. */
		if (strlen(o[i].syntax) > 24)
			fprintf(f, "  --%-13s %s\n  %-15s %-24s %s\n", o[i].name,
				o[i].syntax, "", "", o[i].help);
		else
			fprintf(f, "  --%-13s %-24s %s\n", o[i].name, o[i].syntax,
				o[i].help);
	}
	fprintf(f,
		"  --%-13s %-24s %s\n  --%-13s %-24s %s\n"
		"\nOn a terminal the console there (--serial tty, the default, or\n"
		"--console tty) is interactive; Ctrl-A x quits.\n"
		"Exit status: 0 guest powered off, 1 guest crash or host failure,\n"
		"2 bad usage or unbootable image, 128+N stopped by signal N.\n",
		"help", "", "show this help", "version", "", "show the version");
}

static void restore_terminal(void)
{
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
	tio_saved = 0;
}

static void raw_terminal(void)
{
	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tio))
		return;
	struct termios raw = saved_tio;
	cfmakeraw(&raw);
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0) {
		tio_saved = 1;
		atexit(restore_terminal);
	}
}

static void on_signal(int sig)
{
	stop_signal = sig;
	if (the_vmm)
		phy_vmm_stop(the_vmm); /* async-signal safe: an eventfd write */
}

static void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* The guest may share the terminal, which is in raw mode: end lines with
 * \r\n there. Asked once, before the threads that log are filtered:
 * isatty() is an ioctl (TCGETS) their lists do not allow. */
static void print_log(void *opaque, const char *msg)
{
	const bool *tty = opaque;
	fprintf(stderr, "phyllome-vmm: %s%s", msg, *tty ? "\r\n" : "\n");
}

/* 1: fed, 0: the console's buffer is full, -1: the VM is gone. The
 * console on the terminal gets stdin; with none there, the serial port
 * does. */
static int feed_byte(struct phy_vmm *vmm, uint8_t c)
{
	pthread_mutex_lock(&input_lock);
	int which = input_closed ? -1 : phy_vmm_tty_console(vmm);
	if (which < 0)
		which = PHY_CONSOLE_SERIAL;
	int n = input_closed ? -1 : phy_vmm_console_input(vmm, which, &c, 1);
	pthread_mutex_unlock(&input_lock);
	return n;
}

static void *stdin_thread(void *arg)
{
	struct phy_vmm *vmm = arg;
	int escape = 0;
	uint8_t buf[256];
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		for (ssize_t i = 0; i < n; i++) {
			uint8_t c = buf[i];
			if (escape) {
				escape = 0;
				if (c == 'x' || c == 'X') {
					pthread_mutex_lock(&input_lock);
					if (!input_closed)
						phy_vmm_stop(vmm);
					pthread_mutex_unlock(&input_lock);
					return NULL;
				}
				if (c != ESCAPE_CHAR)
					continue;
			} else if (c == ESCAPE_CHAR && tio_saved) {
				escape = 1;
				continue;
			}
			/* The console's buffer drains as the guest reads it. */
			int fed;
			while ((fed = feed_byte(vmm, c)) == 0)
				usleep(1000);
			/* No VM booted (yet, or any more): the byte is lost. */
			if (fed < 0 && fed != -PHY_E_STATE)
				return NULL;
		}
	}
}

static void print_version(const char *argv0)
{
	const char *base = strrchr(argv0, '/');
	base = base ? base + 1 : argv0;
	if (!strcmp(base, "cloud-hypervisor"))
		printf("cloud-hypervisor v%s (phyllome-vmm %s)\n", CH_API_VERSION,
		       phy_version());
	else
		printf("phyllome-vmm %s\n", phy_version());
}

static void note_console(const char *name, const char *value)
{
	int which = !strcmp(name, "serial") ? 0 : !strcmp(name, "console") ? 1 : -1;
	if (which < 0)
		return;
	console_kind[which] = !strcmp(value, "pty")             ? "pty" :
			      !strncmp(value, "socket=", 7) ? "socket" :
							      NULL;
}

/* "serial: pty /dev/pts/3", for scripts that attach to the console (the
 * VM booted from the command line; through the API, vm.info says). */
static void print_console_paths(struct phy_vmm *vmm)
{
	static const char *const names[2] = { "serial", "console" };
	for (int i = 0; i < 2; i++) {
		char path[256];
		if (console_kind[i] &&
		    !phy_vmm_console_path(vmm, i ? PHY_CONSOLE_VIRTIO : PHY_CONSOLE_SERIAL,
					  path, sizeof(path), NULL))
			fprintf(stderr, "%s: %s %s\n", names[i], console_kind[i], path);
	}
}

/* An option without a value syntax is a flag: "--landlock" alone. */
static int is_flag(const char *name)
{
	size_t n;
	const struct phy_option_info *o = phy_config_options(&n);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(o[i].name, name))
			return !o[i].syntax[0];
	return 0;
}

static int parse_args(int argc, char **argv, struct phy_config *cfg)
{
	struct phy_error err;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			usage(stdout);
			exit(0);
		}
		if (!strcmp(arg, "--version") || !strcmp(arg, "-V")) {
			print_version(argv[0]);
			exit(0);
		}
		if (strncmp(arg, "--", 2) || !arg[2]) {
			fprintf(stderr, "phyllome-vmm: unexpected argument '%s' (see --help)\n", arg);
			return -1;
		}
		char name[64];
		const char *eq = strchr(arg, '=');
		size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
		if (len >= sizeof(name)) {
			fprintf(stderr, "phyllome-vmm: unknown option '%s'\n", arg);
			return -1;
		}
		memcpy(name, arg + 2, len);
		name[len] = '\0';
		const char *value = eq ? eq + 1 : is_flag(name) ? "" : NULL;
		if (!value) {
			if (i + 1 >= argc) {
				/* An unknown option is the better message. */
				if (phy_config_set(cfg, name, "", &err) &&
				    strstr(err.message, "unknown option"))
					fprintf(stderr, "phyllome-vmm: %s\n", err.message);
				else
					fprintf(stderr, "phyllome-vmm: --%s: missing value\n", name);
				return -1;
			}
			value = argv[++i];
		}
		if (phy_config_set(cfg, name, value, &err)) {
			fprintf(stderr, "phyllome-vmm: %s\n", err.message);
			return -1;
		}
		note_console(name, value);
	}
	if (phy_config_validate(cfg, &err)) {
		fprintf(stderr, "phyllome-vmm: %s\n", err.message);
		return -1;
	}
	return 0;
}

/* A user's mistake (a bad option, an image that cannot boot) or a host
 * failure. */
static int usage_or_failure(const struct phy_error *err)
{
	return err->code == PHY_E_INVALID || err->code == PHY_E_IMAGE ?
		       EXIT_USAGE : 1;
}

static int exit_status(struct phy_vmm *vmm, enum phy_exit_reason reason,
		       const struct phy_error *err)
{
	switch (reason) {
	case PHY_EXIT_POWEROFF:
		return 0;
	case PHY_EXIT_STOPPED:
		return stop_signal ? 128 + stop_signal : 0;
	case PHY_EXIT_CRASH:
		fprintf(stderr, "phyllome-vmm: guest crashed: %s",
			phy_vmm_crash_report(vmm) ? phy_vmm_crash_report(vmm) : "\n");
		return 1;
	default:
		fprintf(stderr, "phyllome-vmm: %s\n", err->message);
		return 1;
	}
}

int main(int argc, char **argv)
{
	/* The handlers go in first. A shell starts a background command with
	 * SIGINT and SIGQUIT ignored, and the kernel discards an ignored
	 * signal: one sent while the VM was being built, before the handlers
	 * existed, was lost and the VMM ran on. Until the VM runs, the
	 * handler only records the signal. */
	install_signals();
	struct phy_config *cfg = phy_config_new();
	if (!cfg) {
		fprintf(stderr, "phyllome-vmm: out of memory\n");
		return 1;
	}
	/* Cloud Hypervisor's default: every thread filtered. */
	phy_config_set_seccomp(cfg, PHY_SECCOMP_ON, NULL);
	if (argc == 1)
		usage(stderr);
	if (argc == 1 || parse_args(argc, argv, cfg)) {
		phy_config_free(cfg);
		return EXIT_USAGE;
	}

	struct phy_error err = { 0 };
	struct phy_vmm *new_vmm;
	static bool stderr_tty; /* outlives the VMM's threads */
	stderr_tty = isatty(STDERR_FILENO);
	const struct phy_vmm_hooks hooks = { .log = print_log, .log_opaque = &stderr_tty };
	/* A forbidden system call is reported in one line, naming the
	 * thread and the call, rather than killing the process silently. */
	phy_seccomp_install_reporter();
	int ret = phy_vmm_create(cfg, &hooks, &new_vmm, &err);
	/* This thread boots the VM and the stdin thread it starts later
	 * inherits its filter: the VMM's own list. */
	if (!ret)
		phy_seccomp_enter_thread(cfg);
	phy_config_free(cfg);
	if (ret) {
		/* A stop signal may have cut a wait short (a FIFO's reader). */
		if (stop_signal)
			return 128 + stop_signal;
		fprintf(stderr, "phyllome-vmm: %s\n", err.message);
		return usage_or_failure(&err);
	}
	/* The stop signals are taken on this thread only: the VMM's and the
	 * VM's threads inherit them blocked, so none is inside the handler
	 * when the VMM is destroyed below. From here one stays pending until
	 * the VM runs; one that came before ends the VMM before it starts
	 * (its --api-socket file is never made). */
	sigset_t stop_set;
	stop_signals(&stop_set);
	pthread_sigmask(SIG_BLOCK, &stop_set, NULL);
	if (stop_signal) {
		phy_vmm_destroy(new_vmm);
		return 128 + stop_signal;
	}
	the_vmm = new_vmm;
	if (phy_vmm_start(the_vmm, &err)) {
		fprintf(stderr, "phyllome-vmm: %s\n", err.message);
		phy_vmm_destroy(the_vmm);
		return usage_or_failure(&err);
	}
	print_console_paths(the_vmm);
	raw_terminal();
	pthread_t input;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int have_input = pthread_create(&input, NULL, stdin_thread, the_vmm) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (have_input)
		pthread_detach(input);
	pthread_sigmask(SIG_UNBLOCK, &stop_set, NULL);

	enum phy_exit_reason reason = PHY_EXIT_NONE;
	phy_vmm_wait(the_vmm, -1, &reason, &err);
	restore_terminal();
	int status = exit_status(the_vmm, reason, &err);
	/* Destroying the VMM removes the --api-socket file and ends the
	 * --event-monitor stream. The stdin thread may still sit in read():
	 * it is cut off from the VMM, and the process exits without joining
	 * it. */
	pthread_sigmask(SIG_BLOCK, &stop_set, NULL);
	struct phy_vmm *vmm = the_vmm;
	the_vmm = NULL;
	pthread_mutex_lock(&input_lock);
	input_closed = 1;
	pthread_mutex_unlock(&input_lock);
	phy_vmm_destroy(vmm);
	fflush(stdout);
#ifdef PHY_SANITIZE
	/* _exit() skips LeakSanitizer's check at exit (an atexit handler), so
	 * a VMM that ran a VM was never checked for leaks: the sanitizer
	 * build checks here, with the VMM destroyed. A leak is reported on
	 * stderr and ends the process with a non-zero status. */
	__lsan_do_leak_check();
#endif
	_exit(status);
}
