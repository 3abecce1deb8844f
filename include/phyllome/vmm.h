/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libphyllome-vmm: the public API. This header is the only surface an
 * embedder (and the phyllome-vmm CLI) sees.
 *
 * Rules: every handle is opaque; every call that can fail returns 0 or a
 * negative PHY_E_* code and, when `err` is non-NULL, fills it with a one-line
 * message. The library never calls exit() or abort(), never installs signal
 * handlers, and keeps no global mutable state: several VMs may live in one
 * process.
 */
#ifndef PHYLLOME_VMM_H
#define PHYLLOME_VMM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(PHY_BUILDING_LIBRARY)
#define PHY_API __attribute__((visibility("default")))
#else
#define PHY_API
#endif

#define PHY_VERSION_MAJOR 0
#define PHY_VERSION_MINOR 1
#define PHY_VERSION_PATCH 0

enum phy_error_code {
	PHY_OK = 0,
	PHY_E_INVALID = 1, /* a bad option, value or argument (user mistake) */
	PHY_E_IMAGE = 2,   /* a kernel or initrd that cannot be booted */
	PHY_E_KVM = 3,     /* /dev/kvm missing, unusable or lacking a feature */
	PHY_E_NOMEM = 4,   /* host memory allocation failed */
	PHY_E_IO = 5,      /* a host file or device operation failed */
	PHY_E_STATE = 6,   /* the call is not valid in the VM's current state */
	PHY_E_GUEST = 7,   /* the guest crashed (triple fault, internal error) */
	PHY_E_INTERNAL = 8,
};

#define PHY_ERROR_MESSAGE_MAX 512

struct phy_error {
	int code;                              /* enum phy_error_code */
	char message[PHY_ERROR_MESSAGE_MAX];   /* one line, no trailing newline */
};

/* The library version string, e.g. "0.1.0". */
PHY_API const char *phy_version(void);

/* ---- Configuration ----------------------------------------------------- */

struct phy_config;

PHY_API struct phy_config *phy_config_new(void);
PHY_API void phy_config_free(struct phy_config *cfg);

/*
 * Set one option exactly as the CLI spells it, without the leading dashes:
 *   phy_config_set(cfg, "kernel", "/boot/vmlinuz", &err)
 *   phy_config_set(cfg, "cpus", "boot=4", &err)
 *   phy_config_set(cfg, "memory", "size=1G", &err)
 *   phy_config_set(cfg, "serial", "file=/tmp/serial.log", &err)
 * Returns PHY_E_INVALID with a message naming the option for bad input.
 */
PHY_API int phy_config_set(struct phy_config *cfg, const char *option,
			   const char *value, struct phy_error *err);

/*
 * Typed setters for programs: the same checks and messages as the strings
 * above (a bad value names the CLI option). NULL initramfs/cmdline: none,
 * the default.
 */
PHY_API int phy_config_set_kernel(struct phy_config *cfg, const char *kernel,
				  const char *initramfs, const char *cmdline,
				  struct phy_error *err);
PHY_API int phy_config_set_cpus(struct phy_config *cfg, unsigned cpus,
				struct phy_error *err);
PHY_API int phy_config_set_memory(struct phy_config *cfg, uint64_t bytes,
				  struct phy_error *err);

struct phy_disk_options {
	const char *path;
	int readonly;        /* 0 or 1 */
	int direct;          /* 0 or 1: O_DIRECT */
	unsigned num_queues; /* 0: default (1) */
	unsigned queue_size; /* 0: default (256) */
	const char *id;      /* NULL: none */
};
/* Adds a virtio-blk disk, as --disk does. */
PHY_API int phy_config_add_disk(struct phy_config *cfg,
				const struct phy_disk_options *disk,
				struct phy_error *err);

/* A virtio-net device on a tap, as --net tap=... or --net fd=[...];
 * NULL/0 fields take the defaults. */
