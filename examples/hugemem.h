/* SPDX-License-Identifier: MIT */
/*
 * hugemem.h - map a large region of anonymous memory to hand to zonealloc
 * as "guest RAM", on huge pages when asked (--hugepages in the examples
 * and the tool). Header-only: copy it into your program.
 *
 * With huge pages asked for:
 *  1. MAP_HUGETLB, when /proc/meminfo says enough reserved huge pages are
 *     free (HugePages_Free x Hugepagesize covers the region);
 *  2. else transparent huge pages: the region aligned to the huge page
 *     size and madvise(MADV_HUGEPAGE), unless THP is "never" in
 *     /sys/kernel/mm/transparent_hugepage/enabled;
 *  3. else base pages.
 * hugemem_describe() says which one it got, and why not the one before.
 * The region is aligned to the huge page size either way, so that a free
 * block of zonealloc of at least that size (free page reporting reports
 * pageblocks, 2 MiB of 4 KiB pages, by default) covers whole huge pages:
 * giving it back never splits one.
 *
 * Tests point HUGEMEM_MEMINFO and HUGEMEM_THP_ENABLED at files of their
 * own to take the fallback paths on any machine.
 */
#ifndef HUGEMEM_H
#define HUGEMEM_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#ifndef MAP_HUGETLB
#define MAP_HUGETLB 0x40000
#endif

enum hugemem_kind { HUGEMEM_BASE, HUGEMEM_HUGETLB, HUGEMEM_THP };

struct hugemem {
	void *base; /* the region, aligned to huge_size */
	size_t len; /* its length (a multiple of huge_size) */
	void *map;  /* what to munmap */
	size_t map_len;
	enum hugemem_kind kind;
	size_t huge_size; /* the huge page size (Hugepagesize), bytes */
	char why[160];    /* why not a better kind, "" if none was tried */
};

/* A /proc/meminfo value in kB, or -1 when absent. */
static inline long long hugemem_meminfo(const char *key)
{
	const char *path = getenv("HUGEMEM_MEMINFO");
	FILE *f = fopen(path ? path : "/proc/meminfo", "r");
	char line[256];
	long long v = -1;
	size_t kl = strlen(key);
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			v = atoll(line + kl + 1);
			break;
		}
	fclose(f);
	return v;
}

/* Whether transparent huge pages may be had with madvise. */
static inline int hugemem_thp_allowed(void)
{
	const char *path = getenv("HUGEMEM_THP_ENABLED");
	FILE *f = fopen(path ? path
	                     : "/sys/kernel/mm/transparent_hugepage/enabled",
	                "r");
	char line[128] = "";
	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	return strstr(line, "[always]") || strstr(line, "[madvise]");
}

/* Anonymous memory of len bytes aligned to align. */
static inline void *hugemem_map_aligned(size_t len, size_t align, void **map,
                                        size_t *map_len)
{
	char *p = mmap(NULL, len + align, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	*map = p;
	*map_len = len + align;
	return (void *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
}

/* Map len bytes (rounded up to the huge page size). 0, or -errno. */
static inline int hugemem_map(struct hugemem *m, size_t len, int want_huge)
{
	long long hp_kb = hugemem_meminfo("Hugepagesize");
	memset(m, 0, sizeof(*m));
	m->huge_size = hp_kb > 0 ? (size_t)hp_kb << 10 : (size_t)2 << 20;
	m->len = (len + m->huge_size - 1) & ~(m->huge_size - 1);
	if (want_huge) {
		long long nfree = hugemem_meminfo("HugePages_Free");
		if (nfree > 0 && (size_t)nfree * m->huge_size >= m->len) {
			void *p = mmap(NULL, m->len, PROT_READ | PROT_WRITE,
			               MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
			if (p != MAP_FAILED) {
				m->base = m->map = p;
				m->map_len = m->len;
				m->kind = HUGEMEM_HUGETLB;
				return 0;
			}
			snprintf(m->why, sizeof(m->why), "MAP_HUGETLB failed: %s",
			         strerror(errno));
		} else {
			snprintf(m->why, sizeof(m->why),
			         "%lld reserved huge pages free, %zu needed",
			         nfree < 0 ? 0 : nfree, m->len / m->huge_size);
		}
	}
	m->base = hugemem_map_aligned(m->len, m->huge_size, &m->map, &m->map_len);
	if (!m->base)
		return -errno;
	m->kind = HUGEMEM_BASE;
	if (want_huge) {
		size_t n = strlen(m->why);
		if (!hugemem_thp_allowed())
			snprintf(m->why + n, sizeof(m->why) - n,
			         "; transparent huge pages are off");
		else if (madvise(m->base, m->len, MADV_HUGEPAGE))
			snprintf(m->why + n, sizeof(m->why) - n,
			         "; madvise(MADV_HUGEPAGE) failed: %s", strerror(errno));
		else
			m->kind = HUGEMEM_THP;
	}
	return 0;
}

static inline void hugemem_unmap(struct hugemem *m)
{
	if (m->map)
		munmap(m->map, m->map_len);
	m->map = m->base = NULL;
}

/* One line: which backing the region got, and why not a better one. */
static inline void hugemem_describe(const struct hugemem *m, FILE *f)
{
	static const char *const names[] = {
		[HUGEMEM_BASE] = "base pages",
		[HUGEMEM_HUGETLB] = "huge pages (MAP_HUGETLB)",
		[HUGEMEM_THP] = "transparent huge pages (madvise)",
	};
	fprintf(f, "# backing: %s, %zu MiB, huge page size %zu KiB%s%s%s\n",
	        names[m->kind], m->len >> 20, m->huge_size >> 10,
	        m->why[0] ? " (" : "", m->why, m->why[0] ? ")" : "");
}

#endif
