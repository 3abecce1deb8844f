/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host's side of devbench: its disk pattern (pattern.h), the TSC, and
 * its network frames (netframe.h):
 *   devbench-host fill FILE MIB      writes FILE with generation 0
 *   devbench-host check FILE MAXGEN [MINGEN]
 *       checks every sector; prints the sectors per generation range;
 *       fails on any bad sector, or when MINGEN is given and no sector
 *       has a generation >= MINGEN (the guest's writes did not land).
 *   devbench-host tsc                the TSC's frequency in kHz (the guest's
 *       TSC ticks at the host's where KVM cannot scale it), for tsc_khz=
 *   devbench-host send IFACE SECONDS LEN
 *       sends LEN-byte frames (sequence numbers from 0) into IFACE (a tap:
 *       they go to the guest) as fast as it can for SECONDS; prints sent=N
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>

#include "netframe.h"
#include "pattern.h"

#define CHUNK (1u << 20)

static int fill(const char *path, uint64_t mib)
{
	static uint64_t buf[CHUNK / 8];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		fprintf(stderr, "devbench-host: %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	for (uint64_t c = 0; c < mib; c++) {
		for (unsigned s = 0; s < CHUNK / DB_SECTOR; s++)
			db_fill(buf + s * DB_WORDS, c * (CHUNK / DB_SECTOR) + s,
				0);
		if (write(fd, buf, CHUNK) != (ssize_t)CHUNK) {
			fprintf(stderr, "devbench-host: write %s failed\n",
				path);
			close(fd);
			return 1;
		}
	}
	if (fsync(fd) || close(fd)) {
		fprintf(stderr, "devbench-host: %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	return 0;
}

static int check(const char *path, uint64_t maxgen, int want_min,
		 uint64_t mingen)
{
	static uint64_t buf[CHUNK / 8];
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "devbench-host: %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	uint64_t sector = 0, bad = 0, gen0 = 0, newer = 0, at_least = 0;
	size_t n;
	while ((n = fread(buf, 1, CHUNK, f)) > 0) {
		for (size_t s = 0; s < n / DB_SECTOR; s++, sector++) {
			uint64_t gen;
			if (db_check(buf + s * DB_WORDS, sector, maxgen,
				     &gen)) {
				if (bad++ < 5)
					fprintf(stderr,
						"devbench-host: bad sector "
						"%" PRIu64 "\n",
						sector);
				continue;
			}
			gen ? newer++ : gen0++;
			at_least += want_min && gen >= mingen;
		}
	}
	fclose(f);
	printf("sectors=%" PRIu64 " gen0=%" PRIu64 " written=%" PRIu64
	       " at_least_mingen=%" PRIu64 " bad=%" PRIu64 "\n",
	       sector, gen0, newer, at_least, bad);
	if (bad || !sector || (want_min && !at_least))
		return 1;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int tsc(void)
{
	double t0 = now_s();
	uint64_t c0 = __rdtsc();
	struct timespec d = {0, 200 * 1000 * 1000};
	nanosleep(&d, NULL);
	double t1 = now_s();
	uint64_t c1 = __rdtsc();
	printf("%.0f\n", (double)(c1 - c0) / (t1 - t0) / 1000.0);
	return 0;
}

#define BATCH 64

static int send_frames(const char *ifname, double secs, uint32_t len)
{
	static uint8_t frames[BATCH][NF_MAX];
	static const uint8_t src[6] = {0x02, 0xde, 0xb0, 0x00, 0x00, 0x01};
	if (len < NF_MIN || len > NF_MAX) {
		fprintf(stderr,
			"devbench-host: frame length %u not in %u..%u\n", len,
			NF_MIN, NF_MAX);
		return 2;
	}
	int fd = socket(AF_PACKET, SOCK_RAW, htons(NF_ETHERTYPE));
	if (fd < 0) {
		perror("devbench-host: AF_PACKET socket");
		return 1;
	}
	struct sockaddr_ll sa = {.sll_family = AF_PACKET,
				 .sll_protocol = htons(NF_ETHERTYPE),
				 .sll_ifindex = (int)if_nametoindex(ifname)};
	if (!sa.sll_ifindex || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "devbench-host: %s: %s\n", ifname,
			strerror(errno));
		close(fd);
		return 1;
	}
	struct iovec iov[BATCH];
	struct mmsghdr msg[BATCH];
	uint64_t seq = 0;
	double end = now_s() + secs;
	while (now_s() < end) {
		for (int i = 0; i < BATCH; i++) {
			nf_fill(frames[i], len, seq + (uint64_t)i, src);
			iov[i] = (struct iovec){frames[i], len};
			msg[i] =
				(struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i],
							     .msg_iovlen = 1}};
		}
		int n = sendmmsg(fd, msg, BATCH, 0);
		if (n < 0) {
			if (errno == ENOBUFS || errno == EAGAIN)
				continue;
			perror("devbench-host: sendmmsg");
			close(fd);
			return 1;
		}
		seq += (uint64_t)n;
	}
	close(fd);
	printf("sent=%" PRIu64 "\n", seq);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "fill"))
		return fill(argv[2], strtoull(argv[3], NULL, 0));
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "check"))
		return check(argv[2], strtoull(argv[3], NULL, 0), argc == 5,
			     argc == 5 ? strtoull(argv[4], NULL, 0) : 0);
	if (argc == 2 && !strcmp(argv[1], "tsc"))
		return tsc();
	if (argc == 5 && !strcmp(argv[1], "send"))
		return send_frames(argv[2], strtod(argv[3], NULL),
				   (uint32_t)strtoul(argv[4], NULL, 0));
	fprintf(stderr, "usage: devbench-host fill FILE MIB | check FILE "
			"MAXGEN [MINGEN] | tsc | send IFACE SECONDS LEN\n");
	return 2;
}
