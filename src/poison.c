/*
 * poison.c - page poisoning (ZA_CFG_POISON): the memory of a freed block is
 * filled with ZA_POISON_BYTE, and when the block is handed out again every
 * page is checked for the pattern; a page that differs was written after it
 * was freed (a use after free in the client), and is reported.
 *
 * Which frames hold the pattern is kept in a byte map of its own (one byte
 * per frame, reserved for the whole pfn range, backed where touched), not
 * in the page metadata: memory that comes online was never poisoned and
 * must not be checked, and blocks merge and split freely between a free
 * and the next hand-out, so the mark has to be per frame. The byte of a
 * frame is written by the thread that owns the frame: the freeing one
 * (before the block reaches a list) and the allocating one (after it left
 * the list); the list locks order the two.
 */
#include <string.h>

#include "internal.h"

int _za_poison_init(struct za *za)
{
	za->poison_map_bytes = za->max_pfn;
	za->poison_map = za_os_reserve(za->poison_map_bytes);
	if (!za->poison_map)
		return -ENOMEM;
	if (za_os_commit(za->poison_map, za->poison_map_bytes)) {
		za_os_release(za->poison_map, za->poison_map_bytes);
		za->poison_map = NULL;
		return -ENOMEM;
	}
	return 0;
}

void _za_poison_fini(struct za *za)
{
	if (za->poison_map)
		za_os_release(za->poison_map, za->poison_map_bytes);
	za->poison_map = NULL;
}

/* Fill [pfn, pfn + nr) with the pattern and mark it. Frame-only memory is
 * refused at online on a poisoning allocator, so every page has an
 * address; a NULL one (never expected) is skipped. */
void _za_poison_pages(struct za *za, unsigned long pfn, unsigned long nr)
{
	size_t psz = (size_t)1 << za->page_shift;
	for (unsigned long i = 0; i < nr; i++) {
		void *a = za_page_address(za, pfn_page(za, pfn + i));
		if (!a)
			continue;
		memset(a, ZA_POISON_BYTE, psz);
		za->poison_map[pfn + i] = 1;
	}
}

/* The first byte of a page that is not the pattern, or -1. */
static long first_bad_byte(const unsigned char *a, size_t n)
{
	/* Eight bytes at a time: pages are at least 512 bytes, aligned. */
	const uint64_t pat = 0x0101010101010101ull * ZA_POISON_BYTE;
	for (size_t i = 0; i < n; i += 8) {
		uint64_t w;
		memcpy(&w, a + i, 8);
		if (w != pat) {
			for (size_t j = i; j < i + 8; j++)
				if (a[j] != ZA_POISON_BYTE)
					return (long)j;
		}
	}
	return -1;
}

/* Check the marked pages of [pfn, pfn + nr) for the pattern and unmark
 * them. A page that differs is reported through the error handler with
 * what page owner knows of the block that held it; it is handed out all
 * the same (as the kernel does). Returns the pages that differed. */
unsigned long _za_poison_check(struct za *za, unsigned long pfn,
                               unsigned long nr)
{
	size_t psz = (size_t)1 << za->page_shift;
	unsigned long bad = 0;
	for (unsigned long i = 0; i < nr; i++) {
		uint8_t *m = &za->poison_map[pfn + i];
		if (!*m)
			continue;
		*m = 0;
		const unsigned char *a = za_page_address(za, pfn_page(za, pfn + i));
		if (!a)
			continue;
		long off = first_bad_byte(a, psz);
		if (off < 0)
			continue;
		bad++;
		char owner[600];
		_za_page_owner_describe(za, pfn + i, owner, sizeof(owner));
		_za_report_misuse(za, -EINVAL,
		                  "poison mismatch (write after free) in pfn 0x%lx "
		                  "at offset %ld: 0x%02x, expected 0x%02x%s",
		                  pfn + i, off, a[off], ZA_POISON_BYTE, owner);
	}
	return bad;
}

/* Forget the marks of [pfn, pfn + nr): memory going offline (its next
 * online may bring other memory) or handed to someone who will write it
 * without a hand-out (free page reporting's host). */
void _za_poison_forget(struct za *za, unsigned long pfn, unsigned long nr)
{
	memset(&za->poison_map[pfn], 0, nr);
}
