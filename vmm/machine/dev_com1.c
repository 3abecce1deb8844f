// SPDX-License-Identifier: Apache-2.0
/* The serial console: a 16550A at COM1, unless --serial off. Its output
 * goes to the VM's serial sink (vm.c); input arrives from any thread
 * through phy_vm_serial_input(), so the UART is published under vm->lock. */
#include <stdlib.h>

#include "arch/x86_64/layout.h"
#include "common/error.h"
#include "devices/legacy/uart_8250.h"
#include "vmm/machine/device.h"
#include "vmm/vm_internal.h"

static unsigned com1_count(const struct phy_vm *vm)
{
	return vm->cfg.serial != SERIAL_OFF;
}

static void com1_irq(void *opaque, int level)
{
	struct vm_device *d = opaque;
	vm_ops_set_line(machine_vm_ops(&d->vm->m), X86_COM1_IRQ, level);
}

static int com1_create(struct vm_device *d, struct machine *m,
		       struct phy_error *err)
{
	struct uart_8250 *uart = uart_create(com1_irq, d, serial_sink_write,
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
	.create = com1_create,
	.destroy = com1_destroy,
	.aml = com1_aml,
};

int phy_vm_serial_input(struct phy_vm *vm, const uint8_t *buf, size_t len)
{
	if (!vm || (!buf && len))
		return -PHY_E_INVALID;
	/* The UART is rebuilt on reboot; the lock keeps it alive meanwhile. */
	pthread_mutex_lock(&vm->lock);
	struct vm_device *d = vm_device_find(vm, &com1_type, 0);
	size_t n = d && d->dev ? uart_input(d->dev, buf, len) : 0;
	pthread_mutex_unlock(&vm->lock);
	return (int)n;
}
