/*
 * offline.pml - a Promela model of zonealloc's memory-offline protocol
 * (DESIGN.md, "Memory hotplug"; seed 004) racing against frees and
 * allocations on other CPUs, for the spin model checker.
 *
 * What is modelled
 *  - A range of NPAGES pages in one pageblock of ZONE_MOVABLE, being taken
 *    offline. Pages outside the range are abstracted away: an allocation
 *    may always be served by "some other page", a refill or a drain may
 *    move "other pages" too; neither matters to the property.
 *  - NCPU per-CPU page sets (pcp), each with its own lock. Owners take it
 *    with a try-lock and fall back to the zone's buddy lists when it is
 *    busy (seed 001); the offliner's drain takes it for real.
 *  - The zone lock, which guards the buddy lists and the pageblock
 *    migratetype. Every zone-locked section is one atomic sequence below:
 *    all accesses to that state are made under the lock except the free
 *    path's lock-free read of the migratetype, which is a single word.
 *  - NCLIENT client threads, each doing at most OPS operations (alloc or
 *    free of a page it owns) on a CPU it picks anew each time (a thread may
 *    migrate between CPUs: the lock, not the CPU, protects a pcp). Clients
 *    and the initial placements use CPUs 0 and NCPU - 1; the offliner
 *    drains all NCPU.
 *  - The client's migrate callback: it moves an owned page's data out of
 *    the range (the allocator then frees the source itself), answers
 *    -ENOENT for a page the client is freeing, and refuses at most
 *    REFUSALS times in all ("refuse for now").
 *  - One offliner: isolate the pageblock, disable the zone's pcp lists,
 *    drain each CPU's pcp once, then loop { migrate in-use pages out;
 *    check that the range is all free and isolated }. No timeout: the model
 *    shows the loop ends without one.
 *
 * Variants (compile-time, spin -D...):
 *  (none)             the protocol of DESIGN.md; the free path checks
 *                     "pcp disabled" under the pcp lock.
 *  SEED004_BUG        the 2020 protocol: no pcp disable; isolate, drain,
 *                     loop checking. A free that read the migratetype
 *                     before isolation puts its page on a pcp list after
 *                     the drain, and offline never ends.
 *  PCP_CHECK_UNLOCKED the disable flag exists but the free path reads it
 *                     before taking the pcp lock: the same race returns.
 *  FLAG_PER_PCP       the protocol as src/pcp.c implements it: one flag per
 *                     pcp, set by the offliner in the same lock hold as
 *                     that pcp's drain (pcp_set_flag), cleared at the end
 *                     without the lock (an atomic and).
 *
 * Properties
 *  - assertions: after a CPU's pcp was drained, no page of the range is put
 *    on it again (checked at every put); a monitor checks the global form
 *    (drained => no range page on any pcp list) in every state; at the end
 *    every page of the range is offline. Run without the never claim
 *    (pan -DNOCLAIM) this also checks for invalid end states (deadlock).
 *  - ltl offline_terminates: <> done, checked for acceptance cycles under
 *    weak fairness (pan -a -f): offline always terminates.
 *
 * SPDX-License-Identifier: MIT
 */

#ifndef NPAGES
#define NPAGES 3
#endif
#ifndef NCPU
#define NCPU 2
#endif
#ifndef NCLIENT
#define NCLIENT 2
#endif
#ifndef OPS
#define OPS 2
#endif
#ifndef REFUSALS
#define REFUSALS 1
#endif

/* Page states. S_PCP + cpu and S_OWNED + client. */
#define S_BUDDY     0   /* free on the buddy lists */
#define S_PCP       1   /* on a pcp list: S_PCP .. S_PCP + NCPU - 1 */
#define S_OWNED     (S_PCP + NCPU) /* allocated to a client */
#define S_FREEING   (S_OWNED + NCLIENT) /* in the free path, owned by no one */
#define S_MIGRATING (S_FREEING + 1) /* data moved out; the allocator frees it */
#define S_OFFLINE   (S_MIGRATING + 1) /* taken out of the zone */

#define MT_MOVABLE 0
#define MT_ISOLATE 1

#define ON_PCP(p)    (st[p] >= S_PCP && st[p] < S_PCP + NCPU)
#define IS_OWNED(p)  (st[p] >= S_OWNED && st[p] < S_OWNED + NCLIENT)

