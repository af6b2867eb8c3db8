/*
 * page_owner.c - who allocated each block, and who freed it last: the
 * kernel's page_owner (ZA_CFG_PAGE_OWNER), in user space.
 *
 * One record per frame in a side table (struct za_owner, 56 bytes), so
 * that the page metadata stays 16 bytes. The table is reserved for the
 * whole pfn range at create and backed by memory only where records are
 * written: the head page of every block that is handed out, and for a
 * contiguous range the first page of each max-order chunk, so that the
 * record of any page is at most max_order + 1 aligned lookups away.
 *
 * Records are written by the thread that owns the block at that moment
 * (the allocating one, then the freeing one) and read by reports and
 * misuse messages at any time, with relaxed atomics: a report that runs
 * while a block changes hands may print half of the old record and half
 * of the new one, never a crash.
 *
 * The reports: ZA_REPORT_PAGE_OWNER prints every allocated block in the
 * layout of the kernel's /sys/kernel/debug/page_owner; the summary groups
 * them by call site as the kernel's tools/mm/page_owner_sort does.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct za_owner {
	const void *alloc_site;
	const void *free_site;
	uint64_t alloc_ns;
	uint64_t free_ns;
	uint32_t head;     /* first pfn of the block this record describes */
	uint32_t nr_pages; /* its length */
	int32_t tid;
	uint16_t gfp;
	int16_t cpu;
	uint8_t order; /* ZA_PAGE_OWNER_CONTIG for a contiguous range */
	/* ZA_OWNER_MIGRATED_*: the block was moved here by a migration, which
	 * carried its record over; 0 when it was allocated where it is. In
	 * what was padding: the record stays 56 bytes. */
	uint8_t migrated;
};
_Static_assert(sizeof(struct za_owner) == 56, "page owner record size");
_Static_assert(ZA_GFP_ALL_BITS <= UINT16_MAX, "gfp fits the record");
_Static_assert(ZA_MAX_CPUS <= INT16_MAX, "CPU fits the record");

int _za_page_owner_init(struct za *za)
{
	za->page_owner_bytes = za->max_pfn * sizeof(struct za_owner);
	za->page_owner = za_os_reserve(za->page_owner_bytes);
	if (!za->page_owner)
		return -ENOMEM;
	if (za_os_commit(za->page_owner, za->page_owner_bytes)) {
		za_os_release(za->page_owner, za->page_owner_bytes);
		za->page_owner = NULL;
		return -ENOMEM;
	}
	return 0;
}

void _za_page_owner_fini(struct za *za)
{
	if (za->page_owner)
		za_os_release(za->page_owner, za->page_owner_bytes);
	za->page_owner = NULL;
}

static void put_record(struct za_owner *r, unsigned long head,
                       unsigned long nr, unsigned order, za_gfp_t gfp, int cpu,
                       const void *site, uint64_t now, int tid)
{
	za_store_relaxed(&r->alloc_site, site);
	za_store_relaxed(&r->free_site, (const void *)NULL);
	za_store_relaxed(&r->alloc_ns, now);
	za_store_relaxed(&r->free_ns, (uint64_t)0);
	za_store_relaxed(&r->head, (uint32_t)head);
	za_store_relaxed(&r->nr_pages, (uint32_t)nr);
	za_store_relaxed(&r->tid, (int32_t)tid);
	za_store_relaxed(&r->gfp, (uint16_t)gfp);
	za_store_relaxed(&r->cpu, (int16_t)cpu);
	za_store_relaxed(&r->order, (uint8_t)order);
	za_store_relaxed(&r->migrated, (uint8_t)0);
}

/* Chunk heads of a contiguous range after its first page (see above). */
#define for_each_contig_chunk(za, c, pfn, nr)                                 \
	for (unsigned long c = (pfn) + (1ul << (za)->max_order);                  \
	     c < (pfn) + (nr); c += 1ul << (za)->max_order)

void _za_page_owner_alloc(struct za *za, unsigned long pfn, unsigned long nr,
                          unsigned order, za_gfp_t gfp, int cpu,
                          const void *site)
{
	uint64_t now = za_now_ns();
	int tid = za_os_thread_id();
	put_record(&za->page_owner[pfn], pfn, nr, order, gfp, cpu, site, now, tid);
	if (order == ZA_PAGE_OWNER_CONTIG)
		for_each_contig_chunk(za, c, pfn, nr)
		    put_record(&za->page_owner[c], pfn, nr, order, gfp, cpu, site, now,
		               tid);
}

