/*
 * topo.c - the topology options shared by the subcommands (how many
 * nodes, how much memory each, which zones, how many CPUs, the page and
 * block sizes) and the code that turns them into a running allocator with
 * its memory online. The option-parsing and message helpers are in
 * options.c.
 *
 * The default layout is what an x86-64 kernel builds: on node 0 the first
 * 16 MiB is ZONE_DMA, the rest below 4 GiB ZONE_DMA32, anything above
 * ZONE_NORMAL; every other node is ZONE_NORMAL only. Node N starts at pfn
 * N * (its size), so the layout is also a valid physical address map.
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../examples/hugemem.h"

#include "tool.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

/* x86 zone boundaries, as byte addresses. */
#define DMA_LIMIT (16 * MiB)
#define DMA32_LIMIT (4 * GiB)

#define KERNEL_ZONES                                                          \
	(TOPO_ZONE_BIT(ZA_ZONE_DMA) | TOPO_ZONE_BIT(ZA_ZONE_DMA32) |              \
	 TOPO_ZONE_BIT(ZA_ZONE_NORMAL))

/* ---------------------------------------------------------------- */
/* Topology options                                                  */

static const char *const zone_names[ZA_NR_ZONES] = {
	[ZA_ZONE_DMA] = "DMA",
	[ZA_ZONE_DMA32] = "DMA32",
	[ZA_ZONE_NORMAL] = "Normal",
	[ZA_ZONE_MOVABLE] = "Movable",
};

const char *topo_zone_name(enum za_zone_type z)
{
	return (unsigned)z < ZA_NR_ZONES ? zone_names[z] : "?";
}

void topo_opts_init(struct topo_opts *o)
{
	unsigned n = tool_nproc();

	memset(o, 0, sizeof(*o));
	o->nodes = 1;
	o->mem = GiB;
	o->cpus = n > 4 ? n : 4;
	o->zones_mask = KERNEL_ZONES;
	o->block = 16 * MiB;
	o->page_shift = 12;
}

void topo_usage(FILE *f, const char *mem_default)
{
	fprintf(f,
	        "Topology options:\n"
	        "  --nodes N             NUMA nodes (default 1, at most %d)\n"
	        "  --mem SIZE            memory per node, K/M/G/T suffixes "
	        "(default %s)\n"
	        "  --cpus N              possible CPUs, simulated (default "
	        "max(4, nproc) = %u)\n"
	        "  --zones LIST          zones that exist, from dma,dma32,normal,"
	        "movable\n"
	        "                        (default dma,dma32,normal: node 0 has "
	        "DMA below 16 MiB,\n"
	        "                        DMA32 below 4 GiB, Normal above; other "
	        "nodes Normal)\n"
	        "  --movable SIZE        that much of each node's top in "
	        "ZONE_MOVABLE (default 0)\n"
	        "  --block SIZE          memory block (hotplug unit), a power of "
	        "two >= 4M\n"
	        "                        (default 16M, so the DMA zone fits)\n"
	        "  --page-shift N        page size 2^N bytes, 9..30 (default 12)\n"
	        "  --max-order N         largest block order (default 10, less "
	        "if a block is smaller)\n"
	        "  --frames-only         no backing memory: frame numbers only\n"
	        "                        (default: real memory, one mapping per "
	        "node)\n"
	        "  --hugepages           back it with huge pages: MAP_HUGETLB "
	        "when enough are\n"
	        "                        reserved, else transparent ones "
	        "(madvise); says which\n"
	        "  --min-free-kbytes N   reserve for the watermarks (default: "
	        "computed)\n"
	        "  --no-pcp              no per-CPU lists (ZA_CFG_NO_PCP)\n"
	        "  --no-kswapd           no background reclaim threads\n"
	        "  --page-owner          record who allocated and freed each "
	        "block\n"
	        "                        (ZA_CFG_PAGE_OWNER; misuse reports name "
	        "the sites)\n"
	        "  --poison              fill freed blocks with 0x%02x and check "
	        "them when\n"
	        "                        handed out again: a write after free is "
	        "reported\n"
	        "                        (ZA_CFG_POISON; needs backing memory)\n"
	        "  --init-on-alloc       zero every allocation "
	        "(ZA_CFG_INIT_ON_ALLOC; needs\n"
	        "                        backing memory)\n"
	        "  --sysctl NAME=VALUE   set a runtime tunable once the memory is "
	        "online, as\n"
	        "                        /proc/sys/vm/NAME would (repeatable): "
	        "min_free_kbytes,\n"
	        "                        watermark_scale_factor, "
	        "lowmem_reserve_ratio,\n"
	        "                        percpu_pagelist_high_fraction, "
	        "watermark_boost_factor,\n"
	        "                        compaction_proactiveness, "
	        "extfrag_threshold\n",
	        ZA_MAX_NODES, mem_default, tool_nproc() > 4 ? tool_nproc() : 4u,
	        ZA_POISON_BYTE);
}

