/*
 * rseq_arch.c - compiled by rseq_arch.sh for every architecture that has
 * a restartable sequence (src/platform/rseq-<arch>.h), whatever machine
 * the tests run on: the inline assembly of the others must still
 * assemble, and each use must leave a descriptor and an abort stub.
 * Freestanding: no system headers beyond the compiler's own.
 */
#include <stdbool.h>
#include <stdint.h>

struct rseq { /* the uapi layout the sequences use */
	uint32_t cpu_id_start, cpu_id;
	uint64_t rseq_cs;
	uint32_t flags;
};
#if defined(__x86_64__)
#include "../src/rseq-x86_64.h"
#elif defined(__aarch64__)
#include "../src/rseq-aarch64.h"
#endif
#ifndef ZA_RSEQ_LEAF_SEG
typedef struct rseq *za_rseq_leaf_t; /* the area itself (platform.h) */
#endif

/* Three uses: three descriptors, three stubs. */
int rseq_arch_take(uint16_t *own, int cpu, struct rseq *rs)
{
	return za_rseq_own(own, cpu, rs) ? 1 : 0;
}
int rseq_arch_take_release(uint16_t *own, int cpu, struct rseq *rs)
{
	if (!za_rseq_own(own, cpu, rs))
		return 0;
	__atomic_store_n((uint8_t *)own, 0, __ATOMIC_RELEASE);
	return 1;
}
int rseq_arch_take_clear(uint16_t *own, int cpu, za_rseq_leaf_t leaf)
{
	return za_rseq_own_clear(own, cpu, leaf) ? 1 : 0;
}