void _za_page_owner_free(struct za *za, unsigned long pfn, unsigned long nr,
                         const void *site)
{
	uint64_t now = za_now_ns();
	struct za_owner *r = &za->page_owner[pfn];
	za_store_relaxed(&r->free_site, site);
	za_store_relaxed(&r->free_ns, now);
	if (za_load_relaxed(&r->order) == ZA_PAGE_OWNER_CONTIG)
		for_each_contig_chunk(za, c, pfn, nr)
		{
			za_store_relaxed(&za->page_owner[c].free_site, site);
			za_store_relaxed(&za->page_owner[c].free_ns, now);
		}
}

/* A migration moves the block at src to dst: dst's record becomes the
 * block's allocation record (site, gfp, order, CPU, thread, time), as the
 * kernel's migration copies the owner to the new page, marked migrated
 * (`why`, a ZA_OWNER_MIGRATED_* value). Called by the migrating thread
 * before the migrate callback, while dst is not yet the client's (no free
 * of it can run) and src is the block the callback is asked to move. A
 * src without a record of its own block (memory that came online since,
 * or a contiguous range's chunk) leaves dst's record as it is. */
void _za_page_owner_migrate(struct za *za, unsigned long dst,
                            unsigned long src, unsigned order, unsigned why)
{
	struct za_owner *s = &za->page_owner[src];
	struct za_owner *d = &za->page_owner[dst];
	uint64_t ns = za_load_relaxed(&s->alloc_ns);
	/* src's own record, of the block being moved: not one of a larger
	 * block src was freed into and handed out again as meanwhile
	 * (compaction isolates nothing), nor one freed since. */
	if (!ns || za_load_relaxed(&s->head) != src ||
	    za_load_relaxed(&s->order) != order || za_load_relaxed(&s->free_ns))
		return;
	put_record(d, dst, za_load_relaxed(&s->nr_pages), order,
	           za_load_relaxed(&s->gfp), za_load_relaxed(&s->cpu),
	           za_load_relaxed(&s->alloc_site), ns, za_load_relaxed(&s->tid));
	za_store_relaxed(&d->migrated, (uint8_t)why);
}

/* Memory going offline: its records describe nothing any more. Whole
 * pages of the table are handed back; the ends are cleared. */
void _za_page_owner_forget(struct za *za, unsigned long pfn, unsigned long nr)
{
	char *lo = (char *)&za->page_owner[pfn];
	char *hi = (char *)&za->page_owner[pfn + nr];
	size_t pg = za_os_page_size();
	char *a = (char *)(((uintptr_t)lo + pg - 1) & ~(uintptr_t)(pg - 1));
	char *b = (char *)((uintptr_t)hi & ~(uintptr_t)(pg - 1));
	if (a >= b) {
		memset(lo, 0, (size_t)(hi - lo));
		return;
	}
	memset(lo, 0, (size_t)(a - lo));
	za_os_purge(a, (size_t)(b - a));
	memset(b, 0, (size_t)(hi - b));
}

/* A copy of the record at pfn (relaxed loads, field by field). */
static void get_record(const struct za *za, unsigned long pfn,
                       struct za_owner *o)
{
	const struct za_owner *r = &za->page_owner[pfn];
	o->alloc_site = za_load_relaxed(&r->alloc_site);
	o->free_site = za_load_relaxed(&r->free_site);
	o->alloc_ns = za_load_relaxed(&r->alloc_ns);
	o->free_ns = za_load_relaxed(&r->free_ns);
	o->head = za_load_relaxed(&r->head);
	o->nr_pages = za_load_relaxed(&r->nr_pages);
	o->tid = za_load_relaxed(&r->tid);
	o->gfp = za_load_relaxed(&r->gfp);
	o->cpu = za_load_relaxed(&r->cpu);
	o->order = za_load_relaxed(&r->order);
	o->migrated = za_load_relaxed(&r->migrated);
}

/* Whether record a was written after record b, of two that cover one
 * pfn. The blocks that held a frame follow each other (each freed before
 * the next is handed out), so one not freed is the latest, and of two
 * freed ones the later freed. Not the allocation times: a migrated
 * block keeps its allocation's time, older than the records of smaller
 * blocks that its new frames held meanwhile. */
static bool record_newer(const struct za_owner *a, const struct za_owner *b)
{
	if (!a->free_ns != !b->free_ns)
		return !a->free_ns;
	return a->free_ns ? a->free_ns > b->free_ns : a->alloc_ns > b->alloc_ns;
}

/* The record of the block that most recently held pfn: of the records at
 * pfn aligned down to each order, those that cover pfn, the newest
 * (record_newer). False when none does. */
