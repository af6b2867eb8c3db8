/*
 * test_compaction.c - compaction (compaction.c) against a client with real
 * data in its blocks (the migrate callback of test_hotplug_common.c).
 *
 * Every part starts from the same fragmented zone: ZONE_NORMAL of 4
 * blocks of 1024 pages (8 pageblocks of 512), filled with movable order-0
 * blocks each holding a pattern, then every other page freed, so half the
 * memory is free and no free block is larger than one page.
 *
 *  explicit   za_compact makes order-9 blocks; every block keeps its data;
 *             pgmigrate_success is the client's count; the compact_*
 *             counters moved; the extfrag/unusable reports say so.
 *  direct     an order-9 movable request compacts in the slow path and
 *             succeeds (compact_stall, compact_success); with
 *             ZA_CFG_NO_COMPACTION it fails; NOWAIT and ATOMIC requests
 *             never compact.
 *  cache      the cached scanner positions: the second of two direct
 *             compactions in a row starts where the first stopped (it
 *             scans one pageblock, not two); a pass from the cached
 *             positions that meets the free scanner resets them and is
 *             not deferred; the next, over the whole zone, is.
 *  unmovable  unmovable blocks placed inside movable pageblocks (fallback)
 *             are never handed to the migrate callback.
 *  defer      a callback that refuses: repeated NORETRY order-9 requests
 *             compact 1, 3, 7, 15 ... times (the kernel's deferral), not
 *             every time; refusals and garbage errnos count in
 *             pgmigrate_fail; -ENOENT (the client freed src inside the
 *             callback) is not a failure.
 *  frames     frames-only memory (no base): the callback moves frame
 *             numbers only, and compaction works the same.
 *  reuse      inside the migrate callback src is freed by its owner and
 *             handed out again to a new block of the client's, which the
 *             callback then moves: a good move, whose free of src must
 *             go through (compaction reads src's hand-out count after
 *             the callback, not before).
 *  refused_dst
 *             the callback frees dst, takes the page back as a block of
 *             its own and refuses (a client bug): reported, and the pass
 *             does not take dst back as a target (the client's new block
 *             is neither moved into nor freed).
 *  late       poisoning and page owner on: between compaction's read of
 *             src's hand-out count (after the callback) and its claim
 *             (ZA_DP_FREE_GEN), src is freed by a stale reference of its
 *             old owner's and handed out again to a new block of the
 *             client's: compaction's claim is refused before the aids'
 *             hook, so the new block's data, state and page owner record
 *             stay as they are, and the stale free is reported.
 *  kcompactd  a NOWAIT order-9 request that fails wakes kswapd, which
 *             wakes kcompactd, which makes the order; proactive
 *             compaction brings the fragmentation score down by itself.
 *  proactive_write
 *             a write of compaction_proactiveness makes kcompactd look at
 *             the score at once (within 200 ms: the interval is 500),
 *             also when writes come every 100 ms; without writes,
 *             after passes that moved nothing (the callback refuses) the
 *             next look waits 64 intervals, as the kernel's kcompactd
 *             defers (a write still looks at once), and after a pass
 *             that lowered the score it comes every interval.
 *  boost      a fallback that mixes a pageblock boosts the zone's marks by
 *             a pageblock (zoneinfo's boost line), wakes kswapd, which
 *             drops the boost after its pass and wakes kcompactd;
 *             watermark_boost_factor 0 turns it off.
 *  badinput   za_compact's errors; tunables out of range.
 *  exclude_wake
 *             za_check (a memory-hotplug lock holder) that finds a pass
 *             inside a migrate callback waits for it, the pass stops after
 *             that block (no further callback), and za_check gets through
 *             (the last pass out wakes compact_idle); za_compact then
 *             goes on with the zone.
 * Every part ends with za_check.
 */
#include <unistd.h>

#include "test_hotplug_common.c"

#define NCPU 2
#define BLK 1024ul
#define ZPAGES (4 * BLK)
#define PB 512ul

static struct za *za;
static struct hp_client cl;
static unsigned char *mem;
static uint64_t rng = 42;
static atomic_ulong unmovable_seen, calls;
static unsigned char is_unmovable[ZPAGES];
static int mode_enoent_every; /* free src and answer -ENOENT every nth call */
static atomic_int gate_mode, gate_entered, gate_open; /* part_exclude_wake */
static atomic_ulong calls_excluded; /* calls while a hotplug op waits */
/* Part reuse: the first call frees src and takes it back (reuse_src). */
static bool mode_reuse;
static unsigned long reuse_pfn = ULONG_MAX;
static unsigned reuse_extra; /* blocks taken before src came back */
static uint8_t reuse_gen_in, reuse_gen_out; /* src's gen at the call, after */
static bool backed; /* memory has addresses (else frames only) */
/* Part refused_dst: the first call frees dst, takes the page back as a
 * block of the client's and refuses (a client bug). */
static bool mode_free_dst;
static unsigned long freed_dst_pfn = ULONG_MAX;
static struct za_page *freed_dst_again;
/* Part proactive_write: moves the callback makes before it refuses
 * (-1: no limit). An atomic, not cl.refuse: kcompactd reads it while the
 * test changes it. */
static atomic_long move_budget = -1;

static bool take_move_budget(void)
{
	long b = atomic_load(&move_budget);
	if (b < 0)
		return true;
	while (b > 0 && !atomic_compare_exchange_weak(&move_budget, &b, b - 1))
		;
	return b > 0;
}
static uint32_t freed_dst_code; /* the client's code for it */

static unsigned long ev(const char *name)
{
	int e = za_event_lookup(name);
	CHECK(e >= 0);
	return (unsigned long)za_event_count(za, (enum za_event)e);
}

/* The owner of src lets it go (verified and freed, as the client frees),
 * and the client allocates at once until the same page comes back (the
 * head of this CPU's list: the first allocation), as a new block of its
 * own with a new pattern. The blocks taken on the way go back. Then src
 * is held by that new block: the callback goes on to move it. */
static void reuse_src(struct za_page *src, unsigned order)
{
	unsigned long spfn = za_page_to_pfn(za, src);
	uint32_t code = atomic_load(&cl.owner[spfn]);
	unsigned s = (code - 1) & ((1u << HP_SLOT_BITS) - 1);
	struct za_page *extra[256], *p;
	unsigned nx = 0;
	reuse_pfn = spfn;
	reuse_gen_in = za_load_relaxed(&src->gen);
	CHECK(hp_drop(za, &cl, 0, s));
	while (
	    (p = za_alloc_pages(za,
	                        ZA_GFP_NOWAIT | ZA___GFP_MOVABLE | ZA_GFP_NOWARN,
	                        order)) != src) {
		CHECK(p != NULL);
		CHECK(nx < sizeof(extra) / sizeof(extra[0]));
		extra[nx++] = p;
	}
	hp_keep(za, &cl, 0, src, order, &rng);
	reuse_extra = nx;
	reuse_gen_out = za_load_relaxed(&src->gen);
	for (unsigned i = 0; i < nx; i++)
		za_free_pages(za, extra[i], order);
}

