// SPDX-License-Identifier: Apache-2.0
/* --fs: virtio-fs through vhost-user. The session with the back end is
 * the VM's (virtiofsd serves one connection and ends with it): opened
 * with the VM, so that a missing or silent back end is the user's error,
 * and kept across reboots; the device of each machine uses it and
 * reconnects when it ended (at DRIVER_OK, or from the device loop when
 * the back end died while the guest used it). The counters reach the device from other
 * threads: the state guards it. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "common/error.h"
#include "devices/virtio/virtio_fs.h"
#include "vmm/config/config_fs.h"
#include "vmm/machine/device.h"
#include "vmm/vm_internal.h"

/* The longest wait for one reply from the back end: a vCPU that starts
 * or resets the device waits that long at most for a stuck one. */
#define FS_REPLY_TIMEOUT_MS 5000

struct fs_state {
	struct vhost_user session;
	pthread_mutex_t lock;
	struct virtio_fs *dev;         /* while a machine has one */
	struct virtio_fs_stats earlier; /* the earlier machines' counts */
};

static int fs_open(struct vm_device *d, struct phy_error *err)
{
	const struct fs_config *c = d->conf;
	struct stat st;
	const char *why;
	if (stat(c->socket, &st))
		return phy_err_errno(err, PHY_E_INVALID, errno, "--fs: socket=%s",
				     c->socket);
	if (!S_ISSOCK(st.st_mode))
		return phy_err(err, PHY_E_INVALID, "--fs: socket=%s is not a socket",
			       c->socket);
	struct fs_state *s = calloc(1, sizeof(*s));
	if (!s)
		return phy_err(err, PHY_E_NOMEM, "--fs: out of memory");
	vhost_user_init(&s->session, c->socket, FS_REPLY_TIMEOUT_MS);
	if (vhost_user_connect(&s->session, c->num_queues + 1, &why)) {
		free(s);
		return phy_err(err, PHY_E_INVALID,
			       "--fs: socket=%s: no vhost-user session: %s",
			       c->socket, why);
	}
	pthread_mutex_init(&s->lock, NULL);
	d->state = s;
	return 0;
}

static void fs_close(struct vm_device *d)
{
	struct fs_state *s = d->state;
	if (s) {
		vhost_user_disconnect(&s->session);
		pthread_mutex_destroy(&s->lock);
	}
	free(s);
	d->state = NULL;
}

static int fs_create(struct vm_device *d, struct machine *m,
		     struct phy_error *err)
{
	const struct fs_config *c = d->conf;
	struct fs_state *s = d->state;
	struct virtio_fs_params p = {
		.tag = c->tag,
		.request_queues = c->num_queues,
		.queue_size = (uint16_t)c->queue_size,
		.session = &s->session,
	};
	struct io_loop *loop;
	struct virtio_fs *fs;
	int ret = machine_io_loop(m, &loop, err);
	if (!ret)
		ret = virtio_fs_create(&fs, &p, d->name, &d->vm->mem, loop, err);
	if (ret)
		return ret;
	d->dev = fs;
	pthread_mutex_lock(&s->lock);
	s->dev = fs;
	pthread_mutex_unlock(&s->lock);
	return machine_plug_virtio(m, d, virtio_fs_dev(fs), err);
}

static void add_counts(struct virtio_fs_stats *to, const struct virtio_fs_stats *st)
{
	to->kicks += st->kicks;
	to->calls += st->calls;
	to->connects += st->connects;
	to->failures += st->failures;
}

static void fs_destroy(struct vm_device *d)
{
	struct fs_state *s = d->state;
	pthread_mutex_lock(&s->lock);
	if (s->dev) {
		struct virtio_fs_stats st;
		virtio_fs_stats(s->dev, &st);
		add_counts(&s->earlier, &st);
	}
	s->dev = NULL;
	pthread_mutex_unlock(&s->lock);
	virtio_fs_destroy(d->dev);
	d->dev = NULL;
}

static int fs_stats(struct vm_device *d, void *out, struct phy_error *err)
{
	struct fs_state *s = d->state;
	struct virtio_fs_stats st = {0};
	(void)err;
	pthread_mutex_lock(&s->lock);
	if (s->dev)
		virtio_fs_stats(s->dev, &st);
	add_counts(&st, &s->earlier);
	pthread_mutex_unlock(&s->lock);
	*(struct phy_fs_stats *)out = (struct phy_fs_stats){
		.kicks = st.kicks,
		.calls = st.calls,
		.reconnects = st.connects,
		.failures = st.failures,
	};
	return 0;
}

const struct device_type virtio_fs_type = {
	.name = "virtio-fs",
	.numbered = true,
	.option = &fs_option,
	.open = fs_open,
	.close = fs_close,
	.create = fs_create,
	.destroy = fs_destroy,
	.stats = fs_stats,
};

int phy_vm_fs_stats(const struct phy_vm *vm, unsigned index,
		    struct phy_fs_stats *out, struct phy_error *err)
{
	if (!vm || !out)
		return phy_err(err, PHY_E_INVALID, "phy_vm_fs_stats: NULL argument");
	if (!vm_device_find(vm, &virtio_fs_type, index))
		return phy_err(err, PHY_E_INVALID,
			       "phy_vm_fs_stats: the VM has no virtio-fs device %u (--fs)",
			       index);
	return vm_device_stats(vm, &virtio_fs_type, index, out, "phy_vm_fs_stats", err);
}
