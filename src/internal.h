/*
 * internal.h - the types of zonealloc and the interfaces between its
 * modules. Tests include it to reach internals.
 *
 * Glossary
 *  page      one frame of 2^page_shift bytes, named by its frame number
 *            (pfn). Its metadata is a 16-byte struct za_page in the
 *            memmap, a virtually contiguous array indexed by pfn.
 *  order     a block of order k is 2^k pages aligned to 2^k pages.
 *  buddy     the block of the same order that a block merges with:
 *            pfn ^ (1 << order).
 *  block     the unit of memory hotplug (block_pages, 128 MiB by default).
 *            Every block belongs to one zone for as long as it is online,
 *            and it is at least one max-order block, so a buddy always lies
 *            in the same block (and zone) as its partner.
 *  pageblock 2^pageblock_order pages with one migratetype, stored in a
 *            byte array of its own (za.pb_mt), read-mostly: kept out of
 *            the page metadata so that reading it on every free does not
 *            share a cache line with a page another CPU is using.
 *  migratetype UNMOVABLE, MOVABLE, RECLAIMABLE (the "pcp types"), plus
 *            HIGHATOMIC (reserved for high-order atomic requests) and
 *            ISOLATE (being taken away: never allocated from).
 *  zone      DMA, DMA32, NORMAL, MOVABLE of one node: buddy free lists per
 *            order and migratetype under one spin lock, watermarks, and a
 *            per-CPU page set for every possible CPU.
 *  node      a NUMA node: four zones, CPUs, a distance to other nodes, a
 *            zonelist, and a background reclaim thread (kswapd).
 *  pcp       per-CPU page set of one (CPU, zone): LIFO lists by order and
 *            migratetype, with its own spin lock. The owner try-locks it, a
 *            remote drainer locks it. It also holds that CPU's statistics
 *            deltas and event counts for the zone.
 *  zonelist  per node, the zones to try in order; updated in place under a
 *            sequence count.
 *  watermark min/low/high free-page levels per zone.
 *
 * Lock order, outermost first: mem_hotplug_lock, cpu_hotplug_lock,
 * drain_lock, pcp lock, zone lock, leaf mutexes. Client callbacks run with
 * no pcp, zone or leaf lock held. Functions whose name ends in _locked
 * expect the caller to hold the lock the name says.
 */
#ifndef ZA_INTERNAL_H
#define ZA_INTERNAL_H

#include "namespace.h" /* first: the private names */

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>  /* snprintf, vsnprintf: all the core uses of it */
#include <string.h> /* memset, memcpy, strlen, strcmp, strncmp */

#include "platform.h"
#include "zonealloc.h"

#ifndef ZA_DEBUG
#define ZA_DEBUG 0
#endif
/* Debug level as a constant so debug code always type-checks. */
static const int za_debug = ZA_DEBUG;

#ifndef EUCLEAN
#define EUCLEAN EINVAL
#endif

#define ZA_CACHELINE 64
#define ZA_NIL UINT32_MAX    /* end of a list of pfns */
#define ZA_PCP_SMALL_ORDER 3 /* orders 0..3 have pcp lists */
/* Orders 4..8 below the pageblock order have lists too, holding at most
 * pcp_mid_budget pages per page set (at least ZA_PCP_MID_BYTES worth):
 * refilled, split and flushed as pcp.c says ("orders 4..8"). */
#define ZA_PCP_MID_MAX_ORDER 8
#define ZA_PCP_MID_BYTES (1ul << 20)
#define ZA_NR_PCPTYPES 3 /* UNMOVABLE, MOVABLE, RECLAIMABLE */
#define ZA_PCP_MID_BASE (ZA_NR_PCPTYPES * (ZA_PCP_SMALL_ORDER + 1))
#define ZA_PCP_PB_BASE                                                        \
	(ZA_PCP_MID_BASE +                                                        \
	 ZA_NR_PCPTYPES * (ZA_PCP_MID_MAX_ORDER - ZA_PCP_SMALL_ORDER))
#define ZA_NR_PCP_LISTS (ZA_PCP_PB_BASE + ZA_NR_PCPTYPES)
/* Cuts of one owner's lists (racing double frees: a page set, a zone's
 * buddy lists) that wait for their report named by pfn; more are counted
 * (struct za_cuts, struct za_pcp). */
#define ZA_CUTS_KEPT 4
#define ZA_PCP_CUTS_KEPT ZA_CUTS_KEPT
/* struct za_cuts.order of a cut whose list's order was not kept. */
#define ZA_CUT_NO_ORDER 0xff

/* Cuts of one owner's lists waiting for their report, in the order they
 * were made: the first n by pfn and the order of the list cut, and how
 * many more were cut once every slot was taken (named in the last report,
 * by number). A zone keeps its buddy lists' cuts so, noted and taken
 * under its lock (za_cuts_note_locked, buddy_report_corrupt_slow); a page
 * set keeps its cuts in fields of its own, noted against a report that
 * does not hold the set (pcp_cut_note), and fills one when it takes them.
 * Both report them with _za_report_cuts. */
struct za_cuts {
	uint32_t pfn[ZA_CUTS_KEPT];
	uint8_t order[ZA_CUTS_KEPT]; /* ZA_CUT_NO_ORDER: not kept */
	uint8_t n;                   /* pfn[0..n): relaxed for readers */
	uint32_t unnamed;
};

/* Keep a cut for its report, the owner's lock held (a zone's): named
 * while a slot is free, else counted. Never overwrites or drops one. */
static inline void za_cuts_note_locked(struct za_cuts *c, uint32_t pfn,
                                       unsigned order)
{
	if (c->n < ZA_CUTS_KEPT) {
		c->pfn[c->n] = pfn;
		c->order[c->n] = (uint8_t)order;
		za_store_relaxed(&c->n, (uint8_t)(c->n + 1));
	} else {
		c->unnamed++;
	}
}

/* --- assertions ------------------------------------------------------------ */

/* Graded assertions, compiled in every build: za_debug is a constant, so a
 * release build type-checks the condition and the compiler drops it (never
 * an empty macro that lets a stale condition rot).
 *   ZA_ASSERT            ZA_DEBUG >= 1 (Debug, sanitizer, mutant builds):
 *                        cheap, a few loads; lock-held checks, page states.
 *   ZA_ASSERT_EXPENSIVE  ZA_DEBUG >= 2 (make check's level-2 build): walks
 *                        a list or every page of a block.
 *   ZA_ASSERT_PAGE       as ZA_ASSERT, and prints the page's metadata. */
