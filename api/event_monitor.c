/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "api/event_monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/error.h"
#include "api/json.h"

/* Long messages are cut so that a line always fits in one atomic write. */
#define EVENT_MESSAGE_MAX 1024

struct event_monitor {
	int fd;
	uint64_t start_ns; /* CLOCK_MONOTONIC at open */
	_Atomic uint64_t dropped;
};

unsigned event_monitor_map(const struct phy_event *ev, struct ch_event out[2])
{
	memset(out, 0, 2 * sizeof(out[0]));
	out[0].source = out[1].source = "vm";
	unsigned n = 1;
	switch (ev->kind) {
	case PHY_EVENT_STARTED:
		out[0].event = "booting";
		out[1].event = "booted";
		n = 2;
		break;
	case PHY_EVENT_PAUSED:
		out[0].event = "pausing";
		out[1].event = "paused";
		n = 2;
		break;
	case PHY_EVENT_RESUMED:
		out[0].event = "resuming";
		out[1].event = "resumed";
		n = 2;
		break;
	case PHY_EVENT_REBOOTING: out[0].event = "rebooting"; break;
	case PHY_EVENT_REBOOTED: out[0].event = "rebooted"; break;
	case PHY_EVENT_POWER_BUTTON: out[0].event = "power-button"; break;
	case PHY_EVENT_SHUTDOWN: out[0].event = "shutdown"; break;
	case PHY_EVENT_CRASH: out[0].event = "crashed"; break;
	case PHY_EVENT_DEVICE_ERROR:
		out[0].source = "virtio-device";
		out[0].event = "needs-reset";
		break;
	default:
		out[0].event = "unknown";
		break;
	}
	/* Only the last of a pair carries the details. */
	const char **p = out[n - 1].props;
	if (ev->device) {
		*p++ = "id";
		*p++ = ev->device;
	}
	if (ev->message) {
		*p++ = "message";
		*p++ = ev->message;
	}
	return n;
}

size_t event_monitor_format(char *buf, size_t size, uint64_t elapsed_ns,
			    const struct ch_event *ev)
{
	struct json_buf b;
	json_buf_init_fixed(&b, buf, size);
	json_printf(&b, "{\"timestamp\":{\"secs\":%llu,\"nanos\":%u},\"source\":",
		    (unsigned long long)(elapsed_ns / 1000000000ULL),
		    (unsigned)(elapsed_ns % 1000000000ULL));
	json_str(&b, ev->source);
	json_lit(&b, ",\"event\":");
	json_str(&b, ev->event);
	json_lit(&b, ",\"properties\":");
	if (!ev->props[0]) {
		json_lit(&b, "null");
	} else {
		json_lit(&b, "{");
		for (unsigned i = 0; i + 1 < 5 && ev->props[i]; i += 2) {
			if (i)
				json_lit(&b, ",");
			json_str(&b, ev->props[i]);
			json_lit(&b, ":");
			size_t n = strlen(ev->props[i + 1]);
			json_strn(&b, ev->props[i + 1],
				  n > EVENT_MESSAGE_MAX ? EVENT_MESSAGE_MAX : n);
		}
		json_lit(&b, "}");
	}
	json_lit(&b, "}\n");
	return b.failed ? 0 : b.len;
}

static void emit(struct event_monitor *m, uint64_t ts, const struct ch_event *ev)
{
	char line[EVENT_LINE_MAX];
	uint64_t elapsed = ts > m->start_ns ? ts - m->start_ns : 0;
	size_t n = event_monitor_format(line, sizeof(line), elapsed, ev);
	if (!n) {
		/* Cut at EVENT_MESSAGE_MAX, a line only overflows on a
		 * message of escapes: keep the event, drop the details. */
		struct ch_event bare = { .source = ev->source, .event = ev->event };
		n = event_monitor_format(line, sizeof(line), elapsed, &bare);
	}
	ssize_t w;
	do {
		w = write(m->fd, line, n);
	} while (w < 0 && errno == EINTR);
	if (w != (ssize_t)n)
		atomic_fetch_add(&m->dropped, 1);
}

static void emit_simple(struct event_monitor *m, const char *source,
			const char *event)
{
	struct ch_event ev = { .source = source, .event = event };
	emit(m, phy_monotonic_ns(), &ev);
}

/* Takes fd (ours to close) and writes the first event. */
static int monitor_start(int fd, struct event_monitor **out,
			 struct phy_error *err)
{
	struct event_monitor *m = calloc(1, sizeof(*m));
	if (!m) {
		close(fd);
		return phy_err(err, PHY_E_NOMEM, "--event-monitor: out of memory");
	}
	m->fd = fd;
	/* A slow FIFO reader must cost events, never a stalled vCPU. */
	int fl = fcntl(m->fd, F_GETFL);
	if (fl >= 0)
		fcntl(m->fd, F_SETFL, fl | O_NONBLOCK);
	m->start_ns = phy_monotonic_ns();
	emit_simple(m, "vmm", "starting");
	*out = m;
	return 0;
}

int event_monitor_open(const char *path, struct event_monitor **out,
		       struct phy_error *err)
{
	*out = NULL;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return phy_err_errno(err, PHY_E_INVALID, errno,
				     "--event-monitor: cannot open '%s'", path);
	return monitor_start(fd, out, err);
}

int event_monitor_open_fd(int fd, struct event_monitor **out,
			  struct phy_error *err)
{
	*out = NULL;
	int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (d < 0)
		return phy_err_errno(err, PHY_E_INVALID, errno,
				     "--event-monitor: fd=%d", fd);
	return monitor_start(d, out, err);
}

void event_monitor_event(struct event_monitor *m, const struct phy_event *ev)
{
	if (!m || !ev)
		return;
	struct ch_event ch[2];
	unsigned n = event_monitor_map(ev, ch);
	uint64_t ts = ev->timestamp_ns ? ev->timestamp_ns : phy_monotonic_ns();
	for (unsigned i = 0; i < n; i++)
		emit(m, ts, &ch[i]);
}

void event_monitor_emit(struct event_monitor *m, const char *source,
			const char *event)
{
	if (m)
		emit_simple(m, source, event);
}

void event_monitor_close(struct event_monitor *m)
{
	if (!m)
		return;
	emit_simple(m, "vmm", "shutdown");
	close(m->fd);
	free(m);
}

uint64_t event_monitor_dropped(const struct event_monitor *m)
{
	return m ? atomic_load(&((struct event_monitor *)m)->dropped) : 0;
}
