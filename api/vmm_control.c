/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "api/vmm_control.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/error.h"
#include "api/api_routes.h"
#include "api/api_server.h"
#include "api/event_monitor.h"
#include "vmm/config/config.h"
#include "vmm/config/config_balloon.h"
#include "vmm/config/config_vsock.h"
#include "vmm/config/config_fs.h"
#include "vmm/config/config_disk.h"
#include "vmm/config/config_firmware.h"
#include "vmm/config/config_gpu.h"
#include "vmm/config/config_json.h"
#include "vmm/config/config_landlock.h"
#include "vmm/config/config_net.h"
#include "vmm/frontend.h"

struct phy_vmm {
	pthread_mutex_t lock; /* everything below but the atomics */
	struct vmm_factory factory;
	struct phy_vmm_hooks hooks;
	struct phy_config *cfg; /* vm.create's; NULL before and after delete */
	struct phy_vm *vm;      /* from vm.boot to vm.shutdown */
	enum sandbox_mode seccomp; /* the VMM's, given to each vm.create */
	/* A stop we asked for: the VM's end is then not the VMM's. */
	atomic_bool stopping_vm;
	atomic_bool ending; /* vmm.shutdown, phy_vmm_stop, the VM's own end */
	int end_fd;         /* eventfd, written when `ending` is set */
	bool over;          /* phy_vmm_wait has seen the end */
	enum phy_exit_reason reason;
	struct phy_error end_err;

	bool started;
	struct api_server *server; /* listening from create, serving from start */
	struct event_monitor *monitor;
	struct api_backend backend;
	char *config_json;
	char disk_ids[CONFIG_MAX_DISKS][CONFIG_DISK_ID_LEN + 16];
	const char *disk_id_ptrs[CONFIG_MAX_DISKS];
	char net_ids[CONFIG_MAX_NETS][CONFIG_NET_ID_LEN + 16];
	char vsock_id[CONFIG_VSOCK_ID_LEN + 1];
	char fs_ids[CONFIG_FS_MAX][CONFIG_FS_ID_LEN + 16];
	const char *fs_id_ptrs[CONFIG_FS_MAX];
	const char *net_id_ptrs[CONFIG_MAX_NETS];
	/* --landlock and its rules from the command line, which every VM
	 * gets (NULL: none), and the threads already confined. */
	struct phy_config *landlock;
	pthread_t confined[4];
	unsigned nr_confined;
};

static bool has_payload(const struct phy_config *cfg)
{
	return cfg->kernel || config_firmware(cfg);
}

static void signal_end(struct phy_vmm *v)
{
	atomic_store(&v->ending, true);
	uint64_t one = 1;
	ssize_t w = write(v->end_fd, &one, sizeof(one));
	(void)w; /* a full counter is still readable */
}

/* A booted VM's pty path for `which` in rt's buffer, as Cloud
 * Hypervisor's vm.info has it in config.serial.file / config.console.file;
 * NULL without one. */
static const char *pty_path(struct phy_vmm *v, enum serial_mode mode,
			    enum phy_console which, char *buf, size_t size)
{
	return v->vm && mode == SERIAL_PTY &&
			       !phy_vm_console_path(v->vm, which, buf, size, NULL)
		       ? buf
		       : NULL;
}

