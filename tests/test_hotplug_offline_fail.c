/*
 * test_hotplug_offline_fail.c - failed offlines leave everything as it was.
 *
 * (a) An unmovable page in use (ZA_GFP_KERNEL, then RECLAIMABLE, then
 *     ATOMIC of order 2) inside a ZONE_NORMAL block, next to movable pages
 *     in use and free ones: offline fails with -EBUSY before moving
 *     anything (the migrate callback is never called), and after
 *     za_drain_all_pages the BUDDYINFO, PAGETYPEINFO and ZONEINFO reports,
 *     every za_zone_info field, every zone counter and every event are
 *     exactly as before - except zonealloc_offline_fail, one more. Once
 *     the unmovable page is freed, the same offline succeeds.
 * (b) A migrate callback that always refuses (-EBUSY) and an offline
 *     timeout of 200 ms: -EAGAIN, no sooner than the timeout and well
 *     before a generous bound; afterwards the block is online, nothing is
 *     isolated, no page set is off, the buddy and pagetype reports and the
 *     zone's counters are as before, the client's data is intact,
 *     za_check passes, and the whole block can be allocated again as one
 *     max-order block (which also proves its free pages merged back).
 * (c) Bad ranges: offline of a range not online or only partly online
 *     (-ENOENT), misaligned, empty, beyond max_pfn or across two zones
 *     (-EINVAL); online of a range overlapping an online one (-EEXIST),
 *     with a bad node or zone or misaligned (-EINVAL). None of them changes
 *     any report, counter or event.
 */
#include "test_hotplug_common.c"

#define NCPU 4
#define BLK 1024ul

static atomic_ulong migrate_calls;
static int count_migrate(void *ctx, struct za_page *dst, struct za_page *src,
                         unsigned order)
{
	atomic_fetch_add(&migrate_calls, 1);
	return hp_migrate(ctx, dst, src, order);
}

/* --- snapshots ------------------------------------------------------------ */

static char *report_text(struct za *za, enum za_report what)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CHECK(f != NULL);
	CHECK_EQ(za_report(za, what, f), 0);
	fclose(f);
	return buf;
}

/* Drop the lines that contain `skip` (NULL: keep all). */
/* skip: '|'-separated substrings; a line holding any of them goes. */
static bool holds_any(const char *line, size_t n, const char *skip)
{
	for (const char *s = skip; *s;) {
		size_t k = strcspn(s, "|");
		if (k && memmem(line, n, s, k))
			return true;
		s += k + (s[k] == '|');
	}
	return false;
}

static char *without_lines(char *text, const char *skip)
{
	if (!skip)
		return text;
	char *out = malloc(strlen(text) + 1), *o = out;
	CHECK(out != NULL);
	for (char *line = text; *line;) {
		char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) + 1 : strlen(line);
		if (!holds_any(line, n, skip)) {
			memcpy(o, line, n);
			o += n;
		}
		line += n;
	}
	*o = 0;
	free(text);
	return out;
}

struct snap {
	char *rep[4];
	struct za_zone_info zi[ZA_NR_ZONES];
	long stat[ZA_NR_ZONES][ZA_NR_ZONE_STATS];
	unsigned long long ev[ZA_NR_EVENTS];
};

static void take_snap(struct za *za, struct snap *s)
{
	za_drain_all_pages(za);
	for (int r = 0; r < 4; r++)
		s->rep[r] = report_text(za, (enum za_report)r);
	for (int t = 0; t < ZA_NR_ZONES; t++) {
		CHECK_EQ(za_zone_info(za, 0, (enum za_zone_type)t, &s->zi[t]), 0);
		for (int i = 0; i < ZA_NR_ZONE_STATS; i++)
			s->stat[t][i] = za_zone_stat_snapshot(za, 0, (enum za_zone_type)t,
			                                      (enum za_zone_stat)i);
	}
	for (int e = 0; e < ZA_NR_EVENTS; e++)
		s->ev[e] = za_event_count(za, (enum za_event)e);
}

static void free_snap(struct snap *s)
{
	for (int r = 0; r < 4; r++)
		free(s->rep[r]);
}

static const char *const rep_name[4] = { "ZONEINFO", "BUDDYINFO",
	                                     "PAGETYPEINFO", "VMSTAT" };

