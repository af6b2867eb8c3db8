/*
 * rseq.pml - a Promela model of zonealloc's restartable page sets
 * (DESIGN.md, "Rules of concurrency", restartable mode): owners acquire
 * their CPU's page set with a restartable sequence, everyone else stops the
 * set, fences the CPU with membarrier and waits for the owner, for the spin
 * model checker.
 *
 * What is modelled
 *  - NCPU (2) CPUs, each with one page set (pcp). A set has a 16-bit word
 *    of two bytes: busy (written by owners only) and stop (written by
 *    remote users only), a disable flag for memory offline (pcp_off,
 *    written by whoever owns the set) and a mutex shared by remote users
 *    only.
 *  - NOWNER (2; -DNOWNER=3 takes minutes) owner threads, each doing
 *    forever (or OPS times): read the CPU it runs on (rseq's cpu_id), then
 *    the restartable sequence, on the CPU it runs on then: check that it
 *    is the CPU it read, that stop == 0 and busy == 0,
 *    and commit with the single store busy = 1. On success it works on
 *    the set (plain loads and stores: if the set is not disabled, put a
 *    page on it), then releases it with the store busy = 0; on a failed
 *    check or an abort it leaves the set alone (the buddy slow path).
 *    A thread may migrate to another CPU at any point outside a sequence,
 *    while it holds a set too.
 *  - The kernel's side of rseq. A sequence in flight on CPU k is aborted
 *    (its commit does not happen) when another thread starts a sequence on
 *    k (it preempted the first), when a membarrier fence targets k, and at
 *    any time for a signal, a preemption or a migration (a nondeterministic
 *    abort at the commit step: the loads before it have no effect). A
 *    migration inside a sequence is thus an abort followed by a migration
 *    outside it. The commit store and the abort are atomic with respect to
 *    each other: the kernel aborts only a sequence whose commit has not
 *    executed.
 *  - Two remote users, each taking the set's remote mutex, storing stop = 1,
 *    fencing the set's CPU (membarrier PRIVATE_EXPEDITED_RSEQ with
 *    FLAG_CPU: it aborts the sequence in flight there, if any, and returns),
 *    waiting (spinning) until busy == 0, working on the set, storing stop =
 *    0 and dropping the mutex:
 *      drainer:  drains every CPU's set once (a remote drain, CPU
 *                offline's drain, a statistics fold, a decay, a census:
 *                all the same protocol);
 *      offliner: memory offline: on every CPU, disables the set (pcp_off =
 *                1) and drains it, in one ownership; later re-enables every
 *                set the same way (pcp_off = 0), as an offline ends.
 *
 * What is abstracted
 *  - Pages: a put is an event; the model checks when it may happen, not
 *    what lists hold (tests/model/offline.pml models the pages of an
 *    offline range, under the locked mode's rules).
 *  - Memory ordering: the model is sequentially consistent, except with
 *    -DTSO: then an owner's commit store busy = 1 may wait in its CPU's
 *    store buffer (x86-TSO), drained by the CPU at any time, by a context
 *    switch on that CPU, and by a fence on it (the fence is a full memory
 *    barrier on the target CPU). The release stores of busy = 0 and
 *    stop = 0 and the acquire loads are not modelled beyond that.
 *  - The owner's check reads stop and busy in two steps; the real sequence
 *    may load the 16-bit word at once, which is one of the interleavings.
 *  - Where a remote user runs does not matter: the fence aborts the
 *    sequence in flight on the set's CPU whatever CPU it is issued from.
 *
 * Variants (compile-time, spin -D...):
 *  (none)          the protocol above.
 *  NO_FENCE        the remote user does not fence: an owner that checked
 *                  stop == 0 just before the store stop = 1 commits after
 *                  the remote saw busy == 0: both work on the set.
 *  STOP_OUTSIDE    the owner reads stop before the sequence starts (the
 *                  sequence only checks busy and commits): the fence finds
 *                  no sequence to abort, the same overlap follows.
 *  NO_WAIT         the remote user does not wait for busy == 0: it works
 *                  on the set while an owner still does.
 *  NO_CPU_CHECK    the sequence does not check that it runs on the CPU
 *                  whose set it works on: a thread that migrated after
 *                  reading cpu_id acquires another CPU's set from a CPU the
 *                  fence does not target (and against that CPU's owners).
 *  OFF_OUTSIDE     the owner reads the disable flag before the sequence:
 *                  it puts a page on a set that memory offline has
 *                  disabled and drained (seed 004's race).
 *  NO_STOP         the remote user never stores stop: besides the overlap,
 *                  owners that keep acquiring the set starve it (the
 *                  liveness run finds the cycle with assertions off).
 *  TSO             (not a bug) the owner's commit store goes through a
 *                  store buffer, as above: still proved.
 *  TSO + FENCE_NO_BARRIER  the fence aborts sequences but is no memory
 *                  barrier: a commit still in the store buffer when the
 *                  fence returns lets the remote user read busy == 0.
 *  SPLIT_LOAD      (not a bug) the sequence loads stop and busy in two
 *                  steps: still proved.
 *
 * Properties
 *  - assertions: an owner's work and a remote user's work on one set never
 *    overlap (a ghost count of users per set, checked at every entry);
 *    after memory offline disabled and drained a set, no page is put on it
 *    until it re-enables the set; with bounded owners (-DOPS=n) every
 *    thread ends and leaves every set idle (checked by init, and pan's
 *    invalid end states: no deadlock).
 *  - ltl remotes_finish: <> (both remote users are done), for acceptance
 *    cycles under weak fairness (pan -a -f): no remote user waits forever,
 *    for the mutex or for busy == 0, even while owners run forever.
 *
 * SPDX-License-Identifier: MIT
 */

