/*
 * test_core_numa_policy.c - the NUMA memory policy of the client's memory
 * (libnuma builds; skipped otherwise). The memory stays the client's
 * (DESIGN.md, "Backing"): memory online may give a block's memory a
 * preference for the host node numbered as its node, only where that
 * means something, never a strict bind, and gives the default policy back
 * when the memory leaves the allocator (memory_hotplug.c, backing_bind).
 *
 *  1. A one-node allocator leaves the policy alone: default after online,
 *     after offline and after za_destroy.
 *  2. A two-node allocator: node 0's memory prefers host node 0
 *     (MPOL_PREFERRED) after online when the host has node 0; node 1's
 *     likewise when the host has node 1, else (a one-node host) it keeps
 *     the default; after offline both are default again.
 *  3. za_destroy gives the memory still online the default policy back.
 *  4. With pages smaller than an OS page, an OS page the block shares
 *     with memory beside it keeps that memory's policy, at online and at
 *     offline.
 *
 * The policy is read with get_mempolicy(MPOL_F_ADDR) at the first and
 * last OS page of each block, and the memory is written after each step.
 */
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zonealloc.h>

#include "testutil.h"

#if ZA_HAVE_NUMA
#include <numa.h>
#include <numaif.h>

#define BLOCK 256ul /* pages of 4 KiB: 1 MiB */
#define PAGE 4096ul

static const char *mode_name(int mode)
{
	switch (mode) {
	case MPOL_DEFAULT:
		return "default";
	case MPOL_PREFERRED:
		return "preferred";
	case MPOL_BIND:
		return "bind";
	case MPOL_INTERLEAVE:
		return "interleave";
	default:
		return "other";
	}
}

/* The policy of the OS page at addr, and the node it names (-1: none). */
static int policy_at(const void *addr, int *node)
{
	int mode = -1;
	unsigned long mask[1024 / (8 * sizeof(unsigned long))] = { 0 };
	CHECK_EQ(get_mempolicy(&mode, mask, 1024 + 1, (void *)addr, MPOL_F_ADDR),
	         0);
	*node = -1;
	for (unsigned i = 0; i < 1024; i++)
		if (mask[i / (8 * sizeof(unsigned long))] &
		    (1ul << (i % (8 * sizeof(unsigned long))))) {
			*node = (int)i;
			break;
		}
	return mode;
}

/* Every OS page of [mem, mem + bytes) at its ends has policy `want`
 * (naming node `nid` for a preference), and the memory is usable. */
static void expect_policy(const char *when, char *mem, size_t bytes, int want,
                          int nid, const char *rule)
{
	const char *at[2] = { mem, mem + bytes - PAGE };
	for (int i = 0; i < 2; i++) {
		int node, mode = policy_at(at[i], &node);
		RULE(mode == want && (want != MPOL_PREFERRED || node == nid),
		     "%s: %s: the memory's policy is %s (node %d), expected %s "
		     "(node %d)",
		     when, rule, mode_name(mode), node, mode_name(want), nid);
	}
	memset(mem, 0x5a, bytes);
}

static bool host_has(int node)
{
	return node <= numa_max_node() &&
	       numa_bitmask_isbitset(numa_all_nodes_ptr, (unsigned)node);
}

static struct za *make(unsigned nodes, unsigned page_shift, unsigned max_order,
                       unsigned long bp)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = 2;
	cfg.nr_nodes = nodes;
	cfg.page_shift = page_shift;
	cfg.max_order = max_order;
	cfg.block_pages = bp;
	cfg.max_pfn = 4 * bp;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *za = za_create(&cfg);
	CHECK(za);
	return za;
}

static char *map(size_t bytes)
{
	char *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
	return m;
}

static void one_node(void)
{
	size_t bytes = BLOCK * PAGE;
	char *mem = map(bytes);
	struct za *za = make(1, 0, 8, BLOCK);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, BLOCK, mem), 0);
	expect_policy("one node, online", mem, bytes, MPOL_DEFAULT, -1,
	              "a one-node allocator leaves the policy of the client's "
	              "memory alone (its node names no host node)");
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	CHECK(p);
	memset(za_page_address(za, p), 1, PAGE);
	za_free_pages(za, p, 0);
	CHECK_EQ(za_memory_offline(za, 0, BLOCK), 0);
	expect_policy("one node, offline", mem, bytes, MPOL_DEFAULT, -1,
	              "offline leaves the client's memory as it came");
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, BLOCK, mem), 0);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	expect_policy("one node, destroy", mem, bytes, MPOL_DEFAULT, -1,
	              "za_destroy leaves the client's memory as it came");
	munmap(mem, bytes);
	printf("one node: default policy throughout\n");
}

