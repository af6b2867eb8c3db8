/*
 * test_core_zonelist.c - the order in which allocations try zones and nodes.
 *
 * DESIGN.md: the zonelist of a node is that node's zones from the highest
 * the gfp allows downward, then the other nodes' zones by distance. A zone
 * is passed over while it is below its watermark (plus the lowmem reserve
 * against the request's highest zone), so each scenario allocates order-0
 * pages until NULL and checks, for every allocation:
 *  - the page comes from a zone the request may use (DMA32 never NORMAL,
 *    KERNEL never MOVABLE, THISNODE never another node);
 *  - every zone before it in the zonelist was below low + reserve (it was
 *    skipped for a reason) and its own zone was above min + reserve;
 *  - zones appear for the first time in exactly the zonelist order;
 *  - the final NULL (errno ENOMEM) comes only when every zone of the
 *    zonelist is at or below min + reserve, and zones outside the zonelist
 *    were never touched.
 * Topologies: 2 nodes with DMA32 and NORMAL (MOVABLE on node 0), default
 * distances; 3 nodes with a custom distance matrix and a custom cpu_node.
 * za_alloc_pages_node(nid) prefers nid. Zones onlined later join the
 * zonelists in their place. Direct reclaim asks the shrinkers of the
 * nodes with a zone the request may use, and of no other (reclaim_nodes).
 * Per-CPU lists are off so that the buddy counters are exact.
 */
#include "testutil.h"

#include <errno.h>
#include <string.h>
#include <zonealloc.h>

#define BLK 1024UL
#define MAXP 16384

struct zref {
	int nid;
	int zone;
};

static int cur_cpu;
static int get_cpu(void *ctx)
{
	(void)ctx;
	return cur_cpu;
}

static struct za_page *held[MAXP];
static unsigned nheld;

static const char *zname(int z)
{
	static const char *n[] = { "DMA", "DMA32", "Normal", "Movable" };
	return z >= 0 && z < 4 ? n[z] : "?";
}

static int highest_zone(za_gfp_t gfp)
{
	if (gfp & ZA___GFP_DMA)
		return ZA_ZONE_DMA;
	if (gfp & ZA___GFP_DMA32)
		return ZA_ZONE_DMA32;
	if (gfp & ZA___GFP_MOVABLE)
		return ZA_ZONE_MOVABLE;
	return ZA_ZONE_NORMAL;
}

static struct za_zone_info zinfo(struct za *za, int nid, int zone)
{
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, nid, (enum za_zone_type)zone, &zi), 0);
	return zi;
}

/*
 * Allocate order-0 pages with gfp until NULL; nid == -2 means
 * za_alloc_pages, else za_alloc_pages_node(nid). zl is the expected
 * zonelist (only zones with memory).
 */
