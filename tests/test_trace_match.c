/*
 * test_trace_match.c - pairing frees with allocations (trace_match) and
 * the kernel lock-batch estimate (trace_lock_batches) on small traces
 * built line by line: whole frees, frees of pages allocated before the
 * trace, a high-order block freed page by page, frees that span several
 * allocations, pages handed out again while the trace thinks them in use
 * (a lost free event), failed kernel allocations; and, on a random trace,
 * the rules every replayer relies on: each free op comes after its
 * record's alloc op, and each record is freed at most once; and the
 * stand-in records of TRACE_MATCH_STANDINS for the unmatched frees.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "trace.h"

static void add(struct trace *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add(struct trace *t, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int nomem = 0;
	size_t before = t->nr;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	trace_add_line(t, line, strlen(line), &nomem);
	CHECK(!nomem);
	CHECK_EQ(t->nr, before + 1); /* every line here is an event */
}

#define ALLOC(t, cpu, pfn, order)                                             \
	add(t,                                                                    \
	    "t-1 [%03d] ..... 1.0: mm_page_alloc: pfn=%#lx order=%d "             \
	    "migratetype=0 gfp_flags=GFP_KERNEL",                                 \
	    cpu, (unsigned long)(pfn), order)
#define FREE(t, cpu, pfn, order)                                              \
	add(t, "t-1 [%03d] ..... 1.0: mm_page_free: pfn=%#lx order=%d", cpu,      \
	    (unsigned long)(pfn), order)

static void init(struct trace *t)
{
	memset(t, 0, sizeof(*t));
	t->st.max_cpu = -1;
}

static void expect_op(const struct trace_ops *o, size_t i, int kind,
                      uint32_t rec, int cpu, int order)
{
	CHECK(i < o->nr);
	CHECK_EQ(o->op[i].kind, kind);
	CHECK_EQ(o->op[i].rec, rec);
	CHECK_EQ(o->op[i].cpu, cpu);
	CHECK_EQ(o->op[i].order, order);
}

