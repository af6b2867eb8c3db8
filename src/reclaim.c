/*
 * reclaim.c - getting memory back: a background reclaim thread per node
 * (kswapd) that runs the client's shrinkers from when a zone falls below
 * its low watermark until it is above high again, direct reclaim by an
 * allocating thread, and the out-of-memory handler.
 *
 * Shrinkers and the OOM handler are always called with no allocator lock
 * held (checked by the witness in debug builds); they may free pages. The
 * shrinker list is walked from a snapshot, and unregistering waits until
 * no walk is running, so a shrinker is never called after
 * za_unregister_shrinker returns.
 *
 * While any kswapd works, the per-CPU lists shrink to their minimum size
 * and the statistics thresholds drop to the pressure threshold, so that
 * less memory hides in per-CPU lists and deltas when it is short; when
 * the last kswapd is done, the lists get back the size they had.
 */

#include "internal.h"

#define SWAP_CLUSTER 32ul /* pages asked of the shrinkers at least */
#define KSWAPD_MAX_PASSES 64

int reclaim_init(struct za *za)
{
	int err = za_mutex_init(&za->shrinker_lock, ZA_RANK_LEAF, "shrinker_lock");
	if (!err)
		err = za_cond_init(&za->shrinker_idle);
	for (unsigned n = 0; !err && n < za->nr_nodes; n++) {
		struct za_node *node = &za->nodes[n];
		node->kswapd_highest_zoneidx = -1;
		err = za_mutex_init(&node->kswapd_lock, ZA_RANK_LEAF, "kswapd_lock");
		if (!err)
			err = za_cond_init(&node->kswapd_wait);
	}
	return err;
}

void reclaim_fini(struct za *za)
{
	for (unsigned n = 0; za->nodes && n < za->nr_nodes; n++) {
		za_mutex_destroy(&za->nodes[n].kswapd_lock);
		za_cond_destroy(&za->nodes[n].kswapd_wait);
	}
	za_mutex_destroy(&za->shrinker_lock);
	za_cond_destroy(&za->shrinker_idle);
}

/* --- shrinkers ---------------------------------------------------------------- */

int za_register_shrinker(struct za *za, struct za_shrinker *s)
{
	if (!za || !s || !s->count || !s->scan)
		return -EINVAL;
	za_mutex_lock(&za->shrinker_lock);
	for (struct za_shrinker *p = za->shrinkers; p; p = p->za_next) {
		if (p == s) {
			za_mutex_unlock(&za->shrinker_lock);
			return -EEXIST;
		}
	}
	s->za_next = za->shrinkers;
	za->shrinkers = s;
	za_mutex_unlock(&za->shrinker_lock);
	/* Something new to reclaim from: kswapd may be woken again for a
	 * node it had given up on (kswapd_hopeless) - a client that only
	 * allocates without direct reclaim would otherwise never see it
	 * again. */
	for (unsigned n = 0; n < za->nr_nodes; n++)
		za_store_relaxed(&za->nodes[n].kswapd_failures, 0u);
	return 0;
}

/* The allocators whose shrinker walk this thread is inside: unregistering
 * from one of theirs would wait for itself. Another allocator's shrinker
 * may be unregistered (struct za_nest). */
static ZA_THREAD_LOCAL struct za_nest in_shrinker_walk;

void za_unregister_shrinker(struct za *za, struct za_shrinker *s)
{
	if (!za || !s)
		return;
	if (za_nest_in(&in_shrinker_walk, za)) {
		_za_report_misuse(za, -EDEADLK,
		                  "za_unregister_shrinker called "
		                  "from inside a shrinker: it would wait for "
		                  "itself; still registered");
		return;
	}
	za_mutex_lock(&za->shrinker_lock);
	for (struct za_shrinker **pp = &za->shrinkers; *pp; pp = &(*pp)->za_next) {
		if (*pp == s) {
			*pp = s->za_next;
			break;
		}
	}
	/* A walk may still hold s in its snapshot. */
	while (za->shrinkers_busy)
		za_cond_wait(&za->shrinker_idle, &za->shrinker_lock, 0);
	za_mutex_unlock(&za->shrinker_lock);
}

/* Ask the shrinkers for up to nr pages of node nid; returns pages freed,
 * *scanned the pages they were asked to look at. */
