/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vhost-user messages, front-end side, against a fake back end on a
 * socketpair: requests arrive whole with their descriptors (SCM_RIGHTS);
 * good replies are taken (features, a vring base, a configuration range,
 * REPLY_ACK); every malformed one is refused with its reason and its
 * descriptors closed (none leaked: /proc/self/fd counted): another
 * version, no REPLY flag, another request, oversized, the wrong size, a
 * length that is not the header's, shorter than a header, with
 * descriptors, to a request that has no reply, a configuration for
 * another range; a back end that does not answer (timeout) or closes.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "fd_count.h"
#include "devices/vhost/vhost_user_msg.h"

/* The back end writes a reply: header fields, payload, descriptors. */
static void back_end_reply(int sock, uint32_t req, uint32_t flags, uint32_t size,
			   const void *payload, size_t len, int fd)
{
	uint8_t buf[VHOST_USER_HDR_SIZE + VHOST_USER_MAX_PAYLOAD + 64];
	memcpy(buf, &req, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &size, 4);
	if (len > sizeof(buf) - VHOST_USER_HDR_SIZE)
		abort();
	memcpy(buf + VHOST_USER_HDR_SIZE, payload, len);
	struct iovec iov = {buf, VHOST_USER_HDR_SIZE + len};
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	if (fd >= 0) {
		m.msg_control = ctl.b;
		m.msg_controllen = sizeof(ctl.b);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	if (sendmsg(sock, &m, 0) < 0)
		abort();
}

#define R (VHOST_USER_VERSION | VHOST_USER_REPLY_MASK)

static void test_send(void)
{
	int sv[2];
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	struct vhost_user_msg req = {0};
	req.payload.state = (struct vhost_user_vring_state){1, 256};
	req.fds[0] = sv[0];
	req.nr_fds = 1;
	vhost_user_request(&req, VHOST_USER_SET_VRING_NUM, 8, false);
	CHECK(vhost_user_send(sv[0], &req) == 0);
	uint8_t buf[64];
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			   .msg_controllen = sizeof(ctl)};
	CHECK(recvmsg(sv[1], &m, 0) == 20);
	uint32_t hdr[3];
	memcpy(hdr, buf, 12);
	CHECK(hdr[0] == VHOST_USER_SET_VRING_NUM && hdr[1] == VHOST_USER_VERSION && hdr[2] == 8);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	CHECK(c && c->cmsg_type == SCM_RIGHTS);
	if (c) {
		int fd;
		memcpy(&fd, CMSG_DATA(c), sizeof(fd));
		close(fd);
	}
	req.size = VHOST_USER_MAX_PAYLOAD + 1;
	CHECK(vhost_user_send(sv[0], &req) < 0);
	close(sv[0]);
	close(sv[1]);
}

