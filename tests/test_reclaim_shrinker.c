/*
 * test_reclaim_shrinker.c - direct reclaim through a client's shrinker, the
 * OOM handler, and what each gfp mode may and may not do under pressure.
 *
 * One NORMAL zone of 16 blocks (16384 pages), two simulated CPUs. The main
 * part runs with kswapd and the vmstat worker off, so the only thread in
 * the library is the test's own: every shrinker and OOM call comes from an
 * allocation, and a lock found taken inside a callback can only be held by
 * the caller (checked in every build, besides the witness in debug builds).
 *
 *  1. ZA_GFP_KERNEL, four times the memory size, nine pages in ten put into
 *     the cache: every allocation succeeds, the OOM handler is not called.
 *  2. ZA_GFP_ATOMIC and ZA_GFP_NOWAIT down to their floors: NULL in the
 *     end, and never a shrinker or OOM call from them.
 *  3. A KERNEL allocation with the zone at the atomic floor and the cache
 *     full: succeeds, without the OOM handler (a known library gap today).
 *  4. KERNEL until NULL: the first NULL comes with the cache empty, after
 *     the OOM handler was called, and every OOM call found the cache empty.
 *  5. ZA_GFP_NORETRY: NULL without an OOM call when the cache is empty;
 *     success after one round of reclaim when it is not.
 *  6. ZA_GFP_NOFAIL: never NULL - with KERNEL, the OOM handler frees pages
 *     on its third call; with NOWAIT, another thread frees pages later
 *     (enough to lift the zone over min), and NOWAIT still calls nothing.
 *  7. With kswapd on: ATOMIC and NOWAIT allocations under pressure while
 *     kswapd runs the same shrinker: the shrinker is called, never from
 *     the allocating thread.
 *  8. KERNEL | NOFAIL | NORETRY: NOFAIL wins (never NULL; a known library
 *     gap today).
 *  9. The high-order atomic reserve goes back before the OOM handler runs,
 *     in every build (rules_highatomic_before_oom opens no window here and
 *     runs in debug builds only): an order-1 ATOMIC allocation in a zone
 *     under min reserves its pageblock; KERNEL allocations until NULL call
 *     the handler, and no page is reserved at any of its calls.
 * 10. The reserve also goes back after a reclaim round, unforced: with
 *     the zone under min by less than a pageblock and a shrinker that
 *     frees one page a call, a KERNEL allocation (and a KERNEL | NORETRY
 *     one) with two pageblocks reserved succeeds after one reclaim round,
 *     one pageblock still reserved, without the OOM handler; with one
 *     pageblock reserved, that one stays through the rounds of reclaim
 *     and only the forced give-back before the OOM handler frees it (the
 *     allocation succeeds then, the handler still not called).
 * Checks on known library gaps use EXPECT: they fail the test but let the
 * parts after them run.
 */
#include "test_reclaim_common.c"

#define BLK 1024UL
#define NBLK 16UL
#define MANAGED (NBLK * BLK)

struct oom {
	struct za *za;
	struct cache *cache;
	struct pinned *pinned;
	unsigned free_every; /* free pinned pages on every n-th call; 0: never */
	unsigned long free_nr;
	atomic_ulong calls, calls_cache_nonempty, calls_forbidden, freed;
};

static unsigned long oom_cb(void *ctx, int nid, unsigned order)
{
	struct oom *o = ctx;
	(void)nid;
	(void)order;
	check_no_allocator_lock(o->za, o->cache->alone);
	unsigned long n = atomic_fetch_add(&o->calls, 1) + 1;
	if (tl_no_callbacks)
		atomic_fetch_add(&o->calls_forbidden, 1);
	if (cache_size(o->cache))
		atomic_fetch_add(&o->calls_cache_nonempty, 1);
	unsigned long freed = 0;
	if (o->free_every && n % o->free_every == 0)
		freed = pinned_free(o->za, o->pinned, o->free_nr);
	atomic_fetch_add(&o->freed, freed);
	return freed;
}

static struct za *make(unsigned flags)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = 2;
	cfg.cpu_id = sim_cpu;
	cfg.block_pages = BLK;
	cfg.max_pfn = (NBLK + 1) * BLK;
	cfg.flags = flags;
	cfg.vmstat_interval_ms = 20;
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, MANAGED, NULL), 0);
	return za;
}