static int test_migrate(void *ctx, struct za_page *dst, struct za_page *src,
                        unsigned order)
{
	unsigned long spfn = za_page_to_pfn(za, src);
	unsigned long n = atomic_fetch_add(&calls, 1) + 1;
	/* part_exclude_wake: the first call holds the pass until let go. */
	if (atomic_load(&gate_mode) && !atomic_exchange(&gate_entered, 1))
		while (!atomic_load(&gate_open))
			usleep(1000);
	else if (atomic_load(&gate_mode) && za_load_relaxed(&za->compact_excluded))
		atomic_fetch_add(&calls_excluded, 1);
	if (spfn < ZPAGES && is_unmovable[spfn])
		atomic_fetch_add(&unmovable_seen, 1);
	if (mode_reuse && reuse_pfn == ULONG_MAX && atomic_load(&cl.owner[spfn]))
		reuse_src(src, order);
	if (mode_free_dst && freed_dst_pfn == ULONG_MAX) {
		freed_dst_pfn = za_page_to_pfn(za, dst);
		za_free_pages(za, dst, order);
		freed_dst_again = za_alloc_pages(za,
		                                 ZA_GFP_NOWAIT | ZA___GFP_MOVABLE |
		                                     ZA_GFP_NOWARN,
		                                 order);
		CHECK(freed_dst_again != NULL);
		hp_keep(za, &cl, 0, freed_dst_again, order, &rng);
		freed_dst_code = atomic_load(
		    &cl.owner[za_page_to_pfn(za, freed_dst_again)]);
		return -EBUSY;
	}
	if (mode_enoent_every && n % (unsigned)mode_enoent_every == 0) {
		uint32_t code = atomic_load(&cl.owner[spfn]);
		if (code) {
			/* The client frees src itself, then says so. */
			unsigned s = (code - 1) & ((1u << HP_SLOT_BITS) - 1);
			CHECK(hp_drop(za, &cl, 0, s));
			atomic_fetch_add(&cl.enoent, 1);
			return -ENOENT;
		}
	}
	if (!take_move_budget())
		return -EAGAIN;
	if (backed)
		return hp_migrate(ctx, dst, src, order);
	/* Frames only: the client's references are frame numbers. */
	if (cl.refuse)
		return cl.refuse;
	uint32_t code = atomic_load(&cl.owner[spfn]);
	if (!code)
		return -ENOENT;
	unsigned s = (code - 1) & ((1u << HP_SLOT_BITS) - 1);
	struct hp_table *tb = &cl.tab[0];
	pthread_mutex_lock(&tb->lock);
	if (s >= tb->n || tb->e[s].p != src) {
		pthread_mutex_unlock(&tb->lock);
		return -ENOENT;
	}
	CHECK_EQ(tb->e[s].order, order);
	tb->e[s].p = dst;
	atomic_store(&cl.owner[za_page_to_pfn(za, dst)], code);
	atomic_store(&cl.owner[spfn], 0);
	pthread_mutex_unlock(&tb->lock);
	atomic_fetch_add(&cl.migrated, 1);
	return 0;
}

static void setup(unsigned flags, bool with_base)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	hp_config_cpus(&cfg, NCPU);
	cfg.block_pages = BLK;
	cfg.max_pfn = ZPAGES;
	cfg.min_free_kbytes = 128;
	cfg.flags = flags | ZA_CFG_NO_VMSTAT_WORKER;
	cfg.migrate = test_migrate;
	cfg.migrate_ctx = &cl;
	hp_set_cpu(0);
	/* Before any background thread can call the callback. */
	backed = with_base;
	memset(is_unmovable, 0, sizeof(is_unmovable));
	atomic_store(&unmovable_seen, 0);
	atomic_store(&calls, 0);
	mode_enoent_every = 0;
	za = za_create(&cfg);
	CHECK(za != NULL);
	hp_client_init(&cl, 1, 60000, ZPAGES);
	cl.za = za;
	if (!mem)
		mem = hp_map(ZPAGES);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, ZPAGES,
	                          with_base ? mem : NULL),
	         0);
	pm_check_mode(za, "compaction");
}

static void teardown(void)
{
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	za = NULL;
	hp_client_fini(&cl);
}

/* Fill the zone with movable order-0 blocks, then free those at pfns
 * with (pfn % every == keep_mod)... i.e. free 1 page of every `every`. */
static unsigned long fragment(unsigned every)
{
	unsigned long n = 0;
	struct za_page *p;
	while (
	    (p = za_alloc_pages(za,
	                        ZA_GFP_NOWAIT | ZA___GFP_MOVABLE | ZA_GFP_NOWARN,
	                        0))) {
		if (backed)
			hp_keep(za, &cl, 0, p, 0, &rng);
		else
			CHECK(hp_insert(&cl, 0, p, 0, 0));
		n++;
	}
	CHECK(n > ZPAGES * 9 / 10);
	unsigned long freed = 0;
	for (unsigned long pfn = 1; pfn < ZPAGES; pfn += every) {
		uint32_t code = atomic_load(&cl.owner[pfn]);
		if (!code)
			continue;
		unsigned s = (code - 1) & ((1u << HP_SLOT_BITS) - 1);
		if (backed)
			CHECK(hp_drop(za, &cl, 0, s));
		else {
			struct hp_ent e;
			CHECK(hp_remove(&cl, 0, s, &e));
			za_free_pages(za, e.p, 0);
		}
		freed++;
	}
	za_drain_all_pages(za);
	return freed;
}

/* Free blocks of order >= o in the zone. */
static unsigned long free_blocks_from(unsigned o)
{
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	unsigned long n = 0;
	for (unsigned k = o; k <= za_max_order(za); k++)
		n += zi.nr_free[k] << (k - o);
	return n;
}

static void verify_client(const char *when)
{
	if (backed)
		hp_verify_all(&cl, when);
	/* Every owned block is allocated, of its order, where the table
	 * says (under the table's lock: kcompactd may be moving blocks). */
	pthread_mutex_lock(&cl.tab[0].lock);
	for (unsigned s = 0; s < cl.tab[0].n; s++) {
		struct hp_ent *e = &cl.tab[0].e[s];
		unsigned long pfn = za_page_to_pfn(za, e->p);
		CHECK(pfn < ZPAGES);
		CHECK_EQ(atomic_load(&cl.owner[pfn]), hp_code(0, s));
		CHECK_EQ(page_state(e->p), ZA_PS_ALLOC);
		CHECK_EQ(page_order(e->p), e->order);
	}
	pthread_mutex_unlock(&cl.tab[0].lock);
}

static __attribute__((noinline)) char *capture(enum za_report what)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CHECK(f != NULL);
	CHECK_EQ(za_report(za, what, f), 0);
	fclose(f);
	return buf;
}

/* The report's value for Normal at order o, in thousandths. */
static int report_value(enum za_report what, unsigned o)
{
	char *r = capture(what);
	char *line = strstr(r, "zone   Normal ");
	CHECK(line != NULL);
	line += strlen("zone   Normal ");
	double v = 0;
	for (unsigned k = 0; k <= o; k++) {
		char *end;
		v = strtod(line, &end);
		CHECK(end != line);
		line = end;
	}
	free(r);
	return (int)(v * 1000 + (v < 0 ? -0.5 : 0.5));
}

