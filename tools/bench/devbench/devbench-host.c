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
 *   devbench-host send IFACE SECONDS tso
 *       the same with net-tx-tso's 64 KiB TCP/IPv4 segments (netframe.h),
 *       each one GSO frame (a packet socket with PACKET_VNET_HDR:
 *       NEEDS_CSUM at 34+16, GSO TCPV4, gso_size 1448): the tap passes
 *       them on whole where the VMM set TUNSETOFFLOAD for them, else the
 *       kernel segments them first (net-rx-tso then fails)
 *   devbench-host recv IFACE EVERY
 *       takes what the guest sends on IFACE (a tap) through a packet socket
 *       with virtio-net headers (PACKET_VNET_HDR: a GSO frame is one
 *       packet, as the guest sent it) until SIGINT or SIGTERM, checks the
 *       TCP/IPv4 frames of net-tx-tso whole (netframe.h's ts_check, and
 *       the virtio-net header: NEEDS_CSUM at 34+16, GSO TCPV4, gso_size
 *       1448): every one (EVERY 1), or those whose sequence number is a
 *       multiple of EVERY (a power of two up to 256; a socket filter
 *       leaves the others in the kernel, so that checking costs the
 *       measured VMM next to nothing); prints "ready" once bound, then
 *       frames= (intact ones) payload= (their TCP payload) bad= other=
 *       (not net-tx-tso's) drops= (frames the socket's queue had no room
 *       for) next= (the highest sequence number seen + 1). Fails on any
 *       bad frame. Frames the guest sent, N: frames + drops must be
 *       ceil(N / EVERY).
 *   devbench-host echo IFACE
 *       answers net-rr's requests (NF_RR_ETHERTYPE) on IFACE (a tap): each
 *       intact one with the frame of NF_ETHERTYPE of its sequence number
 *       and length, at once, until SIGINT or SIGTERM; prints "ready" once
 *       bound, then answered= bad= (requests damaged: not answered).
 *       Fails on any bad request.
 *   devbench-host tso-selftest
 *       the test of recv's check: a frame as the guest makes it passes,
 *       the same frame damaged anywhere (a payload byte, a stamp, the
 *       IPv4 checksum, the TCP checksum field, the length) fails, and
 *       other TCP traffic is not taken for ours.
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
#include <signal.h>
#include <x86intrin.h>

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/virtio_net.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>

#include "netframe.h"
#include "pattern.h"

#define CHUNK (1u << 20)
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

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

/* A packet socket for frames of `proto`; -1 (and why, on stderr) on
 * failure. */
static int packet_socket(uint16_t proto)
{
	int fd = socket(AF_PACKET, SOCK_RAW, htons(proto));
	if (fd < 0)
		perror("devbench-host: AF_PACKET socket");
	return fd;
}

/* Binds packet socket `fd` to IFACE's frames of `proto`; closes it and
 * returns 1 on failure. */
static int bind_packet(int fd, const char *ifname, uint16_t proto)
{
	struct sockaddr_ll sa = {.sll_family = AF_PACKET,
				 .sll_protocol = htons(proto),
				 .sll_ifindex = (int)if_nametoindex(ifname)};
	if (!sa.sll_ifindex || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "devbench-host: %s: %s\n", ifname,
			strerror(errno));
		close(fd);
		return 1;
	}
	return 0;
}

#define BATCH 64
/* The source MAC of the frames sent to the guest. */
static const uint8_t host_mac[6] = {0x02, 0xde, 0xb0, 0x00, 0x00, 0x01};

#define TSO_BATCH 16

/* Sends frames, `batch` at a time, each `len` bytes at `stride` from
 * `frames`, made frame number seq by stamp(), for `secs`; prints sent=N
 * and closes fd. */
static int send_loop(int fd, uint8_t *frames, size_t stride, int batch,
		     size_t len,
		     void (*stamp)(uint8_t *, uint64_t, const void *),
		     const void *ctx, double secs)
{
	struct iovec iov[BATCH];
	struct mmsghdr msg[BATCH];
	uint64_t seq = 0;
	double end = now_s() + secs;
	while (now_s() < end) {
		for (int i = 0; i < batch; i++) {
			stamp(frames + (size_t)i * stride, seq + (uint64_t)i,
			      ctx);
			iov[i] = (struct iovec){frames + (size_t)i * stride,
						len};
			msg[i] =
				(struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i],
							     .msg_iovlen = 1}};
		}
		int n = sendmmsg(fd, msg, (unsigned)batch, 0);
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

static void stamp_tso(uint8_t *f, uint64_t seq, const void *ctx)
{
	(void)ctx;
	ts_stamp(f + sizeof(struct virtio_net_hdr), seq);
}

static void stamp_nf(uint8_t *f, uint64_t seq, const void *ctx)
{
	nf_fill(f, *(const uint32_t *)ctx, seq, host_mac);
}

