/*
 * stress.h - the state `zonealloc stress` shares between its parts: the
 * driver (stress.c: options, progress, summary), the client workload
 * (stress_work.c: worker threads, page tracking, fill-and-verify, the
 * migrate callback), the hotplug drivers (stress_hotplug.c), the page
 * cache with its shrinker and OOM handler (stress_reclaim.c) and the
 * --timeline sampler (stress_timeline.c).
 *
 * The client tracks every page it holds, because a client that lets
 * memory go offline must: the migrate callback has to find the owner of
 * a page from the page alone. Pages live in "boxes" (one per worker, one
 * page cache per node), each under its own mutex; a pfn-indexed owner
 * map says which box and slot hold a block's head page, and an in-use
 * byte per pfn catches the allocator handing out a page twice.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ZA_TOOL_STRESS_H
#define ZA_TOOL_STRESS_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include "tool.h"

#define ST_ORDERS (ZA_MAX_ORDER_LIMIT + 1)

enum scenario {
	SC_MIXED,
	SC_HOTPLUG,
	SC_PRESSURE,
	SC_OFFLINE,
	SC_FRAGMENT,
	SC_NR
};
extern const char *const scenario_names[SC_NR];

/* Kinds of allocation request the workload mixes. */
enum gfp_kind {
	GK_KERNEL,
	GK_MOVABLE,
	GK_ATOMIC,
	GK_NOWAIT,
	GK_RECLAIMABLE,
	GK_DMA32,
	GK_DMA,
	GK_NR
};
extern const char *const gfp_kind_names[GK_NR];

enum verify_mode { VERIFY_OFF, VERIFY_AUTO, VERIFY_FULL };
/* --inject: a deliberate client bug, to show the checks catch it. */
enum inject { INJECT_NONE, INJECT_CORRUPT, INJECT_LEAK, INJECT_UAF };

struct stress_opts {
	struct topo_opts topo;
	int scenario; /* SC_*, or -1 for all */
	unsigned seconds;
	unsigned threads;
	uint64_t seed;
	int json;
	int progress; /* 0: --quiet */
	unsigned offline_timeout_ms;
	long random_yield;        /* --random-yield, -1 unset */
	int verify;               /* --verify: VERIFY_* */
	int inject;               /* --inject: INJECT_* */
	const char *owner_report; /* --page-owner-report FILE, or NULL */
	const char *timeline;     /* --timeline FILE.csv, or NULL */
	int compaction;           /* fragment: bit 0 off, bit 1 on */
	unsigned unmovable_pct;   /* fragment: --unmovable */
	unsigned interval_ms;     /* --interval: progress and timeline tick */
};

/* The --timeline CSV: one file for the whole command, so that `--scenario
 * all` writes every scenario into it (the scenario column tells them
 * apart). Only the monitor thread touches it. */
struct timeline {
	FILE *f;
	const char *path;
	unsigned orders; /* nr_free_order_* columns, fixed by the header */
	int header_done;
	unsigned long rows;
};

/* Cumulative counters at the previous timeline row: a row holds the
 * differences, the events of its interval. */
struct tl_counts {
	uint64_t ev[ZA_NR_EVENTS];
	uint64_t ops, allocs, fails, frees, cpu_flips;
};

/* One block the client owns. */
struct slot {
	struct za_page *page;
	unsigned long pfn; /* head pfn now (migration changes it) */
	unsigned long key; /* head pfn at allocation: seeds the pattern */
	uint8_t order;
	uint8_t zeroed; /* asked for ZA_GFP_ZERO (checked, then filled) */
	int16_t cpu;    /* simulated CPU that allocated it */
};

/* A set of slots under one mutex; the owner map points into it. */
struct box {
	pthread_mutex_t lock;
	struct slot *v;
	size_t n, cap;
	unsigned id;
	unsigned long pages; /* sum of 2^order; written under lock */
};

/* Pages handed to a worker to free on its thread. */
struct inbox {
	pthread_mutex_t lock;
	struct slot *v;
	unsigned n, cap; /* n also read without the lock, as a hint */
};

/* Per-worker counters: written only by their worker (relaxed atomic
 * stores), read by the progress monitor. */
struct wstats {
	uint64_t ops;
	uint64_t allocs[ST_ORDERS], fails[ST_ORDERS];
	uint64_t fails_gfp[GK_NR], allocs_gfp[GK_NR];
	uint64_t frees, handed, cross_thread_frees, cross_cpu_frees;
	uint64_t bulk_calls, bulk_pages, bulk_free_calls, bulk_free_pages;
	uint64_t drains_local, drains_all, hops, zero_allocs, cached;
};

struct worker {
	struct stress *st;
	unsigned id;
	pthread_t thread;
	uint64_t rng;
	struct box box;
	struct inbox in;
	struct wstats s;
	unsigned long held; /* pages in box (worker's own count) */
	uint64_t next_hop;
	int started;
	int injected;
};

/* Counters any thread may bump (__atomic). */
struct gstats {
	uint64_t errors; /* every failure of a check, all kinds */
	uint64_t verify_errors, zero_errors, double_allocs, misuse;
	uint64_t migrate_ok, migrate_enoent, migrate_bad;
	/* hotplug */
	uint64_t cpu_offline, cpu_online, cpu_ebusy, cpu_errors;
	uint64_t mem_tried, mem_ok, mem_ebusy, mem_eagain, mem_enomem, mem_other,
	    mem_online_fail;
	uint64_t mem_latency_worst_us, mem_latency_total_us;
	/* reclaim */
	uint64_t cache_pages, cache_in, shrink_count_calls, shrink_scans,
	    shrink_freed, oom_calls, oom_freed;
};