static void part_explicit(void)
{
	setup(ZA_CFG_NO_KSWAPD | ZA_CFG_NO_KCOMPACTD, true);
	unsigned long freed = fragment(2);
	CHECK(freed > ZPAGES / 3);
	CHECK_EQ(free_blocks_from(9), 0);
	/* Free memory, all in single pages: fragmentation, not shortage. */
	CHECK(report_value(ZA_REPORT_EXTFRAG_INDEX, 9) > 900);
	CHECK(report_value(ZA_REPORT_UNUSABLE_INDEX, 9) == 1000);
	CHECK(za_fragmentation_score(za, 0) > 90);
	unsigned long free_before = za_zone_free_pages(za, 0, ZA_ZONE_NORMAL);

	CHECK_EQ(za_compact(za, 0), 0);
	unsigned long big = free_blocks_from(9);
	printf("explicit: %lu pages free, %lu order-9 blocks after, %lu moved\n",
	       free_before, big, atomic_load(&cl.migrated));
	CHECK(big >= 2);
	CHECK_EQ(za_zone_free_pages(za, 0, ZA_ZONE_NORMAL), free_before);
	CHECK_EQ(ev("pgmigrate_success"), atomic_load(&cl.migrated));
	CHECK_EQ(atomic_load(&cl.corrupt), 0);
	CHECK_EQ(atomic_load(&cl.bad_order), 0);
	CHECK(ev("compact_migrate_scanned") > 0);
	CHECK(ev("compact_free_scanned") > 0);
	CHECK(ev("compact_isolated") >= 2 * atomic_load(&cl.migrated));
	CHECK_EQ(ev("compact_stall"), 0);
	CHECK_EQ(ev("compact_daemon_wake"), 0);
	CHECK_EQ(report_value(ZA_REPORT_EXTFRAG_INDEX, 9), -1000);
	CHECK(report_value(ZA_REPORT_UNUSABLE_INDEX, 9) < 500);
	CHECK(za_fragmentation_score(za, 0) < 50);
	verify_client("after za_compact");
	/* No isolation is left behind. */
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	CHECK_EQ(zi.isolated_free, 0);
	CHECK_EQ(za_check(za, stderr), 0);
	/* A second pass has nothing left to gain in the compacted part and
	 * still keeps everything. */
	za_compact(za, -1);
	verify_client("after a second za_compact");
	hp_free_all(&cl, "explicit end");
	teardown();
}

static void part_direct(void)
{
	/* On: order-9 requests succeed until memory runs short. */
	setup(ZA_CFG_NO_KSWAPD | ZA_CFG_NO_KCOMPACTD, true);
	fragment(2);
	/* No compaction for requests that may not wait. */
	CHECK(za_alloc_pages(za, ZA_GFP_NOWAIT | ZA___GFP_MOVABLE | ZA_GFP_NOWARN,
	                     9) == NULL);
	CHECK(za_alloc_pages(za, ZA_GFP_ATOMIC | ZA_GFP_NOWARN, 9) == NULL);
	CHECK_EQ(ev("compact_stall"), 0);
	CHECK_EQ(atomic_load(&calls), 0);
	struct za_page *got[8];
	unsigned n = 0;
	while (n < 8 && (got[n] = za_alloc_pages(za,
	                                         ZA_GFP_MOVABLE | ZA_GFP_NORETRY |
	                                             ZA_GFP_NOWARN,
	                                         9)))
		n++;
	printf("direct: %u order-9 blocks, stall %lu success %lu fail %lu\n", n,
	       ev("compact_stall"), ev("compact_success"), ev("compact_fail"));
	CHECK(n >= 2);
	CHECK(ev("compact_stall") >= 1);
	CHECK(ev("compact_success") >= 1);
	CHECK_EQ(ev("compact_stall"), ev("compact_success") + ev("compact_fail"));
	verify_client("after direct compaction");
	for (unsigned i = 0; i < n; i++)
		za_free_pages(za, got[i], 9);
	hp_free_all(&cl, "direct end");
	teardown();

	/* Off: the same request fails, and nothing is scanned. */
	setup(ZA_CFG_NO_KSWAPD | ZA_CFG_NO_COMPACTION, true);
	fragment(2);
	CHECK(za_alloc_pages(za, ZA_GFP_MOVABLE | ZA_GFP_NORETRY | ZA_GFP_NOWARN,
	                     9) == NULL);
	CHECK_EQ(ev("compact_stall"), 0);
	CHECK_EQ(ev("compact_migrate_scanned"), 0);
	hp_free_all(&cl, "direct off end");
	teardown();
}

/* One NORETRY order-9 request; what its direct compaction scanned. */
static struct za_page *request9(unsigned long *mscan, unsigned long *fscan)
{
	unsigned long m0 = ev("compact_migrate_scanned");
	unsigned long f0 = ev("compact_free_scanned");
	struct za_page *p =
	    za_alloc_pages(za, ZA_GFP_MOVABLE | ZA_GFP_NORETRY | ZA_GFP_NOWARN, 9);
	*mscan = ev("compact_migrate_scanned") - m0;
	*fscan = ev("compact_free_scanned") - f0;
	return p;
}

static void part_cache(void)
{
	setup(ZA_CFG_NO_KSWAPD | ZA_CFG_NO_KCOMPACTD, true);
	fragment(2);
	struct za_zone *z = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	unsigned long start = z->start_pfn, end = z->end_pfn;
	unsigned long m1, f1, m2, f2, m3, f3, m4, f4;
	/* The first empties the zone's first pageblock into its last one. */
	struct za_page *a = request9(&m1, &f1);
	CHECK(a != NULL);
	CHECK_EQ(za_page_to_pfn(za, a), start);
	CHECK_EQ(z->compact_cached_migrate_pfn, start + PB);
	CHECK_EQ(z->compact_cached_free_pfn, end - PB);
	/* The second starts where the first stopped: the next pageblock,
	 * into the one below the last. Ignoring the cache, it would scan
	 * the first pageblock again (and the full last one). */
	struct za_page *b = request9(&m2, &f2);
	CHECK(b != NULL);
	printf("cache: first pass scanned %lu/%lu (migrate/free), second "
	       "%lu/%lu\n",
	       m1, f1, m2, f2);
	CHECK_EQ(za_page_to_pfn(za, b), start + PB);
	CHECK_EQ(m1, PB);
	CHECK_EQ(m2, PB);
	CHECK_EQ(f2, PB);
	CHECK_EQ(z->compact_cached_migrate_pfn, start + 2 * PB);
	/* The free scanner took the pageblock below the last; it starts
	 * there again if targets were left in it. */
	CHECK(z->compact_cached_free_pfn == end - 2 * PB ||
	      z->compact_cached_free_pfn == end - PB);
	CHECK_EQ(ev("compact_success"), 2);
	za_free_pages(za, a, 9);
	za_free_pages(za, b, 9);
	verify_client("cache");
	hp_free_all(&cl, "cache");
	teardown();

	/* Refused: the pass from the cached positions meets the free
	 * scanner; the positions go back to the ends, and a pass that did
	 * not see the whole zone defers nothing. (After one success only:
	 * after two, too little is free to compact.) */
	setup(ZA_CFG_NO_KSWAPD | ZA_CFG_NO_KCOMPACTD, true);
	fragment(2);
	z = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	a = request9(&m1, &f1);
	CHECK(a != NULL);
	CHECK_EQ(z->compact_cached_migrate_pfn, start + PB);
	cl.refuse = -EAGAIN;
	CHECK(request9(&m3, &f3) == NULL);
	CHECK_EQ(ev("compact_fail"), 1);
	CHECK_EQ(z->compact_cached_migrate_pfn, start);
	CHECK_EQ(z->compact_cached_free_pfn, end);
	CHECK_EQ(z->compact_defer_shift, 0);
	/* The next pass sees the whole zone, fails, and defers. */
	CHECK(request9(&m4, &f4) == NULL);
	printf("cache: refused from the cache scanned %lu, from the ends %lu\n",
	       m3, m4);
	CHECK_EQ(ev("compact_fail"), 2);
	CHECK(m4 > m3);
	CHECK_EQ(z->compact_defer_shift, 1);
	cl.refuse = 0;
	za_free_pages(za, a, 9);
	verify_client("cache end");
	hp_free_all(&cl, "cache end");
	teardown();
}

