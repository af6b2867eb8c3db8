/*
 * memmap.c - page metadata. One virtually contiguous array of struct
 * za_page indexed by pfn is reserved for the whole pfn range at create and
 * committed block by block as memory comes online, so pfn <-> metadata is
 * one add and a free can tell a foreign pointer by its address alone. The
 * section table records, per hotplug block, whether it is online, its zone
 * and the address of its memory.
 */
#include <string.h>

#include "internal.h"

int memmap_init(struct za *za)
{
	za->memmap_bytes = za->max_pfn * sizeof(struct za_page);
	za->memmap = za_os_reserve(za->memmap_bytes);
	if (!za->memmap)
		return -ENOMEM;
	za->sections = za_meta_alloc(za,
	                             za->nr_sections * sizeof(struct za_section),
	                             0);
	if (!za->sections)
		return -ENOMEM;
	/* One byte per pageblock of the whole pfn range: reserved and
	 * committed at once, backed by memory only where it is touched. */
	size_t ps = za_os_page_size();
	za->pb_mt_bytes = ((za->max_pfn >> za->pageblock_order) + ps - 1) &
	                  ~(ps - 1);
	za->pb_mt = za_os_reserve(za->pb_mt_bytes);
	if (!za->pb_mt || za_meta_inject_fail(za) ||
	    za_os_commit(za->pb_mt, za->pb_mt_bytes))
		return -ENOMEM;
	/* Pageblocks never online read ISOLATE (memmap_online_range sets
	 * MOVABLE once the metadata is committed; it is never decommitted
	 * after): a type below ZA_NR_PCPTYPES then says the block's metadata
	 * may be read, which is the restartable free's whole test of a
	 * pointer's memory (free_fast_rseq). A byte per pageblock: 512 KiB
	 * for a terabyte of 2 MiB pageblocks. */
	__builtin_memset(za->pb_mt, ZA_MT_ISOLATE,
	                 za->max_pfn >> za->pageblock_order);
	/* The address index: at most one run per online block. */
	za->vruns_bytes = ((za->nr_sections + 1) * sizeof(struct za_vrun) + ps -
	                   1) &
	                  ~(ps - 1);
	za->vruns = za_os_reserve(za->vruns_bytes);
	if (!za->vruns || za_os_commit(za->vruns, za->vruns_bytes))
		return -ENOMEM;
	return 0;
}

void memmap_fini(struct za *za)
{
	if (za->memmap)
		za_os_release(za->memmap, za->memmap_bytes);
	za->memmap = NULL;
	if (za->pb_mt)
		za_os_release(za->pb_mt, za->pb_mt_bytes);
	za->pb_mt = NULL;
	if (za->vruns)
		za_os_release(za->vruns, za->vruns_bytes);
	za->vruns = NULL;
	za_meta_free(za, za->sections);
	za->sections = NULL;
}

/* Whether [start, start+nr) is wholly online; *any: partly. */
bool memmap_range_online(const struct za *za, unsigned long start,
                         unsigned long nr, bool *any)
{
	bool all = true;
	*any = false;
	for (unsigned long pfn = start; pfn < start + nr; pfn += za->block_pages) {
		if (pfn_online(za, pfn))
			*any = true;
		else
			all = false;
	}
	return all;
}

/* The OS pages holding the metadata of [start, start+nr). A block's
 * metadata may be smaller than an OS page, so neighbours can share one. */
static void meta_span(const struct za *za, unsigned long start,
                      unsigned long nr, char **lo, char **hi)
{
	uintptr_t ps = za_os_page_size();
	uintptr_t a = (uintptr_t)pfn_page(za, start);
	uintptr_t b = (uintptr_t)pfn_page(za, start + nr);
	*lo = (char *)(a & ~(ps - 1));
	*hi = (char *)((b + ps - 1) & ~(ps - 1));
}

/* Commit the metadata of a range (whole blocks) and mark its sections
 * online and lazy: no page's metadata is written here (buddy.c initialises
 * a lazy section when its zone first needs it), so bringing a terabyte
 * online costs one step per block. The caller puts the sections on the
 * zone's lazy list. Caller holds mem_hotplug_lock. */
