/* SPDX-License-Identifier: Apache-2.0 */
/* devbench's jobs, one family per device. */
#ifndef DEVBENCH_JOBS_H
#define DEVBENCH_JOBS_H

#include <stddef.h>
#include <stdint.h>

#define JOB_UNKNOWN (-2)

/* Runs the virtio-blk job NAME (N bytes); the write jobs take generations
 * from *gen on. 0: passed; -1: failed (its lines say why); JOB_UNKNOWN.
 * The device is set up at the first job. */
int blk_job(const char *name, size_t n, uint64_t khz, uint64_t *gen);
extern const char *const blk_job_names[];

/* Runs the virtio-net job NAME: as blk_job. */
int net_job(const char *name, size_t n, uint64_t khz);

#endif
