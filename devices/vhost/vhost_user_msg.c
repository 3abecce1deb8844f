// SPDX-License-Identifier: Apache-2.0
/*
 * vhost-user messages, front-end side: vhost_user_msg.h describes them
 * and what a reply must be for the front end to take it.
 */
#define _GNU_SOURCE
#include "devices/vhost/vhost_user_msg.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

void vhost_user_request(struct vhost_user_msg *msg, uint32_t request,
			uint32_t size, bool need_reply)
{
	msg->request = request;
	msg->flags = VHOST_USER_VERSION | (need_reply ? VHOST_USER_NEED_REPLY : 0);
	msg->size = size;
}

int vhost_user_send(int sock, const struct vhost_user_msg *msg)
{
	if (msg->size > VHOST_USER_MAX_PAYLOAD || msg->nr_fds > VHOST_USER_MAX_FDS)
		return -EINVAL;
	uint32_t hdr[3] = {msg->request, msg->flags, msg->size};
	struct iovec iov[2] = {
		{hdr, VHOST_USER_HDR_SIZE},
		{(void *)&msg->payload, msg->size},
	};
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = msg->size ? 2 : 1};
	if (msg->nr_fds) {
		m.msg_control = ctl.buf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * msg->nr_fds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * msg->nr_fds);
		memcpy(CMSG_DATA(c), msg->fds, sizeof(int) * msg->nr_fds);
	}
	ssize_t n = sendmsg(sock, &m, MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	return (size_t)n == VHOST_USER_HDR_SIZE + msg->size ? 0 : -EIO;
}

/* The payload size a reply to `req` must have, or 0 when it has none. */
static int reply_size(const struct vhost_user_msg *req, uint32_t *size)
{
	switch (req->request) {
	case VHOST_USER_GET_FEATURES:
	case VHOST_USER_GET_PROTOCOL_FEATURES:
	case VHOST_USER_GET_QUEUE_NUM:
	case VHOST_USER_GET_MAX_MEM_SLOTS:
		*size = sizeof(uint64_t);
		return 0;
	case VHOST_USER_GET_VRING_BASE:
		*size = sizeof(struct vhost_user_vring_state);
		return 0;
	case VHOST_USER_GET_CONFIG:
		/* The request's own header and as many bytes as it asked. */
		*size = req->size;
		return 0;
	default:
		/* REPLY_ACK: a u64, 0 for success. */
		if (req->flags & VHOST_USER_NEED_REPLY) {
			*size = sizeof(uint64_t);
			return 0;
		}
		return -1; /* this request has no reply */
	}
}

int vhost_user_parse_reply(const struct vhost_user_msg *req, const uint8_t *buf,
			   size_t len, const int *fds, unsigned nr_fds,
			   struct vhost_user_msg *reply, const char **why)
{
	for (unsigned i = 0; i < nr_fds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	uint32_t want;
	*why = NULL;
	if (reply_size(req, &want))
		*why = "a reply to a request that has none";
	else if (nr_fds)
		*why = "a reply with descriptors";
	else if (len < VHOST_USER_HDR_SIZE)
		*why = "a reply shorter than its header";
	if (*why)
		return -1;
	memcpy(&reply->request, buf, 4);
	memcpy(&reply->flags, buf + 4, 4);
	memcpy(&reply->size, buf + 8, 4);
	reply->nr_fds = 0;
	if ((reply->flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION)
		*why = "a reply of another protocol version";
	else if (!(reply->flags & VHOST_USER_REPLY_MASK))
		*why = "a message without the REPLY flag";
	else if (reply->request != req->request)
		*why = "a reply to another request";
	else if (reply->size > VHOST_USER_MAX_PAYLOAD)
		*why = "a reply larger than any message";
	else if (reply->size != want)
		*why = "a reply of the wrong size";
	else if (len != VHOST_USER_HDR_SIZE + reply->size)
		*why = "a reply whose length is not its header's";
	if (*why)
		return -1;
	memcpy(&reply->payload, buf + VHOST_USER_HDR_SIZE, reply->size);
	if (req->request == VHOST_USER_GET_CONFIG &&
	    (reply->payload.config.offset != req->payload.config.offset ||
	     reply->payload.config.size != req->payload.config.size)) {
		*why = "a configuration reply for another range";
		return -1;
	}
	return 0;
}

/* Milliseconds left until `end` (CLOCK_MONOTONIC), at least 0. */
static int ms_left(const struct timespec *end)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long long ms = (end->tv_sec - now.tv_sec) * 1000LL +
		       (end->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : (int)ms;
}

/* The descriptors of one recvmsg() into fds (closed past the room). */
static void take_fds(struct msghdr *m, int *fds, unsigned *nr)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*nr < VHOST_USER_MAX_FDS)
				fds[(*nr)++] = fd;
			else
				close(fd);
		}
	}
}

