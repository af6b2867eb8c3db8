/* SPDX-License-Identifier: MIT */
/*
 * reporting.c - free page reporting: hand the client free blocks that
 * have stayed free a while, so that a VMM can give their memory back to
 * its host (the kernel's mm/page_reporting.c, as virtio-balloon uses it).
 *
 * How it runs. A block of the reporting order or larger that lands on an
 * ordinary free list sets za->report_pending (buddy.c; one flag store,
 * nothing else on any free path). The reporting thread polls that flag
 * every eighth of a delay; once it is set the thread waits one delay more, then
 * makes a pass: for each zone, order and migratetype (never ISOLATE) it
 * takes up to ZA_PAGE_REPORTING_CAPACITY unreported blocks off their free
 * list (head state REPORTING, out of NR_FREE_PAGES as an allocation would
 * take them), calls the client, and frees them back marked reported
 * (or unmarked, if the client failed: then the pass stops and the flag is
 * set again, so the batch is retried one delay later).
 *
 * Memory hotplug. A batch is taken, reported and put back under
 * mem_hotplug_lock, the lock every memory offline and contiguous
 * allocation holds throughout: an offline waits for the batch in flight
 * to come back, and a batch never holds a block of a range being taken
 * away. za_check holds that lock too, so it never sees a batch out.
 * Compaction is not kept out (mem_hotplug_lock_beside_compaction): its
 * scanners take only blocks on the lists or in use, never one held for
 * reporting, and a costly allocation meanwhile still compacts.
 *
 * Watermarks. A block is taken only while the zone stays above its low
 * watermark without it, as the kernel does: reporting never makes an
 * allocation fail or wake reclaim.
 *
 * Without background threads. An allocator created with ZA_CFG_NO_KSWAPD
 * and ZA_CFG_NO_VMSTAT_WORKER runs no thread of its own (an embedder's
 * platform may have none: docs/ARCHITECTURE.md), so register starts none
 * either: the client makes the passes itself with za_page_reporting_run,
 * on its own thread, when it likes. Any pass, the thread's or a caller's,
 * is the only one while rl->busy is set.
 *
 * Lock order: mem_hotplug_lock, then one zone lock at a time; rl->lock is
 * a leaf, never held while either is taken or the client is called.
 */
#include <string.h>

#include "internal.h"

#define CAPACITY ZA_PAGE_REPORTING_CAPACITY
#define DEFAULT_DELAY_MS 2000u
#define MAX_DELAY_MS 3600000u
/* List entries looked at per zone-lock hold while skipping blocks that
 * are reported already: a long list does not stall the zone. */
#define SCAN_BUDGET 1024

struct za_reporting {
	za_mutex_t lock; /* leaf: the fields up to `pr` */
	za_cond_t wake;  /* stop requests; busy going false */
	za_thread_t thread;
	bool running;  /* a client is registered */
	bool threaded; /* ... and the thread exists */
	bool stop;     /* unregistering: passes end, the thread exits */
	bool busy;     /* a pass is running: a batch may be out */
	struct za_page_reporting pr; /* the client's, copied at register */
	/* The pass's own (one pass at a time: busy). */
	unsigned long pass_pages; /* pages the client accepted in this pass */
	struct za_page *pages[CAPACITY];
	unsigned orders[CAPACITY];
	unsigned long pfns[CAPACITY];
};

/* The allocators whose report callback this thread runs (unregister or
 * a pass from inside it would wait for itself; another allocator's are
 * fine: struct za_nest). */
static ZA_THREAD_LOCAL struct za_nest in_report_callback;

int _za_reporting_init(struct za *za)
{
	struct za_reporting *rl = za_meta_alloc(za, sizeof(*rl), ZA_CACHELINE);
	if (!rl)
		return -ENOMEM;
	memset(rl, 0, sizeof(*rl));
	za->reporting = rl;
	za->report_order = UINT_MAX;
	int err = za_mutex_init(&rl->lock, ZA_RANK_LEAF, "page_reporting");
	if (!err)
		err = za_cond_init(&rl->wake);
	return err;
}

