/*
 * replay.c - the benchmark's replay workload: a real kernel page-allocator
 * trace (tools/trace.h parses it and pairs frees with allocations) run
 * against the allocator under test, threaded.
 *
 * Threaded mode: the trace's CPU c is replayed by benchmark thread
 * c % nthreads, each thread in trace order. A block allocated on one
 * thread and freed on another is handed over through its record's slot:
 * the freeing thread waits until the allocating thread has filled it
 * (frees always follow their allocation in the op list, so the wait
 * cannot deadlock). One pass = every op of the trace, then the blocks the
 * trace never freed are freed too, so each pass starts from the same
 * state. The trace's gfp flags are not passed on (the peers have none):
 * every request is an ordinary one of the block's order.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_alloc.h"
#include "bench_replay.h"
#include "trace.h"

#define REPLAY_MAX_THREADS 8
#define FAILED ((void *)1) /* the allocation was made and returned NULL */

struct rop { /* one op, as a thread replays it */
	uint32_t rec;
	uint8_t kind;
	uint8_t order;
};

struct bench_replay {
	unsigned nthreads;
	uint32_t nr_recs;
	_Atomic(void *) *slot; /* per record: NULL, a block, or FAILED */
	uint8_t *rec_order;
	struct rop *ops[REPLAY_MAX_THREADS];
	size_t nr_ops[REPLAY_MAX_THREADS];
	uint32_t *owned[REPLAY_MAX_THREADS]; /* records each thread allocates */
	size_t nr_owned[REPLAY_MAX_THREADS];
	/* a sense-reversing spin barrier for the threads of one pass */
	_Alignas(64) _Atomic unsigned arrived;
	_Atomic unsigned sense;
	int again;
	struct bench_replay_thread *threads[REPLAY_MAX_THREADS];
};

struct bench_replay_thread {
	struct bench_replay *r;
	unsigned idx;
	unsigned sense;
};

static inline void replay_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ volatile("" ::: "memory");
#endif
}

static void replay_barrier(struct bench_replay_thread *t)
{
	struct bench_replay *r = t->r;

	t->sense ^= 1;
	if (atomic_fetch_add(&r->arrived, 1) + 1 == r->nthreads) {
		atomic_store(&r->arrived, 0);
		atomic_store_explicit(&r->sense, t->sense, memory_order_release);
	} else {
		while (atomic_load_explicit(&r->sense, memory_order_acquire) !=
		       t->sense)
			replay_relax();
	}
}

/* The paired trace, loaded once per process and shared by every replay
 * measurement (the 1- and 2-thread runs of every variant). */
static struct trace_ops cached;
static int cached_ok;

static int load_cached(const char *path, unsigned long max_events, FILE *err)
{
	struct trace_load_opts lo;
	struct trace t;
	char msg[256];

	if (cached_ok)
		return 0;
	memset(&lo, 0, sizeof(lo));
	lo.limit = max_events;
	if (trace_load(&t, path, &lo, msg, sizeof(msg))) {
		fprintf(err, "replay: %s: %s\n", path, msg);
		trace_free(&t);
		return -1;
	}
	memset(&cached, 0, sizeof(cached));
	if (trace_match(&t, t.nr, &cached)) {
		fprintf(err, "replay: out of memory pairing the trace\n");
		trace_free(&t);
		return -1;
	}
	fprintf(err,
	        "replay: %s: %zu events -> %zu ops, %u blocks (%llu never "
	        "freed by the trace, %llu frees of older blocks skipped)\n",
	        path, t.nr, cached.nr, cached.nr_recs,
	        (unsigned long long)cached.st.never_freed,
	        (unsigned long long)cached.st.frees_unmatched);
	trace_free(&t);
	cached_ok = 1;
	return 0;
}