struct stress {
	const struct stress_opts *o;
	enum scenario sc;
	struct topo tp;
	struct za *za;
	unsigned nthreads;
	struct worker *w;
	/* box id -> box: workers first, then one page cache per node */
	struct box **boxes;
	unsigned nboxes;
	struct box *cache[ZA_MAX_NODES];
	uint64_t *owner;      /* per pfn: (box id + 1) << 32 | slot */
	unsigned char *inuse; /* per pfn: 1 while the client holds it */
	size_t map_pfns;
	size_t page_size;
	int backed;
	uint64_t seed;
	unsigned long managed_total;
	unsigned long base_target;  /* pages per worker at 100 % */
	unsigned target_pct;        /* __atomic: pressure moves it */
	int stop_workers, stop_aux; /* __atomic */
	int progress_tty;           /* messages must clear the progress line */
	int progress_dirty;
	struct gstats g;
	struct za_shrinker shrinker;
	int shrinker_registered;
	char notimpl[256]; /* first "not implemented" report */
	pthread_mutex_t msg_lock;
	unsigned msgs;
	/* hotplug drivers */
	pthread_t cpu_thread, mem_thread;
	int cpu_thread_on, mem_thread_on;
	struct mblock {
		int nid;
		unsigned long pfn;
		void *base;
		int offline; /* left offline after a failed re-online */
	} * mblocks;
	unsigned nr_mblocks;
	/* --timeline (NULL without it): the zones sampled, fixed when the
	 * scenario starts (nid * ZA_NR_ZONES + zone), and the counters at
	 * the last row. */
	struct timeline *tl;
	unsigned short tl_zone[TOPO_MAX_RANGES];
	unsigned tl_nzones;
	struct tl_counts tl_last;
};

#define G_ADD(st, field, n)                                                   \
	__atomic_add_fetch(&(st)->g.field, (n), __ATOMIC_RELAXED)
#define G_GET(st, field) __atomic_load_n(&(st)->g.field, __ATOMIC_RELAXED)
/* Single-writer counters: a relaxed store the monitor can read. */
#define W_ADD(w, field, n)                                                    \
	__atomic_store_n(&(w)->s.field, (w)->s.field + (n), __ATOMIC_RELAXED)

/* A failed check: counted, and the first few described on stderr. */
void st_fail(struct stress *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A note (not a failure), same rate limit. */
void st_note(struct stress *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* stress.c: the workers' counters summed (each read relaxed), and the
 * pages in the page caches of every node. */
void stress_sum_stats(struct stress *st, struct wstats *t);
unsigned long stress_cached_pages(struct stress *st);

/* stress_work.c */
int work_setup(struct stress *st); /* maps, boxes, workers */
int work_start(struct stress *st); /* starts the workers */
void work_stop(struct stress *st); /* stops and joins them */
/* Verifies and frees every page the client still holds (boxes,
 * inboxes, caches); what is wrong goes through st_fail. */
void work_release_all(struct stress *st);
/* Pages of [pfn, pfn + nr) the client thinks it holds (should be 0
 * after the range went offline). */
unsigned long work_owned_in(struct stress *st, unsigned long pfn,
                            unsigned long nr);
void work_teardown(struct stress *st);
/* The workload's allocation sites. They are exported and never inlined
 * (the tool is linked with ENABLE_EXPORTS) so that page owner's reports
 * (--page-owner) name them rather than an address. */
struct profile;
int stress_alloc_one(struct worker *w, const struct profile *p);
void stress_bulk_alloc(struct worker *w);
void stress_inject_use_after_free(struct worker *w);
int stress_migrate(void *ctx, struct za_page *dst, struct za_page *src,
                   unsigned order);
void stress_error_handler(void *ctx, int err, const char *msg);
/* Frees one slot that is in no box: verify, untrack, za_free_pages. */
void work_release(struct stress *st, const struct slot *s);
/* Box operations, lock held. */
void box_add_locked(struct stress *st, struct box *b, const struct slot *s);
void box_take_locked(struct stress *st, struct box *b, size_t idx,
                     struct slot *out);
int box_init(struct box *b, unsigned id);

/* stress_hotplug.c */
int hotplug_start(struct stress *st); /* CPU and/or memory drivers */
void hotplug_stop(struct stress *st); /* joins; everything back online */

/* stress_reclaim.c */
int reclaim_setup(struct stress *st); /* shrinker + OOM handler */
void reclaim_teardown(struct stress *st);
/* Moves a slot (in no box) into the page cache of its node. */
void cache_put(struct stress *st, const struct slot *s);

/* stress_timeline.c: called from the monitor thread only.
 * timeline_open creates (truncates) the file: 0, or -1 with the reason
 * printed. timeline_start picks the populated zones of a scenario that is
 * about to start and writes its row at time 0 (and the header before the
 * first). timeline_sample writes one row per zone for the interval that
 * ends at t seconds. timeline_close: 0, or -1 when a write failed (the
 * reason printed). */
int timeline_open(struct timeline *tl, const char *path, const char *cmd);
void timeline_start(struct stress *st);
void timeline_sample(struct stress *st, double t);
int timeline_close(struct timeline *tl, const char *cmd);

/* stress_fragment.c: the fragment scenario's topology, planned and not
 * built (*tp), checked against what its client can track (at most 2^20
 * blocks per thread): 0, or EXIT_USAGE with the reason printed. */
int fragment_plan(const struct stress_opts *o, struct topo *tp);
/* stress_fragment.c: the fragment scenario, run apart from the others
 * (its own allocator per mode). *stop ends it early. Returns an exit
 * code; with --json, the summary object in *json_out. */
int stress_fragment(const struct stress_opts *o,
                    const volatile sig_atomic_t *stop, char **json_out);

#endif /* ZA_TOOL_STRESS_H */
