/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devbench's Ethernet frames, shared by the guest payload and the host's
 * devbench-host: broadcast, EtherType 0x88B5 (local experimental), then a
 * 64-bit sequence number, the frame's length (32 bits) and bytes that
 * follow from both, so a frame cut, shifted or mixed with another fails
 * the check.
 */
#ifndef DEVBENCH_NETFRAME_H
#define DEVBENCH_NETFRAME_H

#include <stdint.h>

#define NF_ETHERTYPE 0x88b5
/* net-rr's requests: a frame of NF_ETHERTYPE's shape under the other
 * local experimental EtherType, so that the host's echo takes them and
 * nothing else, and answers each with the frame of NF_ETHERTYPE and the
 * same sequence number and length. */
#define NF_RR_ETHERTYPE 0x88b6
#define NF_HDR 26 /* Ethernet header + seq + length */
#define NF_MIN 64
#define NF_MAX 1514

static inline uint8_t nf_byte(uint64_t seq, uint32_t i)
{
	return (uint8_t)(seq * 7 + i);
}

static inline void nf_fill(uint8_t *f, uint32_t len, uint64_t seq,
			   const uint8_t src[6])
{
	for (int i = 0; i < 6; i++) {
		f[i] = 0xff;
		f[6 + i] = src[i];
	}
	f[12] = NF_ETHERTYPE >> 8;
	f[13] = NF_ETHERTYPE & 0xff;
	for (int i = 0; i < 8; i++)
		f[14 + i] = (uint8_t)(seq >> (8 * i));
	for (int i = 0; i < 4; i++)
		f[22 + i] = (uint8_t)(len >> (8 * i));
	for (uint32_t i = NF_HDR; i < len; i++)
		f[i] = nf_byte(seq, i);
}

/* 1: one of ours, intact (its sequence number in *seq); 0: not ours (other
 * traffic); -1: ours but damaged. */
static inline int nf_check(const uint8_t *f, uint32_t len, uint64_t *seq)
{
	if (len < NF_HDR || f[12] != (NF_ETHERTYPE >> 8) ||
	    f[13] != (NF_ETHERTYPE & 0xff))
		return 0;
	uint64_t s = 0;
	uint32_t l = 0;
	for (int i = 0; i < 8; i++)
		s |= (uint64_t)f[14 + i] << (8 * i);
	for (int i = 0; i < 4; i++)
		l |= (uint32_t)f[22 + i] << (8 * i);
	if (l != len)
		return -1;
	for (uint32_t i = NF_HDR; i < len; i++)
		if (f[i] != nf_byte(s, i))
			return -1;
	*seq = s;
	return 1;
}

/*
 * The offload job's frames (net-tx-tso): one TCP/IPv4 segment of
 * TS_PAYLOAD bytes that the host segments into TS_SEGS segments of
 * TS_MSS (the driver leaves the TCP checksum to the host: NEEDS_CSUM,
 * GSO TCPV4). Addresses are documentation ones (RFC 5737) and the
 * destination MAC is not the tap's, so the host's IP layer drops the
 * frame as another host's after its packet sockets saw it: nothing is
 * answered or forwarded. Each segment's payload starts with a stamp (the
 * frame's sequence number, the segment's index, "DBTS"); the rest of the
 * payload depends on its offset only, so the driver fills it once per
 * buffer and stamps each frame (ts_stamp).
 */
#define TS_MSS 1448
#define TS_SEGS 45
#define TS_PAYLOAD (TS_MSS * TS_SEGS) /* 65160 */
#define TS_HDRS 54		      /* Ethernet 14 + IPv4 20 + TCP 20 */
#define TS_FRAME (TS_HDRS + TS_PAYLOAD)
#define TS_CSUM_START 34
#define TS_CSUM_OFFSET 16
#define TS_STAMP 16
#define TS_SPORT 5001
#define TS_DPORT 5201

static const uint8_t ts_dst[6] = {0x02, 0xde, 0xb0, 0x00, 0x00, 0x02};
static const uint8_t ts_saddr[4] = {192, 0, 2, 1};
static const uint8_t ts_daddr[4] = {198, 51, 100, 1};

