/*
 * test_core_numa.c - the kernel's NUMA counters (numa_hit, numa_miss,
 * numa_foreign, numa_interleave, numa_local, numa_other): one count per
 * allocation call, hit or miss against the node the request preferred,
 * local or other against the allocating CPU's node, foreign on the
 * preferred node for a miss - on the per-CPU fast path, the general path,
 * higher orders and bulk calls alike.
 */
#include <string.h>
#include <unistd.h>
#include <zonealloc.h>

#include "testutil.h"

#define BLK 1024ul

static __thread int cur_cpu;
static int cpu_id(void *ctx)
{
	(void)ctx;
	return cur_cpu;
}

struct numa {
	unsigned long long hit, miss, foreign, interleave, local, other;
};

static struct numa now(struct za *za)
{
	struct numa n = {
		za_event_count(za, ZA_NUMA_HIT),
		za_event_count(za, ZA_NUMA_MISS),
		za_event_count(za, ZA_NUMA_FOREIGN),
		za_event_count(za, ZA_NUMA_INTERLEAVE),
		za_event_count(za, ZA_NUMA_LOCAL),
		za_event_count(za, ZA_NUMA_OTHER),
	};
	return n;
}

/* The change since *was must be exactly the given counts. */
static void expect(struct za *za, struct numa *was, const char *what,
                   unsigned long long hit, unsigned long long miss,
                   unsigned long long foreign, unsigned long long local,
                   unsigned long long other)
{
	struct numa n = now(za);
	if (n.hit - was->hit != hit || n.miss - was->miss != miss ||
	    n.foreign - was->foreign != foreign || n.interleave != 0 ||
	    n.local - was->local != local || n.other - was->other != other) {
		fprintf(stderr,
		        "%s: numa_hit +%llu (want %llu), numa_miss +%llu "
		        "(%llu), numa_foreign +%llu (%llu), numa_local +%llu (%llu), "
		        "numa_other +%llu (%llu), numa_interleave %llu (0)\n",
		        what, n.hit - was->hit, hit, n.miss - was->miss, miss,
		        n.foreign - was->foreign, foreign, n.local - was->local, local,
		        n.other - was->other, other, n.interleave);
		exit(1);
	}
	*was = n;
}

/* The restartable fast path (real CPUs, the default configuration where
 * the platform has rseq) counts the same: every order-0 allocation from
 * the CPU's own node is one numa_hit and one numa_local, whether it came
 * off the per-CPU list or not. Skipped where the page sets run locked. */
static void restartable_fast_path(void)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_nodes = 1;
	cfg.block_pages = BLK;
	cfg.max_pfn = 2 * BLK;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *za = za_create(&cfg);
	CHECK(za);
	struct za_pcp_info pi;
	CHECK_EQ(za_pcp_info(za, 0, 0, ZA_ZONE_NORMAL, &pi), 0);
	if (!pi.restartable) {
		printf("restartable fast path: skipped (%s)\n",
		       za_pcp_mode_reason(za));
		za_destroy(za);
		return;
	}
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 2 * BLK, NULL), 0);
	struct za_page *p[8];
	struct numa was = now(za);
	unsigned long long pgalloc = za_event_count(za, ZA_PGALLOC);
	for (int round = 0; round < 100; round++) {
		for (int i = 0; i < 8; i++)
			CHECK((p[i] = za_alloc_pages(za, ZA_GFP_KERNEL, 0)) != NULL);
		for (int i = 0; i < 8; i++)
			za_free_pages(za, p[i], 0);
	}
	expect(za, &was, "800 order-0 allocations, restartable", 800, 0, 0, 800,
	       0);
	CHECK_EQ(za_event_count(za, ZA_PGALLOC) - pgalloc, 800);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);

	/* Every CPU on node 1, which has no memory: the fast path's zone is
	 * node 0's, so each allocation is a miss, foreign on node 1, other. */
	static int on_node1[ZA_MAX_CPUS];
	int ncpu = (int)sysconf(_SC_NPROCESSORS_CONF);
	CHECK(ncpu > 0 && ncpu <= ZA_MAX_CPUS);
	for (int c = 0; c < ncpu; c++)
		on_node1[c] = 1;
	cfg.nr_nodes = 2;
	cfg.nr_cpus = (unsigned)ncpu;
	cfg.cpu_node = on_node1;
	za = za_create(&cfg);
	CHECK(za);
	CHECK_EQ(za_pcp_info(za, 0, 0, ZA_ZONE_NORMAL, &pi), 0);
	CHECK(pi.restartable);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 2 * BLK, NULL), 0);
	was = now(za);
	for (int round = 0; round < 100; round++) {
		for (int i = 0; i < 8; i++)
			CHECK((p[i] = za_alloc_pages(za, ZA_GFP_KERNEL, 0)) != NULL);
		for (int i = 0; i < 8; i++)
			za_free_pages(za, p[i], 0);
	}
	expect(za, &was,
	       "800 order-0 allocations from a memoryless node, "
	       "restartable",
	       0, 800, 800, 0, 800);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	printf("restartable fast path: 800 allocations, 800 hits, 800 local; "
	       "from a memoryless node 800 misses, 800 other\n");
}

