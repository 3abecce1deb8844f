// SPDX-License-Identifier: Apache-2.0
/*
 * --firmware: the firmware image as read-only memory ending at 4 GiB,
 * where the boot vCPU's reset vector is. KVM cannot execute from MMIO, so
 * the image is a read-only memory slot of its own; guest writes to it
 * exit and are dropped, as a ROM's are. The image stays mapped for the
 * VM's life, so a guest reboot maps the same bytes again.
 *
 * With vars=FILE the variable store is a CFI flash (pflash.h) over the
 * file, mapped shared: a read-only memory slot while the flash reads as
 * memory, and MMIO exits while it answers commands, as QEMU's ROM
 * devices do.
 */
#include <stdlib.h>

#include "boot/boot.h"
#include "boot/firmware.h"
#include "common/error.h"
#include "devices/legacy/pflash.h"
#include "vmm/config/config_firmware.h"
#include "vmm/machine/device.h"
#include "vmm/machine/firmware_vars.h"
#include "vmm/vm_internal.h"

#define VARS_BLOCK_SIZE 0x1000 /* OVMF's erase block */

struct firmware_state {
	struct boot_image image;
	struct firmware_vars vars;
	struct firmware_layout layout;
};

/* One machine's flash over the variables. */
struct firmware_flash {
	struct pflash *pf;
	struct machine *m;
	int rom;
};

static int firmware_open(struct vm_device *d, struct phy_error *err)
{
	const struct firmware_config *fc = d->conf;
	struct firmware_state *s = calloc(1, sizeof(*s));
	if (!s)
		return phy_err(err, PHY_E_NOMEM, "%s: out of memory", d->name);
	d->state = s;
	s->vars.fd = -1;
	int ret = boot_image_open(&s->image, fc->path, "--firmware", err);
	if (!ret)
		ret = firmware_check_image(s->image.data, s->image.size,
					   "firmware", err);
	if (!ret && fc->vars)
		ret = firmware_vars_open(&s->vars, fc->vars, fc->vars_template,
					 fc->path, s->image.data, s->image.size,
					 err);
	if (!ret)
		ret = firmware_layout(s->image.data, s->image.size,
				      s->vars.size, &s->layout, "firmware", err);
	return ret;
}

static void firmware_close(struct vm_device *d)
{
	struct firmware_state *s = d->state;
	if (!s)
		return;
	boot_image_close(&s->image);
	firmware_vars_close(&s->vars);
	free(s);
	d->state = NULL;
}

/* On the vCPU thread that wrote the command, before its write returns. */
static void flash_rom_mode(void *opaque, bool array_mode)
{
	struct firmware_flash *f = opaque;
	machine_rom_enable(f->m, f->rom, array_mode);
}

static int create_flash(struct vm_device *d, struct machine *m,
			struct phy_error *err)
{
	struct firmware_state *s = d->state;
	struct firmware_flash *f = calloc(1, sizeof(*f));
	if (!f)
		return phy_err(err, PHY_E_NOMEM, "%s: out of memory", d->name);
	d->dev = f;
	f->m = m;
	struct pflash_params p = {
		.buf = s->vars.data,
		.size = s->vars.size,
		.block_size = VARS_BLOCK_SIZE,
		.set_rom_mode = flash_rom_mode,
		.opaque = f,
		.name = d->name,
	};
	int ret = pflash_create(&f->pf, &p, err);
	if (ret)
		return ret;
	f->rom = machine_add_rom(m, d, s->layout.vars_gpa, s->vars.size,
				 s->vars.data, true, err);
	if (f->rom < 0)
		return f->rom;
	return machine_add_mmio(m, d, s->layout.vars_gpa, s->vars.size,
				&pflash_bus_ops, f->pf, err);
}

static int firmware_create(struct vm_device *d, struct machine *m,
			   struct phy_error *err)
{
	struct firmware_state *s = d->state;
	const struct firmware_layout *l = &s->layout;
	int rom = machine_add_rom(m, d, l->code_gpa, l->code_size,
				  (uint8_t *)s->image.data + l->code_offset,
				  true, err);
	if (rom < 0)
		return rom;
	return l->vars_size ? create_flash(d, m, err) : 0;
}

/* The memory slots go with the KVM VM. */
static void firmware_destroy(struct vm_device *d)
{
	struct firmware_flash *f = d->dev;
	if (!f)
		return;
	pflash_destroy(f->pf);
	free(f);
	d->dev = NULL;
}

const struct device_type firmware_type = {
	.name = "firmware",
	.option = &firmware_option,
	.open = firmware_open,
	.close = firmware_close,
	.create = firmware_create,
	.destroy = firmware_destroy,
};