/* What vm.info and vm.counters describe; NULL config when none. */
static void describe(struct phy_vmm *v)
{
	free(v->config_json);
	char serial[128], console[128];
	struct config_json_runtime rt = { 0 };
	if (v->cfg) {
		rt.serial_file = pty_path(v, v->cfg->serial, PHY_CONSOLE_SERIAL,
					  serial, sizeof(serial));
		rt.console_file = pty_path(v, v->cfg->console, PHY_CONSOLE_VIRTIO,
					   console, sizeof(console));
	}
	v->config_json = v->cfg ? config_json_dump(v->cfg, &rt) : NULL;
	struct api_vm_desc *d = &v->backend.desc;
	const struct phy_config *cfg = v->cfg;
	d->config_json = v->config_json;
	d->memory_size = cfg ? cfg->memory : 0;
	d->nr_disks = cfg ? config_count(cfg, &disk_option) : 0;
	d->nr_nets = cfg ? config_count(cfg, &net_option) : 0;
	const struct gpu_config *gpu = cfg ? config_gpu(cfg) : NULL;
	d->gpu_outputs = gpu ? gpu->outputs : 0;
	d->balloon = cfg && config_count(cfg, &balloon_option);
	const struct vsock_config *vs = cfg ? config_item(cfg, &vsock_option, 0) : NULL;
	/* Cloud Hypervisor's name for one without an id. */
	snprintf(v->vsock_id, sizeof(v->vsock_id), "%s", vs && vs->id[0] ? vs->id : "_vsock0");
	d->vsock_id = vs ? v->vsock_id : NULL;
	for (unsigned i = 0; i < d->nr_disks; i++) {
		config_disk_id(cfg, i, v->disk_ids[i], sizeof(v->disk_ids[i]));
		v->disk_id_ptrs[i] = v->disk_ids[i];
	}
	for (unsigned i = 0; i < d->nr_nets; i++) {
		config_net_id(cfg, i, v->net_ids[i], sizeof(v->net_ids[i]));
		v->net_id_ptrs[i] = v->net_ids[i];
	}
	d->disk_ids = v->disk_id_ptrs;
	d->net_ids = v->net_id_ptrs;
	d->nr_fs = cfg ? config_count(cfg, &fs_option) : 0;
	for (unsigned i = 0; i < d->nr_fs; i++) {
		const struct fs_config *f = config_item(cfg, &fs_option, i);
		/* Cloud Hypervisor's name for one without an id. */
		if (f->id[0])
			snprintf(v->fs_ids[i], sizeof(v->fs_ids[i]), "%s", f->id);
		else
			snprintf(v->fs_ids[i], sizeof(v->fs_ids[i]), "_fs%u", i);
		v->fs_id_ptrs[i] = v->fs_ids[i];
	}
	d->fs_ids = v->fs_id_ptrs;
}

/* The VM's events: to the monitor, and its own end ends the VMM. Runs on
 * the VM's threads: no lock (see the header). */
static void vm_listener(void *opaque, const struct phy_event *ev)
{
	struct phy_vmm *v = opaque;
	event_monitor_event(v->monitor, ev);
	if (ev->kind == PHY_EVENT_SHUTDOWN && !atomic_load(&v->stopping_vm))
		signal_end(v);
}

/* With --landlock, the thread that boots the VM serves it (the API's:
 * vm.screenshot, vm.add-disk; or the CLI's main thread, and the API
 * thread it starts afterwards): it is confined as the VM's threads are,
 * once, as Cloud Hypervisor confines its VMM thread. It stays confined
 * after the VM ends: a later VM can only use what the first one could. */
static int confine_thread(struct phy_vmm *v, struct phy_vm *vm,
			  struct phy_error *err)
{
	if (!v->landlock || !v->landlock->landlock)
		return 0;
	for (unsigned i = 0; i < v->nr_confined; i++)
		if (pthread_equal(v->confined[i], pthread_self()))
			return 0;
	int ret = phy_vm_landlock_thread(vm, err);
	if (!ret && v->nr_confined < sizeof(v->confined) / sizeof(v->confined[0]))
		v->confined[v->nr_confined++] = pthread_self();
	return ret;
}

/* vm.boot's work, under the lock. */
static int boot_locked(struct phy_vmm *v, struct phy_error *err)
{
	if (!v->cfg)
		return phy_err(err, PHY_E_STATE, "vm.boot: the VM is not created");
	if (v->vm)
		return phy_err(err, PHY_E_STATE, "vm.boot: the VM is already booted");
	if (atomic_load(&v->ending))
		return phy_err(err, PHY_E_STATE, "vm.boot: the VMM is shutting down");
	struct phy_vm *vm = NULL;
	int ret = v->factory.create(v->factory.ctx, v->cfg, &vm, err);
	if (ret)
		return ret;
	ret = confine_thread(v, vm, err);
	if (ret) {
		phy_vm_destroy(vm);
		return ret;
	}
	phy_vm_set_log(vm, v->hooks.log, v->hooks.log_opaque);
	phy_vm_set_event_handler(vm, v->hooks.event, v->hooks.event_opaque);
	if (v->hooks.serial)
		phy_vm_set_serial_output(vm, v->hooks.serial, v->hooks.serial_opaque);
	if (vm_add_listener(vm, vm_listener, v)) {
		phy_vm_destroy(vm);
		return phy_err(err, PHY_E_INTERNAL, "vm.boot: no listener left");
	}
	atomic_store(&v->stopping_vm, false);
	ret = phy_vm_start(vm, err);
	if (ret) {
		/* A VM that never ran ends nothing but itself. */
		atomic_store(&v->stopping_vm, true);
		phy_vm_destroy(vm);
		return ret;
	}
	v->vm = vm;
	describe(v); /* the consoles' pty paths */
	return 0;
}

