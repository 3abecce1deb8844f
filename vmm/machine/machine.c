/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Building the x86_64 "virt" machine for one boot: the KVM VM with its
 * memory slots, in-kernel irqchip and PIT, the buses and the PCI host
 * bridge, every device of the device table, the ACPI tables, the kernel,
 * and the vCPUs in their entry state.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "arch/x86_64/acpi.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/vcpu_setup.h"
#include "common/error.h"
#include "common/io_loop.h"
#include "devices/virtio/virtio_pci.h"
#include "vmm/config/config_firmware.h"
#include "vmm/machine/firmware_acpi.h"
#include "vmm/machine/firmware_bootorder.h"
#include "vmm/machine/rows.h"
#include "vmm/machine/device.h"
#include "vmm/vm_internal.h"

#define PAYLOAD_REAL16_GPA 0x1000ULL
#define MACHINE_MAX_BOOT_DISKS 16 /* --disk's own limit */
/* Enough for every queue of every device to have requests in flight
 * without the loop having to submit early. */
#define IO_LOOP_ENTRIES 1024

static int vm_ioctl(struct phy_vm *vm, unsigned long req, void *arg,
		    const char *what, struct phy_error *err)
{
	if (ioctl(vm->m.vm_fd, req, arg) < 0)
		return phy_err_errno(err, PHY_E_KVM, errno, "KVM: %s failed", what);
	return 0;
}

static int setup_kvm_vm(struct phy_vm *vm, struct phy_error *err)
{
	/* A reboot builds the VM anew while pauses and kicks are under way:
	 * KVM_CREATE_VM can fail with EINTR then (seen on the PVM host in
	 * test_pause_races_guest_reboot), which would end the VM. */
	do
		vm->m.vm_fd = ioctl(vm->kvm.fd, KVM_CREATE_VM, 0);
	while (vm->m.vm_fd < 0 && errno == EINTR);
	if (vm->m.vm_fd < 0)
		return phy_err_errno(err, PHY_E_KVM, errno,
				     "KVM: cannot create a VM");
	if (ioctl(vm->m.vm_fd, KVM_SET_TSS_ADDR, X86_KVM_TSS_GPA) < 0)
		return phy_err_errno(err, PHY_E_KVM, errno,
				     "KVM: KVM_SET_TSS_ADDR failed");
	uint64_t idmap = X86_KVM_IDENTITY_MAP_GPA;
	int ret = vm_ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, &idmap,
			   "KVM_SET_IDENTITY_MAP_ADDR", err);
	for (unsigned i = 0; !ret && i < vm->mem.nr_regions; i++) {
		struct kvm_userspace_memory_region r = {
			.slot = i,
			.guest_phys_addr = vm->mem.regions[i].gpa,
			.memory_size = vm->mem.regions[i].size,
			.userspace_addr = (uintptr_t)vm->mem.regions[i].hva,
		};
		ret = vm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r,
			       "KVM_SET_USER_MEMORY_REGION", err);
	}
	if (!ret)
		ret = vm_ioctl(vm, KVM_CREATE_IRQCHIP, NULL, "KVM_CREATE_IRQCHIP",
			       err);
	if (!ret) {
		struct kvm_pit_config pit = { .flags = 0 };
		ret = vm_ioctl(vm, KVM_CREATE_PIT2, &pit, "KVM_CREATE_PIT2", err);
	}
	if (!ret)
		ret = kvm_vm_ops_init(&vm->m.vmops, vm->m.vm_fd, err);
	return ret;
}

static int set_rom_slot(struct machine *m, unsigned i, bool on)
{
	const struct machine_rom *r = &m->roms[i];
	struct kvm_userspace_memory_region kr = {
		.slot = MACHINE_FIRST_ROM_SLOT + i,
		.flags = r->flags,
		.guest_phys_addr = r->gpa,
		.memory_size = on ? r->size : 0,
		.userspace_addr = (uintptr_t)r->hva,
	};
	return ioctl(m->vm_fd, KVM_SET_USER_MEMORY_REGION, &kr) < 0 ? -errno : 0;
}

int machine_add_rom(struct machine *m, struct vm_device *d, uint64_t gpa,
		    uint64_t size, void *hva, bool readonly,
		    struct phy_error *err)
{
	if (m->nr_roms == MACHINE_MAX_ROMS)
		return phy_err(err, PHY_E_INTERNAL, "%s: too many ROMs", d->name);
	unsigned i = m->nr_roms;
	m->roms[i] = (struct machine_rom){ gpa, size, hva,
					   readonly ? KVM_MEM_READONLY : 0 };
	int ret = set_rom_slot(m, i, true);
	if (ret)
		return phy_err_errno(err, PHY_E_KVM, -ret,
				     "%s: cannot map %llu bytes at 0x%llx%s",
				     d->name, (unsigned long long)size,
				     (unsigned long long)gpa,
				     readonly ? " read-only" : "");
	m->nr_roms++;
	return (int)i;
}

