/*
 * zonealloc.h - the public interface of zonealloc, a zoned buddy page
 * allocator with per-CPU page lists, watermarks, per-CPU statistics,
 * reclaim, and CPU and memory hotplug, in user space.
 *
 * Conventions:
 *  - Everything public starts with za_ / ZA_.
 *  - Functions that can fail return 0 or a negative errno value, or NULL
 *    for pointers (with errno set where it says so). The values used are
 *    -EINVAL, -ENOMEM, -EBUSY, -EAGAIN, -EEXIST, -ENOENT, -EIO (reports),
 *    -ERANGE (the tunables), -EUCLEAN (za_check: an invariant broken),
 *    -EPERM (a CPU fence refused; page-set sizes fixed) and -EDEADLK (a
 *    call from a callback that would wait for itself, see "Callbacks"
 *    below); each function lists the ones it returns.
 *  - A NULL za is never a crash. Every function given one returns its
 *    failure value and changes nothing: -EINVAL from functions returning
 *    int, NULL with errno = EINVAL from functions returning a pointer (but
 *    za_page_address, whose NULL also means frame-only memory), 0 from
 *    the counts and topology queries (za_nr_cpus, za_zone_stat,
 *    za_event_count, za_alloc_pages_bulk...), ULONG_MAX from
 *    za_page_to_pfn, -1 from za_page_nid and za_page_zone; the void
 *    functions (frees, drains, setters, za_vmstat_fold, za_destroy) do
 *    nothing.
 *  - Every function may be called from any thread at any time unless its
 *    comment says otherwise - but not from a signal handler, nor from a
 *    child of fork() on its parent's allocator (both below). Allocation
 *    and free never wait for a hotplug operation.
 *
 * Callbacks (migrate, shrinkers, the OOM handler, the error handler) are
 * called with no pcp or zone lock held, and may call allocation, free,
 * the lookups, statistics, drains, CPU hotplug, za_report and the sysctl
 * reads and writes. The migrate
 * callback runs while memory offline or a contiguous allocation holds the
 * memory-hotplug lock, and so does every shrinker, OOM handler or error
 * handler called from an allocation made inside it: there, the calls that
 * take that lock refuse instead of waiting for themselves -
 * za_memory_online and za_memory_offline and za_check return -EDEADLK,
 * za_alloc_contig_pages returns NULL with errno = EDEADLK, and
 * za_free_contig_pages reports -EDEADLK through the error handler and
 * frees nothing (za_report's block census, which would take it, reads
 * under the caller's hold instead). A shrinker may not unregister a
 * shrinker of its allocator (it would wait for its own walk):
 * za_unregister_shrinker from inside one reports -EDEADLK and leaves it
 * registered. A misuse that an error handler commits on its own
 * allocator is written to stderr, not handed to the handler again.
 * All of this is per allocator: a callback may call into another
 * allocator freely - every function, memory hotplug, contiguous ranges,
 * za_check and za_compact included - and that one's callbacks back into
 * the first; only the calls into an allocator whose hold or pass the
 * thread is inside refuse as above. Lock order between two allocators is
 * the client's.
 *
 * Threads: a thread that used an allocator may exit at any time outside
 * a call; it leaves nothing behind (the per-CPU lists are the CPU's).
 * A deferred pthread_cancel of a thread inside a call is acted on after
 * the call: the library's own waits, sleeps and writes (reports and
 * za_check to a FILE, the error output) hold cancellation off. A
 * callback the library runs (migrate, shrinkers, the OOM and error
 * handlers, page reporting) and a writer given to za_report_write or
 * za_check_write run with the library's state held: they must not be
 * left by cancellation, longjmp or pthread_exit. Asynchronous
 * cancellation is never safe inside a call.
 *
 * Processes: an allocator belongs to the process that created it. A
 * child of fork() gets a copy in which only the forking thread exists:
 * none of the background threads (kswapd, kcompactd, the statistics
 * worker, the reporting thread), and every page set, lock or wait that
 * another thread held at the fork stays held for ever (a call that
 * needs it hangs; one that finds a list half-changed reports or hands
 * out what it should not). So a child may not call an allocator its
 * parent created, with one exception: where the parent had no other
 * thread inside a call at the fork and the allocator has no background
 * threads (ZA_CFG_NO_KSWAPD, which leaves kcompactd out too, and
 * ZA_CFG_NO_VMSTAT_WORKER), the copy is the child's own, to use and
 * destroy. za_destroy in a child of an allocator with background threads
 * reports the misuse (-EINVAL) and releases nothing: the copy goes with
 * the child's exit or exec. A child may create allocators of its own
 * freely.
 *
 * Signal handlers: no function is async-signal-safe. A handler that
 * calls into an allocator while the code it interrupted is inside a call
 * of that allocator can wait for ever for a lock that code holds (a free
 * whose page set the interrupted owner holds goes to the buddy lists,
 * whose zone lock the owner may hold while it flushes): a handler may
 * call in only where the signal is blocked around every call of the
 * thread into any allocator. Nor may a handler leave the interrupted call
 * by longjmp: the page set or lock the call held stays held, and the
 * next drain, CPU offline or za_check that needs it waits for ever. A
 * signal that arrives inside the restartable sequence itself is harmless
 * - the kernel sends the thread to the sequence's abort path before the
 * handler runs.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ZONEALLOC_H
#define ZONEALLOC_H

#include <stddef.h>
#if __STDC_HOSTED__ /* FILE * front ends; a freestanding embedder has none */
#include <stdio.h>
#endif

/* ZA_VERSION_MAJOR, ZA_VERSION_MINOR, ZA_VERSION_PATCH: generated by the
 * build from the project's version (include/zonealloc_version.h.in). */
#include "zonealloc_version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Exported from the shared library; everything else in it is hidden. */
#if defined(__GNUC__) || defined(__clang__)
#define ZA_API __attribute__((visibility("default")))
#else
#define ZA_API
#endif

struct za;      /* one allocator instance: nodes, zones, CPUs */
struct za_page; /* the metadata of one page frame (opaque) */

/* Zone types, defined once: X(name, report name, lower-case suffix). The
 * enum (ZA_ZONE_DMA = 0 ...), the names reports print ("Node 0, zone
 * DMA32", za_zone_name) and the suffixes of per-zone counters
 * (pgalloc_dma32) all come from this list. */
#define ZA_ZONE_LIST(X)                                                       \
	X(DMA, "DMA", "dma")                                                      \
	X(DMA32, "DMA32", "dma32")                                                \
	X(NORMAL, "Normal", "normal")                                             \
	X(MOVABLE, "Movable", "movable")

#define ZA_X_ZONE_ENUM(n, s, suffix) ZA_ZONE_##n,
enum za_zone_type { ZA_ZONE_LIST(ZA_X_ZONE_ENUM) ZA_NR_ZONES };
#undef ZA_X_ZONE_ENUM

