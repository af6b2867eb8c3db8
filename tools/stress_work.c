/*
 * stress_work.c - the client side of `zonealloc stress`: worker threads
 * that allocate and free pages the way a busy program does, and check
 * everything the allocator hands them.
 *
 * Each worker runs on a simulated CPU that changes now and then, keeps a
 * bounded working set of blocks in its box, and frees about a third of
 * what it lets go on another worker's thread (through that worker's
 * inbox), so pages are freed on CPUs other than the one that allocated
 * them. Every block is filled with a pattern derived from (pfn, seed)
 * when it arrives and verified before it is freed; ZA_GFP_ZERO blocks are
 * checked to be zero first. The in-use map catches a page handed out
 * twice, and the zone of every block is checked against its gfp.
 *
 * The migrate callback (memory offline) finds a block through the owner
 * map, copies it under the box's lock and repoints the slot: the worker
 * only touches a block's memory while the block is in no box, so the two
 * never race; a block on its way to za_free_pages is in no box and
 * migrate answers -ENOENT for it, as the API asks.
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "stress.h"

#define PATTERN_STEP 0x9e3779b97f4a7c15ull
#define INBOX_CAP 1024u
#define BULK_MAX 32u

/* ---------------------------------------------------------------- */
/* Fill and verify                                                   */

static uint64_t page_seed(const struct stress *st, unsigned long pfn)
{
	return mix64(st->seed * 0x100000001b3ull ^ (uint64_t)pfn);
}

/* Which words of each page carry the pattern: all of them for small
 * blocks (or with --verify full); for large blocks the first and last
 * cache line of every page, which still catches a page handed out twice,
 * a bad migration copy and an overlap, at a fraction of the memory
 * traffic (a 2 MiB block would otherwise dominate the run). */
static void pattern_span(const struct stress *st, unsigned order, size_t *head,
                         size_t *tail)
{
	size_t words = st->page_size / sizeof(uint64_t);

	if (st->o->verify == VERIFY_FULL ||
	    (st->o->verify == VERIFY_AUTO && order <= 3) || words <= 16) {
		*head = words;
		*tail = 0;
	} else {
		*head = 8;
		*tail = 8;
	}
}

static void fill_block(const struct stress *st, void *addr, unsigned long key,
                       unsigned order)
{
	size_t words = st->page_size / sizeof(uint64_t), head, tail;
	uint64_t *p = addr;
	unsigned long i;

	if (st->o->verify == VERIFY_OFF)
		return;
	pattern_span(st, order, &head, &tail);
	for (i = 0; i < (1ul << order); i++) {
		uint64_t base = page_seed(st, key + i), v = base;
		size_t j;
		for (j = 0; j < head; j++) {
			p[j] = v;
			v += PATTERN_STEP;
		}
		for (j = words - tail; j < words; j++)
			p[j] = base + j * PATTERN_STEP;
		p += words;
	}
}

static void verify_failed(struct stress *st, const struct slot *s,
                          const char *when, unsigned long i, size_t j,
                          uint64_t want, uint64_t got)
{
	G_ADD(st, verify_errors, 1);
	st_fail(st,
	        "verify error %s: pfn %#lx (block %#lx order %u, allocated at "
	        "%#lx) word %zu: expected %#llx, found %#llx",
	        when, s->pfn + i, s->pfn, s->order, s->key, j,
	        (unsigned long long)want, (unsigned long long)got);
}

/* 0 when the block holds its pattern; else describes the first bad word. */
static int verify_block(struct stress *st, const void *addr,
                        const struct slot *s, const char *when)
{
	size_t words = st->page_size / sizeof(uint64_t), head, tail;
	const uint64_t *p = addr;
	unsigned long i;

	if (st->o->verify == VERIFY_OFF)
		return 0;
	pattern_span(st, s->order, &head, &tail);
	for (i = 0; i < (1ul << s->order); i++) {
		uint64_t base = page_seed(st, s->key + i), v = base;
		size_t j;
		for (j = 0; j < head; j++) {
			if (p[j] != v) {
				verify_failed(st, s, when, i, j, v, p[j]);
				return -1;
			}
			v += PATTERN_STEP;
		}
		for (j = words - tail; j < words; j++) {
			v = base + j * PATTERN_STEP;
			if (p[j] != v) {
				verify_failed(st, s, when, i, j, v, p[j]);
				return -1;
			}
		}
		p += words;
	}
	return 0;
}