int machine_rom_enable(struct machine *m, int rom, bool on)
{
	if (rom < 0 || (unsigned)rom >= m->nr_roms)
		return -EINVAL;
	return set_rom_slot(m, (unsigned)rom, on);
}

/* A guest reset through 0xCF9: the machine is rebuilt. */
static void guest_reset(void *opaque)
{
	vm_request(opaque, VM_REQ_RESET);
}

/*
 * Firmware boot: the host bridge is an i440FX's, which is how OVMF knows
 * the platform, and its BAR windows cover wherever the firmware places
 * BARs (layout.h), so the VMM's initial placement is only a default.
 */
static int setup_firmware_windows(struct phy_vm *vm, struct phy_error *err)
{
	struct machine *m = &vm->m;
	uint64_t low_end = x86_low_ram_end(vm->mem.ram_size);
	uint64_t hi = x86_pci_mmio64_base(vm->mem.ram_size);
	pci_host_set_bridge_id(&m->pci, 0x8086, 0x1237, 2);
	int ret = pci_host_add_window(&m->pci, &m->mmio, low_end,
				      X86_FW_PCI_MMIO32_END - low_end,
				      "pci-mmio32", err);
	if (!ret)
		ret = pci_host_add_window(&m->pci, &m->mmio, hi,
					  x86_fw_pci_mmio64_size(vm->mem.ram_size),
					  "pci-mmio64", err);
	return ret;
}

/* The machine's own parts: the buses and the PCI host bridge, with the BAR
 * windows the DSDT's PCI0._CRS advertises. Everything else is a device of
 * the device table. */
static int setup_buses(struct phy_vm *vm, struct phy_error *err)
{
	struct machine *m = &vm->m;
	bus_init(&m->pio, "pio");
	bus_init(&m->mmio, "mmio");
	pci_host_init(&m->pci);
	m->pci.reset = guest_reset;
	m->pci.reset_opaque = vm;

	int ret = bus_register(&m->pio, X86_PCI_CONFIG_PORT, 8, &pci_host_cf8_ops,
			       &m->pci, "pci-cf8", err);
	if (m->firmware)
		return ret ? ret : setup_firmware_windows(vm, err);
	if (!ret)
		ret = bus_register(&m->mmio, X86_ECAM_GPA, X86_ECAM_SIZE,
				   &pci_host_ecam_ops, &m->pci, "pci-ecam", err);
	if (!ret)
		ret = pci_host_add_window(&m->pci, &m->mmio, X86_PCI_MMIO32_GPA,
					  X86_PCI_MMIO32_SIZE, "pci-mmio32", err);
	if (!ret)
		ret = pci_host_add_window(&m->pci, &m->mmio,
					  x86_pci_mmio64_base(vm->mem.ram_size),
					  X86_PCI_MMIO64_SIZE, "pci-mmio64", err);
	return ret;
}

/* The tables' description of this machine; parts has room for
 * MACHINE_MAX_AML_PARTS. */
static struct x86_acpi_config acpi_config(struct phy_vm *vm,
					  struct x86_acpi_part *parts)
{
	struct x86_acpi_config acfg =
		x86_acpi_virt_config(vm->cfg.cpus, vm->mem.ram_size);
	acfg.parts = parts;
	acfg.nr_parts = vm_devices_aml(vm, parts, MACHINE_MAX_AML_PARTS);
	acfg.reserved = vm->m.reserved;
	acfg.nr_reserved = vm->m.nr_reserved;
	/* PCI0's _CRS: exactly the windows the host bridge decodes
	 * (setup_buses(): 32-bit first, then 64-bit). */
	const struct pci_window *w = vm->m.pci.windows;
	acfg.mmio32_gpa = w[0].base;
	acfg.mmio32_size = w[0].size;
	acfg.mmio64_gpa = w[1].base;
	acfg.mmio64_size = w[1].size;
	if (vm->m.firmware) {
		acfg.ecam_gpa = 0;
		acfg.cmos_rtc = true; /* its row: dev_cmos.c */
	}
	return acfg;
}

/* What the firmware learns once every device exists: the ACPI tables and
 * the boot order of the disks. */