static struct za_page *alloc_flagged(struct za *za, za_gfp_t gfp)
{
	tl_no_callbacks = 1;
	struct za_page *p = za_alloc_pages(za, gfp, 0);
	tl_no_callbacks = 0;
	return p;
}

/* Everything an allocation could still find without reclaim or OOM: the
 * per-CPU lists (drained, statistics folded so the counter is exact), then
 * the atomic reserve, taken with no CPU (straight from the buddy lists, so
 * that no refill leaves pages on a per-CPU list). */
static void use_up_reserves(struct za *za, struct pinned *pinned)
{
	struct za_page *p;
	int cpu = tl_cpu;
	za_drain_all_pages(za);
	za_vmstat_fold(za);
	tl_cpu = -1;
	while ((p = za_alloc_pages(za, ZA_GFP_ATOMIC, 0)))
		pinned_add(pinned, p);
	tl_cpu = cpu;
}

/* --- 6: NOFAIL with another thread freeing ------------------------------------ */

struct late_free {
	struct za *za;
	struct pinned *pinned;
	unsigned delay_ms;
	unsigned long nr;
};

static void *late_free_thread(void *arg)
{
	struct late_free *lf = arg;
	tl_cpu = 1;
	sleep_ms(lf->delay_ms);
	pinned_free(lf->za, lf->pinned, lf->nr);
	/* Pages freed on a per-CPU list are not free to the watermark check:
	 * hand them to the buddy lists as a client would by idling. */
	za_drain_local_pages(lf->za);
	return NULL;
}