static void drain_in_order(struct za *za, const char *what, za_gfp_t gfp,
                           int nid, const struct zref *zl, int nzl)
{
	int nnodes = (int)za_nr_nodes(za);
	int hi = highest_zone(gfp);
	struct za_zone_info pre[ZA_MAX_NODES][ZA_NR_ZONES];
	struct za_zone_info start[ZA_MAX_NODES][ZA_NR_ZONES];
	int seen[16], nseen = 0;
	unsigned long from[16] = { 0 };

	CHECK(nzl <= 16);
	CHECK_EQ(nheld, 0);
	for (int n = 0; n < nnodes; n++)
		for (int z = 0; z < ZA_NR_ZONES; z++)
			start[n][z] = zinfo(za, n, z);

	for (;;) {
		for (int n = 0; n < nnodes; n++)
			for (int z = 0; z < ZA_NR_ZONES; z++)
				pre[n][z] = zinfo(za, n, z);
		errno = 0;
		struct za_page *p = nid == -2 ? za_alloc_pages(za, gfp, 0)
		                              : za_alloc_pages_node(za, nid, gfp, 0);
		if (!p) {
			CHECK_EQ(errno, ENOMEM);
			break;
		}
		CHECK(nheld < MAXP);
		held[nheld++] = p;
		int pn = za_page_nid(za, p), pz = za_page_zone(za, p);
		int k = -1;
		for (int i = 0; i < nzl; i++)
			if (zl[i].nid == pn && zl[i].zone == pz)
				k = i;
		if (k < 0) {
			fprintf(stderr,
			        "%s: page from node %d zone %s, not in the "
			        "zonelist\n",
			        what, pn, zname(pz));
			CHECK(k >= 0);
		}
		for (int j = 0; j < k; j++) {
			struct za_zone_info *y = &pre[zl[j].nid][zl[j].zone];
			if (y->free > y->low + y->lowmem_reserve[hi]) {
				fprintf(stderr,
				        "%s: took node %d %s while node %d %s "
				        "(earlier in the zonelist) had %lu free, low %lu "
				        "reserve %lu\n",
				        what, pn, zname(pz), zl[j].nid, zname(zl[j].zone),
				        y->free, y->low, y->lowmem_reserve[hi]);
				CHECK(y->free <= y->low + y->lowmem_reserve[hi]);
			}
		}
		struct za_zone_info *me = &pre[pn][pz];
		if (me->free <= me->min + me->lowmem_reserve[hi]) {
			fprintf(stderr,
			        "%s: node %d %s gave a page at %lu free, min "
			        "%lu reserve %lu\n",
			        what, pn, zname(pz), me->free, me->min,
			        me->lowmem_reserve[hi]);
			CHECK(me->free > me->min + me->lowmem_reserve[hi]);
		}
		if (from[k]++ == 0)
			seen[nseen++] = k;
	}

	/* first appearances follow the zonelist exactly */
	for (int i = 0; i < nseen; i++) {
		if (seen[i] != i) {
			fprintf(stderr,
			        "%s: zone #%d used was node %d %s, expected "
			        "node %d %s\n",
			        what, i, zl[seen[i]].nid, zname(zl[seen[i]].zone),
			        zl[i].nid, zname(zl[i].zone));
			CHECK_EQ(seen[i], i);
		}
	}
	CHECK_EQ(nseen, nzl);
	/* NULL only once every zone of the list is down at min + reserve */
	for (int i = 0; i < nzl; i++) {
		struct za_zone_info y = zinfo(za, zl[i].nid, zl[i].zone);
		if (y.free > y.min + y.lowmem_reserve[hi])
			fprintf(stderr,
			        "%s: NULL while node %d %s has %lu free, min "
			        "%lu reserve %lu\n",
			        what, zl[i].nid, zname(zl[i].zone), y.free, y.min,
			        y.lowmem_reserve[hi]);
		CHECK(y.free <= y.min + y.lowmem_reserve[hi]);
	}
	/* zones outside the list untouched */
	for (int n = 0; n < nnodes; n++)
		for (int z = 0; z < ZA_NR_ZONES; z++) {
			int in = 0;
			for (int i = 0; i < nzl; i++)
				in |= zl[i].nid == n && zl[i].zone == z;
			if (in)
				continue;
			struct za_zone_info y = zinfo(za, n, z);
			if (y.free != start[n][z].free)
				fprintf(stderr, "%s: node %d %s touched (%lu -> %lu)\n", what,
				        n, zname(z), start[n][z].free, y.free);
			CHECK_EQ(y.free, start[n][z].free);
		}

	while (nheld)
		za_free_pages(za, held[--nheld], 0);
	for (int n = 0; n < nnodes; n++)
		for (int z = 0; z < ZA_NR_ZONES; z++) {
			struct za_zone_info y = zinfo(za, n, z);
			CHECK_EQ(y.free, y.managed);
		}
	CHECK_EQ(za_check(za, stderr), 0);
}

static struct za *make(unsigned nodes, unsigned cpus,
                       const unsigned char *dist, const int *cpu_node)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_nodes = nodes;
	cfg.nr_cpus = cpus;
	cfg.cpu_id = get_cpu;
	cfg.node_distance = dist;
	cfg.cpu_node = cpu_node;
	cfg.block_pages = BLK;
	cfg.max_pfn = 0x110000;
	cfg.min_free_kbytes = 1024;
	cfg.flags = ZA_CFG_NO_PCP | ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	CHECK_EQ(za_nr_nodes(za), nodes);
	for (unsigned n = 0; n < nodes; n++) {
		CHECK_EQ(za_memory_online(za, (int)n, ZA_ZONE_DMA32,
		                          0x10000UL * (n + 1), BLK, NULL),
		         0);
		CHECK_EQ(za_memory_online(za, (int)n, ZA_ZONE_NORMAL,
		                          0x100000UL + 0x2000UL * n, BLK, NULL),
		         0);
	}
	return za;
}