struct phy_net_options {
	const char *tap;     /* existing tap, or a new one; NULL or "": new,
			      * named by the kernel */
	const char *mac;     /* "52:54:00:12:34:56"; NULL: stable default */
	const char *ip;      /* host-side IPv4 of the tap; NULL: untouched */
	const char *mask;    /* with ip; NULL: 255.255.255.0 */
	unsigned num_queues; /* receive + transmit queues, even; 0: 2, or
			      * 2 * nr_fds with fds */
	unsigned queue_size; /* 0: default (256) */
	const char *id;      /* NULL: none */
	/* Queues of an open tap (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, and
	 * IFF_MULTI_QUEUE when several), one per queue pair, as --net fd=:
	 * instead of tap (give one or the other). The descriptors stay the
	 * caller's, to close whatever the call returns: the configuration
	 * keeps close-on-exec duplicates of its own (which share the open
	 * files: the queues become non-blocking). nr_fds 0: none. */
	const int *fds;
	unsigned nr_fds;
};
/* Adds a virtio-net device, as --net does, and checks it against the
 * network devices already there (as phy_config_validate() would), so
 * that on failure the configuration is exactly as it was, and nothing
 * of fds is kept. */
PHY_API int phy_config_add_net(struct phy_config *cfg,
			       const struct phy_net_options *net,
			       struct phy_error *err);

/* --landlock and --landlock-rules path=PATH,access=ACCESS ("r", "w" or
 * "rw"; PATH must exist): the VM's threads confined by Landlock to the
 * files the configuration names and these (docs/security.md). */
PHY_API int phy_config_set_landlock(struct phy_config *cfg, int on,
				    struct phy_error *err);
PHY_API int phy_config_add_landlock_rule(struct phy_config *cfg,
					 const char *path, const char *access,
					 struct phy_error *err);

/* Options phy_config_set() knows, with their value syntax (empty: a flag
 * that takes no value on the command line), for --help. */
struct phy_option_info {
	const char *name;
	const char *syntax;
	const char *help;
};
PHY_API const struct phy_option_info *phy_config_options(size_t *count);

/* Checks that the configuration is complete and consistent. */
PHY_API int phy_config_validate(const struct phy_config *cfg,
				struct phy_error *err);

/* ---- seccomp (docs/security.md) --------------------------------------- */

/* As --seccomp: the library's threads each install their kind's filter
 * (vCPU, device loop, GPU, API, ...) once set up. Off by default: the
 * library filters only when asked, and never the caller's threads unless
 * phy_seccomp_enter_thread() is called there. */
enum phy_seccomp {
	PHY_SECCOMP_OFF = 0,
	PHY_SECCOMP_ON = 1,  /* a forbidden call ends the process */
	PHY_SECCOMP_LOG = 2, /* the kernel logs a forbidden call; it runs */
};
PHY_API int phy_config_set_seccomp(struct phy_config *cfg, enum phy_seccomp mode,
				   struct phy_error *err);
/* Installs, for the whole process, a SIGSYS handler that reports a
 * forbidden call in one line ("phyllome-vmm: seccomp: thread vcpu0 (vcpu)
 * made a forbidden system call: mount (165)") and ends the process with
 * status 159 (128 + SIGSYS). Without it a forbidden call kills the process
 * with no report. The library installs no handler by itself. 0 or -errno. */
PHY_API int phy_seccomp_install_reporter(void);
/* Filters the calling thread (and the threads it starts later) as a VMM
 * thread that creates and boots VMs: the union of every kind's list. A
 * no-op unless cfg asks for seccomp. */
PHY_API void phy_seccomp_enter_thread(const struct phy_config *cfg);

/* ---- VM lifecycle ------------------------------------------------------ */

struct phy_vm;

enum phy_vm_state {
	PHY_VM_CREATED,
	PHY_VM_RUNNING,
	PHY_VM_PAUSED,
	PHY_VM_STOPPED,
};

enum phy_exit_reason {
	PHY_EXIT_NONE = 0,     /* still running */
	PHY_EXIT_POWEROFF,     /* the guest powered off (ACPI S5) */
	PHY_EXIT_STOPPED,      /* phy_vm_stop() was called */
	PHY_EXIT_CRASH,        /* triple fault, emulation or internal error */
	PHY_EXIT_ERROR,        /* a host-side failure stopped the VM */
};

/*
 * Output hook for the serial console (COM1). Called on a vCPU thread with
 * the bytes the guest wrote; must not block for long, nor call this VM's
 * pause, resume, power_button, reboot, wait or destroy (a pause waits for
 * this very thread). When no hook is set the `serial` option decides where
 * output goes.
 */