/* Stops and frees the VM, keeping its configuration. */
static void shutdown_vm_locked(struct phy_vmm *v)
{
	if (!v->vm)
		return;
	atomic_store(&v->stopping_vm, true);
	phy_vm_stop(v->vm);
	enum phy_exit_reason reason;
	phy_vm_wait(v->vm, -1, &reason, NULL);
	phy_vm_destroy(v->vm);
	v->vm = NULL;
	describe(v);
}

/* ---- the API's backend ---- */

#define LOCKED(v, expr)                                                       \
	({                                                                    \
		pthread_mutex_lock(&(v)->lock);                               \
		__auto_type r_ = (expr);                                      \
		pthread_mutex_unlock(&(v)->lock);                             \
		r_;                                                           \
	})

static int need_vm(struct phy_vmm *v, const char *what, struct phy_error *err)
{
	if (v->vm)
		return 0;
	return phy_err(err, PHY_E_STATE, "%s: the VM is not %s", what,
		       v->cfg ? "booted" : "created");
}

static enum phy_vm_state be_state(void *ctx)
{
	struct phy_vmm *v = ctx;
	return LOCKED(v, v->vm ? phy_vm_state(v->vm) : PHY_VM_CREATED);
}

#define VM_CALL(name, what, call)                                             \
	static int name(void *ctx, struct phy_error *err)                     \
	{                                                                     \
		struct phy_vmm *v = ctx;                                      \
		return LOCKED(v, need_vm(v, what, err) ?: call(v->vm, err));  \
	}
VM_CALL(be_pause, "vm.pause", phy_vm_pause)
VM_CALL(be_resume, "vm.resume", phy_vm_resume)
VM_CALL(be_power_button, "vm.power-button", phy_vm_power_button)
VM_CALL(be_reboot, "vm.reboot", phy_vm_reboot)
#undef VM_CALL

static int be_shutdown(void *ctx, struct phy_error *err)
{
	struct phy_vmm *v = ctx;
	pthread_mutex_lock(&v->lock);
	int ret = need_vm(v, "vm.shutdown", err);
	if (!ret && phy_vm_state(v->vm) == PHY_VM_STOPPED)
		ret = phy_err(err, PHY_E_STATE, "vm.shutdown: the VM is already shut down");
	if (!ret)
		shutdown_vm_locked(v);
	pthread_mutex_unlock(&v->lock);
	return ret;
}

static int be_vmm_shutdown(void *ctx, struct phy_error *err)
{
	(void)err;
	signal_end(ctx);
	return 0;
}

static int be_create(void *ctx, const char *body, size_t len,
		     struct phy_error *err)
{
	struct phy_vmm *v = ctx;
	pthread_mutex_lock(&v->lock);
	int ret = 0;
	struct phy_config *cfg = NULL;
	if (v->cfg)
		ret = phy_err(err, PHY_E_STATE, "vm.create: the VM is already created");
	else if (!(cfg = phy_config_new()))
		ret = phy_err(err, PHY_E_NOMEM, "vm.create: out of memory");
	if (!ret) {
		cfg->seccomp = v->seccomp; /* not VmConfig's: Cloud Hypervisor's */
		ret = config_json_apply(cfg, body, len, "vm.create", err);
	}
	if (!ret && v->landlock)
		ret = config_add_landlock(cfg, v->landlock, err);
	if (!ret && !has_payload(cfg))
		ret = phy_err(err, PHY_E_INVALID,
			      "vm.create: payload: a kernel or firmware is required");
	if (!ret && (ret = phy_config_validate(cfg, err)) && err) {
		char m[PHY_ERROR_MESSAGE_MAX];
		snprintf(m, sizeof(m), "%s", err->message);
		phy_err(err, -ret, "vm.create: %s", m);
	}
	if (ret) {
		phy_config_free(cfg);
	} else {
		v->cfg = cfg;
		describe(v);
	}
	pthread_mutex_unlock(&v->lock);
	return ret;
}