#ifndef NCPU
#define NCPU 2
#endif
#ifndef NOWNER
#define NOWNER 2
#endif
#ifndef OPS
#define OPS 0 /* operations per owner; 0: forever */
#endif
#define NREMOTE 2

byte busy[NCPU];    /* the owner holds the set (owners write it) */
byte stop[NCPU];    /* a remote user stops the set (remote users write it) */
bit  rmutex[NCPU];  /* the remote users' mutex of the set */
bit  pcp_off[NCPU]; /* the set takes no pages (memory offline) */
byte seqthr[NCPU];  /* thread id + 1 of the sequence in flight on CPU k */
bit  abrt[NOWNER];  /* the kernel aborted this thread's sequence */
byte users[NCPU];   /* ghost: threads working on the set now */
bit  drained[NCPU]; /* ghost: offline disabled and drained the set */
byte rdone;         /* ghost: remote users that finished */
#ifdef TSO
/* Each owner's store buffer, one slot: its commit store busy = 1 waits
 * there until the CPU drains it (any time), a context switch on that CPU
 * (another thread's sequence starts there) or a fence on it drains it. */
bit  sb[NOWNER];    /* the commit store is still buffered */
byte sbset[NOWNER]; /* ... for this set */
byte sbcpu[NOWNER]; /* ... on this CPU */
byte ft;            /* scratch of drain_cpu */

/* Drain the store buffers of CPU k. */
inline drain_cpu(k)
{
	ft = 0;
	do
	:: ft < NOWNER ->
		if
		:: sb[ft] && sbcpu[ft] == k ->
			busy[sbset[ft]] = 1;
			sb[ft] = 0; sbset[ft] = 0; sbcpu[ft] = 0
		:: else -> skip
		fi;
		ft++
	:: else -> break
	od;
	ft = 0
}
#endif

ltl remotes_finish { <> (rdone == NREMOTE) }

/* The fence: membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ,
 * MEMBARRIER_CMD_FLAG_CPU, k) aborts the sequence in flight on CPU k. */
inline fence(k)
{
	atomic {
		if
		:: seqthr[k] != 0 -> abrt[seqthr[k] - 1] = 1
		:: else -> skip
		fi;
#if defined(TSO) && !defined(FENCE_NO_BARRIER)
		drain_cpu(k) /* a full memory barrier on k */
#endif
	}
}

/* Someone starts working on set c: nobody else may be working on it. */
inline enter(c)
{
	assert(users[c] == 0);
	users[c]++
}