static void part_unmovable(void)
{
	setup(ZA_CFG_NO_KSWAPD | ZA_CFG_NO_KCOMPACTD, true);
	/* A quarter free: a fallback does not claim such a pageblock, so
	 * the unmovable blocks below land inside MOVABLE pageblocks. */
	fragment(4);
	struct za_page *um[64];
	unsigned nm = 0, inside = 0;
	for (; nm < 64; nm++) {
		um[nm] = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NOWARN, 0);
		CHECK(um[nm] != NULL);
		unsigned long pfn = za_page_to_pfn(za, um[nm]);
		is_unmovable[pfn] = 1;
		if (pageblock_mt(za, pfn) == ZA_MT_MOVABLE)
			inside++;
	}
	CHECK(inside > 0);
	za_compact(za, 0);
	printf("unmovable: %u of 64 in movable pageblocks, %lu callback calls, "
	       "%lu on unmovable blocks\n",
	       inside, atomic_load(&calls), atomic_load(&unmovable_seen));
	CHECK_EQ(atomic_load(&unmovable_seen), 0);
	for (unsigned i = 0; i < nm; i++) {
		CHECK_EQ(page_state(um[i]), ZA_PS_ALLOC);
		za_free_pages(za, um[i], 0);
	}
	verify_client("unmovable");
	hp_free_all(&cl, "unmovable end");
	teardown();
}

static void part_defer(void)
{
	setup(ZA_CFG_NO_KSWAPD | ZA_CFG_NO_KCOMPACTD, true);
	fragment(2);
	cl.refuse = -EAGAIN;
	for (int i = 0; i < 64; i++)
		CHECK(za_alloc_pages(za,
		                     ZA_GFP_MOVABLE | ZA_GFP_NORETRY | ZA_GFP_NOWARN,
		                     9) == NULL);
	unsigned long stalls = ev("compact_stall");
	printf("defer: 64 refused requests, %lu compactions, pgmigrate_fail %lu\n",
	       stalls, ev("pgmigrate_fail"));
	/* Runs at requests 1, 3, 7, 15, 31, 63. */
	CHECK_EQ(stalls, 6);
	CHECK_EQ(ev("compact_fail"), stalls);
	CHECK(ev("pgmigrate_fail") > 0);
	CHECK_EQ(ev("pgmigrate_success"), 0);
	CHECK_EQ(za_check(za, stderr), 0);

	/* Garbage from the callback is a refusal too. */
	unsigned long fail0 = ev("pgmigrate_fail");
	cl.refuse = 12345;
	CHECK_EQ(za_compact(za, 0), -EAGAIN);
	CHECK(ev("pgmigrate_fail") > fail0);
	cl.refuse = INT_MIN;
	CHECK_EQ(za_compact(za, 0), -EAGAIN);
	CHECK_EQ(za_check(za, stderr), 0);
	verify_client("refused");

	/* -ENOENT (src freed by the client) is no failure; the rest moves,
	 * and the zone gets its order back. */
	cl.refuse = 0;
	fail0 = ev("pgmigrate_fail");
	mode_enoent_every = 3;
	CHECK_EQ(za_compact(za, 0), 0);
	CHECK(atomic_load(&cl.enoent) > 0);
	CHECK_EQ(ev("pgmigrate_fail"), fail0);
	CHECK_EQ(ev("pgmigrate_success"), atomic_load(&cl.migrated));
	CHECK(free_blocks_from(9) >= 2);
	verify_client("enoent");
	/* A success resets the deferral: the next request compacts. */
	unsigned long s0 = ev("compact_stall");
	struct za_page *p =
	    za_alloc_pages(za, ZA_GFP_MOVABLE | ZA_GFP_NORETRY | ZA_GFP_NOWARN, 9);
	CHECK(p != NULL);
	za_free_pages(za, p, 9);
	(void)s0;
	hp_free_all(&cl, "defer end");
	teardown();
}

static void part_frames(void)
{
	setup(ZA_CFG_NO_KSWAPD | ZA_CFG_NO_KCOMPACTD, false);
	fragment(2);
	CHECK_EQ(free_blocks_from(9), 0);
	CHECK_EQ(za_compact(za, -1), 0);
	CHECK(free_blocks_from(9) >= 2);
	CHECK_EQ(ev("pgmigrate_success"), atomic_load(&cl.migrated));
	verify_client("frames");
	struct za_page *p =
	    za_alloc_pages(za, ZA_GFP_MOVABLE | ZA_GFP_NORETRY | ZA_GFP_NOWARN, 9);
	CHECK(p != NULL);
	CHECK(za_page_address(za, p) == NULL);
	za_free_pages(za, p, 9);
	struct hp_ent e;
	while (hp_remove(&cl, 0, 0, &e))
		za_free_pages(za, e.p, e.order);
	teardown();
}

static atomic_ulong reuse_reports;
static char reuse_msg[512];

static void reuse_error(void *ctx, int err, const char *msg)
{
	(void)ctx;
	(void)err;
	if (atomic_fetch_add(&reuse_reports, 1) == 0)
		snprintf(reuse_msg, sizeof(reuse_msg), "%s", msg);
}

static void part_reuse(void)
{
	setup(ZA_CFG_NO_KSWAPD | ZA_CFG_NO_KCOMPACTD, true);
	fragment(2);
	za_set_error_handler(za, reuse_error, NULL);
	atomic_store(&reuse_reports, 0);
	reuse_msg[0] = 0;
	reuse_pfn = ULONG_MAX;
	mode_reuse = true;
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	unsigned long managed = zi.managed;
	CHECK_EQ(za_compact(za, 0), 0);
	mode_reuse = false;
	CHECK(reuse_pfn != ULONG_MAX);
	struct za_page *src = za_pfn_to_page(za, reuse_pfn);
	printf("reuse: src pfn %#lx handed out again inside the callback (gen "
	       "%u -> %u, %u other blocks first), then moved; %lu moved in "
	       "all, %lu reports\n",
	       reuse_pfn, reuse_gen_in, reuse_gen_out, reuse_extra,
	       atomic_load(&cl.migrated), atomic_load(&reuse_reports));
	CHECK(reuse_gen_out != reuse_gen_in);
	RULE(atomic_load(&reuse_reports) == 0,
	     "compaction claims src with the hand-out count it reads after the "
	     "migrate callback: the callback moved the block that held src "
	     "when it ran (src freed and handed out again inside it), a good "
	     "move, yet its free of src was reported: %s",
	     reuse_msg);
	RULE(page_state(src) != ZA_PS_ALLOC || atomic_load(&cl.owner[reuse_pfn]),
	     "compaction frees src after a good move also when src was handed "
	     "out again inside the migrate callback (pfn %#lx is allocated to "
	     "nobody: lost)",
	     reuse_pfn);
	CHECK_EQ(ev("pgmigrate_success"), atomic_load(&cl.migrated));
	CHECK_EQ(ev("zonealloc_misuse"), 0);
	verify_client("reuse");
	hp_free_all(&cl, "reuse end");
	za_drain_all_pages(za);
	za_vmstat_fold(za);
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	RULE(zi.free == managed,
	     "every page comes back after a move of a block handed out again "
	     "inside the migrate callback (%lu of %lu free)",
	     zi.free, managed);
	za_set_error_handler(za, NULL, NULL);
	teardown();
}

/* Part refused_dst: the callback frees dst, allocates at once (the page
 * comes back off this CPU's list, as a block of the client's with a
 * pattern) and refuses. dst was never the client's, yet the pass must not
 * take it back as a target: it would move another block into the
 * client's new one, or free it at the end of the pass. */
