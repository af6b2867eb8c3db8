/*
 * platform.h - the thin layer between the allocator core and the OS.
 *
 * Everything the core needs from its environment is here: spin locks and
 * sleeping mutexes, threads and condition variables for the background
 * workers, a monotonic clock, reserving and committing address space for
 * page metadata, metadata allocation, the current CPU, and optional NUMA
 * binding, the error output. One implementation per OS lives in
 * src/platform/ (unix.c). A freestanding embedder replaces that file:
 * tests/freestanding/platform_stub.c is the smallest that compiles
 * (docs/ARCHITECTURE.md, "Embedding").
 */
#ifndef ZA_PLATFORM_H
#define ZA_PLATFORM_H

#include "namespace.h" /* first: the private names */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "atomic.h"
#include "witness.h"

/* Thread-local storage for the core (the witness's held locks, the
 * reclaim and error-handler recursion guards, the debug yield's random
 * state). An embedder without _Thread_local defines it to what it has. */
#ifndef ZA_THREAD_LOCAL
#define ZA_THREAD_LOCAL _Thread_local
#endif

/* --- spin locks (pcp, zone) ------------------------------------------- */
/* v: 0 free; odd: held, and v >> 1 is the ticket of the waiter (in
 * za_spin_lock_slow) that gets it next, 0 for none; even and non-zero:
 * free but handed to the waiter with ticket v >> 1. A try-lock only takes
 * a 0, so it cannot barge in ahead of a waiter, and waiters are served
 * oldest ticket first: a waiter cannot starve behind threads that unlock
 * and relock in a loop (a CPU flip behind allocating owners,
 * docs/RELIABILITY.md). */
typedef struct {
	int v;
} za_spinlock_t;

void za_spin_lock_slow(za_spinlock_t *l);

static inline bool za_spin_trylock_raw(za_spinlock_t *l)
{
	/* A compare-and-swap, not an exchange: writing 1 over a lock just
	 * handed to a waiter would leave it held by nobody. */
	int free = 0;
	return za_load_relaxed(&l->v) == 0 &&
	       __atomic_compare_exchange_n(&l->v, &free, 1, 0, __ATOMIC_ACQUIRE,
	                                   __ATOMIC_RELAXED);
}
static inline void za_spin_lock_raw(za_spinlock_t *l)
{
	if (unlikely(!za_spin_trylock_raw(l)))
		za_spin_lock_slow(l);
}
static inline void za_spin_unlock_raw(za_spinlock_t *l)
{
	/* A waiter flag set after this load is lost (the waiter sets it
	 * again while it spins): never a lost wake-up, only a lost turn. */
	int v = za_load_relaxed(&l->v);
	if (likely(v == 1))
		za_store_release(&l->v, 0);
	else
		za_store_release(&l->v, v & ~1);
}
static inline bool za_spin_is_locked(za_spinlock_t *l)
{
	return za_load_relaxed(&l->v) != 0;
}

/* --- sleeping locks, threads -------------------------------------------- */
typedef struct za_mutex {
	void *impl; /* pthread_mutex_t, allocated by za_mutex_init */
	enum za_lock_rank rank;
	const char *name;
	/* The witness's lock domain: the allocator, set by its owner after
	 * za_mutex_init (which sets none) - za_mutex_set_domain. */
	const void *domain;
} za_mutex_t;
typedef struct za_cond {
	void *impl;
} za_cond_t;
typedef struct za_thread {
	void *impl;
} za_thread_t;

int za_mutex_init(za_mutex_t *m, enum za_lock_rank rank, const char *name);
void za_mutex_destroy(za_mutex_t *m);
void za_mutex_lock(za_mutex_t *m);
bool za_mutex_trylock(za_mutex_t *m);
void za_mutex_unlock(za_mutex_t *m);
static inline void za_mutex_set_domain(za_mutex_t *m, const void *domain)
{
	m->domain = domain;
}
int za_cond_init(za_cond_t *c);
void za_cond_destroy(za_cond_t *c);
/* Wait at most timeout_ns (0: forever). Returns false on timeout. */
bool za_cond_wait(za_cond_t *c, za_mutex_t *m, uint64_t timeout_ns);
void za_cond_broadcast(za_cond_t *c);
int za_thread_start(za_thread_t *t, void *(*fn)(void *), void *arg,
                    const char *name);
void za_thread_join(za_thread_t *t);

/* --- time, CPU, yield ----------------------------------------------------- */
#define ZA_NSEC_PER_MSEC 1000000ull
#define ZA_NSEC_PER_SEC 1000000000ull
uint64_t za_now_ns(void);
void za_sleep_ns(uint64_t ns);
void za_cpu_relax(void);
void za_yield(void);
/* The CPU this thread runs on now, or -1. With glibc's rseq registration
 * (2.35+) it is one load from the thread's rseq area, kept current by the
 * kernel; otherwise sched_getcpu(). */
