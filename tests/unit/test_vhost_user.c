/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vhost-user front end (devices/vhost/vhost_user.c) and virtio-fs on
 * it, against a fake back end: a thread serving a Unix socket. A good
 * back end sees the whole session in order (features, protocol features,
 * queue count, owner, features with F_PROTOCOL_FEATURES, the memory
 * table with the guest RAM's memfd, each ring's set-up with its eventfds
 * and enable, GET_VRING_BASE on stop); a bad one (silent, an oversized
 * reply, a refused ACK, dying mid-session, a base for another ring) ends
 * the session with its reason, within the timeout, leaking no
 * descriptor. The device passes kicks and calls through, fails with one
 * log line when the back end dies, and reconnects at the next DRIVER_OK.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_config.h>

#include "check.h"
#include "fd_count.h"
#include "common/io_loop.h"
#include "devices/vhost/vhost_user.h"
#include "devices/vhost/vhost_user_msg.h"
#include "devices/virtio/virtio_fs.h"
#include "virtio_sim.h"

enum fake_mode { GOOD, SILENT, OVERSIZED, NACK_MEM, DIE_AT_MEM, BAD_BASE };

struct fake {
	char path[108];
	int listen_fd, conn;
	enum fake_mode mode;
	pthread_t thread;
	uint32_t reqs[256];
	unsigned nr_reqs;
	int kick[4], call[4];
	unsigned mem_regions;
	bool mem_is_memfd;
	uint64_t features_set;
};

#define FAKE_FEATURES (1ull << VIRTIO_F_VERSION_1 | 1ull << VHOST_USER_F_PROTOCOL_FEATURES)
#define FAKE_PROTOCOL (1ull << VHOST_USER_PROTOCOL_F_MQ | \
		       1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK | 1ull << 9)

static void reply(struct fake *f, uint32_t req, const void *p, uint32_t size)
{
	uint8_t buf[VHOST_USER_HDR_SIZE + 8192];
	uint32_t hdr[3] = {req, VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, size};
	memcpy(buf, hdr, sizeof(hdr));
	memcpy(buf + VHOST_USER_HDR_SIZE, p, size);
	if (write(f->conn, buf, VHOST_USER_HDR_SIZE + size) < 0) {
		/* the front end went away: the test sees it */
	}
}

static void reply_u64(struct fake *f, uint32_t req, uint64_t v)
{
	reply(f, req, &v, sizeof(v));
}

/* One request: header with its descriptors, then the payload. */
static bool receive(struct fake *f, uint32_t hdr[3], uint8_t *payload,
		    int *fds, unsigned *nr)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {hdr, VHOST_USER_HDR_SIZE};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			   .msg_controllen = sizeof(ctl.b)};
	if (recvmsg(f->conn, &m, MSG_WAITALL) != VHOST_USER_HDR_SIZE)
		return false;
	*nr = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		unsigned k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		memcpy(fds + *nr, CMSG_DATA(c), k * sizeof(int));
		*nr += k;
	}
	return hdr[2] <= VHOST_USER_MAX_PAYLOAD &&
	       (!hdr[2] || recv(f->conn, payload, hdr[2], MSG_WAITALL) == (ssize_t)hdr[2]);
}

static void keep_fd(int *slot, int fd)
{
	if (*slot >= 0)
		close(*slot);
	*slot = fd;
}