static int parse_zones(const char *cmd, const char *s, unsigned *mask)
{
	char buf[256], *tok, *save = NULL;
	unsigned m = 0;

	if (strlen(s) >= sizeof(buf))
		return tool_usage_err(cmd, "--zones list too long"), -1;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcasecmp(tok, "dma"))
			m |= TOPO_ZONE_BIT(ZA_ZONE_DMA);
		else if (!strcasecmp(tok, "dma32"))
			m |= TOPO_ZONE_BIT(ZA_ZONE_DMA32);
		else if (!strcasecmp(tok, "normal"))
			m |= TOPO_ZONE_BIT(ZA_ZONE_NORMAL);
		else if (!strcasecmp(tok, "movable"))
			m |= TOPO_ZONE_BIT(ZA_ZONE_MOVABLE);
		else if (!strcasecmp(tok, "x86") || !strcasecmp(tok, "default"))
			m |= KERNEL_ZONES;
		else {
			tool_usage_err(cmd,
			               "unknown zone '%s' in --zones (expected dma, "
			               "dma32, normal, movable)",
			               tok);
			return -1;
		}
	}
	if (!m) {
		tool_usage_err(cmd, "--zones needs at least one zone");
		return -1;
	}
	*mask = m;
	return 0;
}

struct za *topo_scratch_za(void)
{
	struct za_config c;

	memset(&c, 0, sizeof(c));
	c.nr_cpus = 1;
	c.block_pages = 1024;
	c.max_pfn = 1024;
	c.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	return za_create(&c);
}

/* Checks NAME=VALUE with the library's own rules, on a tiny allocator
 * made for the purpose, so a mistake is a usage error before anything
 * runs. 0, or -1 with the problem printed. */
static int check_sysctl(const char *cmd, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char name[64];
	struct za *za;
	int err;

	if (!eq || eq == arg) {
		tool_usage_err(cmd, "--sysctl '%s': expected NAME=VALUE", arg);
		return -1;
	}
	if ((size_t)(eq - arg) >= sizeof(name)) {
		tool_usage_err(cmd, "--sysctl '%s': unknown tunable", arg);
		return -1;
	}
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	za = topo_scratch_za();
	if (!za) {
		tool_err(cmd, "cannot check --sysctl %s: za_create failed: %s", arg,
		         strerror(errno));
		return -1;
	}
	err = za_sysctl_set(za, name, eq + 1);
	za_destroy(za);
	if (err == -ENOENT) {
		char known[512];
		size_t k = 0;
		unsigned n;
		for (n = 0; za_sysctl_name(n) && k < sizeof(known); n++)
			k += (size_t)snprintf(known + k, sizeof(known) - k, "%s%s",
			                      n ? ", " : "", za_sysctl_name(n));
		tool_usage_err(cmd, "--sysctl %s: unknown tunable '%s' (known: %s)",
		               arg, name, known);
		return -1;
	}
	if (err == -ERANGE) {
		tool_usage_err(cmd, "--sysctl %s: value out of range for %s", arg,
		               name);
		return -1;
	}
	if (err) {
		tool_usage_err(cmd,
		               "--sysctl %s: '%s' is not a valid value for %s "
		               "(decimal integers%s)",
		               arg, eq + 1, name,
		               strcmp(name, "lowmem_reserve_ratio") == 0
		                   ? ", up to one per zone"
		                   : "");
		return -1;
	}
	return 0;
}