/*
 * Reads up to `want` bytes into buf (have already there) before `end`:
 * NULL, or why not. A back end may write a reply in pieces (libvhost-user
 * sends the header, then the payload).
 */
static const char *recv_upto(int sock, uint8_t *buf, size_t *have, size_t want,
			     const struct timespec *end, int *fds, unsigned *nr)
{
	while (*have < want) {
		struct pollfd p = {.fd = sock, .events = POLLIN};
		int r = poll(&p, 1, ms_left(end));
		if (r <= 0)
			return r ? "poll failed" : "the back end did not answer in time";
		union {
			char b[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_FDS)];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = {buf + *have, want - *have};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
				   .msg_controllen = sizeof(ctl.b)};
		ssize_t n = recvmsg(sock, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n >= 0)
			take_fds(&m, fds, nr);
		if (n <= 0)
			return n ? "reading the reply failed" : "the back end closed the socket";
		if (m.msg_flags & MSG_CTRUNC)
			return "a reply with too many descriptors";
		*have += (size_t)n;
	}
	return NULL;
}

/* Reads and drops what is already waiting, up to one message's worth
 * (so a caller that goes on starts at an edge, and a back end that never
 * stops writing cannot keep it here): whether there was anything. */
static bool drain(int sock, int *fds, unsigned *nr)
{
	uint8_t scratch[VHOST_USER_HDR_SIZE + VHOST_USER_MAX_PAYLOAD];
	union {
		char b[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {scratch, sizeof(scratch)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			   .msg_controllen = sizeof(ctl.b)};
	ssize_t n = recvmsg(sock, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n > 0)
		take_fds(&m, fds, nr);
	return n > 0;
}

int vhost_user_recv_reply(int sock, const struct vhost_user_msg *req,
			  int timeout_ms, struct vhost_user_msg *reply,
			  const char **why)
{
	uint8_t buf[VHOST_USER_HDR_SIZE + VHOST_USER_MAX_PAYLOAD];
	int fds[VHOST_USER_MAX_FDS];
	unsigned nr = 0;
	size_t have = 0;
	struct timespec end;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += timeout_ms / 1000;
	end.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	/* The header, then the payload it announces: never more than a
	 * message can hold (a larger size is refused by the parser). */
	*why = recv_upto(sock, buf, &have, VHOST_USER_HDR_SIZE, &end, fds, &nr);
	uint32_t size;
	memcpy(&size, buf + 8, sizeof(size));
	if (!*why && size <= VHOST_USER_MAX_PAYLOAD)
		*why = recv_upto(sock, buf, &have, VHOST_USER_HDR_SIZE + size, &end, fds, &nr);
	/* Bytes beyond it: the front end asked for nothing more. */
	if (!*why && size <= VHOST_USER_MAX_PAYLOAD && drain(sock, fds, &nr))
		*why = "a reply longer than its header says";
	if (*why) {
		for (unsigned i = 0; i < nr; i++)
			close(fds[i]);
		return -1;
	}
	return vhost_user_parse_reply(req, buf, have, fds, nr, reply, why);
}