int memmap_online_range(struct za *za, unsigned long start, unsigned long nr,
                        struct za_zone *z, void *base)
{
	mem_hotplug_assert_held(za);
	struct za_page *first = pfn_page(za, start);
	char *lo, *hi;
	meta_span(za, start, nr, &lo, &hi);
	if (za_meta_inject_fail(za))
		return -ENOMEM;
	/* Committing keeps what is there (and does not touch it): an OS page
	 * shared with an online neighbour keeps the neighbour's metadata. */
	int err = za_os_commit(lo, (size_t)(hi - lo));
	if (err)
		return err;
	/* Metadata of a lazy block must read as zero (pages that head
	 * nothing), so that a lockless scan or a stray free sees no block
	 * there. OS pages wholly ours are zero: never used, or given back
	 * when the block last went offline. Only the OS pages at either end,
	 * which a neighbour may share, can hold this block's metadata from an
	 * earlier life. */
	uintptr_t ps = za_os_page_size();
	char *a = (char *)first, *b = (char *)(first + nr);
	char *a_up = (char *)(((uintptr_t)a + ps - 1) & ~(ps - 1));
	char *b_down = (char *)((uintptr_t)b & ~(ps - 1));
	if (a_up >= b_down) {
		__builtin_memset(a, 0, (size_t)(b - a));
	} else {
		__builtin_memset(a, 0, (size_t)(a_up - a));
		__builtin_memset(b_down, 0, (size_t)(b - b_down));
	}
	/* One byte per pageblock: every pageblock starts MOVABLE. */
	__builtin_memset(&za->pb_mt[start >> za->pageblock_order], ZA_MT_MOVABLE,
	                 nr >> za->pageblock_order ? nr >> za->pageblock_order
	                                           : 1);
	for (unsigned long pfn = start; pfn < start + nr; pfn += za->block_pages) {
		struct za_section *s = pfn_section(za, pfn);
		za_store_relaxed(&s->base, base ? (char *)base +
		                                      ((pfn - start) << za->page_shift)
		                                : NULL);
		za_store_relaxed(&s->zone_id, z->id);
		s->lazy_next = s->lazy_prev = ZA_NIL;
		za_store_relaxed(&s->lazy_left,
		                 (uint32_t)(za->block_pages >> za->max_order));
		za_store_relaxed(&s->lazy, 1);
		za_store_release(&s->online, 1);
	}
	return 0;
}

void memmap_init_pages(struct za *za, unsigned long start, unsigned long nr,
                       uint8_t zone_id)
{
	/* The metadata reads as zero (memmap_online_range), so order and mt
	 * are 0 and the state is NONE already. The state is not written:
	 * lockless scanners (contiguous allocation's candidate scan, a stray
	 * free) may be reading it while the zone lock's holder gets here.
	 * One run of a lazy block at a time (buddy.c, ZA_LAZY_RUN_PAGES). */
	struct za_page *first = pfn_page(za, start);
	zone_assert_held(za->zone_by_id[zone_id]);
	for (unsigned long i = 0; i < nr; i++) {
		ZA_ASSERT(page_state(&first[i]) == ZA_PS_NONE);
		first[i].next = first[i].prev = ZA_NIL;
		first[i].zone_id = zone_id;
	}
}

/* Mark the sections offline and give the metadata back. Caller holds
 * mem_hotplug_lock and has taken every page of the range off every list.
 *
 * The metadata stays mapped (zeros: state NONE). A free of a page of this
 * block that raced the offline - a double free, or a free of a page that
 * was never the caller's - may have checked the section while it was still
 * online and read the page a moment later: it must find memory there, and
 * a state that is not ALLOC, and report itself. Unmapping it would turn
 * that report into a fault. */
void memmap_offline_range(struct za *za, unsigned long start, unsigned long nr)
{
	mem_hotplug_assert_held(za);
	for (unsigned long pfn = start; pfn < start + nr; pfn += za->block_pages) {
		struct za_section *s = pfn_section(za, pfn);
		za_store_release(&s->online, 0);
		za_store_relaxed(&s->base, NULL);
	}
	/* Give back every OS page of metadata no online block still uses. */
	char *lo, *hi;
	size_t ps = za_os_page_size();
	meta_span(za, start, nr, &lo, &hi);
	/* Only the OS pages at either end can be shared with a neighbour;
	 * runs of unused pages go back in one call each. */
	char *run = NULL;
	for (char *pg = lo; pg < hi; pg += ps) {
		unsigned long p0 = (unsigned long)((struct za_page *)pg - za->memmap);
		unsigned long p1 = p0 + ps / sizeof(struct za_page);
		bool used = false;
		for (unsigned long p = p0 & ~(za->block_pages - 1);
		     p < p1 && p < za->max_pfn; p += za->block_pages)
			if (za_load_relaxed(&pfn_section(za, p)->online))
				used = true;
		if (used && run) {
			za_os_purge(run, (size_t)(pg - run));
			run = NULL;
		} else if (!used && !run) {
			run = pg;
		}
	}
	if (run)
		za_os_purge(run, (size_t)(hi - run));
}

