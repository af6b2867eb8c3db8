/*
 * bench_replay.h - the replay workload's interface to the benchmark
 * driver: load a kernel page-allocator trace once, then let each benchmark
 * thread replay its share of it against the allocator under test.
 * Built only when the trace parser (tools/trace.h) is present; the driver
 * then defines BENCH_HAVE_REPLAY.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BENCH_REPLAY_H
#define BENCH_REPLAY_H

#include <stdint.h>
#include <stdio.h>

#ifdef BENCH_HAVE_REPLAY
struct bench_replay;
struct bench_replay_thread;

/* Parse the trace (its first max_events events; 0: all) and split it for
 * nthreads threads; NULL on failure (reason written to err). */
struct bench_replay *bench_replay_load(const char *path,
                                       unsigned long max_events,
                                       unsigned nthreads, FILE *err);
void bench_replay_unload(struct bench_replay *r);
/* In each benchmark thread. NULL on failure. */
struct bench_replay_thread *bench_replay_thread_init(struct bench_replay *r,
                                                     unsigned idx);
/* Replay the thread's share once, then free what the trace never freed;
 * returns the ops done (an op = one allocation and its free) and adds the
 * allocations that failed to *fails. The threads of one replay pass in
 * step: thread 0 alone asks stop(ctx) whether another pass should follow
 * and every thread gets the answer in *again. */
uint64_t bench_replay_pass(struct bench_replay_thread *t, uint64_t *fails,
                           int (*stop)(void *ctx), void *ctx, int *again);
void bench_replay_thread_fini(struct bench_replay_thread *t);
#endif

#endif /* BENCH_REPLAY_H */