static void test_cases(void)
{
	struct trace t;
	struct trace_ops o;

	init(&t);
	ALLOC(&t, 0, 0x100, 0); /* 0: rec 0 */
	FREE(&t, 1, 0x100, 0);  /* 1: whole, on another CPU */
	FREE(&t, 0, 0x999, 0);  /* 2: before the trace */
	ALLOC(&t, 1, 0x200, 2); /* 3: rec 1, 4 pages */
	FREE(&t, 1, 0x201, 0);  /* 4: in parts */
	FREE(&t, 1, 0x200, 0);  /* 5 */
	FREE(&t, 0, 0x203, 0);  /* 6 */
	FREE(&t, 0, 0x202, 0);  /* 7: the last page: op */
	ALLOC(&t, 0, 0x300, 0); /* 8: rec 2 */
	ALLOC(&t, 1, 0x300, 0); /* 9: again: rec 2 implied free */
	ALLOC(&t, 0, 0x400, 0); /* 10: rec 4 */
	ALLOC(&t, 0, 0x401, 0); /* 11: rec 5 */
	FREE(&t, 1, 0x400, 1);  /* 12: both at once */
	add(&t, "t-1 [000] ..... 1.0: mm_page_alloc: page=(null) pfn=0x0 "
	        "order=5 migratetype=0 gfp_flags=GFP_ATOMIC"); /* 13 */
	ALLOC(&t, 1, 0x500, 1); /* 14: rec 6, never freed */
	add(&t, "t-1 [001] ..... 1.0: mm_page_alloc_zone_locked: pfn=0x1 "
	        "order=0 migratetype=0 percpu_refill=1"); /* 15: counted only */
	add(&t, "t-1 [001] ..... 1.0: mm_page_free_batched: pfn=0x100"); /* 16 */
	ALLOC(&t, 0, 0x600, 0); /* 17: rec 7, never freed */
	add(&t, "t-1 [001] ..... 1.0: mm_page_alloc: pfn=0x700 order=0 "
	        "migratetype=0 gfp_flags=GFP_NOFS|__GFP_NOFAIL"); /* 18 */

	CHECK_EQ(trace_match(&t, t.nr, &o), 0);
	CHECK_EQ(o.st.alloc_events, 10);
	CHECK_EQ(o.st.kernel_failed, 1);
	CHECK_EQ(o.st.allocs, 9);
	CHECK_EQ(o.nr_recs, 9);
	CHECK_EQ(o.st.free_events, 8);
	CHECK_EQ(o.st.frees_exact, 1);
	CHECK_EQ(o.st.frees_partial, 5);   /* 4 pieces of rec 1, the 2-in-1 */
	CHECK_EQ(o.st.frees_unmatched, 2); /* 0x999, and 0x100 freed again */
	CHECK_EQ(o.st.implicit_frees, 1);
	CHECK_EQ(o.st.free_ops, 4);    /* recs 0, 1, 4, 5 */
	CHECK_EQ(o.st.never_freed, 4); /* recs 3, 6, 7, 8 */
	CHECK_EQ(o.st.never_freed_pages, 1 + 2 + 1 + 1);
	CHECK_EQ(o.st.nofail_stripped, 1);

	expect_op(&o, 0, TRACE_OP_ALLOC, 0, 0, 0);
	expect_op(&o, 1, TRACE_OP_FREE, 0, 1, 0);
	expect_op(&o, 2, TRACE_OP_ALLOC, 1, 1, 2);
	expect_op(&o, 3, TRACE_OP_FREE, 1, 0, 2); /* whole block, last CPU */
	CHECK_EQ(o.op[3].ev, 7);
	expect_op(&o, 4, TRACE_OP_ALLOC, 2, 0, 0);
	expect_op(&o, 5, TRACE_OP_FREE, 2, 1, 0); /* implied, before the alloc */
	CHECK_EQ(o.op[5].ev, 9);
	expect_op(&o, 6, TRACE_OP_ALLOC, 3, 1, 0);
	expect_op(&o, 7, TRACE_OP_ALLOC, 4, 0, 0);
	expect_op(&o, 8, TRACE_OP_ALLOC, 5, 0, 0);
	expect_op(&o, 9, TRACE_OP_FREE, 4, 1, 0);
	expect_op(&o, 10, TRACE_OP_FREE, 5, 1, 0);
	expect_op(&o, 11, TRACE_OP_ALLOC, 6, 1, 1);
	expect_op(&o, 12, TRACE_OP_ALLOC, 7, 0, 0);
	expect_op(&o, 13, TRACE_OP_ALLOC, 8, 1, 0);
	CHECK_EQ(o.nr, 14);
	CHECK_EQ(o.op[0].gfp, ZA_GFP_KERNEL | ZA_GFP_NOWARN);
	CHECK_EQ(o.op[13].gfp & ZA_GFP_NOFAIL, 0);

	/* only a prefix */
	trace_ops_free(&o);
	CHECK_EQ(trace_match(&t, 2, &o), 0);
	CHECK_EQ(o.nr, 2);
	CHECK_EQ(o.st.frees_exact, 1);
	trace_ops_free(&o);
	trace_free(&t);
}

/* A lost free event: the kernel hands out a page of a block the trace
 * still holds. The block was freed, whole (REPLAY.md, "Pairing"): its
 * record goes at once, as an implied free, with the pages the new block
 * does not cover; kept with them, it stayed held to the end of the replay
 * (review 14, finding 3). A page a block freed in parts and the kernel
 * hands out again frees nothing: no event was lost. */
