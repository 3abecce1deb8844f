/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Building the x86_64 "virt" machine for one boot: the KVM VM with its
 * memory slots, in-kernel irqchip and PIT, the buses and legacy devices, the
 * ACPI tables, the kernel, and the vCPUs in their entry state.
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
#include "vmm/vm_internal.h"

/* Intel VMX needs these two pages inside the 32-bit hole, out of the way. */
#define KVM_TSS_GPA 0xfffbd000ULL
#define KVM_IDENTITY_MAP_GPA 0xfffbc000ULL
#define PAYLOAD_REAL16_GPA 0x1000ULL

static int vm_ioctl(struct phy_vm *vm, unsigned long req, void *arg,
		    const char *what, struct phy_error *err)
{
	if (ioctl(vm->m.vm_fd, req, arg) < 0)
		return phy_err_errno(err, PHY_E_KVM, errno, "KVM: %s failed", what);
	return 0;
}

static int setup_kvm_vm(struct phy_vm *vm, struct phy_error *err)
{
	vm->m.vm_fd = ioctl(vm->kvm.fd, KVM_CREATE_VM, 0);
	if (vm->m.vm_fd < 0)
		return phy_err_errno(err, PHY_E_KVM, errno,
				     "KVM: cannot create a VM");
	if (ioctl(vm->m.vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_GPA) < 0)
		return phy_err_errno(err, PHY_E_KVM, errno,
				     "KVM: KVM_SET_TSS_ADDR failed");
	uint64_t idmap = KVM_IDENTITY_MAP_GPA;
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

static void uart_irq(void *opaque, int level)
{
	struct phy_vm *vm = opaque;
	vm_ops_set_line(&vm->m.vmops.ops, X86_COM1_IRQ, level);
}

static void ged_irq(void *opaque, int level)
{
	struct phy_vm *vm = opaque;
	vm_ops_set_line(&vm->m.vmops.ops, X86_GED_GSI, level);
}

static void guest_poweroff(void *opaque)
{
	vm_request(opaque, VM_REQ_POWEROFF);
}

static void guest_reset(void *opaque)
{
	vm_request(opaque, VM_REQ_RESET);
}

static void debug_exit_write(void *opaque, uint64_t off, const uint8_t *data,
			     uint32_t len)
{
	struct phy_vm *vm = opaque;
	uint32_t v = 0;
	memcpy(&v, data, len > 4 ? 4 : len);
	vm->debug_exit_value = v;
	vm_request(vm, VM_REQ_STOP);
}

static const struct bus_device_ops debug_exit_ops = { .write = debug_exit_write };

/* The power button's Generic Event Device (the DSDT's GED0). */
static int setup_ged(struct phy_vm *vm, struct phy_error *err)
{
	struct acpi_ged *ged = acpi_ged_create(ged_irq, vm);
	if (!ged)
		return phy_err(err, PHY_E_NOMEM, "ACPI GED: out of memory");
	/* phy_vm_power_button() may look at it from another thread. */
	pthread_mutex_lock(&vm->lock);
	vm->m.ged = ged;
	pthread_mutex_unlock(&vm->lock);
	return bus_register(&vm->m.pio, X86_GED_PORT, ACPI_GED_REG_SIZE,
			    &acpi_ged_bus_ops, ged, "acpi-ged", err);
}

static int setup_devices(struct phy_vm *vm, struct phy_error *err)
{
	struct machine *m = &vm->m;
	bus_init(&m->pio, "pio");
	bus_init(&m->mmio, "mmio");
	pci_host_init(&m->pci);
	m->pci.reset = guest_reset;
	m->pci.reset_opaque = vm;
	m->sleep = (struct acpi_sleep){ X86_S5_SLP_TYP, guest_poweroff, vm };
	m->i8042 = (struct i8042_reset){ guest_reset, vm };

	int ret = bus_register(&m->pio, X86_PCI_CONFIG_PORT, 8, &pci_host_cf8_ops,
			       &m->pci, "pci-cf8", err);
	if (!ret)
		ret = bus_register(&m->mmio, X86_ECAM_GPA, X86_ECAM_SIZE,
				   &pci_host_ecam_ops, &m->pci, "pci-ecam", err);
	/* The BAR windows the DSDT's PCI0._CRS advertises. */
	if (!ret)
		ret = pci_host_add_window(&m->pci, &m->mmio, X86_PCI_MMIO32_GPA,
					  X86_PCI_MMIO32_SIZE, "pci-mmio32", err);
	if (!ret)
		ret = pci_host_add_window(&m->pci, &m->mmio,
					  x86_pci_mmio64_base(vm->mem.ram_size),
					  X86_PCI_MMIO64_SIZE, "pci-mmio64", err);
	if (!ret)
		ret = bus_register(&m->pio, X86_SLEEP_CONTROL_PORT, 2,
				   &acpi_sleep_bus_ops, &m->sleep, "acpi-sleep", err);
	if (!ret)
		ret = bus_register(&m->pio, I8042_DATA_PORT, 5,
				   &i8042_reset_bus_ops, &m->i8042, "i8042-reset", err);
	if (!ret && vm->cfg.serial != SERIAL_OFF) {
		struct uart_8250 *uart =
			uart_create(uart_irq, vm, vm_serial_output, vm);
		if (!uart)
			return phy_err(err, PHY_E_NOMEM, "serial: out of memory");
		/* phy_vm_serial_input() may look at it from another thread. */
		pthread_mutex_lock(&vm->lock);
		m->uart = uart;
		pthread_mutex_unlock(&vm->lock);
		ret = bus_register(&m->pio, X86_COM1_PORT, UART_IO_SIZE,
				   &uart_bus_ops, uart, "com1", err);
	}
	if (!ret && vm->cfg.debug_exit_port)
		ret = bus_register(&m->pio, vm->cfg.debug_exit_port, 4,
				   &debug_exit_ops, vm, "debug-exit", err);
	if (!ret)
		ret = setup_ged(vm, err);
	return ret;
}

static void com1_aml(void *opaque, struct aml *a)
{
	uart_8250_aml(a, "COM1", 1, X86_COM1_PORT, X86_COM1_IRQ);
}

static void ged_aml(void *opaque, struct aml *a)
{
	acpi_ged_aml(a, X86_GED_PORT, X86_GED_GSI, X86_IOAPIC_PINS);
}

static void sleep_aml(void *opaque, struct aml *a)
{
	acpi_sleep_aml(a, X86_S5_SLP_TYP);
}

static int setup_acpi(struct phy_vm *vm, struct phy_error *err)
{
	struct x86_acpi_part parts[3];
	unsigned n = 0;
	if (vm->m.uart)
		parts[n++] = (struct x86_acpi_part){ "com1", com1_aml, vm };
	parts[n++] = (struct x86_acpi_part){ "acpi-ged", ged_aml, vm };
	parts[n++] = (struct x86_acpi_part){ "acpi-sleep", sleep_aml, vm };
	static const struct x86_acpi_io_range reserved[] = {
		{ X86_SLEEP_CONTROL_PORT, 2 },
		{ X86_GED_PORT, ACPI_GED_REG_SIZE },
	};
	struct x86_acpi_config acfg =
		x86_acpi_virt_config(vm->cfg.cpus, vm->mem.ram_size);
	acfg.parts = parts;
	acfg.nr_parts = n;
	acfg.reserved = reserved;
	acfg.nr_reserved = 2;
	uint8_t *buf = guest_mem_ptr(&vm->mem, X86_ACPI_GPA, X86_ACPI_SIZE);
	if (!buf)
		return phy_err(err, PHY_E_INTERNAL, "ACPI: table area outside RAM");
	long n_bytes = x86_acpi_build(&acfg, buf, X86_ACPI_SIZE, X86_ACPI_GPA, err);
	if (n_bytes < 0)
		return (int)n_bytes;
	vm->m.rsdp_gpa = X86_ACPI_GPA;
	return 0;
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
	if (cfg->payload_mode != PAYLOAD_NONE) {
		uint64_t gpa = cfg->payload_mode == PAYLOAD_REAL16 ?
				       PAYLOAD_REAL16_GPA : X86_HIMEM_GPA;
		if (guest_mem_write(&vm->mem, gpa, cfg->payload, cfg->payload_size))
			return phy_err(err, PHY_E_IMAGE, "payload too large");
		entry->mode = cfg->payload_mode == PAYLOAD_REAL16 ?
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
	return x86_vcpu_set_entry(m->vcpus[0].fd, entry, err);
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
	int ret = setup_kvm_vm(vm, err);
	if (!ret)
		ret = setup_devices(vm, err);
	if (!ret)
		ret = machine_add_virtio(vm, err);
	if (!ret)
		ret = setup_acpi(vm, err);
	if (!ret)
		ret = x86_write_boot_tables(&vm->mem, err);
	if (!ret)
		ret = write_reset_vector(vm, err);
	if (!ret)
		ret = load_guest(vm, &entry, err);
	if (!ret)
		ret = setup_vcpus(vm, &entry, err);
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
	vm_serial_flush(vm);
	/* Gone under the lock, before the KVM VM fd closes, so a power
	 * button press from another thread never signals a dead VM. */
	pthread_mutex_lock(&vm->lock);
	uart_destroy(m->uart);
	m->uart = NULL;
	acpi_ged_destroy(m->ged);
	m->ged = NULL;
	pthread_mutex_unlock(&vm->lock);
	machine_remove_virtio(vm);
	if (m->pio.name)
		pci_host_destroy(&m->pci);
	kvm_vm_ops_destroy(&m->vmops);
	if (m->vm_fd >= 0)
		close(m->vm_fd);
	m->vm_fd = -1;
}
