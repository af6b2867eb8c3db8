/*
 * test_hotplug_seed000.c - seed 000: CPU hotplug against draining.
 *
 * The kernel bug: the allocator's slow path drained every CPU's lists by
 * IPI without holding off CPU hotplug, and taking the hotplug lock there
 * could deadlock. zonealloc never takes cpu_hotplug_lock on the allocation
 * or drain paths: offline sets the CPU's "off" flag and drains its page sets
 * in one pcp-lock hold, and an allocation or drain that meets the flag uses
 * the buddy lists instead.
 *
 * Part 1, the storm: NTHR threads whose simulated CPUs range over all NCPU
 * CPUs (and change often) allocate blocks of order 0..3 (now and then a
 * pageblock or a max-order block) until the allocator says no, then free
 * most of them, over and over, so that refills, flushes, the slow path's
 * drains and fallbacks run all the time; they also call
 * za_drain_all_pages and za_drain_local_pages. The main thread offlines or
 * onlines a random CPU (never the last online one) every few hundred
 * microseconds, for 4 s (1 s under sanitizers). Asserted:
 * every flip succeeds; right after an offline the CPU's page sets hold no
 * page, are not usable, and hold no unfolded statistics delta; the test
 * ends (a watchdog turns a deadlock into a failure); the threads did meet
 * exhaustion; at the end every page is back on the buddy lists and
 * za_check passes.
 *
 * Part 2, bad input: an out-of-range CPU (-EINVAL), offlining an offline
 * CPU or onlining an online one (-EEXIST), offlining the last online CPU
 * (-EBUSY) - each leaves the online mask and the reports as they were.
 * Allocation and free from a thread whose CPU is offline (the last one,
 * offline from the start) work and leave that CPU's page sets empty.
 *
 * With --rseq (ctest: hotplug_seed000_rseq) both parts run with
 * restartable page sets on the real CPUs (pcp_mode.h): the threads pin
 * themselves to the CPUs they would have simulated, so every offline
 * stops and fences a CPU where owners really run, and the drains of the
 * slow path, of za_drain_all_pages and of the vmstat worker race them;
 * in part 2 the thread is pinned to the offline CPU.
 */
#include "test_hotplug_common.c"

#define NCPU 8
#define NTHR 4
#define BLK 1024ul
#define START (4 * BLK)
#define NPAGES (4 * BLK)
#define MAX_PFN (START + NPAGES + BLK)
#define MAXHELD 8192

static struct za *za;
static atomic_int stop;
static atomic_ulong n_alloc, n_exhausted, n_drain_all, n_cycles;

static const za_gfp_t gfps[] = {
	ZA_GFP_KERNEL, ZA_GFP_KERNEL,  ZA_GFP_NOWAIT,
	ZA_GFP_ATOMIC, ZA_GFP_MOVABLE, ZA_GFP_KERNEL | ZA_GFP_RECLAIMABLE
};

struct held {
	struct za_page *p;
	unsigned order;
};

static void *worker(void *arg)
{
	unsigned id = (unsigned)(long)arg;
	uint64_t s = 0x5eed0000ull + id * 0x9e3779b9ull;
	struct held *h = calloc(MAXHELD, sizeof(*h));
	unsigned n = 0;
	CHECK(h != NULL);
	hp_set_cpu((int)id);
	while (!atomic_load(&stop)) {
		/* Fill up until the allocator refuses (or our table is full). */
		while (n < MAXHELD && !atomic_load(&stop)) {
			uint64_t r = tu_rand(&s);
			if (r % 8 == 0)
				hp_set_cpu((int)((r >> 8) % hp_ncpu));
			unsigned order = (r >> 16) % 16;
			order = order < 8    ? 0
			        : order < 14 ? order - 7
			                     : (order == 14 ? 9 : 10);
			za_gfp_t gfp = gfps[(r >> 24) % (sizeof(gfps) / sizeof(gfps[0]))];
			struct za_page *p = za_alloc_pages(za, gfp | ZA_GFP_NOWARN, order);
			if (!p) {
				if (order == 0) {
					atomic_fetch_add(&n_exhausted, 1);
					break;
				}
				continue;
			}
			unsigned long pfn = za_page_to_pfn(za, p);
			CHECK(pfn >= START && pfn + (1ul << order) <= START + NPAGES);
			CHECK(pfn % (1ul << order) == 0);
			h[n++] = (struct held){ p, order };
			atomic_fetch_add(&n_alloc, 1);
		}
		uint64_t r = tu_rand(&s);
		if (r % 4 == 0) {
			za_drain_all_pages(za);
			atomic_fetch_add(&n_drain_all, 1);
		} else if (r % 4 == 1) {
			za_drain_local_pages(za);
		}
		/* Free most of it, on changing CPUs, in random order. */
		unsigned keep = (unsigned)((r >> 8) % 64);
		while (n > keep) {
			uint64_t q = tu_rand(&s);
			if (q % 8 == 0)
				hp_set_cpu((int)((q >> 8) % hp_ncpu));
			unsigned k = (unsigned)((q >> 16) % n);
			za_free_pages(za, h[k].p, h[k].order);
			h[k] = h[--n];
		}
		atomic_fetch_add(&n_cycles, 1);
		/* Breathe: four busy threads on two cores would otherwise keep
		 * the flipper off the CPU for most of the run. */
		if (r % 2)
			hp_sleep_us(50);
	}
	while (n > 0) {
		n--;
		za_free_pages(za, h[n].p, h[n].order);
	}
	free(h);
	return NULL;
}