static unsigned long shrink_node(struct za *za, int nid, unsigned long nr,
                                 unsigned long *scanned)
{
	struct za_shrinker *local[16], **snap = local;
	unsigned cnt = 0, cap = 16;
	unsigned long freed = 0;

	za_mutex_lock(&za->shrinker_lock);
	for (struct za_shrinker *p = za->shrinkers; p; p = p->za_next)
		cnt++;
	if (cnt > cap) {
		/* Through the metadata allocator, so that its fault
		 * injection reaches here too: on failure, the first cap. */
		snap = za_meta_alloc(za, cnt * sizeof(*snap), sizeof(*snap));
		if (!snap) {
			snap = local;
			cnt = cap;
		}
	}
	unsigned i = 0;
	for (struct za_shrinker *p = za->shrinkers; p && i < cnt; p = p->za_next)
		snap[i++] = p;
	cnt = i;
	if (cnt)
		za->shrinkers_busy++;
	za_mutex_unlock(&za->shrinker_lock);
	if (!cnt)
		return 0;

	za_witness_assert_callback("shrinker");
	/* Nested deeper than the table (shrinkers of several allocators
	 * reclaiming from each other): no walk here. */
	bool entered = za_nest_enter(&in_shrinker_walk, za);
	for (i = 0; entered && i < cnt && freed < nr; i++) {
		unsigned long can = snap[i]->count(snap[i]->ctx, nid);
		if (!can)
			continue;
		unsigned long want = nr - freed, ask = can < want ? can : want;
		*scanned += ask;
		/* A shrinker may claim anything, ULONG_MAX included: the sum
		 * saturates instead of wrapping to "nothing freed". */
		unsigned long got = snap[i]->scan(snap[i]->ctx, nid, ask);
		freed = got > ULONG_MAX - freed ? ULONG_MAX : freed + got;
	}
	if (entered)
		za_nest_leave(&in_shrinker_walk);

	za_mutex_lock(&za->shrinker_lock);
	if (--za->shrinkers_busy == 0)
		za_cond_broadcast(&za->shrinker_idle);
	za_mutex_unlock(&za->shrinker_lock);
	if (snap != local)
		za_meta_free(za, snap);
	return freed;
}

unsigned long direct_reclaim(struct za *za, struct za_alloc_ctx *ac,
                             unsigned order)
{
	unsigned long nr = SWAP_CLUSTER << order, freed = 0, scanned = 0;
	struct za_zone *first = NULL;
	/* Counted against the highest zone the request may use, as the
	 * kernel's allocstall_<zone> is. */
	event_zone(&za->nodes[ac->preferred_nid].zones[ac->highest_zoneidx],
	           ZA_ALLOCSTALL, 1);
	/* Nodes in zonelist order, the preferred one first: only those with
	 * a zone the request may use, as the kernel's shrink_zones walks the
	 * zonelist up to the request's highest zone. A node with none (a DMA
	 * request, a node of NORMAL memory only) would give up its pages for
	 * nothing, and fill each round's count so that the nodes that could
	 * help were never asked. */
	bool seen[ZA_MAX_NODES] = { false };
	struct za_zone *z;
	for (unsigned i = 0;
	     freed < nr &&
	     (z = zonelist_next(ac->zonelist, ac->highest_zoneidx, &i));) {
		if (seen[z->nid])
			continue;
		seen[z->nid] = true;
		if (!first)
			first = z;
		unsigned long got = shrink_node(za, z->nid, nr - freed, &scanned);
		/* Reclaim works on the node again: kswapd may be woken for it
		 * (kswapd_hopeless). */
		if (got && za_load_relaxed(&za->nodes[z->nid].kswapd_failures))
			za_store_relaxed(&za->nodes[z->nid].kswapd_failures, 0u);
		/* Saturating, as shrink_node sums its shrinkers: a node whose
		 * shrinker claims ULONG_MAX after another freed one page would
		 * otherwise wrap the round to 0 - no progress. */
		freed = got > ULONG_MAX - freed ? ULONG_MAX : freed + got;
	}
	if (first) {
		event_zone(first, ZA_PGSCAN_DIRECT, scanned);
		event_zone(first, ZA_PGSTEAL_DIRECT, freed);
	}
	return freed;
}

unsigned long call_oom_handler(struct za *za, int nid, unsigned order)
{
	unsigned long (*fn)(void *, int, unsigned) = za_load_acquire(&za->oom_fn);
	if (!fn)
		return 0;
	za_witness_assert_callback("oom handler");
	event_zone(&za->nodes[nid].zones[0], ZA_OOM_KILL, 1);
	return fn(za_load_relaxed(&za->oom_ctx), nid, order);
}