static void part_main(void)
{
	struct za *za = make(ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER);
	struct cache cache;
	struct za_shrinker shr;
	struct pinned pinned;
	struct oom oom;
	cache_init(&cache, za, MANAGED);
	cache.alone = true;
	cache_shrinker(&shr, &cache);
	pinned_init(&pinned, MANAGED);
	memset(&oom, 0, sizeof(oom));
	oom.za = za;
	oom.cache = &cache;
	oom.pinned = &pinned;
	CHECK_EQ(za_register_shrinker(za, &shr), 0);
	CHECK_EQ(za_register_shrinker(za, &shr), -EEXIST);
	za_set_oom_handler(za, oom_cb, &oom);
	struct za_zone_info zi = zone_info(za, ZA_ZONE_NORMAL);
	CHECK_EQ(zi.managed, MANAGED);
	printf("zone: managed %lu min %lu low %lu high %lu\n", zi.managed, zi.min,
	       zi.low, zi.high);

	/* 1: far past the memory size, most of it into the cache. */
	unsigned long total = 4 * MANAGED;
	for (unsigned long i = 0; i < total; i++) {
		struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
		if (!p) {
			fprintf(stderr,
			        "KERNEL allocation %lu of %lu failed: cache %lu "
			        "pinned %lu oom calls %lu\n",
			        i, total, cache_size(&cache), pinned.n,
			        (unsigned long)atomic_load(&oom.calls));
			CHECK(p != NULL);
		}
		if (i % 10 == 0)
			pinned_add(&pinned, p);
		else
			cache_add(&cache, p);
	}
	CHECK_EQ(atomic_load(&oom.calls), 0);
	CHECK(atomic_load(&cache.scan_calls) > 0);
	CHECK(za_event_count(za, ZA_ALLOCSTALL) > 0);
	CHECK_EQ(za_event_count(za, ZA_PGSTEAL_DIRECT),
	         atomic_load(&cache.scan_freed));
	CHECK_EQ(cache_size(&cache) + pinned.n + atomic_load(&cache.scan_freed),
	         total);
	CHECK_EQ(za_check(za, stderr), 0);
	printf("1: %lu KERNEL allocations (%.1fx memory): %lu scan calls freed "
	       "%lu pages, allocstall %llu, oom 0\n",
	       total, (double)total / MANAGED,
	       (unsigned long)atomic_load(&cache.scan_calls),
	       (unsigned long)atomic_load(&cache.scan_freed),
	       za_event_count(za, ZA_ALLOCSTALL));

	/* 2: NOWAIT, then ATOMIC, to their floors: no callbacks. */
	unsigned long scans = atomic_load(&cache.scan_calls);
	unsigned long nowait = 0, atomic_n = 0;
	struct za_page *p;
	while ((p = alloc_flagged(za, ZA_GFP_NOWAIT)) != NULL) {
		pinned_add(&pinned, p);
		nowait++;
	}
	CHECK_EQ(errno, ENOMEM);
	unsigned long after_nowait = zone_info(za, ZA_ZONE_NORMAL).free;
	while ((p = alloc_flagged(za, ZA_GFP_ATOMIC)) != NULL) {
		pinned_add(&pinned, p);
		atomic_n++;
	}
	zi = zone_info(za, ZA_ZONE_NORMAL);
	printf("2: NOWAIT %lu pages (free then %lu), ATOMIC %lu more (free now "
	       "%lu, min %lu); cache %lu\n",
	       nowait, after_nowait, atomic_n, zi.free, zi.min,
	       cache_size(&cache));
	CHECK(atomic_n > 0);
	CHECK(zi.free < zi.min);
	CHECK_EQ(atomic_load(&cache.scan_calls), scans);
	CHECK_EQ(atomic_load(&cache.scan_calls_forbidden), 0);
	CHECK_EQ(atomic_load(&cache.count_calls_forbidden), 0);
	CHECK_EQ(atomic_load(&oom.calls), 0);
	CHECK(cache_size(&cache) > 0);

	/* 3: KERNEL at the atomic floor with a full cache: reclaim, not OOM.
	 * It takes several reclaim rounds to lift the zone from the atomic
	 * floor over min, and each round's pages land on this CPU's list (its
	 * high grew to high_max in part 1). Fails today: the slow path drains
	 * only after the first round (docs/RECLAIM.md section 1), so the
	 * later rounds' pages stay invisible to the watermark check, the OOM
	 * handler runs with the cache full, and the allocation fails. */
	struct za_pcp_info pi = pcp_info(za, 0, ZA_ZONE_NORMAL);
	printf("3: cpu0 pcp count %u high %u batch %u before KERNEL at the "
	       "atomic floor\n",
	       pi.count, pi.high, pi.batch);
	unsigned long cached_before = cache_size(&cache);
	p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	zi = zone_info(za, ZA_ZONE_NORMAL);
	pi = pcp_info(za, 0, ZA_ZONE_NORMAL);
	printf("3: KERNEL -> %s; oom calls %lu; cache %lu -> %lu; free %lu; "
	       "cpu0 pcp count %u\n",
	       p ? "page" : "NULL", (unsigned long)atomic_load(&oom.calls),
	       cached_before, cache_size(&cache), zi.free, pi.count);
	EXPECT(p != NULL);
	EXPECT(atomic_load(&oom.calls) == 0);
	if (p)
		pinned_add(&pinned, p);
	atomic_store(&oom.calls, 0);
	atomic_store(&oom.calls_cache_nonempty, 0);

	/* 4: KERNEL until NULL: only once the cache is empty, after OOM. */
	unsigned long got = 0;
	for (;;) {
		unsigned long cached = cache_size(&cache);
		p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
		if (!p) {
			CHECK_EQ(errno, ENOMEM);
			CHECK_EQ(cached, 0);
			break;
		}
		pinned_add(&pinned, p);
		got++;
		CHECK(got <= MANAGED);
	}
	printf("4: KERNEL %lu more pages, then NULL with the cache empty; oom "
	       "calls %lu\n",
	       got, (unsigned long)atomic_load(&oom.calls));
	CHECK(atomic_load(&oom.calls) >= 1);
	CHECK_EQ(atomic_load(&oom.calls_cache_nonempty), 0);
	CHECK_EQ(cache_size(&cache), 0);
	CHECK_EQ(za_check(za, stderr), 0);

	/* 5: NORETRY: NULL and no OOM with nothing to reclaim. (za_check
	 * folded the statistics: the last few pages the drifted counter hid
	 * are visible again, so allocate until NULL.) */
	unsigned long ooms = atomic_load(&oom.calls);
	scans = atomic_load(&cache.scan_calls);
	got = 0;
	while ((p = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NORETRY, 0))) {
		pinned_add(&pinned, p);
		CHECK(++got <= 64);
	}
	CHECK_EQ(errno, ENOMEM);
	CHECK_EQ(atomic_load(&oom.calls), ooms);
	/* ... and one reclaim round, then success, when there is. */
	for (int i = 0; i < 64; i++) {
		CHECK(pinned.n > 0);
		cache_add(&cache, pinned.pages[--pinned.n]);
	}
	p = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NORETRY, 0);
	CHECK(p != NULL);
	CHECK_EQ(atomic_load(&oom.calls), ooms);
	CHECK(atomic_load(&cache.scan_calls) > scans);
	pinned_add(&pinned, p);
	/* Use up what that reclaim gave back; the cache goes empty again. */
	while ((p = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NORETRY, 0)))
		pinned_add(&pinned, p);
	CHECK_EQ(cache_size(&cache), 0);
	CHECK_EQ(atomic_load(&oom.calls), ooms);
	printf("5: NORETRY: NULL without OOM when nothing to reclaim, success "
	       "after reclaim when the cache had pages\n");

	/* 6a: NOFAIL, KERNEL: the OOM handler frees 16 pages on its 3rd call.
	 * Per-CPU lists and reserves first, so that NOFAIL cannot just take
	 * from them. */
	use_up_reserves(za, &pinned);
	ooms = atomic_load(&oom.calls);
	atomic_store(&oom.calls, 0);
	oom.free_nr = 16;
	oom.free_every = 3;
	p = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NOFAIL, 0);
	CHECK(p != NULL);
	CHECK(atomic_load(&oom.calls) >= 3);
	CHECK(atomic_load(&oom.freed) >= 16);
	printf("6: KERNEL|NOFAIL: page after %lu OOM calls (the 3rd freed 16)\n",
	       (unsigned long)atomic_load(&oom.calls));
	pinned_add(&pinned, p);
	oom.free_every = 0;
	use_up_reserves(za, &pinned);

	/* 6b: NOFAIL, NOWAIT: another thread frees, after 50 ms, enough pages
	 * to bring the zone back over min (where NOWAIT may allocate). */
	zi = zone_info(za, ZA_ZONE_NORMAL);
	CHECK(zi.free < zi.min);
	struct late_free lf = { za, &pinned, 50, zi.min - zi.free + 32 };
	pthread_t th;
	unsigned long pinned_before = pinned.n;
	ooms = atomic_load(&oom.calls);
	scans = atomic_load(&cache.scan_calls);
	cache.alone = false; /* the freeing thread is in the library too */
	CHECK_EQ(pthread_create(&th, NULL, late_free_thread, &lf), 0);
	p = alloc_flagged(za, ZA_GFP_NOWAIT | ZA_GFP_NOFAIL);
	CHECK_EQ(pthread_join(th, NULL), 0);
	cache.alone = true;
	CHECK(p != NULL);
	CHECK_EQ(pinned.n, pinned_before - lf.nr);
	CHECK_EQ(atomic_load(&oom.calls), ooms);
	CHECK_EQ(atomic_load(&cache.scan_calls), scans);
	pinned_add(&pinned, p);
	printf("6: NOWAIT|NOFAIL: page once another thread freed, no callbacks\n");
	CHECK_EQ(atomic_load(&lock_violations), 0);
	CHECK_EQ(za_check(za, stderr), 0);

	/* 8: NOFAIL | NORETRY: NOFAIL must win (the OOM handler frees on its
	 * 3rd call, as in 6a), as in the kernel. Fails today: the NORETRY exit
	 * in alloc_slowpath comes before any NOFAIL handling. */
	use_up_reserves(za, &pinned);
	atomic_store(&oom.calls, 0);
	oom.free_every = 3;
	p = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NOFAIL | ZA_GFP_NORETRY, 0);
	printf("8: KERNEL|NOFAIL|NORETRY -> %s after %lu OOM calls\n",
	       p ? "page" : "NULL", (unsigned long)atomic_load(&oom.calls));
	EXPECT(p != NULL);
	if (p)
		pinned_add(&pinned, p);

	CHECK_EQ(atomic_load(&lock_violations), 0);
	za_unregister_shrinker(za, &shr);
	pinned_free(za, &pinned, pinned.n);
	cache_free_all(&cache);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	cache_fini(&cache);
	free(pinned.pages);
}

