/*
 * fuzz_api.c - the API-sequence fuzzer of zonealloc: LLVMFuzzerTestOneInput
 * decodes its input into a sequence of public API calls on a small
 * topology and checks the allocator after every one of them.
 *
 * Built two ways: with clang -fsanitize=fuzzer (libFuzzer's main, see
 * tests/fuzz/run.sh) and with replay_main.c, a plain driver that runs every
 * file of tests/fuzz/corpus/ through this same function (ctest fuzz_corpus).
 *
 * The allocator is single-threaded here (no background threads), so every
 * point between two calls is quiescent and the fuzzer is deterministic.
 * The CPU that each call runs on is chosen by the input through the cpu_id
 * callback (4 CPUs, plus an out-of-range id that means "no CPU").
 *
 * Input layout (docs/VERIFICATION.md; tests/fuzz/seed.py writes it):
 *   4 header bytes: topology and configuration (see decode_config);
 *   then operations: one opcode byte (taken modulo OP_COUNT) and a fixed
 *   number of argument bytes each; reads past the end give 0.
 *
 * After every operation: za_check(za, stderr) must return 0, the harness's
 * own checks must hold (no two live blocks overlap, pages it wrote keep
 * their contents, counters agree with what it holds, return codes are the
 * ones the API promises), and the error handler must have been called only
 * for the misuse the harness did on purpose. At the end everything is
 * freed, and every zone must have all its managed pages back on the buddy
 * lists. Any failure prints the reason and aborts.
 *
 * Hostile mode (header byte 1, bit 6; issue 12): the configuration may
 * take values at and past its limits (a fixed pcp_high of 2^30, 2^30 + 1
 * or UINT_MAX; min_free_kbytes up to ULONG_MAX; 256 MiB to 1 GiB pages
 * for frames-only memory), and za_create must either work or fail with
 * EINVAL for exactly the values the header rejects. Half of the report
 * operation's argument space then runs hostile calls instead (op_hostile):
 * every entry point with a NULL za, contiguous sizes near ULONG_MAX,
 * foreign and misaligned page pointers, node ids below -1, bad info
 * arguments, an OOM handler that lies, shrinkers that claim ULONG_MAX
 * pages, and a migrate callback that calls back into memory hotplug,
 * za_check and contiguous allocation (all -EDEADLK) and za_report.
 *
 * Environment: ZA_FUZZ_TRACE=1 prints every operation and its result.
 * To keep fuzzing past a known bug that is not fixed yet, build with
 * -DZA_FUZZ_NO_SHIFT9 (4 KiB pages only), -DZA_FUZZ_NO_CONTIG (no
 * contiguous allocations) or -DZA_FUZZ_NO_HIGHATOMIC (no high-order atomic
 * reserve); the inputs keep their meaning otherwise.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "zonealloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* --- topology ----------------------------------------------------------- */

#define NCPU 4             /* possible CPUs; id NCPU means "no CPU" */
#define MAX_PAGE_SHIFT 12  /* 4 KiB pages, or 512 bytes (header bit) */
#define BLOCK_PAGES 1024ul /* memory hotplug granularity */
#define BLOCKS_PER_NODE 6  /* DMA32, NORMAL, MOVABLE x2, 2 spare */
#define MAX_NODES 2
#define NBLOCKS (BLOCKS_PER_NODE * MAX_NODES)
#define MAX_PFN (NBLOCKS * BLOCK_PAGES)
#define MAX_OPS 768    /* operations per input */
#define MAX_LIVE 16384 /* live blocks the harness holds */
#define BULK_MAX 48

/* The zone a block of a node is onlined into at the start; spare blocks
 * (4, 5) start offline and come online in the zone the input picks. */
static const int block_home_zone[BLOCKS_PER_NODE] = {
	ZA_ZONE_DMA32,   ZA_ZONE_NORMAL,  ZA_ZONE_MOVABLE,
	ZA_ZONE_MOVABLE, ZA_ZONE_MOVABLE, ZA_ZONE_NORMAL,
};

/* --- harness state ------------------------------------------------------- */

struct live {
	struct za_page *page;
	unsigned long pfn;
	unsigned long npages; /* 2^order, or the rounded contig length */
	unsigned long req;    /* contig: the nr_pages asked for */
	unsigned order;
	int mt; /* ZA_MT_* the request implies */
	bool contig;
	bool cache; /* the shrinker may free it */
	uint64_t stamp;
};

static struct {
	struct za *za;
	const uint8_t *in;
	size_t len, pos;
	bool trace;
	bool backed;
	bool hostile;      /* header byte 1 bit 6: op_hostile, limits */
	bool reenter_next; /* the next migrate call re-enters the API */
	unsigned long oom_liar_calls;
	unsigned page_shift;
	char *mem; /* backing for every block, MAX_PFN pages */
	int cpu;   /* what cpu_id returns */
	unsigned nodes;
	unsigned max_order, pb_order;
	bool online_cpu[NCPU];
	int block_zone[NBLOCKS]; /* -1: offline */
	struct live *live;
	unsigned nlive;
	int32_t *owner; /* pfn -> live index, -1 */
	uint64_t next_stamp;
	/* migrate callback behaviour */
	unsigned refuse_next; /* refuse this many calls */
	bool refuse_all;
	bool enoent_next;            /* free src itself and answer -ENOENT */
	long offline_lo, offline_hi; /* range being offlined, or -1 */
	unsigned long migrations;
	/* reclaim */
	struct za_shrinker shrinker;
	bool shrinker_on;
	unsigned oom_budget;
	/* misuse the harness did on purpose */
	unsigned expected_errors, errors;
	FILE *devnull;
	unsigned op_index;
} H;

static void die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "fuzz_api: op %u: ", H.op_index);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

static void trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void trace(const char *fmt, ...)
{
	if (!H.trace)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "[%3u] ", H.op_index);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static uint8_t byte(void)
{
	return H.pos < H.len ? H.in[H.pos++] : 0;
}

static char *page_mem(unsigned long pfn)
{
	return H.backed ? H.mem + (pfn << H.page_shift) : NULL;
}

/* --- callbacks ------------------------------------------------------------ */

static int cb_cpu_id(void *ctx)
{
	(void)ctx;
	return H.cpu;
}

static void cb_error(void *ctx, int err, const char *msg)
{
	(void)ctx;
	H.errors++;
	if (H.errors > H.expected_errors)
		die("unexpected error report (%d): %s", err, msg);
	trace("  error report as expected: %s", msg);
}

/* --- the live table ------------------------------------------------------- */

static void stamp_block(const struct live *l)
{
	for (unsigned long i = 0; i < l->npages; i++) {
		char *m = page_mem(l->pfn + i);
		if (!m)
			return;
		uint64_t v = l->stamp ^ i;
		memcpy(m, &v, sizeof v);
		memcpy(m + (1u << H.page_shift) - sizeof v, &v, sizeof v);
	}
}

static void verify_stamp(const struct live *l, const char *when)
{
	for (unsigned long i = 0; i < l->npages; i++) {
		char *m = page_mem(l->pfn + i);
		if (!m)
			return;
		uint64_t a, b, v = l->stamp ^ i;
		memcpy(&a, m, sizeof a);
		memcpy(&b, m + (1u << H.page_shift) - sizeof b, sizeof b);
		if (a != v || b != v)
			die("%s: pfn 0x%lx (page %lu of a block at 0x%lx) was written "
			    "by somebody else: two owners",
			    when, l->pfn + i, i, l->pfn);
	}
}