static bool find_record(const struct za *za, unsigned long pfn,
                        struct za_owner *best)
{
	bool found = false;
	for (unsigned k = 0; k <= za->max_order; k++) {
		unsigned long q = pfn & ~((1ul << k) - 1);
		struct za_owner o;
		get_record(za, q, &o);
		if (!o.alloc_ns || o.head > pfn || pfn - o.head >= o.nr_pages)
			continue;
		if (!found || record_newer(&o, best)) {
			*best = o;
			found = true;
		}
	}
	return found;
}

static bool record_allocated(const struct za *za, const struct za_owner *o)
{
	const struct za_page *p = pfn_page(za, o->head);
	return page_state(p) == ZA_PS_ALLOC &&
	       page_order(p) == (o->order == ZA_PAGE_OWNER_CONTIG ? ZA_CONTIG_ORDER
	                                                          : o->order) &&
	       za_load_relaxed(&za->page_owner[o->head].free_ns) == 0;
}

int za_page_owner(struct za *za, const struct za_page *page,
                  struct za_page_owner_info *out)
{
	if (!za || !page || !out)
		return -EINVAL;
	unsigned long pfn = page_ptr_pfn(za, page);
	if (pfn == ULONG_MAX)
		return -EINVAL;
	struct za_owner o = { 0 }; /* find_record fills it when it finds one */
	if (!za->page_owner || !find_record(za, pfn, &o))
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->alloc_site = o.alloc_site;
	out->free_site = o.free_site;
	out->pfn = o.head;
	out->nr_pages = o.nr_pages;
	out->alloc_ns = o.alloc_ns;
	out->free_ns = o.free_ns;
	out->gfp = o.gfp;
	out->order = o.order;
	out->cpu = o.cpu;
	out->tid = o.tid;
	out->allocated = record_allocated(za, &o);
	return 0;
}

/* " [page owner: allocated ... by SITE; freed ... by SITE]" for misuse
 * reports, or "" when page owner is off or knows nothing of pfn. */
size_t _za_page_owner_describe(struct za *za, unsigned long pfn, char *buf,
                               size_t len)
{
	struct za_owner o;
	char a[160], f[160];
	if (!len)
		return 0;
	buf[0] = 0;
	if (!za->page_owner || pfn >= za->max_pfn || !find_record(za, pfn, &o))
		return 0;
	int n = snprintf(buf, len,
	                 " [page owner: block pfn 0x%x order %d allocated by %s "
	                 "(gfp %#x, cpu %d, tid %d, at %llu ns)",
	                 o.head, o.order == ZA_PAGE_OWNER_CONTIG ? -1 : o.order,
	                 za_os_symbolize(o.alloc_site, a, sizeof(a)), o.gfp, o.cpu,
	                 o.tid, (unsigned long long)o.alloc_ns);
	if (n < 0 || (size_t)n >= len)
		return len - 1;
	int m = o.free_site
	            ? snprintf(buf + n, len - (size_t)n,
	                       "; last freed by %s (at %llu ns)]",
	                       za_os_symbolize(o.free_site, f, sizeof(f)),
	                       (unsigned long long)o.free_ns)
	            : snprintf(buf + n, len - (size_t)n, "; not freed since]");
	if (m < 0 || (size_t)(n + m) >= len)
		return len - 1;
	return (size_t)(n + m);
}

/* --- the reports -------------------------------------------------------------- */

/* gfp as the kernel's %pGg prints it: the ready masks first, then the
 * remaining bits. */
static const struct {
	za_gfp_t mask;
	const char *name;
} gfp_names[] = {
	{ ZA_GFP_MOVABLE, "GFP_MOVABLE" },
	{ ZA_GFP_KERNEL, "GFP_KERNEL" },
	{ ZA_GFP_ATOMIC, "GFP_ATOMIC" },
	{ ZA_GFP_NOWAIT, "GFP_NOWAIT" },
	{ ZA___GFP_DMA, "__GFP_DMA" },
	{ ZA___GFP_DMA32, "__GFP_DMA32" },
	{ ZA___GFP_MOVABLE, "__GFP_MOVABLE" },
	{ ZA___GFP_RECLAIMABLE, "__GFP_RECLAIMABLE" },
	{ ZA___GFP_HIGH, "__GFP_HIGH" },
	{ ZA___GFP_DIRECT_RECLAIM, "__GFP_DIRECT_RECLAIM" },
	{ ZA___GFP_KSWAPD_RECLAIM, "__GFP_KSWAPD_RECLAIM" },
	{ ZA___GFP_ZERO, "__GFP_ZERO" },
	{ ZA___GFP_NOFAIL, "__GFP_NOFAIL" },
	{ ZA___GFP_NORETRY, "__GFP_NORETRY" },
	{ ZA___GFP_THISNODE, "__GFP_THISNODE" },
	{ ZA___GFP_NOWARN, "__GFP_NOWARN" },
	{ ZA___GFP_ATOMIC_RES, "__GFP_ATOMIC_RES" },
};