void _za_reporting_fini(struct za *za)
{
	struct za_reporting *rl = za->reporting;
	if (rl) {
		za_cond_destroy(&rl->wake);
		za_mutex_destroy(&rl->lock);
		za_meta_free(za, rl);
		za->reporting = NULL;
	}
	if (za->reported_map)
		za_os_release(za->reported_map, za->reported_map_bytes);
	za->reported_map = NULL;
}

/* --- one zone --------------------------------------------------------------- */

/* Whether pfn still heads a block on list (order, mt) of z: a cursor that
 * survived a lock drop. */
static bool still_on_list(struct za *za, struct za_zone *z, unsigned long pfn,
                          unsigned order, int mt)
{
	if (pfn == ZA_NIL || !pfn_online(za, pfn))
		return false;
	struct za_page *p = pfn_page(za, pfn);
	return page_zone(za, p) == z && page_state(p) == ZA_PS_BUDDY &&
	       page_order(p) == order && page_mt(p) == mt;
}

/* Take up to CAPACITY - *n unreported blocks of list (order, mt) into the
 * batch, from *cursor on (ZA_NIL: the head). Zone lock held. Leaves in
 * *cursor where to go on (ZA_NIL at the end of the list) and returns the
 * pages taken. Stops early at the low watermark (sets *low). */
static unsigned long take_blocks_locked(struct za *za, struct za_zone *z,
                                        struct za_reporting *rl, unsigned *n,
                                        unsigned order, int mt,
                                        uint32_t *cursor, long *room,
                                        bool *low)
{
	unsigned long taken = 0;
	unsigned steps = 0;
	zone_assert_held(z);
	uint32_t h = *cursor == ZA_NIL ? z->free_head[order][mt] : *cursor;
	while (h != ZA_NIL && *n < CAPACITY && steps++ < SCAN_BUDGET) {
		struct za_page *p = pfn_page(za, h);
		uint32_t next = p->next;
		if (!page_reported(za, h)) {
			if (*room < (1l << order)) {
				*low = true;
				break;
			}
			buddy_del_locked(z, p, h);
			set_page_state(p, ZA_PS_REPORTING);
			rl->pages[*n] = p;
			rl->orders[*n] = order;
			rl->pfns[*n] = h;
			(*n)++;
			*room -= 1l << order;
			taken += 1ul << order;
		}
		h = next;
	}
	*cursor = h;
	return taken;
}

/* Hand the batch to the client and put it back. mem_hotplug_lock held,
 * no zone lock. Returns the client's answer. */
static int report_batch(struct za *za, struct za_zone *z,
                        struct za_reporting *rl, unsigned n)
{
	unsigned long pages = 0;
	mem_hotplug_assert_held(za);
	long nfree = 0, niso = 0;
	for (unsigned i = 0; i < n; i++)
		pages += 1ul << rl->orders[i];
	za_witness_assert_callback("page reporting");
	/* Nested deeper than the table (report callbacks of several
	 * allocators running each other's passes): the batch goes back
	 * unreported, as one the client refused. */
	int r = -EAGAIN;
	if (za_nest_enter(&in_report_callback, za)) {
		r = rl->pr.report(rl->pr.ctx, rl->pages, rl->orders, n);
		za_nest_leave(&in_report_callback);
	}
	if (r > 0)
		r = 0; /* a positive answer is not an error */
	/* The host may hand reported memory back zero-filled: it no longer
	 * holds the poison pattern (docs/DEBUGGING.md). Only once the client
	 * took the batch: a refused one was never the host's, still holds
	 * the pattern and keeps its marks, so that a write after free into
	 * it is still caught. The blocks are ours (REPORTING) until they go
	 * back below. */
	if (r == 0 && za->poison_map)
		for (unsigned i = 0; i < n; i++)
			_za_poison_forget(za, rl->pfns[i], 1ul << rl->orders[i]);
	/* Counted before the pages show as reported (on the lists, under
	 * the zone lock below): whoever sees a page reported sees it
	 * counted too. */
	if (r == 0) {
		rl->pass_pages += pages;
		event_zone(z, ZA_REPORTED_PAGES, pages);
		event_zone(z, ZA_REPORTED_BATCHES, 1);
	} else {
		event_zone(z, ZA_REPORT_RETRY, 1);
	}