/* Migratetypes, as pageblocks carry them (reports and za_page_info):
 * X(name, report name), as /proc/pagetypeinfo prints them. */
#define ZA_MIGRATETYPE_LIST(X)                                                \
	X(UNMOVABLE, "Unmovable")                                                 \
	X(MOVABLE, "Movable")                                                     \
	X(RECLAIMABLE, "Reclaimable")                                             \
	X(HIGHATOMIC, "HighAtomic")                                               \
	X(ISOLATE, "Isolate")

#define ZA_X_MT_ENUM(n, s) ZA_MT_##n,
enum za_migratetype { ZA_MIGRATETYPE_LIST(ZA_X_MT_ENUM) ZA_NR_MIGRATETYPES };
#undef ZA_X_MT_ENUM

/* Limits. */
#define ZA_MAX_NODES 64
#define ZA_MAX_CPUS 4096
#define ZA_MAX_ORDER_LIMIT 20 /* largest max_order a config may ask for */

/* za_config.flags */
/* No per-CPU lists: every call takes the zone lock. */
#define ZA_CFG_NO_PCP 0x1u
#define ZA_CFG_NO_KSWAPD 0x2u        /* no background reclaim threads */
#define ZA_CFG_NO_VMSTAT_WORKER 0x4u /* no periodic statistics fold */
#define ZA_CFG_PCP_FIXED 0x8u /* pcp high/batch fixed at pcp_high/pcp_batch */
/* Page sets always locked (one lock per set, the owner try-locks), never
 * restartable. Without it they are restartable where the platform allows:
 * Linux on x86-64 or AArch64, a thread rseq area (glibc's, or one the
 * library registers), membarrier's expedited rseq fence, no cpu_id
 * callback, and not a ThreadSanitizer build. za_pcp_info says which. */
#define ZA_CFG_PCP_LOCKED 0x10u
/* The free path claims the page with a compare-and-swap, so that two frees
 * of one page racing on two CPUs are caught at once. Without it (the
 * default outside debug builds) such a race is caught at the latest when
 * the page would be handed out the second time - unless the late free
 * stalled while the page was handed out a multiple of 256 times (an 8-bit
 * count, docs/ARCHITECTURE.md "Racing double frees"): then it can be
 * handed out twice unreported. A free of a page that is not allocated is
 * always reported at once. */
#define ZA_CFG_STRICT_FREE 0x20u
/* The kernel's debugging aids (docs/DEBUGGING.md). Off by default; with
 * any of them on, every allocation and free takes the general path (the
 * per-CPU lists still serve it), so they cost nothing when off.
 * Page owner: for every allocated block the allocating call site (the
 * return address of the za_alloc_* call), gfp, order, CPU, thread and
 * time; for a freed block the last free site. Read with za_page_owner,
 * za_page_owner_summary and the ZA_REPORT_PAGE_OWNER* reports; misuse
 * reports name the sites. A side table of 56 bytes per frame, reserved
 * for the whole pfn range and backed where used (page metadata stays 16
 * bytes). */
#define ZA_CFG_PAGE_OWNER 0x40u
/* Poisoning (the kernel's page poisoning): a freed block's memory is
 * filled with ZA_POISON_BYTE, and checked when handed out again; a write
 * after free is reported through the error handler (with the page owner's
 * sites when that is on). Backed memory only: za_memory_online without a
 * base address is -EINVAL on an allocator that poisons. */
#define ZA_CFG_POISON 0x80u
/* init_on_alloc: every allocation is zeroed, as if it asked for
 * ZA_GFP_ZERO. Frame-only memory has nothing to zero (as for
 * ZA_GFP_ZERO). */
#define ZA_CFG_INIT_ON_ALLOC 0x100u
#define ZA_POISON_BYTE 0xaa
/* No background compaction threads (kcompactd: one per node, woken by
 * kswapd, and proactive). ZA_CFG_NO_KSWAPD turns them off too. */
#define ZA_CFG_NO_KCOMPACTD 0x400u
/* No compaction on its own: neither direct compaction in the slow path
 * nor kcompactd (za_compact still runs a pass when asked), the kernel
 * built without CONFIG_COMPACTION. */
#define ZA_CFG_NO_COMPACTION 0x800u
#define ZA_PCP_FIXED_MAX (1u << 30) /* largest fixed pcp_high */

/* Error handler: called for misuse the API cannot return (double free,
 * foreign page, wrong order), never with an allocator lock held. err is a
 * negative errno (-EINVAL; -EDEADLK for a call a callback may not make),
 * msg a one-line description naming the pfn. See "Callbacks" above. */
typedef void (*za_error_fn)(void *ctx, int err, const char *msg);

struct za_config {       /* all-zero means sensible defaults */
	unsigned page_shift; /* 0 -> 12 (4 KiB pages); 9..30 */
	/* Every size below is checked: a value out of its range makes
	 * za_create fail with EINVAL rather than wrap. */
	unsigned nr_cpus;  /* possible CPUs; 0 -> CPUs configured */
	unsigned nr_nodes; /* 0 -> 1 */
	/* 0 -> computed from memory size. Larger than a zone's share can
	 * hold (up to ULONG_MAX), it saturates: that zone's min watermark is
	 * all of its pages, never a wrapped small value. */
	unsigned long min_free_kbytes;
	int (*cpu_id)(void *ctx); /* NULL -> sched_getcpu() */
	void *cpu_ctx;
	/* Moves one in-use movable block (memory offline, contiguous
	 * allocation, compaction). Copies src's contents to dst and points the
	 * client's references at dst, then returns 0: the allocator then frees
	 * src itself and the client owns dst. Returns -ENOENT when src is no
	 * longer the client's block of that order (freed, or being freed: the
	 * client serialises its own frees against this callback; compaction,
	 * which isolates no pageblock, may even ask about a block that was
	 * freed and handed out again at another order since it looked), or
	 * another negative errno to refuse for now. Called with no pcp or zone lock held but with the
	 * memory-hotplug lock held (see "Callbacks" above for what it may
	 * call); may be called from any thread. */
	int (*migrate)(void *ctx, struct za_page *dst, struct za_page *src,
	               unsigned order);
	void *migrate_ctx;

