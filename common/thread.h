/* SPDX-License-Identifier: Apache-2.0 */
/* The library's threads: none of them takes a signal. */
#ifndef PHY_COMMON_THREAD_H
#define PHY_COMMON_THREAD_H

#include <pthread.h>

/* pthread_create() for every thread of the library: the new thread starts
 * with all signals blocked, whatever the caller's mask, so a signal sent to
 * the process goes to one of the embedder's threads (a vCPU unblocks its
 * kick inside KVM_RUN only). Returns what pthread_create() returns. */
int phy_thread_create(pthread_t *thread, void *(*fn)(void *), void *arg);

#endif
