/*
 * test_hotplug_combined.c - the three seed scenarios at once.
 *
 * Node 0: ZONE_NORMAL (8 blocks), ZONE_MOVABLE (blocks C and M). Client
 * threads on 8 simulated CPUs allocate ZA_GFP_MOVABLE blocks (fill, keep,
 * verify, free) and now and then drain every CPU's lists; one thread
 * flips random CPUs offline and online (never the last); the main thread
 * takes M offline and back, and every fourth round C as well, so that
 * ZONE_MOVABLE also empties and the zonelists are rebuilt. Memory hotplug
 * and CPU hotplug both resize the page sets, from different locks, while
 * allocations and drains run.
 *
 * Asserted: every offline, online and CPU flip returns 0; no allocation
 * fails (the live set is far below ZONE_NORMAL's room); after each memory
 * offline no per-CPU list holds a page of the range; after each CPU offline
 * that CPU's page sets are empty and off; the data survives; the test ends
 * (watchdog); at the end every page is back and za_check passes.
 *
 * With --rseq (ctest: hotplug_combined_rseq) it all runs with restartable
 * page sets on the real CPUs (pcp_mode.h): the client threads and the
 * flipper pin themselves to the CPUs they would have simulated, so CPU
 * offlines, memory offlines' pcp disables, drains and the vmstat worker
 * all stop and fence CPUs where owners really run.
 */
#include "test_hotplug_common.c"

#define NCPU 8
#define NTHR 3
#define BLK 1024ul
#define NORMAL_PAGES (8 * BLK)
#define C_START (8 * BLK)
#define M_START (9 * BLK)
#define MAX_PFN (10 * BLK)
#define CAP 300

static struct za *za;
static struct hp_client cl;
static unsigned char *mem;
static atomic_int stop, stop_flipper;
static atomic_ulong n_alloc, n_fail, n_flips;

static void *client(void *arg)
{
	unsigned id = (unsigned)(long)arg;
	uint64_t s = 0xc0b1ull + id;
	hp_set_cpu((int)id);
	while (!atomic_load(&stop)) {
		uint64_t r = tu_rand(&s);
		if (r % 16 == 0)
			hp_set_cpu((int)((r >> 8) % hp_ncpu));
		if (r % 256 == 1)
			hp_sleep_us(20);
		if (r % 2048 == 2)
			za_drain_all_pages(za);
		if (hp_churn_allocates(hp_count(&cl, id), CAP, r)) {
			unsigned o = hp_churn_order(r);
			struct za_page *p = za_alloc_pages(za, ZA_GFP_MOVABLE, o);
			if (!p) {
				atomic_fetch_add(&n_fail, 1);
				continue;
			}
			atomic_fetch_add(&n_alloc, 1);
			hp_keep(za, &cl, id, p, o, &s);
		} else {
			hp_drop(za, &cl, id, (unsigned)(r >> 32));
		}
	}
	return NULL;
}

static void *flipper(void *arg)
{
	(void)arg;
	uint64_t s = 0xf11bull;
	int online[NCPU];
	unsigned nonline = hp_ncpu;
	for (unsigned c = 0; c < hp_ncpu; c++)
		online[c] = 1;
	while (!atomic_load(&stop_flipper)) {
		uint64_t r = tu_rand(&s);
		unsigned c = (unsigned)(r % hp_ncpu);
		hp_set_cpu((int)((r >> 8) % hp_ncpu));
		if (online[c] && nonline > 1) {
			CHECK_EQ(za_cpu_offline(za, c), 0);
			online[c] = 0;
			nonline--;
			/* Empty, unless an owner preempted while it held the
			 * set left its drain to the statistics worker (flag
			 * read first: once cleared, the set is drained). */
			for (int t = 0; t < ZA_NR_ZONES; t++) {
				struct za_pcp_info pi;
				struct za_pcp *pcp = zone_pcp(&za->nodes[0].zones[t], (int)c);
				bool deferred = za_load_acquire(&pcp->flags) & ZA_PCP_DEFERRED;
				CHECK_EQ(za_pcp_info(za, c, 0, (enum za_zone_type)t, &pi), 0);
				CHECK(deferred || pi.count == 0);
				CHECK_EQ(pi.usable, 0);
			}
		} else if (!online[c]) {
			CHECK_EQ(za_cpu_online(za, c), 0);
			online[c] = 1;
			nonline++;
		}
		atomic_fetch_add(&n_flips, 1);
		hp_sleep_us(hp_pace(200));
	}
	for (unsigned c = 0; c < hp_ncpu; c++)
		if (!online[c])
			CHECK_EQ(za_cpu_online(za, c), 0);
	return NULL;
}

