/*
 * test_reclaim_drift.c - per-CPU counter drift against the watermarks
 * (seed 003).
 *
 * The free-page counter is a global value plus a delta per CPU, folded
 * into the global value only when it passes the zone's stat_threshold. A
 * pcp refill moves pages from the buddy lists to a CPU's list and takes
 * them off that CPU's delta, not off the global value. With many CPUs each
 * holding a delta just under the threshold, the global value claims pages
 * the buddy lists no longer have.
 *
 * Setup: 64 simulated CPUs, one NORMAL zone of 64 blocks (65536 pages: a
 * stat_threshold of 42 with 64 CPUs), kswapd and the vmstat worker off (no
 * fold, no pressure threshold). The zone is first brought down with
 * allocations made on no CPU (straight from the buddy lists: the counter
 * stays exact) to D + min/2 free pages, D being the drift the next step
 * will build up. Then each CPU in turn allocates from its own list:
 *  - fixed per-CPU lists of one page (ZA_CFG_PCP_FIXED, high = batch = 1):
 *    42 allocations a CPU, each a refill of one page: every delta at -42,
 *    exactly the threshold, D = 64 * 42;
 *  - self-sizing lists (the default): one allocation a CPU, one refill of
 *    a batch: every delta at -batch, D = 64 * batch.
 *
 * Part A, with za_debug_set(ZA_DEBUG_NO_SNAPSHOT, 1) (the checks read only
 * the global value, as before the fix): every allocation succeeds; the
 * global counter ends D above the buddy lists (za_zone_stat against
 * nr_free[] and za_zone_stat_snapshot); KERNEL allocations succeed with the
 * true free count below min; and then, taking pages on no CPU (checks at
 * low still pass on the counter's word), the buddy lists run empty while
 * the counter still says more than min is free - the picture of seed 003.
 * (Checks at min, in the slow path, use the exact count in every mode: the
 * knob only governs the checks at low.)
 *
 * Part B, snapshot on (the default): the same sequence, KERNEL and NOWAIT
 * alternately: the counter overclaims just the same, but no allocation
 * ever leaves the true free count below min (they fail, or the slow path
 * finds pages by draining the other CPUs' lists).
 *
 * With --rseq (ctest: reclaim_drift_rseq) the page sets are restartable
 * and the CPUs real (pcp_mode.h): each CPU's step runs on a thread pinned
 * to it, and the slow path's drain of the other CPUs' lists stops and
 * fences a real CPU. Two CPUs cannot out-drift the default watermark gap,
 * so this run uses a zone of 4096 pages of 64 KiB (a stat_threshold of 12
 * with two CPUs against a low - min gap of 4) and fixed lists of one page
 * only; and since a thread is always on some CPU, bring_down reaches its
 * target exactly by allocating, draining and folding instead of allocating
 * on no CPU, and part A's last step (down to empty buddy lists on no CPU)
 * is left out. The rule is the same: with the snapshot no allocation
 * leaves the true free count below min. Each run is a child process,
 * repeated when a sequence the kernel aborted moved a page past the
 * counts (pcp_mode.h, pm_run).
 */
#include "test_reclaim_common.c"
#include "pcp_mode.h"

#define BLK 1024UL
#define NBLK 64UL
#define NCPU 64
/* The restartable run's zone: small, with big pages (see above). */
#define RSEQ_NBLK 4UL
#define RSEQ_PAGE_SHIFT 16
#define RSEQ_MIN_KB 1024 /* 16 pages */

static unsigned long n_managed = NBLK * BLK;
static unsigned ncpu = NCPU; /* CPUs that build up drift */

static void set_cpu(int c)
{
	pm_set_cpu(&tl_cpu, c);
}

static struct za *make(bool fixed)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	pm_config(&cfg, NCPU, sim_cpu);
	cfg.block_pages = BLK;
	cfg.max_pfn = n_managed + BLK;
	if (pm_rseq) {
		cfg.page_shift = RSEQ_PAGE_SHIFT;
		cfg.min_free_kbytes = RSEQ_MIN_KB;
	}
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	if (fixed) {
		cfg.flags |= ZA_CFG_PCP_FIXED;
		cfg.pcp_high = 1;
		cfg.pcp_batch = 1;
	}
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	pm_check_mode(za, "reclaim_drift");
	pm_watch(za);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, n_managed, NULL), 0);
	return za;
}

