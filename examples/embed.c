/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Embedding libphyllome-vmm: boots a Linux guest, waits for a marker line on
 * its serial console, pauses it and checks that it stays silent, resumes
 * it, presses its ACPI power button (or stops it, with --no-acpi) and waits
 * for it to end, printing each lifecycle event on the way. --two does all
 * of that with two VMs at once, one thread each, in this one process.
 *
 * It uses nothing but <phyllome/vmm.h> and the shared library:
 *   cc embed.c $(pkg-config --cflags --libs phyllome-vmm) -lpthread
 *
 * Exit status: 0 when every VM did what was expected, 1 otherwise, 2 for
 * bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <phyllome/vmm.h>

struct options {
	const char *kernel, *initramfs, *cmdline, *memory, *cpus;
	const char *marker;     /* wait for a serial line containing this */
	const char *expect;     /* after the end, output must contain this */
	const char *log_prefix; /* serial output of VM i to PREFIX<i>.log */
	int timeout_s;          /* for the marker, and for the end */
	int pause_ms;
	bool two, no_acpi, busy_guest;
};

/* One VM and what its threads tell us. */
struct guest {
	const struct options *opt;
	int index;
	struct phy_vm *vm;
	uint64_t t0_ns;
	FILE *log;

	pthread_mutex_t lock;   /* guards the fields below */
	pthread_cond_t cond;    /* signalled when a line completes */
	char line[1024];
	size_t line_len;
	bool marker_seen, expect_seen;
	_Atomic uint64_t bytes; /* serial bytes so far */
	bool ok;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double secs_since(const struct guest *g, uint64_t t)
{
	return (double)(t - g->t0_ns) / 1e9;
}

static void say(const struct guest *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(const struct guest *g, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One printf per line: the VMs' threads print at once. */
	printf("vm%d %7.3fs %s\n", g->index, secs_since(g, now_ns()), msg);
	fflush(stdout);
}

static void fail(struct guest *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(struct guest *g, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say(g, "FAILED: %s", msg);
	g->ok = false;
}

/* ---- hooks, called on the VM's threads ---- */

static void line_done(struct guest *g)
{
	g->line[g->line_len] = '\0';
	if (strstr(g->line, g->opt->marker))
		g->marker_seen = true;
	if (g->opt->expect && strstr(g->line, g->opt->expect))
		g->expect_seen = true;
	g->line_len = 0;
	pthread_cond_broadcast(&g->cond);
}

static void on_serial(void *opaque, const uint8_t *buf, size_t len)
{
	struct guest *g = opaque;
	pthread_mutex_lock(&g->lock);
	if (g->log)
		fwrite(buf, 1, len, g->log);
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n')
			line_done(g);
		else if (buf[i] != '\r' && g->line_len + 1 < sizeof(g->line))
			g->line[g->line_len++] = (char)buf[i];
	}
	g->bytes += len;
	pthread_mutex_unlock(&g->lock);
}

static void on_event(void *opaque, const struct phy_event *ev)
{
	struct guest *g = opaque;
	printf("vm%d %7.3fs event %s%s%s%s%s\n", g->index,
	       secs_since(g, ev->timestamp_ns), phy_event_name(ev->kind),
	       ev->device ? " " : "", ev->device ? ev->device : "",
	       ev->message ? ": " : "", ev->message ? ev->message : "");
	fflush(stdout);
}

static void on_log(void *opaque, const char *msg)
{
	say(opaque, "log: %s", msg);
}

/* ---- one VM's run ---- */

static int set(struct phy_config *cfg, const char *opt, const char *val,
	       struct guest *g)
{
	struct phy_error err = { 0 };
	if (!val)
		return 0;
	if (phy_config_set(cfg, opt, val, &err)) {
		fail(g, "%s", err.message);
		return -1;
	}
	return 0;
}

static int create(struct guest *g)
{
	const struct options *o = g->opt;
	struct phy_error err = { 0 };
	struct phy_config *cfg = phy_config_new();
	if (!cfg) {
		fail(g, "out of memory");
		return -1;
	}
	/* serial=null: a UART whose output only the hook sees. */
	int ret = set(cfg, "kernel", o->kernel, g) ||
		  set(cfg, "initramfs", o->initramfs, g) ||
		  set(cfg, "cmdline", o->cmdline, g) ||
		  set(cfg, "memory", o->memory, g) ||
		  set(cfg, "cpus", o->cpus, g) || set(cfg, "serial", "null", g);
	if (!ret && phy_vm_create(cfg, &g->vm, &err)) {
		fail(g, "phy_vm_create: %s", err.message);
		ret = -1;
	}
	phy_config_free(cfg);
	if (ret)
		return -1;
	phy_vm_set_serial_output(g->vm, on_serial, g);
	phy_vm_set_event_handler(g->vm, on_event, g);
	phy_vm_set_log(g->vm, on_log, g);
	return 0;
}

/* Waits until `flag` (a field guarded by g->lock) is set. */
static bool wait_flag(struct guest *g, const bool *flag, int timeout_s)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_s;
	pthread_mutex_lock(&g->lock);
	int r = 0;
	while (!*flag && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&g->cond, &g->lock, &deadline);
	bool seen = *flag;
	pthread_mutex_unlock(&g->lock);
	return seen;
}

/* Waits up to ms for the serial byte count to pass `than`. */
static bool output_after(struct guest *g, uint64_t than, int ms)
{
	for (int i = 0; i < ms / 10 && g->bytes <= than; i++)
		nanosleep(&(struct timespec){ 0, 10000000L }, NULL);
	return g->bytes > than;
}

static void pause_and_check(struct guest *g)
{
	struct phy_error err = { 0 };
	if (g->opt->busy_guest && !output_after(g, g->bytes, 5000))
		fail(g, "the guest is silent before the pause (--busy-guest)");
	if (phy_vm_pause(g->vm, &err)) {
		fail(g, "phy_vm_pause: %s", err.message);
		return;
	}
	if (phy_vm_state(g->vm) != PHY_VM_PAUSED)
		fail(g, "the state after phy_vm_pause is not PAUSED");
	uint64_t before = g->bytes;
	nanosleep(&(struct timespec){ g->opt->pause_ms / 1000,
				      (g->opt->pause_ms % 1000) * 1000000L },
		  NULL);
	uint64_t during = g->bytes - before;
	if (during)
		fail(g, "%llu bytes of serial output while paused",
		     (unsigned long long)during);
	else
		say(g, "paused for %d ms: no serial output", g->opt->pause_ms);
	if (phy_vm_resume(g->vm, &err)) {
		fail(g, "phy_vm_resume: %s", err.message);
		return;
	}
	if (g->opt->busy_guest) {
		if (output_after(g, before, 5000))
			say(g, "resumed: the guest prints again");
		else
			fail(g, "no serial output within 5 s of resuming");
	}
}

static void finish(struct guest *g)
{
	struct phy_error err = { 0 };
	enum phy_exit_reason want = PHY_EXIT_POWEROFF;
	if (g->opt->no_acpi) {
		want = PHY_EXIT_STOPPED;
		phy_vm_stop(g->vm);
	} else if (phy_vm_power_button(g->vm, &err)) {
		fail(g, "phy_vm_power_button: %s", err.message);
		phy_vm_stop(g->vm);
	}
	enum phy_exit_reason reason = PHY_EXIT_NONE;
	if (phy_vm_wait(g->vm, g->opt->timeout_s * 1000, &reason, &err)) {
		fail(g, "the VM did not stop within %d s", g->opt->timeout_s);
		phy_vm_stop(g->vm);
		phy_vm_wait(g->vm, -1, &reason, NULL);
		return;
	}
	static const char *const names[] = {
		[PHY_EXIT_NONE] = "none", [PHY_EXIT_POWEROFF] = "poweroff",
		[PHY_EXIT_STOPPED] = "stopped", [PHY_EXIT_CRASH] = "crash",
		[PHY_EXIT_ERROR] = "error",
	};
	say(g, "the VM ended: %s", names[reason]);
	if (reason != want)
		fail(g, "wanted the VM to end with %s", names[want]);
	if (reason == PHY_EXIT_CRASH)
		printf("%s", phy_vm_crash_report(g->vm));
	if (g->opt->expect && !wait_flag(g, &g->expect_seen, 0))
		fail(g, "the guest never printed '%s'", g->opt->expect);
}

static void *run_guest(void *arg)
{
	struct guest *g = arg;
	struct phy_error err = { 0 };
	if (g->opt->log_prefix) {
		char path[4096];
		snprintf(path, sizeof(path), "%s%d.log", g->opt->log_prefix,
			 g->index);
		g->log = fopen(path, "w");
		if (!g->log) {
			fail(g, "cannot write %s: %s", path, strerror(errno));
			return NULL;
		}
	}
	if (create(g))
		return NULL;
	if (phy_vm_start(g->vm, &err)) {
		fail(g, "phy_vm_start: %s", err.message);
		return NULL;
	}
	if (!wait_flag(g, &g->marker_seen, g->opt->timeout_s)) {
		fail(g, "no line with '%s' within %d s", g->opt->marker,
		     g->opt->timeout_s);
		phy_vm_stop(g->vm);
		phy_vm_wait(g->vm, -1, NULL, NULL);
		return NULL;
	}
	say(g, "marker seen: %s", g->opt->marker);
	pause_and_check(g);
	finish(g);
	return NULL;
}

/* ---- the command line ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: embed --kernel PATH [--initramfs PATH] [--cmdline STR]\n"
		"             --marker TEXT [--expect TEXT] [--memory SIZE] [--cpus N]\n"
		"             [--timeout SECS] [--pause-ms MS] [--log PREFIX]\n"
		"             [--busy-guest] [--no-acpi] [--two]\n"
		"Boots the guest, waits for a serial line containing TEXT, pauses it\n"
		"(no serial output may arrive meanwhile), resumes it, presses its\n"
		"power button (--no-acpi: stops it instead) and waits for it to end.\n"
		"  --expect TEXT   the guest must have printed TEXT by then\n"
		"  --busy-guest    the guest prints all the time: require output\n"
		"                  before the pause and after the resume\n"
		"  --log PREFIX    write VM i's serial output to PREFIX<i>.log\n"
		"  --two           two VMs at once in this process\n"
		"  --timeout SECS  for the marker and for the end (default 120)\n"
		"  --pause-ms MS   how long to stay paused (default 1000)\n");
}

static int parse(int argc, char **argv, struct options *o)
{
	*o = (struct options){ .memory = "size=256M", .timeout_s = 120,
			       .pause_ms = 1000 };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool flag = true;
		if (!strcmp(a, "--two"))
			o->two = true;
		else if (!strcmp(a, "--no-acpi"))
			o->no_acpi = true;
		else if (!strcmp(a, "--busy-guest"))
			o->busy_guest = true;
		else if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return 1;
		else
			flag = false;
		if (flag)
			continue;
		if (!v) {
			fprintf(stderr, "embed: %s needs a value\n", a);
			return -1;
		}
		i++;
		if (!strcmp(a, "--kernel"))
			o->kernel = v;
		else if (!strcmp(a, "--initramfs"))
			o->initramfs = v;
		else if (!strcmp(a, "--cmdline"))
			o->cmdline = v;
		else if (!strcmp(a, "--memory"))
			o->memory = v;
		else if (!strcmp(a, "--cpus"))
			o->cpus = v;
		else if (!strcmp(a, "--marker"))
			o->marker = v;
		else if (!strcmp(a, "--expect"))
			o->expect = v;
		else if (!strcmp(a, "--log"))
			o->log_prefix = v;
		else if (!strcmp(a, "--timeout"))
			o->timeout_s = atoi(v);
		else if (!strcmp(a, "--pause-ms"))
			o->pause_ms = atoi(v);
		else {
			fprintf(stderr, "embed: unknown option '%s'\n", a);
			return -1;
		}
	}
	if (!o->kernel || !o->marker || !o->marker[0] || o->timeout_s <= 0 ||
	    o->pause_ms <= 0) {
		fprintf(stderr, "embed: --kernel and --marker are required, "
			"--timeout and --pause-ms must be positive\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options opt;
	int p = parse(argc, argv, &opt);
	if (p) {
		usage(p > 0 ? stdout : stderr);
		return p > 0 ? 0 : 2;
	}
	printf("libphyllome-vmm %s, %d VM%s\n", phy_version(),
	       opt.two ? 2 : 1, opt.two ? "s at once" : "");
	int n = opt.two ? 2 : 1;
	struct guest g[2];
	pthread_t th[2];
	uint64_t t0 = now_ns();
	for (int i = 0; i < n; i++) {
		g[i] = (struct guest){ .opt = &opt, .index = i, .t0_ns = t0,
				       .ok = true };
		pthread_mutex_init(&g[i].lock, NULL);
		pthread_cond_init(&g[i].cond, NULL);
	}
	for (int i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, run_guest, &g[i])) {
			fprintf(stderr, "embed: cannot start a thread\n");
			return 1;
		}
	bool ok = true;
	for (int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		phy_vm_destroy(g[i].vm);
		if (g[i].log)
			fclose(g[i].log);
		ok = ok && g[i].ok;
	}
	printf("embed: %s\n", ok ? "all VMs did what was expected" : "FAILED");
	return ok ? 0 : 1;
}
