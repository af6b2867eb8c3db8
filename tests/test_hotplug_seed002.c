/*
 * test_hotplug_seed002.c - seed 002: zonelists rebuilt while allocations
 * walk them.
 *
 * The kernel change: build_all_zonelists stopped using stop_machine; a
 * reader racing a rebuild may miss a zone or see one twice, and later
 * kernels added a sequence count so that an allocation that failed while
 * the lists changed retries. zonealloc rewrites the lists in place under
 * zonelist_seq (odd while a rebuild runs) and its slow path retries when the
 * count moved.
 *
 * Here, the pathological case of the seed's mail: node 0 has ZONE_NORMAL
 * (16 blocks, plenty of room) and ZONE_MOVABLE with exactly one block M.
 * The main thread offlines M and onlines it again in a loop, so every
 * offline empties ZONE_MOVABLE and every online repopulates it: two
 * zonelist rebuilds per round. NTHR threads allocate ZA_GFP_MOVABLE blocks
 * of order 0..3 (half of them without direct reclaim, which retries on a
 * different branch of the slow path), fill them, keep them, free random
 * ones. The live set stays far below ZONE_NORMAL's size minus its
 * watermarks, so one zone always has room.
 *
 * Asserted: no allocation ever fails; every offline and online returns 0;
 * right after each one the zonelist (read as allocations read it) lists
 * ZONE_MOVABLE first exactly when it is populated, ZONE_NORMAL exactly
 * once, and the sequence count is even and advanced by two (one rebuild);
 * at pauses za_check passes (it also checks every zonelist) and every owned
 * block holds its pattern; at the end every page is back.
 *
 * The window of the real race is two stores wide, so the run above rarely
 * sees a retry. Part 2 makes it deterministic: it freezes node 0's zonelist
 * as a reader may see it halfway through a rebuild (count odd, only the
 * empty movable zone listed) and checks that an allocation - with and
 * without direct reclaim - keeps retrying instead of failing, and gets its
 * page from ZONE_NORMAL once the "rebuild" completes.
 *
 * With --rseq (ctest: hotplug_seed002_rseq) it all runs with restartable
 * page sets on the real CPUs (pcp_mode.h): the threads pin themselves to
 * the CPUs they would have simulated, and each offline's pcp disable
 * stops and fences them.
 */
#include "test_hotplug_common.c"

#define NCPU 8
#define NTHR 4
#define BLK 1024ul
#define NORMAL_START (2 * BLK)
#define NORMAL_PAGES (16 * BLK)
#define M_START (NORMAL_START + NORMAL_PAGES)
#define MAX_PFN (M_START + 2 * BLK)
#define CAP 200
#define IVAL 200

static struct za *za;
static struct hp_client cl;
static struct hp_pause pz;
static unsigned char *mem; /* [0, MAX_PFN) */
static atomic_int stop;
static atomic_ulong n_alloc, n_fail, n_in_m, n_normal_while_off;
static atomic_int m_online = 1;

static void *worker(void *arg)
{
	unsigned id = (unsigned)(long)arg;
	uint64_t s = 0x5eed0002ull + id * 0x9e3779b9ull;
	hp_set_cpu(pm_rseq ? (int)id : (int)(id * 2 % NCPU));
	while (!atomic_load(&stop)) {
		hp_pause_point(&pz);
		uint64_t r = tu_rand(&s);
		if (r % 32 == 0)
			hp_set_cpu((int)((r >> 8) % hp_ncpu));
		if (r % 256 == 1)
			hp_sleep_us(20);
		if (hp_churn_allocates(hp_count(&cl, id), CAP, r)) {
			unsigned order = hp_churn_order(r);
			za_gfp_t gfp = (r >> 24) % 2 ? ZA_GFP_MOVABLE
			                             : (ZA_GFP_NOWAIT | ZA___GFP_MOVABLE);
			int was_online = atomic_load(&m_online);
			struct za_page *p = za_alloc_pages(za, gfp, order);
			if (!p) {
				fprintf(stderr, "allocation of order %u (gfp %#x) failed\n",
				        order, gfp);
				atomic_fetch_add(&n_fail, 1);
				continue;
			}
			atomic_fetch_add(&n_alloc, 1);
			int zt = za_page_zone(za, p);
			CHECK(zt == ZA_ZONE_MOVABLE || zt == ZA_ZONE_NORMAL);
			if (zt == ZA_ZONE_MOVABLE)
				atomic_fetch_add(&n_in_m, 1);
			else if (!was_online)
				atomic_fetch_add(&n_normal_while_off, 1);
			uint64_t seed = tu_rand(&s);
			hp_fill(za, p, order, seed);
			CHECK(hp_insert(&cl, id, p, order, seed));
		} else {
			struct hp_ent e;
			if (!hp_remove(&cl, id, (unsigned)(r >> 32), &e))
				continue;
			CHECK_EQ(hp_verify(za, e.p, e.order, e.seed, "free"), 0);
			za_free_pages(za, e.p, e.order);
		}
	}
	return NULL;
}

