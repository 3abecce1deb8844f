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
 * descriptor. The device passes kicks and calls through; when the back
 * end dies it logs one line, keeps running (no DEVICE_NEEDS_RESET) and
 * dials again from the device loop: a new back end on the same path gets
 * the whole set-up with each ring's base at the used index in guest
 * memory, and a kick; one that accepts and hangs up at once is dialled
 * less and less often, leaking nothing; stopping the loop and destroying
 * the device while it waits or dials is clean.
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

enum fake_mode { GOOD, SILENT, OVERSIZED, NACK_MEM, DIE_AT_MEM, BAD_BASE, FLAP };

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
	uint32_t base[4];  /* SET_VRING_BASE per ring */
	unsigned accepts;  /* FLAP: connections taken and closed */
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
	case VHOST_USER_SET_VRING_BASE:
		memcpy(&st, p, sizeof(st));
		if (st.index < 4)
			f->base[st.index] = st.num;
		break;
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

/* Takes every connection and closes it at once, until the listening
 * socket is shut down. */
static void flap(struct fake *f)
{
	int c;
	while ((c = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		__atomic_add_fetch(&f->accepts, 1, __ATOMIC_SEQ_CST);
		close(c);
	}
}

static void *fake_thread(void *opaque)
{
	struct fake *f = opaque;
	if (f->mode == FLAP) {
		flap(f);
		return NULL;
	}
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
	*f = (struct fake){.mode = mode, .conn = -1, .base = {~0u, ~0u, ~0u, ~0u}};
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
	if (f->mode == FLAP)
		shutdown(f->listen_fd, SHUT_RDWR); /* ends its accept() */
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
	CHECK(vhost_user_connect(&vu, 1, &why) == VHOST_USER_NO_PEER && strstr(why, "no socket"));
}

/* Runs the loop (without a thread) until the device counts `failures`
 * and `connects`: whether it did within ms. */
static bool run_until(struct virtio_sim *sim, struct virtio_fs *fs,
		      uint64_t failures, uint64_t connects, long ms)
{
	struct timespec t0;
	struct virtio_fs_stats st;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		virtio_fs_stats(fs, &st);
		if (st.failures == failures && st.connects == connects)
			return true;
		if (ms_since(&t0) > ms)
			return false;
		io_loop_run_once(sim->loop, true);
	}
}

/* The driver resets the device, and the loop (without a thread) cancels
 * its poll on the back end's socket, which holds the socket open. In the
 * VMM the loop's stop does that before the device is destroyed. */
static void fs_quiesce(struct virtio_sim *sim)
{
	sim_set_status(sim, 0);
	for (int i = 0; i < 20; i++) {
		io_loop_run_once(sim->loop, false);
		usleep(1000);
	}
}

static struct virtio_fs *fs_plug(struct virtio_sim *sim, struct vhost_user *vu)
{
	struct virtio_fs_params p = {"myfs", 1, 16, vu};
	struct virtio_fs *fs;
	NEED(virtio_fs_create(&fs, &p, "virtio-fs0", &sim->mem, sim->loop, NULL) == 0);
	sim_attach(sim, virtio_fs_dev(fs), NULL, NULL);
	return fs;
}

/* A good fake on the session, and the driver starts the device. */
static void fs_serve(struct virtio_sim *sim, struct vhost_user *vu, struct fake *f)
{
	const char *why;
	fake_start(f, sock_path, GOOD);
	CHECK(vhost_user_connect(vu, 2, &why) == 0);
	CHECK(sim_start(sim, 1ull << VIRTIO_F_VERSION_1, 2, 16) == 0);
}

static void fs_device(struct virtio_sim *sim, struct vhost_user *vu)
{
	struct virtio_fs *fs = fs_plug(sim, vu);
	char tag[36];
	uint32_t nq = 0;
	sim_config_read(sim, 0, tag, sizeof(tag));
	sim_config_read(sim, 36, &nq, 4);
	CHECK(!strcmp(tag, "myfs") && nq == 1);

	struct fake f;
	fs_serve(sim, vu, &f);
	CHECK(f.mem_is_memfd && f.kick[1] >= 0 && !sim_needs_reset(sim));
	/* The guest's kick reaches the back end; its call, the guest. */
	sim_kick(sim, 1);
	sim_run(sim);
	uint64_t one = 1, got = 0;
	CHECK(read(f.kick[1], &got, 8) == 8 && got == 1);
	CHECK(write(f.call[1], &one, 8) == 8);
	io_loop_run_once(sim->loop, true);
	CHECK(sim->q[1].interrupts == 1);

	/* The back end dies: the loop sees it at once, without a kick; the
	 * device keeps running and says so once. */
	shutdown(f.conn, SHUT_RDWR);
	fake_join(&f);
	CHECK(run_until(sim, fs, 1, 0, 2000));
	CHECK(!sim_needs_reset(sim) && sim->logs == 1);
	CHECK(strstr(sim->last_log, sock_path) && strstr(sim->last_log, "lost"));
	/* Kicks meanwhile go nowhere and block nothing. */
	sim_kick(sim, 1);
	sim_run(sim);

	/* The guest has seen 3 answers on queue 1 (one more was taken and
	 * never answered): a new back end starts there, and is kicked. */
	sim->q[1].used->idx = 3;
	fake_start(&f, sock_path, GOOD);
	CHECK(run_until(sim, fs, 1, 1, 3000));
	CHECK(!sim_needs_reset(sim) && sim->logs == 2 && strstr(sim->last_log, "back"));
	CHECK(has_req(&f, VHOST_USER_SET_MEM_TABLE) && f.mem_is_memfd);
	CHECK(f.base[0] == 0 && f.base[1] == 3);
	got = 0;
	CHECK(read(f.kick[0], &got, 8) == 8 && got == 1);
	CHECK(read(f.kick[1], &got, 8) == 8 && got == 1);
	/* And it works: kicks and calls pass again. */
	sim_kick(sim, 1);
	sim_run(sim);
	CHECK(read(f.kick[1], &got, 8) == 8 && got == 1);
	CHECK(write(f.call[1], &one, 8) == 8);
	io_loop_run_once(sim->loop, true);
	CHECK(sim->q[1].interrupts == 2);
	struct virtio_fs_stats st;
	virtio_fs_stats(fs, &st);
	CHECK(st.kicks == 2 && st.calls == 2 && st.connects == 1 && st.failures == 1);
	fs_quiesce(sim);
	CHECK(has_req(&f, VHOST_USER_GET_VRING_BASE));
	virtio_fs_destroy(fs);
	vhost_user_disconnect(vu);
	fake_join(&f);
}