/* --- address index ----------------------------------------------------------
 * za_virt_to_page finds the block that holds an address by binary search
 * over the runs of backed online memory, sorted by address. A program
 * usually onlines memory in a few large calls, each one run (blocks that
 * continue each other in both address and pfn merge), so the search is a
 * step or two. Hotplug rewrites the runs in place inside a sequence
 * count; a lookup that overlapped a rewrite searches again. */

static void vrun_write_begin(struct za *za)
{
	za_store_relaxed(&za->vrun_seq, za->vrun_seq + 1);
	za_fence_release();
}

static void vrun_write_end(struct za *za)
{
	za_store_release(&za->vrun_seq, za->vrun_seq + 1);
}

static void vrun_set(struct za *za, unsigned long i, uintptr_t lo,
                     uintptr_t hi, unsigned long pfn)
{
	za_store_relaxed(&za->vruns[i].lo, lo);
	za_store_relaxed(&za->vruns[i].hi, hi);
	za_store_relaxed(&za->vruns[i].pfn, pfn);
}

/* Move runs [from, n) to [from + by, n + by) (by may be -1). */
static void vrun_shift(struct za *za, unsigned long from, long by)
{
	unsigned long n = za->nr_vruns;
	if (by > 0) {
		for (unsigned long i = n; i-- > from;)
			vrun_set(za, i + 1, za->vruns[i].lo, za->vruns[i].hi,
			         za->vruns[i].pfn);
	} else {
		for (unsigned long i = from; i < n; i++)
			vrun_set(za, i - 1, za->vruns[i].lo, za->vruns[i].hi,
			         za->vruns[i].pfn);
	}
	za_store_relaxed(&za->nr_vruns, n + (unsigned long)by);
}

/* How many of the first n runs start at or below a (lockless: relaxed
 * reads). Bisection without a data-dependent branch: the addresses looked
 * up are as random as the program's frees. */
static unsigned long vrun_rank(const struct za *za, uintptr_t a,
                               unsigned long n)
{
	const struct za_vrun *v = za->vruns;
	unsigned long base = 0;
	if (!n)
		return 0;
	while (n > 1) {
		unsigned long half = n / 2;
		base = za_load_relaxed(&v[base + half].lo) <= a ? base + half : base;
		n -= half;
	}
	return base + (za_load_relaxed(&v[base].lo) <= a);
}

int vrun_check(const struct za *za, const void *base, unsigned long nr)
{
	mem_hotplug_assert_held(za);
	uintptr_t lo = (uintptr_t)base, len = (uintptr_t)nr << za->page_shift;
	if ((len >> za->page_shift) != nr || lo + len < lo)
		return -EINVAL;
	/* Runs are disjoint and sorted: only the last one starting below our
	 * end can reach into us. */
	unsigned long i = vrun_rank(za, lo + len - 1, za->nr_vruns);
	if (i && za->vruns[i - 1].hi > lo)
		return -EEXIST;
	return 0;
}

void vrun_add(struct za *za, unsigned long start, unsigned long nr,
              const void *base)
{
	mem_hotplug_assert_held(za);
	uintptr_t lo = (uintptr_t)base,
	          hi = lo + ((uintptr_t)nr << za->page_shift);
	unsigned long i = vrun_rank(za, lo, za->nr_vruns);
	struct za_vrun *prev = i ? &za->vruns[i - 1] : NULL;
	struct za_vrun *next = i < za->nr_vruns ? &za->vruns[i] : NULL;
	bool join_prev = prev && prev->hi == lo &&
	                 prev->pfn + ((prev->hi - prev->lo) >> za->page_shift) ==
	                     start;
	bool join_next = next && next->lo == hi && next->pfn == start + nr;
	vrun_write_begin(za);
	if (join_prev && join_next) {
		vrun_set(za, i - 1, prev->lo, next->hi, prev->pfn);
		vrun_shift(za, i + 1, -1);
	} else if (join_prev) {
		vrun_set(za, i - 1, prev->lo, hi, prev->pfn);
	} else if (join_next) {
		vrun_set(za, i, lo, next->hi, start);
	} else {
		vrun_shift(za, i, 1);
		vrun_set(za, i, lo, hi, start);
	}
	vrun_write_end(za);
}