static void two_nodes(void)
{
	struct za *za = make(2, 2, NULL, NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, 0x108000UL, BLK, NULL),
	         0);
	CHECK_EQ(za_cpu_to_node(za, 0), 0);
	CHECK_EQ(za_cpu_to_node(za, 1), 1);
	{
		struct za_zone_info d = zinfo(za, 0, ZA_ZONE_DMA32);
		CHECK(d.populated);
		CHECK(!zinfo(za, 0, ZA_ZONE_DMA).populated);
		CHECK(zinfo(za, 0, ZA_ZONE_MOVABLE).populated);
		CHECK(!zinfo(za, 1, ZA_ZONE_MOVABLE).populated);
	}
	const int N = ZA_ZONE_NORMAL, D = ZA_ZONE_DMA32, M = ZA_ZONE_MOVABLE;

	cur_cpu = 0;
	struct zref k0[] = { { 0, N }, { 0, D }, { 1, N }, { 1, D } };
	drain_in_order(za, "cpu0 KERNEL", ZA_GFP_KERNEL, -2, k0, 4);
	drain_in_order(za, "cpu0 node(-1) KERNEL", ZA_GFP_KERNEL, -1, k0, 4);

	cur_cpu = 1;
	struct zref k1[] = { { 1, N }, { 1, D }, { 0, N }, { 0, D } };
	drain_in_order(za, "cpu1 KERNEL", ZA_GFP_KERNEL, -2, k1, 4);

	cur_cpu = 0;
	drain_in_order(za, "cpu0 node(1) KERNEL", ZA_GFP_KERNEL, 1, k1, 4);
	drain_in_order(za, "cpu0 node(0) NOWAIT", ZA_GFP_NOWAIT, 0, k0, 4);

	struct zref d0[] = { { 0, D }, { 1, D } };
	drain_in_order(za, "cpu0 DMA32", ZA_GFP_KERNEL | ZA_GFP_DMA32, -2, d0, 2);
	cur_cpu = 1;
	struct zref d1[] = { { 1, D }, { 0, D } };
	drain_in_order(za, "cpu1 DMA32", ZA_GFP_KERNEL | ZA_GFP_DMA32, -2, d1, 2);

	cur_cpu = 0;
	struct zref m0[] = { { 0, M }, { 0, N }, { 0, D }, { 1, N }, { 1, D } };
	drain_in_order(za, "cpu0 MOVABLE", ZA_GFP_MOVABLE, -2, m0, 5);
	cur_cpu = 1;
	struct zref m1[] = { { 1, N }, { 1, D }, { 0, M }, { 0, N }, { 0, D } };
	drain_in_order(za, "cpu1 MOVABLE", ZA_GFP_MOVABLE, -2, m1, 5);

	cur_cpu = 0;
	struct zref t0[] = { { 0, N }, { 0, D } };
	drain_in_order(za, "cpu0 KERNEL|THISNODE", ZA_GFP_KERNEL | ZA_GFP_THISNODE,
	               -2, t0, 2);
	struct zref t1[] = { { 1, N }, { 1, D } };
	drain_in_order(za, "cpu0 node(1) KERNEL|THISNODE",
	               ZA_GFP_KERNEL | ZA_GFP_THISNODE, 1, t1, 2);
	struct zref tm0[] = { { 0, M }, { 0, N }, { 0, D } };
	drain_in_order(za, "cpu0 MOVABLE|THISNODE",
	               ZA_GFP_MOVABLE | ZA_GFP_THISNODE, -2, tm0, 3);
	struct zref td1[] = { { 1, D } };
	drain_in_order(za, "cpu0 node(1) DMA32|THISNODE",
	               ZA_GFP_KERNEL | ZA_GFP_DMA32 | ZA_GFP_THISNODE, 1, td1, 1);

	/* ZA_GFP_DMA with no DMA zone anywhere: nothing to give */
	errno = 0;
	CHECK(za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_DMA, 0) == NULL);
	CHECK_EQ(errno, ENOMEM);

	/* a node that does not exist */
	errno = 0;
	CHECK(za_alloc_pages_node(za, 2, ZA_GFP_KERNEL, 0) == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK(za_alloc_pages_node(za, ZA_MAX_NODES + 5, ZA_GFP_KERNEL, 0) == NULL);
	CHECK_EQ(errno, EINVAL);

	/* zone and node queries of pages outside this instance */
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

/* 3 nodes; distances 0-1: 40, 0-2: 20, 1-2: 30. */
static void three_nodes(void)
{
	static const unsigned char dist[9] = { 10, 40, 20, 40, 10, 30, 20, 30, 10 };
	const int N = ZA_ZONE_NORMAL, D = ZA_ZONE_DMA32;
	struct za *za = make(3, 3, dist, NULL);
	for (int c = 0; c < 3; c++)
		CHECK_EQ(za_cpu_to_node(za, (unsigned)c), c);

	cur_cpu = 0;
	struct zref z0[] = { { 0, N }, { 0, D }, { 2, N },
		                 { 2, D }, { 1, N }, { 1, D } };
	drain_in_order(za, "3n cpu0 KERNEL", ZA_GFP_KERNEL, -2, z0, 6);
	cur_cpu = 1;
	struct zref z1[] = { { 1, N }, { 1, D }, { 2, N },
		                 { 2, D }, { 0, N }, { 0, D } };
	drain_in_order(za, "3n cpu1 KERNEL", ZA_GFP_KERNEL, -2, z1, 6);
	cur_cpu = 2;
	struct zref z2[] = { { 2, N }, { 2, D }, { 0, N },
		                 { 0, D }, { 1, N }, { 1, D } };
	drain_in_order(za, "3n cpu2 KERNEL", ZA_GFP_KERNEL, -2, z2, 6);
	struct zref dd1[] = { { 1, D }, { 2, D }, { 0, D } };
	drain_in_order(za, "3n cpu2 node(1) DMA32", ZA_GFP_KERNEL | ZA_GFP_DMA32,
	               1, dd1, 3);
	za_destroy(za);

	/* custom cpu_node: cpu 0 on node 2, cpu 1 on node 0, cpu 2 on node 1 */
	static const int cn[3] = { 2, 0, 1 };
	za = make(3, 3, dist, cn);
	CHECK_EQ(za_cpu_to_node(za, 0), 2);
	CHECK_EQ(za_cpu_to_node(za, 1), 0);
	CHECK_EQ(za_cpu_to_node(za, 2), 1);
	cur_cpu = 0;
	drain_in_order(za, "3n cpu_node cpu0 KERNEL", ZA_GFP_KERNEL, -2, z2, 6);
	cur_cpu = 2;
	drain_in_order(za, "3n cpu_node cpu2 KERNEL", ZA_GFP_KERNEL, -2, z1, 6);
	za_destroy(za);
}

/* Zonelists follow memory online: a zone gaining its first pages is used
 * in its place from then on. */
static void late_online(void)
{
	const int N = ZA_ZONE_NORMAL, D = ZA_ZONE_DMA32, M = ZA_ZONE_MOVABLE;
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_nodes = 2;
	cfg.nr_cpus = 2;
	cfg.cpu_id = get_cpu;
	cfg.block_pages = BLK;
	cfg.max_pfn = 0x110000;
	cfg.min_free_kbytes = 1024;
	cfg.flags = ZA_CFG_NO_PCP | ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	cur_cpu = 0;
	/* no memory at all: nothing, and no crash */
	errno = 0;
	CHECK(za_alloc_pages(za, ZA_GFP_KERNEL, 0) == NULL);
	CHECK_EQ(errno, ENOMEM);

	CHECK_EQ(za_memory_online(za, 1, ZA_ZONE_DMA32, 0x20000, BLK, NULL), 0);
	struct zref a[] = { { 1, D } };
	drain_in_order(za, "late: node 1 DMA32 only", ZA_GFP_KERNEL, -2, a, 1);
	errno = 0;
	CHECK(za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_THISNODE, 0) == NULL);
	CHECK_EQ(errno, ENOMEM);

	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_DMA32, 0x10000, BLK, NULL), 0);
	struct zref b[] = { { 0, D }, { 1, D } };
	drain_in_order(za, "late: + node 0 DMA32", ZA_GFP_KERNEL, -2, b, 2);

	CHECK_EQ(za_memory_online(za, 1, ZA_ZONE_NORMAL, 0x102000, BLK, NULL), 0);
	struct zref c[] = { { 0, D }, { 1, N }, { 1, D } };
	drain_in_order(za, "late: + node 1 Normal", ZA_GFP_KERNEL, -2, c, 3);

	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0x100000, BLK, NULL), 0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, 0x108000, BLK, NULL), 0);
	struct zref d[] = { { 0, N }, { 0, D }, { 1, N }, { 1, D } };
	drain_in_order(za, "late: + node 0 Normal", ZA_GFP_KERNEL, -2, d, 4);
	struct zref e[] = { { 0, M }, { 0, N }, { 0, D }, { 1, N }, { 1, D } };
	drain_in_order(za, "late: MOVABLE", ZA_GFP_MOVABLE, -2, e, 5);
	/* a second block of a populated zone changes nothing in the order */
	CHECK_EQ(za_memory_online(za, 1, ZA_ZONE_NORMAL, 0x103000, BLK, NULL), 0);
	cur_cpu = 1;
	struct zref f[] = { { 1, N }, { 1, D }, { 0, N }, { 0, D } };
	drain_in_order(za, "late: cpu1, node 1 Normal grown", ZA_GFP_KERNEL, -2, f,
	               4);
	za_destroy(za);
}

