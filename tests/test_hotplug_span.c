/*
 * test_hotplug_span.c - a zone's span as memory leaves it (review 12,
 * finding 1).
 *
 *  1. Spans: ZONE_NORMAL of node 0 over blocks 4-5, 8-9 and 12, with a
 *     ZONE_DMA32 block (7) and node 1's ZONE_NORMAL block (10) inside its
 *     span. Offlines from the middle (9: the span stays), from the top
 *     (12: down to 8's end, past the other zones' blocks and the hole),
 *     from the bottom (4: up to 5), and the rest: za_zone_info's start,
 *     spanned and present are the kernel's (the online blocks' exact
 *     span) after each, za_check agrees, and the zones inside the span
 *     keep theirs. Online again grows it back.
 *  2. The lock (debug builds: the hook ZA_DP_SPAN_SHRINK): offline works
 *     out the zone's new span without the zone lock, which it takes only
 *     to store it, on an allocator of 2^32 frames of 4 MiB blocks, whose
 *     section table (4 million entries) a walk under the zone lock took
 *     11 ms over while every allocation of the zone waited.
 *  3. One span at a time (review 12, finding 3; debug builds: the hook
 *     ZA_DP_SPAN_WRITE, where online or offline has stored a zone's new
 *     start and not yet its end): another thread's za_zone_info there
 *     gets the span before or the span after - here after, once the
 *     writer is let go - never the new start with the old end, which
 *     read a zone filled from empty as spanning 2^64 - start pages and
 *     one emptied likewise. The zoneinfo report reads the same way.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "internal.h"
#include "testutil.h"

#define BLK 1024ul

static struct za *za;
static unsigned hook_calls;

static void span_is(int nid, enum za_zone_type t, unsigned long start,
                    unsigned long end, unsigned long present, const char *when)
{
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, nid, t, &zi), 0);
	RULE(zi.start_pfn == start && zi.spanned == end - start &&
	         zi.present == present,
	     "a zone spans exactly its online blocks (%s): node %d zone %d "
	     "starts 0x%lx spans 0x%lx present 0x%lx, want 0x%lx 0x%lx 0x%lx",
	     when, nid, (int)t, zi.start_pfn, zi.spanned, zi.present, start,
	     end - start, present);
	CHECK_EQ(za_check(za, stderr), 0);
}

static void test_spans(void)
{
	struct za_config cfg = { 0 };
	cfg.nr_cpus = 2;
	cfg.nr_nodes = 2;
	cfg.block_pages = BLK;
	cfg.max_pfn = 32 * BLK;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	za = za_create(&cfg);
	CHECK(za);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 4 * BLK, 2 * BLK, NULL),
	         0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 8 * BLK, 2 * BLK, NULL),
	         0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 12 * BLK, BLK, NULL), 0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_DMA32, 7 * BLK, BLK, NULL), 0);
	CHECK_EQ(za_memory_online(za, 1, ZA_ZONE_NORMAL, 10 * BLK, BLK, NULL), 0);
	span_is(0, ZA_ZONE_NORMAL, 4 * BLK, 13 * BLK, 5 * BLK, "after online");

	CHECK_EQ(za_memory_offline(za, 9 * BLK, BLK), 0);
	span_is(0, ZA_ZONE_NORMAL, 4 * BLK, 13 * BLK, 4 * BLK,
	        "a block in the middle left");
	CHECK_EQ(za_memory_offline(za, 12 * BLK, BLK), 0);
	span_is(0, ZA_ZONE_NORMAL, 4 * BLK, 9 * BLK, 3 * BLK,
	        "the top block left");
	CHECK_EQ(za_memory_offline(za, 4 * BLK, BLK), 0);
	span_is(0, ZA_ZONE_NORMAL, 5 * BLK, 9 * BLK, 2 * BLK,
	        "the bottom block left");
	span_is(0, ZA_ZONE_DMA32, 7 * BLK, 8 * BLK, BLK, "DMA32 inside");
	span_is(1, ZA_ZONE_NORMAL, 10 * BLK, 11 * BLK, BLK, "node 1 beside");

	CHECK_EQ(za_memory_offline(za, 8 * BLK, BLK), 0);
	span_is(0, ZA_ZONE_NORMAL, 5 * BLK, 6 * BLK, BLK, "down to one block");
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 12 * BLK, BLK, NULL), 0);
	span_is(0, ZA_ZONE_NORMAL, 5 * BLK, 13 * BLK, 2 * BLK, "grown again");
	CHECK_EQ(za_memory_offline(za, 5 * BLK, BLK), 0);
	span_is(0, ZA_ZONE_NORMAL, 12 * BLK, 13 * BLK, BLK,
	        "the bottom block left, the next a hole away");
	CHECK_EQ(za_memory_offline(za, 12 * BLK, BLK), 0);
	span_is(0, ZA_ZONE_NORMAL, 0, 0, 0, "the last block left");
	span_is(0, ZA_ZONE_DMA32, 7 * BLK, 8 * BLK, BLK, "DMA32 at the end");
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 2 * BLK, 2 * BLK, NULL),
	         0);
	span_is(0, ZA_ZONE_NORMAL, 2 * BLK, 4 * BLK, 2 * BLK, "online again");
	CHECK_EQ(za_memory_offline(za, 2 * BLK, 2 * BLK), 0);
	span_is(0, ZA_ZONE_NORMAL, 0, 0, 0, "both blocks in one offline");
	za_destroy(za);
}

static void span_hook(struct za *a, int point, void *arg)
{
	(void)a;
	if (point != ZA_DP_SPAN_SHRINK)
		return;
	struct za_zone *z = arg;
	RULE(za_spin_trylock_raw(&z->lock),
	     "memory offline works out the zone's new span without the zone "
	     "lock (offline %u)",
	     hook_calls);
	za_spin_unlock_raw(&z->lock);
	hook_calls++;
}

static void test_lock(void)
{
	if (!za_debug) {
		printf("2. skipped: the hook needs a debug build\n");
		return;
	}
	struct za_config cfg = { 0 };
	cfg.nr_cpus = 2;
	cfg.block_pages = BLK;
	cfg.max_pfn = (1ul << 32) - BLK;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	za = za_create(&cfg);
	CHECK(za);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 4 * BLK, NULL), 0);
	za_store_relaxed(&za->debug_hook, span_hook);
	CHECK_EQ(za_memory_offline(za, 3 * BLK, BLK), 0); /* the top */
	CHECK_EQ(za_memory_offline(za, BLK, BLK), 0);     /* the middle */
	CHECK_EQ(za_memory_offline(za, 0, BLK), 0);       /* the bottom */
	CHECK_EQ(hook_calls, 3);
	za_store_relaxed(&za->debug_hook, NULL);
	span_is(0, ZA_ZONE_NORMAL, 2 * BLK, 3 * BLK, BLK, "on 2^32 frames");
	za_destroy(za);
	printf("2. %u offlines looked for the new span without the zone lock\n",
	       hook_calls);
}

