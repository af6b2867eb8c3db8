/*
 * test_hotplug_contig.c - contiguous ranges larger than a max-order block
 * (za_alloc_contig_pages), built on isolation and migration.
 *
 * Node 0: ZONE_NORMAL (blocks 0-1) and ZONE_MOVABLE (blocks 2-13), one
 * mmap region behind all of it, so that a range of frames is also a range
 * of addresses. A client keeps movable blocks all over ZONE_MOVABLE.
 *
 * Part 1, one thread: ranges of 2 and 3 max-order blocks (the second with
 * ZA_GFP_ZERO, over memory that was dirty) are contiguous, aligned, inside
 * ZONE_MOVABLE, hold none of the client's blocks - the ones that were there
 * were migrated out, exactly those, with their data - and are really ours
 * (written and read back at the addresses the frames say). While held, an
 * offline of a block under them fails with -EBUSY and za_check passes; a
 * za_free_pages of the head is reported. A KERNEL request gets ZONE_NORMAL.
 * Freed, every page is back. A request larger than any zone, or the whole
 * movable zone (it would go below its watermark), gets NULL with ENOMEM;
 * 0 pages gets EINVAL. A second free of a range, a free with the wrong
 * size and a free of a page that heads no range are reported through the
 * error handler and change nothing.
 *
 * Part 2: client threads allocate and free movable blocks while the main
 * thread takes and gives back ranges of 2 or 3 blocks: every range is
 * contiguous, holds no client block, and keeps the pattern written into it
 * until it is freed; the client's data survives the migrations.
 *
 * Part 3, an allocator without a migrate callback: a movable block in use
 * in the highest candidate cannot move, so the range comes from the free
 * blocks below it at once, not after the offline timeout (review 8,
 * finding 2: the candidate was taken, waited the whole deadline for the
 * block to be freed, and the call failed with every other block free).
 * With a movable page in use in every block, it fails at once: without
 * a callback nothing can move them (not after 5 s of waiting for their
 * owners to free them). The same with a migrate callback that refuses to
 * move the first block for now (-EAGAIN): the candidate is left after a
 * few passes that move nothing, and the range comes from below (review
 * 8, finding 3).
 */
#include "test_hotplug_common.c"

#define NCPU 8
#define NTHR 3
#define BLK 1024ul
#define MOV_START (2 * BLK)
#define MOV_PAGES (12 * BLK)
#define MAX_PFN (14 * BLK)
#define CAP 300

static struct za *za;
static struct hp_client cl;
static unsigned char *mem;

static atomic_int errs;
static int last_err;
static char last_msg[256];
static void on_error(void *ctx, int err, const char *msg)
{
	(void)ctx;
	last_err = err;
	snprintf(last_msg, sizeof(last_msg), "%s", msg);
	atomic_fetch_add(&errs, 1);
}

static void fill_range(unsigned long pfn, unsigned long nr, uint64_t seed)
{
	uint64_t *w = (uint64_t *)(mem + pfn * HP_PAGE);
	for (unsigned long i = 0; i < nr * HP_PAGE / 8; i += HP_STRIDE)
		w[i] = seed ^ (i * 0x9e3779b97f4a7c15ull);
}

static void verify_range(unsigned long pfn, unsigned long nr, uint64_t seed)
{
	const uint64_t *w = (const uint64_t *)(mem + pfn * HP_PAGE);
	for (unsigned long i = 0; i < nr * HP_PAGE / 8; i += HP_STRIDE)
		if (w[i] != (seed ^ (i * 0x9e3779b97f4a7c15ull))) {
			fprintf(stderr,
			        "contig range pfn %#lx+%lu: word %lu was "
			        "overwritten\n",
			        pfn, nr, i);
			exit(1);
		}
}

/* A range just handed out: where it is, and that nobody else has it. */
static unsigned long check_range(struct za_page *head, unsigned long nr,
                                 int zone)
{
	unsigned long pfn = za_page_to_pfn(za, head);
	CHECK(pfn % BLK == 0); /* whole max-order blocks */
	CHECK_EQ(za_page_zone(za, head), zone);
	CHECK_EQ(za_page_zone(za, za_pfn_to_page(za, pfn + nr - 1)), zone);
	CHECK(za_page_address(za, head) == mem + pfn * HP_PAGE);
	for (unsigned long q = pfn; q < pfn + nr; q++)
		CHECK_EQ(atomic_load(&cl.owner[q]), 0);
	return pfn;
}

