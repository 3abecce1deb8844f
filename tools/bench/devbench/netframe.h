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

#endif