static void test_replies(void)
{
	int sv[2];
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	unsigned before = open_fds();
	struct vhost_user_msg req = {0}, reply;
	const char *why;
	uint64_t feat = 0x140000000ull;

	vhost_user_request(&req, VHOST_USER_GET_FEATURES, 0, false);
	back_end_reply(sv[1], VHOST_USER_GET_FEATURES, R, 8, &feat, 8, -1);
	CHECK(vhost_user_recv_reply(sv[0], &req, 1000, &reply, &why) == 0);
	CHECK(reply.payload.u64 == feat);

	vhost_user_request(&req, VHOST_USER_GET_VRING_BASE, 8, false);
	struct vhost_user_vring_state st = {0, 77};
	back_end_reply(sv[1], VHOST_USER_GET_VRING_BASE, R, 8, &st, 8, -1);
	CHECK(vhost_user_recv_reply(sv[0], &req, 1000, &reply, &why) == 0);
	CHECK(reply.payload.state.num == 77);

	req.payload.config = (struct vhost_user_config){.offset = 0, .size = 40};
	vhost_user_request(&req, VHOST_USER_GET_CONFIG, 12 + 40, false);
	struct vhost_user_config cfg = {.offset = 0, .size = 40};
	memcpy(cfg.region, "myfs", 5);
	back_end_reply(sv[1], VHOST_USER_GET_CONFIG, R, 52, &cfg, 52, -1);
	CHECK(vhost_user_recv_reply(sv[0], &req, 1000, &reply, &why) == 0);
	CHECK(!strcmp((char *)reply.payload.config.region, "myfs"));

	struct vhost_user_msg ack = {0};
	vhost_user_request(&ack, VHOST_USER_SET_MEM_TABLE, 8, true);
	uint64_t zero = 0;
	back_end_reply(sv[1], VHOST_USER_SET_MEM_TABLE, R, 8, &zero, 8, -1);
	CHECK(vhost_user_recv_reply(sv[0], &ack, 1000, &reply, &why) == 0);

	/* In pieces, as libvhost-user writes it: the header, then the
	 * payload. */
	vhost_user_request(&req, VHOST_USER_GET_FEATURES, 0, false);
	uint32_t hdr3[3] = {VHOST_USER_GET_FEATURES, R, 8};
	CHECK(write(sv[1], hdr3, 12) == 12 && write(sv[1], &feat, 8) == 8);
	CHECK(vhost_user_recv_reply(sv[0], &req, 1000, &reply, &why) == 0);
	CHECK(reply.payload.u64 == feat);
	/* A header alone, its payload never coming: a timeout. */
	CHECK(write(sv[1], hdr3, 12) == 12);
	CHECK(vhost_user_recv_reply(sv[0], &req, 50, &reply, &why) == -1);
	CHECK_STR_CONTAINS(why, "in time");

	/* Malformed replies to GET_FEATURES. */
	vhost_user_request(&req, VHOST_USER_GET_FEATURES, 0, false);
	static uint8_t big[VHOST_USER_MAX_PAYLOAD + 8];
	struct {
		uint32_t req, flags, size;
		const void *p;
		size_t len;
		bool fd;
		const char *why;
	} bad[] = {
		{VHOST_USER_GET_FEATURES, 2 | VHOST_USER_REPLY_MASK, 8, &feat, 8, false, "version"},
		{VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, 8, &feat, 8, false, "REPLY"},
		{VHOST_USER_GET_QUEUE_NUM, R, 8, &feat, 8, false, "another request"},
		{VHOST_USER_GET_FEATURES, R, VHOST_USER_MAX_PAYLOAD + 4, big, 0, false, "larger"},
		{VHOST_USER_GET_FEATURES, R, 4, &feat, 4, false, "wrong size"},
		{VHOST_USER_GET_FEATURES, R, 8, big, 16, false, "longer than its header"},
		{VHOST_USER_GET_FEATURES, R, 8, &feat, 8, true, "descriptors"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = bad[i].fd ? open("/dev/null", O_RDONLY | O_CLOEXEC) : -1;
		back_end_reply(sv[1], bad[i].req, bad[i].flags, bad[i].size, bad[i].p, bad[i].len, fd);
		if (fd >= 0)
			close(fd);
		CHECK(vhost_user_recv_reply(sv[0], &req, 1000, &reply, &why) == -1);
		CHECK_STR_CONTAINS(why, bad[i].why);
	}
	/* Shorter than a header (parsed directly: a stream has no edges). */
	uint8_t few[6] = {0};
	CHECK(vhost_user_parse_reply(&req, few, sizeof(few), NULL, 0, &reply, &why) == -1);
	CHECK_STR_CONTAINS(why, "shorter");
	/* A request that has no reply. */
	struct vhost_user_msg noreply = {0};
	vhost_user_request(&noreply, VHOST_USER_SET_OWNER, 0, false);
	uint8_t hdr[12] = {3, 0, 0, 0, R, 0, 0, 0, 0, 0, 0, 0};
	CHECK(vhost_user_parse_reply(&noreply, hdr, 12, NULL, 0, &reply, &why) == -1);
	CHECK_STR_CONTAINS(why, "has none");
	/* A configuration for another range. */
	req.payload.config = (struct vhost_user_config){.offset = 0, .size = 40};
	vhost_user_request(&req, VHOST_USER_GET_CONFIG, 52, false);
	cfg.offset = 4;
	back_end_reply(sv[1], VHOST_USER_GET_CONFIG, R, 52, &cfg, 52, -1);
	CHECK(vhost_user_recv_reply(sv[0], &req, 1000, &reply, &why) == -1);
	CHECK_STR_CONTAINS(why, "another range");

	/* Silence, then a closed socket. */
	CHECK(vhost_user_recv_reply(sv[0], &req, 50, &reply, &why) == -1);
	CHECK_STR_CONTAINS(why, "in time");
	close(sv[1]);
	CHECK(vhost_user_recv_reply(sv[0], &req, 1000, &reply, &why) == -1);
	CHECK_STR_CONTAINS(why, "closed");
	CHECK_EQ_U64(open_fds(), before - 1);
	close(sv[0]);
}

int main(void)
{
	test_send();
	test_replies();
	return check_report("test_vhost_user_msg");
}