static void test_lost_free_of_block(void)
{
	struct trace t;
	struct trace_ops o;

	init(&t);
	ALLOC(&t, 0, 0x800, 3); /* 0: rec 0, 8 pages */
	ALLOC(&t, 1, 0x802, 0); /* 1: rec 1; rec 0's free was lost */
	FREE(&t, 0, 0x800, 0);  /* 2: freed with rec 0 already */
	FREE(&t, 1, 0x802, 0);  /* 3: rec 1, whole */
	ALLOC(&t, 0, 0x900, 2); /* 4: rec 2 */
	FREE(&t, 0, 0x901, 0);  /* 5: a piece */
	ALLOC(&t, 0, 0x901, 0); /* 6: rec 3, the freed piece again */
	FREE(&t, 0, 0x900, 0);  /* 7 */
	FREE(&t, 0, 0x902, 0);  /* 8 */
	FREE(&t, 0, 0x903, 0);  /* 9: rec 2's last page */
	FREE(&t, 0, 0x901, 0);  /* 10: rec 3, whole */

	CHECK_EQ(trace_match(&t, t.nr, &o), 0);
	RULE(o.st.implicit_frees == 1 && o.st.never_freed == 0,
	     "an allocation of a page a record holds frees the record whole "
	     "(a lost free): %llu implied frees, %llu records never freed",
	     (unsigned long long)o.st.implicit_frees,
	     (unsigned long long)o.st.never_freed);
	expect_op(&o, 0, TRACE_OP_ALLOC, 0, 0, 3);
	expect_op(&o, 1, TRACE_OP_FREE, 0, 1, 3); /* before rec 1's alloc */
	CHECK_EQ(o.op[1].ev, 1);
	expect_op(&o, 2, TRACE_OP_ALLOC, 1, 1, 0);
	expect_op(&o, 3, TRACE_OP_FREE, 1, 1, 0);
	CHECK_EQ(o.st.frees_unmatched, 1); /* 2 */
	CHECK_EQ(o.st.frees_exact, 2);     /* 3, 10 */
	CHECK_EQ(o.st.frees_partial, 4);   /* 5, 7, 8, 9 */
	expect_op(&o, 4, TRACE_OP_ALLOC, 2, 0, 2);
	expect_op(&o, 5, TRACE_OP_ALLOC, 3, 0, 0); /* nothing freed first */
	expect_op(&o, 6, TRACE_OP_FREE, 2, 0, 2);
	CHECK_EQ(o.op[6].ev, 9);
	expect_op(&o, 7, TRACE_OP_FREE, 3, 0, 0);
	CHECK_EQ(o.nr, 8);
	trace_ops_free(&o);
	trace_free(&t);
}

static void test_lock_batches(void)
{
	struct trace t;
	struct trace_lock_batches b;
	const char *refill = "mm_page_alloc_zone_locked: pfn=0x1 order=0 "
	                     "migratetype=0 percpu_refill=1";
	const char *direct = "mm_page_alloc_zone_locked: pfn=0x8 order=3 "
	                     "migratetype=0 percpu_refill=0";
	const char *drain = "mm_page_pcpu_drain: pfn=0x1 order=0 migratetype=0";

	init(&t);
	/* CPU 0 refills while CPU 1's events interleave: still one batch */
	add(&t, "a-1 [000] d..3. 1.0: %s", refill);
	add(&t, "a-1 [001] d..3. 1.0: %s", refill);
	add(&t, "a-1 [000] d..3. 1.0: %s", refill);
	add(&t, "a-1 [001] d..3. 1.0: %s", drain);
	add(&t, "a-1 [000] d..3. 1.0: %s", refill);
	ALLOC(&t, 0, 0x10, 0);
	add(&t, "a-1 [000] d..3. 1.0: %s", refill); /* a second batch */
	add(&t, "a-1 [001] d..3. 1.0: %s", drain);
	add(&t, "a-1 [001] d..3. 1.0: %s", direct);
	add(&t, "a-1 [001] d..3. 1.0: %s", drain); /* a new drain batch */
	trace_lock_batches(&t, t.nr, &b);
	CHECK_EQ(b.refill_batches, 3); /* CPU 0: 2, CPU 1: 1 */
	CHECK_EQ(b.drain_batches, 2);
	CHECK_EQ(b.direct, 1);
	CHECK_EQ(t.st.refill_events, 5);
	CHECK_EQ(t.st.by_type[TRACE_ZONE_LOCKED], 6);
	trace_free(&t);
}

/* A random trace over a small pfn range, so that every case happens
 * often; checked against the rules, not against fixed numbers. */