typedef void (*phy_serial_output_fn)(void *opaque, const uint8_t *buf,
				     size_t len);

/* Creates a VM from a validated configuration: opens /dev/kvm, allocates
 * guest memory, loads the kernel. The configuration may be freed after. */
PHY_API int phy_vm_create(const struct phy_config *cfg, struct phy_vm **out,
			  struct phy_error *err);

PHY_API int phy_vm_set_serial_output(struct phy_vm *vm,
				     phy_serial_output_fn fn, void *opaque);

/*
 * Messages about the guest's misbehaviour that do not stop the VM, e.g. a
 * virtio driver breaking the rules (its device then needs a reset; a
 * PHY_EVENT_DEVICE_ERROR event follows). One line each, without a newline;
 * called on the thread where the device noticed (the device loop, or a
 * vCPU thread). Without a hook they are dropped: the library never prints.
 * Set before phy_vm_start() (PHY_E_STATE after).
 */
typedef void (*phy_log_fn)(void *opaque, const char *message);
PHY_API int phy_vm_set_log(struct phy_vm *vm, phy_log_fn fn, void *opaque);

/* Feeds bytes to the guest's serial input (thread-safe): the same as
 * phy_vm_console_input(vm, PHY_CONSOLE_SERIAL, buf, len). */
PHY_API int phy_vm_serial_input(struct phy_vm *vm, const uint8_t *buf,
				size_t len);

/* The guest's two consoles: the 16550A at COM1 (--serial, ttyS0) and the
 * virtio console (--console, hvc0). */
enum phy_console {
	PHY_CONSOLE_SERIAL = 0,
	PHY_CONSOLE_VIRTIO = 1,
};

/*
 * Feeds bytes to a console's input, from any thread. Returns how many it
 * took (the UART's and the virtio console's 4 KiB buffers may take fewer;
 * 0 when full, when the guest's driver is not running yet, or
 * when the VM has no such console): offer the rest again later. Negative
 * PHY_E_INVALID for a NULL vm, a NULL buf with len > 0 or an unknown
 * console. A pty or socket console's own client feeds it too.
 */
PHY_API int phy_vm_console_input(struct phy_vm *vm, enum phy_console which,
				 const uint8_t *buf, size_t len);

/*
 * The path of a console in pty or socket mode: the pty's slave
 * ("/dev/pts/3", for a terminal program or Cloud Hypervisor's
 * config.serial.file) or the socket's path, NUL-terminated in buf. Valid
 * from phy_vm_create() to phy_vm_destroy() (the back end lives as long as
 * the VM, across guest reboots); any thread. PHY_E_INVALID when that
 * console is off or in another mode, or buf is too small.
 */
PHY_API int phy_vm_console_path(const struct phy_vm *vm, enum phy_console which,
				char *buf, size_t size, struct phy_error *err);

/* Which console is on the VMM's terminal (mode tty; at most one is):
 * PHY_CONSOLE_SERIAL or PHY_CONSOLE_VIRTIO, or -PHY_E_INVALID when neither.
 * A front-end owning the terminal feeds its input there. */
PHY_API int phy_vm_tty_console(const struct phy_vm *vm);

/* With --landlock, confines the calling thread (and the threads it
 * creates afterwards) to the VM's rules, as the VM's own threads are;
 * for good: Landlock cannot be lifted. 0 without --landlock. The VM's
 * threads need no call; this is for a thread of the embedder that serves
 * the VM, as the VMM's control API does. */
PHY_API int phy_vm_landlock_thread(struct phy_vm *vm, struct phy_error *err);

/* Starts the VM's threads and returns, once PHY_EVENT_STARTED has been
 * delivered, without waiting for the guest. PHY_E_STATE unless CREATED. */
PHY_API int phy_vm_start(struct phy_vm *vm, struct phy_error *err);

/*
 * Waits up to timeout_ms (-1: forever) for the VM to stop. Returns 0 when it
 * stopped (reason in *reason), PHY_E_STATE when it is still running or
 * paused. A guest reboot does not stop the VM: it is reset and boots again.
 */
