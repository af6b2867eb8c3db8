/*
 * page_debug.c - where the debugging aids (docs/DEBUGGING.md) meet the
 * allocator: set up at create, and the two hooks every block passes
 * through while one of them is on - when it is handed out and when it is
 * freed, on the general path.
 *
 * The fast paths never call them. With ZA_CFG_PAGE_OWNER, ZA_CFG_POISON
 * or ZA_CFG_INIT_ON_ALLOC the allocator sets ZA_NOFAST_DEBUG in za.nofast,
 * the word the inline fast paths already test, and every allocation and
 * free takes the general path, which calls the hooks (the per-CPU lists
 * still serve it). Off, the aids cost nothing but that test.
 */
#include <string.h>

#include "internal.h"

#define DEBUG_FLAGS (ZA_CFG_PAGE_OWNER | ZA_CFG_POISON | ZA_CFG_INIT_ON_ALLOC)

int _za_debug_init(struct za *za)
{
	int err = 0;
	_za_fail_init(za);
	if (za->flags & ZA_CFG_PAGE_OWNER)
		err = _za_page_owner_init(za);
	if (!err && (za->flags & ZA_CFG_POISON))
		err = _za_poison_init(za);
	if (za->flags & DEBUG_FLAGS)
		za->nofast |= ZA_NOFAST_DEBUG;
	return err;
}

void _za_debug_fini(struct za *za)
{
	_za_page_owner_fini(za);
	_za_poison_fini(za);
}

/* Zero [pfn, pfn + nr) one max-order chunk at a time: a contiguous range
 * may span hotplug blocks with separate bases. */
static void zero_pages(struct za *za, unsigned long pfn, unsigned long nr)
{
	unsigned long chunk = 1ul << za->max_order;
	for (unsigned long p = pfn; p < pfn + nr; p += chunk) {
		unsigned long n = pfn + nr - p < chunk ? pfn + nr - p : chunk;
		void *a = za_page_address(za, pfn_page(za, p));
		if (a)
			memset(a, 0, n << za->page_shift);
	}
}

void _za_debug_alloc(struct za *za, unsigned long pfn, unsigned long nr,
                     unsigned order, za_gfp_t gfp, int cpu, const void *site)
{
	/* Check first: a report names the block's last owner, whose record
	 * the new one replaces. */
	if (za->poison_map)
		_za_poison_check(za, pfn, nr);
	if ((za->flags & ZA_CFG_INIT_ON_ALLOC) && !(gfp & ZA___GFP_ZERO))
		zero_pages(za, pfn, nr);
	if (za->page_owner)
		_za_page_owner_alloc(za, pfn, nr, order, gfp, cpu, site);
}

void _za_debug_free(struct za *za, unsigned long pfn, unsigned long nr,
                    const void *site)
{
	if (za->page_owner)
		_za_page_owner_free(za, pfn, nr, site);
	if (za->poison_map)
		_za_poison_pages(za, pfn, nr);
}

void _za_debug_forget(struct za *za, unsigned long pfn, unsigned long nr)
{
	if (za->page_owner)
		_za_page_owner_forget(za, pfn, nr);
	if (za->poison_map)
		_za_poison_forget(za, pfn, nr);
}

/* What a misuse report about pfn adds: the page owner's sites. */
size_t _za_debug_describe(struct za *za, unsigned long pfn, char *buf,
                          size_t len)
{
	if (len)
		buf[0] = 0;
	if (!za->page_owner)
		return 0;
	return _za_page_owner_describe(za, pfn, buf, len);
}
