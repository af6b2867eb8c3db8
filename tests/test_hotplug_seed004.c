/*
 * test_hotplug_seed004.c - seed 004: memory offline against pages freed
 * to the per-CPU lists while it runs.
 *
 * The kernel bug: offline isolated the range and drained the per-CPU lists
 * once, but a free that had read the old pageblock type put a range page on
 * a per-CPU list after the drain, and offline looped forever waiting for
 * it. zonealloc disables the zone's per-CPU lists (flag set and list drained
 * in one lock hold) after isolating the range, so one drain is enough.
 *
 * Here: node 0 has ZONE_NORMAL (8 blocks, plenty of room) and ZONE_MOVABLE
 * (blocks C and B). NTHR threads on NCPU simulated CPUs allocate
 * ZA_GFP_MOVABLE blocks of order 0..3 (they land in ZONE_MOVABLE while it
 * has room, much of it in B), fill them with a pattern, keep them in their
 * client table and free random ones, verifying the pattern first - many of
 * them inside B while B is going offline. The main thread offlines B and
 * onlines it again, 2500 times (625 under sanitizers). The client's
 * migrate callback looks src up in its tables, verifies and copies the
 * contents, and points the entry at dst (or says -ENOENT when the entry is
 * gone).
 *
 * Asserted: every offline returns 0 (ZONE_NORMAL always has room for what
 * is migrated, and the client never refuses) and returns before the offline
 * timeout; after each offline no per-CPU list of any zone holds a page of B
 * (each list walked under its lock while the threads keep running), B has
 * no page metadata (za_pfn_to_page is NULL) and ZONE_MOVABLE lost exactly
 * B's pages; every IVAL offlines the threads are paused and za_check passes
 * and every owned block still holds its pattern; no allocation fails;
 * the migration count the library reports is the one the client saw. At the
 * end everything is freed and every page is back on the buddy lists.
 *
 * With --rseq (ctest: hotplug_seed004_rseq) the same run uses restartable
 * page sets on the real CPUs (pcp_mode.h): the threads pin themselves to
 * the CPUs they would have simulated, so frees race the offline's pcp
 * disable (stop, fence, drain) on real CPUs.
 */
#include "test_hotplug_common.c"

#define NCPU 8
#define NTHR 4
#define BLK 1024ul
#define NORMAL_START 0ul
#define NORMAL_PAGES (8 * BLK)
#define C_START (8 * BLK)
#define B_START (9 * BLK)
#define MAX_PFN (11 * BLK)
#define CAP 400
#define TIMEOUT_MS 20000u /* generous: the machine may be loaded */
#define IVAL 100

static struct za *za;
static struct hp_client cl;
static struct hp_pause pz;
static unsigned char *mem;
static atomic_int stop, offlining;
static atomic_ulong n_alloc, n_free, n_fail, n_in_b_alloc,
    n_in_b_free_offlining;

static bool in_b(struct za_page *p)
{
	unsigned long pfn = za_page_to_pfn(za, p);
	return pfn >= B_START && pfn < B_START + BLK;
}

