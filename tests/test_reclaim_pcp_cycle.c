/*
 * test_reclaim_pcp_cycle.c - how a self-sizing per-CPU list answers a CPU
 * that gives pages back and takes them again (docs/RECLAIM.md, "Growing"
 * and "Flushing"; docs/REPLAY.md, the huge-page traces).
 *
 * One NORMAL zone of 1 GiB (frames only), two simulated CPUs (locked page
 * sets), no periodic worker (its decay would forget what this test
 * watches the lists earn), no kswapd. Checks that:
 *
 *  1. A cycle of huge-page (pageblock-order) blocks on one CPU - allocate
 *     16 blocks of 512 pages, free them, again and again, as a program
 *     that maps and unmaps a 32 MiB region with transparent huge pages -
 *     takes no zone lock at all by the third round: the refills of the
 *     second take back the blocks the first round's frees flushed over
 *     high, and each such refill grows high by the pages it took back,
 *     not by a batch. After every call the list holds no more than its
 *     high, and high stays within high_max.
 *     A drain that empties the list forgets what it was owed: the next
 *     round's refills grow high by a batch each.
 *  1b. A refill of huge-page blocks takes as many as fit under high, up
 *     to 32 batches' worth (3 blocks of 512 pages with a batch of 63),
 *     at least one: counted by the pages each refill moves, with high
 *     set to fit 5, 2, 1 and 0 blocks above what the list holds.
 *  2. A stream of allocations on one CPU whose frees never come back to
 *     it (they go to the other CPU) grows its high by exactly one batch a
 *     refill: nothing was flushed there, so nothing is taken back. The
 *     other CPU's list flushes and, never refilling, keeps its high.
 *  3. A CPU that only frees flushes batch, 2, 4, 8, 16, then 32 batches
 *     at a time (the kernel's scale of 5), no more, each in one zone-lock
 *     hold, and never holds more than its high.
 *
 * Every part ends with za_check.
 */
#include "test_reclaim_common.c"

#define BLK 1024UL
#define NBLK 256UL /* 1 GiB of 4 KiB pages */
#define MANAGED (NBLK * BLK)
#define THP_BLOCKS 16

static struct za *make(unsigned long min_free_kbytes)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = 2;
	cfg.cpu_id = sim_cpu;
	cfg.block_pages = BLK;
	cfg.max_pfn = (NBLK + 1) * BLK;
	cfg.min_free_kbytes = min_free_kbytes;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, MANAGED, NULL), 0);
	return za;
}

static int high_max_of(struct za *za)
{
	return za_load_relaxed(
	    &za->nodes[0].zones[ZA_ZONE_NORMAL].pcp_sizes.high_max);
}

/* After every call: the list within its high, high within its bounds. */
static void check_bounds(struct za *za, unsigned cpu)
{
	struct za_pcp_info pi = pcp_info(za, cpu, ZA_ZONE_NORMAL);
	CHECK(pi.count <= pi.high);
	CHECK((int)pi.high <= high_max_of(za));
}

/* --- 1 ------------------------------------------------------------------------- */

