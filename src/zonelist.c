/*
 * zonelist.c - the order in which an allocation tries zones.
 *
 * Each node has two zonelists: [0] its own zones from the highest down,
 * then every other node's the same way, nearest first (ties by node
 * number); [1] its own zones only (THISNODE). An allocation skips zones
 * above what its gfp allows. Only populated zones are listed.
 *
 * Zonelists are rewritten in place when a zone gains its first pages or
 * loses its last, without stopping anybody (seed 002). A reader racing the
 * rewrite may see a zone twice or miss one; every zone pointer stays valid
 * for the allocator's life, so that is harmless, and the sequence count
 * tells a failed allocation to look again before it gives up.
 */
#include "internal.h"

static void write_list(struct za *za, struct za_zoneref *zl, const int *nodes,
                       unsigned nr_nodes)
{
	unsigned i = 0;
	for (unsigned k = 0; k < nr_nodes; k++) {
		struct za_node *node = &za->nodes[nodes[k]];
		for (int t = ZA_NR_ZONES - 1; t >= 0; t--) {
			struct za_zone *z = &node->zones[t];
			if (zone_populated(z))
				za_store_relaxed(&zl[i++].zone, z);
		}
	}
	/* Terminate, then clear what an older, longer list left behind. */
	unsigned cap = za->nr_nodes * ZA_NR_ZONES + 1;
	for (unsigned j = i; j < cap; j++)
		za_store_relaxed(&zl[j].zone, NULL);
}

/* za.rseq_pcp's row of CPU c, from its row of cpu_pcp. */
void write_rseq_pcp(struct za *za, unsigned c)
{
	for (unsigned bits = 0; bits < 16; bits++) {
		unsigned cls = gfp_class((za_gfp_t)bits);
		unsigned hz = cls & 0xf, mt = cls >> 4;
		struct za_pcp *pcp = NULL;
		if (cls != GFP_CLASS_BAD)
			pcp = za->cpu_pcp[c * ZA_CPU_PCP_STRIDE + hz];
		uintptr_t e = (uintptr_t)za->dead_pcp; /* no tag: refused */
		if (pcp && pcp->numa_local)
			e = (uintptr_t)pcp | mt | ZONE_FAST_OK_BIT(hz);
		za_store_relaxed(&za->rseq_pcp[c * 16 + bits], e);
	}
}

/* The fast path's page set for each CPU and highest zone type: the CPU's
 * set of the first zone of its node's zonelist [0] that the type allows
 * (za->cpu_pcp). */
static void write_cpu_zones(struct za *za)
{
	for (unsigned c = 0; c < za->nr_cpus; c++) {
		const struct za_zoneref *zl = za->nodes[za->cpu_node[c]].zonelist[0];
		for (int hz = 0; hz < ZA_NR_ZONES; hz++) {
			struct za_pcp *pcp = NULL;
			for (const struct za_zoneref *r = zl; r->zone; r++) {
				if ((int)r->zone->type <= hz) {
					pcp = zone_pcp(r->zone, (int)c);
					break;
				}
			}
			za_store_relaxed(&za->cpu_pcp[c * ZA_CPU_PCP_STRIDE + hz], pcp);
		}
		if (za->rseq_pcp)
			write_rseq_pcp(za, c);
	}
}

/* Caller holds mem_hotplug_lock (the only writer). */
void build_all_zonelists(struct za *za)
{
	mem_hotplug_assert_held(za);
	int order[ZA_MAX_NODES];
	ZA_ASSERT(!(za->zonelist_seq & 1));
	/* Odd while the lists change; an RMW so later stores stay after it. */
	za_add_acqrel(&za->zonelist_seq, 1);
	ZA_YIELD_POINT(za);
	for (unsigned n = 0; n < za->nr_nodes; n++) {
		/* Nodes by distance from n; n itself first. */
		unsigned cnt = 0;
		order[cnt++] = (int)n;
		bool used[ZA_MAX_NODES] = { false };
		used[n] = true;
		while (cnt < za->nr_nodes) {
			int best = -1;
			for (unsigned m = 0; m < za->nr_nodes; m++) {
				if (used[m])
					continue;
				if (best < 0 || za->node_distance[n * za->nr_nodes + m] <
				                    za->node_distance[n * za->nr_nodes + best])
					best = (int)m;
			}
			used[best] = true;
			order[cnt++] = best;
		}
		write_list(za, za->nodes[n].zonelist[0], order, za->nr_nodes);
		ZA_YIELD_POINT(za);
		write_list(za, za->nodes[n].zonelist[1], order, 1);
	}
	write_cpu_zones(za);
	za_add_acqrel(&za->zonelist_seq, 1);
}