/* Right after cpu went offline (only this thread flips CPUs): its page
 * sets are off, and empty with no statistics delta - unless an owner was
 * preempted while it held one (restartable sets on a busy machine): then
 * the offline left that set to the statistics worker (ZA_PCP_DEFERRED),
 * which drains it when the owner lets go (test_pcp_rseq checks that; the
 * final za_check sees it done). The flag is read first: once the worker
 * clears it the set is empty, and off, so it stays so. */
static unsigned long n_deferred;
static void check_cpu_off(unsigned cpu)
{
	CHECK_EQ(za_cpu_is_online(za, cpu), 0);
	for (int t = 0; t < ZA_NR_ZONES; t++) {
		struct za_pcp_info pi;
		struct za_pcp *pcp = zone_pcp(&za->nodes[0].zones[t], (int)cpu);
		bool deferred = za_load_acquire(&pcp->flags) & ZA_PCP_DEFERRED;
		CHECK_EQ(za_pcp_info(za, cpu, 0, (enum za_zone_type)t, &pi), 0);
		CHECK_EQ(pi.usable, 0);
		if (deferred) {
			n_deferred++;
			continue;
		}
		CHECK_EQ(pi.count, 0);
		for (int i = 0; i < ZA_NR_ZONE_STATS; i++)
			CHECK_EQ(za_load_relaxed(&pcp->vm_diff[i]), 0);
		/* The allocated pages its lists handed out, folded too. */
		CHECK_EQ(za_load_relaxed(&pcp->alloc_base), 0);
	}
}

static void storm(void)
{
	uint64_t s = 0x570c0000ull;
	int online[NCPU];
	unsigned nonline = hp_ncpu;
	unsigned long offs = 0, ons = 0, max_off = 0;
	for (unsigned c = 0; c < hp_ncpu; c++)
		online[c] = 1;
	hp_set_cpu(0);

	pthread_t th[NTHR];
	for (long i = 0; i < NTHR; i++)
		CHECK(pthread_create(&th[i], NULL, worker, (void *)i) == 0);
	/* A fixed time rather than a fixed number of flips: under load a flip
	 * waits for page-set locks that busy allocators hold (printed below
	 * as the slowest flip), and sanitizer builds are slower still. */
	uint64_t t_start = hp_now_ns(), worst_flip = 0;
	uint64_t t_end = t_start + (uint64_t)tu_scale(4000) * 1000000u;
	while (hp_now_ns() < t_end) {
		uint64_t r = tu_rand(&s);
		unsigned c = (unsigned)(r % hp_ncpu);
		/* the flipper's own CPU moves too */
		hp_set_cpu((int)((r >> 8) % hp_ncpu));
		uint64_t t0 = hp_now_ns();
		if (online[c] && nonline > 1) {
			CHECK_EQ(za_cpu_offline(za, c), 0);
			online[c] = 0;
			nonline--;
			offs++;
			check_cpu_off(c);
			if (hp_ncpu - nonline > max_off)
				max_off = hp_ncpu - nonline;
		} else if (!online[c]) {
			CHECK_EQ(za_cpu_online(za, c), 0);
			CHECK_EQ(za_cpu_is_online(za, c), 1);
			online[c] = 1;
			nonline++;
			ons++;
		}
		if (hp_now_ns() - t0 > worst_flip)
			worst_flip = hp_now_ns() - t0;
		if (r % 1024 == 0) {
			/* Now and then the flipper drains too. */
			za_drain_all_pages(za);
		}
		hp_sleep_us(100 + (unsigned)((r >> 16) % 300));
	}
	uint64_t t_storm = hp_now_ns() - t_start;
	atomic_store(&stop, 1);
	for (int i = 0; i < NTHR; i++)
		CHECK(pthread_join(th[i], NULL) == 0);
	printf("seed000 (%s page sets): %lu CPU offlines, %lu onlines in %.0f ms "
	       "(up to %lu of %u CPUs off at once, slowest flip %.2f ms); %lu "
	       "allocations in %lu fill/free cycles, %lu ran the allocator dry, "
	       "%lu drain_all calls; %llu CPU fences; %lu sets left to the "
	       "worker\n",
	       pm_rseq ? "restartable" : "locked", offs, ons, hp_ms(t_storm),
	       max_off, hp_ncpu, hp_ms(worst_flip), atomic_load(&n_alloc),
	       atomic_load(&n_cycles), atomic_load(&n_exhausted),
	       atomic_load(&n_drain_all), za_event_count(za, ZA_PCP_FENCE),
	       n_deferred);
	CHECK(offs > 0 && ons > 0);
	pm_check_fenced(za, "hotplug_seed000");
	CHECK(atomic_load(&n_exhausted) > 0);

	/* Nothing lost with some CPUs still offline, then with all online. */
	hp_all_pages_back(za);
	for (unsigned c = 0; c < hp_ncpu; c++)
		if (!online[c])
			CHECK_EQ(za_cpu_online(za, c), 0);
	hp_all_pages_back(za);
	CHECK_EQ(za_event_count(za, ZA_PGALLOC), za_event_count(za, ZA_PGFREE));
}