/* Compare: reports in `reports` (bit per enum za_report) with lines
 * containing skip[r] dropped, zone info, stats and events; an event in
 * `ev_delta` may differ by that much (others by 0, or any if
 * events_free). */
static void same(struct snap *a, struct snap *b, unsigned reports,
                 const char *const skip[4], const long long *ev_delta,
                 bool events_free, const char *what)
{
	for (int r = 0; r < 4; r++) {
		if (!(reports & (1u << r)))
			continue;
		char *x = without_lines(strdup(a->rep[r]), skip ? skip[r] : NULL);
		char *y = without_lines(strdup(b->rep[r]), skip ? skip[r] : NULL);
		if (strcmp(x, y)) {
			fprintf(stderr,
			        "%s: the %s report changed.\n--- before\n%s\n"
			        "--- after\n%s\n",
			        what, rep_name[r], x, y);
			exit(1);
		}
		free(x);
		free(y);
	}
	for (int t = 0; t < ZA_NR_ZONES; t++) {
		if (memcmp(&a->zi[t], &b->zi[t], sizeof(a->zi[t]))) {
			fprintf(stderr,
			        "%s: za_zone_info of zone %d changed (free %lu -> "
			        "%lu, managed %lu -> %lu, pcp %lu -> %lu, isolated %lu -> "
			        "%lu)\n",
			        what, t, a->zi[t].free, b->zi[t].free, a->zi[t].managed,
			        b->zi[t].managed, a->zi[t].pcp_pages, b->zi[t].pcp_pages,
			        a->zi[t].isolated_free, b->zi[t].isolated_free);
			exit(1);
		}
		for (int i = 0; i < ZA_NR_ZONE_STATS; i++)
			if (a->stat[t][i] != b->stat[t][i]) {
				fprintf(stderr, "%s: zone %d %s %ld -> %ld\n", what, t,
				        za_zone_stat_name((enum za_zone_stat)i), a->stat[t][i],
				        b->stat[t][i]);
				exit(1);
			}
	}
	if (events_free)
		return;
	for (int e = 0; e < ZA_NR_EVENTS; e++) {
		long long want = ev_delta ? ev_delta[e] : 0;
		if ((long long)(b->ev[e] - a->ev[e]) != want) {
			fprintf(stderr, "%s: event %s moved by %lld, expected %lld\n",
			        what, za_event_name((enum za_event)e),
			        (long long)(b->ev[e] - a->ev[e]), want);
			exit(1);
		}
	}
}

static struct za *make(struct hp_client *cl, void *mem, unsigned long max_pfn,
                       unsigned timeout_ms, unsigned extra_flags)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = NCPU;
	cfg.cpu_id = hp_cpu_id;
	cfg.block_pages = BLK;
	cfg.max_pfn = max_pfn;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER | extra_flags;
	if (extra_flags & ZA_CFG_PCP_FIXED) {
		/* Page sets that do not size themselves: the ZONEINFO report
		 * stays comparable across allocations. */
		cfg.pcp_high = 96;
		cfg.pcp_batch = 16;
	}
	cfg.offline_timeout_ms = timeout_ms;
	cfg.migrate = count_migrate;
	cfg.migrate_ctx = cl;
	hp_client_init(cl, 1, 4096, max_pfn);
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	cl->za = za;
	(void)mem;
	return za;
}

/* --- (a) ---------------------------------------------------------------- */