static void own(unsigned idx)
{
	struct live *l = &H.live[idx];
	for (unsigned long i = 0; i < l->npages; i++)
		H.owner[l->pfn + i] = (int32_t)idx;
}

static void disown(const struct live *l)
{
	for (unsigned long i = 0; i < l->npages; i++)
		H.owner[l->pfn + i] = -1;
}

/* Remove entry idx (already freed), keeping the table dense. */
static void drop(unsigned idx)
{
	disown(&H.live[idx]);
	unsigned last = --H.nlive;
	if (idx != last) {
		H.live[idx] = H.live[last];
		own(idx);
	}
}

/* Check a block the allocator just handed out and take it into the table. */
static void take(struct za_page *page, unsigned order, unsigned long npages,
                 unsigned long req, int mt, bool contig, bool cache,
                 int max_zone, int want_nid, bool zeroed, const char *what)
{
	struct za *za = H.za;
	unsigned long pfn = za_page_to_pfn(za, page);
	if (pfn >= MAX_PFN)
		die("%s: returned page with pfn 0x%lx out of range", what, pfn);
	if (za_pfn_to_page(za, pfn) != page)
		die("%s: pfn 0x%lx does not map back to its page", what, pfn);
	/* Its memory maps back too: the first and the last byte. */
	if (H.backed) {
		char *m = page_mem(pfn);
		if (za_page_address(za, page) != m || za_virt_to_page(za, m) != page ||
		    za_virt_to_page(za, m + (npages << H.page_shift) - 1) !=
		        za_pfn_to_page(za, pfn + npages - 1))
			die("%s: pfn 0x%lx: address %p does not map back to its page",
			    what, pfn, (void *)m);
	} else if (za_page_address(za, page)) {
		die("%s: frame-only pfn 0x%lx has an address", what, pfn);
	}
	unsigned long align = contig ? (1ul << H.max_order) : npages;
	if (pfn & (align - 1))
		die("%s: block at pfn 0x%lx is not aligned to %lu pages", what, pfn,
		    align);
	int zone = za_page_zone(za, page), nid = za_page_nid(za, page);
	if (zone < 0 || nid < 0)
		die("%s: pfn 0x%lx has no zone", what, pfn);
	if (zone > max_zone)
		die("%s: pfn 0x%lx is in zone %d, above what gfp allows (%d)", what,
		    pfn, zone, max_zone);
	if (want_nid >= 0 && nid != want_nid)
		die("%s: pfn 0x%lx is on node %d, THISNODE asked for %d", what, pfn,
		    nid, want_nid);
	for (unsigned long i = 0; i < npages; i++) {
		unsigned long p = pfn + i;
		if (H.owner[p] >= 0)
			die("%s: pfn 0x%lx+%lu overlaps a live block at pfn 0x%lx "
			    "(order %u)",
			    what, pfn, i, H.live[H.owner[p]].pfn,
			    H.live[H.owner[p]].order);
		int b = (int)(p / BLOCK_PAGES);
		if (H.block_zone[b] < 0)
			die("%s: pfn 0x%lx lies in an offline block", what, p);
		if (H.offline_lo >= 0 && (long)p >= H.offline_lo &&
		    (long)p < H.offline_hi)
			die("%s: pfn 0x%lx lies in the range being offlined", what, p);
	}
	if (zeroed && H.backed) {
		/* the first and last 64 bytes of every page */
		size_t psz = (size_t)1 << H.page_shift;
		for (unsigned long i = 0; i < npages; i++) {
			const char *m = page_mem(pfn + i);
			for (size_t j = 0; j < psz; j = (j == 63 ? psz - 64 : j + 1))
				if (m[j])
					die("%s: ZA_GFP_ZERO block at pfn 0x%lx: page %lu "
					    "byte %zu = %d",
					    what, pfn, i, j, m[j]);
		}
	}
	if (H.nlive >= MAX_LIVE) /* cannot happen: fewer pages than that */
		die("live table full");
	struct live *l = &H.live[H.nlive];
	*l = (struct live){ page,   pfn,   npages,
		                req,    order, mt,
		                contig, cache, ++H.next_stamp * 0x9e3779b97f4a7c15ull };
	own(H.nlive);
	H.nlive++;
	stamp_block(l);
}

/* Free entry idx through the API and drop it. */
static void give_back(unsigned idx)
{
	struct live *l = &H.live[idx];
	verify_stamp(l, "free");
	if (l->contig)
		za_free_contig_pages(H.za, l->page, l->req);
	else
		za_free_pages(H.za, l->page, l->order);
	drop(idx);
}

/* --- migrate, shrinker, OOM ---------------------------------------------- */

static int cb_migrate(void *ctx, struct za_page *dst, struct za_page *src,
                      unsigned order)
{
	(void)ctx;
	struct za *za = H.za;
	unsigned long spfn = za_page_to_pfn(za, src);
	unsigned long dpfn = za_page_to_pfn(za, dst);
	if (spfn >= MAX_PFN)
		die("migrate: src pfn 0x%lx out of range", spfn);
	if (H.owner[spfn] < 0) {
		/* The client freed it since the allocator looked (a shrinker
		 * run by the allocation of dst, say): not ours any more. */
		trace("  migrate 0x%lx: no longer the client's, -ENOENT", spfn);
		return -ENOENT;
	}
	if (H.live[H.owner[spfn]].pfn != spfn)
		die("migrate: src pfn 0x%lx is inside the client's block at pfn "
		    "0x%lx, not its head",
		    spfn, H.live[H.owner[spfn]].pfn);
	unsigned idx = (unsigned)H.owner[spfn];
	struct live *l = &H.live[idx];
	if (l->contig || l->order != order)
		die("migrate: src pfn 0x%lx asked with order %u, held as order %u%s",
		    spfn, order, l->order, l->contig ? " (contig)" : "");
	if (l->mt != ZA_MT_MOVABLE)
		die("migrate: src pfn 0x%lx is not a movable allocation", spfn);
	if (H.reenter_next) {
		/* Under the memory-hotplug lock: what would wait for itself
		 * refuses (the header's "Callbacks"), what may run runs. */
		H.reenter_next = false;
		int r1 = za_memory_offline(za, 0, BLOCK_PAGES);
		int r2 = za_memory_online(za, 0, ZA_ZONE_NORMAL,
		                          (BLOCKS_PER_NODE - 1) * BLOCK_PAGES,
		                          BLOCK_PAGES, NULL);
		int r3 = za_check(za, NULL);
		errno = 0;
		struct za_page *c = za_alloc_contig_pages(za, 1, ZA_GFP_MOVABLE);
		int e4 = errno;
		int r5 = za_report(za, ZA_REPORT_PAGETYPEINFO, H.devnull);
		trace("  migrate re-enters: offline %d online %d check %d contig %s "
		      "errno %d report %d",
		      r1, r2, r3, c ? "page" : "NULL", e4, r5);
		if (r1 != -EDEADLK || r2 != -EDEADLK || r3 != -EDEADLK || c ||
		    e4 != EDEADLK || r5 != 0)
			die("migrate callback re-entering: offline %d online %d check "
			    "%d contig %p errno %d report %d",
			    r1, r2, r3, (void *)c, e4, r5);
	}
	if (H.refuse_all || H.refuse_next) {
		if (H.refuse_next)
			H.refuse_next--;
		trace("  migrate 0x%lx -> 0x%lx: refused", spfn, dpfn);
		return -EBUSY;
	}
	if (H.enoent_next) {
		/* The client frees src itself (serialised with this callback)
		 * and says it is no longer its own. */
		H.enoent_next = false;
		trace("  migrate 0x%lx: client frees it, -ENOENT", spfn);
		give_back(idx);
		return -ENOENT;
	}
	if (dpfn >= MAX_PFN || (dpfn & ((1ul << order) - 1)))
		die("migrate: dst pfn 0x%lx bad for order %u", dpfn, order);
	if (H.offline_lo >= 0 && (long)dpfn + (1l << order) > H.offline_lo &&
	    (long)dpfn < H.offline_hi)
		die("migrate: dst pfn 0x%lx lies in the range being offlined", dpfn);
	for (unsigned long i = 0; i < l->npages; i++)
		if (H.owner[dpfn + i] >= 0)
			die("migrate: dst pfn 0x%lx overlaps a live block", dpfn + i);
	verify_stamp(l, "migrate src");
	if (H.backed)
		memcpy(page_mem(dpfn), page_mem(spfn), l->npages << H.page_shift);
	disown(l);
	l->page = dst;
	l->pfn = dpfn;
	own(idx);
	verify_stamp(l, "migrate dst");
	H.migrations++;
	trace("  migrate 0x%lx -> 0x%lx order %u", spfn, dpfn, order);
	return 0;
}

