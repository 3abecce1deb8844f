// SPDX-License-Identifier: Apache-2.0
/*
 * A vhost-user front-end session: vhost_user.h describes its life. Each
 * request is sent and, when it has a reply or asks for an ACK, answered
 * before the next; the first failure ends the session.
 */
#define _GNU_SOURCE
#include "devices/vhost/vhost_user.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "devices/vhost/vhost_user_msg.h"

void vhost_user_init(struct vhost_user *vu, const char *path, int timeout_ms)
{
	*vu = (struct vhost_user){.path = path, .sock = -1, .timeout_ms = timeout_ms};
}

void vhost_user_disconnect(struct vhost_user *vu)
{
	if (vu->sock >= 0)
		close(vu->sock);
	vu->sock = -1;
	vu->protocol = 0;
}

/* Ends the session on a failure: -1 with *why. */
static int fail(struct vhost_user *vu, const char **why, const char *msg)
{
	*why = msg;
	vhost_user_disconnect(vu);
	return -1;
}

/*
 * Sends msg (payload of `size` bytes already filled, fds attached) and
 * takes its reply into *reply when it has one; a request without a reply
 * asks for an ACK when REPLY_ACK was negotiated, and a nonzero ACK fails.
 */
static int call(struct vhost_user *vu, struct vhost_user_msg *msg,
		uint32_t request, uint32_t size, struct vhost_user_msg *reply,
		const char **why)
{
	bool has_reply = reply != NULL;
	bool ack = !has_reply &&
		   (vu->protocol & (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK));
	vhost_user_request(msg, request, size, ack);
	vu->requests++;
	if (vhost_user_send(vu->sock, msg))
		return fail(vu, why, "the back end's socket refused a request");
	if (!has_reply && !ack)
		return 0;
	struct vhost_user_msg tmp;
	struct vhost_user_msg *r = reply ? reply : &tmp;
	if (vhost_user_recv_reply(vu->sock, msg, vu->timeout_ms, r, why))
		return fail(vu, why, *why);
	if (ack && r->payload.u64)
		return fail(vu, why, "the back end refused a request (REPLY_ACK)");
	return 0;
}

static int call_u64(struct vhost_user *vu, uint32_t request, uint64_t v,
		    const char **why)
{
	struct vhost_user_msg m = {.nr_fds = 0};
	m.payload.u64 = v;
	return call(vu, &m, request, sizeof(v), NULL, why);
}

static int get_u64(struct vhost_user *vu, uint32_t request, uint64_t *v,
		   const char **why)
{
	struct vhost_user_msg m = {.nr_fds = 0}, r;
	if (call(vu, &m, request, 0, &r, why))
		return -1;
	*v = r.payload.u64;
	return 0;
}

static int call_state(struct vhost_user *vu, uint32_t request, uint32_t index,
		      uint32_t num, const char **why)
{
	struct vhost_user_msg m = {.nr_fds = 0};
	m.payload.state = (struct vhost_user_vring_state){index, num};
	return call(vu, &m, request, sizeof(m.payload.state), NULL, why);
}

static int dial(struct vhost_user *vu, const char **why)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(vu->path) >= sizeof(sa.sun_path)) {
		*why = "the socket path is too long";
		return -1;
	}
	strcpy(sa.sun_path, vu->path);
	vu->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (vu->sock < 0)
		return fail(vu, why, "socket() failed");
	if (connect(vu->sock, (struct sockaddr *)&sa, sizeof(sa))) {
		fail(vu, why, errno == ENOENT ? "no socket at that path"
			      : "the back end does not accept connections");
		return VHOST_USER_NO_PEER;
	}
	vu->sessions++;
	return 0;
}

static int negotiate_protocol(struct vhost_user *vu, unsigned nr_queues,
			      const char **why)
{
	uint64_t theirs, nq;
	const uint64_t ours = 1ull << VHOST_USER_PROTOCOL_F_MQ |
			      1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK;
	if (get_u64(vu, VHOST_USER_GET_PROTOCOL_FEATURES, &theirs, why) ||
	    call_u64(vu, VHOST_USER_SET_PROTOCOL_FEATURES, theirs & ours, why))
		return -1;
	vu->protocol = theirs & ours; /* ACKs from the next request on */
	if (!(vu->protocol & (1ull << VHOST_USER_PROTOCOL_F_MQ)))
		return 0;
	if (get_u64(vu, VHOST_USER_GET_QUEUE_NUM, &nq, why))
		return -1;
	if (nq < nr_queues)
		return fail(vu, why, "the back end serves fewer queues than asked for");
	return 0;
}