	/* Distance between nodes, nr_nodes * nr_nodes entries, row-major;
	 * NULL -> 10 to itself, 20 to every other node. */
	const unsigned char *node_distance;
	/* Node of each possible CPU, nr_cpus entries; NULL -> CPUs split
	 * evenly across nodes in order (cpu * nr_nodes / nr_cpus). */
	const int *cpu_node;
	unsigned max_order;       /* 0 -> 10 (4 MiB blocks of 4 KiB pages) */
	unsigned pageblock_order; /* 0 -> min(9, max_order) */
	/* Memory hotplug granularity in pages; 0 -> 128 MiB worth. A power of
	 * two, at least one max-order block and one pageblock, at most 2^31. */
	unsigned long block_pages;
	/* Frame numbers must be below this; 0 -> 2^28 (1 TiB of 4 KiB pages).
	 * Rounded up to whole blocks (block_pages), it must be at most
	 * 2^32 - block_pages (frame number 2^32 - 1 is taken). Page metadata
	 * address space (16 bytes a page) is reserved for the whole range up
	 * front and committed per block. */
	unsigned long max_pfn;
	unsigned flags;       /* ZA_CFG_* */
	unsigned online_cpus; /* CPUs online at create; 0 -> all */
	/* With ZA_CFG_PCP_FIXED, in pages: 1 <= pcp_batch <= pcp_high <=
	 * ZA_PCP_FIXED_MAX, else EINVAL. */
	unsigned pcp_high, pcp_batch;
	unsigned offline_timeout_ms; /* za_memory_offline; 0 -> 5000 */
	unsigned vmstat_interval_ms; /* periodic fold; 0 -> 1000 */
	za_error_fn error;           /* NULL -> message on stderr */
	void *error_ctx;
};

/* Create an allocator with no memory (add it with za_memory_online).
 * cfg may be NULL for all defaults. Returns NULL with errno = EINVAL for
 * a bad config, ENOMEM when its own metadata cannot be had, EAGAIN when a
 * background thread cannot be started (the system's thread or memory
 * limits; ZA_CFG_NO_KSWAPD, ZA_CFG_NO_VMSTAT_WORKER and
 * ZA_CFG_NO_KCOMPACTD each leave theirs out). */
ZA_API struct za *za_create(const struct za_config *cfg);
/* Destroy: stops background threads, releases all metadata. No other call
 * may run concurrently or after. Pages still allocated are simply gone.
 * In a child of fork(), an allocator with background threads that the
 * parent created is not destroyed: the misuse is reported (-EINVAL) and
 * nothing released (see "Processes" above).
 * Memory still online given a NUMA preference (za_memory_online) gets the
 * default policy back here: unmap it after, not before. */
ZA_API void za_destroy(struct za *za);

/* Memory hotplug. start_pfn and nr_pages must be multiples of the block
 * size (za_block_pages). base may be NULL (frame numbers only: page
 * addresses are NULL and ZA_GFP_ZERO zeroes nothing); otherwise it is the
 * address of the first page, nr_pages pages of usable memory.
 * online: 0, -EINVAL (bad node/zone/alignment/range, or base + the range's
 * size wraps the address space), -EEXIST (part of the range is online
 * already, or base's memory overlaps memory online under other frames:
 * an address names one page), -ENOMEM, -EDEADLK (from a migrate
 * callback). Online is cheap: a page's metadata is initialised when the
 * zone first needs the page's block, so a terabyte comes online in
 * milliseconds (docs/PERFORMANCE.md, "Scale"). With libnuma and more than
 * one node, base's memory is given a preference (MPOL_PREFERRED, never a
 * strict bind) for the host NUMA node numbered nid, where the host has
 * one; offline, and za_destroy for memory still online, give it the
 * default policy back (docs/HOTPLUG.md, "NUMA policy"). A one-node
 * allocator leaves the memory's policy alone.
 * offline: 0, -EINVAL (misaligned, or the range spans blocks of two
 * zones: one zone per call), -ENOENT (not wholly online), -EBUSY (an
 * unmovable page is in use), -EAGAIN (timed out migrating), -ENOMEM,
 * -EDEADLK (from a migrate callback), or the error of a CPU fence that
 * failed (restartable page sets: -EPERM from a seccomp filter, say). */
ZA_API int za_memory_online(struct za *za, int nid, enum za_zone_type zone,
                            unsigned long start_pfn, unsigned long nr_pages,
                            void *base);
ZA_API int za_memory_offline(struct za *za, unsigned long start_pfn,
                             unsigned long nr_pages);

/* CPU hotplug. 0, -EINVAL (cpu out of range), -EBUSY (offlining the last
 * online CPU), -EEXIST (already in that state); offline also fails with
 * a failed membarrier fence's error, nothing changed. Offline drains the
 * CPU's per-CPU lists and folds its statistics before it returns, except
 * (statistics worker on) a list it cannot finish within 0.1 ms - its
 * owner was preempted in the middle of an operation on it, or another
 * thread holds the lock the drain needs (the list's remote lock, the
 * zone lock): that list takes no page from then on and the statistics
 * worker drains it as soon as they let go (zonealloc_pcp_offline_deferred
 * counts such offlines; za_check finishes them first). */
ZA_API int za_cpu_online(struct za *za, unsigned cpu);
ZA_API int za_cpu_offline(struct za *za, unsigned cpu);
ZA_API int za_cpu_is_online(struct za *za, unsigned cpu);

/* gfp flags: the bits. */
#define ZA___GFP_DMA 0x0001u
#define ZA___GFP_DMA32 0x0002u
#define ZA___GFP_MOVABLE 0x0004u     /* ZONE_MOVABLE allowed; movable data */
#define ZA___GFP_RECLAIMABLE 0x0008u /* reclaimable data (caches) */
#define ZA___GFP_HIGH 0x0010u        /* may use part of the reserves */
#define ZA___GFP_DIRECT_RECLAIM 0x0020u /* may sleep and reclaim */
#define ZA___GFP_KSWAPD_RECLAIM 0x0040u /* may wake background reclaim */
#define ZA___GFP_ZERO 0x0100u
#define ZA___GFP_NOFAIL 0x0200u
#define ZA___GFP_NORETRY 0x0400u
#define ZA___GFP_THISNODE 0x0800u
#define ZA___GFP_NOWARN 0x1000u
#define ZA___GFP_ATOMIC_RES 0x2000u /* atomic: deeper into the reserves */

/* gfp flags: what callers write. */
#define ZA_GFP_KERNEL (ZA___GFP_DIRECT_RECLAIM | ZA___GFP_KSWAPD_RECLAIM)
#define ZA_GFP_ATOMIC                                                         \
	(ZA___GFP_HIGH | ZA___GFP_ATOMIC_RES | ZA___GFP_KSWAPD_RECLAIM)
#define ZA_GFP_NOWAIT ZA___GFP_KSWAPD_RECLAIM
#define ZA_GFP_MOVABLE (ZA_GFP_KERNEL | ZA___GFP_MOVABLE)
#define ZA_GFP_DMA ZA___GFP_DMA
#define ZA_GFP_DMA32 ZA___GFP_DMA32
#define ZA_GFP_ZERO ZA___GFP_ZERO
#define ZA_GFP_NOFAIL ZA___GFP_NOFAIL
#define ZA_GFP_NORETRY ZA___GFP_NORETRY
#define ZA_GFP_THISNODE ZA___GFP_THISNODE
#define ZA_GFP_RECLAIMABLE ZA___GFP_RECLAIMABLE
#define ZA_GFP_NOWARN ZA___GFP_NOWARN
#define ZA_GFP_ALL_BITS 0x3fffu
typedef unsigned int za_gfp_t;