/* The fallback zonelist of node 0 as an allocation reads it. */
static void check_zonelist(bool movable)
{
	struct za_zoneref *zl = za->nodes[0].zonelist[0];
	struct za_zone *zm = &za->nodes[0].zones[ZA_ZONE_MOVABLE];
	struct za_zone *zn = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	unsigned i = 0, nm = 0, nn = 0;
	for (; za_load_relaxed(&zl[i].zone); i++) {
		struct za_zone *z = za_load_relaxed(&zl[i].zone);
		nm += z == zm;
		nn += z == zn;
	}
	CHECK_EQ(nm, movable ? 1 : 0);
	CHECK_EQ(nn, 1);
	CHECK_EQ(i, movable ? 2 : 1);
	CHECK(za_load_relaxed(&zl[0].zone) == (movable ? zm : zn));
}

struct torn {
	za_gfp_t gfp;
	struct za_page *page;
	atomic_int done;
};

static void *torn_alloc(void *arg)
{
	struct torn *t = arg;
	hp_set_cpu(3);
	t->page = za_alloc_pages(za, t->gfp, 0);
	atomic_store(&t->done, 1);
	return NULL;
}

/* A rebuild torn half-way also leaves the fast paths' per-CPU zone tables
 * (za->cpu_pcp and, restartable, za->rseq_pcp, rewritten with the
 * zonelists) naming zone z first. */
static void tear_cpu_zones(const struct za_zone *z)
{
	for (unsigned c = 0; c < za->nr_cpus; c++) {
		for (int hz = (int)z->type; hz < ZA_NR_ZONES; hz++)
			za_store_relaxed(&za->cpu_pcp[c * ZA_CPU_PCP_STRIDE + hz],
			                 zone_pcp(z, (int)c));
		if (za->rseq_pcp)
			write_rseq_pcp(za, c);
	}
}

static void torn_rebuild(za_gfp_t gfp)
{
	struct za_zoneref *zl = za->nodes[0].zonelist[0];
	struct za_zone *zm = &za->nodes[0].zones[ZA_ZONE_MOVABLE];
	struct za_zone *zn = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	CHECK_EQ(za_memory_offline(za, M_START, BLK), 0);
	check_zonelist(false);
	unsigned seq = za_load_acquire(&za->zonelist_seq);
	unsigned long long retries = za_event_count(za, ZA_ZONELIST_RETRY);
	za_store_release(&za->zonelist_seq, seq + 1);
	za_store_relaxed(&zl[0].zone, zm);
	tear_cpu_zones(zm);

	struct torn t = { gfp, NULL, 0 };
	pthread_t th;
	CHECK(pthread_create(&th, NULL, torn_alloc, &t) == 0);
	uint64_t t0 = hp_now_ns();
	while (za_event_count(za, ZA_ZONELIST_RETRY) == retries &&
	       !atomic_load(&t.done) && hp_now_ns() - t0 < 10000000000ull)
		hp_sleep_us(100);
	/* The allocation is still looking, and it is looking again. */
	CHECK_EQ(atomic_load(&t.done), 0);
	CHECK(za_event_count(za, ZA_ZONELIST_RETRY) > retries);

	za_store_relaxed(&zl[0].zone, zn);
	tear_cpu_zones(zn);
	za_store_release(&za->zonelist_seq, seq + 2);
	CHECK(pthread_join(th, NULL) == 0);
	CHECK(t.page != NULL);
	CHECK_EQ(za_page_zone(za, t.page), ZA_ZONE_NORMAL);
	printf("seed002: torn rebuild, gfp %#x: the allocation retried %llu times, "
	       "then succeeded\n",
	       gfp, za_event_count(za, ZA_ZONELIST_RETRY) - retries);
	za_free_pages(za, t.page, 0);
	CHECK_EQ(hp_online(za, mem, ZA_ZONE_MOVABLE, M_START, BLK), 0);
	check_zonelist(true);
}

