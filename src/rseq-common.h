/*
 * rseq-common.h - what the per-architecture restartable sequences
 * (rseq-x86_64.h, rseq-aarch64.h) write the same way: the descriptor the
 * kernel reads, and turning the signature into text.
 *
 * The labels are the sequences' own: 1 the first instruction of the
 * sequence, 2 the first after its commit, 3 the descriptor, 4 the abort
 * handler (after the 4-byte signature the kernel checks).
 */
#ifndef ZA_RSEQ_COMMON_H
#define ZA_RSEQ_COMMON_H

#define ZA_RSEQ_STR_(x) #x
#define ZA_RSEQ_STR(x) ZA_RSEQ_STR_(x)

/* struct rseq_cs, one per place a sequence is inlined: version 0, flags
 * 0, start, length (post-commit offset), abort. */
/* clang-format off */
#define ZA_RSEQ_DESCRIPTOR                                                     \
	".pushsection __za_rseq_cs, \"aw\"\n\t"                                 \
	".balign 32\n"                                                         \
	"3:\n\t"                                                               \
	".long 0, 0\n\t"                                                       \
	".quad 1f, 2f - 1f, 4f\n\t"                                            \
	".popsection\n\t"
/* clang-format on */

#endif
