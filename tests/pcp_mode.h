/*
 * pcp_mode.h - run a test in either page-set mode (DESIGN.md "Rules of
 * concurrency"): the seed tests and the hotplug stress run twice under
 * ctest, as <name> and <name>_rseq.
 *
 *  - locked (the default): simulated CPUs, a thread-local number behind
 *    za_config.cpu_id; a cpu_id callback always makes the page sets
 *    locked;
 *  - restartable ("--rseq" on the command line, or ZA_TEST_PCP=rseq in the
 *    environment): no cpu_id callback, za_config.nr_cpus = the real CPUs
 *    the run uses, and every place that would set the simulated CPU pins
 *    the calling thread to that real CPU with sched_setaffinity instead,
 *    so that the same threads exercise the owner's restartable sequence
 *    and the remote users' stop + fence on real CPUs.
 *
 * A restartable run uses CPUs 0 .. pm_ncpu - 1 (at most the test's own CPU
 * count), which must all be in the process's affinity mask. It exits 77
 * (ctest: skipped) when the build has no restartable sequence
 * (ThreadSanitizer builds, platforms without rseq), when the kernel lacks
 * rseq or membarrier's rseq fence (rseq_kernel.h), or when fewer than
 * two such CPUs exist; otherwise it asserts that the allocator really
 * runs its page sets restartable, and fails with the library's reason
 * when not.
 */
#ifndef ZA_TEST_PCP_MODE_H
#define ZA_TEST_PCP_MODE_H

#include "testutil.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zonealloc.h>

#include "platform.h" /* ZA_HAVE_RSEQ_SEQ, as the library was built */
#include "rseq_kernel.h"

#define PM_SKIP 77
#define PM_RETRY 3 /* a child's "a sequence was aborted" (pm_run) */
#define PM_TRIES 5

static int pm_rseq;      /* 1: restartable run on real CPUs */
static unsigned pm_ncpu; /* real CPUs the restartable run uses */
static cpu_set_t pm_all; /* the process's affinity mask at the start */

/* Read the mode from argv ("--rseq") or ZA_TEST_PCP ("rseq", "locked").
 * max_cpus: the most CPUs the test is written for. Exits 77 when the
 * restartable run cannot happen in this build or on this machine, 2 on an
 * unknown argument. */
static inline void pm_init(int argc, char **argv, const char *name,
                           unsigned max_cpus)
{
	const char *env = getenv("ZA_TEST_PCP");
	if (env && !strcmp(env, "rseq"))
		pm_rseq = 1;
	else if (env && *env && strcmp(env, "locked")) {
		fprintf(stderr, "%s: ZA_TEST_PCP must be rseq or locked, not '%s'\n",
		        name, env);
		exit(2);
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--rseq")) {
			pm_rseq = 1;
		} else if (!strcmp(argv[i], "--locked")) {
			pm_rseq = 0;
		} else {
			fprintf(stderr, "%s: unknown argument '%s' (--rseq or --locked)\n",
			        name, argv[i]);
			exit(2);
		}
	}
	if (!pm_rseq)
		return;
#if !ZA_HAVE_RSEQ_SEQ
	printf("%s: skipped: this build has no restartable sequence "
	       "(ThreadSanitizer, or no rseq on this platform); its page sets "
	       "always run locked\n",
	       name);
	exit(PM_SKIP);
#else
	const char *lacks = tu_kernel_lacks_rseq();
	if (lacks) {
		printf("%s: skipped: this kernel %s; page sets run locked here\n",
		       name, lacks);
		exit(PM_SKIP);
	}
#endif
	CPU_ZERO(&pm_all);
	CHECK_EQ(sched_getaffinity(0, sizeof(pm_all), &pm_all), 0);
	unsigned n = 0;
	while (n < max_cpus && n < CPU_SETSIZE && CPU_ISSET(n, &pm_all))
		n++;
	if (n < 2) {
		printf("%s: skipped: a restartable run needs real CPUs 0 and 1 in "
		       "the affinity mask\n",
		       name);
		exit(PM_SKIP);
	}
	pm_ncpu = n;
	printf("%s: restartable page sets on %u real CPUs\n", name, pm_ncpu);
}

/* The CPUs a test spreads its threads over: its own count when locked, the
 * real ones when restartable. */
static inline unsigned pm_cpus(unsigned locked_cpus)
{
	return pm_rseq ? pm_ncpu : locked_cpus;
}

/* Restartable runs: put the calling thread on real CPU cpu % pm_ncpu and
 * keep it there (the kernel moves it before sched_setaffinity returns).
 * A move waits for the CPU under load, so a thread already pinned there
 * makes no call. */
