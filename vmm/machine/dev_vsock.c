// SPDX-License-Identifier: Apache-2.0
/* --vsock: virtio-vsock. The listening socket (socket=PATH) is the VM's:
 * a host program's connection waits in it across a guest reboot; the
 * device and its connections are rebuilt with every machine. */
#include <errno.h>
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
	int *state = malloc(sizeof(*state));
	if (!state)
		return phy_err(err, PHY_E_NOMEM, "--vsock: out of memory");
	*state = vsock_listen(c->socket, err);
	if (*state < 0) {
		int r = *state;
		free(state);
		return r;
	}
	d->state = state;
	return 0;
}

static void vsock_close(struct vm_device *d)
{
	const struct vsock_config *c = d->conf;
	int *fd = d->state;
	if (fd) {
		close(*fd);
		unlink(c->socket);
	}
	free(fd);
	d->state = NULL;
}

static int vsock_create(struct vm_device *d, struct machine *m,
			struct phy_error *err)
{
	const struct vsock_config *c = d->conf;
	struct virtio_vsock_params p = {
		.guest_cid = c->cid,
		.listen_fd = *(int *)d->state,
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
	return machine_plug_virtio(m, d, virtio_vsock_dev(v), err);
}

static void vsock_destroy(struct vm_device *d)
{
	virtio_vsock_destroy(d->dev);
	d->dev = NULL;
}

const struct device_type virtio_vsock_type = {
	.name = "virtio-vsock",
	.numbered = true,
	.option = &vsock_option,
	.open = vsock_open,
	.close = vsock_close,
	.create = vsock_create,
	.destroy = vsock_destroy,
};
