/* SPDX-License-Identifier: Apache-2.0 */
/* The 16550A model: output, input, interrupts and Linux's probe sequence. */
#include "check.h"
#include "devices/legacy/uart_8250.h"

struct sink {
	char out[256];
	unsigned len;
	int irq;
	unsigned irq_changes;
};

static void irq_fn(void *o, int level)
{
	struct sink *s = o;
	s->irq = level;
	s->irq_changes++;
}

static void out_fn(void *o, const uint8_t *b, size_t n)
{
	struct sink *s = o;
	for (size_t i = 0; i < n && s->len < sizeof(s->out) - 1; i++)
		s->out[s->len++] = (char)b[i];
}

enum { RBR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

static void test_output_and_lsr(void)
{
	struct sink s = { 0 };
	struct uart_8250 *u = uart_create(irq_fn, &s, out_fn, &s);
	CHECK(uart_read_reg(u, LSR) & 0x20);
	CHECK((uart_read_reg(u, LSR) & 0x01) == 0);
	uart_write_reg(u, RBR, 'h');
	uart_write_reg(u, RBR, 'i');
	CHECK(s.len == 2 && s.out[0] == 'h' && s.out[1] == 'i');
	CHECK(s.irq == 0); /* no interrupts enabled */
	/* The divisor latch hides THR: nothing is sent while DLAB is set. */
	uart_write_reg(u, LCR, 0x80);
	uart_write_reg(u, RBR, 0x01);
	uart_write_reg(u, IER, 0x00);
	CHECK(uart_read_reg(u, RBR) == 0x01);
	uart_write_reg(u, LCR, 0x03);
	CHECK(s.len == 2);
	CHECK(uart_read_reg(u, LCR) == 0x03);
	uart_write_reg(u, SCR, 0xa5);
	CHECK(uart_read_reg(u, SCR) == 0xa5);
	uart_destroy(u);
}

static void test_rx_interrupt(void)
{
	struct sink s = { 0 };
	struct uart_8250 *u = uart_create(irq_fn, &s, out_fn, &s);
	uart_write_reg(u, IER, 0x01);
	CHECK(s.irq == 0);
	CHECK(uart_input(u, (const uint8_t *)"ab", 2) == 2);
	CHECK(s.irq == 1);
	CHECK((uart_read_reg(u, IIR) & 0x0f) == 0x04);
	CHECK(uart_read_reg(u, LSR) & 0x01);
	CHECK(uart_read_reg(u, RBR) == 'a');
	CHECK(s.irq == 1);
	CHECK(uart_read_reg(u, RBR) == 'b');
	CHECK(s.irq == 0);
	CHECK((uart_read_reg(u, LSR) & 0x01) == 0);
	CHECK(uart_read_reg(u, IIR) & 0x01);
	/* Reading an empty RBR is harmless. */
	CHECK(uart_read_reg(u, RBR) == 0);
	/* A full buffer refuses more instead of overwriting. */
	uint8_t big[5000];
	memset(big, 'x', sizeof(big));
	CHECK(uart_input(u, big, sizeof(big)) == 4096);
	uart_write_reg(u, FCR, 0x03); /* clear rx FIFO */
	CHECK((uart_read_reg(u, LSR) & 0x01) == 0);
	uart_destroy(u);
}

static void test_thre_interrupt(void)
{
	struct sink s = { 0 };
	struct uart_8250 *u = uart_create(irq_fn, &s, out_fn, &s);
	uart_write_reg(u, IER, 0x02); /* enabling THRE with empty THR fires */
	CHECK(s.irq == 1);
	CHECK((uart_read_reg(u, IIR) & 0x0f) == 0x02);
	CHECK(s.irq == 0); /* IIR read acknowledged it */
	uart_write_reg(u, RBR, 'z');
	CHECK(s.irq == 1); /* sent at once: empty again */
	uart_write_reg(u, IER, 0x00);
	CHECK(s.irq == 0);
	uart_write_reg(u, FCR, 0x01);
	CHECK((uart_read_reg(u, IIR) & 0xc0) == 0xc0); /* 16550A FIFO bits */
	uart_destroy(u);
}

/* Linux's autoconfig: loopback makes MSR mirror MCR, and loopback data
 * comes back on RBR instead of going out. */
static void test_loopback(void)
{
	struct sink s = { 0 };
	struct uart_8250 *u = uart_create(irq_fn, &s, out_fn, &s);
	uart_write_reg(u, MCR, 0x10 | 0x0a);
	CHECK((uart_read_reg(u, MSR) & 0xf0) == 0x90);
	uart_write_reg(u, MCR, 0x10 | 0x05);
	CHECK((uart_read_reg(u, MSR) & 0xf0) == 0x60);
	uart_write_reg(u, RBR, 'L');
	CHECK(s.len == 0);
	CHECK(uart_read_reg(u, RBR) == 'L');
	uart_write_reg(u, MCR, 0x0b);
	CHECK((uart_read_reg(u, MSR) & 0xb0) == 0xb0); /* carrier, DSR, CTS */
	uart_destroy(u);
}

static void test_bus_ops(void)
{
	struct sink s = { 0 };
	struct uart_8250 *u = uart_create(irq_fn, &s, out_fn, &s);
	uint8_t two[2] = { 'o', 'k' };
	/* A 2-byte access at offset 0 writes THR then IER. */
	uart_bus_ops.write(u, 0, two, 1);
	uint8_t v = 0;
	uart_bus_ops.read(u, 5, &v, 1);
	CHECK(v & 0x20);
	CHECK(s.len == 1 && s.out[0] == 'o');
	uart_destroy(u);
	uart_destroy(NULL);
}

int main(void)
{
	test_output_and_lsr();
	test_rx_interrupt();
	test_thre_interrupt();
	test_loopback();
	test_bus_ops();
	return check_report("test_uart");
}
