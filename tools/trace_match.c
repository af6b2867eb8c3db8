/*
 * trace_match.c - the match layer of the trace reader (trace.h): frees
 * paired with the allocations they release, by the pages they cover, and
 * the events turned into allocate/free operations a replayer can run.
 *
 * SPDX-License-Identifier: MIT
 */
#include "trace.h"

#include <stdlib.h>
#include <string.h>

/* ---- pairing frees with allocations ---- */

/* pfn -> record, open addressing with linear probing. Deletion shifts
 * later entries back, so there are no tombstones to slow lookups down
 * as a million pages come and go. */
struct pmap {
	uint64_t *key;
	uint32_t *val;
	size_t cap, n; /* cap a power of two */
};

#define PMAP_EMPTY UINT64_MAX

static size_t pmap_home(uint64_t k, size_t mask)
{
	k *= 0x9e3779b97f4a7c15ull;
	return (size_t)(k ^ (k >> 29)) & mask;
}

static int pmap_init(struct pmap *m, size_t cap)
{
	size_t i;
	m->cap = cap;
	m->n = 0;
	m->key = malloc(cap * sizeof(*m->key));
	m->val = malloc(cap * sizeof(*m->val));
	if (!m->key || !m->val)
		return -1;
	for (i = 0; i < cap; i++)
		m->key[i] = PMAP_EMPTY;
	return 0;
}

static void pmap_destroy(struct pmap *m)
{
	free(m->key);
	free(m->val);
}

/* Slot of k, or -1. */
static long pmap_find(const struct pmap *m, uint64_t k)
{
	size_t mask = m->cap - 1, i = pmap_home(k, mask);
	while (m->key[i] != PMAP_EMPTY) {
		if (m->key[i] == k)
			return (long)i;
		i = (i + 1) & mask;
	}
	return -1;
}

static int pmap_put(struct pmap *m, uint64_t k, uint32_t v);

static int pmap_grow(struct pmap *m)
{
	struct pmap bigger;
	size_t i;
	if (pmap_init(&bigger, m->cap * 2)) {
		pmap_destroy(&bigger);
		return -1;
	}
	for (i = 0; i < m->cap; i++)
		if (m->key[i] != PMAP_EMPTY)
			pmap_put(&bigger, m->key[i], m->val[i]);
	pmap_destroy(m);
	*m = bigger;
	return 0;
}

/* Insert k (not present). 0 or -1 when out of memory. */
static int pmap_put(struct pmap *m, uint64_t k, uint32_t v)
{
	size_t mask, i;
	if ((m->n + 1) * 2 > m->cap && pmap_grow(m))
		return -1;
	mask = m->cap - 1;
	for (i = pmap_home(k, mask); m->key[i] != PMAP_EMPTY; i = (i + 1) & mask)
		;
	m->key[i] = k;
	m->val[i] = v;
	m->n++;
	return 0;
}

static void pmap_del_slot(struct pmap *m, size_t i)
{
	size_t mask = m->cap - 1, j = i;
	for (;;) {
		size_t h;
		j = (j + 1) & mask;
		if (m->key[j] == PMAP_EMPTY)
			break;
		h = pmap_home(m->key[j], mask);
		/* move j back into the hole at i unless its home lies in (i, j] */
		if ((i <= j) ? (h <= i || h > j) : (h <= i && h > j)) {
			m->key[i] = m->key[j];
			m->val[i] = m->val[j];
			i = j;
		}
	}
	m->key[i] = PMAP_EMPTY;
	m->n--;
}

struct matcher {
	struct pmap live; /* every page held by a record */
	uint64_t *rec_pfn;
	uint32_t *rec_left; /* pages of the record not yet released */
	uint8_t *rec_order;
	struct trace_ops *out;
};

static void emit(struct matcher *mt, uint32_t rec, uint32_t ev, za_gfp_t gfp,
                 uint16_t cpu, enum trace_op_kind kind)
{
	struct trace_op *op = &mt->out->op[mt->out->nr++];
	op->rec = rec;
	op->ev = ev;
	op->gfp = gfp;
	op->cpu = cpu;
	op->kind = (uint8_t)kind;
	op->order = mt->rec_order[rec];
}

/* Release the live pages of [pfn, pfn + 2^order). Emits a free op for each
 * record whose last page goes. Returns the pages released; *first is the
 * first record touched, *several says whether others were. */
