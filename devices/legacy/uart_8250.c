/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/legacy/uart_8250.h"

#include <pthread.h>
#include <stdlib.h>

enum {
	REG_RBR_THR = 0, REG_IER = 1, REG_IIR_FCR = 2, REG_LCR = 3,
	REG_MCR = 4, REG_LSR = 5, REG_MSR = 6, REG_SCR = 7,
};

#define IER_RDI 0x01  /* received data available */
#define IER_THRI 0x02 /* transmitter holding register empty */
#define IER_MASK 0x0f
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define LCR_DLAB 0x80
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1f
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

#define RX_SIZE 4096

struct uart_8250 {
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	uint8_t thr_ipending; /* THRE interrupt not yet acknowledged */
	int irq_level;
	uint8_t rx[RX_SIZE];
	unsigned rx_head, rx_count;
	uart_irq_fn irq;
	void *irq_opaque;
	uart_output_fn out;
	void *out_opaque;
};

struct uart_8250 *uart_create(uart_irq_fn irq, void *irq_opaque,
			      uart_output_fn out, void *out_opaque)
{
	struct uart_8250 *u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	pthread_mutex_init(&u->lock, NULL);
	u->irq = irq;
	u->irq_opaque = irq_opaque;
	u->out = out;
	u->out_opaque = out_opaque;
	u->mcr = MCR_OUT2;
	u->dll = 12; /* 9600 baud, as after a PC's firmware */
	return u;
}

void uart_destroy(struct uart_8250 *u)
{
	if (!u)
		return;
	pthread_mutex_destroy(&u->lock);
	free(u);
}

static uint8_t iir_locked(const struct uart_8250 *u)
{
	uint8_t fifo = (u->fcr & FCR_ENABLE) ? IIR_FIFO : 0;
	if ((u->ier & IER_RDI) && u->rx_count)
		return IIR_RDI | fifo;
	if ((u->ier & IER_THRI) && u->thr_ipending)
		return IIR_THRI | fifo;
	return IIR_NONE | fifo;
}

/* The IRQ line follows "an interrupt is pending"; the in-kernel PIC and
 * IOAPIC turn the level change into an edge. */
static void update_irq_locked(struct uart_8250 *u)
{
	int level = !(iir_locked(u) & IIR_NONE);
	if (level != u->irq_level) {
		u->irq_level = level;
		if (u->irq)
			u->irq(u->irq_opaque, level);
	}
}

static void rx_push_locked(struct uart_8250 *u, uint8_t c)
{
	if (u->rx_count == RX_SIZE)
		return;
	u->rx[(u->rx_head + u->rx_count) % RX_SIZE] = c;
	u->rx_count++;
}

static uint8_t rx_pop_locked(struct uart_8250 *u)
{
	if (!u->rx_count)
		return 0;
	uint8_t c = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % RX_SIZE;
	u->rx_count--;
	return c;
}

/* In loopback mode the modem outputs feed the modem inputs; Linux's probe
 * checks this to recognise a real 8250. */
static uint8_t msr_locked(const struct uart_8250 *u)
{
	if (!(u->mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	uint8_t m = 0;
	if (u->mcr & MCR_DTR) m |= MSR_DSR;
	if (u->mcr & MCR_RTS) m |= MSR_CTS;
	if (u->mcr & MCR_OUT1) m |= MSR_RI;
	if (u->mcr & MCR_OUT2) m |= MSR_DCD;
	return m;
}

static uint8_t read_locked(struct uart_8250 *u, unsigned reg)
{
	uint8_t v = 0;
	switch (reg) {
	case REG_RBR_THR:
		if (u->lcr & LCR_DLAB)
			return u->dll;
		v = rx_pop_locked(u);
		break;
	case REG_IER:
		return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
	case REG_IIR_FCR:
		v = iir_locked(u);
		/* Reading IIR acknowledges a THRE interrupt it reports. */
		if ((v & 0x0f) == IIR_THRI)
			u->thr_ipending = 0;
		break;
	case REG_LCR:
		return u->lcr;
	case REG_MCR:
		return u->mcr;
	case REG_LSR:
		return LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0);
	case REG_MSR:
		return msr_locked(u);
	case REG_SCR:
		return u->scr;
	}
	update_irq_locked(u);
	return v;
}

static void write_locked(struct uart_8250 *u, unsigned reg, uint8_t v)
{
	switch (reg) {
	case REG_RBR_THR:
		if (u->lcr & LCR_DLAB) {
			u->dll = v;
			return;
		}
		if (u->mcr & MCR_LOOP)
			rx_push_locked(u, v);
		else if (u->out)
			u->out(u->out_opaque, &v, 1);
		/* Sent at once: the holding register is empty again. */
		u->thr_ipending = 1;
		break;
	case REG_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
			return;
		}
		/* Enabling THRE interrupts with an empty THR raises one. */
		if (!(u->ier & IER_THRI) && (v & IER_THRI))
			u->thr_ipending = 1;
		u->ier = v & IER_MASK;
		break;
	case REG_IIR_FCR:
		u->fcr = v & (FCR_ENABLE | 0xc0);
		if (v & FCR_CLEAR_RX)
			u->rx_count = 0;
		break;
	case REG_LCR:
		u->lcr = v;
		return;
	case REG_MCR:
		u->mcr = v & MCR_MASK;
		return;
	case REG_SCR:
		u->scr = v;
		return;
	default:
		return;
	}
	update_irq_locked(u);
}

uint8_t uart_read_reg(struct uart_8250 *u, unsigned reg)
{
	pthread_mutex_lock(&u->lock);
	uint8_t v = read_locked(u, reg & 7);
	pthread_mutex_unlock(&u->lock);
	return v;
}

void uart_write_reg(struct uart_8250 *u, unsigned reg, uint8_t val)
{
	pthread_mutex_lock(&u->lock);
	write_locked(u, reg & 7, val);
	pthread_mutex_unlock(&u->lock);
}

size_t uart_input(struct uart_8250 *u, const uint8_t *buf, size_t len)
{
	pthread_mutex_lock(&u->lock);
	size_t n = 0;
	while (n < len && u->rx_count < RX_SIZE)
		rx_push_locked(u, buf[n++]);
	update_irq_locked(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

static void uart_bus_read(void *opaque, uint64_t off, uint8_t *data,
			  uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		data[i] = uart_read_reg(opaque, (unsigned)(off + i));
}

static void uart_bus_write(void *opaque, uint64_t off, const uint8_t *data,
			   uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		uart_write_reg(opaque, (unsigned)(off + i), data[i]);
}

const struct bus_device_ops uart_bus_ops = {
	.read = uart_bus_read,
	.write = uart_bus_write,
};

void uart_8250_aml(struct aml *a, const char *name, unsigned uid,
		   uint16_t port, unsigned irq)
{
	if (!port || port > 0xFFFF - (UART_IO_SIZE - 1) || irq > 15) {
		aml_fail(a);
		return;
	}
	size_t dev = aml_device_begin(a, name);

	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0501");
	aml_name_integer(a, "_UID", uid);
	/* Present, enabled, shown in the UI, functioning. */
	aml_method_return_integer(a, "_STA", 0x0F);

	aml_name(a, "_CRS");
	size_t rt = aml_rt_begin(a);
	aml_rt_io(a, port, port, 0, UART_IO_SIZE);
	aml_rt_irq_noflags(a, irq);
	aml_rt_end(a, rt);

	aml_end(a, dev);
}