byte st[NPAGES];          /* page states */
bit  mt = MT_MOVABLE;     /* the range's pageblock migratetype (zone lock) */
bit  pcp_lock[NCPU];      /* one lock per pcp */
#ifdef FLAG_PER_PCP
bit  pcp_off[NCPU];       /* this pcp takes no pages (its lock) */
#define PCP_OFF(c) pcp_off[c]
#else
bit  pcp_disabled;        /* the zone's pcp lists are off (offline) */
#define PCP_OFF(c) pcp_disabled
#endif
bit  drained_cpu[NCPU];   /* the offliner has drained this pcp (ghost) */
bit  drained;             /* every pcp drained once (ghost) */
bit  done;                /* offline finished (ghost) */
byte refusals = REFUSALS; /* migrate refusals the client may still make */
byte range_on_pcp;        /* pages of the range on pcp lists (ghost) */

ltl offline_terminates { <> done }

/* A range page goes on pcp c. The design's invariant says this never
 * happens once c has been drained for the offline. */
inline put_on_pcp(p, c)
{
	assert(!drained_cpu[c]);
	st[p] = S_PCP + c;
	range_on_pcp++
}

/* The zone-locked part of freeing to the buddy lists. */
inline free_one_page(p)
{
	d_step { /* zone lock */
		st[p] = S_BUDDY
	}
}

/* Give pcp c's range pages back to the buddy lists; the caller holds the
 * pcp lock. Used by the drain and by a flush above pcp high. */
inline pcp_flush_locked(c, q)
{
	d_step { /* zone lock */
		q = 0;
		do
		:: q < NPAGES ->
			if
			:: st[q] == S_PCP + c -> st[q] = S_BUDDY; range_on_pcp--
			:: else -> skip
			fi;
			q++
		:: else -> break
		od;
		q = 0
	}
}

/* The free path for page p, run on CPU c by a client. fmt and dis are the
 * caller's scratch; every scratch variable is back to 0 at the end (fewer
 * states, same behaviour). */
inline free_page(p, c, fmt, dis, q)
{
	fmt = mt; /* the pageblock's migratetype, read without a lock */
#ifdef PCP_CHECK_UNLOCKED
	dis = PCP_OFF(c); /* wrong: read before the pcp lock */
#endif
	if
	:: fmt == MT_ISOLATE -> free_one_page(p)
	:: else ->
		if
		:: atomic { pcp_lock[c] == 0 -> pcp_lock[c] = 1 } ->
			atomic { /* under the pcp lock: check, then put or not */
#if defined(SEED004_BUG)
				dis = 0;
#elif !defined(PCP_CHECK_UNLOCKED)
				dis = PCP_OFF(c);
#endif
				if
				:: dis -> pcp_lock[c] = 0
				:: else -> put_on_pcp(p, c)
				fi
			}
			if
			:: dis -> free_one_page(p)
			:: else ->
				if
				:: skip
				:: pcp_flush_locked(c, q) /* above high: batch back */
				fi;
				pcp_lock[c] = 0
			fi
		:: else -> free_one_page(p) /* try-lock failed: zone path */
		fi
	fi;
	d_step { fmt = 0; dis = 0 }
}

/* The allocation path on CPU c for client id. */
inline alloc_page(id, c, q, usebuddy)
{
	if
	:: atomic { pcp_lock[c] == 0 -> pcp_lock[c] = 1 } ->
		if
#if !defined(SEED004_BUG)
		:: PCP_OFF(c) -> usebuddy = 1 /* lists off: buddy lists */
#endif
		:: else ->
			/* refill from the buddy lists: only blocks not isolated */
			if
			:: skip
			:: atomic { /* zone lock */
				mt != MT_ISOLATE;
				q = 0;
				do
				:: q < NPAGES ->
					if
					:: st[q] == S_BUDDY -> put_on_pcp(q, c)
					:: true -> skip
					fi;
					q++
				:: else -> break
				od;
				q = 0
			   }
			fi;
			/* pop a range page from this list, or some other page
			 * (the list is ours while we hold its lock) */
			atomic {
				do
				:: q < NPAGES && st[q] == S_PCP + c ->
					st[q] = S_OWNED + id; range_on_pcp--; break
				:: q < NPAGES -> q++
				:: else -> break
				od;
				q = 0
			}
		fi;
		pcp_lock[c] = 0
	:: else -> usebuddy = 1 /* try-lock failed */
	fi;
	if
	:: usebuddy ->
		atomic { /* zone lock: a range page if its block is not isolated,
		          * or some other page */
			do
			:: q < NPAGES && st[q] == S_BUDDY && mt != MT_ISOLATE ->
				st[q] = S_OWNED + id; break
			:: q < NPAGES -> q++
			:: else -> break
			od;
			q = 0;
			usebuddy = 0
		}
	:: else -> skip
	fi
}

