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
#include <stdio.h>
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

int main(void)
{
	tu_watchdog(120);
	test_off();
	test_records();
	test_reports();
	test_misuse();
	printf("debug_owner: ok\n");
	return 0;
}