	zone_lock(z, NULL);
	for (unsigned i = 0; i < n; i++) {
		struct za_page *p = rl->pages[i];
		ZA_ASSERT(page_state(p) == ZA_PS_REPORTING);
		set_page_state(p, ZA_PS_NONE);
		int mt = _za_buddy_putback_reported_locked(z, p, rl->pfns[i],
		                                           rl->orders[i], r == 0);
		if (mt == ZA_MT_ISOLATE)
			niso += 1l << rl->orders[i];
		else
			nfree += 1l << rl->orders[i];
	}
	zone_unlock(z);
	/* Counters after the lists (seed 003). */
	vmstat_mod(z, ZA_NR_FREE_PAGES, nfree);
	if (niso)
		vmstat_mod(z, ZA_NR_FREE_ISOLATED, niso);
	return r;
}

/* Report what is free in z at the reporting order and above. 0, or the
 * client's error (the pass stops; the caller asks for a retry). */
static int report_zone(struct za *za, struct za_zone *z,
                       struct za_reporting *rl, unsigned min_order)
{
	for (unsigned o = min_order; o <= za->max_order; o++) {
		for (int mt = 0; mt < ZA_NR_MIGRATETYPES; mt++) {
			if (mt == ZA_MT_ISOLATE)
				continue;
			uint32_t cursor = ZA_NIL;
			bool more = true;
			while (more && !za_load_relaxed(&rl->stop)) {
				unsigned n = 0;
				bool low = false;
				mem_hotplug_lock_beside_compaction(za);
				zone_lock(z, NULL);
				if (!zone_populated(z) ||
				    (cursor != ZA_NIL && !still_on_list(za, z, cursor, o, mt)))
					cursor = ZA_NIL;
				long room = zone_stat_global(z, ZA_NR_FREE_PAGES) -
				            (long)zone_wmark(z, ZA_WMARK_LOW);
				unsigned long taken = take_blocks_locked(za, z, rl, &n, o, mt,
				                                         &cursor, &room, &low);
				zone_unlock(z);
				/* At the watermark with a batch out, go on once it is
				 * back (its pages count free again); with nothing out
				 * the zone has nothing to spare now. */
				more = cursor != ZA_NIL && !(low && !n);
				int r = 0;
				if (n) {
					vmstat_mod(z, ZA_NR_FREE_PAGES, -(long)taken);
					r = report_batch(za, z, rl, n);
				}
				mem_hotplug_unlock_beside_compaction(za);
				if (r)
					return r;
				if (low && !n)
					return 0;
			}
		}
	}
	return 0;
}

/* --- the thread ----------------------------------------------------------------- */

/* One pass over every zone, rl->busy set by the caller. 0, or the
 * client's error (the pass stopped there). */
static int report_pass(struct za *za, struct za_reporting *rl)
{
	unsigned order = rl->pr.order;
	for (unsigned nid = 0; nid < za->nr_nodes; nid++) {
		for (int t = 0; t < ZA_NR_ZONES; t++) {
			struct za_zone *z = &za->nodes[nid].zones[t];
			if (!zone_populated(z))
				continue;
			int r = report_zone(za, z, rl, order);
			if (r) {
				/* Refused: everything went back unreported; try
				 * again one delay from now (the next run). */
				za_store_relaxed(&za->report_pending, 1);
				return r;
			}
		}
	}
	return 0;
}

