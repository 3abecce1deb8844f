/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A 16550A-compatible UART (COM1). Transmission is instant: every byte the
 * guest writes goes straight to the output callback. Input arrives from any
 * thread through uart_input().
 */
#ifndef PHY_DEVICES_LEGACY_UART_8250_H
#define PHY_DEVICES_LEGACY_UART_8250_H

#include <stddef.h>
#include <stdint.h>

#include "common/aml.h"
#include "devices/bus.h"

#define UART_IO_SIZE 8

typedef void (*uart_irq_fn)(void *opaque, int level);
typedef void (*uart_output_fn)(void *opaque, const uint8_t *buf, size_t len);

struct uart_8250;

struct uart_8250 *uart_create(uart_irq_fn irq, void *irq_opaque,
			      uart_output_fn out, void *out_opaque);
void uart_destroy(struct uart_8250 *uart);

extern const struct bus_device_ops uart_bus_ops;

/* Queues input for the guest; returns how many bytes fitted. */
size_t uart_input(struct uart_8250 *uart, const uint8_t *buf, size_t len);

/* The UART's DSDT device (inside \_SB): Device(name), a 16550A-compatible
 * UART (PNP0501) at I/O `port` with ISA IRQ `irq`. A port range past
 * 0xFFFF or an IRQ above 15 is aml_fail(). */
void uart_8250_aml(struct aml *a, const char *name, unsigned uid,
		   uint16_t port, unsigned irq);

/* Direct register access, for tests: the same path the bus uses. */
uint8_t uart_read_reg(struct uart_8250 *uart, unsigned reg);
void uart_write_reg(struct uart_8250 *uart, unsigned reg, uint8_t val);

#endif
