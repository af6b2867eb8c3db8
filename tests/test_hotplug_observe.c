/*
 * test_hotplug_observe.c - looking at the allocator while memory comes and
 * goes.
 *
 * zonealloc.h: "Every function may be called from any thread at any time
 * unless its comment says otherwise." Observers - a monitoring thread that
 * prints the reports, a client that asks which zone a frame is in - run
 * while a range of ZONE_MOVABLE goes offline and online in a loop under
 * allocating threads.
 *
 * Observer 0 prints reports over and over (to /dev/null), PAGETYPEINFO
 * most, which looks at every pageblock of every zone; observer 1 calls
 * za_zone_info and za_pcp_info of every zone, and for random frames of the
 * range that comes and goes za_pfn_to_page and, on what it returns,
 * za_page_zone, za_page_nid and za_page_address. What can go wrong is a
 * check ("is this block online?") followed by a use (reading the block's
 * page metadata, which offline unmaps): a window of a few instructions, so
 * the range is large (4 blocks) and its pageblocks small (order 3), which
 * widens the part of a PAGETYPEINFO report that looks at it.
 *
 * Asserted: nothing crashes; reports never fail; za_zone_info's figures
 * stay within the zone's size; a frame of the block that stays always has
 * its page, and the answers about a frame of the block that comes and goes
 * are the right ones or "not online" (-1, NULL), never anything else; at
 * the end every page is back and za_check passes.
 */
#include "test_hotplug_common.c"

#define NCPU 8
#define NTHR 2
#define NOBS 2
#define BLK 1024ul
#define NORMAL_PAGES (4 * BLK)
#define C_START (4 * BLK)
#define B_START (5 * BLK)
#define B_PAGES (4 * BLK)
#define MAX_PFN (9 * BLK)
#define CAP 200

static struct za *za;
static struct hp_client cl;
static unsigned char *mem;
static atomic_int stop;
static atomic_ulong n_obs, n_pages_seen, n_null_seen;

static void *client(void *arg)
{
	unsigned id = (unsigned)(long)arg;
	uint64_t s = 0x0b5e0ull + id;
	hp_cpu = (int)id;
	while (!atomic_load(&stop)) {
		uint64_t r = tu_rand(&s);
		if (r % 32 == 0)
			hp_cpu = (int)((r >> 8) % NCPU);
		if (r % 256 == 1)
			hp_sleep_us(20);
		unsigned n = hp_count(&cl, id);
		if (n < CAP / 2 || (n < CAP && (r >> 16) % 2)) {
			unsigned o = (unsigned)((r >> 20) % 3);
			struct za_page *p = za_alloc_pages(za, ZA_GFP_MOVABLE, o);
			CHECK(p != NULL);
			hp_keep(za, &cl, id, p, o, &s);
		} else {
			hp_drop(za, &cl, id, (unsigned)(r >> 32));
		}
	}
	return NULL;
}