int za_os_current_cpu_slow(void);
#if defined(__linux__) && defined(__GLIBC__) &&                               \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
#include <sys/rseq.h>
#define ZA_HAVE_RSEQ 1
static inline int za_os_current_cpu(void)
{
	if (likely(__rseq_size > 0)) {
		const struct rseq *rs =
		    (const struct rseq *)((char *)__builtin_thread_pointer() +
		                          __rseq_offset);
		int cpu = (int)za_load_relaxed(&rs->cpu_id);
		if (likely(cpu >= 0))
			return cpu;
	}
	return za_os_current_cpu_slow();
}
#else
static inline int za_os_current_cpu(void)
{
	return za_os_current_cpu_slow();
}
#endif
unsigned za_os_nr_cpus(void);
/* One more than the largest CPU number the kernel may ever report (its
 * possible CPUs, Linux's /sys/devices/system/cpu/possible); 0 when that
 * cannot be read. */
unsigned za_os_possible_cpus(void);

/* --- restartable sequences (Linux rseq + membarrier) ------------------- */
/* ZA_HAVE_RSEQ_SEQ: the build has the sequence of src/platform/rseq-<arch>.h
 * (Linux on x86-64 or AArch64 with glibc's rseq headers). The page sets
 * then run restartable where za_os_rseq_setup() says they can. */
#if !defined(ZA_HAVE_RSEQ_SEQ) || !defined(ZA_HAVE_RSEQ)
#undef ZA_HAVE_RSEQ_SEQ
#define ZA_HAVE_RSEQ_SEQ 0 /* needs glibc's <sys/rseq.h> (2.35+) too */
#endif
#if ZA_HAVE_RSEQ_SEQ
struct rseq *_za_os_rseq_area_self(void);
/* The calling thread's rseq area: glibc's, else one we register for the
 * thread on first use; NULL when registration failed. */
static inline struct rseq *za_os_rseq_area(void)
{
	if (likely(__rseq_size > 0))
		return (struct rseq *)((char *)__builtin_thread_pointer() +
		                       __rseq_offset);
	return _za_os_rseq_area_self();
}
/* Where the rseq area the page sets use sits, from the thread pointer:
 * glibc's offset, or that of the library's own (initial-exec TLS, so the
 * same in every thread). Set by za_os_rseq_setup() before any allocator
 * runs restartable; read by the fast paths, which then need neither
 * glibc's variables (two loads through the GOT) nor a call. */
extern long _za_rseq_off __attribute__((visibility("hidden")));
/* The calling thread's rseq area for the fast paths. A thread that has
 * not registered yet (the library's own registration happens in the slow
 * path, za_os_rseq_area) reads cpu_id as -1 there and takes the slow
 * path. */
static inline struct rseq *za_rseq_area_fast(void)
{
	return (struct rseq *)((char *)__builtin_thread_pointer() +
	                       __atomic_load_n(&_za_rseq_off, __ATOMIC_RELAXED));
}
/* Point _za_rseq_off at the library's own area when nothing has set it
 * yet (za_create, before any fast path can run): the leaves run in every
 * mode (a closed gate gives them tables that name no set), so the area
 * they read must be one, even in a process that never sets up rseq. Its
 * cpu_id_start is 0 until the thread registers it. */
void za_os_rseq_default(void);
/* Take a page set's ownership word (byte 0 busy, byte 1 stop) for the
 * calling thread in one restartable sequence: true when the thread runs on
 * cpu and neither byte was set; the caller then owns the set until it
 * stores busy = 0 (release). No locked instruction. za_rseq_own_clear
 * also wants the byte after the word (the set's flags) clear. One small
 * file per architecture. */
#if defined(__x86_64__)
#include "rseq-x86_64.h"
#elif defined(__aarch64__)
#include "rseq-aarch64.h"
#else
#error "ZA_HAVE_RSEQ_SEQ on an architecture without a sequence"
#endif
#else
#ifndef ZA_HAVE_RSEQ
/* No <sys/rseq.h> (another OS, a freestanding build): the one field the
 * fast paths name. They never read it here - the page sets stay locked
 * without a sequence - but they must compile. */
struct rseq {
	uint32_t cpu_id_start;
	uint32_t cpu_id;
};
#endif
static inline struct rseq *za_os_rseq_area(void)
{
	return NULL;
}
/* An area that names no CPU (never read: see above), not NULL, so that
 * the compiler sees no null dereference on the unused path. */
static inline struct rseq *za_rseq_area_fast(void)
{
	static struct rseq none = { .cpu_id = (uint32_t)-1 };
	return &none;
}
static inline void za_os_rseq_default(void)
{
}
static inline bool za_rseq_own(uint16_t *own, int cpu, struct rseq *rs)
{
	(void)own, (void)cpu, (void)rs;
	return false;
}
static inline bool za_rseq_own_clear(uint16_t *own, int cpu, struct rseq *rs)
{
	(void)own, (void)cpu, (void)rs;
	return false;
}
#endif
/* The fast leaves' handle on the calling thread's area
 * (za_rseq_own_clear's last argument): the area's address, unless the
 * architecture's file reaches it through a segment (ZA_RSEQ_LEAF_SEG:
 * then its offset from the thread pointer). */
