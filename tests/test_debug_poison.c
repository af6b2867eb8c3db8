/*
 * test_debug_poison.c - poisoning (ZA_CFG_POISON) and init-on-alloc
 * (ZA_CFG_INIT_ON_ALLOC): a freed block holds the pattern; a write after
 * free is reported when the page is handed out again, naming the page
 * owner's sites; a correct program gets no report (pages that never held
 * the pattern - memory online again after an offline - are not checked);
 * init-on-alloc hands out zeros; frame-only memory cannot be poisoned.
 */
#include "debug_common.h"

static int all_bytes(const void *p, size_t n, unsigned char v)
{
	const unsigned char *a = p;
	for (size_t i = 0; i < n; i++)
		if (a[i] != v)
			return 0;
	return 1;
}

static void test_frames_only(void)
{
	struct za_config c;
	memset(&c, 0, sizeof(c));
	c.nr_cpus = 1;
	c.block_pages = DBG_BLOCK;
	c.max_pfn = DBG_BLOCK;
	c.flags = ZA_CFG_POISON | ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *za = za_create(&c);
	CHECK(za != NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, DBG_BLOCK, NULL),
	         -EINVAL);
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	CHECK_EQ(zi.managed, 0);
	za_destroy(za);
	/* init-on-alloc alone takes frame-only memory (nothing to zero). */
	c.flags = ZA_CFG_INIT_ON_ALLOC | ZA_CFG_NO_KSWAPD |
	          ZA_CFG_NO_VMSTAT_WORKER;
	za = za_create(&c);
	CHECK(za != NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, DBG_BLOCK, NULL), 0);
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 3);
	CHECK(p != NULL);
	za_free_pages(za, p, 3);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

static void test_write_after_free(void)
{
	struct za *za = dbg_make(ZA_CFG_POISON | ZA_CFG_PAGE_OWNER, 1);
	size_t psz = 4096;
	dbg_cpu = 0;
	unsigned before = dbg_msgs();
	/* A freed block holds the pattern. */
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 2);
	CHECK(p != NULL);
	unsigned char *a = za_page_address(za, p);
	memset(a, 0x11, 4 * psz);
	za_free_pages(za, p, 2);
	CHECK(all_bytes(a, 4 * psz, ZA_POISON_BYTE));

	/* A write after free, caught when the page comes back. */
	p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	CHECK(p != NULL);
	a = za_page_address(za, p);
	memset(a, 0x22, psz);
	za_free_pages(za, p, 0);
	CHECK(all_bytes(a, psz, ZA_POISON_BYTE));
	a[100] = 0x42; /* the client's bug */
	CHECK_EQ(dbg_msgs(), before);
	struct za_page *got[64];
	int n = 0, found = 0;
	while (n < 64 && !found) {
		got[n] = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
		CHECK(got[n] != NULL);
		found = got[n++] == p;
	}
	CHECK(found);
	CHECK_EQ(dbg_msgs(), before + 1);
	char want[96];
	snprintf(want, sizeof(want),
	         "poison mismatch (write after free) in pfn "
	         "0x%lx at offset 100: 0x42, expected 0xaa",
	         za_page_to_pfn(za, p));
	if (!strstr(dbg_last_msg, want) ||
	    !strstr(dbg_last_msg, "allocated by ") ||
	    !strstr(dbg_last_msg, "last freed by ")) {
		fprintf(stderr, "expected '%s' with the page owner's sites, got: %s\n",
		        want, dbg_last_msg);
		exit(1);
	}
	for (int i = 0; i < n; i++)
		za_free_pages(za, got[i], 0);

	/* A correct program: blocks of every order, written, freed, again. */
	uint64_t seed = 7;
	for (int round = 0; round < 3; round++) {
		struct za_page *v[200];
		unsigned ord[200];
		for (int i = 0; i < 200; i++) {
			ord[i] = (unsigned)(tu_rand(&seed) % 5);
			dbg_cpu = (int)(tu_rand(&seed) % 4);
			v[i] = za_alloc_pages(za, i & 1 ? ZA_GFP_MOVABLE : ZA_GFP_KERNEL,
			                      ord[i]);
			CHECK(v[i] != NULL);
			memset(za_page_address(za, v[i]), i, psz << ord[i]);
		}
		for (int i = 0; i < 200; i++) {
			dbg_cpu = (int)(tu_rand(&seed) % 4);
			za_free_pages(za, v[i], ord[i]);
		}
	}
	/* Contiguous ranges: poisoned when freed, checked when taken. */
	struct za_page *r = za_alloc_contig_pages(za, 2048, ZA_GFP_MOVABLE);
	CHECK(r != NULL);
	memset(za_page_address(za, r), 0x33, 2048 * psz);
	unsigned char *ra = za_page_address(za, r);
	za_free_contig_pages(za, r, 2048);
	CHECK(all_bytes(ra, 2048 * psz, ZA_POISON_BYTE));
	r = za_alloc_contig_pages(za, 2048, ZA_GFP_MOVABLE);
	CHECK(r != NULL);
	za_free_contig_pages(za, r, 2048);
	CHECK_EQ(dbg_msgs(), before + 1);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