static void part_refused_dst(void)
{
	setup(ZA_CFG_NO_KSWAPD | ZA_CFG_NO_KCOMPACTD, true);
	fragment(2);
	za_set_error_handler(za, reuse_error, NULL);
	atomic_store(&reuse_reports, 0);
	reuse_msg[0] = 0;
	freed_dst_pfn = ULONG_MAX;
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	unsigned long managed = zi.managed;
	mode_free_dst = true;
	CHECK_EQ(za_compact(za, 0), 0);
	mode_free_dst = false;
	CHECK(freed_dst_pfn != ULONG_MAX);
	unsigned long again = za_page_to_pfn(za, freed_dst_again);
	uint32_t code = atomic_load(&cl.owner[again]);
	printf("refused_dst: the callback freed dst pfn %#lx, took pfn %#lx back "
	       "and refused; %lu reports (%s)\n",
	       freed_dst_pfn, again, atomic_load(&reuse_reports), reuse_msg);
	RULE(atomic_load(&reuse_reports) == 1 && strstr(reuse_msg, "refused"),
	     "a dst freed by the migrate callback that refused it is reported "
	     "(%lu reports: %s)",
	     atomic_load(&reuse_reports), reuse_msg);
	RULE(code == freed_dst_code && page_state(freed_dst_again) == ZA_PS_ALLOC,
	     "a dst freed by the migrate callback that refused it is not taken "
	     "back as a target: the client's block at pfn %#lx (owner %u, not "
	     "%u, state %d) was handed out or freed again",
	     again, code, freed_dst_code, page_state(freed_dst_again));
	verify_client("refused_dst");
	hp_free_all(&cl, "refused_dst end");
	za_drain_all_pages(za);
	za_vmstat_fold(za);
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	RULE(zi.free == managed,
	     "every page comes back after a dst freed by a refusing callback "
	     "(%lu of %lu free)",
	     zi.free, managed);
	za_set_error_handler(za, NULL, NULL);
	teardown();
}

/* Part late: the first time compaction has read a src's count and not
 * claimed it, src's old owner frees it through a stale reference (the
 * callback moved the client's block to dst) and the client allocates at
 * once until src comes back, as a new block with a new pattern. */
static bool mode_late;
static struct za_page *late_src;
static unsigned late_order, late_extra;
static atomic_ulong late_reports;
static char late_msg[512];

static void late_error(void *ctx, int err, const char *msg)
{
	(void)ctx;
	(void)err;
	if (atomic_fetch_add(&late_reports, 1) == 0)
		snprintf(late_msg, sizeof(late_msg), "%s", msg);
}

static void late_hook(struct za *z, int point, void *arg)
{
	(void)z;
	if (!mode_late || point != ZA_DP_FREE_GEN || late_src)
		return;
	struct za_page *src = arg, *extra[256], *p;
	unsigned order = page_order(src), nx = 0;
	late_src = src;
	late_order = order;
	za_free_pages(za, src, order);
	while (
	    (p = za_alloc_pages(za,
	                        ZA_GFP_NOWAIT | ZA___GFP_MOVABLE | ZA_GFP_NOWARN,
	                        order)) != src) {
		CHECK(p != NULL);
		CHECK(nx < sizeof(extra) / sizeof(extra[0]));
		extra[nx++] = p;
	}
	hp_keep(za, &cl, 0, src, order, &rng);
	late_extra = nx;
	for (unsigned i = 0; i < nx; i++)
		za_free_pages(za, extra[i], order);
}

static void part_late(void)
{
	if (!za_debug) {
		printf("late: the test hooks are compiled out (ZA_DEBUG=0): "
		       "skipped\n");
		return;
	}
	setup(ZA_CFG_NO_KSWAPD | ZA_CFG_NO_KCOMPACTD | ZA_CFG_POISON |
	          ZA_CFG_PAGE_OWNER,
	      true);
	fragment(2);
	za_set_error_handler(za, late_error, NULL);
	atomic_store(&late_reports, 0);
	late_msg[0] = 0;
	late_src = NULL;
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	unsigned long managed = zi.managed;
	mode_late = true;
	za_store_relaxed(&za->debug_hook, late_hook);
	CHECK_EQ(za_compact(za, 0), 0);
	za_store_relaxed(&za->debug_hook, NULL);
	mode_late = false;
	CHECK(late_src != NULL);
	unsigned long pfn = za_page_to_pfn(za, late_src);
	uint32_t code = atomic_load(&cl.owner[pfn]);
	CHECK(code != 0);
	struct hp_ent *e = &cl.tab[0].e[(code - 1) & ((1u << HP_SLOT_BITS) - 1)];
	CHECK(e->p == late_src);
	printf("late: src pfn %#lx freed and handed out again between the "
	       "count's read and the claim (%u other blocks first); %lu moved "
	       "in all, %lu reports\n",
	       pfn, late_extra, atomic_load(&cl.migrated),
	       atomic_load(&late_reports));
	RULE(hp_verify(za, late_src, late_order, e->seed, "late") == 0,
	     "a racing double free is refused before the debugging aids see "
	     "the block (ARCHITECTURE.md, racing double frees): compaction "
	     "claimed src after it was freed and handed out again, and "
	     "poisoned the new owner's block (pfn %#lx)",
	     pfn);
	RULE(page_state(late_src) == ZA_PS_ALLOC &&
	         page_order(late_src) == late_order,
	     "compaction's claim of a src handed out again leaves it to its "
	     "new owner (pfn %#lx state %d order %u)",
	     pfn, page_state(late_src), page_order(late_src));
	struct za_page_owner_info oi;
	CHECK_EQ(za_page_owner(za, late_src, &oi), 0);
	RULE(oi.allocated == 1 && oi.free_ns == 0,
	     "a racing double free is refused before the debugging aids see "
	     "the block: page owner recorded compaction's refused free of src "
	     "as a free of the new owner's block (pfn %#lx)",
	     pfn);
	RULE(atomic_load(&late_reports) == 1 &&
	         strstr(late_msg, "freed by its owner after the migrate callback"),
	     "the stale free of a moved src is reported once (%lu reports, "
	     "first: %s)",
	     atomic_load(&late_reports), late_msg);
	verify_client("late");
	hp_free_all(&cl, "late end");
	za_drain_all_pages(za);
	za_vmstat_fold(za);
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	RULE(zi.free == managed,
	     "every page comes back after compaction's refused claim (%lu of "
	     "%lu free)",
	     zi.free, managed);
	za_set_error_handler(za, NULL, NULL);
	teardown();
}

static void part_kcompactd(void)
{
	setup(0, true);
	CHECK_EQ(za_sysctl_set(za, "compaction_proactiveness", "0"), 0);
	fragment(2);
	CHECK_EQ(free_blocks_from(9), 0);
	/* A request that may not wait fails (or, if the background threads
	 * are quick, already finds what they made), and wakes kswapd. */
	struct za_page *p = za_alloc_pages(za,
	                                   ZA_GFP_NOWAIT | ZA___GFP_MOVABLE |
	                                       ZA_GFP_NOWARN,
	                                   9);
	/* kswapd wakes kcompactd, which compacts: wait for its work (no
	 * bound on how long it takes, only on a hang). A request that may
	 * not wait only tries the wake's lock and drops the wake when it is
	 * busy (wakeup_kswapd; on a node kswapd gave up on, kcompactd's
	 * lock): the next request wakes again, so ask again every 20 ms
	 * until the daemon has woken (the aarch64 guest once dropped the one
	 * wake and waited 20 s for nothing). */
	for (int i = 0; i < 20000 && !p; i++) {
		hp_sleep_us(1000);
		if (ev("compact_daemon_wake") || i % 20 == 19)
			p = za_alloc_pages(za,
			                   ZA_GFP_NOWAIT | ZA___GFP_MOVABLE |
			                       ZA_GFP_NOWARN,
			                   9);
	}
	/* The block can come free, and be taken here, before the pass that
	 * made it ends: the pass counts what it scanned at its end. Wait for
	 * that count (the CI once read it between the two). */
	for (int i = 0; i < 20000 && p && !ev("compact_daemon_migrate_scanned");
	     i++)
		hp_sleep_us(1000);
	printf("kcompactd: wakes %lu, migrate scanned %lu\n",
	       ev("compact_daemon_wake"), ev("compact_daemon_migrate_scanned"));
	CHECK(p != NULL);
	CHECK(ev("compact_daemon_migrate_scanned") > 0);
	/* The daemon's count first: a pass counts the total before it, so a
	 * pass that ends between the two reads cannot put daemon above. */
	unsigned long daemon_scanned = ev("compact_daemon_migrate_scanned");
	CHECK(daemon_scanned <= ev("compact_migrate_scanned"));
	CHECK_EQ(ev("compact_stall"), 0);
	za_free_pages(za, p, 9);
	hp_free_all(&cl, "kcompactd end");
	teardown();

	/* Proactive: nobody asks, the score falls by itself. */
	setup(0, true);
	CHECK_EQ(za_sysctl_set(za, "compaction_proactiveness", "0"), 0);
	fragment(2);
	int before = za_fragmentation_score(za, 0);
	CHECK(before > 90);
	CHECK_EQ(za_sysctl_set(za, "compaction_proactiveness", "100"), 0);
	int score = before;
	for (int i = 0; i < 20000 && score > 50; i++) {
		hp_sleep_us(1000);
		score = za_fragmentation_score(za, 0);
	}
	printf("proactive: score %d -> %d, daemon wakes %lu\n", before, score,
	       ev("compact_daemon_wake"));
	CHECK(score <= 50);
	CHECK(ev("compact_daemon_wake") > 0);
	CHECK_EQ(ev("compact_stall"), 0);
	CHECK_EQ(za_sysctl_set(za, "compaction_proactiveness", "0"), 0);
	verify_client("proactive");
	hp_free_all(&cl, "proactive end");
	teardown();
}