/* Allocate a block of 2^order pages. NULL when it cannot be had under the
 * rules of gfp (errno = ENOMEM), or for a bad order, gfp or node (errno =
 * EINVAL). za_alloc_pages prefers the node of the current CPU;
 * za_alloc_pages_node prefers nid (-1: the current CPU's node; any other
 * negative nid, or one >= za_nr_nodes, is EINVAL).
 * Reclaim, drains and the OOM handler are retried while they make
 * progress, with bounds: a request calls the OOM handler at most 16 times
 * without getting a page (a handler that says it freed pages and did not
 * cannot keep it looping), then fails - except NOFAIL, which waits and
 * tries again, waiting longer each time (up to 32 ms) while nothing
 * frees. */
ZA_API struct za_page *za_alloc_pages(struct za *za, za_gfp_t gfp,
                                      unsigned order);
ZA_API struct za_page *za_alloc_pages_node(struct za *za, int nid,
                                           za_gfp_t gfp, unsigned order);
/* Allocate up to nr order-0 pages into pages[]; returns how many, n:
 * pages[0..n) are written, whatever they held (unlike the kernel's array
 * call, entries already set are not skipped: they are overwritten), and
 * pages[n..nr) are left as they were. 0 for a bad gfp or a NULL pages.
 * Takes them from the current CPU's list where it can, in runs of up to
 * 64 pages, one hold of the list a run (a drain or hotplug operation
 * waits for one run, never for the whole array). NOFAIL,
 * direct reclaim and the OOM handler apply to the first page only (as
 * the kernel's bulk call): with pages in hand the call takes what is free
 * (down to the min watermark, waking kswapd) and returns fewer than nr
 * rather than wait, shrink or call the handler for more. The whole array
 * prefers the node of the CPU the call began on (THISNODE: that node's
 * pages only), wherever the thread runs later in the call. */
ZA_API unsigned za_alloc_pages_bulk(struct za *za, za_gfp_t gfp, unsigned nr,
                                    struct za_page **pages);
/* Free a block allocated with the same order. A double free, a wrong
 * order or a page this allocator never handed out is reported through the
 * error handler and otherwise ignored. NULL is ignored. */
ZA_API void za_free_pages(struct za *za, struct za_page *page, unsigned order);
/* Free nr order-0 pages (NULL entries are skipped). */
ZA_API void za_free_pages_bulk(struct za *za, unsigned nr,
                               struct za_page **pages);

/* Contiguous ranges larger than a max-order block (isolates and migrates
 * as memory offline does). nr_pages is rounded up to a whole number of
 * max-order blocks, and the range is aligned to one; free with the same
 * nr_pages. NULL with errno = ENOMEM when no range could be had (any
 * nr_pages up to ULONG_MAX: above max_pfn none ever can), EINVAL for
 * nr_pages 0 or a bad gfp, EDEADLK from a migrate callback. */
ZA_API struct za_page *
za_alloc_contig_pages(struct za *za, unsigned long nr_pages, za_gfp_t gfp);
ZA_API void za_free_contig_pages(struct za *za, struct za_page *page,
                                 unsigned long nr_pages);

/* ULONG_MAX when p is not page metadata of za (NULL, a foreign or
 * misaligned pointer); a page of a block gone offline keeps its pfn. */
ZA_API unsigned long za_page_to_pfn(const struct za *za,
                                    const struct za_page *p);
/* NULL when pfn is not online. */
ZA_API struct za_page *za_pfn_to_page(struct za *za, unsigned long pfn);
/* NULL for frame-only memory. */
ZA_API void *za_page_address(const struct za *za, const struct za_page *p);
/* The page whose frame holds addr: any address inside a page's memory,
 * not only its first byte (the kernel's virt_to_page). NULL when addr lies
 * in no online block of this allocator that came with a base address
 * (frame-only memory has no addresses), or za or addr is NULL. A binary
 * search over the runs of online memory (one per za_memory_online call,
 * typically), lock-free, callable from any thread; it never blocks a
 * hotplug operation and is not blocked by one. The answer is as of the
 * call: the caller must not ask about memory that it lets go offline
 * meanwhile (as for za_pfn_to_page). */
ZA_API struct za_page *za_virt_to_page(struct za *za, const void *addr);
/* Node and zone of an online page; -1 for a page not online here. */
ZA_API int za_page_nid(const struct za *za, const struct za_page *p);
ZA_API int za_page_zone(const struct za *za, const struct za_page *p);

/* Per-CPU lists. A drain waits for a thread in the middle of an operation
 * on a list (restartable page sets: preempted there, however long); a
 * list whose CPU cannot be fenced (a seccomp filter refused membarrier)
 * keeps its pages this time. */
ZA_API void za_drain_local_pages(struct za *za);
ZA_API void za_drain_all_pages(struct za *za);

/* Topology and configuration as resolved. */
ZA_API unsigned za_nr_cpus(const struct za *za);
ZA_API unsigned za_nr_nodes(const struct za *za);
ZA_API unsigned za_max_order(const struct za *za);
ZA_API unsigned za_pageblock_order(const struct za *za);
ZA_API unsigned long za_block_pages(const struct za *za);
ZA_API unsigned za_page_shift(const struct za *za);
ZA_API int za_cpu_to_node(const struct za *za, unsigned cpu);
/* Bytes of page metadata per page frame. */
ZA_API size_t za_page_meta_size(void);

/* Statistics: per-zone counters and events, defined once here. Names
 * that the kernel's /proc/vmstat has keep the kernel's name and meaning
 * and come first, in the kernel's order; the library's own follow,
 * prefixed zonealloc_. za_report prints them in this order. The
 * free-page counter counts pages on the buddy lists (not per-CPU lists,
 * not isolated). */
#define ZA_ZONE_STAT_LIST(X)                                                  \
	X(NR_FREE_PAGES, "nr_free_pages")                                         \
	X(NR_ZONE_ALLOCATED, "zonealloc_nr_allocated") /* handed out */           \
	X(NR_FREE_ISOLATED, "zonealloc_nr_free_isolated")                         \
	/* free pages in blocks marked reported (free page reporting) */          \
	X(NR_FREE_REPORTED, "zonealloc_nr_free_reported")

/* Events: summed over CPUs on read. PGALLOC and ALLOCSTALL are counted
 * per zone and printed per zone type as the kernel does (pgalloc_dma ...
 * pgalloc_movable, allocstall_dma ...): their names here are the stems.
 * Pages where the kernel counts pages (pgalloc, pgfree, pgscan, pgsteal,
 * pgmigrate). The numa_* events count allocation calls, as the kernel's
 * zone_statistics does: hit or miss against the node the request
 * preferred, local or other against the allocating CPU's node; foreign is
 * counted on the preferred node's zone of the type that was used. */
