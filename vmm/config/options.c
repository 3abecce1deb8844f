// SPDX-License-Identifier: Apache-2.0
/*
 * Every option, with Cloud Hypervisor's syntax: each option's value is a
 * comma-separated list of key=value pairs ("boot=4", "size=1G"), or a plain
 * word where Cloud Hypervisor takes one ("--serial tty"). Every error names
 * the option. The machine's own options are parsed here; a device's option
 * by the device_option its row names (config_disk.c, ...).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "arch/x86_64/layout.h"
#include "common/error.h"
#include "vmm/config/config_disk.h"
#include "vmm/config/cpu_affinity.h"
#include "vmm/config/config_firmware.h"
#include "vmm/config/config_gpu.h"
#include "vmm/config/config_json.h"
#include "vmm/config/config_landlock.h"
#include "vmm/config/config_net.h"
#include "vmm/config/config_rng.h"
#include "vmm/config/config_vsock.h"
#include "vmm/config/config_fs.h"
#include "vmm/config/config_balloon.h"
#include "vmm/config/endpoint.h"
#include "vmm/config/option.h"
#include "vmm/config/options.h"
#include "vmm/config/parse.h"

static int dup_opt(char **s, const char *v)
{
	char *d = strdup(v);
	if (!d)
		return -1;
	free(*s);
	*s = d;
	return 0;
}

/* For options whose keys set scalars of the config. */
static int parse_config_kv(struct phy_config *cfg, const char *opt,
			   const char *value, kv_fn fn, struct phy_error *err)
{
	struct phy_config scratch = *cfg;
	int ret = parse_kv_list(&scratch, opt, value, fn, err);
	if (!ret)
		*cfg = scratch;
	return ret;
}

/* --cpus's scratch config, and whether its value set the affinity. */
struct cpus_parse {
	struct phy_config cfg;
	bool affinity_given;
};

static int cpus_kv(void *target, const char *opt, const char *key,
		   const char *val, struct phy_error *err)
{
	struct cpus_parse *w = target;
	struct phy_config *cfg = &w->cfg;
	unsigned long n;
	if (!strcmp(key, "boot")) {
		if (parse_uint(val, ULONG_MAX, &n) || n == 0 || n > X86_MAX_VCPUS)
			return phy_err(err, PHY_E_INVALID,
				       "--cpus: boot=%s is not a number from 1 to %d",
				       val, X86_MAX_VCPUS);
		cfg->cpus = (unsigned)n;
		return 0;
	}
	if (!strcmp(key, "affinity")) {
		struct cpu_affinity *a;
		unsigned nr;
		if (cpu_affinity_parse(val, &a, &nr, err))
			return -1;
		free(cfg->affinity); /* given twice: the last one counts */
		cfg->affinity = a;
		cfg->nr_affinity = nr;
		w->affinity_given = true;
		return 0;
	}
	if (!strcmp(key, "max")) {
		if (parse_uint(val, ULONG_MAX, &n) || n == 0 || n > X86_MAX_VCPUS)
			return phy_err(err, PHY_E_INVALID,
				       "--cpus: max=%s is not a number from 1 to %d",
				       val, X86_MAX_VCPUS);
		/* CPU hotplug is not implemented: max only has to cover boot. */
		return 0;
	}
	return phy_err(err, PHY_E_INVALID,
		       "--%s: unknown key '%s' (known: boot, max, affinity)", opt, key);
}

static int memory_kv(void *target, const char *opt, const char *key,
		     const char *val, struct phy_error *err)
{
	struct phy_config *cfg = target;
	if (!strcmp(key, "thp") || !strcmp(key, "shared")) {
		bool *dst = key[0] == 't' ? &cfg->memory_thp : &cfg->memory_shared;
		return parse_switch_key(opt, key, val, dst, err);
	}
	if (strcmp(key, "size"))
		return phy_err(err, PHY_E_INVALID,
			       "--%s: unknown key '%s' (known: size, thp, shared)",
			       opt, key);
	uint64_t sz;
	if (config_parse_size(val, &sz))
		return phy_err(err, PHY_E_INVALID,
			       "--memory: size=%s is not a size (e.g. 512M, 4G)", val);
	if (sz < CONFIG_MIN_MEMORY || sz > CONFIG_MAX_MEMORY)
		return phy_err(err, PHY_E_INVALID,
			       "--memory: size=%s is outside 16M..1T", val);
	if (sz & 0xfff)
		return phy_err(err, PHY_E_INVALID,
			       "--memory: size=%s is not a multiple of 4 KiB", val);
	cfg->memory = sz;
	return 0;
}

