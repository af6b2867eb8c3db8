/*
 * test_compaction_race.c - compaction racing everything else.
 *
 * Node 0: ZONE_NORMAL (4 blocks of 1024 pages) and ZONE_MOVABLE (blocks A
 * and B), backed, so every move is checked by contents. At once:
 *  - client threads allocate and free movable blocks of orders 0..3
 *    (pattern filled, verified at free) and now and then ask for an
 *    order-9 block (direct compaction), and keep a cache the shrinker can
 *    take from;
 *  - a compactor thread calls za_compact, on one node and on all;
 *  - a hotplug thread takes A offline and back, and asks for a contiguous
 *    range and gives it back;
 *  - a flipper takes CPUs offline and back (never the last);
 *  - kswapd (with a shrinker over the clients' caches) and kcompactd run,
 *    kcompactd proactive at compaction_proactiveness 100;
 *  - the migrate callback sometimes refuses (-EAGAIN) and sometimes
 *    answers garbage, on the hotplug and compaction paths alike.
 * Asserted: every block keeps its contents and order; memory offline
 * succeeds or says -EAGAIN/-EBUSY only (the callback refuses on purpose);
 * compaction moved blocks (pgmigrate_success is the callback's count of
 * moves); nothing deadlocks (watchdog); the lock order holds (debug
 * builds: the witness); at the end every page is back, no pageblock is
 * left isolated, and za_check passes.
 */
#include "test_hotplug_common.c"

#define NCPU 4
#define NTHR 2
#define BLK 1024ul
#define NORMAL_PAGES (4 * BLK)
#define A_START (4 * BLK)
#define B_START (5 * BLK)
#define MAX_PFN (6 * BLK)
#define CAP 700

static struct za *za;
static struct hp_client cl;
static unsigned char *mem;
static atomic_int stop, stop_helpers;
static atomic_ulong n_big, n_big_ok, n_compact, n_offline, n_contig, n_flips,
    n_refused, n_garbage;
static atomic_ulong calls;

/* Refuse one call in 16, answer garbage in one in 64. */
static int racy_migrate(void *ctx, struct za_page *dst, struct za_page *src,
                        unsigned order)
{
	unsigned long n = atomic_fetch_add(&calls, 1);
	if (n % 16 == 5) {
		atomic_fetch_add(&n_refused, 1);
		return -EAGAIN;
	}
	if (n % 64 == 9) {
		atomic_fetch_add(&n_garbage, 1);
		return 4242;
	}
	return hp_migrate(ctx, dst, src, order);
}

/* The shrinker frees from the clients' caches (table NTHR + id). */
static unsigned long cache_count(void *ctx, int nid)
{
	(void)ctx;
	(void)nid;
	unsigned long n = 0;
	for (unsigned t = NTHR; t < 2 * NTHR; t++)
		n += hp_count(&cl, t);
	return n;
}

static unsigned long cache_scan(void *ctx, int nid, unsigned long nr)
{
	(void)ctx;
	(void)nid;
	unsigned long freed = 0;
	for (unsigned t = NTHR; t < 2 * NTHR && freed < nr; t++)
		while (freed < nr && hp_drop(za, &cl, t, 0))
			freed++;
	return freed;
}

static struct za_shrinker shrinker = { cache_count, cache_scan, NULL, NULL };

static void *client(void *arg)
{
	unsigned id = (unsigned)(long)arg;
	uint64_t s = 0xc0ac7ull + id;
	hp_set_cpu((int)id);
	while (!atomic_load(&stop)) {
		uint64_t r = tu_rand(&s);
		if (r % 16 == 0)
			hp_set_cpu((int)((r >> 8) % hp_ncpu));
		if (r % 512 == 3) {
			atomic_fetch_add(&n_big, 1);
			struct za_page *p = za_alloc_pages(za,
			                                   ZA_GFP_MOVABLE |
			                                       ZA_GFP_NORETRY |
			                                       ZA_GFP_NOWARN,
			                                   9);
			if (p) {
				atomic_fetch_add(&n_big_ok, 1);
				hp_fill(za, p, 9, r);
				CHECK_EQ(hp_verify(za, p, 9, r, "order 9"), 0);
				za_free_pages(za, p, 9);
			}
			continue;
		}
		unsigned t = (r >> 12) % 4 == 0 ? NTHR + id : id;
		if (hp_churn_allocates(hp_count(&cl, t), CAP, r)) {
			unsigned o = hp_churn_order(r);
			struct za_page *p = za_alloc_pages(za,
			                                   ZA_GFP_MOVABLE | ZA_GFP_NOWARN,
			                                   o);
			if (p)
				hp_keep(za, &cl, t, p, o, &s);
		} else {
			hp_drop(za, &cl, t, (unsigned)(r >> 32));
		}
	}
	return NULL;
}

static void *compactor(void *arg)
{
	(void)arg;
	uint64_t s = 0xc0c0ull;
	hp_set_cpu(0);
	while (!atomic_load(&stop_helpers)) {
		uint64_t r = tu_rand(&s);
		int err = za_compact(za, r % 2 ? 0 : -1);
		CHECK(err == 0 || err == -EAGAIN);
		atomic_fetch_add(&n_compact, 1);
		hp_sleep_us(hp_pace(300));
	}
	return NULL;
}

