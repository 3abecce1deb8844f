/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devbench's virtio-net jobs, frames of netframe.h on queue pair 0:
 * net-tx / net-tx-64 send 1514- / 64-byte frames as fast as the device
 * takes them (up to 128 in flight); net-rx / net-rx-64 count and check the
 * frames the host's devbench-host send puts into the tap, from the first
 * to the last (the job ends 300 ms after the last, or at ms=).
 * VERSION_1 and EVENT_IDX only: 12-byte headers of zeros, no offloads,
 * no mergeable buffers (each receive buffer takes a whole frame).
 *
 * net-rr sends one 64-byte request (NF_RR_ETHERTYPE) at a time and waits
 * for the host's answer (devbench-host echo) before the next: its figure
 * is round trips a second, its latencies theirs, submit to the answer
 * seen. An answer that does not come in RR_TIMEOUT_MS fails the job.
 *
 * net-tx-tso negotiates VIRTIO_NET_F_CSUM and VIRTIO_NET_F_HOST_TSO4 as
 * well (the device is reset and set up again for it, and again for a
 * job without them after it) and sends TCP/IPv4 segments of 64 KiB
 * (netframe.h's ts_*) with the checksum and the segmentation left to the
 * host: NEEDS_CSUM at 34+16, GSO TCPV4 with gso_size 1448, up to 64 in
 * flight. Its bytes are the TCP payload carried (65160 per frame); the
 * host's devbench-host recv checks the frames on the tap.
 *
 * net-rx-tso negotiates VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_GUEST_TSO4
 * and VIRTIO_NET_F_MRG_RXBUF and takes the same 64 KiB segments from the
 * host's devbench-host send (as one GSO frame each, where the device
 * passes them on as such) in 4 KiB buffers, ~16 a frame: every frame's
 * virtio-net header (GSO TCPV4, gso_size 1448), length and headers are
 * checked, and every 16th frame's payload whole.
 */
#include "jobs.h"
#include "netframe.h"
#include "rt.h"
#include "virtio.h"

#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_MRG_RXBUF 15
#define HDR_F_NEEDS_CSUM 1
#define HDR_GSO_TCPV4 1
#define TSO_FEATURES                                                           \
	(1ull << VIRTIO_NET_F_CSUM | 1ull << VIRTIO_NET_F_HOST_TSO4)
#define RX_TSO_FEATURES                                                        \
	(1ull << VIRTIO_NET_F_GUEST_CSUM | 1ull << VIRTIO_NET_F_GUEST_TSO4 |   \
	 1ull << VIRTIO_NET_F_MRG_RXBUF)
#define TSO_INFLIGHT 64
#define MRG_BUF 4096
#define RX_CHECK_EVERY 16
#define NET_HDR 12
#define TSO_BUF (NET_HDR + TS_FRAME + 4096 - (NET_HDR + TS_FRAME) % 4096)
#define BUF 2048
#define TX_INFLIGHT 128
#define RR_TIMEOUT_MS 1000
#define RXQ 0
#define TXQ 1

static struct virtio_dev dev;
static struct vring_mem rings[2];
static uint8_t rxbuf[QSIZE_MAX][BUF] __attribute__((aligned(4096)));
static uint8_t txbuf[TX_INFLIGHT][BUF] __attribute__((aligned(4096)));
static uint8_t tsobuf[TSO_INFLIGHT][TSO_BUF] __attribute__((aligned(4096)));
static uint8_t mrgbuf[QSIZE_MAX][MRG_BUF] __attribute__((aligned(4096)));
static uint8_t rx_frame[TS_FRAME]; /* a merged frame, copied together */
static uint64_t tx_t0[TX_INFLIGHT];
static uint8_t mac[6];
static uint64_t dev_want; /* the features asked for at the last set-up */

struct job {
	const char *name;
	int rx; /* RX: receives; RR: requests and answers; 0: sends */
	uint32_t len;
	uint64_t want; /* features beyond VIRTIO_NET_F_MAC it needs */
};

enum { RX = 1, RR = 2 };

