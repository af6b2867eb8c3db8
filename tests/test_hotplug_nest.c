/*
 * test_hotplug_nest.c - callbacks of several allocators nested deeper
 * than the per-thread records of which allocator a thread is inside
 * (struct za_nest, ZA_NEST_MAX).
 *
 * Allocator i's migrate callback, inside its compaction pass, compacts
 * allocator i + 1, up to ZA_NEST_MAX passes deep. There, in the deepest
 * callback:
 *  - a further pass (of allocator ZA_NEST_MAX) does not start: za_compact
 *    returns -EAGAIN and its callback never runs, rather than be entered
 *    unrecorded;
 *  - allocator X, of which the thread holds nothing, is not taken for one
 *    whose memory-hotplug lock it holds (mem_hotplug_held_by_me, which
 *    decides whether za_report takes that lock), and za_check(X) runs
 *    (review 7: past the table every allocator counted as inside).
 * Each allocator ends whole (za_check).
 */
#include "testutil.h"

#include <errno.h>
#include <string.h>
#include <zonealloc.h>

#include "internal.h"

#define BLOCK 1024ul
#define N (ZA_NEST_MAX + 1)

static struct za *zas[N], *X;
static int calls[N];
static int deepest_done;

static void deepest(void)
{
	RULE(!mem_hotplug_held_by_me(X),
	     "a thread inside the compaction passes of %d other allocators "
	     "does not count as holding X's memory-hotplug lock (za_report "
	     "would skip it)",
	     ZA_NEST_MAX);
	int r = za_check(X, stderr);
	RULE(r == 0,
	     "za_check of an allocator the thread holds nothing of runs from "
	     "%d nested callbacks of others: %d",
	     ZA_NEST_MAX, r);
	r = za_compact(zas[ZA_NEST_MAX], -1);
	RULE(r == -EAGAIN && calls[ZA_NEST_MAX] == 0,
	     "a compaction pass nested deeper than %d on one thread does not "
	     "start (-EAGAIN, no callback): %d, %d callbacks",
	     ZA_NEST_MAX, r, calls[ZA_NEST_MAX]);
	deepest_done = 1;
}

static int migrate(void *ctx, struct za_page *dst, struct za_page *src,
                   unsigned order)
{
	int i = (int)(long)ctx;
	void *d = za_page_address(zas[i], dst), *s = za_page_address(zas[i], src);
	if (d && s)
		memcpy(d, s, 4096ul << order);
	if (calls[i]++ == 0) {
		if (i + 1 < ZA_NEST_MAX) {
			int r = za_compact(zas[i + 1], -1);
			CHECK(r == 0 || r == -EAGAIN);
		} else {
			deepest();
		}
	}
	return 0;
}

static struct za *mk(void *ctx)
{
	struct za_config c;
	memset(&c, 0, sizeof(c));
	c.nr_cpus = 2;
	c.block_pages = BLOCK;
	c.max_pfn = 4 * BLOCK;
	c.flags = ZA_CFG_NO_KCOMPACTD | ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	c.migrate = migrate;
	c.migrate_ctx = ctx;
	struct za *za = za_create(&c);
	CHECK(za != NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 2 * BLOCK, NULL), 0);
	return za;
}

/* Every other page taken: compaction has blocks to move. */
static void fragment(struct za *za)
{
	static struct za_page *p[2 * BLOCK];
	unsigned n = 0;
	struct za_page *q;
	while (
	    n < 2 * BLOCK &&
	    (q = za_alloc_pages(za, ZA_GFP_MOVABLE & ~ZA___GFP_DIRECT_RECLAIM, 0)))
		p[n++] = q;
	for (unsigned i = 1; i < n; i += 2)
		za_free_pages(za, p[i], 0);
}

int main(void)
{
	tu_watchdog(60);
	for (int i = 0; i < N; i++) {
		zas[i] = mk((void *)(long)i);
		fragment(zas[i]);
	}
	X = mk((void *)(long)-1);
	int r = za_compact(zas[0], -1);
	CHECK(r == 0 || r == -EAGAIN);
	for (int i = 0; i < ZA_NEST_MAX; i++)
		CHECK(calls[i] > 0);
	CHECK(deepest_done);
	for (int i = 0; i < N; i++) {
		CHECK_EQ(za_check(zas[i], stderr), 0);
		za_destroy(zas[i]);
	}
	CHECK_EQ(za_check(X, stderr), 0);
	za_destroy(X);
	printf("hotplug_nest: ok (%d passes nested, the next refused)\n",
	       ZA_NEST_MAX);
	return 0;
}
