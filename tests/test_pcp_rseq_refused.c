/*
 * test_pcp_rseq_refused.c - the fallback to locked page sets when the
 * kernel refuses the library's own rseq registration (a seccomp filter
 * answering EPERM), with glibc's registration switched off
 * (GLIBC_TUNABLES=glibc.pthread.rseq=0, as ctest runs it):
 *
 *  - every allocator runs locked, za_pcp_mode_reason saying why;
 *  - the process gets one line on stderr about it, however many
 *    allocators and threads follow, and the line names the kernel's
 *    answer (EPERM's text), not a made-up "not implemented";
 *  - the allocators work: every page comes back, za_check holds.
 *
 * Skips (77) where the build has no sequence or the kernel lacks rseq.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rseq_kernel.h"
#include "testutil.h"
#include <zonealloc.h>

#if ZA_HAVE_RSEQ_SEQ
/* Every rseq call from now on fails with EPERM. */
static void refuse_rseq(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)__NR_rseq, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
	CHECK_EQ(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	CHECK_EQ(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0);
}

static void *churn(void *arg)
{
	struct za *za = arg;
	for (int i = 0; i < 1000; i++) {
		struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, i & 3);
		CHECK(p);
		za_free_pages(za, p, i & 3);
	}
	return NULL;
}
#endif

int main(void)
{
	tu_watchdog(60);
#if !ZA_HAVE_RSEQ_SEQ
	printf("no restartable sequence in this build: skipped\n");
	return 77;
#else
	const char *lacks = tu_kernel_lacks_rseq();
	if (lacks) {
		printf("this kernel %s: skipped\n", lacks);
		return 77;
	}
	RULE(__rseq_size == 0, "this run has glibc's rseq switched off "
	                       "(GLIBC_TUNABLES=glibc.pthread.rseq=0)");
	refuse_rseq();
	/* stderr into a file, to count the lines. */
	FILE *err = tmpfile();
	CHECK(err);
	fflush(stderr);
	int saved = dup(2);
	CHECK(saved >= 0);
	CHECK(dup2(fileno(err), 2) >= 0);
	for (int k = 0; k < 2; k++) {
		struct za_config cfg = {
			.block_pages = 1024,
			.max_pfn = 1024,
			.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER,
		};
		struct za *za = za_create(&cfg);
		CHECK(za);
		CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 1024, NULL), 0);
		struct za_pcp_info pi;
		CHECK_EQ(za_pcp_info(za, 0, 0, ZA_ZONE_NORMAL, &pi), 0);
		RULE(!pi.restartable && *za_pcp_mode_reason(za),
		     "refused rseq: the page sets run locked and say why");
		pthread_t th[4];
		for (int i = 0; i < 4; i++)
			CHECK_EQ(pthread_create(&th[i], NULL, churn, za), 0);
		for (int i = 0; i < 4; i++)
			CHECK_EQ(pthread_join(th[i], NULL), 0);
		za_drain_all_pages(za);
		za_vmstat_fold(za);
		RULE(za_zone_free_pages(za, 0, ZA_ZONE_NORMAL) == 1024 &&
		         za_check(za, NULL) == 0,
		     "locked after a refused rseq: every page comes back");
		za_destroy(za);
	}
	fflush(stderr);
	CHECK(dup2(saved, 2) >= 0);
	char text[4096];
	rewind(err);
	size_t n = fread(text, 1, sizeof(text) - 1, err);
	text[n] = 0;
	fputs(text, stdout);
	int lines = 0;
	for (size_t i = 0; i < n; i++)
		lines += text[i] == '\n';
	RULE(lines == 1,
	     "one line on stderr for the fallback to locked page "
	     "sets, whatever the allocators and threads (%d)",
	     lines);
	RULE(strstr(text, strerror(EPERM)) != NULL,
	     "the line names the kernel's answer to the rseq registration "
	     "(%s)",
	     strerror(EPERM));
	printf("1 passed, 0 failed\n");
	return 0;
#endif
}
