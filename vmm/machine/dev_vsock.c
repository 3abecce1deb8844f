// SPDX-License-Identifier: Apache-2.0
/* --vsock: virtio-vsock. The listening socket (socket=PATH) is the VM's:
 * a host program's connection waits in it across a guest reboot; the
 * device and its connections are rebuilt with every machine. The
 * counters reach the device from other threads: the state guards it. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/error.h"
#include "devices/virtio/virtio_vsock.h"
#include "vmm/config/config_vsock.h"
#include "vmm/machine/device.h"
#include "vmm/vm_internal.h"

struct vsock_state {
	int listen_fd;
	pthread_mutex_t lock;
	struct virtio_vsock *dev;          /* while a machine has one */
	struct virtio_vsock_stats earlier; /* the earlier machines' counts */
};

/* Binds PATH: a socket left there by an earlier run is replaced, any
 * other file is refused. */
static int vsock_listen(const char *path, struct phy_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return phy_err(err, PHY_E_INVALID,
				       "--vsock: socket=%s exists and is not a socket", path);
		unlink(path);
	}
	memcpy(sa.sun_path, path, strlen(path) + 1); /* checked by the option */
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return phy_err_errno(err, PHY_E_INTERNAL, errno, "--vsock: socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 64)) {
		int e = errno;
		close(fd);
		return phy_err_errno(err, PHY_E_INVALID, e,
				     "--vsock: cannot listen on socket=%s", path);
	}
	return fd;
}

static int vsock_open(struct vm_device *d, struct phy_error *err)
{
	const struct vsock_config *c = d->conf;
	struct vsock_state *s = calloc(1, sizeof(*s));
	if (!s)
		return phy_err(err, PHY_E_NOMEM, "--vsock: out of memory");
	s->listen_fd = vsock_listen(c->socket, err);
	if (s->listen_fd < 0) {
		int r = s->listen_fd;
		free(s);
		return r;
	}
	pthread_mutex_init(&s->lock, NULL);
	d->state = s;
	return 0;
}

static void vsock_close(struct vm_device *d)
{
	const struct vsock_config *c = d->conf;
	struct vsock_state *s = d->state;
	if (s) {
		close(s->listen_fd);
		unlink(c->socket);
		pthread_mutex_destroy(&s->lock);
	}
	free(s);
	d->state = NULL;
}

static int vsock_create(struct vm_device *d, struct machine *m,
			struct phy_error *err)
{
	const struct vsock_config *c = d->conf;
	struct vsock_state *s = d->state;
	struct virtio_vsock_params p = {
		.guest_cid = c->cid,
		.listen_fd = s->listen_fd,
		.path = c->socket,
	};
	struct io_loop *loop;
	struct virtio_vsock *v;
	int ret = machine_io_loop(m, &loop, err);
	if (!ret)
		ret = virtio_vsock_create(&v, &p, d->name, &d->vm->mem, loop, err);
	if (ret)
		return ret;
	d->dev = v;
	pthread_mutex_lock(&s->lock);
	s->dev = v;
	pthread_mutex_unlock(&s->lock);
	return machine_plug_virtio(m, d, virtio_vsock_dev(v), err);
}

static void add_counts(struct virtio_vsock_stats *to, const struct virtio_vsock_stats *st)
{
	to->host_connects += st->host_connects;
	to->guest_connects += st->guest_connects;
	to->rx_bytes += st->rx_bytes;
	to->tx_bytes += st->tx_bytes;
	to->resets += st->resets;
	to->bad_packets += st->bad_packets;
}

static void vsock_destroy(struct vm_device *d)
{
	struct vsock_state *s = d->state;
	pthread_mutex_lock(&s->lock);
	if (s->dev) {
		struct virtio_vsock_stats st;
		virtio_vsock_stats(s->dev, &st);
		add_counts(&s->earlier, &st);
	}
	s->dev = NULL;
	pthread_mutex_unlock(&s->lock);
	virtio_vsock_destroy(d->dev);
	d->dev = NULL;
}

static int vsock_stats(struct vm_device *d, void *out, struct phy_error *err)
{
	struct vsock_state *s = d->state;
	struct virtio_vsock_stats st = {0};
	(void)err;
	pthread_mutex_lock(&s->lock);
	if (s->dev)
		virtio_vsock_stats(s->dev, &st);
	uint64_t open = st.conns;
	add_counts(&st, &s->earlier);
	pthread_mutex_unlock(&s->lock);
	*(struct phy_vsock_stats *)out = (struct phy_vsock_stats){
		.host_connects = st.host_connects,
		.guest_connects = st.guest_connects,
		.conns = open,
		.rx_bytes = st.rx_bytes,
		.tx_bytes = st.tx_bytes,
		.resets = st.resets,
		.bad_packets = st.bad_packets,
	};
	return 0;
}

const struct device_type virtio_vsock_type = {
	.name = "virtio-vsock",
	.numbered = true,
	.option = &vsock_option,
	.open = vsock_open,
	.close = vsock_close,
	.create = vsock_create,
	.destroy = vsock_destroy,
	.stats = vsock_stats,
};

int phy_vm_vsock_stats(const struct phy_vm *vm, struct phy_vsock_stats *out,
		       struct phy_error *err)
{
	if (!vm || !out)
		return phy_err(err, PHY_E_INVALID, "phy_vm_vsock_stats: NULL argument");
	if (!vm_device_find(vm, &virtio_vsock_type, 0))
		return phy_err(err, PHY_E_INVALID,
			       "phy_vm_vsock_stats: the VM has no vsock device (--vsock)");
	return vm_device_stats(vm, &virtio_vsock_type, 0, out, "phy_vm_vsock_stats", err);
}