#define ZA_EVENT_LIST(X)                                                      \
	X(NUMA_HIT, "numa_hit")   /* allocations on the preferred node */         \
	X(NUMA_MISS, "numa_miss") /* ... elsewhere, counted on the zone used */   \
	X(NUMA_FOREIGN, "numa_foreign") /* ... counted on the preferred node */   \
	X(NUMA_INTERLEAVE, "numa_interleave") /* no interleave policy: 0 */       \
	X(NUMA_LOCAL, "numa_local")           /* on the allocating CPU's node */  \
	X(NUMA_OTHER, "numa_other") /* on another node than the CPU's */          \
	X(PGALLOC, "pgalloc")       /* pages, per zone type */                    \
	X(ALLOCSTALL, "allocstall") /* direct reclaims, by highest zone */        \
	X(PGFREE, "pgfree")                                                       \
	X(PGSTEAL_KSWAPD, "pgsteal_kswapd")                                       \
	X(PGSTEAL_DIRECT, "pgsteal_direct")                                       \
	X(PGSCAN_KSWAPD, "pgscan_kswapd")                                         \
	X(PGSCAN_DIRECT, "pgscan_direct")                                         \
	X(KSWAPD_LOW_WMARK_HIT, "kswapd_low_wmark_hit_quickly")                   \
	X(KSWAPD_HIGH_WMARK_HIT, "kswapd_high_wmark_hit_quickly")                 \
	X(OOM_KILL, "oom_kill")                                                   \
	X(PGMIGRATE_SUCCESS, "pgmigrate_success")                                 \
	X(PGMIGRATE_FAIL, "pgmigrate_fail")                                       \
	/* compaction (pages scanned, pages isolated: sources and targets) */     \
	X(COMPACT_MIGRATE_SCANNED, "compact_migrate_scanned")                     \
	X(COMPACT_FREE_SCANNED, "compact_free_scanned")                           \
	X(COMPACT_ISOLATED, "compact_isolated")                                   \
	X(COMPACT_STALL, "compact_stall")     /* direct compactions run */        \
	X(COMPACT_FAIL, "compact_fail")       /* ... that did not give a page */  \
	X(COMPACT_SUCCESS, "compact_success") /* ... that did */                  \
	X(COMPACT_DAEMON_WAKE, "compact_daemon_wake")                             \
	X(COMPACT_DAEMON_MIGRATE_SCANNED, "compact_daemon_migrate_scanned")       \
	X(COMPACT_DAEMON_FREE_SCANNED, "compact_daemon_free_scanned")             \
	X(PGALLOC_FAIL, "zonealloc_pgalloc_fail")                                 \
	X(PCP_REFILL, "zonealloc_pcp_refill")                                     \
	X(PCP_REFILL_PAGES, "zonealloc_pcp_refill_pages")                         \
	X(PCP_FLUSH, "zonealloc_pcp_flush")                                       \
	X(PCP_FLUSH_PAGES, "zonealloc_pcp_flush_pages")                           \
	X(PCP_DRAIN, "zonealloc_pcp_drain")                                       \
	X(PCP_DRAIN_PAGES, "zonealloc_pcp_drain_pages")                           \
	X(PCP_TRYLOCK_FAIL, "zonealloc_pcp_trylock_fail")                         \
	X(PCP_FENCE, "zonealloc_pcp_fence") /* CPU fences (restartable) */        \
	/* CPU offlines that left a page set's drain to the statistics */         \
	/* worker: its owner, or the lock its drain needs, was held */            \
	X(PCP_OFFLINE_DEFERRED, "zonealloc_pcp_offline_deferred")                 \
	X(ZONE_LOCK, "zonealloc_zone_lock")                                       \
	X(WMARK_FAIL, "zonealloc_watermark_fail")                                 \
	X(FALLBACK, "zonealloc_pgalloc_fallback")                                 \
	X(STEAL_PAGEBLOCK, "zonealloc_steal_pageblock")                           \
	X(ZONELIST_RETRY, "zonealloc_zonelist_retry")                             \
	X(KSWAPD_WAKE, "zonealloc_kswapd_wake")                                   \
	X(DRAIN_RETRY, "zonealloc_drain_retry")                                   \
	X(OFFLINE_OK, "zonealloc_offline_success")                                \
	X(OFFLINE_FAIL, "zonealloc_offline_fail")                                 \
	X(CONTIG_OK, "zonealloc_contig_success")                                  \
	X(CONTIG_FAIL, "zonealloc_contig_fail")                                   \
	X(MISUSE, "zonealloc_misuse")                                             \
	/* free page reporting: pages and batches the client accepted */          \
	/* and batches it refused (handed back unreported, retried later) */      \
	X(REPORTED_PAGES, "zonealloc_reported_pages")                             \
	X(REPORTED_BATCHES, "zonealloc_reported_batches")                         \
	X(REPORT_RETRY, "zonealloc_report_retry")                                 \
	/* hotplug blocks whose page metadata was initialised on first need */    \
	X(LAZY_INIT, "zonealloc_lazy_init")                                       \
	/* allocations of orders 4..8 served by splitting a larger block of */    \
	/* the CPU's own lists, without the zone lock */                          \
	X(PCP_MID_SPLIT, "zonealloc_pcp_mid_split")

#define ZA_X_ENUM(n, s) ZA_##n,
enum za_zone_stat { ZA_ZONE_STAT_LIST(ZA_X_ENUM) ZA_NR_ZONE_STATS };
enum za_event { ZA_EVENT_LIST(ZA_X_ENUM) ZA_NR_EVENTS };
#undef ZA_X_ENUM
ZA_API const char *za_zone_stat_name(enum za_zone_stat item);
/* "DMA", "DMA32", "Normal", "Movable" (ZA_ZONE_LIST), and "Unmovable" ...
 * "Isolate" (ZA_MIGRATETYPE_LIST), as the reports print them; NULL when
 * out of range. Any thread. */
ZA_API const char *za_zone_name(enum za_zone_type zone);
ZA_API const char *za_migratetype_name(enum za_migratetype mt);
ZA_API const char *za_event_name(enum za_event item);
/* The item a name denotes, or -ENOENT (also for a per-zone name of the
 * vmstat report, pgalloc_normal ...: its item is the stem's, pgalloc,
 * counted over every zone). Version 0.1's names, before the
 * kernel's names and the zonealloc_ prefix (pgalloc_fail,
 * pgalloc_fallback, pgsteal_pageblock, kswapd_wake, nr_zone_allocated,
 * nr_free_isolated), are still accepted; they go in the next release. */
ZA_API int za_zone_stat_lookup(const char *name);
ZA_API int za_event_lookup(const char *name);

/* The global value of a zone counter (may drift from the truth by the
 * per-CPU deltas not yet folded; a value they carry below 0 reads 0, as
 * the kernel's zone_page_state and the reports have it). 0 for an
 * unknown node or zone. */