static int setup_firmware_tables(struct phy_vm *vm,
				 const struct x86_acpi_config *acfg,
				 struct phy_error *err)
{
	unsigned slots[MACHINE_MAX_BOOT_DISKS], nr = 0;
	struct vm_device *d;
	while (nr < MACHINE_MAX_BOOT_DISKS &&
	       (d = vm_device_find(vm, &virtio_blk_type, nr)) && d->pci)
		slots[nr++] = virtio_pci_slot(d->pci);
	int ret = firmware_acpi_add(vm->m.fw_cfg, acfg, err);
	return ret ? ret : firmware_bootorder_add(vm->m.fw_cfg, slots, nr, err);
}

static int setup_acpi(struct phy_vm *vm, struct phy_error *err)
{
	struct x86_acpi_part parts[MACHINE_MAX_AML_PARTS];
	struct x86_acpi_config acfg = acpi_config(vm, parts);
	if (vm->m.firmware)
		return vm->m.fw_cfg ? setup_firmware_tables(vm, &acfg, err) : 0;
	uint8_t *buf = guest_mem_ptr(&vm->mem, X86_ACPI_GPA, X86_ACPI_SIZE);
	if (!buf)
		return phy_err(err, PHY_E_INTERNAL, "ACPI: table area outside RAM");
	long n = x86_acpi_build(&acfg, buf, X86_ACPI_SIZE, X86_ACPI_GPA, err);
	if (n < 0)
		return (int)n;
	vm->m.rsdp_gpa = X86_ACPI_GPA;
	return 0;
}

int machine_io_loop(struct machine *m, struct io_loop **out,
		    struct phy_error *err)
{
	int ret = m->io ? 0 : io_loop_create(&m->io, IO_LOOP_ENTRIES, err);

	*out = m->io;
	return ret;
}

int machine_plug_virtio(struct machine *m, struct vm_device *d,
			struct virtio_dev *dev, struct phy_error *err)
{
	dev->log = vm_device_failed;
	dev->log_opaque = d;
	struct io_loop *loop;
	int ret = machine_io_loop(m, &loop, err);
	if (ret)
		return ret;
	unsigned slot = pci_host_free_slot(&m->pci);
	uint64_t bar = pci_host_alloc_bar(&m->pci, virtio_pci_bar_size(dev));
	if (!slot || !bar)
		return phy_err(err, PHY_E_INVALID, "%s: no PCI %s left", d->name,
			       slot ? "memory window space" : "slot");
	struct virtio_pci_env env = {
		.vm = machine_vm_ops(m),
		.loop = loop,
		.host = &m->pci,
	};
	return virtio_pci_create(&d->pci, dev, &env, slot, bar, err);
}

int machine_add_mmio(struct machine *m, struct vm_device *d, uint64_t gpa,
		     uint64_t len, const struct bus_device_ops *ops,
		     void *opaque, struct phy_error *err)
{
	return bus_register(&m->mmio, gpa, len, ops, opaque, d->name, err);
}

int machine_add_pio(struct machine *m, struct vm_device *d, uint16_t port,
		    uint16_t len, const struct bus_device_ops *ops, void *opaque,
		    bool reserve, struct phy_error *err)
{
	if (reserve && m->nr_reserved == MACHINE_MAX_RESERVED)
		return phy_err(err, PHY_E_INTERNAL, "%s: too many reserved ports",
			       d->name);
	int ret = bus_register(&m->pio, port, len, ops, opaque, d->name, err);
	if (!ret && reserve)
		m->reserved[m->nr_reserved++] = (struct x86_acpi_io_range){ port, len };
	return ret;
}

/*
 * On hardware-reduced ACPI without EFI, Linux reboots by jumping to the BIOS
 * reset vector in real mode. There is no BIOS, so the vector holds a stub
 * that does what a PC's reset would lead to: pulse the reset control
 * register (0xCF9), which rebuilds the VM.
 */
static int write_reset_vector(struct phy_vm *vm, struct phy_error *err)
{
	static const uint8_t stub[] = {
		0xba, 0xf9, 0x0c, /* mov $0xcf9, %dx */
		0xb0, 0x06,       /* mov $0x06, %al */
		0xee,             /* out %al, %dx */
		0xf4,             /* hlt */
		0xeb, 0xfd,       /* jmp hlt */
	};
	if (guest_mem_write(&vm->mem, X86_RESET_VECTOR_GPA, stub, sizeof(stub)))
		return phy_err(err, PHY_E_INTERNAL, "reset vector outside RAM");
	return 0;
}

