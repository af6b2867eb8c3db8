/*
 * check.c - za_check: every invariant of DESIGN.md, verified from
 * scratch at a quiescent point.
 *
 * For each zone it walks every buddy and pcp list and every online page:
 *  - each free block lies in the zone, is aligned to its order, overlaps
 *    no other block, sits on the list of its pageblock's type, and is
 *    fully merged unless isolation keeps it apart from its buddy;
 *  - list links and per-order counts agree;
 *  - every page is covered by exactly one free, pcp, allocated or
 *    taken-out block, and no other page claims to head anything;
 *  - lazy blocks (online, metadata not yet wholly initialised) are on
 *    their zone's lazy list once; their lazy parts (the max-order blocks
 *    not initialised yet, the lowest of the block) are on no free or pcp
 *    list, MOVABLE, their metadata still zero, and counted free;
 *  - conservation: managed = buddy + pcp + allocated;
 *  - nothing is isolated or taken out at a quiescent point (za_check holds
 *    the memory-hotplug lock, so no offline or contiguous allocation is
 *    half done): no free block on an isolate list, no page taken out
 *    (OFFLINE) but inside a contiguous range in use, and the isolated
 *    pageblocks are exactly those of the contiguous ranges in use, as
 *    many as nr_isolate_pageblock counts;
 *  - the counters: before folding within the sum of the thresholds of the
 *    truth, after folding equal to it; each CPU's delta within the
 *    threshold, and none (nor allocated pages not folded) on an offline
 *    CPU;
 *  - page sets of offline CPUs and disabled zones are empty; a set is
 *    flagged CPU-offline exactly when its CPU is offline, and no zone has
 *    its page sets disabled;
 *  - the high-order atomic reserve's count is the pages of the zone's
 *    HIGHATOMIC pageblocks;
 *  - present_pages is the pages of the zone's online blocks and
 *    [start_pfn, end_pfn) their exact span;
 *  - every zonelist is the one the builder's rule gives, entry by entry:
 *    the node's populated zones from the highest type down, then each
 *    other node's the same way, nearest first (ties by node number).
 *
 * A broken invariant makes it return -EUCLEAN. A part it could not look
 * at (a CPU fence that failed, no memory for its bitmap) is reported too,
 * and, when nothing was found broken, its error is returned instead.
 */
#include <stdarg.h>
#include <string.h>

#include "internal.h"

struct ck {
	struct za *za;
	struct za_out out;
	int errors;
	int look_err;  /* the first error that kept a part from being checked */
	long reported; /* free pages marked reported in the zone checked */
	/* pageblocks of the contiguous ranges in use in the zone checked */
	unsigned long contig_pb;
};

/* One line of the check's report. */
static void say(struct ck *ck, const char *fmt, va_list ap)
{
	za_out_puts(&ck->out, "za_check: ");
	za_out_vprintf(&ck->out, fmt, ap);
	za_out_putc(&ck->out, '\n');
}