/* kcompactd's proactive interval (PROACTIVE_INTERVAL_MS, compaction.c)
 * and the bound on "at once": well under the interval, so that a look
 * that comes only when the interval runs out is not taken for one. */
#define INTERVAL_MS 500u
#define AT_ONCE_MS 200u

/* Whether compact_daemon_wake moves past `from` within ms. */
static bool daemon_wakes_within(unsigned long from, unsigned ms)
{
	uint64_t end = hp_now_ns() + (uint64_t)ms * 1000000u;
	while (ev("compact_daemon_wake") == from) {
		if (hp_now_ns() >= end)
			return false;
		hp_sleep_us(1000);
	}
	return true;
}

/* Until the kcompactd pass running after `scanned` was read has ended (a
 * pass counts what it scanned at its end). */
static void wait_pass_end(unsigned long scanned)
{
	for (int i = 0;
	     i < 20000 && ev("compact_daemon_migrate_scanned") == scanned; i++)
		hp_sleep_us(1000);
	CHECK(ev("compact_daemon_migrate_scanned") != scanned);
}

/* A write of compaction_proactiveness makes kcompactd look at the score
 * at once (the kernel's proactive_compact_trigger), however often it
 * comes; without writes it looks every interval. The callback refuses
 * every move, so the score stays high and every look starts a pass
 * (compact_daemon_wake); no boost, so kswapd never wakes kcompactd. */
static void part_proactive_write(void)
{
	setup(0, true);
	/* Every move refused, until the last step. */
	atomic_store(&move_budget, 0);
	CHECK_EQ(za_sysctl_set(za, "compaction_proactiveness", "0"), 0);
	CHECK_EQ(za_sysctl_set(za, "watermark_boost_factor", "0"), 0);
	fragment(2);
	CHECK(za_fragmentation_score(za, 0) > 90);
	/* The timed sleep kcompactd began at za_create (proactiveness 20)
	 * runs out; from then on it sleeps with no timeout. */
	hp_sleep_us((INTERVAL_MS + 100) * 1000);
	unsigned long w = ev("compact_daemon_wake");
	CHECK_EQ(za_sysctl_set(za, "compaction_proactiveness", "100"), 0);
	RULE(daemon_wakes_within(w, AT_ONCE_MS),
	     "proactive: a write of compaction_proactiveness makes kcompactd "
	     "look at the score at once: no pass %u ms after a write of 100 "
	     "(was 0)",
	     AT_ONCE_MS);
	/* A write every 100 ms for 2 s: each one is looked at, although the
	 * interval never runs out between two. */
	for (int i = 0; i < 20; i++) {
		uint64_t next = hp_now_ns() + 100 * 1000000u;
		w = ev("compact_daemon_wake");
		CHECK_EQ(za_sysctl_set(za, "compaction_proactiveness", "100"), 0);
		RULE(daemon_wakes_within(w, AT_ONCE_MS),
		     "proactive: a write of compaction_proactiveness makes "
		     "kcompactd look at the score at once, however often it "
		     "comes: no pass %u ms after write %d of 20, one every 100 ms",
		     AT_ONCE_MS, i + 1);
		uint64_t now = hp_now_ns();
		if (now < next)
			hp_sleep_us((unsigned)((next - now) / 1000));
	}
	/* No more writes: every pass moved nothing (the score stayed), so
	 * the next look waits 64 intervals, as the kernel's kcompactd
	 * defers, instead of walking the zone again every interval. */
	w = ev("compact_daemon_wake");
	unsigned long calls_then = atomic_load(&calls);
	RULE(!daemon_wakes_within(w, 3 * INTERVAL_MS),
	     "proactive: a pass that did not lower the score defers the next "
	     "periodic look (64 intervals): a pass within %u ms without "
	     "writes, the callback called %lu more times",
	     3 * INTERVAL_MS, atomic_load(&calls) - calls_then);
	/* A write still looks at once. */
	unsigned long scanned = ev("compact_daemon_migrate_scanned");
	CHECK_EQ(za_sysctl_set(za, "compaction_proactiveness", "100"), 0);
	RULE(daemon_wakes_within(w, AT_ONCE_MS),
	     "proactive: a write of compaction_proactiveness makes kcompactd "
	     "look at once also while the periodic look is deferred");
	wait_pass_end(scanned);
	CHECK_EQ(ev("pgmigrate_success"), 0);
	/* A pass that makes progress (600 moves: a pageblock and more
	 * emptied, the score lower) brings the plain interval back: without
	 * writes the next pass comes within three. */
	atomic_store(&move_budget, 600);
	w = ev("compact_daemon_wake");
	scanned = ev("compact_daemon_migrate_scanned");
	int score_before = za_fragmentation_score(za, 0);
	CHECK_EQ(za_sysctl_set(za, "compaction_proactiveness", "100"), 0);
	CHECK(daemon_wakes_within(w, AT_ONCE_MS));
	wait_pass_end(scanned);
	CHECK(za_fragmentation_score(za, 0) < score_before);
	atomic_store(&move_budget, 600);
	w = ev("compact_daemon_wake");
	RULE(daemon_wakes_within(w, 3 * INTERVAL_MS),
	     "proactive: kcompactd looks at the score every %u ms after a pass "
	     "that lowered it (%d before): no pass in %u ms without writes",
	     INTERVAL_MS, score_before, 3 * INTERVAL_MS);
	printf("proactive_write: daemon wakes %lu, moved %lu, score %d -> %d\n",
	       ev("compact_daemon_wake"), ev("pgmigrate_success"), score_before,
	       za_fragmentation_score(za, 0));
	atomic_store(&move_budget, -1);
	CHECK_EQ(za_sysctl_set(za, "compaction_proactiveness", "0"), 0);
	verify_client("proactive_write");
	hp_free_all(&cl, "proactive_write end");
	teardown();
}

/* A shrinker that holds kswapd inside it until the test lets it go. */
static atomic_int gate_open, in_gate;
static unsigned long gate_count(void *ctx, int nid)
{
	(void)ctx;
	(void)nid;
	return 1;
}
static unsigned long gate_scan(void *ctx, int nid, unsigned long nr)
{
	(void)ctx;
	(void)nid;
	(void)nr;
	atomic_store(&in_gate, 1);
	while (!atomic_load(&gate_open))
		hp_sleep_us(1000);
	return 0;
}

