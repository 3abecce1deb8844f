// SPDX-License-Identifier: Apache-2.0
/*
 * The guest's end of e2e.guestdev's vsock case (busybox speaks no
 * AF_VSOCK): built static by guestdev-e2e.sh and copied into the guest.
 *   vsock-peer serve PORT N   accept N connections on PORT at once; each
 *                             is read to its end and answered
 *                             "GOT <bytes> <crc32>\n"
 *   vsock-peer send PORT BYTES connect to the host (CID 2) PORT, send
 *                             BYTES of a known pattern, shut down the
 *                             sending side and print the answer
 * Results on "PHYLLOME-GD: " lines.
 */
#include <linux/vm_sockets.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* CRC-32 (IEEE, zlib's), continued from crc over n more bytes. */
static uint32_t crc32(uint32_t crc, const unsigned char *p, size_t n)
{
	static uint32_t table[256];
	if (!table[1])
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	crc = ~crc;
	for (size_t i = 0; i < n; i++)
		crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void *serve_one(void *arg)
{
	int c = (int)(intptr_t)arg;
	unsigned char *buf = malloc(65536);
	uint64_t n = 0;
	uint32_t h = 0;
	ssize_t r;
	while ((r = read(c, buf, 65536)) > 0) {
		n += (uint64_t)r;
		h = crc32(h, buf, (size_t)r);
	}
	char line[64];
	int l = snprintf(line, sizeof(line), "GOT %llu %08x\n", (unsigned long long)n, h);
	if (write(c, line, (size_t)l) != l)
		perror("write");
	close(c);
	free(buf);
	printf("PHYLLOME-GD: served %llu %08x\n", (unsigned long long)n, h);
	fflush(stdout);
	return NULL;
}

static int serve(unsigned port, int count)
{
	struct sockaddr_vm sa = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port};
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, count)) {
		perror("vsock listen");
		printf("PHYLLOME-GD: vsock listen failed\n");
		return 1;
	}
	printf("PHYLLOME-GD: vsock listening\n");
	fflush(stdout);
	pthread_t t[16];
	for (int i = 0; i < count && i < 16; i++) {
		int c = accept(fd, NULL, NULL);
		if (c < 0 || pthread_create(&t[i], NULL, serve_one, (void *)(intptr_t)c))
			return 1;
	}
	for (int i = 0; i < count && i < 16; i++)
		pthread_join(t[i], NULL);
	return 0;
}

static int send_to_host(unsigned port, uint64_t total)
{
	static unsigned char buf[65536];
	struct sockaddr_vm sa = {.svm_family = AF_VSOCK, .svm_cid = 2, .svm_port = port};
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("vsock connect");
		printf("PHYLLOME-GD: vsock connect failed\n");
		return 1;
	}
	uint64_t sent = 0;
	uint32_t h = 0;
	while (sent < total) {
		size_t k = total - sent < sizeof(buf) ? (size_t)(total - sent) : sizeof(buf);
		for (size_t i = 0; i < k; i++)
			buf[i] = (unsigned char)((sent + i) * 31 + 7);
		h = crc32(h, buf, k);
		for (size_t off = 0; off < k;) {
			ssize_t w = write(fd, buf + off, k - off);
			if (w <= 0) {
				perror("vsock write");
				return 1;
			}
			off += (size_t)w;
		}
		sent += k;
	}
	shutdown(fd, SHUT_WR);
	char reply[128] = {0};
	ssize_t r = read(fd, reply, sizeof(reply) - 1);
	if (r > 0 && reply[r - 1] == '\n')
		reply[r - 1] = 0;
	printf("PHYLLOME-GD: sent %llu %08x answer %s\n", (unsigned long long)sent, h,
	       r > 0 ? reply : "(none)");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "serve"))
		return serve((unsigned)atoi(argv[2]), atoi(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "send"))
		return send_to_host((unsigned)atoi(argv[2]), strtoull(argv[3], NULL, 0));
	fprintf(stderr, "usage: vsock-peer serve PORT N | send PORT BYTES\n");
	return 2;
}