static int be_boot(void *ctx, struct phy_error *err)
{
	struct phy_vmm *v = ctx;
	int ret = LOCKED(v, boot_locked(v, err));
	/* The options' messages ("--disk: cannot open ...") say what, not
	 * which request. */
	if (ret && err && strncmp(err->message, "vm.boot", 7)) {
		char m[PHY_ERROR_MESSAGE_MAX];
		snprintf(m, sizeof(m), "%s", err->message);
		phy_err(err, -ret, "vm.boot: %s", m);
	}
	return ret;
}

static int be_delete(void *ctx, struct phy_error *err)
{
	(void)err;
	struct phy_vmm *v = ctx;
	pthread_mutex_lock(&v->lock);
	bool had = v->cfg != NULL;
	shutdown_vm_locked(v);
	phy_config_free(v->cfg);
	v->cfg = NULL;
	describe(v);
	pthread_mutex_unlock(&v->lock);
	if (had)
		event_monitor_emit(v->monitor, "vm", "deleted");
	return 0;
}

/* vm.add-disk and vm.add-net before boot: to the configuration. */
static int add_check(struct phy_vmm *v, const char *what, struct phy_error *err)
{
	if (!v->cfg)
		return phy_err(err, PHY_E_STATE, "%s: the VM is not created", what);
	if (v->vm)
		return phy_err(err, PHY_E_STATE,
			       "%s: the VM is booted, and device hot-plug is not supported",
			       what);
	return 0;
}

static int be_add_disk(void *ctx, const char *body, size_t len,
		       struct phy_error *err)
{
	struct phy_vmm *v = ctx;
	pthread_mutex_lock(&v->lock);
	int ret = add_check(v, "vm.add-disk", err);
	if (!ret)
		ret = config_json_add_disk(v->cfg, body, len, err);
	if (!ret)
		describe(v);
	pthread_mutex_unlock(&v->lock);
	return ret;
}

static int be_add_net(void *ctx, const char *body, size_t len, const int *fds,
		      unsigned nr_fds, struct phy_error *err)
{
	struct phy_vmm *v = ctx;
	pthread_mutex_lock(&v->lock);
	int ret = add_check(v, "vm.add-net", err);
	if (!ret)
		ret = config_json_add_net(v->cfg, body, len, fds, nr_fds, err);
	if (!ret)
		describe(v);
	pthread_mutex_unlock(&v->lock);
	return ret;
}

static int be_disk_stats(void *ctx, unsigned i, struct phy_disk_stats *out,
			 struct phy_error *err)
{
	struct phy_vmm *v = ctx;
	return LOCKED(v, need_vm(v, "vm.counters", err) ?:
			 phy_vm_disk_stats(v->vm, i, out, err));
}

static int be_net_stats(void *ctx, unsigned i, struct phy_net_stats *out,
			struct phy_error *err)
{
	struct phy_vmm *v = ctx;
	return LOCKED(v, need_vm(v, "vm.counters", err) ?:
			 phy_vm_net_stats(v->vm, i, out, err));
}

static int be_gpu_stats(void *ctx, struct phy_gpu_stats *out,
			struct phy_error *err)
{
	struct phy_vmm *v = ctx;
	return LOCKED(v, need_vm(v, "vm.counters", err) ?:
			 phy_vm_gpu_stats(v->vm, out, err));
}

static int be_balloon_stats(void *ctx, struct phy_balloon_stats *out,
			    struct phy_error *err)
{
	struct phy_vmm *v = ctx;
	return LOCKED(v, need_vm(v, "vm.counters", err) ?:
			 phy_vm_balloon_stats(v->vm, out, err));
}

static int be_vsock_stats(void *ctx, struct phy_vsock_stats *out,
			  struct phy_error *err)
{
	struct phy_vmm *v = ctx;
	return LOCKED(v, need_vm(v, "vm.counters", err) ?:
			 phy_vm_vsock_stats(v->vm, out, err));
}

static int be_fs_stats(void *ctx, unsigned index, struct phy_fs_stats *out,
		       struct phy_error *err)
{
	struct phy_vmm *v = ctx;
	return LOCKED(v, need_vm(v, "vm.counters", err) ?:
			 phy_vm_fs_stats(v->vm, index, out, err));
}

static int be_resize_balloon(void *ctx, uint64_t bytes, struct phy_error *err)
{
	struct phy_vmm *v = ctx;
	pthread_mutex_lock(&v->lock);
	int ret = need_vm(v, "vm.resize", err) ?:
		  phy_vm_set_balloon(v->vm, bytes, err);
	if (!ret) {
		config_balloon_set_size(v->cfg, bytes);
		describe(v);
	}
	pthread_mutex_unlock(&v->lock);
	return ret;
}

