/*
 * cpuoff.pml - a Promela model of a CPU offline of restartable page sets
 * with bounded waits (src/pcp.c: pcp_cpu_off, pcp_lock, pcp_finish_deferred;
 * docs/ARCHITECTURE.md "Restartable"), for the spin model checker. It
 * builds on rseq.pml's stop + fence protocol (owners take their CPU's set
 * with a restartable sequence; a remote user takes the set's remote mutex,
 * stores stop, fences the CPU and waits for busy == 0) and adds what a CPU
 * offline does so that it never waits for a thread the scheduler may have
 * preempted:
 *
 *  - the offline tries the set's remote mutex, then (held) stops the set,
 *    fences and waits for busy == 0, then takes the zone lock and drains,
 *    each wait bounded: at any wait it may give up (the deadline passed -
 *    the model lets it give up whenever it would have to wait). If it
 *    finished, the set is switched off (flag off) and drained in the same
 *    hold; if it gave up, the set is switched off and marked deferred
 *    (flags off | deferred, with or without the mutex) and the global mark
 *    tells the statistics worker;
 *  - the worker takes the mark and, for a set marked deferred, takes it as
 *    every remote user does (pcp_lock: stop, fence, wait; a wait that lasts
 *    lets go of the mutex, waits for busy == 0 outside it and starts
 *    again), drains it if it is still marked, and clears the mark;
 *  - the online clears off | deferred with no hold;
 *  - a drainer (a drain of every CPU, pcp_lock too) runs beside them.
 * CPU 1 goes offline, online and offline again; owners run on either CPU.
 *
 * Abstracted as in rseq.pml (pages are events: "filled" says the set has
 * a page a drain has not taken since; a failed check, a fence or a
 * preemption aborts a sequence; sequential consistency).
 *
 * Variants (spin -D...):
 *  (none)            the protocol above.
 *  DEFER_NO_MARK     an offline that gives up switches the set off
 *                    without the deferred mark: an owner that took the set
 *                    before the flag puts a page on it, and nobody drains
 *                    it (mutant deferred-drain-never-finished's kind).
 *  WORKER_NO_WAIT    the worker drains a deferred set without waiting for
 *                    its owner: both work on the set.
 *  WORKER_NO_DRAIN   the worker clears the mark without draining.
 *
 * Properties
 *  - assertions: an owner's work and a remote user's never overlap on a
 *    set (a ghost count of users, checked at every entry); with bounded
 *    owners, once every thread has ended, CPU 1 (offline at the end) has
 *    no page on its set and no mark left (checked by init), and no thread
 *    is stuck (pan's invalid end states).
 *
 * SPDX-License-Identifier: MIT
 */

#define NCPU 2
#ifndef NOWNER
#define NOWNER 2
#endif
#ifndef OPS
#define OPS 0 /* operations per owner; 0: forever */
#endif
#define OFFCPU 1

byte busy[NCPU];    /* the owner holds the set (owners write it) */
byte stop[NCPU];    /* a remote user stops the set */
bit  rmutex[NCPU];  /* the remote users' mutex of the set */
bit  off[NCPU];     /* flag: the set's CPU is offline, it takes no page */
bit  deferred[NCPU];/* flag: its drain is left to the worker */
bit  gmark;         /* za->pcp_deferred: the worker has work */
bit  zlock;         /* the zone lock */
byte seqthr[NCPU];  /* thread id + 1 of the sequence in flight on CPU k */
bit  abrt[NOWNER];  /* the kernel aborted this thread's sequence */
byte users[NCPU];   /* ghost: threads working on the set now */
bit  filled[NCPU];  /* ghost: a page was put on the set since its drain */
bit  offdone;       /* ghost: the offliner finished */

inline fence(k)
{
	atomic {
		if
		:: seqthr[k] != 0 -> abrt[seqthr[k] - 1] = 1
		:: else -> skip
		fi
	}
}

inline enter(c)
{
	assert(users[c] == 0);
	users[c]++
}

proctype owner(byte me)
{
	byte c, cur;
	bit ok;
#if OPS > 0
	byte n;
#endif

	do
	:: atomic { ok -> users[c]--; busy[c] = 0; c = 0; ok = 0 }
#if OPS > 0
	:: atomic { !ok && n == OPS -> break }
	:: !ok && n < OPS ->
#else
	:: !ok ->
#endif
		atomic {
			if
			:: c = 0
			:: c = NCPU - 1
			fi;
			if
			:: cur = 0
			:: cur = NCPU - 1
			fi;
			if
			:: seqthr[cur] != 0 -> abrt[seqthr[cur] - 1] = 1
			:: else -> skip
			fi;
			seqthr[cur] = me + 1;
			abrt[me] = 0;
			ok = cur == c && stop[c] == 0 && busy[c] == 0
		}
		atomic {
			if
			:: ok && !abrt[me] -> busy[c] = 1
			:: true -> ok = 0
			fi;
			if
			:: seqthr[cur] == me + 1 -> seqthr[cur] = 0
			:: else -> skip
			fi;
			abrt[me] = 0;
			cur = 0;
			if
			:: ok ->
				enter(c);
				/* the flags, read with the set owned: a set
				 * switched off takes no page */
				if
				:: off[c] -> skip
				:: else -> filled[c] = 1
				fi
			:: else -> c = 0
			fi;
#if OPS > 0
			n++
#endif
		}
	od
}

