// SPDX-License-Identifier: Apache-2.0
/* --net: virtio-net on a tap. The tap (and what the VMM set up on it, and
 * its counters) is the VM's; the device on it is rebuilt with every
 * machine. */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "devices/net/tap.h"
#include "devices/virtio/virtio_net.h"
#include "vmm/config/config_net.h"
#include "vmm/machine/device.h"
#include "vmm/vm_internal.h"

static int net_open(struct vm_device *d, struct phy_error *err)
{
	const struct net_config *c = d->conf;
	struct tap *t = calloc(1, sizeof(*t));
	if (!t)
		return phy_err(err, PHY_E_NOMEM, "--net: out of memory");
	t->link_fd = -1;
	d->state = t;
	/* fd=: the tap adopts duplicates of the configuration's own. */
	struct tap_params p = { c->tap, c->has_ip, c->ip, c->mask, c->pairs,
				c->nr_fds ? c->fds : NULL, c->nr_fds };
	return tap_open(t, &p, err);
}

static void net_close(struct vm_device *d)
{
	if (!d->state)
		return;
	tap_close(d->state);
	free(d->state);
}

static int tap_offload(void *opaque, uint64_t guest_features)
{
	return tap_set_offload(opaque, guest_features);
}

static int tap_queues(void *opaque, unsigned pairs)
{
	return tap_set_queues(opaque, pairs);
}

static bool tap_link(void *opaque)
{
	return tap_poll_link(opaque);
}

static const struct net_backend_ops tap_backend_ops = {
	.set_offload = tap_offload,
	.set_queues = tap_queues,
	.poll_link = tap_link,
};

static int net_create(struct vm_device *d, struct machine *m,
		      struct phy_error *err)
{
	const struct net_config *c = d->conf;
	struct tap *t = d->state;
	struct net_backend be = {
		.nr_pairs = t->nr_fds,
		.offloads = t->offloads,
		.link_up = t->link_up,
		.link_fd = t->link_fd,
		.stats = t->stats,
		.ops = &tap_backend_ops,
		.opaque = t,
	};
	for (unsigned q = 0; q < t->nr_fds; q++)
		be.fds[q] = t->fds[q];
	struct io_loop *loop;
	struct virtio_net *net;
	int ret = machine_io_loop(m, &loop, err);
	if (!ret)
		ret = virtio_net_create(&net, &be, c->mac, c->queue_size, d->name,
					&d->vm->mem, loop, err);
	if (ret)
		return ret;
	d->dev = net;
	return machine_plug_virtio(m, d, virtio_net_dev(net), err);
}

static void net_destroy(struct vm_device *d)
{
	virtio_net_destroy(d->dev);
	d->dev = NULL;
}

static int net_stats(struct vm_device *d, void *out, struct phy_error *err)
{
	const struct net_config *c = d->conf;
	struct phy_net_stats *st = out;
	tap_stats(d->state, st);
	memcpy(st->mac, c->mac, sizeof(st->mac));
	return 0;
}

const struct device_type virtio_net_type = {
	.name = "virtio-net",
	.numbered = true,
	.option = &net_option,
	.open = net_open,
	.close = net_close,
	.create = net_create,
	.destroy = net_destroy,
	.stats = net_stats,
};

int phy_vm_net_stats(const struct phy_vm *vm, unsigned index,
		     struct phy_net_stats *out, struct phy_error *err)
{
	return vm_device_stats(vm, &virtio_net_type, index, out,
			       "phy_vm_net_stats", err);
}
