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
	za->sections = za_meta_alloc(za, za->nr_sections * sizeof(struct za_section),
	                             0);
	if (!za->sections)
		return -ENOMEM;
	/* One byte per pageblock of the whole pfn range: reserved and
	 * committed at once, backed by memory only where it is touched. */
	size_t ps = za_os_page_size();
	za->pb_mt_bytes = ((za->max_pfn >> za->pageblock_order) + ps - 1) & ~(ps - 1);
	za->pb_mt = za_os_reserve(za->pb_mt_bytes);
	if (!za->pb_mt || za_meta_inject_fail(za) ||
	    za_os_commit(za->pb_mt, za->pb_mt_bytes))
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

/* Commit and initialise the metadata of a range (whole blocks), then mark
 * its sections online. The pages are not yet free: the caller hands them
 * to the buddy lists. Caller holds mem_hotplug_lock. */
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

int memmap_online_range(struct za *za, unsigned long start, unsigned long nr,
                        struct za_zone *z, void *base)
{
	struct za_page *first = pfn_page(za, start);
	char *lo, *hi;
	meta_span(za, start, nr, &lo, &hi);
	if (za_meta_inject_fail(za))
		return -ENOMEM;
	/* Committing keeps what is there: an OS page shared with an online
	 * neighbour keeps the neighbour's metadata. */
	int err = za_os_commit(lo, (size_t)(hi - lo));
	if (err)
		return err;
	/* A shared OS page may hold this block's metadata from an earlier
	 * life: start from zero. */
	__builtin_memset(first, 0, nr * sizeof(struct za_page));
	for (unsigned long i = 0; i < nr; i++) {
		struct za_page *p = &first[i];
		p->next = p->prev = ZA_NIL;
		p->zone_id = z->id;
		/* Pages start out as interior pages of an allocated range:
		 * buddy_free_range() turns them into free blocks. */
		p->state = ZA_PS_OFFLINE;
	}
	for (unsigned long pfn = start; pfn < start + nr;
	     pfn += 1ul << za->pageblock_order)
		set_pageblock_mt(za, pfn, ZA_MT_MOVABLE);
	for (unsigned long pfn = start; pfn < start + nr; pfn += za->block_pages) {
		struct za_section *s = pfn_section(za, pfn);
		za_store_relaxed(&s->base, base ? (char *)base +
		                                      ((pfn - start) << za->page_shift)
		                                : NULL);
		za_store_relaxed(&s->zone_id, z->id);
		za_store_release(&s->online, 1);
	}
	return 0;
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
	for (unsigned long pfn = start; pfn < start + nr; pfn += za->block_pages) {
		struct za_section *s = pfn_section(za, pfn);
		za_store_release(&s->online, 0);
		za_store_relaxed(&s->base, NULL);
	}
	/* Give back every OS page of metadata no online block still uses. */
	char *lo, *hi;
	size_t ps = za_os_page_size();
	meta_span(za, start, nr, &lo, &hi);
	for (char *pg = lo; pg < hi; pg += ps) {
		unsigned long p0 = (unsigned long)((struct za_page *)pg - za->memmap);
		unsigned long p1 = p0 + ps / sizeof(struct za_page);
		bool used = false;
		for (unsigned long p = p0 & ~(za->block_pages - 1); p < p1 && p < za->max_pfn;
		     p += za->block_pages)
			if (za_load_relaxed(&pfn_section(za, p)->online))
				used = true;
		if (!used)
			za_os_purge(pg, ps);
	}
}

/* --- public ------------------------------------------------------------------- */

unsigned long za_page_to_pfn(const struct za *za, const struct za_page *p)
{
	/* By address alone: a page whose block went offline keeps its
	 * frame number. Anything else is not page metadata of za. */
	if (!za || !p)
		return ULONG_MAX;
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)za->memmap;
	if (a < b || a - b >= za->memmap_bytes ||
	    (a - b) % sizeof(struct za_page))
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
	return za_load_relaxed(&pfn_section(za, pfn)->zone_id) >> 2;
}

int za_page_zone(const struct za *za, const struct za_page *p)
{
	if (!za)
		return -1;
	unsigned long pfn = page_ptr_pfn(za, p);
	if (pfn == ULONG_MAX)
		return -1;
	return za_load_relaxed(&pfn_section(za, pfn)->zone_id) & 3;
}
