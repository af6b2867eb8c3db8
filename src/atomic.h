/*
 * atomic.h - atomics named by their ordering.
 *
 * The library uses the compiler's __atomic builtins on plain fields. Names
 * say the ordering so that a reader sees it at the call site:
 *   za_load_relaxed / za_store_relaxed: a single-copy atomic access with no
 *     ordering (a field read locklessly, or written under a lock while
 *     others read it without one);
 *   za_load_acquire / za_store_release: publication;
 *   za_add_relaxed / za_cas_acqrel ...: read-modify-write.
 * ThreadSanitizer understands all of them.
 */
#ifndef ZA_ATOMIC_H
#define ZA_ATOMIC_H

#define za_load_relaxed(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define za_load_acquire(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define za_store_relaxed(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define za_store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define za_add_relaxed(p, v) __atomic_add_fetch((p), (v), __ATOMIC_RELAXED)
#define za_add_acqrel(p, v) __atomic_add_fetch((p), (v), __ATOMIC_ACQ_REL)
#define za_xchg_acquire(p, v) __atomic_exchange_n((p), (v), __ATOMIC_ACQUIRE)
#define za_cas_acqrel(p, expp, v)                                             \
	__atomic_compare_exchange_n((p), (expp), (v), 0, __ATOMIC_ACQ_REL,        \
	                            __ATOMIC_RELAXED)
/* Bit flags set and cleared by several threads. */
#define za_or_release(p, v) __atomic_fetch_or((p), (v), __ATOMIC_RELEASE)
#define za_and_acquire(p, v) __atomic_fetch_and((p), (v), __ATOMIC_ACQUIRE)
#define za_fence_seq_cst() __atomic_thread_fence(__ATOMIC_SEQ_CST)
/* Sequence-count readers and writers (relaxed data between them). */
#define za_fence_acquire() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define za_fence_release() __atomic_thread_fence(__ATOMIC_RELEASE)

/* Single-writer counter bump: the writer holds a lock, readers do not.
 * On x86-64 one add to memory: its store is single-copy atomic as the
 * relaxed store is (an aligned field), and it needs no lock prefix since
 * nobody else writes the field; the compiler does not fuse the relaxed
 * load and store into one instruction itself. ThreadSanitizer sees the
 * builtins only, so its builds keep them. */
#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
#define za_inc_single_writer(p, v)                                            \
	do {                                                                      \
		_Static_assert(sizeof(*(p)) == 4 || sizeof(*(p)) == 8,                \
		               "a 32- or 64-bit counter");                            \
		if (sizeof(*(p)) == 8)                                                \
			__asm__ volatile("addq %1, %0"                                    \
			                 : "+m"(*(p))                                     \
			                 : "er"((long long)(v)));                         \
		else                                                                  \
			__asm__ volatile("addl %1, %0" : "+m"(*(p)) : "ir"((int)(v)));    \
	} while (0)
/* Its subtraction, for a 32-bit counter: v may then come from memory
 * (a table of block sizes) with no negation first. */
#define za_sub_single_writer(p, v)                                            \
	do {                                                                      \
		_Static_assert(sizeof(*(p)) == 4, "a 32-bit counter");                \
		__asm__ volatile("subl %1, %0" : "+m"(*(p)) : "ir"((int)(v)));        \
	} while (0)
#else
#define za_inc_single_writer(p, v)                                            \
	za_store_relaxed((p), za_load_relaxed(p) + (v))
#define za_sub_single_writer(p, v)                                            \
	za_store_relaxed((p), za_load_relaxed(p) - (v))
#endif

/* Whether idx < *bound, whether *p == v and whether *p & mask, with the
 * field read relaxed. On x86-64 one compare with the field in memory
 * (the compiler does not fold a relaxed load into a compare; the flag
 * output lets it branch on the result as on its own compare); an aligned
 * read is single-copy atomic there. The sanitizers see the C forms, whose
 * loads they can instrument. */
#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__) &&                   \
    !defined(__SANITIZE_ADDRESS__)
static inline __attribute__((always_inline)) _Bool
za_below_relaxed(unsigned long idx, const unsigned long *bound)
{
	_Bool below;
	__asm__("cmpq %2, %1" : "=@ccb"(below) : "r"(idx), "m"(*bound));
	return below;
}
static inline __attribute__((always_inline)) _Bool
za_eq8_relaxed(const unsigned char *p, unsigned char v)
{
	_Bool eq;
	__asm__("cmpb %2, %1" : "=@ccz"(eq) : "m"(*p), "iq"(v));
	return eq;
}
/* The same compare with acquire: on x86-64 every load acquires, and the
 * "memory" clobber keeps the compiler from moving later accesses above
 * it. */
static inline __attribute__((always_inline)) _Bool
za_eq8_acquire(const unsigned char *p, unsigned char v)
{
	_Bool eq;
	__asm__ volatile("cmpb %2, %1"
	                 : "=@ccz"(eq)
	                 : "m"(*p), "iq"(v)
	                 : "memory");
	return eq;
}
static inline __attribute__((always_inline)) _Bool
za_any8_relaxed(const unsigned char *p, unsigned char mask)
{
	_Bool any;
	__asm__("testb %2, %1" : "=@ccnz"(any) : "m"(*p), "iq"(mask));
	return any;
}
#else
static inline __attribute__((always_inline)) _Bool
za_below_relaxed(unsigned long idx, const unsigned long *bound)
{
	return idx < za_load_relaxed(bound);
}
static inline __attribute__((always_inline)) _Bool
za_eq8_relaxed(const unsigned char *p, unsigned char v)
{
	return za_load_relaxed(p) == v;
}
static inline __attribute__((always_inline)) _Bool
za_eq8_acquire(const unsigned char *p, unsigned char v)
{
	return za_load_acquire(p) == v;
}
static inline __attribute__((always_inline)) _Bool
za_any8_relaxed(const unsigned char *p, unsigned char mask)
{
	return (za_load_relaxed(p) & mask) != 0;
}
#endif

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#endif
