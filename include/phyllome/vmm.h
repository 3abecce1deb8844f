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

/* Options phy_config_set() knows, with their value syntax, for --help. */
struct phy_option_info {
	const char *name;
	const char *syntax;
	const char *help;
};
PHY_API const struct phy_option_info *phy_config_options(size_t *count);

/* Checks that the configuration is complete and consistent. */
PHY_API int phy_config_validate(const struct phy_config *cfg,
				struct phy_error *err);

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
 * the bytes the guest wrote; must not block for long. When no hook is set
 * the `serial` option decides where output goes.
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
 * virtio driver breaking the rules (its device then needs a reset). One
 * line each, without a newline; called on a device thread. Without a hook
 * they are dropped: the library never prints.
 */
typedef void (*phy_log_fn)(void *opaque, const char *message);
PHY_API int phy_vm_set_log(struct phy_vm *vm, phy_log_fn fn, void *opaque);

/* Feeds bytes to the guest's serial input (thread-safe). */
PHY_API int phy_vm_serial_input(struct phy_vm *vm, const uint8_t *buf,
				size_t len);

/* Starts the vCPU threads. Returns at once. */
PHY_API int phy_vm_start(struct phy_vm *vm, struct phy_error *err);

/*
 * Waits up to timeout_ms (-1: forever) for the VM to stop. Returns 0 when it
 * stopped (reason in *reason), PHY_E_STATE when it is still running.
 * A guest reboot does not stop the VM: it is reset and boots again.
 */
PHY_API int phy_vm_wait(struct phy_vm *vm, int timeout_ms,
			enum phy_exit_reason *reason, struct phy_error *err);

/* Asks the VM to stop (from any thread, also a signal handler of the
 * embedder's own: it only writes to an eventfd). */
PHY_API int phy_vm_stop(struct phy_vm *vm);

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

#ifdef __cplusplus
}
#endif
#endif