static const struct job jobs[] = {
	{"net-tx", 0, NF_MAX, 0},
	{"net-tx-64", 0, NF_MIN, 0},
	{"net-rx", RX, NF_MAX, 0},
	{"net-rx-64", RX, NF_MIN, 0},
	{"net-tx-tso", 0, TS_FRAME, TSO_FEATURES},
	{"net-rx-tso", RX, TS_FRAME, RX_TSO_FEATURES},
	{"net-rr", RR, NF_MIN, 0},
};

static int mergeable(void)
{
	return dev.features >> VIRTIO_NET_F_MRG_RXBUF & 1;
}

/* Receive buffer `id`: 4 KiB ones with mergeable buffers, else 2 KiB
 * ones that take a whole frame. */
static uint8_t *rx_buffer(uint32_t id)
{
	return mergeable() ? mrgbuf[id] : rxbuf[id];
}

struct result {
	uint64_t frames, bytes, errors, other, lost, lat_max, cycles, kicks;
	uint64_t checked; /* net-rx-tso: frames checked whole */
};

/* Sets the device up with `want` (a reset first where it was set up
 * with other features). */
static void net_init(uint64_t want)
{
	if (dev.common && dev_want == want)
		return;
	if (dev.common) {
		/* virtio_init() resets the device; the rings start over. */
		memset(&dev, 0, sizeof(dev));
		memset(rings, 0, sizeof(rings));
	}
	dev_want = want;
	virtio_init(&dev, 0x1041, 1ull << VIRTIO_NET_F_MAC | want, 2, rings);
	if ((dev.features & want) != want)
		fail("offloads-not-offered", dev.features);
	for (int i = 0; i < 6; i++)
		mac[i] = (dev.features >> VIRTIO_NET_F_MAC & 1)
				 ? rd8(dev.device + (uint64_t)i)
				 : (uint8_t)(i ? 0x10 * i : 0x02);
	/* Every receive buffer posted once; they go back as they are used. */
	struct virtq *q = &dev.q[RXQ];
	for (uint16_t i = 0; i < q->size; i++) {
		rings[RXQ].desc[i] = (struct vring_desc){
			(uintptr_t)rx_buffer(i), mergeable() ? MRG_BUF : BUF,
			DESC_F_WRITE, 0};
		vq_add(q, i);
	}
	vq_publish(q);
	for (uint16_t i = 0; i < TX_INFLIGHT; i++)
		rings[TXQ].desc[i] =
			(struct vring_desc){(uintptr_t)txbuf[i], 0, 0, 0};
	puts("DEVBENCH device=net");
	kv("slot", dev.slot);
	kv("rx_queue_size", q->size);
	kv("tx_queue_size", dev.q[TXQ].size);
	kv("event_idx", (uint64_t)q->event_idx);
	kv("features", dev.features);
	putc('\n');
}

static void tx_submit(uint16_t slot, uint32_t len, uint64_t seq)
{
	memset(txbuf[slot], 0, NET_HDR);
	nf_fill(txbuf[slot] + NET_HDR, len, seq, mac);
	rings[TXQ].desc[slot] = (struct vring_desc){(uintptr_t)txbuf[slot],
						    NET_HDR + len, 0, 0};
	vq_add(&dev.q[TXQ], slot);
	tx_t0[slot] = rdtsc();
}

/* The virtio-net header of a TSO frame (struct virtio_net_hdr_v1). */
static void tso_hdr(uint8_t *h)
{
	memset(h, 0, NET_HDR);
	h[0] = HDR_F_NEEDS_CSUM;
	h[1] = HDR_GSO_TCPV4;
	h[2] = TS_HDRS; /* hdr_len, little-endian */
	h[4] = TS_MSS & 0xff;
	h[5] = TS_MSS >> 8;
	h[6] = TS_CSUM_START;
	h[8] = TS_CSUM_OFFSET;
}

static void tso_submit(uint16_t slot, uint64_t seq)
{
	ts_stamp(tsobuf[slot] + NET_HDR, seq);
	rings[TXQ].desc[slot] = (struct vring_desc){(uintptr_t)tsobuf[slot],
						    NET_HDR + TS_FRAME, 0, 0};
	vq_add(&dev.q[TXQ], slot);
	tx_t0[slot] = rdtsc();
}