static void test_random(void)
{
	struct trace t;
	struct trace_ops o;
	uint64_t s = 12345;
	long n = tu_scale(20000), i;
	uint8_t *state;
	size_t k;

	init(&t);
	for (i = 0; i < n; i++) {
		unsigned order = (unsigned)(tu_rand(&s) % 8 == 0 ? tu_rand(&s) % 4
		                                                 : 0);
		unsigned long pfn = (unsigned long)(tu_rand(&s) % 512) &
		                    ~((1ul << order) - 1);
		int cpu = (int)(tu_rand(&s) % 3);
		if (tu_rand(&s) % 2)
			ALLOC(&t, cpu, pfn, (int)order);
		else
			FREE(&t, cpu, pfn, (int)order);
	}
	CHECK_EQ(trace_match(&t, t.nr, &o), 0);
	CHECK_EQ(o.st.frees_exact + o.st.frees_partial + o.st.frees_unmatched,
	         o.st.free_events);
	CHECK_EQ(o.st.alloc_events + o.st.free_events, (uint64_t)n);
	CHECK_EQ(o.st.free_ops + o.st.implicit_frees + o.st.never_freed,
	         o.nr_recs);
	CHECK_EQ(o.nr, o.nr_recs + o.st.free_ops + o.st.implicit_frees);
	CHECK(o.st.frees_partial > 0 && o.st.implicit_frees > 0 &&
	      o.st.frees_unmatched > 0 && o.st.frees_exact > 0);
	/* 0: not allocated yet, 1: allocated, 2: freed */
	state = calloc(o.nr_recs, 1);
	CHECK(state != NULL);
	for (k = 0; k < o.nr; k++) {
		const struct trace_op *op = &o.op[k];
		CHECK(op->rec < o.nr_recs);
		CHECK_EQ(op->cpu, t.ev[op->ev].cpu);
		if (op->kind == TRACE_OP_ALLOC) {
			CHECK_EQ(state[op->rec], 0);
			CHECK_EQ(op->order, t.ev[op->ev].order);
			state[op->rec] = 1;
		} else {
			CHECK_EQ(state[op->rec], 1);
			state[op->rec] = 2;
		}
	}
	free(state);
	trace_ops_free(&o);
	trace_free(&t);
}

/* TRACE_MATCH_STANDINS: a record and a free op for each unmatched free,
 * where and on the CPU the trace frees it; its mobility from the first
 * later allocation or drain of its pfn; nothing else changes. */