static uint64_t release_range(struct matcher *mt, uint64_t pfn, unsigned order,
                              uint32_t evi, uint16_t cpu, uint32_t *first,
                              int *several, uint64_t *completed)
{
	uint64_t p, released = 0;
	*first = UINT32_MAX;
	*several = 0;
	if (mt->live.n == 0)
		return 0;
	for (p = pfn; p < pfn + (1ull << order); p++) {
		long s = pmap_find(&mt->live, p);
		uint32_t r;
		if (s < 0)
			continue;
		r = mt->live.val[s];
		pmap_del_slot(&mt->live, (size_t)s);
		released++;
		if (*first == UINT32_MAX)
			*first = r;
		else if (r != *first)
			*several = 1;
		if (--mt->rec_left[r] == 0) {
			emit(mt, r, evi, 0, cpu, TRACE_OP_FREE);
			(*completed)++;
		}
	}
	return released;
}

/* The kernel hands out [pfn, pfn + 2^order) again: every record holding a
 * page of it was freed, whatever the trace says (its free event was
 * lost), and is freed here whole, with the pages of it that the new
 * block does not cover: the kernel freed the block, not only the pages
 * it hands out now. A record kept with its other pages would stay held
 * to the end of the replay, and in --stream's map the new block's pfn
 * would then name two blocks. Emits a free op for each; returns how many
 * (each record's pages are walked once, when it goes). */
static uint64_t release_records(struct matcher *mt, uint64_t pfn,
                                unsigned order, uint32_t evi, uint16_t cpu)
{
	uint64_t p, q, qend, completed = 0;

	if (mt->live.n == 0)
		return 0;
	for (p = pfn; p < pfn + (1ull << order); p++) {
		long s = pmap_find(&mt->live, p);
		uint32_t r;
		if (s < 0)
			continue;
		r = mt->live.val[s];
		qend = mt->rec_pfn[r] + (1ull << mt->rec_order[r]);
		for (q = mt->rec_pfn[r]; q < qend && mt->rec_left[r]; q++) {
			long t = pmap_find(&mt->live, q);
			if (t >= 0 && mt->live.val[t] == r) {
				pmap_del_slot(&mt->live, (size_t)t);
				mt->rec_left[r]--;
			}
		}
		mt->rec_left[r] = 0;
		emit(mt, r, evi, 0, cpu, TRACE_OP_FREE);
		completed++;
	}
	return completed;
}

/* The gfp mobility bits of a kernel migratetype (0 unmovable, 1 movable,
 * 2 reclaimable); -1 for anything else (highatomic, CMA, unknown). */
static int mt_gfp(int kernel_mt, za_gfp_t *gfp)
{
	switch (kernel_mt) {
	case 0:
		*gfp = 0;
		return 0;
	case 1:
		*gfp = ZA___GFP_MOVABLE;
		return 0;
	case 2:
		*gfp = ZA___GFP_RECLAIMABLE;
		return 0;
	default:
		return -1;
	}
}

/* A later event at pfn shows the mobility of the stand-in waiting there
 * (the list the kernel put its page on). */
static void standin_learn(struct pmap *wait, struct trace_ops *out,
                          const struct trace_event *e)
{
	long s;
	za_gfp_t gfp;

	if (!wait->n || (s = pmap_find(wait, e->pfn)) < 0)
		return;
	if (mt_gfp(e->migratetype, &gfp) == 0) {
		out->standin[wait->val[s]].gfp = gfp;
		out->standin_mt_known++;
	}
	pmap_del_slot(wait, (size_t)s);
}

int trace_match(const struct trace *t, size_t nr_events, struct trace_ops *out)
{
	return trace_match_flags(t, nr_events, 0, 0, out);
}

