// SPDX-License-Identifier: Apache-2.0
#include "vmm/serial_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "common/error.h"

static void write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* a closed terminal must not stop the guest */
		buf += n;
		len -= (size_t)n;
	}
}

void serial_sink_flush(struct serial_sink *s)
{
	if (s->len && s->fd >= 0)
		write_all(s->fd, s->buf, s->len);
	s->len = 0;
}

void serial_sink_write(void *opaque, const uint8_t *buf, size_t len)
{
	struct serial_sink *s = opaque;
	if (s->fn) {
		s->fn(s->opaque, buf, len);
		return;
	}
	if (s->fd < 0)
		return;
	/* Line-buffered into files; a terminal sees each byte at once so
	 * prompts and echo are interactive. */
	for (size_t i = 0; i < len; i++) {
		s->buf[s->len++] = buf[i];
		if (s->unbuffered || buf[i] == '\n' || s->len == SERIAL_BUF_SIZE)
			serial_sink_flush(s);
	}
}

int serial_sink_open(struct serial_sink *s, const struct phy_config *cfg,
		     struct phy_error *err)
{
	s->fd = -1;
	switch (cfg->serial) {
	case SERIAL_TTY:
		s->fd = STDOUT_FILENO;
		s->unbuffered = isatty(STDOUT_FILENO);
		break;
	case SERIAL_FILE:
		s->fd = open(cfg->serial_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			     0644);
		if (s->fd < 0)
			return phy_err_errno(err, PHY_E_INVALID, errno,
					     "--serial: cannot open '%s'",
					     cfg->serial_path);
		s->fd_owned = true;
		break;
	case SERIAL_NULL:
	case SERIAL_OFF:
		break;
	}
	return 0;
}

void serial_sink_close(struct serial_sink *s)
{
	serial_sink_flush(s);
	if (s->fd_owned)
		close(s->fd);
	s->fd = -1;
	s->fd_owned = false;
}
