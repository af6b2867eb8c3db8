/*
 * test_pcp_rseq.c - restartable page sets (DESIGN.md "Rules of
 * concurrency") on this machine's real CPUs:
 *
 *  - which mode an allocator gets: restartable by default where the
 *    platform allows, locked when asked (ZA_CFG_PCP_LOCKED), with a cpu_id
 *    callback, or when membarrier is refused (as a seccomp filter would);
 *  - a fence that fails fails CPU offline and memory offline with nothing
 *    changed;
 *  - owners on every CPU against remote users (drains, CPU flips, folds,
 *    za_check) stopping and fencing their sets: every page comes back and
 *    za_check holds;
 *  - frees without a compare-and-swap: a sequential double free is
 *    reported at once, and one page freed on two CPUs at the same instant
 *    is never handed out twice unreported (strict frees: always reported
 *    at the free), also when one of the two frees went to the buddy lists
 *    (the interleaving made on purpose: test_double_free_buddy_race).
 *
 * "selfreg" as argv[1] runs the owner/remote part only; ctest runs it with
 * glibc's rseq registration switched off, so that the library registers
 * each thread itself. Skips (77) where the build has no sequence or the
 * kernel lacks rseq or its fence (rseq_kernel.h).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "pcp.h"
#include "rseq_kernel.h"
#include "testutil.h"
#include "buddy_util.h"
#include "offline_util.h"

#define BLOCK 1024ul /* pages per hotplug block */

static int ncpus;
static atomic_long reports;
static char last_report[256];
/* Reports of a per-CPU list cut ("handed out twice") and of a buddy
 * free list cut, counted apart. */
static atomic_long pcp_cuts, buddy_cuts;

static void on_error(void *ctx, int err, const char *msg)
{
	(void)ctx, (void)err;
	snprintf(last_report, sizeof(last_report), "%s", msg);
	if (strstr(msg, "handed out twice"))
		atomic_fetch_add(&pcp_cuts, 1);
	if (strstr(msg, "on the buddy lists is not a free block"))
		atomic_fetch_add(&buddy_cuts, 1);
	atomic_fetch_add(&reports, 1);
}

static void pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu % ncpus, &set);
	CHECK_EQ(sched_setaffinity(0, sizeof(set), &set), 0);
}

static struct za *make(unsigned flags, unsigned long blocks)
{
	struct za_config cfg = {
		.block_pages = BLOCK,
		.max_pfn = blocks * BLOCK,
		.flags = flags | ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER,
		.error = on_error,
	};
	struct za *za = za_create(&cfg);
	CHECK(za);
	for (unsigned long b = 0; b < blocks; b++)
		CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, b * BLOCK, BLOCK,
		                          NULL),
		         0);
	return za;
}

static int restartable(struct za *za)
{
	struct za_pcp_info pi;
	CHECK_EQ(za_pcp_info(za, 0, 0, ZA_ZONE_NORMAL, &pi), 0);
	return pi.restartable;
}

static unsigned long free_pages(struct za *za)
{
	za_drain_all_pages(za);
	za_vmstat_fold(za);
	return za_zone_free_pages(za, 0, ZA_ZONE_NORMAL);
}

/* --- which mode ------------------------------------------------------------ */

static int fake_cpu(void *ctx)
{
	(void)ctx;
	return 0;
}

static void test_mode(void)
{
	struct za *za = make(0, 1);
	RULE(restartable(za) == 1 && !*za_pcp_mode_reason(za),
	     "page sets are restartable by default where the platform allows");
	za_destroy(za);

	za = make(ZA_CFG_PCP_LOCKED, 1);
	RULE(restartable(za) == 0 &&
	         strcmp(za_pcp_mode_reason(za), "ZA_CFG_PCP_LOCKED") == 0,
	     "ZA_CFG_PCP_LOCKED keeps the page sets locked");
	za_destroy(za);

	struct za_config cfg = { .nr_cpus = 8,
		                     .cpu_id = fake_cpu,
		                     .flags = ZA_CFG_NO_KSWAPD |
		                              ZA_CFG_NO_VMSTAT_WORKER };
	za = za_create(&cfg);
	CHECK(za);
	RULE(restartable(za) == 0,
	     "simulated CPUs (a cpu_id callback) run the page sets locked");
	za_destroy(za);

	/* membarrier refused, as by a seccomp filter: locked, and working */
	static const int errs[] = { EPERM, ENOSYS };
	for (int i = 0; i < 2; i++) {
		_za_os_membarrier_refuse = errs[i];
		za = make(0, 1);
		_za_os_membarrier_refuse = 0;
		RULE(restartable(za) == 0 &&
		         strstr(za_pcp_mode_reason(za), "membarrier"),
		     "without the membarrier fence the page sets fall back to locked");
		struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
		CHECK(p);
		za_free_pages(za, p, 0);
		CHECK_EQ(za_check(za, stderr), 0);
		za_destroy(za);
	}
	printf("mode: ok\n");
}

/* --- a CPU number with no page set ------------------------------------- */

/* Fewer page sets than the machine has CPUs (nr_cpus 1): a thread on CPU
 * 1 reads a CPU number the allocator has no set for. The restartable
 * paths must take nothing for it (za.rseq_pcp's row and za.rseq_free_row's
 * entry for every possible CPU number past nr_cpus name the dead sets,
 * which are off for good) and the general path serves it. */
