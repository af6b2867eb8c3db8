/* SPDX-License-Identifier: MIT */
/*
 * balloon.c - a VMM's view of free page reporting.
 *
 * The "guest RAM" is one large anonymous mapping that zonealloc manages.
 * The program allocates a working set in waves (touching every page, as a
 * guest would), then frees two thirds of it (half of guest RAM). With free page reporting on, the
 * reporting callback gives the freed blocks back to the host with
 * madvise(MADV_DONTNEED), as a virtio-balloon device does with what the
 * guest reports, and the resident size falls; without it the freed memory
 * stays resident for ever. The resident size comes from /proc/self/statm.
 *
 *   balloon [--mem MiB] [--waves N] [--delay ms] [--no-reporting]
 *           [--hugepages] [--check]
 *
 * --hugepages backs guest RAM with huge pages (hugemem.h says which kind)
 * and reports at the huge page's order, so a report never splits one.
 * --check exits 1 unless the resident size fell by at least half of what
 * each wave freed (with reporting) or did not fall by more than 4 MiB
 * (without): the ctest tests run it both ways.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <zonealloc.h>

#include "hugemem.h"

#define PAGE_SHIFT 12
#define WS_ORDER 4 /* the working set comes in 64 KiB pieces */

static struct za *za;
static long long madvise_ns; /* time spent giving memory back */

static long rss_mib(void)
{
	long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f || fscanf(f, "%ld %ld", &size, &resident) != 2)
		resident = -1;
	if (f)
		fclose(f);
	return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE) >> 20;
}

/* The host side: drop what the guest reported. Called from zonealloc's
 * reporting thread, a batch at a time; the blocks are off the free lists
 * (nobody can allocate them) until it returns. */