static int be_screenshot(void *ctx, unsigned scanout, const char *path,
			 struct phy_error *err)
{
	struct phy_vmm *v = ctx;
	return LOCKED(v, need_vm(v, "vm.screenshot", err) ?:
			 phy_vm_screenshot(v->vm, scanout, path, err));
}

static const struct api_backend_ops vmm_ops = {
	.state = be_state,
	.pause = be_pause,
	.resume = be_resume,
	.power_button = be_power_button,
	.reboot = be_reboot,
	.shutdown = be_shutdown,
	.vmm_shutdown = be_vmm_shutdown,
	.create = be_create,
	.boot = be_boot,
	.delete = be_delete,
	.add_disk = be_add_disk,
	.add_net = be_add_net,
	.disk_stats = be_disk_stats,
	.net_stats = be_net_stats,
	.gpu_stats = be_gpu_stats,
	.balloon_stats = be_balloon_stats,
	.vsock_stats = be_vsock_stats,
	.fs_stats = be_fs_stats,
	.resize_balloon = be_resize_balloon,
	.screenshot = be_screenshot,
};

/* ---- the VMM's life ---- */

static void vmm_free(struct phy_vmm *v)
{
	api_server_stop(v->server);
	pthread_mutex_lock(&v->lock);
	shutdown_vm_locked(v);
	pthread_mutex_unlock(&v->lock);
	if (v->cfg)
		event_monitor_emit(v->monitor, "vm", "deleted");
	event_monitor_close(v->monitor);
	phy_config_free(v->cfg);
	phy_config_free(v->landlock);
	free(v->config_json);
	if (v->end_fd >= 0)
		close(v->end_fd);
	pthread_mutex_destroy(&v->lock);
	free(v);
}

/* The VM's part of the command line's configuration: without the
 * endpoints, which are the VMM's. */
static int vm_part(const struct phy_config *cfg, struct phy_config **out,
		   struct phy_error *err)
{
	struct phy_config *c = malloc(sizeof(*c));
	if (!c || config_copy(c, cfg)) {
		free(c);
		return phy_err(err, PHY_E_NOMEM, "out of memory");
	}
	free(c->api_socket);
	free(c->event_monitor);
	c->api_socket = c->event_monitor = NULL;
	c->api_socket_fd = c->event_monitor_fd = -1;
	*out = c;
	return 0;
}

/* --landlock, its rules, and the --api-socket, which a confined thread
 * removes at the end. */
static int landlock_part(const struct phy_config *cfg, struct phy_config **out,
			 struct phy_error *err)
{
	struct phy_config *c = phy_config_new();
	int ret = c ? config_add_landlock(c, cfg, err)
		    : phy_err(err, PHY_E_NOMEM, "out of memory");
	if (!ret && cfg->api_socket && !(c->landlock_socket = strdup(cfg->api_socket)))
		ret = phy_err(err, PHY_E_NOMEM, "out of memory");
	*out = c;
	return ret;
}

int vmm_control_create(const struct phy_config *cfg,
		       const struct phy_vmm_hooks *hooks,
		       const struct vmm_factory *factory, struct phy_vmm **out,
		       struct phy_error *err)
{
	if (!out || !cfg || !factory)
		return phy_err(err, PHY_E_INVALID, "phy_vmm_create: NULL argument");
	*out = NULL;
	int ret = phy_config_validate(cfg, err);
	if (ret)
		return ret;
	struct phy_vmm *v = calloc(1, sizeof(*v));
	if (!v)
		return phy_err(err, PHY_E_NOMEM, "out of memory");
	pthread_mutex_init(&v->lock, NULL);
	v->end_fd = -1;
	v->factory = *factory;
	v->seccomp = cfg->seccomp;
	if (hooks)
		v->hooks = *hooks;
	v->backend = (struct api_backend){
		.ops = &vmm_ops,
		.ctx = v,
		.desc = { .version = phy_version() },
	};
	v->end_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (v->end_fd < 0)
		ret = phy_err_errno(err, PHY_E_INTERNAL, errno, "eventfd");
	/* The socket first (a VMM that cannot have it writes no events),
	 * then the monitor; the socket is served from phy_vmm_start() on. */
	if (!ret && (cfg->api_socket || cfg->api_socket_fd >= 0))
		ret = api_server_listen(cfg->api_socket, cfg->api_socket_fd,
					&v->backend, NULL, &v->server, err);
	if (!ret && v->server)
		api_server_set_sandbox(v->server, cfg->seccomp);
	if (!ret && cfg->event_monitor)
		ret = event_monitor_open(cfg->event_monitor, &v->monitor, err);
	else if (!ret && cfg->event_monitor_fd >= 0)
		ret = event_monitor_open_fd(cfg->event_monitor_fd, &v->monitor, err);
	if (!ret && cfg->landlock)
		ret = landlock_part(cfg, &v->landlock, err);
	if (!ret && has_payload(cfg))
		ret = vm_part(cfg, &v->cfg, err);
	if (!ret && v->cfg && v->landlock)
		ret = config_add_landlock(v->cfg, v->landlock, err);
	if (ret) {
		vmm_free(v);
		return ret;
	}
	describe(v);
	*out = v;
	return 0;
}