/* Sleep until deadline (ns) or a stop request; rl->lock held. */
static void wait_until(struct za_reporting *rl, uint64_t deadline)
{
	for (;;) {
		uint64_t now = za_now_ns();
		if (rl->stop || now >= deadline)
			return;
		za_cond_wait(&rl->wake, &rl->lock, deadline - now);
	}
}

static void *reporting_thread(void *arg)
{
	struct za *za = arg;
	struct za_reporting *rl = za->reporting;
	za_mutex_lock(&rl->lock);
	uint64_t delay = (uint64_t)rl->pr.delay_ms * ZA_NSEC_PER_MSEC;
	/* Polled an eighth of a delay apart: a free is seen within that
	 * (the free path only sets the flag; it wakes nobody). */
	uint64_t poll = delay / 8 ? delay / 8 : ZA_NSEC_PER_MSEC;
	while (!rl->stop) {
		if (!za_load_relaxed(&za->report_pending)) {
			wait_until(rl, za_now_ns() + poll);
			continue;
		}
		/* Something became free: let it stay free a delay first. */
		wait_until(rl, za_now_ns() + delay);
		/* A caller's pass (za_page_reporting_run) goes first. */
		while (rl->busy && !rl->stop)
			za_cond_wait(&rl->wake, &rl->lock, 0);
		if (rl->stop)
			break;
		rl->busy = true;
		za_mutex_unlock(&rl->lock);
		/* Cleared before the pass: a free during it asks again. */
		za_store_relaxed(&za->report_pending, 0);
		(void)report_pass(za, rl);
		za_mutex_lock(&rl->lock);
		rl->busy = false;
		za_cond_broadcast(&rl->wake);
	}
	za_mutex_unlock(&rl->lock);
	return NULL;
}

/* --- API --------------------------------------------------------------------------- */

/* The configuration without background threads (docs/ARCHITECTURE.md,
 * "Embedding"): no kswapd (nor kcompactd) and no statistics worker. */
static bool no_background_threads(const struct za *za)
{
	return (za->flags & ZA_CFG_NO_KSWAPD) &&
	       (za->flags & ZA_CFG_NO_VMSTAT_WORKER);
}

int za_page_reporting_register(struct za *za,
                               const struct za_page_reporting *pr)
{
	if (!za || !pr || !pr->report || pr->order > za->max_order ||
	    pr->delay_ms > MAX_DELAY_MS)
		return -EINVAL;
	struct za_reporting *rl = za->reporting;
	int err = 0;
	za_mutex_lock(&rl->lock);
	if (rl->running) {
		za_mutex_unlock(&rl->lock);
		return -EBUSY;
	}
	if (!za->reported_map) {
		size_t bytes = ((za->max_pfn + 63) / 64) * sizeof(uint64_t);
		size_t pg = za_os_page_size();
		bytes = (bytes + pg - 1) & ~(pg - 1);
		/* Reserved address space: only words that are written (free
		 * blocks marked reported) ever cost memory. */
		uint64_t *map = za_meta_inject_fail(za) ? NULL : za_os_reserve(bytes);
		if (map && za_os_commit(map, bytes)) {
			za_os_release(map, bytes);
			map = NULL;
		}
		if (!map) {
			za_mutex_unlock(&rl->lock);
			return -ENOMEM;
		}
		za->reported_map_bytes = bytes;
		/* Bits are set under a zone lock taken after this store, so
		 * the free paths see the map before any mark. */
		za_store_release(&za->reported_map, map);
	}
	rl->pr = *pr;
	if (!rl->pr.order)
		rl->pr.order = za->pageblock_order;
	if (!rl->pr.delay_ms)
		rl->pr.delay_ms = DEFAULT_DELAY_MS;
	za_store_relaxed(&rl->stop, false);
	rl->busy = false;
	/* Whatever is free now is worth a pass. */
	za_store_relaxed(&za->report_pending, 1);
	za_store_relaxed(&za->report_order, rl->pr.order);
	rl->threaded = !no_background_threads(za);
	if (rl->threaded) {
		err = za_thread_start(&rl->thread, reporting_thread, za,
		                      "za_reporting");
		if (err) {
			rl->threaded = false;
			za_store_relaxed(&za->report_order, UINT_MAX);
			za_mutex_unlock(&rl->lock);
			return err;
		}
	}
	rl->running = true;
	za_mutex_unlock(&rl->lock);
	return 0;
}