static inline void ts_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint16_t ts_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The ones' complement sum of big-endian 16-bit words, folded. */
static inline uint16_t ts_csum(const uint8_t *p, uint32_t n, uint32_t sum)
{
	for (uint32_t i = 0; i + 1 < n; i += 2)
		sum += ts_get16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* What a TSO driver puts in the TCP checksum field: the pseudo-header's
 * sum (TCP length of the whole segment), not complemented. */
static inline uint16_t ts_pseudo(void)
{
	uint8_t ph[12] = {0};
	for (int i = 0; i < 4; i++) {
		ph[i] = ts_saddr[i];
		ph[4 + i] = ts_daddr[i];
	}
	ph[9] = 6;
	ts_put16(ph + 10, 20 + TS_PAYLOAD);
	return ts_csum(ph, 12, 0);
}

static inline uint8_t ts_byte(uint32_t off)
{
	return (uint8_t)(off * 13 + (off >> 9));
}

/* The parts of a frame that are the same in every frame. */
static inline void ts_fill(uint8_t *f, const uint8_t src[6])
{
	for (int i = 0; i < 6; i++) {
		f[i] = ts_dst[i];
		f[6 + i] = src[i];
	}
	ts_put16(f + 12, 0x0800);
	uint8_t *ip = f + 14, *th = f + 34;
	for (int i = 0; i < 40; i++)
		ip[i] = 0;
	ip[0] = 0x45;
	ts_put16(ip + 2, 20 + 20 + TS_PAYLOAD);
	ts_put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = 6;
	for (int i = 0; i < 4; i++) {
		ip[12 + i] = ts_saddr[i];
		ip[16 + i] = ts_daddr[i];
	}
	ts_put16(th, TS_SPORT);
	ts_put16(th + 2, TS_DPORT);
	th[12] = 5 << 4;
	th[13] = 0x18; /* PSH, ACK */
	ts_put16(th + 14, 0xffff);
	ts_put16(th + 16, ts_pseudo());
	for (uint32_t i = 0; i < TS_PAYLOAD; i++)
		f[TS_HDRS + i] = ts_byte(i);
}

/* Frame `seq`: the IPv4 ID and header checksum, the TCP sequence number
 * (the stream's offset) and each segment's stamp. */
static inline void ts_stamp(uint8_t *f, uint64_t seq)
{
	uint8_t *ip = f + 14, *th = f + 34;
	ts_put16(ip + 4, (uint16_t)(seq * TS_SEGS));
	ts_put16(ip + 10, 0);
	ts_put16(ip + 10, (uint16_t)~ts_csum(ip, 20, 0));
	uint32_t tseq = (uint32_t)(seq * TS_PAYLOAD);
	ts_put16(th + 4, (uint16_t)(tseq >> 16));
	ts_put16(th + 6, (uint16_t)tseq);
	for (uint32_t s = 0; s < TS_SEGS; s++) {
		uint8_t *p = f + TS_HDRS + s * TS_MSS;
		for (int i = 0; i < 8; i++)
			p[i] = (uint8_t)(seq >> (8 * i));
		for (int i = 0; i < 4; i++)
			p[8 + i] = (uint8_t)(s >> (8 * i));
		p[12] = 'D';
		p[13] = 'B';
		p[14] = 'T';
		p[15] = 'S';
	}
}

/* 1: one of ours, intact as far as `n` of its `len` bytes were read
 * (*seq: its sequence number); 0: not ours; -1: ours but damaged. */
static inline int ts_check(const uint8_t *f, uint32_t n, uint32_t len,
			   uint64_t *seq)
{
	if (n < TS_HDRS + TS_STAMP || ts_get16(f + 12) != 0x0800)
		return 0;
	const uint8_t *ip = f + 14, *th = f + 34;
	for (int i = 0; i < 4; i++)
		if (ip[12 + i] != ts_saddr[i] || ip[16 + i] != ts_daddr[i])
			return 0;
	if (ts_get16(th) != TS_SPORT || ts_get16(th + 2) != TS_DPORT)
		return 0;
	if (len != TS_FRAME || ip[0] != 0x45 || ip[9] != 6 ||
	    ts_get16(ip + 2) != 20 + 20 + TS_PAYLOAD ||
	    ts_csum(ip, 20, 0) != 0xffff || th[12] != 5 << 4 ||
	    ts_get16(th + 16) != ts_pseudo())
		return -1;
	for (int i = 0; i < 6; i++)
		if (f[i] != ts_dst[i])
			return -1;
	uint64_t s = 0;
	for (int i = 0; i < 8; i++)
		s |= (uint64_t)f[TS_HDRS + i] << (8 * i);
	uint32_t tseq = (uint32_t)ts_get16(th + 4) << 16 | ts_get16(th + 6);
	if (tseq != (uint32_t)(s * TS_PAYLOAD) ||
	    ts_get16(ip + 4) != (uint16_t)(s * TS_SEGS))
		return -1;
	for (uint32_t i = 0; i < TS_PAYLOAD && TS_HDRS + i < n; i++) {
		uint32_t in = i % TS_MSS;
		uint8_t want;
		if (in < 8)
			want = (uint8_t)(s >> (8 * in));
		else if (in < 12)
			want = (uint8_t)((i / TS_MSS) >> (8 * (in - 8)));
		else if (in < 16)
			want = (uint8_t) "DBTS"[in - 12];
		else
			want = ts_byte(i);
		if (f[TS_HDRS + i] != want)
			return -1;
	}
	*seq = s;
	return 1;
}

#endif
