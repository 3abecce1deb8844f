/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A console's host end, shared by the serial port (--serial) and the
 * virtio console (--console): where the guest's output goes and where its
 * input comes from. One per console, for the VM's life (a guest reboot
 * rebuilds the devices, not this).
 *
 *   tty     the VMM's stdout (each byte at once on a terminal, so prompts
 *           and echo are interactive); the front-end feeds stdin
 *           (phy_vm_console_input)
 *   file    appended to PATH (truncated at open), line-buffered
 *   null    output dropped (off: the device is not there at all)
 *   pty     a pseudo-terminal the VMM opens (raw mode); its slave's path
 *           is chardev_path(). Output waits while nobody has the slave
 *           open; what the client writes is the guest's input
 *   socket  a Unix stream socket the VMM binds at PATH (which must not
 *           exist; it is removed at close). One client at a time: another
 *           one that connects meanwhile is accepted and closed at once
 *           (refused); when the client leaves, the next one is taken
 *
 * pty and socket have a thread of their own (poll(): the descriptor, the
 * listening socket, an eventfd). Output never blocks the caller (a vCPU
 * thread, the device loop): with no client, or one that does not read,
 * it waits in a ring of CHARDEV_RING_SIZE bytes, the oldest bytes dropped
 * (and counted) beyond it, and the thread writes it out once the client
 * is there and can take it. Input read from the client goes to the
 * input function; what it does not take (the UART's FIFO is full, the
 * driver has no buffers) waits in CHARDEV_INPUT_SIZE bytes, offered again
 * every CHARDEV_RETRY_MS; while that is full nothing more is read, so a
 * client that types faster than the guest reads is held back, not lost.
 *
 * The embedder's output hook (phy_vm_set_serial_output) wins over the
 * mode for the serial port.
 *
 * Threads: chardev_write() and chardev_flush() may be called from any
 * thread (vCPUs for the UART, the device loop for the virtio console,
 * the supervisor when the VM stops); `lock` serialises them with the
 * chardev's own thread.
 */
#ifndef PHY_VMM_CHARDEV_H
#define PHY_VMM_CHARDEV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <phyllome/vmm.h>

#include "vmm/config/config.h"

#define CHARDEV_LINE_SIZE 256          /* a file's line buffer */
#define CHARDEV_RING_SIZE (64u * 1024) /* output kept for an absent client */
#define CHARDEV_INPUT_SIZE 4096        /* input the guest did not take yet */
#define CHARDEV_RETRY_MS 10

/* Offers input to the guest (the chardev's thread); returns the bytes
 * taken, which may be 0. */
typedef size_t (*chardev_input_fn)(void *opaque, const uint8_t *buf,
				   size_t len);

struct chardev_stats {
	uint64_t out_bytes;     /* output written to the client, file or tty */
	uint64_t dropped_bytes; /* output dropped from the full ring */
	uint64_t in_bytes;      /* input the guest took */
	uint64_t clients;       /* clients taken (socket) or attaches (pty) */
	uint64_t refused;       /* socket clients refused: one was there */
	size_t buffered;        /* output in the ring now */
};

struct chardev {
	enum serial_mode mode;
	enum sandbox_mode sandbox; /* its thread's seccomp filter */
	const char *opt;    /* "serial", "console": for messages */
	phy_serial_output_fn fn; /* the embedder's hook; wins over the mode */
	void *opaque;
	int fd; /* tty, file: where output goes; pty: the master; -1: none */
	bool fd_owned;
	bool unbuffered;
	uint8_t line[CHARDEV_LINE_SIZE];
	size_t line_len;

	/* pty and socket */
	chardev_input_fn input;
	void *input_opaque;
	char *path;    /* the pty's slave, or the socket's path */
	int listen_fd; /* socket */
	int wake_fd;   /* tells the thread there is output, or to stop */
	pthread_t thread;
	bool thread_started;

	pthread_mutex_t lock; /* the line buffer, the stats and what follows */
	int client_fd;  /* socket: the client; pty: fd while attached; -1 */
	bool stopping;
	uint8_t *ring;  /* CHARDEV_RING_SIZE bytes */
	size_t ring_head, ring_len;
	uint8_t in[CHARDEV_INPUT_SIZE];
	size_t in_len;
	struct chardev_stats st;
};

/* Makes c ready for chardev_close() without opening anything (a VM
 * whose creation fails before the open). */
void chardev_init(struct chardev *c);

/*
 * Opens the back end for `mode` (path: file= or socket=), naming --opt in
 * errors (PHY_E_INVALID: a file that cannot be opened, a socket path that
 * exists; PHY_E_IO: no pty). input (pty, socket) runs on the chardev's
 * thread, started here.
 */
int chardev_open(struct chardev *c, enum serial_mode mode, const char *path,
		 const char *opt, chardev_input_fn input, void *input_opaque,
		 struct phy_error *err);
/* Joins the thread, flushes, closes; the socket's file is removed. */
void chardev_close(struct chardev *c);

/* What the guest wrote (a uart_output_fn; opaque: the chardev). Never
 * blocks on a pty or socket client. */
void chardev_write(void *opaque, const uint8_t *buf, size_t len);
/* Writes out a file's or tty's line buffer. */
void chardev_flush(struct chardev *c);

/* The pty's slave or the socket's path; NULL for the other modes. */
const char *chardev_path(const struct chardev *c);
void chardev_stats(struct chardev *c, struct chardev_stats *st);

#endif