static unsigned long cb_count(void *ctx, int nid)
{
	(void)ctx;
	unsigned long n = 0;
	for (unsigned i = 0; i < H.nlive; i++)
		if (H.live[i].cache && za_page_nid(H.za, H.live[i].page) == nid)
			n += H.live[i].npages;
	return n;
}

static unsigned long cb_scan(void *ctx, int nid, unsigned long nr)
{
	(void)ctx;
	unsigned long freed = 0;
	for (unsigned i = H.nlive; i-- > 0 && freed < nr;) {
		if (!H.live[i].cache || za_page_nid(H.za, H.live[i].page) != nid)
			continue;
		freed += H.live[i].npages;
		give_back(i);
	}
	trace("  shrinker scan node %d: %lu of %lu", nid, freed, nr);
	return freed;
}

static unsigned long cb_oom(void *ctx, int nid, unsigned order)
{
	(void)ctx;
	if (!H.oom_budget)
		return 0;
	H.oom_budget--;
	/* Free the largest ordinary block of that node. */
	int best = -1;
	for (unsigned i = 0; i < H.nlive; i++) {
		const struct live *l = &H.live[i];
		if (l->contig || za_page_nid(H.za, l->page) != nid)
			continue;
		if (best < 0 || l->npages > H.live[best].npages)
			best = (int)i;
	}
	if (best < 0)
		return 0;
	unsigned long n = H.live[best].npages;
	trace("  oom node %d order %u: frees pfn 0x%lx (%lu pages)", nid, order,
	      H.live[best].pfn, n);
	give_back((unsigned)best);
	return n;
}

/* --- gfp ------------------------------------------------------------------- */

static const za_gfp_t gfp_base[] = {
	ZA_GFP_KERNEL,
	ZA_GFP_ATOMIC,
	ZA_GFP_NOWAIT,
	ZA_GFP_MOVABLE,
	ZA_GFP_KERNEL | ZA_GFP_DMA32,
	ZA_GFP_ATOMIC | ZA_GFP_DMA32,
	ZA_GFP_NOWAIT | ZA___GFP_MOVABLE,
	ZA_GFP_KERNEL | ZA_GFP_RECLAIMABLE,
	ZA_GFP_ATOMIC | ZA___GFP_MOVABLE,
	ZA_GFP_DMA, /* the DMA zone stays empty here */
	0,
};
#define NGFP (sizeof gfp_base / sizeof gfp_base[0])

/* Two bytes: a base mask and modifiers. Never NOFAIL. Sets *valid to
 * whether the API must accept it. */
static za_gfp_t decode_gfp(bool *valid)
{
	uint8_t b = byte(), m = byte();
	za_gfp_t g;
	if (b & 0x80) {
		/* raw bits: also the invalid combinations */
		g = ((za_gfp_t)(b & 0x7f) << 8 | m) & ZA_GFP_ALL_BITS;
		if (b & 0x40)
			g |= 0x10000u; /* a bit outside ZA_GFP_ALL_BITS */
	} else {
		g = gfp_base[b % NGFP];
		if (m & 0x01)
			g |= ZA_GFP_ZERO;
		if (m & 0x02)
			g |= ZA_GFP_NORETRY;
		if (m & 0x04)
			g |= ZA_GFP_THISNODE;
		if (m & 0x08)
			g |= ZA_GFP_NOWARN;
		if (m & 0x10)
			g |= ZA___GFP_HIGH;
		if (m & 0x20)
			g |= ZA___GFP_ATOMIC_RES;
		if (m & 0x40)
			g |= ZA___GFP_KSWAPD_RECLAIM;
	}
	g &= ~ZA___GFP_NOFAIL;
#ifdef ZA_FUZZ_NO_HIGHATOMIC
	g &= ~ZA___GFP_ATOMIC_RES; /* fuzzing around a known reserve bug */
#endif
	*valid = !(g & ~ZA_GFP_ALL_BITS) &&
	         !((g & ZA___GFP_DMA) && (g & ZA___GFP_DMA32));
	return g;
}

static int gfp_max_zone(za_gfp_t g)
{
	if (g & ZA___GFP_DMA)
		return ZA_ZONE_DMA;
	if (g & ZA___GFP_DMA32)
		return ZA_ZONE_DMA32;
	if (g & ZA___GFP_MOVABLE)
		return ZA_ZONE_MOVABLE;
	return ZA_ZONE_NORMAL;
}

static int gfp_mt(za_gfp_t g)
{
	if (g & ZA___GFP_MOVABLE)
		return ZA_MT_MOVABLE;
	if (g & ZA___GFP_RECLAIMABLE)
		return ZA_MT_RECLAIMABLE;
	return ZA_MT_UNMOVABLE;
}

/* The node an allocation must stay on with THISNODE, or -1. */
static int thisnode(za_gfp_t g, int nid)
{
	if (!(g & ZA_GFP_THISNODE))
		return -1;
	if (nid >= 0)
		return nid;
	if (H.cpu >= 0 && H.cpu < NCPU)
		return za_cpu_to_node(H.za, (unsigned)H.cpu);
	return 0;
}

static void set_cpu(uint8_t b)
{
	H.cpu = b % (NCPU + 1); /* NCPU: an id the allocator does not know */
}

/* --- operations ------------------------------------------------------------ */

