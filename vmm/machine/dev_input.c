// SPDX-License-Identifier: Apache-2.0
/* The keyboard and the tablet that --display sdl's window drives: two
 * virtio-input devices. */
#include "common/error.h"
#include "devices/virtio/virtio_input.h"
#include "vmm/machine/device.h"
#include "vmm/machine/rows.h"
#include "vmm/vm_internal.h"

static unsigned with_window(const struct phy_vm *vm)
{
	return vm->cfg.display == DISPLAY_SDL;
}

static int input_create(struct vm_device *d, struct machine *m,
			enum virtio_input_kind kind, struct phy_error *err)
{
	struct io_loop *loop;
	struct virtio_input *in;
	int ret = machine_io_loop(m, &loop, err);
	if (!ret)
		ret = virtio_input_create(&in, kind, d->name, NULL, &d->vm->mem,
					  loop, err);
	if (ret)
		return ret;
	d->dev = in;
	return machine_plug_virtio(m, d, virtio_input_dev(in), err);
}

static int keyboard_create(struct vm_device *d, struct machine *m,
			   struct phy_error *err)
{
	return input_create(d, m, VIRTIO_INPUT_KEYBOARD, err);
}

static int tablet_create(struct vm_device *d, struct machine *m,
			 struct phy_error *err)
{
	return input_create(d, m, VIRTIO_INPUT_TABLET, err);
}

static void input_destroy(struct vm_device *d)
{
	virtio_input_destroy(d->dev);
	d->dev = NULL;
}

const struct device_type virtio_keyboard_type = {
	.name = "virtio-keyboard",
	.count = with_window,
	.create = keyboard_create,
	.destroy = input_destroy,
};

const struct device_type virtio_tablet_type = {
	.name = "virtio-tablet",
	.count = with_window,
	.create = tablet_create,
	.destroy = input_destroy,
};
