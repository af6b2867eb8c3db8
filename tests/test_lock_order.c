/*
 * test_lock_order.c - the lock-order witness of debug builds: taking a pcp
 * lock while holding a zone lock, or calling a client callback with a zone
 * lock held, aborts with both names. Each violation runs in a child
 * process, which must die of SIGABRT; the correct order must not. Skipped
 * (exit 77) in builds without debug checks.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "testutil.h"

static struct za *za;

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
	CHECK_EQ(tu_run_child(right_order), 0);
	CHECK_EQ(tu_run_child(wrong_order), SIGABRT);
	CHECK_EQ(tu_run_child(callback_under_lock), SIGABRT);
	CHECK_EQ(tu_run_child(hotplug_inside_pcp), SIGABRT);
	za_destroy(za);
	printf("4 passed, 0 failed\n");
	return 0;
}