static void op_alloc(void)
{
	set_cpu(byte());
	bool valid;
	za_gfp_t g = decode_gfp(&valid);
	uint8_t ob = byte(), nb = byte();
	unsigned order = (ob & 0x7f) % (H.max_order + 2); /* max + 1: invalid */
	bool cache = ob & 0x80;
	int nid = -1;
	if (nb & 1) { /* a node; H.nodes is invalid, H.nodes + 1 means -1 */
		nid = (int)((nb >> 1) % (H.nodes + 2));
		if (nid == (int)H.nodes + 1)
			nid = -1;
	}
	if (order > H.max_order || (nid >= 0 && (unsigned)nid >= H.nodes))
		valid = false;
	errno = 0;
	struct za_page *p = (nb & 1) ? za_alloc_pages_node(H.za, nid, g, order)
	                             : za_alloc_pages(H.za, g, order);
	trace("alloc cpu %d gfp 0x%x order %u nid %d%s -> %s", H.cpu, g, order,
	      nid, cache ? " (cache)" : "",
	      p ? "page" : (errno == EINVAL ? "EINVAL" : "NULL"));
	if (!valid) {
		if (p || errno != EINVAL)
			die("alloc with a bad request (gfp 0x%x order %u nid %d) "
			    "gave %p errno %d, not NULL/EINVAL",
			    g, order, nid, (void *)p, errno);
		return;
	}
	if (!p) {
		if (errno != ENOMEM)
			die("alloc failed with errno %d, not ENOMEM", errno);
		return;
	}
	take(p, order, 1ul << order, 0, gfp_mt(g), false, cache, gfp_max_zone(g),
	     thisnode(g, nid), g & ZA_GFP_ZERO, "alloc");
}

static void op_free(void)
{
	set_cpu(byte());
	uint8_t a = byte(), b = byte();
	if (!H.nlive)
		return;
	unsigned idx = ((unsigned)a << 8 | b) % H.nlive;
	trace("free cpu %d pfn 0x%lx order %u%s", H.cpu, H.live[idx].pfn,
	      H.live[idx].order, H.live[idx].contig ? " (contig)" : "");
	give_back(idx);
}

static void op_alloc_bulk(void)
{
	set_cpu(byte());
	bool valid;
	za_gfp_t g = decode_gfp(&valid);
	unsigned nr = byte() % (BULK_MAX + 1);
	struct za_page *pages[BULK_MAX];
	unsigned got = za_alloc_pages_bulk(H.za, g, nr, pages);
	trace("alloc_bulk cpu %d gfp 0x%x nr %u -> %u", H.cpu, g, nr, got);
	if (got > nr)
		die("alloc_bulk returned %u of %u", got, nr);
	if (!valid && got)
		die("alloc_bulk with bad gfp 0x%x returned %u pages", g, got);
	for (unsigned i = 0; i < got; i++) {
		if (!pages[i])
			die("alloc_bulk: entry %u of %u is NULL", i, got);
		take(pages[i], 0, 1, 0, gfp_mt(g), false, false, gfp_max_zone(g),
		     thisnode(g, -1), g & ZA_GFP_ZERO, "alloc_bulk");
	}
}

static void op_free_bulk(void)
{
	set_cpu(byte());
	unsigned want = byte() % (BULK_MAX + 1);
	uint8_t holes = byte();
	struct za_page *pages[BULK_MAX];
	unsigned n = 0;
	/* Order-0 ordinary blocks, from the end of the table. */
	for (unsigned i = H.nlive; i-- > 0 && n < want;) {
		struct live *l = &H.live[i];
		if (l->contig || l->order)
			continue;
		verify_stamp(l, "free_bulk");
		pages[n++] = l->page;
		if ((holes >> (n % 8)) & 1 && n < want)
			pages[n++] = NULL; /* skipped by the API */
		drop(i);
	}
	trace("free_bulk cpu %d: %u entries", H.cpu, n);
	za_free_pages_bulk(H.za, n, pages);
}

/* After a drain, the drained CPUs' lists are empty in every zone. */
static void check_drained(unsigned cpu)
{
	for (unsigned n = 0; n < H.nodes; n++)
		for (int z = 0; z < ZA_NR_ZONES; z++) {
			struct za_pcp_info pi;
			if (za_pcp_info(H.za, cpu, (int)n, (enum za_zone_type)z, &pi))
				die("za_pcp_info(%u, %u, %d) failed", cpu, n, z);
			if (pi.count)
				die("cpu %u node %u zone %d: %u pages on the pcp lists "
				    "after a drain",
				    cpu, n, z, pi.count);
		}
}

static void op_drain(void)
{
	uint8_t b = byte();
	set_cpu(b);
	if (b & 0x80) {
		trace("drain all");
		za_drain_all_pages(H.za);
		for (unsigned c = 0; c < NCPU; c++)
			check_drained(c);
	} else {
		trace("drain local cpu %d", H.cpu);
		za_drain_local_pages(H.za);
		if (H.cpu < NCPU)
			check_drained((unsigned)H.cpu);
	}
}

static unsigned online_cpus(void)
{
	unsigned n = 0;
	for (unsigned c = 0; c < NCPU; c++)
		n += H.online_cpu[c];
	return n;
}

static void op_cpu_hotplug(void)
{
	uint8_t b = byte();
	unsigned cpu = b % (NCPU + 1); /* NCPU: out of range */
	bool offline = b & 0x80;
	int want, r;
	if (cpu >= NCPU)
		want = -EINVAL;
	else if (offline)
		want = !H.online_cpu[cpu] ? -EEXIST : online_cpus() == 1 ? -EBUSY : 0;
	else
		want = H.online_cpu[cpu] ? -EEXIST : 0;
	r = offline ? za_cpu_offline(H.za, cpu) : za_cpu_online(H.za, cpu);
	trace("cpu %s %u -> %d", offline ? "offline" : "online", cpu, r);
	if (r != want)
		die("cpu_%s(%u) returned %d, expected %d",
		    offline ? "offline" : "online", cpu, r, want);
	if (!r)
		H.online_cpu[cpu] = !offline;
	for (unsigned c = 0; c < NCPU; c++)
		if (za_cpu_is_online(H.za, c) != (int)H.online_cpu[c])
			die("za_cpu_is_online(%u) = %d, expected %d", c,
			    za_cpu_is_online(H.za, c), H.online_cpu[c]);
}