static void test_cpu_without_set(void)
{
	struct za_config cfg = {
		.nr_cpus = 1,
		.block_pages = BLOCK,
		.max_pfn = BLOCK,
		.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER,
		.error = on_error,
	};
	struct za *za = za_create(&cfg);
	CHECK(za);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, BLOCK, NULL), 0);
	CHECK_EQ(restartable(za), 1);
	static const za_gfp_t gfps[] = { ZA_GFP_KERNEL, ZA_GFP_MOVABLE,
		                             ZA_GFP_KERNEL | ZA_GFP_RECLAIMABLE };
	enum { N = 64 };
	struct za_page *held[N];
	/* CPU 0 fills its set (every list of orders 0..3 warm). */
	pin(0);
	for (int i = 0; i < N; i++)
		CHECK((held[i] = za_alloc_pages(za, gfps[i % 3], (unsigned)i % 4)));
	for (int i = 0; i < N; i++)
		za_free_pages(za, held[i], (unsigned)i % 4);
	struct za_pcp_info before, after;
	CHECK_EQ(za_pcp_info(za, 0, 0, ZA_ZONE_NORMAL, &before), 0);
	CHECK(before.count > 0);
	/* CPU 1 has no set: its traffic leaves CPU 0's alone. */
	pin(1);
	for (int round = 0; round < 100; round++) {
		for (int i = 0; i < N; i++) {
			held[i] = za_alloc_pages(za, gfps[i % 3], (unsigned)i % 4);
			CHECK(held[i] != NULL);
		}
		for (int i = 0; i < N; i++)
			za_free_pages(za, held[i], (unsigned)i % 4);
	}
	CHECK_EQ(za_pcp_info(za, 0, 0, ZA_ZONE_NORMAL, &after), 0);
	RULE(after.count == before.count,
	     "a CPU with no page set of its own (CPU 1 with nr_cpus 1) takes "
	     "nothing from and frees nothing onto another CPU's set (CPU 0's "
	     "held %u pages, then %u)",
	     before.count, after.count);
	RULE(za_check(za, stderr) == 0,
	     "the frees of a CPU with no page set go nowhere but the buddy "
	     "lists: every page accounted for, the dead sets off and empty");
	za_destroy(za);
	cpu_set_t all;
	CPU_ZERO(&all);
	for (int c = 0; c < ncpus; c++)
		CPU_SET(c, &all);
	CHECK_EQ(sched_setaffinity(0, sizeof(all), &all), 0);
	printf("cpu without a set: ok\n");
}

/* --- a CPU offline and an owner preempted while it holds a set ----------- */

static struct za_pcp *normal_pcp(struct za *za, int cpu)
{
	return zone_pcp(&za->nodes[0].zones[ZA_ZONE_NORMAL], cpu);
}

static void *drain_thread(void *arg)
{
	za_drain_all_pages(arg);
	return NULL;
}

/* Pages on CPU 1's Normal set: freed there by a thread pinned to it. */
static void fill_cpu1(struct za *za)
{
	struct za_page *p[32];
	pin(1);
	for (int i = 0; i < 32; i++)
		CHECK(p[i] = za_alloc_pages(za, ZA_GFP_KERNEL, 0));
	for (int i = 0; i < 32; i++)
		za_free_pages(za, p[i], 0);
	pin(0);
}

/* Two blocks of Normal with the statistics worker on (as by default),
 * which finishes the drains a CPU offline leaves it. */
static struct za *make_with_worker(void)
{
	struct za_config cfg = { .block_pages = BLOCK,
		                     .max_pfn = 2 * BLOCK,
		                     .flags = ZA_CFG_NO_KSWAPD,
		                     .error = on_error };
	struct za *za = za_create(&cfg);
	CHECK(za);
	for (unsigned long b = 0; b < 2; b++)
		CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, b * BLOCK, BLOCK,
		                          NULL),
		         0);
	return za;
}

static void test_offline_preempted_owner(void)
{
	/* With the statistics worker (as by default): the offline switches
	 * the set off and returns; the worker drains it once the owner
	 * lets go. */
	struct za *za = make_with_worker();
	unsigned long all = free_pages(za);
	struct za_pcp *pcp = normal_pcp(za, 1);
	fill_cpu1(za);
	int held = pcp->count;
	CHECK(held > 0);
	/* The owner took the set and was preempted before it let go. */
	__atomic_store_n(&pcp->own.busy, 1, __ATOMIC_RELEASE);
	unsigned long long deferred0 = za_event_count(za, ZA_PCP_OFFLINE_DEFERRED);
	struct offline_call c = { za, 1, -1 };
	pthread_t t;
	bool returned = offline_returns(&c, &t, 20);
	if (!returned) {
		__atomic_store_n(&pcp->own.busy, 0, __ATOMIC_RELEASE);
		pthread_join(t, NULL);
	}
	RULE(returned, "a CPU offline does not wait for an owner that was "
	               "preempted while it held one of the CPU's page sets");
	CHECK_EQ(c.rc, 0);
	unsigned flags = __atomic_load_n(&pcp->flags, __ATOMIC_ACQUIRE);
	RULE((flags & ZA_PCP_OFF_CPU) && (flags & ZA_PCP_DEFERRED) &&
	         za_event_count(za, ZA_PCP_OFFLINE_DEFERRED) == deferred0 + 1,
	     "the offline switches the held set off at once and leaves its "
	     "drain to the worker");
	/* Nobody drains it while the owner still holds it, and whoever waits
	 * for the owner (the worker, kicked by the offline) does so without
	 * the set's remote lock, which the CPU's next offline would need. */
	usleep(100 * 1000);
	RULE(pcp->count == held, "a deferred drain waits for the owner to let go");
	RULE(!za_spin_is_locked(&pcp->lock),
	     "a remote user waiting for a preempted owner does not hold the "
	     "set's remote lock");
	/* A drain waits for the owner too (the pages may be what a failing
	 * allocation needs), also without the remote lock. */
	pthread_t d;
	CHECK_EQ(pthread_create(&d, NULL, drain_thread, za), 0);
	usleep(100 * 1000);
	RULE(pcp->count == held && !za_spin_is_locked(&pcp->lock),
	     "a drain waits for a preempted owner without the set's remote lock");
	__atomic_store_n(&pcp->own.busy, 0, __ATOMIC_RELEASE);
	pthread_join(d, NULL);
	RULE(wait_drained(pcp, 20),
	     "the worker drains and folds the set once its owner lets go");
	CHECK_EQ(za_check(za, stderr), 0);
	CHECK_EQ(free_pages(za), all);

	/* Online before the owner lets go: the drain is called off and the
	 * set is in use again with its pages. */
	CHECK_EQ(za_cpu_online(za, 1), 0);
	fill_cpu1(za);
	held = pcp->count;
	__atomic_store_n(&pcp->own.busy, 1, __ATOMIC_RELEASE);
	c.rc = -1;
	returned = offline_returns(&c, &t, 20);
	if (!returned) {
		__atomic_store_n(&pcp->own.busy, 0, __ATOMIC_RELEASE);
		pthread_join(t, NULL);
	}
	CHECK(returned);
	CHECK_EQ(c.rc, 0);
	CHECK_EQ(za_cpu_online(za, 1), 0);
	flags = __atomic_load_n(&pcp->flags, __ATOMIC_ACQUIRE);
	RULE(!(flags & (ZA_PCP_OFF_CPU | ZA_PCP_DEFERRED)) && pcp->count == held,
	     "an online calls off a drain its offline left to the worker");
	__atomic_store_n(&pcp->own.busy, 0, __ATOMIC_RELEASE);
	CHECK_EQ(za_check(za, stderr), 0);
	CHECK_EQ(free_pages(za), all);
	za_destroy(za);

	/* Without the worker nobody could finish it: the offline waits. */
	za = make(0, 2);
	pcp = normal_pcp(za, 1);
	fill_cpu1(za);
	__atomic_store_n(&pcp->own.busy, 1, __ATOMIC_RELEASE);
	c = (struct offline_call){ za, 1, -1 };
	returned = offline_returns(&c, &t, 1);
	__atomic_store_n(&pcp->own.busy, 0, __ATOMIC_RELEASE);
	if (!returned)
		pthread_join(t, NULL);
	RULE(!returned, "without the statistics worker an offline waits for "
	                "the owner (nobody else would drain the set)");
	CHECK_EQ(c.rc, 0);
	RULE(pcp->count == 0, "the offline drained the set itself");
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	printf("offline with a preempted owner: ok\n");
}