static void *observer(void *arg)
{
	unsigned id = (unsigned)(long)arg;
	uint64_t s = 0x0b5e1ull + id;
	FILE *null = fopen("/dev/null", "w");
	CHECK(null != NULL);
	hp_cpu = (int)(NCPU - 1 - id);
	while (!atomic_load(&stop)) {
		uint64_t r = tu_rand(&s);
		/* Observer 0 prints reports - PAGETYPEINFO, which looks at
		 * every pageblock, most of all - observer 1 asks about frames. */
		switch (id == 0 ? 0 : 1 + r % 3) {
		case 0:
			CHECK_EQ(za_report(za,
			                   r % 4 ? ZA_REPORT_PAGETYPEINFO
			                         : (enum za_report)((r >> 8) % 4),
			                   null),
			         0);
			break;
		case 1:
			for (int t = 0; t < ZA_NR_ZONES; t++) {
				struct za_zone_info zi;
				CHECK_EQ(za_zone_info(za, 0, (enum za_zone_type)t, &zi), 0);
				CHECK(zi.managed <= MAX_PFN);
				CHECK(zi.present <= MAX_PFN);
				CHECK(zi.spanned <= MAX_PFN);
				struct za_pcp_info pi;
				CHECK_EQ(za_pcp_info(za, (unsigned)(r >> 8) % NCPU, 0,
				                     (enum za_zone_type)t, &pi),
				         0);
				CHECK(pi.count <= MAX_PFN);
			}
			break;
		default:
			/* Frames of the block that comes and goes (and a few of
			 * C, which stays). */
			for (int k = 0; k < 256; k++) {
				unsigned long pfn = k % 16 ? B_START + tu_rand(&s) % B_PAGES
				                           : C_START + tu_rand(&s) % BLK;
				struct za_page *p = za_pfn_to_page(za, pfn);
				if (!p) {
					atomic_fetch_add(&n_null_seen, 1);
					CHECK(pfn >= B_START); /* C never goes */
					continue;
				}
				atomic_fetch_add(&n_pages_seen, 1);
				CHECK_EQ(za_page_to_pfn(za, p), pfn);
				int zt = za_page_zone(za, p);
				int nid = za_page_nid(za, p);
				void *a = za_page_address(za, p);
				/* Either still online (the right answers) or gone
				 * meanwhile (-1 / NULL); never anything else. */
				CHECK(zt == ZA_ZONE_MOVABLE || (zt == -1 && pfn >= B_START));
				CHECK(nid == 0 || (nid == -1 && pfn >= B_START));
				CHECK(a == mem + pfn * HP_PAGE || (!a && pfn >= B_START));
			}
			break;
		}
		atomic_fetch_add(&n_obs, 1);
	}
	fclose(null);
	return NULL;
}

int main(void)
{
	tu_watchdog(200);
	mem = hp_map(MAX_PFN);
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = NCPU;
	cfg.cpu_id = hp_cpu_id;
	cfg.block_pages = BLK;
	cfg.max_pfn = MAX_PFN;
	/* Small pageblocks: PAGETYPEINFO looks at each of them. */
	cfg.pageblock_order = 3;
	cfg.flags = ZA_CFG_NO_KSWAPD;
	cfg.vmstat_interval_ms = 10;
	cfg.offline_timeout_ms = 20000; /* generous: the machine may be loaded */
	cfg.migrate = hp_migrate;
	cfg.migrate_ctx = &cl;
	hp_client_init(&cl, NTHR, CAP, MAX_PFN);
	za = za_create(&cfg);
	CHECK(za != NULL);
	cl.za = za;
	za_debug_set(za, ZA_DEBUG_RANDOM_YIELD, 1);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, NORMAL_PAGES, mem), 0);
	CHECK_EQ(hp_online(za, mem, ZA_ZONE_MOVABLE, C_START, BLK), 0);
	CHECK_EQ(hp_online(za, mem, ZA_ZONE_MOVABLE, B_START, B_PAGES), 0);

	pthread_t th[NTHR + NOBS];
	for (long i = 0; i < NTHR; i++)
		CHECK(pthread_create(&th[i], NULL, client, (void *)i) == 0);
	for (long i = 0; i < NOBS; i++)
		CHECK(pthread_create(&th[NTHR + i], NULL, observer, (void *)i) == 0);

	long rounds = tu_scale(2000);
	hp_cpu = 0;
	for (long i = 0; i < rounds; i++) {
		CHECK_EQ(za_memory_offline(za, B_START, B_PAGES), 0);
		hp_sleep_us(hp_pace(50));
		CHECK_EQ(hp_online(za, mem, ZA_ZONE_MOVABLE, B_START, B_PAGES), 0);
		hp_sleep_us(hp_pace(50));
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < NTHR + NOBS; i++)
		CHECK(pthread_join(th[i], NULL) == 0);
	printf("observe: %ld offline/online rounds under %lu observations (%lu "
	       "pages looked at, %lu frames found offline); %lu blocks migrated\n",
	       rounds, atomic_load(&n_obs), atomic_load(&n_pages_seen),
	       atomic_load(&n_null_seen), atomic_load(&cl.migrated));
	CHECK(atomic_load(&n_null_seen) > 0);
	hp_free_all(&cl, "end");
	hp_all_pages_back(za);
	za_destroy(za);
	hp_client_fini(&cl);
	munmap(mem, MAX_PFN * HP_PAGE);
	printf("hotplug_observe: ok\n");
	return 0;
}
