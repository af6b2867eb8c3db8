/*
 * witness.c - the lock-order witness of debug builds (witness.h).
 *
 * Each thread keeps the locks it holds, in the order taken: rank, lock
 * domain, name and address. Taking a lock whose rank is not above every
 * rank held in its domain aborts with both names. Portable: a thread-local
 * and the platform's error output, no libc.
 *
 * Domains: every allocator is one (its struct za). A client callback of
 * allocator A may call into allocator B, so a thread can hold A's
 * memory-hotplug lock and take B's: different locks, ordered by the
 * client, not by us. The order is checked only among locks of one
 * domain; a lock taken without a domain (NULL: the pcp and zone locks,
 * the leaf mutexes) is checked against every lock held, as before
 * domains. That loses nothing within an allocator: a callback runs with
 * no pcp, zone or leaf lock held (_za_witness_assert_callback), so the
 * domain-less locks a thread holds are always those of the allocator
 * whose code runs.
 */
#include <stddef.h>

#include "platform.h"
#include "witness.h"

/* Locks one thread may hold at once: ranks of one allocator, times a few
 * allocators nested through callbacks. Beyond, the extra locks are not
 * recorded and not checked (held_lost counts them). Builds without
 * ZA_DEBUG never call the witness (witness.h compiles the calls away) but
 * keep its symbols: one slot, so that every thread of a client does not
 * carry a kilobyte of thread-local storage for nothing. */
#if ZA_DEBUG
#define HELD_MAX 32
#else
#define HELD_MAX 1
#endif

struct held {
	unsigned char rank;
	const void *domain; /* NULL: unknown, matches every domain */
	const char *name;
	const void *lock;
};

static ZA_THREAD_LOCAL struct held held[HELD_MAX];
static ZA_THREAD_LOCAL unsigned held_n, held_lost;

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

static const char *name_of(const struct held *h)
{
	return h->name ? h->name : "?";
}

static bool same_domain(const void *a, const void *b)
{
	return !a || !b || a == b;
}

void _za_witness_acquire_in(const void *domain, enum za_lock_rank rank,
                            const char *name, const void *lock)
{
	if (rank == ZA_RANK_NONE)
		return;
	const struct held *worst = NULL;
	for (unsigned i = 0; i < held_n; i++)
		if (held[i].rank >= rank && same_domain(held[i].domain, domain) &&
		    (!worst || held[i].rank > worst->rank))
			worst = &held[i];
	if (worst) {
		put("zonealloc: lock order violation: taking ");
		put(name);
		put(" (rank ");
		put_rank((int)rank);
		put(") while holding ");
		put(name_of(worst));
		put(" (rank ");
		put_rank(worst->rank);
		put(")\n");
		za_os_abort();
	}
	if (held_n == HELD_MAX) {
		held_lost++;
		return;
	}
	held[held_n++] = (struct held){ (unsigned char)rank, domain, name, lock };
}

void _za_witness_acquire(enum za_lock_rank rank, const char *name,
                         const void *lock)
{
	_za_witness_acquire_in(NULL, rank, name, lock);
}

/* The latest lock of the rank taken: within a domain there is one per
 * rank, and the domains nest (a callback returns before its caller
 * unlocks), so it is the one released. When locks went unrecorded, the
 * latest taken is released first. */
void _za_witness_release(enum za_lock_rank rank)
{
	if (rank == ZA_RANK_NONE)
		return;
	if (held_lost) {
		held_lost--;
		return;
	}
	for (unsigned i = held_n; i-- > 0;) {
		if (held[i].rank != rank)
			continue;
		for (; i + 1 < held_n; i++)
			held[i] = held[i + 1];
		held_n--;
		return;
	}
}

bool za_witness_held(enum za_lock_rank rank)
{
	for (unsigned i = 0; i < held_n; i++)
		if (held[i].rank == rank)
			return true;
	return false;
}

bool za_witness_holds(enum za_lock_rank rank, const void *lock)
{
	for (unsigned i = 0; i < held_n; i++)
		if (held[i].rank == rank &&
		    (!held[i].lock || !lock || held[i].lock == lock))
			return true;
	return false;
}

void _za_witness_assert_callback(const char *what)
{
	const struct held *worst = NULL;
	for (unsigned i = 0; i < held_n; i++)
		if (held[i].rank >= ZA_RANK_PCP &&
		    (!worst || held[i].rank > worst->rank))
			worst = &held[i];
	if (worst) {
		put("zonealloc: calling client callback ");
		put(what);
		put(" while holding ");
		put(name_of(worst));
		put("\n");
		za_os_abort();
	}
}