static unsigned long client_blocks_in(unsigned long pfn, unsigned long nr)
{
	unsigned long n = 0;
	for (unsigned t = 0; t < cl.ntab; t++)
		for (unsigned s = 0; s < cl.tab[t].n; s++) {
			unsigned long q = za_page_to_pfn(za, cl.tab[t].e[s].p);
			n += q >= pfn && q < pfn + nr;
		}
	return n;
}

static void populate(uint64_t *s, unsigned t, unsigned nblocks)
{
	for (unsigned i = 0; i < nblocks; i++) {
		unsigned o = (unsigned)(tu_rand(s) % 3);
		struct za_page *p = za_alloc_pages(za, ZA_GFP_MOVABLE, o);
		CHECK(p != NULL);
		hp_keep(za, &cl, t, p, o, s);
	}
}

static void part1(void)
{
	uint64_t s = 0xc0471ull;
	hp_cpu = 0;
	/* Movable blocks all over the movable zone: fill it up, then free
	 * seven in ten at random. */
	struct za_zone_info zi;
	do {
		populate(&s, 0, 16);
		CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_MOVABLE, &zi), 0);
	} while (zi.free + zi.pcp_pages >= BLK); /* no block left untouched */
	for (unsigned i = cl.tab[0].n * 7 / 10; i > 0; i--) {
		struct hp_ent e;
		CHECK(hp_remove(&cl, 0, (unsigned)tu_rand(&s), &e));
		za_free_pages(za, e.p, e.order);
	}
	/* Where the client's blocks are, per max-order block. */
	unsigned long per_blk[MAX_PFN / BLK] = { 0 };
	for (unsigned i = 0; i < cl.tab[0].n; i++)
		per_blk[za_page_to_pfn(za, cl.tab[0].e[i].p) / BLK]++;
	for (unsigned b = MOV_START / BLK; b < MAX_PFN / BLK; b++)
		CHECK(per_blk[b] > 0);

	/* 2 blocks. */
	unsigned long m0 = atomic_load(&cl.migrated);
	struct za_page *r2 = za_alloc_contig_pages(za, 2 * BLK, ZA_GFP_MOVABLE);
	CHECK(r2 != NULL);
	unsigned long p2 = check_range(r2, 2 * BLK, ZA_ZONE_MOVABLE);
	CHECK_EQ(client_blocks_in(p2, 2 * BLK), 0);
	CHECK_EQ(atomic_load(&cl.migrated) - m0,
	         per_blk[p2 / BLK] + per_blk[p2 / BLK + 1]);
	hp_verify_all(&cl, "after contig 2");
	fill_range(p2, 2 * BLK, 0x2222);

	/* 3 blocks, zeroed, over dirty memory. */
	memset(per_blk, 0, sizeof(per_blk));
	for (unsigned i = 0; i < cl.tab[0].n; i++)
		per_blk[za_page_to_pfn(za, cl.tab[0].e[i].p) / BLK]++;
	m0 = atomic_load(&cl.migrated);
	for (unsigned long b = 0; b < MAX_PFN / BLK; b++) {
		unsigned long q = b * BLK;
		if (q >= MOV_START && (q < p2 || q >= p2 + 2 * BLK) && !per_blk[b])
			memset(mem + q * HP_PAGE, 0xa5, BLK * HP_PAGE);
	}
	struct za_page *r3 = za_alloc_contig_pages(za, 3 * BLK,
	                                           ZA_GFP_MOVABLE | ZA_GFP_ZERO);
	CHECK(r3 != NULL);
	unsigned long p3 = check_range(r3, 3 * BLK, ZA_ZONE_MOVABLE);
	CHECK(p3 + 3 * BLK <= p2 || p2 + 2 * BLK <= p3); /* no overlap */
	CHECK_EQ(client_blocks_in(p3, 3 * BLK), 0);
	unsigned long want = 0;
	for (unsigned long b = p3 / BLK; b < p3 / BLK + 3; b++)
		want += per_blk[b];
	CHECK_EQ(atomic_load(&cl.migrated) - m0, want);
	const uint64_t *z = (const uint64_t *)(mem + p3 * HP_PAGE);
	for (unsigned long i = 0; i < 3 * BLK * HP_PAGE / 8; i++)
		CHECK_EQ(z[i], 0);
	fill_range(p3, 3 * BLK, 0x3333);
	hp_verify_all(&cl, "after contig 3");
	printf("contig: 2 blocks at pfn %#lx, 3 blocks at pfn %#lx, %lu client "
	       "blocks migrated out of the way\n",
	       p2, p3, atomic_load(&cl.migrated));

	/* While held: no offline under them; the checker agrees; a page free
	 * of the head is misuse. */
	CHECK_EQ(za_memory_offline(za, p2 + BLK, BLK), -EBUSY);
	CHECK_EQ(za_memory_offline(za, p3, BLK), -EBUSY);
	CHECK_EQ(za_check(za, stderr), 0);
	int e0 = atomic_load(&errs);
	za_free_pages(za, r3, 0);
	CHECK_EQ(atomic_load(&errs), e0 + 1);
	CHECK_EQ(last_err, -EINVAL);
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_MOVABLE, &zi), 0);
	CHECK(zi.free + zi.pcp_pages <= MOV_PAGES - 5 * BLK);
	CHECK_EQ(za_check(za, stderr), 0);

	/* A KERNEL range comes from ZONE_NORMAL. */
	struct za_page *rn = za_alloc_contig_pages(za, BLK, ZA_GFP_KERNEL);
	CHECK(rn != NULL);
	unsigned long pn = check_range(rn, BLK, ZA_ZONE_NORMAL);

	/* Too big: larger than any zone, or all of the movable zone. */
	errno = 0;
	CHECK(za_alloc_contig_pages(za, MOV_PAGES + BLK, ZA_GFP_MOVABLE) == NULL);
	CHECK_EQ(errno, ENOMEM);
	errno = 0;
	CHECK(za_alloc_contig_pages(za, 64 * BLK, ZA_GFP_MOVABLE) == NULL);
	CHECK_EQ(errno, ENOMEM);
	errno = 0;
	CHECK(za_alloc_contig_pages(za, 0, ZA_GFP_MOVABLE) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(za_check(za, stderr), 0);

	verify_range(p2, 2 * BLK, 0x2222);
	verify_range(p3, 3 * BLK, 0x3333);
	za_free_contig_pages(za, r2, 2 * BLK);
	za_free_contig_pages(za, r3, 3 * BLK - 100); /* rounds up alike */
	za_free_contig_pages(za, rn, BLK);
	(void)pn;
	CHECK_EQ(atomic_load(&errs), e0 + 1);
	CHECK_EQ(za_check(za, stderr), 0);

	/* Misuse: reported, nothing changes. */
	struct za_page *r = za_alloc_contig_pages(za, 2 * BLK, ZA_GFP_MOVABLE);
	CHECK(r != NULL);
	unsigned long pr = check_range(r, 2 * BLK, ZA_ZONE_MOVABLE);
	e0 = atomic_load(&errs);
	za_free_contig_pages(za, r, 3 * BLK); /* wrong size */
	CHECK_EQ(atomic_load(&errs), e0 + 1);
	CHECK_EQ(last_err, -EINVAL);
	CHECK_EQ(za_check(za, stderr), 0);
	za_free_contig_pages(za, za_pfn_to_page(za, pr + BLK),
	                     BLK); /* not a head */
	CHECK_EQ(atomic_load(&errs), e0 + 2);
	CHECK_EQ(za_check(za, stderr), 0);
	za_free_contig_pages(za, r, 2 * BLK);
	CHECK_EQ(atomic_load(&errs), e0 + 2);
	CHECK_EQ(za_check(za, stderr), 0);
	za_drain_all_pages(za);
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_MOVABLE, &zi), 0);
	unsigned long free_before = zi.free;
	za_free_contig_pages(za, r, 2 * BLK); /* double free */
	CHECK_EQ(atomic_load(&errs), e0 + 3);
	CHECK_EQ(last_err, -EINVAL);
	printf("contig: double free reported: \"%s\"\n", last_msg);
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_MOVABLE, &zi), 0);
	CHECK_EQ(zi.free, free_before);
	CHECK_EQ(za_check(za, stderr), 0);
	int dummy;
	za_free_contig_pages(za, (struct za_page *)&dummy, 2 * BLK); /* foreign */
	CHECK_EQ(atomic_load(&errs), e0 + 4);
	CHECK_EQ(za_check(za, stderr), 0);

	hp_free_all(&cl, "part 1");
	hp_all_pages_back(za);
	CHECK(za_event_count(za, ZA_CONTIG_OK) >= 4);
}

