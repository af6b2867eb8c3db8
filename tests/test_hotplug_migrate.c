/*
 * test_hotplug_migrate.c - migration keeps data.
 *
 * Node 0: ZONE_NORMAL (4 blocks) and ZONE_MOVABLE (blocks A and B), all
 * backed by real memory. The client's migrate callback (test_hotplug_
 * common.c) looks src up, checks src's pattern, copies it to dst and
 * points its entry at dst.
 *
 * Part 1: allocate ZA_GFP_MOVABLE blocks of orders 0..4 until ZONE_MOVABLE
 * is full and they spill into ZONE_NORMAL, fill each with a pattern of its
 * own seed, offline A. Every block that was in A was moved exactly once,
 * with its own order, to a block of that order outside A (into ZONE_NORMAL:
 * B is full); every block, moved or not, still holds its pattern; the
 * library's pgmigrate_success count is the client's, in pages.
 *
 * Part 2: A and B take turns going offline while the set of blocks is
 * reshuffled (some freed, some allocated) between rounds: blocks move
 * again and again, and their contents survive every move.
 *
 * Part 3: the same with two threads that keep rewriting their blocks with
 * new seeds (under their table lock, which the migrate callback also
 * takes, as API.md asks of a client) and verifying them, while A and B go
 * offline and online.
 *
 * Part 4: inside the migrate callback of an offline of A, src's owner
 * frees it and the client then takes every block of src's order the
 * allocator gives (ZA_GFP_ATOMIC): src is not among them, so it is not
 * handed out again while the callback runs (its pageblock is isolated and
 * the zone's page sets are off). That is why memory offline's migrate
 * path finds the same hand-out count in src before and after the
 * callback; compaction, which isolates nothing, must read it after
 * (test_compaction.c, part reuse). The callback answers -ENOENT, the
 * offline succeeds, nothing is reported.
 *
 * Part 5: inside the migrate callback of an offline of A, the client
 * frees dst (a client bug: dst is its own only on 0), gets the same page
 * back at once as a block of its own, and refuses. The offline must not
 * free that block under the client (its free of the refused dst claims
 * it by the hand-out count it read when it allocated it): reported, and
 * the client's block stays allocated.
 */
#include "test_hotplug_common.c"

#define NCPU 4
#define BLK 1024ul
#define NORMAL_START 0ul
#define NORMAL_PAGES (4 * BLK)
#define A_START (4 * BLK)
#define B_START (5 * BLK)
#define MAX_PFN (6 * BLK)
#define CAP 4096
#define NTHR 2

static struct za *za;
static struct hp_client cl;
static unsigned char *mem;

static bool in_range(struct za_page *p, unsigned long start)
{
	unsigned long pfn = za_page_to_pfn(za, p);
	return pfn >= start && pfn < start + BLK;
}

static void check_block(const struct hp_ent *e)
{
	unsigned long pfn = za_page_to_pfn(za, e->p);
	CHECK(pfn % (1ul << e->order) == 0);
	CHECK(za_pfn_to_page(za, pfn) == e->p);
	CHECK(za_page_address(za, e->p) == mem + pfn * HP_PAGE);
	int zt = za_page_zone(za, e->p);
	CHECK(zt == ZA_ZONE_NORMAL || zt == ZA_ZONE_MOVABLE);
}

/* Per-order counts of the client's blocks inside [start, start + BLK). */
static void count_in(unsigned long start, unsigned long *by_order,
                     unsigned long *all)
{
	*all = 0;
	for (unsigned o = 0; o <= 4; o++)
		by_order[o] = 0;
	for (unsigned t = 0; t < cl.ntab; t++)
		for (unsigned s = 0; s < cl.tab[t].n; s++)
			if (in_range(cl.tab[t].e[s].p, start)) {
				by_order[cl.tab[t].e[s].order]++;
				(*all)++;
			}
}

static void verify_everything(const char *when)
{
	hp_verify_all(&cl, when);
	for (unsigned t = 0; t < cl.ntab; t++)
		for (unsigned s = 0; s < cl.tab[t].n; s++)
			check_block(&cl.tab[t].e[s]);
}