/* 7: kswapd on. The allocating thread flags itself; kswapd does not. */
static void part_kswapd(void)
{
	struct za *za = make(0);
	struct cache cache;
	struct za_shrinker shr;
	struct pinned pinned;
	struct oom oom;
	cache_init(&cache, za, 4 * MANAGED);
	cache_shrinker(&shr, &cache);
	pinned_init(&pinned, MANAGED);
	memset(&oom, 0, sizeof(oom));
	oom.za = za;
	oom.cache = &cache;
	oom.pinned = &pinned;
	CHECK_EQ(za_register_shrinker(za, &shr), 0);
	za_set_oom_handler(za, oom_cb, &oom);

	/* Past the memory size whatever the scale: kswapd must have work. */
	unsigned long attempts = MANAGED + (unsigned long)tu_scale(2 * MANAGED),
	              ok = 0, fails = 0;
	for (unsigned long i = 0; i < attempts; i++) {
		za_gfp_t gfp = (i & 1) ? ZA_GFP_ATOMIC : ZA_GFP_NOWAIT;
		struct za_page *p = alloc_flagged(za, gfp);
		if (p) {
			ok++;
			if (i % 16 == 0)
				pinned_add(&pinned, p);
			else
				cache_add(&cache, p);
		} else {
			fails++;
			sleep_ms(1); /* let kswapd catch up */
		}
	}
	/* Let kswapd finish what it is doing before counting. */
	for (int i = 0; i < 200 && atomic_load(&cache.in_scan); i++)
		sleep_ms(5);
	printf("7: ATOMIC/NOWAIT with kswapd: %lu ok, %lu NULL; kswapd scan "
	       "calls %lu freed %lu; from the allocating thread %lu\n",
	       ok, fails, (unsigned long)atomic_load(&cache.scan_calls_other),
	       (unsigned long)atomic_load(&cache.scan_freed_other),
	       (unsigned long)atomic_load(&cache.scan_calls_forbidden));
	CHECK(atomic_load(&cache.scan_calls_other) > 0);
	CHECK(za_event_count(za, ZA_KSWAPD_WAKE) > 0);
	CHECK_EQ(atomic_load(&cache.scan_calls_forbidden), 0);
	CHECK_EQ(atomic_load(&cache.count_calls_forbidden), 0);
	CHECK_EQ(atomic_load(&cache.scan_calls_main), 0);
	CHECK_EQ(atomic_load(&oom.calls), 0);
	CHECK_EQ(za_event_count(za, ZA_ALLOCSTALL), 0);
	CHECK(ok > MANAGED);
	CHECK_EQ(atomic_load(&lock_violations), 0);

	za_unregister_shrinker(za, &shr);
	pinned_free(za, &pinned, pinned.n);
	cache_free_all(&cache);
	za_destroy(za);
	cache_fini(&cache);
	free(pinned.pages);
}

