/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The latency histogram: buckets that tile the range without gaps, each
 * at most 25% wide; quantiles of known distributions within a bucket's
 * width; merging; the extremes (0, huge values, nothing counted).
 */
#include <stdbool.h>
#include <stdlib.h>

#include "check.h"
#include "common/latency_hist.h"

static void test_buckets(void)
{
	/* Each bucket starts where the previous one ends. */
	for (unsigned i = 1; i < LATENCY_HIST_BUCKETS; i++) {
		uint64_t lo = latency_hist_bucket_low(i);
		CHECK_EQ_U64(latency_hist_bucket(lo), i);
		CHECK_EQ_U64(latency_hist_bucket(lo - 1), i - 1);
		if (i >= 5) /* from 4 ns on, at most 25% wide */
			CHECK(latency_hist_bucket_low(i) * 4 <=
			      latency_hist_bucket_low(i - 1) * 5);
	}
	CHECK_EQ_U64(latency_hist_bucket(0), 0);
	CHECK_EQ_U64(latency_hist_bucket(1000), latency_hist_bucket(1023));
	CHECK(latency_hist_bucket(1000) != latency_hist_bucket(1024));
	CHECK_EQ_U64(latency_hist_bucket(UINT64_MAX), LATENCY_HIST_BUCKETS - 1);
}

static bool within(uint64_t got, uint64_t want, double rel)
{
	double d = (double)got - (double)want;
	bool ok = d <= rel * (double)want && -d <= rel * (double)want;
	if (!ok)
		fprintf(stderr, "  got %llu, want %llu +- %.0f%%\n",
			(unsigned long long)got, (unsigned long long)want,
			rel * 100);
	return ok;
}

static void test_quantiles(void)
{
	struct latency_hist h = {0};
	CHECK_EQ_U64(latency_hist_quantile(&h, 0.5), 0);

	/* 1..100000 ns, evenly: quantile q is q * 100000. */
	for (uint64_t v = 1; v <= 100000; v++)
		latency_hist_add(&h, v);
	CHECK_EQ_U64(h.count, 100000);
	CHECK_EQ_U64(h.sum_ns, 100000ull * 100001 / 2);
	CHECK_EQ_U64(h.max_ns, 100000);
	CHECK(within(latency_hist_quantile(&h, 0.5), 50000, 0.02));
	CHECK(within(latency_hist_quantile(&h, 0.9), 90000, 0.02));
	CHECK(within(latency_hist_quantile(&h, 0.99), 99000, 0.02));
	CHECK_EQ_U64(latency_hist_quantile(&h, 1.0), 100000);
	CHECK(latency_hist_quantile(&h, 0) <= 1);

	/* 99 fast samples and one slow: p50 is fast, p99 still fast, the
	 * slow one is the maximum and p100. */
	struct latency_hist g = {0};
	for (int i = 0; i < 99; i++)
		latency_hist_add(&g, 2000);
	latency_hist_add(&g, 5000000);
	CHECK(within(latency_hist_quantile(&g, 0.5), 2000, 0.25));
	CHECK(within(latency_hist_quantile(&g, 0.99), 2000, 0.25));
	CHECK_EQ_U64(latency_hist_quantile(&g, 1.0), 5000000);
	CHECK_EQ_U64(g.max_ns, 5000000);

	/* Merging is counting both. */
	struct latency_hist m = g;
	latency_hist_merge(&m, &h);
	CHECK_EQ_U64(m.count, h.count + g.count);
	CHECK_EQ_U64(m.sum_ns, h.sum_ns + g.sum_ns);
	CHECK_EQ_U64(m.max_ns, 5000000);
	uint64_t total = 0;
	for (unsigned i = 0; i < LATENCY_HIST_BUCKETS; i++)
		total += m.buckets[i];
	CHECK_EQ_U64(total, m.count);

	/* Beyond the last bucket's start: clamped to the maximum. */
	struct latency_hist big = {0};
	latency_hist_add(&big, 1ull << 40);
	CHECK_EQ_U64(big.buckets[LATENCY_HIST_BUCKETS - 1], 1);
	CHECK_EQ_U64(latency_hist_quantile(&big, 0.5), 1ull << 40);
}

int main(void)
{
	test_buckets();
	test_quantiles();
	return check_report("test_latency_hist");
}
