// SPDX-License-Identifier: Apache-2.0
/*
 * --firmware: the firmware image as read-only memory ending at 4 GiB,
 * where the boot vCPU's reset vector is. KVM cannot execute from MMIO, so
 * the image is a read-only memory slot of its own; guest writes to it
 * exit and are dropped, as a ROM's are. The image stays mapped for the
 * VM's life, so a guest reboot maps the same bytes again.
 */
#include <stdlib.h>

#include "boot/boot.h"
#include "boot/firmware.h"
#include "common/error.h"
#include "vmm/config/config_firmware.h"
#include "vmm/machine/device.h"
#include "vmm/vm_internal.h"

struct firmware_state {
	struct boot_image image;
	struct firmware_layout layout;
};

static int firmware_open(struct vm_device *d, struct phy_error *err)
{
	const struct firmware_config *fc = d->conf;
	struct firmware_state *s = calloc(1, sizeof(*s));
	if (!s)
		return phy_err(err, PHY_E_NOMEM, "%s: out of memory", d->name);
	d->state = s;
	if (fc->vars)
		return phy_err(err, PHY_E_INVALID,
			       "--firmware: vars= is not implemented yet");
	int ret = boot_image_open(&s->image, fc->path, "--firmware", err);
	if (!ret)
		ret = firmware_check_image(s->image.data, s->image.size,
					   "firmware", err);
	if (!ret)
		ret = firmware_layout(s->image.data, s->image.size, 0,
				      &s->layout, "firmware", err);
	return ret;
}

static void firmware_close(struct vm_device *d)
{
	struct firmware_state *s = d->state;
	if (!s)
		return;
	boot_image_close(&s->image);
	free(s);
	d->state = NULL;
}

static int firmware_create(struct vm_device *d, struct machine *m,
			   struct phy_error *err)
{
	struct firmware_state *s = d->state;
	const struct firmware_layout *l = &s->layout;
	int rom = machine_add_rom(m, d, l->code_gpa, l->code_size,
				  (uint8_t *)s->image.data + l->code_offset,
				  true, err);
	return rom < 0 ? rom : 0;
}

const struct device_type firmware_type = {
	.name = "firmware",
	.option = &firmware_option,
	.open = firmware_open,
	.close = firmware_close,
	.create = firmware_create, /* the slot goes with the KVM VM */
};
