/* SPDX-License-Identifier: Apache-2.0 */
#include "common/thread.h"

#include <errno.h>
#include <semaphore.h>
#include <signal.h>

#include "common/landlock.h"

/* fd + 1, so that a thread's zeroed TLS means none. */
static __thread int sandbox_fd_plus1;

void phy_thread_sandbox(int ruleset_fd)
{
	sandbox_fd_plus1 = ruleset_fd + 1;
}

struct start {
	void *(*fn)(void *);
	void *arg;
	int ruleset_fd;
	int ret;
	sem_t done;
};

/* The thread restricts itself before it runs anything, and its creator
 * learns whether it could: an unconfined thread never runs. */
static void *confined_start(void *p)
{
	struct start *s = p;
	void *(*fn)(void *) = s->fn;
	void *arg = s->arg;
	int ret = landlock_restrict_fd(s->ruleset_fd);
	s->ret = ret;
	sem_post(&s->done); /* s is the creator's again */
	return ret ? NULL : fn(arg);
}

static int spawn(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	if (!sandbox_fd_plus1)
		return pthread_create(thread, NULL, fn, arg);
	struct start s = { .fn = fn, .arg = arg, .ruleset_fd = sandbox_fd_plus1 - 1 };
	sem_init(&s.done, 0, 0);
	int r = pthread_create(thread, NULL, confined_start, &s);
	while (!r && sem_wait(&s.done) && errno == EINTR)
		;
	sem_destroy(&s.done);
	if (!r && s.ret) {
		pthread_join(*thread, NULL);
		r = -s.ret;
	}
	return r;
}

int phy_thread_create(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int r = spawn(thread, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

int phy_thread_create_unmasked(pthread_t *thread, void *(*fn)(void *),
			       void *arg)
{
	return spawn(thread, fn, arg);
}
