// SPDX-License-Identifier: Apache-2.0
/*
 * The generic life of the VM's devices: one record per instance the
 * configuration asks for, in device-table order, opened once, plugged
 * into every machine, torn down in reverse.
 */
#include "vmm/machine/device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/io_loop.h"
#include "devices/virtio/virtio_pci.h"
#include "vmm/config/config_firmware.h"
#include "vmm/config/option.h"
#include "vmm/vm_internal.h"

static unsigned instances(const struct phy_vm *vm, const struct device_type *t)
{
	if (t->option)
		return config_count(&vm->cfg, t->option);
	return t->count ? t->count(vm) : 1;
}

int vm_devices_open(struct phy_vm *vm, struct phy_error *err)
{
	unsigned total = 0;
	for (unsigned t = 0; t < device_table_size; t++)
		total += instances(vm, device_table[t]);
	vm->devices = calloc(total ? total : 1, sizeof(*vm->devices));
	if (!vm->devices)
		return phy_err(err, PHY_E_NOMEM, "out of memory");
	for (unsigned t = 0; t < device_table_size; t++) {
		const struct device_type *type = device_table[t];
		unsigned n = instances(vm, type);
		for (unsigned i = 0; i < n; i++) {
			struct vm_device *d = &vm->devices[vm->nr_devices];
			*d = (struct vm_device){ .type = type, .index = i, .vm = vm };
			if (type->numbered)
				snprintf(d->name, sizeof(d->name), "%s%u", type->name, i);
			else
				snprintf(d->name, sizeof(d->name), "%s", type->name);
			if (type->option)
				d->conf = config_item(&vm->cfg, type->option, i);
			int ret = type->open ? type->open(d, err) : 0;
			if (ret) {
				if (type->close)
					type->close(d);
				return ret;
			}
			vm->nr_devices++;
		}
	}
	return 0;
}

void vm_devices_close(struct phy_vm *vm)
{
	for (unsigned i = vm->nr_devices; i-- > 0;) {
		struct vm_device *d = &vm->devices[i];
		if (d->type->close)
			d->type->close(d);
	}
	free(vm->devices);
	vm->devices = NULL;
	vm->nr_devices = 0;
}

unsigned device_count_firmware(const struct phy_vm *vm)
{
	return config_firmware(&vm->cfg) ? 1 : 0;
}

int vm_devices_create(struct phy_vm *vm, struct phy_error *err)
{
	struct machine *m = &vm->m;
	for (unsigned i = 0; i < vm->nr_devices; i++) {
		struct vm_device *d = &vm->devices[i];
		m->nr_created = i + 1;
		int ret = d->type->create(d, m, err);
		if (ret)
			return ret;
	}
	if (!m->io)
		return 0;
	io_loop_set_sandbox(m->io, vm->cfg.seccomp);
	return io_loop_start(m->io, err);
}

void vm_devices_destroy(struct phy_vm *vm)
{
	struct machine *m = &vm->m;
	/* In-flight requests point into guest memory: the loop waits for
	 * them as it stops, before any device goes away. */
	if (m->io)
		io_loop_stop(m->io);
	for (unsigned i = m->nr_created; i-- > 0;) {
		struct vm_device *d = &vm->devices[i];
		virtio_pci_destroy(d->pci);
		d->pci = NULL;
		if (d->type->destroy)
			d->type->destroy(d);
	}
	m->nr_created = 0;
	io_loop_destroy(m->io);
	m->io = NULL;
}

void vm_devices_stopped(struct phy_vm *vm)
{
	for (unsigned i = 0; i < vm->m.nr_created; i++) {
		struct vm_device *d = &vm->devices[i];
		if (d->type->stopped)
			d->type->stopped(d);
	}
}

unsigned vm_devices_aml(struct phy_vm *vm, struct x86_acpi_part *parts,
			unsigned max)
{
	unsigned n = 0;
	for (unsigned i = 0; i < vm->nr_devices && n < max; i++) {
		struct vm_device *d = &vm->devices[i];
		if (d->type->aml)
			parts[n++] = (struct x86_acpi_part){ d->name, d->type->aml, d };
	}
	return n;
}

struct vm_device *vm_device_find(const struct phy_vm *vm,
				 const struct device_type *type, unsigned index)
{
	for (unsigned i = 0; i < vm->nr_devices; i++) {
		struct vm_device *d = &vm->devices[i];
		if (d->type == type && d->index == index)
			return d;
	}
	return NULL;
}

unsigned vm_device_count(const struct phy_vm *vm,
			 const struct device_type *type)
{
	unsigned n = 0;
	for (unsigned i = 0; i < vm->nr_devices; i++)
		n += vm->devices[i].type == type;
	return n;
}

int vm_device_stats(const struct phy_vm *vm, const struct device_type *type,
		    unsigned index, void *out, const char *call,
		    struct phy_error *err)
{
	if (!vm || !out)
		return phy_err(err, PHY_E_INVALID, "%s: NULL argument", call);
	struct vm_device *d = vm_device_find(vm, type, index);
	if (!d)
		return phy_err(err, PHY_E_INVALID, "%s: no %s%u (the VM has %u)",
			       call, type->name, index, vm_device_count(vm, type));
	return d->type->stats(d, out, err);
}

void vm_device_failed(void *opaque, const char *msg)
{
	struct vm_device *d = opaque;
	vm_device_error(d->vm, d->name, msg);
}
