// SPDX-License-Identifier: Apache-2.0
/* --disk: virtio-blk on a raw image. The image (open, locked, counted)
 * is the VM's; the device on it is rebuilt with every machine. */
#include <stdlib.h>

#include "common/error.h"
#include "devices/block/disk_image.h"
#include "devices/virtio/virtio_blk.h"
#include "vmm/config/config_disk.h"
#include "vmm/machine/device.h"
#include "vmm/machine/rows.h"
#include "vmm/vm_internal.h"

static int blk_open(struct vm_device *d, struct phy_error *err)
{
	const struct disk_config *c = d->conf;
	struct disk_image *img = calloc(1, sizeof(*img));
	if (!img)
		return phy_err(err, PHY_E_NOMEM, "--disk: out of memory");
	img->fd = -1;
	d->state = img;
	struct disk_image_params p = { c->path, c->readonly, c->direct };
	return disk_image_open(img, &p, err);
}

static void blk_close(struct vm_device *d)
{
	if (!d->state)
		return;
	disk_image_close(d->state);
	free(d->state);
}

static int blk_create(struct vm_device *d, struct machine *m,
		      struct phy_error *err)
{
	const struct disk_config *c = d->conf;
	struct virtio_blk_params p = { c->num_queues, c->queue_size, c->id };
	struct io_loop *loop;
	struct virtio_blk *blk;
	int ret = machine_io_loop(m, &loop, err);
	if (!ret)
		ret = virtio_blk_create(&blk, d->state, &p, d->name, &d->vm->mem,
					loop, err);
	if (ret)
		return ret;
	d->dev = blk;
	return machine_plug_virtio(m, d, virtio_blk_dev(blk), err);
}

static void blk_destroy(struct vm_device *d)
{
	virtio_blk_destroy(d->dev);
	d->dev = NULL;
}

static int blk_stats(struct vm_device *d, void *out, struct phy_error *err)
{
	disk_image_stats(d->state, out);
	return 0;
}

const struct device_type virtio_blk_type = {
	.name = "virtio-blk",
	.numbered = true,
	.option = &disk_option,
	.open = blk_open,
	.close = blk_close,
	.create = blk_create,
	.destroy = blk_destroy,
	.stats = blk_stats,
};

int phy_vm_disk_stats(const struct phy_vm *vm, unsigned index,
		      struct phy_disk_stats *out, struct phy_error *err)
{
	return vm_device_stats(vm, &virtio_blk_type, index, out,
			       "phy_vm_disk_stats", err);
}