/* A CPU offline and a lock held by a thread the scheduler preempted: the
 * set's remote lock (another remote user: a drain, a fold) or the zone
 * lock a drain needs. The offline switches the set off, leaves its drain
 * to the statistics worker and returns (test_core_pcp.c has the locked
 * twin of the zone lock). */
static void offline_beside_held_lock(struct za *za, za_spinlock_t *lock,
                                     const char *rule_returns,
                                     const char *rule_drained)
{
	struct za_pcp *pcp = normal_pcp(za, 1);
	unsigned long all = free_pages(za);
	fill_cpu1(za);
	int held = pcp->count;
	CHECK(held > 0);
	za_spin_lock_raw(lock);
	struct offline_call c = { za, 1, -1 };
	pthread_t t;
	bool returned = offline_returns(&c, &t, 20);
	if (!returned) {
		za_spin_unlock_raw(lock);
		pthread_join(t, NULL);
	}
	RULE(returned, rule_returns);
	CHECK_EQ(c.rc, 0);
	unsigned flags = __atomic_load_n(&pcp->flags, __ATOMIC_ACQUIRE);
	RULE((flags & ZA_PCP_OFF_CPU) && (flags & ZA_PCP_DEFERRED) &&
	         pcp->count == held,
	     "the offline switches the set off at once and leaves its drain "
	     "to the worker");
	za_spin_unlock_raw(lock);
	RULE(wait_drained(pcp, 20), rule_drained);
	CHECK_EQ(za_check(za, stderr), 0);
	CHECK_EQ(free_pages(za), all);
	CHECK_EQ(za_cpu_online(za, 1), 0);
}

static void test_offline_held_locks(void)
{
	struct za *za = make_with_worker();
	offline_beside_held_lock(
	    za, &normal_pcp(za, 1)->lock,
	    "a CPU offline does not wait for another remote user that holds "
	    "the remote lock of one of the CPU's page sets",
	    "the worker drains the set once the remote lock is let go");
	offline_beside_held_lock(
	    za, &za->nodes[0].zones[ZA_ZONE_NORMAL].lock,
	    "a CPU offline does not wait for a thread that holds the zone lock "
	    "its drain needs",
	    "the worker drains the set once the zone lock is let go");
	za_destroy(za);
	printf("offline beside a held remote or zone lock: ok\n");
}

/* --- a fence that fails ---------------------------------------------------- */

static void test_fence_failure(void)
{
	struct za *za = make(0, 2);
	struct za_page *p[64];
	/* Pages on CPU 1's list, so that a drain has something to do. */
	pin(1);
	for (int i = 0; i < 64; i++)
		CHECK((p[i] = za_alloc_pages(za, ZA_GFP_KERNEL, 0)) != NULL);
	for (int i = 0; i < 64; i++)
		za_free_pages(za, p[i], 0);
	pin(0);
	struct za_pcp_info before;
	CHECK_EQ(za_pcp_info(za, 1, 0, ZA_ZONE_NORMAL, &before), 0);
	CHECK(before.count > 0);

	/* The offline stops every set of the CPU and fences it once: when
	 * that fence fails, the offline fails with nothing changed. */
	static const long nth[] = { 1 };
	for (int k = 0; k < 1; k++) {
		CHECK_EQ(za_debug_set(za, ZA_DEBUG_FAIL_FENCE, nth[k]), 0);
		int r = za_cpu_offline(za, 1);
		RULE(r == -EPERM, "a failed fence fails CPU offline with its error");
		RULE(za_cpu_is_online(za, 1) == 1,
		     "a failed CPU offline leaves the CPU online");
		for (int t = 0; t < ZA_NR_ZONES; t++) {
			struct za_pcp_info pi;
			CHECK_EQ(za_pcp_info(za, 1, 0, (enum za_zone_type)t, &pi), 0);
			RULE(pi.usable, "a failed CPU offline leaves every set usable");
		}
	}

	/* Memory offline: the zone's sets are disabled CPU by CPU; the
	 * failure of the first fence leaves the range online and usable. */
	for (long n = 1; n <= ncpus; n++) {
		CHECK_EQ(za_debug_set(za, ZA_DEBUG_FAIL_FENCE, n), 0);
		int r = za_memory_offline(za, BLOCK, BLOCK);
		RULE(r == -EPERM,
		     "a failed fence fails memory offline with its error");
		CHECK_EQ(za_debug_set(za, ZA_DEBUG_FAIL_FENCE, 0), 0);
		for (int c = 0; c < ncpus; c++) {
			struct za_pcp_info pi;
			CHECK_EQ(za_pcp_info(za, (unsigned)c, 0, ZA_ZONE_NORMAL, &pi), 0);
			RULE(pi.usable,
			     "a failed memory offline re-enables the page sets");
		}
		CHECK_EQ(za_check(za, stderr), 0);
		RULE(free_pages(za) == 2 * BLOCK,
		     "a failed memory offline keeps the range's pages in the zone");
	}
	/* za_check stops each CPU's set of a zone to look at it: a fence
	 * that fails there is no broken invariant, and za_check returns the
	 * fence's error, not -EUCLEAN; the next check passes. */
	CHECK_EQ(za_debug_set(za, ZA_DEBUG_FAIL_FENCE, 1), 0);
	int rc = za_check(za, NULL);
	CHECK_EQ(za_debug_set(za, ZA_DEBUG_FAIL_FENCE, 0), 0);
	RULE(rc == -EPERM,
	     "a fence that fails while za_check looks makes it return the "
	     "fence's error (-EPERM), not -EUCLEAN: it returned %d",
	     rc);
	CHECK_EQ(za_check(za, stderr), 0);
	/* And the range still goes offline once fences work. */
	CHECK_EQ(za_memory_offline(za, BLOCK, BLOCK), 0);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	printf("fence failure: ok\n");
}