/* --serial and --console: tty, off, null, pty, file=PATH, socket=PATH. */
static int set_char_mode(enum serial_mode *mode, char **path, const char *opt,
			 const char *value, struct phy_error *err)
{
	static const struct {
		const char *word;
		enum serial_mode mode;
	} words[] = { { "tty", SERIAL_TTY }, { "off", SERIAL_OFF },
		      { "null", SERIAL_NULL }, { "pty", SERIAL_PTY } };
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strcmp(value, words[i].word))
			continue;
		*mode = words[i].mode;
		free(*path);
		*path = NULL;
		return 0;
	}
	enum serial_mode m;
	const char *p;
	if (!strncmp(value, "file=", 5)) {
		m = SERIAL_FILE;
		p = value + 5;
	} else if (!strncmp(value, "socket=", 7)) {
		m = SERIAL_SOCKET;
		p = value + 7;
	} else {
		return phy_err(err, PHY_E_INVALID,
			       "--%s: '%s' is not one of tty, off, null, pty, file=PATH, socket=PATH",
			       opt, value);
	}
	if (!*p)
		return phy_err(err, PHY_E_INVALID, "--%s: %.*s needs a path", opt,
			       (int)(p - value), value);
	if (m == SERIAL_SOCKET &&
	    strlen(p) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return phy_err(err, PHY_E_INVALID,
			       "--%s: socket=: the path is longer than %zu bytes", opt,
			       sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	if (dup_opt(path, p))
		return phy_err(err, PHY_E_NOMEM, "--%s: out of memory", opt);
	*mode = m;
	return 0;
}

static int set_serial(struct phy_config *cfg, const char *value,
		      struct phy_error *err)
{
	return set_char_mode(&cfg->serial, &cfg->serial_path, "serial", value, err);
}

static int set_path(char **dst, const char *opt, const char *value,
		    struct phy_error *err)
{
	if (!*value)
		return phy_err(err, PHY_E_INVALID, "--%s: empty path", opt);
	if (dup_opt(dst, value))
		return phy_err(err, PHY_E_NOMEM, "--%s: out of memory", opt);
	return 0;
}

static int set_kernel(struct phy_config *cfg, const char *v, struct phy_error *err)
{
	return set_path(&cfg->kernel, "kernel", v, err);
}

static int set_initramfs(struct phy_config *cfg, const char *v,
			 struct phy_error *err)
{
	return set_path(&cfg->initramfs, "initramfs", v, err);
}

static int set_cmdline(struct phy_config *cfg, const char *v,
		       struct phy_error *err)
{
	if (dup_opt(&cfg->cmdline, v))
		return phy_err(err, PHY_E_NOMEM, "--cmdline: out of memory");
	return 0;
}

static int set_cpus(struct phy_config *cfg, const char *v, struct phy_error *err)
{
	struct cpus_parse w = { .cfg = *cfg };
	w.cfg.affinity = NULL; /* still cfg's: not the scratch's to free */
	w.cfg.nr_affinity = 0;
	int ret = parse_kv_list(&w, "cpus", v, cpus_kv, err);
	if (ret) {
		free(w.cfg.affinity);
		return ret;
	}
	if (w.affinity_given) {
		free(cfg->affinity);
	} else {
		w.cfg.affinity = cfg->affinity;
		w.cfg.nr_affinity = cfg->nr_affinity;
	}
	*cfg = w.cfg;
	return 0;
}

static int set_memory(struct phy_config *cfg, const char *v,
		      struct phy_error *err)
{
	return parse_config_kv(cfg, "memory", v, memory_kv, err);
}

static int set_console(struct phy_config *cfg, const char *v,
		       struct phy_error *err)
{
	return set_char_mode(&cfg->console, &cfg->console_path, "console", v, err);
}

static int set_display(struct phy_config *cfg, const char *v,
		       struct phy_error *err)
{
	if (!strcmp(v, "none"))
		cfg->display = DISPLAY_NONE;
	else if (!strcmp(v, "sdl") && !PHY_HAVE_SDL)
		return phy_err(err, PHY_E_INVALID,
			       "--display: sdl is not in this build (cmake -DPHYLLOME_SDL=OFF)");
	else if (!strcmp(v, "sdl"))
		cfg->display = DISPLAY_SDL;
	else
		return phy_err(err, PHY_E_INVALID, "--display: '%s' is not none or sdl", v);
	return 0;
}

static int set_screenshot(struct phy_config *cfg, const char *v,
			  struct phy_error *err)
{
	return set_path(&cfg->screenshot_on_exit, "screenshot-on-exit", v, err);
}

/* --config FILE: a VmConfig document, read whole (it is small) and applied
 * as the options it spells; options after it add to or override it. */
static int set_config(struct phy_config *cfg, const char *v,
		      struct phy_error *err)
{
	int fd = open(v, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return phy_err(err, PHY_E_INVALID, "--config: cannot open '%s': %s", v,
			       strerror(errno));
	char *text = malloc(CONFIG_JSON_MAX + 1);
	size_t len = 0;
	ssize_t n = 1;
	while (text && n > 0 && len <= CONFIG_JSON_MAX) {
		n = read(fd, text + len, CONFIG_JSON_MAX + 1 - len);
		if (n > 0)
			len += (size_t)n;
		else if (n < 0 && errno == EINTR)
			n = 1;
	}
	int e = errno;
	close(fd);
	int ret;
	if (!text)
		ret = phy_err(err, PHY_E_NOMEM, "--config: out of memory");
	else if (n < 0)
		ret = phy_err(err, PHY_E_INVALID, "--config: cannot read '%s': %s", v,
			      strerror(e));
	else
		ret = config_json_apply(cfg, text, len, "--config", err);
	free(text);
	return ret;
}

static int set_api_socket(struct phy_config *cfg, const char *v,
			  struct phy_error *err)
{
	return config_set_endpoint(&cfg->api_socket, &cfg->api_socket_fd,
				   "api-socket", v, ENDPOINT_UNIX_STREAM, err);
}

static int set_event_monitor(struct phy_config *cfg, const char *v,
			     struct phy_error *err)
{
	return config_set_endpoint(&cfg->event_monitor, &cfg->event_monitor_fd,
				   "event-monitor", v, ENDPOINT_WRITABLE, err);
}

/*
 * The option table: name, value syntax, help (for --help, in this order),
 * and who parses it: a setter of the machine's own fields, or a device's
 * option. A new device's option is one row here.
 */
#define OPTIONS(MACHINE, DEVICE)                                              \
	MACHINE("config", "FILE",                                             \
		"a VM described as Cloud Hypervisor's VmConfig JSON (vm.create's " \
		"body); later options add to or override it", set_config)    \
	MACHINE("kernel", "PATH",                                             \
		"Linux kernel: bzImage or ELF vmlinux with a PVH note", set_kernel) \
	MACHINE("initramfs", "PATH",                                          \
		"initial ramdisk loaded next to the kernel", set_initramfs)   \
	MACHINE("cmdline", "STRING",                                          \
		"kernel command line (default: \"" CONFIG_DEFAULT_CMDLINE "\")", \
		set_cmdline)                                                  \
	DEVICE("firmware", "PATH|path=PATH[,vars=FILE[,vars_template=FILE]]", \
	       "UEFI firmware (e.g. /usr/share/ovmf/OVMF.fd) booting the OS on " \
	       "the disks instead of --kernel; vars=: its variables, kept in FILE", \
	       firmware_option)                                               \
	MACHINE("cpus", "boot=N[,affinity=[V@[CPUS],...]]",                   \
		"number of vCPUs (default 1, at most 255); affinity: the host "  \
		"CPUs each vCPU's thread may run on, e.g. [0@[2],1@[3-5]]",     \
		set_cpus)                                                     \
	MACHINE("memory", "size=SIZE[,thp=on|off][,shared=on|off]",           \
		"guest RAM, e.g. 512M or 4G (default 512M), on transparent huge " \
		"pages (default thp=on), private unless shared=on (a memfd)", \
		set_memory)                                                   \
	MACHINE("serial", "tty|off|null|pty|file=PATH|socket=PATH",           \
		"where COM1 goes (default tty)", set_serial)                  \
	MACHINE("console", "off|tty|null|pty|file=PATH|socket=PATH",          \
		"a virtio console (hvc0) and where it goes (default off)",    \
		set_console)                                                  \
	DEVICE("disk",                                                        \
	       "path=IMG[,readonly=on][,direct=on][,num_queues=N][,queue_size=N][,id=ID]", \
	       "virtio-blk disk on a raw image or block device (repeatable, up to 16)", \
	       disk_option)                                                   \
	DEVICE("net",                                                         \
	       "tap=NAME|fd=N|fd=[N,M,...][,mac=MAC][,ip=IP,mask=MASK][,num_queues=N][,queue_size=N][,id=ID]", \
	       "virtio-net on a tap device, created when NAME is new or empty, or on the queues of an open one (fd=) (repeatable, up to 8)", \
	       net_option)                                                    \
	DEVICE("gpu",                                                         \
	       "mode=virgl|2d[,width=W,height=H][,outputs=N][,max_hostmem=SIZE]", \
	       "virtio-gpu: 3D through virglrenderer (headless, EGL surfaceless) or 2D only", \
	       gpu_option)                                                    \
	DEVICE("rng", "src=PATH|off",                                         \
	       "virtio-rng reading PATH (default src=" CONFIG_RNG_DEFAULT_SRC ", on); off: none", \
	       rng_option)                                                    \
	DEVICE("vsock", "cid=N,socket=PATH[,id=ID]",                          \
	       "virtio-vsock for guest CID N (3 to 4294967294): host programs connect " \
	       "to PATH and send CONNECT <port>; the guest's connections to host port P " \
	       "reach PATH_P", vsock_option)                                  \
	DEVICE("balloon", "size=SIZE[,deflate_on_oom=on][,free_page_reporting=on]", \
	       "virtio-balloon asking the guest for SIZE of its RAM (0: none yet; " \
	       "vm.resize desired_balloon changes it)", balloon_option)      \
	DEVICE("fs", "tag=TAG,socket=PATH[,num_queues=N][,queue_size=N][,id=ID]", \
	       "virtio-fs served by the vhost-user back end (virtiofsd) on PATH; " \
	       "needs --memory shared=on (repeatable, up to 8)", fs_option)  \
	MACHINE("display", "none|sdl",                                        \
		"sdl: a window showing the GPU's first output, with keyboard and tablet (default none)", \
		set_display)                                                  \
	MACHINE("screenshot-on-exit", "PATH",                                 \
		"write a PNG of scanout 0 when the VM stops (needs --gpu)",   \
		set_screenshot)                                               \
	MACHINE("api-socket", "path=PATH|fd=N|PATH",                          \
		"serve Cloud Hypervisor's HTTP control API on this Unix socket " \
		"(fd=: one the caller bound)",                                \
		set_api_socket)                                               \
	MACHINE("event-monitor", "path=PATH|fd=N|PATH",                       \
		"append lifecycle events, one JSON object per line, to this file, " \
		"FIFO or descriptor",                                         \
		set_event_monitor)                                            \
	MACHINE("landlock", "",                                               \
		"confine the VM's threads with Landlock to its own files (off by default)", \
		config_set_landlock)                                          \
	DEVICE("landlock-rules", "path=PATH,access=[rw]",                     \
	       "with --landlock, also allow PATH (repeatable, up to 16)",   \
	       landlock_rule_option)                                         \
	MACHINE("seccomp", "true|false|log",                                  \
		"seccomp filters on the VMM's threads; log: only log what they " \
		"would forbid (default: true in the CLI, false in the library)", set_seccomp)

static int set_seccomp(struct phy_config *cfg, const char *value,
		       struct phy_error *err)
{
	if (sandbox_parse_mode(value, &cfg->seccomp))
		return phy_err(err, PHY_E_INVALID,
			       "--seccomp: '%s' is not true, false or log", value);
	return 0;
}

typedef int (*machine_setter)(struct phy_config *cfg, const char *value,
			      struct phy_error *err);

struct option_handler {
	machine_setter set;
	const struct device_option *dev;
};

#define INFO(name, syntax, help, who) { name, syntax, help },
static const struct phy_option_info infos[] = { OPTIONS(INFO, INFO) };
#define BY_SETTER(name, syntax, help, fn) { .set = fn },
#define BY_DEVICE(name, syntax, help, opt) { .dev = &opt },
static const struct option_handler handlers[] = { OPTIONS(BY_SETTER, BY_DEVICE) };
#define NR_OPTIONS (sizeof(infos) / sizeof(infos[0]))
_Static_assert(sizeof(handlers) / sizeof(handlers[0]) == NR_OPTIONS,
	       "one handler per option");

const struct phy_option_info *phy_config_options(size_t *count)
{
	if (count)
		*count = NR_OPTIONS;
	return infos;
}

const struct device_option *config_device_option(size_t i)
{
	return i < NR_OPTIONS ? handlers[i].dev : NULL;
}

void config_drop_item(struct phy_config *cfg, unsigned i)
{
	struct config_item *it = &cfg->items[i];
	if (it->opt->release)
		it->opt->release(it->conf);
	free(it->conf);
	memmove(it, it + 1, (cfg->nr_items - i - 1) * sizeof(*it));
	cfg->nr_items--;
}

int config_add_device(struct phy_config *cfg, const struct device_option *opt,
		      const char *value, bool is_default, struct phy_error *err)
{
	if (opt->can_be_off && !strcmp(value, "off")) {
		for (unsigned i = cfg->nr_items; i-- > 0;)
			if (cfg->items[i].opt == opt)
				config_drop_item(cfg, i);
		return 0;
	}
	unsigned have = config_count(cfg, opt);
	/* A second one replaces the default; it never adds to it. */
	for (unsigned i = 0; i < cfg->nr_items; i++)
		if (cfg->items[i].opt == opt && cfg->items[i].is_default)
			have--;
	if (opt->max == 1 && have)
		return phy_err(err, PHY_E_INVALID, "--%s: given twice (one %s per VM)",
			       opt->name, opt->noun);
	if (have >= opt->max)
		return phy_err(err, PHY_E_INVALID, "--%s: at most %u %s", opt->name,
			       opt->max, opt->nouns);
	if (cfg->nr_items == CONFIG_MAX_ITEMS)
		return phy_err(err, PHY_E_INVALID, "--%s: at most %d devices in all",
			       opt->name, CONFIG_MAX_ITEMS);
	void *conf = calloc(1, opt->conf_size);
	if (!conf)
		return phy_err(err, PHY_E_NOMEM, "--%s: out of memory", opt->name);
	int ret = opt->parse(conf, value, have, err);
	if (ret) {
		if (opt->release)
			opt->release(conf);
		free(conf);
		return ret;
	}
	for (unsigned i = cfg->nr_items; i-- > 0;)
		if (cfg->items[i].opt == opt && cfg->items[i].is_default)
			config_drop_item(cfg, i);
	cfg->items[cfg->nr_items++] = (struct config_item){ opt, conf, is_default };
	return 0;
}

int phy_config_set(struct phy_config *cfg, const char *option,
		   const char *value, struct phy_error *err)
{
	if (!cfg || !option)
		return phy_err(err, PHY_E_INVALID, "phy_config_set: NULL argument");
	if (!value)
		return phy_err(err, PHY_E_INVALID, "--%s: missing value", option);
	for (size_t i = 0; i < NR_OPTIONS; i++) {
		if (strcmp(option, infos[i].name))
			continue;
		if (handlers[i].dev)
			return config_add_device(cfg, handlers[i].dev, value, false, err);
		return handlers[i].set(cfg, value, err);
	}
	return phy_err(err, PHY_E_INVALID, "unknown option '--%s'", option);
}

/* One terminal, and one owner for each path. */
static int validate_consoles(const struct phy_config *cfg, struct phy_error *err)
{
	if (cfg->serial == SERIAL_TTY && cfg->console == SERIAL_TTY)
		return phy_err(err, PHY_E_INVALID,
			       "--console: tty, but --serial is on the terminal too "
			       "(only one may be; e.g. --serial null)");
	const char *s = cfg->serial_path, *c = cfg->console_path;
	if (s && c && !strcmp(s, c))
		return phy_err(err, PHY_E_INVALID, "--console: '%s' is also the --serial's",
			       c);
	const char *api = cfg->api_socket, *mon = cfg->event_monitor;
	for (int i = 0; i < 2; i++) {
		const char *p = i ? c : s, *opt = i ? "console" : "serial";
		if (p && ((api && !strcmp(p, api)) || (mon && !strcmp(p, mon))))
			return phy_err(err, PHY_E_INVALID,
				       "--%s: '%s' is also the --%s", opt, p,
				       api && !strcmp(p, api) ? "api-socket" : "event-monitor");
	}
	return 0;
}

int config_validate(const struct phy_config *cfg, bool boot_given,
		    struct phy_error *err)
{
	if (!cfg)
		return phy_err(err, PHY_E_INVALID, "no configuration");
	/* With a control API, the VM may come later (vm.create). */
	bool api = cfg->api_socket || cfg->api_socket_fd >= 0;
	if (!cfg->kernel && !boot_given && !config_firmware(cfg) && !api)
		return phy_err(err, PHY_E_INVALID,
			       "--kernel: a kernel (or --firmware) is required");
	if (cfg->initramfs && !cfg->kernel)
		return phy_err(err, PHY_E_INVALID, "--initramfs: needs --kernel");
	if (cfg->cmdline && strlen(cfg->cmdline) >= X86_CMDLINE_MAX)
		return phy_err(err, PHY_E_INVALID, "--cmdline: longer than %llu bytes",
			       (unsigned long long)X86_CMDLINE_MAX - 1);
	/* A Unix socket path lives in sun_path, NUL included. */
	if (cfg->api_socket &&
	    strlen(cfg->api_socket) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return phy_err(err, PHY_E_INVALID,
			       "--api-socket: the path is longer than %zu bytes",
			       sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	if (cfg->api_socket && cfg->event_monitor &&
	    !strcmp(cfg->api_socket, cfg->event_monitor))
		return phy_err(err, PHY_E_INVALID,
			       "--event-monitor: '%s' is also the --api-socket",
			       cfg->event_monitor);
	if (cfg->api_socket_fd >= 0 && cfg->api_socket_fd == cfg->event_monitor_fd)
		return phy_err(err, PHY_E_INVALID,
			       "--event-monitor: fd=%d is also the --api-socket",
			       cfg->event_monitor_fd);
	int ret = cpu_affinity_check(cfg->affinity, cfg->nr_affinity, cfg->cpus, err);
	if (!ret)
		ret = validate_consoles(cfg, err);
	if (ret)
		return ret;
	for (size_t i = 0; i < NR_OPTIONS; i++) {
		const struct device_option *opt = handlers[i].dev;
		ret = opt && opt->validate ? opt->validate(cfg, err) : 0;
		if (ret)
			return ret;
	}
	return 0;
}

int phy_config_validate(const struct phy_config *cfg, struct phy_error *err)
{
	return config_validate(cfg, false, err);
}
