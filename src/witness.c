/*
 * witness.c - the lock-order witness of debug builds (witness.h).
 *
 * Each thread keeps a bit per rank it holds, with the name and address of
 * the lock it took at that rank. Taking a lock whose rank is not above
 * every rank held aborts with both names. Portable: a thread-local and the
 * platform's error output, no libc.
 */
#include <stddef.h>

#include "platform.h"

static ZA_THREAD_LOCAL unsigned held_ranks; /* bit per rank */
static ZA_THREAD_LOCAL const char *held_names[ZA_NR_RANKS];
static ZA_THREAD_LOCAL const void *held_locks[ZA_NR_RANKS];

static void put(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	za_os_error_write(s, n);
}

static void put_rank(int rank)
{
	char c[2] = { (char)('0' + rank % 10), 0 };
	put(c);
}

static const char *held_name(int rank)
{
	return held_names[rank] ? held_names[rank] : "?";
}

void _za_witness_acquire(enum za_lock_rank rank, const char *name,
                         const void *lock)
{
	if (rank == ZA_RANK_NONE)
		return;
	unsigned higher = held_ranks & ~((2u << rank) - 1);
	if (held_ranks & (1u << rank))
		higher |= 1u << rank;
	if (higher) {
		int h = 31 - __builtin_clz(higher);
		put("zonealloc: lock order violation: taking ");
		put(name);
		put(" (rank ");
		put_rank((int)rank);
		put(") while holding ");
		put(held_name(h));
		put(" (rank ");
		put_rank(h);
		put(")\n");
		za_os_abort();
	}
	held_ranks |= 1u << rank;
	held_names[rank] = name;
	held_locks[rank] = lock;
}

void _za_witness_release(enum za_lock_rank rank)
{
	if (rank == ZA_RANK_NONE)
		return;
	held_ranks &= ~(1u << rank);
	held_names[rank] = NULL;
	held_locks[rank] = NULL;
}

bool za_witness_held(enum za_lock_rank rank)
{
	return (held_ranks >> rank) & 1;
}

bool za_witness_holds(enum za_lock_rank rank, const void *lock)
{
	return za_witness_held(rank) &&
	       (!held_locks[rank] || !lock || held_locks[rank] == lock);
}

void _za_witness_assert_callback(const char *what)
{
	unsigned bad = held_ranks & ((1u << ZA_RANK_PCP) | (1u << ZA_RANK_ZONE) |
	                             (1u << ZA_RANK_LEAF));
	if (bad) {
		int h = 31 - __builtin_clz(bad);
		put("zonealloc: calling client callback ");
		put(what);
		put(" while holding ");
		put(held_name(h));
		put("\n");
		za_os_abort();
	}
}