ZA_API long za_zone_stat(struct za *za, int nid, enum za_zone_type zone,
                         enum za_zone_stat item);
/* The same, plus every CPU's pending delta (a snapshot; never below 0
 * either). */
ZA_API long za_zone_stat_snapshot(struct za *za, int nid,
                                  enum za_zone_type zone,
                                  enum za_zone_stat item);
/* An event summed over every CPU and zone. */
ZA_API unsigned long long za_event_count(struct za *za, enum za_event item);
/* Fold every CPU's pending deltas into the global values. */
ZA_API void za_vmstat_fold(struct za *za);

/* Free pages of a zone (snapshot, buddy lists only). */
ZA_API unsigned long za_zone_free_pages(struct za *za, int nid,
                                        enum za_zone_type zone);

struct za_zone_info {
	unsigned long start_pfn, spanned, present, managed;
	unsigned long free; /* snapshot of NR_FREE_PAGES */
	unsigned long min, low, high;
	unsigned long lowmem_reserve[ZA_NR_ZONES];
	unsigned long pcp_pages; /* pages on this zone's per-CPU lists */
	unsigned long nr_free[ZA_MAX_ORDER_LIMIT + 1]; /* free blocks by order */
	unsigned long isolated_free; /* free pages in isolated pageblocks */
	unsigned stat_threshold;
	int populated;
	int pcp_disabled; /* lists switched off (an offline), or ZA_CFG_NO_PCP */
};
/* 0, or -EINVAL for a bad node or zone. */
ZA_API int za_zone_info(struct za *za, int nid, enum za_zone_type zone,
                        struct za_zone_info *out);

struct za_pcp_info {
	unsigned count; /* pages on the lists */
	unsigned high, batch;
	/* 0 while the CPU is offline or the zone's lists off; always 0 (and
	 * high 0, batch 1, as the kernel shows a set switched off) with
	 * ZA_CFG_NO_PCP, whose lists are never used (restartable then says
	 * how the sets would be owned, for the drains that still look). */
	int usable;
	int restartable; /* 1: owned by restartable sequences; 0: locked */
};
/* Why the page sets of za run locked ("" when they are restartable):
 * the configuration, or what the platform lacks. */
ZA_API const char *za_pcp_mode_reason(const struct za *za);
ZA_API int za_pcp_info(struct za *za, unsigned cpu, int nid,
                       enum za_zone_type zone, struct za_pcp_info *out);
/* Set CPU cpu's list of a zone to hold at most high pages, clamped to
 * the range the list sizes itself in (the kernel's high_min..high_max:
 * za_pcp_info reads the value set), and give back at once what it holds
 * over that; the list's growth state (consecutive refills and flushes,
 * pages owed back) starts afresh. For restoring a list as a snapshot had
 * it (`zonealloc replay` starts each CPU's list as the traced kernel's
 * was). 0; -EINVAL for a bad za, CPU, node or zone, or a zone with no
 * memory; -EPERM with ZA_CFG_PCP_FIXED (sizes are fixed); or the error of
 * a fence that failed (restartable page sets), with nothing changed. Any
 * thread; the list's own CPU takes it back after the call. */
ZA_API int za_pcp_set_high(struct za *za, unsigned cpu, int nid,
                           enum za_zone_type zone, unsigned high);
/* One pass of the periodic per-CPU list decay that the statistics worker
 * runs every interval (docs/RECLAIM.md, "Decaying"): each list that
 * neither refilled nor flushed since the last pass loses an eighth of its
 * high (at least a batch) down to its minimum, a list still busy loses
 * what its high grew by since the last pass (that much at most), and
 * each gives back the pages over its new high (32 batches at most);
 * blocks of orders 4..8 go back. For a program that
 * runs without the worker (ZA_CFG_NO_VMSTAT_WORKER) and keeps its own
 * clock, such as a replay of a trace at the trace's time. Any thread;
 * NULL does nothing. */
ZA_API void za_pcp_decay(struct za *za);

/* Reports in the layouts of the kernel's /proc files. 0, -EINVAL, -EIO
 * when writing to out failed (out is flushed before the answer), and for
 * the page-owner reports -ENOENT without ZA_CFG_PAGE_OWNER and -ENOMEM
 * when the summary's table cannot be had.
 * ZA_REPORT_VMSTAT_V0 is version 0.1's vmstat: its names and order
 * (allocstall as one line, the names za_event_lookup still accepts),
 * kept for one release for scripts that read them; it goes in the next. */
enum za_report {
	ZA_REPORT_ZONEINFO,
	ZA_REPORT_BUDDYINFO,
	ZA_REPORT_PAGETYPEINFO,
	ZA_REPORT_VMSTAT,
	ZA_REPORT_VMSTAT_V0,
	/* The kernel's debugfs extfrag/extfrag_index and
	 * extfrag/unusable_index: per populated zone and order, the
	 * fragmentation index (-1.000: a block of the order is free; towards
	 * 0 a failure would be for lack of memory, towards 1 for
	 * fragmentation) and the share of free memory unusable for the order. */
	ZA_REPORT_EXTFRAG_INDEX,
	ZA_REPORT_UNUSABLE_INDEX,
	/* Every allocated block with its page-owner record, in the layout of
	 * the kernel's /sys/kernel/debug/page_owner (call sites resolved to
	 * symbols with dladdr where the program exports them). -ENOENT
	 * without ZA_CFG_PAGE_OWNER. */
	ZA_REPORT_PAGE_OWNER,
	/* The allocated blocks grouped by call site, most pages first, as
	 * the kernel's page_owner_sort prints them ("N times, M pages:" and
	 * the site). -ENOENT without ZA_CFG_PAGE_OWNER. */
	ZA_REPORT_PAGE_OWNER_SUMMARY
};
/* Output goes through a writer: a function handed the text piece by
 * piece (len bytes, not NUL-terminated), in order, on the calling thread
 * (mimalloc's output function). It must not call into the allocator. */
typedef void (*za_write_fn)(void *ctx, const char *text, size_t len);

/* May run at any time, from a callback too (the pagetypeinfo block
 * census waits for memory hotplug to finish, except on the thread that
 * runs it). */
#if __STDC_HOSTED__
ZA_API int za_report(struct za *za, enum za_report what, FILE *out);
#endif
/* The same report handed to write: 0, -EINVAL (bad za, what or write),
 * or the page-owner reports' -ENOENT and -ENOMEM (as za_report). */
ZA_API int za_report_write(struct za *za, enum za_report what,
                           za_write_fn write, void *ctx);

/* Compaction: move movable in-use blocks (through the migrate callback)
 * to make free blocks of higher order. nid -1: every node. Returns 0, or
 * -EAGAIN when there was nothing it could do (nothing moved, no migrate
 * callback, or passes of several allocators' callbacks already nested 8
 * deep on this thread), -EINVAL on a bad nid, -EDEADLK from a callback that
 * runs under the memory-hotplug lock. The same as writing 1 to the
 * kernel's /proc/sys/vm/compact_memory (or the node's compact file).
 * Waits for a memory-hotplug operation in progress; any thread. */
