/*
 * bench_alloc.h - the allocator interface the benchmark workloads call.
 *
 * bench/workloads.c is compiled once per allocator. With BENCH_ZONEALLOC
 * defined it calls zonealloc (za_alloc_pages / za_free_pages and the bulk
 * calls) and the workloads hold page handles (struct za_page *); with
 * BENCH_ZONEALLOC_ADDR too (bench_zonealloc_addr) they hold the pages'
 * addresses and free through za_virt_to_page; otherwise it calls aligned_alloc(4096, 4096 << order) / free,
 * and whichever malloc the binary was linked against (glibc, jemalloc,
 * tcmalloc, mimalloc) answers. The hot calls are static inline here so
 * that every allocator pays the same (zero) wrapper cost; set-up, the
 * "which allocator is really active" check and statistics live in
 * bench/alloc_zonealloc.c and bench/alloc_peer.c.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BENCH_ALLOC_H
#define BENCH_ALLOC_H

#include <stddef.h>
#include <stdio.h>

/* What the workload driver asks of an allocator back end. */
struct bench_alloc_cfg {
	unsigned long mem_mib; /* zonealloc: backing memory to online */
	unsigned nr_cpus;      /* zonealloc: possible CPUs (simulated mode) */
	int sched_cpu;         /* zonealloc: 1 = sched_getcpu(), 0 = simulated */
	unsigned cpu_stride;   /* zonealloc: thread i is simulated CPU i*stride */
	int verbose;
};

/* Statistics a back end can report (zonealloc only; valid = 0 otherwise). */
struct bench_alloc_stats {
	int valid;
	unsigned long long zone_lock;    /* ZA_ZONE_LOCK events */
	unsigned long long pgalloc;      /* ZA_PGALLOC events */
	unsigned long long pcp_refill;   /* ZA_PCP_REFILL events */
	unsigned long long pcp_flush;    /* ZA_PCP_FLUSH events */
	unsigned long long trylock_fail; /* ZA_PCP_TRYLOCK_FAIL events */
	unsigned long long alloc_fail;   /* ZA_PGALLOC_FAIL events */
	unsigned long pcp_pages;         /* pages on every CPU's per-CPU lists */
	size_t meta_bytes;               /* za_page_meta_size() */
};

/* The variants one binary measures: zonealloc has "zonealloc" (per-CPU
 * lists on) and "zonealloc-nopcp"; a peer binary has just its own name. */
unsigned ba_nr_variants(void);
const char *ba_variant_name(unsigned v);

/* Check which allocator is really active and print it to out. Returns 0
 * when it is the one this binary was built for, -1 otherwise. */
int ba_check_active(FILE *out);

/* Set up variant v before its workloads, tear it down after. 0 or -1. */
int ba_setup(unsigned v, const struct bench_alloc_cfg *cfg);
void ba_teardown(void);

/* Called in each benchmark thread before it allocates: idx is the
 * thread's index, which becomes its simulated CPU for zonealloc. */
void ba_thread_start(unsigned idx);

/* Statistics now (all zero / valid = 0 for peers). */
void ba_stats(struct bench_alloc_stats *st);

/* At a quiescent point after a workload: check consistency (zonealloc:
 * za_check) and drain per-CPU lists so the next workload starts clean.
 * Returns 0, or -1 when the allocator's state is inconsistent. */
int ba_quiesce(FILE *err);

/* Extra information for the run header (version string). */
const char *ba_version(void);

/* ---- the hot calls ---------------------------------------------------- */

#ifdef BENCH_ZONEALLOC
#include "zonealloc.h"

extern struct za *bench_za;
#define BENCH_GFP ZA_GFP_KERNEL

#ifdef BENCH_ZONEALLOC_ADDR
/* bench_zonealloc_addr: the workloads hold page addresses, as a program
 * that uses the memory does, and a free finds the page again with
 * za_virt_to_page: what address-holding callers pay over page handles. */
static inline void *ba_alloc(unsigned order)
{
	struct za_page *pg = za_alloc_pages(bench_za, BENCH_GFP, order);
	return pg ? za_page_address(bench_za, pg) : NULL;
}

static inline void ba_free(void *p, unsigned order)
{
	za_free_pages(bench_za, za_virt_to_page(bench_za, p), order);
}

static inline unsigned ba_alloc_bulk(unsigned n, void **v)
{
	unsigned got = za_alloc_pages_bulk(bench_za, BENCH_GFP, n,
	                                   (struct za_page **)v);
	for (unsigned i = 0; i < got; i++)
		v[i] = za_page_address(bench_za, (struct za_page *)v[i]);
	return got;
}

static inline void ba_free_bulk(unsigned n, void **v)
{
	for (unsigned i = 0; i < n; i++)
		v[i] = za_virt_to_page(bench_za, v[i]);
	za_free_pages_bulk(bench_za, n, (struct za_page **)v);
}
#else

static inline void *ba_alloc(unsigned order)
{
	return za_alloc_pages(bench_za, BENCH_GFP, order);
}

static inline void ba_free(void *p, unsigned order)
{
	za_free_pages(bench_za, (struct za_page *)p, order);
}

/* Up to n order-0 blocks into v[]; returns how many. */
static inline unsigned ba_alloc_bulk(unsigned n, void **v)
{
	return za_alloc_pages_bulk(bench_za, BENCH_GFP, n, (struct za_page **)v);
}

static inline void ba_free_bulk(unsigned n, void **v)
{
	za_free_pages_bulk(bench_za, n, (struct za_page **)v);
}
#endif /* BENCH_ZONEALLOC_ADDR */

#else /* a malloc peer */
#include <stdlib.h>

#define BENCH_PAGE_SIZE 4096ul

static inline void *ba_alloc(unsigned order)
{
	return aligned_alloc(BENCH_PAGE_SIZE, BENCH_PAGE_SIZE << order);
}

static inline void ba_free(void *p, unsigned order)
{
	(void)order;
	free(p);
}

/* A peer has no bulk call: a loop of single allocations. */
static inline unsigned ba_alloc_bulk(unsigned n, void **v)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		v[i] = aligned_alloc(BENCH_PAGE_SIZE, BENCH_PAGE_SIZE);
		if (!v[i])
			break;
	}
	return i;
}

static inline void ba_free_bulk(unsigned n, void **v)
{
	for (unsigned i = 0; i < n; i++)
		free(v[i]);
}
#endif

#endif /* BENCH_ALLOC_H */
