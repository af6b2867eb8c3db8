/*
 * test_reclaim_vmstat.c - the vmstat report (ZA_REPORT_VMSTAT) after
 * reclaim of every kind.
 *
 * Four zones (DMA, DMA32, NORMAL, MOVABLE), two simulated CPUs, kswapd on.
 * Known allocations in each zone, direct reclaim and kswapd reclaim through
 * a cache shrinker, an OOM call, per-CPU refills, flushes and drains. Then,
 * quiescent, the report must hold every name below exactly once, in the
 * kernel's "name value" form, with the value za_event_count gives (and the
 * four pgalloc_<zone> lines adding up to pgalloc, each matching the
 * allocations made in that zone; the same for allocstall_<zone>). Every
 * name the kernel has comes before the library's own (zonealloc_...).
 * pgalloc_* and pgfree count pages, as in the kernel; pgsteal_* add up to
 * what the shrinker freed and pgscan_* to what it was asked for.
 */
#include "test_reclaim_common.c"

#define BLK 1024UL
#define DMA_START 0UL
#define DMA32_START (1 * BLK)
#define NORMAL_START (2 * BLK)
#define MOVABLE_START (6 * BLK)
#define TOTAL (8 * BLK)

static const char *const required[] = {
	"nr_free_pages",
	"pgalloc_dma",
	"pgalloc_dma32",
	"pgalloc_normal",
	"pgalloc_movable",
	"allocstall_dma",
	"allocstall_dma32",
	"allocstall_normal",
	"allocstall_movable",
	"pgfree",
	"zonealloc_kswapd_wake",
	"kswapd_low_wmark_hit_quickly",
	"kswapd_high_wmark_hit_quickly",
	"pgsteal_kswapd",
	"pgsteal_direct",
	"pgscan_kswapd",
	"pgscan_direct",
	"oom_kill",
	"zonealloc_pcp_refill",
	"zonealloc_pcp_refill_pages",
	"zonealloc_pcp_flush",
	"zonealloc_pcp_flush_pages",
	"zonealloc_pcp_drain",
	"zonealloc_pcp_drain_pages",
	"zonealloc_drain_retry",
};

struct line {
	char name[64];
	unsigned long long value;
	int seen;
};

static struct line lines[256];
static int nlines;

static void parse(const char *text)
{
	nlines = 0;
	const char *s = text;
	while (*s) {
		const char *nl = strchr(s, '\n');
		CHECK(nl != NULL); /* every line ends */
		char buf[128];
		size_t len = (size_t)(nl - s);
		CHECK(len < sizeof(buf));
		memcpy(buf, s, len);
		buf[len] = 0;
		struct line *l = &lines[nlines];
		char extra;
		CHECK(nlines < 256);
		CHECK(sscanf(buf, "%63s %llu%c", l->name, &l->value, &extra) == 2);
		for (int i = 0; i < nlines; i++)
			CHECK(strcmp(lines[i].name, l->name) != 0); /* once each */
		nlines++;
		s = nl + 1;
	}
}

static struct line *find(const char *name)
{
	for (int i = 0; i < nlines; i++)
		if (!strcmp(lines[i].name, name))
			return &lines[i];
	return NULL;
}

static unsigned long long zone_event_sum(struct za *za, int t, int ev)
{
	struct za_zone *z = &za->nodes[0].zones[t];
	unsigned long long v = za_load_relaxed(&z->events[ev]);
	for (unsigned c = 0; c < za->nr_cpus; c++)
		v += pcp_event(&z->pcp[c], ev);
	return v;
}

static unsigned long long zone_pgalloc(struct za *za, int t)
{
	return zone_event_sum(za, t, ZA_PGALLOC);
}

static bool kswapd_busy(struct za *za)
{
	struct za_node *node = &za->nodes[0];
	za_mutex_lock(&node->kswapd_lock);
	bool busy = node->kswapd_running || node->kswapd_highest_zoneidx >= 0;
	za_mutex_unlock(&node->kswapd_lock);
	return busy;
}