int main(int argc, char **argv)
{
	hp_mode(argc, argv, "hotplug_seed002", NCPU);
	tu_watchdog(280);
	mem = hp_map(MAX_PFN);
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.block_pages = BLK;
	cfg.max_pfn = MAX_PFN;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	cfg.offline_timeout_ms = 20000; /* generous: the machine may be loaded */
	za = hp_create(&cfg, NCPU, &cl, NTHR, CAP, "hotplug_seed002");
	CHECK_EQ(hp_online(za, mem, ZA_ZONE_NORMAL, NORMAL_START, NORMAL_PAGES),
	         0);
	CHECK_EQ(hp_online(za, mem, ZA_ZONE_MOVABLE, M_START, BLK), 0);
	check_zonelist(true);

	/* The live set against ZONE_NORMAL: at most NTHR * CAP blocks of up
	 * to 8 pages plus what the page sets hold, far below its size minus
	 * its min watermark and its reserve against movable requests. */
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	CHECK(NTHR * CAP * 8ul + 2048 <
	      zi.managed - zi.high - zi.lowmem_reserve[ZA_ZONE_MOVABLE]);

	pthread_t th[NTHR];
	hp_start(th, NTHR, worker);

	/* At most 2000 rounds, fewer once 150 s of the watchdog's 280 are
	 * spent (a slow machine: tu_budget). */
	long rounds = tu_scale(2000);
	struct tu_budget budget = tu_budget(150);
	unsigned long checks = 0;
	uint64_t worst = 0;
	hp_set_cpu((int)hp_ncpu - 1);
	for (long it = 0; it < rounds; it++) {
		if (tu_budget_spent(&budget, it, 100)) {
			rounds = it;
			break;
		}
		hp_sleep_us(hp_pace(100));
		unsigned seq = za_load_acquire(&za->zonelist_seq);
		uint64_t t0 = hp_now_ns();
		int r = za_memory_offline(za, M_START, BLK);
		uint64_t dt = hp_now_ns() - t0;
		if (dt > worst)
			worst = dt;
		CHECK_EQ(r, 0);
		atomic_store(&m_online, 0);
		CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_MOVABLE, &zi), 0);
		CHECK_EQ(zi.populated, 0);
		CHECK_EQ(zi.managed, 0);
		check_zonelist(false);
		CHECK_EQ(za_load_acquire(&za->zonelist_seq), seq + 2);

		if (it % 2)
			hp_sleep_us(hp_pace(100)); /* some rounds run a while without M */
		if (it % IVAL == IVAL - 1) {
			hp_pause_all(&pz, NTHR);
			CHECK_EQ(za_check(za, stderr), 0);
			hp_verify_all(&cl, "pause");
			checks++;
			hp_resume_all(&pz);
		}

		seq = za_load_acquire(&za->zonelist_seq);
		CHECK_EQ(hp_online(za, mem, ZA_ZONE_MOVABLE, M_START, BLK), 0);
		atomic_store(&m_online, 1);
		CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_MOVABLE, &zi), 0);
		CHECK_EQ(zi.populated, 1);
		check_zonelist(true);
		CHECK_EQ(za_load_acquire(&za->zonelist_seq), seq + 2);
	}
	atomic_store(&stop, 1);
	hp_join(th, NTHR);

	printf("seed002 (%s page sets): %ld rounds (%ld zonelist rebuilds), worst "
	       "offline %.2f ms; %lu allocations, %lu failed, %lu in ZONE_MOVABLE, "
	       "%lu served by ZONE_NORMAL while M was offline; %llu zonelist "
	       "retries; %lu blocks migrated; %lu checks\n",
	       pm_rseq ? "restartable" : "locked", rounds, 2 * rounds,
	       hp_ms(worst), atomic_load(&n_alloc), atomic_load(&n_fail),
	       atomic_load(&n_in_m), atomic_load(&n_normal_while_off),
	       za_event_count(za, ZA_ZONELIST_RETRY), atomic_load(&cl.migrated),
	       checks);
	CHECK_EQ(atomic_load(&n_fail), 0);
	CHECK(atomic_load(&n_in_m) > 0);
	CHECK_EQ(atomic_load(&cl.corrupt), 0);

	hp_verify_all(&cl, "end");
	hp_free_all(&cl, "end");
	hp_all_pages_back(za);

	/* The retry itself, made deterministic: freeze the zonelist in the
	 * state a reader can see halfway through a rebuild - count odd, the
	 * list showing only the (empty) movable zone - and allocate. Without
	 * the retry the allocation fails at once; with it, it keeps looking
	 * until the rebuild "finishes" and then gets its page from NORMAL. */
	torn_rebuild(ZA_GFP_MOVABLE);
	torn_rebuild(ZA_GFP_NOWAIT | ZA___GFP_MOVABLE);
	hp_all_pages_back(za);
	pm_check_fenced(za, "hotplug_seed002");
	za_destroy(za);
	hp_client_fini(&cl);
	munmap(mem, MAX_PFN * HP_PAGE);
	printf("hotplug_seed002: ok\n");
	return 0;
}