/* Stop the thread (waiting for a batch out) and forget the client. */
static int reporting_stop(struct za *za)
{
	struct za_reporting *rl = za->reporting;
	za_mutex_lock(&rl->lock);
	if (!rl->running) {
		za_mutex_unlock(&rl->lock);
		return -ENOENT;
	}
	if (rl->stop) {
		/* Another caller is stopping it: wait for that to finish
		 * (only one may join the thread). */
		while (rl->running)
			za_cond_wait(&rl->wake, &rl->lock, 0);
		za_mutex_unlock(&rl->lock);
		return 0;
	}
	za_store_relaxed(&rl->stop, true);
	za_store_relaxed(&za->report_order, UINT_MAX);
	za_cond_broadcast(&rl->wake);
	if (rl->threaded) {
		za_mutex_unlock(&rl->lock);
		/* The thread finishes the batch it has out (its blocks go back
		 * to the lists) and exits. */
		za_thread_join(&rl->thread);
		za_mutex_lock(&rl->lock);
		rl->threaded = false;
	}
	/* A caller's pass (za_page_reporting_run) ends at its next list
	 * once it sees stop; its batch out comes back first. */
	while (rl->busy)
		za_cond_wait(&rl->wake, &rl->lock, 0);
	rl->running = false;
	memset(&rl->pr, 0, sizeof(rl->pr));
	za_store_relaxed(&za->report_pending, 0);
	za_cond_broadcast(&rl->wake);
	za_mutex_unlock(&rl->lock);
	return 0;
}

long za_page_reporting_run(struct za *za)
{
	if (!za)
		return -EINVAL;
	/* From the report callback the pass would wait for itself; from a
	 * migrate callback the memory-hotplug lock is this thread's. */
	if (za_nest_in(&in_report_callback, za) || mem_hotplug_held_by_me(za))
		return -EDEADLK;
	struct za_reporting *rl = za->reporting;
	za_mutex_lock(&rl->lock);
	if (!rl->running || rl->stop) {
		za_mutex_unlock(&rl->lock);
		return -ENOENT;
	}
	if (rl->busy) {
		za_mutex_unlock(&rl->lock);
		return -EBUSY;
	}
	rl->busy = true;
	za_mutex_unlock(&rl->lock);
	long r = 0;
	/* Nothing of the reporting order freed since the last pass: nothing
	 * to do, and no lock taken. */
	if (za_load_relaxed(&za->report_pending)) {
		za_store_relaxed(&za->report_pending, 0);
		rl->pass_pages = 0;
		int err = report_pass(za, rl);
		r = err ? err : (long)rl->pass_pages;
	}
	za_mutex_lock(&rl->lock);
	rl->busy = false;
	za_cond_broadcast(&rl->wake);
	za_mutex_unlock(&rl->lock);
	return r;
}

int za_page_reporting_unregister(struct za *za)
{
	if (!za)
		return -EINVAL;
	/* From the report callback unregister would wait for itself; from a
	 * migrate callback (or a compaction pass) a pass that has begun
	 * waits for the memory-hotplug lock or the compaction pass this
	 * thread is inside, and unregister would wait for that pass. */
	if (za_nest_in(&in_report_callback, za) || mem_hotplug_held_by_me(za))
		return -EDEADLK;
	return reporting_stop(za);
}

bool _za_reporting_threaded(const struct za *za)
{
	return za->reporting && za_load_relaxed(&za->reporting->threaded);
}

void _za_reporting_stop(struct za *za)
{
	if (za->reporting)
		reporting_stop(za);
}