static int send_tso(const char *ifname, double secs)
{
	static uint8_t frames[TSO_BATCH]
			     [sizeof(struct virtio_net_hdr) + TS_FRAME];
	const size_t vh = sizeof(struct virtio_net_hdr);
	int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP)), one = 1;
	if (fd < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one))) {
		perror("devbench-host: AF_PACKET socket");
		return 1;
	}
	if (bind_packet(fd, ifname, ETH_P_IP))
		return 1;
	for (int i = 0; i < TSO_BATCH; i++) {
		struct virtio_net_hdr *h = (void *)frames[i];
		*h = (struct virtio_net_hdr){
			.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
			.gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
			.hdr_len = TS_HDRS,
			.gso_size = TS_MSS,
			.csum_start = TS_CSUM_START,
			.csum_offset = TS_CSUM_OFFSET};
		ts_fill(frames[i] + vh, host_mac);
	}
	return send_loop(fd, frames[0], sizeof(frames[0]), TSO_BATCH,
			 vh + TS_FRAME, stamp_tso, NULL, secs);
}

static int send_frames(const char *ifname, double secs, uint32_t len)
{
	static uint8_t frames[BATCH][NF_MAX];
	if (len < NF_MIN || len > NF_MAX) {
		fprintf(stderr,
			"devbench-host: frame length %u not in %u..%u\n", len,
			NF_MIN, NF_MAX);
		return 2;
	}
	int fd = packet_socket(NF_ETHERTYPE);
	if (fd < 0)
		return 1;
	if (bind_packet(fd, ifname, NF_ETHERTYPE))
		return 1;
	return send_loop(fd, frames[0], sizeof(frames[0]), BATCH, len, stamp_nf,
			 &len, secs);
}

static volatile sig_atomic_t stop_recv;

static void on_stop(int sig)
{
	(void)sig;
	stop_recv = 1;
}

/* bind_packet(), then SIGINT and SIGTERM set stop_recv, and "ready" is
 * printed: what the script starting us waits for. */
static int bind_ready(int fd, const char *ifname, uint16_t proto)
{
	if (bind_packet(fd, ifname, proto))
		return 1;
	struct sigaction act = {.sa_handler = on_stop}; /* no SA_RESTART */
	sigaction(SIGINT, &act, NULL);
	sigaction(SIGTERM, &act, NULL);
	printf("ready\n");
	fflush(stdout);
	return 0;
}

static int recv_frames(const char *ifname, unsigned every)
{
	static uint8_t buf[sizeof(struct virtio_net_hdr) + 65536 + 64];
	const size_t vh = sizeof(struct virtio_net_hdr);
	int fd = packet_socket(ETH_P_IP);
	if (fd < 0)
		return 1;
	int one = 1, rcvbuf = 64 << 20;
	struct timeval tv = {0, 100 * 1000};
	if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) ||
	    (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
			sizeof(rcvbuf)) &&
	     setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf))) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		perror("devbench-host: setsockopt");
		close(fd);
		return 1;
	}
	if (!every || every > 256 || (every & (every - 1))) {
		fprintf(stderr,
			"devbench-host: recv: EVERY %u is not a power "
			"of two up to 256\n",
			every);
		close(fd);
		return 2;
	}
	/* The sequence number's low byte is the first payload byte. */
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, TS_HDRS),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, every - 1, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, 0x40000),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = {ARRAY_LEN(code), code};
	if (every > 1 &&
	    setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog))) {
		perror("devbench-host: SO_ATTACH_FILTER");
		close(fd);
		return 1;
	}
	if (bind_ready(fd, ifname, ETH_P_IP))
		return 1;
	uint64_t frames = 0, payload = 0, bad = 0, other = 0, next = 0;
	for (;;) {
		/* Once told to stop, what the queue still holds is read too:
		 * those frames count, as checked or bad, not as missing. */
		int stopping = stop_recv;
		ssize_t n = recv(fd, buf, sizeof(buf),
				 MSG_TRUNC | (stopping ? MSG_DONTWAIT : 0));
		if (n < 0) {
			if (errno == EAGAIN && stopping)
				break;
			if (errno == EAGAIN || errno == EINTR)
				continue;
			perror("devbench-host: recv");
			close(fd);
			return 1;
		}
		if ((size_t)n < vh) {
			other++;
			continue;
		}
		const struct virtio_net_hdr *h = (const void *)buf;
		uint32_t len = (uint32_t)((size_t)n - vh);
		uint32_t got = (size_t)n <= sizeof(buf)
				       ? len
				       : (uint32_t)(sizeof(buf) - vh);
		uint64_t seq;
		const char *why = "frame";
		int ok = ts_check(buf + vh, got, len, &seq);
		if (ok > 0 && seq % every) {
			ok = -1;
			why = "sequence number (the filter's)";
		}
		if (ok > 0 &&
		    (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) ||
		     h->gso_type != VIRTIO_NET_HDR_GSO_TCPV4 ||
		     h->gso_size != TS_MSS || h->csum_start != TS_CSUM_START ||
		     h->csum_offset != TS_CSUM_OFFSET)) {
			ok = -1;
			why = "virtio-net header";
		}
		if (ok == 0) {
			other++;
		} else if (ok < 0) {
			if (bad++ < 5)
				fprintf(stderr,
					"devbench-host: bad %s: len %u flags "
					"%u "
					"gso %u/%u csum %u+%u\n",
					why, len, h->flags, h->gso_type,
					h->gso_size, h->csum_start,
					h->csum_offset);
		} else {
			frames++;
			payload += TS_PAYLOAD;
			if (seq + 1 > next)
				next = seq + 1;
		}
	}
	struct tpacket_stats st = {0};
	socklen_t sl = sizeof(st);
	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl))
		st.tp_drops = 0;
	close(fd);
	printf("frames=%" PRIu64 " payload=%" PRIu64 " bad=%" PRIu64
	       " other=%" PRIu64 " drops=%u next=%" PRIu64 "\n",
	       frames, payload, bad, other, st.tp_drops, next);
	return bad ? 1 : 0;
}

