/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A console's host end (vmm/chardev.c) without a VM: a file (also
 * written and flushed from two threads at once); a pty
 * (output kept until a client opens the slave, raw mode, input from the
 * slave handed to the input function, also one byte at a time when the
 * guest takes no more, a client that goes and comes back); a socket
 * (exchange both ways, a second client refused, output kept while
 * nobody is connected and delivered to the next client, an existing
 * path refused naming the option, the file removed at close); the
 * bounded ring (the oldest bytes dropped and counted); and a client that
 * never reads, which must not block the writer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "vmm/chardev.h"

/* What the "guest" took as input (the chardev's thread writes it). */
static pthread_mutex_t in_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t in_buf[1 << 16];
static size_t in_len;
static size_t in_take = SIZE_MAX; /* bytes taken per call at most */

static size_t take_input(void *opaque, const uint8_t *buf, size_t len)
{
	pthread_mutex_lock(&in_lock);
	size_t n = len < in_take ? len : in_take;
	if (n > sizeof(in_buf) - in_len)
		n = sizeof(in_buf) - in_len;
	memcpy(in_buf + in_len, buf, n);
	in_len += n;
	pthread_mutex_unlock(&in_lock);
	return n;
}

static void input_reset(size_t take)
{
	pthread_mutex_lock(&in_lock);
	in_len = 0;
	in_take = take;
	pthread_mutex_unlock(&in_lock);
}

/* Waits up to 3 s for the input to hold want bytes. */
static bool input_has(const char *want)
{
	size_t n = strlen(want);
	for (int i = 0; i < 300; i++) {
		pthread_mutex_lock(&in_lock);
		bool ok = in_len >= n && !memcmp(in_buf, want, n);
		pthread_mutex_unlock(&in_lock);
		if (ok)
			return true;
		usleep(10000);
	}
	return false;
}