int topo_parse(struct topo_opts *o, const char *cmd, int argc, char **argv,
               int *i)
{
	const char *v;
	int r;

#define VALUE(name) ((r = opt_value(cmd, argc, argv, i, name, &v)) != 0)
	if (VALUE("--nodes")) {
		if (r < 0)
			return -1;
		return parse_uint(cmd, "--nodes", v, 1, ZA_MAX_NODES, &o->nodes) ? -1
		                                                                 : 1;
	}
	if (VALUE("--mem")) {
		if (r < 0 || parse_size(cmd, "--mem", v, &o->mem))
			return -1;
		return 1;
	}
	if (VALUE("--cpus")) {
		if (r < 0)
			return -1;
		return parse_uint(cmd, "--cpus", v, 1, ZA_MAX_CPUS, &o->cpus) ? -1 : 1;
	}
	if (VALUE("--zones")) {
		if (r < 0 || parse_zones(cmd, v, &o->zones_mask))
			return -1;
		o->zones_given = 1;
		return 1;
	}
	if (VALUE("--movable")) {
		if (r < 0 || parse_size(cmd, "--movable", v, &o->movable))
			return -1;
		o->movable_given = 1;
		return 1;
	}
	if (VALUE("--block")) {
		if (r < 0 || parse_size(cmd, "--block", v, &o->block))
			return -1;
		return 1;
	}
	if (VALUE("--page-shift")) {
		if (r < 0)
			return -1;
		return parse_uint(cmd, "--page-shift", v, 9, 30, &o->page_shift) ? -1
		                                                                 : 1;
	}
	if (VALUE("--max-order")) {
		if (r < 0)
			return -1;
		return parse_uint(cmd, "--max-order", v, 1, ZA_MAX_ORDER_LIMIT,
		                  &o->max_order)
		           ? -1
		           : 1;
	}
	/* The range of the min_free_kbytes tunable (za_sysctl_set, the
	 * kernel's int): what --sysctl min_free_kbytes= takes, so that a
	 * value the tool starts with reads back as one it would accept
	 * (review 20's observation 1: 2147483648 printed, then refused). */
	if (VALUE("--min-free-kbytes")) {
		unsigned long long k;
		if (r < 0 || parse_ull(cmd, "--min-free-kbytes", v, 1, INT_MAX, &k))
			return -1;
		o->min_free_kbytes = (unsigned long)k;
		return 1;
	}
	if (VALUE("--sysctl")) {
		if (r < 0 || check_sysctl(cmd, v))
			return -1;
		if (o->nr_sysctl == TOPO_MAX_SYSCTL) {
			tool_usage_err(cmd, "more than %d --sysctl options",
			               TOPO_MAX_SYSCTL);
			return -1;
		}
		o->sysctl[o->nr_sysctl++] = v;
		return 1;
	}
#undef VALUE
	if ((r = opt_flag(cmd, argv, *i, "--frames-only")) != 0) {
		o->frames_only = 1;
		return r;
	}
	if ((r = opt_flag(cmd, argv, *i, "--hugepages")) != 0) {
		o->hugepages = 1;
		return r;
	}
	if ((r = opt_flag(cmd, argv, *i, "--no-pcp")) != 0) {
		o->cfg_flags |= ZA_CFG_NO_PCP;
		return r;
	}
	if ((r = opt_flag(cmd, argv, *i, "--no-kswapd")) != 0) {
		o->cfg_flags |= ZA_CFG_NO_KSWAPD;
		return r;
	}
	/* The debugging aids (docs/DEBUGGING.md). */
	if ((r = opt_flag(cmd, argv, *i, "--page-owner")) != 0) {
		o->cfg_flags |= ZA_CFG_PAGE_OWNER;
		return r;
	}
	if ((r = opt_flag(cmd, argv, *i, "--poison")) != 0) {
		o->cfg_flags |= ZA_CFG_POISON;
		return r;
	}
	if ((r = opt_flag(cmd, argv, *i, "--init-on-alloc")) != 0) {
		o->cfg_flags |= ZA_CFG_INIT_ON_ALLOC;
		return r;
	}
	return 0;
}