static void run_tx(const struct job *j, uint64_t khz, struct result *r)
{
	struct virtq *q = &dev.q[TXQ];
	int tso = j->want != 0;
	unsigned most = tso ? TSO_INFLIGHT : TX_INFLIGHT;
	unsigned depth = q->size < most ? q->size : most;
	uint16_t free_slots[TX_INFLIGHT];
	unsigned nfree = 0, inflight = 0;
	for (unsigned s = depth; s-- > 0;)
		free_slots[nfree++] = (uint16_t)s;
	if (tso)
		for (unsigned s = 0; s < depth; s++) {
			tso_hdr(tsobuf[s]);
			ts_fill(tsobuf[s] + NET_HDR, mac);
		}
	uint64_t seq = 0, kicks0 = q->kicks, t0 = rdtsc(),
		 end = t0 + opt.ms * khz;
	for (;;) {
		uint64_t now = rdtsc();
		while (nfree && seq < opt.ops && now < end) {
			if (tso)
				tso_submit(free_slots[--nfree], seq++);
			else
				tx_submit(free_slots[--nfree], j->len, seq++);
			inflight++;
		}
		vq_publish(q);
		if (!inflight)
			break;
		uint16_t used = vq_wait_used(q, "tx-stalled");
		now = rdtsc();
		while (q->last_used != used) {
			uint32_t id = vq_pop_used(q, 0);
			if (id >= depth)
				fail("bad-tx-used-id", id);
			uint64_t lat = now - tx_t0[id];
			hist_add(lat);
			if (lat > r->lat_max)
				r->lat_max = lat;
			r->frames++;
			r->bytes += tso ? TS_PAYLOAD : j->len;
			free_slots[nfree++] = (uint16_t)id;
			inflight--;
		}
		vq_consumed(q);
	}
	r->cycles = rdtsc() - t0;
	r->kicks = q->kicks - kicks0;
}

/* A good frame `seq` of `bytes`; the sequence numbers it skipped are
 * lost. */
static void rx_count(struct result *r, uint64_t *next_seq, uint64_t seq,
		     uint64_t bytes)
{
	if (seq > *next_seq)
		r->lost += seq - *next_seq;
	if (seq >= *next_seq)
		*next_seq = seq + 1;
	r->frames++;
	r->bytes += bytes;
}

/* One used receive buffer: checked, counted, posted again. */
static void rx_one(struct result *r, uint64_t *next_seq, uint32_t want_len)
{
	struct virtq *q = &dev.q[RXQ];
	uint32_t len, id = vq_pop_used(q, &len);
	if (id >= q->size || len > BUF || len < NET_HDR)
		fail("bad-rx-used", (uint64_t)id << 32 | len);
	uint64_t seq;
	int ok = nf_check(rxbuf[id] + NET_HDR, len - NET_HDR, &seq);
	if (ok == 0 || (ok > 0 && len - NET_HDR != want_len)) {
		r->other++; /* not ours, or an earlier job's */
	} else if (ok < 0) {
		if (r->errors++ < 8) {
			puts("DEVBENCH-ERROR bad-frame len=");
			puthex(len - NET_HDR);
			putc('\n');
		}
	} else {
		rx_count(r, next_seq, seq, len - NET_HDR);
	}
	vq_add(q, (uint16_t)id);
}

/* A merged frame from the host's send tso: its first buffer `id` (`len`
 * bytes used) and the num_buffers - 1 that follow, checked (headers of
 * every one, every RX_CHECK_EVERY-th whole), counted, posted again. */
