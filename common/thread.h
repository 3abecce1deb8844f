/* SPDX-License-Identifier: Apache-2.0 */
/* The library's threads: none of them takes a signal, and a VM's threads
 * may be confined with Landlock. */
#ifndef PHY_COMMON_THREAD_H
#define PHY_COMMON_THREAD_H

#include <pthread.h>

/* pthread_create() for every thread of the library: the new thread starts
 * with all signals blocked, whatever the caller's mask, so a signal sent to
 * the process goes to one of the embedder's threads (a vCPU unblocks its
 * kick inside KVM_RUN only). Returns what pthread_create() returns, or
 * the errno of a Landlock restriction that failed (the thread never ran). */
int phy_thread_create(pthread_t *thread, void *(*fn)(void *), void *arg);

/* The same, keeping the caller's signal mask. */
int phy_thread_create_unmasked(pthread_t *thread, void *(*fn)(void *),
			       void *arg);

/*
 * Threads that this thread creates through the two calls above, from now
 * until phy_thread_sandbox(-1), restrict themselves to the Landlock
 * ruleset `ruleset_fd` before running (common/landlock.h). A VM sets it
 * around its creation and start on the embedder's thread, which stays
 * unrestricted; threads created by those threads inherit the restriction
 * from their creator. Per thread, so two VMs on two threads do not mix.
 */
void phy_thread_sandbox(int ruleset_fd);

#endif