/* Part 3: the writer stops in the hook until the observer has read (or
 * 50 ms: a reader that waits for the writer, as it should, waits that
 * long), so that the observer reads right in the middle of the write. */
static atomic_int obs_go, obs_done;
static struct za_zone_info obs;
static struct za_zone *obs_zone;
static unsigned writes_seen;

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void write_hook(struct za *a, int point, void *arg)
{
	(void)a;
	if (point != ZA_DP_SPAN_WRITE || arg != obs_zone)
		return;
	writes_seen++;
	atomic_store(&obs_go, 1);
	double t0 = now_ms();
	while (!atomic_load(&obs_done) && now_ms() - t0 < 50)
		;
}

static void *observer(void *arg)
{
	(void)arg;
	while (!atomic_load(&obs_go))
		;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_MOVABLE, &obs), 0);
	atomic_store(&obs_done, 1);
	return NULL;
}

/* One online or offline of ZONE_MOVABLE's blocks with the observer
 * reading in the middle: it must see one whole span, before or after. */
static void observe(bool online, unsigned long start, unsigned long nr,
                    unsigned long b_start, unsigned long b_end,
                    unsigned long b_present, unsigned long a_start,
                    unsigned long a_end, unsigned long a_present,
                    const char *what)
{
	pthread_t t;
	atomic_store(&obs_go, 0);
	atomic_store(&obs_done, 0);
	CHECK_EQ(pthread_create(&t, NULL, observer, NULL), 0);
	unsigned seen = writes_seen;
	if (online)
		CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, start, nr, NULL), 0);
	else
		CHECK_EQ(za_memory_offline(za, start, nr), 0);
	CHECK_EQ(pthread_join(t, NULL), 0);
	CHECK_EQ(writes_seen, seen + 1);
	bool before = obs.start_pfn == b_start && obs.spanned == b_end - b_start &&
	              obs.present == (b_end - b_start ? obs.present : 0);
	bool after = obs.start_pfn == a_start && obs.spanned == a_end - a_start &&
	             obs.present == (a_end - a_start ? obs.present : 0);
	RULE((before || after) && obs.present <= obs.spanned,
	     "a reader gets a zone's span whole, not the new start with the old "
	     "end (%s): start 0x%lx spanned 0x%lx present 0x%lx; before "
	     "0x%lx-0x%lx, after 0x%lx-0x%lx",
	     what, obs.start_pfn, obs.spanned, obs.present, b_start, b_end,
	     a_start, a_end);
}

static void test_whole(void)
{
	if (!za_debug) {
		printf("3. skipped: the hook needs a debug build\n");
		return;
	}
	struct za_config cfg = { 0 };
	cfg.nr_cpus = 2;
	cfg.block_pages = BLK;
	cfg.max_pfn = 32 * BLK;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	za = za_create(&cfg);
	CHECK(za);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 4 * BLK, NULL), 0);
	obs_zone = &za->nodes[0].zones[ZA_ZONE_MOVABLE];
	za_store_relaxed(&za->debug_hook, write_hook);
	observe(true, 16 * BLK, BLK, 0, 0, 0, 16 * BLK, 17 * BLK, BLK,
	        "an empty zone filled");
	observe(true, 8 * BLK, BLK, 16 * BLK, 17 * BLK, BLK, 8 * BLK, 17 * BLK,
	        2 * BLK, "grown down");
	observe(false, 16 * BLK, BLK, 8 * BLK, 17 * BLK, 2 * BLK, 8 * BLK, 9 * BLK,
	        BLK, "shrunk from the top");
	observe(false, 8 * BLK, BLK, 8 * BLK, 9 * BLK, BLK, 0, 0, 0, "emptied");
	za_store_relaxed(&za->debug_hook, NULL);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	printf("3. %u span writes, each read whole from another thread\n",
	       writes_seen);
}

int main(void)
{
	test_spans();
	printf("1. spans shrink and grow as the kernel's\n");
	test_lock();
	test_whole();
	return 0;
}
