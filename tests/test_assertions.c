/*
 * test_assertions.c - the checked assumptions of debug builds fire on a
 * deliberately broken state: a _locked function called without its lock
 * (zone lock, page set, mem_hotplug_lock), a page in the wrong state at a
 * state transition (ZA_ASSERT_PAGE), and at level 2 a block that is not
 * on the list its metadata names (ZA_ASSERT_EXPENSIVE). Each case runs in
 * a child process, which must die of SIGABRT; the same call with the lock
 * held must not. Skipped (exit 77) where assertions are compiled out.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "pcp.h"
#include "testutil.h"

static struct za *za;
static struct za_zone *zn;

static void expect(void (*fn)(void), int sig, const char *name, int *passed)
{
	int got = tu_run_child(fn);
	if (got != sig) {
		fprintf(stderr, "%s: child ended with signal %d, expected %d\n", name,
		        got, sig);
		exit(1);
	}
	(*passed)++;
}

#define EXPECT(fn, sig) expect((fn), (sig), #fn, &passed)

/* The first free block of the zone's max-order lists. */
static uint32_t free_block(void)
{
	for (int mt = 0; mt < ZA_NR_MIGRATETYPES; mt++)
		if (zn->free_head[za->max_order][mt] != ZA_NIL)
			return zn->free_head[za->max_order][mt];
	return ZA_NIL;
}

static void alloc_with_zone_lock(void)
{
	zone_lock(zn, NULL);
	struct za_page *p = buddy_alloc_locked(zn, 0, ZA_MT_MOVABLE, 0);
	CHECK(p);
	buddy_free_locked(zn, p, page_pfn(za, p), 0);
	zone_unlock(zn);
}

static void alloc_without_zone_lock(void)
{
	buddy_alloc_locked(zn, 0, ZA_MT_MOVABLE, 0); /* must abort here */
}

/* Another zone's lock is not this zone's. */
static void alloc_with_other_zone_lock(void)
{
	struct za_zone *zd = &za->nodes[0].zones[ZA_ZONE_DMA];
	zone_lock(zd, NULL);
	buddy_alloc_locked(zn, 0, ZA_MT_MOVABLE, 0); /* must abort here */
}

static void flush_with_pcp_lock(void)
{
	struct za_pcp *pcp = zone_pcp(zn, 0);
	CHECK_EQ(pcp_lock(za, pcp), 0);
	pcp_flush_locked(za, zn, pcp, pcp->count, ZA_PCP_DRAIN,
	                 ZA_PCP_DRAIN_PAGES);
	pcp_unlock(za, pcp);
}

static void flush_without_pcp_lock(void)
{
	struct za_pcp *pcp = zone_pcp(zn, 0);
	pcp_flush_locked(za, zn, pcp, 1, ZA_PCP_DRAIN, ZA_PCP_DRAIN_PAGES);
}

static void isolate_without_hotplug_lock(void)
{
	uint8_t saved[64];
	isolate_range(za, zn, 0, 1ul << za->max_order, saved); /* must abort */
}

/* A free block whose state says it was handed out: taking it off its
 * list is a broken transition. */
static void del_page_in_wrong_state(void)
{
	uint32_t h = free_block();
	CHECK(h != ZA_NIL);
	zone_lock(zn, NULL);
	pfn_page(za, h)->state = ZA_PS_ALLOC;
	buddy_del_locked(zn, pfn_page(za, h), h); /* must abort here */
}

/* Level 2: a block whose metadata says "on this list" when it is not. */
static void del_page_not_on_list(void)
{
	uint32_t h = free_block();
	CHECK(h != ZA_NIL);
	struct za_page *p = pfn_page(za, h);
	zone_lock(zn, NULL);
	int mt = page_mt(p);
	za_store_relaxed(&p->mt, (uint8_t)(mt == ZA_MT_MOVABLE ? ZA_MT_UNMOVABLE
	                                                       : ZA_MT_MOVABLE));
	buddy_del_locked(zn, p, h); /* must abort here at level 2 */
}

int main(void)
{
	if (!za_debug) {
		printf("assertions are compiled out (ZA_DEBUG=0): skipped\n");
		return 77;
	}
	struct za_config cfg = { .nr_cpus = 2,
		                     .block_pages = 1024,
		                     .max_pfn = 4096,
		                     .flags = ZA_CFG_NO_KSWAPD |
		                              ZA_CFG_NO_VMSTAT_WORKER };
	za = za_create(&cfg);
	CHECK(za);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_DMA, 0, 1024, NULL), 0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 1024, 1024, NULL), 0);
	zn = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	buddy_materialize_range(zn, 1024, 1024);
	int passed = 0;

	EXPECT(alloc_with_zone_lock, 0);
	EXPECT(alloc_without_zone_lock, SIGABRT);
	EXPECT(alloc_with_other_zone_lock, SIGABRT);
	EXPECT(flush_with_pcp_lock, 0);
	EXPECT(flush_without_pcp_lock, SIGABRT);
	EXPECT(isolate_without_hotplug_lock, SIGABRT);
	EXPECT(del_page_in_wrong_state, SIGABRT);
	if (za_debug >= ZA_DEBUG_EXPENSIVE)
		EXPECT(del_page_not_on_list, SIGABRT);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	printf("%d passed, 0 failed\n", passed);
	return 0;
}
