/*
 * test_debug_owner.c - page owner (ZA_CFG_PAGE_OWNER): every allocation
 * records its call site, gfp, order, CPU, thread and time, every free its
 * site; the reports and the summary by call site; misuse reports name the
 * sites; off by default (and then the fast path is untouched: za.nofast 0).
 *
 * The call sites are functions of this program, exported (the test links
 * with -rdynamic), so dladdr names them.
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "debug_common.h"

/* The sites. Not static, and neither inlined nor cloned: dladdr must find
 * them (-O3 clones a function called with a constant into a local
 * symbol, owner_site_c.constprop.0, which dladdr cannot name). */
#if defined(__clang__)
#define SITE_FN __attribute__((noinline))
#else
#define SITE_FN __attribute__((noinline, noipa))
#endif
SITE_FN struct za_page *owner_site_a(struct za *za, unsigned order)
{
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, order);
	__asm__ volatile("" ::: "memory"); /* not a tail call */
	return p;
}
SITE_FN struct za_page *owner_site_c(struct za *za, unsigned order)
{
	struct za_page *p = za_alloc_pages_node(za, 0, ZA_GFP_MOVABLE, order);
	__asm__ volatile("" ::: "memory");
	return p;
}
SITE_FN unsigned owner_site_bulk(struct za *za, unsigned n, struct za_page **v)
{
	unsigned got = za_alloc_pages_bulk(za, ZA_GFP_KERNEL, n, v);
	__asm__ volatile("" ::: "memory");
	return got;
}
SITE_FN void owner_free_b(struct za *za, struct za_page *p, unsigned order)
{
	za_free_pages(za, p, order);
	__asm__ volatile("" ::: "memory");
}
SITE_FN void owner_free_d(struct za *za, struct za_page *p, unsigned order)
{
	za_free_pages(za, p, order);
	__asm__ volatile("" ::: "memory");
}
SITE_FN void owner_free_bulk(struct za *za, unsigned n, struct za_page **v)
{
	za_free_pages_bulk(za, n, v);
	__asm__ volatile("" ::: "memory");
}

SITE_FN struct za_page *owner_contig(struct za *za, unsigned long n)
{
	struct za_page *p = za_alloc_contig_pages(za, n, ZA_GFP_MOVABLE);
	__asm__ volatile("" ::: "memory");
	return p;
}
SITE_FN void owner_contig_free(struct za *za, struct za_page *p,
                               unsigned long n)
{
	za_free_contig_pages(za, p, n);
	__asm__ volatile("" ::: "memory");
}

/* The exported function whose code holds site. */
static const char *site_name(const void *site)
{
	Dl_info i;
	if (!site || !dladdr(site, &i) || !i.dli_sname)
		return "?";
	return i.dli_sname;
}

