/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "vmm/config/cpu_affinity.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(CPU_AFFINITY_MAX == CPU_SETSIZE, "a bitmap per cpu_set_t");

static void bit_set(uint64_t *map, unsigned c)
{
	map[c / 64] |= 1ull << (c % 64);
}

static bool bit_isset(const uint64_t *map, unsigned c)
{
	return map[c / 64] >> (c % 64) & 1;
}

/* A decimal number below limit at *p; advances *p past it. */
static bool take_uint(const char **p, unsigned long limit, unsigned *out)
{
	if (**p < '0' || **p > '9')
		return false;
	unsigned long v = 0;
	while (**p >= '0' && **p <= '9') {
		v = v * 10 + (unsigned long)(**p - '0');
		if (v >= limit)
			return false;
		(*p)++;
	}
	*out = (unsigned)v;
	return true;
}

int cpu_affinity_add(struct cpu_affinity **a, unsigned *nr, unsigned vcpu,
		     struct cpu_affinity **out, struct phy_error *err)
{
	/* Bounds the list, whose duplicates are looked for one by one. */
	if (vcpu >= CPU_AFFINITY_MAX)
		return phy_err(err, PHY_E_INVALID,
			       "--cpus: affinity names vCPU %u, which no VM has",
			       vcpu);
	for (unsigned i = 0; i < *nr; i++)
		if ((*a)[i].vcpu == vcpu)
			return phy_err(err, PHY_E_INVALID,
				       "--cpus: affinity gives vCPU %u twice", vcpu);
	struct cpu_affinity *n = realloc(*a, (*nr + 1) * sizeof(**a));
	if (!n)
		return phy_err(err, PHY_E_NOMEM, "--cpus: out of memory");
	*a = n;
	*out = &n[(*nr)++];
	memset(*out, 0, sizeof(**out));
	(*out)->vcpu = vcpu;
	return 0;
}

/* "0,2-3]" into set; *p ends past the ']'. */
static int parse_cpu_list(const char **p, uint64_t *set, const char *val,
			  struct phy_error *err)
{
	for (;;) {
		unsigned lo, hi;
		if (!take_uint(p, CPU_AFFINITY_MAX, &lo))
			goto bad;
		hi = lo;
		if (**p == '-') {
			(*p)++;
			if (!take_uint(p, CPU_AFFINITY_MAX, &hi) || hi < lo)
				goto bad;
		}
		for (unsigned c = lo; c <= hi; c++)
			bit_set(set, c);
		if (**p == ']') {
			(*p)++;
			return 0;
		}
		if (**p != ',')
			goto bad;
		(*p)++;
	}
bad:
	return phy_err(err, PHY_E_INVALID,
		       "--cpus: affinity=%s: expected host CPUs as N or N-M below %d, "
		       "comma-separated, in [] (e.g. affinity=[0@[0,2-3]])",
		       val, CPU_AFFINITY_MAX);
}

int cpu_affinity_parse(const char *val, struct cpu_affinity **out,
		       unsigned *nr, struct phy_error *err)
{
	struct cpu_affinity *a = NULL;
	unsigned n = 0;
	const char *p = val;
	int ret = 0;
	*out = NULL;
	*nr = 0;
	if (*p++ != '[')
		goto bad;
	if (*p == ']' && !p[1])
		return 0;
	for (;;) {
		unsigned vcpu;
		struct cpu_affinity *e;
		if (!take_uint(&p, UINT_MAX, &vcpu) || *p++ != '@' || *p++ != '[')
			goto bad;
		ret = cpu_affinity_add(&a, &n, vcpu, &e, err);
		if (!ret)
			ret = parse_cpu_list(&p, e->host_cpus, val, err);
		if (ret)
			goto fail;
		if (*p == ']' && !p[1])
			break;
		if (*p++ != ',')
			goto bad;
	}
	*out = a;
	*nr = n;
	return 0;
bad:
	ret = phy_err(err, PHY_E_INVALID,
		      "--cpus: affinity=%s: expected [VCPU@[HOST_CPUS],...] "
		      "(e.g. affinity=[0@[0,2-3],1@[1]])",
		      val);
fail:
	free(a);
	return ret;
}

int cpu_affinity_check(const struct cpu_affinity *a, unsigned nr,
		       unsigned cpus, struct phy_error *err)
{
	if (!nr)
		return 0;
	cpu_set_t allowed;
	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		return phy_err_errno(err, PHY_E_IO, errno, "--cpus: sched_getaffinity");
	for (unsigned i = 0; i < nr; i++) {
		if (a[i].vcpu >= cpus)
			return phy_err(err, PHY_E_INVALID,
				       "--cpus: affinity names vCPU %u, but the VM has %u",
				       a[i].vcpu, cpus);
		for (unsigned c = 0; c < CPU_AFFINITY_MAX; c++)
			if (bit_isset(a[i].host_cpus, c) && !CPU_ISSET(c, &allowed))
				return phy_err(err, PHY_E_INVALID,
					       "--cpus: affinity of vCPU %u: host CPU %u is not one this process may run on",
					       a[i].vcpu, c);
	}
	return 0;
}

const struct cpu_affinity *cpu_affinity_of(const struct cpu_affinity *a,
					   unsigned nr, unsigned vcpu)
{
	for (unsigned i = 0; i < nr; i++)
		if (a[i].vcpu == vcpu)
			return &a[i];
	return NULL;
}

void cpu_affinity_set(struct cpu_affinity *e, unsigned cpu)
{
	bit_set(e->host_cpus, cpu);
}

bool cpu_affinity_has(const struct cpu_affinity *e, unsigned cpu)
{
	return cpu < CPU_AFFINITY_MAX && bit_isset(e->host_cpus, cpu);
}

int cpu_affinity_bind_self(const struct cpu_affinity *e)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	for (unsigned c = 0; c < CPU_AFFINITY_MAX; c++)
		if (bit_isset(e->host_cpus, c))
			CPU_SET(c, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}
