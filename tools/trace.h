/*
 * trace.h - reading the Linux kernel's own page-allocator trace into
 * memory, for `zonealloc replay` and the benchmark.
 *
 * Three layers, each usable alone:
 *  - trace_parse_line(): one line of ftrace text for the kmem events
 *    mm_page_alloc, mm_page_free, mm_page_free_batched,
 *    mm_page_alloc_zone_locked and mm_page_pcpu_drain, in the shapes that
 *    trace_pipe, `trace-cmd report` and `perf script` print;
 *  - trace_reader_*() and trace_load(): a plain, gzip or xz file (or
 *    standard input) read whole into a compact event array, with counts of
 *    what was and was not understood;
 *  - trace_match(): pairs frees with the allocations they release and turns
 *    the events into a list of allocate/free operations that a replayer can
 *    run against any allocator, on the CPU each event happened on.
 * The gfp helpers translate the kernel's gfp flags into zonealloc's.
 *
 * Nothing here touches an allocator: the caller decides what to do with
 * the operations. Not thread-safe per object; separate objects are
 * independent.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ZA_TOOLS_TRACE_H
#define ZA_TOOLS_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "zonealloc.h"

/* The five events, in the order reports list them. */
enum trace_type {
	TRACE_ALLOC,        /* mm_page_alloc: replayed */
	TRACE_FREE,         /* mm_page_free: replayed */
	TRACE_FREE_BATCHED, /* mm_page_free_batched: replayed */
	TRACE_ZONE_LOCKED,  /* mm_page_alloc_zone_locked: counted */
	TRACE_PCPU_DRAIN,   /* mm_page_pcpu_drain: counted */
	TRACE_NR_TYPES
};
/* The kernel's name of an event ("mm_page_alloc"...). */
const char *trace_type_name(enum trace_type t);

/* Largest order a line may carry. The kernel's buddy lists stop at order
 * 10 on most machines; anything above 20 is not a buddy allocation, and
 * matching walks every page of a block, so a bound keeps a hostile line
 * from costing seconds. Equal to ZA_MAX_ORDER_LIMIT on purpose. */
#define TRACE_MAX_ORDER 20

/* trace_event.flags */
#define TRACE_EV_FAILED 0x01      /* mm_page_alloc that returned no page */
#define TRACE_EV_REFILL 0x02      /* zone_locked with percpu_refill=1 */
#define TRACE_EV_HAVE_REFILL 0x04 /* the percpu_refill field was there */

/* One event, 32 bytes: a million events fit in 32 MiB. */
struct trace_event {
	uint64_t pfn;
	uint64_t ts_ns; /* timestamp, nanoseconds */
	uint32_t kgfp;  /* kernel gfp bits (TRACE_KGFP_*), alloc only */
	uint32_t line;  /* line number in the input (saturates) */
	uint16_t cpu;
	uint8_t type; /* enum trace_type */
	uint8_t order;
	int8_t migratetype; /* -1 when the line did not say */
	uint8_t flags;      /* TRACE_EV_* */
	uint8_t pad[2];
};

/* What a line turned out to be. */
enum trace_line_kind {
	TRACE_LINE_EVENT,    /* one of the five events, fields good */
	TRACE_LINE_BLANK,    /* empty or only white space */
	TRACE_LINE_COMMENT,  /* '#' comment, or a trace-cmd header line */
	TRACE_LINE_LOST,     /* ftrace's "[LOST n EVENTS]" marker */
	TRACE_LINE_OTHER,    /* a well-formed line of some other event */
	TRACE_LINE_UNKNOWN,  /* not understood */
	TRACE_LINE_MALFORMED /* one of the five events, with bad fields */
};

/*
 * Parse one line (len bytes, no newline needed, need not be
 * NUL-terminated). Returns its kind. For TRACE_LINE_EVENT fills *ev (line
 * left 0); for TRACE_LINE_LOST adds the count to *lost (may be NULL); for
 * TRACE_LINE_MALFORMED sets *why (may be NULL) to a short static reason.
 * *unknown_gfp (may be NULL) is incremented per gfp flag name this parser
 * does not know (the flag is then ignored, not an error: newer kernels add
 * flags).
 */