/* --- owners against remote users ------------------------------------------- */

struct owner_arg {
	struct za *za;
	int cpu;
	atomic_bool *stop;
	unsigned long ops;
};

static void *owner(void *v)
{
	struct owner_arg *a = v;
	struct za_page *held[256] = { 0 };
	unsigned ord[256] = { 0 };
	uint64_t seed = 0x1234 + (uint64_t)a->cpu;
	pin(a->cpu);
	while (!atomic_load(a->stop)) {
		unsigned i = (unsigned)(tu_rand(&seed) % 256);
		if (held[i]) {
			za_free_pages(a->za, held[i], ord[i]);
			held[i] = NULL;
		} else {
			unsigned o = (unsigned)(tu_rand(&seed) % 8) == 0
			                 ? (unsigned)(tu_rand(&seed) % 4)
			                 : 0;
			held[i] = za_alloc_pages(a->za, ZA_GFP_KERNEL | ZA_GFP_NOWARN, o);
			ord[i] = o;
		}
		a->ops++;
	}
	for (int i = 0; i < 256; i++)
		if (held[i])
			za_free_pages(a->za, held[i], ord[i]);
	return NULL;
}

static void test_owners_and_remotes(void)
{
	struct za *za = make(0, 4);
	CHECK(restartable(za));
	unsigned long managed = free_pages(za);
	atomic_bool stop = false;
	int nthreads = ncpus *
	               2; /* two owners per CPU: they also race each other */
	pthread_t th[64];
	struct owner_arg args[64];
	CHECK(nthreads <= 64);
	for (int i = 0; i < nthreads; i++) {
		args[i] = (struct owner_arg){ za, i % ncpus, &stop, 0 };
		CHECK_EQ(pthread_create(&th[i], NULL, owner, &args[i]), 0);
	}
	unsigned long long fences0 = za_event_count(za, ZA_PCP_FENCE);
	long rounds = tu_scale(300);
	for (long r = 0; r < rounds; r++) {
		switch (r % 4) {
		case 0:
			za_drain_all_pages(za);
			break;
		case 1:
			if (ncpus > 1) {
				CHECK_EQ(za_cpu_offline(za, (unsigned)(r % ncpus)), 0);
				CHECK_EQ(za_cpu_online(za, (unsigned)(r % ncpus)), 0);
			}
			break;
		case 2:
			za_vmstat_fold(za);
			break;
		case 3:
			/* A census stops every set of every zone at once. */
			break;
		}
		usleep(200);
	}
	atomic_store(&stop, true);
	unsigned long ops = 0;
	for (int i = 0; i < nthreads; i++) {
		CHECK_EQ(pthread_join(th[i], NULL), 0);
		ops += args[i].ops;
	}
	RULE(za_event_count(za, ZA_PCP_FENCE) > fences0,
	     "remote users of restartable sets fence the set's CPU");
	RULE(za_check(za, stderr) == 0,
	     "owners and fenced remote users never corrupt a page set");
	RULE(free_pages(za) == managed,
	     "every page comes back after owners raced remote users");
	RULE(atomic_load(&reports) == 0, "no misuse was reported");
	za_destroy(za);
	printf("owners and remotes: ok (%lu operations)\n", ops);
}

/* --- frees without a compare-and-swap --------------------------------------- */

/* The window between a free's check and its claim (ZA_DP_FREE_CLAIM,
 * debug builds): frees without compare-and-swap pass through it, so that
 * the test can fail; strict frees, restartable fast path or not, never. */
static atomic_long claim_windows;
static void count_claim_window(struct za *za, int point, void *arg)
{
	(void)za;
	(void)arg;
	if (point == ZA_DP_FREE_CLAIM)
		atomic_fetch_add(&claim_windows, 1);
}

static void test_claim_window(unsigned flags)
{
	struct za *za = make(flags, 1);
	if (!(flags & ZA_CFG_STRICT_FREE)) {
		/* Debug builds make every free strict: undo it here, so that
		 * the plain claim runs and the point is seen. */
		za->strict_free = false;
		fast_gates_update(za);
	}
	za_store_relaxed(&za->debug_hook, count_claim_window);
	atomic_store(&claim_windows, 0);
	for (unsigned order = 0; order <= 4; order++) {
		for (int i = 0; i < 16; i++) {
			struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, order);
			CHECK(p);
			za_free_pages(za, p, order);
		}
	}
	za_store_relaxed(&za->debug_hook, NULL);
	long windows = atomic_load(&claim_windows);
	if (flags & ZA_CFG_STRICT_FREE)
		RULE(windows == 0, "strict frees claim a block by compare-and-swap, "
		                   "with no window between the check and the claim");
	else
		CHECK(windows == 5 * 16); /* the point is reached: the test can fail */
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

/* A free of a pointer into the metadata of memory that was never online
 * (its OS pages not even readable) or went offline: reported, and
 * nothing read where nothing is mapped. The restartable free reads the
 * pageblock's type before the page (a pageblock never online reads
 * ISOLATE): a fault here is that rule broken. */
