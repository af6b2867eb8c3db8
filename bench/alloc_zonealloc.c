/*
 * alloc_zonealloc.c - the zonealloc back end of the benchmark.
 *
 * Creates one allocator over real, pre-faulted memory (an anonymous
 * mapping populated before any timing, so no first-touch fault is ever
 * measured): one node, one NORMAL zone, hotplug blocks of 128 MiB, and
 * otherwise the configuration a zeroed za_config gives: the real CPUs
 * (each benchmark thread pinned to its own core), background threads
 * (kswapd, the vmstat worker) on, page sets restartable where the machine
 * allows. --sim-cpu gives each thread a simulated CPU through the cpu_id
 * callback instead (the page sets then run locked). Variant
 * "zonealloc-locked" sets ZA_CFG_PCP_LOCKED, "zonealloc-nopcp"
 * ZA_CFG_NO_PCP: every call takes the zone lock.
 * Built as bench_zonealloc_addr (BENCH_ZONEALLOC_ADDR), the variants are
 * "zonealloc-addr", "zonealloc-addr-locked" and "zonealloc-addr-nopcp":
 * the workloads hold page addresses and free through za_virt_to_page
 * (bench_alloc.h).
 * BENCH_ZA_FLAGS in the environment (a number, e.g. 0x40 for
 * ZA_CFG_PAGE_OWNER) adds za_config flags to every variant: how the cost
 * of the debugging aids is measured (docs/DEBUGGING.md).
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench_alloc.h"

struct za *bench_za;

static void *backing;
static size_t backing_len;
static unsigned bench_nr_cpus;
static unsigned bench_cpu_stride = 1;
static int bench_verbose;
static __thread int bench_cpu;

/* Frame numbers start at 4 GiB, where a real x86-64 ZONE_NORMAL starts. */
#define BENCH_START_PFN 0x100000ul
#define BENCH_BLOCK_PAGES 32768ul /* 128 MiB of 4 KiB pages */

/* zonealloc: the configuration a user gets from a zeroed za_config (its
 * page sets restartable where the machine allows, background threads on);
 * zonealloc-locked: the same with ZA_CFG_PCP_LOCKED; zonealloc-nopcp:
 * ZA_CFG_NO_PCP, every call takes the zone lock. */
#ifdef BENCH_ZONEALLOC_ADDR
static const char *const variants[] = { "zonealloc-addr",
	                                    "zonealloc-addr-locked",
	                                    "zonealloc-addr-nopcp" };
#else
static const char *const variants[] = { "zonealloc", "zonealloc-locked",
	                                    "zonealloc-nopcp" };
#endif
#define NR_VARIANTS (sizeof(variants) / sizeof(variants[0]))

unsigned ba_nr_variants(void)
{
	return NR_VARIANTS;
}

const char *ba_variant_name(unsigned v)
{
	return v < NR_VARIANTS ? variants[v] : "?";
}

const char *ba_version(void)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "zonealloc %d.%d.%d", ZA_VERSION_MAJOR,
	         ZA_VERSION_MINOR, ZA_VERSION_PATCH);
	return buf;
}

int ba_check_active(FILE *out)
{
	/* Linked statically into this binary: the calls cannot go anywhere
	 * else. Say what the page metadata costs, which is fixed. */
	fprintf(out,
	        "allocator: %s (static library), %zu bytes of metadata "
	        "per page\n",
	        ba_version(), za_page_meta_size());
	return 0;
}

static int sim_cpu_id(void *ctx)
{
	(void)ctx;
	return bench_cpu;
}

void ba_thread_start(unsigned idx)
{
	bench_cpu = bench_nr_cpus ? (int)((idx * bench_cpu_stride) % bench_nr_cpus)
	                          : 0;
}

/* Report misuse loudly: a benchmark must never count a misused call. */
static void bench_error(void *ctx, int err, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "zonealloc error %d: %s\n", err, msg);
	abort();
}

