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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

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
static struct phy_vm *the_vm;
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
	if (the_vm)
		phy_vm_stop(the_vm); /* async-signal safe: an eventfd write */
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

/* Feeds stdin to the guest's console; Ctrl-A x stops the VM. */
/* The guest may share the terminal, which is in raw mode: end lines with
 * \r\n there. */
static void print_log(void *opaque, const char *msg)
{
	(void)opaque;
	fprintf(stderr, "phyllome-vmm: %s%s", msg, isatty(STDERR_FILENO) ? "\r\n" : "\n");
}

/* 1: fed, 0: the console's buffer is full, -1: the VM is gone. The
 * console on the terminal gets stdin; with none there, the serial port
 * does. */
static int feed_byte(struct phy_vm *vm, uint8_t c)
{
	pthread_mutex_lock(&input_lock);
	int which = input_closed ? -1 : phy_vm_tty_console(vm);
	if (which < 0)
		which = PHY_CONSOLE_SERIAL;
	int n = input_closed ? -1 : phy_vm_console_input(vm, which, &c, 1);
	pthread_mutex_unlock(&input_lock);
	return n;
}

static void *stdin_thread(void *arg)
{
	struct phy_vm *vm = arg;
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
						phy_vm_stop(vm);
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
			while ((fed = feed_byte(vm, c)) == 0)
				usleep(1000);
			if (fed < 0)
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

/* "serial: pty /dev/pts/3", for scripts that attach to the console. */
static void print_console_paths(struct phy_vm *vm)
{
	static const char *const names[2] = { "serial", "console" };
	for (int i = 0; i < 2; i++) {
		char path[256];
		if (console_kind[i] &&
		    !phy_vm_console_path(vm, i ? PHY_CONSOLE_VIRTIO : PHY_CONSOLE_SERIAL,
					 path, sizeof(path), NULL))
			fprintf(stderr, "%s: %s %s\n", names[i], console_kind[i], path);
	}
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
		const char *value = eq ? eq + 1 : NULL;
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

static int exit_status(struct phy_vm *vm, enum phy_exit_reason reason,
		       const struct phy_error *err)
{
	switch (reason) {
	case PHY_EXIT_POWEROFF:
		return 0;
	case PHY_EXIT_STOPPED:
		return stop_signal ? 128 + stop_signal : 0;
	case PHY_EXIT_CRASH:
		fprintf(stderr, "phyllome-vmm: guest crashed: %s",
			phy_vm_crash_report(vm) ? phy_vm_crash_report(vm) : "\n");
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
	if (argc == 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (parse_args(argc, argv, cfg))
		return EXIT_USAGE;

	struct phy_error err = { 0 };
	struct phy_vm *new_vm;
	int ret = phy_vm_create(cfg, &new_vm, &err);
	phy_config_free(cfg);
	if (ret) {
		/* A stop signal may have cut a wait short (a FIFO's reader). */
		if (stop_signal)
			return 128 + stop_signal;
		fprintf(stderr, "phyllome-vmm: %s\n", err.message);
		return (err.code == PHY_E_INVALID || err.code == PHY_E_IMAGE) ?
			       EXIT_USAGE : 1;
	}
	phy_vm_set_log(new_vm, print_log, NULL);
	print_console_paths(new_vm);
	/* The stop signals are taken on this thread only: the VM's threads
	 * inherit them blocked, so none is inside the handler when the VM
	 * is destroyed below. From here one stays pending until the VM
	 * runs; one that came before stops the VM before it starts (its
	 * --api-socket file is removed). */
	sigset_t stop_set;
	stop_signals(&stop_set);
	pthread_sigmask(SIG_BLOCK, &stop_set, NULL);
	if (stop_signal) {
		phy_vm_destroy(new_vm);
		return 128 + stop_signal;
	}
	the_vm = new_vm;
	raw_terminal();
	if (phy_vm_start(the_vm, &err)) {
		restore_terminal();
		fprintf(stderr, "phyllome-vmm: %s\n", err.message);
		return 1;
	}
	pthread_t input;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int have_input = pthread_create(&input, NULL, stdin_thread, the_vm) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (have_input)
		pthread_detach(input);
	pthread_sigmask(SIG_UNBLOCK, &stop_set, NULL);

	enum phy_exit_reason reason = PHY_EXIT_NONE;
	phy_vm_wait(the_vm, -1, &reason, &err);
	restore_terminal();
	int status = exit_status(the_vm, reason, &err);
	/* Destroying the VM removes the --api-socket file and ends the
	 * --event-monitor stream. The stdin thread may still sit in read():
	 * it is cut off from the VM, and the process exits without joining
	 * it. */
	pthread_sigmask(SIG_BLOCK, &stop_set, NULL);
	struct phy_vm *vm = the_vm;
	the_vm = NULL;
	pthread_mutex_lock(&input_lock);
	input_closed = 1;
	pthread_mutex_unlock(&input_lock);
	phy_vm_destroy(vm);
	fflush(stdout);
	_exit(status);
}
