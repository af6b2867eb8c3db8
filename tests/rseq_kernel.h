/*
 * rseq_kernel.h - whether the kernel offers what restartable page sets
 * need, asked of the kernel itself and not of the allocator (whose
 * fallback the tests check).
 *
 * An older kernel, QEMU's user mode (scripts/cross-test.sh) or a seccomp
 * filter may lack rseq or membarrier's expedited rseq fence: there the
 * allocator runs its page sets locked by design, and a test that wants
 * them restartable is skipped. On a kernel that has both, such a test
 * fails if the allocator does not use them.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ZA_TEST_RSEQ_KERNEL_H
#define ZA_TEST_RSEQ_KERNEL_H

#include "platform.h" /* ZA_HAVE_RSEQ_SEQ */

#if ZA_HAVE_RSEQ_SEQ
#include <errno.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

/* What the kernel lacks, as a phrase after "this kernel" ("has no rseq
 * system call"), or NULL when it has rseq and the fence. */
static inline const char *tu_kernel_lacks_rseq(void)
{
	/* A NULL area is refused with EINVAL (or EBUSY) where rseq exists. */
	errno = 0;
	if (syscall(__NR_rseq, NULL, 0, 0, 0) != 0 && errno == ENOSYS)
		return "has no rseq system call";
	long cmds = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	if (cmds < 0)
		return "refuses membarrier";
	if (!(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ))
		return "has no expedited rseq fence (membarrier)";
	return NULL;
}
#else
static inline const char *tu_kernel_lacks_rseq(void)
{
	return "is not used: this build has no restartable sequence";
}
#endif

#endif