/* --- bad input ---------------------------------------------------------- */

static char *report_text(struct za *z, enum za_report what)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CHECK(f != NULL);
	CHECK_EQ(za_report(z, what, f), 0);
	fclose(f);
	return buf;
}

struct snap {
	int online[NCPU];
	char *zoneinfo, *vmstat;
};

static void take_snap(struct za *z, struct snap *s)
{
	for (unsigned c = 0; c < NCPU; c++)
		s->online[c] = za_cpu_is_online(z, c);
	s->zoneinfo = report_text(z, ZA_REPORT_ZONEINFO);
	s->vmstat = report_text(z, ZA_REPORT_VMSTAT);
}

static void same_snap(struct za *z, struct snap *before, const char *what)
{
	struct snap after;
	take_snap(z, &after);
	for (unsigned c = 0; c < NCPU; c++)
		CHECK_EQ(after.online[c], before->online[c]);
	if (strcmp(after.zoneinfo, before->zoneinfo) ||
	    strcmp(after.vmstat, before->vmstat)) {
		fprintf(stderr, "%s changed the reports\n", what);
		exit(1);
	}
	free(after.zoneinfo);
	free(after.vmstat);
}

/* Bad CPU numbers and states change nothing, the last online CPU stays,
 * and a thread on an offline CPU still allocates and frees while that
 * CPU's page sets stay empty and off. On the run's CPUs: simulated ones
 * (locked page sets), or real ones with restartable page sets, the thread
 * then pinned to the offline CPU. CPUs 0 .. n - 1; the last one starts
 * offline. */