/* --- 9 --------------------------------------------------------------------------- */

static struct {
	struct za_zone *zone;
	unsigned calls;
	unsigned long worst_reserved;
} ha;

static unsigned long ha_oom(void *ctx, int nid, unsigned order)
{
	(void)ctx;
	(void)nid;
	(void)order;
	unsigned long r = za_load_relaxed(&ha.zone->nr_reserved_highatomic);
	ha.calls++;
	if (r > ha.worst_reserved)
		ha.worst_reserved = r;
	return 0;
}

static void part_highatomic_before_oom(void)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = 2;
	cfg.cpu_id = sim_cpu;
	cfg.block_pages = BLK;
	cfg.max_pfn = BLK;
	/* The whole zone under min: only atomic requests (which reserve a
	 * pageblock when they reach the slow path) get pages. */
	cfg.min_free_kbytes = 4096;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, BLK, NULL), 0);
	memset(&ha, 0, sizeof(ha));
	ha.zone = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	za_set_oom_handler(za, ha_oom, NULL);
	struct za_page *p = za_alloc_pages(za, ZA_GFP_ATOMIC, 1);
	CHECK(p != NULL);
	za_free_pages(za, p, 1);
	unsigned long reserved = za_load_relaxed(&ha.zone->nr_reserved_highatomic);
	CHECK(reserved > 0);
	struct pinned held;
	pinned_init(&held, BLK);
	while (held.n < BLK &&
	       (p = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NOWARN, 0)))
		pinned_add(&held, p);
	printf("9: %lu pages reserved for high-order atomic requests; %lu "
	       "KERNEL pages until NULL, %u OOM calls, at most %lu pages "
	       "reserved at one\n",
	       reserved, held.n, ha.calls, ha.worst_reserved);
	CHECK(ha.calls > 0);
	RULE(ha.worst_reserved == 0,
	     "slow path (give the high-order atomic reserve back before OOM): "
	     "the OOM handler was called while %lu pages stayed reserved for "
	     "high-order atomic requests",
	     ha.worst_reserved);
	pinned_free(za, &held, held.n);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	free(held.pages);
}