static void op_mem_offline(void)
{
	set_cpu(byte());
	uint8_t b = byte();
	unsigned blk = (b & 0x7f) % (H.nodes * BLOCKS_PER_NODE);
	unsigned long start = blk * BLOCK_PAGES, nr = BLOCK_PAGES;
	/* bit 7: two blocks at once (one zone per call, else -EINVAL) */
	if ((b & 0x80) && blk + 1 < H.nodes * BLOCKS_PER_NODE)
		nr = 2 * BLOCK_PAGES;
	unsigned nblk = (unsigned)(nr / BLOCK_PAGES);

	bool all_online = true, one_zone = true, unmovable = false, used = false;
	for (unsigned i = 0; i < nblk; i++) {
		if (H.block_zone[blk + i] < 0)
			all_online = false;
		else if ((blk + i) / BLOCKS_PER_NODE != blk / BLOCKS_PER_NODE ||
		         H.block_zone[blk + i] != H.block_zone[blk])
			one_zone = false;
	}
	for (unsigned long p = start; p < start + nr; p++) {
		if (H.owner[p] < 0)
			continue;
		used = true;
		const struct live *l = &H.live[H.owner[p]];
		if (l->contig || l->mt != ZA_MT_MOVABLE)
			unmovable = true;
	}
	H.offline_lo = (long)start;
	H.offline_hi = (long)(start + nr);
	int r = za_memory_offline(H.za, start, nr);
	H.offline_lo = H.offline_hi = -1;
	trace("memory offline blocks %u+%u -> %d (migrations so far %lu)", blk,
	      nblk, r, H.migrations);

	if (!all_online) {
		if (r != -ENOENT)
			die("offline of a range not wholly online returned %d", r);
		return;
	}
	if (!one_zone) {
		if (r != -EINVAL)
			die("offline across two zones returned %d, not -EINVAL", r);
		return;
	}
	if (r == 0) {
		for (unsigned long p = start; p < start + nr; p++) {
			if (H.owner[p] >= 0)
				die("offline succeeded with pfn 0x%lx still held", p);
			if (za_pfn_to_page(H.za, p))
				die("offline succeeded but pfn 0x%lx maps to a page", p);
		}
		for (unsigned i = 0; i < nblk; i++)
			H.block_zone[blk + i] = -1;
		return;
	}
	if (r == -EBUSY && unmovable)
		return;
	if (r == -EAGAIN && used)
		return; /* migration failed or was refused */
	die("offline of blocks %u+%u returned %d (in use: %d, unmovable: %d)", blk,
	    nblk, r, used, unmovable);
}

static void op_mem_online(void)
{
	uint8_t b = byte(), z = byte();
	unsigned blk = b % (H.nodes * BLOCKS_PER_NODE);
	int nid = (int)(blk / BLOCKS_PER_NODE);
	int zone = block_home_zone[blk % BLOCKS_PER_NODE];
	if (blk % BLOCKS_PER_NODE >= 4) /* spare blocks: the input picks */
		zone = (z & 1) ? ZA_ZONE_MOVABLE : ZA_ZONE_NORMAL;
	unsigned long start = blk * BLOCK_PAGES;
	int want = H.block_zone[blk] >= 0 ? -EEXIST : 0;
	int r = za_memory_online(H.za, nid, (enum za_zone_type)zone, start,
	                         BLOCK_PAGES, page_mem(start));
	trace("memory online block %u node %d zone %d -> %d", blk, nid, zone, r);
	if (r != want)
		die("memory_online(block %u) returned %d, expected %d", blk, r, want);
	if (!r)
		H.block_zone[blk] = zone;
}

static void op_migrate_mode(void)
{
	uint8_t b = byte();
	H.refuse_next = b & 3;
	H.refuse_all = (b & 0x1c) == 0x1c; /* rare: every call refuses */
	H.enoent_next = b & 0x20;
	trace("migrate mode: refuse next %u, all %d, enoent next %d",
	      H.refuse_next, H.refuse_all, H.enoent_next);
}

static void op_contig(void)
{
	set_cpu(byte());
	bool valid;
	za_gfp_t g = decode_gfp(&valid);
	uint8_t b = byte();
#ifdef ZA_FUZZ_NO_CONTIG
	return; /* fuzzing around a known bug of contiguous ranges */
#endif
	unsigned long nr = 1 + (unsigned long)b * 8; /* 1 .. 2041 pages */
	errno = 0;
	struct za_page *p = za_alloc_contig_pages(H.za, nr, g);
	trace("contig cpu %d gfp 0x%x nr %lu -> %s", H.cpu, g, nr,
	      p ? "page" : "NULL");
	/* Unknown bits, or DMA with DMA32: EINVAL, as za_alloc_pages says. */
	bool bad = (g & ~ZA_GFP_ALL_BITS) ||
	           ((g & ZA___GFP_DMA) && (g & ZA___GFP_DMA32));
	(void)valid;
	if (!p) {
		if (errno != (bad ? EINVAL : ENOMEM))
			die("contig failed with errno %d, not %s", errno,
			    bad ? "EINVAL" : "ENOMEM");
		return;
	}
	if (bad)
		die("contig with bad gfp 0x%x succeeded", g);
	/* The range the allocator reserves: the request rounded up to whole
	 * max-order blocks (the header says pageblocks; the library takes
	 * max-order blocks, which it counts as allocated). */
	unsigned long chunk = 1ul << H.max_order;
	unsigned long n = (nr + chunk - 1) & ~(chunk - 1);
	take(p, 0, n, nr, ZA_MT_UNMOVABLE, true, false, gfp_max_zone(g),
	     thisnode(g, -1), false, "contig");
}

/* Misuse the API must report through the error handler and otherwise
 * ignore. The argument byte: bits 0-5 pick a live block, bits 6-7 what
 * to do with it. */
static void misuse_expect(const char *what, void (*act)(struct live *),
                          struct live *l)
{
	H.expected_errors++;
	act(l);
	if (H.errors != H.expected_errors)
		die("misuse not reported: %s of pfn 0x%lx", what, l->pfn);
}

static void free_wrong_order(struct live *l)
{
	unsigned wrong = l->contig                ? 0
	                 : l->order < H.max_order ? l->order + 1
	                                          : l->order - 1;
	za_free_pages(H.za, l->page, wrong);
}

static void free_again(struct live *l)
{
	if (l->contig)
		za_free_contig_pages(H.za, l->page, l->req);
	else
		za_free_pages(H.za, l->page, l->order);
}

static void free_tail(struct live *l)
{
	za_free_pages(H.za, za_pfn_to_page(H.za, l->pfn + 1), 0);
}

static void free_contig_wrong(struct live *l)
{
	/* an ordinary block as a contig range, or a range with a size that
	 * is not its own */
	unsigned long chunk = 1ul << H.max_order;
	za_free_contig_pages(H.za, l->page, l->contig ? l->npages + chunk : 1);
}

static uint64_t foreign_page[4]; /* not page metadata of any allocator */

static void free_foreign(struct live *l)
{
	(void)l;
	za_free_pages(H.za, (struct za_page *)foreign_page, 0);
}

static void op_misuse(void)
{
	set_cpu(byte());
	uint8_t b = byte();
	if (!H.nlive)
		return;
	unsigned idx = (b & 0x3f) % H.nlive;
	struct live l = H.live[idx];
	switch (b >> 6) {
	case 0:
		/* a double free, right after the first */
		trace("misuse: double free of pfn 0x%lx order %u%s", l.pfn, l.order,
		      l.contig ? " (contig)" : "");
		give_back(idx);
		misuse_expect("double free", free_again, &l);
		break;
	case 1:
		if (!l.contig && H.max_order == 0)
			return;
		trace("misuse: free pfn 0x%lx with the wrong order", l.pfn);
		misuse_expect("free with the wrong order", free_wrong_order, &l);
		break;
	case 2:
		if (l.npages < 2)
			return;
		trace("misuse: free pfn 0x%lx, inside the block at 0x%lx", l.pfn + 1,
		      l.pfn);
		misuse_expect("free of a tail page", free_tail, &l);
		break;
	case 3:
		if (b & 0x20) {
			trace("misuse: free of a pointer that is no page metadata");
			misuse_expect("free of a foreign pointer", free_foreign, &l);
		} else {
			trace("misuse: contig free of pfn 0x%lx with the wrong size",
			      l.pfn);
			misuse_expect("contig free with the wrong size", free_contig_wrong,
			              &l);
		}
		break;
	}
}