void za_set_oom_handler(struct za *za,
                        unsigned long (*oom)(void *ctx, int nid,
                                             unsigned order),
                        void *ctx)
{
	if (!za)
		return;
	za_store_relaxed(&za->oom_ctx, ctx);
	za_store_release(&za->oom_fn, oom);
}

/* --- kswapd ------------------------------------------------------------------------ */

static bool node_balanced(struct za *za, struct za_node *node, int hz)
{
	for (int t = 0; t <= hz; t++) {
		struct za_zone *z = &node->zones[t];
		if (!zone_populated(z))
			continue;
		/* The snapshot: deciding that a zone is fine on a drifted
		 * counter is how the livelock of seed 003 starts. */
		long free = zone_stat_snapshot(za, z, ZA_NR_FREE_PAGES);
		if (free < (long)zone_wmark(z, ZA_WMARK_HIGH))
			return false;
	}
	return true;
}

static unsigned long node_deficit(struct za *za, struct za_node *node, int hz)
{
	unsigned long need = 0;
	for (int t = 0; t <= hz; t++) {
		struct za_zone *z = &node->zones[t];
		if (!zone_populated(z))
			continue;
		long free = zone_stat_snapshot(za, z, ZA_NR_FREE_PAGES);
		long high = (long)zone_wmark(z, ZA_WMARK_HIGH);
		if (free < high)
			need += (unsigned long)(high - free);
	}
	return need < SWAP_CLUSTER ? SWAP_CLUSTER : need;
}

/* Pressure is an input of the tunables (tunables_update): while it
 * lasts every page set is trimmed to its minimum and the statistics
 * thresholds drop; when it ends the sets get back the size they had and
 * the thresholds rise again. Only the first kswapd in and the last out
 * change it. */
static void pressure_begin(struct za *za)
{
	if (za_add_acqrel(&za->reclaim_active, 1) == 1)
		tunables_update(za, TUNABLES_PRESSURE);
}

static void pressure_end(struct za *za)
{
	if (za_add_acqrel(&za->reclaim_active, -1u) == 0)
		tunables_update(za, TUNABLES_PRESSURE);
}

static void balance_node(struct za *za, struct za_node *node, int hz)
{
	struct za_zone *acct = &node->zones[0];
	if (node_balanced(za, node, hz)) {
		event_zone(acct, ZA_KSWAPD_HIGH_WMARK_HIT, 1);
		return;
	}
	pressure_begin(za);
	unsigned long total = 0;
	for (int pass = 0; pass < KSWAPD_MAX_PASSES; pass++) {
		if (za_load_relaxed(&za->stopping) || node_balanced(za, node, hz))
			break;
		unsigned long nr = node_deficit(za, node, hz), scanned = 0;
		unsigned long freed = shrink_node(za, node->nid, nr, &scanned);
		event_zone(acct, ZA_PGSCAN_KSWAPD, scanned);
		event_zone(acct, ZA_PGSTEAL_KSWAPD, freed);
		total += freed;
		if (!freed) {
			/* Nothing more to give: what sits on per-CPU lists is
			 * the last free memory kswapd can bring back. */
			for (int t = 0; t <= hz; t++)
				pcp_drain_zone(za, &node->zones[t]);
			break;
		}
	}
	pressure_end(za);
	/* A pass that reclaimed nothing counts towards a hopeless node; one
	 * that did clears the count (the kernel's balance_pgdat). Not a pass
	 * za_destroy cut short. */
	if (total)
		za_store_relaxed(&node->kswapd_failures, 0u);
	else if (!za_load_relaxed(&za->stopping))
		za_add_relaxed(&node->kswapd_failures, 1u);
}

