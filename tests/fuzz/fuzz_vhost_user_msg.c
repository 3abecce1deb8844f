/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: a hostile vhost-user back end's replies. The input's
 * first bytes pick the request the front end sent (its type, whether it
 * asked for REPLY_ACK, a configuration range); the rest is the reply as
 * read from the socket. The parser must never read past the input nor
 * accept a reply whose header disagrees with the request or its length,
 * and what it takes must fit the message. The same bytes then arrive on
 * a socket in up to three pieces for vhost_user_recv_reply(), which
 * reads the header, then the payload it announces: it must take the
 * reply exactly when the parser took it whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devices/vhost/vhost_user_msg.h"

/* The reply written in pieces (cut where `cuts` says) and read back
 * without waiting: whether it was taken. */
static bool recv_agrees(const struct vhost_user_msg *req, const uint8_t *buf,
			size_t n, unsigned cuts)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	size_t a = n ? (cuts & 7) % (n + 1) : 0, b = n ? ((cuts >> 3) * 13) % (n + 1) : 0;
	size_t lo = a < b ? a : b, hi = a < b ? b : a;
	if ((lo && write(sv[1], buf, lo) != (ssize_t)lo) ||
	    (hi > lo && write(sv[1], buf + lo, hi - lo) != (ssize_t)(hi - lo)) ||
	    (n > hi && write(sv[1], buf + hi, n - hi) != (ssize_t)(n - hi)))
		abort();
	struct vhost_user_msg reply;
	const char *why;
	bool took = vhost_user_recv_reply(sv[0], req, 0, &reply, &why) == 0;
	close(sv[0]);
	close(sv[1]);
	return took;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	struct vhost_user_msg req = {0}, reply;
	const char *why;
	req.payload.config.offset = data[2];
	req.payload.config.size = data[3] % (VHOST_USER_MAX_CONFIG + 1);
	uint32_t req_size = data[0] % 40 == VHOST_USER_GET_CONFIG
				    ? 12 + req.payload.config.size : 8;
	vhost_user_request(&req, data[0] % 40, req_size, data[1] & 1);
	/* A copy of exactly the reply's bytes, so ASan sees any overread. */
	size_t n = size - 4;
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 4, n);
	int r = vhost_user_parse_reply(&req, buf, n, NULL, 0, &reply, &why);
	if (r == 0 && (reply.size > VHOST_USER_MAX_PAYLOAD || reply.request != req.request ||
		       n != VHOST_USER_HDR_SIZE + reply.size || reply.nr_fds)) {
		fprintf(stderr, "a bad reply was taken\n");
		abort();
	}
	if (r && !why)
		abort();
	if (recv_agrees(&req, buf, n, data[1] >> 1) != (r == 0)) {
		fprintf(stderr, "the socket reader and the parser disagree\n");
		abort();
	}
	free(buf);
	return 0;
}