static void print_gfp(struct za_out *out, za_gfp_t gfp)
{
	za_gfp_t left = gfp;
	bool first = true;
	za_out_printf(out, "%#x(", gfp);
	for (size_t i = 0; i < sizeof(gfp_names) / sizeof(gfp_names[0]); i++) {
		za_gfp_t m = gfp_names[i].mask;
		if ((left & m) == m) {
			za_out_printf(out, "%s%s", first ? "" : "|", gfp_names[i].name);
			left &= ~m;
			first = false;
		}
	}
	za_out_putc(out, ')');
}

static const char *const mt_names[ZA_NR_MIGRATETYPES] = {
	"Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate"
};

static void print_block(struct za *za, struct za_out *out, unsigned long pfn,
                        const struct za_owner *o)
{
	char site[256];
	const struct za_page *p = pfn_page(za, pfn);
	int pmt = page_mt(p), bmt = pageblock_mt(za, pfn);
	za_out_printf(out, "Page allocated via order %u, mask ",
	              o->order == ZA_PAGE_OWNER_CONTIG ? (unsigned)za->max_order
	                                               : (unsigned)o->order);
	print_gfp(out, o->gfp);
	za_out_printf(out, ", pid %d, tgid %d (%s), ts %llu ns", (int)o->tid,
	              za_os_process_id(), za_os_process_name(),
	              (unsigned long long)o->alloc_ns);
	if (o->order == ZA_PAGE_OWNER_CONTIG)
		za_out_printf(out, ", contig %u pages", o->nr_pages);
	za_out_printf(out, ", cpu %d\n", (int)o->cpu);
	za_out_printf(
	    out,
	    "PFN 0x%lx type %s Block %lu type %s Flags %#x(node=%d|zone=%d)\n",
	    pfn, pmt < ZA_NR_MIGRATETYPES ? mt_names[pmt] : "?",
	    pfn >> za->pageblock_order,
	    bmt < ZA_NR_MIGRATETYPES ? mt_names[bmt] : "?", p->zone_id,
	    p->zone_id >> 2, p->zone_id & 3);
	za_out_printf(out, " %s\n",
	              za_os_symbolize(o->alloc_site, site, sizeof(site)));
	/* The kernel's line for a migrated page, after the stack. */
	if (o->migrated)
		za_out_printf(out, "Page has been migrated, last_migrate_reason: %s\n",
		              o->migrated == ZA_OWNER_MIGRATED_COMPACTION
		                  ? "compaction"
		                  : "offline_or_contig_range");
	if (o->free_site)
		za_out_printf(out, " last free before: %s, ts %llu ns\n",
		              za_os_symbolize(o->free_site, site, sizeof(site)),
		              (unsigned long long)o->free_ns);
	za_out_putc(out, '\n');
}

/* Calls fn for every allocated block with its record, walking the online
 * blocks but their lazy parts (which hold no allocation), under
 * mem_hotplug_lock (taken here unless this thread runs under it, in a
 * callback). */
static void for_each_allocated(struct za *za,
                               void (*fn)(struct za *, unsigned long,
                                          const struct za_owner *, void *),
                               void *arg)
{
	bool lock = !mem_hotplug_held_by_me(za);
	if (lock)
		mem_hotplug_lock(za);
	for (unsigned long s = 0; s < za->nr_sections; s++) {
		struct za_section *sec = &za->sections[s];
		if (!za_load_acquire(&sec->online))
			continue;
		/* A block half initialised (buddy.c) has allocations above
		 * its lazy part. */
		unsigned long end = section_pfn(za, s) + za->block_pages;
		unsigned long pfn = section_pfn(za, s) +
		                    ((unsigned long)za_load_relaxed(&sec->lazy_left)
		                     << za->max_order);
		while (pfn < end) {
			const struct za_page *p = pfn_page(za, pfn);
			int st = page_state(p);
			unsigned long step = page_scan_span(p, st);
			if (st == ZA_PS_ALLOC) {
				struct za_owner o;
				get_record(za, pfn, &o);
				if (o.alloc_ns && o.head == pfn) {
					fn(za, pfn, &o, arg);
					/* A contiguous range is reported once, at
					 * its head; its chunk records are skipped. */
					if (o.order == ZA_PAGE_OWNER_CONTIG && o.nr_pages > step)
						step = o.nr_pages;
				}
			}
			pfn += step;
		}
	}
	if (lock)
		mem_hotplug_unlock(za);
}

