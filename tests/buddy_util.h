/*
 * buddy_util.h - blocks allocated together with their buddies, for tests
 * of what a free does when the block's buddy is in use (it cannot merge).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ZA_TEST_BUDDY_UTIL_H
#define ZA_TEST_BUDDY_UTIL_H

#include "testutil.h"

#include <zonealloc.h>

/* Allocate nalloc (at most 16) blocks of order o and find npairs buddy
 * pairs among them: pr[2i] and pr[2i + 1] are buddies. Frees the blocks
 * that are in no pair (onto the lists, or wherever their frees go). */
static inline void bu_buddy_pairs(struct za *za, unsigned o, int nalloc,
                                  struct za_page **pr, int npairs)
{
	struct za_page *b[16];
	int used[16] = { 0 }, n = 0;
	CHECK(nalloc <= 16);
	for (int i = 0; i < nalloc; i++)
		CHECK((b[i] = za_alloc_pages(za, ZA_GFP_KERNEL, o)) != NULL);
	for (int i = 0; i < nalloc && n < 2 * npairs; i++)
		for (int j = 0; j < nalloc && n < 2 * npairs && !used[i]; j++)
			if (i != j && !used[j] &&
			    (za_page_to_pfn(za, b[i]) ^ (1ul << o)) ==
			        za_page_to_pfn(za, b[j])) {
				pr[n++] = b[i];
				pr[n++] = b[j];
				used[i] = used[j] = 1;
			}
	CHECK_EQ(n, 2 * npairs);
	for (int i = 0; i < nalloc; i++)
		if (!used[i])
			za_free_pages(za, b[i], o);
}

#endif