int ba_setup(unsigned v, const struct bench_alloc_cfg *cfg)
{
	struct za_config zc;
	unsigned long nr_pages;
	int rc;

	nr_pages = (cfg->mem_mib << 20) >> 12;
	nr_pages = (nr_pages + BENCH_BLOCK_PAGES - 1) & ~(BENCH_BLOCK_PAGES - 1);
	backing_len = nr_pages << 12;
	if (!backing) {
		/* One mapping for every variant, populated once. */
		backing = mmap(NULL, backing_len, PROT_READ | PROT_WRITE,
		               MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (backing == MAP_FAILED) {
			backing = NULL;
			perror("mmap backing memory");
			return -1;
		}
		/* MAP_POPULATE may be refused silently: touch every page. */
		for (size_t off = 0; off < backing_len; off += 4096)
			((volatile char *)backing)[off] = 0;
	}

	memset(&zc, 0, sizeof(zc));
	zc.nr_nodes = 1;
	zc.block_pages = BENCH_BLOCK_PAGES;
	zc.max_pfn = BENCH_START_PFN + nr_pages;
	zc.flags = 0;
	if (v == 1)
		zc.flags |= ZA_CFG_PCP_LOCKED;
	else if (v == 2)
		zc.flags |= ZA_CFG_NO_PCP;
	if (getenv("BENCH_ZA_FLAGS"))
		zc.flags |= (unsigned)strtoul(getenv("BENCH_ZA_FLAGS"), NULL, 0);
	if (cfg->sched_cpu) {
		zc.nr_cpus = 0; /* CPUs configured */
		zc.cpu_id = NULL;
	} else {
		zc.nr_cpus = cfg->nr_cpus;
		zc.cpu_id = sim_cpu_id;
	}
	zc.error = bench_error;

	bench_za = za_create(&zc);
	if (!bench_za) {
		fprintf(stderr, "za_create: %s\n", strerror(errno));
		return -1;
	}
	bench_nr_cpus = za_nr_cpus(bench_za);
	bench_cpu_stride = cfg->cpu_stride ? cfg->cpu_stride : 1;
	bench_verbose = cfg->verbose;
	rc = za_memory_online(bench_za, 0, ZA_ZONE_NORMAL, BENCH_START_PFN,
	                      nr_pages, backing);
	if (rc) {
		fprintf(stderr, "za_memory_online: %s\n", strerror(-rc));
		za_destroy(bench_za);
		bench_za = NULL;
		return -1;
	}
	bench_cpu = 0; /* the main thread is CPU 0 */
	if (cfg->verbose) {
		struct za_pcp_info pi;

		if (!za_pcp_info(bench_za, 0, 0, ZA_ZONE_NORMAL, &pi))
			fprintf(stderr,
			        "%s: %u CPUs, %lu MiB, pcp high %u batch %u "
			        "usable %d, %s\n",
			        variants[v], bench_nr_cpus, (nr_pages << 12) >> 20,
			        pi.high, pi.batch, pi.usable,
			        pi.restartable ? "restartable" : "locked");
	}
	return 0;
}

void ba_teardown(void)
{
	if (bench_za)
		za_destroy(bench_za);
	bench_za = NULL;
	/* The backing mapping stays for the next variant. */
}

void ba_stats(struct bench_alloc_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!bench_za)
		return;
	st->valid = 1;
	st->zone_lock = za_event_count(bench_za, ZA_ZONE_LOCK);
	st->pgalloc = za_event_count(bench_za, ZA_PGALLOC);
	st->pcp_refill = za_event_count(bench_za, ZA_PCP_REFILL);
	st->pcp_flush = za_event_count(bench_za, ZA_PCP_FLUSH);
	st->trylock_fail = za_event_count(bench_za, ZA_PCP_TRYLOCK_FAIL);
	st->alloc_fail = za_event_count(bench_za, ZA_PGALLOC_FAIL);
	for (unsigned cpu = 0; cpu < bench_nr_cpus; cpu++) {
		struct za_pcp_info pi;

		if (!za_pcp_info(bench_za, cpu, 0, ZA_ZONE_NORMAL, &pi))
			st->pcp_pages += pi.count;
	}
	st->meta_bytes = za_page_meta_size();
}

int ba_quiesce(FILE *err)
{
	int rc;

	if (!bench_za)
		return 0;
	if (bench_verbose) {
		for (unsigned cpu = 0; cpu < bench_nr_cpus; cpu++) {
			struct za_pcp_info pi;

			if (!za_pcp_info(bench_za, cpu, 0, ZA_ZONE_NORMAL, &pi))
				fprintf(err, "  cpu %u: pcp count %u high %u batch %u\n", cpu,
				        pi.count, pi.high, pi.batch);
		}
	}
	rc = za_check(bench_za, err);
	if (rc)
		fprintf(err, "za_check failed: %d\n", rc);
	za_drain_all_pages(bench_za);
	return rc ? -1 : 0;
}