PHY_API int phy_vm_wait(struct phy_vm *vm, int timeout_ms,
			enum phy_exit_reason *reason, struct phy_error *err);

/* Asks the VM to stop, in any state: a paused VM stops without running
 * again. From any thread, also a signal handler of the embedder's own (it
 * only writes to an eventfd). Returns at once; phy_vm_wait() waits. */
PHY_API int phy_vm_stop(struct phy_vm *vm);

/*
 * Pauses a running VM: returns once no vCPU runs guest code, or will until
 * phy_vm_resume(). The device loop keeps finishing the I/O requests it
 * holds. Guest clocks keep counting (on resume the guest's kvmclock is
 * flagged as stopped so its watchdogs do not mistake the gap for a hang).
 * A paused VM may be stopped, rebooted (the rebuilt machine stays paused)
 * and have its power button pressed (the guest sees it on resume).
 * PHY_E_STATE unless RUNNING, also when the VM stopped while pausing.
 */
PHY_API int phy_vm_pause(struct phy_vm *vm, struct phy_error *err);
/* Resumes a paused VM. PHY_E_STATE unless PAUSED. */
PHY_API int phy_vm_resume(struct phy_vm *vm, struct phy_error *err);
/*
 * Presses the ACPI power button (a GED interrupt notifying the DSDT's
 * PNP0C0C device) and returns: a guest that listens (acpid, systemd-logind)
 * shuts down and powers off, and phy_vm_wait() then reports
 * PHY_EXIT_POWEROFF; one that does not ignores it. PHY_E_STATE unless
 * RUNNING or PAUSED, and while a reboot is rebuilding the machine.
 */
PHY_API int phy_vm_power_button(struct phy_vm *vm, struct phy_error *err);
/*
 * Resets the VM as a guest reboot would: the machine is rebuilt from
 * scratch over cleared RAM and the kernel boots again. Returns at once;
 * PHY_EVENT_REBOOTING and PHY_EVENT_REBOOTED follow and
 * phy_vm_reboot_count() goes up. A paused VM stays paused. If the VM is
 * already stopping, the stop wins. PHY_E_STATE unless RUNNING or PAUSED.
 */
PHY_API int phy_vm_reboot(struct phy_vm *vm, struct phy_error *err);

/*
 * Lifecycle events, and the thread each is delivered on:
 *   STARTED       the supervisor thread, before phy_vm_start() returns;
 *                 always the first event
 *   PAUSED, RESUMED, POWER_BUTTON
 *                 the caller of phy_vm_pause/resume/power_button, before
 *                 the call returns
 *   REBOOTING     the supervisor, once the vCPUs stopped; message:
 *                 "requested by the guest" or "requested by the host"
 *   REBOOTED      the supervisor, when the new machine is built, just
 *                 before its vCPUs start
 *   CRASH         the supervisor, before SHUTDOWN; message: the first line
 *                 of phy_vm_crash_report()
 *   SHUTDOWN      the supervisor, last of all: phy_vm_state() already
 *                 says STOPPED, phy_vm_wait() has not returned yet;
 *                 message: "poweroff", "stopped", "crash" or
 *                 "error: <what failed>"
 *   DEVICE_ERROR  the thread where the device noticed (the device loop, or
 *                 a vCPU thread); device: its name ("virtio-blk0");
 *                 message: the line the log hook also gets
 */
enum phy_event_kind {
	PHY_EVENT_STARTED,
	PHY_EVENT_PAUSED,
	PHY_EVENT_RESUMED,
	PHY_EVENT_REBOOTING,   /* guest or host asked; the machine is rebuilt */
	PHY_EVENT_REBOOTED,    /* and boots again */
	PHY_EVENT_POWER_BUTTON,
	PHY_EVENT_SHUTDOWN,    /* the VM stopped; phy_vm_wait() says why */
	PHY_EVENT_CRASH,       /* the guest crashed (see phy_vm_crash_report) */
	PHY_EVENT_DEVICE_ERROR,/* a device needs a reset; `device` names it */
};