static void segv_rule(int sig)
{
	(void)sig;
	static const char msg[] = "RULE BROKEN: a free of a pointer into memory "
	                          "never online reads no page metadata\n";
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

static void test_free_never_online(void)
{
	struct za_config cfg = {
		.block_pages = BLOCK,
		.max_pfn = 4 * BLOCK,
		.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER,
		.error = on_error,
	};
	struct za *za = za_create(&cfg);
	CHECK(za);
	/* Blocks 1 and 2 online; 0 and 3 never. */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, BLOCK, 2 * BLOCK, NULL),
	         0);
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	CHECK(p);
	struct za_page *base = p - za_page_to_pfn(za, p); /* pfn 0 */
	struct sigaction sa = { .sa_handler = segv_rule }, old_segv, old_bus;
	CHECK_EQ(sigaction(SIGSEGV, &sa, &old_segv), 0);
	CHECK_EQ(sigaction(SIGBUS, &sa, &old_bus), 0);
	long before = atomic_load(&reports);
	const unsigned long never[] = { 5, BLOCK - 1, 3 * BLOCK, 4 * BLOCK - 7 };
	for (unsigned i = 0; i < 4; i++)
		za_free_pages(za, base + never[i], 0);
	RULE(atomic_load(&reports) == before + 4,
	     "a free of a page never online is reported");
	/* Block 2 goes offline: a stale pointer into it is reported too. */
	za_free_pages(za, p, 0);
	CHECK_EQ(za_memory_offline(za, 2 * BLOCK, BLOCK), 0);
	za_free_pages(za, base + 2 * BLOCK + 3, 0);
	RULE(atomic_load(&reports) == before + 5,
	     "a free of a page gone offline is reported");
	CHECK_EQ(sigaction(SIGSEGV, &old_segv, NULL), 0);
	CHECK_EQ(sigaction(SIGBUS, &old_bus, NULL), 0);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	atomic_store(&reports, 0);
}

/* Pointers that are not page metadata, freed on the restartable path
 * (plain and strict): one inside a live page's metadata but not on its
 * boundary, and ones just outside the array. Each is reported once and
 * changes nothing; the live page is still freed properly afterwards. */
static void test_free_bad_pointers(unsigned flags)
{
	struct za *za = make(flags, 1);
	unsigned long managed = free_pages(za);
	struct za_page *live = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	CHECK(live);
	struct za_page *base = live - za_page_to_pfn(za, live); /* pfn 0 */
	unsigned long end = za_page_to_pfn(za, live) + 1;
	while (za_pfn_to_page(za, end))
		end++; /* the first pfn past the online memory (max_pfn) */
	char *bad[] = {
		(char *)live + 1,  (char *)live + 4,   (char *)live + 8,
		(char *)live + 15, (char *)(base - 1), (char *)(base + end),
		(char *)base - 8,
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		long before = atomic_load(&reports);
		za_free_pages(za, (struct za_page *)bad[i], 0);
		RULE(atomic_load(&reports) == before + 1,
		     "a free of a pointer that is not page metadata (not on an "
		     "entry's boundary, or outside the array) is reported");
	}
	CHECK_EQ(za_check(za, stderr), 0);
	long before = atomic_load(&reports);
	za_free_pages(za, live, 0);
	RULE(atomic_load(&reports) == before,
	     "a bad pointer's free leaves the page it points into as it was");
	CHECK_EQ(za_check(za, stderr), 0);
	RULE(free_pages(za) == managed, "a reported bad free loses no page");
	za_destroy(za);
	atomic_store(&reports, 0);
}

static void test_double_free_sequential(unsigned flags)
{
	struct za *za = make(flags, 1);
	unsigned long managed = free_pages(za);
	for (unsigned order = 0; order <= 4; order++) {
		struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, order);
		CHECK(p);
		za_free_pages(za, p, order);
		long before = atomic_load(&reports);
		za_free_pages(za, p, order);
		RULE(atomic_load(&reports) == before + 1,
		     "a sequential double free is reported at once");
	}
	CHECK_EQ(za_check(za, stderr), 0);
	RULE(free_pages(za) == managed, "a reported double free loses no page");
	za_destroy(za);
	atomic_store(&reports, 0);
}

#define TAKE 32

struct racer {
	pthread_t th;
	int cpu;
	struct za_page *got[TAKE];
	unsigned ngot;
};

static struct za *race_za;
static struct za_page *race_page;
static unsigned race_order;
static pthread_barrier_t bar;
static atomic_bool race_done;

static void *racer(void *v)
{
	struct racer *r = v;
	pin(r->cpu);
	for (;;) {
		pthread_barrier_wait(&bar); /* a round is set up (or we are done) */
		if (atomic_load(&race_done))
			return NULL;
		za_free_pages(race_za, race_page, race_order);
		/* Both frees are over before either CPU allocates again: within
		 * the few nanoseconds until the other CPU's stores are visible
		 * only strict frees or a fence could tell (docs/ARCHITECTURE.md,
		 * "Racing double frees"). */
		pthread_barrier_wait(&bar);
		r->ngot = 0;
		for (int i = 0; i < TAKE; i++) {
			struct za_page *p = za_alloc_pages(race_za, ZA_GFP_KERNEL,
			                                   race_order);
			if (p)
				r->got[r->ngot++] = p;
		}
		pthread_barrier_wait(&bar); /* the round is over */
	}
}

/* The block the racers free: for order 0 any page; above, a block whose
 * buddy stays allocated, so that the free keeps it on a per-CPU list
 * (the restartable free of orders 4..8) instead of merging it. */
static struct za_page *race_block(struct za *za, unsigned order)
{
	if (order == 0)
		return za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	struct za_page *pr[2];
	bu_buddy_pairs(za, order, 16, pr, 1);
	return pr[0]; /* its buddy pr[1] stays allocated */
}