ZA_API int za_compact(struct za *za, int nid);
/* The node's fragmentation score as the kernel computes it for proactive
 * compaction: the percentage of free memory in blocks below the pageblock
 * order, zones weighted by size (0..100), or -EINVAL. */
ZA_API int za_fragmentation_score(struct za *za, int nid);

/* Page owner (ZA_CFG_PAGE_OWNER). za_page_owner: what is known of the
 * block that holds page (any page of it, not only its head): 0, -EINVAL
 * (NULL argument, or page is not the metadata of an online page), -ENOENT
 * (page owner is off, or no record covers page: no block holding it was
 * allocated since the memory came online, or the record of a freed block
 * that held it was replaced by that of a smaller block handed out since
 * at the same first page - records are kept at block heads, not on every
 * page as the kernel's). A block being allocated or freed at the same
 * time may read half old, half new. */
struct za_page_owner_info {
	const void *alloc_site; /* return address of the allocating call */
	const void *free_site;  /* of the last free; NULL: never freed */
	unsigned long pfn;      /* the block's first page */
	unsigned long nr_pages; /* 2^order, or a contiguous range's length */
	unsigned long long alloc_ns, free_ns; /* monotonic clock; 0: never */
	za_gfp_t gfp;
	unsigned order; /* ZA_PAGE_OWNER_CONTIG: za_alloc_contig_pages */
	int cpu;        /* allocating CPU, -1 unknown */
	int tid;        /* allocating thread (Linux thread id) */
	int allocated;  /* 1 while the block is allocated */
};
#define ZA_PAGE_OWNER_CONTIG 0xffu
ZA_API int za_page_owner(struct za *za, const struct za_page *page,
                         struct za_page_owner_info *out);
/* The allocated blocks by call site: fills up to n entries, most pages
 * first, and returns how many distinct sites there are (may be more than
 * n), or -EINVAL (NULL za, or NULL sites with n > 0), -ENOENT (page owner
 * off), -ENOMEM. A snapshot at any time; exact at a quiescent point. */
struct za_page_owner_site {
	const void *site;
	unsigned long blocks, pages;
};
ZA_API long za_page_owner_summary(struct za *za,
                                  struct za_page_owner_site *sites, size_t n);

/* Consistency: 0 when every invariant of DESIGN.md holds; -EUCLEAN when
 * one is broken, with what is wrong written to out (may be NULL). When
 * nothing was found broken but a part could not be looked at, the error
 * that stopped it: a failed CPU fence's (restartable page sets, e.g.
 * -EPERM) or -ENOMEM, also written to out. -EINVAL for a NULL za, and
 * -EDEADLK from a migrate callback (memory hotplug is half done there).
 * Call it at a quiescent point: no allocation, free or hotplug running;
 * it takes the memory-hotplug lock, so nothing may be isolated, taken
 * out or switched off there but what a contiguous range in use or an
 * offline CPU keeps. Zone by zone it also holds the recompute of the
 * watermarks and statistics thresholds still (a tunable's write and
 * kswapd's switch to reclaim wait for that zone's look). It checks the
 * statistics, folds them, and checks them again. */
#if __STDC_HOSTED__
ZA_API int za_check(struct za *za, FILE *out);
#endif
/* The same, with the problems handed to write (NULL: not written). */
ZA_API int za_check_write(struct za *za, za_write_fn write, void *ctx);

/* Error handler for misuse the API cannot return; NULL restores the
 * default (a line on stderr). */
ZA_API void za_set_error_handler(struct za *za, za_error_fn fn, void *ctx);

/* Reclaim. Shrinkers free pages the client can spare (caches). Called
 * without any allocator lock held, from the background reclaim threads or
 * from an allocating thread in direct reclaim; they may call
 * za_free_pages. */
struct za_shrinker {
	/* pages this shrinker could free now on node nid */
	unsigned long (*count)(void *ctx, int nid);
	/* free up to nr pages of node nid; return how many were freed */
	unsigned long (*scan)(void *ctx, int nid, unsigned long nr);
	void *ctx;
	/* private to the allocator */
	struct za_shrinker *za_next;
};
/* 0, -EINVAL (NULL or missing callbacks), -EEXIST (already registered). */
ZA_API int za_register_shrinker(struct za *za, struct za_shrinker *s);
/* Returns once no reclaim call into s is running. From inside a shrinker
 * of the same allocator it would wait for itself: it reports -EDEADLK and
 * leaves s registered. */
ZA_API void za_unregister_shrinker(struct za *za, struct za_shrinker *s);

/* Last resort when reclaim made no progress: free what it can, return the
 * pages freed; 0 means the allocation fails (unless NOFAIL). Called at most
 * 16 times per allocation that gets no page (see za_alloc_pages). */
ZA_API void za_set_oom_handler(struct za *za,
                               unsigned long (*oom)(void *ctx, int nid,
                                                    unsigned order),
                               void *ctx);

/* Free page reporting (the kernel's page_reporting, as virtio-balloon
 * uses it): the allocator hands the client free blocks of at least
 * `order` (0: the pageblock order) that became free some delay_ms before
 * (0: 2000 ms), up to 32 blocks at a time, so that a VMM can give their
 * memory back to its host (madvise(MADV_DONTNEED), a balloon). During the
 * call the blocks are off the free lists (nobody can allocate them); then
 * they go back marked reported. A reported block is not reported again
 * until it has been allocated (a split keeps the rest reported); a block
 * that merges with a free buddy, reported or not, is a new block and not
 * reported (it is reported whole later), as in the kernel. Blocks are
 * naturally aligned to their order, so a report never covers part of a
 * host huge page no larger than 2^order pages.
 *
 * report gets the head pages of n blocks and their orders; it returns 0,
 * or a negative errno to have the blocks put back unreported and the
 * batch retried one delay later (nothing is lost). It is called from the
 * reporting thread, with no pcp or zone lock held but with the
 * memory-hotplug lock held, as the migrate callback is (see "Callbacks";
 * memory offline waits for a batch in flight rather than lose it). It may
 * allocate and free, but not unregister reporting (-EDEADLK; nor may a
 * migrate callback).
 * Only blocks that went through the free lists are reported: memory that
 * came online and was never handed out is not (it was never touched).
 * The thread is started by register and stopped by unregister and
 * za_destroy; the free path only sets a flag (no wake-up, no lock).
 * Without background threads (ZA_CFG_NO_KSWAPD and ZA_CFG_NO_VMSTAT_WORKER
 * both set, the configuration of a platform without threads) register
 * starts no thread: nothing is reported until the client calls
 * za_page_reporting_run, which makes the pass on the calling thread, and
 * delay_ms is not used (the client's calls pace the passes).
 * register: 0, -EINVAL (NULL pr or report, order above the max order,
 * delay_ms above 3600000), -EBUSY (registered already), -ENOMEM, or the
 * platform's error starting the thread.
 * unregister: 0, -ENOENT (none registered), -EDEADLK (from the report
 * or migrate callback: it would wait for a pass that waits for the
 * caller); returns once no batch is out (the thread's or a
 * za_page_reporting_run's). */