/* pcp_lock: take the mutex, stop, fence, wait for the owner; an owner
 * that holds on is waited for with the mutex let go, then again. */
inline pcp_lock(c)
{
	do
	:: atomic { rmutex[c] == 0 -> rmutex[c] = 1; stop[c] = 1 };
		fence(c);
		if
		:: busy[c] == 0 -> atomic { enter(c) }; break
		:: busy[c] != 0 -> /* past the deadline: wait outside */
			atomic { stop[c] = 0; rmutex[c] = 0 };
			busy[c] == 0
		fi
	od
}

inline pcp_unlock(c)
{
	atomic { users[c]--; stop[c] = 0; rmutex[c] = 0 }
}

inline drain(c)
{
	atomic { zlock == 0 -> zlock = 1 };
	filled[c] = 0;
	zlock = 0
}

proctype drainer()
{
	byte c;
	do
	:: c < NCPU -> pcp_lock(c); drain(c); pcp_unlock(c); c++
	:: else -> break
	od
}

/* pcp_cpu_off for CPU OFFCPU, with its bounded waits. */
inline cpu_off()
{
	held = 0;
	done = 0;
	/* the remote mutex, until the deadline */
	atomic {
		if
		:: rmutex[OFFCPU] == 0 -> rmutex[OFFCPU] = 1; stop[OFFCPU] = 1;
			held = 1
		:: rmutex[OFFCPU] != 0 -> skip /* gave up */
		fi
	}
	if
	:: held ->
		fence(OFFCPU);
		if
		:: busy[OFFCPU] == 0 ->
			atomic { enter(OFFCPU); off[OFFCPU] = 1 };
			/* the zone lock, until the deadline */
			atomic {
				if
				:: zlock == 0 -> zlock = 1; done = 1
				:: zlock != 0 -> skip /* gave up */
				fi
			}
			if
			:: done -> filled[OFFCPU] = 0; zlock = 0
			:: else -> skip
			fi;
			atomic { users[OFFCPU]-- }
		:: busy[OFFCPU] != 0 -> skip /* gave up */
		fi
	:: else -> skip
	fi;
	if
	:: !done ->
#ifdef DEFER_NO_MARK
		off[OFFCPU] = 1;
#else
		atomic { off[OFFCPU] = 1; deferred[OFFCPU] = 1 };
		gmark = 1;
#endif
	:: else -> skip
	fi;
	if
	:: held -> atomic { stop[OFFCPU] = 0; rmutex[OFFCPU] = 0 }
	:: else -> skip
	fi
}

proctype offliner()
{
	bit held, done;
	cpu_off();
	/* online: the flags cleared, no hold */
	atomic { off[OFFCPU] = 0; deferred[OFFCPU] = 0 };
	cpu_off();
	offdone = 1
}

/* The statistics worker: pcp_finish_deferred when marked. */
proctype worker()
{
	do
	:: atomic { gmark -> gmark = 0 };
		if
		:: deferred[OFFCPU] ->
#ifdef WORKER_NO_WAIT
			atomic { rmutex[OFFCPU] == 0 -> rmutex[OFFCPU] = 1;
			         stop[OFFCPU] = 1; enter(OFFCPU) };
#else
			pcp_lock(OFFCPU);
#endif
			if
			:: deferred[OFFCPU] ->
#ifndef WORKER_NO_DRAIN
				drain(OFFCPU);
#endif
				deferred[OFFCPU] = 0
			:: else -> skip
			fi;
			pcp_unlock(OFFCPU)
		:: else -> skip
		fi
	:: atomic { offdone && !gmark -> break }
	od
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
		run offliner();
		run worker()
	}
	_nr_pr == 1;
	/* everything ended: CPU 1 is offline, its set empty and unmarked */
	assert(off[OFFCPU] && !filled[OFFCPU] && !deferred[OFFCPU]);
	i = 0;
	do
	:: i < NCPU ->
		assert(busy[i] == 0 && stop[i] == 0 && rmutex[i] == 0);
		assert(users[i] == 0 && seqthr[i] == 0);
		i++
	:: else -> break
	od
}