#ifdef ZA_RSEQ_LEAF_SEG
static inline za_rseq_leaf_t za_rseq_leaf(void)
{
	return __atomic_load_n(&_za_rseq_off, __ATOMIC_RELAXED);
}
#else
typedef struct rseq *za_rseq_leaf_t;
static inline za_rseq_leaf_t za_rseq_leaf(void)
{
	return za_rseq_area_fast();
}
static inline uint32_t za_rseq_leaf_cpu_start(za_rseq_leaf_t rs)
{
	return za_load_relaxed(&rs->cpu_id_start);
}
#endif
/* Once per process: check that this thread has an rseq area and register
 * membarrier's expedited rseq fence. 0, or a negative errno with *why
 * naming what is missing (no rseq, membarrier refused or too old). */
int za_os_rseq_setup(const char **why);
/* Abort any restartable sequence in flight on cpu and order memory with
 * it (membarrier's expedited rseq command). 0 or a negative errno. */
int za_os_fence_cpu(int cpu);
/* Tests only: non-zero makes membarrier fail with this errno. */
extern int _za_os_membarrier_refuse;

/* --- address space for page metadata ---------------------------------- */
size_t za_os_page_size(void);
void *za_os_reserve(size_t size);
void za_os_release(void *p, size_t size);
int za_os_commit(void *p, size_t size); /* keeps contents; 0 or -ENOMEM */
/* Zero-fills the memory, which stays readable and writable (a racing
 * reader sees the old contents or zeros, never a fault), and gives it back
 * to the OS when the OS agrees. It cannot fail: an OS refusal (the map
 * count, locked pages) leaves the memory zeroed and kept. p and size are
 * multiples of the OS page size. */
void za_os_purge(void *p, size_t size);
/* Tests only: non-zero makes za_os_purge take its fallback (zero the
 * memory by hand, keep it), as when the OS refuses to take it back. */
extern int _za_os_purge_refuse;
/* The client's memory and the host's NUMA nodes (libnuma). Both act on
 * the OS pages wholly inside [p, p+size) only, never on memory beside it
 * that shares an OS page. za_os_bind_node gives them a preference for
 * host node `node` (MPOL_PREFERRED: pages fault in there while it has
 * room and elsewhere when it has not, so a fault never fails for it;
 * pages already there stay where they are): 0, -ENOSYS (no libnuma, or
 * the kernel's NUMA calls unavailable), -ENOENT (the host has no such
 * node with memory this process may use), or mbind's error.
 * za_os_unbind_node gives them the default policy back (MPOL_DEFAULT):
 * 0 or a negative errno. Best effort both. */
int za_os_bind_node(void *p, size_t size, int node);
int za_os_unbind_node(void *p, size_t size);

/* --- small allocations (metadata) ------------------------------------- */
void *za_os_alloc(size_t size, size_t align); /* zeroed */
void za_os_free(void *p);

/* --- debugging aids (page owner, fault injection) ----------------------- */
/* The calling thread's id (Linux: gettid), and the process's (getpid). */
int za_os_thread_id(void);
int za_os_process_id(void);
/* The program's short name, "" when unknown. */
const char *za_os_process_name(void);
/* A code address as text: "name+0xoff/0xsize [object]" when the dynamic
 * linker knows the symbol (dladdr: exported symbols; a program linked
 * with -rdynamic exports its own), else "0xaddr [object]" or "0xaddr".
 * Writes at most len bytes including the NUL; returns buf. */
char *za_os_symbolize(const void *addr, char *buf, size_t len);

/* --- fatal errors and error output ----------------------------------------- */
/* Write n bytes of a diagnostic to the error output (stderr); no
 * allocation, safe with any lock held. */
void za_os_error_write(const char *s, size_t n);
/* End the process (abort()): a broken invariant or lock order. */
_Noreturn void za_os_abort(void);
/* A short text for a positive errno value (strerror). */
const char *za_os_strerror(int err);
_Noreturn void za_die(const char *file, int line, const char *what, int err);

/* --- thread cancellation ------------------------------------------------- */
/* Hold the calling thread's cancellation off (POSIX: a deferred
 * pthread_cancel is acted on at a cancellation point) and give it back:
 * around the platform's own waits, sleeps and writes, so that a thread
 * is never unwound in the middle of a call with the allocator's locks
 * held. za_os_cancel_hold returns what za_os_cancel_restore takes. Only
 * the hosted front ends (stdio.c) call them from outside this layer. */
int za_os_cancel_hold(void);
void za_os_cancel_restore(int old);
#define ZA_DIE(what, err) za_die(__FILE__, __LINE__, (what), (err))

#endif