static int give_back(void *ctx, struct za_page *const *pages,
                     const unsigned *orders, unsigned n)
{
	struct timespec a, b;
	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (unsigned i = 0; i < n; i++) {
		void *addr = za_page_address(za, pages[i]);
		if (madvise(addr, (size_t)1 << (orders[i] + PAGE_SHIFT),
		            MADV_DONTNEED))
			return -errno; /* put back unreported; retried later */
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	__atomic_fetch_add(&madvise_ns,
	                   (b.tv_sec - a.tv_sec) * 1000000000ll + b.tv_nsec -
	                       a.tv_nsec,
	                   __ATOMIC_RELAXED);
	return 0;
}

static unsigned long reported_mib(void)
{
	return (unsigned long)za_zone_stat(za, 0, ZA_ZONE_NORMAL,
	                                   ZA_NR_FREE_REPORTED) >>
	       (20 - PAGE_SHIFT);
}

static int usage(void)
{
	fprintf(stderr, "usage: balloon [--mem MiB] [--waves N] [--delay ms] "
	                "[--no-reporting] [--hugepages] [--check]\n");
	return 2;
}

int main(int argc, char **argv)
{
	unsigned long mem_mib = 256, waves = 3, delay_ms = 50;
	int reporting = 1, huge = 0, check = 0, failed = 0;
	for (int i = 1; i < argc; i++) {
		char *end = NULL;
		if (!strcmp(argv[i], "--no-reporting"))
			reporting = 0;
		else if (!strcmp(argv[i], "--hugepages"))
			huge = 1;
		else if (!strcmp(argv[i], "--check"))
			check = 1;
		else if (i + 1 < argc &&
		         (!strcmp(argv[i], "--mem") || !strcmp(argv[i], "--waves") ||
		          !strcmp(argv[i], "--delay"))) {
			unsigned long v = strtoul(argv[i + 1], &end, 10);
			if (!*argv[i + 1] || *end || !v || v > (1ul << 20)) {
				fprintf(stderr,
				        "balloon: %s %s: not a number in "
				        "1..1048576\n",
				        argv[i], argv[i + 1]);
				return 2;
			}
			if (!strcmp(argv[i], "--mem"))
				mem_mib = v;
			else if (!strcmp(argv[i], "--waves"))
				waves = v;
			else
				delay_ms = v;
			i++;
		} else {
			return usage();
		}
	}

	/* Guest RAM: one mapping, aligned to the huge page size. */
	struct hugemem ram;
	size_t block = (size_t)32 << 20; /* zonealloc's hotplug block here */
	size_t bytes = ((mem_mib << 20) + block - 1) & ~(block - 1);
	if (hugemem_map(&ram, bytes, huge)) {
		perror("balloon: mmap");
		return 1;
	}
	if (huge)
		hugemem_describe(&ram, stdout);

	/* Report at the pageblock order, or the huge page's if larger: a
	 * reported block then covers whole huge pages. */
	struct za_config cfg = { 0 };
	unsigned order = 9;
	while (((size_t)1 << (order + PAGE_SHIFT)) < ram.huge_size && order < 20)
		order++;
	cfg.page_shift = PAGE_SHIFT;
	cfg.max_order = order > 10 ? order : 10;
	cfg.pageblock_order = order;
	cfg.block_pages = block >> PAGE_SHIFT;
	while (cfg.block_pages < (1ul << cfg.max_order))
		cfg.block_pages <<= 1;
	bytes = ram.len & ~((cfg.block_pages << PAGE_SHIFT) - 1);
	za = za_create(&cfg);
	if (!za || za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, bytes >> PAGE_SHIFT,
	                            ram.base)) {
		fprintf(stderr, "balloon: cannot set up the allocator\n");
		return 1;
	}
	struct za_page_reporting pr = { give_back, NULL, order,
		                            (unsigned)delay_ms };
	if (reporting && za_page_reporting_register(za, &pr)) {
		fprintf(stderr, "balloon: cannot register reporting\n");
		return 1;
	}
	printf("# guest RAM %zu MiB, free page reporting %s (order %u, delay "
	       "%lu ms)\n",
	       bytes >> 20, reporting ? "on" : "off", order, delay_ms);

	size_t piece = (size_t)1 << (WS_ORDER + PAGE_SHIFT);
	size_t max_pieces = bytes * 3 / 4 / piece;
	struct za_page **ws = calloc(max_pieces, sizeof(*ws));
	size_t have = 0;
	for (unsigned long w = 1; w <= waves; w++) {
		/* Grow the working set to three quarters of guest RAM. */
		while (have < max_pieces) {
			struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, WS_ORDER);
			if (!p)
				break;
			memset(za_page_address(za, p), (int)w, piece);
			ws[have++] = p;
		}
		long before = rss_mib();
		printf("wave %lu: working set %4zu MiB  rss %4ld MiB\n", w,
		       have * piece >> 20, before);
		/* Free two thirds of it (half of guest RAM), then give reporting
		 * time to act: three delays, then until the count stops moving. */
		size_t keep = have / 3, freed = (have - keep) * piece >> 20;
		/* Timed from the first free: reporting may start on the first
		 * blocks while the last are being freed. */
		struct timespec t0, t1;
		long ms90 = -1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		while (have > keep)
			za_free_pages(za, ws[--have], WS_ORDER);
		/* Watch for ten delays: when did nine tenths come back? */
		for (;;) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			long ms = (t1.tv_sec - t0.tv_sec) * 1000 +
			          (t1.tv_nsec - t0.tv_nsec) / 1000000;
			if (ms90 < 0 && reported_mib() * 10 >= freed * 9)
				ms90 = ms;
			if (ms >= 10 * (long)delay_ms ||
			    (!reporting && ms >= 3 * (long)delay_ms))
				break;
			usleep((useconds_t)(delay_ms * 100));
		}
		for (int i = 0; reporting && i < 100; i++) {
			unsigned long r0 = reported_mib();
			usleep((useconds_t)(delay_ms * 1000));
			if (reported_mib() == r0)
				break;
		}
		long after = rss_mib();
		printf("wave %lu: freed        %4zu MiB  rss %4ld MiB  reported "
		       "%lu MiB",
		       w, freed, after, reporting ? reported_mib() : 0ul);
		if (ms90 >= 0)
			printf(" (90%% within %ld ms, %lld ms in madvise)", ms90,
			       __atomic_load_n(&madvise_ns, __ATOMIC_RELAXED) / 1000000);
		__atomic_store_n(&madvise_ns, 0, __ATOMIC_RELAXED);
		printf("\n");
		if (reporting ? after > before - (long)freed / 2 : after < before - 4)
			failed = 1;
	}
	if (reporting)
		za_page_reporting_unregister(za);
	while (have)
		za_free_pages(za, ws[--have], WS_ORDER);
	int bad = za_check(za, stderr);
	za_destroy(za);
	hugemem_unmap(&ram);
	free(ws);
	if (check && failed) {
		fprintf(stderr, "balloon: the resident size did not %s\n",
		        reporting ? "fall by half of what was freed"
		                  : "stay put without reporting");
		return 1;
	}
	return bad ? 1 : 0;
}
