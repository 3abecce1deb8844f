/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devbench: a polling virtio driver that runs in guest user mode (see
 * entry.S), so that on a PVM host, where guest kernel mode is emulated, it
 * still drives the device at native speed. docs/testing.md describes it:
 * the jobs, the command line and the lines it prints on COM1.
 *
 * Command line (PVH start_info): jobs=NAME,NAME,... ("verify": every blk
 * job) ms=N (per job) ops=N (per job, at most) span_mb=N (the part of the
 * disk used; 0: all) gen=N (the first write generation; the host fills
 * with 0) maxgen=N (the highest generation the disk may hold) tsc_khz=N
 * (else CPUID 0x40000010, else the PIT) verify=0|1.
 */
#include "jobs.h"
#include "rt.h"

static int run_one(const char *s, size_t n, uint64_t khz, uint64_t *gen)
{
	int r = blk_job(s, n, khz, gen);
	if (r == JOB_UNKNOWN)
		r = net_job(s, n, khz);
	if (r == JOB_UNKNOWN) {
		puts("DEVBENCH-ERROR unknown-job ");
		for (size_t i = 0; i < n; i++)
			putc(s[i]);
		putc('\n');
	}
	return r;
}

void __attribute__((noreturn)) devbench_main(void)
{
	const char *src;
	parse_cmdline();
	uint64_t khz = tsc_khz(&src), gen = opt.gen;
	puts("DEVBENCH start");
	kv("tsc_khz", khz);
	puts(" tsc_src=");
	puts(src);
	putc('\n');
	int bad = 0;
	for (const char *s = opt.jobs; *s;) {
		size_t n = 0;
		while (s[n] && s[n] != ',')
			n++;
		if (n == 6 && memeq(s, "verify", 6)) {
			for (const char *const *j = blk_job_names; *j; j++)
				bad |= run_one(*j, strlen(*j), khz, &gen) != 0;
		} else if (n) {
			bad |= run_one(s, n, khz, &gen) != 0;
		}
		s += n;
		if (*s == ',')
			s++;
	}
	puts(bad ? "DEVBENCH-RESULT fail\n" : "DEVBENCH-RESULT pass\n");
	poweroff(bad);
}
