/*
 * unix.c - the platform layer for Linux/glibc (and other POSIX systems):
 * pthreads, clock_gettime, mmap, rseq-backed sched_getcpu, optional libnuma.
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#if ZA_HAVE_NUMA
#include <numa.h>
#include <numaif.h>
#endif

#include "../platform.h"

#ifndef ZA_DEBUG
#define ZA_DEBUG 0
#endif

_Noreturn void za_die(const char *file, int line, const char *what, int err)
{
	fprintf(stderr, "zonealloc: fatal: %s:%d: %s: %s\n", file, line, what,
	        strerror(err));
	abort();
}

/* The library's blocking calls (its waits, sleeps, joins and error
 * output) are POSIX cancellation points. A pthread_cancel acted on there
 * would unwind the thread through the library with whatever it holds
 * still held - memory offline sleeps between its passes holding the
 * memory-hotplug lock, a compaction waits holding none but counted as
 * running - and every later call that needs it would wait for ever. So
 * they hold cancellation off, as malloc does: a cancel is acted on at
 * the client's next cancellation point, after the call (stdio.c's
 * writes too). */
int za_os_cancel_hold(void)
{
	int old;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	return old;
}

void za_os_cancel_restore(int old)
{
	pthread_setcancelstate(old, &old);
}

void za_os_error_write(const char *s, size_t n)
{
	int c = za_os_cancel_hold();
	fwrite(s, 1, n, stderr);
	fflush(stderr);
	za_os_cancel_restore(c);
}

_Noreturn void za_os_abort(void)
{
	abort();
}

const char *za_os_strerror(int err)
{
	return strerror(err);
}

/* --- spin locks --------------------------------------------------------- */

/* Tickets of slow-path waiters: 30 bits, 0 never used, compared modulo
 * 2^30 (older = smaller), shared by every lock (only their order
 * matters). */
#define TICKET_MASK ((1u << 30) - 1)
static unsigned ticket_counter;

static unsigned next_ticket(void)
{
	unsigned t;
	do
		t = __atomic_add_fetch(&ticket_counter, 1, __ATOMIC_RELAXED) &
		    TICKET_MASK;
	while (!t);
	return t;
}

/* a was taken before b (modulo 2^30). */
static bool ticket_older(unsigned a, unsigned b)
{
	return ((a - b) & TICKET_MASK) > (TICKET_MASK >> 1);
}

/* A waiter competes for the lock as a plain test-and-set lock does for
 * its first QUEUE_AFTER rounds, and only then takes a ticket and asks to
 * be handed the lock. Handing it over at every unlock would serve two
 * threads that both take one lock all the time strictly in turn: each
 * acquisition would wait for the other thread's whole hold plus the
 * wake-up of a spinning waiter, a convoy that, once formed, lasts (the
 * mixed benchmark on 2 threads ran 3 times slower in such runs,
 * docs/PERFORMANCE.md). A waiter that has waited that long is still
 * served oldest first, so none starves. */
#define QUEUE_AFTER 64

#define SPIN_NS (50 * 1000ul)

void za_spin_lock_slow(za_spinlock_t *l)
{
	unsigned me = 0, spins = 0;
	uint64_t start = 0;
	for (;;) {
		int v = za_load_relaxed(&l->v);
		unsigned who = (unsigned)v >> 1;
		if (!(v & 1)) {
			/* Free: take it unless it is handed to a waiter that
			 * came before us (or, not queued yet, to anybody). */
			if ((v == 0 || (me && (who == me || ticket_older(me, who)))) &&
			    __atomic_compare_exchange_n(&l->v, &v, 1, 0, __ATOMIC_ACQUIRE,
			                                __ATOMIC_RELAXED))
				return;
		} else if (me && (who == 0 || (who != me && ticket_older(me, who)))) {
			/* Held: ask for it next (the oldest waiter wins), so
			 * the unlock hands it to us. A turn lost to a race is
			 * asked for again on the next round. */
			__atomic_compare_exchange_n(&l->v, &v, (int)(me << 1 | 1), 0,
			                            __ATOMIC_RELAXED, __ATOMIC_RELAXED);
		}
		if (!me && spins >= QUEUE_AFTER)
			me = next_ticket();
		/* Spin, then yield: with more threads than cores the holder
		 * may be descheduled. The spin lasts SPIN_NS, a few holds of a
		 * zone or page-set lock: a waiter that yields sooner gives its
		 * CPU away for a time slice while the lock is soon free (or,
		 * queued, handed to it, with every other waiter waiting for it
		 * to run again). The clock is read once per 64 rounds. */
		if (++spins < QUEUE_AFTER || (spins & 63) ||
		    za_now_ns() - (start ? start : (start = za_now_ns())) < SPIN_NS)
			za_cpu_relax();
		else
			sched_yield();
	}
}