static void test_double_free_race(unsigned flags, bool strict, unsigned order)
{
	/* At most 1500 or 3000 rounds, fewer once 25 s are spent (four of
	 * these run under the watchdog's 240 s; an emulated guest takes
	 * 25 s for 1500: tu_budget). */
	long rounds = tu_scale(order ? 1500 : 3000), round;
	struct tu_budget budget = tu_budget(25);
	long raced = 0, at_handout = 0, both_passed = 0;
	struct racer rs[2] = { { .cpu = 0 }, { .cpu = 1 } };
	CHECK_EQ(pthread_barrier_init(&bar, NULL, 3), 0);
	atomic_store(&race_done, false);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(pthread_create(&rs[i].th, NULL, racer, &rs[i]), 0);
	for (round = 0; round < rounds && !tu_budget_spent(&budget, round, 200);
	     round++) {
		race_za = make(flags, order ? 2 : 1);
		race_order = order;
		race_page = race_block(race_za, order);
		CHECK(race_page);
		atomic_store(&reports, 0);
		pthread_barrier_wait(&bar); /* go */
		pthread_barrier_wait(&bar); /* both freed */
		if (atomic_load(&reports) == 0)
			both_passed++;          /* the race beat the free-side check */
		pthread_barrier_wait(&bar); /* both took TAKE pages */
		long rep = atomic_load(&reports);
		/* Every block handed out in this round, counted. */
		unsigned seen_twice = 0;
		for (int a = 0; a < 2; a++)
			for (unsigned i = 0; i < rs[a].ngot; i++)
				for (int b = a; b < 2; b++)
					for (unsigned j = (b == a ? i + 1 : 0); j < rs[b].ngot;
					     j++)
						if (rs[a].got[i] == rs[b].got[j]) {
							seen_twice++;
							fprintf(stderr,
							        "round %ld: pfn %#lx taken by "
							        "CPU %d (#%u) and CPU %d (#%u); the "
							        "raced pfn %#lx; %ld reports, last: %s\n",
							        round,
							        za_page_to_pfn(race_za, rs[a].got[i]), a,
							        i, b, j,
							        za_page_to_pfn(race_za, race_page), rep,
							        last_report);
						}
		RULE(seen_twice == 0,
		     "a page freed on two CPUs at once is never handed out twice");
		RULE(rep >= 1, "one of two frees of one page is reported");
		if (strict)
			RULE(strstr(last_report, "handed out twice") == NULL,
			     "strict frees catch a racing double free at the free");
		else if (strstr(last_report, "handed out twice"))
			at_handout++;
		raced += rep > 1;
		za_destroy(race_za);
	}
	atomic_store(&race_done, true);
	pthread_barrier_wait(&bar);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(pthread_join(rs[i].th, NULL), 0);
	pthread_barrier_destroy(&bar);
	atomic_store(&reports, 0);
	if (strict)
		RULE(both_passed == 0, "strict frees report a racing double free "
		                       "before either free returns");
	printf("double free race (%s, order %u): %ld rounds, %ld passed the "
	       "free-side check, %ld caught at hand-out, %ld with more than one "
	       "report\n",
	       strict ? "strict" : "default", order, round, both_passed,
	       at_handout, raced);
}

/* How many of TAKE order-0 allocations on cpu hand out x. */
/* CPU 1's push of x (the thread pinned to CPU 1): pcp_free, tried again
 * when its sequence was aborted (a preemption between the CPU's read and
 * the commit; the owning fails and counts PCP_TRYLOCK_FAIL), which a
 * virtual machine's timer makes likely enough to matter. */
static int push_on_cpu1(struct za *za, struct za_zone *z, struct za_page *x,
                        unsigned long pfn, uint8_t seen)
{
	for (int tries = 0;; tries++) {
		struct rseq *rs;
		CHECK_EQ(pcp_fast_cpu(za, &rs), 1);
		unsigned long long fails = za_event_count(za, ZA_PCP_TRYLOCK_FAIL);
		int r = pcp_free(za, z, za_pcp_of(za, z->id, 1), x, pfn, 0, 1, rs,
		                 seen);
		if (r != 0 || tries == 1000 ||
		    za_event_count(za, ZA_PCP_TRYLOCK_FAIL) == fails)
			return r;
	}
}

static int take_count(struct za *za, int cpu, struct za_page *x)
{
	int got = 0;
	pin(cpu);
	for (int i = 0; i < TAKE; i++)
		got += za_alloc_pages(za, ZA_GFP_KERNEL, 0) == x;
	return got;
}

/* The outcome of two frees that both passed the free-side check, made on
 * purpose: CPU 0 frees the page; its state is put back to what CPU 1's
 * check saw at that same instant (allocated, same hand-out count); CPU 1
 * frees it too. The page is now on both CPUs' lists. Whatever order they
 * allocate in, it is handed out once and the other list is reported. */
static void test_double_free_aftermath(void)
{
	for (int first = 0; first < 2; first++) {
		struct za *za = make(0, 1);
		pin(0);
		struct za_page *x = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
		CHECK(x);
		uint8_t gen = x->gen;
		za_free_pages(za, x, 0);
		x->state = ZA_PS_ALLOC; /* CPU 1's check ran before CPU 0's claim */
		CHECK_EQ(x->gen, gen);
		pin(1);
		za_free_pages(za, x, 0);
		CHECK_EQ(atomic_load(&reports), 0);
		int got = take_count(za, first, x) + take_count(za, first ^ 1, x);
		RULE(got == 1, "a page on two per-CPU lists is handed out once");
		RULE(atomic_load(&reports) == 1 &&
		         strstr(last_report, "handed out twice"),
		     "the second hand-out of a racing double free is reported");
		RULE(za_check(za, NULL) != 0,
		     "za_check reports the pages of a per-CPU list cut after a "
		     "racing double free");
		za_destroy(za);
		atomic_store(&reports, 0);
	}

	/* The same, and the page goes round once more before the stale entry
	 * comes up: taken and freed again on CPU 1, it is a free page on CPU
	 * 1's list with a current count; CPU 0's stale entry must still not
	 * hand it out (the list it is on says CPU 1). */
	{
		struct za *za = make(0, 1);
		pin(0);
		struct za_page *x = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
		CHECK(x);
		za_free_pages(za, x, 0);
		x->state = ZA_PS_ALLOC;
		pin(1);
		za_free_pages(za, x, 0);
		CHECK(za_alloc_pages(za, ZA_GFP_KERNEL, 0) == x);
		za_free_pages(za, x, 0);
		CHECK_EQ(atomic_load(&reports), 0);
		int got = take_count(za, 0, x);
		RULE(got == 0, "a stale per-CPU list entry never hands out a page "
		               "that is free on another CPU's list");
		RULE(atomic_load(&reports) == 1, "the stale entry is reported");
		za_destroy(za);
		atomic_store(&reports, 0);
	}

	/* A free that checked the page, was preempted, and pushes it after
	 * the page was freed and handed out again by another CPU: its push
	 * lands on a page in use. The count it saw is old, so its own CPU
	 * does not hand the page out. */
	{
		struct za *za = make(0, 1);
		struct za_zone *z = &za->nodes[0].zones[ZA_ZONE_NORMAL];
		pin(0);
		struct za_page *x = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
		CHECK(x);
		uint8_t seen = x->gen; /* CPU 1's check ran here */
		za_free_pages(za, x, 0);
		CHECK(za_alloc_pages(za, ZA_GFP_KERNEL, 0) == x); /* in use again */
		pin(1);
		x->state = ZA_PS_FREEING; /* CPU 1's claim, before it was preempted */
		struct rseq *rs;
		CHECK_EQ(pcp_fast_cpu(za, &rs), 1);
		int r = pcp_free(za, z, za_pcp_of(za, z->id, 1), x,
		                 za_page_to_pfn(za, x), 0, 1, rs, seen);
		CHECK_EQ(r, 1);
		int got = take_count(za, 1, x);
		RULE(got == 0, "a page pushed by a free that saw an older hand-out "
		               "count is never handed out while it is in use");
		RULE(atomic_load(&reports) == 1, "the late push is reported");
		za_destroy(za);
		atomic_store(&reports, 0);
	}
	pin(0);
	printf("double free aftermath: ok\n");
}

