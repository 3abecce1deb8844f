/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The machine of one boot: the KVM VM, its buses, the PCI host bridge, the
 * interrupt plumbing devices reach through vm_ops, the device loop, and
 * what the devices' rows (device.h) contribute to the ACPI tables. A guest
 * reboot tears it down and builds it again from scratch.
 *
 * What a row's create() may call to plug its device in: the helpers below.
 */
#ifndef PHY_VMM_MACHINE_MACHINE_H
#define PHY_VMM_MACHINE_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include <phyllome/vmm.h>

#include "arch/x86_64/acpi.h"
#include "devices/bus.h"
#include "devices/pci/pci_host.h"
#include "vmm/kvm_vm_ops.h"

struct fw_cfg;
struct io_loop;
struct vcpu;
struct virtio_dev;
struct vm_device;

#define MACHINE_MAX_RESERVED 16 /* port ranges the DSDT's MRES reserves */
#define MACHINE_MAX_AML_PARTS 32
/* KVM memory slots: guest RAM's regions first, then these. */
#define MACHINE_FIRST_ROM_SLOT 8
#define MACHINE_MAX_ROMS 4

struct machine {
	int vm_fd;
	/* Firmware boot (--firmware): an i440FX-like platform, no ECAM, and
	 * the boot CPU starts at the reset vector of the firmware's ROM. */
	bool firmware;
	struct machine_rom {
		uint64_t gpa, size;
		void *hva;
		uint32_t flags; /* KVM_MEM_* */
	} roms[MACHINE_MAX_ROMS];
	unsigned nr_roms;
	struct vcpu *vcpus;
	unsigned nr_vcpus;
	struct bus pio;
	struct bus mmio;
	struct pci_host pci;
	struct kvm_vm_ops vmops; /* lines, MSIs, ioeventfds for the devices */
	struct io_loop *io;      /* the device loop; NULL until a row asks */
	/* Firmware boot: the configuration device (its row's), which gets
	 * the ACPI tables once every device is there. */
	struct fw_cfg *fw_cfg;
	unsigned nr_created;     /* devices whose create() ran (device.c) */
	struct x86_acpi_io_range reserved[MACHINE_MAX_RESERVED];
	unsigned nr_reserved;
	uint64_t rsdp_gpa;
};

/* What devices are given to raise interrupts and hear notifications. */
static inline const struct vm_ops *machine_vm_ops(struct machine *m)
{
	return &m->vmops.ops;
}

/* The device loop, created on first use; it starts once every device of
 * the machine exists. */
int machine_io_loop(struct machine *m, struct io_loop **out,
		    struct phy_error *err);

/*
 * Plugs a virtio device in as a virtio-pci function of its own: the next
 * free slot, its BAR placed by the host bridge's allocator, notifications
 * on the device loop. The device's driver errors go to the VM's log and
 * DEVICE_ERROR event under d's name. d->pci is set.
 */
int machine_plug_virtio(struct machine *m, struct vm_device *d,
			struct virtio_dev *dev, struct phy_error *err);

/*
 * Maps host memory at [gpa, gpa+size) (page-aligned) as a memory slot of
 * its own: read-only (guest writes exit to the MMIO bus) or not. Returns
 * the slot's handle for machine_rom_enable(), or a negative PHY_E_* code.
 */
int machine_add_rom(struct machine *m, struct vm_device *d, uint64_t gpa,
		    uint64_t size, void *hva, bool readonly,
		    struct phy_error *err);
/* Maps (true) or unmaps the slot; while unmapped, guest reads of the range
 * exit to the MMIO bus too. Any thread. Returns 0 or a negative errno. */
int machine_rom_enable(struct machine *m, int rom, bool on);

/* Registers [gpa, gpa+len) for d on the MMIO bus. */
int machine_add_mmio(struct machine *m, struct vm_device *d, uint64_t gpa,
		     uint64_t len, const struct bus_device_ops *ops,
		     void *opaque, struct phy_error *err);

/* Registers [port, port+len) for d on the PIO bus; `reserve`: the DSDT's
 * motherboard resources claim it too (a register no _CRS describes). */
int machine_add_pio(struct machine *m, struct vm_device *d, uint16_t port,
		    uint16_t len, const struct bus_device_ops *ops, void *opaque,
		    bool reserve, struct phy_error *err);

#endif