static int is_pow2(unsigned long long v)
{
	return v && !(v & (v - 1));
}

static unsigned log2_ull(unsigned long long v)
{
	unsigned n = 0;
	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

/* The zone an x86 kernel would put pfn in, before --zones narrows the
 * choice: by address on node 0, Normal elsewhere. */
static enum za_zone_type natural_zone(const struct topo *t, int nid,
                                      unsigned long pfn)
{
	/* Compare page numbers, not addresses: with pages larger than
	 * 16 MiB the DMA range holds no whole page and must be empty. */
	if (nid != 0)
		return ZA_ZONE_NORMAL;
	if (pfn < (unsigned long)(DMA_LIMIT >> t->o.page_shift))
		return ZA_ZONE_DMA;
	if (pfn < (unsigned long)(DMA32_LIMIT >> t->o.page_shift))
		return ZA_ZONE_DMA32;
	return ZA_ZONE_NORMAL;
}

/* Among the kernel zones in mask, the one that takes memory whose natural
 * zone is z: z itself, else the next listed zone above, else the highest
 * listed below (a kernel without CONFIG_ZONE_DMA puts that memory in
 * DMA32; one without DMA32 puts it in Normal). */
static enum za_zone_type pick_zone(unsigned mask, enum za_zone_type z)
{
	int k;

	for (k = (int)z; k <= ZA_ZONE_NORMAL; k++)
		if (mask & TOPO_ZONE_BIT(k))
			return (enum za_zone_type)k;
	for (k = (int)z - 1; k >= 0; k--)
		if (mask & TOPO_ZONE_BIT(k))
			return (enum za_zone_type)k;
	return ZA_ZONE_NORMAL;
}

static int add_range(struct topo *t, int nid, enum za_zone_type z,
                     unsigned long start, unsigned long nr)
{
	struct topo_range *r;

	if (!nr)
		return 0;
	if (t->nr_ranges) {
		r = &t->range[t->nr_ranges - 1];
		if (r->nid == nid && r->zone == z &&
		    r->start_pfn + r->nr_pages == start) {
			r->nr_pages += nr;
			return 0;
		}
	}
	if (t->nr_ranges >= TOPO_MAX_RANGES)
		return -1;
	r = &t->range[t->nr_ranges++];
	r->nid = nid;
	r->zone = z;
	r->start_pfn = start;
	r->nr_pages = nr;
	return 0;
}

int topo_plan(struct topo *t, const struct topo_opts *opts, const char *cmd)
{
	struct topo_opts *o = &t->o;
	unsigned long long page, movable;
	unsigned long movable_pages, dma_end, dma32_end;
	unsigned kmask;
	char b1[32], b2[32];
	unsigned nid;

	memset(t, 0, sizeof(*t));
	*o = *opts;
	page = 1ull << o->page_shift;
	t->page_size = (size_t)page;
	if (o->hugepages && o->frames_only)
		return tool_usage_err(cmd, "--hugepages needs backing memory: not "
		                           "with --frames-only"),
		       -1;
	/* The library refuses poisoning on frame-only memory (its
	 * za_memory_online is -EINVAL there); zeroing frames that have no
	 * memory does nothing at all. Say so before anything is built. */
	if ((o->cfg_flags & ZA_CFG_POISON) && o->frames_only)
		return tool_usage_err(cmd,
		                      "--poison fills freed pages with a "
		                      "pattern and needs backing memory: not with "
		                      "--frames-only (there is nothing to poison)"),
		       -1;
	if ((o->cfg_flags & ZA_CFG_INIT_ON_ALLOC) && o->frames_only)
		return tool_usage_err(cmd,
		                      "--init-on-alloc zeroes the memory of "
		                      "each allocation and needs backing memory: "
		                      "not with --frames-only (there is nothing to "
		                      "zero)"),
		       -1;

	if (!is_pow2(o->block) || o->block < 4 * MiB)
		return tool_usage_err(cmd,
		                      "--block %s: must be a power of two of at "
		                      "least 4 MiB",
		                      fmt_size(o->block, b1, sizeof(b1))),
		       -1;
	if (o->block < page)
		return tool_usage_err(cmd,
		                      "--block %s is smaller than a page (%s, "
		                      "--page-shift %u)",
		                      fmt_size(o->block, b1, sizeof(b1)),
		                      fmt_size(page, b2, sizeof(b2)), o->page_shift),
		       -1;
	/* The library's smallest max-order block is 2 pages (max_order 1):
	 * a memory block holds at least that. */
	if (o->block < 2 * page)
		return tool_usage_err(cmd,
		                      "--block %s holds a single page of %s "
		                      "(--page-shift %u): a memory block needs at "
		                      "least 2 pages",
		                      fmt_size(o->block, b1, sizeof(b1)),
		                      fmt_size(page, b2, sizeof(b2)), o->page_shift),
		       -1;
	if (o->mem == 0 || o->mem % o->block)
		return tool_usage_err(cmd,
		                      "--mem %s is not a multiple of the memory "
		                      "block size %s (see --block)",
		                      fmt_size(o->mem, b1, sizeof(b1)),
		                      fmt_size(o->block, b2, sizeof(b2))),
		       -1;

	t->block_pages = (unsigned long)(o->block >> o->page_shift);
	t->node_pages = (unsigned long)(o->mem >> o->page_shift);
	/* mem is a multiple of the block, so the stride needs no rounding;
	 * were that rule relaxed, nodes would still start block-aligned. */
	t->node_stride = (t->node_pages + t->block_pages - 1) / t->block_pages *
	                 t->block_pages;
	if ((unsigned long long)t->node_stride * o->nodes >
	    0xffffffffull - t->block_pages)
		return tool_usage_err(cmd,
		                      "topology too large: %u nodes x %s is more "
		                      "than 2^32-1 page frames",
		                      o->nodes, fmt_size(o->mem, b1, sizeof(b1))),
		       -1;
	t->max_pfn = t->node_stride * o->nodes;

	if (!o->max_order && t->block_pages < 1024)
		o->max_order = log2_ull(t->block_pages);
	if (o->max_order && (1ull << o->max_order) > t->block_pages)
		return tool_usage_err(cmd,
		                      "--max-order %u: a block of 2^%u pages does "
		                      "not fit in a memory block of %lu pages",
		                      o->max_order, o->max_order, t->block_pages),
		       -1;

	/* ZONE_MOVABLE: --movable, or a quarter of each node when only
	 * --zones asks for it. */
	movable = o->movable;
	if (movable)
		o->zones_mask |= TOPO_ZONE_BIT(ZA_ZONE_MOVABLE);
	kmask = o->zones_mask & KERNEL_ZONES;
	if ((o->zones_mask & TOPO_ZONE_BIT(ZA_ZONE_MOVABLE)) && !movable) {
		if (!kmask)
			movable = o->mem;
		else
			movable = o->mem / 4 / o->block * o->block;
		if (!movable)
			movable = o->block;
	}
	if (movable % o->block)
		return tool_usage_err(cmd,
		                      "--movable %s is not a multiple of the memory "
		                      "block size %s",
		                      fmt_size(movable, b1, sizeof(b1)),
		                      fmt_size(o->block, b2, sizeof(b2))),
		       -1;
	if (movable > o->mem)
		return tool_usage_err(cmd, "--movable %s is more than --mem %s",
		                      fmt_size(movable, b1, sizeof(b1)),
		                      fmt_size(o->mem, b2, sizeof(b2))),
		       -1;
	if (!kmask && movable < o->mem)
		return tool_usage_err(cmd,
		                      "--zones lists no zone for the memory below "
		                      "ZONE_MOVABLE"),
		       -1;
	o->movable = movable;
	movable_pages = (unsigned long)(movable >> o->page_shift);

	/* The DMA and DMA32 limits become zone boundaries on node 0 only if
	 * they fall on a block boundary: memory goes online by blocks. The
	 * default layout quietly folds a DMA zone that cannot exist into
	 * DMA32; a layout the user asked for is an error instead. */
	dma_end = (unsigned long)(DMA_LIMIT >> o->page_shift);
	dma32_end = (unsigned long)(DMA32_LIMIT >> o->page_shift);
	if ((kmask & TOPO_ZONE_BIT(ZA_ZONE_DMA)) &&
	    (kmask & ~TOPO_ZONE_BIT(ZA_ZONE_DMA)) &&
	    (dma_end == 0 || dma_end % t->block_pages) &&
	    dma_end < t->node_pages - movable_pages) {
		if (o->zones_given)
			return tool_usage_err(cmd,
			                      "the DMA zone (first 16 MiB) is not a "
			                      "whole number of %s memory blocks; use a "
			                      "smaller --block or leave dma out of --zones",
			                      fmt_size(o->block, b1, sizeof(b1))),
			       -1;
		kmask &= ~TOPO_ZONE_BIT(ZA_ZONE_DMA);
	}
	if ((kmask & TOPO_ZONE_BIT(ZA_ZONE_NORMAL)) &&
	    (kmask & ~TOPO_ZONE_BIT(ZA_ZONE_NORMAL)) &&
	    dma32_end % t->block_pages &&
	    dma32_end < t->node_pages - movable_pages)
		return tool_usage_err(cmd,
		                      "the 4 GiB DMA32 limit is not a multiple of "
		                      "--block %s",
		                      fmt_size(o->block, b1, sizeof(b1))),
		       -1;
	o->zones_mask = kmask | (movable ? TOPO_ZONE_BIT(ZA_ZONE_MOVABLE) : 0);

	for (nid = 0; nid < o->nodes; nid++) {
		unsigned long start = nid * t->node_stride;
		unsigned long kend = start + t->node_pages - movable_pages;
		unsigned long pfn = start;

		while (pfn < kend) {
			enum za_zone_type nat = natural_zone(t, (int)nid, pfn);
			unsigned long end = kend;

			if (nid == 0 && nat == ZA_ZONE_DMA && dma_end < end)
				end = dma_end;
			else if (nid == 0 && nat == ZA_ZONE_DMA32 && dma32_end < end)
				end = dma32_end;
			if (add_range(t, (int)nid, pick_zone(kmask, nat), pfn, end - pfn))
				goto too_many;
			pfn = end;
		}
		if (add_range(t, (int)nid, ZA_ZONE_MOVABLE, kend, movable_pages))
			goto too_many;
	}
	return 0;
too_many:
	tool_err(cmd, "internal error: too many zone ranges");
	return -1;
}

/* ---------------------------------------------------------------- */
/* Building                                                          */

/* Anonymous memory for one node, aligned to the page size (up to 1 GiB)
 * so that large simulated pages map onto large real ones where the
 * kernel offers them. MAP_NORESERVE: only what is touched is committed,
 * so a large --mem costs little until the allocator hands it out. */
static void *map_node(size_t len, size_t align)
{
	size_t extra = align > 4096 ? align : 0;
	char *p, *a;

	p = mmap(NULL, len + extra, PROT_READ | PROT_WRITE,
	         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (!extra)
		return p;
	a = (char *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (a + len < p + len + extra)
		munmap(a + len, (size_t)(p + len + extra - (a + len)));
	return a;
}

void *topo_pfn_address(const struct topo *t, int nid, unsigned long pfn)
{
	char *b;

	if (nid < 0 || (unsigned)nid >= t->o.nodes || !t->base[nid])
		return NULL;
	b = t->base[nid];
	return b +
	       ((pfn - (unsigned long)nid * t->node_stride) << t->o.page_shift);
}

void topo_destroy(struct topo *t)
{
	unsigned nid;
	size_t len = (size_t)t->node_pages << t->o.page_shift;

	if (t->za)
		za_destroy(t->za);
	t->za = NULL;
	for (nid = 0; nid < t->o.nodes && nid < ZA_MAX_NODES; nid++) {
		if (t->huge[nid].map)
			munmap(t->huge[nid].map, t->huge[nid].map_len);
		else if (t->base[nid])
			munmap(t->base[nid], len);
		t->base[nid] = t->huge[nid].map = NULL;
	}
}

int topo_build(struct topo *t, const struct za_config *cfg, const char *cmd)
{
	struct za_config c;
	size_t len = (size_t)t->node_pages << t->o.page_shift;
	size_t align = t->page_size < GiB ? t->page_size : GiB;
	unsigned nid, k;
	char b1[32];

	if (cfg)
		c = *cfg;
	else
		memset(&c, 0, sizeof(c));
	c.page_shift = t->o.page_shift;
	c.nr_cpus = t->o.cpus;
	c.nr_nodes = t->o.nodes;
	if (t->o.min_free_kbytes)
		c.min_free_kbytes = t->o.min_free_kbytes;
	c.max_order = t->o.max_order;
	c.block_pages = t->block_pages;
	c.max_pfn = t->max_pfn;
	c.flags |= t->o.cfg_flags;
	simcpu_init(t->o.cpus);
	if (!c.cpu_id) {
		c.cpu_id = simcpu_cpu_id;
		c.cpu_ctx = NULL;
	}

	if (!t->o.frames_only) {
		for (nid = 0; nid < t->o.nodes; nid++) {
			if (t->o.hugepages) {
				/* Aligned to the huge page size: every block of that
				 * size or larger covers whole huge pages. */
				struct hugemem m;
				if (!hugemem_map(&m, len, 1)) {
					char *line = NULL;
					size_t n = 0;
					FILE *f = open_memstream(&line, &n);
					if (f) {
						hugemem_describe(&m, f);
						fclose(f);
						snprintf(t->huge[nid].desc, sizeof(t->huge[nid].desc),
						         "%s", line);
						free(line);
					}
					t->base[nid] = m.base;
					t->huge[nid].map = m.map;
					t->huge[nid].map_len = m.map_len;
					t->huge[nid].kind = (int)m.kind;
				}
			} else {
				t->base[nid] = map_node(len, align);
			}
			if (!t->base[nid]) {
				tool_err(cmd, "cannot map %s for node %u: %s",
				         fmt_size(len, b1, sizeof(b1)), nid, strerror(errno));
				topo_destroy(t);
				return -1;
			}
		}
	}

	t->za = za_create(&c);
	if (!t->za) {
		int e = errno;
		tool_err(cmd,
		         "za_create failed: %s (page shift %u, %u CPUs, %u nodes, "
		         "block %lu pages, max order %u, max pfn %lu)",
		         strerror(e), c.page_shift, c.nr_cpus, c.nr_nodes,
		         c.block_pages, c.max_order, c.max_pfn);
		topo_destroy(t);
		return -1;
	}

	for (k = 0; k < t->nr_ranges; k++) {
		const struct topo_range *r = &t->range[k];
		void *base = topo_pfn_address(t, r->nid, r->start_pfn);
		int err = za_memory_online(t->za, r->nid, r->zone, r->start_pfn,
		                           r->nr_pages, base);
		if (err) {
			tool_err(cmd,
			         "za_memory_online(node %d, %s, pfn %#lx, %lu pages) "
			         "failed: %s",
			         r->nid, topo_zone_name(r->zone), r->start_pfn,
			         r->nr_pages, strerror(-err));
			topo_destroy(t);
			return -1;
		}
	}
	for (k = 0; k < t->o.nr_sysctl; k++) {
		const char *arg = t->o.sysctl[k], *eq = strchr(arg, '=');
		char name[64];
		int err;

		snprintf(name, sizeof(name), "%.*s", (int)(eq - arg), arg);
		err = za_sysctl_set(t->za, name, eq + 1);
		if (err) {
			tool_err(cmd, "--sysctl %s: za_sysctl_set failed: %s", arg,
			         strerror(-err));
			topo_destroy(t);
			return -1;
		}
	}
	return 0;
}

/* Which huge pages --hugepages got: a "# backing:" line (node 0 speaks
 * for all unless they differ). Nothing without --hugepages. */
void topo_describe_backing(const struct topo *t, FILE *f)
{
	unsigned k;

	for (k = 0; t->o.hugepages && k < t->o.nodes && k < ZA_MAX_NODES; k++)
		if (k == 0 || strcmp(t->huge[k].desc, t->huge[0].desc))
			fprintf(f, "%s", t->huge[k].desc);
}

const char *topo_backing_name(const struct topo *t)
{
	if (!t->o.hugepages || t->o.frames_only)
		return "off";
	switch (t->huge[0].kind) {
	case HUGEMEM_HUGETLB:
		return "hugetlb";
	case HUGEMEM_THP:
		return "thp";
	default:
		return "base"; /* asked for, none came */
	}
}

void topo_describe(const struct topo *t, FILE *f)
{
	char b1[32], b2[32], b3[32];
	unsigned k;

	fprintf(f,
	        "# %u node%s x %s, %u CPUs, %s pages, %s blocks, max order %u, "
	        "%s memory\n",
	        t->o.nodes, t->o.nodes == 1 ? "" : "s",
	        fmt_size(t->o.mem, b1, sizeof(b1)), t->o.cpus,
	        fmt_size(t->page_size, b2, sizeof(b2)),
	        fmt_size(t->o.block, b3, sizeof(b3)),
	        t->za ? za_max_order(t->za) : t->o.max_order,
	        t->o.frames_only ? "frames-only" : "backed");
	topo_describe_backing(t, f);
	if (t->o.cfg_flags &
	    (ZA_CFG_PAGE_OWNER | ZA_CFG_POISON | ZA_CFG_INIT_ON_ALLOC)) {
		unsigned fl = t->o.cfg_flags;
		/* Page owner as the allocator has it (its summary is -ENOENT
		 * when the flag did not reach za_create). */
		int owner = t->za ? za_page_owner_summary(t->za, NULL, 0) >= 0
		                  : (fl & ZA_CFG_PAGE_OWNER) != 0;
		const char *sep = "";
		fprintf(f, "# debugging aids: ");
		if (owner) {
			fprintf(f, "page owner");
			sep = ", ";
		}
		if (fl & ZA_CFG_POISON) {
			fprintf(f, "%spoisoning (0x%02x)", sep, ZA_POISON_BYTE);
			sep = ", ";
		}
		if (fl & ZA_CFG_INIT_ON_ALLOC)
			fprintf(f, "%sinit-on-alloc", sep);
		fputc('\n', f);
	}
	if (t->za) {
		const char *why = za_pcp_mode_reason(t->za);
		fprintf(f, "# per-CPU page sets: %s%s%s\n",
		        *why ? "locked (" : "restartable", why, *why ? ")" : "");
	}
	for (k = 0; k < t->nr_ranges; k++) {
		const struct topo_range *r = &t->range[k];
		fprintf(f, "# node %d %-8s pfn 0x%08lx-0x%08lx  %s\n", r->nid,
		        topo_zone_name(r->zone), r->start_pfn,
		        r->start_pfn + r->nr_pages - 1,
		        fmt_size((unsigned long long)r->nr_pages << t->o.page_shift,
		                 b1, sizeof(b1)));
	}
}