void vrun_remove(struct za *za, unsigned long start, unsigned long nr)
{
	mem_hotplug_assert_held(za);
	unsigned long end = start + nr;
	unsigned shift = za->page_shift;
	bool writing = false;
	for (unsigned long i = 0; i < za->nr_vruns;) {
		struct za_vrun r = za->vruns[i];
		unsigned long p0 = r.pfn, p1 = p0 + ((r.hi - r.lo) >> shift);
		if (p1 <= start || p0 >= end) {
			i++;
			continue;
		}
		if (!writing)
			vrun_write_begin(za);
		writing = true;
		if (start <= p0 && p1 <= end) {
			vrun_shift(za, i + 1, -1);
			continue;
		}
		if (start <= p0) { /* the front goes */
			vrun_set(za, i, r.lo + ((end - p0) << shift), r.hi, end);
		} else if (p1 <= end) { /* the back goes */
			vrun_set(za, i, r.lo, r.lo + ((start - p0) << shift), p0);
		} else { /* the middle goes: two runs */
			vrun_shift(za, i + 1, 1);
			vrun_set(za, i, r.lo, r.lo + ((start - p0) << shift), p0);
			vrun_set(za, i + 1, r.lo + ((end - p0) << shift), r.hi, end);
			i++;
		}
		i++;
	}
	if (writing)
		vrun_write_end(za);
}

/* --- public ------------------------------------------------------------------- */

struct za_page *za_virt_to_page(struct za *za, const void *addr)
{
	if (!za || !addr)
		return NULL;
	uintptr_t a = (uintptr_t)addr;
	for (;;) {
		unsigned seq = za_load_acquire(&za->vrun_seq);
		if (unlikely(seq & 1)) {
			za_cpu_relax();
			continue;
		}
		unsigned long n = za_load_relaxed(&za->nr_vruns);
		unsigned long pfn = ULONG_MAX;
		if (n <= za->nr_sections + 1) {
			unsigned long i = vrun_rank(za, a, n);
			if (i) {
				const struct za_vrun *r = &za->vruns[i - 1];
				uintptr_t lo = za_load_relaxed(&r->lo);
				if (a < za_load_relaxed(&r->hi))
					pfn = za_load_relaxed(&r->pfn) +
					      (unsigned long)((a - lo) >> za->page_shift);
			}
		}
		za_fence_acquire();
		if (likely(za_load_relaxed(&za->vrun_seq) == seq))
			return pfn == ULONG_MAX ? NULL : pfn_page(za, pfn);
	}
}

unsigned long za_page_to_pfn(const struct za *za, const struct za_page *p)
{
	/* By address alone: a page whose block went offline keeps its
	 * frame number. Anything else is not page metadata of za. */
	if (!za || !p)
		return ULONG_MAX;
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)za->memmap;
	if (a < b || a - b >= za->memmap_bytes || (a - b) % sizeof(struct za_page))
		return ULONG_MAX;
	return page_pfn(za, p);
}

struct za_page *za_pfn_to_page(struct za *za, unsigned long pfn)
{
	if (!za) {
		errno = EINVAL;
		return NULL;
	}
	if (!pfn_online(za, pfn))
		return NULL;
	return pfn_page(za, pfn);
}

void *za_page_address(const struct za *za, const struct za_page *p)
{
	if (!za)
		return NULL;
	unsigned long pfn = page_ptr_pfn(za, p);
	if (pfn == ULONG_MAX)
		return NULL;
	char *base = za_load_relaxed(&pfn_section(za, pfn)->base);
	if (!base)
		return NULL;
	return base + ((pfn & (za->block_pages - 1)) << za->page_shift);
}

/* Answered from the section table, which lives as long as the allocator:
 * a block can go offline (and its metadata away) while another thread
 * asks about one of its pages. */
int za_page_nid(const struct za *za, const struct za_page *p)
{
	if (!za)
		return -1;
	unsigned long pfn = page_ptr_pfn(za, p);
	if (pfn == ULONG_MAX)
		return -1;
	return zone_id_nid(za_load_relaxed(&pfn_section(za, pfn)->zone_id));
}

int za_page_zone(const struct za *za, const struct za_page *p)
{
	if (!za)
		return -1;
	unsigned long pfn = page_ptr_pfn(za, p);
	if (pfn == ULONG_MAX)
		return -1;
	return zone_id_type(za_load_relaxed(&pfn_section(za, pfn)->zone_id));
}
