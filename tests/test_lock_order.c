/*
 * test_lock_order.c - the lock-order witness of debug builds: taking a pcp
 * lock while holding a zone lock, or calling a client callback with a zone
 * lock held, aborts with both names. Each violation runs in a child
 * process, which must die of SIGABRT; the correct order must not. The
 * order holds within one allocator: a second allocator's locks (taken
 * from a callback of the first) are not ordered against the first's, but
 * the first's are still checked against each other around them. Skipped
 * (exit 77) in builds without debug checks.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "testutil.h"

static struct za *za, *zb;

static void right_order(void)
{
	struct za_zone *z = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	pcp_lock(za, zone_pcp(z, 0));
	zone_lock(z, NULL);
	zone_unlock(z);
	pcp_unlock(za, zone_pcp(z, 0));
}

static void wrong_order(void)
{
	struct za_zone *z = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	zone_lock(z, NULL);
	pcp_lock(za, zone_pcp(z, 0)); /* must abort here */
}

static void callback_under_lock(void)
{
	struct za_zone *z = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	zone_lock(z, NULL);
	za_witness_assert_callback("test callback"); /* must abort here */
}

static void hotplug_inside_pcp(void)
{
	struct za_zone *z = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	pcp_lock(za, zone_pcp(z, 0));
	za_mutex_lock(&za->mem_hotplug_lock); /* must abort here */
}

/* A callback of za, under its hotplug lock, calls into zb: zb's hotplug
 * lock is another lock. Taken, let go and taken again: the release drops
 * zb's hold, not za's. */
static void two_allocators(void)
{
	za_mutex_lock(&za->mem_hotplug_lock);
	za_mutex_lock(&za->drain_lock);
	za_mutex_lock(&zb->mem_hotplug_lock);
	za_mutex_lock(&zb->tunables_lock);
	za_mutex_unlock(&zb->tunables_lock);
	za_mutex_unlock(&zb->mem_hotplug_lock);
	za_mutex_lock(&zb->mem_hotplug_lock);
	za_mutex_unlock(&zb->mem_hotplug_lock);
	za_mutex_unlock(&za->drain_lock);
	za_mutex_unlock(&za->mem_hotplug_lock);
}

/* za's drain lock, then zb's hotplug lock, then za's tunables lock: out of
 * order within za, whatever of zb's sits between. */
static void inverted_around_other(void)
{
	za_mutex_lock(&za->drain_lock);
	za_mutex_lock(&zb->mem_hotplug_lock);
	za_mutex_lock(&za->tunables_lock); /* must abort here */
}

/* A pcp lock (no domain) counts against every allocator's locks. */
static void other_hotplug_inside_pcp(void)
{
	struct za_zone *z = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	pcp_lock(za, zone_pcp(z, 0));
	za_mutex_lock(&zb->mem_hotplug_lock); /* must abort here */
}

int main(void)
{
	if (!za_debug) {
		printf("lock-order witness is compiled out (ZA_DEBUG=0): skipped\n");
		return 77;
	}
	struct za_config cfg = { .nr_cpus = 2,
		                     .block_pages = 1024,
		                     .max_pfn = 2048,
		                     .flags = ZA_CFG_NO_KSWAPD |
		                              ZA_CFG_NO_VMSTAT_WORKER };
	za = za_create(&cfg);
	CHECK(za);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 1024, NULL), 0);
	zb = za_create(&cfg);
	CHECK(zb);
	CHECK_EQ(tu_run_child(right_order), 0);
	CHECK_EQ(tu_run_child(wrong_order), SIGABRT);
	CHECK_EQ(tu_run_child(callback_under_lock), SIGABRT);
	CHECK_EQ(tu_run_child(hotplug_inside_pcp), SIGABRT);
	CHECK_EQ(tu_run_child(two_allocators), 0);
	CHECK_EQ(tu_run_child(inverted_around_other), SIGABRT);
	CHECK_EQ(tu_run_child(other_hotplug_inside_pcp), SIGABRT);
	za_destroy(zb);
	za_destroy(za);
	printf("7 passed, 0 failed\n");
	return 0;
}
