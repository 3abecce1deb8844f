// SPDX-License-Identifier: Apache-2.0
/* --console: virtio-console (hvc0). Its back end (a chardev) lives for the
 * VM's life in d->state; the device is rebuilt with every machine and
 * published under vm->lock, because the back end's thread and
 * phy_vm_console_input() reach it from other threads. Also the public
 * calls on both consoles, the serial port's included. */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "devices/virtio/virtio_console.h"
#include "vmm/chardev.h"
#include "vmm/machine/device.h"
#include "vmm/machine/rows.h"
#include "vmm/vm_internal.h"

static unsigned console_count(const struct phy_vm *vm)
{
	return vm->cfg.console != SERIAL_OFF;
}

static size_t console_input(void *opaque, const uint8_t *buf, size_t len)
{
	struct vm_device *d = opaque;
	pthread_mutex_lock(&d->vm->lock);
	size_t n = d->dev ? virtio_console_input(d->dev, buf, len) : 0;
	pthread_mutex_unlock(&d->vm->lock);
	return n;
}

static int console_open(struct vm_device *d, struct phy_error *err)
{
	struct chardev *c = malloc(sizeof(*c));
	if (!c)
		return phy_err(err, PHY_E_NOMEM, "--console: out of memory");
	chardev_init(c);
	d->state = c;
	const struct phy_config *cfg = &d->vm->cfg;
	c->sandbox = cfg->seccomp;
	return chardev_open(c, cfg->console, cfg->console_path, "console",
			    console_input, d, err);
}

static void console_close(struct vm_device *d)
{
	if (d->state)
		chardev_close(d->state);
	free(d->state);
	d->state = NULL;
}

static int console_create(struct vm_device *d, struct machine *m,
			  struct phy_error *err)
{
	struct io_loop *loop;
	struct virtio_console *con;
	int ret = machine_io_loop(m, &loop, err);
	if (!ret)
		ret = virtio_console_create(&con, d->name, &d->vm->mem, loop,
					    chardev_write, d->state, err);
	if (ret)
		return ret;
	pthread_mutex_lock(&d->vm->lock);
	d->dev = con;
	pthread_mutex_unlock(&d->vm->lock);
	return machine_plug_virtio(m, d, virtio_console_dev(con), err);
}

static void console_destroy(struct vm_device *d)
{
	pthread_mutex_lock(&d->vm->lock);
	virtio_console_destroy(d->dev);
	d->dev = NULL;
	pthread_mutex_unlock(&d->vm->lock);
}

static void console_stopped(struct vm_device *d)
{
	chardev_flush(d->state);
}

const struct device_type virtio_console_type = {
	.name = "virtio-console",
	.numbered = true,
	.count = console_count,
	.open = console_open,
	.close = console_close,
	.create = console_create,
	.destroy = console_destroy,
	.stopped = console_stopped,
};

/* ---- the public calls on both consoles ---- */

/* The back end of a console the VM has, or NULL. */
static struct chardev *console_chardev(const struct phy_vm *vm,
				       enum phy_console which)
{
	if (which == PHY_CONSOLE_SERIAL)
		return vm_device_find(vm, &com1_type, 0) ? (struct chardev *)&vm->serial
							 : NULL;
	if (which != PHY_CONSOLE_VIRTIO)
		return NULL;
	struct vm_device *d = vm_device_find(vm, &virtio_console_type, 0);
	return d ? d->state : NULL;
}

int phy_vm_console_path(const struct phy_vm *vm, enum phy_console which,
			char *buf, size_t size, struct phy_error *err)
{
	const char *opt = which == PHY_CONSOLE_SERIAL ? "serial" : "console";
	if (!vm || !buf || !size)
		return phy_err(err, PHY_E_INVALID, "phy_vm_console_path: NULL argument");
	if (which != PHY_CONSOLE_SERIAL && which != PHY_CONSOLE_VIRTIO)
		return phy_err(err, PHY_E_INVALID,
			       "phy_vm_console_path: no console %d", (int)which);
	struct chardev *c = console_chardev(vm, which);
	const char *path = c ? chardev_path(c) : NULL;
	if (!path)
		return phy_err(err, PHY_E_INVALID, "--%s: not a pty or socket", opt);
	if (strlen(path) >= size)
		return phy_err(err, PHY_E_INVALID,
			       "phy_vm_console_path: %zu bytes are too few for '%s'",
			       size, path);
	strcpy(buf, path);
	return 0;
}

int phy_vm_console_input(struct phy_vm *vm, enum phy_console which,
			 const uint8_t *buf, size_t len)
{
	if (!vm || (!buf && len))
		return -PHY_E_INVALID;
	struct vm_device *d = NULL;
	if (which == PHY_CONSOLE_SERIAL)
		d = vm_device_find(vm, &com1_type, 0);
	else if (which == PHY_CONSOLE_VIRTIO)
		d = vm_device_find(vm, &virtio_console_type, 0);
	else
		return -PHY_E_INVALID;
	if (!d)
		return 0;
	if (len > INT32_MAX)
		len = INT32_MAX;
	return (int)(which == PHY_CONSOLE_SERIAL ? vm_com1_input(d, buf, len)
						 : console_input(d, buf, len));
}

int phy_vm_serial_input(struct phy_vm *vm, const uint8_t *buf, size_t len)
{
	return phy_vm_console_input(vm, PHY_CONSOLE_SERIAL, buf, len);
}

int phy_vm_tty_console(const struct phy_vm *vm)
{
	if (!vm)
		return -PHY_E_INVALID;
	if (vm->cfg.console == SERIAL_TTY)
		return PHY_CONSOLE_VIRTIO;
	if (vm->cfg.serial == SERIAL_TTY)
		return PHY_CONSOLE_SERIAL;
	return -PHY_E_INVALID;
}