static long global_free(struct za *za)
{
	return za_zone_stat(za, 0, ZA_ZONE_NORMAL, ZA_NR_FREE_PAGES);
}

static long cpu_delta(struct za *za, int cpu)
{
	return za_load_relaxed(
	    &za->nodes[0].zones[ZA_ZONE_NORMAL].pcp[cpu].vm_diff[ZA_NR_FREE_PAGES]);
}

struct run {
	bool fixed, snapshot;
	/* results */
	long th, per_cpu, drift, g0;
	unsigned long ok, fail, ok_below_min;
	long min_true_after_ok; /* lowest true free count after a success */
	long max_overclaim;     /* most the counter said above the truth */
	long g_end, t_end;
};

/* Bring the zone to `target` free pages with allocations on no CPU (a
 * restartable run: on CPU 0, then drain and fold). */
static void bring_down(struct za *za, struct pinned *held, long target)
{
	if (pm_rseq) {
		set_cpu(0);
		for (;;) {
			za_drain_all_pages(za);
			za_vmstat_fold(za);
			long n = global_free(za) - target;
			if (n <= 0)
				break;
			while (n-- > 0) {
				struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
				CHECK(p != NULL);
				pinned_add(held, p);
			}
		}
		CHECK_EQ(global_free(za), target);
		CHECK_EQ((long)buddy_pages(za, ZA_ZONE_NORMAL), target);
		for (unsigned c = 0; c < ncpu; c++)
			CHECK_EQ(cpu_delta(za, (int)c), 0);
		return;
	}
	int cpu = tl_cpu;
	tl_cpu = -1;
	while (global_free(za) > target) {
		struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
		CHECK(p != NULL);
		pinned_add(held, p);
	}
	tl_cpu = cpu;
	CHECK_EQ(global_free(za), target);
	CHECK_EQ((long)buddy_pages(za, ZA_ZONE_NORMAL), target);
}