static void unmovable(za_gfp_t gfp, unsigned order)
{
	struct hp_client cl;
	unsigned char *mem = hp_map(4 * BLK);
	struct za *za = make(&cl, mem, 4 * BLK, 5000, 0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 4 * BLK, mem), 0);
	uint64_t s = 0xfa11ull + gfp;
	hp_cpu = 1;

	/* Movable pages in use all over the zone, a quarter of them freed
	 * again: the unmovable request below then falls back into a hole
	 * between movable pages rather than into an untouched block. */
	struct za_zone_info zi;
	do {
		unsigned o = (unsigned)(tu_rand(&s) % 3);
		struct za_page *p = za_alloc_pages(za, ZA_GFP_MOVABLE, o);
		CHECK(p != NULL);
		hp_keep(za, &cl, 0, p, o, &s);
		CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	} while (zi.free + zi.pcp_pages > 700);
	struct hp_ent e;
	for (unsigned i = cl.tab[0].n / 4; i > 0; i--) {
		CHECK(hp_remove(&cl, 0, (unsigned)tu_rand(&s), &e));
		za_free_pages(za, e.p, e.order);
	}
	za_drain_all_pages(za);
	/* The unmovable block, and the hotplug block it lies in. */
	struct za_page *pin = za_alloc_pages(za, gfp, order);
	CHECK(pin != NULL);
	unsigned long blk = za_page_to_pfn(za, pin) & ~(BLK - 1);
	unsigned long movable_in_blk = 0;
	for (unsigned i = 0; i < cl.tab[0].n; i++)
		movable_in_blk += (za_page_to_pfn(za, cl.tab[0].e[i].p) &
		                   ~(BLK - 1)) == blk;
	CHECK(movable_in_blk > 0);
	/* Some free pages on per-CPU lists right up to the offline. */
	for (int i = 0; i < 20; i++) {
		CHECK(hp_remove(&cl, 0, (unsigned)tu_rand(&s), &e));
		za_free_pages(za, e.p, e.order);
	}

	struct snap a, b;
	take_snap(za, &a);
	unsigned long calls = atomic_load(&migrate_calls);
	uint64_t t0 = hp_now_ns();
	CHECK_EQ(za_memory_offline(za, blk, BLK), -EBUSY);
	uint64_t dt = hp_now_ns() - t0;
	CHECK_EQ(atomic_load(&migrate_calls), calls); /* at once: nothing moved */
	CHECK(dt < 5000ull * 1000000u);
	take_snap(za, &b);
	long long delta[ZA_NR_EVENTS] = { 0 };
	delta[ZA_OFFLINE_FAIL] = 1;
	same(&a, &b, 0xf,
	     (const char *const[4]){ NULL, NULL, NULL, "offline_fail" }, delta,
	     false, "offline -EBUSY");
	free_snap(&a);
	free_snap(&b);
	CHECK_EQ(za_check(za, stderr), 0);
	hp_verify_all(&cl, "after -EBUSY");
	printf("offline_fail: gfp %#x order %u in block %#lx with %lu movable "
	       "blocks: -EBUSY in %.3f ms, nothing changed\n",
	       gfp, order, blk, movable_in_blk, hp_ms(dt));

	/* Without the pin, the same offline goes through. */
	za_free_pages(za, pin, order);
	CHECK_EQ(za_memory_offline(za, blk, BLK), 0);
	CHECK(atomic_load(&migrate_calls) > calls);
	hp_verify_all(&cl, "after the offline");
	for (unsigned i = 0; i < cl.tab[0].n; i++)
		CHECK((za_page_to_pfn(za, cl.tab[0].e[i].p) & ~(BLK - 1)) != blk);
	CHECK_EQ(hp_online(za, mem, ZA_ZONE_NORMAL, blk, BLK), 0);
	hp_free_all(&cl, "end");
	hp_all_pages_back(za);
	za_destroy(za);
	hp_client_fini(&cl);
	munmap(mem, 4 * BLK * HP_PAGE);
}

/* --- (b) ---------------------------------------------------------------- */