void za_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

void za_yield(void)
{
	sched_yield();
}

/* --- mutexes, conditions, threads ----------------------------------------- */

int za_mutex_init(za_mutex_t *m, enum za_lock_rank rank, const char *name)
{
	pthread_mutex_t *pm = malloc(sizeof(*pm));
	if (!pm)
		return -ENOMEM;
	int err = pthread_mutex_init(pm, NULL);
	if (err) {
		free(pm);
		return -err;
	}
	m->impl = pm;
	m->rank = rank;
	m->name = name;
	m->domain = NULL;
	return 0;
}

void za_mutex_destroy(za_mutex_t *m)
{
	if (!m->impl)
		return;
	pthread_mutex_destroy(m->impl);
	free(m->impl);
	m->impl = NULL;
}

void za_mutex_lock(za_mutex_t *m)
{
	za_witness_acquire_in(m->domain, m->rank, m->name, m);
	int err = pthread_mutex_lock(m->impl);
	if (err)
		ZA_DIE("pthread_mutex_lock", err);
}

bool za_mutex_trylock(za_mutex_t *m)
{
	int err = pthread_mutex_trylock(m->impl);
	if (err == EBUSY)
		return false;
	if (err)
		ZA_DIE("pthread_mutex_trylock", err);
	za_witness_acquire_in(m->domain, m->rank, m->name, m);
	return true;
}

void za_mutex_unlock(za_mutex_t *m)
{
	za_witness_release(m->rank);
	int err = pthread_mutex_unlock(m->impl);
	if (err)
		ZA_DIE("pthread_mutex_unlock", err);
}

int za_cond_init(za_cond_t *c)
{
	pthread_cond_t *pc = malloc(sizeof(*pc));
	pthread_condattr_t a;
	if (!pc)
		return -ENOMEM;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	int err = pthread_cond_init(pc, &a);
	pthread_condattr_destroy(&a);
	if (err) {
		free(pc);
		return -err;
	}
	c->impl = pc;
	return 0;
}

void za_cond_destroy(za_cond_t *c)
{
	if (!c->impl)
		return;
	pthread_cond_destroy(c->impl);
	free(c->impl);
	c->impl = NULL;
}

bool za_cond_wait(za_cond_t *c, za_mutex_t *m, uint64_t timeout_ns)
{
	int err;
	int cancel = za_os_cancel_hold();
	if (!timeout_ns) {
		err = pthread_cond_wait(c->impl, m->impl);
	} else {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t ns = (uint64_t)ts.tv_nsec + timeout_ns;
		ts.tv_sec += (time_t)(ns / ZA_NSEC_PER_SEC);
		ts.tv_nsec = (long)(ns % ZA_NSEC_PER_SEC);
		err = pthread_cond_timedwait(c->impl, m->impl, &ts);
	}
	za_os_cancel_restore(cancel);
	if (err == ETIMEDOUT)
		return false;
	if (err)
		ZA_DIE("pthread_cond_wait", err);
	return true;
}

void za_cond_broadcast(za_cond_t *c)
{
	pthread_cond_broadcast(c->impl);
}