/* Answers one request; false: the fake hangs up. */
static bool serve_one(struct fake *f, const uint32_t hdr[3], const uint8_t *p,
		      int *fds, unsigned nr)
{
	uint64_t u = 0;
	struct vhost_user_vring_state st;
	memcpy(&u, p, hdr[2] >= 8 ? 8 : 0);
	switch (hdr[0]) {
	case VHOST_USER_GET_FEATURES:
		if (f->mode == SILENT) {
			struct pollfd pf = {f->conn, POLLIN, 0};
			poll(&pf, 1, 5000); /* until the front end gives up */
			return false;
		}
		if (f->mode == OVERSIZED) {
			static uint8_t big[8000];
			reply(f, hdr[0], big, sizeof(big));
			return true;
		}
		reply_u64(f, hdr[0], FAKE_FEATURES);
		return true;
	case VHOST_USER_GET_PROTOCOL_FEATURES: reply_u64(f, hdr[0], FAKE_PROTOCOL); return true;
	case VHOST_USER_GET_QUEUE_NUM: reply_u64(f, hdr[0], 2); return true;
	case VHOST_USER_GET_VRING_BASE:
		memcpy(&st, p, sizeof(st));
		st.index += f->mode == BAD_BASE ? 7 : 0;
		st.num = 5;
		reply(f, hdr[0], &st, sizeof(st));
		return true;
	case VHOST_USER_SET_FEATURES: f->features_set = u; break;
	case VHOST_USER_SET_MEM_TABLE:
		memcpy(&f->mem_regions, p, 4);
		f->mem_is_memfd = nr && fcntl(fds[0], F_GET_SEALS) >= 0;
		break;
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
		if (nr == 1 && (u & 0xff) < 4) {
			keep_fd(hdr[0] == VHOST_USER_SET_VRING_KICK ? &f->kick[u & 0xff]
								    : &f->call[u & 0xff], fds[0]);
			nr = 0;
		}
		break;
	default: break;
	}
	for (unsigned i = 0; i < nr; i++)
		close(fds[i]);
	if (f->mode == DIE_AT_MEM && hdr[0] == VHOST_USER_SET_MEM_TABLE)
		return false;
	if (hdr[1] & VHOST_USER_NEED_REPLY)
		reply_u64(f, hdr[0], f->mode == NACK_MEM && hdr[0] == VHOST_USER_SET_MEM_TABLE);
	return true;
}

static void *fake_thread(void *opaque)
{
	struct fake *f = opaque;
	f->conn = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	uint32_t hdr[3];
	static _Thread_local uint8_t payload[VHOST_USER_MAX_PAYLOAD];
	int fds[VHOST_USER_MAX_FDS];
	unsigned nr;
	while (f->conn >= 0 && receive(f, hdr, payload, fds, &nr)) {
		if (f->nr_reqs < 256)
			f->reqs[f->nr_reqs++] = hdr[0];
		if (!serve_one(f, hdr, payload, fds, nr))
			break;
	}
	if (f->conn >= 0)
		close(f->conn);
	return NULL;
}

static void fake_start(struct fake *f, const char *path, enum fake_mode mode)
{
	*f = (struct fake){.mode = mode, .conn = -1};
	for (unsigned i = 0; i < 4; i++)
		f->kick[i] = f->call[i] = -1;
	snprintf(f->path, sizeof(f->path), "%s", path);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, path);
	unlink(path);
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	NEED(f->listen_fd >= 0 && !bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	     !listen(f->listen_fd, 1));
	NEED(!pthread_create(&f->thread, NULL, fake_thread, f));
}

/* Waits for the fake to end its connection (the front end must have
 * connected or be closing), then frees what it holds. */
static void fake_join(struct fake *f)
{
	pthread_join(f->thread, NULL);
	close(f->listen_fd);
	unlink(f->path);
	for (unsigned i = 0; i < 4; i++) {
		keep_fd(&f->kick[i], -1);
		keep_fd(&f->call[i], -1);
	}
}

static bool has_req(const struct fake *f, uint32_t req)
{
	for (unsigned i = 0; i < f->nr_reqs; i++)
		if (f->reqs[i] == req)
			return true;
	return false;
}

static char sock_path[108];