int phy_vmm_start(struct phy_vmm *v, struct phy_error *err)
{
	if (!v)
		return phy_err(err, PHY_E_INVALID, "phy_vmm_start: NULL VMM");
	pthread_mutex_lock(&v->lock);
	int ret = v->started ? phy_err(err, PHY_E_STATE, "phy_vmm_start: started already") : 0;
	v->started = true;
	if (!ret && v->cfg)
		ret = boot_locked(v, err);
	pthread_mutex_unlock(&v->lock);
	if (!ret && v->server)
		ret = api_server_run(v->server, err);
	return ret;
}

int phy_vmm_wait(struct phy_vmm *v, int timeout_ms,
		 enum phy_exit_reason *reason, struct phy_error *err)
{
	if (!v)
		return phy_err(err, PHY_E_INVALID, "phy_vmm_wait: NULL VMM");
	struct pollfd pfd = { .fd = v->end_fd, .events = POLLIN };
	while (!atomic_load(&v->ending)) {
		int n = poll(&pfd, 1, timeout_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			return phy_err(err, PHY_E_STATE, "the VMM is running");
		break;
	}
	pthread_mutex_lock(&v->lock);
	if (!v->over) {
		v->over = true;
		v->reason = PHY_EXIT_STOPPED;
		if (v->vm) {
			phy_vm_stop(v->vm);
			phy_vm_wait(v->vm, -1, &v->reason, &v->end_err);
		}
	}
	if (reason)
		*reason = v->reason;
	if (err)
		*err = v->end_err;
	pthread_mutex_unlock(&v->lock);
	return 0;
}

int phy_vmm_stop(struct phy_vmm *v)
{
	if (!v)
		return -PHY_E_INVALID;
	signal_end(v);
	return 0;
}

int phy_vmm_serial_input(struct phy_vmm *v, const uint8_t *buf, size_t len)
{
	if (!v)
		return -PHY_E_INVALID;
	return LOCKED(v, v->vm ? phy_vm_serial_input(v->vm, buf, len)
			       : -PHY_E_STATE);
}

int phy_vmm_console_input(struct phy_vmm *v, enum phy_console which,
			  const uint8_t *buf, size_t len)
{
	if (!v)
		return -PHY_E_INVALID;
	return LOCKED(v, v->vm ? phy_vm_console_input(v->vm, which, buf, len)
			       : -PHY_E_STATE);
}

int phy_vmm_console_path(struct phy_vmm *v, enum phy_console which, char *buf,
			 size_t size, struct phy_error *err)
{
	if (!v)
		return phy_err(err, PHY_E_INVALID, "phy_vmm_console_path: NULL VMM");
	return LOCKED(v, v->vm ? phy_vm_console_path(v->vm, which, buf, size, err)
			       : phy_err(err, PHY_E_STATE, "no VM is booted"));
}

int phy_vmm_tty_console(struct phy_vmm *v)
{
	if (!v)
		return -PHY_E_INVALID;
	return LOCKED(v, v->vm ? phy_vm_tty_console(v->vm) : -PHY_E_STATE);
}

const char *phy_vmm_crash_report(struct phy_vmm *v)
{
	if (!v)
		return NULL;
	return LOCKED(v, v->over && v->reason == PHY_EXIT_CRASH && v->vm
				 ? phy_vm_crash_report(v->vm) : NULL);
}

struct phy_vm *vmm_control_vm(struct phy_vmm *v)
{
	return LOCKED(v, v->vm);
}

void phy_vmm_destroy(struct phy_vmm *v)
{
	if (v)
		vmm_free(v);
}
