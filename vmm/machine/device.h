/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every device of the machine is a row of the device table
 * (device_table.c): a struct device_type saying how many the configuration
 * asks for and how each is opened, plugged in, described and taken away.
 * The VM keeps one struct vm_device per instance; the generic code here
 * walks them, so the machine has no field for any particular device.
 *
 * Lifetimes:
 *   open/close       the VM's: what survives a guest reboot (an open
 *                    image and its lock, a tap, counters) -> d->state
 *   create/destroy   one machine's: the device model, its bus ranges or
 *                    PCI function -> d->dev (and d->pci)
 * create() runs on the supervisor thread (or the creator's) with the vCPUs
 * not running; destroy() likewise, after the device loop stopped. A row
 * whose device other threads reach (serial input, the power button, a
 * screenshot) guards its d->dev itself.
 */
#ifndef PHY_VMM_MACHINE_DEVICE_H
#define PHY_VMM_MACHINE_DEVICE_H

#include <stdbool.h>

#include <phyllome/vmm.h>

#include "vmm/machine/machine.h"

struct aml;
struct device_option;
struct phy_vm;
struct virtio_pci;

struct vm_device {
	const struct device_type *type;
	unsigned index;         /* among the devices of its type */
	char name[32];          /* "virtio-blk0": messages, events, buses */
	struct phy_vm *vm;
	const void *conf;       /* what its option's parser made, or NULL */
	void *state;            /* VM lifetime: open() */
	void *dev;              /* machine lifetime: create() */
	struct virtio_pci *pci; /* its PCI function (machine_plug_virtio) */
};

struct device_type {
	/* Instance i is called name + i when `numbered` ("virtio-blk0"),
	 * else name ("virtio-keyboard"). */
	const char *name;
	bool numbered;
	/* How many: one per item of `option` ("--disk"), or count(), or
	 * (neither) one: a fixed part of the machine. */
	const struct device_option *option;
	unsigned (*count)(const struct phy_vm *vm);

	/* Optional, VM lifetime. Errors name the option at fault; close()
	 * also runs after a failed open(). */
	int (*open)(struct vm_device *d, struct phy_error *err);
	void (*close)(struct vm_device *d);
	/* Machine lifetime; destroy() (optional: a device whose parts all
	 * go with the KVM VM) also after a failed create(). */
	int (*create)(struct vm_device *d, struct machine *m,
		      struct phy_error *err);
	void (*destroy)(struct vm_device *d);
	/* Optional: the device's part of the DSDT (x86_acpi_part.emit, with
	 * the vm_device as opaque). */
	void (*aml)(void *d, struct aml *a);
	/* Optional: the VM stopped, its vCPUs are gone and the machine is
	 * still there (--screenshot-on-exit). */
	void (*stopped)(struct vm_device *d);
	/* Optional: counters for the public API (phy_vm_disk_stats, ...);
	 * `out` is the type the row's public call says. Any thread. */
	int (*stats)(struct vm_device *d, void *out, struct phy_error *err);
};

/* A .count for the rows only firmware boot has (--firmware): 1 or 0. */
unsigned device_count_firmware(const struct phy_vm *vm);

/* device.c: the generic walks over the VM's devices. */
int vm_devices_open(struct phy_vm *vm, struct phy_error *err);
void vm_devices_close(struct phy_vm *vm);
int vm_devices_create(struct phy_vm *vm, struct phy_error *err);
void vm_devices_destroy(struct phy_vm *vm);
void vm_devices_stopped(struct phy_vm *vm);
/* The DSDT parts of the devices that have them, in table order. */
unsigned vm_devices_aml(struct phy_vm *vm, struct x86_acpi_part *parts,
			unsigned max);

/* The index-th device of a type, or NULL. */
struct vm_device *vm_device_find(const struct phy_vm *vm,
				 const struct device_type *type,
				 unsigned index);
/* How many devices of a type the VM has. */
unsigned vm_device_count(const struct phy_vm *vm,
			 const struct device_type *type);
/* type->stats of the index-th device of a type; PHY_E_INVALID naming
 * `call` when there is none. */
int vm_device_stats(const struct phy_vm *vm, const struct device_type *type,
		    unsigned index, void *out, const char *call,
		    struct phy_error *err);

/* A device's driver broke the rules: the VM's log and a DEVICE_ERROR
 * event under the device's name (a virtio_log_fn; opaque: the device). */
void vm_device_failed(void *opaque, const char *msg);

/* device_table.c */
extern const struct device_type *const device_table[];
extern const unsigned device_table_size;

#endif