/* --- 10 -------------------------------------------------------------------------- */

#define UR_PB_ORDER 6 /* 64-page pageblocks: 1% of the zone plus one is two */
#define UR_PB (1UL << UR_PB_ORDER)
#define UR_BLOCKS 8UL
#define UR_GAP 32UL   /* pages under min: more than 16 rounds free, < UR_PB */
#define UR_TRICKLE 64 /* pages behind the shrinker */

static struct {
	struct za *za;
	struct za_zone *zone;
	struct pinned trickle;
	unsigned scans;
	unsigned long reserved_at_last_scan;
} ur;

static unsigned long ur_count(void *ctx, int nid)
{
	(void)ctx;
	(void)nid;
	return ur.trickle.n;
}

/* Frees one page a call, whatever it is asked for: progress, never
 * enough to lift the zone over min on its own. */
static unsigned long ur_scan(void *ctx, int nid, unsigned long nr)
{
	(void)ctx;
	(void)nid;
	(void)nr;
	ur.scans++;
	ur.reserved_at_last_scan = za_load_relaxed(
	    &ur.zone->nr_reserved_highatomic);
	return pinned_free(ur.za, &ur.trickle, 1);
}

/* One allocation in a zone kept UR_GAP pages under min (for KERNEL, with
 * the reserve not counted), with `pbs` pageblocks reserved: whether it
 * got a page (freed again here); ur holds what the shrinker saw, ha what
 * the OOM handler saw (part 9's). */
static bool ur_run(unsigned pbs, za_gfp_t gfp, unsigned long *reserved_after)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = 2;
	cfg.cpu_id = sim_cpu;
	cfg.block_pages = BLK;
	cfg.max_pfn = (UR_BLOCKS + 1) * BLK;
	cfg.pageblock_order = UR_PB_ORDER;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, UR_BLOCKS * BLK, NULL),
	         0);
	memset(&ur, 0, sizeof(ur));
	ur.za = za;
	ur.zone = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	memset(&ha, 0, sizeof(ha));
	ha.zone = ur.zone;
	pinned_init(&ur.trickle, UR_TRICKLE);
	struct pinned held, atomic;
	pinned_init(&held, UR_BLOCKS * BLK);
	pinned_init(&atomic, UR_BLOCKS * BLK);
	struct za_page *p;
	/* No CPU while setting up: straight to and from the buddy lists, the
	 * counters exact. Down to min, the shrinker's pages first. */
	tl_cpu = -1;
	while ((p = za_alloc_pages(za, ZA_GFP_NOWAIT | ZA_GFP_NOWARN, 0))) {
		if (ur.trickle.n < UR_TRICKLE)
			pinned_add(&ur.trickle, p);
		else
			pinned_add(&held, p);
	}
	CHECK_EQ(ur.trickle.n, UR_TRICKLE);
	/* Order-1 ATOMIC allocations under low reserve the pageblock they
	 * come from; once its free pages are used up, the next one. */
	for (int i = 0;
	     i < 4096 &&
	     za_load_relaxed(&ur.zone->nr_reserved_highatomic) < pbs * UR_PB;
	     i++) {
		p = za_alloc_pages(za, ZA_GFP_ATOMIC | ZA_GFP_NOWARN, 1);
		CHECK(p != NULL);
		pinned_add(&atomic, p);
	}
	CHECK_EQ(za_load_relaxed(&ur.zone->nr_reserved_highatomic), pbs * UR_PB);
	while (atomic.n)
		za_free_pages(za, atomic.pages[--atomic.n], 1);
	/* Room again, then down to min as counted with the reserve left
	 * out, then UR_GAP pages below it (__GFP_HIGH, no reserve access). */
	pinned_free(za, &held, 2 * UR_PB * pbs + UR_GAP);
	while ((p = za_alloc_pages(za, ZA_GFP_NOWAIT | ZA_GFP_NOWARN, 0)))
		pinned_add(&held, p);
	for (unsigned long i = 0; i < UR_GAP; i++) {
		p = za_alloc_pages(za, ZA___GFP_HIGH | ZA_GFP_NOWARN, 0);
		CHECK(p != NULL);
		pinned_add(&held, p);
	}
	tl_cpu = 0;

	struct za_shrinker shr = { .count = ur_count, .scan = ur_scan };
	CHECK_EQ(za_register_shrinker(za, &shr), 0);
	za_set_oom_handler(za, ha_oom, NULL);
	p = za_alloc_pages(za, gfp | ZA_GFP_NOWARN, 0);
	*reserved_after = za_load_relaxed(&ur.zone->nr_reserved_highatomic);
	bool ok = p != NULL;
	if (p)
		za_free_pages(za, p, 0);
	za_unregister_shrinker(za, &shr);
	tl_cpu = -1;
	pinned_free(za, &held, held.n);
	pinned_free(za, &ur.trickle, ur.trickle.n);
	tl_cpu = 0;
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	free(held.pages);
	free(atomic.pages);
	free(ur.trickle.pages);
	return ok;
}