/* Two frees of one page that both passed the free-side check, one of
 * which sent the page to the buddy lists (its CPU's set was busy at that
 * instant) before the other pushed it on its CPU's list: made on purpose,
 * as test_double_free_aftermath does. CPU 1's free read the hand-out
 * count and checked the state, CPU 0's freed the page into the buddy
 * lists, then CPU 1's claim and push landed. The page is on the buddy
 * lists (its state and link now the per-CPU list's) and on CPU 1's list.
 * Whichever side comes to it first, it is handed out at most once, and
 * each side that finds it reports it. */
static struct za_page *buddy_race_push(struct za *za, struct za_page *x,
                                       bool merge_first)
{
	struct za_zone *z = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	unsigned long pfn = za_page_to_pfn(za, x);
	pin(0);
	if (merge_first) {
		/* Its buddy on the buddy lists first: CPU 0's free merges the
		 * page into a larger free block (x is its upper half). */
		struct za_page *y = za_pfn_to_page(za, pfn ^ 1);
		y->state = ZA_PS_FREEING;
		free_one_page(za, z, y, pfn ^ 1, 0, 0, y->gen);
	}
	uint8_t seen = za_load_relaxed(&x->gen);  /* CPU 1's free, before */
	x->state = ZA_PS_FREEING;                 /* CPU 0's claim */
	free_one_page(za, z, x, pfn, 0, 0, seen); /* and its buddy free */
	if (merge_first)
		CHECK(page_state(x) == ZA_PS_NONE); /* inside a free block */
	else
		CHECK(page_state(x) == ZA_PS_BUDDY);
	pin(1);
	x->state = ZA_PS_FREEING; /* CPU 1's claim lands now, then its push */
	CHECK_EQ(push_on_cpu1(za, z, x, pfn, seen), 1);
	CHECK_EQ(atomic_load(&reports), 0);
	return x;
}

/* A pair of order-0 buddies, both allocated, on empty lists: the next
 * allocation on either CPU refills from the buddy lists. Frees are made
 * plain (debug builds make every free strict, and with strict frees a
 * page found twice is the allocator's own bug, which they stop at). */
static struct za_page *buddy_race_page(struct za *za, bool upper)
{
	struct za_zone *z = &za->nodes[0].zones[ZA_ZONE_NORMAL];
	struct za_page *pr[2];
	za->strict_free = false;
	fast_gates_update(za);
	pin(0);
	bu_buddy_pairs(za, 0, 16, pr, 1);
	pcp_drain_cpu_zone(za, z, 0);
	pcp_drain_cpu_zone(za, z, 1);
	bool first_upper = za_page_to_pfn(za, pr[0]) > za_page_to_pfn(za, pr[1]);
	return pr[first_upper == upper ? 0 : 1];
}

static void test_double_free_buddy_race(void)
{
	for (int first = 0; first < 2; first++) {
		struct za *za = make(0, 1);
		struct za_page *x = buddy_race_push(za, buddy_race_page(za, false),
		                                    false);
		atomic_store(&pcp_cuts, 0);
		atomic_store(&buddy_cuts, 0);
		int got = take_count(za, first, x) + take_count(za, first ^ 1, x);
		RULE(got <= 1, "a page freed on two CPUs at once is never handed out "
		               "twice");
		RULE(got == 0 && atomic_load(&pcp_cuts) == 1,
		     "a per-CPU list entry pushed after the page went to the buddy "
		     "lists is never handed out, and is reported");
		RULE(atomic_load(&buddy_cuts) == 1,
		     "the buddy lists never hand out a block that a racing free "
		     "pushed on a per-CPU list, and report it");
		RULE(za_check(za, NULL) != 0,
		     "za_check reports the pages of the lists cut after a racing "
		     "double free");
		za_destroy(za);
		atomic_store(&reports, 0);
	}

	/* CPU 1's list given back before anyone allocates: the flush finds
	 * the stale entry and cuts the list instead of freeing the page into
	 * the buddy lists a second time. */
	{
		struct za *za = make(0, 1);
		struct za_zone *z = &za->nodes[0].zones[ZA_ZONE_NORMAL];
		struct za_page *x = buddy_race_push(za, buddy_race_page(za, false),
		                                    false);
		pcp_drain_cpu_zone(za, z, 1);
		RULE(atomic_load(&reports) == 1 &&
		         strstr(last_report, "handed out twice"),
		     "a flush or drain gives back no per-CPU list entry that is not "
		     "its free block (a racing double free), and reports it");
		int got = take_count(za, 0, x) + take_count(za, 1, x);
		RULE(got <= 1, "a page freed on two CPUs at once is never handed out "
		               "twice");
		za_destroy(za);
		atomic_store(&reports, 0);
	}

	/* CPU 0's free merged the page into a larger free block before CPU
	 * 1's push: the page's own state is gone, the count it carries says
	 * the push is stale. */
	{
		struct za *za = make(0, 1);
		struct za_page *x = buddy_race_push(za, buddy_race_page(za, true),
		                                    true);
		atomic_store(&pcp_cuts, 0);
		int got = take_count(za, 1, x) + take_count(za, 0, x);
		RULE(atomic_load(&pcp_cuts) == 1,
		     "a page that merged on the buddy lists is never handed out from "
		     "the per-CPU list a racing free pushed it on, and is reported");
		RULE(got <= 1, "a page freed on two CPUs at once is never handed out "
		               "twice");
		za_destroy(za);
		atomic_store(&reports, 0);
	}

	/* CPU 0's free put the page on CPU 0's list, and a drain gave it to
	 * the buddy lists (merged into a larger free block with its buddy)
	 * before CPU 1's push: the drain moved the count on, as a buddy free
	 * does, so the push is stale. Else CPU 1 hands the page out while it
	 * lies inside a free block, which is handed out too. */
	{
		struct za *za = make(0, 1);
		struct za_zone *z = &za->nodes[0].zones[ZA_ZONE_NORMAL];
		struct za_page *x = buddy_race_page(za, true);
		unsigned long pfn = za_page_to_pfn(za, x);
		pin(0);
		za_free_pages(za, za_pfn_to_page(za, pfn ^ 1), 0);
		uint8_t seen = za_load_relaxed(&x->gen); /* CPU 1's free, before */
		za_free_pages(za, x, 0);                 /* CPU 0's */
		CHECK(page_state(x) == ZA_PS_PCP);
		pcp_drain_cpu_zone(za, z, 0);
		CHECK(page_state(x) == ZA_PS_NONE); /* inside a free block */
		pin(1);
		x->state = ZA_PS_FREEING; /* CPU 1's claim lands now, then its push */
		CHECK_EQ(push_on_cpu1(za, z, x, pfn, seen), 1);
		CHECK_EQ(atomic_load(&reports), 0);
		atomic_store(&pcp_cuts, 0);
		int got = take_count(za, 1, x) + take_count(za, 0, x);
		RULE(atomic_load(&pcp_cuts) == 1,
		     "a page that a flush or drain gave back to the buddy lists is "
		     "never handed out from the per-CPU list a racing free pushed it "
		     "on after, and is reported (%ld cuts)",
		     atomic_load(&pcp_cuts));
		RULE(got <= 1,
		     "a page freed on two CPUs at once is never handed out "
		     "twice (%d hand-outs)",
		     got);
		za_destroy(za);
		atomic_store(&reports, 0);
	}
	pin(0);
	printf("double free racing a buddy free: ok\n");
}