int main(void)
{
	restartable_fast_path();

	/* Three nodes; node 2 has a CPU but no memory. CPU c is on node c. */
	static const int cpu_node[3] = { 0, 1, 2 };
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = 3;
	cfg.nr_nodes = 3;
	cfg.cpu_node = cpu_node;
	cfg.cpu_id = cpu_id;
	cfg.block_pages = BLK;
	cfg.max_pfn = 4 * BLK;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *za = za_create(&cfg);
	CHECK(za);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 2 * BLK, NULL), 0);
	CHECK_EQ(za_memory_online(za, 1, ZA_ZONE_NORMAL, 2 * BLK, 2 * BLK, NULL),
	         0);
	struct numa was = now(za);
	struct za_page *p, *bulk[10];

	cur_cpu = 0; /* on node 0 */
	CHECK((p = za_alloc_pages(za, ZA_GFP_KERNEL, 0)) != NULL);
	expect(za, &was, "order 0 on the CPU's node", 1, 0, 0, 1, 0);
	za_free_pages(za, p, 0);
	/* Once the list holds pages: the fast path. */
	CHECK((p = za_alloc_pages(za, ZA_GFP_KERNEL, 0)) != NULL);
	expect(za, &was, "order 0 again (per-CPU fast path)", 1, 0, 0, 1, 0);
	za_free_pages(za, p, 0);

	CHECK((p = za_alloc_pages_node(za, 1, ZA_GFP_KERNEL, 0)) != NULL);
	CHECK_EQ(za_page_to_pfn(za, p) >= 2 * BLK, 1);
	expect(za, &was, "node 1 asked for from CPU 0", 1, 0, 0, 0, 1);
	za_free_pages(za, p, 0);

	CHECK((p = za_alloc_pages(za, ZA_GFP_KERNEL, 4)) != NULL);
	expect(za, &was, "order 4", 1, 0, 0, 1, 0);
	za_free_pages(za, p, 4);

	CHECK_EQ(za_alloc_pages_bulk(za, ZA_GFP_KERNEL, 10, bulk), 10);
	expect(za, &was, "a bulk call of 10", 10, 0, 0, 10, 0);
	za_free_pages_bulk(za, 10, bulk);

	/* Node 2 has no memory: the allocation lands on node 0 or 1, a miss
	 * there and a foreign allocation for node 2; local for CPU 2 never. */
	cur_cpu = 2;
	CHECK((p = za_alloc_pages(za, ZA_GFP_KERNEL, 0)) != NULL);
	expect(za, &was, "CPU 2 on node 2, which has no memory", 0, 1, 1, 0, 1);
	za_free_pages(za, p, 0);

	/* The same totals in vmstat, and per zone in zoneinfo. */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CHECK(f);
	CHECK_EQ(za_report(za, ZA_REPORT_VMSTAT, f), 0);
	fclose(f);
	char want[64];
	snprintf(want, sizeof(want), "\nnuma_hit %llu\n", was.hit);
	CHECK(strstr(buf, want) != NULL);
	snprintf(want, sizeof(want), "\nnuma_foreign %llu\n", was.foreign);
	CHECK(strstr(buf, want) != NULL);
	free(buf);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	printf("1 passed, 0 failed\n");
	return 0;
}