int za_thread_start(za_thread_t *t, void *(*fn)(void *), void *arg,
                    const char *name)
{
	pthread_t *pt = malloc(sizeof(*pt));
	if (!pt)
		return -ENOMEM;
	int err = pthread_create(pt, NULL, fn, arg);
	if (err) {
		free(pt);
		return -err;
	}
#ifdef __GLIBC__
	if (name)
		pthread_setname_np(*pt, name);
#endif
	t->impl = pt;
	return 0;
}

void za_thread_join(za_thread_t *t)
{
	if (!t->impl)
		return;
	int cancel = za_os_cancel_hold();
	pthread_join(*(pthread_t *)t->impl, NULL);
	za_os_cancel_restore(cancel);
	free(t->impl);
	t->impl = NULL;
}

/* --- time and CPU ----------------------------------------------------------- */

uint64_t za_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * ZA_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

void za_sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / ZA_NSEC_PER_SEC),
		                   (long)(ns % ZA_NSEC_PER_SEC) };
	int cancel = za_os_cancel_hold();
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
	za_os_cancel_restore(cancel);
}

int za_os_current_cpu_slow(void)
{
	return sched_getcpu();
}

unsigned za_os_nr_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);
	return n > 0 ? (unsigned)n : 1;
}

unsigned za_os_possible_cpus(void)
{
	/* A list of ranges, "0-3" or "0,2-5,8": the number after the last
	 * separator is the largest CPU number. */
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");
	if (!f)
		return 0;
	char buf[256];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (n == sizeof(buf))
		return 0; /* longer than we read: the end is not in buf */
	buf[n] = 0;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	size_t i = n;
	while (i && buf[i - 1] >= '0' && buf[i - 1] <= '9')
		i--;
	if (i == n || n - i > 7)
		return 0;
	return (unsigned)strtoul(buf + i, NULL, 10) + 1;
}

/* --- debugging aids ---------------------------------------------------------------- */

int za_os_thread_id(void)
{
#ifdef SYS_gettid
	static _Thread_local int tid;
	if (!tid)
		tid = (int)syscall(SYS_gettid);
	return tid;
#else
	return (int)getpid();
#endif
}

int za_os_process_id(void)
{
	return (int)getpid();
}

const char *za_os_process_name(void)
{
#ifdef __GLIBC__
	extern char *program_invocation_short_name;
	return program_invocation_short_name ? program_invocation_short_name : "";
#else
	return "";
#endif
}

char *za_os_symbolize(const void *addr, char *buf, size_t len)
{
	Dl_info info;
	const ElfW(Sym) *sym = NULL;
	if (!len)
		return buf;
	memset(&info, 0, sizeof(info));
	if (!addr || !dladdr1(addr, &info, (void **)&sym, RTLD_DL_SYMENT)) {
		snprintf(buf, len, "%p", addr);
		return buf;
	}
	const char *obj = info.dli_fname ? info.dli_fname : "?";
	if (info.dli_sname && info.dli_saddr) {
		unsigned long off = (unsigned long)((const char *)addr -
		                                    (const char *)info.dli_saddr);
		if (sym && sym->st_size)
			snprintf(buf, len, "%s+0x%lx/0x%lx [%s]", info.dli_sname, off,
			         (unsigned long)sym->st_size, obj);
		else
			snprintf(buf, len, "%s+0x%lx [%s]", info.dli_sname, off, obj);
	} else {
		/* No symbol: the offset in the object, as addr2line takes it. */
		snprintf(buf, len, "%p (+0x%lx) [%s]", addr,
		         (unsigned long)((const char *)addr -
		                         (const char *)info.dli_fbase),
		         obj);
	}
	return buf;
}

/* --- address space ------------------------------------------------------------- */

size_t za_os_page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);
	return p > 0 ? (size_t)p : 4096;
}