static void test_standins(void)
{
	struct trace t;
	struct trace_ops o, plain;

	init(&t);
	ALLOC(&t, 0, 0x100, 0); /* 0: rec 0 */
	FREE(&t, 1, 0x998, 1);  /* 1: before the trace: stand-in rec 1 */
	FREE(&t, 0, 0x100, 0);  /* 2: whole: rec 0 freed */
	FREE(&t, 0, 0x500, 0);  /* 3: before the trace: stand-in rec 2 */
	FREE(&t, 1, 0x600, 3);  /* 4: stand-in rec 3, mobility never shown */
	add(&t, "t-1 [001] ..... 1.0: mm_page_pcpu_drain: pfn=0x998 order=1 "
	        "migratetype=2"); /* 5: rec 1 was reclaimable */
	add(&t, "t-1 [000] ..... 1.0: mm_page_alloc: pfn=0x500 order=0 "
	        "migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE"); /* 6: rec 4;
	                                                          * rec 2
	                                                          * movable */
	add(&t, "t-1 [000] ..... 1.0: mm_page_alloc: pfn=0x998 order=1 "
	        "migratetype=0 gfp_flags=GFP_KERNEL"); /* 7: rec 5; rec 1
	                                                * learnt already */
	CHECK_EQ(trace_match_flags(&t, t.nr, TRACE_MATCH_STANDINS, 0, &o), 0);
	CHECK_EQ(trace_match(&t, t.nr, &plain), 0);
	/* the same pairing and statistics */
	CHECK_EQ(o.st.frees_unmatched, 3);
	CHECK_EQ(memcmp(&o.st, &plain.st, sizeof(o.st)), 0);
	CHECK_EQ(plain.nr_standin, 0);
	CHECK(plain.standin == NULL);
	CHECK_EQ(plain.nr, 4);
	/* three stand-ins, in trace order */
	CHECK_EQ(o.nr_standin, 3);
	CHECK_EQ(o.standin_pages, 2 + 1 + 8);
	CHECK_EQ(o.standin_mt_known, 2);
	CHECK_EQ(o.standin[0].rec, 1);
	CHECK_EQ(o.standin[0].kind, TRACE_OP_ALLOC);
	CHECK_EQ(o.standin[0].cpu, 1);
	CHECK_EQ(o.standin[0].order, 1);
	CHECK_EQ(o.standin[0].ev, 1);
	CHECK_EQ(o.standin[0].gfp, ZA___GFP_RECLAIMABLE);
	CHECK_EQ(o.standin[1].rec, 2);
	CHECK_EQ(o.standin[1].cpu, 0);
	CHECK_EQ(o.standin[1].gfp, ZA___GFP_MOVABLE);
	CHECK_EQ(o.standin[2].rec, 3);
	CHECK_EQ(o.standin[2].order, 3);
	CHECK_EQ(o.standin[2].gfp, ZA___GFP_MOVABLE); /* the default */
	/* the ops: each stand-in freed where the trace frees it */
	CHECK_EQ(o.nr, 7);
	CHECK_EQ(o.nr_recs, 6);
	expect_op(&o, 0, TRACE_OP_ALLOC, 0, 0, 0);
	expect_op(&o, 1, TRACE_OP_FREE, 1, 1, 1);
	CHECK_EQ(o.op[1].ev, 1);
	expect_op(&o, 2, TRACE_OP_FREE, 0, 0, 0);
	expect_op(&o, 3, TRACE_OP_FREE, 2, 0, 0);
	expect_op(&o, 4, TRACE_OP_FREE, 3, 1, 3);
	expect_op(&o, 5, TRACE_OP_ALLOC, 4, 0, 0);
	expect_op(&o, 6, TRACE_OP_ALLOC, 5, 0, 1);
	trace_ops_free(&o);
	CHECK(o.standin == NULL);
	trace_ops_free(&plain);
	trace_free(&t);
}

/* max_live bounds the pages records hold at once: an allocation that
 * would pass it ends the pairing with its line; pages freed, or handed
 * out again (a lost free), make room; the peak is reported. */
static void test_max_live(void)
{
	struct trace t;
	struct trace_ops o;

	init(&t);
	ALLOC(&t, 0, 0x100, 2); /* line 1: 4 held */
	ALLOC(&t, 0, 0x100, 2); /* line 2: the same block again: still 4 */
	FREE(&t, 0, 0x102, 1);  /* line 3: 2 held */
	ALLOC(&t, 0, 0x200, 2); /* line 4: 6 held */
	ALLOC(&t, 0, 0x300, 0); /* line 5: 7 held, one more than 6 */
	CHECK_EQ(trace_match_flags(&t, 4, 0, 6, &o), 0);
	CHECK_EQ(o.st.live_peak, 6);
	CHECK_EQ(o.st.implicit_frees, 1);
	trace_ops_free(&o);
	CHECK_EQ(trace_match_flags(&t, t.nr, TRACE_MATCH_STANDINS, 6, &o), -2);
	CHECK_EQ(o.st.over_line, 5);
	CHECK(o.op == NULL && o.standin == NULL); /* nothing left to free */
	CHECK_EQ(trace_match_flags(&t, t.nr, 0, 7, &o), 0);
	CHECK_EQ(o.st.live_peak, 7);
	trace_ops_free(&o);
	/* 0: no bound */
	CHECK_EQ(trace_match_flags(&t, t.nr, 0, 0, &o), 0);
	CHECK_EQ(o.st.live_peak, 7);
	trace_ops_free(&o);
	trace_free(&t);
}

int main(void)
{
	test_cases();
	test_lost_free_of_block();
	test_lock_batches();
	test_random();
	test_standins();
	test_max_live();
	printf("test_trace_match: ok\n");
	return 0;
}