static void refused(void)
{
	enum {
		NORMAL_START = 0,
		C_START = 2 * BLK,
		B_START = 3 * BLK,
		MAX = 4 * BLK
	};
	const unsigned timeout = 200;
	struct hp_client cl;
	unsigned char *mem = hp_map(MAX);
	struct za *za = make(&cl, mem, MAX, timeout, ZA_CFG_PCP_FIXED);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, NORMAL_START, 2 * BLK,
	                          mem),
	         0);
	CHECK_EQ(hp_online(za, mem, ZA_ZONE_MOVABLE, C_START, BLK), 0);
	CHECK_EQ(hp_online(za, mem, ZA_ZONE_MOVABLE, B_START, BLK), 0);
	uint64_t s = 0xb10c;
	hp_cpu = 2;
	/* One page held in C, so that B is the movable zone's only free
	 * max-order block once the client lets go of it. */
	struct za_page *pin = NULL;
	unsigned long in_b = 0;
	for (int i = 0; i < 900; i++) {
		unsigned o = (unsigned)(tu_rand(&s) % 4);
		struct za_page *p = za_alloc_pages(za, ZA_GFP_MOVABLE, o);
		CHECK(p != NULL);
		unsigned long pfn = za_page_to_pfn(za, p);
		if (!pin && o == 0 && pfn >= C_START && pfn < C_START + BLK) {
			pin = p;
			continue;
		}
		hp_keep(za, &cl, 0, p, o, &s);
		in_b += pfn >= B_START && pfn < B_START + BLK;
	}
	CHECK(pin != NULL);
	CHECK(in_b > 0);

	struct snap a, b;
	take_snap(za, &a);
	cl.refuse = -EBUSY;
	unsigned long long fail0 = za_event_count(za, ZA_PGMIGRATE_FAIL);
	uint64_t t0 = hp_now_ns();
	CHECK_EQ(za_memory_offline(za, B_START, BLK), -EAGAIN);
	uint64_t dt = hp_now_ns() - t0;
	cl.refuse = 0;
	CHECK(dt >= (uint64_t)timeout * 1000000u);
	CHECK(dt <
	      (uint64_t)(timeout + 20000) * 1000000u); /* bounded, generously */
	CHECK(atomic_load(&cl.refused) >= in_b);
	CHECK(za_event_count(za, ZA_PGMIGRATE_FAIL) > fail0);
	printf("offline_fail: refusing client, timeout %u ms: -EAGAIN after %.1f "
	       "ms, %lu refusals for %lu blocks\n",
	       timeout, hp_ms(dt), atomic_load(&cl.refused), in_b);

	/* Online and usable as before. */
	CHECK(za_pfn_to_page(za, B_START) != NULL);
	CHECK(za_pfn_to_page(za, B_START + BLK - 1) != NULL);
	take_snap(za, &b);
	/* The offline allocated and freed a destination for every refusal,
	 * so events moved (the allocation counts and the NUMA counts);
	 * everything else is as it was. */
	same(&a, &b,
	     (1u << ZA_REPORT_BUDDYINFO) | (1u << ZA_REPORT_PAGETYPEINFO) |
	         (1u << ZA_REPORT_ZONEINFO),
	     (const char *const[4]){ "pgalloc|numa_", NULL, NULL, NULL }, NULL,
	     true, "offline -EAGAIN");
	CHECK_EQ(b.zi[ZA_ZONE_MOVABLE].pcp_disabled, 0);
	CHECK_EQ(b.zi[ZA_ZONE_MOVABLE].isolated_free, 0);
	free_snap(&a);
	free_snap(&b);
	for (unsigned c = 0; c < NCPU; c++) {
		struct za_pcp_info pi;
		CHECK_EQ(za_pcp_info(za, c, 0, ZA_ZONE_MOVABLE, &pi), 0);
		CHECK_EQ(pi.usable, 1);
	}
	CHECK_EQ(za_check(za, stderr), 0);
	hp_verify_all(&cl, "after -EAGAIN");

	/* All of B at once: the client lets go of everything, and the only
	 * free max-order block of the movable zone must be B, whole. */
	hp_free_all(&cl, "after -EAGAIN");
	za_drain_all_pages(za);
	unsigned mo = za_max_order(za);
	struct za_page *all = za_alloc_pages(za, ZA_GFP_MOVABLE, mo);
	CHECK(all != NULL);
	CHECK_EQ(za_page_to_pfn(za, all), B_START);
	memset(za_page_address(za, all), 0x5a, BLK * HP_PAGE); /* really ours */
	za_free_pages(za, all, mo);
	za_free_pages(za, pin, 0);
	/* And now it goes offline. */
	CHECK_EQ(za_memory_offline(za, B_START, BLK), 0);
	CHECK_EQ(hp_online(za, mem, ZA_ZONE_MOVABLE, B_START, BLK), 0);
	hp_all_pages_back(za);
	za_destroy(za);
	hp_client_fini(&cl);
	munmap(mem, MAX * HP_PAGE);
}

/* --- (c) ---------------------------------------------------------------- */