static void part_highatomic_after_reclaim(void)
{
	static const struct {
		za_gfp_t gfp;
		const char *name;
	} modes[] = { { ZA_GFP_KERNEL, "KERNEL" },
		          { ZA_GFP_KERNEL | ZA_GFP_NORETRY, "KERNEL|NORETRY" } };
	unsigned long after;
	for (unsigned m = 0; m < 2; m++) {
		bool ok = ur_run(2, modes[m].gfp, &after);
		printf("10: %s, 2 pageblocks reserved: %s after %u reclaim "
		       "rounds, %u OOM calls, %lu pages reserved after\n",
		       modes[m].name, ok ? "page" : "NULL", ur.scans, ha.calls, after);
		RULE(ok && ur.scans == 1 && after == UR_PB,
		     "slow path (after a reclaim round that freed something but "
		     "found no page, a reserved high-order atomic pageblock goes "
		     "back, one stays): %s with two pageblocks reserved got %s "
		     "after %u rounds, %lu pages reserved after (want a page "
		     "after 1 round, %lu reserved)",
		     modes[m].name, ok ? "a page" : "NULL", ur.scans, after, UR_PB);
		CHECK_EQ(ha.calls, 0);
	}

	bool ok = ur_run(1, ZA_GFP_KERNEL, &after);
	printf("10: KERNEL, 1 pageblock reserved: %s after %u reclaim rounds "
	       "(%lu pages reserved at the last), %u OOM calls, %lu pages "
	       "reserved after\n",
	       ok ? "page" : "NULL", ur.scans, ur.reserved_at_last_scan, ha.calls,
	       after);
	RULE(ur.scans > 1 && ur.reserved_at_last_scan == UR_PB,
	     "slow path (the unforced give-back leaves a zone its last "
	     "reserved pageblock): %u reclaim rounds, %lu pages reserved at "
	     "the last (want more than 1 round, %lu reserved)",
	     ur.scans, ur.reserved_at_last_scan, UR_PB);
	RULE(ok && after == 0 && ha.calls == 0,
	     "slow path (give the high-order atomic reserve back before OOM): "
	     "with one pageblock reserved, %s, %lu pages reserved after, %u "
	     "OOM calls",
	     ok ? "a page" : "NULL", after, ha.calls);
}

int main(void)
{
	tu_watchdog(120);
	tl_is_main = 1;
	tl_cpu = 0;
	part_kswapd();
	part_main();
	part_highatomic_before_oom();
	part_highatomic_after_reclaim();
	return expect_failures("reclaim_shrinker");
}
