/*
 * offline_util.h - a CPU offline while a stand-in owner holds one of the
 * CPU's page sets (test_pcp_rseq.c: the busy byte; test_core_pcp.c: the
 * lock): the offline on a thread of its own, and the wait for the
 * statistics worker's deferred drain. Include after internal.h and
 * testutil.h.
 */
#ifndef ZA_TEST_OFFLINE_UTIL_H
#define ZA_TEST_OFFLINE_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

struct offline_call {
	struct za *za;
	unsigned cpu;
	int rc;
};

static void *offline_thread(void *arg)
{
	struct offline_call *c = arg;
	c->rc = za_cpu_offline(c->za, c->cpu);
	return NULL;
}

/* za_cpu_offline on a thread; true when it returned within the limit
 * (a generous one: this checks that it returns at all while the owner
 * holds on, not how fast). When false, *t is still running: the caller
 * lets the owner go and joins it. */
static bool offline_returns(struct offline_call *c, pthread_t *t, int secs)
{
	struct timespec until;
	CHECK_EQ(pthread_create(t, NULL, offline_thread, c), 0);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += secs;
	return pthread_timedjoin_np(*t, NULL, &until) == 0;
}

/* Whether the worker drained the set the offline left it (empty, no
 * longer marked deferred) within secs. */
static bool wait_drained(struct za_pcp *pcp, int secs)
{
	for (int i = 0; i < secs * 1000; i++) {
		if (!za_load_relaxed(&pcp->count) &&
		    !(za_load_acquire(&pcp->flags) & ZA_PCP_DEFERRED))
			return true;
		usleep(1000);
	}
	return false;
}

#endif