enum trace_line_kind trace_parse_line(const char *line, size_t len,
                                      struct trace_event *ev, uint64_t *lost,
                                      const char **why, uint64_t *unknown_gfp);

/*
 * Kernel gfp bits in the layout of Linux 5.0 to 6.x (hex gfp_flags values
 * are read in this layout). Names in the text form map onto these.
 */
#define TRACE_KGFP_DMA 0x1u
#define TRACE_KGFP_HIGHMEM 0x2u
#define TRACE_KGFP_DMA32 0x4u
#define TRACE_KGFP_MOVABLE 0x8u
#define TRACE_KGFP_RECLAIMABLE 0x10u
#define TRACE_KGFP_HIGH 0x20u
#define TRACE_KGFP_IO 0x40u
#define TRACE_KGFP_FS 0x80u
#define TRACE_KGFP_ZERO 0x100u
#define TRACE_KGFP_ATOMIC 0x200u /* until Linux 6.3 */
#define TRACE_KGFP_DIRECT_RECLAIM 0x400u
#define TRACE_KGFP_KSWAPD_RECLAIM 0x800u
#define TRACE_KGFP_WRITE 0x1000u
#define TRACE_KGFP_NOWARN 0x2000u
#define TRACE_KGFP_RETRY_MAYFAIL 0x4000u
#define TRACE_KGFP_NOFAIL 0x8000u
#define TRACE_KGFP_NORETRY 0x10000u
#define TRACE_KGFP_MEMALLOC 0x20000u
#define TRACE_KGFP_COMP 0x40000u
#define TRACE_KGFP_NOMEMALLOC 0x80000u
#define TRACE_KGFP_HARDWALL 0x100000u
#define TRACE_KGFP_THISNODE 0x200000u
#define TRACE_KGFP_ACCOUNT 0x400000u
#define TRACE_KGFP_ZEROTAGS 0x800000u

/*
 * Parse a gfp_flags value: "GFP_KERNEL|__GFP_ZERO", "none", "0xcc0" or
 * decimal. Returns 0 and the bits in *kgfp, or -1 when the text is not a
 * gfp value. Unknown flag names count into *unknown (may be NULL).
 */
int trace_gfp_parse(const char *s, size_t len, uint32_t *kgfp,
                    uint64_t *unknown);

/*
 * zonealloc's gfp for a kernel request: zone, mobility, reclaim, reserves
 * and modifiers carried over. __GFP_NOFAIL is never passed on (a replay
 * must not retry forever on memory it cannot reclaim); *nofail_stripped
 * (may be NULL) is incremented when it was there. ZA_GFP_NOWARN is always
 * added: the replayer counts failures itself.
 */
za_gfp_t trace_gfp_to_za(uint32_t kgfp, uint64_t *nofail_stripped);

/* ---- reading a file ---- */

enum trace_compression { TRACE_PLAIN, TRACE_GZIP, TRACE_XZ };
const char *trace_compression_name(enum trace_compression c);

struct trace_reader;

/*
 * Open path ("-" for standard input) and detect gzip or xz by their magic
 * bytes. Returns NULL with a message in err (errlen bytes) when the file
 * cannot be opened or uses a compression this build cannot read.
 */
struct trace_reader *trace_reader_open(const char *path, char *err,
                                       size_t errlen);
/*
 * The next line, without its newline, valid until the next call. Returns
 * 1 for a line, 0 at the clean end of input, -1 on a read or decompression
 * error (a truncated or corrupt stream): trace_reader_error() says which.
 * Lines longer than TRACE_MAX_LINE are cut; *cut (may be NULL) says so.
 */
#define TRACE_MAX_LINE 4096
int trace_reader_line(struct trace_reader *r, const char **line, size_t *len,
                      int *cut);
const char *trace_reader_error(const struct trace_reader *r);
enum trace_compression trace_reader_compression(const struct trace_reader *r);
/* Bytes read from the file so far (compressed bytes for .gz/.xz). */
uint64_t trace_reader_bytes_in(const struct trace_reader *r);
/* Bytes of text produced so far. */
uint64_t trace_reader_bytes_out(const struct trace_reader *r);
void trace_reader_close(struct trace_reader *r);