#define CHECK_SITE(site, fn)                                                  \
	do {                                                                      \
		if (strcmp(site_name(site), #fn) != 0) {                              \
			fprintf(stderr, "%s:%d: site %p is in %s, expected %s\n",         \
			        __FILE__, __LINE__, (site), site_name(site), #fn);        \
			exit(1);                                                          \
		}                                                                     \
	} while (0)

static char *capture(struct za *za, enum za_report what, int *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CHECK(f != NULL);
	*err = za_report(za, what, f);
	fclose(f);
	return buf;
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_off(void)
{
	struct za *za = dbg_make(0, 1);
	CHECK_EQ(za->nofast, 0); /* the fast paths run */
	struct za_page *p = owner_site_a(za, 0);
	CHECK(p != NULL);
	struct za_page_owner_info info;
	CHECK_EQ(za_page_owner(za, p, &info), -ENOENT);
	CHECK_EQ(za_page_owner_summary(za, NULL, 0), -ENOENT);
	int err;
	free(capture(za, ZA_REPORT_PAGE_OWNER, &err));
	CHECK_EQ(err, -ENOENT);
	free(capture(za, ZA_REPORT_PAGE_OWNER_SUMMARY, &err));
	CHECK_EQ(err, -ENOENT);
	owner_free_b(za, p, 0);
	za_destroy(za);
	/* ZA_CFG_NO_PCP alone keeps the fast paths off as before. */
	struct za_config c;
	memset(&c, 0, sizeof(c));
	c.flags = ZA_CFG_NO_PCP | ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	c.max_pfn = DBG_BLOCK;
	c.block_pages = DBG_BLOCK;
	za = za_create(&c);
	CHECK(za != NULL);
	CHECK_EQ(za->nofast, ZA_NOFAST_NO_PCP);
	za_destroy(za);
}

static void test_records(void)
{
	struct za *za = dbg_make(ZA_CFG_PAGE_OWNER, 1);
	struct za_page_owner_info info;
	CHECK_EQ(za_page_owner(NULL, NULL, &info), -EINVAL);
	CHECK_EQ(za_page_owner(za, (struct za_page *)&info, &info), -EINVAL);
	CHECK_EQ(za_page_owner_summary(za, NULL, 3), -EINVAL);

	dbg_cpu = 1;
	/* Order 0 from a warm per-CPU list: the fast path's ground. */
	owner_free_b(za, owner_site_a(za, 0), 0);
	struct za_page *p = owner_site_a(za, 2);
	CHECK(p != NULL);
	unsigned long pfn = za_page_to_pfn(za, p);
	CHECK_EQ(za_page_owner(za, p, &info), 0);
	CHECK_SITE(info.alloc_site, owner_site_a);
	CHECK(info.free_site == NULL);
	CHECK_EQ(info.pfn, pfn);
	CHECK_EQ(info.nr_pages, 4);
	CHECK_EQ(info.order, 2);
	CHECK_EQ(info.gfp, ZA_GFP_KERNEL);
	CHECK_EQ(info.cpu, 1);
	CHECK_EQ(info.tid, (int)syscall(SYS_gettid));
	CHECK(info.alloc_ns > 0);
	CHECK_EQ(info.allocated, 1);
	/* Any page of the block answers for it. */
	struct za_page_owner_info in3;
	CHECK_EQ(za_page_owner(za, za_pfn_to_page(za, pfn + 3), &in3), 0);
	CHECK_EQ(in3.pfn, pfn);
	CHECK(in3.alloc_site == info.alloc_site);

	/* The free site (rule: recorded on the free path). */
	dbg_cpu = 2;
	owner_free_b(za, p, 2);
	CHECK_EQ(za_page_owner(za, p, &info), 0);
	CHECK_SITE(info.alloc_site, owner_site_a);
	CHECK_SITE(info.free_site, owner_free_b);
	CHECK_EQ(info.allocated, 0);
	CHECK(info.free_ns >= info.alloc_ns);

	/* Every order 0 on the per-CPU lists: recorded each time. */
	for (int i = 0; i < 50; i++) {
		struct za_page *q = owner_site_c(za, 0);
		CHECK(q != NULL);
		CHECK_EQ(za_page_owner(za, q, &info), 0);
		CHECK_SITE(info.alloc_site, owner_site_c);
		CHECK_EQ(info.allocated, 1);
		CHECK_EQ(info.cpu, 2);
		owner_free_d(za, q, 0);
		CHECK_EQ(za_page_owner(za, q, &info), 0);
		CHECK_SITE(info.free_site, owner_free_d);
	}

	/* Bulk calls: the caller of the bulk call. */
	struct za_page *v[40];
	CHECK_EQ(owner_site_bulk(za, 40, v), 40);
	for (int i = 0; i < 40; i++) {
		CHECK_EQ(za_page_owner(za, v[i], &info), 0);
		CHECK_SITE(info.alloc_site, owner_site_bulk);
		CHECK_EQ(info.allocated, 1);
	}
	owner_free_bulk(za, 40, v);
	for (int i = 0; i < 40; i++) {
		CHECK_EQ(za_page_owner(za, v[i], &info), 0);
		CHECK_SITE(info.free_site, owner_free_bulk);
		CHECK_EQ(info.allocated, 0);
	}

	/* A contiguous range: its head and its interior. */
	struct za_page *r = owner_contig(za, 1500);
	CHECK(r != NULL);
	unsigned long rpfn = za_page_to_pfn(za, r);
	CHECK_EQ(za_page_owner(za, za_pfn_to_page(za, rpfn + 1500), &info), 0);
	CHECK_EQ(info.pfn, rpfn);
	CHECK_EQ(info.order, ZA_PAGE_OWNER_CONTIG);
	CHECK_EQ(info.nr_pages, 2048);
	CHECK_EQ(info.allocated, 1);
	CHECK_SITE(info.alloc_site, owner_contig);
	owner_contig_free(za, r, 1500);
	CHECK_EQ(za_page_owner(za, za_pfn_to_page(za, rpfn + 2000), &info), 0);
	CHECK_EQ(info.allocated, 0);
	CHECK_SITE(info.free_site, owner_contig_free);

	CHECK_EQ(dbg_msgs(), 0);
	CHECK_EQ(za_check(za, stderr), 0);
	/* How: the fast paths stay off while page owner is on. */
	CHECK(za->nofast & ZA_NOFAST_DEBUG);
	za_destroy(za);
}

static void test_reports(void)
{
	struct za *za = dbg_make(ZA_CFG_PAGE_OWNER, 1);
	struct za_page *a[5], *c[3];
	dbg_cpu = 0;
	for (int i = 0; i < 5; i++)
		CHECK((a[i] = owner_site_a(za, 0)) != NULL);
	for (int i = 0; i < 3; i++)
		CHECK((c[i] = owner_site_c(za, 1)) != NULL);
	struct za_page_owner_site s[4];
	memset(s, 0, sizeof(s));
	CHECK_EQ(za_page_owner_summary(za, s, 4), 2);
	CHECK_SITE(s[0].site, owner_site_c); /* most pages first */
	CHECK_EQ(s[0].blocks, 3);
	CHECK_EQ(s[0].pages, 6);
	CHECK_SITE(s[1].site, owner_site_a);
	CHECK_EQ(s[1].blocks, 5);
	CHECK_EQ(s[1].pages, 5);
	CHECK_EQ(za_page_owner_summary(za, s, 1), 2); /* more than asked */

	int err;
	char *rep = capture(za, ZA_REPORT_PAGE_OWNER, &err);
	CHECK_EQ(err, 0);
	CHECK_EQ(count(rep, "Page allocated via order "), 8);
	CHECK_EQ(count(rep,
	               "Page allocated via order 1, mask 0x64(GFP_MOVABLE), pid "),
	         3);
	CHECK_EQ(count(rep,
	               "Page allocated via order 0, mask 0x60(GFP_KERNEL), pid "),
	         5);
	CHECK_EQ(count(rep, " owner_site_c+0x"), 3);
	CHECK_EQ(count(rep, " owner_site_a+0x"), 5);
	char line[128];
	snprintf(line, sizeof(line),
	         "PFN 0x%lx type Movable Block %lu type Movable Flags 0x2(node=0|zone=2)\n owner_site_c+0x",
	         za_page_to_pfn(za, c[0]),
	         za_page_to_pfn(za, c[0]) >> za_pageblock_order(za));
	if (!strstr(rep, line)) {
		fprintf(stderr, "no '%s' in:\n%s", line, rep);
		exit(1);
	}
	free(rep);
	rep = capture(za, ZA_REPORT_PAGE_OWNER_SUMMARY, &err);
	CHECK_EQ(err, 0);
	if (strncmp(rep, "3 times, 6 pages:\n owner_site_c+0x", 34) != 0 ||
	    !strstr(rep, "\n\n5 times, 5 pages:\n owner_site_a+0x")) {
		fprintf(stderr, "summary:\n%s", rep);
		exit(1);
	}
	free(rep);
	for (int i = 0; i < 5; i++)
		owner_free_b(za, a[i], 0);
	for (int i = 0; i < 3; i++)
		owner_free_b(za, c[i], 1);
	CHECK_EQ(za_page_owner_summary(za, s, 4), 0);
	rep = capture(za, ZA_REPORT_PAGE_OWNER, &err);
	CHECK_EQ(err, 0);
	CHECK_EQ(count(rep, "Page allocated"), 0);
	free(rep);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

static void test_misuse(void)
{
	struct za *za = dbg_make(ZA_CFG_PAGE_OWNER, 1);
	dbg_cpu = 3;
	struct za_page *p = owner_site_a(za, 1);
	owner_free_b(za, p, 1);
	unsigned before = dbg_msgs();
	owner_free_d(za, p, 1); /* double free */
	CHECK_EQ(dbg_msgs(), before + 1);
	if (!strstr(dbg_last_msg, "double free") ||
	    !strstr(dbg_last_msg, " by owner_free_d+0x") ||
	    !strstr(dbg_last_msg, "allocated by owner_site_a+0x") ||
	    !strstr(dbg_last_msg, "last freed by owner_free_b+0x")) {
		fprintf(stderr, "double free report without its sites: %s\n",
		        dbg_last_msg);
		exit(1);
	}
	/* A wrong order names the sites too. */
	p = owner_site_c(za, 2);
	owner_free_d(za, p, 1);
	CHECK_EQ(dbg_msgs(), before + 2);
	if (!strstr(dbg_last_msg, "allocated with order 2") ||
	    !strstr(dbg_last_msg, "allocated by owner_site_c+0x") ||
	    !strstr(dbg_last_msg, "not freed since")) {
		fprintf(stderr, "wrong-order report: %s\n", dbg_last_msg);
		exit(1);
	}
	owner_free_b(za, p, 2);
	/* A foreign pointer: the site of the call. */
	char junk[64];
	owner_free_d(za, (struct za_page *)junk, 0);
	CHECK_EQ(dbg_msgs(), before + 3);
	if (!strstr(dbg_last_msg, "not the metadata") ||
	    !strstr(dbg_last_msg, " by owner_free_d+0x")) {
		fprintf(stderr, "foreign page report: %s\n", dbg_last_msg);
		exit(1);
	}
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

/* Migration (compaction, memory offline, a contiguous allocation) moves a
 * client's block: the block's record goes with it, as the kernel copies
 * the owner to the new page. The site, gfp, order, CPU, thread and time
 * stay the client's allocation's, so the summary is the same before and
 * after; the report says the page was migrated. The client keeps its
 * blocks in mig_held, by pfn, with each one's allocation time; the
 * keepers (mig_keeper) are blocks of another site that hold the target
 * pageblocks apart. */
#define MIG_PAGES (DBG_BLOCK * DBG_BLOCKS)
static struct za_page *mig_held[MIG_PAGES];
static unsigned long long mig_ns[MIG_PAGES];
static unsigned mig_order[MIG_PAGES];
static bool mig_keeper[MIG_PAGES];
static int mig_copy(void *ctx, struct za_page *dst, struct za_page *src,
                    unsigned order)
{
	struct za *za = ctx;
	unsigned long s = za_page_to_pfn(za, src), d = za_page_to_pfn(za, dst);
	if (mig_held[s] != src || mig_order[s] != order)
		return -ENOENT;
	memcpy(za_page_address(za, dst), za_page_address(za, src),
	       4096ul << order);
	mig_held[d] = dst;
	mig_ns[d] = mig_ns[s];
	mig_order[d] = order;
	mig_keeper[d] = mig_keeper[s];
	mig_held[s] = NULL;
	return 0;
}

/* The summary, sorted by site then size, for comparing two of them. */
static int cmp_site(const void *a, const void *b)
{
	const struct za_page_owner_site *x = a, *y = b;
	if (x->site != y->site)
		return (uintptr_t)x->site < (uintptr_t)y->site ? -1 : 1;
	return x->pages < y->pages ? -1 : x->pages > y->pages;
}
static long mig_summary(struct za *za, struct za_page_owner_site *s, size_t n)
{
	memset(s, 0, n * sizeof(*s));
	long k = za_page_owner_summary(za, s, n);
	CHECK(k >= 0 && (size_t)k <= n);
	qsort(s, (size_t)k, sizeof(*s), cmp_site);
	return k;
}

/* Every block the client holds: its record names its allocation, from
 * its head and from its other page (the frames it moved to held smaller
 * blocks since, whose records are newer than its allocation). */
static unsigned long mig_verify(struct za *za, const char *when)
{
	unsigned long n = 0;
	for (unsigned long pfn = 0; pfn < MIG_PAGES; pfn++) {
		if (!mig_held[pfn] || mig_keeper[pfn])
			continue;
		for (unsigned long i = 0; i < 1ul << mig_order[pfn]; i++) {
			struct za_page_owner_info info;
			CHECK_EQ(za_page_owner(za, za_pfn_to_page(za, pfn + i), &info), 0);
			RULE(strcmp(site_name(info.alloc_site), "owner_site_c") == 0 &&
			         info.alloc_ns == mig_ns[pfn] && info.cpu == 1 &&
			         info.gfp == ZA_GFP_MOVABLE &&
			         info.order == mig_order[pfn] && info.pfn == pfn &&
			         info.nr_pages == 1ul << mig_order[pfn] &&
			         info.tid == (int)syscall(SYS_gettid) &&
			         info.allocated == 1 && info.free_site == NULL,
			     "a migrated block keeps its allocation record (%s): pfn "
			     "%#lx page %lu allocated by %s (owner_site_c), at %llu ns "
			     "(%llu), cpu %d (1), gfp %#x, order %u (%u), pfn %#lx, %lu "
			     "pages, allocated %d, free site %p",
			     when, pfn, i, site_name(info.alloc_site), info.alloc_ns,
			     mig_ns[pfn], info.cpu, (unsigned)info.gfp, info.order,
			     mig_order[pfn], info.pfn, info.nr_pages, info.allocated,
			     info.free_site);
		}
		n++;
	}
	return n;
}

static void test_migrate(void)
{
	struct za_config c;
	memset(&c, 0, sizeof(c));
	c.nr_cpus = 4;
	c.cpu_id = dbg_cpu_id;
	c.block_pages = DBG_BLOCK;
	c.max_pfn = MIG_PAGES;
	c.flags = ZA_CFG_PAGE_OWNER | ZA_CFG_NO_KSWAPD | ZA_CFG_NO_KCOMPACTD |
	          ZA_CFG_NO_VMSTAT_WORKER;
	c.error = dbg_error;
	c.migrate = mig_copy;
	struct za *za = za_create(&c);
	CHECK(za != NULL);
	za->migrate_ctx = za; /* the callback needs the za */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, MIG_PAGES,
	                          dbg_map(MIG_PAGES)),
	         0);
	unsigned before = dbg_msgs();
	memset(mig_held, 0, sizeof(mig_held));
	memset(mig_keeper, 0, sizeof(mig_keeper));
	dbg_cpu = 1;
	struct za_page_owner_info info;
	/* The upper half taken first (the allocator hands out from the top),
	 * so that the client's blocks land in the lower half. */
	static struct za_page *up[MIG_PAGES / 2];
	for (unsigned i = 0; i < MIG_PAGES / 2 / 8; i++)
		CHECK((up[i] = za_alloc_pages(za, ZA_GFP_MOVABLE, 3)) != NULL);
	/* Orders 0 and 1 from one site, every other block freed again:
	 * holes between the client's blocks. */
	for (int i = 0; i < 1600; i++) {
		unsigned order = i % 5 == 4;
		struct za_page *p = owner_site_c(za, order);
		CHECK(p != NULL);
		unsigned long pfn = za_page_to_pfn(za, p);
		CHECK(pfn < MIG_PAGES / 2);
		CHECK_EQ(za_page_owner(za, p, &info), 0);
		mig_held[pfn] = p;
		mig_ns[pfn] = info.alloc_ns;
		mig_order[pfn] = order;
	}
	unsigned long k = 0;
	for (unsigned long pfn = 0; pfn < MIG_PAGES; pfn++)
		if (mig_held[pfn] && k++ % 2 == 0) {
			za_free_pages(za, mig_held[pfn], mig_order[pfn]);
			mig_held[pfn] = NULL;
		}
	/* The upper half, where compaction moves the client's blocks, held
	 * order-0 blocks since: records newer than the client's at every
	 * frame there. A moved block's pages must still name the block.
	 * Every 64th stays (a keeper, which the callback moves too), so
	 * that the upper pageblocks do not merge whole: compaction's free
	 * scanner passes over a whole free pageblock. */
	for (unsigned i = 0; i < MIG_PAGES / 2 / 8; i++)
		za_free_pages(za, up[i], 3);
	for (unsigned i = 0; i < MIG_PAGES / 2; i++)
		CHECK((up[i] = za_alloc_pages(za, ZA_GFP_MOVABLE, 0)) != NULL);
	unsigned long nkeep = 0;
	for (unsigned i = 0; i < MIG_PAGES / 2; i++) {
		unsigned long pfn = za_page_to_pfn(za, up[i]);
		if (pfn % 64 == 5) {
			mig_held[pfn] = up[i];
			mig_order[pfn] = 0;
			mig_keeper[pfn] = true;
			nkeep++;
		} else {
			za_free_pages(za, up[i], 0);
		}
	}
	CHECK(nkeep > 16);
	za_drain_all_pages(za);
	struct za_page_owner_site s0[8], s1[8];
	long n0 = mig_summary(za, s0, 8);
	unsigned long held = mig_verify(za, "before");
	CHECK_EQ(n0, 2);
	for (long i = 0; i < n0; i++)
		CHECK_EQ(s0[i].blocks,
		         strcmp(site_name(s0[i].site), "owner_site_c") == 0 ? held
		                                                            : nkeep);

	/* Compaction. */
	unsigned long long moved = za_event_count(za, ZA_PGMIGRATE_SUCCESS);
	CHECK_EQ(za_compact(za, -1), 0);
	CHECK(za_event_count(za, ZA_PGMIGRATE_SUCCESS) > moved);
	CHECK_EQ(mig_verify(za, "after za_compact"), held);
	long n1 = mig_summary(za, s1, 8);
	RULE(n1 == n0 && memcmp(s0, s1, sizeof(s0)) == 0,
	     "page owner's summary is the same after compaction moved blocks: "
	     "%ld site(s), first %s (%lu blocks, %lu pages), before %ld site(s), "
	     "%s (%lu blocks, %lu pages)",
	     n1, site_name(s1[0].site), s1[0].blocks, s1[0].pages, n0,
	     site_name(s0[0].site), s0[0].blocks, s0[0].pages);
	int err;
	char *rep = capture(za, ZA_REPORT_PAGE_OWNER, &err);
	CHECK_EQ(err, 0);
	RULE(count(rep, "Page has been migrated, last_migrate_reason: "
	                "compaction\n") > 0 &&
	         count(rep, " owner_site_c+0x") == held,
	     "the report names the client's site for every block (%u of %lu) "
	     "and says which were migrated",
	     count(rep, " owner_site_c+0x"), held);
	free(rep);

	/* Memory offline of the block that holds the most client blocks. */
	unsigned long blk = 0, in_blk = 0;
	for (unsigned long b = 0; b < MIG_PAGES; b += DBG_BLOCK) {
		unsigned long n = 0;
		for (unsigned long pfn = b; pfn < b + DBG_BLOCK; pfn++)
			n += mig_held[pfn] && !mig_keeper[pfn];
		if (n > in_blk) {
			in_blk = n;
			blk = b;
		}
	}
	CHECK(in_blk > 0);
	moved = za_event_count(za, ZA_PGMIGRATE_SUCCESS);
	CHECK_EQ(za_memory_offline(za, blk, DBG_BLOCK), 0);
	CHECK(za_event_count(za, ZA_PGMIGRATE_SUCCESS) >= moved + in_blk);
	CHECK_EQ(mig_verify(za, "after za_memory_offline"), held);
	n1 = mig_summary(za, s1, 8);
	RULE(n1 == n0 && memcmp(s0, s1, sizeof(s0)) == 0,
	     "page owner's summary is the same after memory offline moved "
	     "%lu blocks: %ld site(s), first %s (%lu blocks, %lu pages), "
	     "before %ld site(s), %s (%lu blocks, %lu pages)",
	     in_blk, n1, site_name(s1[0].site), s1[0].blocks, s1[0].pages, n0,
	     site_name(s0[0].site), s0[0].blocks, s0[0].pages);
	rep = capture(za, ZA_REPORT_PAGE_OWNER, &err);
	CHECK_EQ(err, 0);
	CHECK(count(rep, "Page has been migrated, last_migrate_reason: "
	                 "offline_or_contig_range\n") >= in_blk);
	free(rep);

	/* The client frees its moved blocks: their records say so. */
	for (unsigned long pfn = 0; pfn < MIG_PAGES; pfn++) {
		if (!mig_held[pfn])
			continue;
		owner_free_b(za, mig_held[pfn], mig_order[pfn]);
		CHECK_EQ(za_page_owner(za, mig_held[pfn], &info), 0);
		if (!mig_keeper[pfn])
			CHECK_SITE(info.alloc_site, owner_site_c);
		CHECK_SITE(info.free_site, owner_free_b);
		CHECK_EQ(info.allocated, 0);
		mig_held[pfn] = NULL;
	}
	CHECK_EQ(za_page_owner_summary(za, s1, 8), 0);
	CHECK_EQ(dbg_msgs(), before);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

/* Records sit at block heads (DEBUGGING.md, za_page_owner's -ENOENT):
 * a freed block split since, with a smaller block handed out at its first
 * page, leaves its other pages without a record, and a write after free
 * into one of them is reported without the page owner's sites. The
 * kernel keeps a record in every page; this pins the documented
 * difference, so that a change to it changes the docs too. */
static void test_split_forgets(void)
{
	struct za *za = dbg_make(ZA_CFG_PAGE_OWNER | ZA_CFG_POISON | ZA_CFG_NO_PCP,
	                         1);
	dbg_cpu = 0;
	/* Every order-3 block taken: the one freed below is the only free
	 * memory, so the order-0 allocation splits it. */
	enum { N = DBG_BLOCK * DBG_BLOCKS / 8 };
	static struct za_page *all[N];
	unsigned n = 0;
	struct za_page *p;
	while (n < N && (p = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NOWARN, 3)))
		all[n++] = p;
	CHECK(n > 0);
	owner_free_b(za, all[--n], 3);
	struct za_page *a = owner_site_a(za, 3);
	CHECK(a != NULL);
	unsigned long pfn = za_page_to_pfn(za, a);
	unsigned char *stale = za_page_address(za, za_pfn_to_page(za, pfn + 1));
	owner_free_b(za, a, 3);
	struct za_page_owner_info info;
	CHECK_EQ(za_page_owner(za, za_pfn_to_page(za, pfn + 1), &info), 0);
	CHECK_SITE(info.alloc_site, owner_site_a);
	CHECK_EQ(info.allocated, 0);

	struct za_page *b = owner_site_a(za, 0);
	CHECK_EQ(za_page_to_pfn(za, b), pfn);
	CHECK_EQ(za_page_owner(za, za_pfn_to_page(za, pfn + 1), &info), -ENOENT);

	/* A write after free through the old block's pointer: reported,
	 * without a record to name. */
	stale[10] = 0x42;
	unsigned before = dbg_msgs();
	struct za_page *c = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	CHECK_EQ(za_page_to_pfn(za, c), pfn + 1);
	CHECK_EQ(dbg_msgs(), before + 1);
	CHECK(strstr(dbg_last_msg, "poison mismatch") != NULL);
	CHECK(strstr(dbg_last_msg, "[page owner:") == NULL);

	za_free_pages(za, c, 0);
	za_free_pages(za, b, 0);
	while (n)
		za_free_pages(za, all[--n], 3);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

int main(void)
{
	tu_watchdog(120);
	test_off();
	test_records();
	test_reports();
	test_misuse();
	test_migrate();
	test_split_forgets();
	printf("debug_owner: ok\n");
	return 0;
}
