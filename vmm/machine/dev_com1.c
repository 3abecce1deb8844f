// SPDX-License-Identifier: Apache-2.0
/* The serial console: a 16550A at COM1, unless --serial off. Its back end
 * (vm->serial, vmm/chardev.h) lives as long as the VM: opened and closed
 * here. Input arrives from any thread (phy_vm_console_input(), the back
 * end's thread for pty and socket), so the UART is published under
 * vm->lock. */
#include <stdlib.h>

#include "arch/x86_64/layout.h"
#include "common/error.h"
#include "devices/legacy/uart_8250.h"
#include "vmm/machine/device.h"
#include "vmm/machine/rows.h"
#include "vmm/vm_internal.h"

static unsigned com1_count(const struct phy_vm *vm)
{
	return vm->cfg.serial != SERIAL_OFF;
}

size_t vm_com1_input(void *opaque, const uint8_t *buf, size_t len)
{
	struct vm_device *d = opaque;
	/* The UART is rebuilt on reboot; the lock keeps it alive meanwhile. */
	pthread_mutex_lock(&d->vm->lock);
	size_t n = d->dev ? uart_input(d->dev, buf, len) : 0;
	pthread_mutex_unlock(&d->vm->lock);
	return n;
}

static int com1_open(struct vm_device *d, struct phy_error *err)
{
	const struct phy_config *cfg = &d->vm->cfg;
	d->vm->serial.sandbox = cfg->seccomp;
	return chardev_open(&d->vm->serial, cfg->serial, cfg->serial_path, "serial",
			    vm_com1_input, d, err);
}

static void com1_close(struct vm_device *d)
{
	chardev_close(&d->vm->serial);
}

static void com1_irq(void *opaque, int level)
{
	struct vm_device *d = opaque;
	vm_ops_set_line(machine_vm_ops(&d->vm->m), X86_COM1_IRQ, level);
}

static int com1_create(struct vm_device *d, struct machine *m,
		       struct phy_error *err)
{
	struct uart_8250 *uart = uart_create(com1_irq, d, chardev_write,
					     &d->vm->serial);
	if (!uart)
		return phy_err(err, PHY_E_NOMEM, "serial: out of memory");
	pthread_mutex_lock(&d->vm->lock);
	d->dev = uart;
	pthread_mutex_unlock(&d->vm->lock);
	return machine_add_pio(m, d, X86_COM1_PORT, UART_IO_SIZE, &uart_bus_ops,
			       uart, false, err);
}

static void com1_destroy(struct vm_device *d)
{
	pthread_mutex_lock(&d->vm->lock);
	uart_destroy(d->dev);
	d->dev = NULL;
	pthread_mutex_unlock(&d->vm->lock);
}

static void com1_aml(void *d, struct aml *a)
{
	uart_8250_aml(a, "COM1", 1, X86_COM1_PORT, X86_COM1_IRQ);
}

const struct device_type com1_type = {
	.name = "com1",
	.count = com1_count,
	.open = com1_open,
	.close = com1_close,
	.create = com1_create,
	.destroy = com1_destroy,
	.aml = com1_aml,
};
