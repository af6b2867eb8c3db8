/*
 * test_core_cancel.c - pthread_cancel of a thread inside a call
 * (zonealloc.h, "Threads"): the library's own waits and sleeps are not
 * cancellation points, so a deferred cancel is acted on after the call,
 * never in the middle of it with the allocator's locks held.
 *
 * A memory offline whose migrate callback refuses for now retries,
 * sleeping between passes, with the memory-hotplug lock held; the test
 * cancels it while it sleeps. The offline still finishes (-EAGAIN at its
 * timeout, everything as it was), the thread ends cancelled after it, and
 * the next offline and za_check do not wait for a lock the dead thread
 * took with it.
 */
#include "testutil.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#include <zonealloc.h>

#define BLOCK 1024ul

static struct za *za;
static atomic_int offline_rc = 1; /* 1: the call has not returned */
static atomic_int asked;          /* migrate callbacks so far */

static int refuse(void *ctx, struct za_page *dst, struct za_page *src,
                  unsigned order)
{
	(void)ctx, (void)dst, (void)src, (void)order;
	atomic_fetch_add(&asked, 1);
	return -EAGAIN; /* not now: the offline retries until its timeout */
}

static void *offliner(void *arg)
{
	unsigned long start = (unsigned long)arg;
	atomic_store(&offline_rc, za_memory_offline(za, start, BLOCK));
	pthread_testcancel();
	return NULL;
}

/* Run za_memory_offline(start) on a thread; its result, or 1 when it
 * has not returned within seconds. */
static int offline_within(unsigned long start, int seconds)
{
	pthread_t th;
	atomic_store(&offline_rc, 1);
	CHECK_EQ(pthread_create(&th, NULL, offliner, (void *)start), 0);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += seconds;
	if (pthread_timedjoin_np(th, NULL, &ts) != 0)
		return 1; /* left hanging: the test fails now anyway */
	return atomic_load(&offline_rc);
}

int main(void)
{
	tu_watchdog(60);
	struct za_config cfg = {
		.block_pages = BLOCK,
		.max_pfn = 4 * BLOCK,
		.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER,
		.migrate = refuse,
		.offline_timeout_ms = 300,
	};
	za = za_create(&cfg);
	CHECK(za);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, 0, 4 * BLOCK, NULL), 0);
	/* One movable page in use in every block, the rest free. */
	static struct za_page *p[4 * BLOCK];
	unsigned long n = 0;
	while (n < 4 * BLOCK && (p[n] = za_alloc_pages(za, ZA_GFP_MOVABLE, 0)))
		n++;
	CHECK(n > 4 * BLOCK / 2);
	unsigned long kept = 0;
	for (unsigned long i = 0; i < n; i++) {
		if (za_page_to_pfn(za, p[i]) % BLOCK == 5)
			kept++;
		else
			za_free_pages(za, p[i], 0);
	}
	CHECK_EQ(kept, 4);
	za_drain_all_pages(za);
	unsigned long free0 = za_zone_free_pages(za, 0, ZA_ZONE_MOVABLE);

	/* Cancel an offline while it sleeps between its refused passes. */
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, offliner, (void *)BLOCK), 0);
	while (atomic_load(&asked) < 2)
		usleep(1000);
	CHECK_EQ(pthread_cancel(th), 0);
	void *ret;
	CHECK_EQ(pthread_join(th, &ret), 0);
	RULE(ret == PTHREAD_CANCELED && atomic_load(&offline_rc) == -EAGAIN,
	     "a cancelled thread ends after its za_memory_offline returned "
	     "(-EAGAIN at the timeout), not inside it (rc %d)",
	     atomic_load(&offline_rc));
	int rc = offline_within(3 * BLOCK, 10);
	RULE(rc == -EAGAIN,
	     "an offline after a cancelled one does not wait for "
	     "the memory-hotplug lock the cancelled thread "
	     "held (rc %d, 1: still waiting)",
	     rc);
	RULE(za_check(za, stderr) == 0, "za_check holds after the cancel");
	za_drain_all_pages(za);
	RULE(za_zone_free_pages(za, 0, ZA_ZONE_MOVABLE) == free0,
	     "the cancelled offline put every free page back");
	for (unsigned long i = 0; i < n; i++)
		if (za_page_to_pfn(za, p[i]) % BLOCK == 5)
			za_free_pages(za, p[i], 0);
	za_destroy(za);
	printf("1 passed, 0 failed\n");
	return 0;
}