int vhost_user_connect(struct vhost_user *vu, unsigned nr_queues,
		       const char **why)
{
	uint64_t f;
	vhost_user_disconnect(vu);
	int r = dial(vu, why);
	if (r)
		return r;
	if (get_u64(vu, VHOST_USER_GET_FEATURES, &f, why))
		return -1;
	vu->has_protocol = f & (1ull << VHOST_USER_F_PROTOCOL_FEATURES);
	vu->features = f & ~(1ull << VHOST_USER_F_PROTOCOL_FEATURES);
	if (vu->has_protocol && negotiate_protocol(vu, nr_queues, why))
		return -1;
	struct vhost_user_msg m = {.nr_fds = 0};
	return call(vu, &m, VHOST_USER_SET_OWNER, 0, NULL, why);
}

bool vhost_user_broken(const struct vhost_user *vu)
{
	struct pollfd p = {.fd = vu->sock, .events = POLLIN | POLLRDHUP};
	return vu->sock < 0 || poll(&p, 1, 0) != 0;
}

static int set_mem_table(struct vhost_user *vu, const struct guest_mem *mem,
			 const char **why)
{
	if (mem->memfd < 0)
		return fail(vu, why, "guest memory is not shared (--memory shared=on)");
	struct vhost_user_msg m = {.nr_fds = 0};
	struct vhost_user_memory *t = &m.payload.mem;
	for (unsigned i = 0; i < mem->nr_regions && i < VHOST_USER_MAX_REGIONS; i++) {
		const struct guest_mem_region *r = &mem->regions[i];
		t->regions[i] = (struct vhost_user_region){
			.guest_addr = r->gpa,
			.size = r->size,
			.user_addr = (uintptr_t)r->hva,
			.mmap_offset = (uint64_t)(r->hva - mem->base),
		};
		m.fds[m.nr_fds++] = mem->memfd;
		t->nregions++;
	}
	return call(vu, &m, VHOST_USER_SET_MEM_TABLE,
		    8 + t->nregions * sizeof(struct vhost_user_region), NULL, why);
}

static int set_fd(struct vhost_user *vu, uint32_t request, uint32_t index,
		  int fd, const char **why)
{
	struct vhost_user_msg m = {.nr_fds = 1};
	m.fds[0] = fd;
	m.payload.u64 = index;
	return call(vu, &m, request, sizeof(uint64_t), NULL, why);
}

static int start_ring(struct vhost_user *vu, uint32_t i,
		      const struct vhost_user_ring *r, const char **why)
{
	struct vhost_user_msg m = {.nr_fds = 0};
	m.payload.addr = (struct vhost_user_vring_addr){
		.index = i,
		.desc = (uintptr_t)r->desc,
		.used = (uintptr_t)r->used,
		.avail = (uintptr_t)r->avail,
	};
	if (call_state(vu, VHOST_USER_SET_VRING_NUM, i, r->num, why) ||
	    call(vu, &m, VHOST_USER_SET_VRING_ADDR, sizeof(m.payload.addr), NULL, why) ||
	    call_state(vu, VHOST_USER_SET_VRING_BASE, i, r->base, why) ||
	    set_fd(vu, VHOST_USER_SET_VRING_KICK, i, r->kick, why) ||
	    set_fd(vu, VHOST_USER_SET_VRING_CALL, i, r->call, why))
		return -1;
	/* Without protocol features a ring starts on its kick; with them it
	 * waits for this. */
	return vu->has_protocol ? call_state(vu, VHOST_USER_SET_VRING_ENABLE, i, 1, why)
				: 0;
}

int vhost_user_start(struct vhost_user *vu, const struct guest_mem *mem,
		     uint64_t features, const struct vhost_user_ring *rings,
		     unsigned nr, const char **why)
{
	if (vu->sock < 0) {
		*why = "not connected";
		return -1;
	}
	if (vu->has_protocol)
		features |= 1ull << VHOST_USER_F_PROTOCOL_FEATURES;
	if (call_u64(vu, VHOST_USER_SET_FEATURES, features, why) ||
	    set_mem_table(vu, mem, why))
		return -1;
	for (unsigned i = 0; i < nr; i++)
		if (start_ring(vu, i, &rings[i], why))
			return -1;
	return 0;
}

int vhost_user_stop(struct vhost_user *vu, unsigned nr, uint16_t *bases,
		    const char **why)
{
	if (vu->sock < 0) {
		*why = "not connected";
		return -1;
	}
	for (unsigned i = 0; i < nr; i++) {
		struct vhost_user_msg m = {.nr_fds = 0}, r;
		m.payload.state = (struct vhost_user_vring_state){i, 0};
		if ((vu->has_protocol &&
		     call_state(vu, VHOST_USER_SET_VRING_ENABLE, i, 0, why)) ||
		    call(vu, &m, VHOST_USER_GET_VRING_BASE, sizeof(m.payload.state), &r, why))
			return -1;
		if (r.payload.state.index != i || r.payload.state.num > UINT16_MAX)
			return fail(vu, why, "GET_VRING_BASE answered for another ring");
		if (bases)
			bases[i] = (uint16_t)r.payload.state.num;
	}
	return 0;
}