/* A running device whose back end has just died, and the new fake
 * started in `mode` on its path. */
static struct virtio_fs *fs_lose_back_end(struct virtio_sim *sim,
					  struct vhost_user *vu, struct fake *f)
{
	struct virtio_fs *fs = fs_plug(sim, vu);
	fs_serve(sim, vu, f);
	sim_kick(sim, 1);
	sim_run(sim);
	shutdown(f->conn, SHUT_RDWR);
	fake_join(f);
	return fs;
}

/* What a device test runs on: guest RAM, a loop, a session, a fake. */
struct fs_env {
	unsigned fds_before;
	struct virtio_sim *sim;
	struct vhost_user vu;
	struct fake f;
};

static bool env_open(struct fs_env *e, int timeout_ms)
{
	e->fds_before = open_fds();
	e->sim = sim_create_vm_ram(4 << 20, GUEST_MEM_SHARED);
	vhost_user_init(&e->vu, sock_path, timeout_ms);
	return e->sim != NULL;
}

/* The device must be destroyed; nothing may be left open. */
static void env_close(struct fs_env *e)
{
	vhost_user_disconnect(&e->vu);
	sim_destroy(e->sim);
	CHECK(open_fds() == e->fds_before);
}

static void test_fs_device(void)
{
	struct fs_env e;
	REQUIRE(env_open(&e, 2000));
	fs_device(e.sim, &e.vu);
	env_close(&e);
}

/* A back end that takes the connection and closes it, again and again:
 * attempts at 200, 600, 1400 and 2400 ms (the wait doubles up to 1 s),
 * each counted as a failure, each socket closed; the loop sleeps between
 * them. */
static void test_fs_flapping(void)
{
	struct fs_env e;
	REQUIRE(env_open(&e, 300));
	struct virtio_sim *sim = e.sim;
	struct fake *f = &e.f;
	struct virtio_fs *fs = fs_lose_back_end(sim, &e.vu, f);
	fake_start(f, sock_path, FLAP);
	struct timespec t0;
	unsigned passes = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (ms_since(&t0) < 2700) {
		io_loop_run_once(sim->loop, true);
		passes++;
	}
	unsigned accepts = __atomic_load_n(&f->accepts, __ATOMIC_SEQ_CST);
	struct virtio_fs_stats st;
	virtio_fs_stats(fs, &st);
	CHECK(accepts >= 3 && accepts <= 5);
	CHECK(st.failures == 1 + accepts && st.connects == 0);
	CHECK(passes < 50);
	if (accepts < 3 || accepts > 5 || passes >= 50)
		fprintf(stderr, "  %u attempts, %u loop passes\n", accepts, passes);
	CHECK(!sim_needs_reset(sim) && sim->logs == 1);
	fs_quiesce(sim);
	virtio_fs_destroy(fs);
	fake_join(f);
	env_close(&e);
}

static long stop_loop_ms(struct virtio_sim *sim)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	io_loop_stop(sim->loop);
	return ms_since(&t0);
}

/* The machine goes away while the device waits to dial again, and while
 * it dials a back end that says nothing: the loop's stop cancels the
 * timer and the watch, waits for the attempt at most the reply timeout,
 * and nothing leaks. The loop runs on its own thread, as in the VMM. */
static void test_fs_destroy_while_down(void)
{
	for (int silent = 0; silent < 2; silent++) {
		struct fs_env e;
		REQUIRE(env_open(&e, 300));
		struct virtio_sim *sim = e.sim;
		struct fake *f = &e.f;
		/* Its eventfds are watched before the loop starts, as in the VMM. */
		struct virtio_fs *fs = fs_plug(sim, &e.vu);
		REQUIRE(io_loop_start(sim->loop, NULL) == 0);
		fs_serve(sim, &e.vu, f);
		usleep(50000); /* the loop watches the socket */
		shutdown(f->conn, SHUT_RDWR);
		fake_join(f);
		struct virtio_fs_stats st = {0};
		for (int i = 0; i < 200 && !st.failures; i++) {
			usleep(10000);
			virtio_fs_stats(fs, &st);
		}
		CHECK(st.failures == 1 && !sim_needs_reset(sim));
		if (silent)
			fake_start(f, sock_path, SILENT);
		usleep(silent ? 300000 : 100000); /* dialling, or waiting */
		CHECK(stop_loop_ms(sim) < 1000);
		virtio_fs_destroy(fs);
		vhost_user_disconnect(&e.vu); /* the silent fake waits for it */
		if (silent)
			fake_join(f);
		env_close(&e);
	}
}

int main(void)
{
	snprintf(sock_path, sizeof(sock_path), "/tmp/phy-vhost-user-%d.sock", getpid());
	test_good_session();
	test_bad_back_ends();
	test_fs_device();
	test_fs_flapping();
	test_fs_destroy_while_down();
	unlink(sock_path);
	return check_report("test_vhost_user");
}