static void rx_tso_one(struct result *r, uint64_t *next_seq, uint32_t id,
		       uint32_t len)
{
	struct virtq *q = &dev.q[RXQ];
	const uint8_t *h = mrgbuf[id];
	uint16_t nbuf = (uint16_t)(h[10] | h[11] << 8);
	uint16_t gso_size = (uint16_t)(h[4] | h[5] << 8);
	uint32_t first = len - NET_HDR, total = first, copied = 0;
	if (nbuf < 1 || nbuf > q->size)
		fail("bad-num-buffers", nbuf);
	/* The headers and the first stamp are in the first buffer; the
	 * rest is copied together only where the frame is checked whole. */
	uint64_t seq = 0;
	int whole =
		first >= TS_HDRS + TS_STAMP &&
		ts_check(h + NET_HDR, TS_HDRS + TS_STAMP, TS_FRAME, &seq) > 0 &&
		seq % RX_CHECK_EVERY == 0;
	if (whole)
		for (; copied < first && copied < TS_FRAME; copied++)
			rx_frame[copied] = h[NET_HDR + copied];
	vq_add(q, (uint16_t)id);
	for (uint16_t b = 1; b < nbuf; b++) {
		uint32_t blen;
		if (vq_used_idx(q) == q->last_used) {
			vq_publish(q); /* the device may wait for buffers */
			vq_wait_used(q, "rx-merge-stalled");
		}
		barrier();
		uint32_t bid = vq_pop_used(q, &blen);
		if (bid >= q->size || blen > MRG_BUF)
			fail("bad-rx-used", (uint64_t)bid << 32 | blen);
		total += blen;
		for (uint32_t i = 0; whole && i < blen && copied < TS_FRAME;
		     i++)
			rx_frame[copied++] = mrgbuf[bid][i];
		vq_add(q, (uint16_t)bid);
	}
	int ok = first < TS_HDRS + TS_STAMP
			 ? -1
			 : ts_check(whole ? rx_frame : h + NET_HDR,
				    whole ? copied : TS_HDRS + TS_STAMP, total,
				    &seq);
	if (ok > 0 && (h[1] != HDR_GSO_TCPV4 || gso_size != TS_MSS))
		ok = -1;
	if (ok == 0) {
		r->other++;
	} else if (ok < 0) {
		if (r->errors++ < 8) {
			puts("DEVBENCH-ERROR bad-tso-frame len=");
			puthex(total);
			puts(" hdr=");
			puthex((uint64_t)h[0] | (uint64_t)h[1] << 8 |
			       (uint64_t)gso_size << 16 | (uint64_t)nbuf << 32);
			putc('\n');
		}
	} else {
		rx_count(r, next_seq, seq, TS_PAYLOAD);
		r->checked += whole;
	}
}

static void run_rx(const struct job *j, uint64_t khz, struct result *r)
{
	struct virtq *q = &dev.q[RXQ];
	uint64_t next_seq = 0, kicks0 = q->kicks, first = 0, last = 0;
	uint64_t wait_end = rdtsc() + (2 * opt.ms + 10000) * khz;
	uint64_t idle = 300 * khz;
	for (;;) {
		uint64_t now = rdtsc();
		uint16_t used = vq_used_idx(q);
		if (used == q->last_used) {
			if ((last && now - last > idle) || now > wait_end)
				break;
			continue;
		}
		barrier();
		uint64_t frames0 = r->frames;
		while (q->last_used != used) {
			if (!j->want) {
				rx_one(r, &next_seq, j->len);
				continue;
			}
			uint32_t len, id = vq_pop_used(q, &len);
			if (id >= q->size || len > MRG_BUF || len < NET_HDR)
				fail("bad-rx-used", (uint64_t)id << 32 | len);
			rx_tso_one(r, &next_seq, id, len);
			used = vq_used_idx(q);
			barrier();
		}
		vq_consumed(q);
		vq_publish(q);
		if (r->frames != frames0) {
			if (!first)
				first = now;
			last = now;
		}
	}
	r->cycles = last - first;
	r->kicks = q->kicks - kicks0;
}

/* net-rr's request `seq` in tx slot `slot`. */
static void rr_submit(uint16_t slot, uint32_t len, uint64_t seq)
{
	tx_submit(slot, len, seq);
	txbuf[slot][NET_HDR + 12] = NF_RR_ETHERTYPE >> 8;
	txbuf[slot][NET_HDR + 13] = NF_RR_ETHERTYPE & 0xff;
}

/* Waits for the answer to request `seq` sent at `t0`: the receive
 * buffers used meanwhile go back to the device; frames that are not the
 * answer (an earlier job's) count as other. */