static void op_reclaim_setup(void)
{
	uint8_t b = byte();
	bool on = b & 1;
	if (on != H.shrinker_on) {
		if (on) {
			int r = za_register_shrinker(H.za, &H.shrinker);
			if (r)
				die("register_shrinker returned %d", r);
		} else {
			za_unregister_shrinker(H.za, &H.shrinker);
		}
		H.shrinker_on = on;
	}
	H.oom_budget = (b >> 1) & 3;
	trace("reclaim: shrinker %d, oom budget %u", on, H.oom_budget);
}

/* --- hostile calls (hostile mode) ------------------------------------------- */

static unsigned long cb_oom_liar(void *ctx, int nid, unsigned order)
{
	(void)ctx;
	(void)nid;
	(void)order;
	H.oom_liar_calls++;
	return 1000; /* and frees nothing */
}

static unsigned long cb_liar_count(void *ctx, int nid)
{
	(void)ctx;
	(void)nid;
	return ULONG_MAX;
}

static unsigned long cb_liar_scan(void *ctx, int nid, unsigned long nr)
{
	(void)ctx;
	(void)nid;
	(void)nr;
	return ULONG_MAX;
}

#define EXPECT(cond)                                                          \
	do {                                                                      \
		if (!(cond))                                                          \
			die("hostile call: %s does not hold", #cond);                     \
	} while (0)

static void null_za_sweep(void)
{
	struct za *n = NULL;
	struct za_page *pages[2] = { NULL, NULL };
	struct za_zone_info zi;
	struct za_pcp_info pi;
	struct za_page *any = H.nlive ? H.live[0].page : NULL;
	errno = 0;
	EXPECT(!za_alloc_pages(n, ZA_GFP_KERNEL, 0) && errno == EINVAL);
	errno = 0;
	EXPECT(!za_alloc_pages_node(n, 0, ZA_GFP_KERNEL, 0) && errno == EINVAL);
	errno = 0;
	EXPECT(!za_alloc_contig_pages(n, 8, ZA_GFP_MOVABLE) && errno == EINVAL);
	EXPECT(za_alloc_pages_bulk(n, ZA_GFP_KERNEL, 2, pages) == 0);
	za_free_pages(n, any, 0);
	za_free_pages_bulk(n, 1, &any);
	za_free_contig_pages(n, any, 8);
	EXPECT(za_memory_online(n, 0, ZA_ZONE_NORMAL, 0, BLOCK_PAGES, NULL) ==
	       -EINVAL);
	EXPECT(za_memory_offline(n, 0, BLOCK_PAGES) == -EINVAL);
	EXPECT(za_cpu_online(n, 0) == -EINVAL && za_cpu_offline(n, 0) == -EINVAL);
	EXPECT(za_cpu_is_online(n, 0) == -EINVAL);
	EXPECT(za_page_to_pfn(n, any) == ULONG_MAX);
	EXPECT(!za_pfn_to_page(n, 0) && !za_page_address(n, any));
	EXPECT(za_page_nid(n, any) == -1 && za_page_zone(n, any) == -1);
	za_drain_local_pages(n);
	za_drain_all_pages(n);
	EXPECT(!za_nr_cpus(n) && !za_nr_nodes(n) && !za_max_order(n));
	EXPECT(!za_pageblock_order(n) && !za_block_pages(n) && !za_page_shift(n));
	EXPECT(za_cpu_to_node(n, 0) == -EINVAL);
	EXPECT(!za_zone_stat(n, 0, ZA_ZONE_NORMAL, ZA_NR_FREE_PAGES));
	EXPECT(!za_zone_stat_snapshot(n, 0, ZA_ZONE_NORMAL, ZA_NR_FREE_PAGES));
	EXPECT(!za_zone_free_pages(n, 0, ZA_ZONE_NORMAL));
	EXPECT(!za_event_count(n, ZA_PGALLOC));
	za_vmstat_fold(n);
	EXPECT(za_zone_info(n, 0, ZA_ZONE_NORMAL, &zi) == -EINVAL);
	EXPECT(za_pcp_info(n, 0, 0, ZA_ZONE_NORMAL, &pi) == -EINVAL);
	EXPECT(za_report(n, ZA_REPORT_VMSTAT, H.devnull) == -EINVAL);
	EXPECT(za_check(n, NULL) == -EINVAL);
	za_set_error_handler(n, cb_error, NULL);
	za_set_oom_handler(n, cb_oom, NULL);
	EXPECT(za_register_shrinker(n, &H.shrinker) == -EINVAL);
	za_unregister_shrinker(n, &H.shrinker);
	EXPECT(za_debug_set(n, ZA_DEBUG_RANDOM_YIELD, 0) == -EINVAL);
	za_destroy(n);
}

/* A high-order kernel allocation that may have to reclaim; if it
 * succeeds, the harness owns the block like any other. */
static void hostile_alloc(const char *what)
{
	unsigned order = H.max_order;
	struct za_page *p = za_alloc_pages(H.za, ZA_GFP_KERNEL | ZA_GFP_NOWARN,
	                                   order);
	trace("  %s: order %u -> %s", what, order, p ? "page" : "NULL");
	if (p)
		take(p, order, 1ul << order, 0, ZA_MT_UNMOVABLE, false, false,
		     ZA_ZONE_NORMAL, -1, false, what);
	else if (errno != ENOMEM)
		die("%s: errno %d, not ENOMEM", what, errno);
}

static void op_hostile(uint8_t b)
{
	struct za *za = H.za;
	uint8_t a = byte();
	switch (b % 8) {
	case 0:
		trace("hostile: every entry point with a NULL za");
		null_za_sweep();
		break;
	case 1: {
		unsigned long nr = ULONG_MAX - (unsigned long)a * 997;
		if (a == 255)
			nr = (ULONG_MAX >> 1) + 1;
		errno = 0;
		struct za_page *p = za_alloc_contig_pages(za, nr, ZA_GFP_MOVABLE);
		trace("hostile: contig of %#lx pages -> %s errno %d", nr,
		      p ? "page" : "NULL", errno);
		if (p || errno != ENOMEM)
			die("contig of %#lx pages: %p errno %d", nr, (void *)p, errno);
		break;
	}
	case 2: {
		/* Pointers that are not page metadata of za. */
		static uint64_t outside[4];
		const struct za_page *bad[3] = { NULL, (struct za_page *)outside,
			                             NULL };
		if (H.nlive)
			bad[2] = (const struct za_page *)((const char *)H.live[a % H.nlive]
			                                      .page +
			                                  1 + a % 15);
		for (unsigned i = 0; i < 3; i++) {
			if (i == 2 && !bad[2])
				continue;
			EXPECT(za_page_to_pfn(za, bad[i]) == ULONG_MAX);
			EXPECT(za_page_nid(za, bad[i]) == -1);
			EXPECT(za_page_zone(za, bad[i]) == -1);
			EXPECT(za_page_address(za, bad[i]) == NULL);
		}
		EXPECT(za_pfn_to_page(za, ULONG_MAX - a) == NULL);
		trace("hostile: foreign and misaligned page pointers");
		break;
	}
	case 3: {
		int nid = a & 1 ? INT_MIN + a : -2 - a;
		errno = 0;
		EXPECT(!za_alloc_pages_node(za, nid, ZA_GFP_KERNEL, 0) &&
		       errno == EINVAL);
		struct za_zone_info zi;
		struct za_pcp_info pi;
		EXPECT(za_zone_info(za, nid, ZA_ZONE_NORMAL, &zi) == -EINVAL);
		EXPECT(za_zone_info(za, 0, (enum za_zone_type)(4 + a), &zi) ==
		       -EINVAL);
		EXPECT(za_pcp_info(za, NCPU + a, 0, ZA_ZONE_NORMAL, &pi) == -EINVAL);
		EXPECT(za_zone_stat(za, nid, ZA_ZONE_NORMAL, ZA_NR_FREE_PAGES) == 0);
		EXPECT(za_event_count(za, (enum za_event)(ZA_NR_EVENTS + a)) == 0);
		EXPECT(za_cpu_offline(za, NCPU + a) == -EINVAL);
		trace("hostile: node %d and other bad arguments", nid);
		break;
	}
	case 4:
		/* An OOM handler that says it freed pages and did not: the
		 * allocation ends after a bounded number of calls. */
		H.oom_liar_calls = 0;
		za_set_oom_handler(za, cb_oom_liar, NULL);
		hostile_alloc("lying OOM handler");
		za_set_oom_handler(za, cb_oom, NULL);
		if (H.oom_liar_calls > 16)
			die("lying OOM handler called %lu times for one allocation",
			    H.oom_liar_calls);
		break;
	case 5: {
		static struct za_shrinker liar = { cb_liar_count, cb_liar_scan, NULL,
			                               NULL };
		if (za_register_shrinker(za, &liar))
			die("register of the lying shrinker failed");
		hostile_alloc("shrinker claiming ULONG_MAX");
		za_unregister_shrinker(za, &liar);
		break;
	}
	case 6:
		H.reenter_next = true;
		trace("hostile: the next migrate call re-enters the API");
		break;
	case 7: {
		struct za_page *pages[4] = { NULL, NULL, NULL, NULL };
		EXPECT(za_alloc_pages_bulk(za, ZA_GFP_KERNEL, 4, NULL) == 0);
		EXPECT(za_alloc_pages_bulk(za, ~0u, 4, pages) == 0);
		za_free_pages_bulk(za, 4, pages); /* all NULL: nothing */
		za_free_pages(za, NULL, a);
		EXPECT(za_debug_set(za, (enum za_debug_knob)(ZA_NR_DEBUG_KNOBS + a),
		                    1) == -EINVAL);
		trace("hostile: NULL arrays and entries");
		break;
	}
	}
}

static void op_report(void)
{
	uint8_t b = byte();
	if (H.hostile && (b & 0x40)) {
		op_hostile(b & 0x3f);
		return;
	}
	enum za_report what = (enum za_report)(b % 4);
	int r = za_report(H.za, what, H.devnull);
	trace("report %d -> %d", what, r);
	if (r)
		die("za_report(%d) returned %d", what, r);
	if (b & 0x80)
		za_vmstat_fold(H.za);
}

enum {
	OP_ALLOC,
	OP_ALLOC2,
	OP_FREE,
	OP_FREE2,
	OP_ALLOC_BULK,
	OP_FREE_BULK,
	OP_DRAIN,
	OP_CPU,
	OP_MEM_OFFLINE,
	OP_MEM_ONLINE,
	OP_MIGRATE_MODE,
	OP_CONTIG,
	OP_MISUSE,
	OP_RECLAIM,
	OP_REPORT,
	OP_COUNT
};

static void run_op(uint8_t op)
{
	switch (op % OP_COUNT) {
	case OP_ALLOC:
	case OP_ALLOC2:
		op_alloc();
		break;
	case OP_FREE:
	case OP_FREE2:
		op_free();
		break;
	case OP_ALLOC_BULK:
		op_alloc_bulk();
		break;
	case OP_FREE_BULK:
		op_free_bulk();
		break;
	case OP_DRAIN:
		op_drain();
		break;
	case OP_CPU:
		op_cpu_hotplug();
		break;
	case OP_MEM_OFFLINE:
		op_mem_offline();
		break;
	case OP_MEM_ONLINE:
		op_mem_online();
		break;
	case OP_MIGRATE_MODE:
		op_migrate_mode();
		break;
	case OP_CONTIG:
		op_contig();
		break;
	case OP_MISUSE:
		op_misuse();
		break;
	case OP_RECLAIM:
		op_reclaim_setup();
		break;
	case OP_REPORT:
		op_report();
		break;
	}
}

/* --- checks ----------------------------------------------------------------- */

/* Pages the harness holds per (node, zone), against the allocator's
 * folded NR_ZONE_ALLOCATED (za_check folds). */
static void check_counts(void)
{
	long held[MAX_NODES][ZA_NR_ZONES] = { { 0 } };
	for (unsigned i = 0; i < H.nlive; i++) {
		const struct live *l = &H.live[i];
		int nid = za_page_nid(H.za, l->page), z = za_page_zone(H.za, l->page);
		if (nid < 0 || z < 0)
			die("live pfn 0x%lx is no longer online", l->pfn);
		held[nid][z] += (long)l->npages;
	}
	for (unsigned n = 0; n < H.nodes; n++)
		for (int z = 0; z < ZA_NR_ZONES; z++) {
			long a = za_zone_stat(H.za, (int)n, (enum za_zone_type)z,
			                      ZA_NR_ZONE_ALLOCATED);
			if (a != held[n][z])
				die("node %u zone %d: NR_ZONE_ALLOCATED %ld, the client "
				    "holds %ld pages",
				    n, z, a, held[n][z]);
		}
}

static void check_all(void)
{
	if (H.errors != H.expected_errors)
		die("%u error reports, %u expected", H.errors, H.expected_errors);
	int r = za_check(H.za, stderr);
	if (r)
		die("za_check returned %d", r);
	check_counts();
}

/* Everything freed and drained: every managed page is free again. */
static void check_all_back(void)
{
	for (unsigned n = 0; n < H.nodes; n++)
		for (int z = 0; z < ZA_NR_ZONES; z++) {
			struct za_zone_info zi;
			if (za_zone_info(H.za, (int)n, (enum za_zone_type)z, &zi))
				die("za_zone_info(%u, %d) failed", n, z);
			unsigned long blocks = 0;
			for (unsigned o = 0; o <= H.max_order; o++)
				blocks += zi.nr_free[o] << o;
			unsigned long want = 0;
			for (unsigned b = 0; b < BLOCKS_PER_NODE; b++)
				if (H.block_zone[n * BLOCKS_PER_NODE + b] == z)
					want += BLOCK_PAGES;
			if (zi.managed != want || zi.present != want)
				die("end: node %u zone %d manages %lu (present %lu) pages, "
				    "%lu are online in it",
				    n, z, zi.managed, zi.present, want);
			if (zi.pcp_pages || zi.isolated_free)
				die("end: node %u zone %d: %lu pages on pcp lists, %lu "
				    "isolated, after freeing all and draining",
				    n, z, zi.pcp_pages, zi.isolated_free);
			if (zi.free != want || blocks != want)
				die("end: node %u zone %d: %lu free (%lu in the free "
				    "areas) of %lu: pages lost",
				    n, z, zi.free, blocks, want);
		}
}

/* --- configuration --------------------------------------------------------- */

static bool decode_config(struct za_config *cfg)
{
	uint8_t h0 = byte(), h1 = byte(), h2 = byte(), h3 = byte();
	memset(cfg, 0, sizeof *cfg);
	H.nodes = (h0 & 1) ? 2 : 1;
	H.backed = h0 & 2;
	/* Bit 7: 512-byte pages (page_shift 9, the smallest the API allows).
	 * Build with -DZA_FUZZ_NO_SHIFT9 to keep to 4 KiB pages. */
	H.page_shift = MAX_PAGE_SHIFT;
#ifndef ZA_FUZZ_NO_SHIFT9
	if (h0 & 0x80)
		H.page_shift = 9;
#endif
	cfg->page_shift = H.page_shift;
	cfg->nr_cpus = NCPU;
	cfg->nr_nodes = H.nodes;
	cfg->cpu_id = cb_cpu_id;
	cfg->migrate = cb_migrate;
	H.hostile = h1 & 0x40;
	cfg->max_order = 3 + (h1 & 7); /* 3 .. 10 */
	cfg->pageblock_order = 1 + ((h1 >> 3) & 7);
	if (cfg->pageblock_order > cfg->max_order)
		cfg->pageblock_order = cfg->max_order;
	cfg->block_pages = BLOCK_PAGES;
	cfg->max_pfn = MAX_PFN;
	cfg->flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	if (h0 & 4) {
		cfg->flags |= ZA_CFG_PCP_FIXED;
		cfg->pcp_batch = 1 + (h2 & 7);
		cfg->pcp_high = cfg->pcp_batch + (h2 >> 3);
		/* Hostile: the largest high, and the first two past it. */
		static const unsigned extreme[4] = { 0, 1u << 30, (1u << 30) + 1,
			                                 UINT_MAX };
		if (H.hostile && (h2 >> 6))
			cfg->pcp_high = extreme[h2 >> 6];
	}
	if ((h0 & 0x18) == 0x18)
		cfg->flags |= ZA_CFG_NO_PCP;
	cfg->online_cpus = 1 + ((h0 >> 5) & 3); /* 1 .. 4 */
	cfg->min_free_kbytes = h3 ? (unsigned long)h3 * 4 : 0;
	/* Hostile: 2^0 .. 2^62 KiB, and ULONG_MAX: the reserve saturates. */
	if (H.hostile && h3 >= 192)
		cfg->min_free_kbytes = h3 == 255 ? ULONG_MAX : 1ul << (h3 - 192);
	/* Hostile, frames only: the largest pages the API allows. */
	if (H.hostile && !H.backed && (h0 & 0x80)) {
		H.page_shift = (h1 & 0x80) ? 30 : 28;
		cfg->page_shift = H.page_shift;
	}
	cfg->offline_timeout_ms = 3; /* a refusing client fails an offline fast */
	cfg->error = cb_error;
	H.max_order = cfg->max_order;
	H.pb_order = cfg->pageblock_order;
	for (unsigned c = 0; c < NCPU; c++)
		H.online_cpu[c] = c < cfg->online_cpus;
	return true;
}

static void setup_memory(void)
{
	for (unsigned b = 0; b < NBLOCKS; b++)
		H.block_zone[b] = -1;
	for (unsigned n = 0; n < H.nodes; n++)
		for (unsigned b = 0; b < 4; b++) {
			unsigned blk = n * BLOCKS_PER_NODE + b;
			unsigned long start = blk * BLOCK_PAGES;
			int zone = block_home_zone[b];
			int r = za_memory_online(H.za, (int)n, (enum za_zone_type)zone,
			                         start, BLOCK_PAGES, page_mem(start));
			if (r)
				die("initial memory_online(block %u) returned %d", blk, r);
			H.block_zone[blk] = zone;
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool once;
	if (!once) {
		once = true;
		H.trace = getenv("ZA_FUZZ_TRACE") && *getenv("ZA_FUZZ_TRACE") == '1';
		H.mem = mmap(NULL, MAX_PFN << MAX_PAGE_SHIFT, PROT_READ | PROT_WRITE,
		             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		H.live = calloc(MAX_LIVE, sizeof *H.live);
		H.owner = malloc(MAX_PFN * sizeof *H.owner);
		H.devnull = fopen("/dev/null", "w");
		if (H.mem == MAP_FAILED || !H.live || !H.owner || !H.devnull) {
			perror("fuzz_api: setup");
			abort();
		}
	}
	H.in = data;
	H.len = size;
	H.pos = 0;
	H.op_index = 0;
	H.nlive = 0;
	H.next_stamp = 0;
	H.refuse_next = 0;
	H.refuse_all = H.enoent_next = false;
	H.offline_lo = H.offline_hi = -1;
	H.migrations = 0;
	H.shrinker_on = false;
	H.oom_budget = 0;
	H.expected_errors = H.errors = 0;
	H.cpu = 0;
	for (unsigned long p = 0; p < MAX_PFN; p++)
		H.owner[p] = -1;
	H.shrinker = (struct za_shrinker){ .count = cb_count, .scan = cb_scan };

	H.reenter_next = false;
	struct za_config cfg;
	if (!decode_config(&cfg))
		return 0;
	H.za = za_create(&cfg);
	/* The header's limit for a fixed pcp_high (ZA_PCP_FIXED_MAX). */
	bool cfg_valid = !(cfg.flags & ZA_CFG_PCP_FIXED) ||
	                 cfg.pcp_high <= (1u << 30);
	if (!cfg_valid) {
		if (H.za || errno != EINVAL)
			die("za_create accepted pcp_high %u (or failed with errno %d, "
			    "not EINVAL)",
			    cfg.pcp_high, errno);
		return 0;
	}
	if (!H.za)
		die("za_create failed (errno %d) for a valid config", errno);
	za_set_oom_handler(H.za, cb_oom, NULL);
	setup_memory();
	trace("config: page_shift %u nodes %u backed %d max_order %u pageblock_order %u "
	      "flags 0x%x online cpus %u min_free_kbytes %lu",
	      H.page_shift, H.nodes, H.backed, cfg.max_order, cfg.pageblock_order,
	      cfg.flags, cfg.online_cpus, cfg.min_free_kbytes);
	check_all();

	while (H.pos < H.len && H.op_index < MAX_OPS) {
		H.op_index++;
		run_op(byte());
		check_all();
	}

	/* Give everything back, on a CPU that exists, then drain. */
	H.op_index++;
	H.cpu = 0;
	H.refuse_all = false;
	while (H.nlive)
		give_back(H.nlive - 1);
	if (H.shrinker_on)
		za_unregister_shrinker(H.za, &H.shrinker);
	H.shrinker_on = false;
	za_drain_all_pages(H.za);
	check_all();
	check_all_back();
	trace("end: all pages back");
	za_destroy(H.za);
	H.za = NULL;
	return 0;
}