struct bench_replay *bench_replay_load(const char *path,
                                       unsigned long max_events,
                                       unsigned nthreads, FILE *err)
{
	const struct trace_ops *tops = &cached;
	struct bench_replay *r;
	size_t i;

	if (nthreads < 1 || nthreads > REPLAY_MAX_THREADS)
		return NULL;
	if (load_cached(path, max_events, err))
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		goto nomem;
	r->nthreads = nthreads;
	r->nr_recs = tops->nr_recs;
	r->slot = calloc(tops->nr_recs ? tops->nr_recs : 1, sizeof(*r->slot));
	r->rec_order = calloc(tops->nr_recs ? tops->nr_recs : 1, 1);
	if (!r->slot || !r->rec_order)
		goto nomem;
	for (i = 0; i < tops->nr; i++) {
		unsigned th = tops->op[i].cpu % nthreads;

		r->nr_ops[th]++;
		if (tops->op[i].kind == TRACE_OP_ALLOC)
			r->nr_owned[th]++;
	}
	for (unsigned th = 0; th < nthreads; th++) {
		r->ops[th] = malloc((r->nr_ops[th] + 1) * sizeof(struct rop));
		r->owned[th] = malloc((r->nr_owned[th] + 1) * sizeof(uint32_t));
		if (!r->ops[th] || !r->owned[th])
			goto nomem;
		r->nr_ops[th] = r->nr_owned[th] = 0;
	}
	for (i = 0; i < tops->nr; i++) {
		const struct trace_op *op = &tops->op[i];
		unsigned th = op->cpu % nthreads;

		r->ops[th][r->nr_ops[th]++] = (struct rop){ op->rec, op->kind,
			                                        op->order };
		if (op->kind == TRACE_OP_ALLOC) {
			r->owned[th][r->nr_owned[th]++] = op->rec;
			r->rec_order[op->rec] = op->order;
		}
	}
	return r;
nomem:
	fprintf(err, "replay: out of memory\n");
	bench_replay_unload(r);
	return NULL;
}

void bench_replay_unload(struct bench_replay *r)
{
	if (!r)
		return;
	for (unsigned th = 0; th < REPLAY_MAX_THREADS; th++) {
		free(r->ops[th]);
		free(r->owned[th]);
	}
	free(r->slot);
	free(r->rec_order);
	free(r);
}

struct bench_replay_thread *bench_replay_thread_init(struct bench_replay *r,
                                                     unsigned idx)
{
	struct bench_replay_thread *t;

	if (!r || idx >= r->nthreads)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->r = r;
	t->idx = idx;
	t->sense = 0;
	return t;
}

void bench_replay_thread_fini(struct bench_replay_thread *t)
{
	free(t);
}

uint64_t bench_replay_pass(struct bench_replay_thread *t, uint64_t *fails,
                           int (*stop)(void *ctx), void *ctx, int *again)
{
	struct bench_replay *r = t->r;
	const struct rop *ops = r->ops[t->idx];
	size_t n = r->nr_ops[t->idx];
	uint64_t done = 0, failed = 0;

	for (size_t i = 0; i < n; i++) {
		_Atomic(void *) *slot = &r->slot[ops[i].rec];
		void *p;

		if (ops[i].kind == TRACE_OP_ALLOC) {
			p = ba_alloc(ops[i].order);
			if (p)
				done++;
			else
				failed++;
			atomic_store_explicit(slot, p ? p : FAILED, memory_order_release);
		} else {
			while (!(p = atomic_load_explicit(slot, memory_order_acquire)))
				replay_relax();
			if (p != FAILED)
				ba_free(p, ops[i].order);
			atomic_store_explicit(slot, NULL, memory_order_relaxed);
		}
	}
	replay_barrier(t);
	/* What the trace never freed: each thread frees what it allocated. */
	for (size_t i = 0; i < r->nr_owned[t->idx]; i++) {
		uint32_t rec = r->owned[t->idx][i];
		void *p = atomic_load_explicit(&r->slot[rec], memory_order_relaxed);

		if (p) {
			if (p != FAILED)
				ba_free(p, r->rec_order[rec]);
			atomic_store_explicit(&r->slot[rec], NULL, memory_order_relaxed);
		}
	}
	if (t->idx == 0)
		r->again = !stop(ctx);
	replay_barrier(t);
	*again = r->again;
	*fails += failed;
	return done;
}
