/*
 * rseq-aarch64.h - the restartable sequence of the restartable page sets,
 * for AArch64 Linux, as inline assembly (see rseq-x86_64.h for what it
 * does and why it is inline).
 *
 * Both bytes of the ownership word are read with load-acquires, so that
 * the owner sees everything the last owner or remote user wrote before
 * letting go (they let go with a store-release of their byte). The commit
 * is the byte store of busy = 1.
 */
#ifndef ZA_RSEQ_AARCH64_H
#define ZA_RSEQ_AARCH64_H

#include "rseq-common.h"

#define ZA_RSEQ_SIG 0xd428bc00 /* glibc's AArch64 signature (a BRK) */

/* The frame of both forms: descriptor, arming, CPU test; then the
 * form's tests of the ownership bytes, the commit and the abort stub. */
/* clang-format off */
#define ZA_RSEQ_A64_BEGIN                                                      \
	ZA_RSEQ_DESCRIPTOR                                                     \
	"adrp x17, 3b\n\t"                                                     \
	"add x17, x17, :lo12:3b\n\t"                                           \
	"str x17, [%[rs], #8]\n" /* arm the descriptor */                      \
	"1:\n\t"                                                               \
	"ldr w17, [%[rs], #4]\n\t"                                             \
	"cmp w17, %w[cpu]\n\t" /* still on the set's CPU? */                   \
	"b.ne %l[no]\n\t"                                                      \
	"ldarb w17, [%[stop]]\n\t"                                             \
	"cbnz w17, %l[no]\n\t" /* stopped */
#define ZA_RSEQ_A64_END                                                        \
	"ldarb w17, [%[own]]\n\t"                                              \
	"cbnz w17, %l[no]\n\t" /* owned */                                     \
	"mov w17, #1\n\t"                                                      \
	"strb w17, [%[own]]\n" /* commit: busy = 1 */                          \
	"2:\n\t"                                                               \
	".pushsection __za_rseq_abort, \"ax\"\n\t"                             \
	".inst " ZA_RSEQ_STR(ZA_RSEQ_SIG) "\n"                                 \
	"4:\n\t"                                                               \
	"b %l[no]\n\t"                                                         \
	".popsection\n"
/* clang-format on */

static inline __attribute__((always_inline)) bool
za_rseq_own(uint16_t *own, int cpu, struct rseq *rs)
{
	/* clang-format off */
	__asm__ goto(
		ZA_RSEQ_A64_BEGIN
		ZA_RSEQ_A64_END
		:
		: [rs] "r"(rs), [cpu] "r"(cpu), [own] "r"(own),
		  [stop] "r"((uint8_t *)own + 1) /* ldarb takes no offset */
		: "memory", "cc", "x17"
		: no);
	/* clang-format on */
	return true;
no:
	return false;
}

/* za_rseq_own, wanting the flags byte after the word clear too (see
 * rseq-x86_64.h); a byte load of its own here (an acquire needs an
 * aligned address). */
static inline __attribute__((always_inline)) bool
za_rseq_own_clear(uint16_t *own, int cpu, struct rseq *rs)
{
	/* clang-format off */
	__asm__ goto(
		ZA_RSEQ_A64_BEGIN
		"ldrb w17, [%[stop], #1]\n\t"
		"cbnz w17, %l[no]\n\t"        /* flagged */
		ZA_RSEQ_A64_END
		:
		: [rs] "r"(rs), [cpu] "r"(cpu), [own] "r"(own),
		  [stop] "r"((uint8_t *)own + 1)
		: "memory", "cc", "x17"
		: no);
	/* clang-format on */
	return true;
no:
	return false;
}

#endif
