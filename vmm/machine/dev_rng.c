// SPDX-License-Identifier: Apache-2.0
/* --rng: virtio-rng. The entropy source stays open for the VM's life;
 * the device reading it is rebuilt with every machine. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "devices/virtio/virtio_rng.h"
#include "vmm/config/config_rng.h"
#include "vmm/machine/device.h"
#include "vmm/vm_internal.h"

static int rng_open(struct vm_device *d, struct phy_error *err)
{
	const struct rng_config *c = d->conf;
	/* Non-blocking: a source with nothing to give (a FIFO) makes the
	 * device wait on a poll, not a kernel worker on a read. */
	int fd = open(c->src, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return phy_err_errno(err, PHY_E_INVALID, errno,
				     "--rng: cannot open src=%s", c->src);
	struct stat st;
	if (fstat(fd, &st) || S_ISDIR(st.st_mode)) {
		close(fd);
		return phy_err(err, PHY_E_INVALID, "--rng: src=%s is a directory",
			       c->src);
	}
	int *state = malloc(sizeof(*state));
	if (!state) {
		close(fd);
		return phy_err(err, PHY_E_NOMEM, "--rng: out of memory");
	}
	*state = fd;
	d->state = state;
	return 0;
}

static void rng_close(struct vm_device *d)
{
	int *fd = d->state;
	if (fd)
		close(*fd);
	free(fd);
}

static int rng_create(struct vm_device *d, struct machine *m,
		      struct phy_error *err)
{
	const struct rng_config *c = d->conf;
	struct virtio_rng_params p = {
		.src_fd = *(int *)d->state,
		.src_name = c->src,
		.bytes_per_sec = VIRTIO_RNG_DEFAULT_RATE,
	};
	struct io_loop *loop;
	struct virtio_rng *rng;
	int ret = machine_io_loop(m, &loop, err);
	if (!ret)
		ret = virtio_rng_create(&rng, &p, d->name, &d->vm->mem, loop, err);
	if (ret)
		return ret;
	d->dev = rng;
	return machine_plug_virtio(m, d, virtio_rng_dev(rng), err);
}

static void rng_destroy(struct vm_device *d)
{
	virtio_rng_destroy(d->dev);
	d->dev = NULL;
}

const struct device_type virtio_rng_type = {
	.name = "virtio-rng",
	.numbered = true,
	.option = &rng_option,
	.open = rng_open,
	.close = rng_close,
	.create = rng_create,
	.destroy = rng_destroy,
};