/* Offline [start, +BLK) with the client quiet; check what moved. */
static void offline_and_check(unsigned long start, const char *when)
{
	unsigned long before[5], n_before, after[5], n_after;
	unsigned long mig[5];
	count_in(start, before, &n_before);
	for (unsigned o = 0; o <= 4; o++)
		mig[o] = atomic_load(&cl.migrated_by_order[o]);
	unsigned long long ok0 = za_event_count(za, ZA_PGMIGRATE_SUCCESS);
	unsigned long enoent0 = atomic_load(&cl.enoent);
	CHECK_EQ(za_memory_offline(za, start, BLK), 0);
	count_in(start, after, &n_after);
	CHECK_EQ(n_after, 0);
	for (unsigned o = 0; o <= 4; o++)
		CHECK_EQ(atomic_load(&cl.migrated_by_order[o]) - mig[o], before[o]);
	/* pgmigrate_success counts pages, as the kernel's does. */
	unsigned long pages_before = 0;
	for (unsigned o = 0; o <= 4; o++)
		pages_before += before[o] << o;
	(void)n_before;
	CHECK_EQ(za_event_count(za, ZA_PGMIGRATE_SUCCESS) - ok0, pages_before);
	CHECK_EQ(atomic_load(&cl.enoent), enoent0);
	CHECK_EQ(atomic_load(&cl.bad_order), 0);
	CHECK_EQ(atomic_load(&cl.corrupt), 0);
	verify_everything(when);
}

/* Allocate one block of a random order 0..4 into table t, or (until_spill)
 * keep allocating until a block lands in ZONE_NORMAL: ZONE_MOVABLE is then
 * as full as the watermarks let it be. Returns the blocks allocated. */
static unsigned fill_up(uint64_t *s, unsigned t, bool until_spill)
{
	unsigned n = 0;
	for (;;) {
		unsigned order = (unsigned)(tu_rand(s) % 5);
		struct za_page *p = za_alloc_pages(za, ZA_GFP_MOVABLE, order);
		CHECK(p != NULL);
		uint64_t seed = tu_rand(s);
		hp_fill(za, p, order, seed);
		CHECK(hp_insert(&cl, t, p, order, seed));
		n++;
		if (!until_spill || za_page_zone(za, p) == ZA_ZONE_NORMAL)
			return n;
	}
}

/* --- part 3 -------------------------------------------------------------- */

static atomic_int stop;
static atomic_ulong rewrites;

static void *rewriter(void *arg)
{
	unsigned t = (unsigned)(long)arg;
	uint64_t s = 0x4e3a11ull + t;
	struct hp_table *tb = &cl.tab[t];
	hp_cpu = (int)t;
	while (!atomic_load(&stop)) {
		pthread_mutex_lock(&tb->lock);
		if (tb->n) {
			struct hp_ent *e = &tb->e[tu_rand(&s) % tb->n];
			CHECK_EQ(hp_verify(za, e->p, e->order, e->seed, "rewriter"), 0);
			e->seed = tu_rand(&s);
			hp_fill(za, e->p, e->order, e->seed);
			atomic_fetch_add(&rewrites, 1);
		}
		pthread_mutex_unlock(&tb->lock);
		/* Do not hog the table lock the migrate callback needs. */
		if (tu_rand(&s) % 4 == 0)
			hp_sleep_us(10);
	}
	return NULL;
}

/* --- part 4 -------------------------------------------------------------- */

static bool reuse_mode;                     /* the next call frees src first */
static unsigned long reuse_pfn = ULONG_MAX; /* the src it freed */
static unsigned long reuse_taken;           /* blocks the client got after */
static bool reuse_came_back;                /* src among them */
static atomic_ulong reports;
static char report_msg[512];

static void on_error(void *ctx, int err, const char *msg)
{
	(void)ctx;
	(void)err;
	if (atomic_fetch_add(&reports, 1) == 0)
		snprintf(report_msg, sizeof(report_msg), "%s", msg);
}

/* Part 5: the next call for an order-0 src frees dst, takes the page
 * back as a block of the client's and refuses (a client bug). */
static bool free_dst_mode;
static unsigned long free_dst_pfn = ULONG_MAX;
static struct za_page *free_dst_again;
static uint32_t free_dst_code; /* the client's code for it */

