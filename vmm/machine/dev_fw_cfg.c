// SPDX-License-Identifier: Apache-2.0
/*
 * Firmware boot: QEMU's firmware configuration device (fw_cfg.h) at
 * 0x510, which is how OVMF learns the machine: the CPU count, the memory
 * map, and (machine.c adds them once every device is described) the
 * ACPI tables.
 */
#include "arch/x86_64/layout.h"
#include "common/error.h"
#include "devices/legacy/fw_cfg.h"
#include "vmm/machine/device.h"
#include "vmm/vm_internal.h"

static int add_e820(struct fw_cfg *fw, uint64_t ram_size,
		    struct phy_error *err)
{
	struct x86_e820_entry map[X86_E820_MAX];
	struct fw_cfg_e820_entry out[X86_E820_MAX];
	int n = x86_e820_firmware_build(ram_size, map, X86_E820_MAX);
	if (n < 0)
		return phy_err(err, PHY_E_INTERNAL, "fw_cfg: memory map too long");
	for (int i = 0; i < n; i++)
		out[i] = (struct fw_cfg_e820_entry){ map[i].addr, map[i].size,
						     map[i].type };
	return fw_cfg_add_file(fw, FW_CFG_FILE_E820, out,
			       (size_t)n * sizeof(out[0]), 0, err);
}

static int fw_cfg_dev_create(struct vm_device *d, struct machine *m,
			     struct phy_error *err)
{
	struct phy_vm *vm = d->vm;
	struct fw_cfg *fw = fw_cfg_create(&vm->mem);
	if (!fw)
		return phy_err(err, PHY_E_NOMEM, "%s: out of memory", d->name);
	d->dev = fw;
	int ret = fw_cfg_add_u16(fw, FW_CFG_NB_CPUS, (uint16_t)vm->cfg.cpus, err);
	if (!ret)
		ret = fw_cfg_add_u16(fw, FW_CFG_MAX_CPUS, (uint16_t)vm->cfg.cpus,
				     err);
	if (!ret)
		ret = add_e820(fw, vm->mem.ram_size, err);
	if (!ret)
		ret = machine_add_pio(m, d, FW_CFG_PORT_BASE, FW_CFG_PORT_SIZE,
				      &fw_cfg_bus_ops, fw, true, err);
	if (!ret)
		m->fw_cfg = fw;
	return ret;
}

static void fw_cfg_dev_destroy(struct vm_device *d)
{
	d->vm->m.fw_cfg = NULL;
	fw_cfg_destroy(d->dev);
	d->dev = NULL;
}

const struct device_type fw_cfg_type = {
	.name = "fw-cfg",
	.count = device_count_firmware,
	.create = fw_cfg_dev_create,
	.destroy = fw_cfg_dev_destroy,
};