/* The client's cache for reclaim_nodes: pages of each node, and the pages
 * each node's shrinker call was asked for. */
static struct za *rc_za;
static struct za_page *rc_cache[2][2 * BLK];
static unsigned rc_n[2];
static unsigned long rc_asked[2];

static unsigned long rc_count(void *ctx, int nid)
{
	(void)ctx;
	return rc_n[nid];
}

static unsigned long rc_scan(void *ctx, int nid, unsigned long nr)
{
	(void)ctx;
	unsigned long f = 0;
	rc_asked[nid] += nr;
	for (; f < nr && rc_n[nid]; f++)
		za_free_pages(rc_za, rc_cache[nid][--rc_n[nid]], 0);
	return f;
}

/* Direct reclaim asks only the nodes that have a zone the request may use
 * (the kernel's shrink_zones walks the zonelist up to the request's highest
 * zone). Node 0 has the only DMA zone, full of the client's cache; node 1
 * has NORMAL memory only, and a larger cache. A KERNEL|DMA request from
 * node 1's CPU must get its page from node 0's cache, and node 1's cache
 * must stay whole: reclaiming node 1 first freed each round's 32 pages
 * there, for nothing, until the rounds ran out and the request failed. */
static void reclaim_nodes(void)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_nodes = 2;
	cfg.nr_cpus = 2;
	cfg.cpu_id = get_cpu;
	cfg.block_pages = BLK;
	cfg.max_pfn = 4 * BLK;
	cfg.flags = ZA_CFG_NO_PCP | ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *za = rc_za = za_create(&cfg);
	CHECK(za != NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_DMA, 0, BLK, NULL), 0);
	CHECK_EQ(za_memory_online(za, 1, ZA_ZONE_NORMAL, 2 * BLK, BLK, NULL), 0);
	struct za_shrinker s = { .count = rc_count, .scan = rc_scan };
	CHECK_EQ(za_register_shrinker(za, &s), 0);
	struct za_page *p;
	cur_cpu = 0;
	while (
	    (p = za_alloc_pages_node(za, 0,
	                             ZA_GFP_ATOMIC | ZA_GFP_DMA | ZA_GFP_THISNODE,
	                             0)))
		rc_cache[0][rc_n[0]++] = p;
	cur_cpu = 1;
	while (
	    rc_n[1] < 900 &&
	    (p = za_alloc_pages_node(za, 1, ZA_GFP_NOWAIT | ZA_GFP_THISNODE, 0)))
		rc_cache[1][rc_n[1]++] = p;
	CHECK_EQ(rc_n[1], 900);
	unsigned cached1 = rc_n[1];

	errno = 0;
	p = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_DMA, 0);
	RULE(rc_asked[1] == 0 && rc_n[1] == cached1,
	     "direct reclaim asks only nodes with a zone the request may use: "
	     "a DMA request reclaimed node 1 (no DMA zone) for %lu pages",
	     rc_asked[1]);
	RULE(p != NULL && za_page_nid(za, p) == 0 &&
	         za_page_zone(za, p) == ZA_ZONE_DMA,
	     "direct reclaim asks only nodes with a zone the request may use: "
	     "the DMA request failed (errno %d) with node 0's DMA cache at %u "
	     "pages",
	     errno, rc_n[0]);
	CHECK(rc_asked[0] > 0);
	za_free_pages(za, p, 0);
	for (int n = 0; n < 2; n++)
		while (rc_n[n])
			za_free_pages(za, rc_cache[n][--rc_n[n]], 0);
	za_unregister_shrinker(za, &s);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

int main(void)
{
	tu_watchdog(120);
	two_nodes();
	three_nodes();
	late_online();
	reclaim_nodes();
	printf("core_zonelist: ok\n");
	return 0;
}