static void bad_input(void)
{
	const unsigned n = hp_ncpu, last = n - 1;
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	hp_config_cpus(&cfg, NCPU);
	cfg.block_pages = BLK;
	cfg.max_pfn = MAX_PFN;
	cfg.online_cpus = n - 1; /* the last CPU starts offline */
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *z = za_create(&cfg);
	CHECK(z != NULL);
	pm_check_mode(z, "hotplug_seed000");
	CHECK_EQ(za_memory_online(z, 0, ZA_ZONE_NORMAL, START, NPAGES, NULL), 0);
	CHECK_EQ(za_cpu_is_online(z, 0), 1);
	CHECK_EQ(za_cpu_is_online(z, last), 0);

	/* Some traffic first, so that the reports have something in them. */
	hp_set_cpu(0);
	struct za_page *keep[64];
	for (int i = 0; i < 64; i++)
		CHECK((keep[i] = za_alloc_pages(z, ZA_GFP_KERNEL, (unsigned)i % 3)) !=
		      NULL);
	for (int i = 0; i < 64; i += 2)
		za_free_pages(z, keep[i], (unsigned)i % 3);

	struct snap s;
	take_snap(z, &s);
	CHECK_EQ(za_cpu_offline(z, n), -EINVAL);
	CHECK_EQ(za_cpu_online(z, n), -EINVAL);
	CHECK_EQ(za_cpu_offline(z, 100000), -EINVAL);
	CHECK_EQ(za_cpu_online(z, (unsigned)-1), -EINVAL);
	CHECK_EQ(za_cpu_is_online(z, n), -EINVAL);
	same_snap(z, &s, "an out-of-range CPU");
	CHECK_EQ(za_cpu_offline(z, last), -EEXIST);
	same_snap(z, &s, "offlining an offline CPU");
	CHECK_EQ(za_cpu_online(z, 0), -EEXIST);
	same_snap(z, &s, "onlining an online CPU");
	free(s.zoneinfo);
	free(s.vmstat);

	/* Down to one CPU; the last one stays. */
	for (unsigned c = 1; c < last; c++)
		CHECK_EQ(za_cpu_offline(z, c), 0);
	take_snap(z, &s);
	CHECK_EQ(za_cpu_offline(z, 0), -EBUSY);
	CHECK_EQ(za_cpu_is_online(z, 0), 1);
	same_snap(z, &s, "offlining the last online CPU");
	free(s.zoneinfo);
	free(s.vmstat);

	/* A thread on an offline CPU still allocates and frees; that CPU's
	 * page sets stay empty and off. */
	hp_set_cpu((int)last);
	struct za_page *p[32];
	for (int i = 0; i < 32; i++)
		CHECK((p[i] = za_alloc_pages(z, ZA_GFP_KERNEL, (unsigned)i % 4)) !=
		      NULL);
	for (int i = 0; i < 32; i++)
		za_free_pages(z, p[i], (unsigned)i % 4);
	CHECK_EQ(za_alloc_pages_bulk(z, ZA_GFP_KERNEL, 32, p), 32);
	za_free_pages_bulk(z, 32, p);
	za_drain_local_pages(z);
	for (int t = 0; t < ZA_NR_ZONES; t++) {
		struct za_pcp_info pi;
		CHECK_EQ(za_pcp_info(z, last, 0, (enum za_zone_type)t, &pi), 0);
		CHECK_EQ(pi.count, 0);
		CHECK_EQ(pi.usable, 0);
	}
	/* Back online: usable again, and a free from that CPU goes on its
	 * list (on real CPUs a sequence the kernel aborted - a preemption -
	 * takes the buddy lists instead, so allow a few tries). */
	CHECK_EQ(za_cpu_online(z, last), 0);
	struct za_pcp_info pi;
	for (int tries = 0; tries < 100; tries++) {
		struct za_page *q = za_alloc_pages(z, ZA_GFP_KERNEL, 0);
		CHECK(q != NULL);
		za_free_pages(z, q, 0);
		CHECK_EQ(za_pcp_info(z, last, 0, ZA_ZONE_NORMAL, &pi), 0);
		if (pi.count > 0)
			break;
	}
	CHECK_EQ(pi.usable, 1);
	if (pi.count == 0)
		fprintf(stderr,
		        "seed000: frees on CPU %u never reached its list "
		        "after it came back online\n",
		        last);
	CHECK(pi.count > 0);
	for (unsigned c = 1; c < last; c++)
		CHECK_EQ(za_cpu_online(z, c), 0);
	hp_set_cpu(0);
	for (int i = 1; i < 64; i += 2)
		za_free_pages(z, keep[i], (unsigned)i % 3);
	hp_all_pages_back(z);
	za_destroy(z);
}

int main(int argc, char **argv)
{
	hp_mode(argc, argv, "hotplug_seed000", NCPU);
	tu_watchdog(150);
	bad_input();

	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	hp_config_cpus(&cfg, NCPU);
	cfg.block_pages = BLK;
	cfg.max_pfn = MAX_PFN;
	cfg.flags = ZA_CFG_NO_KSWAPD;
	cfg.vmstat_interval_ms = 5; /* the fold and decay run during the storm */
	za = za_create(&cfg);
	CHECK(za != NULL);
	pm_check_mode(za, "hotplug_seed000");
	za_debug_set(za, ZA_DEBUG_RANDOM_YIELD, 1); /* debug builds only */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, START, NPAGES, NULL), 0);
	storm();
	za_destroy(za);
	printf("hotplug_seed000: ok\n");
	return 0;
}
