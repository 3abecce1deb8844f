// SPDX-License-Identifier: Apache-2.0
/*
 * How long this host takes to wake a thread that sleeps on an idle CPU:
 * two threads on two CPUs pass a token through two eventfds, each
 * sleeping in read() until the other's write(). Half a round trip is one
 * wake-up of a sleeping thread plus one system call on each side: the
 * cost a device thread that sleeps between requests pays per kick
 * (docs/performance.md, QD1).
 *
 *   build/tools/bench/wake-latency [rounds]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/clock.h"

static int ping, pong;
static long rounds = 20000;

static void pin(int cpu)
{
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	if (pthread_setaffinity_np(pthread_self(), sizeof(s), &s))
		fprintf(stderr, "wake-latency: cannot pin to CPU %d\n", cpu);
}

static void *echo(void *arg)
{
	uint64_t v;
	pin(1);
	for (long i = 0; i < rounds; i++)
		if (read(ping, &v, sizeof(v)) != sizeof(v) || write(pong, &v, sizeof(v)) != sizeof(v))
			exit(1);
	return arg;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		rounds = atol(argv[1]);
	if (rounds < 100)
		rounds = 100;
	ping = eventfd(0, 0);
	pong = eventfd(0, 0);
	double *half = malloc(sizeof(*half) * (size_t)rounds);
	pthread_t t;
	if (ping < 0 || pong < 0 || !half || pthread_create(&t, NULL, echo, NULL))
		return 1;
	pin(0);
	for (long i = 0; i < rounds; i++) {
		uint64_t v = 1, t0 = phy_monotonic_ns();
		if (write(ping, &v, sizeof(v)) != sizeof(v) || read(pong, &v, sizeof(v)) != sizeof(v))
			return 1;
		half[i] = (double)(phy_monotonic_ns() - t0) / 2e3;
		/* Let the other CPU go idle again, as between QD1 requests. */
		usleep(50);
	}
	pthread_join(t, NULL);
	qsort(half, (size_t)rounds, sizeof(*half), cmp);
	printf("wake-up + syscall, half a round trip between CPUs 0 and 1 (us): p50 %.1f p90 %.1f p99 %.1f (%ld rounds)\n",
	       half[rounds / 2], half[rounds * 9 / 10], half[rounds * 99 / 100], rounds);
	return 0;
}
