/*
 * rseq-aarch64.S - the restartable sequence of the restartable page sets,
 * for AArch64 Linux. The same contract as rseq-x86_64.S:
 *
 * bool _za_rseq_try_own(uint16_t *own, int cpu, struct rseq *rs)
 *
 * Takes the page set (busy = 1, the commit) when the thread runs on `cpu`
 * and neither busy nor stop is set; 1 on success, 0 otherwise or when the
 * kernel aborted the sequence (preemption, migration, signal, or a
 * membarrier rseq fence aimed at this CPU).
 */
#define ZA_RSEQ_SIG 0xd428bc00	/* glibc's AArch64 signature (a BRK) */
#define RSEQ_CPU_ID 4
#define RSEQ_CS 8

	.text
	.p2align 4
	.globl	_za_rseq_try_own
	.hidden	_za_rseq_try_own
	.type	_za_rseq_try_own, %function
_za_rseq_try_own:
	.cfi_startproc
	adrp	x3, .Lza_own_cs
	add	x3, x3, :lo12:.Lza_own_cs
	str	x3, [x2, #RSEQ_CS]	/* arm the descriptor below */
.Lza_own_start:
	ldr	w4, [x2, #RSEQ_CPU_ID]
	cmp	w4, w1			/* still on the set's CPU? */
	b.ne	.Lza_own_fail
	ldarh	w4, [x0]		/* acquire: see the last owner's work */
	cbnz	w4, .Lza_own_fail	/* stopped or owned */
	mov	w4, #1
	strb	w4, [x0]		/* commit: busy = 1 */
.Lza_own_end:
	mov	w0, #1
	ret
.Lza_own_fail:
	mov	w0, #0
	ret
	/* The signature the kernel checks before the abort handler. */
	.inst	ZA_RSEQ_SIG
.Lza_own_abort:
	mov	w0, #0
	ret
	.cfi_endproc
	.size	_za_rseq_try_own, . - _za_rseq_try_own

	.section .data.rel.ro, "aw"
	.p2align 5
.Lza_own_cs:
	.long	0, 0
	.quad	.Lza_own_start
	.quad	.Lza_own_end - .Lza_own_start
	.quad	.Lza_own_abort

	.section .note.GNU-stack, "", @progbits
