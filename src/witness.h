/*
 * witness.h - the lock-order witness of debug builds.
 *
 * Every lock has a rank (enum za_lock_rank, outermost first) and may
 * have a domain: the allocator it belongs to. A thread may take a lock
 * only when it holds none of the same or a higher rank in that domain (a
 * lock without a domain counts as in every domain); taking one out of
 * order aborts and names both locks. Locks of two allocators are not
 * ordered against each other: a callback of one may call into another. Client callbacks
 * must run with no pcp, zone or leaf lock held. The witness also answers
 * "does this thread hold that lock", which the lock-held assertions of
 * internal.h use.
 *
 * Portable code (witness.c): it needs a thread-local (ZA_THREAD_LOCAL from
 * platform.h) and the platform's message and abort, nothing else. Release
 * builds (ZA_DEBUG=0) compile every call here to nothing on the fast path.
 */
#ifndef ZA_WITNESS_H
#define ZA_WITNESS_H

#include <stdbool.h>

#ifndef ZA_DEBUG
#define ZA_DEBUG 0
#endif

/* Lock ranks, outermost first (DESIGN.md "Lock order"). */
enum za_lock_rank {
	ZA_RANK_NONE = 0,
	ZA_RANK_MEM_HOTPLUG = 1,
	ZA_RANK_CPU_HOTPLUG = 2,
	ZA_RANK_TUNABLES = 3, /* the recompute of watermarks and pcp sizes */
	ZA_RANK_DRAIN = 4,
	ZA_RANK_PCP = 5,
	ZA_RANK_ZONE = 6,
	ZA_RANK_LEAF = 7, /* short internal mutexes: shrinker list, kswapd wait */
	ZA_NR_RANKS
};

/* lock: the lock taken, recorded so that za_witness_holds can tell two
 * locks of one rank apart; NULL when the caller does not say. */
void _za_witness_acquire(enum za_lock_rank rank, const char *name,
                         const void *lock);
/* The same, for a lock of domain (NULL: none). */
void _za_witness_acquire_in(const void *domain, enum za_lock_rank rank,
                            const char *name, const void *lock);
void _za_witness_release(enum za_lock_rank rank);
void _za_witness_assert_callback(const char *what);
/* Whether this thread holds a lock of this rank. */
bool za_witness_held(enum za_lock_rank rank);
/* Whether this thread holds lock (of this rank). A lock of the rank taken
 * without saying which counts as this one. */
bool za_witness_holds(enum za_lock_rank rank, const void *lock);

/* Compiled to nothing unless ZA_DEBUG: the fast path pays no call. */
static inline void za_witness_acquire(enum za_lock_rank rank, const char *name)
{
	if (ZA_DEBUG)
		_za_witness_acquire(rank, name, (const void *)0);
}
static inline void za_witness_acquire_lock(enum za_lock_rank rank,
                                           const char *name, const void *lock)
{
	if (ZA_DEBUG)
		_za_witness_acquire(rank, name, lock);
}
static inline void za_witness_acquire_in(const void *domain,
                                         enum za_lock_rank rank,
                                         const char *name, const void *lock)
{
	if (ZA_DEBUG)
		_za_witness_acquire_in(domain, rank, name, lock);
}
static inline void za_witness_release(enum za_lock_rank rank)
{
	if (ZA_DEBUG)
		_za_witness_release(rank);
}
static inline void za_witness_assert_callback(const char *what)
{
	if (ZA_DEBUG)
		_za_witness_assert_callback(what);
}

#endif
