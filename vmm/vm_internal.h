/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VM behind the opaque struct phy_vm. A VM owns what survives a guest
 * reboot (configuration, guest RAM, the kernel and initrd images, the
 * serial sink); its `machine` is what a reboot rebuilds from scratch (the
 * KVM VM, vCPUs, buses and devices), which makes a reset exact.
 */
#ifndef PHY_VMM_VM_INTERNAL_H
#define PHY_VMM_VM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <phyllome/vmm.h>

#include "boot/boot.h"
#include "devices/block/disk_image.h"
#include "common/guest_mem.h"
#include "devices/bus.h"
#include "devices/legacy/acpi_ged.h"
#include "devices/legacy/acpi_sleep.h"
#include "devices/legacy/i8042_reset.h"
#include "devices/legacy/uart_8250.h"
#include "devices/net/tap.h"
#include "devices/pci/pci_host.h"
#include "devices/virtio/virtio_gpu.h"
#include "vmm/config.h"
#include "vmm/kvm_vm_ops.h"
#include "vmm/kvm.h"

struct kvm_run;
struct io_loop;
struct vm_api;
struct virtio_blk;
struct virtio_pci;
struct virtio_net;
struct virtio_gpu;
struct virtio_input;
struct display_sdl;

struct machine_disk {
	struct phy_vm *vm; /* device errors are reported to it */
	char name[16];
	struct virtio_blk *blk;
	struct virtio_pci *pci;
};

struct machine_nic {
	struct phy_vm *vm;
	char name[16];
	struct virtio_net *net;
	struct virtio_pci *pci;
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

struct machine {
	int vm_fd;
	struct vcpu *vcpus;
	unsigned nr_vcpus;
	struct bus pio;
	struct bus mmio;
	struct uart_8250 *uart;
	/* The power button's GED; NULL outside a machine's life. Both set
	 * and read under the VM's lock: phy_vm_power_button() uses it from
	 * the embedder's thread while a reboot may be rebuilding it. */
	struct acpi_ged *ged;
	struct pci_host pci;
	struct kvm_vm_ops vmops; /* lines, MSIs, ioeventfds for the devices */
	struct io_loop *io;     /* serves the virtio devices; NULL: none */
	struct machine_disk disks[CONFIG_MAX_DISKS];
	unsigned nr_disks;
	struct machine_nic nics[CONFIG_MAX_NETS];
	unsigned nr_nics;
	/* --gpu; NULL: none. Set and cleared under the VM's gpu_lock, which
	 * screenshots from other threads hold while they use it. */
	struct virtio_gpu *gpu;
	struct virtio_pci *gpu_pci;
	/* --display sdl: the window's keyboard and tablet. */
	struct virtio_input *keyboard, *tablet;
	struct virtio_pci *keyboard_pci, *tablet_pci;
	unsigned next_slot;     /* PCI placement (machine_virtio.c) */
	uint64_t next_bar;
	struct acpi_sleep sleep;
	struct i8042_reset i8042;
	uint64_t rsdp_gpa;
};

#define SERIAL_BUF_SIZE 256

struct phy_vm {
	struct phy_config cfg;
	struct kvm_host kvm;
	struct guest_mem mem;
	struct boot_image kernel;
	struct boot_image initrd;
	/* Open for the VM's whole life: the lock and the counters carry
	 * over guest reboots. */
	struct disk_image disks[CONFIG_MAX_DISKS];
	struct tap taps[CONFIG_MAX_NETS];
	struct machine m;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum phy_vm_state state;
	_Atomic int request;   /* enum vm_request; the first one wins */
	int wake_fd;           /* eventfd: wakes the supervisor */
	pthread_t supervisor;
	bool supervisor_started;
	bool started_reported; /* the STARTED event was delivered (lock) */
	bool finished; /* STOPPED and SHUTDOWN delivered: wait returns (lock) */
	enum phy_exit_reason exit_reason;
	unsigned reboots;
	char crash_report[4096];
	struct phy_error run_error;
	uint32_t debug_exit_value;

	phy_log_fn log_fn;
	void *log_opaque;

	/* Lifecycle events (vm_events.c): set before start; event_lock keeps
	 * two threads from calling the handler at once. */
	phy_event_fn event_fn;
	void *event_opaque;
	pthread_mutex_t event_lock;
	pthread_mutex_t gpu_lock; /* m.gpu across a reboot's rebuild */
	/* What the GPU devices of earlier machines counted (gpu_lock). */
	struct virtio_gpu_stats gpu_stats_before;
	/* --display sdl (vm_display.c): outlives machines; each rebuild
	 * attaches the new GPU and input devices to it. */
	struct display_sdl *display;
	unsigned display_closes;

	/* --api-socket and --event-monitor (vmm/api/vm_api.h); NULL: neither */
	struct vm_api *api;

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

	/* Serial sink; the UART lock serialises calls into it. */
	phy_serial_output_fn serial_fn;
	void *serial_opaque;
	int serial_fd;
	bool serial_fd_owned;
	bool serial_unbuffered;
	uint8_t serial_buf[SERIAL_BUF_SIZE];
	size_t serial_len;
};

/* Records a request (first wins) and wakes the supervisor. Async-signal
 * safe: an atomic and an eventfd write. */
void vm_request(struct phy_vm *vm, enum vm_request req);

/* Records a crash with a message and a vCPU's register dump. */
void vm_crash(struct phy_vm *vm, struct vcpu *vcpu, const char *what);

/* machine.c */
int machine_build(struct phy_vm *vm, struct phy_error *err);
void machine_teardown(struct phy_vm *vm);

/* vm_events.c: the embedder's log hook and event handler. vm_emit() must
 * not be called with vm->lock held (the handler may query the VM). */
void vm_log(void *vm, const char *msg);
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

/* machine_virtio.c */
int machine_add_virtio(struct phy_vm *vm, struct phy_error *err);
void machine_remove_virtio(struct phy_vm *vm);

/* vm_display.c: the window for --display sdl. */
int vm_display_open(struct phy_vm *vm, struct phy_error *err);
void vm_display_close(struct phy_vm *vm);
/* What the window shows and drives: the machine's devices, or none
 * (NULL) while a reboot rebuilds them. */
void vm_display_attach(struct phy_vm *vm, bool machine);

/* vm_screen.c: --screenshot-on-exit, once the vCPUs have stopped. */
void vm_screenshot_on_exit(struct phy_vm *vm);

/* vm_gpu_stats.c: keeps what the GPU device counted before a machine's
 * teardown frees it (gpu_lock held). */
void vm_gpu_stats_keep(struct phy_vm *vm);

/* vcpu.c */
int vcpu_create(struct phy_vm *vm, struct vcpu *vcpu, unsigned index,
		struct phy_error *err);
void vcpu_destroy(struct vcpu *vcpu);
int vcpu_start(struct vcpu *vcpu, struct phy_error *err);
void vcpu_kick(struct vcpu *vcpu);
void vcpu_join(struct vcpu *vcpu);

/* serial sink */
void vm_serial_output(void *opaque, const uint8_t *buf, size_t len);
void vm_serial_flush(struct phy_vm *vm);

#endif