static void *kswapd_main(void *arg)
{
	struct za_node *node = arg;
	struct za *za = node->zones[0].za;
	/* kswapd is reclaim: a shrinker that allocates from here must not
	 * recurse into direct reclaim (and into itself). */
	za_in_reclaim = 1;
	za_mutex_lock(&node->kswapd_lock);
	while (!za_load_relaxed(&za->stopping)) {
		int hz = node->kswapd_highest_zoneidx;
		if (hz < 0) {
			za_cond_wait(&node->kswapd_wait, &node->kswapd_lock, 0);
			continue;
		}
		node->kswapd_highest_zoneidx = -1;
		node->kswapd_running = true;
		/* Woken again within 100 ms of finishing: the zone fell to low
		 * again quickly, a sign kswapd stops too early. */
		if (node->kswapd_slept_ns &&
		    za_now_ns() - node->kswapd_slept_ns < 100000000u)
			event_zone(&node->zones[0], ZA_KSWAPD_LOW_WMARK_HIT, 1);
		int order = node->kswapd_order;
		node->kswapd_order = 0;
		za_mutex_unlock(&node->kswapd_lock);
		/* The boosts this pass reclaims towards, as the kernel's
		 * balance_pgdat reads them before it starts: those of the
		 * zones it balances (0..hz) only. A zone above hz is not
		 * looked at; its boost stays for the pass its own wake (owed,
		 * boost_wake) brings, which reclaims towards it. */
		unsigned long boost[ZA_NR_ZONES];
		for (int t = 0; t < ZA_NR_ZONES; t++)
			boost[t] = t <= hz
			               ? za_load_relaxed(&node->zones[t].watermark_boost)
			               : 0;
		balance_node(za, node, hz);
		/* Boosted marks have done their job once kswapd reclaimed to
		 * them: take back what this pass saw and let kcompactd undo the
		 * mixing. A boost raised since then stays for the next pass
		 * (its wake is pending): dropped here, the zone would go back
		 * to its marks without the reclaim the boost asked for. */
		ZA_DEBUG_POINT(za, ZA_DP_KSWAPD_BALANCED, node);
		_za_boost_done(za, node, boost);
		/* A high-order request failed: memory is balanced now (or as
		 * balanced as reclaim makes it), make the order (compaction.c). */
		if (order > ZA_COSTLY_ORDER && !(za->flags & ZA_CFG_NO_COMPACTION))
			_za_wakeup_kcompactd(za, node->nid, order, hz, true);
		za_mutex_lock(&node->kswapd_lock);
		node->kswapd_running = false;
		node->kswapd_slept_ns = za_now_ns();
	}
	za_mutex_unlock(&node->kswapd_lock);
	return NULL;
}

/* An allocating thread leaves a request and a signal. One that may sleep
 * waits for the (short, leaf) lock; an atomic one only tries it - if it is
 * busy, kswapd is being woken or is between passes, and the next
 * allocation below low wakes it again. */
bool wakeup_kswapd(struct za *za, struct za_zone *z, unsigned order,
                   int highest_zoneidx, bool may_sleep)
{
	struct za_node *node = z->node;
	if (!node->kswapd_started)
		return false;
	/* Nothing to do for a hopeless node: the wake counts as delivered
	 * (a boost's wake is not owed any more, and the boost stays until
	 * kswapd runs again, as the kernel's). A costly request that cannot
	 * compact by itself wakes kcompactd directly instead, which kswapd's
	 * pass would have (the kernel's wakeup_kswapd does the same). */
	if (kswapd_hopeless(node)) {
		if (!may_sleep && order > ZA_COSTLY_ORDER &&
		    !(za->flags & ZA_CFG_NO_COMPACTION))
			_za_wakeup_kcompactd(za, node->nid, (int)order, highest_zoneidx,
			                     false);
		return true;
	}
	if (may_sleep)
		za_mutex_lock(&node->kswapd_lock);
	else if (!za_mutex_trylock(&node->kswapd_lock))
		return false;
	if (highest_zoneidx > node->kswapd_highest_zoneidx) {
		node->kswapd_highest_zoneidx = highest_zoneidx;
		if (!node->kswapd_running)
			event_zone(&node->zones[0], ZA_KSWAPD_WAKE, 1);
	}
	if (order > (unsigned)node->kswapd_order)
		node->kswapd_order = (int)order;
	za_cond_broadcast(&node->kswapd_wait);
	za_mutex_unlock(&node->kswapd_lock);
	return true;
}

int reclaim_start(struct za *za)
{
	for (unsigned n = 0; n < za->nr_nodes; n++) {
		struct za_node *node = &za->nodes[n];
		int err = za_thread_start(&node->kswapd, kswapd_main, node,
		                          "za-kswapd");
		if (err)
			return err;
		node->kswapd_started = true;
	}
	return 0;
}

void reclaim_stop(struct za *za)
{
	for (unsigned n = 0; za->nodes && n < za->nr_nodes; n++) {
		struct za_node *node = &za->nodes[n];
		if (!node->kswapd_started)
			continue;
		za_mutex_lock(&node->kswapd_lock);
		za_store_relaxed(&za->stopping, true);
		za_cond_broadcast(&node->kswapd_wait);
		za_mutex_unlock(&node->kswapd_lock);
		za_thread_join(&node->kswapd);
		node->kswapd_started = false;
	}
}
