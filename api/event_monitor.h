/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --event-monitor: the VM's lifecycle events as Cloud Hypervisor writes
 * them, one JSON object per line:
 *   {"timestamp":{"secs":0,"nanos":2922820},"source":"vm","event":"booted","properties":null}
 * The timestamp counts from the monitor's start, as Cloud Hypervisor's
 * does. Each line is one write() of at most PIPE_BUF bytes on an O_APPEND,
 * O_NONBLOCK descriptor: lines from several threads never interleave, and a
 * reader that does not keep up loses events instead of stalling the VM.
 */
#ifndef PHY_API_EVENT_MONITOR_H
#define PHY_API_EVENT_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#include <phyllome/vmm.h>

#define EVENT_LINE_MAX 4096 /* PIPE_BUF: atomic on a FIFO */

struct event_monitor;

/* Opens (creating, mode 0600) the file or FIFO at path for appending.
 * A FIFO blocks the open until a reader has it open, as with Cloud
 * Hypervisor. Writes the "vmm starting" event. */
int event_monitor_open(const char *path, struct event_monitor **out,
		       struct phy_error *err);

/* The same on a duplicate of fd, a descriptor the caller opened for
 * writing (--event-monitor fd=N) and keeps. */
int event_monitor_open_fd(int fd, struct event_monitor **out,
			  struct phy_error *err);

/* Writes the Cloud Hypervisor events for one of ours; callable from any
 * thread, never blocks. */
void event_monitor_event(struct event_monitor *m, const struct phy_event *ev);

/* One event of the VMM's own ("vm", "deleted"); NULL m is a no-op. */
void event_monitor_emit(struct event_monitor *m, const char *source,
			const char *event);

/* Writes "vmm shutdown", closes. NULL is a no-op. */
void event_monitor_close(struct event_monitor *m);

/* Events lost to a full pipe or a failing file. */
uint64_t event_monitor_dropped(const struct event_monitor *m);

/* ---- the pure parts, for the unit tests ---- */

/* One Cloud Hypervisor event: props are key, value pairs ending in NULL. */
struct ch_event {
	const char *source;
	const char *event;
	const char *props[5];
};

/* Our event as Cloud Hypervisor's (a pause is "pausing" then "paused");
 * returns how many, at most 2. */
unsigned event_monitor_map(const struct phy_event *ev, struct ch_event out[2]);

/* Formats one line, newline included; returns its length, or 0 when it
 * does not fit in size bytes. */
size_t event_monitor_format(char *buf, size_t size, uint64_t elapsed_ns,
			    const struct ch_event *ev);

#endif