static int check_zero(struct stress *st, const void *addr,
                      const struct slot *s)
{
	size_t words = (st->page_size << s->order) / sizeof(uint64_t);
	const uint64_t *p = addr;
	size_t j;

	for (j = 0; j < words; j++) {
		if (p[j]) {
			G_ADD(st, zero_errors, 1);
			st_fail(st,
			        "%s block %#lx order %u is not zero: word %zu "
			        "(pfn %#lx) is %#llx",
			        s->zeroed ? "ZA_GFP_ZERO" : "init-on-alloc", s->pfn,
			        s->order, j, s->pfn + j * sizeof(uint64_t) / st->page_size,
			        (unsigned long long)p[j]);
			return -1;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* Tracking                                                          */

/* Marks the block in use. -1 when it cannot be tracked (outside the
 * topology or misaligned: the allocator is broken; do not touch it). */
static int track_alloc(struct stress *st, const struct slot *s,
                       const char *how)
{
	unsigned long n = 1ul << s->order, i;
	int dup = 0;

	if (s->pfn + n > st->map_pfns || s->pfn + n < s->pfn) {
		st_fail(st, "%s returned pfn %#lx order %u, outside the topology", how,
		        s->pfn, s->order);
		return -1;
	}
	if (s->pfn & (n - 1)) {
		st_fail(st, "%s returned pfn %#lx, not aligned to order %u", how,
		        s->pfn, s->order);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (__atomic_exchange_n(&st->inuse[s->pfn + i], 1, __ATOMIC_ACQ_REL) &&
		    !dup) {
			dup = 1;
			G_ADD(st, double_allocs, 1);
			st_fail(st,
			        "%s handed out pfn %#lx (block %#lx order %u) while "
			        "the client still holds it",
			        how, s->pfn + i, s->pfn, s->order);
		}
	return 0;
}

static void track_free(struct stress *st, unsigned long pfn, unsigned order)
{
	unsigned long i;

	for (i = 0; i < (1ul << order); i++)
		__atomic_store_n(&st->inuse[pfn + i], 0, __ATOMIC_RELEASE);
}

unsigned long work_owned_in(struct stress *st, unsigned long pfn,
                            unsigned long nr)
{
	unsigned long i, k = 0;

	for (i = pfn; i < pfn + nr && i < st->map_pfns; i++)
		k += __atomic_load_n(&st->inuse[i], __ATOMIC_ACQUIRE);
	return k;
}

static uint64_t owner_code(const struct box *b, size_t idx)
{
	return ((uint64_t)(b->id + 1) << 32) | (uint32_t)idx;
}

int box_init(struct box *b, unsigned id)
{
	memset(b, 0, sizeof(*b));
	b->id = id;
	b->cap = 256;
	b->v = malloc(b->cap * sizeof(*b->v));
	if (!b->v)
		return -1;
	pthread_mutex_init(&b->lock, NULL);
	return 0;
}

static void box_destroy(struct box *b)
{
	free(b->v);
	b->v = NULL;
	pthread_mutex_destroy(&b->lock);
}

void box_add_locked(struct stress *st, struct box *b, const struct slot *s)
{
	if (b->n == b->cap) {
		/* Grow while locked: migrate waits a moment, nothing more. If
		 * memory runs out the tool cannot go on honestly. */
		size_t cap = b->cap * 2;
		struct slot *v = realloc(b->v, cap * sizeof(*v));
		if (!v) {
			fprintf(stderr, "zonealloc stress: out of memory\n");
			abort();
		}
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n] = *s;
	__atomic_store_n(&st->owner[s->pfn], owner_code(b, b->n),
	                 __ATOMIC_RELEASE);
	b->n++;
	__atomic_store_n(&b->pages, b->pages + (1ul << s->order),
	                 __ATOMIC_RELAXED);
}

void box_take_locked(struct stress *st, struct box *b, size_t idx,
                     struct slot *out)
{
	*out = b->v[idx];
	__atomic_store_n(&st->owner[out->pfn], 0, __ATOMIC_RELEASE);
	b->n--;
	if (idx != b->n) {
		b->v[idx] = b->v[b->n];
		__atomic_store_n(&st->owner[b->v[idx].pfn], owner_code(b, idx),
		                 __ATOMIC_RELEASE);
	}
	__atomic_store_n(&b->pages, b->pages - (1ul << out->order),
	                 __ATOMIC_RELAXED);
}

void work_release(struct stress *st, const struct slot *s)
{
	if (st->backed) {
		void *a = za_page_address(st->za, s->page);
		if (a)
			verify_block(st, a, s, "before free");
	}
	track_free(st, s->pfn, s->order);
	za_free_pages(st->za, s->page, s->order);
}

/* ---------------------------------------------------------------- */
/* The migrate callback                                              */

int stress_migrate(void *ctx, struct za_page *dst, struct za_page *src,
                   unsigned order)
{
	struct stress *st = ctx;
	unsigned long spfn = za_page_to_pfn(st->za, src);
	unsigned long dpfn = za_page_to_pfn(st->za, dst);
	int tries;

	if (spfn >= st->map_pfns || dpfn >= st->map_pfns) {
		G_ADD(st, migrate_bad, 1);
		st_fail(st, "migrate: pfn out of range (src %#lx, dst %#lx)", spfn,
		        dpfn);
		return -EINVAL;
	}
	/* The slot can move within its box (swap-remove) or to another
	 * box between reading the owner map and locking: re-read then. */
	for (tries = 0; tries < 8; tries++) {
		uint64_t code = __atomic_load_n(&st->owner[spfn], __ATOMIC_ACQUIRE);
		struct box *b;
		struct slot *s, probe;
		size_t idx;

		if (!code || (code >> 32) > st->nboxes) {
			G_ADD(st, migrate_enoent, 1);
			return -ENOENT;
		}
		b = st->boxes[(code >> 32) - 1];
		pthread_mutex_lock(&b->lock);
		if (__atomic_load_n(&st->owner[spfn], __ATOMIC_ACQUIRE) != code) {
			pthread_mutex_unlock(&b->lock);
			continue;
		}
		idx = (uint32_t)code;
		s = &b->v[idx];
		if (idx >= b->n || s->page != src) {
			pthread_mutex_unlock(&b->lock);
			G_ADD(st, migrate_bad, 1);
			st_fail(st,
			        "migrate: src pfn %#lx order %u does not match the "
			        "client's block (order %u)",
			        spfn, order, idx < b->n ? s->order : 0u);
			return -EINVAL;
		}
		if (s->order != order) {
			/* Ours at another order: the block the allocator looked
			 * at was freed and this one handed out since (compaction
			 * isolates nothing); not the block it asks about. */
			pthread_mutex_unlock(&b->lock);
			G_ADD(st, migrate_enoent, 1);
			return -ENOENT;
		}
		probe = *s;
		probe.page = dst;
		probe.pfn = dpfn;
		if (track_alloc(st, &probe, "migrate (dst)")) {
			pthread_mutex_unlock(&b->lock);
			G_ADD(st, migrate_bad, 1);
			return -EINVAL;
		}
		if (st->backed) {
			void *sa = za_page_address(st->za, src);
			void *da = za_page_address(st->za, dst);
			if (!sa || !da) {
				st_fail(st,
				        "migrate: page without an address (src %#lx "
				        "dst %#lx)",
				        spfn, dpfn);
			} else {
				memcpy(da, sa, st->page_size << order);
				verify_block(st, da, &probe, "after migration");
			}
		}
		*s = probe;
		__atomic_store_n(&st->owner[dpfn], code, __ATOMIC_RELEASE);
		__atomic_store_n(&st->owner[spfn], 0, __ATOMIC_RELEASE);
		/* The allocator frees src itself once we return 0. */
		track_free(st, spfn, order);
		pthread_mutex_unlock(&b->lock);
		G_ADD(st, migrate_ok, 1);
		return 0;
	}
	/* Still moving under us: ask the allocator to come back later. */
	return -EAGAIN;
}

void stress_error_handler(void *ctx, int err, const char *msg)
{
	struct stress *st = ctx;

	G_ADD(st, misuse, 1);
	st_fail(st, "the library reported misuse (%d): %s", err, msg);
}

/* ---------------------------------------------------------------- */
/* Workload                                                          */

/* Cumulative per-mille tables: request kind and order class. */
struct profile {
	unsigned target_pct;                 /* working set, % of managed pages */
	unsigned gfp[GK_NR];                 /* per mille of each kind */
	unsigned order0, order1_3, order4_8; /* per mille; the rest order 9 */
	unsigned zero_pct;
	unsigned cache_pct; /* pressure: order-0 frees to the cache */
};

static const struct profile profiles[SC_NR] = {
	[SC_MIXED] = { 50, { 380, 350, 70, 100, 50, 40, 10 }, 800, 150, 45, 5, 0 },
	[SC_HOTPLUG] = { 40, { 380, 350, 70, 100, 50, 40, 10 }, 800, 150, 45, 5, 0 },
	[SC_PRESSURE] = { 100, { 500, 300, 50, 100, 50, 0, 0 }, 900, 90, 9, 5, 60 },
	[SC_OFFLINE] = { 30, { 150, 700, 30, 70, 30, 20, 0 }, 900, 90, 9, 5, 0 },
};

const char *const gfp_kind_names[GK_NR] = {
	"kernel", "movable", "atomic", "nowait", "reclaimable", "dma32", "dma",
};

static za_gfp_t gfp_of(enum gfp_kind k)
{
	switch (k) {
	case GK_KERNEL:
		return ZA_GFP_KERNEL;
	case GK_MOVABLE:
		return ZA_GFP_MOVABLE;
	case GK_ATOMIC:
		return ZA_GFP_ATOMIC | ZA_GFP_NOWARN;
	case GK_NOWAIT:
		return ZA_GFP_NOWAIT | ZA_GFP_NOWARN;
	case GK_RECLAIMABLE:
		return ZA_GFP_KERNEL | ZA_GFP_RECLAIMABLE;
	case GK_DMA32:
		return ZA_GFP_KERNEL | ZA_GFP_DMA32;
	case GK_DMA:
		return ZA_GFP_KERNEL | ZA_GFP_DMA;
	default:
		return ZA_GFP_KERNEL;
	}
}

/* The highest zone a request may be served from. */
static enum za_zone_type highest_zone(za_gfp_t gfp)
{
	if (gfp & ZA___GFP_DMA)
		return ZA_ZONE_DMA;
	if (gfp & ZA___GFP_DMA32)
		return ZA_ZONE_DMA32;
	if (gfp & ZA___GFP_MOVABLE)
		return ZA_ZONE_MOVABLE;
	return ZA_ZONE_NORMAL;
}

static enum gfp_kind pick_kind(struct worker *w, const struct profile *p)
{
	const struct stress *st = w->st;
	unsigned r = rng_below(&w->rng, 1000), acc = 0;
	int k;

	for (k = 0; k < GK_NR; k++) {
		acc += p->gfp[k];
		if (r < acc)
			break;
	}
	if (k >= GK_NR)
		k = GK_KERNEL;
	/* Zone-limited requests only where such a zone exists. */
	if (k == GK_DMA && !(st->tp.o.zones_mask & TOPO_ZONE_BIT(ZA_ZONE_DMA)))
		k = GK_KERNEL;
	if (k == GK_DMA32 &&
	    !(st->tp.o.zones_mask &
	      (TOPO_ZONE_BIT(ZA_ZONE_DMA32) | TOPO_ZONE_BIT(ZA_ZONE_DMA))))
		k = GK_KERNEL;
	return (enum gfp_kind)k;
}

static unsigned pick_order(struct worker *w, const struct profile *p)
{
	unsigned r = rng_below(&w->rng, 1000), o, max = za_max_order(w->st->za);

	if (r < p->order0)
		o = 0;
	else if (r < p->order0 + p->order1_3)
		o = 1 + rng_below(&w->rng, 3);
	else if (r < p->order0 + p->order1_3 + p->order4_8)
		o = 4 + rng_below(&w->rng, 5);
	else
		o = 9;
	return o > max ? max : o;
}

static void put_in_box(struct worker *w, const struct slot *s)
{
	pthread_mutex_lock(&w->box.lock);
	box_add_locked(w->st, &w->box, s);
	pthread_mutex_unlock(&w->box.lock);
	w->held += 1ul << s->order;
}

/* A block just handed to us: check it, fill it, keep it. */
static void adopt(struct worker *w, struct za_page *page, unsigned order,
                  za_gfp_t gfp, int nid, const char *how)
{
	struct stress *st = w->st;
	struct slot s;
	int zone, pnid;

	s.page = page;
	s.pfn = za_page_to_pfn(st->za, page);
	s.key = s.pfn;
	s.order = (uint8_t)order;
	s.zeroed = (gfp & ZA_GFP_ZERO) != 0;
	s.cpu = (int16_t)simcpu_current();

	zone = za_page_zone(st->za, page);
	pnid = za_page_nid(st->za, page);
	if (zone < 0 || zone > (int)highest_zone(gfp))
		st_fail(st, "%s(gfp %#x) returned pfn %#lx from zone %s", how, gfp,
		        s.pfn,
		        zone < 0 ? "none" : topo_zone_name((enum za_zone_type)zone));
	if ((gfp & ZA_GFP_THISNODE) && nid >= 0 && pnid != nid)
		st_fail(st, "%s(node %d, THISNODE) returned pfn %#lx of node %d", how,
		        nid, s.pfn, pnid);
	if (track_alloc(st, &s, how))
		return; /* untrackable: leaking it is all we can do safely */
	if (st->backed) {
		void *a = za_page_address(st->za, page);
		if (!a) {
			st_fail(st, "%s: pfn %#lx has no address in backed memory", how,
			        s.pfn);
		} else {
			/* --init-on-alloc: the allocator zeroes every block. */
			if (s.zeroed || (st->tp.o.cfg_flags & ZA_CFG_INIT_ON_ALLOC))
				check_zero(st, a, &s);
			fill_block(st, a, s.key, order);
		}
	}
	put_in_box(w, &s);
}

/* 1 when a block was had. Exported and never inlined, as the other
 * allocation sites are (stress.h), so that page owner names it. */
__attribute__((noinline)) int stress_alloc_one(struct worker *w,
                                               const struct profile *p)
{
	struct stress *st = w->st;
	enum gfp_kind kind = pick_kind(w, p);
	unsigned order = pick_order(w, p);
	za_gfp_t gfp = gfp_of(kind);
	struct za_page *page;
	int nid = -1;
	unsigned r = rng_below(&w->rng, 1000);

	if (rng_below(&w->rng, 100) < p->zero_pct)
		gfp |= ZA_GFP_ZERO;
	if (order >= 4 || st->sc == SC_PRESSURE)
		gfp |= ZA_GFP_NOWARN;
	if (r < 50 && st->tp.o.nodes > 1) {
		nid = (int)rng_below(&w->rng, st->tp.o.nodes);
		if (r < 10)
			gfp |= ZA_GFP_THISNODE;
		page = za_alloc_pages_node(st->za, nid, gfp, order);
	} else {
		page = za_alloc_pages(st->za, gfp, order);
	}
	if (!page) {
		W_ADD(w, fails[order], 1);
		W_ADD(w, fails_gfp[kind], 1);
		return 0;
	}
	W_ADD(w, allocs[order], 1);
	W_ADD(w, allocs_gfp[kind], 1);
	if (gfp & ZA_GFP_ZERO)
		W_ADD(w, zero_allocs, 1);
	adopt(w, page, order, gfp, nid,
	      nid >= 0 ? "za_alloc_pages_node" : "za_alloc_pages");
	return 1;
}

static void free_here(struct worker *w, const struct slot *s)
{
	work_release(w->st, s);
	W_ADD(w, frees, 1);
	if (s->cpu != simcpu_current())
		W_ADD(w, cross_cpu_frees, 1);
}

/* Gives the block to another worker to free. 0 if its inbox is full. */
static int hand_over(struct worker *w, const struct slot *s)
{
	struct stress *st = w->st;
	unsigned t = rng_below(&w->rng, st->nthreads - 1);
	struct inbox *in;
	int ok = 0;

	if (t >= w->id)
		t++;
	in = &st->w[t].in;
	pthread_mutex_lock(&in->lock);
	if (in->n < in->cap) {
		in->v[in->n] = *s;
		__atomic_store_n(&in->n, in->n + 1, __ATOMIC_RELEASE);
		ok = 1;
	}
	pthread_mutex_unlock(&in->lock);
	if (ok)
		W_ADD(w, handed, 1);
	return ok;
}

static void drain_inbox(struct worker *w, struct slot *scratch)
{
	unsigned n, k;

	if (!__atomic_load_n(&w->in.n, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&w->in.lock);
	n = w->in.n;
	memcpy(scratch, w->in.v, n * sizeof(*scratch));
	__atomic_store_n(&w->in.n, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&w->in.lock);
	for (k = 0; k < n; k++) {
		free_here(w, &scratch[k]);
		W_ADD(w, cross_thread_frees, 1);
	}
}

static void let_go(struct worker *w, const struct slot *s,
                   const struct profile *p)
{
	struct stress *st = w->st;

	if (st->nthreads > 1 && rng_below(&w->rng, 3) == 0 && hand_over(w, s))
		return;
	if (p->cache_pct && s->order == 0 &&
	    rng_below(&w->rng, 100) < p->cache_pct) {
		cache_put(st, s);
		W_ADD(w, cached, 1);
		return;
	}
	free_here(w, s);
}

static int take_random(struct worker *w, struct slot *out)
{
	int ok = 0;

	pthread_mutex_lock(&w->box.lock);
	if (w->box.n) {
		box_take_locked(w->st, &w->box, rng_below(&w->rng, (unsigned)w->box.n),
		                out);
		ok = 1;
	}
	pthread_mutex_unlock(&w->box.lock);
	if (ok)
		w->held -= 1ul << out->order;
	return ok;
}

static void free_one(struct worker *w, const struct profile *p)
{
	struct slot s;

	if (take_random(w, &s))
		let_go(w, &s, p);
}

__attribute__((noinline)) void stress_bulk_alloc(struct worker *w)
{
	struct stress *st = w->st;
	struct za_page *pages[BULK_MAX];
	unsigned nr = 1 + rng_below(&w->rng, BULK_MAX), got, k, seen = 0;
	enum gfp_kind kind = rng_below(&w->rng, 2) ? GK_KERNEL : GK_MOVABLE;
	za_gfp_t gfp = gfp_of(kind);

	if (rng_below(&w->rng, 10) == 0)
		gfp |= ZA_GFP_ZERO;
	memset(pages, 0, sizeof(pages));
	got = za_alloc_pages_bulk(st->za, gfp, nr, pages);
	for (k = 0; k < nr; k++)
		if (pages[k])
			seen++;
	if (got > nr || seen != got)
		st_fail(st,
		        "za_alloc_pages_bulk(nr %u) returned %u but filled %u "
		        "entries",
		        nr, got, seen);
	W_ADD(w, bulk_calls, 1);
	W_ADD(w, bulk_pages, seen);
	W_ADD(w, allocs[0], seen);
	W_ADD(w, allocs_gfp[kind], seen);
	if (!seen) {
		W_ADD(w, fails[0], 1);
		W_ADD(w, fails_gfp[kind], 1);
	}
	for (k = 0; k < nr; k++)
		if (pages[k])
			adopt(w, pages[k], 0, gfp, -1, "za_alloc_pages_bulk");
}

static void bulk_free(struct worker *w)
{
	struct stress *st = w->st;
	struct slot s[BULK_MAX];
	struct za_page *pages[BULK_MAX];
	unsigned want = 1 + rng_below(&w->rng, BULK_MAX), k = 0, tries;

	pthread_mutex_lock(&w->box.lock);
	for (tries = 0; tries < 2 * want && k < want && w->box.n; tries++) {
		size_t idx = rng_below(&w->rng, (unsigned)w->box.n);
		if (w->box.v[idx].order == 0)
			box_take_locked(st, &w->box, idx, &s[k++]);
	}
	pthread_mutex_unlock(&w->box.lock);
	if (!k)
		return;
	for (tries = 0; tries < k; tries++) {
		const struct slot *x = &s[tries];
		if (st->backed) {
			void *a = za_page_address(st->za, x->page);
			if (a)
				verify_block(st, a, x, "before bulk free");
		}
		track_free(st, x->pfn, 0);
		pages[tries] = x->page;
		if (x->cpu != simcpu_current())
			W_ADD(w, cross_cpu_frees, 1);
	}
	/* A NULL entry must be skipped: give the library one to skip. */
	if (k < BULK_MAX && rng_below(&w->rng, 4) == 0) {
		pages[k] = NULL;
		za_free_pages_bulk(st->za, k + 1, pages);
	} else {
		za_free_pages_bulk(st->za, k, pages);
	}
	w->held -= k;
	W_ADD(w, frees, k);
	W_ADD(w, bulk_free_calls, 1);
	W_ADD(w, bulk_free_pages, k);
}

/* --inject use-after-free (with --poison): allocates a page, frees it,
 * then writes into it, as a client with a dangling pointer would; the
 * allocator must report the write when it hands the page out again. To
 * make that happen now, rather than whenever the page comes round, it
 * asks for order-0 pages on the CPU it freed on until it gets the page
 * back (the per-CPU list hands out the page freed last first). The page
 * is none of the client's: it is never tracked, and freed again here.
 * Exported, for page owner to name it as the page's allocation site. */
__attribute__((noinline)) void stress_inject_use_after_free(struct worker *w)
{
	struct stress *st = w->st;
	struct za_page *page, *again[64];
	unsigned long pfn;
	unsigned n = 0, k;
	int cpu = simcpu_current();
	volatile uint64_t *a;

	page = za_alloc_pages(st->za, ZA_GFP_KERNEL | ZA_GFP_NOWARN, 0);
	if (!page)
		return; /* try again later */
	w->injected = 1;
	pfn = za_page_to_pfn(st->za, page);
	a = za_page_address(st->za, page);
	za_free_pages(st->za, page, 0);
	if (!a)
		return;
	a[8] = 0x5a5a5a5a5a5a5a5aull; /* byte offset 64 */
	st_note(st, "injected: pfn %#lx written at offset 64 after its free", pfn);
	if (cpu >= 0 && simcpu_is_online((unsigned)cpu))
		simcpu_move((unsigned)cpu);
	while (n < sizeof(again) / sizeof(again[0])) {
		struct za_page *p = za_alloc_pages(st->za,
		                                   ZA_GFP_KERNEL | ZA_GFP_NOWARN, 0);
		if (!p)
			break;
		again[n++] = p;
		if (za_page_to_pfn(st->za, p) == pfn)
			break;
	}
	if (!n || za_page_to_pfn(st->za, again[n - 1]) != pfn)
		st_note(st,
		        "pfn %#lx was not handed out again at once; the "
		        "allocator checks it when it is",
		        pfn);
	for (k = 0; k < n; k++)
		za_free_pages(st->za, again[k], 0);
}

/* --inject: worker 0 breaks one rule once, early in the run. corrupt:
 * overwrites a word of a block it holds (the verify before free must
 * notice). leak: forgets a block entirely, as a buggy client would (the
 * final accounting must find the pages missing). use-after-free: above. */
static void inject_fault(struct worker *w)
{
	struct stress *st = w->st;
	struct slot s;

	if (st->o->inject == INJECT_UAF) {
		stress_inject_use_after_free(w);
		return;
	}
	if (!take_random(w, &s))
		return; /* nothing held yet: try again later */
	w->injected = 1;
	if (st->o->inject == INJECT_LEAK) {
		track_free(st, s.pfn, s.order);
		st_note(st, "injected: pfn %#lx order %u leaked", s.pfn, s.order);
		return;
	}
	if (st->backed) {
		uint64_t *a = za_page_address(st->za, s.page);
		if (a) {
			a[0] ^= 0x5a5a;
			st_note(st, "injected: pfn %#lx word 0 corrupted", s.pfn);
		}
	}
	put_in_box(w, &s);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct stress *st = w->st;
	const struct profile *p = &profiles[st->sc];
	struct slot *scratch = malloc(INBOX_CAP * sizeof(*scratch));
	unsigned batch;

	if (!scratch) {
		st_fail(st, "worker %u: out of memory", w->id);
		return NULL;
	}
	simcpu_thread_start(w->id % st->tp.o.cpus, st->seed + w->id * 7919, 1024);
	w->next_hop = 1000 + rng_below(&w->rng, 4000);
	/* --inject: after 5000 operations, or a quarter of the run on a
	 * machine too slow (or too loaded, a sanitizer build) to get there */
	double inject_at = now_seconds() + st->o->seconds / 4.0;

	while (!__atomic_load_n(&st->stop_workers, __ATOMIC_ACQUIRE)) {
		unsigned long target = st->base_target *
		                       __atomic_load_n(&st->target_pct,
		                                       __ATOMIC_RELAXED) /
		                       100;

		for (batch = 0; batch < 64; batch++) {
			unsigned r;

			drain_inbox(w, scratch);
			if (simcpu_stranded() || w->s.ops >= w->next_hop) {
				simcpu_hop();
				W_ADD(w, hops, 1);
				w->next_hop = w->s.ops + 1000 + rng_below(&w->rng, 4000);
			}
			W_ADD(w, ops, 1);
			if (st->o->inject && !w->injected && w->id == 0 &&
			    (w->s.ops >= 5000 || now_seconds() >= inject_at))
				inject_fault(w);
			r = rng_below(&w->rng, 10000);
			if (r < 20) {
				stress_bulk_alloc(w);
			} else if (r < 40) {
				bulk_free(w);
			} else if (r < 42) {
				za_drain_local_pages(st->za);
				W_ADD(w, drains_local, 1);
			} else if (r < 43 && rng_below(&w->rng, 8) == 0) {
				za_drain_all_pages(st->za);
				W_ADD(w, drains_all, 1);
			} else if (w->held < target / 2 ||
			           (w->held < target && rng_below(&w->rng, 4))) {
				/* Below the target allocations win 3:1, so the
				 * working set climbs to it and churns there. */
				/* Could not have it: give something back, as a
				 * program under pressure would. */
				if (!stress_alloc_one(w, p))
					free_one(w, p);
			} else {
				free_one(w, p);
			}
		}
	}
	drain_inbox(w, scratch);
	free(scratch);
	return NULL;
}

/* ---------------------------------------------------------------- */
/* Setup and teardown                                                */

static void *map_zeroed(size_t len)
{
	void *p = mmap(NULL, len ? len : 1, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

int work_setup(struct stress *st)
{
	unsigned i, nodes = st->tp.o.nodes;

	st->map_pfns = st->tp.max_pfn;
	st->owner = map_zeroed(st->map_pfns * sizeof(*st->owner));
	st->inuse = map_zeroed(st->map_pfns);
	st->w = calloc(st->nthreads, sizeof(*st->w));
	st->nboxes = st->nthreads + nodes;
	st->boxes = calloc(st->nboxes, sizeof(*st->boxes));
	if (!st->owner || !st->inuse || !st->w || !st->boxes)
		return -1;
	for (i = 0; i < st->nthreads; i++) {
		struct worker *w = &st->w[i];
		w->st = st;
		w->id = i;
		w->rng = mix64(st->seed ^ (0x5157ull + i)) | 1;
		if (box_init(&w->box, i))
			return -1;
		st->boxes[i] = &w->box;
		pthread_mutex_init(&w->in.lock, NULL);
		w->in.cap = INBOX_CAP;
		w->in.v = malloc(INBOX_CAP * sizeof(*w->in.v));
		if (!w->in.v)
			return -1;
	}
	for (i = 0; i < nodes; i++) {
		st->cache[i] = malloc(sizeof(struct box));
		if (!st->cache[i] || box_init(st->cache[i], st->nthreads + i))
			return -1;
		st->boxes[st->nthreads + i] = st->cache[i];
	}
	return 0;
}

int work_start(struct stress *st)
{
	unsigned i;
	int err;

	for (i = 0; i < st->nthreads; i++) {
		err = pthread_create(&st->w[i].thread, NULL, worker_main, &st->w[i]);
		if (err) {
			tool_err("stress", "cannot start worker %u: %s", i, strerror(err));
			return -1;
		}
		st->w[i].started = 1;
	}
	return 0;
}

void work_stop(struct stress *st)
{
	unsigned i;

	__atomic_store_n(&st->stop_workers, 1, __ATOMIC_RELEASE);
	for (i = 0; i < st->nthreads; i++)
		if (st->w[i].started) {
			pthread_join(st->w[i].thread, NULL);
			st->w[i].started = 0;
		}
}

static void empty_box(struct stress *st, struct box *b)
{
	struct slot s;

	for (;;) {
		pthread_mutex_lock(&b->lock);
		if (!b->n) {
			pthread_mutex_unlock(&b->lock);
			return;
		}
		box_take_locked(st, b, b->n - 1, &s);
		pthread_mutex_unlock(&b->lock);
		work_release(st, &s);
	}
}

void work_release_all(struct stress *st)
{
	unsigned i, k;

	for (i = 0; i < st->nthreads; i++) {
		struct worker *w = &st->w[i];
		pthread_mutex_lock(&w->in.lock);
		for (k = 0; k < w->in.n; k++)
			work_release(st, &w->in.v[k]);
		w->in.n = 0;
		pthread_mutex_unlock(&w->in.lock);
		empty_box(st, &w->box);
		w->held = 0;
	}
	for (i = 0; i < st->tp.o.nodes; i++)
		if (st->cache[i])
			empty_box(st, st->cache[i]);
}

void work_teardown(struct stress *st)
{
	unsigned i;

	if (st->w) {
		for (i = 0; i < st->nthreads; i++) {
			if (st->w[i].box.v)
				box_destroy(&st->w[i].box);
			free(st->w[i].in.v);
			pthread_mutex_destroy(&st->w[i].in.lock);
		}
		free(st->w);
		st->w = NULL;
	}
	for (i = 0; i < ZA_MAX_NODES; i++)
		if (st->cache[i]) {
			if (st->cache[i]->v)
				box_destroy(st->cache[i]);
			free(st->cache[i]);
			st->cache[i] = NULL;
		}
	free(st->boxes);
	st->boxes = NULL;
	if (st->owner)
		munmap(st->owner, st->map_pfns * sizeof(*st->owner));
	if (st->inuse)
		munmap(st->inuse, st->map_pfns);
	st->owner = NULL;
	st->inuse = NULL;
}