struct za_page_reporting {
	int (*report)(void *ctx, struct za_page *const *pages,
	              const unsigned *orders, unsigned n);
	void *ctx;
	unsigned order;    /* 0 -> pageblock order */
	unsigned delay_ms; /* 0 -> 2000 */
};
#define ZA_PAGE_REPORTING_CAPACITY 32 /* blocks per call, at most */
ZA_API int za_page_reporting_register(struct za *za,
                                      const struct za_page_reporting *pr);
ZA_API int za_page_reporting_unregister(struct za *za);
/* One reporting pass now, on the calling thread: every free block of the
 * reporting order or larger that is not marked reported goes to the
 * client, as the thread's pass would hand them (same rules: batches of
 * up to 32, the low watermark kept, the memory-hotplug lock held around
 * each batch). A call when nothing of that order was freed since the last
 * pass returns 0 at once, taking no lock. The way to report on an
 * allocator without background threads (above); with the thread it
 * reports now rather than a delay later. Returns the pages the client
 * accepted, or -EINVAL (NULL za), -ENOENT (no client registered, or
 * being unregistered), -EBUSY (a pass is running: the thread's or another
 * caller's), -EDEADLK (from the report or migrate callback), or the
 * client's negative errno: the pass stopped there, that batch went back
 * unreported and the next pass retries it (batches it accepted before
 * stay reported). */
ZA_API long za_page_reporting_run(struct za *za);

/* Runtime tunables, named and behaving as the kernel's /proc/sys/vm files
 * (values are text, as there):
 *   min_free_kbytes        0..INT_MAX KiB kept free below the min
 *                          watermarks (default: computed from memory size,
 *                          or za_config.min_free_kbytes). Writing it
 *                          recomputes watermarks, lowmem reserves and pcp
 *                          sizes at once; the written value then stays in
 *                          effect across memory hotplug (the kernel lets a
 *                          later hotplug raise it to its computed value).
 *   watermark_scale_factor 1..3000, per 10000 of a zone between min, low
 *                          and high (default 10); recomputes as above.
 *   lowmem_reserve_ratio   one ratio per zone, DMA DMA32 Normal Movable,
 *                          each 0..INT_MAX (0: no reserve; default
 *                          "256 256 32 0"): a zone keeps the pages of the
 *                          zones above it over its ratio back from requests
 *                          that could have used them. A write may give
 *                          fewer values than zones (the rest keep theirs);
 *                          recomputes as above. Read back space-separated
 *                          ("256 256 32 0"); a write takes spaces or tabs.
 *   percpu_pagelist_high_fraction 0, or 8..INT_MAX: each CPU's list of a
 *                          zone holds at most managed / fraction / (CPUs of
 *                          the node) pages (at least four batches), fixed
 *                          (no self-sizing). 0 (the
 *                          default) sizes it from the low watermark and
 *                          lets it grow. Resizes every list at once. No
 *                          effect with ZA_CFG_PCP_FIXED.
 *   watermark_boost_factor 0..INT_MAX (default 15000),
 *   compaction_proactiveness 0..100 (default 20),
 *   extfrag_threshold      0..1000 (default 500): checked and stored only,
 *                          read back as written; they take effect when
 *                          compaction and watermark boosting exist.
 * Page-allocation fault injection, the kernel's fail_page_alloc
 * (docs/DEBUGGING.md), listed after these: fail_page_alloc.probability
 * (0..100, default 0), .interval (0..INT_MAX, 1), .times (-1..INT_MAX,
 * 1; -1 no limit), .space (pages, 0..INT_MAX, 0), .min-order (0..20, 1),
 * .ignore-gfp-wait (Y/N, Y: requests that may wait never fail),
 * .ignore-gfp-atomic (Y/N, Y: ZA_GFP_ATOMIC requests never fail),
 * .verbose (0..2, 2: a line on stderr per failure naming the call site).
 * The Y/N ones take Y, y, N, n, 1 or 0 and read back as Y or N. A failed
 * request returns NULL with errno = ENOMEM at once; NOFAIL ones never
 * fail. These writes take no hotplug lock (callable from callbacks).
 * Parsing: decimal integers, a leading '-' allowed (and then out of
 * range); leading and trailing white space (a newline, as `echo` writes)
 * is ignored; anything else ("+5", "0x10", "12abc") is -EINVAL.
 * za_sysctl_set: 0, -ENOENT (unknown name), -EINVAL (NULL argument, not a
 * number, trailing garbage, too many values), -ERANGE (a number outside
 * the tunable's range, or too large for an int). A rejected write changes
 * nothing. Serialised with the recompute of watermarks and page-set sizes
 * that memory and CPU hotplug and reclaim run: it may wait for one to
 * finish, which never waits for a client callback, so a callback (migrate,
 * shrinker, OOM or error handler) may write too. Takes no hotplug lock.
 * za_sysctl_get: writes the value as text (no newline) to buf; 0,
 * -ENOENT, -EINVAL (NULL argument), -ERANGE when the text and its
 * terminating NUL do not fit in len bytes (buf then holds "" if len > 0).
 * ZA_SYSCTL_VALUE_MAX bytes always suffice. Never waits for hotplug. */
#define ZA_SYSCTL_VALUE_MAX 64
ZA_API int za_sysctl_set(struct za *za, const char *name, const char *value);
ZA_API int za_sysctl_get(struct za *za, const char *name, char *buf,
                         size_t len);
/* The tunables' names, for listing: the i-th name, NULL past the last. */
ZA_API const char *za_sysctl_name(unsigned i);

/* Test and debugging knobs. Not for production use. */
enum za_debug_knob {
	ZA_DEBUG_NO_SNAPSHOT,  /* checks at low never sum per-CPU deltas (those
	                        * at min always count exactly): seed 003 */
	ZA_DEBUG_RANDOM_YIELD, /* yield at race points (debug builds) */
	ZA_DEBUG_FAIL_META,    /* fail the next N metadata allocations */
	ZA_DEBUG_FAIL_FENCE,   /* n: the nth CPU fence from now (restartable
	                          page sets) fails with -EPERM */
	ZA_DEBUG_CHECK_LAZY,   /* za_check reads every page's metadata in lazy
	                        * blocks, not only each block's first (always
	                        * on in debug builds) */
	ZA_NR_DEBUG_KNOBS
};
ZA_API int za_debug_set(struct za *za, enum za_debug_knob knob, long value);

#ifdef __cplusplus
}
#endif
#endif /* ZONEALLOC_H */