proctype client(byte id)
{
	byte n, p, c, q;
	bit fmt, dis, usebuddy;

	do
	:: n < OPS ->
		if /* the CPU it runs on now */
		:: c = 0
		:: c = NCPU - 1
		fi;
		if
		:: true -> alloc_page(id, c, q, usebuddy)
		:: true -> /* free one of its pages: the client serialises this against
		    * its migrate callback, so dropping ownership is one step */
			atomic {
				do
				:: p < NPAGES && st[p] == S_OWNED + id ->
					st[p] = S_FREEING; break
				:: p < NPAGES -> p++
				:: else -> break
				od
			}
			if
			:: p < NPAGES -> free_page(p, c, fmt, dis, q)
			:: else -> skip /* owns no range page */
			fi
		fi;
		d_step { n++; p = 0; c = 0 }
	:: else -> break
	od
}

/* One migration of page p, as the offliner does it: the client's callback
 * moves the data out (the client's reference now points outside the
 * range), refuses for now, or answers -ENOENT when the page is not (or no
 * longer) the client's; after a move the allocator frees the source, whose
 * pageblock it reads as isolated, so straight to the buddy lists. Nobody
 * else can touch a page between the callback and that free, so the two are
 * one step here. */
inline migrate(p)
{
	atomic {
		if
		:: IS_OWNED(p) ->
			if
			:: refusals > 0 -> refusals-- /* refused */
			:: st[p] = S_BUDDY /* moved; src freed to the buddy lists */
			fi
		:: else -> skip /* -ENOENT, or not in use */
		fi
	}
}

proctype offliner()
{
	byte p, c;
	bit ok;

	/* 1. isolate the range's pageblock */
	atomic { /* zone lock */
		mt = MT_ISOLATE
	}
#if !defined(SEED004_BUG) && !defined(FLAG_PER_PCP)
	/* 2. every free from now on goes to the buddy lists */
	pcp_disabled = 1;
#endif
	/* 3. drain every CPU's pcp once, taking each pcp lock */
	do
	:: c < NCPU ->
		atomic { pcp_lock[c] == 0 -> pcp_lock[c] = 1 };
#ifdef FLAG_PER_PCP
		pcp_off[c] = 1; /* the flag and the drain in one lock hold */
#endif
		pcp_flush_locked(c, p);
		atomic { drained_cpu[c] = 1; pcp_lock[c] = 0; c++ }
	:: else -> break
	od;
	drained = 1;
	/* 4. migrate in-use pages out; check all free and isolated; retry */
	do
	:: p = 0;
		do
		:: p < NPAGES -> migrate(p); p++
		:: else -> break
		od;
		atomic { /* zone lock: check, and take the range out */
			ok = (mt == MT_ISOLATE);
			p = 0;
			do
			:: p < NPAGES ->
				ok = ok && (st[p] == S_BUDDY);
				p++
			:: else -> break
			od;
			if
			:: ok ->
				p = 0;
				do
				:: p < NPAGES -> st[p] = S_OFFLINE; p++
				:: else -> break
				od
			:: else -> skip
			fi;
			p = 0
		}
		if
		:: ok -> break
		:: else -> skip /* retry */
		fi
	od;
	done = 1;
#ifdef FLAG_PER_PCP
	c = 0;
	do
	:: c < NCPU ->
		/* Cleared with an atomic and, without the pcp lock: an owner
		 * that still sees the flag only frees to the buddy once more. */
		atomic { pcp_off[c] = 0; c++ }
	:: else -> break
	od
#elif !defined(SEED004_BUG)
	pcp_disabled = 0
#endif
}

/* The invariant in its global form, checked in every reachable state:
 * once every pcp has been drained, no page of the range is on one. */
active proctype monitor()
{
end:	atomic { drained && range_on_pcp > 0 -> assert(false) }
}

init
{
	byte p;

	atomic {
		/* every placement of the range's pages to start from */
		p = 0;
		do
		:: p < NPAGES ->
			if
			:: st[p] = S_BUDDY
			:: st[p] = S_PCP; range_on_pcp++
			:: st[p] = S_PCP + NCPU - 1; range_on_pcp++
			:: st[p] = S_OWNED
			:: st[p] = S_OWNED + NCLIENT - 1
			fi;
			p++
		:: else -> break
		od;
		run offliner();
		p = 0;
		do
		:: p < NCLIENT -> run client(p); p++
		:: else -> break
		od
	}
	/* end state: everything ran to completion and the range is offline */
	_nr_pr == 2 -> /* init and the blocked monitor */
	p = 0;
	do
	:: p < NPAGES -> assert(st[p] == S_OFFLINE); p++
	:: else -> break
	od;
	assert(range_on_pcp == 0 && done)
}