/* The strings are valid only during the handler's call. */
struct phy_event {
	enum phy_event_kind kind;
	uint64_t timestamp_ns; /* CLOCK_MONOTONIC */
	const char *device;    /* PHY_EVENT_DEVICE_ERROR: "virtio-blk0"; else NULL */
	const char *message;   /* one line, or NULL */
};

/*
 * The handler is never called twice at once for one VM, and events come in
 * the order things happened (RESUMED before anything the resumed guest
 * causes, POWER_BUTTON before the power off it causes). It must not block
 * for long, nor call this VM's phy_vm_pause, resume, power_button, reboot,
 * wait or destroy (they may wait for the very thread it runs on);
 * phy_vm_stop, phy_vm_state and the other queries are fine. Set before
 * phy_vm_start() (PHY_E_STATE after); NULL removes it.
 */
typedef void (*phy_event_fn)(void *opaque, const struct phy_event *event);
PHY_API int phy_vm_set_event_handler(struct phy_vm *vm, phy_event_fn fn,
				     void *opaque);

/* The name of an event kind ("started", "paused", "resumed", "rebooting",
 * "rebooted", "power_button", "shutdown", "crash", "device_error"), or
 * "unknown". */
PHY_API const char *phy_event_name(enum phy_event_kind kind);

PHY_API enum phy_vm_state phy_vm_state(const struct phy_vm *vm);

/* Stops the VM if needed and frees everything. */
PHY_API void phy_vm_destroy(struct phy_vm *vm);

/* After PHY_EXIT_CRASH: what happened and the vCPU's registers, several
 * lines; NULL otherwise. Valid until phy_vm_destroy(). */
PHY_API const char *phy_vm_crash_report(const struct phy_vm *vm);

/* How many times the guest rebooted since phy_vm_start(). */
PHY_API unsigned phy_vm_reboot_count(const struct phy_vm *vm);

/* What a disk (--disk, in the order given) has served since the VM was
 * created; counts survive guest reboots. Readable from any thread. */
struct phy_disk_stats {
	uint64_t read_requests;
	uint64_t write_requests;
	uint64_t flush_requests;
	uint64_t discard_requests;
	uint64_t write_zeroes_requests;
	uint64_t get_id_requests;
	uint64_t unsupported_requests; /* answered VIRTIO_BLK_S_UNSUPP */
	uint64_t bytes_read;
	uint64_t bytes_written;
	uint64_t errors;               /* answered VIRTIO_BLK_S_IOERR */
};

/* Fills *out for disk `index`; PHY_E_INVALID when there is no such disk. */
PHY_API int phy_vm_disk_stats(const struct phy_vm *vm, unsigned index,
			      struct phy_disk_stats *out,
			      struct phy_error *err);

/* Writes what GPU scanout `scanout` (0: the first output) shows now as an
 * 8-bit RGB PNG at `path`, the right way up. Any thread. PHY_E_INVALID
 * without --gpu, for no such scanout or one that shows nothing; PHY_E_IO
 * when the file cannot be written; PHY_E_STATE during a reboot. */
PHY_API int phy_vm_screenshot(struct phy_vm *vm, unsigned scanout,
			      const char *path, struct phy_error *err);

/* The GPU (--gpu) since the VM was created; counts survive guest
 * reboots. Latencies are in nanoseconds, host clock. */
struct phy_gpu_stats {
	uint64_t submits; /* SUBMIT_3D commands: 3D command streams (virgl) */
	/* Fenced SUBMIT_3D commands, each timed from the device taking it
	 * off the control queue to answering it once virglrenderer retired
	 * its fence: the host's side of a guest waiting for its rendering
	 * (glFinish, a page flip's fence). */
	uint64_t fences;
	uint64_t fence_latency_sum_ns;
	uint64_t fence_latency_max_ns;
	/* Estimated from a histogram of buckets at most 25% wide; 0 when
	 * fences is 0. */
	uint64_t fence_latency_p50_ns;
	uint64_t fence_latency_p90_ns;
	uint64_t fence_latency_p99_ns;
};

/* Fills *out; PHY_E_INVALID when the VM has no GPU. Any thread. */
PHY_API int phy_vm_gpu_stats(struct phy_vm *vm, struct phy_gpu_stats *out,
			     struct phy_error *err);

#define PHY_NET_MAX_QUEUE_PAIRS 8