static int migrate_cb(void *ctx, struct za_page *dst, struct za_page *src,
                      unsigned order)
{
	unsigned long spfn = za_page_to_pfn(za, src);
	uint32_t code = atomic_load(&cl.owner[spfn]);
	if (free_dst_mode && free_dst_pfn == ULONG_MAX && order == 0) {
		uint64_t seed = 5;
		free_dst_pfn = za_page_to_pfn(za, dst);
		za_free_pages(za, dst, 0);
		free_dst_again = za_alloc_pages(za,
		                                ZA_GFP_NOWAIT | ZA___GFP_MOVABLE |
		                                    ZA_GFP_NOWARN,
		                                0);
		CHECK(free_dst_again != NULL);
		hp_keep(za, &cl, 0, free_dst_again, 0, &seed);
		free_dst_code = atomic_load(
		    &cl.owner[za_page_to_pfn(za, free_dst_again)]);
		return -EBUSY;
	}
	if (!reuse_mode || reuse_pfn != ULONG_MAX || !code)
		return hp_migrate(ctx, dst, src, order);
	/* Its owner lets src go (the client's free, verified). */
	reuse_pfn = spfn;
	CHECK(hp_drop(za, &cl, (code - 1) >> HP_SLOT_BITS,
	              (code - 1) & ((1u << HP_SLOT_BITS) - 1)));
	/* Everything of that order the allocator will give, then back. */
	struct za_page **got = malloc(MAX_PFN * sizeof(*got));
	struct za_page *p;
	unsigned long n = 0;
	CHECK(got != NULL);
	while (
	    (p = za_alloc_pages(za,
	                        ZA_GFP_ATOMIC | ZA___GFP_MOVABLE | ZA_GFP_NOWARN,
	                        order))) {
		CHECK(n < MAX_PFN);
		if (p == src)
			reuse_came_back = true;
		got[n++] = p;
	}
	reuse_taken = n;
	for (unsigned long i = 0; i < n; i++)
		za_free_pages(za, got[i], order);
	free(got);
	/* The client no longer holds src. */
	atomic_fetch_add(&cl.enoent, 1);
	return -ENOENT;
}

static void part4(uint64_t *s)
{
	/* A block of the client's in A: movable requests prefer it. */
	unsigned long in_a[5], n_a;
	count_in(A_START, in_a, &n_a);
	for (int i = 0; i < 10000 && !n_a; i++) {
		fill_up(s, 0, false);
		count_in(A_START, in_a, &n_a);
	}
	CHECK(n_a > 0);
	za_set_error_handler(za, on_error, NULL);
	unsigned long enoent0 = atomic_load(&cl.enoent);
	reuse_mode = true;
	CHECK_EQ(za_memory_offline(za, A_START, BLK), 0);
	reuse_mode = false;
	printf("migrate: part 4, src pfn %#lx freed inside the callback; %lu "
	       "blocks of its order handed out after, src %s them; %lu "
	       "reports\n",
	       reuse_pfn, reuse_taken, reuse_came_back ? "among" : "not among",
	       atomic_load(&reports));
	CHECK(reuse_pfn >= A_START && reuse_pfn < A_START + BLK);
	CHECK(reuse_taken > 0);
	RULE(!reuse_came_back,
	     "a page of a range going offline is not handed out again while "
	     "its migrate callback runs (src pfn %#lx freed and handed out "
	     "inside it): the offline's migrate path would then have to read "
	     "the hand-out count after the callback, as compaction does",
	     reuse_pfn);
	RULE(atomic_load(&reports) == 0,
	     "an offline whose migrate callback found src freed by its owner "
	     "reports nothing: %s",
	     report_msg);
	CHECK_EQ(atomic_load(&cl.enoent), enoent0 + 1);
	CHECK_EQ(atomic_load(&cl.corrupt), 0);
	za_set_error_handler(za, NULL, NULL);
	verify_everything("part 4");
	CHECK_EQ(za_check(za, stderr), 0);
	CHECK_EQ(hp_online(za, mem, ZA_ZONE_MOVABLE, A_START, BLK), 0);
}

/* Part 5: an offline whose callback frees dst, gets the same page back
 * at once (the head of this CPU's list) as a block of its own, and
 * refuses. The offline's free of the refused dst must not free that
 * block under the client: it is reported instead. */
