/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where the guest's serial output goes (--serial, or the embedder's hook):
 * the VMM's stdout (each byte at once on a terminal, so prompts and echo
 * are interactive), a file (line-buffered), nowhere, or a function. It
 * belongs to the VM and outlives machines; the UART's lock serialises
 * the writes into it.
 */
#ifndef PHY_VMM_SERIAL_SINK_H
#define PHY_VMM_SERIAL_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <phyllome/vmm.h>

#include "vmm/config/config.h"

#define SERIAL_BUF_SIZE 256

struct serial_sink {
	phy_serial_output_fn fn; /* the embedder's hook; wins over fd */
	void *opaque;
	int fd; /* -1: output dropped */
	bool fd_owned;
	bool unbuffered;
	uint8_t buf[SERIAL_BUF_SIZE];
	size_t len;
};

/* Opens what cfg->serial names; a file that cannot be opened is an error
 * naming --serial. */
int serial_sink_open(struct serial_sink *s, const struct phy_config *cfg,
		     struct phy_error *err);
void serial_sink_close(struct serial_sink *s);
/* What the guest wrote (a uart_output_fn; opaque: the sink). */
void serial_sink_write(void *opaque, const uint8_t *buf, size_t len);
/* Writes out what is buffered. */
void serial_sink_flush(struct serial_sink *s);

#endif