int trace_match_flags(const struct trace *t, size_t nr_events, unsigned flags,
                      uint64_t max_live, struct trace_ops *out)
{
	struct matcher mt;
	struct trace_match_stats *st = &out->st;
	struct pmap wait; /* stand-ins whose mobility no event showed yet */
	size_t i, nallocs = 0, nfrees = 0;
	uint32_t r;
	int rc = -1, standins = (flags & TRACE_MATCH_STANDINS) != 0;

	memset(out, 0, sizeof(*out));
	memset(&mt, 0, sizeof(mt));
	memset(&wait, 0, sizeof(wait));
	if (nr_events > t->nr)
		nr_events = t->nr;
	for (i = 0; i < nr_events; i++) {
		nallocs += t->ev[i].type == TRACE_ALLOC;
		nfrees += t->ev[i].type == TRACE_FREE ||
		          t->ev[i].type == TRACE_FREE_BATCHED;
	}
	if (!standins)
		nfrees = 0;
	if (nallocs + nfrees >= UINT32_MAX)
		return -1;
	mt.out = out;
	/* each record makes at most one alloc op and one free op; a
	 * stand-in one free op */
	out->op = malloc((2 * nallocs + nfrees + 1) * sizeof(*out->op));
	mt.rec_pfn = malloc((nallocs + nfrees + 1) * sizeof(*mt.rec_pfn));
	mt.rec_left = malloc((nallocs + nfrees + 1) * sizeof(*mt.rec_left));
	mt.rec_order = malloc(nallocs + nfrees + 1);
	if (standins)
		out->standin = malloc((nfrees + 1) * sizeof(*out->standin));
	if (!out->op || !mt.rec_pfn || !mt.rec_left || !mt.rec_order ||
	    (standins && (!out->standin || pmap_init(&wait, 1u << 12))) ||
	    pmap_init(&mt.live, 1u << 16))
		goto out;

	for (i = 0; i < nr_events; i++) {
		const struct trace_event *e = &t->ev[i];
		uint32_t first;
		int several;
		uint64_t released, completed = 0, p;

		if (standins &&
		    (e->type == TRACE_ALLOC || e->type == TRACE_PCPU_DRAIN) &&
		    !(e->flags & TRACE_EV_FAILED))
			standin_learn(&wait, out, e);
		if (e->type == TRACE_ALLOC) {
			st->alloc_events++;
			if (e->flags & TRACE_EV_FAILED) {
				st->kernel_failed++;
				continue;
			}
			/* Pages the kernel hands out again were freed, whatever
			 * the trace says: a free event was lost. */
			st->implicit_frees += release_records(&mt, e->pfn, e->order,
			                                      (uint32_t)i, e->cpu);
			/* The pages the new block covers are free now: it
			 * adds 2^order held pages. */
			if (max_live && mt.live.n + (1ull << e->order) > max_live) {
				st->over_line = e->line;
				rc = -2;
				goto out;
			}
			r = out->nr_recs++;
			mt.rec_pfn[r] = e->pfn;
			mt.rec_order[r] = e->order;
			mt.rec_left[r] = 1u << e->order;
			for (p = e->pfn; p < e->pfn + (1ull << e->order); p++)
				if (pmap_put(&mt.live, p, r))
					goto out;
			if (mt.live.n > st->live_peak)
				st->live_peak = mt.live.n;
			emit(&mt, r, (uint32_t)i,
			     trace_gfp_to_za(e->kgfp, &st->nofail_stripped), e->cpu,
			     TRACE_OP_ALLOC);
			st->allocs++;
		} else if (e->type == TRACE_FREE || e->type == TRACE_FREE_BATCHED) {
			st->free_events++;
			released = release_range(&mt, e->pfn, e->order, (uint32_t)i,
			                         e->cpu, &first, &several, &completed);
			st->free_ops += completed;
			if (released == 0) {
				st->frees_unmatched++;
				if (standins) {
					/* a record of its own, allocated before the
					 * first op and freed here */
					struct trace_op *so = &out->standin[out->nr_standin++];
					long s;
					r = out->nr_recs++;
					mt.rec_pfn[r] = e->pfn;
					mt.rec_order[r] = e->order;
					mt.rec_left[r] = 0;
					so->rec = r;
					so->ev = (uint32_t)i;
					so->gfp = ZA___GFP_MOVABLE; /* unless shown */
					so->cpu = e->cpu;
					so->kind = TRACE_OP_ALLOC;
					so->order = e->order;
					out->standin_pages += 1ull << e->order;
					emit(&mt, r, (uint32_t)i, 0, e->cpu, TRACE_OP_FREE);
					if ((s = pmap_find(&wait, e->pfn)) >= 0)
						pmap_del_slot(&wait, (size_t)s);
					if (pmap_put(&wait, e->pfn,
					             (uint32_t)(out->nr_standin - 1)))
						goto out;
				}
			} else if (!several && completed == 1 &&
			           mt.rec_pfn[first] == e->pfn &&
			           mt.rec_order[first] == e->order &&
			           released == 1ull << e->order)
				st->frees_exact++;
			else
				st->frees_partial++;
		}
	}
	for (r = 0; r < out->nr_recs; r++) {
		if (mt.rec_left[r]) {
			st->never_freed++;
			st->never_freed_pages += 1ull << mt.rec_order[r];
		}
	}
	rc = 0;
out:
	if (standins)
		pmap_destroy(&wait);
	pmap_destroy(&mt.live);
	free(mt.rec_pfn);
	free(mt.rec_left);
	free(mt.rec_order);
	if (rc)
		trace_ops_free(out);
	return rc;
}

void trace_ops_free(struct trace_ops *ops)
{
	free(ops->op);
	ops->op = NULL;
	ops->nr = 0;
	free(ops->standin);
	ops->standin = NULL;
	ops->nr_standin = 0;
}