/* A thread whose rseq registration fails (here: the thread registered an
 * area of its own first, so the library's registration is refused) still
 * allocates and frees, through the buddy lists. */
static void *foreign_rseq_thread(void *v)
{
	struct za *za = v;
	static __thread struct rseq mine __attribute__((aligned(32)));
	mine.cpu_id = (uint32_t)-1;
	CHECK_EQ(syscall(__NR_rseq, &mine, 32, 0, 0x12345678), 0);
	unsigned long long locks = za_event_count(za, ZA_ZONE_LOCK);
	for (int i = 0; i < 1000; i++) {
		struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
		CHECK(p);
		za_free_pages(za, p, 0);
	}
	RULE(za_event_count(za, ZA_ZONE_LOCK) >= locks + 1000,
	     "a thread without rseq uses the buddy lists");
	CHECK_EQ(syscall(__NR_rseq, &mine, 32, 1 /* unregister */, 0x12345678), 0);
	return NULL;
}

static void test_owners_selfreg(void)
{
	test_owners_and_remotes();
	struct za *za = make(0, 1);
	unsigned long managed = free_pages(za);
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, foreign_rseq_thread, za), 0);
	CHECK_EQ(pthread_join(th, NULL), 0);
	CHECK_EQ(za_check(za, stderr), 0);
	RULE(free_pages(za) == managed, "every page comes back");
	za_destroy(za);
	printf("thread without rseq: ok\n");
}

int main(int argc, char **argv)
{
	tu_watchdog(240);
	ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (!ZA_HAVE_RSEQ_SEQ) {
		printf("no restartable sequence in this build: skipped\n");
		return 77;
	}
	{
		/* Skipped where the kernel lacks what the sets need (asked of
		 * the kernel: rseq_kernel.h); where it has it, the allocator
		 * must use it. */
		const char *lacks = tu_kernel_lacks_rseq();
		if (lacks) {
			printf("this kernel %s: restartable page sets cannot run, "
			       "skipped\n",
			       lacks);
			return 77;
		}
		struct za *za = make(0, 1);
		if (!restartable(za)) {
			fprintf(stderr,
			        "the kernel has rseq and its fence, yet the "
			        "page sets run locked (%s)\n",
			        za_pcp_mode_reason(za));
			za_destroy(za);
			return 1;
		}
		za_destroy(za);
	}
	if (argc > 1 && strcmp(argv[1], "selfreg") == 0) {
		RULE(__rseq_size == 0, "this run has glibc's rseq switched off "
		                       "(GLIBC_TUNABLES=glibc.pthread.rseq=0)");
		test_owners_selfreg();
		printf("2 passed, 0 failed\n");
		return 0;
	}
	test_mode();
	test_fence_failure();
	/* The deterministic holds before the random races: a remote user
	 * that stopped a set wrongly is caught by their checks, where the
	 * races of test_owners_and_remotes could corrupt a list and crash
	 * before any check looked (the mutant rseq-remote-no-wait). */
	if (ncpus >= 2) {
		test_cpu_without_set();
		test_offline_preempted_owner();
		test_offline_held_locks();
	}
	test_owners_and_remotes();
	test_double_free_sequential(0);
	test_double_free_sequential(ZA_CFG_STRICT_FREE);
	test_free_never_online();
	test_free_bad_pointers(0);
	test_free_bad_pointers(ZA_CFG_STRICT_FREE);
	if (za_debug) {
		test_claim_window(0);
		test_claim_window(ZA_CFG_STRICT_FREE);
	}
	if (ncpus >= 2) {
		test_double_free_aftermath();
		test_double_free_buddy_race();
		/* Order 0, and order 5: the restartable free of orders 4..8. */
		for (unsigned order = 0; order <= 5; order += 5) {
			test_double_free_race(0, za_debug != 0, order);
			test_double_free_race(ZA_CFG_STRICT_FREE, true, order);
		}
	}
	printf("%d passed, 0 failed\n",
	       (ncpus >= 2 ? 16 : 8) + (za_debug ? 2 : 0));
	return 0;
}