static void two_nodes(void)
{
	size_t bytes = BLOCK * PAGE;
	char *m0 = map(bytes), *m1 = map(bytes);
	struct za *za = make(2, 0, 8, BLOCK);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, BLOCK, m0), 0);
	CHECK_EQ(za_memory_online(za, 1, ZA_ZONE_NORMAL, BLOCK, BLOCK, m1), 0);
	const char *rule = "with several nodes, a block's memory prefers the "
	                   "host node numbered as its node where the host has "
	                   "it (never a strict bind), and keeps its policy "
	                   "where the host has not";
	int want0 = host_has(0) ? MPOL_PREFERRED : MPOL_DEFAULT;
	int want1 = host_has(1) ? MPOL_PREFERRED : MPOL_DEFAULT;
	expect_policy("two nodes, node 0 online", m0, bytes, want0, 0, rule);
	expect_policy("two nodes, node 1 online", m1, bytes, want1, 1, rule);
	printf("two nodes: node 0's memory %s, node 1's %s (host nodes 0..%d)\n",
	       mode_name(want0), mode_name(want1), numa_max_node());
	CHECK_EQ(za_check(za, stderr), 0);
	CHECK_EQ(za_memory_offline(za, 0, BLOCK), 0);
	CHECK_EQ(za_memory_offline(za, BLOCK, BLOCK), 0);
	const char *back = "offline gives the memory the default policy back "
	                   "(it is the client's again)";
	expect_policy("two nodes, node 0 offline", m0, bytes, MPOL_DEFAULT, -1,
	              back);
	expect_policy("two nodes, node 1 offline", m1, bytes, MPOL_DEFAULT, -1,
	              back);
	/* Still online at za_destroy. */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, BLOCK, m0), 0);
	expect_policy("two nodes, node 0 online again", m0, bytes, want0, 0, rule);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	expect_policy("two nodes, destroy", m0, bytes, MPOL_DEFAULT, -1,
	              "za_destroy gives the memory still online the default "
	              "policy back");
	munmap(m0, bytes);
	munmap(m1, bytes);
}

/* 512-byte pages, blocks of 32 (16 KiB) starting mid OS page: the OS
 * page at either end is shared with memory the client did not online,
 * whose policy (interleave here, set by the client) must stay. */
static void shared_os_pages(void)
{
	if (!host_has(0))
		return;
	size_t bytes = 5 * PAGE;
	char *m = map(bytes);
	unsigned long all = 1;
	CHECK_EQ(mbind(m, bytes, MPOL_INTERLEAVE, &all, 8 * sizeof(all) + 1, 0),
	         0);
	struct za *za = make(2, 9, 5, 32);
	char *base = m + PAGE / 2; /* half, three whole, half OS pages */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 32, base), 0);
	int node;
	RULE(policy_at(m, &node) == MPOL_INTERLEAVE &&
	         policy_at(m + 4 * PAGE, &node) == MPOL_INTERLEAVE,
	     "online sets no policy on an OS page the block shares with memory "
	     "beside it");
	for (int i = 1; i <= 3; i++)
		RULE(policy_at(m + i * PAGE, &node) == MPOL_PREFERRED && node == 0,
		     "the OS pages wholly inside the block prefer its node (OS "
		     "page %d)",
		     i);
	CHECK_EQ(za_memory_offline(za, 0, 32), 0);
	RULE(policy_at(m, &node) == MPOL_INTERLEAVE &&
	         policy_at(m + 4 * PAGE, &node) == MPOL_INTERLEAVE,
	     "offline leaves the policy of an OS page shared with memory beside "
	     "the block");
	for (int i = 1; i <= 3; i++)
		RULE(policy_at(m + i * PAGE, &node) == MPOL_DEFAULT,
		     "offline gives the default policy back where online set one "
		     "(OS page %d)",
		     i);
	za_destroy(za);
	memset(m, 0, bytes);
	munmap(m, bytes);
	printf("shared OS pages: the neighbours' policy kept\n");
}

#endif /* ZA_HAVE_NUMA */

int main(void)
{
	tu_watchdog(60);
#if !ZA_HAVE_NUMA
	printf("built without libnuma: skipped\n");
	return 77;
#else
	if (numa_available() < 0) {
		printf("the kernel's NUMA calls are unavailable: skipped\n");
		return 77;
	}
	if (sysconf(_SC_PAGESIZE) != (long)PAGE) {
		printf("OS pages are not 4 KiB: skipped\n");
		return 77;
	}
	one_node();
	two_nodes();
	shared_os_pages();
	printf("numa policy: ok\n");
	return 0;
#endif
}
