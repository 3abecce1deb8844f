/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VM behind the opaque struct phy_vm. A VM owns what survives a guest
 * reboot (configuration, guest RAM, the kernel and initrd images, the
 * serial console's host end); its `machine` is what a reboot rebuilds
 * from scratch (the KVM VM, vCPUs, buses and devices), which makes a
 * reset exact.
 */
#ifndef PHY_VMM_VM_INTERNAL_H
#define PHY_VMM_VM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <phyllome/vmm.h>

#include "boot/boot.h"
#include "common/guest_mem.h"
#include "common/landlock.h"
#include "vmm/config/config.h"
#include "vmm/frontend.h"
#include "vmm/kvm.h"
#include "vmm/machine/machine.h"
#include "vmm/chardev.h"

struct kvm_run;
struct vm_device;

/* Test hooks (tests/payload): a raw guest program instead of a kernel,
 * and a port whose write stops the VM. Not options: no user sets them. */
enum payload_mode {
	PAYLOAD_NONE,
	PAYLOAD_REAL16, /* loaded at 0x1000, entered in real mode at 0:0x1000 */
	PAYLOAD_LONG64, /* loaded at 1 MiB, entered in 64-bit mode at 1 MiB */
};

struct vm_test_hooks {
	enum payload_mode payload_mode;
	const uint8_t *payload;
	size_t payload_size;
	uint16_t debug_exit_port; /* 0: none; a write stops the VM */
};

enum vm_request {
	VM_REQ_NONE,
	VM_REQ_RESET,    /* guest reboot: rebuild the machine and boot again */
	VM_REQ_POWEROFF, /* guest ACPI S5 */
	VM_REQ_STOP,     /* host asked: phy_vm_stop() or the debug exit port */
	VM_REQ_CRASH,    /* triple fault, internal error: crash_report says */
	VM_REQ_ERROR,    /* a host-side failure */
};

struct vcpu {
	struct phy_vm *vm;
	unsigned index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
};

#define VM_MAX_FRONTENDS 4

struct phy_vm {
	struct phy_config cfg;
	struct vm_test_hooks hooks;
	struct kvm_host kvm;
	struct guest_mem mem;
	struct boot_image kernel;
	struct boot_image initrd;
	struct landlock_ruleset landlock; /* --landlock: fd -1 when off */
	/* One per device the configuration asks for, from the device table
	 * (machine/device_table.c), for the VM's whole life: what a device
	 * keeps across guest reboots (an open image, a tap, counters) is
	 * here; each machine build plugs them all anew. */
	struct vm_device *devices;
	unsigned nr_devices;
	struct machine m;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum phy_vm_state state;
	_Atomic int request;   /* enum vm_request; the first one wins */
	int wake_fd;           /* eventfd: wakes the supervisor */
	pthread_t supervisor;
	bool supervisor_started;
	bool sandbox_inherited; /* its creator's builders' filter is the one it needs */
	bool started_reported; /* the STARTED event was delivered (lock) */
	bool finished; /* STOPPED and SHUTDOWN delivered: wait returns (lock) */
	enum phy_exit_reason exit_reason;
	unsigned reboots;
	char crash_report[4096];
	struct phy_error run_error;

	phy_log_fn log_fn;
	void *log_opaque;

	/* Lifecycle events (vm_events.c): set before start; event_lock keeps
	 * two threads from calling the handler at once. */
	phy_event_fn event_fn;
	void *event_opaque;
	pthread_mutex_t event_lock;

	/* Front-ends the library put around the VM (frontend.h), and the
	 * listeners they registered; both fixed before phy_vm_start(). */
	struct {
		const struct vm_frontend *fe;
		void *state;
	} frontends[VM_MAX_FRONTENDS];
	unsigned nr_frontends;
	struct {
		vm_listener_fn fn;
		void *opaque;
	} listeners[VM_MAX_FRONTENDS];
	unsigned nr_listeners;

	/*
	 * Pause (vm_control.c). ctl_lock serialises the embedder's pause,
	 * resume, power button and reboot. While pause_wanted, vCPU threads
	 * park outside KVM_RUN on park_cond (with `lock`); the counts tell
	 * phy_vm_pause() when all of them have.
	 */
	pthread_mutex_t ctl_lock;
	pthread_cond_t park_cond;
	_Atomic bool pause_wanted;
	unsigned vcpu_threads; /* started and not finished (lock) */
	unsigned vcpus_parked; /* of those, parked (lock) */
	_Atomic bool host_reboot; /* the pending reset is phy_vm_reboot()'s */

	/* Where the guest's serial output goes (opened and closed by the
	 * COM1 row, dev_com1.c); the UART lock serialises
	 * calls into it. */
	struct chardev serial;
};

/* Records a request (first wins) and wakes the supervisor. Async-signal
 * safe: an atomic and an eventfd write. */
void vm_request(struct phy_vm *vm, enum vm_request req);

/* Records a crash with a message and a vCPU's register dump. */
void vm_crash(struct phy_vm *vm, struct vcpu *vcpu, const char *what);

/* Creates the VM with these front-ends (lib/ says which) and test hooks
 * (NULL: none): phy_vm_create() is this call. */
int vm_create(const struct phy_config *cfg, const struct vm_test_hooks *hooks,
	      const struct vm_frontend *const *frontends, unsigned nr_frontends,
	      struct phy_vm **out, struct phy_error *err);

/* frontend.c: the front-ends' hooks, in order (stop and close too). */
int vm_frontends_open(struct phy_vm *vm, const struct vm_frontend *const *fe,
		      unsigned n, struct phy_error *err);
void vm_frontends_machine(struct phy_vm *vm, bool built);
void vm_frontends_stop(struct phy_vm *vm);
void vm_frontends_close(struct phy_vm *vm);

/* machine/machine.c */
int machine_build(struct phy_vm *vm, struct phy_error *err);
void machine_teardown(struct phy_vm *vm);

/* vm_events.c: the embedder's log hook (vm_log, frontend.h) and event
 * handler. vm_emit() must not be called with vm->lock held (the handler
 * may query the VM). */
void vm_emit(struct phy_vm *vm, enum phy_event_kind kind, const char *device,
	     const char *message);
/* The same with vm->event_lock already held: a state change and its event
 * as one step (vm_control.c). */
void vm_emit_held(struct phy_vm *vm, enum phy_event_kind kind,
		  const char *device, const char *message);
/* A device needs a reset: one log line and a DEVICE_ERROR event. */
void vm_device_error(struct phy_vm *vm, const char *device, const char *msg);

/* vm_control.c: the vCPU threads' side of pause. A thread counts itself
 * in before it starts and out when it ends; it parks while the VM is
 * paused, until resumed or asked to stop or reset. The supervisor unparks
 * them all before joining them. */
void vm_vcpu_thread_begin(struct phy_vm *vm);
void vm_vcpu_thread_end(struct phy_vm *vm);
void vm_vcpu_park(struct phy_vm *vm);
void vm_vcpus_unpark(struct phy_vm *vm);

/* vcpu.c */
int vcpu_create(struct phy_vm *vm, struct vcpu *vcpu, unsigned index,
		struct phy_error *err);
void vcpu_destroy(struct vcpu *vcpu);
int vcpu_start(struct vcpu *vcpu, struct phy_error *err);
void vcpu_kick(struct vcpu *vcpu);
void vcpu_join(struct vcpu *vcpu);


#endif