/* One queue pair's traffic. A drop is a frame that went nowhere: from
 * the tap, one the guest had no room for or that the tap refused to
 * hand over whole; from the guest, a malformed one (short header, too
 * large, bad offload request) or one the tap refused. */
struct phy_net_queue_stats {
	uint64_t rx_packets, rx_bytes, rx_drops; /* towards the guest */
	uint64_t tx_packets, tx_bytes, tx_drops; /* from the guest */
};

/* A network device (--net, in the order given) since the VM was created;
 * counts survive guest reboots. */
struct phy_net_stats {
	char tap[16];         /* the interface's name */
	uint8_t mac[6];       /* the guest's */
	int link_up;          /* 1: the tap is up, as the guest is told */
	unsigned queue_pairs; /* configured (num_queues / 2) */
	unsigned active_pairs; /* queues the tap steers frames to (MQ) */
	struct phy_net_queue_stats total;
	struct phy_net_queue_stats queues[PHY_NET_MAX_QUEUE_PAIRS];
};

/* Fills *out for network device `index`; PHY_E_INVALID when there is no
 * such device. Readable from any thread. */
PHY_API int phy_vm_net_stats(const struct phy_vm *vm, unsigned index,
			     struct phy_net_stats *out,
			     struct phy_error *err);

/* The vsock device (--vsock) since the VM was created; counts survive
 * guest reboots, connections do not. */
struct phy_vsock_stats {
	uint64_t host_connects;  /* connections host programs opened (OK sent) */
	uint64_t guest_connects; /* connections the guest opened to PATH_P */
	uint64_t conns;          /* open now */
	uint64_t rx_bytes;       /* stream bytes given to the guest */
	uint64_t tx_bytes;       /* stream bytes taken from the guest */
	uint64_t resets;         /* connections ended by RST, either way */
	uint64_t bad_packets;    /* guest packets answered RST (CID, type, op) */
};

/* Fills *out; PHY_E_INVALID when the VM has no vsock device. Any thread. */
PHY_API int phy_vm_vsock_stats(const struct phy_vm *vm,
			       struct phy_vsock_stats *out,
			       struct phy_error *err);

/* Virtio-fs device `index` (--fs) since the VM was created: counts
 * survive guest reboots. */
struct phy_fs_stats {
	uint64_t kicks;      /* guest notifications passed to the back end */
	uint64_t calls;      /* back end interrupts passed to the guest */
	uint64_t reconnects; /* sessions the device opened again (a back end
			      * that died, restarted; a guest reboot after) */
	uint64_t failures;   /* sessions ended by the back end's fault */
};

/* Fills *out; PHY_E_INVALID when there is no such device. Any thread. */
PHY_API int phy_vm_fs_stats(const struct phy_vm *vm, unsigned index,
			    struct phy_fs_stats *out, struct phy_error *err);

/* The balloon (--balloon) since the VM was created: counts survive
 * guest reboots, what the guest holds does not. */
#define PHY_BALLOON_GUEST_STATS 16
struct phy_balloon_stats {
	uint64_t target_bytes;   /* what the guest is asked to hold */
	uint64_t actual_bytes;   /* what its driver says it holds */
	uint64_t inflated_pages; /* 4 KiB pages given back to the host */
	uint64_t deflated_pages; /* taken back by the guest */
	uint64_t reported_bytes; /* free page reporting, given back */
	/* The guest's last statistics by the virtio spec's tag
	 * (VIRTIO_BALLOON_S_*: 0 swap_in, 1 swap_out, 2 major_faults,
	 * 3 minor_faults, 4 free_memory, 5 total_memory, 6 available_memory,
	 * 7 disk_caches, 8 hugetlb_allocations, 9 hugetlb_failures); bit i
	 * of guest_stats_valid: tag i was reported. */
	uint64_t guest_stats[PHY_BALLOON_GUEST_STATS];
	uint32_t guest_stats_valid;
};

/* Fills *out (and asks the guest for fresh statistics);
 * PHY_E_INVALID when the VM has no balloon. Any thread. */
PHY_API int phy_vm_balloon_stats(const struct phy_vm *vm,
				 struct phy_balloon_stats *out,
				 struct phy_error *err);