static int echo(const char *ifname)
{
	static uint8_t req[NF_MAX + 1], ans[NF_MAX];
	int fd = packet_socket(NF_RR_ETHERTYPE);
	if (fd < 0)
		return 1;
	if (bind_ready(fd, ifname, NF_RR_ETHERTYPE))
		return 1;
	uint64_t answered = 0, bad = 0;
	while (!stop_recv) {
		ssize_t n = recv(fd, req, sizeof(req), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("devbench-host: recv");
			close(fd);
			return 1;
		}
		uint64_t seq;
		uint32_t len = (uint32_t)n;
		if (len >= NF_HDR) {
			req[12] = NF_ETHERTYPE >> 8;
			req[13] = NF_ETHERTYPE & 0xff;
		}
		if (len > NF_MAX || nf_check(req, len, &seq) != 1) {
			if (bad++ < 5)
				fprintf(stderr, "devbench-host: bad request: len %u\n", len);
			continue;
		}
		nf_fill(ans, len, seq, host_mac);
		if (send(fd, ans, len, 0) != (ssize_t)len) {
			perror("devbench-host: send");
			close(fd);
			return 1;
		}
		answered++;
	}
	close(fd);
	printf("answered=%" PRIu64 " bad=%" PRIu64 "\n", answered, bad);
	return bad ? 1 : 0;
}

static int tso_selftest(void)
{
	static uint8_t f[TS_FRAME];
	static const uint8_t src[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	static const struct {
		uint32_t off;
		const char *what;
	} damage[] = {
		{TS_HDRS + 100, "a payload byte"},
		{TS_FRAME - 1, "the last payload byte"},
		{TS_HDRS + 7 * TS_MSS + 3, "a segment's stamp"},
		{TS_HDRS + 44 * TS_MSS + 10, "the last segment's index"},
		{14 + 10, "the IPv4 checksum"},
		{14 + 8, "the IPv4 TTL (the checksum no longer matches)"},
		{34 + 16, "the TCP checksum field"},
		{34 + 5, "the TCP sequence number"},
		{2, "the destination MAC"},
	};
	int bad = 0;
	uint64_t seq = 0;
	ts_fill(f, src);
	ts_stamp(f, 12345);
	if (ts_check(f, TS_FRAME, TS_FRAME, &seq) != 1 || seq != 12345) {
		printf("not ok - an intact frame fails the check\n");
		bad++;
	}
	if (ts_check(f, TS_FRAME - 1, TS_FRAME - 1, &seq) != -1) {
		printf("not ok - a frame cut short passes\n");
		bad++;
	}
	for (size_t i = 0; i < ARRAY_LEN(damage); i++) {
		f[damage[i].off] ^= 0x40;
		if (ts_check(f, TS_FRAME, TS_FRAME, &seq) != -1) {
			printf("not ok - %s damaged passes\n", damage[i].what);
			bad++;
		}
		f[damage[i].off] ^= 0x40;
	}
	f[34 + 1] ^= 1; /* another source port: not ours */
	if (ts_check(f, TS_FRAME, TS_FRAME, &seq) != 0) {
		printf("not ok - other TCP traffic is taken for ours\n");
		bad++;
	}
	printf("tso-selftest: %s\n", bad ? "fail" : "pass");
	return bad != 0;
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
	if (argc == 5 && !strcmp(argv[1], "send") && !strcmp(argv[4], "tso"))
		return send_tso(argv[2], strtod(argv[3], NULL));
	if (argc == 5 && !strcmp(argv[1], "send"))
		return send_frames(argv[2], strtod(argv[3], NULL),
				   (uint32_t)strtoul(argv[4], NULL, 0));
	if (argc == 2 && !strcmp(argv[1], "tso-selftest"))
		return tso_selftest();
	if (argc == 4 && !strcmp(argv[1], "recv"))
		return recv_frames(argv[2],
				   (unsigned)strtoul(argv[3], NULL, 0));
	if (argc == 3 && !strcmp(argv[1], "echo"))
		return echo(argv[2]);
	fprintf(stderr, "usage: devbench-host fill FILE MIB | check FILE "
			"MAXGEN [MINGEN] | tsc | send IFACE SECONDS LEN|tso | "
			"recv IFACE EVERY | echo IFACE | tso-selftest\n");
	return 2;
}