/* ---- a whole trace in memory ---- */

#define TRACE_FIRST_LINES 5 /* line numbers kept per kind of bad line */

struct trace_stats {
	uint64_t lines;
	uint64_t blank, comment, other, unknown, malformed;
	uint64_t lost_events; /* from "[LOST n EVENTS]" markers */
	uint64_t by_type[TRACE_NR_TYPES];
	uint64_t pages_by_type[TRACE_NR_TYPES]; /* sum of 2^order */
	uint64_t refill_events; /* zone_locked with percpu_refill=1 */
	uint64_t refill_pages;
	uint64_t kernel_alloc_failed; /* mm_page_alloc without a page */
	uint64_t unknown_gfp_names;
	uint64_t alloc_by_order[TRACE_MAX_ORDER + 1];
	uint64_t max_pfn_end; /* 1 + the last pfn any event touched */
	int max_cpu;          /* -1 when no event */
	unsigned max_order;
	/* the first few line numbers of each kind of bad line */
	uint64_t malformed_line[TRACE_FIRST_LINES];
	const char *malformed_why[TRACE_FIRST_LINES];
	uint64_t unknown_line[TRACE_FIRST_LINES];
};

struct trace {
	struct trace_event *ev;
	size_t nr, cap;
	/* "# " comment lines before the first event, and a recording's end
	 * lines ("# zonealloc-trace-end", "# end-zoneinfo", "# end-vmstat"),
	 * newline-separated: the machine header of `zonealloc record`
	 * (machine.h). NULL if none. */
	char *header;
	size_t header_len, header_cap;
	struct trace_stats st;
	enum trace_compression comp;
	uint64_t bytes_in, bytes_out;
};

struct trace_load_opts {
	uint64_t limit; /* stop after this many events; 0: no limit */
	/* called about every 64k lines; may be NULL */
	void (*progress)(void *ctx, const struct trace *t);
	void *ctx;
};

/*
 * Read path ("-": standard input) whole into t (zeroed by this call).
 * Returns 0, or -1 with a message in err: cannot open, read error,
 * truncated or corrupt compressed stream, out of memory, empty input, or
 * no event of the five kinds at all. Lines not understood and malformed
 * lines are counted, never fatal. t holds what was read either way; free
 * it with trace_free().
 */
int trace_load(struct trace *t, const char *path,
               const struct trace_load_opts *opts, char *err, size_t errlen);
/* Most header text kept (a zoneinfo of thousands of CPUs fits). */
#define TRACE_MAX_HEADER (64u << 20)
/*
 * Count one line into t->st (and keep it if it is header text) without
 * storing it: returns 1 and fills *ev when it is one of the five events,
 * else 0. The caller counts t->nr itself. A streaming reader's step.
 */
int trace_count_line(struct trace *t, const char *line, size_t len,
                     struct trace_event *ev, int *nomem);
/* Add one line as trace_load does (for tests and other sources). */
void trace_add_line(struct trace *t, const char *line, size_t len, int *nomem);
void trace_free(struct trace *t);

/*
 * How often the traced kernel took a zone lock for its per-CPU lists, as
 * far as the trace shows: a pcp refill takes the lock once and logs one
 * mm_page_alloc_zone_locked per block, a pcp flush or drain takes it once
 * and logs one mm_page_pcpu_drain per block, so each unbroken run of such
 * events on one CPU is one lock hold. zone_locked events that are not
 * refills are allocations straight from the buddy lists, one hold each.
 * Frees straight to the buddy lists are not traced apart from others, so
 * the sum is a lower bound.
 */
struct trace_lock_batches {
	uint64_t refill_batches;
	uint64_t drain_batches;
	uint64_t direct; /* zone_locked without percpu_refill */
};
void trace_lock_batches(const struct trace *t, size_t nr_events,
                        struct trace_lock_batches *out);

/* ---- pairing frees with allocations ---- */

enum trace_op_kind { TRACE_OP_ALLOC, TRACE_OP_FREE };