static void *worker(void *arg)
{
	unsigned id = (unsigned)(long)arg;
	uint64_t s = 0x5eed0004ull + id * 0x9e3779b9ull;
	hp_set_cpu(pm_rseq ? (int)id : (int)(id * 2 % NCPU));
	while (!atomic_load(&stop)) {
		hp_pause_point(&pz);
		uint64_t r = tu_rand(&s);
		if (r % 32 == 0)
			hp_set_cpu((int)((r >> 8) % hp_ncpu));
		if (r % 256 == 1)
			hp_sleep_us(20); /* four threads on two cores: let main run */
		if (hp_churn_allocates(hp_count(&cl, id), CAP, r)) {
			unsigned order = hp_churn_order(r);
			struct za_page *p = za_alloc_pages(za, ZA_GFP_MOVABLE, order);
			if (!p) {
				atomic_fetch_add(&n_fail, 1);
				continue;
			}
			atomic_fetch_add(&n_alloc, 1);
			if (in_b(p))
				atomic_fetch_add(&n_in_b_alloc, 1);
			uint64_t seed = tu_rand(&s);
			hp_fill(za, p, order, seed);
			CHECK(hp_insert(&cl, id, p, order, seed));
		} else {
			struct hp_ent e;
			if (!hp_remove(&cl, id, (unsigned)(r >> 32), &e))
				continue;
			if (atomic_load(&offlining) && in_b(e.p))
				atomic_fetch_add(&n_in_b_free_offlining, 1);
			CHECK_EQ(hp_verify(za, e.p, e.order, e.seed, "free"), 0);
			za_free_pages(za, e.p, e.order);
			atomic_fetch_add(&n_free, 1);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	hp_mode(argc, argv, "hotplug_seed004", NCPU);
	tu_watchdog(280);
	mem = hp_map(MAX_PFN);
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.block_pages = BLK;
	cfg.max_pfn = MAX_PFN;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	cfg.offline_timeout_ms = TIMEOUT_MS;
	za = hp_create(&cfg, NCPU, &cl, NTHR, CAP, "hotplug_seed004");
	CHECK_EQ(hp_online(za, mem, ZA_ZONE_NORMAL, NORMAL_START, NORMAL_PAGES),
	         0);
	CHECK_EQ(hp_online(za, mem, ZA_ZONE_MOVABLE, C_START, BLK), 0);
	CHECK_EQ(hp_online(za, mem, ZA_ZONE_MOVABLE, B_START, BLK), 0);

	pthread_t th[NTHR];
	hp_start(th, NTHR, worker);

	/* At most 2500 offlines, fewer once 150 s of the watchdog's 280 are
	 * spent (a slow machine: tu_budget). */
	long iters = tu_scale(2500);
	struct tu_budget budget = tu_budget(150);
	uint64_t worst = 0, total = 0;
	unsigned long checks = 0, migrated_before;
	hp_set_cpu((int)hp_ncpu - 1);
	for (long it = 0; it < iters; it++) {
		if (tu_budget_spent(&budget, it, 100)) {
			iters = it;
			break;
		}
		/* Let the threads put some of their blocks into B. */
		hp_sleep_us(hp_pace(100));
		migrated_before = atomic_load(&cl.migrated);
		atomic_store(&offlining, 1);
		uint64_t t0 = hp_now_ns();
		int r = za_memory_offline(za, B_START, BLK);
		uint64_t dt = hp_now_ns() - t0;
		atomic_store(&offlining, 0);
		if (r != 0)
			fprintf(stderr, "offline %ld: %d after %.1f ms (%lu migrated)\n",
			        it, r, hp_ms(dt),
			        atomic_load(&cl.migrated) - migrated_before);
		CHECK_EQ(r, 0);
		CHECK(dt < (uint64_t)TIMEOUT_MS * 1000000u);
		if (dt > worst)
			worst = dt;
		total += dt;

		/* No per-CPU list holds a page of B, and B is gone. */
		CHECK_EQ(hp_pcp_pages_in_range(za, B_START, BLK), 0);
		for (unsigned long pfn = B_START; pfn < B_START + BLK; pfn += 17)
			CHECK(za_pfn_to_page(za, pfn) == NULL);
		CHECK(za_pfn_to_page(za, B_START + BLK - 1) == NULL);
		struct za_zone_info zi;
		CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_MOVABLE, &zi), 0);
		CHECK_EQ(zi.managed, BLK);
		CHECK_EQ(zi.present, BLK);
		CHECK_EQ(zi.start_pfn, C_START);
		CHECK_EQ(zi.spanned, BLK);
		CHECK_EQ(za_memory_offline(za, B_START, BLK), -ENOENT);

		if (it % IVAL == IVAL - 1) {
			hp_pause_all(&pz, NTHR);
			CHECK_EQ(za_check(za, stderr), 0);
			hp_verify_all(&cl, "pause");
			checks++;
			hp_resume_all(&pz);
		}
		CHECK_EQ(hp_online(za, mem, ZA_ZONE_MOVABLE, B_START, BLK), 0);
	}
	atomic_store(&stop, 1);
	hp_join(th, NTHR);

	printf("seed004 (%s page sets): %ld offlines, worst %.2f ms, mean %.3f ms "
	       "(timeout %u ms); %lu blocks migrated, %lu -ENOENT; %lu allocations "
	       "(%lu in B), %lu frees (%lu of them in B while it went offline); "
	       "%lu checks\n",
	       pm_rseq ? "restartable" : "locked", iters, hp_ms(worst),
	       hp_ms(total) / (double)iters, TIMEOUT_MS, atomic_load(&cl.migrated),
	       atomic_load(&cl.enoent), atomic_load(&n_alloc),
	       atomic_load(&n_in_b_alloc), atomic_load(&n_free),
	       atomic_load(&n_in_b_free_offlining), checks);
	CHECK_EQ(atomic_load(&n_fail), 0);
	CHECK_EQ(atomic_load(&cl.corrupt), 0);
	CHECK_EQ(atomic_load(&cl.bad_order), 0);
	CHECK_EQ(za_event_count(za, ZA_OFFLINE_OK), (unsigned long long)iters);
	CHECK_EQ(za_event_count(za, ZA_OFFLINE_FAIL), 0);
	/* pgmigrate_success counts pages, as the kernel's does. */
	unsigned long migrated_pages = 0;
	for (unsigned o = 0; o <= ZA_MAX_ORDER_LIMIT; o++)
		migrated_pages += atomic_load(&cl.migrated_by_order[o]) << o;
	CHECK_EQ(za_event_count(za, ZA_PGMIGRATE_SUCCESS), migrated_pages);
	/* The scenario did happen: blocks lived in B and were moved out. */
	CHECK(atomic_load(&n_in_b_alloc) > 0);
	CHECK(atomic_load(&cl.migrated) > 0);

	/* B came back each time. */
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_MOVABLE, &zi), 0);
	CHECK_EQ(zi.managed, 2 * BLK);
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	CHECK_EQ(zi.managed, NORMAL_PAGES);
	hp_finish(za, &cl, mem, MAX_PFN, "hotplug_seed004");
	printf("hotplug_seed004: ok\n");
	return 0;
}
