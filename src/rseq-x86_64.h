/*
 * rseq-x86_64.h - the restartable sequence of the restartable page sets,
 * for x86-64 Linux, written as inline assembly so that it sits in the
 * allocation and free paths themselves: no call, no registers spilled
 * around one. It sits beside the fast paths that inline it (fastpath.c,
 * and pcp_fast_own in pcp.h); platform.h picks the architecture's file.
 *
 * za_rseq_own(own, cpu, rs): own is a page set's ownership word, byte 0
 * "busy" (set here, cleared by the owner with a store-release when it is
 * done), byte 1 "stop" (set by whoever stops the set from outside). The
 * sequence takes the set for the calling thread when the thread runs on
 * `cpu` and the word is zero; the single byte store that takes it is the
 * commit. If the thread is preempted, migrated or signalled, or another
 * thread fences this CPU (membarrier's expedited rseq command) before the
 * commit, the kernel resumes it at the abort label instead: it then owns
 * nothing. Sequences of two threads on one CPU therefore never interleave,
 * so the test and the store act as one without a locked instruction.
 *
 * Every place the function is inlined gets its own descriptor (section
 * __za_rseq_cs) and abort stub (section __za_rseq_abort, after the 4-byte
 * signature the kernel checks); the stub jumps to the caller's "no" path.
 * The "memory" clobber keeps the compiler from moving the owner's work
 * above the commit; x86 keeps stores in order, so that is all the
 * ordering an acquire needs here. The two bytes are tested one by one:
 * the last owner let go with a byte store, and a 16-bit load of the word
 * right after it cannot be forwarded from that store (a stall of a dozen
 * cycles, measured as a quarter of a free's time).
 *
 * za_rseq_own_clear(own, cpu, leaf): the same, but it also wants the
 * byte after the word (the set's flags, struct za_pcp) clear, tested with
 * stop as one 16-bit word (bytes 1-2, which the owner's byte store at 0
 * does not overlap): the fast-path leaves, which leave a flagged set to
 * the slow path anyway, so test the flags inside the sequence for free.
 * The leaves reach the area through %fs (za_rseq_leaf_t is its offset
 * from the thread pointer, the same in every thread): one instruction an
 * operation less than forming its address first.
 *
 * Offsets in struct rseq (uapi): u32 cpu_id_start at 0, u32 cpu_id at 4,
 * u64 rseq_cs at 8.
 */
#ifndef ZA_RSEQ_X86_64_H
#define ZA_RSEQ_X86_64_H

#include "rseq-common.h"

/* glibc's x86 signature; ours when we register. */
#define ZA_RSEQ_SIG 0x53053053

/* The sequence's frame, shared by both forms below: the descriptor
 * (version, flags, start, length, abort), arming it, the CPU test, then
 * the form's own tests, the commit and the abort stub. */
/* clang-format off */
#define ZA_RSEQ_X86_BEGIN(seg)                                                 \
	ZA_RSEQ_DESCRIPTOR                                                     \
	"leaq 3b(%%rip), %%rax\n\t"                                            \
	"movq %%rax, " seg "8(%[rs])\n" /* arm it */                           \
	"1:\n\t"                                                               \
	"cmpl %[cpu], " seg "4(%[rs])\n\t" /* still on the set's CPU? */       \
	"jne %l[no]\n\t"
#define ZA_RSEQ_X86_END                                                        \
	"cmpb $0, %[busy]\n\t" /* not owned */                                 \
	"jne %l[no]\n\t"                                                       \
	"movb $1, %[busy]\n" /* commit: busy = 1 */                            \
	"2:\n\t"                                                               \
	".pushsection __za_rseq_abort, \"ax\"\n\t"                             \
	".long " ZA_RSEQ_STR(ZA_RSEQ_SIG) "\n"                                 \
	"4:\n\t"                                                               \
	"jmp %l[no]\n\t"                                                       \
	".popsection\n"
/* clang-format on */

static inline __attribute__((always_inline)) bool
za_rseq_own(uint16_t *own, int cpu, struct rseq *rs)
{
	/* clang-format off */
	__asm__ goto(
		ZA_RSEQ_X86_BEGIN("")
		"cmpb $0, %[stop]\n\t"       /* not stopped */
		"jne %l[no]\n\t"
		ZA_RSEQ_X86_END
		:
		: [rs] "r"(rs), [cpu] "r"(cpu), [busy] "m"(((uint8_t *)own)[0]),
		  [stop] "m"(((uint8_t *)own)[1])
		: "memory", "cc", "rax"
		: no);
	/* clang-format on */
	return true;
no:
	return false;
}

/* The leaves' handle on the calling thread's area: its offset from the
 * thread pointer (platform.h's za_rseq_leaf), read through %fs. */
#define ZA_RSEQ_LEAF_SEG 1
typedef long za_rseq_leaf_t;
/* cpu_id_start. Written out rather than through GCC's __seg_fs, which
 * the sanitizers would instrument as an ordinary address; volatile, as
 * the kernel rewrites the field under us. */
static inline __attribute__((always_inline)) uint32_t
za_rseq_leaf_cpu_start(za_rseq_leaf_t off)
{
	uint32_t cpu;
	__asm__ volatile("movl %%fs:(%1), %0" : "=r"(cpu) : "r"(off));
	return cpu;
}

/* za_rseq_own, taking the set only when the byte after the word (the
 * set's flags) is clear too: stop and flags in one 16-bit test, which
 * overlaps no byte the last owner stored. */
static inline __attribute__((always_inline)) bool
za_rseq_own_clear(uint16_t *own, int cpu, za_rseq_leaf_t off)
{
	/* clang-format off */
	__asm__ goto(
		ZA_RSEQ_X86_BEGIN("%%fs:")
		"cmpw $0, %[stop_flags]\n\t" /* not stopped, no flag */
		"jne %l[no]\n\t"
		ZA_RSEQ_X86_END
		:
		: [rs] "r"(off), [cpu] "r"(cpu), [busy] "m"(((uint8_t *)own)[0]),
		  [stop_flags] "m"(*(uint16_t *)((uint8_t *)own + 1))
		: "memory", "cc", "rax"
		: no);
	/* clang-format on */
	return true;
no:
	return false;
}

#endif