static __thread int pm_pinned = -1;
static inline void pm_pin(int cpu)
{
	int real = (int)((unsigned)cpu % pm_ncpu);
	if (real == pm_pinned)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET((unsigned)real, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0) {
		fprintf(stderr, "sched_setaffinity(CPU %d): %s\n", real,
		        strerror(errno));
		exit(1);
	}
	pm_pinned = real;
}

/* Let the calling thread run on every CPU again. */
static inline void pm_unpin(void)
{
	if (pm_pinned < 0)
		return;
	CHECK_EQ(sched_setaffinity(0, sizeof(pm_all), &pm_all), 0);
	pm_pinned = -1;
}

/* The calling thread's CPU as the allocator sees it: *simulated = cpu when
 * locked; pinned to real CPU cpu % pm_ncpu when restartable. */
static inline void pm_set_cpu(int *simulated, int cpu)
{
	if (pm_rseq)
		pm_pin(cpu);
	else
		*simulated = cpu;
}

/* Fill the CPU fields of a configuration for the run's mode. Restartable:
 * the caller is unpinned too, since the threads za_create starts (kswapd,
 * the vmstat worker) take its affinity and should run on every CPU. */
static inline void pm_config(struct za_config *cfg, unsigned locked_cpus,
                             int (*cpu_id)(void *ctx))
{
	if (pm_rseq) {
		pm_unpin();
		cfg->nr_cpus = pm_ncpu;
		cfg->cpu_id = NULL;
	} else {
		cfg->nr_cpus = locked_cpus;
		cfg->cpu_id = cpu_id;
	}
}

/* The allocator runs its page sets in the mode the run asked for. */
static inline void pm_check_mode(struct za *za, const char *name)
{
	struct za_pcp_info pi;
	CHECK_EQ(za_pcp_info(za, 0, 0, ZA_ZONE_NORMAL, &pi), 0);
	if (pi.restartable != pm_rseq) {
		fprintf(stderr, "%s: page sets run %s, the run wants them %s (%s)\n",
		        name, pi.restartable ? "restartable" : "locked",
		        pm_rseq ? "restartable" : "locked",
		        pi.restartable ? "-" : za_pcp_mode_reason(za));
		exit(1);
	}
}

/* Remote users stopped and fenced the CPUs in a restartable run (and
 * never in a locked one): the protocol the run is meant to exercise did
 * run. */
static inline void pm_check_fenced(struct za *za, const char *name)
{
	unsigned long long f = za_event_count(za, ZA_PCP_FENCE);
	if (pm_rseq ? f == 0 : f != 0) {
		fprintf(stderr, "%s: %llu CPU fences in a %s run\n", name, f,
		        pm_rseq ? "restartable" : "locked");
		exit(1);
	}
}

/* --- exact single-threaded checks on real CPUs ------------------------- */

/* A single-threaded check counts pages exactly. On real CPUs a restartable
 * sequence can be aborted (the kernel preempted or signalled the thread
 * inside it): the call then finds the page set "busy" and goes to the
 * buddy lists, which is correct but moves a page past the list the check
 * counts. The library counts every such call (ZA_PCP_TRYLOCK_FAIL; with
 * one thread nothing else can make a set busy). pm_run runs such a check
 * in a child process, and repeats it - at most PM_TRIES times in all - only
 * when it failed in a run where that count was not zero; any other
 * failure fails at once. */
static struct za *pm_watched; /* the allocator the running check uses */

static inline void pm_watch(struct za *za)
{
	pm_watched = za;
}

static inline void pm_destroy(struct za *za)
{
	if (pm_watched == za)
		pm_watched = NULL;
	za_destroy(za);
}

/* atexit in the child: only a failed check exits through exit(). */
static void pm_child_exit(void)
{
	if (!pm_watched)
		return;
	unsigned long long busy = za_event_count(pm_watched, ZA_PCP_TRYLOCK_FAIL);
	if (!busy)
		return;
	fprintf(stderr,
	        "(%llu calls found their page set busy in this run: "
	        "aborted sequences)\n",
	        busy);
	fflush(NULL);
	_exit(PM_RETRY);
}

/* Run check(): directly in a locked run; in a restartable one in a child,
 * as above. Returns only when it passed. */
static inline void pm_run(const char *what, void (*check)(void))
{
	if (!pm_rseq) {
		check();
		return;
	}
	for (int attempt = 1;; attempt++) {
		fflush(NULL);
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			atexit(pm_child_exit);
			check();
			fflush(NULL);
			_exit(0);
		}
		int st;
		CHECK(waitpid(pid, &st, 0) == pid);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			return;
		if (WIFEXITED(st) && WEXITSTATUS(st) == PM_RETRY &&
		    attempt < PM_TRIES) {
			printf("%s: repeated (a restartable sequence was aborted "
			       "during attempt %d)\n",
			       what, attempt);
			continue;
		}
		fprintf(stderr, "%s failed (attempt %d, status %#x)\n", what, attempt,
		        st);
		exit(1);
	}
}

#endif
