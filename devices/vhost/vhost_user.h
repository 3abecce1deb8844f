/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A vhost-user front-end session (the QEMU vhost-user specification) on
 * a back end's Unix socket, device-independent: virtio-fs uses it, a
 * vhost-user-blk or -gpu would too. Built on vhost_user_msg.h, which
 * checks every reply (the back end is a separate, less trusted process).
 *
 * The life of a session:
 *   vhost_user_connect()  socket + connect, GET_FEATURES, the protocol
 *                         features (REPLY_ACK, MQ) when offered,
 *                         GET_QUEUE_NUM with MQ, SET_OWNER
 *   vhost_user_start()    SET_FEATURES, SET_MEM_TABLE (the guest RAM's
 *                         memfd), per ring SET_VRING_NUM/ADDR/BASE/KICK/
 *                         CALL and SET_VRING_ENABLE
 *   vhost_user_stop()     per ring SET_VRING_ENABLE 0 and GET_VRING_BASE
 *   vhost_user_disconnect()
 * Every request that has no reply asks for an ACK when REPLY_ACK was
 * negotiated. Each call waits at most timeout_ms per reply, so a back end
 * that never answers costs its caller that long, never a hang; any error
 * (a refused, late or malformed reply, a closed socket) ends the session:
 * the socket is closed and the caller reconnects when it chooses
 * (vhost_user_link.h does it for a device on the device loop).
 *
 * Not thread-safe: its owner serialises the calls (virtio-fs: dev->lock).
 */
#ifndef PHY_DEVICES_VHOST_VHOST_USER_H
#define PHY_DEVICES_VHOST_VHOST_USER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/guest_mem.h"

#define VHOST_USER_F_PROTOCOL_FEATURES 30
#define VHOST_USER_PROTOCOL_F_MQ 0
#define VHOST_USER_PROTOCOL_F_REPLY_ACK 3

struct vhost_user {
	const char *path; /* the back end's socket (the caller's string) */
	int sock;         /* -1: not connected */
	int timeout_ms;   /* the longest wait for one reply */
	uint64_t features; /* the back end's, F_PROTOCOL_FEATURES left out */
	uint64_t protocol; /* negotiated protocol features */
	bool has_protocol; /* the back end offered F_PROTOCOL_FEATURES */
	uint64_t requests; /* requests sent, for tests and counters */
	uint64_t sessions; /* sockets connected: tells a session from the last */
};

/* One ring to hand over: host addresses of its parts (inside the guest
 * RAM mapping), the first avail index to take, and two eventfds. */
struct vhost_user_ring {
	uint16_t num, base;
	const void *desc, *avail, *used;
	int kick, call;
};

void vhost_user_init(struct vhost_user *vu, const char *path, int timeout_ms);

/* Connects and negotiates: 0, or -1 with *why (then not connected); -2
 * with *why when nobody took the connection (no socket, refused): a back
 * end to wait for rather than one that failed. The back end must serve
 * at least nr_queues queues when it says how many. */
#define VHOST_USER_NO_PEER (-2)
int vhost_user_connect(struct vhost_user *vu, unsigned nr_queues,
		       const char **why);

static inline bool vhost_user_connected(const struct vhost_user *vu)
{
	return vu->sock >= 0;
}

/* Whether the back end hung up or sent something nobody asked for (a
 * message between requests is not part of this front end's protocol):
 * one poll() without waiting. */
bool vhost_user_broken(const struct vhost_user *vu);

/* Hands the rings to the back end with the driver's features (device
 * bits only): 0, or -1 with *why and the session ended. Guest RAM must be
 * a memfd (--memory shared=on). */
int vhost_user_start(struct vhost_user *vu, const struct guest_mem *mem,
		     uint64_t features, const struct vhost_user_ring *rings,
		     unsigned nr, const char **why);

/* Takes the rings back (their next avail index in bases[], may be NULL):
 * 0, or -1 with *why and the session ended. */
int vhost_user_stop(struct vhost_user *vu, unsigned nr, uint16_t *bases,
		    const char **why);

void vhost_user_disconnect(struct vhost_user *vu);

#endif