static void offline_online(unsigned long start)
{
	CHECK_EQ(za_memory_offline(za, start, BLK), 0);
	CHECK_EQ(hp_pcp_pages_in_range(za, start, BLK), 0);
	CHECK(za_pfn_to_page(za, start) == NULL);
	hp_sleep_us(hp_pace(50));
}

int main(int argc, char **argv)
{
	hp_mode(argc, argv, "hotplug_combined", NCPU);
	tu_watchdog(250);
	mem = hp_map(MAX_PFN);
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.block_pages = BLK;
	cfg.max_pfn = MAX_PFN;
	cfg.flags = ZA_CFG_NO_KSWAPD;
	cfg.vmstat_interval_ms = 20;
	cfg.offline_timeout_ms = 20000; /* generous: the machine may be loaded */
	za = hp_create(&cfg, NCPU, &cl, NTHR, CAP, "hotplug_combined");
	CHECK_EQ(hp_online(za, mem, ZA_ZONE_NORMAL, 0, NORMAL_PAGES), 0);
	CHECK_EQ(hp_online(za, mem, ZA_ZONE_MOVABLE, C_START, BLK), 0);
	CHECK_EQ(hp_online(za, mem, ZA_ZONE_MOVABLE, M_START, BLK), 0);

	pthread_t th[NTHR], fl;
	hp_start(th, NTHR, client);
	CHECK(pthread_create(&fl, NULL, flipper, NULL) == 0);

	/* At most 3000 rounds, fewer when a slow machine has used 100 s of
	 * the watchdog's 250 (an emulated guest: tu_budget). */
	long rounds = tu_scale(3000), i;
	struct tu_budget budget = tu_budget(100);
	hp_set_cpu(0);
	for (i = 0; i < rounds && !tu_budget_spent(&budget, i, 100); i++) {
		hp_sleep_us(hp_pace(100));
		offline_online(M_START);
		if (i % 4 == 3) {
			/* The movable zone empties: zonelists rebuilt. */
			offline_online(C_START);
			CHECK_EQ(hp_online(za, mem, ZA_ZONE_MOVABLE, C_START, BLK), 0);
		}
		CHECK_EQ(hp_online(za, mem, ZA_ZONE_MOVABLE, M_START, BLK), 0);
	}
	atomic_store(&stop_flipper, 1);
	CHECK(pthread_join(fl, NULL) == 0);
	atomic_store(&stop, 1);
	hp_join(th, NTHR);
	printf("combined (%s page sets): %ld memory rounds, %lu CPU flips, %lu "
	       "allocations (%lu failed), %lu blocks migrated, %llu offlines, %llu "
	       "CPU fences\n",
	       pm_rseq ? "restartable" : "locked", i, atomic_load(&n_flips),
	       atomic_load(&n_alloc), atomic_load(&n_fail),
	       atomic_load(&cl.migrated), za_event_count(za, ZA_OFFLINE_OK),
	       za_event_count(za, ZA_PCP_FENCE));
	CHECK_EQ(atomic_load(&n_fail), 0);
	CHECK_EQ(atomic_load(&cl.corrupt), 0);
	CHECK(atomic_load(&n_flips) > 0);
	hp_finish(za, &cl, mem, MAX_PFN, "hotplug_combined");
	printf("hotplug_combined: ok\n");
	return 0;
}
