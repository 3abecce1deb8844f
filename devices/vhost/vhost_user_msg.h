/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vhost-user messages, front-end side (the QEMU vhost-user specification,
 * "Front-end message types"): building requests, sending them with their
 * descriptors (SCM_RIGHTS) on the back end's Unix socket, and reading and
 * checking the back end's replies. The back end (virtiofsd, later a
 * vhost-user-blk or -gpu) is a separate, less trusted process: a reply is
 * taken only when its header says version 1 and REPLY, it answers the
 * request sent, its size is what that request's reply must be (never
 * more than VHOST_USER_MAX_PAYLOAD) and it carries no descriptor; anything
 * else is an error naming what was wrong, and its descriptors are closed.
 *
 * The first brick of the vhost-user front end for virtio-fs (issue 15):
 * the device and the session (features, memory table, vrings, reconnect)
 * come on top of it.
 */
#ifndef PHY_DEVICES_VHOST_VHOST_USER_MSG_H
#define PHY_DEVICES_VHOST_VHOST_USER_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VHOST_USER_VERSION 0x1u
#define VHOST_USER_VERSION_MASK 0x3u
#define VHOST_USER_REPLY_MASK (1u << 2)
#define VHOST_USER_NEED_REPLY (1u << 3)
#define VHOST_USER_HDR_SIZE 12u
#define VHOST_USER_MAX_PAYLOAD 4096u
#define VHOST_USER_MAX_FDS 8u
#define VHOST_USER_MAX_REGIONS 8u
#define VHOST_USER_MAX_CONFIG 256u

enum vhost_user_request {
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17,
	VHOST_USER_SET_VRING_ENABLE = 18,
	VHOST_USER_GET_CONFIG = 24,
	VHOST_USER_SET_CONFIG = 25,
	VHOST_USER_GET_MAX_MEM_SLOTS = 36,
};

struct vhost_user_vring_state {
	uint32_t index, num;
};

struct vhost_user_vring_addr {
	uint32_t index, flags;
	uint64_t desc, used, avail, log;
};

struct vhost_user_region {
	uint64_t guest_addr, size, user_addr, mmap_offset;
};

struct vhost_user_memory {
	uint32_t nregions, padding;
	struct vhost_user_region regions[VHOST_USER_MAX_REGIONS];
};

struct vhost_user_config {
	uint32_t offset, size, flags;
	uint8_t region[VHOST_USER_MAX_CONFIG];
};

struct vhost_user_msg {
	uint32_t request, flags, size; /* the header, host byte order */
	union {
		uint64_t u64;
		struct vhost_user_vring_state state;
		struct vhost_user_vring_addr addr;
		struct vhost_user_memory mem;
		struct vhost_user_config config;
		uint8_t raw[VHOST_USER_MAX_PAYLOAD];
	} payload;
	int fds[VHOST_USER_MAX_FDS];
	unsigned nr_fds;
};

/* A request with `size` payload bytes (already in msg->payload) and
 * nr_fds descriptors (the caller's, not closed here). */
void vhost_user_request(struct vhost_user_msg *msg, uint32_t request,
			uint32_t size, bool need_reply);

/* Writes the request and its descriptors: 0, or -errno. */
int vhost_user_send(int sock, const struct vhost_user_msg *msg);

/*
 * Checks `len` bytes received for the request `req` (with `nr_fds`
 * descriptors that came along, in fds) and fills *reply: 0, or -1 with
 * *why saying what was wrong. The descriptors are closed whatever the
 * outcome: no reply carries one.
 */
int vhost_user_parse_reply(const struct vhost_user_msg *req, const uint8_t *buf,
			   size_t len, const int *fds, unsigned nr_fds,
			   struct vhost_user_msg *reply, const char **why);

/* Reads one reply to req within timeout_ms (the back end may be stuck),
 * in as many pieces as it comes: the header, then the payload it
 * announces; bytes already waiting past it are an error too. 0, or -1
 * with *why ("did not answer in time", "the back end closed the socket",
 * a parse error, ...). */
int vhost_user_recv_reply(int sock, const struct vhost_user_msg *req,
			  int timeout_ms, struct vhost_user_msg *reply,
			  const char **why);

#endif