static void rr_wait(const struct job *j, uint64_t seq, uint64_t t0,
		    uint64_t khz, struct result *r)
{
	struct virtq *q = &dev.q[RXQ];
	for (;;) {
		uint16_t used = vq_used_idx(q);
		if (used == q->last_used) {
			if (rdtsc() - t0 > RR_TIMEOUT_MS * khz)
				fail("rr-no-answer", seq);
			continue;
		}
		barrier();
		int answered = 0;
		while (q->last_used != used) {
			uint32_t len, id = vq_pop_used(q, &len);
			if (id >= q->size || len > BUF || len < NET_HDR)
				fail("bad-rx-used", (uint64_t)id << 32 | len);
			uint64_t got;
			int ok = nf_check(rxbuf[id] + NET_HDR, len - NET_HDR, &got);
			if (ok > 0 && got == seq && len - NET_HDR == j->len)
				answered = 1;
			else if (ok < 0)
				r->errors++;
			else
				r->other++;
			vq_add(q, (uint16_t)id);
		}
		vq_consumed(q);
		vq_publish(q);
		if (answered)
			return;
	}
}

static void run_rr(const struct job *j, uint64_t khz, struct result *r)
{
	struct virtq *tq = &dev.q[TXQ];
	unsigned depth = tq->size < TX_INFLIGHT ? tq->size : TX_INFLIGHT;
	uint64_t seq = 0, kicks0 = tq->kicks, t0 = rdtsc(),
		 end = t0 + opt.ms * khz;
	unsigned inflight = 0;
	while (seq < opt.ops && rdtsc() < end) {
		if (inflight == depth) {
			vq_wait_used(tq, "tx-stalled");
			barrier();
		}
		while (tq->last_used != vq_used_idx(tq)) {
			vq_pop_used(tq, 0);
			inflight--;
		}
		vq_consumed(tq);
		uint16_t slot = (uint16_t)(seq % depth);
		rr_submit(slot, j->len, seq);
		inflight++;
		vq_publish(tq);
		uint64_t sent = tx_t0[slot];
		rr_wait(j, seq, sent, khz, r);
		uint64_t lat = rdtsc() - sent;
		hist_add(lat);
		if (lat > r->lat_max)
			r->lat_max = lat;
		r->frames++;
		r->bytes += j->len;
		seq++;
	}
	r->cycles = rdtsc() - t0;
	r->kicks = tq->kicks - kicks0;
}

static void print_result(const struct job *j, const struct result *r,
			 uint64_t khz)
{
	puts("DEVBENCH job=");
	puts(j->name);
	kv("ops", r->frames);
	kv("bytes", r->bytes);
	kv("cycles", r->cycles);
	kv("tsc_khz", khz);
	kv("pps", r->cycles ? r->frames * khz * 1000 / r->cycles : 0);
	kv("kBps", r->cycles ? r->bytes / 1024 * khz * 1000 / r->cycles : 0);
	if (j->rx != RX) {
		kv("lat_p50_ns", hist_pct(500) * 1000000 / khz);
		kv("lat_p99_ns", hist_pct(990) * 1000000 / khz);
		kv("lat_max_ns", r->lat_max * 1000000 / khz);
	} else {
		kv("lost", r->lost);
	}
	if (j->rx)
		kv("other", r->other);
	if (j->rx == RX && j->want)
		kv("checked", r->checked);
	kv("kicks", r->kicks);
	kv("errors", r->errors);
	putc('\n');
}

int net_job(const char *name, size_t n, uint64_t khz)
{
	for (size_t i = 0; i < ARRAY_SIZE(jobs); i++) {
		const struct job *j = &jobs[i];
		if (strlen(j->name) != n || !memeq(j->name, name, n))
			continue;
		net_init(j->want);
		struct result r = {0};
		hist_reset();
		puts("DEVBENCH begin job=");
		puts(j->name);
		putc('\n');
		if (j->rx == RR)
			run_rr(j, khz, &r);
		else if (j->rx)
			run_rx(j, khz, &r);
		else
			run_tx(j, khz, &r);
		print_result(j, &r, khz);
		virtio_check(&dev, "device-needs-reset");
		return r.errors || !r.frames ? -1 : 0;
	}
	return JOB_UNKNOWN;
}