/* Memory that goes offline and comes back (with other memory behind the
 * same frames) never held the pattern: it must not be checked. */
static void test_offline_forgets(void)
{
	struct za *za = dbg_make(ZA_CFG_POISON, 1);
	unsigned before = dbg_msgs();
	struct za_page *v[256];
	for (int i = 0; i < 256; i++) {
		dbg_cpu = i & 3;
		v[i] = za_alloc_pages(za, ZA_GFP_MOVABLE, i & 3);
		CHECK(v[i] != NULL);
	}
	for (int i = 0; i < 256; i++) {
		dbg_cpu = i & 3;
		za_free_pages(za, v[i], i & 3);
	}
	za_drain_all_pages(za);
	CHECK_EQ(za_memory_offline(za, 0, DBG_BLOCK * DBG_BLOCKS), 0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, DBG_BLOCK * DBG_BLOCKS,
	                          dbg_map(DBG_BLOCK * DBG_BLOCKS)),
	         0);
	/* Every page, handed out once. */
	struct za_page *p;
	unsigned long n = 0;
	struct za_page **all = calloc(DBG_BLOCK * DBG_BLOCKS, sizeof(*all));
	CHECK(all != NULL);
	while ((p = za_alloc_pages(za, ZA_GFP_MOVABLE | ZA_GFP_NOWARN, 0)))
		all[n++] = p;
	CHECK(n > DBG_BLOCK * DBG_BLOCKS / 2);
	if (dbg_msgs() != before) {
		fprintf(stderr, "memory online again was checked for poison: %s\n",
		        dbg_last_msg);
		exit(1);
	}
	while (n)
		za_free_pages(za, all[--n], 0);
	free(all);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

static void test_init_on_alloc(void)
{
	for (int poison = 0; poison < 2; poison++) {
		struct za *za = dbg_make(ZA_CFG_INIT_ON_ALLOC |
		                             (poison ? ZA_CFG_POISON : 0),
		                         1);
		dbg_cpu = 1;
		for (int i = 0; i < 100; i++) {
			unsigned order = (unsigned)(i % 4);
			struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, order);
			CHECK(p != NULL);
			void *a = za_page_address(za, p);
			CHECK(all_bytes(a, 4096ul << order, 0));
			memset(a, 0x5a, 4096ul << order);
			za_free_pages(za, p, order);
		}
		struct za_page *v[16];
		CHECK_EQ(za_alloc_pages_bulk(za, ZA_GFP_KERNEL, 16, v), 16);
		for (int i = 0; i < 16; i++) {
			CHECK(all_bytes(za_page_address(za, v[i]), 4096, 0));
			memset(za_page_address(za, v[i]), 0x5a, 4096);
		}
		za_free_pages_bulk(za, 16, v);
		struct za_page *r = za_alloc_contig_pages(za, 1024, ZA_GFP_MOVABLE);
		CHECK(r != NULL);
		CHECK(all_bytes(za_page_address(za, r), 1024 * 4096ul, 0));
		za_free_contig_pages(za, r, 1024);
		CHECK_EQ(dbg_msgs(), 0);
		CHECK_EQ(za_check(za, stderr), 0);
		za_destroy(za);
	}
}

/* Compaction moves blocks behind the client's back: the targets it hands
 * out and the sources it frees go through the aids too, so that a correct
 * program still gets no report. */
static struct za_page *held[DBG_BLOCK * DBG_BLOCKS];
static int copy_block(void *ctx, struct za_page *dst, struct za_page *src,
                      unsigned order)
{
	struct za *za = ctx;
	unsigned long s = za_page_to_pfn(za, src);
	if (held[s] != src)
		return -ENOENT;
	memcpy(za_page_address(za, dst), za_page_address(za, src),
	       4096ul << order);
	held[s] = NULL;
	held[za_page_to_pfn(za, dst)] = dst;
	return 0;
}