static void *hotplugger(void *arg)
{
	(void)arg;
	hp_set_cpu(1);
	while (!atomic_load(&stop_helpers)) {
		int err = za_memory_offline(za, A_START, BLK);
		CHECK(err == 0 || err == -EAGAIN || err == -EBUSY);
		if (err == 0) {
			CHECK_EQ(hp_pcp_pages_in_range(za, A_START, BLK), 0);
			CHECK_EQ(hp_online(za, mem, ZA_ZONE_MOVABLE, A_START, BLK), 0);
			atomic_fetch_add(&n_offline, 1);
		}
		struct za_page *c = za_alloc_contig_pages(za, BLK,
		                                          ZA_GFP_MOVABLE |
		                                              ZA_GFP_NOWARN);
		if (c) {
			atomic_fetch_add(&n_contig, 1);
			za_free_contig_pages(za, c, BLK);
		}
		hp_sleep_us(hp_pace(500));
	}
	return NULL;
}

static void *flipper(void *arg)
{
	(void)arg;
	uint64_t s = 0xf11bull;
	while (!atomic_load(&stop_helpers)) {
		uint64_t r = tu_rand(&s);
		unsigned c = 1 + (unsigned)(r % (hp_ncpu - 1)); /* never CPU 0 */
		hp_set_cpu(0);
		CHECK_EQ(za_cpu_offline(za, c), 0);
		hp_sleep_us(hp_pace(100));
		CHECK_EQ(za_cpu_online(za, c), 0);
		atomic_fetch_add(&n_flips, 1);
		hp_sleep_us(hp_pace(300));
	}
	return NULL;
}

int main(int argc, char **argv)
{
	hp_mode(argc, argv, "compaction_race", NCPU);
	tu_watchdog(250);
	mem = hp_map(MAX_PFN);
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.block_pages = BLK;
	cfg.max_pfn = MAX_PFN;
	cfg.vmstat_interval_ms = 20;
	cfg.offline_timeout_ms = 300;
	cfg.migrate = racy_migrate;
	za = hp_create(&cfg, NCPU, &cl, 2 * NTHR, CAP, "compaction_race");
	CHECK_EQ(za_sysctl_set(za, "compaction_proactiveness", "100"), 0);
	CHECK_EQ(hp_online(za, mem, ZA_ZONE_NORMAL, 0, NORMAL_PAGES), 0);
	CHECK_EQ(hp_online(za, mem, ZA_ZONE_MOVABLE, A_START, BLK), 0);
	CHECK_EQ(hp_online(za, mem, ZA_ZONE_MOVABLE, B_START, BLK), 0);
	shrinker.ctx = &cl;
	CHECK_EQ(za_register_shrinker(za, &shrinker), 0);

	pthread_t th[NTHR], co, hp, fl;
	hp_start(th, NTHR, client);
	CHECK(pthread_create(&co, NULL, compactor, NULL) == 0);
	CHECK(pthread_create(&hp, NULL, hotplugger, NULL) == 0);
	CHECK(pthread_create(&fl, NULL, flipper, NULL) == 0);

	/* Run until enough of everything happened (scaled down under the
	 * sanitizers), however long the machine takes. */
	long want = tu_scale(40);
	hp_set_cpu(0);
	while (atomic_load(&n_compact) < (unsigned long)want ||
	       atomic_load(&n_flips) < (unsigned long)want ||
	       atomic_load(&n_big) < (unsigned long)want)
		hp_sleep_us(2000);
	atomic_store(&stop_helpers, 1);
	pthread_join(co, NULL);
	pthread_join(hp, NULL);
	pthread_join(fl, NULL);
	atomic_store(&stop, 1);
	hp_join(th, NTHR);
	za_unregister_shrinker(za, &shrinker);

	printf("compaction_race: %lu za_compact, %lu order-9 asked (%lu got), "
	       "%lu offlines, %lu contig, %lu CPU flips; callback: %lu moved, "
	       "%lu refused, %lu garbage, %lu -ENOENT\n",
	       atomic_load(&n_compact), atomic_load(&n_big),
	       atomic_load(&n_big_ok), atomic_load(&n_offline),
	       atomic_load(&n_contig), atomic_load(&n_flips),
	       atomic_load(&cl.migrated), atomic_load(&n_refused),
	       atomic_load(&n_garbage), atomic_load(&cl.enoent));
	CHECK_EQ(atomic_load(&cl.corrupt), 0);
	CHECK_EQ(atomic_load(&cl.bad_order), 0);
	CHECK(atomic_load(&cl.migrated) > 0);
	/* kcompactd may still be in a proactive pass: a move is counted by
	 * the callback before the library counts it (after it freed the
	 * source), so read both until they agree, then check. */
	unsigned long long moved = 0, pages = 0;
	for (int i = 0; i < 20000; i++) {
		moved = za_event_count(za, ZA_PGMIGRATE_SUCCESS);
		pages = 0;
		for (unsigned o = 0; o <= 3; o++)
			pages += atomic_load(&cl.migrated_by_order[o]) << o;
		if (moved == pages)
			break;
		hp_sleep_us(1000);
	}
	CHECK_EQ(moved, pages);
	CHECK(za_event_count(za, ZA_COMPACT_MIGRATE_SCANNED) > 0);
	CHECK_EQ(za_sysctl_set(za, "compaction_proactiveness", "0"), 0);
	hp_verify_all(&cl, "end");
	hp_free_all(&cl, "end");
	za_drain_all_pages(za);
	/* Waits for a background pass still running (hotplug lock). */
	CHECK_EQ(za_check(za, stderr), 0);
	struct za_zone_info zi;
	for (int t = 0; t < ZA_NR_ZONES; t++) {
		CHECK_EQ(za_zone_info(za, 0, (enum za_zone_type)t, &zi), 0);
		CHECK_EQ(zi.isolated_free, 0);
		CHECK_EQ(zi.free, zi.managed);
	}
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	hp_client_fini(&cl);
	printf("compaction_race: ok\n");
	return 0;
}