static void part5(uint64_t *s)
{
	unsigned long in_a[5], n_a;
	count_in(A_START, in_a, &n_a);
	for (int i = 0; i < 10000 && !in_a[0]; i++) {
		fill_up(s, 0, false);
		count_in(A_START, in_a, &n_a);
	}
	CHECK(in_a[0] > 0);
	za_set_error_handler(za, on_error, NULL);
	atomic_store(&reports, 0);
	report_msg[0] = 0;
	free_dst_mode = true;
	CHECK_EQ(za_memory_offline(za, A_START, BLK), 0);
	free_dst_mode = false;
	CHECK(free_dst_pfn != ULONG_MAX);
	unsigned long again = za_page_to_pfn(za, free_dst_again);
	uint32_t code = atomic_load(&cl.owner[again]);
	printf("migrate: part 5, the callback freed dst pfn %#lx, took pfn %#lx "
	       "back and refused; %lu reports (%s)\n",
	       free_dst_pfn, again, atomic_load(&reports), report_msg);
	/* The case this part is about: the same page came back. */
	CHECK_EQ(again, free_dst_pfn);
	RULE(code == free_dst_code && page_state(free_dst_again) == ZA_PS_ALLOC,
	     "memory offline does not free a refused dst that the migrate "
	     "callback freed and took back as a block of its own (pfn %#lx, "
	     "owner %u, not %u, state %d: freed under the client)",
	     again, code, free_dst_code, page_state(free_dst_again));
	RULE(atomic_load(&reports) == 1 && strstr(report_msg, "refused"),
	     "a refused dst freed by the migrate callback is reported (%lu "
	     "reports: %s)",
	     atomic_load(&reports), report_msg);
	za_set_error_handler(za, NULL, NULL);
	verify_everything("part 5");
	CHECK_EQ(za_check(za, stderr), 0);
	CHECK_EQ(hp_online(za, mem, ZA_ZONE_MOVABLE, A_START, BLK), 0);
}