/* The boost parts' zone: no proactive compaction, a sixteenth of it
 * free in single pages, so that an unmovable request falls back to a
 * movable pageblock without claiming it, and boosts. */
static void boost_setup(unsigned flags)
{
	setup(flags, true);
	CHECK_EQ(za_sysctl_set(za, "compaction_proactiveness", "0"), 0);
	fragment(16);
}

static void part_boost(void)
{
	boost_setup(0);
	struct za_zone_info before, during;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &before), 0);
	struct za_shrinker sh = { gate_count, gate_scan, NULL, NULL };
	atomic_store(&gate_open, 0);
	atomic_store(&in_gate, 0);
	CHECK_EQ(za_register_shrinker(za, &sh), 0);
	/* An unmovable request takes a page of a movable pageblock. */
	struct za_page *um = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NOWARN, 0);
	CHECK(um != NULL);
	CHECK_EQ(pageblock_mt(za, za_page_to_pfn(za, um)), ZA_MT_MOVABLE);
	/* The boost woke kswapd, which reclaims towards the boosted high
	 * mark: it is in the shrinker now, the boost still on. */
	for (int i = 0; i < 20000 && !atomic_load(&in_gate); i++)
		hp_sleep_us(1000);
	CHECK(atomic_load(&in_gate));
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &during), 0);
	unsigned long boost = during.low - before.low;
	printf("boost: low %lu -> %lu, high %lu -> %lu\n", before.low, during.low,
	       before.high, during.high);
	CHECK_EQ(boost, PB); /* one pageblock per fallback, high * 1.5 < PB */
	CHECK_EQ(during.min - before.min, boost);
	CHECK_EQ(during.high - before.high, boost);
	char *zi = capture(ZA_REPORT_ZONEINFO);
	char want[64];
	snprintf(want, sizeof(want), "boost    %lu", boost);
	CHECK(strstr(zi, want) != NULL);
	free(zi);
	/* Let kswapd finish: it drops the boost and wakes kcompactd. */
	atomic_store(&gate_open, 1);
	struct za_zone_info after = during;
	for (int i = 0;
	     i < 20000 && (after.low != before.low || !ev("compact_daemon_wake"));
	     i++) {
		hp_sleep_us(1000);
		CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &after), 0);
	}
	CHECK_EQ(after.low, before.low);
	CHECK(ev("compact_daemon_wake") > 0);
	za_unregister_shrinker(za, &sh);
	/* watermark_boost_factor 0: no boost. */
	CHECK_EQ(za_sysctl_set(za, "watermark_boost_factor", "0"), 0);
	struct za_page *um2[16];
	for (int i = 0; i < 16; i++)
		CHECK((um2[i] = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NOWARN, 0)));
	CHECK_EQ(za_load_relaxed(
	             &za->nodes[0].zones[ZA_ZONE_NORMAL].watermark_boost),
	         0);
	for (int i = 0; i < 16; i++)
		za_free_pages(za, um2[i], 0);
	za_free_pages(za, um, 0);
	hp_free_all(&cl, "boost end");
	teardown();
}

/* A boost's wake that finds kswapd's lock busy is not lost. An atomic
 * request only tries the lock: then boost_wake stays set and the next
 * allocation from the zone tries again (before, the wake was dropped and
 * the zone stayed boosted with no kswapd pass to reclaim towards the
 * marks or take the boost back) - also one that a per-CPU list could
 * serve: the fast paths never look at boost_wake, so fast_ok is clear
 * while it is set and the allocation takes the general path, which
 * delivers the wake. */
static atomic_int busy_held, busy_release;
static void *hold_kswapd_lock(void *arg)
{
	struct za_node *node = arg;
	za_mutex_lock(&node->kswapd_lock);
	atomic_store(&busy_held, 1);
	while (!atomic_load(&busy_release))
		hp_sleep_us(1000);
	za_mutex_unlock(&node->kswapd_lock);
	return NULL;
}

static void part_boost_wake_busy(void)
{
	boost_setup(ZA_CFG_NO_KCOMPACTD);
	struct za_node *node = &za->nodes[0];
	struct za_zone *z = &node->zones[ZA_ZONE_NORMAL];
	/* Another thread holds kswapd's lock, as a waker or kswapd between
	 * passes does. */
	atomic_store(&busy_held, 0);
	atomic_store(&busy_release, 0);
	pthread_t holder;
	CHECK_EQ(pthread_create(&holder, NULL, hold_kswapd_lock, node), 0);
	while (!atomic_load(&busy_held))
		hp_sleep_us(100);
	struct za_page *um = za_alloc_pages(za, ZA_GFP_NOWAIT | ZA_GFP_NOWARN, 0);
	CHECK(um != NULL);
	CHECK(za_load_relaxed(&z->watermark_boost) > 0); /* a fallback boosted */
	RULE(za_load_relaxed(&z->boost_wake) == 1,
	     "a boost's wake that found kswapd's lock busy is tried again by the "
	     "next allocation (boost_wake stays set)");
	atomic_store(&busy_release, 1);
	CHECK_EQ(pthread_join(holder, NULL), 0);
	/* Frees (which deliver nothing) bring the zone well above even its
	 * boosted marks and leave blocks on CPU 0's movable list: the next
	 * movable allocation is one a fast path would serve. */
	hp_free_all(&cl, "boost_wake_busy frees");
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	CHECK(zi.free > 2 * zi.high);
	struct za_pcp *pcp = za_pcp_of(za, z->id, 0);
	CHECK(pcp->lists[pcp_list_index(za, 0, ZA_MT_MOVABLE)] != ZA_NIL);
	CHECK(za_load_relaxed(&z->boost_wake) == 1);
	struct za_page *next = za_alloc_pages(za,
	                                      ZA_GFP_NOWAIT | ZA___GFP_MOVABLE |
	                                          ZA_GFP_NOWARN,
	                                      0);
	CHECK(next != NULL);
	RULE(za_load_relaxed(&z->boost_wake) == 0,
	     "an owed boost's wake is delivered by the next allocation, also one "
	     "a per-CPU list serves (no fast path passes boost_wake by)");
	CHECK(zone_fast_ok(z, ZA_ZONE_NORMAL) ==
	      ((zone_fast_mask(z) & ZONE_FAST_OK_BIT(ZA_ZONE_NORMAL)) != 0));
	za_free_pages(za, next, 0);
	za_free_pages(za, um, 0);
	hp_free_all(&cl, "boost_wake_busy end");
	teardown();
}

/* kswapd takes back only the boosts it saw when its pass began: a boost
 * raised while it finishes a pass stays for the next one (the kernel's
 * balance_pgdat subtracts what it read at its start). The hook stops
 * kswapd after a pass, before it takes the boosts back; the test boosts
 * the zone meanwhile and reads the boost the next pass ends with. */
static atomic_int bal_calls, bal_go;
static _Atomic unsigned long bal_boost_second;
static void balanced_hook(struct za *z, enum za_debug_point dp, void *arg)
{
	(void)z;
	if (dp != ZA_DP_KSWAPD_BALANCED)
		return;
	struct za_node *node = arg;
	int n = atomic_fetch_add(&bal_calls, 1) + 1;
	if (n == 1) {
		while (!atomic_load(&bal_go))
			hp_sleep_us(1000);
	} else if (n == 2) {
		atomic_store(&bal_boost_second,
		             za_load_relaxed(
		                 &node->zones[ZA_ZONE_NORMAL].watermark_boost));
	}
}

