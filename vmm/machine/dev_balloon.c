// SPDX-License-Identifier: Apache-2.0
/* --balloon: virtio-balloon. The target is the VM's (it survives a guest
 * reboot: the next machine's device asks for it again); the device and
 * what the driver holds are the machine's. Other threads reach the device
 * (phy_vm_set_balloon, the counters): the row's state guards it. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "devices/virtio/virtio_balloon.h"
#include "vmm/config/config_balloon.h"
#include "vmm/machine/device.h"
#include "vmm/vm_internal.h"

struct balloon_state {
	pthread_mutex_t lock;
	uint64_t target;
	struct virtio_balloon *dev; /* while a machine has one */
	struct virtio_balloon_stats last; /* what the last machine's counted */
};

static int balloon_open(struct vm_device *d, struct phy_error *err)
{
	const struct balloon_config *c = d->conf;
	struct balloon_state *s = calloc(1, sizeof(*s));
	if (!s)
		return phy_err(err, PHY_E_NOMEM, "--balloon: out of memory");
	pthread_mutex_init(&s->lock, NULL);
	s->target = c->size;
	d->state = s;
	return 0;
}

static void balloon_close(struct vm_device *d)
{
	struct balloon_state *s = d->state;
	if (s)
		pthread_mutex_destroy(&s->lock);
	free(s);
	d->state = NULL;
}

static int balloon_create(struct vm_device *d, struct machine *m,
			  struct phy_error *err)
{
	const struct balloon_config *c = d->conf;
	struct balloon_state *s = d->state;
	struct virtio_balloon_params p = {
		.deflate_on_oom = c->deflate_on_oom,
		.free_page_reporting = c->free_page_reporting,
	};
	struct io_loop *loop;
	struct virtio_balloon *b;
	int ret = machine_io_loop(m, &loop, err);
	if (!ret)
		ret = virtio_balloon_create(&b, &p, d->name, &d->vm->mem, loop, err);
	if (ret)
		return ret;
	pthread_mutex_lock(&s->lock);
	ret = virtio_balloon_set_target(b, s->target, err);
	s->dev = b;
	pthread_mutex_unlock(&s->lock);
	d->dev = b;
	return ret ? ret : machine_plug_virtio(m, d, virtio_balloon_dev(b), err);
}

static void balloon_destroy(struct vm_device *d)
{
	struct balloon_state *s = d->state;
	pthread_mutex_lock(&s->lock);
	if (s->dev) {
		/* The counters go on from where this machine left them. */
		struct virtio_balloon_stats st;
		virtio_balloon_stats(s->dev, &st);
		s->last.inflated_pages += st.inflated_pages;
		s->last.deflated_pages += st.deflated_pages;
		s->last.reported_bytes += st.reported_bytes;
		if (st.guest_stats_valid) {
			s->last.guest_stats_valid = st.guest_stats_valid;
			memcpy(s->last.guest_stats, st.guest_stats, sizeof(st.guest_stats));
		}
	}
	s->dev = NULL;
	pthread_mutex_unlock(&s->lock);
	virtio_balloon_destroy(d->dev);
	d->dev = NULL;
}

static void to_public(const struct balloon_state *s,
		      const struct virtio_balloon_stats *st,
		      struct phy_balloon_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->target_bytes = s->target;
	out->actual_bytes = st->actual_bytes;
	out->inflated_pages = st->inflated_pages;
	out->deflated_pages = st->deflated_pages;
	out->reported_bytes = st->reported_bytes;
	out->guest_stats_valid = st->guest_stats_valid;
	memcpy(out->guest_stats, st->guest_stats, sizeof(out->guest_stats));
}

static int balloon_stats(struct vm_device *d, void *out, struct phy_error *err)
{
	struct balloon_state *s = d->state;
	(void)err;
	pthread_mutex_lock(&s->lock);
	struct virtio_balloon_stats st = s->last;
	if (s->dev) {
		/* This machine's counts on top of the earlier machines'. */
		virtio_balloon_stats(s->dev, &st);
		st.inflated_pages += s->last.inflated_pages;
		st.deflated_pages += s->last.deflated_pages;
		st.reported_bytes += s->last.reported_bytes;
		if (!st.guest_stats_valid) {
			st.guest_stats_valid = s->last.guest_stats_valid;
			memcpy(st.guest_stats, s->last.guest_stats, sizeof(st.guest_stats));
		}
	}
	to_public(s, &st, out);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

const struct device_type virtio_balloon_type = {
	.name = "virtio-balloon",
	.numbered = true,
	.option = &balloon_option,
	.open = balloon_open,
	.close = balloon_close,
	.create = balloon_create,
	.destroy = balloon_destroy,
	.stats = balloon_stats,
};

int phy_vm_balloon_stats(const struct phy_vm *vm, struct phy_balloon_stats *out,
			 struct phy_error *err)
{
	if (!vm || !out)
		return phy_err(err, PHY_E_INVALID, "phy_vm_balloon_stats: NULL argument");
	if (!vm_device_find(vm, &virtio_balloon_type, 0))
		return phy_err(err, PHY_E_INVALID,
			       "phy_vm_balloon_stats: the VM has no balloon (--balloon)");
	return vm_device_stats(vm, &virtio_balloon_type, 0, out,
			       "phy_vm_balloon_stats", err);
}

int phy_vm_set_balloon(struct phy_vm *vm, uint64_t bytes, struct phy_error *err)
{
	if (!vm)
		return phy_err(err, PHY_E_INVALID, "phy_vm_set_balloon: NULL argument");
	struct vm_device *d = vm_device_find(vm, &virtio_balloon_type, 0);
	if (!d)
		return phy_err(err, PHY_E_INVALID,
			       "phy_vm_set_balloon: the VM has no balloon (--balloon)");
	if (bytes > vm->cfg.memory || bytes % VIRTIO_BALLOON_PAGE)
		return phy_err(err, PHY_E_INVALID,
			       "phy_vm_set_balloon: %llu bytes is not 4 KiB pages up to the VM's "
			       "memory (%llu)", (unsigned long long)bytes,
			       (unsigned long long)vm->cfg.memory);
	struct balloon_state *s = d->state;
	pthread_mutex_lock(&s->lock);
	int ret = s->dev ? virtio_balloon_set_target(s->dev, bytes, err) : 0;
	if (!ret)
		s->target = bytes;
	pthread_mutex_unlock(&s->lock);
	return ret;
}