struct site_stat {
	const void *site;
	unsigned long blocks, pages;
};

struct site_table {
	struct site_stat *v;
	size_t cap, n;
	bool failed;
};

static size_t site_hash(const void *site, size_t cap)
{
	uint64_t h = (uint64_t)(uintptr_t)site * 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> 17) & (cap - 1);
}

static bool site_grow(struct site_table *t)
{
	size_t cap = t->cap ? t->cap * 2 : 256;
	struct site_stat *v = za_os_alloc(cap * sizeof(*v), 0);
	if (!v)
		return false;
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->v[i].blocks)
			continue;
		size_t h = site_hash(t->v[i].site, cap);
		while (v[h].blocks)
			h = (h + 1) & (cap - 1);
		v[h] = t->v[i];
	}
	za_os_free(t->v);
	t->v = v;
	t->cap = cap;
	return true;
}

static void count_site(struct za *za, unsigned long pfn,
                       const struct za_owner *o, void *arg)
{
	(void)za, (void)pfn;
	struct site_table *t = arg;
	if (t->failed)
		return;
	if ((t->n + 1) * 2 > t->cap && !site_grow(t)) {
		t->failed = true;
		return;
	}
	size_t h = site_hash(o->alloc_site, t->cap);
	while (t->v[h].blocks && t->v[h].site != o->alloc_site)
		h = (h + 1) & (t->cap - 1);
	if (!t->v[h].blocks) {
		t->v[h].site = o->alloc_site;
		t->n++;
	}
	t->v[h].blocks++;
	t->v[h].pages += o->nr_pages;
}

static int cmp_sites(const void *a, const void *b)
{
	const struct site_stat *x = a, *y = b;
	if (x->pages != y->pages)
		return x->pages < y->pages ? 1 : -1;
	if (x->blocks != y->blocks)
		return x->blocks < y->blocks ? 1 : -1;
	return (uintptr_t)x->site < (uintptr_t)y->site
	           ? -1
	           : (uintptr_t)x->site > (uintptr_t)y->site;
}

/* The census, sorted, in t->v[0..t->n). Takes mem_hotplug_lock unless
 * this thread holds it (a callback under memory offline). */
static int collect_sites(struct za *za, struct site_table *t)
{
	memset(t, 0, sizeof(*t));
	if (!site_grow(t))
		return -ENOMEM;
	for_each_allocated(za, count_site, t);
	if (t->failed) {
		za_os_free(t->v);
		return -ENOMEM;
	}
	size_t k = 0;
	for (size_t i = 0; i < t->cap; i++)
		if (t->v[i].blocks)
			t->v[k++] = t->v[i];
	qsort(t->v, k, sizeof(t->v[0]), cmp_sites);
	t->n = k;
	return 0;
}

long za_page_owner_summary(struct za *za, struct za_page_owner_site *sites,
                           size_t n)
{
	if (!za || (!sites && n))
		return -EINVAL;
	if (!za->page_owner)
		return -ENOENT;
	struct site_table t;
	int err = collect_sites(za, &t);
	if (err)
		return err;
	for (size_t i = 0; i < n && i < t.n; i++) {
		sites[i].site = t.v[i].site;
		sites[i].blocks = t.v[i].blocks;
		sites[i].pages = t.v[i].pages;
	}
	long count = (long)t.n;
	za_os_free(t.v);
	return count;
}

static void print_one(struct za *za, unsigned long pfn,
                      const struct za_owner *o, void *arg)
{
	print_block(za, (struct za_out *)arg, pfn, o);
}

int _za_page_owner_report(struct za *za, struct za_out *out)
{
	if (!za->page_owner)
		return -ENOENT;
	for_each_allocated(za, print_one, out);
	return 0;
}

int _za_page_owner_summary_report(struct za *za, struct za_out *out)
{
	if (!za->page_owner)
		return -ENOENT;
	struct site_table t;
	int err = collect_sites(za, &t);
	if (err)
		return err;
	char site[256];
	for (size_t i = 0; i < t.n; i++)
		za_out_printf(out, "%lu times, %lu pages:\n %s\n\n", t.v[i].blocks,
		              t.v[i].pages,
		              za_os_symbolize(t.v[i].site, site, sizeof(site)));
	za_os_free(t.v);
	return 0;
}