static unsigned long oom_calls;
static unsigned long oom_cb(void *ctx, int nid, unsigned order)
{
	(void)ctx;
	(void)nid;
	(void)order;
	oom_calls++;
	return 0;
}

int main(void)
{
	tu_watchdog(120);
	tl_is_main = 1;
	tl_cpu = 0;
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = 2;
	cfg.cpu_id = sim_cpu;
	cfg.block_pages = BLK;
	cfg.max_pfn = TOTAL + BLK;
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_DMA, DMA_START, BLK, NULL), 0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_DMA32, DMA32_START, BLK, NULL),
	         0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, NORMAL_START, 4 * BLK,
	                          NULL),
	         0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, MOVABLE_START, 2 * BLK,
	                          NULL),
	         0);

	struct cache cache;
	struct za_shrinker shr;
	struct pinned pinned;
	cache_init(&cache, za, 16 * TOTAL);
	cache_shrinker(&shr, &cache);
	pinned_init(&pinned, TOTAL);
	CHECK_EQ(za_register_shrinker(za, &shr), 0);
	za_set_oom_handler(za, oom_cb, NULL);

	/* Known allocations in each zone, on both CPUs. */
	static const za_gfp_t gfp[ZA_NR_ZONES] = { ZA_GFP_DMA, ZA_GFP_DMA32,
		                                       ZA_GFP_KERNEL, ZA_GFP_MOVABLE };
	static const unsigned nr[ZA_NR_ZONES] = { 17, 29, 101, 53 };
	unsigned long long before[ZA_NR_ZONES];
	for (int t = 0; t < ZA_NR_ZONES; t++)
		before[t] = zone_pgalloc(za, t);
	for (int t = 0; t < ZA_NR_ZONES; t++) {
		for (unsigned i = 0; i < nr[t]; i++) {
			tl_cpu = (int)(i & 1);
			struct za_page *p = za_alloc_pages(za, gfp[t], 0);
			CHECK(p != NULL);
			CHECK_EQ(za_page_zone(za, p), t);
			pinned_add(&pinned, p);
		}
	}
	tl_cpu = 0;
	for (int t = 0; t < ZA_NR_ZONES; t++)
		CHECK_EQ(zone_pgalloc(za, t) - before[t], nr[t]);

	/* Pressure: KERNEL into the cache, three times memory; kswapd and
	 * direct reclaim both give pages back. Then exhaust it: OOM. */
	struct za_page *p;
	for (unsigned long i = 0; i < 3 * TOTAL; i++) {
		p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
		CHECK(p != NULL);
		cache_add(&cache, p);
	}
	/* kswapd's turn, for sure: NOWAIT (no direct reclaim) down to min,
	 * then wait until kswapd has brought NORMAL back over high. */
	while ((p = za_alloc_pages(za, ZA_GFP_NOWAIT, 0)))
		cache_add(&cache, p);
	uint64_t t0 = now_ms();
	while (now_ms() - t0 < 20000 &&
	       (zone_info(za, ZA_ZONE_NORMAL).free <
	            zone_info(za, ZA_ZONE_NORMAL).high ||
	        kswapd_busy(za) || atomic_load(&cache.in_scan)))
		sleep_ms(2);
	CHECK(za_event_count(za, ZA_PGSTEAL_KSWAPD) > 0);

	/* Direct reclaim's turn, for sure: kswapd's scans free nothing now,
	 * so an allocation at min reclaims the cache itself. */
	atomic_store(&cache.others_free_nothing, true);
	while (cache_size(&cache)) {
		p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
		if (p)
			pinned_add(&pinned, p);
		if (pinned.n == pinned.cap)
			break;
	}
	while ((p = za_alloc_pages(za, ZA_GFP_KERNEL, 0)) && pinned.n < pinned.cap)
		pinned_add(&pinned, p);
	if (p)
		za_free_pages(za, p, 0);
	CHECK(oom_calls > 0);
	CHECK(za_event_count(za, ZA_PGSTEAL_DIRECT) > 0);
	atomic_store(&cache.others_free_nothing, false);

	/* Quiesce: give everything back, let kswapd finish, empty every list
	 * (so the periodic decay has nothing to flush). */
	pinned_free(za, &pinned, pinned.n);
	cache_free_all(&cache);
	t0 = now_ms();
	while (now_ms() - t0 < 20000 &&
	       (kswapd_busy(za) || atomic_load(&cache.in_scan)))
		sleep_ms(2);
	CHECK(!kswapd_busy(za));
	za_drain_all_pages(za);
	za_vmstat_fold(za);

	char *text = NULL;
	size_t len = 0;
	unsigned long long ev[ZA_NR_EVENTS], ev2[ZA_NR_EVENTS];
	for (int attempt = 0;; attempt++) {
		CHECK(attempt < 100);
		for (int e = 0; e < ZA_NR_EVENTS; e++)
			ev[e] = za_event_count(za, (enum za_event)e);
		free(text);
		FILE *f = open_memstream(&text, &len);
		CHECK(f != NULL);
		CHECK_EQ(za_report(za, ZA_REPORT_VMSTAT, f), 0);
		fclose(f);
		for (int e = 0; e < ZA_NR_EVENTS; e++)
			ev2[e] = za_event_count(za, (enum za_event)e);
		if (!memcmp(ev, ev2, sizeof(ev)))
			break;
		sleep_ms(10);
	}
	parse(text);

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (!find(required[i]))
			fprintf(stderr, "missing from the report: %s\n", required[i]);
		CHECK(find(required[i]) != NULL);
	}
	/* Every event under its own name, with za_event_count's value;
	 * pgalloc split by zone type. */
	for (int e = 0; e < ZA_NR_EVENTS; e++) {
		const char *name = za_event_name((enum za_event)e);
		CHECK(name != NULL);
		if (e == ZA_PGALLOC || e == ZA_ALLOCSTALL) {
			CHECK(find(name) == NULL); /* per zone type only */
			continue;
		}
		struct line *l = find(name);
		if (!l)
			fprintf(stderr, "event %s not in the report\n", name);
		CHECK(l != NULL);
		if (l->value != ev[e])
			fprintf(stderr, "%s: report %llu, za_event_count %llu\n", name,
			        l->value, ev[e]);
		CHECK_EQ(l->value, ev[e]);
		l->seen = 1;
	}
	static const char *const pgalloc_names[ZA_NR_ZONES] = {
		"pgalloc_dma", "pgalloc_dma32", "pgalloc_normal", "pgalloc_movable"
	};
	unsigned long long sum = 0;
	for (int t = 0; t < ZA_NR_ZONES; t++) {
		struct line *l = find(pgalloc_names[t]);
		CHECK_EQ(l->value, zone_pgalloc(za, t));
		sum += l->value;
		l->seen = 1;
	}
	CHECK_EQ(sum, ev[ZA_PGALLOC]);
	static const char *const stall_names[ZA_NR_ZONES] = {
		"allocstall_dma", "allocstall_dma32", "allocstall_normal",
		"allocstall_movable"
	};
	unsigned long long stalls = 0;
	for (int t = 0; t < ZA_NR_ZONES; t++) {
		struct line *l = find(stall_names[t]);
		CHECK_EQ(l->value, zone_event_sum(za, t, ZA_ALLOCSTALL));
		stalls += l->value;
		l->seen = 1;
	}
	CHECK_EQ(stalls, ev[ZA_ALLOCSTALL]);
	CHECK(stalls > 0);
	/* The kernel's names first, in one run; the library's after. */
	int first_own = nlines;
	for (int i = 0; i < nlines; i++)
		if (strncmp(lines[i].name, "zonealloc_", 10) == 0) {
			if (first_own == nlines)
				first_own = i;
		} else if (first_own < nlines) {
			fprintf(stderr, "%s after the library's own names\n",
			        lines[i].name);
			CHECK(0);
		}
	CHECK(find("pgalloc_dma")->value >= nr[ZA_ZONE_DMA]);
	CHECK(find("pgalloc_movable")->value == nr[ZA_ZONE_MOVABLE]);
	/* The zone statistics too (folded, quiescent: exact). */
	for (int i = 0; i < ZA_NR_ZONE_STATS; i++) {
		struct line *l = find(za_zone_stat_name((enum za_zone_stat)i));
		CHECK(l != NULL);
		long v = 0;
		for (int t = 0; t < ZA_NR_ZONES; t++)
			v += za_zone_stat(za, 0, (enum za_zone_type)t,
			                  (enum za_zone_stat)i);
		CHECK_EQ((long long)l->value, v);
		l->seen = 1;
	}
	CHECK_EQ((long long)find("nr_free_pages")->value, (long long)TOTAL);
	for (int i = 0; i < nlines; i++)
		if (!lines[i].seen)
			printf("  (also reported: %s %llu)\n", lines[i].name,
			       lines[i].value);

	/* Everything this test provoked shows. */
	static const char *const nonzero[] = { "pgfree",
		                                   "zonealloc_kswapd_wake",
		                                   "pgsteal_kswapd",
		                                   "pgscan_kswapd",
		                                   "pgsteal_direct",
		                                   "pgscan_direct",
		                                   "oom_kill",
		                                   "zonealloc_pcp_refill",
		                                   "zonealloc_pcp_drain",
		                                   "zonealloc_pcp_flush",
		                                   "zonealloc_drain_retry" };
	for (size_t i = 0; i < sizeof(nonzero) / sizeof(nonzero[0]); i++) {
		if (!find(nonzero[i])->value)
			fprintf(stderr, "%s is 0\n", nonzero[i]);
		CHECK(find(nonzero[i])->value > 0);
	}
	CHECK_EQ(find("oom_kill")->value, oom_calls);
	CHECK_EQ(find("pgsteal_direct")->value + find("pgsteal_kswapd")->value,
	         atomic_load(&cache.scan_freed));
	/* pgscan_*: the pages the shrinkers were asked for. */
	CHECK_EQ(find("pgscan_direct")->value + find("pgscan_kswapd")->value,
	         atomic_load(&cache.scan_asked));
	printf("report: %d lines; allocstall %llu, pgsteal_direct %llu, "
	       "pgsteal_kswapd %llu, kswapd_wake %llu, oom_kill %llu, "
	       "pcp refill %llu drain %llu\n",
	       nlines, stalls, find("pgsteal_direct")->value,
	       find("pgsteal_kswapd")->value, find("zonealloc_kswapd_wake")->value,
	       find("oom_kill")->value, find("zonealloc_pcp_refill")->value,
	       find("zonealloc_pcp_drain")->value);

	/* Units, as the kernel counts them: pgalloc_* and pgfree in pages. */
	unsigned long long a0 = zone_pgalloc(za, ZA_ZONE_NORMAL);
	unsigned long long f0 = za_event_count(za, ZA_PGFREE);
	p = za_alloc_pages(za, ZA_GFP_KERNEL, 2);
	CHECK(p != NULL);
	CHECK_EQ(za_page_zone(za, p), ZA_ZONE_NORMAL);
	CHECK_EQ(zone_pgalloc(za, ZA_ZONE_NORMAL) - a0, 4);
	za_free_pages(za, p, 2);
	CHECK_EQ(za_event_count(za, ZA_PGFREE) - f0, 4);

	free(text);
	za_unregister_shrinker(za, &shr);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	cache_fini(&cache);
	free(pinned.pages);
	CHECK_EQ(atomic_load(&lock_violations), 0);
	return expect_failures("reclaim_vmstat");
}
