/* SPDX-License-Identifier: Apache-2.0 */
/* --cpus affinity=[V@[CPUS],...]: the host CPUs each vCPU thread may run
 * on, in Cloud Hypervisor's syntax ("affinity=[0@[0,2],1@[1-3]]") and
 * its VmConfig form ({"vcpu": 0, "host_cpus": [0, 2]}). */
#ifndef PHY_VMM_CONFIG_CPU_AFFINITY_H
#define PHY_VMM_CONFIG_CPU_AFFINITY_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

/* Host CPUs 0 to CPU_AFFINITY_MAX - 1 (glibc's CPU_SETSIZE). */
#define CPU_AFFINITY_MAX 1024

struct cpu_affinity {
	unsigned vcpu;
	uint64_t host_cpus[CPU_AFFINITY_MAX / 64]; /* a bitmap, never empty */
};

/* Parses the value of affinity= into a new array (*out, *nr; an empty
 * list "[]" gives none). Errors name --cpus and the part they refuse. */
int cpu_affinity_parse(const char *val, struct cpu_affinity **out,
		       unsigned *nr, struct phy_error *err);

/* Adds vcpu's entry, with no host CPU yet, to the array (*a, *nr):
 * *out. Refuses a vCPU given twice or past any VM's. */
int cpu_affinity_add(struct cpu_affinity **a, unsigned *nr, unsigned vcpu,
		     struct cpu_affinity **out, struct phy_error *err);

/* Adds host CPU cpu (below CPU_AFFINITY_MAX) to e. */
void cpu_affinity_set(struct cpu_affinity *e, unsigned cpu);

/* Every entry names a vCPU below cpus and host CPUs this process may
 * run on (sched_getaffinity): a mistake fails before the VM starts. */
int cpu_affinity_check(const struct cpu_affinity *a, unsigned nr,
		       unsigned cpus, struct phy_error *err);

/* The entry of vcpu, or NULL: it runs wherever the process may. */
const struct cpu_affinity *cpu_affinity_of(const struct cpu_affinity *a,
					   unsigned nr, unsigned vcpu);

/* Whether host CPU cpu is one of e's. */
bool cpu_affinity_has(const struct cpu_affinity *e, unsigned cpu);

/* Binds the calling thread to e's host CPUs; 0 or an errno value. */
int cpu_affinity_bind_self(const struct cpu_affinity *e);

#endif