proctype owner(byte me)
{
	byte c;   /* the set it goes for: the cpu_id it read */
	byte cur; /* the CPU it runs its sequence on */
	bit ok, off;
#if OPS > 0
	byte n;
#endif

	do
#ifdef TSO
	:: atomic { sb[me] -> /* the CPU drains the buffered commit store */
		busy[sbset[me]] = 1; sb[me] = 0; sbset[me] = 0; sbcpu[me] = 0
	   }
	:: atomic { ok -> /* FIFO: a buffered busy = 1 before this busy = 0 */
		sb[me] = 0; sbset[me] = 0; sbcpu[me] = 0;
		users[c]--; busy[c] = 0; /* release */
#else
	:: atomic { ok -> users[c]--; busy[c] = 0; /* release */
#endif
		c = 0; ok = 0; off = 0
	   }
#if OPS > 0
	:: atomic { !ok && n == OPS -> break }
	:: !ok && n < OPS ->
#else
	:: !ok ->
#endif
#if defined(STOP_OUTSIDE) || defined(OFF_OUTSIDE)
		atomic { /* read cpu_id: the set to use */
			if
			:: c = 0
			:: c = NCPU - 1
			fi;
#ifdef STOP_OUTSIDE
			ok = stop[c] == 0; /* wrong: read outside the sequence */
#else
			ok = 1;
#endif
#ifdef OFF_OUTSIDE
			off = pcp_off[c]; /* wrong: read before owning the set */
#endif
		}
#endif
		/* The restartable sequence starts on the CPU the thread runs
		 * on now, where it may have migrated since it read cpu_id (c);
		 * no migration inside it: that is an abort. Reading cpu_id
		 * touches nothing shared, so it is part of this step. */
		atomic {
#if !defined(STOP_OUTSIDE) && !defined(OFF_OUTSIDE)
			if
			:: c = 0
			:: c = NCPU - 1
			fi;
			ok = 1;
#endif
			if
			:: cur = 0
			:: cur = NCPU - 1
			fi;
			/* starting it on cur preempted any sequence there */
			if
			:: seqthr[cur] != 0 -> abrt[seqthr[cur] - 1] = 1
			:: else -> skip
			fi;
			seqthr[cur] = me + 1;
#ifdef TSO
			drain_cpu(cur); /* the context switch is a barrier */
#endif
			abrt[me] = 0;
#ifndef NO_CPU_CHECK
			ok = ok && cur == c;
#endif
#ifdef SPLIT_LOAD
		}
		atomic {
#endif
			/* load the set's word: stop and busy */
#ifndef STOP_OUTSIDE
			ok = ok && stop[c] == 0;
#endif
#ifdef SPLIT_LOAD
		}
		atomic {
#endif
			ok = ok && busy[c] == 0
		}
		atomic {
			/* the commit, or the abort handler */
			if
			:: ok && !abrt[me] ->
#ifdef TSO
				sb[me] = 1; sbset[me] = c; sbcpu[me] = cur
#else
				busy[c] = 1
#endif
			:: true -> ok = 0 /* failed check, fence, preemption, signal */
			fi;
			if
			:: seqthr[cur] == me + 1 -> seqthr[cur] = 0
			:: else -> skip
			fi;
			abrt[me] = 0;
			cur = 0;
			if
			:: ok ->
				/* owner of set c, running anywhere (a migration
				 * while it holds the set changes nothing here):
				 * plain loads and stores; if the set is not
				 * disabled, a page goes on it */
				enter(c);
#ifndef OFF_OUTSIDE
				off = pcp_off[c];
#endif
				if
				:: off -> skip /* disabled: to the buddy lists */
				:: else -> assert(!drained[c])
				fi
			:: else -> c = 0; off = 0 /* the slow path: the buddy lists */
			fi;
#if OPS > 0
			n++
#endif
		}
	od
}

/* Take set c for a remote user: stop, fence, wait for the owner. */
inline stop_set(c)
{
	/* owners never look at the mutex: taking it and storing stop are
	 * one step for them */
	atomic {
		rmutex[c] == 0 -> rmutex[c] = 1;
#ifndef NO_STOP
		stop[c] = 1
#endif
	}
#ifndef NO_FENCE
	fence(c);
#endif
#ifndef NO_WAIT
	do
	:: busy[c] == 0 -> break
	:: else -> skip /* spin */
	od;
#endif
	atomic { enter(c) }
}

/* Give set c back to its owners. */
inline restart_set(c)
{
	atomic { users[c]--; stop[c] = 0; rmutex[c] = 0 } /* stop: release */
}

proctype drainer()
{
	byte c;

	do
	:: c < NCPU ->
		stop_set(c);
		/* drain: the set's pages go back to the buddy lists */
		restart_set(c);
		c++
	:: else -> break
	od;
	rdone++
}

proctype offliner()
{
	byte c;

	/* disable and drain every set, once */
	do
	:: c < NCPU ->
		stop_set(c);
		atomic { pcp_off[c] = 1; drained[c] = 1 } /* disable, drain */
		restart_set(c);
		c++
	:: else -> break
	od;
	/* (isolate, migrate, check, take the range out: offline.pml) */
	c = 0;
	/* re-enable every set */
	do
	:: c < NCPU ->
		stop_set(c);
		atomic { pcp_off[c] = 0; drained[c] = 0 }
		restart_set(c);
		c++
	:: else -> break
	od;
	rdone++
}

init
{
	byte i;

	atomic {
		i = 0;
		do
		:: i < NOWNER -> run owner(i); i++
		:: else -> break
		od;
		run drainer();
		run offliner()
	}
	/* with bounded owners: everything ends, and every set is idle */
	_nr_pr == 1;
	i = 0;
	do
	:: i < NCPU ->
		assert(busy[i] == 0 && stop[i] == 0 && rmutex[i] == 0);
		assert(users[i] == 0 && seqthr[i] == 0 && !pcp_off[i]);
		i++
	:: else -> break
	od;
	assert(rdone == NREMOTE)
}