static void part_boost_during_pass(void)
{
	if (!za_debug) {
		printf("boost_during_pass: the test hooks are compiled out "
		       "(ZA_DEBUG=0): skipped\n");
		return;
	}
	boost_setup(ZA_CFG_NO_KCOMPACTD);
	struct za_node *node = &za->nodes[0];
	struct za_zone *z = &node->zones[ZA_ZONE_NORMAL];
	/* kswapd quiet, then one pass of its own, stopped at its end. */
	for (int i = 0; i < 20000; i++) {
		za_mutex_lock(&node->kswapd_lock);
		bool idle = !node->kswapd_running && node->kswapd_highest_zoneidx < 0;
		za_mutex_unlock(&node->kswapd_lock);
		if (idle)
			break;
		hp_sleep_us(1000);
	}
	CHECK_EQ(za_load_relaxed(&z->watermark_boost), 0);
	atomic_store(&bal_calls, 0);
	atomic_store(&bal_go, 0);
	atomic_store(&bal_boost_second, ~0ul);
	za_store_relaxed(&za->debug_hook, balanced_hook);
	CHECK(wakeup_kswapd(za, z, 0, ZA_ZONE_NORMAL, true));
	for (int i = 0; i < 20000 && atomic_load(&bal_calls) < 1; i++)
		hp_sleep_us(1000);
	CHECK_EQ(atomic_load(&bal_calls), 1);
	/* The pass is over; a fallback boosts the zone now. */
	struct za_page *um = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NOWARN, 0);
	CHECK(um != NULL);
	unsigned long boost = za_load_relaxed(&z->watermark_boost);
	CHECK(boost > 0);
	atomic_store(&bal_go, 1);
	/* The boost's wake brings kswapd round again. Waited for by the
	 * value the hook stores, not by its call count: the count goes up
	 * first, and a slow machine read the value before it was stored. */
	for (int i = 0; i < 20000 && atomic_load(&bal_boost_second) == ~0ul; i++)
		hp_sleep_us(1000);
	CHECK(atomic_load(&bal_calls) >= 2);
	printf("boost_during_pass: boost %lu raised after a pass, %lu when the "
	       "next pass ended\n",
	       boost, atomic_load(&bal_boost_second));
	RULE(atomic_load(&bal_boost_second) == boost,
	     "a boost raised while kswapd finishes a pass is not taken back by "
	     "that pass (kswapd reclaims towards it in the next one)");
	za_store_relaxed(&za->debug_hook, NULL);
	za_free_pages(za, um, 0);
	hp_free_all(&cl, "boost_during_pass end");
	teardown();
}

static void part_badinput(void)
{
	setup(ZA_CFG_NO_KSWAPD | ZA_CFG_NO_KCOMPACTD, true);
	CHECK_EQ(za_compact(NULL, 0), -EINVAL);
	CHECK_EQ(za_compact(za, 1), -EINVAL);
	CHECK_EQ(za_compact(za, -2), -EINVAL);
	CHECK_EQ(za_fragmentation_score(za, 1), -EINVAL);
	CHECK_EQ(za_fragmentation_score(NULL, 0), -EINVAL);
	/* Nothing in use: nothing to move. */
	CHECK_EQ(za_compact(za, 0), -EAGAIN);
	char buf[64];
	CHECK_EQ(za_sysctl_get(za, "compaction_proactiveness", buf, sizeof(buf)),
	         0);
	CHECK_EQ(za_sysctl_set(za, "compaction_proactiveness", "101"), -ERANGE);
	CHECK_EQ(za_sysctl_set(za, "extfrag_threshold", "1001"), -ERANGE);
	char buf2[64];
	CHECK_EQ(za_sysctl_get(za, "compaction_proactiveness", buf2, sizeof(buf2)),
	         0);
	CHECK(strcmp(buf, buf2) == 0);
	CHECK_EQ(za_report(za, ZA_REPORT_PAGE_OWNER_SUMMARY + 1, stdout), -EINVAL);
	teardown();
}

/* A memory-hotplug operation (here za_check, which takes the
 * memory-hotplug lock) waits on compact_idle for the passes running to
 * end: the last pass out must wake it, or it waits for good. */
static atomic_int exclude_done;
static void *exclude_checker(void *arg)
{
	(void)arg;
	FILE *f = fopen("/dev/null", "w");
	CHECK(f);
	CHECK_EQ(za_check(za, f), 0);
	fclose(f);
	atomic_store(&exclude_done, 1);
	return NULL;
}

static void *exclude_compactor(void *arg)
{
	(void)arg;
	za_compact(za, 0);
	return NULL;
}

static void part_exclude_wake(void)
{
	setup(ZA_CFG_NO_KSWAPD | ZA_CFG_NO_KCOMPACTD, true);
	CHECK(fragment(2) > ZPAGES / 3);
	atomic_store(&gate_entered, 0);
	atomic_store(&gate_open, 0);
	atomic_store(&exclude_done, 0);
	atomic_store(&gate_mode, 1);
	pthread_t ct, kt;
	CHECK_EQ(pthread_create(&ct, NULL, exclude_compactor, NULL), 0);
	/* The pass is inside its first migrate callback. */
	for (int i = 0; i < 10000 && !atomic_load(&gate_entered); i++)
		usleep(1000);
	CHECK(atomic_load(&gate_entered));
	CHECK_EQ(pthread_create(&kt, NULL, exclude_checker, NULL), 0);
	/* za_check waits for the pass. */
	for (int i = 0; i < 10000 && !za_load_relaxed(&za->compact_excluded); i++)
		usleep(1000);
	CHECK(za_load_relaxed(&za->compact_excluded));
	usleep(20000);
	CHECK(!atomic_load(&exclude_done));
	atomic_store(&calls_excluded, 0);
	atomic_store(&gate_open, 1);
	/* The pass stops after the block it is moving: za_check must get
	 * through promptly, before the pass's next callback. */
	for (int i = 0; i < 5000 && !atomic_load(&exclude_done); i++)
		usleep(1000);
	if (!atomic_load(&exclude_done)) {
		fprintf(stderr, "za_check still waits for a compaction pass that "
		                "ended (compact_idle not woken)\n");
		exit(1);
	}
	CHECK_EQ(pthread_join(kt, NULL), 0);
	printf("exclude_wake: %lu migrate calls while za_check waited\n",
	       atomic_load(&calls_excluded));
	RULE(atomic_load(&calls_excluded) == 0,
	     "a compaction pass stops after the block it is moving when a "
	     "memory-hotplug operation waits for it: %lu more migrate "
	     "callbacks while za_check waited",
	     atomic_load(&calls_excluded));
	/* za_compact goes on with the zone once za_check is done, and ends:
	 * one whole pass, as without za_check. */
	CHECK_EQ(pthread_join(ct, NULL), 0);
	za_drain_all_pages(za);
	RULE(free_blocks_from(9) > 0,
	     "za_compact whose pass a memory-hotplug operation stopped goes on "
	     "with the zone once the operation is over: no order-9 block free "
	     "after it (%lu moves)",
	     atomic_load(&cl.migrated));
	atomic_store(&gate_mode, 0);
	verify_client("after the excluded pass");
	hp_free_all(&cl, "exclude_wake end");
	teardown();
}

int main(int argc, char **argv)
{
	hp_mode(argc, argv, "compaction", NCPU);
	tu_watchdog(240);
	/* One part only (debugging): ZA_TEST_PART=name. */
	const char *only = getenv("ZA_TEST_PART");
#define PART(name)                                                            \
	if (!only || !strcmp(only, #name)) {                                      \
		printf("-- %s\n", #name);                                             \
		part_##name();                                                        \
	}
	PART(explicit)
	PART(direct)
	PART(cache)
	PART(unmovable)
	PART(defer)
	PART(frames)
	PART(reuse)
	PART(refused_dst)
	PART(late)
	PART(kcompactd)
	PART(proactive_write)
	PART(boost)
	PART(boost_wake_busy)
	PART(boost_during_pass)
	PART(badinput)
	PART(exclude_wake)
	printf("compaction: ok\n");
	return 0;
}