static void run(struct run *r)
{
	struct za *za = make(r->fixed);
	struct pinned held;
	pinned_init(&held, n_managed);
	if (!r->snapshot)
		CHECK_EQ(za_debug_set(za, ZA_DEBUG_NO_SNAPSHOT, 1), 0);
	struct za_zone_info zi = zone_info(za, ZA_ZONE_NORMAL);
	struct za_pcp_info pi = pcp_info(za, 0, ZA_ZONE_NORMAL);
	r->th = zi.stat_threshold;
	r->per_cpu = r->fixed ? r->th : (long)pi.batch;
	r->drift = (long)ncpu * r->per_cpu;
	long min = (long)zi.min;
	CHECK(r->drift > (long)(zi.low - zi.min)); /* drift beats the gap */
	r->g0 = r->drift + min / 2;
	CHECK(r->g0 > (long)zi.low);
	CHECK(r->g0 < (long)zi.managed);
	bring_down(za, &held, r->g0);
	r->min_true_after_ok = r->g0;

	/* Each CPU allocates from its own list. */
	for (int c = 0; c < (int)ncpu; c++) {
		set_cpu(c);
		long n = r->fixed ? r->th : 1;
		for (long i = 0; i < n; i++) {
			za_gfp_t gfp = (r->snapshot && (c + i) % 2) ? ZA_GFP_NOWAIT
			                                            : ZA_GFP_KERNEL;
			struct za_page *p = za_alloc_pages(za, gfp, 0);
			long t = (long)buddy_pages(za, ZA_ZONE_NORMAL);
			if (global_free(za) - t > r->max_overclaim)
				r->max_overclaim = global_free(za) - t;
			if (!p) {
				r->fail++;
				continue;
			}
			pinned_add(&held, p);
			r->ok++;
			if (t < r->min_true_after_ok)
				r->min_true_after_ok = t;
			if (t < min)
				r->ok_below_min++;
		}
		if (!r->snapshot) {
			/* The delta sits where the test put it: no fold. */
			CHECK_EQ(cpu_delta(za, c), -r->per_cpu);
		}
	}
	set_cpu(0);
	r->g_end = global_free(za);
	r->t_end = (long)buddy_pages(za, ZA_ZONE_NORMAL);
	/* The snapshot is the truth: global value plus every delta. */
	CHECK_EQ(za_zone_stat_snapshot(za, 0, ZA_ZONE_NORMAL, ZA_NR_FREE_PAGES),
	         r->t_end);
	CHECK_EQ(zone_info(za, ZA_ZONE_NORMAL).free, (unsigned long)r->t_end);

	printf("%s, snapshot %s: threshold %ld, %ld pages a CPU, drift %ld; "
	       "start %ld free (min %ld low %lu); %lu ok (%lu left the true "
	       "count below min, lowest %ld), %lu NULL; counter %ld, buddy "
	       "lists %ld; counter over truth by up to %ld\n",
	       r->fixed ? "fixed lists of 1" : "self-sizing lists",
	       r->snapshot ? "on " : "off", r->th, r->per_cpu, r->drift, r->g0,
	       min, zi.low, r->ok, r->ok_below_min, r->min_true_after_ok, r->fail,
	       r->g_end, r->t_end, r->max_overclaim);

	if (!r->snapshot) {
		/* A: the counter claims D pages the buddy lists do not have,
		 * and KERNEL allocations went below min on its word. */
		CHECK_EQ(r->fail, 0);
		CHECK_EQ(r->g_end, r->g0);
		CHECK_EQ(r->g_end - r->t_end, r->drift);
		CHECK(r->t_end < min);
		CHECK(r->ok_below_min > 0);
		CHECK_EQ(r->max_overclaim, r->drift);
		if (pm_rseq)
			goto done; /* no "no CPU" on real CPUs */
		/* Down to empty buddy lists, on no CPU (exact accounting from
		 * here): the counter still says more than min is free. */
		tl_cpu = -1;
		struct za_page *p;
		while (buddy_pages(za, ZA_ZONE_NORMAL) > 0) {
			p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
			CHECK(p != NULL);
			pinned_add(&held, p);
		}
		long g = global_free(za);
		printf("  buddy lists empty, counter %ld > min %ld\n", g, min);
		CHECK(g > min);
		tl_cpu = 0;
	} else {
		/* B: the watermark check saw the truth. */
		CHECK(r->t_end >= min);
		EXPECT(r->ok_below_min == 0);
		EXPECT(r->min_true_after_ok >= min);
		/* It was close: the zone did get down to min, with the counter
		 * then claiming more than the low-min gap above the truth. */
		CHECK(r->min_true_after_ok < min + r->per_cpu);
		CHECK(r->max_overclaim > (long)(zi.low - zi.min));
		/* On no CPU too (a restartable run: on CPU 0). */
		if (pm_rseq)
			set_cpu(0);
		else
			tl_cpu = -1;
		struct za_page *p;
		while ((p = za_alloc_pages(za, ZA_GFP_KERNEL, 0)))
			pinned_add(&held, p);
		CHECK(buddy_pages(za, ZA_ZONE_NORMAL) >= (unsigned long)min);
		set_cpu(0);
	}
done:
	pm_check_fenced(za, "reclaim_drift");

	pinned_free(za, &held, held.n);
	CHECK_EQ(za_check(za, stderr), 0);
	pm_destroy(za);
	free(held.pages);
}

/* A restartable run: each run in a child process (pm_run). */
static struct run rseq_run;
static void rseq_one(void)
{
	run(&rseq_run);
	if (expect_failed)
		exit(1);
}

int main(int argc, char **argv)
{
	pm_init(argc, argv, "reclaim_drift", NCPU);
	tu_watchdog(60);
	tl_is_main = 1;
	if (pm_rseq) {
		ncpu = pm_ncpu;
		n_managed = RSEQ_NBLK * BLK;
		rseq_run = (struct run){ .fixed = true, .snapshot = false };
		pm_run("reclaim_drift, snapshot off", rseq_one);
		rseq_run = (struct run){ .fixed = true, .snapshot = true };
		pm_run("reclaim_drift, snapshot on", rseq_one);
		printf("reclaim_drift: ok\n");
		return 0;
	}
	for (int fixed = 1; fixed >= 0; fixed--) {
		struct run a = { .fixed = fixed, .snapshot = false };
		run(&a);
		struct run b = { .fixed = fixed, .snapshot = true };
		run(&b);
	}
	return expect_failures("reclaim_drift");
}