static void test_compaction(void)
{
	struct za_config c;
	memset(&c, 0, sizeof(c));
	c.nr_cpus = 4;
	c.cpu_id = dbg_cpu_id;
	c.block_pages = DBG_BLOCK;
	c.max_pfn = DBG_BLOCK * DBG_BLOCKS;
	c.flags = ZA_CFG_POISON | ZA_CFG_PAGE_OWNER | ZA_CFG_NO_KSWAPD |
	          ZA_CFG_NO_VMSTAT_WORKER;
	c.error = dbg_error;
	c.migrate = copy_block;
	struct za *za = za_create(&c);
	CHECK(za != NULL);
	/* The callback needs the za: set once it exists. */
	za->migrate_ctx = za;
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, DBG_BLOCK * DBG_BLOCKS,
	                          dbg_map(DBG_BLOCK * DBG_BLOCKS)),
	         0);
	unsigned before = dbg_msgs();
	dbg_cpu = 0;
	struct za_page *p;
	while ((p = za_alloc_pages(za, ZA_GFP_MOVABLE | ZA_GFP_NOWARN, 0))) {
		memset(za_page_address(za, p), 0x77, 4096);
		held[za_page_to_pfn(za, p)] = p;
	}
	/* Free every other page: poisoned holes everywhere. */
	for (unsigned long i = 0; i < DBG_BLOCK * DBG_BLOCKS; i += 2)
		if (held[i]) {
			za_free_pages(za, held[i], 0);
			held[i] = NULL;
		}
	za_drain_all_pages(za);
	za_compact(za, -1);
	CHECK(za_event_count(za, ZA_PGMIGRATE_SUCCESS) > 0);
	for (unsigned long i = 0; i < DBG_BLOCK * DBG_BLOCKS; i++)
		if (held[i]) {
			za_free_pages(za, held[i], 0);
			held[i] = NULL;
		}
	/* Everything handed out once more: every page checked. */
	unsigned long n = 0;
	while ((p = za_alloc_pages(za, ZA_GFP_MOVABLE | ZA_GFP_NOWARN, 0)))
		held[n++] = p;
	if (dbg_msgs() != before) {
		fprintf(stderr, "false poison report after compaction: %s\n",
		        dbg_last_msg);
		exit(1);
	}
	while (n)
		za_free_pages(za, held[--n], 0);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

/* A target whose migration the client refuses (-EBUSY) or finds gone
 * (-ENOENT) goes back to the free lists through the free hook: poisoned
 * again, its page owner record freed. A write after free into it is then
 * reported when it is handed out again, as for any free page. */
static unsigned long refused_dst[4096];
static unsigned nr_refused;
static int refused_answer;
static int refuse_block(void *ctx, struct za_page *dst, struct za_page *src,
                        unsigned order)
{
	struct za *za = ctx;
	(void)src, (void)order;
	if (nr_refused < 4096)
		refused_dst[nr_refused++] = za_page_to_pfn(za, dst);
	return refused_answer;
}

static void test_refused_target(int answer, unsigned owner)
{
	struct za_config c;
	memset(&c, 0, sizeof(c));
	c.nr_cpus = 4;
	c.cpu_id = dbg_cpu_id;
	c.block_pages = DBG_BLOCK;
	c.max_pfn = DBG_BLOCK * DBG_BLOCKS;
	c.flags = ZA_CFG_POISON | owner | ZA_CFG_NO_KSWAPD | ZA_CFG_NO_KCOMPACTD |
	          ZA_CFG_NO_VMSTAT_WORKER;
	c.error = dbg_error;
	c.migrate = refuse_block;
	struct za *za = za_create(&c);
	CHECK(za != NULL);
	za->migrate_ctx = za;
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, DBG_BLOCK * DBG_BLOCKS,
	                          dbg_map(DBG_BLOCK * DBG_BLOCKS)),
	         0);
	unsigned before = dbg_msgs();
	dbg_cpu = 0;
	struct za_page *p;
	memset(held, 0, sizeof(held));
	while ((p = za_alloc_pages(za, ZA_GFP_MOVABLE | ZA_GFP_NOWARN, 0)))
		held[za_page_to_pfn(za, p)] = p;
	/* Free the odd frames: poisoned holes above the in-use even ones. */
	for (unsigned long i = 1; i < DBG_BLOCK * DBG_BLOCKS; i += 2)
		if (held[i]) {
			za_free_pages(za, held[i], 0);
			held[i] = NULL;
		}
	za_drain_all_pages(za);
	nr_refused = 0;
	refused_answer = answer;
	za_compact(za, -1);
	CHECK(nr_refused > 0);
	unsigned long t = refused_dst[0];
	struct za_page *tp = za_pfn_to_page(za, t);
	CHECK(held[t] == NULL);
	unsigned char *a = za_page_address(za, tp);
	RULE(all_bytes(a, 4096, ZA_POISON_BYTE),
	     "a refused target (answer %d) is free and poisoned: pfn %#lx", answer,
	     t);
	struct za_page_owner_info oi = { 0 };
	CHECK_EQ(za_page_owner(za, tp, &oi), owner ? 0 : -ENOENT);
	RULE(!owner || (oi.allocated == 0 && oi.free_site != NULL &&
	                oi.free_ns >= oi.alloc_ns),
	     "a refused target (answer %d) has a free record: pfn %#lx "
	     "allocated %d, free site %p",
	     answer, t, oi.allocated, oi.free_site);
	CHECK_EQ(dbg_msgs(), before);
	a[100] = 0x42; /* a write after free through a stale pointer */
	/* Every free page handed out again: the write is reported. */
	unsigned long n = 0;
	static struct za_page *got[DBG_BLOCK * DBG_BLOCKS];
	while ((p = za_alloc_pages(za, ZA_GFP_MOVABLE | ZA_GFP_NOWARN, 0)))
		got[n++] = p;
	char want[96];
	snprintf(want, sizeof(want),
	         "poison mismatch (write after free) in pfn 0x%lx at offset 100",
	         t);
	RULE(dbg_msgs() == before + 1 && strstr(dbg_last_msg, want),
	     "a write after free into a refused target (answer %d, pfn %#lx) "
	     "is reported when the page is handed out again: %u report(s), "
	     "last: %s",
	     answer, t, dbg_msgs() - before,
	     dbg_msgs() != before ? dbg_last_msg : "-");
	while (n)
		za_free_pages(za, got[--n], 0);
	for (unsigned long i = 0; i < DBG_BLOCK * DBG_BLOCKS; i++)
		if (held[i]) {
			za_free_pages(za, held[i], 0);
			held[i] = NULL;
		}
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

