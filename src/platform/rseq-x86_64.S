/*
 * rseq-x86_64.S - the restartable sequence of the restartable page sets,
 * for x86-64 Linux.
 *
 * bool _za_rseq_try_own(uint16_t *own, int cpu, struct rseq *rs)
 *
 * own is a page set's ownership word: byte 0 "busy" (set here, cleared by
 * the owner with a plain store when it is done), byte 1 "stop" (set by
 * whoever stops the set from outside). The sequence takes the set for the
 * calling thread when the thread runs on `cpu` and the word is zero; the
 * single byte store that takes it is the commit. If the thread is
 * preempted, migrated or signalled, or another thread fences this CPU
 * (membarrier's expedited rseq command) before the commit, the kernel
 * resumes it at the abort label instead: it then owns nothing. Sequences
 * of two threads on one CPU therefore never interleave, so the test and
 * the store act as one without a locked instruction.
 *
 * Returns 1 when the set is now owned, 0 otherwise (wrong CPU, stopped,
 * owned already, or aborted): the caller takes another path.
 */
#define ZA_RSEQ_SIG 0x53053053	/* glibc's x86 signature; ours when we register */
#define RSEQ_CPU_ID 4		/* struct rseq: u32 cpu_id_start, u32 cpu_id, */
#define RSEQ_CS 8		/* u64 rseq_cs */

	.text
	.p2align 4
	.globl	_za_rseq_try_own
	.hidden	_za_rseq_try_own
	.type	_za_rseq_try_own, @function
_za_rseq_try_own:
	.cfi_startproc
	leaq	.Lza_own_cs(%rip), %rax
	movq	%rax, RSEQ_CS(%rdx)	/* arm the descriptor below */
.Lza_own_start:
	cmpl	%esi, RSEQ_CPU_ID(%rdx)	/* still on the set's CPU? */
	jne	.Lza_own_fail
	cmpw	$0, (%rdi)		/* neither stopped nor owned */
	jne	.Lza_own_fail
	movb	$1, (%rdi)		/* commit: busy = 1 */
.Lza_own_end:
	movl	$1, %eax
	ret
.Lza_own_fail:
	xorl	%eax, %eax
	ret
	/* The kernel checks that the four bytes before the abort handler
	 * are the signature the thread's rseq area was registered with. */
	.long	ZA_RSEQ_SIG
.Lza_own_abort:
	xorl	%eax, %eax
	ret
	.cfi_endproc
	.size	_za_rseq_try_own, . - _za_rseq_try_own

	/* struct rseq_cs: version, flags, start_ip, post_commit_offset,
	 * abort_ip; 32-byte aligned. */
	.section .data.rel.ro, "aw"
	.p2align 5
.Lza_own_cs:
	.long	0, 0
	.quad	.Lza_own_start
	.quad	.Lza_own_end - .Lza_own_start
	.quad	.Lza_own_abort

	.section .note.GNU-stack, "", @progbits
