/*
 * test_core_fork.c - allocators and fork() (zonealloc.h, "Processes").
 *
 *  - a child of fork() calling za_destroy on an allocator with background
 *    threads that its parent created is told so through the error handler
 *    (-EINVAL, once) and comes back: it neither crashes joining threads
 *    that only the parent has nor hangs destroying what they waited on;
 *    the parent still uses and destroys the allocator normally;
 *  - without background threads the child's copy is its own: the child
 *    allocates from it, checks it and destroys it with nothing reported;
 *  - a child creates an allocator of its own: restartable where the
 *    parent's was, and its CPU fences work there (the membarrier
 *    registration, made once per process, is the child's too).
 */
#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zonealloc.h>

#define BLOCK 1024ul

static int reports, last_err;
static char last_msg[256];

static void on_error(void *ctx, int err, const char *msg)
{
	(void)ctx;
	reports++;
	last_err = err;
	snprintf(last_msg, sizeof(last_msg), "%s", msg);
}

static struct za *make(unsigned flags)
{
	struct za_config cfg = {
		.block_pages = BLOCK,
		.max_pfn = 4 * BLOCK,
		.flags = flags,
		.error = on_error,
	};
	struct za *za = za_create(&cfg);
	CHECK(za);
	for (unsigned long b = 0; b < 4; b++)
		CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, b * BLOCK, BLOCK,
		                          NULL),
		         0);
	return za;
}

/* Allocate and free a few pages, check; 0 when all went well. */
static int use(struct za *za)
{
	struct za_page *p[64];
	for (int i = 0; i < 64; i++)
		if (!(p[i] = za_alloc_pages(za, ZA_GFP_KERNEL, 0)))
			return 1;
	for (int i = 0; i < 64; i++)
		za_free_pages(za, p[i], 0);
	za_drain_all_pages(za);
	return za_check(za, NULL) == 0 ? 0 : 2;
}

/* Run fn in a child (at most 20 s) and return its exit status, or 100 +
 * the signal that ended it. */
static int in_child(int (*fn)(void *), void *arg)
{
	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		signal(SIGALRM, SIG_DFL); /* a hang ends with SIGALRM */
		alarm(20);
		_exit(fn(arg));
	}
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	return WIFSIGNALED(st) ? 100 + WTERMSIG(st) : WEXITSTATUS(st);
}

/* Exit codes of the children: 0 fine, else what went wrong. */
static int child_destroy_threaded(void *arg)
{
	struct za *za = arg;
	za_destroy(za);
	if (reports != 1 || last_err != -EINVAL ||
	    !strstr(last_msg, "child of fork"))
		return 3;
	return 0;
}

static void test_destroy_threaded(void)
{
	/* Default config: kswapd, kcompactd and the statistics worker. */
	struct za *za = make(0);
	CHECK_EQ(use(za), 0);
	reports = 0;
	int rc = in_child(child_destroy_threaded, za);
	RULE(rc != 100 + SIGSEGV && rc != 100 + SIGALRM,
	     "za_destroy in a child of fork neither crashes nor hangs on the "
	     "parent's background threads (child ended with %d)",
	     rc);
	RULE(rc == 0,
	     "za_destroy in a child of fork reports the misuse once "
	     "with -EINVAL and releases nothing (child exit %d)",
	     rc);
	/* The parent's allocator is untouched. */
	RULE(use(za) == 0 && reports == 0,
	     "the parent goes on using its allocator after the child's "
	     "za_destroy");
	za_destroy(za);
	printf("za_destroy in a child, background threads: ok\n");
}

static int child_use_copy(void *arg)
{
	struct za *za = arg;
	if (use(za))
		return 4;
	za_destroy(za);
	return reports ? 5 : 0;
}

static void test_threadless_copy(void)
{
	struct za *za = make(ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER |
	                     ZA_CFG_NO_KCOMPACTD);
	CHECK_EQ(use(za), 0);
	reports = 0;
	int rc = in_child(child_use_copy, za);
	RULE(rc == 0,
	     "a child of fork uses and destroys its copy of an "
	     "allocator without background threads, nothing reported "
	     "(child exit %d)",
	     rc);
	CHECK_EQ(use(za), 0);
	za_destroy(za);
	printf("a copy without background threads: ok\n");
}

static int child_own(void *arg)
{
	int parent_restartable = *(int *)arg;
	struct za *za = make(ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER);
	struct za_pcp_info pi;
	CHECK_EQ(za_pcp_info(za, 0, 0, ZA_ZONE_NORMAL, &pi), 0);
	if (pi.restartable != parent_restartable)
		return 6;
	if (use(za))
		return 7;
	/* A CPU offline fences the CPU's sets (restartable): -EPERM if
	 * the child had no membarrier registration. */
	if (za_nr_cpus(za) >= 2) {
		if (za_cpu_offline(za, 1) != 0)
			return 8;
		if (za_cpu_online(za, 1) != 0)
			return 9;
	}
	za_destroy(za);
	return 0;
}

static void test_child_own(void)
{
	struct za *za = make(ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER);
	struct za_pcp_info pi;
	CHECK_EQ(za_pcp_info(za, 0, 0, ZA_ZONE_NORMAL, &pi), 0);
	int restartable = pi.restartable;
	int rc = in_child(child_own, &restartable);
	RULE(rc == 0,
	     "a child of fork creates and uses an allocator of its "
	     "own, in the parent's mode, with working CPU fences "
	     "(child exit %d)",
	     rc);
	za_destroy(za);
	printf("an allocator of the child's own (%s): ok\n",
	       restartable ? "restartable" : "locked");
}

int main(void)
{
	tu_watchdog(120);
	test_destroy_threaded();
	test_threadless_copy();
	test_child_own();
	printf("3 passed, 0 failed\n");
	return 0;
}