/* Free page reporting: the marks of a batch are forgotten only once the
 * client took it (its host may give the memory back zero-filled). A
 * batch the client refuses was never the host's: it still holds the
 * pattern and keeps its marks, so that a write after free into it is
 * reported when it is handed out again (review 13, finding 1). */
static unsigned report_calls;
static int report_answer;
static int report_batch(void *ctx, struct za_page *const *pages,
                        const unsigned *orders, unsigned n)
{
	(void)ctx, (void)pages, (void)orders, (void)n;
	report_calls++;
	return report_answer;
}

static void test_reporting(int answer)
{
	struct za *za = dbg_make(ZA_CFG_POISON, 1);
	struct za_page_reporting pr = { report_batch, NULL, 9, 0 };
	CHECK_EQ(za_page_reporting_register(za, &pr), 0);
	dbg_cpu = 0;
	/* One pageblock-sized block through the free lists: poisoned, the
	 * only block a pass reports (the rest never was handed out). */
	struct za_page *keep = za_alloc_pages(za, ZA_GFP_KERNEL, 9);
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 9);
	CHECK(keep != NULL && p != NULL);
	unsigned char *a = za_page_address(za, p);
	za_free_pages(za, p, 9);
	report_answer = answer;
	report_calls = 0;
	long r = za_page_reporting_run(za);
	CHECK_EQ(report_calls, 1);
	CHECK_EQ(r, answer ? answer : 512);
	unsigned before = dbg_msgs();
	a[3 * 4096 + 7] = 0x42; /* the client's bug, or its host's zeroes */
	struct za_page *q = za_alloc_pages(za, ZA_GFP_KERNEL, 9);
	CHECK(q == p);
	if (answer)
		RULE(dbg_msgs() == before + 1 &&
		         strstr(dbg_last_msg, "poison mismatch (write after free)"),
		     "a batch the client refused keeps its poison marks: a write "
		     "after free into it is reported (%u report(s))",
		     dbg_msgs() - before);
	else
		RULE(dbg_msgs() == before,
		     "a reported batch's marks are forgotten: not checked "
		     "(%u report(s))",
		     dbg_msgs() - before);
	za_free_pages(za, q, 9);
	za_free_pages(za, keep, 9);
	CHECK_EQ(za_page_reporting_unregister(za), 0);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

int main(void)
{
	tu_watchdog(120);
	test_frames_only();
	test_init_on_alloc();
	test_write_after_free();
	test_offline_forgets();
	test_compaction();
	/* Poisoning alone in one: its check is the only one there. */
	test_refused_target(-EBUSY, ZA_CFG_PAGE_OWNER);
	test_refused_target(-ENOENT, 0);
	test_reporting(-EAGAIN);
	test_reporting(0);
	printf("debug_poison: ok\n");
	return 0;
}