static int load_guest(struct phy_vm *vm, struct x86_entry_state *entry,
		      struct phy_error *err)
{
	const struct phy_config *cfg = &vm->cfg;
	const struct vm_test_hooks *h = &vm->hooks;
	if (h->payload_mode != PAYLOAD_NONE) {
		uint64_t gpa = h->payload_mode == PAYLOAD_REAL16 ?
				       PAYLOAD_REAL16_GPA : X86_HIMEM_GPA;
		if (guest_mem_write(&vm->mem, gpa, h->payload, h->payload_size))
			return phy_err(err, PHY_E_IMAGE, "payload too large");
		entry->mode = h->payload_mode == PAYLOAD_REAL16 ?
				      X86_ENTRY_REAL16 : X86_ENTRY_LONG64;
		entry->rip = gpa;
		return 0;
	}
	struct boot_request req = {
		.kernel = vm->kernel,
		.initrd = vm->initrd,
		.cmdline = cfg->cmdline ? cfg->cmdline : CONFIG_DEFAULT_CMDLINE,
		.rsdp_gpa = vm->m.rsdp_gpa,
	};
	struct boot_entry be;
	int ret = boot_load(&vm->mem, &req, &be, err);
	if (ret)
		return ret;
	if (be.mode == BOOT_ENTRY_PVH32) {
		entry->mode = X86_ENTRY_PROT32;
		entry->rbx = be.info_gpa;
	} else {
		entry->mode = X86_ENTRY_LONG64;
		entry->rsi = be.info_gpa;
	}
	entry->rip = be.entry_gpa;
	return 0;
}

/* Direct kernel boot: page tables and the kernel in RAM, where firmware
 * would have left them. */
static int setup_direct_boot(struct phy_vm *vm, struct x86_entry_state *entry,
			     struct phy_error *err)
{
	int ret = x86_write_boot_tables(&vm->mem, err);
	if (!ret)
		ret = write_reset_vector(vm, err);
	if (!ret)
		ret = load_guest(vm, entry, err);
	return ret;
}

/* entry NULL: the boot vCPU stays in its reset state (firmware boot). */
static int setup_vcpus(struct phy_vm *vm, const struct x86_entry_state *entry,
		       struct phy_error *err)
{
	struct machine *m = &vm->m;
	m->vcpus = calloc(vm->cfg.cpus, sizeof(*m->vcpus));
	if (!m->vcpus)
		return phy_err(err, PHY_E_NOMEM, "vCPUs: out of memory");
	for (unsigned i = 0; i < vm->cfg.cpus; i++) {
		m->nr_vcpus = i + 1;
		int ret = vcpu_create(vm, &m->vcpus[i], i, err);
		if (ret)
			return ret;
	}
	/* The other vCPUs wait for the guest's INIT/SIPI in the LAPIC. */
	return entry ? x86_vcpu_set_entry(m->vcpus[0].fd, entry, err) : 0;
}

int machine_build(struct phy_vm *vm, struct phy_error *err)
{
	pthread_mutex_lock(&vm->lock);
	memset(&vm->m, 0, sizeof(vm->m));
	pthread_mutex_unlock(&vm->lock);
	vm->m.vm_fd = -1;
	if ((int)vm->cfg.cpus > vm->kvm.max_vcpus)
		return phy_err(err, PHY_E_INVALID,
			       "--cpus: boot=%u exceeds this host's KVM limit of %d",
			       vm->cfg.cpus, vm->kvm.max_vcpus);
	struct x86_entry_state entry = { 0 };
	vm->m.firmware = config_firmware(&vm->cfg) != NULL;
	int ret = setup_kvm_vm(vm, err);
	if (!ret)
		ret = setup_buses(vm, err);
	if (!ret)
		ret = vm_devices_create(vm, err);
	if (!ret)
		vm_frontends_machine(vm, true);
	if (!ret)
		ret = setup_acpi(vm, err);
	if (!ret && !vm->m.firmware)
		ret = setup_direct_boot(vm, &entry, err);
	if (!ret)
		ret = setup_vcpus(vm, vm->m.firmware ? NULL : &entry, err);
	if (ret)
		machine_teardown(vm);
	return ret;
}

void machine_teardown(struct phy_vm *vm)
{
	struct machine *m = &vm->m;
	for (unsigned i = 0; i < m->nr_vcpus; i++)
		vcpu_destroy(&m->vcpus[i]);
	free(m->vcpus);
	m->vcpus = NULL;
	m->nr_vcpus = 0;
	chardev_flush(&vm->serial);
	/* The window lets go of the devices before they go. */
	vm_frontends_machine(vm, false);
	/* Before the KVM VM fd closes, so a power button press from another
	 * thread never signals a dead VM (the GED's row guards it). */
	vm_devices_destroy(vm);
	if (m->pio.name)
		pci_host_destroy(&m->pci);
	kvm_vm_ops_destroy(&m->vmops);
	if (m->vm_fd >= 0)
		close(m->vm_fd);
	m->vm_fd = -1;
}