static void test_good_session(void)
{
	struct fake f;
	struct vhost_user vu;
	struct guest_mem mem;
	const char *why = "";
	unsigned before = open_fds();
	REQUIRE(guest_mem_create(&mem, 4 << 20, 4 << 20, 4 << 20, GUEST_MEM_SHARED, NULL) == 0);
	fake_start(&f, sock_path, GOOD);
	vhost_user_init(&vu, sock_path, 2000);
	CHECK(vhost_user_connect(&vu, 2, &why) == 0);
	const uint32_t order[] = {VHOST_USER_GET_FEATURES, VHOST_USER_GET_PROTOCOL_FEATURES,
				  VHOST_USER_SET_PROTOCOL_FEATURES, VHOST_USER_GET_QUEUE_NUM,
				  VHOST_USER_SET_OWNER};
	CHECK(f.nr_reqs == 5 && !memcmp(f.reqs, order, sizeof(order)));
	CHECK_EQ_U64(vu.features, 1ull << VIRTIO_F_VERSION_1);
	CHECK_EQ_U64(vu.protocol, 1ull << VHOST_USER_PROTOCOL_F_MQ |
				  1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK);
	CHECK(!vhost_user_broken(&vu));

	int efd[4];
	for (unsigned i = 0; i < 4; i++)
		efd[i] = eventfd(0, EFD_CLOEXEC);
	uint8_t *ram = mem.base;
	struct vhost_user_ring rings[2] = {
		{16, 0, ram, ram + 0x1000, ram + 0x2000, efd[0], efd[1]},
		{16, 3, ram + 0x3000, ram + 0x4000, ram + 0x5000, efd[2], efd[3]},
	};
	CHECK(vhost_user_start(&vu, &mem, 1ull << VIRTIO_F_VERSION_1, rings, 2, &why) == 0);
	CHECK_EQ_U64(f.features_set, FAKE_FEATURES);
	CHECK(f.mem_regions == 1 && f.mem_is_memfd);
	CHECK(f.kick[0] >= 0 && f.call[0] >= 0 && f.kick[1] >= 0 && f.call[1] >= 0);
	CHECK(has_req(&f, VHOST_USER_SET_VRING_ENABLE) && has_req(&f, VHOST_USER_SET_VRING_ADDR));
	/* The fake's kick is the front end's eventfd: what one writes, the
	 * other reads. */
	uint64_t one = 1, got = 0;
	CHECK(write(efd[2], &one, 8) == 8 && read(f.kick[1], &got, 8) == 8 && got == 1);
	uint16_t bases[2] = {0, 0};
	CHECK(vhost_user_stop(&vu, 2, bases, &why) == 0);
	CHECK(bases[0] == 5 && bases[1] == 5);
	vhost_user_disconnect(&vu);
	fake_join(&f);
	for (unsigned i = 0; i < 4; i++)
		close(efd[i]);
	guest_mem_destroy(&mem);
	CHECK(open_fds() == before);
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* A session with a bad back end: which step fails and with what. */
static void bad_case(enum fake_mode mode, bool shared, const char *want)
{
	struct fake f;
	struct vhost_user vu;
	struct guest_mem mem;
	const char *why = "";
	unsigned before = open_fds();
	REQUIRE(guest_mem_create(&mem, 4 << 20, 4 << 20, 4 << 20,
				 shared ? GUEST_MEM_SHARED : 0, NULL) == 0);
	fake_start(&f, sock_path, mode);
	vhost_user_init(&vu, sock_path, 300);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int efd = eventfd(0, EFD_CLOEXEC);
	struct vhost_user_ring ring = {16, 0, mem.base, mem.base, mem.base, efd, efd};
	int r = vhost_user_connect(&vu, 1, &why);
	if (!r)
		r = vhost_user_start(&vu, &mem, 0, &ring, 1, &why);
	if (!r)
		r = vhost_user_stop(&vu, 1, NULL, &why);
	CHECK(r == -1 && !vhost_user_connected(&vu));
	CHECK(strstr(why, want) != NULL);
	if (!strstr(why, want))
		fprintf(stderr, "  mode %d: '%s', wanted '%s'\n", mode, why, want);
	CHECK(ms_since(&t0) < 2000);
	fake_join(&f);
	close(efd);
	guest_mem_destroy(&mem);
	CHECK(open_fds() == before);
}

static void test_bad_back_ends(void)
{
	bad_case(SILENT, true, "did not answer in time");
	bad_case(OVERSIZED, true, "larger than any message");
	bad_case(NACK_MEM, true, "refused a request");
	bad_case(DIE_AT_MEM, true, "closed the socket");
	bad_case(BAD_BASE, true, "another ring");
	bad_case(GOOD, false, "not shared");
	/* More queues than the back end serves (GET_QUEUE_NUM: 2). */
	struct fake f;
	struct vhost_user vu;
	const char *why = "";
	fake_start(&f, sock_path, GOOD);
	vhost_user_init(&vu, sock_path, 300);
	CHECK(vhost_user_connect(&vu, 3, &why) == -1 && strstr(why, "fewer queues"));
	CHECK(!vhost_user_connected(&vu));
	fake_join(&f);
	vhost_user_init(&vu, "/nonexistent/vhost.sock", 300);
	CHECK(vhost_user_connect(&vu, 1, &why) == -1 && strstr(why, "no socket"));
}

static void fs_device(struct virtio_sim *sim, struct vhost_user *vu)
{
	struct virtio_fs_params p = {"myfs", 1, 16, vu};
	struct virtio_fs *fs;
	REQUIRE(virtio_fs_create(&fs, &p, "virtio-fs0", &sim->mem, sim->loop, NULL) == 0);
	sim_attach(sim, virtio_fs_dev(fs), NULL, NULL);
	char tag[36];
	uint32_t nq = 0;
	sim_config_read(sim, 0, tag, sizeof(tag));
	sim_config_read(sim, 36, &nq, 4);
	CHECK(!strcmp(tag, "myfs") && nq == 1);

	struct fake f;
	fake_start(&f, sock_path, GOOD);
	const char *why;
	CHECK(vhost_user_connect(vu, 2, &why) == 0);
	CHECK(sim_start(sim, 1ull << VIRTIO_F_VERSION_1, 2, 16) == 0);
	CHECK(f.mem_is_memfd && f.kick[1] >= 0 && !sim_needs_reset(sim));
	/* The guest's kick reaches the back end; its call, the guest. */
	sim_kick(sim, 1);
	sim_run(sim);
	uint64_t one = 1, got = 0;
	CHECK(read(f.kick[1], &got, 8) == 8 && got == 1);
	CHECK(write(f.call[1], &one, 8) == 8);
	io_loop_run_once(sim->loop, true);
	CHECK(sim->q[1].interrupts == 1);

	/* The back end dies: the next kick fails the device, one log line. */
	shutdown(f.conn, SHUT_RDWR);
	fake_join(&f);
	sim_kick(sim, 1);
	sim_run(sim);
	CHECK(sim_needs_reset(sim) && sim->logs == 1);
	CHECK(strstr(sim->last_log, sock_path) != NULL);

	/* Back again: the driver's reset and DRIVER_OK reconnect. */
	fake_start(&f, sock_path, GOOD);
	CHECK(sim_start(sim, 1ull << VIRTIO_F_VERSION_1, 2, 16) == 0);
	CHECK(!sim_needs_reset(sim) && f.kick[1] >= 0);
	struct virtio_fs_stats st;
	virtio_fs_stats(fs, &st);
	CHECK(st.kicks == 1 && st.calls == 1 && st.connects == 1 && st.failures == 1);
	virtio_fs_destroy(fs);
	CHECK(has_req(&f, VHOST_USER_GET_VRING_BASE));
	vhost_user_disconnect(vu);
	fake_join(&f);
}

static void test_fs_device(void)
{
	unsigned before = open_fds();
	struct virtio_sim *sim = sim_create_vm_ram(4 << 20, GUEST_MEM_SHARED);
	REQUIRE(sim);
	struct vhost_user vu;
	vhost_user_init(&vu, sock_path, 2000);
	fs_device(sim, &vu);
	sim_destroy(sim);
	CHECK(open_fds() == before);

}

int main(void)
{
	snprintf(sock_path, sizeof(sock_path), "/tmp/phy-vhost-user-%d.sock", getpid());
	test_good_session();
	test_bad_back_ends();
	test_fs_device();
	unlink(sock_path);
	return check_report("test_vhost_user");
}