/* A broken invariant. */
static void fail(struct ck *ck, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void fail(struct ck *ck, const char *fmt, ...)
{
	ck->errors++;
	if (!ck->out.write || ck->errors > 50)
		return;
	va_list ap;
	va_start(ap, fmt);
	say(ck, fmt, ap);
	va_end(ap);
}

/* A part that could not be checked (err < 0): written as a problem is,
 * but it is no broken invariant. */
static void cannot_look(struct ck *ck, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void cannot_look(struct ck *ck, int err, const char *fmt, ...)
{
	if (!ck->look_err)
		ck->look_err = err;
	if (!ck->out.write)
		return;
	va_list ap;
	va_start(ap, fmt);
	say(ck, fmt, ap);
	va_end(ap);
}

/* One bit per page of the zone's span: set when some block covers it. */
struct cover {
	unsigned long start, n;
	uint64_t *bits;
};

static bool cover_mark(struct ck *ck, struct za_zone *z, struct cover *cv,
                       unsigned long pfn, unsigned long n, const char *what)
{
	if (pfn < cv->start || pfn + n > cv->start + cv->n) {
		fail(ck, "node %d zone %s: %s block pfn 0x%lx+%lu outside the zone",
		     z->nid, za_zone_name(z->type), what, pfn, n);
		return false;
	}
	for (unsigned long i = pfn - cv->start; i < pfn - cv->start + n;) {
		/* Whole words at a time where the block covers them (lazy
		 * sections are thousands of pages). */
		bool word = !(i % 64) && i + 64 <= pfn - cv->start + n;
		uint64_t m = word ? ~0ull : 1ull << (i % 64);
		if (cv->bits[i / 64] & m) {
			unsigned long at = i;
			while (!(cv->bits[at / 64] & (1ull << (at % 64))))
				at++;
			fail(ck,
			     "node %d zone %s: %s block pfn 0x%lx+%lu overlaps "
			     "another block at pfn 0x%lx",
			     z->nid, za_zone_name(z->type), what, pfn, n, cv->start + at);
			return false;
		}
		cv->bits[i / 64] |= m;
		i += word ? 64 : 1;
	}
	return true;
}

/* Whether every page of [pfn, pfn+n) is covered. */
static bool cover_full(const struct cover *cv, unsigned long pfn,
                       unsigned long n, unsigned long *hole)
{
	for (unsigned long i = pfn - cv->start; i < pfn - cv->start + n;) {
		if (!(i % 64) && i + 64 <= pfn - cv->start + n &&
		    cv->bits[i / 64] == ~0ull) {
			i += 64;
			continue;
		}
		if (!(cv->bits[i / 64] & (1ull << (i % 64)))) {
			*hole = cv->start + i;
			return false;
		}
		i++;
	}
	return true;
}

/* Whether a page's metadata is all zero, as a lazy section's must be. */
static bool meta_zero(const struct za_page *p)
{
	uint64_t w[2];
	__builtin_memcpy(w, p, sizeof(w));
	return !(w[0] | w[1]);
}

/* The zone's lazy sections: a well-linked list of online sections of this
 * zone, as many as the sections flagged lazy, each with a lazy part of 1
 * to all of its max-order blocks (and every other section none), whose
 * pageblocks are all MOVABLE and whose metadata is still zero (nothing was
 * handed out of it without initialising it). Each lazy part covers its
 * pages as one free area; the part of the block initialised already is
 * walked as any other (check_free_lists, check_page_walk). */
static unsigned long check_lazy(struct ck *ck, struct za_zone *z,
                                struct cover *cv)
{
	struct za *za = ck->za;
	unsigned long cnt = 0, pages = 0, blocks = 0;
	unsigned long whole = za->block_pages >> za->max_order;
	uint32_t prev = ZA_NIL;
	bool deep = za_debug || za->debug[ZA_DEBUG_CHECK_LAZY];
	for (uint32_t s = z->lazy_head; s != ZA_NIL;) {
		if (s >= za->nr_sections) {
			fail(ck,
			     "node %d zone %s: lazy list links to block %u, past "
			     "the last",
			     z->nid, za_zone_name(z->type), s);
			break;
		}
		if (++cnt > za->nr_sections) {
			fail(ck, "node %d zone %s: lazy list loops", z->nid,
			     za_zone_name(z->type));
			break;
		}
		struct za_section *sec = &za->sections[s];
		unsigned long pfn = section_pfn(za, s);
		if (!sec->online || !sec->lazy || sec->zone_id != z->id)
			fail(ck,
			     "node %d zone %s: lazy block pfn 0x%lx is online %u, "
			     "lazy %u, zone id %u",
			     z->nid, za_zone_name(z->type), pfn, sec->online, sec->lazy,
			     sec->zone_id);
		if (sec->lazy_prev != prev)
			fail(ck, "lazy block pfn 0x%lx: back link %u, expected %u", pfn,
			     sec->lazy_prev, prev);
		unsigned long left = sec->lazy_left;
		if (!left || left > whole) {
			fail(ck,
			     "lazy block pfn 0x%lx: %lu max-order blocks left to "
			     "initialise, of %lu",
			     pfn, left, whole);
			left = left ? whole : 0;
		}
		unsigned long n = left << za->max_order; /* its lazy part */
		blocks += left;
		for (unsigned long p = pfn; p < pfn + n;
		     p += 1ul << za->pageblock_order)
			if (pageblock_mt(za, p) != ZA_MT_MOVABLE) {
				fail(ck, "lazy block pfn 0x%lx: pageblock 0x%lx is type %d",
				     pfn, p, pageblock_mt(za, p));
				break;
			}
		/* Reading the metadata of a terabyte of lazy blocks would fault
		 * in a gigabyte of zero pages: the first page of each block
		 * always (where a block handed out uninitialised would start),
		 * the rest in debug builds or when asked. A page handed out of
		 * a lazy block also breaks the counters' agreement below. */
		unsigned long last = deep ? pfn + n : pfn + (n ? 1 : 0);
		for (unsigned long p = pfn; p < last; p++)
			if (!meta_zero(pfn_page(za, p))) {
				fail(ck,
				     "lazy block pfn 0x%lx: pfn 0x%lx has metadata "
				     "(state %d) before its block was initialised",
				     pfn, p, page_state(pfn_page(za, p)));
				break;
			}
		if (n && cover_mark(ck, z, cv, pfn, n, "lazy"))
			pages += n;
		prev = s;
		s = sec->lazy_next;
	}
	if (cnt != z->nr_lazy)
		fail(ck, "node %d zone %s: %lu lazy blocks counted, the list has %lu",
		     z->nid, za_zone_name(z->type), z->nr_lazy, cnt);
	if (blocks != z->nr_lazy_blocks)
		fail(ck,
		     "node %d zone %s: %lu max-order blocks counted lazy, the "
		     "lazy blocks have %lu",
		     z->nid, za_zone_name(z->type), z->nr_lazy_blocks, blocks);
	unsigned long flagged = 0;
	for (unsigned long pfn = z->start_pfn; pfn < z->end_pfn;
	     pfn += za->block_pages) {
		struct za_section *sec = pfn_section(za, pfn);
		if (!sec->online || sec->zone_id != z->id)
			continue;
		if (sec->lazy)
			flagged++;
		else if (sec->lazy_left)
			fail(ck,
			     "block pfn 0x%lx is not lazy but has %u max-order "
			     "blocks left to initialise",
			     pfn, sec->lazy_left);
	}
	if (flagged != cnt)
		fail(ck,
		     "node %d zone %s: %lu blocks are marked lazy, %lu are on "
		     "the lazy list",
		     z->nid, za_zone_name(z->type), flagged, cnt);
	return pages;
}

/* What the walks of one zone found, in pages. */
struct tally {
	unsigned long buddy, iso, pcp, alloc, taken;
	unsigned long iso_pfn, taken_pfn; /* the first of each, for the report */
};

/* An unpopulated zone: no free and no lazy blocks. */
static void check_empty_zone(struct ck *ck, struct za_zone *z)
{
	struct za *za = ck->za;

	for (unsigned o = 0; o <= za->max_order; o++)
		for (int mt = 0; mt < ZA_NR_MIGRATETYPES; mt++)
			if (z->free_head[o][mt] != ZA_NIL)
				fail(ck, "node %d zone %s: empty zone has free blocks", z->nid,
				     za_zone_name(z->type));
	if (z->lazy_head != ZA_NIL || z->nr_lazy || z->nr_lazy_blocks)
		fail(ck, "node %d zone %s: empty zone has lazy blocks", z->nid,
		     za_zone_name(z->type));
}

/* A free block of order o heading a list of type mt: fully merged unless
 * isolation keeps it apart from its buddy. */
static void check_merged(struct ck *ck, uint32_t h, unsigned o, int mt)
{
	struct za *za = ck->za;

	if (o >= za->max_order)
		return;
	unsigned long b = h ^ (1ul << o);
	struct za_page *bp = pfn_page(za, b);
	if (pfn_online(za, b) && page_state(bp) == ZA_PS_BUDDY && bp->order == o) {
		bool apart = o >= za->pageblock_order && bp->mt != mt &&
		             (!mt_is_mergeable(mt) || !mt_is_mergeable(bp->mt));
		if (!apart)
			fail(ck,
			     "free blocks pfn 0x%x and 0x%lx of order "
			     "%u are buddies but not merged",
			     h, b, o);
	}
}

/* One buddy list, order o type mt: links, states, alignment, pageblock
 * type, merging, and the list's count (which includes the lazy blocks). */
static void check_free_list(struct ck *ck, struct za_zone *z, struct cover *cv,
                            unsigned o, int mt, struct tally *t)
{
	struct za *za = ck->za;
	unsigned long cnt = 0;
	uint32_t prev = ZA_NIL;

	for (uint32_t h = z->free_head[o][mt]; h != ZA_NIL;) {
		struct za_page *p;
		if (h >= za->max_pfn || !pfn_online(za, h)) {
			fail(ck,
			     "node %d zone %s: order %u list %d links to "
			     "pfn 0x%x which is not online",
			     z->nid, za_zone_name(z->type), o, mt, h);
			break;
		}
		if (pfn_lazy(za, h)) {
			fail(ck,
			     "node %d zone %s: order %u list %d links to "
			     "pfn 0x%x of a lazy block",
			     z->nid, za_zone_name(z->type), o, mt, h);
			break;
		}
		p = pfn_page(za, h);
		if (++cnt > cv->n + 1) {
			fail(ck, "node %d zone %s: order %u list %d loops", z->nid,
			     za_zone_name(z->type), o, mt);
			break;
		}
		if (page_zone(za, p) != z)
			fail(ck,
			     "pfn 0x%x on node %d zone %s's list belongs "
			     "to another zone",
			     h, z->nid, za_zone_name(z->type));
		if (page_state(p) != ZA_PS_BUDDY || p->order != o || p->mt != mt)
			fail(ck,
			     "pfn 0x%x on order %u list %d has state %d "
			     "order %u type %u",
			     h, o, mt, page_state(p), p->order, p->mt);
		if (p->prev != prev)
			fail(ck, "pfn 0x%x: back link 0x%x, expected 0x%x", h, p->prev,
			     prev);
		if (h & ((1u << o) - 1))
			fail(ck,
			     "free block pfn 0x%x is not aligned to its "
			     "order %u",
			     h, o);
		if (pageblock_mt(za, h) != mt)
			fail(ck,
			     "free block pfn 0x%x order %u on list %d but "
			     "its pageblock is type %d",
			     h, o, mt, pageblock_mt(za, h));
		cover_mark(ck, z, cv, h, 1ul << o, "free");
		check_merged(ck, h, o, mt);
		if (mt == ZA_MT_ISOLATE) {
			if (!t->iso || h < t->iso_pfn)
				t->iso_pfn = h;
			t->iso += 1ul << o;
		} else
			t->buddy += 1ul << o;
		prev = h;
		h = p->next;
	}
	/* The count includes the lazy blocks' lazy parts. */
	unsigned long lazy = o == za->max_order && mt == ZA_MT_MOVABLE
	                         ? z->nr_lazy_blocks
	                         : 0;
	if (cnt + lazy != z->nr_free[o][mt])
		fail(ck,
		     "node %d zone %s: order %u type %d counts %lu free "
		     "blocks, the list has %lu and lazy blocks %lu",
		     z->nid, za_zone_name(z->type), o, mt, z->nr_free[o][mt], cnt,
		     lazy);
}

/* Every buddy list of the zone. */
static void check_free_lists(struct ck *ck, struct za_zone *z,
                             struct cover *cv, struct tally *t)
{
	for (unsigned o = 0; o <= ck->za->max_order; o++)
		for (int mt = 0; mt < ZA_NR_MIGRATETYPES; mt++)
			check_free_list(ck, z, cv, o, mt, t);
}

/* CPU c's statistics deltas (vmstat.c), the set held. Each is within the
 * zone's threshold: an update that passes it folds at once, and a
 * threshold that drops folds every set. The bound on the global value's
 * drift, CPUs x threshold, rests on that per CPU: the sum of the deltas
 * alone misses a lost fold when deltas of opposite signs cancel, or
 * when one is beyond the threshold but the sum is not (and za_check's
 * own fold wipes the trace). An offline CPU's set holds none, nor any
 * allocated pages not folded: its offline folded them. */
static void check_page_set_deltas(struct ck *ck, struct za_zone *z,
                                  const struct za_pcp *pcp, unsigned c)
{
	struct za *za = ck->za;
	long t = za_load_relaxed(&z->stat_threshold);
	bool online = za_load_relaxed(&za->cpu_online[c]) != 0;

	for (int i = 0; i < ZA_NR_ZONE_STATS; i++) {
		long d = za_load_relaxed(&pcp->vm_diff[i]);
		if (d > t || d < -t || (!online && d))
			fail(ck,
			     "cpu %u node %d zone %s: %s delta %ld not folded (the "
			     "threshold is %ld%s)",
			     c, z->nid, za_zone_name(z->type), za_zone_stat_name(i), d, t,
			     online ? "" : ", and the CPU is offline");
	}
	long a = pcp_alloc_unfolded(pcp);
	if (!online && a)
		fail(ck,
		     "cpu %u node %d zone %s: the CPU is offline but its set has "
		     "%ld allocated pages not folded",
		     c, z->nid, za_zone_name(z->type), a);
}

/* CPU c's page set of the zone: links, states, owner, its counts and the
 * budget of the middle orders, its statistics deltas, empty when switched
 * off. */
static void check_page_set(struct ck *ck, struct za_zone *z, struct cover *cv,
                           unsigned c, struct tally *t)
{
	struct za *za = ck->za;
	struct za_pcp *pcp = zone_pcp(z, (int)c);
	unsigned long n = 0, mid = 0;

	for (int i = 0; i < ZA_NR_PCP_LISTS; i++) {
		unsigned o = pcp_list_order(za, i);
		bool is_mid = i >= ZA_PCP_MID_BASE && i < ZA_PCP_PB_BASE;
		unsigned long cnt = 0;
		for (uint32_t h = pcp->lists[i]; h != ZA_NIL;) {
			if (h >= za->max_pfn || !pfn_online(za, h) || pfn_lazy(za, h)) {
				fail(ck,
				     "cpu %u pcp list %d links to pfn 0x%x which "
				     "is not online or in a lazy block",
				     c, i, h);
				break;
			}
			struct za_page *p = pfn_page(za, h);
			if (++cnt > cv->n + 1) {
				fail(ck, "cpu %u pcp list %d loops", c, i);
				break;
			}
			if (page_zone(za, p) != z)
				fail(ck,
				     "pfn 0x%x on cpu %u's pcp list of node %d zone "
				     "%s belongs to another zone",
				     h, c, z->nid, za_zone_name(z->type));
			if (page_state(p) != ZA_PS_PCP || p->order != o)
				fail(ck,
				     "pfn 0x%x on cpu %u pcp list %d has state %d "
				     "order %u",
				     h, c, i, page_state(p), p->order);
			if (p->pcp_cpu != c)
				fail(ck,
				     "pfn 0x%x on cpu %u's pcp list says it is on "
				     "cpu %u's",
				     h, c, (unsigned)p->pcp_cpu);
			cover_mark(ck, z, cv, h, 1ul << o, "pcp");
			n += 1ul << o;
			if (is_mid)
				mid += 1ul << o;
			h = p->next;
		}
	}
	if ((long)n != pcp->count)
		fail(ck, "cpu %u node %d zone %s: pcp count %d, lists hold %lu", c,
		     z->nid, za_zone_name(z->type), pcp->count, n);
	if ((long)mid != pcp->mid_pages ||
	    mid > (unsigned long)pcp_mid_budget(za, pcp))
		fail(ck,
		     "cpu %u node %d zone %s: orders 4..8 count %d pages, "
		     "lists hold %lu (budget %d)",
		     c, z->nid, za_zone_name(z->type), pcp->mid_pages, mid,
		     pcp_mid_budget(za, pcp));
	check_page_set_deltas(ck, z, pcp, c);
	/* RESIZE may be set meanwhile by a recompute that does not
	 * hold the set: an atomic read. */
	unsigned flags = za_load_relaxed(&pcp->flags);
	if ((flags & ZA_PCP_OFF_MASK) && n)
		fail(ck,
		     "cpu %u node %d zone %s: pcp lists are off (flags %u) "
		     "but hold %lu pages",
		     c, z->nid, za_zone_name(z->type), flags, n);
	t->pcp += n;
}

/* The switches of the zone's page sets, in every zone, populated or not
 * (a CPU's offline and online flip its set of every zone): a set is
 * flagged CPU-offline exactly when its CPU is offline, and no set is
 * disabled for its zone - only a memory offline or a contiguous
 * allocation disables them, and it enables them again before it lets the
 * memory-hotplug lock go. The sets held. */
static void check_page_set_flags(struct ck *ck, struct za_zone *z)
{
	struct za *za = ck->za;
	unsigned disabled = za_load_relaxed(&z->pcp_disabled);

	if (disabled)
		fail(ck,
		     "node %d zone %s: its page sets are disabled (pcp_disabled "
		     "%u) at a quiescent point, with no memory offline or "
		     "contiguous allocation in progress to enable them again",
		     z->nid, za_zone_name(z->type), disabled);
	for (unsigned c = 0; c < za->nr_cpus; c++) {
		unsigned flags = za_load_relaxed(&zone_pcp(z, (int)c)->flags);
		bool online = za_load_relaxed(&za->cpu_online[c]) != 0;
		if (online == !!(flags & ZA_PCP_OFF_CPU))
			fail(ck,
			     "cpu %u node %d zone %s: the CPU is %s but its page set "
			     "is %s CPU-offline (flags %u)",
			     c, z->nid, za_zone_name(z->type),
			     online ? "online" : "offline",
			     online ? "flagged" : "not flagged", flags);
		if (!!(flags & ZA_PCP_OFF_ZONE) != !!disabled)
			fail(ck,
			     "cpu %u node %d zone %s: the page set is %s for the "
			     "zone (flags %u), the zone's pcp_disabled is %u",
			     c, z->nid, za_zone_name(z->type),
			     (flags & ZA_PCP_OFF_ZONE) ? "disabled" : "not disabled",
			     flags, disabled);
	}
}

/* Every CPU's page set of the zone, and the zone's dead set (struct za,
 * dead_pcp): what a CPU number of no set and a closed gate lead the
 * restartable leaves to, refused in their sequence by its flags. It must
 * stay off, unowned and empty: a block pushed there would be on no list
 * anyone else looks at. */
static void check_page_sets(struct ck *ck, struct za_zone *z, struct cover *cv,
                            struct tally *t)
{
	struct za *za = ck->za;
	for (unsigned c = 0; c < za->nr_cpus; c++)
		check_page_set(ck, z, cv, c, t);
	const struct za_pcp *dead = za_pcp_dead(za, z->id);
	unsigned flags = za_load_relaxed(&dead->flags);
	if ((flags & ZA_PCP_OFF_MASK) != ZA_PCP_OFF_MASK ||
	    za_load_relaxed(&dead->own.word) || za_load_relaxed(&dead->count))
		fail(ck,
		     "node %d zone %s: the dead set is not off and empty (flags "
		     "%u, ownership word %u, count %d)",
		     z->nid, za_zone_name(z->type), flags,
		     (unsigned)za_load_relaxed(&dead->own.word),
		     za_load_relaxed(&dead->count));
	for (int i = 0; i < ZA_NR_PCP_LISTS; i++)
		if (dead->lists[i] != ZA_NIL)
			fail(ck, "node %d zone %s: the dead set's list %d holds pfn 0x%x",
			     z->nid, za_zone_name(z->type), i, dead->lists[i]);
}

/* Only heads carry a state: a stale one inside the block [q, q+n) would
 * let a tail page pass for a block of its own. A contiguous range keeps
 * the OFFLINE marks its pieces had. */
static void check_block_tails(struct ck *ck, unsigned long q, unsigned long n,
                              unsigned long end, bool contig)
{
	struct za *za = ck->za;

	for (unsigned long k = 1; k < n && q + k < end; k++) {
		int ks = page_state(pfn_page(za, q + k));
		if (ks != ZA_PS_NONE && !(contig && ks == ZA_PS_OFFLINE)) {
			fail(ck,
			     "pfn 0x%lx inside the block at pfn 0x%lx has "
			     "state %d",
			     q + k, q, ks);
			break;
		}
	}
}

/* A contiguous range in use, [q, q+n): its pageblocks stay isolated
 * until it is freed, so that nothing else allocates from them. Counts
 * them for check_highatomic's census of isolated pageblocks. */
static void check_contig_isolated(struct ck *ck, unsigned long q,
                                  unsigned long n)
{
	struct za *za = ck->za;
	unsigned long pb = 1ul << za->pageblock_order;

	for (unsigned long p = q; p < q + n; p += pb) {
		if (pageblock_mt(za, p) != ZA_MT_ISOLATE) {
			fail(ck,
			     "contiguous range pfn 0x%lx+%lu in use: its pageblock "
			     "0x%lx is type %d, not isolated",
			     q, n, p, pageblock_mt(za, p));
			continue;
		}
		ck->contig_pb++;
	}
}

/* The block headed by online page q: checks its head, covers it if it is
 * allocated or taken out, and returns its size in pages (1 for a page
 * that heads nothing). */
static unsigned long check_block(struct ck *ck, struct za_zone *z,
                                 struct cover *cv, unsigned long q,
                                 struct tally *t)
{
	struct za *za = ck->za;
	unsigned long end = z->end_pfn;
	struct za_page *p = pfn_page(za, q);
	int st = page_state(p);
	unsigned long n = 1;
	bool contig = st == ZA_PS_ALLOC && p->order == ZA_CONTIG_ORDER;

	if (p->zone_id != z->id)
		fail(ck,
		     "pfn 0x%lx has zone id %u, its block is in zone "
		     "id %u",
		     q, p->zone_id, z->id);
	if (st == ZA_PS_ALLOC) {
		n = contig ? pfn_page(za, q + 1)->next : 1ul << p->order;
		unsigned long align = contig ? 1ul << za->max_order : n;
		if (q & (align - 1))
			fail(ck, "allocated block pfn 0x%lx is not aligned", q);
		if (q + n > end || !n) {
			fail(ck,
			     "allocated block pfn 0x%lx+%lu runs past the "
			     "zone",
			     q, n);
			n = 1;
		} else if (cover_mark(ck, z, cv, q, n, "allocated")) {
			t->alloc += n;
			if (contig)
				check_contig_isolated(ck, q, n);
		}
	} else if (st == ZA_PS_OFFLINE) {
		/* Only a contiguous range's pieces keep this mark at a
		 * quiescent point, and the range's walk steps over them. */
		if (cover_mark(ck, z, cv, q, 1, "taken")) {
			if (!t->taken)
				t->taken_pfn = q;
			t->taken++;
		}
	} else if (st == ZA_PS_FREEING) {
		fail(ck, "pfn 0x%lx is still being freed", q);
	} else if (st == ZA_PS_BUDDY || st == ZA_PS_PCP) {
		n = 1ul << p->order;
	}
	check_block_tails(ck, q, n, end, contig);
	return n;
}

/* Every online page: heads of allocated and taken blocks. One walk over
 * the zone's span, so that a contiguous range crossing a block boundary
 * is seen whole. */
static void check_page_walk(struct ck *ck, struct za_zone *z, struct cover *cv,
                            struct tally *t)
{
	struct za *za = ck->za;

	for (unsigned long q = z->start_pfn; q < z->end_pfn;) {
		if (!pfn_online(za, q) || pfn_section(za, q)->zone_id != z->id) {
			q = (q | (za->block_pages - 1)) + 1;
			continue;
		}
		if (pfn_lazy(za, q)) {
			/* A lazy part was checked whole (check_lazy): the
			 * walk goes on after it, in the block's initialised
			 * part, if it has one. */
			unsigned long blk = q & ~(za->block_pages - 1);
			unsigned long n = (unsigned long)pfn_section(za, q)->lazy_left
			                  << za->max_order;
			q = blk + (n < za->block_pages ? n : za->block_pages);
			continue;
		}
		q += check_block(ck, z, cv, q, t);
	}
}

/* No online page of the zone left uncovered by the walks above. */
static void check_coverage(struct ck *ck, struct za_zone *z,
                           const struct cover *cv)
{
	struct za *za = ck->za;

	for (unsigned long pfn = z->start_pfn; pfn < z->end_pfn;
	     pfn += za->block_pages) {
		unsigned long hole;
		if (!pfn_online(za, pfn) || pfn_section(za, pfn)->zone_id != z->id)
			continue;
		if (!cover_full(cv, pfn, za->block_pages, &hole)) {
			fail(ck,
			     "node %d zone %s: pfn 0x%lx is in no block: free, "
			     "per-CPU or allocated (lost page, state %d)",
			     z->nid, za_zone_name(z->type), hole,
			     page_state(pfn_page(za, hole)));
			break;
		}
	}
}

/* Conservation: managed = buddy + pcp + allocated. DESIGN.md's
 * "(+ pages isolated or being offlined)" is zero at a quiescent point:
 * za_check holds the memory-hotplug lock, so no memory offline or
 * contiguous allocation is half done, and each of them unisolates what it
 * did not take before it lets go. Pages isolated or taken out are each a
 * problem of their own. */
static void check_conservation(struct ck *ck, struct za_zone *z,
                               const struct tally *t)
{
	unsigned long managed = z->managed_pages;

	if (t->iso)
		fail(ck,
		     "node %d zone %s: %lu free pages on isolate lists (the "
		     "first at pfn 0x%lx) at a quiescent point: an isolation "
		     "left behind, the pages lost to allocation",
		     z->nid, za_zone_name(z->type), t->iso, t->iso_pfn);
	if (t->taken)
		fail(ck,
		     "node %d zone %s: %lu pages taken out (state OFFLINE, the "
		     "first at pfn 0x%lx) in online blocks, in no contiguous "
		     "range in use, at a quiescent point: lost",
		     z->nid, za_zone_name(z->type), t->taken, t->taken_pfn);
	if (managed != t->buddy + t->pcp + t->alloc)
		fail(ck,
		     "node %d zone %s: managed %lu != buddy %lu + pcp %lu + "
		     "allocated %lu (isolated %lu, taken out %lu)",
		     z->nid, za_zone_name(z->type), managed, t->buddy, t->pcp,
		     t->alloc, t->iso, t->taken);
}

/* The structure of one zone: its lazy blocks, buddy lists and page sets,
 * then every online page, each covered once, and the pages conserved.
 * Gives the free, isolated and allocated pages the lists hold, the truth
 * the counters are checked against; false when it could not look (no
 * memory for its bitmap): then there is no truth. */
static bool check_zone(struct ck *ck, struct za_zone *z, long *sum_free,
                       long *sum_iso, long *sum_alloc)
{
	struct za *za = ck->za;
	struct cover cv = { z->start_pfn, z->end_pfn - z->start_pfn, NULL };
	struct tally t = { 0, 0, 0, 0, 0, 0, 0 };

	*sum_free = *sum_iso = *sum_alloc = 0;
	if (!zone_populated(z)) {
		check_empty_zone(ck, z);
		return true;
	}
	cv.bits = za_meta_alloc(za, ((cv.n + 63) / 64 + 1) * sizeof(uint64_t),
	                        sizeof(uint64_t)); /* zeroed */
	if (!cv.bits) {
		cannot_look(ck, -ENOMEM, "out of memory checking node %d zone %s",
		            z->nid, za_zone_name(z->type));
		return false;
	}
	/* Lazy sections: free, on no list, metadata not written yet. */
	t.buddy += check_lazy(ck, z, &cv);
	check_free_lists(ck, z, &cv, &t);
	check_page_sets(ck, z, &cv, &t);
	check_page_walk(ck, z, &cv, &t);
	check_coverage(ck, z, &cv);
	check_conservation(ck, z, &t);
	*sum_free = (long)t.buddy;
	*sum_iso = (long)t.iso;
	*sum_alloc = (long)t.alloc;
	za_meta_free(za, cv.bits);
	return true;
}

/* The high-order atomic reserve: nr_reserved_highatomic counts the pages
 * of the zone's pageblocks of type HIGHATOMIC; every path that gives a
 * pageblock that type or takes it away moves the count with it. In the
 * same census, the isolated pageblocks: nr_isolate_pageblock counts
 * them, and at a quiescent point they are those of the contiguous ranges
 * in use (ck->contig_pb, from the walk) and no others. Zone lock held. */
static void check_highatomic(struct ck *ck, struct za_zone *z)
{
	struct za *za = ck->za;
	unsigned long pages = 0, iso = 0, pb = 1ul << za->pageblock_order;
	for (unsigned long pfn = z->start_pfn; pfn < z->end_pfn;
	     pfn += za->block_pages) {
		if (!pfn_online(za, pfn) || pfn_section(za, pfn)->zone_id != z->id)
			continue;
		for (unsigned long p = pfn; p < pfn + za->block_pages; p += pb) {
			int mt = pageblock_mt(za, p);
			if (mt == ZA_MT_HIGHATOMIC)
				pages += pb;
			else if (mt == ZA_MT_ISOLATE)
				iso++;
		}
	}
	if (iso != z->nr_isolate_pageblock)
		fail(ck,
		     "node %d zone %s: nr_isolate_pageblock is %lu, %lu of its "
		     "pageblocks are isolated",
		     z->nid, za_zone_name(z->type), z->nr_isolate_pageblock, iso);
	if (iso != ck->contig_pb)
		fail(ck,
		     "node %d zone %s: %lu pageblocks are isolated, the "
		     "contiguous ranges in use hold %lu: an isolation left "
		     "behind at a quiescent point",
		     z->nid, za_zone_name(z->type), iso, ck->contig_pb);
	if (pages != z->nr_reserved_highatomic)
		fail(ck,
		     "node %d zone %s: nr_reserved_highatomic is %lu, its "
		     "HIGHATOMIC pageblocks hold %lu pages",
		     z->nid, za_zone_name(z->type), z->nr_reserved_highatomic, pages);
}

/* Free page reporting's marks: only the heads of free blocks on this
 * zone's ordinary lists carry one (an allocation, or a merge with an
 * unreported block, clears it; no block is isolated at a quiescent
 * point). Sets
 * ck->reported to the pages they cover. Zone lock held. */
static void check_reported(struct ck *ck, struct za_zone *z)
{
	struct za *za = ck->za;
	ck->reported = 0;
	if (!za->reported_map || !zone_populated(z))
		return;
	for (unsigned long w = z->start_pfn / 64; w * 64 < z->end_pfn; w++) {
		uint64_t bits = za_load_relaxed(&za->reported_map[w]);
		while (bits) {
			unsigned long pfn = w * 64 + (unsigned)__builtin_ctzll(bits);
			bits &= bits - 1;
			if (pfn < z->start_pfn || pfn >= z->end_pfn ||
			    !pfn_online(za, pfn) || pfn_section(za, pfn)->zone_id != z->id)
				continue;
			struct za_page *p = pfn_page(za, pfn);
			if (page_state(p) != ZA_PS_BUDDY) {
				fail(ck,
				     "pfn 0x%lx is marked reported but is not a free "
				     "block (state %d)",
				     pfn, page_state(p));
				continue;
			}
			if (p->mt == ZA_MT_ISOLATE)
				fail(ck, "pfn 0x%lx is marked reported on an isolate list",
				     pfn);
			ck->reported += 1l << p->order;
		}
	}
}

static void check_counters(struct ck *ck, struct za_zone *z, long truth_free,
                           long truth_iso, long truth_alloc, bool folded)
{
	struct za *za = ck->za;
	long truth[ZA_NR_ZONE_STATS] = { 0 };
	truth[ZA_NR_FREE_PAGES] = truth_free;
	truth[ZA_NR_FREE_ISOLATED] = truth_iso;
	truth[ZA_NR_ZONE_ALLOCATED] = truth_alloc;
	truth[ZA_NR_FREE_REPORTED] = ck->reported;
	for (int i = 0; i < ZA_NR_ZONE_STATS; i++) {
		long g = zone_stat_global(z, i);
		long snap = zone_stat_snapshot(za, z, i);
		if (snap != truth[i])
			fail(ck, "node %d zone %s: %s snapshot %ld, the lists say %ld",
			     z->nid, za_zone_name(z->type), za_zone_stat_name(i), snap,
			     truth[i]);
		if (folded) {
			if (g != truth[i])
				fail(ck,
				     "node %d zone %s: %s after folding is %ld, the "
				     "lists say %ld",
				     z->nid, za_zone_name(z->type), za_zone_stat_name(i), g,
				     truth[i]);
		} else {
			long bound = 0;
			for (unsigned c = 0; c < za->nr_cpus; c++)
				bound += za_load_relaxed(&z->stat_threshold) + 1;
			if ((g > truth[i] ? g - truth[i] : truth[i] - g) > bound &&
			    i != ZA_NR_FREE_ISOLATED)
				fail(ck,
				     "node %d zone %s: %s drifted %ld from the truth, "
				     "beyond the thresholds' sum %ld",
				     z->nid, za_zone_name(z->type), za_zone_stat_name(i),
				     g - truth[i], bound);
		}
	}
}

/* The zones zonelist l of node n must hold, in order, made from scratch
 * by the rule of DESIGN.md ("Zonelist"): node n's populated zones from
 * the highest type down, then (list 0 only) each other node's the same
 * way, nearest first, ties to the lower node number. Returns how many. */
static unsigned expected_zonelist(struct za *za, unsigned n, int l,
                                  struct za_zone **want)
{
	unsigned cnt = 0;
	bool done[ZA_MAX_NODES] = { false };
	for (unsigned k = 0; k < (l ? 1 : za->nr_nodes); k++) {
		unsigned m = n;
		if (k) { /* the nearest node not listed yet */
			unsigned long best = ULONG_MAX;
			for (unsigned c = 0; c < za->nr_nodes; c++) {
				unsigned long d = za->node_distance[n * za->nr_nodes + c];
				if (!done[c] && d < best) {
					best = d;
					m = c;
				}
			}
		}
		done[m] = true;
		for (int t = ZA_NR_ZONES - 1; t >= 0; t--)
			if (zone_populated(&za->nodes[m].zones[t]))
				want[cnt++] = &za->nodes[m].zones[t];
	}
	return cnt;
}

/* "Normal of node 3", or "the list's end" for none: a zonelist entry
 * named for fail()'s one %s. */
static const char *zone_label(const struct za_zone *z, char buf[48])
{
	if (!z)
		return "the list's end";
	snprintf(buf, 48, "%s of node %d", za_zone_name(z->type), z->nid);
	return buf;
}

/* Every zonelist, entry by entry, against the one the rule gives. */
static void check_zonelists(struct ck *ck)
{
	struct za *za = ck->za;
	for (unsigned n = 0; n < za->nr_nodes; n++) {
		for (int l = 0; l < 2; l++) {
			struct za_zone *want[ZA_MAX_NODES * ZA_NR_ZONES + 1];
			unsigned cnt = expected_zonelist(za, n, l, want);
			struct za_zoneref *zl = za->nodes[n].zonelist[l];
			want[cnt] = NULL;
			for (unsigned i = 0; i <= cnt; i++) {
				if (zl[i].zone == want[i])
					continue;
				char got[48], exp[48];
				fail(ck,
				     "node %u zonelist %d: entry %u is %s, the rule "
				     "(this node's zones from the highest down, then "
				     "the other nodes by distance) gives %s",
				     n, l, i, zone_label(zl[i].zone, got),
				     zone_label(want[i], exp));
				break;
			}
		}
	}
}

/* The zone's size as its online blocks give it, recomputed from the
 * sections: present_pages their pages, [start_pfn, end_pfn) their exact
 * span (0, 0 with none). */
static void check_span(struct ck *ck, struct za_zone *z)
{
	struct za *za = ck->za;
	unsigned long lo = 0, hi = 0, pages = 0;
	for (unsigned long s = 0; s < za->nr_sections; s++) {
		const struct za_section *sec = &za->sections[s];
		if (!za_load_relaxed(&sec->online) || sec->zone_id != z->id)
			continue;
		unsigned long pfn = section_pfn(za, s);
		if (!pages)
			lo = pfn;
		hi = pfn + za->block_pages;
		pages += za->block_pages;
	}
	unsigned long present = za_load_relaxed(&z->present_pages);
	unsigned long start = za_load_relaxed(&z->start_pfn);
	unsigned long end = za_load_relaxed(&z->end_pfn);
	if (present != pages)
		fail(ck,
		     "node %d zone %s: present_pages is %lu, its online blocks "
		     "hold %lu pages",
		     z->nid, za_zone_name(z->type), present, pages);
	if (start != lo || end != hi)
		fail(ck,
		     "node %d zone %s: spans pfn 0x%lx-0x%lx, its online blocks "
		     "span 0x%lx-0x%lx",
		     z->nid, za_zone_name(z->type), start, end, lo, hi);
}

/* One zone, held still: every page set of the zone and the zone itself
 * (background work, the statistics worker's decay and kswapd's drains,
 * takes these locks too). Checks its structure, then its counters
 * before and after folding them. */
static void check_zone_held(struct ck *ck, struct za_zone *z)
{
	struct za *za = ck->za;
	unsigned held = 0;
	int err = 0;
	long f, i, a;

	while (held < za->nr_cpus &&
	       !(err = pcp_lock_nested(za, zone_pcp(z, (int)held), held)))
		held++;
	if (err) {
		cannot_look(ck, err,
		            "node %d zone %s: cannot stop CPU %u's page "
		            "set to look at it (fence: %d)",
		            z->nid, za_zone_name(z->type), held, err);
		while (held-- > 0)
			pcp_unlock_nested(za, zone_pcp(z, (int)held), held);
		return;
	}
	zone_lock(z, NULL);
	check_page_set_flags(ck, z);
	check_span(ck, z);
	ck->contig_pb = 0;
	if (check_zone(ck, z, &f, &i, &a)) {
		check_highatomic(ck, z);
		check_reported(ck, z);
		check_counters(ck, z, f, i, a, false);
		/* Fold this zone, then the counters must be exact. */
		for (unsigned c = 0; c < za->nr_cpus; c++)
			vmstat_fold_cpu_zone(za, z, (int)c);
		check_counters(ck, z, f, i, a, true);
	}
	zone_unlock(z);
	for (unsigned c = za->nr_cpus; c-- > 0;)
		pcp_unlock_nested(za, zone_pcp(z, (int)c), c);
}

int za_check_write(struct za *za, za_write_fn write, void *ctx)
{
	struct ck ck = { za, { write, ctx }, 0, 0, 0, 0 };
	if (!za)
		return -EINVAL;
	/* Inside a migrate callback the allocator is mid-offline: not a
	 * quiescent point, and the lock is this thread's. */
	if (mem_hotplug_held_by_me(za))
		return -EDEADLK;
	mem_hotplug_lock(za);
	/* Not cpu_hotplug_lock: at a quiescent point no CPU flips (the
	 * caller's promise, as for every other operation), and held here it
	 * would be held while a finished drain reports a cut to the error
	 * handler, which may flip a CPU itself. */
	/* A quiescent point: the drains a CPU offline left for owners that
	 * were preempted mid-operation can be finished, and must be before
	 * the offline CPUs' sets are seen empty. Every set is looked at: the
	 * worker may have taken za.pcp_deferred and not drained yet. */
	pcp_finish_deferred(za, true);
	/* Each zone under tunables_lock too: a threshold that drops (kswapd
	 * beginning reclaim, a tunable written under pressure) is stored
	 * before the fold of the deltas built up under the old one, and that
	 * fold waits for the page sets held here - the counters would be
	 * compared with the new threshold while the old deltas are still out
	 * (review 21, finding 2). */
	for_each_zone(za, z) {
		tunables_enter(za);
		check_zone_held(&ck, z);
		tunables_leave(za);
	}
	check_zonelists(&ck);
	mem_hotplug_unlock(za);
	if (ck.errors > 50)
		za_out_printf(&ck.out, "za_check: ... %d problems in all\n",
		              ck.errors);
	/* A broken invariant first; else what kept a part from being
	 * checked (a failed fence's error, -ENOMEM). */
	return ck.errors ? -EUCLEAN : ck.look_err;
}