void *za_os_reserve(size_t size)
{
	void *p = mmap(NULL, size, PROT_NONE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void za_os_release(void *p, size_t size)
{
	if (p)
		munmap(p, size);
}

int za_os_commit(void *p, size_t size)
{
	/* Contents are kept: zero where never used or purged. */
	return mprotect(p, size, PROT_READ | PROT_WRITE) ? -ENOMEM : 0;
}

int _za_os_purge_refuse;

void za_os_purge(void *p, size_t size)
{
	/* MADV_DONTNEED on private anonymous memory: the pages go back to the
	 * OS and read as zeros at the next touch, and the mapping stays as it
	 * is, readable and writable - a racing reader sees the old contents or
	 * zeros, never a fault. It never splits a mapping, so the map count
	 * (vm.max_map_count) cannot refuse it, as it does an mmap(MAP_FIXED)
	 * over the middle of one. The caller is past its point of no return
	 * (an offline), so if the OS refuses anyway (locked pages: mlockall)
	 * the memory is zeroed here instead and kept: that costs memory, not
	 * correctness. Word by word, each store atomic, so that a lockless
	 * reader still sees each field old or zero. */
	if (!_za_os_purge_refuse && !madvise(p, size, MADV_DONTNEED))
		return;
	uintptr_t *w = p;
	for (size_t i = 0; i < size / sizeof(*w); i++)
		__atomic_store_n(&w[i], 0, __ATOMIC_RELAXED);
}

#if ZA_HAVE_NUMA
/* The OS pages wholly inside [p, p+size): false when there is none. */
static bool os_pages_inside(void *p, size_t size, void **lo, size_t *len)
{
	uintptr_t ps = (uintptr_t)za_os_page_size();
	uintptr_t a = ((uintptr_t)p + ps - 1) & ~(ps - 1);
	uintptr_t b = ((uintptr_t)p + size) & ~(ps - 1);
	if (b <= a)
		return false;
	*lo = (void *)a;
	*len = (size_t)(b - a);
	return true;
}
#endif

int za_os_bind_node(void *p, size_t size, int node)
{
#if ZA_HAVE_NUMA
	if (numa_available() < 0)
		return -ENOSYS;
	/* A node mask as mbind reads it: a bit per node, in longs. */
	enum { BITS = 8 * sizeof(unsigned long), NODES = 1024 };
	unsigned long mask[NODES / BITS] = { 0 };
	if (node < 0 || node >= NODES || node > numa_max_node() ||
	    !numa_bitmask_isbitset(numa_all_nodes_ptr, (unsigned)node))
		return -ENOENT;
	void *lo;
	size_t len;
	if (!os_pages_inside(p, size, &lo, &len))
		return 0;
	mask[(unsigned)node / BITS] = 1ul << ((unsigned)node % BITS);
	/* Preferred, not bound: a strict bind makes a fault fail (the
	 * process killed) when that node is full, though others have room.
	 * maxnode is one more than the mask's bits (the system call reads
	 * one bit fewer than it is told, as libnuma's own calls allow for). */
	if (mbind(lo, len, MPOL_PREFERRED, mask, NODES + 1, 0))
		return -errno;
	return 0;
#else
	(void)p;
	(void)size;
	(void)node;
	return -ENOSYS;
#endif
}

int za_os_unbind_node(void *p, size_t size)
{
#if ZA_HAVE_NUMA
	void *lo;
	size_t len;
	if (!os_pages_inside(p, size, &lo, &len))
		return 0;
	if (mbind(lo, len, MPOL_DEFAULT, NULL, 0, 0))
		return -errno;
	return 0;
#else
	(void)p;
	(void)size;
	return -ENOSYS;
#endif
}

void *za_os_alloc(size_t size, size_t align)
{
	void *p = NULL;
	if (align < sizeof(void *))
		align = sizeof(void *);
	size = (size + align - 1) & ~(align - 1);
	if (posix_memalign(&p, align, size))
		return NULL;
	memset(p, 0, size);
	return p;
}

void za_os_free(void *p)
{
	free(p);
}