#define ZA_DEBUG_INTERNAL 1
#define ZA_DEBUG_EXPENSIVE 2
#define ZA_ASSERT_LEVEL(level, cond)                                          \
	do {                                                                      \
		if (za_debug >= (level) && unlikely(!(cond)))                         \
			_za_assert_fail(__FILE__, __LINE__, #cond);                       \
	} while (0)
#define ZA_ASSERT(cond) ZA_ASSERT_LEVEL(ZA_DEBUG_INTERNAL, cond)
#define ZA_ASSERT_EXPENSIVE(cond) ZA_ASSERT_LEVEL(ZA_DEBUG_EXPENSIVE, cond)
/* A fact the callers guarantee, for the compiler to drop the code that
 * would handle the other case: checked as ZA_ASSERT where assertions are
 * on, a promise to the optimiser where they are off. */
#define ZA_ASSUME(cond)                                                       \
	do {                                                                      \
		ZA_ASSERT(cond);                                                      \
		if (!za_debug && !(cond))                                             \
			__builtin_unreachable();                                          \
	} while (0)
#define ZA_ASSERT_PAGE(za, page, cond)                                        \
	do {                                                                      \
		if (za_debug >= ZA_DEBUG_INTERNAL && unlikely(!(cond)))               \
			_za_assert_page_fail(__FILE__, __LINE__, #cond, (za), (page));    \
	} while (0)
_Noreturn void _za_assert_fail(const char *file, int line, const char *what);
struct za;
struct za_page;
_Noreturn void _za_assert_page_fail(const char *file, int line,
                                    const char *what, const struct za *za,
                                    const struct za_page *page);

/* Lock-held assertions (the kernel's lockdep_assert_held) at the top of
 * every function whose caller must hold a lock: every *_locked function
 * and those documented "caller holds". The spin locks are checked both
 * ways: held by somebody, and held by this thread according to the
 * witness (ZA_DEBUG >= 1 only, where the witness runs). */
#define zone_assert_held(z)                                                   \
	ZA_ASSERT(za_spin_is_locked(&(z)->lock) &&                                \
	          za_witness_holds(ZA_RANK_ZONE, &(z)->lock))
/* The owner's hold or a remote user's (pcp_held, below). */
#define pcp_assert_held(za, pcp)                                              \
	ZA_ASSERT(pcp_held((za), (pcp)) && za_witness_holds(ZA_RANK_PCP, (pcp)))
/* A remote user's hold: the set's spin lock, by this thread. */
#define pcp_assert_locked(pcp)                                                \
	ZA_ASSERT(za_spin_is_locked(&(pcp)->lock) && za_witness_held(ZA_RANK_PCP))
#define mutex_assert_held(m) ZA_ASSERT(za_witness_holds((m)->rank, (m)))
/* By the witness, which names both locks when it fires (every holder
 * goes through mem_hotplug_lock(), which records its owner too). */
#define mem_hotplug_assert_held(za) mutex_assert_held(&(za)->mem_hotplug_lock)
#define cpu_hotplug_assert_held(za) mutex_assert_held(&(za)->cpu_hotplug_lock)

/* --- output (output.c) ------------------------------------------------------- */

/* Where reports, za_check and messages write: a writer and its context
 * (write NULL: nowhere). The core formats with snprintf-style functions
 * only and never sees a FILE. */
struct za_out {
	za_write_fn write;
	void *ctx;
};
void za_out_write(struct za_out *o, const char *s, size_t n);
void za_out_puts(struct za_out *o, const char *s);
void za_out_putc(struct za_out *o, char c);
void za_out_vprintf(struct za_out *o, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
void za_out_printf(struct za_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A message on the platform's error output (za_os_error_write). */
void za_err_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- page metadata --------------------------------------------------------- */

/* Page states (za_page.state). Only the head page of a block carries
 * BUDDY, PCP or ALLOC; every other page of a block is NONE. Transitions
 * to and from BUDDY happen under the zone lock; PCP <-> ALLOC with the
 * page set owned; a free claims ALLOC -> FREEING (or ALLOC -> PCP on the
 * restartable fast path) by compare-and-swap when frees are strict, which
 * turns a concurrent double free into a report at once, and otherwise by
 * a check and a store, with the hand-out counts (gen, free_gen) catching
 * a racing one later (pcp_head_ok_on, free_one_page). */
enum za_page_state {
	ZA_PS_NONE = 0,  /* not the head of any block */
	ZA_PS_BUDDY,     /* head of a free block on a buddy list */
	ZA_PS_PCP,       /* head of a free block on a pcp list */
	ZA_PS_ALLOC,     /* head of a block handed out to the caller */
	ZA_PS_FREEING,   /* being freed: between ALLOC and PCP/BUDDY */
	ZA_PS_OFFLINE,   /* taken out by memory offline or contig allocation */
	ZA_PS_REPORTING, /* free, held off the lists by free page reporting
	                  * while the client's callback runs (reporting.c) */
};

struct za_page {
	uint32_t next;   /* list link (pfn) or ZA_NIL: zone or pcp lock */
	uint32_t prev;   /* buddy lists only: zone lock */
	uint8_t state;   /* enum za_page_state, atomic */
	uint8_t order;   /* order of the block this page heads */
	uint8_t mt;      /* free: list's migratetype; ALLOC: requested type */
	uint8_t zone_id; /* zone_id_make(nid, type); fixed while online */
	/* Per-CPU list bookkeeping that catches two frees of one block racing
	 * on two CPUs (frees claim without a CAS unless strict): the CPU whose
	 * list the block was put on, how many times it was handed out (mod
	 * 256: a free stalled over 256 hand-outs is not caught, pcp.h
	 * pcp_head_ok_on), and that count as the free that put it there saw
	 * it. A pop hands the block out only when all three agree
	 * (pcp_take_locked); a free to the buddy lists only when the count
	 * is the one its claim read (free_one_page). */
	uint16_t pcp_cpu; /* written by the owner that puts it on its list */
	uint8_t gen;      /* hand-outs, by the owner that hands it out */
	uint8_t free_gen; /* gen seen by the free that claimed it */
};
_Static_assert(sizeof(struct za_page) == 16, "page metadata is 16 bytes");

/* za_page.order of a contiguous range's head (contig.c): no buddy order,
 * the range's length is the caller's. */
#define ZA_CONTIG_ORDER 0xff

/* A zone id packs a node and a zone type into one byte (za_page.zone_id,
 * za_section.zone_id, za_zone.id): the type in the low bits. */
#define ZA_ZONE_ID_SHIFT 2
_Static_assert(ZA_NR_ZONES <= (1 << ZA_ZONE_ID_SHIFT),
               "a zone type fits the low bits of a zone id");
_Static_assert((ZA_MAX_NODES << ZA_ZONE_ID_SHIFT) <= 256,
               "a zone id fits in a byte");
static inline uint8_t zone_id_make(int nid, int type)
{
	return (uint8_t)((nid << ZA_ZONE_ID_SHIFT) | type);
}
static inline int zone_id_nid(uint8_t id)
{
	return id >> ZA_ZONE_ID_SHIFT;
}
static inline int zone_id_type(uint8_t id)
{
	return id & ((1 << ZA_ZONE_ID_SHIFT) - 1);
}

/* --- per-CPU page set ---------------------------------------------------- */

#define ZA_PCP_OFF_CPU 0x1  /* CPU offline */
#define ZA_PCP_OFF_ZONE 0x2 /* zone's pcp lists disabled (memory offline) */
#define ZA_PCP_OFF_MASK (ZA_PCP_OFF_CPU | ZA_PCP_OFF_ZONE)
/* New sizes are published in the zone (struct za_pcp_sizes): whoever
 * next holds the set, owner or remote user, copies them in
 * (pcp_flags_slow). Set without holding the set, so that a resize stops
 * no page set and waits for no owner. */
#define ZA_PCP_RESIZE 0x4
/* With OFF_CPU: the CPU went offline while an owner that took the set
 * before the stop still held it (preempted in the middle of an
 * operation). The offline did not wait for it: the set takes no page
 * from then on, and its drain and statistics fold are left to the
 * statistics worker (pcp_finish_deferred), which does them as soon as
 * that owner lets go. Cleared by whoever finishes them, or by the CPU's
 * online. */
#define ZA_PCP_DEFERRED 0x8

/* Who may touch a page set (see "owning a page set" below): the set's
 * lock in locked mode; in restartable mode the owner's busy byte, taken
 * by a restartable sequence, or a remote user's stop byte. */
union za_pcp_own {
	uint16_t word; /* the sequence tests both bytes at once */
	struct {
		uint8_t busy; /* an owner on the set's CPU holds it */
		uint8_t stop; /* a remote user has stopped the set */
	};
};

struct za_pcp {
	/* Hot fields first (lock to lists: the first two cache lines), then
	 * statistics. All fields are protected by owning the set; fields read
	 * remotely without it are accessed with relaxed atomics. */
	za_spinlock_t lock;   /* locked mode: the set; restartable: remote users */
	union za_pcp_own own; /* restartable mode */
	/* ZA_PCP_OFF_*: the lists take no pages; ZA_PCP_RESIZE;
	 * ZA_PCP_DEFERRED. Atomic: remote users set and clear bits with
	 * read-modify-writes (OFF_* set while holding the set, except by a
	 * CPU offline that defers: then with DEFERRED, while an owner
	 * finishes the one operation it started), the holder clears RESIZE.
	 * Right after own: the fast paths' sequence tests it with stop
	 * (za_rseq_own_clear). */
	uint8_t flags;
	/* The zone is on the CPU's node (fixed): an allocation of the
	 * restartable fast path from it is a NUMA hit and local. */
	uint8_t numa_local;
	struct za_zone *zone; /* the zone it belongs to (fixed) */
	uint16_t cpu;         /* the CPU the set belongs to (fixed) */
	uint8_t free_factor;  /* flush batches grow for streams of frees */
	/* The zone's fast_ok, copied into every set of the zone by
	 * zone_fast_refresh: the restartable fast path tests it here, in the
	 * line it owns the set in, one load after the set instead of two
	 * (set, zone, byte). Relaxed; the refresh writes it. */
	uint8_t fast_ok;
	uint16_t alloc_factor;  /* refill batches grow for allocation streams */
	int count;              /* pages on the lists (relaxed for readers) */
	int mid_pages;          /* of those, on the lists of orders 4..8 */
	int high;               /* flush to the buddy lists above this */
	int batch;              /* pages moved per refill / flush */
	int high_min, high_max; /* bounds for the self-sizing high */
	/* high when memory pressure trimmed the set (0: not trimmed): given
	 * back when the pressure ends. Holder only. */
	int high_saved;
	uint32_t lists[ZA_NR_PCP_LISTS]; /* LIFO heads, linked by page.next */
	/* A list head found not free (racing double free): pfn to report,
	 * else ZA_NIL - the first of the cuts waiting for their report
	 * (corrupt_next has the others). Holder writes (pcp_cut_locked);
	 * whoever lets the set go reports, taking them (pcp.h,
	 * pcp_report_corrupt). */
	uint32_t corrupt_pfn;
	/* Statistics deltas and events of this CPU for this zone: lock. */
	int32_t vm_diff[ZA_NR_ZONE_STATS];
	/* count as the statistics last saw it. A block handed out from the
	 * lists or freed onto them changes count and nothing else: this
	 * CPU's delta of NR_ZONE_ALLOCATED is vm_diff[] of it plus
	 * alloc_base - count, so that the fast paths count allocated pages
	 * by the store of count they make anyway. Whatever else moves pages
	 * on or off the lists (refill, flush, drain, a cut) moves alloc_base
	 * with count; a fold adds the difference to the zone's value and
	 * sets alloc_base to count. Holder writes, readers relaxed. */
	long alloc_base;
	uint32_t trips_since_decay; /* refills + flushes: self-sizing input */
	/* Pages flushed over high that no refill has taken back yet: what a
	 * refill takes back of them grows high (pcp.c). Holder only. */
	int flushed_debt;
	/* Pages high grew by since the last decay pass: that pass takes
	 * back up to as much (at most its usual step) from a list that is
	 * still busy (pcp.c, pcp_decay_all). Holder writes; the decay reads
	 * it relaxed to decide whether to stop a busy set. */
	int grown_since_decay;
	/* Allocation and free events at the periodic worker's last look: it
	 * leaves a set whose owner is busy alone. The worker's own. */
	uint64_t tick_events;
	/* Allocations that were both a NUMA hit and local, the common case,
	 * counted once here instead of twice: part of numa_hit and of
	 * numa_local (pcp_event). */
	uint64_t numa_hit_local;
	/* What the restartable fast paths hand out and take back, by order:
	 * one increment each instead of the pages to PGALLOC or PGFREE and,
	 * for an allocation (always a NUMA hit and local there), the one to
	 * numa_hit_local; readers add them in (pcp_event). */
	uint64_t fast_alloc[ZA_PCP_SMALL_ORDER + 1];
	uint64_t fast_free[ZA_PCP_SMALL_ORDER + 1];
	uint64_t events[ZA_NR_EVENTS];
	/* Cuts made while corrupt_pfn was taken, waiting for their report
	 * with it: their pfns (ZA_NIL: a free slot), and how many more were
	 * cut once every slot was taken (reported by number). Never set
	 * while corrupt_pfn is ZA_NIL but for a moment inside
	 * pcp_cut_locked, so that the let-go paths test corrupt_pfn alone. */
	uint32_t corrupt_next[ZA_PCP_CUTS_KEPT - 1];
	uint32_t corrupt_unnamed;
} __attribute__((aligned(ZA_CACHELINE)));

/* A zone's global value of a statistics item (an lvalue). */
#define zone_vm_stat(z, item) ((z)->vm_stat[(item)].v)

/* --- zone ------------------------------------------------------------------- */

enum { ZA_WMARK_MIN, ZA_WMARK_LOW, ZA_WMARK_HIGH, ZA_NR_WMARKS };
_Static_assert(offsetof(struct za_pcp, flags) ==
                   offsetof(struct za_pcp, own) + sizeof(union za_pcp_own),
               "a set's flags follow its ownership word (za_rseq_own_clear)");

/* A zone's page-set sizes as the tunables recompute (watermark.c)
 * publishes them for every set of the zone; each set copies them when
 * it sees ZA_PCP_RESIZE. Written under za.tunables_lock inside
 * pcp_sizes_seq (odd while it changes), read relaxed and retried. */
struct za_pcp_sizes {
	int batch, high_min, high_max;
	int pressure; /* memory is short: high stays at high_min */
};

/* za_zone.fast_ok's bit for requests whose highest zone type is hz: bits
 * 2-5, so that the low bits of za.rseq_pcp's entries can hold a list's
 * type beside it. */
#define ZONE_FAST_OK_BIT(hz) (1u << ((hz) + 2))

struct za_zone {
	/* Read-mostly: written under za->mem_hotplug_lock (and the zone lock
	 * where the buddy code reads them), read locklessly with relaxed
	 * atomics. */
	struct za *za;
	struct za_node *node;
	int nid;
	enum za_zone_type type;
	uint8_t id; /* zone_id_make(nid, type) */
	/* The fast paths' watermark check, made when its inputs change
	 * rather than on every allocation: bit hz set when the zone is
	 * clearly above its low mark for a request whose highest zone index
	 * is hz (zone_fast_mask). Kept by zone_fast_refresh (atomic); the
	 * fast paths read this byte, in a line nobody writes often, instead
	 * of the free-page count, which other CPUs fold into. */
	uint8_t fast_ok; /* bit ZONE_FAST_OK_BIT(hz) */
	/* Bumped (atomic) by whoever changes an input of fast_ok other than
	 * the free-page count: the marks, the reserves, the drift mark, the
	 * high-order atomic reserve (zone_fast_refresh). */
	unsigned fast_gen;
	unsigned long wmark[ZA_NR_WMARKS];
	unsigned long lowmem_reserve[ZA_NR_ZONES];
	unsigned long percpu_drift_mark; /* below it, use the snapshot */
	int stat_threshold;
	struct za_pcp_sizes pcp_sizes;
	unsigned pcp_sizes_seq;
	struct za_pcp *pcp; /* [nr_cpus]; fixed for the za's life */

	/* Span: zone lock to write (with mem_hotplug_lock), relaxed reads.
	 * start_pfn, end_pfn and present_pages change together, inside
	 * span_seq (zone_span_write_locked, zone_span_read). */
	unsigned long start_pfn, end_pfn; /* end exclusive; 0,0 when empty */
	unsigned long present_pages, managed_pages;
	unsigned span_seq; /* odd while the span changes */

	/* The buddy allocator: zone lock. nr_free is read locklessly by the
	 * watermark check (relaxed). */
	za_spinlock_t lock __attribute__((aligned(ZA_CACHELINE)));
	uint32_t free_head[ZA_MAX_ORDER_LIMIT + 1][ZA_NR_MIGRATETYPES];
	/* Blocks per list; nr_free[max_order][MOVABLE] also counts the
	 * max-order blocks of the lazy sections not initialised yet
	 * (nr_lazy_blocks), which are on no list. */
	unsigned long nr_free[ZA_MAX_ORDER_LIMIT + 1][ZA_NR_MIGRATETYPES];
	/* Blocks found heading a free list that were not free blocks there
	 * (a racing double free left them on a per-CPU list too): each cut
	 * list's head and order, kept for its report (none dropped for one
	 * already waiting). Zone lock to note and take; cuts.n relaxed for
	 * readers; reported once the lock is let go (buddy_report_corrupt). */
	struct za_cuts cuts;
	uint32_t lazy_head;    /* first lazy section, or ZA_NIL */
	unsigned long nr_lazy; /* sections on the lazy list */
	/* Their max-order blocks not initialised yet: the sum of their
	 * lazy_left (struct za_section). */
	unsigned long nr_lazy_blocks;
	unsigned long nr_isolate_pageblock;
	/* Pages in pageblocks reserved for high-order atomic requests
	 * (relaxed reads by the watermark check). */
	unsigned long nr_reserved_highatomic;

	/* The zone's pcp lists are disabled (memory offline, contig
	 * allocation): written under mem_hotplug_lock, read relaxed by
	 * za_zone_info. One operation at a time, so it does not nest. */
	uint8_t pcp_disabled;

	/* Global statistics values (atomic), one to a cache line. Every
	 * fast-path allocation reads the free-page count; the other values
	 * are folded into often (the allocated-page count at every
	 * threshold's worth of fast-path allocations), and the slow-path
	 * events below are bumped on every buddy-list operation. Sharing a
	 * line with them made one CPU's fast path miss whenever another CPU
	 * folded or used the buddy lists (the mixed benchmark on 2 threads
	 * ran 2-3 times slower in such runs, docs/PERFORMANCE.md). Read and
	 * written through zone_vm_stat(). */
	struct {
		long v;
	} __attribute__((aligned(ZA_CACHELINE))) vm_stat[ZA_NR_ZONE_STATS];
	/* Slow-path events (atomic). */
	uint64_t events[ZA_NR_EVENTS] __attribute__((aligned(ZA_CACHELINE)));

	/* Compaction's deferral after failures (compaction.c), as the
	 * kernel's: racy by design, relaxed atomics. */
	unsigned compact_considered;
	unsigned compact_defer_shift;
	int compact_order_failed;
	/* Where the scanners of the next pass start (compaction.c), hints. */
	unsigned long compact_cached_migrate_pfn, compact_cached_free_pfn;

	/* Watermark boosting (compaction.c): after a fallback mixed
	 * migratetypes in a pageblock, wmark[] is wmark_base[] + boost until
	 * kswapd has reclaimed to the boosted high mark and kcompactd has
	 * been woken. Zone lock to write (tunables_update holds
	 * tunables_lock and takes it too), relaxed reads. boost_wake:
	 * kswapd has yet to be told (set under the zone lock, cleared by the
	 * allocation that wakes it); an input of fast_ok, which is 0 while
	 * it is set (zone_fast_mask), so that no fast path passes it by. */
	unsigned long watermark_boost;
	unsigned long wmark_base[ZA_NR_WMARKS];
	uint8_t boost_wake;

	/* fast_ok for the fast path of orders 4..9 (fastpath.c,
	 * alloc_fast_mid): bit ZONE_FAST_OK_BIT(hz) set when the zone is
	 * clearly above its low mark for a block of the pageblock order, the
	 * largest a per-CPU list holds (zone_fast_mask_pb). Kept with fast_ok
	 * by zone_fast_refresh (atomic), beside boost_wake, which that path
	 * reads too. */
	uint8_t fast_ok_pb;
};

/* --- node ------------------------------------------------------------------- */

struct za_zoneref {
	struct za_zone *zone; /* relaxed atomic; NULL ends the list */
};

struct za_node {
	struct za_zone zones[ZA_NR_ZONES];
	int nid;
	/* Zonelists: [0] fallback across nodes, [1] this node only. Each has
	 * nr_nodes * ZA_NR_ZONES + 1 entries, rewritten in place. */
	struct za_zoneref *zonelist[2];

	/* Background reclaim (reclaim.c): kswapd_lock guards the rest. */
	za_thread_t kswapd;
	za_mutex_t kswapd_lock;
	za_cond_t kswapd_wait;
	int kswapd_highest_zoneidx; /* what the waker asked for, -1: none */
	int kswapd_order;
	bool kswapd_running; /* a reclaim pass is under way */
	bool kswapd_started;
	uint64_t kswapd_slept_ns; /* when the last pass ended */
	/* kswapd passes in a row that reclaimed nothing (the kernel's
	 * kswapd_failures): from KSWAPD_MAX_FAILURES on the node is hopeless
	 * and nothing wakes kswapd for it, until a reclaim of the node (a
	 * direct one) frees something. Atomic, outside kswapd_lock. */
	unsigned kswapd_failures;

	/* Background compaction (compaction.c): kcompactd_lock guards the
	 * request fields. */
	za_thread_t kcompactd;
	za_mutex_t kcompactd_lock;
	za_cond_t kcompactd_wait;
	int kcompactd_max_order; /* what the waker asked for, -1: none */
	int kcompactd_highest_zoneidx;
	/* A look at the fragmentation score is owed (a write of
	 * compaction_proactiveness, or the proactive interval ran out):
	 * kcompactd looks before it sleeps again. */
	bool kcompactd_look;
	bool kcompactd_started;
	bool kcompactd_stop;
};

/* kswapd passes in a row that reclaimed nothing after which it is no
 * longer woken for a node (the kernel's MAX_RECLAIM_RETRIES). */
#define KSWAPD_MAX_FAILURES 16
/* Whether kswapd has given up on the node (zoneinfo's
 * node_unreclaimable): KSWAPD_MAX_FAILURES passes in a row reclaimed
 * nothing (no shrinker, or none with anything to give). Waking it again
 * would run a pass that frees nothing and drains every CPU's lists of the
 * node, as often as allocations cross low - tens of thousands of times a
 * second. A direct reclaim that frees something on the node brings
 * kswapd back (reclaim.c, direct_reclaim). */
static inline bool kswapd_hopeless(const struct za_node *node)
{
	return za_load_relaxed(&node->kswapd_failures) >= KSWAPD_MAX_FAILURES;
}

/* --- memory sections (hotplug blocks) ------------------------------------ */

/* A block that comes online is "lazy" until its zone first needs it: all
 * its pages are free, it counts in its zone's free pages and in
 * nr_free[max_order][MOVABLE], but its page metadata is not initialised
 * (it reads as zero: interior pages that head nothing) and its max-order
 * blocks are not on the free list; the zone keeps the section on a list of
 * its own instead. When the zone's max-order MOVABLE list runs dry, the
 * highest run of the first lazy section's uninitialised max-order blocks,
 * at most ZA_LAZY_RUN_PAGES pages, is initialised and goes on the list
 * (buddy.c: materialize_run_locked); the section leaves the lazy list with
 * its last run. Its lazy part is always its lowest lazy_left max-order
 * blocks (pfn_lazy). Bringing memory online therefore costs one step per
 * block, not one per page, a page's metadata is first written when the
 * page is first needed (the kernel's deferred struct-page init, done on
 * demand), and no zone-lock hold writes more than one run of it, however
 * large the block. */
struct za_section {
	char *base; /* address of the block's first page, or NULL */
	uint32_t lazy_next, lazy_prev; /* zone's lazy list (sections): zone lock */
	/* Max-order blocks of the section not initialised yet, its lowest:
	 * the block's whole when it comes online, 0 once it leaves the lazy
	 * list. Zone lock to write (memory online before it is listed),
	 * relaxed reads; it only shrinks while the block is online. */
	uint32_t lazy_left;
	uint8_t online; /* relaxed/acquire reads: the block's memmap is live */
	uint8_t zone_id;
	uint8_t lazy; /* on the lazy list: zone lock to write, relaxed reads */
	/* Memory online gave the block's memory a preference for a host
	 * NUMA node (memory_hotplug.c, backing_bind), which offline and
	 * za_destroy take back: mem_hotplug_lock. */
	uint8_t bound;
};

/* The most pages of lazy metadata one zone-lock hold initialises (one
 * max-order block when that is larger): 512 KiB of metadata, a whole
 * 128 MiB block of 4 KiB pages (the default block size), about 0.2 ms,
 * most of it first-touch page faults. Memory online's holds are bounded
 * alike (buddy_free_range, buddy_add_lazy_range). */
#define ZA_LAZY_RUN_PAGES (1ul << 15)

/* An address run: online blocks whose memory is contiguous at both ends,
 * [lo, hi) in the address space holding frames pfn, pfn+1, ...
 * za_virt_to_page's index (memmap.c). */
struct za_vrun {
	uintptr_t lo, hi;
	unsigned long pfn;
};

/* --- the allocator ------------------------------------------------------- */

struct za_shrinker;

struct za {
	/* Read-mostly configuration, fixed at create. */
	struct za_page *memmap; /* pfn -> metadata */
	/* Every page set, [zone id][cpu] (zone id = nid << 2 | type): a zone's
	 * sets are z->pcp, and the fast paths find one by arithmetic. */
	struct za_pcp *pcp_all;
	/* For each CPU and highest zone type a request may use, the CPU's set
	 * of the zone that the CPU's node's zonelist tries first (NULL: none):
	 * the fast path's set, one load instead of walking node, zonelist and
	 * zone. [nr_cpus * ZA_CPU_PCP_STRIDE], the last entry of each CPU's
	 * row always NULL (a bad request's zone, GFP_CLASS_BAD); rewritten
	 * with the zonelists (relaxed; a stale entry names a set that exists,
	 * as a stale zonelist entry names a zone that does). */
	struct za_pcp **cpu_pcp;
	/* Restartable mode: the restartable allocation's set for each CPU
	 * number the kernel may report and each value of a request's four
	 * zone and type bits, with what the request needs of it in the low
	 * bits: the list's migratetype (RSEQ_PCP_MT) and the zone's watermark
	 * bit for the request (ZONE_FAST_OK_BIT). Where that path takes
	 * nothing - a bad combination of bits, no set, a set of another
	 * node's zone (the NUMA count is alloc_fast's), a CPU number of no
	 * set - the entry is dead_pcp with no tag bits: never 0, so that the
	 * leaf reads the set's fast_ok without a test of the entry first, and
	 * the missing watermark bit refuses it. Sized for every possible CPU
	 * number (rseq_pcp_cpus), so that the CPU the kernel reports needs no
	 * bounds test. Rewritten with cpu_pcp. */
	uintptr_t *rseq_pcp;
	unsigned rseq_pcp_cpus;
	/* Restartable mode: for each possible CPU number (rseq_pcp_cpus)
	 * the CPU's set of zone id 0 (&pcp_all[c]; dead_pcp for a CPU number
	 * of no set), so that the restartable free finds the set of a page's
	 * zone as row + zone id * pcp_zone_bytes with no bounds test and no
	 * NULL test: the row of a CPU number of no set leads to the zone's
	 * dead set, whose flags refuse it in the sequence. Fixed at create,
	 * as pcp_all is. */
	char **rseq_free_row;
	/* What the restartable leaves of orders 0..3 read instead of testing
	 * a gate (fast_gates_update keeps them): rseq_pcp while the
	 * allocation's gate is open, else rseq_none, whose entries all name
	 * dead_pcp with no tag bits; the free's bound on the metadata index,
	 * max_pfn while its gate is ZA_RSEQ_FREE_PLAIN, else 0, which no
	 * pointer passes. The leaf then takes nothing and the path after it
	 * tests the gate. Any mode, any build: a leaf always runs. */
	uintptr_t *rseq_pcp_gated;
	unsigned long rseq_free_pfns;
	uintptr_t *rseq_none; /* rseq_pcp's size, every entry dead_pcp */
	/* The zones' dead sets (za_pcp_dead): a column of sets past the
	 * last CPU in pcp_all, one per zone id, flagged off for good, never
	 * owned, never on any list; the sets rseq_pcp and rseq_free_row give
	 * to what has no set. dead_pcp is zone id 0's. */
	struct za_pcp *dead_pcp;
	size_t pcp_zone_bytes; /* nr_cpus + 1 sets: one zone id's */
	uint8_t *pb_mt;        /* pageblock -> migratetype: zone lock */
	size_t pb_mt_bytes;
	unsigned long max_pfn;
	unsigned page_shift;
	unsigned max_order;
	unsigned pageblock_order;
	/* 1 << order for the orders of the small leaves, in the line they
	 * read anyway: a list count moves by one load from here rather than
	 * a constant shifted by the order (fastpath.c). */
	int order_pages[ZA_PCP_SMALL_ORDER + 1];
	unsigned long block_pages;
	unsigned block_shift;
	unsigned nr_cpus, nr_nodes;
	unsigned flags; /* ZA_CFG_* */
	/* Why the fast paths (alloc_fast_rseq, alloc_fast, free_fast_rseq,
	 * the per-CPU branch of free_pages_slow) may not run: ZA_NOFAST_*
	 * bits, 0 when they may. The one byte they test, as they tested
	 * ZA_CFG_NO_PCP in flags, so that the debugging aids cost nothing
	 * there when off. Fault injection sets and clears its bit at run time
	 * (atomic read-modify-write, under sysctl_lock); everything reads it
	 * with relaxed loads (a plain byte load on x86-64 and aarch64): a
	 * call that races a change takes the route of the value it read. */
	uint8_t nofast;
	/* Page sets are restartable (owned through rseq, stopped and fenced
	 * from outside) rather than locked; why not, when they are locked. */
	bool pcp_rseq;
	bool strict_free; /* frees claim the page by CAS */
	/* What claim_free does: claim by compare-and-swap and compare the
	 * hand-out count after it (docs/ARCHITECTURE.md, "Racing double
	 * frees"): strict frees, or a debugging aid on, whose hook must not
	 * run on a block a late free claimed after it was handed out again
	 * (free_general). fast_gates_update keeps it; the plain claim tests
	 * this one byte (one compare with memory), as it tested
	 * strict_free. */
	uint8_t claim_cas;
	/* Whether the restartable fast paths may run (fast_gates_update
	 * keeps them): the allocation's is pcp_rseq with nofast clear; the
	 * free's is ZA_RSEQ_FREE_PLAIN or ZA_RSEQ_FREE_STRICT (strict frees)
	 * with pcp_rseq and none of ZA_NOFAST_FREE, else 0. The leaves of
	 * orders 0..3 do not test them: they read rseq_pcp_gated, which
	 * names no set while the gate is closed, and rseq_free_pfns, which
	 * no pointer passes then; the paths after a leaf (orders above 3,
	 * strict frees) test them. */
	uint8_t rseq_alloc_gate;
	uint8_t rseq_free_gate;
	const char *pcp_mode_why;
	int (*cpu_id)(void *ctx);
	void *cpu_ctx;
	int (*migrate)(void *ctx, struct za_page *dst, struct za_page *src,
	               unsigned order);
	void *migrate_ctx;
	unsigned long min_free_kbytes_cfg;
	unsigned pcp_high_cfg, pcp_batch_cfg;
	unsigned offline_timeout_ms;
	unsigned vmstat_interval_ms;
	uint8_t *node_distance; /* [nr_nodes * nr_nodes] */
	int *cpu_node;          /* [nr_cpus] */
	struct za_zone *zone_by_id[ZA_MAX_NODES << ZA_ZONE_ID_SHIFT];
	struct za_node *nodes;       /* [nr_nodes] */
	struct za_section *sections; /* [max_pfn >> block_shift] */
	unsigned long nr_sections;
	size_t memmap_bytes;
	/* Address runs of backed online memory, sorted by address: written
	 * under mem_hotplug_lock inside vrun_seq (odd while it changes), read
	 * locklessly (relaxed, then the count is checked). */
	struct za_vrun *vruns; /* [nr_sections + 1], committed as used */
	size_t vruns_bytes;
	unsigned long nr_vruns;
	unsigned vrun_seq;

	/* Zonelist generation: odd while a rebuild runs. */
	unsigned zonelist_seq __attribute__((aligned(ZA_CACHELINE)));

	/* CPU state: cpu_hotplug_lock to write, relaxed reads. */
	uint8_t *cpu_online; /* [nr_cpus] */
	unsigned nr_online_cpus;

	/* Locks outside the fast path. */
	za_mutex_t mem_hotplug_lock;
	void *mem_hotplug_owner; /* holder's token (core.c), relaxed */
	/* Compaction passes run side by side, but never with a hotplug
	 * operation (compaction.c): compact_lock guards the next two;
	 * mem_hotplug_lock's holder sets compact_excluded and waits until
	 * compact_running is 0. */
	za_mutex_t compact_lock;
	za_cond_t compact_idle;
	unsigned compact_running;
	bool compact_excluded;
	za_mutex_t cpu_hotplug_lock;
	za_mutex_t drain_lock;
	/* The one recompute of every zone's tunables (watermark.c,
	 * tunables_update): watermarks, lowmem reserves, page-set sizes,
	 * statistics thresholds. Held for the whole recompute, so the last
	 * one to run reads every input as it is now; its outputs are
	 * written only under it. Taken with tunables_enter, let go with
	 * tunables_leave, which runs the recompute a CPU flip that found it
	 * held left owed (tunables_dirty). */
	za_mutex_t tunables_lock;
	bool pressure_applied;   /* tunables_lock: pressure in effect */
	unsigned tunables_dirty; /* a flip's recompute is owed (atomic) */
	/* The pressure trim cut a list (pcp_pressure_trim_locked): its
	 * report is made once tunables_lock is let go (tunables_leave), as
	 * a callback may want that lock. Atomic. */
	unsigned pcp_cuts_waiting;
	unsigned long min_free_kbytes; /* in effect: tunables_lock to write,
	                                * relaxed reads */

	/* Runtime tunables (sysctl.c), the kernel's /proc/sys/vm names.
	 * Writers hold tunables_lock (so the recompute, which holds it,
	 * reads them plainly) and store under sysctl_lock, which is all
	 * readers take. */
	za_mutex_t sysctl_lock;
	bool min_free_kbytes_set; /* written: min_free_kbytes_user wins */
	unsigned long min_free_kbytes_user;
	unsigned watermark_scale_factor; /* per 10000 of a zone */
	unsigned watermark_boost_factor; /* per 10000 of high; relaxed reads */
	unsigned lowmem_reserve_ratio[ZA_NR_ZONES];
	unsigned percpu_pagelist_high_fraction; /* 0: high sized by low mark */
	unsigned compaction_proactiveness;      /* kcompactd; relaxed reads */
	unsigned extfrag_threshold;             /* compaction_suitable; relaxed */

	/* Errors: error_lock keeps the handler and its context together. */
	za_spinlock_t error_lock;
	za_error_fn error_fn;
	void *error_ctx;

	/* Reclaim (reclaim.c): shrinker_lock guards the list. */
	za_mutex_t shrinker_lock;
	za_cond_t shrinker_idle;
	struct za_shrinker *shrinkers;
	unsigned shrinkers_busy;
	unsigned long (*oom_fn)(void *ctx, int nid, unsigned order);
	void *oom_ctx;
	unsigned reclaim_active; /* nodes with kswapd running (relaxed) */
	bool stopping;           /* background threads: exit */
	/* The process that created the allocator (za_os_process_id): a
	 * child of fork() has none of the threads it started (za_destroy). */
	int pid;

	/* Periodic statistics worker (vmstat.c). */
	za_thread_t vmstat_thread;
	za_mutex_t vmstat_lock;
	za_cond_t vmstat_wait;
	bool vmstat_started;
	/* The worker is asked to finish deferred CPU-offline drains now
	 * (under vmstat_lock). */
	bool vmstat_kicked;
	/* Some page set may carry ZA_PCP_DEFERRED (atomic). Cleared by the
	 * worker when it starts its scan, not when it has drained: a hint
	 * for the worker only (pcp_finish_deferred). */
	unsigned pcp_deferred;

	/* The kernel's debugging aids (docs/DEBUGGING.md). page_owner: one
	 * record per frame (page_owner.c), reserved for the whole pfn range
	 * and backed where touched; NULL unless ZA_CFG_PAGE_OWNER. poison_map:
	 * one byte per frame, 1 while the frame holds the poison pattern
	 * (poison.c); NULL unless ZA_CFG_POISON. Fixed at create. */
	struct za_owner *page_owner;
	size_t page_owner_bytes;
	uint8_t *poison_map;
	size_t poison_map_bytes;
	/* Page-allocation fault injection (fault_inject.c): written under
	 * sysctl_lock, read with relaxed atomics. */
	struct za_fail_attr {
		int probability;        /* percent, 0..100 */
		int interval;           /* fail only every interval-th call */
		long times;             /* failures left; -1: no limit */
		long space;             /* pages let through before failing */
		unsigned min_order;     /* fail only orders >= this */
		bool ignore_gfp_wait;   /* never fail requests that may wait */
		bool ignore_gfp_atomic; /* never fail atomic requests */
		int verbose;            /* 0 quiet, 1 a line, 2 with the site */
		unsigned long calls;    /* calls that reached the interval test */
	} fail;
	/* Free page reporting (reporting.c). report_order: blocks of this
	 * order and up that land on the free lists set report_pending;
	 * UINT_MAX while no client is registered (relaxed reads).
	 * reported_map: one bit per pfn, set for the head of a free block
	 * marked reported; zone lock to change (atomic bit operations: two
	 * zones may share a word), NULL until the first registration. */
	struct za_reporting *reporting;
	unsigned report_order;
	uint8_t report_pending;
	uint64_t *reported_map;
	size_t reported_map_bytes;

	/* Debug knobs. */
	long debug[ZA_NR_DEBUG_KNOBS];
	/* Test hook (debug builds): called at the named points of
	 * ZA_DEBUG_POINT. Set by tests before the threads that reach those
	 * points start (relaxed loads). */
	void (*debug_hook)(struct za *za, int point, void *arg);
	void *debug_hook_ctx;
};

/* za.nofast bits. */
#define ZA_NOFAST_NO_PCP 0x1u /* ZA_CFG_NO_PCP */
#define ZA_NOFAST_DEBUG 0x2u  /* page owner, poisoning or init-on-alloc */
#define ZA_NOFAST_FAULT 0x4u  /* fault injection armed */
/* The fast path of orders 4..9 (alloc_fast_mid) off: set by tests only,
 * to compare it with the general path (no configuration sets it; the
 * gates are left as they are). */
#define ZA_NOFAST_MID 0x8u
/* The bits that keep frees off the fast path (fault injection does not). */
#define ZA_NOFAST_FREE (ZA_NOFAST_NO_PCP | ZA_NOFAST_DEBUG)
/* za.rseq_free_gate: which restartable free runs. */
#define ZA_RSEQ_FREE_PLAIN 1
#define ZA_RSEQ_FREE_STRICT 2
/* Recompute the restartable fast paths' gates (struct za), and how the
 * slow path claims a free (claim_cas), after pcp_rseq, nofast or
 * strict_free changed: at create, and when fault injection arms or
 * disarms (sysctl_lock held). */
static inline void fast_gates_update(struct za *za)
{
	unsigned nofast = za_load_relaxed(&za->nofast);
	za_store_relaxed(&za->claim_cas,
	                 (uint8_t)(za->strict_free || (nofast & ZA_NOFAST_DEBUG)));
	bool alloc_gate = za->pcp_rseq && !nofast;
	za_store_relaxed(&za->rseq_alloc_gate, (uint8_t)alloc_gate);
	uint8_t free_gate = 0;
	if (za->pcp_rseq && !(nofast & ZA_NOFAST_FREE))
		free_gate = za->strict_free ? ZA_RSEQ_FREE_STRICT : ZA_RSEQ_FREE_PLAIN;
	za_store_relaxed(&za->rseq_free_gate, free_gate);
	za_store_relaxed(&za->rseq_pcp_gated,
	                 alloc_gate ? za->rseq_pcp : za->rseq_none);
	za_store_relaxed(&za->rseq_free_pfns,
	                 free_gate == ZA_RSEQ_FREE_PLAIN ? za->max_pfn : 0ul);
}
/* Whether a debugging aid that sees every block is on (page owner,
 * poisoning, init-on-alloc): fixed at create. */
static inline bool za_debug_aids_on(const struct za *za)
{
	return za_load_relaxed(&za->nofast) & ZA_NOFAST_DEBUG;
}

/* --- gfp and allocation context ------------------------------------------ */

#define ALLOC_WMARK_MIN ZA_WMARK_MIN
#define ALLOC_WMARK_LOW ZA_WMARK_LOW
#define ALLOC_WMARK_HIGH ZA_WMARK_HIGH
#define ALLOC_WMARK_MASK 0x3
#define ALLOC_NO_WATERMARKS 0x4
#define ALLOC_HIGH 0x8    /* __GFP_HIGH: min / 2 */
#define ALLOC_HARDER 0x10 /* atomic: a further quarter, and HIGHATOMIC */

struct za_alloc_ctx {
	struct za_zoneref *zonelist;
	int highest_zoneidx;
	int mt;
	int preferred_nid;
	int cpu; /* simulated/real CPU, -1: no pcp */
	za_gfp_t gfp;
};

/* The next zone of zonelist zl, from *i on, that a request whose highest
 * zone is highest_zoneidx may use; NULL at the end. Readers may race an
 * in-place rebuild (zonelist.c): every zone pointer stays valid. */
static inline struct za_zone *zonelist_next(struct za_zoneref *zl,
                                            int highest_zoneidx, unsigned *i)
{
	struct za_zone *z;
	while ((z = za_load_relaxed(&zl[*i].zone)) != NULL) {
		(*i)++;
		if ((int)z->type <= highest_zoneidx)
			return z;
	}
	return NULL;
}

/* The zone and migratetype a request's low four gfp bits (DMA, DMA32,
 * MOVABLE, RECLAIMABLE) ask for, as one table lookup: highest zone index
 * in the low nibble, migratetype in the high one; GFP_CLASS_BAD for DMA
 * together with DMA32. */
#define GFP_CLASS_ZONE(g)                                                     \
	(((g)&ZA___GFP_DMA)       ? ZA_ZONE_DMA                                   \
	 : ((g)&ZA___GFP_DMA32)   ? ZA_ZONE_DMA32                                 \
	 : ((g)&ZA___GFP_MOVABLE) ? ZA_ZONE_MOVABLE                               \
	                          : ZA_ZONE_NORMAL)
#define GFP_CLASS_MT(g)                                                       \
	(((g)&ZA___GFP_MOVABLE)       ? ZA_MT_MOVABLE                             \
	 : ((g)&ZA___GFP_RECLAIMABLE) ? ZA_MT_RECLAIMABLE                         \
	                              : ZA_MT_UNMOVABLE)
/* Entries of za.cpu_pcp per CPU: the zone types, then NULL up to a power
 * of two (one scaled index on the fast path; a cache line a CPU). */
#define ZA_CPU_PCP_STRIDE 8
_Static_assert(ZA_NR_ZONES < ZA_CPU_PCP_STRIDE,
               "a bad class's zone (ZA_NR_ZONES) has a NULL entry");
/* za.rseq_pcp's entries: a set's address (sets are cache-line aligned)
 * with the list's migratetype in bits 0-1 and, in bits 2-5, the bit of
 * za_zone.fast_ok that the request's zone type reads (ZONE_FAST_OK_BIT):
 * one test of the entry's low byte against fast_ok is the watermark
 * check. */
#define RSEQ_PCP_MT 0x3u
#define RSEQ_PCP_TAGS 0x3fu
_Static_assert(ZA_NR_PCPTYPES <= 4 &&
                   ZONE_FAST_OK_BIT(ZA_NR_ZONES - 1) <= 0x20,
               "a list type and a fast_ok bit fit rseq_pcp's tag bits");
_Static_assert(sizeof(struct za_pcp) % (RSEQ_PCP_TAGS + 1) == 0 &&
                   ZA_CACHELINE % (RSEQ_PCP_TAGS + 1) == 0,
               "a set's address leaves rseq_pcp's tag bits clear");
/* za.rseq_pcp's rows when the possible CPUs cannot be read: the most
 * CPUs Linux is built for. */
#define ZA_RSEQ_MAX_CPU_IDS 8192
/* The zone nibble of a bad class is ZA_NR_ZONES: in za.cpu_pcp that
 * index is always NULL (ZA_CPU_PCP_STRIDE), so the restartable fast
 * path needs no test of its own for it. */
#define GFP_CLASS_BAD (0xf0 | ZA_NR_ZONES)
#define GFP_CLASS(g)                                                          \
	((((g)&ZA___GFP_DMA) && ((g)&ZA___GFP_DMA32))                             \
	     ? GFP_CLASS_BAD                                                      \
	     : (uint8_t)(GFP_CLASS_ZONE(g) | GFP_CLASS_MT(g) << 4))
_Static_assert(ZA___GFP_DMA == 1 && ZA___GFP_DMA32 == 2 &&
                   ZA___GFP_MOVABLE == 4 && ZA___GFP_RECLAIMABLE == 8,
               "gfp_class is indexed by the low four gfp bits");
static const uint8_t gfp_class_table[16] = {
	GFP_CLASS(0),  GFP_CLASS(1),  GFP_CLASS(2),  GFP_CLASS(3),
	GFP_CLASS(4),  GFP_CLASS(5),  GFP_CLASS(6),  GFP_CLASS(7),
	GFP_CLASS(8),  GFP_CLASS(9),  GFP_CLASS(10), GFP_CLASS(11),
	GFP_CLASS(12), GFP_CLASS(13), GFP_CLASS(14), GFP_CLASS(15),
};
static inline unsigned gfp_class(za_gfp_t gfp)
{
	return gfp_class_table[gfp & 0xf];
}
static inline int gfp_zone(za_gfp_t gfp)
{
	return GFP_CLASS_ZONE(gfp);
}
static inline int gfp_migratetype(za_gfp_t gfp)
{
	return GFP_CLASS_MT(gfp);
}

/* --- small helpers ------------------------------------------------------------ */

static inline struct za_page *pfn_page(const struct za *za, unsigned long pfn)
{
	return (struct za_page *)&za->memmap[pfn];
}
static inline unsigned long page_pfn(const struct za *za,
                                     const struct za_page *p)
{
	return (unsigned long)(p - za->memmap);
}
static inline struct za_zone *page_zone(const struct za *za,
                                        const struct za_page *p)
{
	return za->zone_by_id[p->zone_id];
}
/* The state publishes order and mt: a scanner that sees a state sees the
 * fields written before it (release/acquire; plain moves on x86). */
static inline int page_state(const struct za_page *p)
{
	return za_load_acquire(&p->state);
}
static inline void set_page_state(struct za_page *p, int s)
{
	za_store_release(&p->state, (uint8_t)s);
}
/* For scanners without the owner's lock: whether an allocated block is one
 * that cannot be migrated. A block freed while we look is not (its fields
 * change under us: re-read the state after them). */
static inline bool page_alloc_unmovable(const struct za_page *p)
{
	if (page_state(p) != ZA_PS_ALLOC)
		return false;
	bool unmovable = za_load_relaxed(&p->order) == ZA_CONTIG_ORDER ||
	                 za_load_relaxed(&p->mt) != ZA_MT_MOVABLE;
	return unmovable && page_state(p) == ZA_PS_ALLOC;
}
/* order and mt are read by lockless scans (isolation, migration,
 * stealing) while their owners change them: relaxed atomics on both sides,
 * plain moves on the machines that matter. */
static inline unsigned page_order(const struct za_page *p)
{
	return za_load_relaxed(&p->order);
}
static inline int page_mt(const struct za_page *p)
{
	return za_load_relaxed(&p->mt);
}
/* A hand-out from the buddy lists (rmqueue, compaction's targets, a
 * contiguous range's head), before the release store of ALLOC publishes
 * the block: its count moves on, so that a free that read it before is
 * refused (page_claim_cas, free_one_page) and a stale per-CPU list entry
 * for it is void; and free_gen is left one behind it, as a pop leaves it,
 * so that only a push makes them equal again (late_claim_state_locked).
 * A pop moves gen alone: the push that put the block there made the two
 * equal, which the pop checked. */
static inline void page_hand_out_gen(struct za_page *p)
{
	p->free_gen = p->gen++;
}

/* What page_claim_cas found. */
enum page_claim {
	PAGE_CLAIMED,      /* ALLOC -> FREEING: the caller's to free */
	PAGE_CLAIM_STATE,  /* not ALLOC: nothing changed (*stp the state) */
	PAGE_CLAIM_REUSED, /* handed out again since gen was read: ALLOC back */
};

/* A free's claim of an allocated block by compare-and-swap (ALLOC ->
 * FREEING): claim_free's when frees are strict or a debugging aid is on,
 * compaction's of a moved block (migrate_block), a contiguous range's
 * (za_free_contig_pages). gen is the block's hand-out count as the caller
 * read it, with acquire, before this claim and before its checks of the
 * block (but for migrate_block's order: below).
 *
 * The ALLOC the compare-and-swap finds may be a new owner's: another free
 * of the block and a new hand-out between the caller's read of the count
 * and the claim. That hand-out moved the count before its release store
 * of ALLOC, which the claim's acquire read. Such a claim is refused here,
 * before a debugging aid's hook (free_general's, or the caller's own)
 * writes the block or its record: the state given back as its owner
 * holds it, nothing else touched. Unchanged, the block is the caller's
 * alone: nobody hands out a FREEING block, and every other free's
 * compare-and-swap fails.
 *
 * order: the order the block must still have once claimed, for a caller
 * that checked it before its read of the count (migrate_block: the block
 * may have merged and been handed out again as a larger one in between,
 * the count read after that); -1 for one that checked it after the read,
 * where the count answers for it. stp (or NULL): the state found, when
 * not ALLOC. */
static inline enum page_claim page_claim_cas(struct za_page *p, uint8_t gen,
                                             int order, uint8_t *stp)
{
	uint8_t st = ZA_PS_ALLOC;
	if (unlikely(!za_cas_acqrel(&p->state, &st, ZA_PS_FREEING))) {
		if (stp)
			*stp = st;
		return PAGE_CLAIM_STATE;
	}
	if (likely(za_load_relaxed(&p->gen) == gen &&
	           (order < 0 || page_order(p) == (unsigned)order)))
		return PAGE_CLAIMED;
	uint8_t freeing = ZA_PS_FREEING;
	za_cas_acqrel(&p->state, &freeing, ZA_PS_ALLOC);
	return PAGE_CLAIM_REUSED;
}

/* Pages a lockless scan steps over at this page, given its state: the
 * block it heads, or 1 for a page that heads nothing. A contiguous
 * range's head counts 1 (its pieces keep their own marks); scanners that
 * must treat such ranges specially test for ZA_CONTIG_ORDER themselves. */
static inline unsigned long page_scan_span(const struct za_page *p, int st)
{
	if (st != ZA_PS_BUDDY && st != ZA_PS_PCP && st != ZA_PS_ALLOC)
		return 1;
	unsigned o = za_load_relaxed(&p->order);
	return o == ZA_CONTIG_ORDER ? 1 : 1ul << o;
}
static inline unsigned long pageblock_start(const struct za *za,
                                            unsigned long pfn)
{
	return pfn & ~((1ul << za->pageblock_order) - 1);
}
static inline int pageblock_mt(const struct za *za, unsigned long pfn)
{
	return za_load_relaxed(&za->pb_mt[pfn >> za->pageblock_order]);
}
/* Zone lock held (or the range not yet visible to anybody). */
static inline void set_pageblock_mt(struct za *za, unsigned long pfn, int mt)
{
	za_store_relaxed(&za->pb_mt[pfn >> za->pageblock_order], (uint8_t)mt);
}
static inline bool mt_is_mergeable(int mt)
{
	return mt < ZA_NR_PCPTYPES;
}
static inline bool zone_populated(const struct za_zone *z)
{
	return za_load_relaxed(&z->managed_pages) != 0;
}
/* The zone after z: the next type of its node, then the first of the next
 * node; NULL after the last. */
static inline struct za_zone *next_zone(const struct za *za,
                                        const struct za_zone *z)
{
	if ((int)z->type + 1 < ZA_NR_ZONES)
		return (struct za_zone *)z + 1;
	return (unsigned)z->nid + 1 < za->nr_nodes ? za->nodes[z->nid + 1].zones
	                                           : NULL;
}
/* for_each_zone(za, z) { ... }: every zone of every node, node by node,
 * declaring z (struct za_zone *); for_each_populated_zone skips the
 * empty ones (the kernel's iterators). */
#define for_each_zone(za, z)                                                  \
	for (struct za_zone *z = (za)->nodes[0].zones; z; z = next_zone((za), z))
#define for_each_populated_zone(za, z)                                        \
	for_each_zone(za, z)                                                      \
		if (!zone_populated(z)) {                                             \
		} else
static inline struct za_pcp *zone_pcp(const struct za_zone *z, int cpu)
{
	return &z->pcp[cpu];
}
/* The page set of zone id zid on cpu, without loading the zone. */
static inline struct za_pcp *za_pcp_of(const struct za *za, unsigned zid,
                                       int cpu)
{
	return &za->pcp_all[zid * (za->nr_cpus + 1) + (unsigned)cpu];
}
/* Zone id zid's dead set: the column past the last CPU (struct za,
 * dead_pcp). */
static inline struct za_pcp *za_pcp_dead(const struct za *za, unsigned zid)
{
	return za_pcp_of(za, zid, (int)za->nr_cpus);
}
/* Orders between the small ones and the pageblock order (lists under a
 * byte budget, see ZA_PCP_MID_BYTES). */
static inline bool pcp_mid_order(const struct za *za, unsigned order)
{
	return order > ZA_PCP_SMALL_ORDER && order <= ZA_PCP_MID_MAX_ORDER &&
	       order < za->pageblock_order;
}
/* The most pages a set keeps on its lists of orders 4..8: half of its
 * high_max, or its high when that is less (a set trimmed by pressure
 * or decay keeps less), never under ZA_PCP_MID_BYTES worth. Reads the
 * set's own sizes: held, or for a report. */
static inline int pcp_mid_budget(const struct za *za, const struct za_pcp *pcp)
{
	int b = za_load_relaxed(&pcp->high_max) / 2,
	    high = za_load_relaxed(&pcp->high);
	int floor = (int)(ZA_PCP_MID_BYTES >> za->page_shift);
	if (b > high)
		b = high;
	return b > floor ? b : floor;
}
static inline bool pcp_order(const struct za *za, unsigned order)
{
	return order <= ZA_PCP_SMALL_ORDER || order == za->pageblock_order ||
	       pcp_mid_order(za, order);
}
static inline int pcp_list_index(const struct za *za, unsigned order, int mt)
{
	if (order <= ZA_PCP_SMALL_ORDER)
		return (int)order * ZA_NR_PCPTYPES + mt;
	if (order == za->pageblock_order)
		return ZA_PCP_PB_BASE + mt;
	return ZA_PCP_MID_BASE +
	       (int)(order - ZA_PCP_SMALL_ORDER - 1) * ZA_NR_PCPTYPES + mt;
}
static inline unsigned pcp_list_order(const struct za *za, int idx)
{
	if (idx >= ZA_PCP_PB_BASE)
		return za->pageblock_order;
	if (idx >= ZA_PCP_MID_BASE)
		return ZA_PCP_SMALL_ORDER + 1 +
		       (unsigned)(idx - ZA_PCP_MID_BASE) / ZA_NR_PCPTYPES;
	return (unsigned)idx / ZA_NR_PCPTYPES;
}

/* The current CPU as the allocator sees it: -1 when outside 0..nr_cpus-1. */
static inline int za_current_cpu(const struct za *za)
{
	int cpu = za->cpu_id ? za->cpu_id(za->cpu_ctx) : za_os_current_cpu();
	if (unlikely((unsigned)cpu >= za->nr_cpus))
		return -1;
	return cpu;
}

/* Race-point yields (debug builds, ZA_DEBUG_RANDOM_YIELD). */
void _za_debug_yield(struct za *za);
#define ZA_YIELD_POINT(za)                                                    \
	do {                                                                      \
		if (za_debug && unlikely((za)->debug[ZA_DEBUG_RANDOM_YIELD]))         \
			_za_debug_yield(za);                                              \
	} while (0)

/* Named points where a test may stop the thread or look at the state
 * (debug builds only: ZA_DEBUG_POINT compiles to nothing otherwise). The
 * hook runs in the thread that reached the point, with what the point
 * says held; it must not take a lock the point holds. */
enum za_debug_point {
	/* A race point (ZA_YIELD_POINT) with ZA_DEBUG_RANDOM_YIELD on; no
	 * allocator lock held. arg NULL. */
	ZA_DP_YIELD,
	/* A block is about to enter the buddy lists (buddy_free_locked):
	 * zone lock held, the pages not yet counted there. arg: the zone. */
	ZA_DP_BUDDY_FREE,
	/* Memory offline (or contig allocation) has isolated its range and
	 * disabled and drained the zone's pcp lists, and migrated nothing
	 * yet: mem_hotplug_lock held. arg: the zone. */
	ZA_DP_OFFLINE_DRAINED,
	/* CPU offline has switched off, drained and folded every page set of
	 * the CPU and not yet resized the others: cpu_hotplug_lock held.
	 * arg: pointer to the CPU number (unsigned). */
	ZA_DP_CPU_OFFLINE,
	/* A free without compare-and-swap has found the block allocated and
	 * not yet claimed it: the window in which a second free of it on
	 * another CPU passes the same check (strict frees have none: they
	 * claim by compare-and-swap). The page set owned or nothing held.
	 * arg: the page. */
	ZA_DP_FREE_CLAIM,
	/* A free has read the block's hand-out count (gen) and checked its
	 * order, and not yet checked its state or claimed it (claim_free:
	 * every free but the restartable fast path's, strict or not): the
	 * window in which another free of the block and a new hand-out of it
	 * (of any order, the block merged first) leave it allocated again,
	 * to its new owner, and only the count tells. Nothing held, or a
	 * bulk free's page set owned. Also compaction's free of a block it
	 * moved (migrate_block), and a free of a contiguous range
	 * (za_free_contig_pages, its checks passed), between the same read
	 * and their claim. arg: the page (the range's head). */
	ZA_DP_FREE_GEN,
	/* kswapd has finished a pass (balance_node) and not yet taken back
	 * the boosts it saw when the pass began: no lock held. arg: the
	 * node. */
	ZA_DP_KSWAPD_BALANCED,
	/* The statistics worker has taken za.pcp_deferred (its claim of
	 * every deferred CPU-offline drain) and not yet looked at any set
	 * (pcp_finish_deferred): no lock held. arg NULL. */
	ZA_DP_DEFERRED_TAKEN,
	/* Initialising the lazy blocks of a range (buddy_materialize_range:
	 * memory offline, contiguous allocation) has initialised and listed
	 * one run of a block, more runs of it are left, and the zone lock is
	 * let go until the next: mem_hotplug_lock held, no other lock.
	 * arg: the zone. */
	ZA_DP_LAZY_RUN,
	/* A bulk call (za_alloc_pages_bulk, za_free_pages_bulk) has let go
	 * of the page set it held for a run of pages (PCP_BULK_RUN at most)
	 * and reported what the run cut; it takes a set again for its next
	 * run, if any: no lock held. arg: the set let go. */
	ZA_DP_BULK_RUN,
	/* A cut of a page set's list is about to be noted behind the one
	 * that waits for its report in corrupt_pfn (pcp_cut_note), in a
	 * slot of corrupt_next: the set held. The report of whoever let the
	 * set go last may be taking the cuts right now, without the set.
	 * arg: the set. */
	ZA_DP_CUT_NOTE,
	/* Memory offline has taken its range out of the zone and is working
	 * out the zone's new span (shrunk_span), before it stores it under
	 * the zone lock: mem_hotplug_lock held, no other lock. arg: the
	 * zone. */
	ZA_DP_SPAN_SHRINK,
	/* Memory online or offline is writing a zone's span and has stored
	 * its new start but not its end (zone_span_write_locked): the zone
	 * lock held, span_seq odd. arg: the zone. */
	ZA_DP_SPAN_WRITE,
	/* Fault injection has read fail_page_alloc.space, found it larger
	 * than the call's pages, and not yet taken them off it: the window
	 * in which another call spends the same budget. No lock held.
	 * arg NULL. */
	ZA_DP_FAIL_SPACE,
	/* A recompute has stored a zone's new statistics threshold and has
	 * not yet folded the deltas (a threshold that dropped) nor stored
	 * the drift mark that goes with it (vmstat_update_thresholds_locked):
	 * tunables_lock held, no other lock. Owners build deltas up to the
	 * new threshold from here on. arg: the zone. */
	ZA_DP_THRESHOLD_SET,
	/* The slow path has looked at zonelist_seq after a walk that found
	 * nothing and is about to compact directly (alloc_slowpath, orders
	 * above 3): a NORETRY request gives up when that walk skips every
	 * zone. No lock held. arg: the request's alloc context. */
	ZA_DP_SLOW_COMPACT,
	/* The slow path is about to give a pageblock of the high-order
	 * atomic reserve back, forced, after its last look at zonelist_seq:
	 * finding none, it calls the OOM handler. No lock held. arg: the
	 * request's alloc context. */
	ZA_DP_SLOW_UNRESERVE,
};
#define ZA_DEBUG_POINT(za, point, arg)                                        \
	do {                                                                      \
		if (za_debug && unlikely(za_load_relaxed(&(za)->debug_hook)))         \
			za_load_relaxed (&(za)->debug_hook)((za), (point), (arg));        \
	} while (0)

/* --- locks ------------------------------------------------------------------- */

static inline void zone_lock(struct za_zone *z, struct za_pcp *pcp_held)
{
	za_witness_acquire_lock(ZA_RANK_ZONE, "zone lock", &z->lock);
	za_spin_lock_raw(&z->lock);
	/* Count acquisitions where it costs nothing: in the pcp the caller
	 * holds, else in the zone's atomic counter. */
	if (pcp_held)
		za_inc_single_writer(&pcp_held->events[ZA_ZONE_LOCK], 1);
	else
		za_add_relaxed(&z->events[ZA_ZONE_LOCK], 1);
}
static inline void zone_unlock(struct za_zone *z)
{
	za_spin_unlock_raw(&z->lock);
	za_witness_release(ZA_RANK_ZONE);
}
/* A zone's span and present pages, as the kernel's span_seqlock guards
 * them: written together by memory online and offline (zone lock held)
 * inside span_seq, and read together without a lock (za_zone_info, the
 * zoneinfo report). Two relaxed loads could take the start of one span
 * and the end of another - a zone filled or emptied meanwhile then
 * spanned 2^64 - start pages (review 12, finding 3). */
static inline void zone_span_write_locked(struct za_zone *z,
                                          unsigned long start,
                                          unsigned long end,
                                          unsigned long present)
{
	zone_assert_held(z);
	za_store_relaxed(&z->span_seq, z->span_seq + 1);
	za_fence_release();
	za_store_relaxed(&z->start_pfn, start);
	ZA_DEBUG_POINT(z->za, ZA_DP_SPAN_WRITE, z);
	za_store_relaxed(&z->end_pfn, end);
	za_store_relaxed(&z->present_pages, present);
	za_store_release(&z->span_seq, z->span_seq + 1);
}
static inline void zone_span_read(const struct za_zone *z,
                                  unsigned long *start, unsigned long *end,
                                  unsigned long *present)
{
	for (;;) {
		unsigned seq = za_load_acquire(&z->span_seq);
		if (seq & 1) {
			za_cpu_relax();
			continue;
		}
		*start = za_load_relaxed(&z->start_pfn);
		*end = za_load_relaxed(&z->end_pfn);
		*present = za_load_relaxed(&z->present_pages);
		za_fence_acquire();
		if (za_load_relaxed(&z->span_seq) == seq)
			return;
	}
}
/* Owning a page set. The owner is a thread that runs on the set's CPU
 * and takes it for a pop, a push, a refill or a flush: in locked mode with
 * a try-lock (seed 001), in restartable mode with one restartable sequence
 * that tests the busy and stop bytes and sets busy, with no locked
 * instruction. Either way a busy set sends the caller to the buddy lists
 * instead of waiting. A remote user (a drain, CPU or memory offline,
 * statistics folds, decay, za_check) locks the set instead: in restartable
 * mode it serialises with other remote users on the lock, sets stop,
 * fences the set's CPU (membarrier aborts a sequence in flight there) and
 * waits until no owner holds busy (pcp.c). */
static inline bool pcp_own_try(struct za *za, struct za_pcp *pcp)
{
	if (za->pcp_rseq) {
		struct rseq *rs = za_os_rseq_area();
		if (unlikely(!rs) || !za_rseq_own(&pcp->own.word, pcp->cpu, rs))
			return false;
	} else if (!za_spin_trylock_raw(&pcp->lock)) {
		return false;
	}
	za_witness_acquire(ZA_RANK_PCP, "pcp (owner)");
	return true;
}
static inline void pcp_own_release(struct za *za, struct za_pcp *pcp)
{
	za_witness_release(ZA_RANK_PCP);
	if (za->pcp_rseq)
		za_store_release(&pcp->own.busy, 0);
	else
		za_spin_unlock_raw(&pcp->lock);
}
/* pcp_own_release where the set is known to be restartable (the
 * restartable fast paths). */
static inline void pcp_own_release_rseq(struct za_pcp *pcp)
{
	za_witness_release(ZA_RANK_PCP);
	za_store_release(&pcp->own.busy, 0);
}
/* pcp.c: a remote user's hold. pcp_lock fails only in restartable mode,
 * when the fence fails (-errno): the set is then left as it was.
 * pcp_trylock gives up when another remote user (or, locked, the owner)
 * holds the set. */
int pcp_lock(struct za *za, struct za_pcp *pcp);
bool pcp_trylock(struct za *za, struct za_pcp *pcp);
void pcp_unlock(struct za *za, struct za_pcp *pcp);
int pcp_lock_nested(struct za *za, struct za_pcp *pcp, unsigned index);
void pcp_unlock_nested(struct za *za, struct za_pcp *pcp, unsigned index);
/* Whether the caller owns or has locked the set (assertions). */
static inline bool pcp_held(const struct za *za, const struct za_pcp *pcp)
{
	return za->pcp_rseq ? (za_load_relaxed(&pcp->own.busy) ||
	                       za_load_relaxed(&pcp->own.stop))
	                    : za_load_relaxed(&pcp->lock.v) != 0;
}

/* --- module interfaces --------------------------------------------------------- */

/* core.c */
/* Metadata allocation goes through here so tests can make it fail
 * (ZA_DEBUG_FAIL_META, and _za_fail_meta_after for za_create). */
extern long _za_fail_meta_after;
bool za_meta_inject_fail(struct za *za);
void *za_meta_alloc(struct za *za, size_t size, size_t align);
void za_meta_free(struct za *za, void *p);
void _za_report_misuse(struct za *za, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A list cut after a racing double free (pcp_cut_locked, the buddy
 * allocator's free_list_head_ok): what was found at pfn, and which list
 * lost its pages. */
void _za_report_cut(struct za *za, unsigned long pfn, const char *what,
                    const char *list);
/* One report per cut of c (_za_report_cut), in order: lists names the
 * owner's lists ("CPU 1's per-CPU list"), " of order N" added where the
 * order was kept; the last report also counts the cuts not named. */
void _za_report_cuts(struct za *za, const struct za_cuts *c, const char *what,
                     const char *lists);
/* The memory-hotplug lock, with a record of which thread holds it: a
 * client callback that runs under it (migrate, and whatever an allocation
 * made inside one calls) must not take it again. Entry points that take
 * it check mem_hotplug_held_by_me() first and refuse with -EDEADLK. A
 * thread inside a compaction pass counts as holding it: an operation that
 * takes the lock waits for the passes to end. */
void mem_hotplug_lock(struct za *za);
void mem_hotplug_unlock(struct za *za);
/* The same lock, compaction left running (free page reporting's batch). */
void mem_hotplug_lock_beside_compaction(struct za *za);
void mem_hotplug_unlock_beside_compaction(struct za *za);
bool mem_hotplug_held_by_me(const struct za *za);

/* memmap.c: page metadata and hotplug blocks. */
int memmap_init(struct za *za);
void memmap_fini(struct za *za);
int memmap_online_range(struct za *za, unsigned long start, unsigned long nr,
                        struct za_zone *z, void *base);
void memmap_offline_range(struct za *za, unsigned long start,
                          unsigned long nr);
/* The address index (za_virt_to_page). Caller holds mem_hotplug_lock.
 * vrun_check: 0, or -EEXIST when [base, base + nr pages) overlaps memory
 * that is online, -EINVAL when it wraps the address space. */
int vrun_check(const struct za *za, const void *base, unsigned long nr);
void vrun_add(struct za *za, unsigned long start, unsigned long nr,
              const void *base);
void vrun_remove(struct za *za, unsigned long start, unsigned long nr);
/* Write the metadata of [start, start+nr) as interior pages of zone_id
 * (a lazy section being initialised). */
void memmap_init_pages(struct za *za, unsigned long start, unsigned long nr,
                       uint8_t zone_id);
static inline unsigned long section_pfn(const struct za *za, unsigned long s)
{
	return s << za->block_shift;
}
bool memmap_range_online(const struct za *za, unsigned long start,
                         unsigned long nr, bool *any);
static inline struct za_section *pfn_section(const struct za *za,
                                             unsigned long pfn)
{
	return &za->sections[pfn >> za->block_shift];
}
static inline bool pfn_online(const struct za *za, unsigned long pfn)
{
	return pfn < za->max_pfn && za_load_acquire(&pfn_section(za, pfn)->online);
}
/* Whether pfn (below max_pfn) lies in the lazy part of its block: its
 * metadata not written yet, its max-order block on no list. A relaxed
 * read without the zone lock is a hint that may be stale in one way only:
 * the lazy part shrinks (a run initialised meanwhile reads as lazy). */
static inline bool pfn_lazy(const struct za *za, unsigned long pfn)
{
	unsigned long left = za_load_relaxed(&pfn_section(za, pfn)->lazy_left);
	return ((pfn & (za->block_pages - 1)) >> za->max_order) < left;
}
/* A pointer's offset from the metadata array, rotated right by four
 * bits (16-byte metadata): the index of the entry when the pointer is on
 * an entry's boundary; one that is not brings its low bits to the top,
 * far past max_pfn, and one below the array wraps past its end: a single
 * test against max_pfn (or less) refuses both. */
static inline unsigned long page_ptr_rot(const struct za *za,
                                         const struct za_page *p)
{
	uintptr_t off = (uintptr_t)p - (uintptr_t)za->memmap;
	return (unsigned long)((off >> 4) | (off << (sizeof(off) * 8 - 4)));
}
/* The pfn of a pointer into the page metadata array, or ULONG_MAX: the
 * page need not be online (its metadata may not even be readable). */
static inline unsigned long page_ptr_index(const struct za *za,
                                           const struct za_page *p)
{
	unsigned long idx = page_ptr_rot(za, p);
	if (unlikely(idx >= za->max_pfn))
		return ULONG_MAX;
	return idx;
}
/* The pfn of a pointer that claims to be the metadata of an online page,
 * or ULONG_MAX: how a free recognises a foreign pointer. */
static inline unsigned long page_ptr_pfn(const struct za *za,
                                         const struct za_page *p)
{
	unsigned long pfn = page_ptr_index(za, p);
	if (unlikely(pfn == ULONG_MAX))
		return ULONG_MAX;
	if (unlikely(!za_load_acquire(&pfn_section(za, pfn)->online)))
		return ULONG_MAX;
	/* The block may go offline from here on: its metadata stays
	 * readable (memmap_offline_range), so callers may still look. */
	ZA_YIELD_POINT((struct za *)za);
	return pfn;
}

/* buddy.c: free lists, split and merge. All _locked: the zone lock. */
void buddy_add_locked(struct za_zone *z, struct za_page *page,
                      unsigned long pfn, unsigned order, int mt);
void buddy_del_locked(struct za_zone *z, struct za_page *page,
                      unsigned long pfn);
/* Free a block into the buddy lists, merging; returns the migratetype of
 * the list it landed on (ISOLATE counts separately). */
int buddy_free_locked(struct za_zone *z, struct za_page *page,
                      unsigned long pfn, unsigned order);
struct za_page *buddy_alloc_locked(struct za_zone *z, unsigned order, int mt,
                                   unsigned alloc_flags);
/* Report every free list cut by buddy_alloc_locked and waiting
 * (z->cuts), with no lock held. */
void buddy_report_corrupt_slow(struct za *za, struct za_zone *z);
static inline void buddy_report_corrupt(struct za *za, struct za_zone *z)
{
	if (unlikely(za_load_relaxed(&z->cuts.n) != 0))
		buddy_report_corrupt_slow(za, z);
}
/* Isolation (isolate.c): move a free block to list mt as it is (its order
 * and reported mark kept, no merging); take a free block off the isolate
 * list and free it with the types its pageblocks have now, a pageblock at
 * a time where they differ, keeping its reported mark unless it merges
 * with an unreported block. */
void buddy_move_locked(struct za_zone *z, struct za_page *page,
                       unsigned long pfn, int mt);
void buddy_unisolate_locked(struct za_zone *z, struct za_page *page,
                            unsigned long pfn);
/* Where a block lies whose state a racing double free's late claim
 * overwrote (free_one_page's refusal, buddy.c): whether page heads a
 * block on a buddy list (its links agree: O(1)); whether pfn lies inside
 * a larger block that another page heads, whatever that block's state;
 * and, for a block on a buddy list again, free it again where its
 * pageblock's type says, merging, as it would have been while its state
 * read FREEING - returns the pages it put on the isolate lists less those
 * it took off them, for the caller's counters. */
bool buddy_on_list_locked(struct za_zone *z, const struct za_page *page,
                          unsigned long pfn);
bool buddy_inside_block(const struct za *za, unsigned long pfn);
long buddy_refile_locked(struct za_zone *z, struct za_page *page,
                         unsigned long pfn);
/* Set a pageblock's migratetype, moving its free blocks with their
 * reported marks (as they are, or freed again to merge when the old type
 * kept them apart: then as un-isolation frees them); returns the number
 * of free pages moved. */
unsigned long buddy_set_pageblock_mt_locked(struct za_zone *z,
                                            unsigned long pb_pfn, int mt);
/* High-order atomic reserve: after an atomic high-order allocation, the
 * pageblock it came from (every pageblock of a larger block) may become
 * HIGHATOMIC (up to about 1% of the zone). Reserved pageblocks go back to
 * ordinary use in the slow path: one per call, from the first zone of the
 * zonelist that has a free HIGHATOMIC block. Unforced (after a reclaim
 * round that freed something but found no page), a zone with at most one
 * pageblock reserved is skipped; forced (before the OOM handler), none
 * is. nr_reserved_highatomic counts their pages. */
void reserve_highatomic_pageblock(struct za_zone *z, struct za_page *page,
                                  unsigned order);
bool unreserve_highatomic_pageblock(struct za *za, struct za_alloc_ctx *ac,
                                    bool force);
/* Free pages into a zone outside the fast paths (memory online, offline
 * undo, contig free): counts them. */
void buddy_free_range(struct za_zone *z, unsigned long start,
                      unsigned long nr);
/* Memory online: put the (lazy, just onlined) blocks of a range on the
 * zone's lazy list and count them free. Takes the zone lock. */
void buddy_add_lazy_range(struct za_zone *z, unsigned long start,
                          unsigned long nr);
/* Initialise every lazy section of a range and put its blocks on the free
 * lists (before isolation, which works on initialised metadata). Takes
 * the zone lock once per run (ZA_LAZY_RUN_PAGES). */
void buddy_materialize_range(struct za_zone *z, unsigned long start,
                             unsigned long nr);
/* memory_hotplug.c: give the memory of the blocks of a range that memory
 * online gave a NUMA preference (za_section.bound) the default policy
 * back. Caller holds mem_hotplug_lock, or is za_destroy. */
void backing_unbind(struct za *za, unsigned long start, unsigned long nr);
/* Memory offline of a range that is wholly lazy: take it off the lazy list
 * and out of the free counts in one step. false (and nothing changed)
 * when some block of the range is not lazy. Takes the zone lock. */
bool buddy_take_lazy_range(struct za_zone *z, unsigned long start,
                           unsigned long nr);

/* buddy.c: a block held by free page reporting goes back to the lists,
 * marked reported when `reported` and it merged with reported blocks
 * only. Returns the migratetype of the list it landed on. */
int _za_buddy_putback_reported_locked(struct za_zone *z, struct za_page *page,
                                      unsigned long pfn, unsigned order,
                                      bool reported);

/* reporting.c: set up at za_create (0 or -ENOMEM), the thread stopped at
 * za_destroy before the others, everything released by free_all. */
int _za_reporting_init(struct za *za);
void _za_reporting_stop(struct za *za);
/* Whether the reporting thread exists (a client is registered and the
 * allocator has background threads). */
bool _za_reporting_threaded(const struct za *za);
void _za_reporting_fini(struct za *za);

/* Free page reporting's marks (the kernel's PageReported): the head of a
 * free block is marked when the client has been given it; any removal
 * from the free lists (allocation, merging, offline) clears the mark. */
static inline bool page_reported(const struct za *za, unsigned long pfn)
{
	const uint64_t *map = za_load_relaxed(&za->reported_map);
	return map && ((za_load_relaxed(&map[pfn >> 6]) >> (pfn & 63)) & 1);
}
/* Zone lock held. */
static inline void set_page_reported_locked(struct za_zone *z,
                                            unsigned long pfn, unsigned order)
{
	__atomic_fetch_or(&z->za->reported_map[pfn >> 6], 1ull << (pfn & 63),
	                  __ATOMIC_RELAXED);
	za_add_relaxed(&zone_vm_stat(z, ZA_NR_FREE_REPORTED), 1l << order);
}
static inline void clear_page_reported_locked(struct za_zone *z,
                                              unsigned long pfn,
                                              unsigned order)
{
	if (unlikely(page_reported(z->za, pfn))) {
		__atomic_fetch_and(&z->za->reported_map[pfn >> 6],
		                   ~(1ull << (pfn & 63)), __ATOMIC_RELAXED);
		za_add_relaxed(&zone_vm_stat(z, ZA_NR_FREE_REPORTED), -(1l << order));
	}
}
/* A block of `order` has just become free on an ordinary list: wake the
 * reporter's interest (a flag it polls; nothing else on the free path). */
static inline void page_reporting_notify_free(struct za *za, unsigned order)
{
	if (unlikely(order >= za_load_relaxed(&za->report_order)) &&
	    !za_load_relaxed(&za->report_pending))
		za_store_relaxed(&za->report_pending, 1);
}

/* pcp.c */
struct za_page *pcp_alloc(struct za *za, struct za_zone *z, unsigned order,
                          int mt, unsigned alloc_flags, long floor, int cpu,
                          bool *usable);
/* Up to nr order-0 pages of type mt from zone z through the page set of
 * the CPU the thread runs on (cpu, at first), in runs of at most
 * PCP_BULK_RUN pages a hold (pcp.h), counted as allocations for a
 * request that preferred node pref_nid. Stops at a set it cannot take, an
 * empty list it may not refill, or a cut list (reported). */
unsigned pcp_alloc_bulk(struct za *za, struct za_zone *z, int cpu, int mt,
                        unsigned nr, struct za_page **pages,
                        unsigned long mark, int highest_zoneidx, int pref_nid);
/* Drain one pcp completely (takes its lock). Returns pages drained. */
unsigned long pcp_drain_cpu_zone(struct za *za, struct za_zone *z, int cpu);
void pcp_drain_zone(struct za *za, struct za_zone *z);
/* Set (draining in the same hold) or clear a ZA_PCP_OFF_* flag. 0, or
 * when setting, a failed fence's error with nothing changed. */
int pcp_set_flag(struct za *za, struct za_zone *z, int cpu, uint8_t flag,
                 bool on);
/* Switch off and drain every page set of a CPU, folding its statistics,
 * in one hold with one fence (CPU offline). 0, or a failed fence's error
 * with nothing changed. The lists its drains cut are reported by
 * pcp_cpu_report, which the caller runs with no lock held. */
int pcp_cpu_off(struct za *za, int cpu);
/* Report the lists cut in every page set of a CPU (pcp_cpu_off's): no
 * lock held, cpu_hotplug_lock neither, so that the error handler may call
 * anything a callback may (za_report takes mem_hotplug_lock, which ranks
 * before cpu_hotplug_lock). */
void pcp_cpu_report(struct za *za, int cpu);
/* Drain and fold every page set that a CPU offline left to the worker
 * (ZA_PCP_DEFERRED), waiting for their owners to let go. every_set: look
 * at every set whatever za.pcp_deferred says (za_check, which must find
 * them all finished: the worker takes the flag before it drains); false:
 * only when the flag is set, taking it (the worker). */
void pcp_finish_deferred(struct za *za, bool every_set);
/* The holder (owner or remote user) of a set whose flags are non-zero:
 * copies sizes published since it last looked; true when the lists are
 * switched off. */
bool pcp_flags_slow(struct za_zone *z, struct za_pcp *pcp);
/* What a set's sizes are once it picks up what was published (reports). */
void pcp_sizes_now(const struct za_zone *z, const struct za_pcp *pcp,
                   int *high, int *batch, int *high_min, int *high_max);
/* tunables_update only (tunables_lock held): */
void pcp_publish_sizes_locked(struct za *za, struct za_zone *z, bool pressure);
void pcp_pressure_trim_locked(struct za *za);
/* Report the lists cut in every page set (pcp_report_corrupt): after the
 * pressure trim, once tunables_lock is let go. No lock held. */
void pcp_report_corrupt_all(struct za *za);
int pcp_zone_disable(struct za *za, struct za_zone *z);
void pcp_zone_enable(struct za *za, struct za_zone *z);
void pcp_decay_all(struct za *za);

/* Make za_zone.fast_ok match its inputs (watermark.c). Called after the
 * free-page count is folded into and, with fast_gen bumped first
 * (zone_fast_input_changed), after any other input changed. */
void zone_fast_refresh(struct za_zone *z);
/* Change a zone's global value of a statistics item directly (no
 * per-CPU delta): every change of the free-page count refreshes the fast
 * paths' check (fast_ok). Also the fold of a per-CPU delta. */
static inline void vmstat_mod(struct za_zone *z, int item, long delta)
{
	za_add_relaxed(&zone_vm_stat(z, item), delta);
	if (item == ZA_NR_FREE_PAGES)
		zone_fast_refresh(z);
}

/* vmstat.c */
/* A page set's pages handed out from its lists less those taken back,
 * not yet folded (struct za_pcp, alloc_base). */
static inline long pcp_alloc_unfolded(const struct za_pcp *pcp)
{
	return za_load_relaxed(&pcp->alloc_base) - za_load_relaxed(&pcp->count);
}
/* Change a counter through this CPU's delta; fold it into the global value
 * when it passes the zone's threshold. Caller holds pcp->lock. */
static inline void vmstat_mod_pcp_locked(struct za_zone *z, struct za_pcp *pcp,
                                         int item, long delta)
{
	pcp_assert_held(z->za, pcp);
	long d = pcp->vm_diff[item] + delta;
	long t = za_load_relaxed(&z->stat_threshold);
	if (unlikely(d > t || d < -t)) {
		vmstat_mod(z, item, d);
		d = 0;
	}
	za_store_relaxed(&pcp->vm_diff[item], (int32_t)d);
}
/* Version 0.1's vmstat names and order (ZA_REPORT_VMSTAT_V0). */
struct vmstat_v0_row {
	int item;
	const char *name;
};
extern const struct vmstat_v0_row vmstat_v0_zone_stats[], vmstat_v0_events[];
extern const unsigned vmstat_v0_nr_zone_stats, vmstat_v0_nr_events;
long zone_stat_global(struct za_zone *z, int item);
long zone_stat_snapshot(struct za *za, struct za_zone *z, int item);
void vmstat_fold_cpu_zone(struct za *za, struct za_zone *z, int cpu);
void vmstat_fold_all(struct za *za, bool trylock);
/* Memory offline emptied z: fold its CPUs' deltas (zone_pcp_reset). */
void vmstat_fold_zone(struct za *za, struct za_zone *z);
/* Wake the statistics worker to finish deferred CPU-offline drains;
 * false when there is no worker. */
bool vmstat_kick(struct za *za);
/* tunables_update only: the thresholds and drift marks, lower under
 * pressure. */
void vmstat_update_thresholds_locked(struct za *za, bool pressure);
static inline void event_pcp_locked(struct za_pcp *pcp, int ev, uint64_t n)
{
	ZA_ASSERT(za_witness_held(ZA_RANK_PCP));
	za_inc_single_writer(&pcp->events[ev], n);
}
/* The sum of a page set's per-order fast-path counts (fast_alloc,
 * fast_free): the calls, or the pages they moved. */
static inline uint64_t pcp_fast_sum(const uint64_t *by_order, bool pages)
{
	uint64_t v = 0;
	for (unsigned o = 0; o <= ZA_PCP_SMALL_ORDER; o++)
		v += za_load_relaxed(&by_order[o]) << (pages ? o : 0);
	return v;
}
/* A page set's count of event ev, as readers add it up. */
static inline uint64_t pcp_event(const struct za_pcp *pcp, int ev)
{
	uint64_t v = za_load_relaxed(&pcp->events[ev]);
	if (ev == ZA_NUMA_HIT || ev == ZA_NUMA_LOCAL)
		v += za_load_relaxed(&pcp->numa_hit_local) +
		     pcp_fast_sum(pcp->fast_alloc, false);
	else if (ev == ZA_PGALLOC)
		v += pcp_fast_sum(pcp->fast_alloc, true);
	else if (ev == ZA_PGFREE)
		v += pcp_fast_sum(pcp->fast_free, true);
	return v;
}
static inline void event_zone(struct za_zone *z, int ev, uint64_t n)
{
	za_add_relaxed(&z->events[ev], n);
}
int vmstat_start(struct za *za);
void vmstat_stop(struct za *za);

/* sysctl.c: the tunables' defaults, set by za_create. */
void sysctl_init_defaults(struct za *za);

/* watermark.c */
/* The one place that recomputes every zone's tunables from their inputs
 * (managed pages, online CPUs, the sysctls, memory pressure): watermarks,
 * lowmem reserves, page-set sizes (published, picked up lazily),
 * statistics thresholds and drift marks. Every event that changes an
 * input calls it after changing it: memory online and offline, CPU
 * online and offline, pressure beginning and ending, a sysctl write.
 * Locking rule: it takes tunables_lock itself, and everything it writes
 * is written under that lock only (asserted); the caller holds no drain,
 * pcp, zone or leaf lock. A CPU flip's call does not wait: when the lock
 * is busy it leaves a mark (tunables_dirty), and the holder recomputes
 * for it as it lets go. So everyone takes tunables_lock with
 * tunables_enter() and lets go with tunables_leave(), which honours the
 * marks, never with the bare mutex calls. It stops a page set
 * only to fold deltas when a threshold drops and to trim lists when
 * pressure begins, never for a CPU flip. */
enum tunables_event {
	TUNABLES_MEMORY,   /* memory online or offline, za_create */
	TUNABLES_SYSCTL,   /* a sysctl written */
	TUNABLES_PRESSURE, /* reclaim began or ended (reclaim_active) */
	TUNABLES_CPU,      /* a CPU flip: does not wait for a running recompute */
};
void tunables_update(struct za *za, enum tunables_event ev);
void tunables_enter(struct za *za);
void tunables_leave(struct za *za);
bool zone_watermark_ok(struct za *za, struct za_zone *z, unsigned order,
                       unsigned long mark, int highest_zoneidx,
                       unsigned alloc_flags);
unsigned long zone_free_estimate(struct za *za, struct za_zone *z);
/* The free pages a request with alloc_flags counts against its floor
 * (wmark_floor): exactly (the snapshot) at min, else zone_free_estimate;
 * less the high-order atomic reserve unless the request may use it
 * (ALLOC_HARDER). zone_watermark_ok tests it, and a per-CPU refill takes
 * no more than what it has above the floor (pcp_refill_locked): one
 * count, so that a refill never takes a zone below the floor its check
 * kept. May be negative. */
long zone_free_counted(struct za *za, struct za_zone *z, unsigned alloc_flags);
static inline unsigned long zone_wmark(const struct za_zone *z, int which)
{
	return za_load_relaxed(&z->wmark[which]);
}
/* The free-page level an allocation may not go below: the mark, lowered
 * for __GFP_HIGH and atomic requests as zone_watermark_ok lowers it, plus
 * the lowmem reserve. A refill never takes a zone under it. */
static inline long wmark_floor(const struct za_zone *z, unsigned long mark,
                               int highest_zoneidx, unsigned alloc_flags)
{
	long min = (long)mark;
	if (alloc_flags & ALLOC_NO_WATERMARKS)
		return 0;
	if (alloc_flags & ALLOC_HIGH)
		min -= min / 2;
	if (alloc_flags & ALLOC_HARDER)
		min -= min / 4;
	return min + (long)za_load_relaxed(&z->lowmem_reserve[highest_zoneidx]);
}
/* Whether a zone is clearly above mark for a block of 2^order: the global
 * free counter, less the high-order atomic reserve, exceeds the mark, the
 * lowmem reserve against highest_zoneidx and the block, and is not below
 * the drift mark (so no snapshot is needed: seed 003). The per-CPU fast
 * paths' check at low; anything it refuses takes the full check. */
static inline bool zone_clearly_above(const struct za_zone *z,
                                      unsigned long mark, int highest_zoneidx,
                                      unsigned order)
{
	long free = za_load_relaxed(&zone_vm_stat(z, ZA_NR_FREE_PAGES)) -
	            (long)za_load_relaxed(&z->nr_reserved_highatomic);
	long need = (long)(mark +
	                   za_load_relaxed(&z->lowmem_reserve[highest_zoneidx]) +
	                   (1ul << order));
	return free > need && free >= (long)za_load_relaxed(&z->percpu_drift_mark);
}
/* fast_ok as it should be now: bit hz for zone_clearly_above at low
 * against hz, for a block of the largest per-CPU order. None while a
 * boost's wake of kswapd is owed (boost_wake): the fast paths never look
 * at it, so the next allocation takes the general path, which delivers
 * it (_za_boost_wake) and refreshes fast_ok - as the kernel's rmqueue
 * tests its boosted flag after every allocation, pcp or not. */
static inline uint8_t zone_fast_mask(const struct za_zone *z)
{
	if (za_load_relaxed(&z->boost_wake))
		return 0;
	unsigned long low = zone_wmark(z, ZA_WMARK_LOW);
	uint8_t m = 0;
	for (int hz = 0; hz < ZA_NR_ZONES; hz++)
		if (zone_clearly_above(z, low, hz, ZA_PCP_SMALL_ORDER))
			m |= (uint8_t)ZONE_FAST_OK_BIT(hz);
	return m;
}
static inline void zone_fast_input_changed(struct za_zone *z)
{
	/* Release: a refresh that reads the new count (acquire) reads the
	 * input stored before it too. */
	za_add_acqrel(&z->fast_gen, 1);
	zone_fast_refresh(z);
}
/* The fast paths' check: the zone is clearly above low for a request of
 * a per-CPU order whose highest zone index is hz. */
static inline bool zone_fast_ok(const struct za_zone *z, int hz)
{
	return (za_load_relaxed(&z->fast_ok) & ZONE_FAST_OK_BIT(hz)) != 0;
}
/* The common case of zone_watermark_ok, inline: an order-0 request at the
 * low (or high) mark with the zone clearly above it. Anything else takes
 * the full check. */
static inline bool zone_watermark_fast(struct za *za, struct za_zone *z,
                                       unsigned order, unsigned long mark,
                                       int highest_zoneidx,
                                       unsigned alloc_flags)
{
	/* Not at min: there the exact count decides (zone_watermark_ok). */
	if (likely(order == 0 &&
	           (alloc_flags & ALLOC_WMARK_MASK) != ALLOC_WMARK_MIN &&
	           zone_clearly_above(z, mark, highest_zoneidx, 0)))
		return true;
	return zone_watermark_ok(za, z, order, mark, highest_zoneidx, alloc_flags);
}

/* zonelist.c */
void build_all_zonelists(struct za *za);
/* Rewrite CPU c's row of za.rseq_pcp from its row of za.cpu_pcp (the
 * rebuild does; tests that tear a rebuild by hand too). */
void write_rseq_pcp(struct za *za, unsigned c);
static inline unsigned zonelist_seq_begin(const struct za *za)
{
	return za_load_acquire(&za->zonelist_seq);
}
/* The fence orders the walk's relaxed loads of the entries before the
 * count's second read: an acquire load orders only what follows it, so
 * on a weakly ordered CPU the walk could read a torn entry after it. */
static inline bool zonelist_seq_retry(const struct za *za, unsigned seq)
{
	za_fence_acquire();
	return (seq & 1) || za_load_relaxed(&za->zonelist_seq) != seq;
}

/* fastpath.c, alloc.c */
/* The call site of the public call that led to the out-of-line paths
 * (alloc_pages_slow, free_pages_slow), for page owner and fault
 * injection. Optimised builds: the leaf entry points reach them by a tail
 * jump, so their return address is the caller's; taking
 * __builtin_return_address in the leaves themselves would cost them
 * their frameless, register-only shape. Unoptimised builds (no tail
 * jumps) pass it from the entry point (in optimised builds the constant
 * NULL then folds away: nothing is carried through the locked fast path
 * of alloc_pages_slow). The bulk calls pass their own. */
#ifdef __OPTIMIZE__
#define ENTRY_SITE() ((const void *)0)
#define SLOW_SITE(passed) ((passed) ? (passed) : __builtin_return_address(0))
#else
#define ENTRY_SITE() __builtin_return_address(0)
#define SLOW_SITE(passed) (passed)
#endif

/* The locked fast path, then alloc_general (fastpath.c). */
struct za_page *alloc_pages_slow(struct za *za, int nid, za_gfp_t gfp,
                                 unsigned order, const void *site);
/* Everything the fast paths leave (alloc.c). */
struct za_page *alloc_general(struct za *za, int nid, za_gfp_t gfp,
                              unsigned order, const void *site);
void free_pages_slow(struct za *za, struct za_page *page, unsigned order,
                     const void *site);
void zero_block(struct za *za, struct za_page *page, unsigned order);

/* alloc.c */
struct za_page *get_page_from_freelist(struct za *za, struct za_alloc_ctx *ac,
                                       unsigned order, unsigned alloc_flags);
/* Free a claimed block straight to the buddy lists, counting it in the
 * deltas of cpu's page set when that can be try-locked (cpu -1: in the
 * zone's shared counters). gen is the block's hand-out count as the claim
 * read it, before it checked the state: a block handed out again since
 * (a racing double free whose claim landed late) is reported and left to
 * its new owner, no list or counter touched. Takes and drops the locks
 * itself. */
void free_one_page(struct za *za, struct za_zone *z, struct za_page *page,
                   unsigned long pfn, unsigned order, int cpu, uint8_t gen);

/* reclaim.c */
int reclaim_init(struct za *za);
int reclaim_start(struct za *za);
void reclaim_stop(struct za *za);
void reclaim_fini(struct za *za);
/* False when the wake was not left: kswapd not started, or (may_sleep
 * false) its lock busy. */
bool wakeup_kswapd(struct za *za, struct za_zone *z, unsigned order,
                   int highest_zoneidx, bool may_sleep);
extern ZA_THREAD_LOCAL int za_in_reclaim;
unsigned long direct_reclaim(struct za *za, struct za_alloc_ctx *ac,
                             unsigned order);
unsigned long call_oom_handler(struct za *za, int nid, unsigned order);

/* compaction.c */
/* The kernel's PAGE_ALLOC_COSTLY_ORDER. */
#define ZA_COSTLY_ORDER ZA_PCP_SMALL_ORDER
/* Direct compaction for an allocation of order (slow path, costly
 * orders): compacts the zones of ac's zonelist that are not deferred and
 * returns the page the allocation then found, or NULL. *skipped is set
 * when compaction could run but every zone was deferred or unsuitable
 * (not when it cannot run: no migrate callback, a hotplug operation
 * under way). Takes mem_hotplug_lock with a try-lock only. */
struct za_page *_za_direct_compact(struct za *za, struct za_alloc_ctx *ac,
                                   unsigned order, unsigned alloc_flags,
                                   bool *skipped);
int _za_compaction_init(struct za *za);
void _za_compaction_fini(struct za *za);
int _za_kcompactd_start(struct za *za);
void _za_kcompactd_stop(struct za *za);
/* Have every kcompactd look at the fragmentation score at once (a write
 * of compaction_proactiveness): kcompactd_look, set under kcompactd_lock. */
void _za_kcompactd_poke(struct za *za);
/* kswapd's hand-off: a request of order failed on node nid (also a
 * hopeless node's atomic request's, reclaim.c). may_sleep false: the lock
 * is only tried, and a busy one drops the wake. */
void _za_wakeup_kcompactd(struct za *za, int nid, int order,
                          int highest_zoneidx, bool may_sleep);
/* The kernel's fragmentation index of a zone for order (in thousandths,
 * -1000: a block of that order is free) and its unusable free index (in
 * thousandths), and the node's fragmentation score (0..100). */
int _za_fragmentation_index(struct za_zone *z, unsigned order);
int _za_unusable_index(struct za_zone *z, unsigned order);
unsigned _za_node_fragmentation_score(struct za *za, struct za_node *node);
/* Watermark boosting. Zone lock held: a fallback took part of a pageblock
 * of another migratetype; raise the zone's marks. */
void _za_boost_watermark_locked(struct za_zone *z);
/* An allocation found boost_wake set: wake kswapd for the zone (waiting
 * for its lock when the request may sleep). A wake that found the lock
 * busy leaves boost_wake set, for the next allocation to try again. */
void _za_boost_wake(struct za *za, struct za_zone *z, int highest_zoneidx,
                    bool may_sleep);
/* kswapd after a pass: take back the boosts it saw when the pass began
 * (boost[], by zone type; a boost raised during the pass stays, and its
 * wake brings kswapd round again), wake kcompactd. */
void _za_boost_done(struct za *za, struct za_node *node,
                    const unsigned long *boost);
/* Recompute: marks from new bases, keeping boosts. mem_hotplug_lock. */
void _za_boost_apply(struct za_zone *z);

/* Keep compaction passes out (and wait for those running to end), or let
 * them in again: mem_hotplug_lock and mem_hotplug_unlock do it. */
void _za_compaction_exclude(struct za *za, bool on);
/* Whether this thread is inside a compaction pass of za (its callbacks
 * run there). A pass of another allocator does not count: its callback
 * may call into za. */
bool _za_in_compaction(const struct za *za);

/* The allocators whose callback a thread is inside, for one kind of
 * callback: a thread-local per kind. Per allocator, not per thread: a
 * callback of one allocator may call into another (which may call back
 * into the first), and only a call into the same allocator would wait
 * for itself. Innermost last. A thread nested deeper than the table
 * enters no more: za_nest_enter says so, and its caller does not run
 * that callback (or pass), so that za_nest_in stays exact for every
 * allocator - an answer of "inside" for one the thread holds nothing of
 * would let a call skip a lock it needs. */
#define ZA_NEST_MAX 8
struct za_nest {
	const struct za *za[ZA_NEST_MAX];
	unsigned depth;
};

static inline bool za_nest_enter(struct za_nest *n, const struct za *za)
{
	if (n->depth == ZA_NEST_MAX)
		return false;
	n->za[n->depth++] = za;
	return true;
}

/* Only after an enter that returned true. */
static inline void za_nest_leave(struct za_nest *n)
{
	n->depth--;
}

static inline bool za_nest_in(const struct za_nest *n, const struct za *za)
{
	for (unsigned i = 0; i < n->depth; i++)
		if (n->za[i] == za)
			return true;
	return false;
}

/* isolate.c: pageblock isolation and migration (memory offline, contig).
 * Ranges are whole max-order blocks of one zone; the caller holds
 * mem_hotplug_lock. saved has one byte per pageblock of the range. */
int isolate_range(struct za *za, struct za_zone *z, unsigned long start,
                  unsigned long nr, uint8_t *saved);
void unisolate_range(struct za *za, struct za_zone *z, unsigned long start,
                     unsigned long nr, const uint8_t *saved);
int migrate_range(struct za *za, unsigned long start, unsigned long nr,
                  uint64_t deadline_ns, unsigned long *migrated);
/* A migration target the migrate callback freed and then refused to move
 * into (a client bug: dst is the client's only on 0): reported by the
 * migration that finds it so (migrate_range, compaction's migrate_block),
 * which then leaves it where the client's free put it. */
static inline void report_dst_freed_by_refuser(struct za *za,
                                               unsigned long pfn)
{
	_za_report_misuse(za, -EINVAL,
	                  "pfn 0x%lx freed by the migrate callback that refused "
	                  "to move into it",
	                  pfn);
}
bool range_all_free_isolated(struct za *za, struct za_zone *z,
                             unsigned long start, unsigned long nr);
void take_range_off_lists(struct za *za, struct za_zone *z,
                          unsigned long start, unsigned long nr);
/* Isolate, disable pcp, migrate until free or the deadline: 0, -EBUSY,
 * -EAGAIN. idle_passes (0: none) also ends it with -EAGAIN after that
 * many migration passes in a row that moved nothing. On failure
 * everything is as it was. On success the range is off the lists (states
 * OFFLINE) and the zone's pcp lists are enabled again. */
int take_range(struct za *za, struct za_zone *z, unsigned long start,
               unsigned long nr, uint64_t deadline_ns, unsigned long *migrated,
               unsigned idle_passes);

/* The debugging aids (docs/DEBUGGING.md). page_debug.c: set up at create
 * (tables only for the aids configured), and the hooks of the general
 * path: _za_debug_alloc for a block of nr pages at pfn just handed out
 * (poison check, init_on_alloc, page-owner record; order is
 * ZA_PAGE_OWNER_CONTIG for a contiguous range; cpu the allocating CPU or
 * -1), _za_debug_free for a
 * block claimed for freeing and not yet on a list (page-owner free site,
 * poisoning), _za_debug_forget for memory going offline. Callers test
 * za->nofast & ZA_NOFAST_DEBUG first. No lock needed: the caller owns
 * the block. */
int _za_debug_init(struct za *za);
void _za_debug_fini(struct za *za);
void _za_debug_alloc(struct za *za, unsigned long pfn, unsigned long nr,
                     unsigned order, za_gfp_t gfp, int cpu, const void *site);
void _za_debug_free(struct za *za, unsigned long pfn, unsigned long nr,
                    const void *site);
void _za_debug_forget(struct za *za, unsigned long pfn, unsigned long nr);
/* " [page owner: ...]" naming the sites known for pfn, or "". */
size_t _za_debug_describe(struct za *za, unsigned long pfn, char *buf,
                          size_t len);
/* page_owner.c */
int _za_page_owner_init(struct za *za);
void _za_page_owner_fini(struct za *za);
void _za_page_owner_alloc(struct za *za, unsigned long pfn, unsigned long nr,
                          unsigned order, za_gfp_t gfp, int cpu,
                          const void *site);
void _za_page_owner_free(struct za *za, unsigned long pfn, unsigned long nr,
                         const void *site);
void _za_page_owner_forget(struct za *za, unsigned long pfn, unsigned long nr);
/* Why a record was carried over by a migration (page_owner.c). */
#define ZA_OWNER_MIGRATED_COMPACTION 1u
#define ZA_OWNER_MIGRATED_RANGE 2u /* memory offline, contiguous allocation */
void _za_page_owner_migrate(struct za *za, unsigned long dst,
                            unsigned long src, unsigned order, unsigned why);
size_t _za_page_owner_describe(struct za *za, unsigned long pfn, char *buf,
                               size_t len);
int _za_page_owner_report(struct za *za, struct za_out *out);
int _za_page_owner_summary_report(struct za *za, struct za_out *out);
/* poison.c */
int _za_poison_init(struct za *za);
void _za_poison_fini(struct za *za);
void _za_poison_pages(struct za *za, unsigned long pfn, unsigned long nr);
unsigned long _za_poison_check(struct za *za, unsigned long pfn,
                               unsigned long nr);
void _za_poison_forget(struct za *za, unsigned long pfn, unsigned long nr);
/* fault_inject.c: the kernel's fail_page_alloc. _za_should_fail_alloc is
 * asked only while ZA_NOFAST_FAULT is set (armed: probability > 0 and
 * times != 0). The sysctl functions take the name after
 * "fail_page_alloc." and answer as za_sysctl_set / _get do. */
void _za_fail_init(struct za *za);
bool _za_should_fail_alloc(struct za *za, za_gfp_t gfp, unsigned order,
                           const void *site);
int _za_fail_sysctl_set(struct za *za, const char *name, const char *value);
/* A sysctl value's text (k: snprintf's result) into the caller's buffer:
 * 0, or -ERANGE with buf emptied when it does not fit (sysctl.c). */
int sysctl_copy_out(char *buf, size_t len, const char *text, int k);
int _za_fail_sysctl_get(struct za *za, const char *name, char *buf,
                        size_t len);
const char *_za_fail_sysctl_name(unsigned i);
#define ZA_FAIL_SYSCTL_PREFIX "fail_page_alloc."

#endif