static void bad_ranges(void)
{
	/* NORMAL at blocks 1-2, MOVABLE at block 4, nothing at 0, 3, 5.. */
	const unsigned long max = 8 * BLK;
	struct hp_client cl;
	struct za *za = make(&cl, NULL, max, 5000, 0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 1 * BLK, 2 * BLK, NULL),
	         0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, 4 * BLK, BLK, NULL), 0);
	hp_cpu = 0;
	struct za_page *p[16];
	for (int i = 0; i < 16; i++)
		CHECK(
		    (p[i] = za_alloc_pages(za, i % 2 ? ZA_GFP_MOVABLE : ZA_GFP_KERNEL,
		                           (unsigned)i % 3)) != NULL);
	for (int i = 0; i < 16; i += 3)
		za_free_pages(za, p[i], (unsigned)i % 3);

	struct snap a, b;
	take_snap(za, &a);
	CHECK_EQ(za_memory_offline(za, 0, BLK), -ENOENT); /* never online */
	CHECK_EQ(za_memory_offline(za, 5 * BLK, 2 * BLK), -ENOENT);
	CHECK_EQ(za_memory_offline(za, 0, 2 * BLK), -ENOENT); /* partly online */
	CHECK_EQ(za_memory_offline(za, 2 * BLK, 2 * BLK), -ENOENT);
	CHECK_EQ(za_memory_offline(za, 1 * BLK + 512, BLK),
	         -EINVAL); /* misaligned */
	CHECK_EQ(za_memory_offline(za, 1 * BLK, BLK / 2), -EINVAL);
	CHECK_EQ(za_memory_offline(za, 1 * BLK, BLK + 1), -EINVAL);
	CHECK_EQ(za_memory_offline(za, 1 * BLK, 0), -EINVAL);
	CHECK_EQ(za_memory_offline(za, max, BLK), -EINVAL); /* beyond max_pfn */
	CHECK_EQ(za_memory_offline(za, 7 * BLK, 2 * BLK), -EINVAL);
	CHECK_EQ(za_memory_offline(za, 1 * BLK, ~0ul & ~(BLK - 1)), -EINVAL);
	CHECK_EQ(za_memory_offline(NULL, 1 * BLK, BLK), -EINVAL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 1 * BLK, BLK, NULL),
	         -EEXIST);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 2 * BLK, NULL),
	         -EEXIST);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, 3 * BLK, 3 * BLK, NULL),
	         -EEXIST);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, 4 * BLK, BLK, NULL),
	         -EEXIST);
	CHECK_EQ(za_memory_online(za, 1, ZA_ZONE_NORMAL, 0, BLK, NULL), -EINVAL);
	CHECK_EQ(za_memory_online(za, -1, ZA_ZONE_NORMAL, 0, BLK, NULL), -EINVAL);
	CHECK_EQ(za_memory_online(za, 0, ZA_NR_ZONES, 0, BLK, NULL), -EINVAL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 512, BLK, NULL), -EINVAL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, BLK + 512, NULL),
	         -EINVAL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 0, NULL), -EINVAL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, max, BLK, NULL), -EINVAL);
	take_snap(za, &b);
	same(&a, &b, 0xf, NULL, NULL, false, "bad ranges");
	free_snap(&a);
	free_snap(&b);

	/* One operation, one zone: a range across NORMAL and MOVABLE. */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, 3 * BLK, BLK, NULL), 0);
	take_snap(za, &a);
	CHECK_EQ(za_memory_offline(za, 2 * BLK, 2 * BLK), -EINVAL);
	take_snap(za, &b);
	same(&a, &b, 0xf, NULL, NULL, false, "offline across two zones");
	free_snap(&a);
	free_snap(&b);
	CHECK_EQ(za_memory_offline(za, 3 * BLK, BLK), 0);

	for (int i = 0; i < 16; i++)
		if (i % 3)
			za_free_pages(za, p[i], (unsigned)i % 3);
	hp_all_pages_back(za);
	za_destroy(za);
	hp_client_fini(&cl);
	printf("offline_fail: bad ranges refused, nothing changed\n");
}

int main(void)
{
	tu_watchdog(120);
	unmovable(ZA_GFP_KERNEL, 0);
	unmovable(ZA_GFP_KERNEL | ZA_GFP_RECLAIMABLE, 1);
	unmovable(ZA_GFP_ATOMIC, 2);
	refused();
	bad_ranges();
	printf("hotplug_offline_fail: ok\n");
	return 0;
}