/* --- part 2 ----------------------------------------------------------------- */

static atomic_int stop;

static void *client(void *arg)
{
	unsigned id = (unsigned)(long)arg;
	uint64_t s = 0xc0472ull + id;
	hp_cpu = (int)(id * 3 % NCPU);
	while (!atomic_load(&stop)) {
		uint64_t r = tu_rand(&s);
		if (r % 16 == 0)
			hp_cpu = (int)((r >> 8) % NCPU);
		if (r % 128 == 1)
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

static void take_one(uint64_t *s, struct za_page **r, unsigned long *nr,
                     unsigned long *pfn, uint64_t *seed, unsigned long *failed,
                     uint64_t *worst)
{
	*nr = (2 + tu_rand(s) % 2) * BLK;
	uint64_t t0 = hp_now_ns();
	*r = za_alloc_contig_pages(za, *nr, ZA_GFP_MOVABLE);
	uint64_t dt = hp_now_ns() - t0;
	if (dt > *worst)
		*worst = dt;
	if (!*r) {
		(*failed)++;
		return;
	}
	*pfn = check_range(*r, *nr, ZA_ZONE_MOVABLE);
	*seed = tu_rand(s);
	fill_range(*pfn, *nr, *seed);
}

static void give_back(struct za_page *r, unsigned long nr, unsigned long pfn,
                      uint64_t seed)
{
	if (!r)
		return;
	for (unsigned long q = pfn; q < pfn + nr; q++)
		CHECK_EQ(atomic_load(&cl.owner[q]), 0);
	verify_range(pfn, nr, seed);
	za_free_contig_pages(za, r, nr);
}

static void part2(void)
{
	uint64_t s = 0xc0473ull;
	/* Client blocks all over the zone to begin with. */
	struct za_zone_info zi;
	hp_cpu = 1;
	do {
		for (unsigned t = 0; t < NTHR; t++)
			populate(&s, t, 8);
		CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_MOVABLE, &zi), 0);
	} while (zi.free + zi.pcp_pages > BLK);
	for (unsigned t = 0; t < NTHR; t++)
		for (unsigned i = cl.tab[t].n * 8 / 10; i > 0; i--) {
			struct hp_ent e;
			CHECK(hp_remove(&cl, t, (unsigned)tu_rand(&s), &e));
			za_free_pages(za, e.p, e.order);
		}

	pthread_t th[NTHR];
	for (long i = 0; i < NTHR; i++)
		CHECK(pthread_create(&th[i], NULL, client, (void *)i) == 0);
	hp_cpu = NCPU - 1;
	long rounds = tu_scale(600);
	unsigned long failed = 0, m0 = atomic_load(&cl.migrated);
	uint64_t worst = 0;
	for (long i = 0; i < rounds; i++) {
		/* Two ranges at once: ranges are taken from the top of the zone
		 * down, so the second one lies where the clients live. */
		struct za_page *r[2];
		unsigned long nr[2], pfn[2];
		uint64_t seed[2];
		hp_sleep_us(hp_pace(50));
		for (int k = 0; k < 2; k++)
			take_one(&s, &r[k], &nr[k], &pfn[k], &seed[k], &failed, &worst);
		if (r[0] && r[1])
			CHECK(pfn[0] + nr[0] <= pfn[1] || pfn[1] + nr[1] <= pfn[0]);
		hp_sleep_us(hp_pace(50)); /* the clients run meanwhile */
		for (int k = 0; k < 2; k++)
			give_back(r[k], nr[k], pfn[k], seed[k]);
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < NTHR; i++)
		CHECK(pthread_join(th[i], NULL) == 0);
	printf("contig: part 2, %ld rounds of two ranges, %lu refused, %lu client "
	       "blocks migrated, slowest %.2f ms\n",
	       rounds, failed, atomic_load(&cl.migrated) - m0, hp_ms(worst));
	/* The clients hold at most NTHR * CAP blocks of at most 4 pages,
	 * 3600 pages (about 1600 on average), the page sets at most 1024 more:
	 * with two ranges of at most 3 blocks each the zone of 12 blocks keeps
	 * room above its watermark, and every request finds a range. */
	CHECK_EQ(failed, 0);
	CHECK(atomic_load(&cl.migrated) > m0);
	CHECK_EQ(atomic_load(&cl.corrupt), 0);
	hp_verify_all(&cl, "part 2");
	hp_free_all(&cl, "part 2");
	hp_all_pages_back(za);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cpu_zero(void *ctx)
{
	(void)ctx;
	return 0;
}

static int refuse_migrate(void *ctx, struct za_page *dst, struct za_page *src,
                          unsigned order)
{
	(void)ctx;
	(void)dst;
	(void)src;
	(void)order;
	return -EAGAIN; /* pinned for now */
}

static void part3(bool refusing)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = 1;
	cfg.cpu_id = cpu_zero;
	cfg.block_pages = BLK;
	cfg.max_pfn = 8 * BLK;
	cfg.min_free_kbytes = 128;
	cfg.offline_timeout_ms = 5000;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	if (refusing)
		cfg.migrate = refuse_migrate;
	struct za *z3 = za_create(&cfg);
	CHECK(z3 != NULL);
	CHECK_EQ(za_memory_online(z3, 0, ZA_ZONE_NORMAL, 0, 8 * BLK, NULL), 0);
	/* The buddy lists hand out the highest max-order block first. */
	struct za_page *p = za_alloc_pages(z3, ZA_GFP_MOVABLE, 0);
	CHECK(p != NULL);
	unsigned long pfn = za_page_to_pfn(z3, p);
	CHECK(pfn >= 7 * BLK);
	double t0 = now_s();
	struct za_page *r = za_alloc_contig_pages(z3, 2 * BLK, ZA_GFP_KERNEL);
	double dt = now_s() - t0;
	const char *how = refusing ? "a migrate callback that refuses it"
	                           : "no migrate callback";
	printf("part 3: %s, a movable page in use at pfn %#lx: a 2-block range "
	       "%s after %.3f s\n",
	       how, pfn, r ? "taken" : "refused", dt);
	RULE(r != NULL && dt < 2.5,
	     "a contiguous candidate that cannot be had does not cost the "
	     "others their chance: with %s, a movable page in use at pfn %#lx "
	     "in the highest candidate gave %s after %.3f s with 7 of 8 blocks "
	     "free",
	     how, pfn, r ? "a range" : "NULL", dt);
	unsigned long rp = za_page_to_pfn(z3, r);
	CHECK(rp + 2 * BLK <= 7 * BLK);
	za_free_contig_pages(z3, r, 2 * BLK);
	if (!refusing) {
		/* A movable page in use in every block: without a callback
		 * no candidate can be had, and the call says so at once. */
		static struct za_page *pg[8 * BLK];
		struct za_page *one[8] = { NULL };
		unsigned long n = 0;
		while (n < 7 * BLK &&
		       (pg[n] = za_alloc_pages(z3, ZA_GFP_MOVABLE | ZA_GFP_NOWARN, 0)))
			n++;
		for (unsigned long i = 0; i < n; i++) {
			unsigned long b = za_page_to_pfn(z3, pg[i]) / BLK;
			if (!one[b] && b != pfn / BLK)
				one[b] = pg[i];
			else
				za_free_pages(z3, pg[i], 0);
		}
		for (unsigned b = 0; b < 8; b++)
			CHECK(one[b] != NULL || b == pfn / BLK);
		t0 = now_s();
		r = za_alloc_contig_pages(z3, 2 * BLK, ZA_GFP_KERNEL);
		dt = now_s() - t0;
		printf("part 3: no migrate callback, a movable page in use in every "
		       "block: %s after %.3f s\n",
		       r ? "a range" : "refused", dt);
		RULE(r == NULL && dt < 2.5,
		     "without a migrate callback no block in use can move: with a "
		     "movable page in use in every block, a contiguous allocation "
		     "gave %s after %.3f s (the offline timeout is 5 s)",
		     r ? "a range" : "NULL", dt);
		for (unsigned b = 0; b < 8; b++)
			if (one[b])
				za_free_pages(z3, one[b], 0);
	}
	za_free_pages(z3, p, 0);
	za_drain_all_pages(z3);
	CHECK_EQ(za_check(z3, stderr), 0);
	za_destroy(z3);
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
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	cfg.offline_timeout_ms = 20000; /* generous: the machine may be loaded */
	cfg.migrate = hp_migrate;
	cfg.migrate_ctx = &cl;
	cfg.error = on_error;
	hp_client_init(&cl, NTHR, 8192, MAX_PFN);
	za = za_create(&cfg);
	CHECK(za != NULL);
	cl.za = za;
	za_debug_set(za, ZA_DEBUG_RANDOM_YIELD, 1);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, MOV_START, mem), 0);
	CHECK_EQ(hp_online(za, mem, ZA_ZONE_MOVABLE, MOV_START, MOV_PAGES), 0);
	part1();
	part2();
	part3(false);
	part3(true);
	za_destroy(za);
	hp_client_fini(&cl);
	munmap(mem, MAX_PFN * HP_PAGE);
	printf("hotplug_contig: ok\n");
	return 0;
}