/* Reads exactly len bytes from fd within 3 s; returns how many came. */
static size_t read_for(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;
	for (int i = 0; i < 300 && got < len; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 10) <= 0)
			continue;
		ssize_t n = read(fd, buf + got, len - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/* Whether fd gives exactly want within 3 s. */
static bool reads(int fd, const char *want)
{
	uint8_t buf[64] = { 0 };
	size_t n = strlen(want);
	NEED(n <= sizeof(buf));
	return read_for(fd, buf, n) == n && !memcmp(buf, want, n);
}

static void write_str(struct chardev *c, const char *s)
{
	chardev_write(c, (const uint8_t *)s, strlen(s));
}

static struct chardev_stats stats(struct chardev *c)
{
	struct chardev_stats st;
	chardev_stats(c, &st);
	return st;
}

static void test_file(void)
{
	char path[] = "/tmp/phy-chardev-XXXXXX";
	int fd = mkstemp(path);
	NEED(fd >= 0);
	NEED(write(fd, "old contents\n", 13) == 13);
	struct chardev c;
	struct phy_error err;
	chardev_init(&c);
	CHECK(chardev_open(&c, SERIAL_FILE, path, "serial", NULL, NULL, &err) == 0);
	CHECK(chardev_path(&c) == NULL);
	write_str(&c, "line one\npartial");
	chardev_close(&c);
	char buf[64] = { 0 };
	CHECK(pread(fd, buf, sizeof(buf) - 1, 0) == 16); /* truncated at open */
	CHECK(!strcmp(buf, "line one\npartial"));
	close(fd);
	unlink(path);

	chardev_init(&c);
	CHECK(chardev_open(&c, SERIAL_FILE, "/nonexistent/dir/x", "console", NULL,
			   NULL, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--console: cannot open '/nonexistent/dir/x'");
	chardev_close(&c);
}

static void *flusher(void *arg)
{
	struct chardev *c = arg;
	for (int i = 0; i < 200000; i++)
		chardev_flush(c);
	return NULL;
}

/* The virtio console writes on the device loop while the VM's stop
 * flushes on another thread: every byte lands once, in order. */
static void test_file_two_threads(void)
{
	char path[] = "/tmp/phy-chardev-XXXXXX";
	int fd = mkstemp(path);
	NEED(fd >= 0);
	struct chardev c;
	struct phy_error err;
	chardev_init(&c);
	NEED(chardev_open(&c, SERIAL_FILE, path, "console", NULL, NULL, &err) == 0);
	pthread_t t;
	NEED(pthread_create(&t, NULL, flusher, &c) == 0);
	size_t total = 0;
	for (int i = 0; i < 20000; i++) {
		char line[32];
		int n = snprintf(line, sizeof(line), "%d%s", i, i % 3 ? " " : "\n");
		chardev_write(&c, (const uint8_t *)line, (size_t)n);
		total += (size_t)n;
	}
	pthread_join(t, NULL);
	chardev_close(&c);
	struct stat st;
	CHECK(fstat(fd, &st) == 0 && (size_t)st.st_size == total);
	char head[16] = { 0 };
	CHECK(pread(fd, head, 8, 0) == 8 && !strcmp(head, "0\n1 2 3\n"));
	close(fd);
	unlink(path);
}

static int open_slave(const char *path)
{
	int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	NEED(fd >= 0);
	return fd;
}

static void test_pty(void)
{
	struct chardev c;
	struct phy_error err;
	chardev_init(&c);
	input_reset(SIZE_MAX);
	NEED(chardev_open(&c, SERIAL_PTY, NULL, "serial", take_input, NULL, &err) == 0);
	const char *path = chardev_path(&c);
	CHECK(path && !strncmp(path, "/dev/pts/", 9));

	/* Nobody has the slave: the output waits. */
	write_str(&c, "boot\r\n");
	CHECK_EQ_U64(stats(&c).buffered, 6);
	int s = open_slave(path);
	struct termios tio;
	CHECK(tcgetattr(s, &tio) == 0 && !(tio.c_lflag & (ECHO | ICANON)) &&
	      !(tio.c_oflag & OPOST));
	CHECK(reads(s, "boot\r\n"));
	CHECK_EQ_U64(stats(&c).clients, 1);

	/* Attached: output straight through; input from the slave, raw. */
	write_str(&c, "login: ");
	CHECK(reads(s, "login: "));
	NEED(write(s, "root\r\x03\x04", 7) == 7);
	CHECK(input_has("root\r\x03\x04"));

	/* A guest that takes one byte at a time gets all of it, in order. */
	input_reset(1);
	NEED(write(s, "echo hello\n", 11) == 11);
	CHECK(input_has("echo hello\n"));

	/* The client goes; output waits again and reaches the next one. */
	close(s);
	usleep(300000);
	write_str(&c, "after");
	CHECK_EQ_U64(stats(&c).buffered, 5);
	s = open_slave(path);
	CHECK(reads(s, "after"));
	CHECK_EQ_U64(stats(&c).clients, 2);
	close(s);
	chardev_close(&c);
	CHECK(chardev_path(&c) == NULL);
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	NEED(fd >= 0);
	NEED(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	return fd;
}

/* Whether the peer closed fd within 3 s. */
static bool closed_by_peer(int fd)
{
	uint8_t b;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 3000) == 1 && read(fd, &b, 1) == 0;
}

/* A socket chardev at DIR/name in a new directory (dir: 64 bytes). */
static void open_socket(struct chardev *c, char *dir, char *path, size_t size,
			const char *opt)
{
	struct phy_error err;
	strcpy(dir, "/tmp/phy-chardev-XXXXXX");
	NEED(mkdtemp(dir));
	snprintf(path, size, "%s/%s.sock", dir, opt);
	chardev_init(c);
	input_reset(SIZE_MAX);
	NEED(chardev_open(c, SERIAL_SOCKET, path, opt, take_input, NULL, &err) == 0);
}

static void test_socket(void)
{
	char dir[64], path[128];
	struct chardev c;
	struct phy_error err;
	open_socket(&c, dir, path, sizeof(path), "console");
	CHECK(!strcmp(chardev_path(&c), path));
	struct stat st;
	CHECK(stat(path, &st) == 0 && S_ISSOCK(st.st_mode));

	/* Output before any client, then a client: it gets it first. */
	write_str(&c, "early ");
	int a = connect_to(path);
	CHECK(reads(a, "early "));
	write_str(&c, "late");
	CHECK(reads(a, "late"));
	NEED(write(a, "typed", 5) == 5);
	CHECK(input_has("typed"));

	/* A second client is refused while the first is there. */
	int b = connect_to(path);
	CHECK(closed_by_peer(b));
	close(b);
	CHECK_EQ_U64(stats(&c).refused, 1);
	write_str(&c, "still");
	CHECK(reads(a, "still"));

	/* The first leaves; what comes meanwhile reaches the next client. */
	close(a);
	usleep(100000);
	write_str(&c, "while away");
	b = connect_to(path);
	CHECK(reads(b, "while away"));
	CHECK_EQ_U64(stats(&c).clients, 2);
	close(b);

	/* An existing path is refused, naming the option. */
	struct chardev d;
	chardev_init(&d);
	CHECK(chardev_open(&d, SERIAL_SOCKET, path, "serial", take_input, NULL,
			   &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--serial: socket=");
	CHECK_STR_CONTAINS(err.message, "the path exists");
	chardev_close(&d);
	CHECK(stat(path, &st) == 0); /* not the other's to remove */

	chardev_close(&c);
	CHECK(stat(path, &st) == -1 && errno == ENOENT);
	rmdir(dir);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void test_ring_bound(void)
{
	char dir[64], path[128];
	struct chardev c;
	open_socket(&c, dir, path, sizeof(path), "serial");

	/* 100000 numbered bytes with no client: the first 100000 - 64 KiB go. */
	static uint8_t data[100000], got[CHARDEV_RING_SIZE + 16];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i % 251);
	for (size_t off = 0; off < sizeof(data); off += 1000)
		chardev_write(&c, data + off, 1000);
	struct chardev_stats st = stats(&c);
	CHECK_EQ_U64(st.buffered, CHARDEV_RING_SIZE);
	CHECK_EQ_U64(st.dropped_bytes, sizeof(data) - CHARDEV_RING_SIZE);
	/* One write larger than the ring keeps its newest bytes. */
	int a = connect_to(path);
	CHECK_EQ_U64(read_for(a, got, CHARDEV_RING_SIZE), CHARDEV_RING_SIZE);
	CHECK(!memcmp(got, data + sizeof(data) - CHARDEV_RING_SIZE, CHARDEV_RING_SIZE));
	close(a);
	usleep(100000);
	chardev_write(&c, data, sizeof(data));
	st = stats(&c);
	CHECK_EQ_U64(st.buffered, CHARDEV_RING_SIZE);
	CHECK_EQ_U64(st.dropped_bytes, 2 * (sizeof(data) - CHARDEV_RING_SIZE));

	/* A client that never reads: 8 MiB of output costs the writer no
	 * wait; what the socket cannot take is dropped and counted. */
	a = connect_to(path);
	usleep(100000);
	static uint8_t big[1 << 20];
	double t0 = now_s();
	for (int i = 0; i < 8; i++)
		chardev_write(&c, big, sizeof(big));
	double dt = now_s() - t0;
	CHECK(dt < 1.0);
	st = stats(&c);
	CHECK(st.dropped_bytes > 2 * (sizeof(data) - CHARDEV_RING_SIZE));
	CHECK(st.buffered <= CHARDEV_RING_SIZE);
	close(a);
	chardev_close(&c);
	rmdir(dir);
}

int main(void)
{
	test_file();
	test_file_two_threads();
	test_pty();
	test_socket();
	test_ring_bound();
	return check_report("test_chardev");
}