/* Asks the guest to give `bytes` of its RAM back (Cloud Hypervisor's
 * vm.resize desired_balloon): 4 KiB pages, at most the VM's memory,
 * else PHY_E_INVALID. Kept across guest reboots. Any thread. */
PHY_API int phy_vm_set_balloon(struct phy_vm *vm, uint64_t bytes,
			       struct phy_error *err);

/* ---- A VMM: one Cloud Hypervisor process ------------------------------ */

/*
 * A VMM is the control plane of at most one VM, as a cloud-hypervisor
 * process is: it serves the configuration's --api-socket and writes its
 * --event-monitor, and the VM comes and goes through the API (vm.create,
 * vm.boot, vm.shutdown, vm.delete; docs/http-api.md). With a payload
 * (--kernel or --firmware) in the configuration, the VM is created and
 * booted at once; without one the VMM waits for vm.create.
 *
 * The VMM ends when its VM stops of itself (the guest powers off or
 * crashes), on vmm.shutdown, and on phy_vmm_stop(); vm.shutdown stops the
 * VM and keeps the VMM. phy_vm_create() refuses a configuration with an
 * --api-socket or --event-monitor: those belong to a VMM.
 */
struct phy_vmm;

/* Hooks given to every VM the VMM creates (see phy_vm_set_log,
 * phy_vm_set_event_handler and phy_vm_set_serial_output). Any may be
 * NULL. */
struct phy_vmm_hooks {
	phy_log_fn log;
	void *log_opaque;
	phy_event_fn event;
	void *event_opaque;
	phy_serial_output_fn serial;
	void *serial_opaque;
};

/* Checks the configuration and opens the event monitor (a FIFO's open
 * waits for its reader). hooks may be NULL. */
PHY_API int phy_vmm_create(const struct phy_config *cfg,
			   const struct phy_vmm_hooks *hooks,
			   struct phy_vmm **out, struct phy_error *err);

/* With a payload, creates and boots the VM (its errors are this call's);
 * then serves the API socket. The VMM's threads, and the VM's, start
 * with this thread's signal mask. Once only. */
PHY_API int phy_vmm_start(struct phy_vmm *vmm, struct phy_error *err);

/*
 * Waits up to timeout_ms (-1: forever) for the VMM to end; then stops its
 * VM if one runs and returns 0 with the reason: the VM's own
 * (PHY_EXIT_POWEROFF, PHY_EXIT_CRASH, PHY_EXIT_ERROR with err saying
 * what failed), or PHY_EXIT_STOPPED for vmm.shutdown and phy_vmm_stop().
 * PHY_E_STATE while it runs.
 */
PHY_API int phy_vmm_wait(struct phy_vmm *vmm, int timeout_ms,
			 enum phy_exit_reason *reason, struct phy_error *err);

/* Asks the VMM to end; async-signal safe (an eventfd write). */
PHY_API int phy_vmm_stop(struct phy_vmm *vmm);

/* Feeds the serial input of the VM booted now; PHY_E_STATE when none. */
PHY_API int phy_vmm_serial_input(struct phy_vmm *vmm, const uint8_t *buf,
				 size_t len);

/* phy_vm_console_input(), phy_vm_console_path() and phy_vm_tty_console()
 * of the VM booted now; -PHY_E_STATE when none is. */
PHY_API int phy_vmm_console_input(struct phy_vmm *vmm, enum phy_console which,
				  const uint8_t *buf, size_t len);
PHY_API int phy_vmm_console_path(struct phy_vmm *vmm, enum phy_console which,
				 char *buf, size_t size, struct phy_error *err);
PHY_API int phy_vmm_tty_console(struct phy_vmm *vmm);

/* After phy_vmm_wait() reported PHY_EXIT_CRASH: phy_vm_crash_report() of
 * the VM; NULL otherwise. Valid until phy_vmm_destroy(). */
PHY_API const char *phy_vmm_crash_report(struct phy_vmm *vmm);

/* Ends the VMM if needed (stopping its VM), closes its endpoints and
 * frees everything. */
PHY_API void phy_vmm_destroy(struct phy_vmm *vmm);

#ifdef __cplusplus
}
#endif
#endif