/*
 * One call to make. An allocation creates record rec; a free releases
 * record rec whole (the block of 2^order pages that its allocation got).
 * Every free op comes after the alloc op of its record in the list.
 */
struct trace_op {
	uint32_t rec;
	uint32_t ev;  /* index of the event in trace.ev that caused it */
	za_gfp_t gfp; /* alloc: zonealloc gfp (trace_gfp_to_za) */
	uint16_t cpu;
	uint8_t kind; /* enum trace_op_kind */
	uint8_t order;
};

struct trace_match_stats {
	uint64_t alloc_events;    /* mm_page_alloc events looked at */
	uint64_t free_events;     /* mm_page_free + mm_page_free_batched */
	uint64_t allocs;          /* alloc ops (records) */
	uint64_t kernel_failed;   /* mm_page_alloc without a page: skipped */
	uint64_t frees_exact;     /* freed one whole allocation, same pfn+order */
	uint64_t frees_partial;   /* freed part of one or more allocations */
	uint64_t frees_unmatched; /* no page of it allocated in the trace */
	uint64_t free_ops;        /* records released by free events */
	uint64_t implicit_frees;  /* records released, whole, because the
	                           * kernel handed out one of their pages again
	                           * (a free event was lost) */
	uint64_t never_freed;     /* records still allocated at the end */
	uint64_t never_freed_pages;
	uint64_t nofail_stripped;
	uint64_t live_peak; /* most pages held by records at once */
	uint32_t over_line; /* -2 from trace_match_flags: the input line
	                       * of the allocation that passed max_live */
};

struct trace_ops {
	struct trace_op *op;
	size_t nr;
	uint32_t nr_recs;
	struct trace_match_stats st;
	/* With TRACE_MATCH_STANDINS: one allocation for each unmatched free
	 * (a block the kernel allocated before the trace began), to run
	 * before the first op: its record is freed by a free op in op[] at
	 * the point, and on the CPU, of the trace's free. cpu and order are
	 * the free's; gfp carries the block's mobility when a later event
	 * shows it (ZA___GFP_MOVABLE, ZA___GFP_RECLAIMABLE, or none for
	 * unmovable) and no zone: the caller adds the zone of the free's
	 * pfn (trace.ev[ev].pfn). NULL and 0 without the flag. */
	struct trace_op *standin;
	size_t nr_standin;
	uint64_t standin_pages;
	uint64_t standin_mt_known; /* stand-ins whose mobility a later event
	                            * of the same pfn showed */
};

/*
 * Pair the frees in t->ev[0..nr_events) with allocations, by the pages they
 * cover: a free releases every page of its block that an earlier
 * allocation in the trace holds, and an allocation's record is freed when
 * its last page is (so a high-order block that the kernel split and freed
 * page by page is freed once, whole, with its last page). An allocation
 * of a page a record still holds frees that record first, whole (its
 * free event was lost). A free that
 * covers no such page freed memory allocated before the trace began: it is
 * counted and produces no op. Returns 0, or -1 when out of memory.
 */
int trace_match(const struct trace *t, size_t nr_events,
                struct trace_ops *out);
/*
 * trace_match() with flags: TRACE_MATCH_STANDINS makes a record for each
 * unmatched free (out->standin: allocate these first) and a free op for it
 * where the trace frees it, so that a replayer can free, on the CPU and at
 * the time the kernel did, the pages it allocated before the trace began.
 * The mobility of such a block is the migratetype of the first later
 * mm_page_alloc or mm_page_pcpu_drain of its first pfn (the per-CPU list
 * the kernel put it on), when there is one.
 */
#define TRACE_MATCH_STANDINS 0x1u
/*
 * max_live bounds the pages the records may hold at once (0: no bound).
 * The pairing keeps one map entry per held page, some 24 bytes each: a
 * few hundred bytes of order-20 lines at distinct pfns would otherwise
 * ask for gigabytes. An allocation that would pass it ends the pairing:
 * -2, with out->st.over_line its input line.
 */
int trace_match_flags(const struct trace *t, size_t nr_events, unsigned flags,
                      uint64_t max_live, struct trace_ops *out);
void trace_ops_free(struct trace_ops *ops);

#endif