static void part_cycle(void)
{
	struct za *za = make(4096);
	unsigned po = za_pageblock_order(za);
	CHECK_EQ(po, 9u);
	struct za_page *blk[THP_BLOCKS];
	tl_cpu = 0;
	struct za_pcp_info pi = pcp_info(za, 0, ZA_ZONE_NORMAL);
	unsigned high0 = pi.high;
	/* The cycle does not fit in the list at first, and does fit in
	 * high_max: the list has to earn its length. */
	CHECK(high0 < (THP_BLOCKS << po) / 4u);
	CHECK((THP_BLOCKS << po) + pi.batch <= (unsigned)high_max_of(za));

	unsigned long long locks[4];
	for (int round = 0; round < 4; round++) {
		unsigned long long l0 = za_event_count(za, ZA_ZONE_LOCK);
		for (int i = 0; i < THP_BLOCKS; i++) {
			blk[i] = za_alloc_pages(za, ZA_GFP_MOVABLE, po);
			CHECK(blk[i] != NULL);
			check_bounds(za, 0);
		}
		for (int i = 0; i < THP_BLOCKS; i++) {
			za_free_pages(za, blk[i], po);
			check_bounds(za, 0);
		}
		locks[round] = za_event_count(za, ZA_ZONE_LOCK) - l0;
		pi = pcp_info(za, 0, ZA_ZONE_NORMAL);
		printf("1: round %d: %llu zone-lock acquisitions; high %u, the "
		       "list holds %u pages\n",
		       round + 1, locks[round], pi.high, pi.count);
	}
	CHECK(locks[0] >= THP_BLOCKS); /* every block refilled once */
	CHECK(locks[1] > 0);
	CHECK_EQ(locks[2], 0ull);
	CHECK_EQ(locks[3], 0ull);
	/* What it earned is the cycle and not much more: a batch a refill
	 * on top of what it took back. */
	pi = pcp_info(za, 0, ZA_ZONE_NORMAL);
	CHECK(pi.high >= (unsigned)THP_BLOCKS << po);
	CHECK(pi.high <= high0 + (THP_BLOCKS << po) + 2 * THP_BLOCKS * pi.batch);
	za_drain_all_pages(za);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

/* A list drained empty forgets what its flushes were owed: after a round
 * that flushed, a drain of every CPU, then the refills of the next round
 * grow high by a batch each, as a fresh list's would. */
static void part_drain_forgets(void)
{
	struct za *za = make(4096);
	unsigned po = za_pageblock_order(za);
	struct za_page *blk[THP_BLOCKS];
	tl_cpu = 0;
	unsigned long long fp0 = za_event_count(za, ZA_PCP_FLUSH_PAGES);
	for (int i = 0; i < THP_BLOCKS; i++)
		CHECK((blk[i] = za_alloc_pages(za, ZA_GFP_MOVABLE, po)) != NULL);
	for (int i = 0; i < THP_BLOCKS; i++)
		za_free_pages(za, blk[i], po);
	CHECK(za_event_count(za, ZA_PCP_FLUSH_PAGES) - fp0 >= 4ull << po);
	/* The last flush may have given back every block (a flush leaves
	 * at most a batch, less than one block): a page on the list makes
	 * the drain visit it (a drain skips an empty list). */
	CHECK((blk[0] = za_alloc_pages(za, ZA_GFP_MOVABLE, 0)) != NULL);
	za_free_pages(za, blk[0], 0);
	CHECK(pcp_info(za, 0, ZA_ZONE_NORMAL).count > 0);
	za_drain_all_pages(za);
	CHECK_EQ(pcp_info(za, 0, ZA_ZONE_NORMAL).count, 0u);
	struct za_pcp_info a0 = pcp_info(za, 0, ZA_ZONE_NORMAL);
	unsigned long long r0 = za_event_count(za, ZA_PCP_REFILL);
	for (int i = 0; i < THP_BLOCKS; i++)
		CHECK((blk[i] = za_alloc_pages(za, ZA_GFP_MOVABLE, po)) != NULL);
	unsigned long long refills = za_event_count(za, ZA_PCP_REFILL) - r0;
	struct za_pcp_info a = pcp_info(za, 0, ZA_ZONE_NORMAL);
	printf("1: after a drain: %llu refills grew high %u -> %u (batch %u)\n",
	       refills, a0.high, a.high, a.batch);
	/* two blocks a refill while three do not fit under high, then three */
	CHECK(refills >= THP_BLOCKS / 3 && refills < THP_BLOCKS);
	CHECK_EQ(a.high, a0.high + (unsigned)refills * a.batch);
	for (int i = 0; i < THP_BLOCKS; i++)
		za_free_pages(za, blk[i], po);
	za_drain_all_pages(za);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

/* A refill of huge-page blocks: as many as fit under high, up to 32
 * batches' worth, at least one. high is set (za_pcp_set_high) to leave
 * room for `fit` blocks above what the list holds; the allocation that
 * finds no block refills, and the refill's pages are counted. */
static unsigned long long pb_refill_pages(struct za *za, unsigned fit,
                                          struct za_page **got)
{
	unsigned po = za_pageblock_order(za);
	struct za_pcp_info pi = pcp_info(za, 0, ZA_ZONE_NORMAL);
	CHECK_EQ(za_pcp_set_high(za, 0, 0, ZA_ZONE_NORMAL,
	                         pi.count + (fit << po) + (1u << po) - 1),
	         0);
	unsigned long long r0 = za_event_count(za, ZA_PCP_REFILL);
	unsigned long long p0 = za_event_count(za, ZA_PCP_REFILL_PAGES);
	*got = za_alloc_pages(za, ZA_GFP_MOVABLE, po);
	CHECK(*got != NULL);
	CHECK_EQ(za_event_count(za, ZA_PCP_REFILL), r0 + 1);
	return za_event_count(za, ZA_PCP_REFILL_PAGES) - p0;
}

static void part_pb_refill(void)
{
	struct za *za = make(4096);
	unsigned po = za_pageblock_order(za);
	struct za_pcp_info pi = pcp_info(za, 0, ZA_ZONE_NORMAL);
	unsigned most = ((unsigned)pi.batch << 5) >> po;
	unsigned high_min = pi.high; /* a fresh list's */
	CHECK_EQ(pi.batch, 63u);
	CHECK_EQ(most, 3u);
	tl_cpu = 0;
	struct za_page *held[4];
	/* room for 5 blocks: 3 (32 batches' worth), the list keeps 2 */
	unsigned long long p = pb_refill_pages(za, 5, &held[0]);
	printf("1b: refills of huge-page blocks: %llu pages with room for 5", p);
	CHECK_EQ(p, (unsigned long long)most << po);
	CHECK_EQ(pcp_info(za, 0, ZA_ZONE_NORMAL).count, (most - 1) << po);
	/* take the two kept blocks off the list, then room for 2 and 1 */
	for (unsigned k = 1; k < most; k++) {
		struct za_page *q = za_alloc_pages(za, ZA_GFP_MOVABLE, po);
		CHECK(q != NULL);
		za_free_pages(za, q, po); /* back on the list */
		q = za_alloc_pages(za, ZA_GFP_MOVABLE, po);
		CHECK(q != NULL);
		if (k == 1)
			held[1] = q;
		else
			held[2] = q;
	}
	CHECK_EQ(pcp_info(za, 0, ZA_ZONE_NORMAL).count, 0u);
	p = pb_refill_pages(za, 2, &held[3]);
	printf(", %llu with room for 2", p);
	CHECK_EQ(p, 2ull << po);
	za_free_pages(za, held[3], po);
	za_drain_all_pages(za);
	p = pb_refill_pages(za, 1, &held[3]);
	printf(", %llu with room for 1", p);
	CHECK_EQ(p, 1ull << po);
	za_free_pages(za, held[3], po);
	za_drain_all_pages(za);
	/* no room at all (high under one block above the 700 order-0 pages
	 * on the list, high_min under 700): still one block */
	static struct za_page *small[700];
	for (int k = 0; k < 700; k++)
		CHECK((small[k] = za_alloc_pages(za, ZA_GFP_MOVABLE, 0)) != NULL);
	for (int k = 0; k < 700; k++)
		za_free_pages(za, small[k], 0);
	CHECK(pcp_info(za, 0, ZA_ZONE_NORMAL).count >= 700);
	CHECK(pcp_info(za, 0, ZA_ZONE_NORMAL).count + 511 > high_min);
	p = pb_refill_pages(za, 0, &held[3]);
	printf(", %llu with none\n", p);
	CHECK_EQ(p, 1ull << po);
	za_free_pages(za, held[3], po);
	for (int k = 0; k < 3; k++)
		za_free_pages(za, held[k], po);
	za_drain_all_pages(za);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

/* --- 2 ------------------------------------------------------------------------- */

static void part_no_way_back(void)
{
	struct za *za = make(4096);
	unsigned po = za_pageblock_order(za);
	struct za_page *blk[4 * THP_BLOCKS];
	struct za_pcp_info a0 = pcp_info(za, 0, ZA_ZONE_NORMAL);
	struct za_pcp_info b0 = pcp_info(za, 1, ZA_ZONE_NORMAL);
	unsigned long long r0 = za_event_count(za, ZA_PCP_REFILL);

	tl_cpu = 0;
	for (int i = 0; i < 4 * THP_BLOCKS; i++) {
		blk[i] = za_alloc_pages(za, ZA_GFP_MOVABLE, po);
		CHECK(blk[i] != NULL);
	}
	unsigned long long refills = za_event_count(za, ZA_PCP_REFILL) - r0;
	tl_cpu = 1;
	unsigned long long f0 = za_event_count(za, ZA_PCP_FLUSH);
	for (int i = 0; i < 4 * THP_BLOCKS; i++) {
		za_free_pages(za, blk[i], po);
		check_bounds(za, 1);
	}
	CHECK(za_event_count(za, ZA_PCP_FLUSH) > f0); /* cpu1 flushed */
	/* And cpu0 allocates once more: its refills take back nothing it
	 * flushed (it flushed nothing). */
	tl_cpu = 0;
	unsigned long long r1 = za_event_count(za, ZA_PCP_REFILL);
	struct za_page *p = za_alloc_pages(za, ZA_GFP_MOVABLE, po);
	CHECK(p != NULL);
	refills += za_event_count(za, ZA_PCP_REFILL) - r1;
	struct za_pcp_info a = pcp_info(za, 0, ZA_ZONE_NORMAL);
	struct za_pcp_info b = pcp_info(za, 1, ZA_ZONE_NORMAL);
	printf("2: %llu refills on cpu0: high %u -> %u (batch %u); cpu1 only "
	       "freed: high %u -> %u\n",
	       refills, a0.high, a.high, a.batch, b0.high, b.high);
	CHECK(refills >= 4 * THP_BLOCKS / 3);
	CHECK_EQ(a.high, a0.high + (unsigned)refills * a.batch);
	CHECK_EQ(b.high, b0.high);
	za_free_pages(za, p, po);
	za_drain_all_pages(za);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

/* --- 3 ------------------------------------------------------------------------- */

static void part_flush_scale(void)
{
	/* A large low watermark: high_min far above 33 batches, so that the
	 * flushes can grow all the way. */
	struct za *za = make(65536);
	struct pinned held;
	pinned_init(&held, 32768);
	tl_cpu = 0;
	while (held.n < held.cap) {
		struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
		CHECK(p != NULL);
		pinned_add(&held, p);
	}
	tl_cpu = 1;
	struct za_pcp_info pi = pcp_info(za, 1, ZA_ZONE_NORMAL);
	unsigned batch = pi.batch, high = pi.high, nflush = 0;
	CHECK(high > 34 * batch);
	unsigned long long biggest = 0;
	while (held.n) {
		unsigned long long f = za_event_count(za, ZA_PCP_FLUSH);
		unsigned long long fp = za_event_count(za, ZA_PCP_FLUSH_PAGES);
		unsigned long long l = za_event_count(za, ZA_ZONE_LOCK);
		pinned_free(za, &held, 1);
		check_bounds(za, 1);
		if (za_event_count(za, ZA_PCP_FLUSH) == f)
			continue;
		/* One flush, one zone-lock hold: batch << min(n, 5) pages
		 * (the list reached high exactly, one page at a time). */
		unsigned long long got = za_event_count(za, ZA_PCP_FLUSH_PAGES) - fp;
		unsigned shift = nflush < 5 ? nflush : 5;
		CHECK_EQ(za_event_count(za, ZA_PCP_FLUSH), f + 1);
		CHECK_EQ(za_event_count(za, ZA_ZONE_LOCK), l + 1);
		CHECK_EQ(got, (unsigned long long)batch << shift);
		if (got > biggest)
			biggest = got;
		nflush++;
	}
	printf("3: cpu1 only freed 32768 pages: %u flushes, the largest %llu "
	       "pages (batch %u, high %u)\n",
	       nflush, biggest, batch, high);
	CHECK(nflush > 6);
	CHECK_EQ(biggest, (unsigned long long)batch << 5);
	CHECK_EQ(pcp_info(za, 1, ZA_ZONE_NORMAL).high, high);
	za_drain_all_pages(za);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	free(held.pages);
}

int main(void)
{
	tu_watchdog(120);
	tl_is_main = 1;
	part_cycle();
	part_drain_forgets();
	part_pb_refill();
	part_no_way_back();
	part_flush_scale();
	return expect_failures("reclaim_pcp_cycle");
}