int main(void)
{
	tu_watchdog(200);
	uint64_t s = 0x3a9e5eedull;
	mem = hp_map(MAX_PFN);
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = NCPU;
	cfg.cpu_id = hp_cpu_id;
	cfg.block_pages = BLK;
	cfg.max_pfn = MAX_PFN;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	cfg.offline_timeout_ms = 20000; /* generous: the machine may be loaded */
	cfg.migrate = migrate_cb;
	cfg.migrate_ctx = &cl;
	hp_client_init(&cl, NTHR, CAP, MAX_PFN);
	za = za_create(&cfg);
	CHECK(za != NULL);
	cl.za = za;
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, NORMAL_START,
	                          NORMAL_PAGES, mem + NORMAL_START * HP_PAGE),
	         0);
	CHECK_EQ(hp_online(za, mem, ZA_ZONE_MOVABLE, A_START, BLK), 0);
	CHECK_EQ(hp_online(za, mem, ZA_ZONE_MOVABLE, B_START, BLK), 0);

	/* Part 1. */
	hp_cpu = 0;
	unsigned nblocks = fill_up(&s, 0, true);
	unsigned long in_a[5], n_a;
	count_in(A_START, in_a, &n_a);
	printf("migrate: %u blocks of order 0..4, %lu of them in A (by order: %lu "
	       "%lu %lu %lu %lu)\n",
	       nblocks, n_a, in_a[0], in_a[1], in_a[2], in_a[3], in_a[4]);
	for (unsigned o = 0; o <= 4; o++)
		CHECK(in_a[o] > 0); /* every order is really moved */
	uint64_t *seeds_a = calloc(n_a, sizeof(uint64_t));
	unsigned long k = 0;
	CHECK(seeds_a != NULL);
	for (unsigned i = 0; i < cl.tab[0].n; i++)
		if (in_range(cl.tab[0].e[i].p, A_START))
			seeds_a[k++] = cl.tab[0].e[i].seed;
	offline_and_check(A_START, "part 1");
	/* B is full: everything that left A went to ZONE_NORMAL. */
	for (unsigned long j = 0; j < n_a; j++) {
		unsigned i = 0;
		while (i < cl.tab[0].n && cl.tab[0].e[i].seed != seeds_a[j])
			i++;
		CHECK(i < cl.tab[0].n);
		CHECK_EQ(za_page_zone(za, cl.tab[0].e[i].p), ZA_ZONE_NORMAL);
	}
	free(seeds_a);

	/* Part 2: A and B take turns. */
	long rounds = tu_scale(100);
	unsigned long long moved0 = atomic_load(&cl.migrated);
	for (long r = 0; r < rounds; r++) {
		unsigned long off = r % 2 ? A_START : B_START;
		unsigned long on = r % 2 ? B_START : A_START;
		CHECK_EQ(hp_online(za, mem, ZA_ZONE_MOVABLE, on, BLK), 0);
		/* Reshuffle: free a third, allocate as many back. */
		unsigned third = cl.tab[0].n / 3;
		for (unsigned i = 0; i < third; i++) {
			struct hp_ent e;
			CHECK(hp_remove(&cl, 0, (unsigned)tu_rand(&s), &e));
			CHECK_EQ(hp_verify(za, e.p, e.order, e.seed, "reshuffle"), 0);
			za_free_pages(za, e.p, e.order);
		}
		for (unsigned i = 0; i < third; i++)
			fill_up(&s, 0, false);
		offline_and_check(off, "part 2");
	}
	printf("migrate: part 2, %ld offlines, %llu blocks moved\n", rounds,
	       (unsigned long long)(atomic_load(&cl.migrated) - moved0));

	/* Part 3: half of the blocks to a second table; two rewriters. */
	for (unsigned n = cl.tab[0].n / 2; n > 0; n--) {
		struct hp_ent e;
		CHECK(hp_remove(&cl, 0, 0, &e));
		CHECK(hp_insert(&cl, 1, e.p, e.order, e.seed));
	}
	pthread_t th[NTHR];
	for (long i = 0; i < NTHR; i++)
		CHECK(pthread_create(&th[i], NULL, rewriter, (void *)i) == 0);
	moved0 = atomic_load(&cl.migrated);
	hp_cpu = NCPU - 1;
	/* Both movable blocks online (part 2 left one of them offline), then
	 * each in turn goes offline and comes back. */
	if (!za_pfn_to_page(za, A_START))
		CHECK_EQ(hp_online(za, mem, ZA_ZONE_MOVABLE, A_START, BLK), 0);
	if (!za_pfn_to_page(za, B_START))
		CHECK_EQ(hp_online(za, mem, ZA_ZONE_MOVABLE, B_START, BLK), 0);
	rounds = tu_scale(1000);
	for (long r = 0; r < rounds; r++) {
		unsigned long x = r % 2 ? A_START : B_START;
		CHECK_EQ(za_memory_offline(za, x, BLK), 0);
		CHECK(za_pfn_to_page(za, x) == NULL);
		CHECK_EQ(hp_online(za, mem, ZA_ZONE_MOVABLE, x, BLK), 0);
		/* Pull blocks back into the movable zone now and then so
		 * that there is something to move. */
		if (r % 8 == 0) {
			struct hp_ent e;
			if (hp_remove(&cl, 0, (unsigned)tu_rand(&s), &e)) {
				CHECK_EQ(hp_verify(za, e.p, e.order, e.seed, "part 3"), 0);
				za_free_pages(za, e.p, e.order);
				fill_up(&s, 0, false);
			}
		}
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < NTHR; i++)
		CHECK(pthread_join(th[i], NULL) == 0);
	printf("migrate: part 3, %ld offlines under %lu rewrites, %llu blocks "
	       "moved\n",
	       rounds, atomic_load(&rewrites),
	       (unsigned long long)(atomic_load(&cl.migrated) - moved0));
	CHECK_EQ(atomic_load(&cl.corrupt), 0);
	CHECK_EQ(atomic_load(&cl.bad_order), 0);
	verify_everything("end");

	/* Part 4. */
	hp_cpu = 0;
	part4(&s);
	part5(&s);

	hp_free_all(&cl, "end");
	hp_all_pages_back(za);
	za_destroy(za);
	hp_client_fini(&cl);
	munmap(mem, MAX_PFN * HP_PAGE);
	printf("hotplug_migrate: ok\n");
	return 0;
}
