/*
 * test_debug_fault.c - page-allocation fault injection, the kernel's
 * fail_page_alloc: its tunables through za_sysctl_set/get (names,
 * defaults, bad input changes nothing), each knob's rule, armed only
 * while it can fail something (za.nofast: the fast path runs otherwise),
 * and an allocator that ends whole after failures, also while it is armed
 * and disarmed under running threads; verbose writes its line for every
 * injected failure, a bulk call's too, but a NOWARN request's.
 */
#include "pcp_mode.h" /* first: dbg_make then takes the run's mode */
#include "debug_common.h"

#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#define P "fail_page_alloc."

static void expect(struct za *za, const char *name, const char *value)
{
	char buf[ZA_SYSCTL_VALUE_MAX];
	CHECK_EQ(za_sysctl_get(za, name, buf, sizeof(buf)), 0);
	if (strcmp(buf, value) != 0) {
		fprintf(stderr, "%s is '%s', expected '%s'\n", name, buf, value);
		exit(1);
	}
}

static void set(struct za *za, const char *name, const char *value)
{
	int err = za_sysctl_set(za, name, value);
	if (err) {
		fprintf(stderr, "za_sysctl_set(%s, %s): %d\n", name, value, err);
		exit(1);
	}
}

static const char *const names[] = { P "probability",
	                                 P "interval",
	                                 P "times",
	                                 P "space",
	                                 P "min-order",
	                                 P "ignore-gfp-wait",
	                                 P "ignore-gfp-atomic",
	                                 P "verbose" };
static const char *const defaults[] = {
	"0", "1", "1", "0", "1", "Y", "Y", "2"
};

static void test_tunables(void)
{
	struct za *za = dbg_make(0, 0);
	for (unsigned i = 0; i < 8; i++) {
		unsigned k;
		for (k = 0; za_sysctl_name(k); k++)
			if (!strcmp(za_sysctl_name(k), names[i]))
				break;
		CHECK(za_sysctl_name(k) != NULL);
		expect(za, names[i], defaults[i]);
	}
	CHECK_EQ(za->nofast, 0);
	static const struct {
		const char *name, *value;
		int err;
	} bad[] = {
		{ P "probability", "101", -ERANGE },
		{ P "probability", "-1", -ERANGE },
		{ P "probability", "Y", -EINVAL },
		{ P "probability", "5x", -EINVAL },
		{ P "probability", "", -EINVAL },
		{ P "probability", "0x10", -EINVAL },
		{ P "interval", "-1", -ERANGE },
		{ P "times", "-2", -ERANGE },
		{ P "times", "99999999999", -ERANGE },
		{ P "space", "-5", -ERANGE },
		{ P "min-order", "21", -ERANGE },
		{ P "ignore-gfp-wait", "2", -ERANGE },
		{ P "ignore-gfp-wait", "yes", -EINVAL },
		{ P "verbose", "3", -ERANGE },
		{ P "probabilty", "5", -ENOENT },
		{ P "", "5", -ENOENT },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err = za_sysctl_set(za, bad[i].name, bad[i].value);
		if (err != bad[i].err) {
			fprintf(stderr, "%s = '%s': %d, expected %d\n", bad[i].name,
			        bad[i].value, err, bad[i].err);
			exit(1);
		}
	}
	for (unsigned i = 0; i < 8; i++) /* nothing changed */
		expect(za, names[i], defaults[i]);
	CHECK_EQ(za->nofast, 0);
	char small[2];
	CHECK_EQ(za_sysctl_get(za, P "times", small, sizeof(small)), 0);
	CHECK_EQ(za_sysctl_get(za, P "interval", small, 1), -ERANGE);
	set(za, P "ignore-gfp-wait", " n\n");
	expect(za, P "ignore-gfp-wait", "N");
	set(za, P "ignore-gfp-wait", "1");
	expect(za, P "ignore-gfp-wait", "Y");
	set(za, P "times", "-1");
	expect(za, P "times", "-1");
	/* Armed only with a probability and times left. */
	set(za, P "probability", "10");
	CHECK_EQ(za->nofast, ZA_NOFAST_FAULT);
	RULE(za->rseq_alloc_gate == 0,
	     "armed fault injection closes the restartable allocation's gate");
	/* The free's gate does not follow fault injection. */
	CHECK_EQ(za->rseq_free_gate, !za->pcp_rseq     ? 0
	                             : za->strict_free ? ZA_RSEQ_FREE_STRICT
	                                               : ZA_RSEQ_FREE_PLAIN);
	RULE(za->rseq_pcp_gated == za->rseq_none,
	     "armed fault injection gives the restartable allocation's leaf "
	     "no set (rseq_pcp_gated names the dead set only)");
	set(za, P "times", "0");
	CHECK_EQ(za->nofast, 0);
	CHECK_EQ(za->rseq_alloc_gate, za->pcp_rseq);
	RULE(za->rseq_pcp_gated == (za->pcp_rseq ? za->rseq_pcp : za->rseq_none),
	     "disarmed fault injection gives the restartable allocation's leaf "
	     "its table back");
	set(za, P "times", "3");
	CHECK_EQ(za->nofast, ZA_NOFAST_FAULT);
	CHECK_EQ(za->rseq_alloc_gate, 0);
	set(za, P "probability", "0");
	CHECK_EQ(za->nofast, 0);
	RULE(za->rseq_alloc_gate == za->pcp_rseq,
	     "disarmed fault injection opens the restartable allocation's gate");
	za_destroy(za);
}

/* n calls of za_alloc_pages: how many failed (the others freed at once). */
static int fails(struct za *za, za_gfp_t gfp, unsigned order, int n)
{
	int f = 0;
	for (int i = 0; i < n; i++) {
		errno = 0;
		struct za_page *p = za_alloc_pages(za, gfp, order);
		if (!p) {
			CHECK_EQ(errno, ENOMEM);
			f++;
		} else {
			za_free_pages(za, p, order);
		}
	}
	return f;
}

static void test_rules(void)
{
	struct za *za = dbg_make(0, 1);
	unsigned long free0 = dbg_free_pages(za);
	set(za, P "verbose", "0");
	set(za, P "times", "-1");
	set(za, P "probability", "100");
	/* Defaults: min-order 1, ignore-gfp-wait, ignore-gfp-atomic. */
	CHECK_EQ(fails(za, ZA_GFP_NOWAIT, 0, 10), 0);
	CHECK_EQ(fails(za, ZA_GFP_NOWAIT, 1, 10), 10);
	CHECK_EQ(fails(za, ZA_GFP_KERNEL, 1, 10), 0);
	CHECK_EQ(fails(za, ZA_GFP_ATOMIC, 1, 10), 0);
	set(za, P "min-order", "0");
	CHECK_EQ(fails(za, ZA_GFP_NOWAIT, 0, 10), 10);
	set(za, P "ignore-gfp-wait", "0");
	CHECK_EQ(fails(za, ZA_GFP_KERNEL, 0, 10), 10);
	CHECK_EQ(fails(za, ZA_GFP_MOVABLE, 2, 10), 10);
	CHECK_EQ(fails(za, ZA_GFP_ATOMIC, 0, 10), 0);
	set(za, P "ignore-gfp-atomic", "0");
	CHECK_EQ(fails(za, ZA_GFP_ATOMIC, 0, 10), 10);
	/* NOFAIL never fails. */
	CHECK_EQ(fails(za, ZA_GFP_KERNEL | ZA_GFP_NOFAIL, 0, 10), 0);
	/* Bulk calls fail page by page. */
	struct za_page *v[8];
	CHECK_EQ(za_alloc_pages_bulk(za, ZA_GFP_KERNEL, 8, v), 0);
	/* min-order 3: orders below it pass. */
	set(za, P "min-order", "3");
	CHECK_EQ(fails(za, ZA_GFP_KERNEL, 2, 10), 0);
	CHECK_EQ(fails(za, ZA_GFP_KERNEL, 3, 10), 10);
	set(za, P "min-order", "0");
	/* interval 4: one eligible call in four. */
	set(za, P "interval", "4");
	CHECK_EQ(fails(za, ZA_GFP_KERNEL, 0, 40), 10);
	set(za, P "interval", "1");
	/* space 8: 7 order-0 calls spend it, then failures. */
	set(za, P "space", "8");
	CHECK_EQ(fails(za, ZA_GFP_KERNEL, 0, 7), 0);
	CHECK_EQ(fails(za, ZA_GFP_KERNEL, 0, 3), 3);
	expect(za, P "space", "1");
	/* times 3: three failures, then it disarms (the fast path is back). */
	set(za, P "times", "3");
	CHECK_EQ(fails(za, ZA_GFP_KERNEL, 0, 20), 3);
	expect(za, P "times", "0");
	CHECK_EQ(za->nofast, 0);
	/* probability 50: about half (bounds that never fail by chance). */
	set(za, P "times", "-1");
	set(za, P "probability", "50");
	int f = fails(za, ZA_GFP_KERNEL, 0, 2000);
	CHECK(f > 700 && f < 1300);
	set(za, P "probability", "0");
	CHECK_EQ(za->nofast, 0);
	/* Nothing was lost along the way. */
	CHECK_EQ(dbg_free_pages(za), free0);
	CHECK_EQ(dbg_msgs(), 0);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

/* Threads allocating and freeing across CPUs while failures are injected,
 * with page owner, poisoning and init-on-alloc on: every page comes back,
 * no false report, za_check clean. */
struct worker {
	struct za *za;
	int cpu;
	uint64_t seed;
	long failed;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	pm_set_cpu(&dbg_cpu, w->cpu);
	struct za_page *held[64] = { 0 };
	unsigned ord[64] = { 0 };
	long iters = tu_scale(20000);
	for (long i = 0; i < iters; i++) {
		unsigned k = (unsigned)(tu_rand(&w->seed) % 64);
		if (held[k]) {
			za_free_pages(w->za, held[k], ord[k]);
			held[k] = NULL;
			continue;
		}
		ord[k] = (unsigned)(tu_rand(&w->seed) % 4);
		za_gfp_t gfp = (i & 3) == 0   ? ZA_GFP_NOWAIT
		               : (i & 3) == 1 ? ZA_GFP_ATOMIC
		                              : ZA_GFP_MOVABLE;
		held[k] = za_alloc_pages(w->za, gfp, ord[k]);
		if (!held[k]) {
			w->failed++;
			continue;
		}
		unsigned char *a = za_page_address(w->za, held[k]);
		CHECK(a[0] == 0 && a[(4096ul << ord[k]) - 1] == 0); /* init_on_alloc */
		memset(a, w->cpu + 1, 4096ul << ord[k]);
		if (i % 1000 == 0) {
			struct za_page_owner_site s[4];
			CHECK(za_page_owner_summary(w->za, s, 4) >= 0);
		}
	}
	for (int k = 0; k < 64; k++)
		if (held[k])
			za_free_pages(w->za, held[k], ord[k]);
	return NULL;
}

static void test_threads(void)
{
	/* Simulated CPUs (locked page sets), or with --rseq real ones: the
	 * restartable fast paths must send every call to the aids too. */
	struct za *za = dbg_make(ZA_CFG_PAGE_OWNER | ZA_CFG_POISON |
	                             ZA_CFG_INIT_ON_ALLOC,
	                         1);
	pm_check_mode(za, "debug_fault");
	unsigned long free0 = dbg_free_pages(za);
	set(za, P "verbose", "0");
	set(za, P "times", "-1");
	set(za, P "min-order", "0");
	set(za, P "ignore-gfp-wait", "N");
	set(za, P "ignore-gfp-atomic", "N");
	set(za, P "probability", "10");
	pthread_t t[4];
	struct worker w[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ za, i, 1234u + (uint64_t)i, 0 };
		CHECK_EQ(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	long failed = 0;
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(pthread_join(t[i], NULL), 0);
		failed += w[i].failed;
	}
	CHECK(failed > 0);
	set(za, P "probability", "0");
	CHECK_EQ(za_page_owner_summary(za, NULL, 0), 0);
	if (dbg_msgs()) {
		fprintf(stderr, "reports in a correct program: %s\n", dbg_last_msg);
		exit(1);
	}
	CHECK_EQ(dbg_free_pages(za), free0);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

/* Fault injection armed and disarmed over and over while threads
 * allocate and free (no other aid on): the gates, and the tables the
 * restartable leaves read through, change under the calls. A call takes
 * the route of what it read; nothing is lost, nothing reported. */
static atomic_bool flips_done;

static void *flip_work(void *arg)
{
	struct worker *w = arg;
	pm_set_cpu(&dbg_cpu, w->cpu);
	struct za_page *held[32] = { 0 };
	unsigned ord[32] = { 0 };
	while (!atomic_load(&flips_done)) {
		unsigned k = (unsigned)(tu_rand(&w->seed) % 32);
		if (held[k]) {
			za_free_pages(w->za, held[k], ord[k]);
			held[k] = NULL;
			continue;
		}
		ord[k] = (unsigned)(tu_rand(&w->seed) % 6); /* 4, 5: big leaves */
		held[k] = za_alloc_pages(w->za, ZA_GFP_KERNEL, ord[k]);
		if (!held[k])
			w->failed++;
	}
	for (int k = 0; k < 32; k++)
		if (held[k])
			za_free_pages(w->za, held[k], ord[k]);
	return NULL;
}

static void test_gate_flips(void)
{
	struct za *za = dbg_make(0, 0);
	pm_check_mode(za, "debug_fault");
	unsigned long free0 = dbg_free_pages(za);
	set(za, P "verbose", "0");
	set(za, P "min-order", "0");
	set(za, P "ignore-gfp-wait", "N");
	set(za, P "probability", "1");
	atomic_store(&flips_done, false);
	pthread_t t[2];
	struct worker w[2];
	for (int i = 0; i < 2; i++) {
		w[i] = (struct worker){ za, i, 99u + (uint64_t)i, 0 };
		CHECK_EQ(pthread_create(&t[i], NULL, flip_work, &w[i]), 0);
	}
	long flips = tu_scale(4000);
	for (long i = 0; i < flips; i++) {
		set(za, P "times", (i & 1) ? "0" : "-1");
		CHECK_EQ(za->rseq_alloc_gate, (i & 1) ? za->pcp_rseq : 0);
	}
	atomic_store(&flips_done, true);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(pthread_join(t[i], NULL), 0);
	if (dbg_msgs()) {
		fprintf(stderr, "reports in a correct program: %s\n", dbg_last_msg);
		exit(1);
	}
	RULE(dbg_free_pages(za) == free0,
	     "gates that open and close under the calls lose no page");
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
	printf("gate flips: %ld, injected failures %ld\n", flips,
	       w[0].failed + w[1].failed);
}

/* Bytes written to stderr (fd 2) while f runs. */
static long stderr_bytes(void (*f)(struct za *), struct za *za)
{
	fflush(stderr);
	FILE *tmp = tmpfile();
	CHECK(tmp != NULL);
	int saved = dup(2);
	CHECK(saved >= 0);
	CHECK(dup2(fileno(tmp), 2) == 2);
	f(za);
	fflush(stderr);
	long n = lseek(2, 0, SEEK_END);
	CHECK(dup2(saved, 2) == 2);
	close(saved);
	fclose(tmp);
	return n;
}

static void one_kernel(struct za *za)
{
	CHECK(za_alloc_pages(za, ZA_GFP_KERNEL, 0) == NULL);
}
static void one_nowarn(struct za *za)
{
	CHECK(za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_NOWARN, 0) == NULL);
}
static void bulk_kernel(struct za *za)
{
	struct za_page *v[8];
	CHECK_EQ(za_alloc_pages_bulk(za, ZA_GFP_KERNEL, 8, v), 0);
}

/* verbose 1: a line on stderr for every failure injected, a bulk call's
 * too (it passes the caller's flags on: review 6 finding 5); none for a
 * request with NOWARN. */
static void test_verbose(void)
{
	struct za *za = dbg_make(0, 1);
	set(za, P "times", "-1");
	set(za, P "probability", "100");
	set(za, P "min-order", "0");
	set(za, P "ignore-gfp-wait", "0");
	set(za, P "verbose", "1");
	long single = stderr_bytes(one_kernel, za);
	long quiet = stderr_bytes(one_nowarn, za);
	long bulk = stderr_bytes(bulk_kernel, za);
	printf("verbose: single %ld bytes, NOWARN %ld, bulk %ld\n", single, quiet,
	       bulk);
	CHECK(single > 0);
	CHECK_EQ(quiet, 0);
	if (bulk == 0)
		fprintf(stderr, "rule: fault injection's verbose line is written "
		                "for a bulk allocation's injected failure too (the "
		                "caller did not ask for NOWARN)\n");
	CHECK(bulk > 0);
	set(za, P "verbose", "0");
	set(za, P "probability", "0");
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

/* The space budget spent by two calls at once (review 13, finding 2): a
 * call stopped between its read of fail_page_alloc.space and taking its
 * pages off it (ZA_DP_FAIL_SPACE) while another call (here from the
 * debug hook, on the same thread) spends the budget. The two must end as
 * they would one after the other: the first passes, the budget left is
 * too small for the second, which fails; the budget never goes below
 * zero (its range, what za_sysctl_set takes back). Debug builds only. */
static int space_hook_calls;
static void space_hook(struct za *za, int point, void *arg)
{
	(void)arg;
	if (point != ZA_DP_FAIL_SPACE || space_hook_calls++)
		return;
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 1);
	CHECK(p != NULL); /* 3 > 2: passes, and leaves 1 */
	za_free_pages(za, p, 1);
}

static void test_space_race(void)
{
	if (!za_debug)
		return;
	struct za *za = dbg_make(0, 1);
	set(za, P "verbose", "0");
	set(za, P "times", "-1");
	set(za, P "min-order", "0");
	set(za, P "ignore-gfp-wait", "N");
	set(za, P "probability", "100");
	set(za, P "space", "3");
	space_hook_calls = 0;
	za_store_relaxed(&za->debug_hook, space_hook);
	errno = 0;
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 1);
	za_store_relaxed(&za->debug_hook, NULL);
	CHECK(space_hook_calls >= 1);
	char v[32];
	CHECK_EQ(za_sysctl_get(za, P "space", v, sizeof(v)), 0);
	RULE(p == NULL && errno == ENOMEM && !strcmp(v, "1"),
	     "two calls that spend fail_page_alloc.space at once end as one "
	     "after the other: 3 pages, two order-1 calls, one passes, the "
	     "other fails, 1 left (got %s, space %s)",
	     p ? "a page" : "a failure", v);
	if (p)
		za_free_pages(za, p, 1);
	set(za, P "probability", "0");
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

/* Which calls fault injection reaches beyond the client's own: a
 * contiguous allocation is not asked itself, but the targets of the
 * blocks it migrates out of its range are ordinary allocations
 * (ZA_GFP_MOVABLE | NORETRY | NOWARN), failed as the kernel fails
 * alloc_contig_range's: with ignore-gfp-wait N it fails, quietly, each
 * target's failure spending one of times; with Y it is never touched
 * (docs/DEBUGGING.md, review 13). */
static struct za *reach_za;
static struct za_page *reach_held[DBG_BLOCK * DBG_BLOCKS];
static int reach_move(void *ctx, struct za_page *dst, struct za_page *src,
                      unsigned order)
{
	(void)ctx;
	unsigned long s = za_page_to_pfn(reach_za, src);
	if (reach_held[s] != src)
		return -ENOENT;
	reach_held[s] = NULL;
	reach_held[za_page_to_pfn(reach_za, dst)] = dst;
	return 0;
}

static void test_contig_reach(void)
{
	struct za_config c;
	memset(&c, 0, sizeof(c));
	c.nr_cpus = 1;
	c.cpu_id = dbg_cpu_id;
	c.block_pages = DBG_BLOCK;
	c.max_pfn = DBG_BLOCK * DBG_BLOCKS;
	c.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER | ZA_CFG_NO_KCOMPACTD;
	c.error = dbg_error;
	c.migrate = reach_move;
	c.offline_timeout_ms = 200;
	struct za *za = reach_za = za_create(&c);
	CHECK(za != NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, DBG_BLOCK * DBG_BLOCKS,
	                          NULL),
	         0);
	dbg_cpu = 0;
	unsigned long free0 = dbg_free_pages(za);
	/* One movable page in every 64: every candidate range must migrate. */
	memset(reach_held, 0, sizeof(reach_held));
	struct za_page *p;
	while ((p = za_alloc_pages(za, ZA_GFP_MOVABLE | ZA_GFP_NOWARN, 0)))
		reach_held[za_page_to_pfn(za, p)] = p;
	for (unsigned long i = 0; i < DBG_BLOCK * DBG_BLOCKS; i++)
		if (reach_held[i] && i % 64) {
			za_free_pages(za, reach_held[i], 0);
			reach_held[i] = NULL;
		}
	za_drain_all_pages(za);
	set(za, P "verbose", "0");
	set(za, P "times", "-1");
	set(za, P "min-order", "0");
	set(za, P "probability", "100");
	/* ignore-gfp-wait N: every target fails, and so does the range,
	 * quietly. (With Y the targets, which may wait, are never failed:
	 * test_rules' ZA_GFP_MOVABLE.) */
	set(za, P "ignore-gfp-wait", "N");
	unsigned msgs = dbg_msgs();
	errno = 0;
	struct za_page *r = za_alloc_contig_pages(za, DBG_BLOCK, ZA_GFP_MOVABLE);
	CHECK(r == NULL && errno == ENOMEM);
	CHECK_EQ(dbg_msgs(), msgs);
	/* Each target's failure spends one of times: 2 left, then none, the
	 * third target passes and the range is had. */
	set(za, P "times", "2");
	r = za_alloc_contig_pages(za, DBG_BLOCK, ZA_GFP_MOVABLE);
	CHECK(r != NULL);
	expect(za, P "times", "0");
	za_free_contig_pages(za, r, DBG_BLOCK);
	set(za, P "probability", "0");
	for (unsigned long i = 0; i < DBG_BLOCK * DBG_BLOCKS; i++)
		if (reach_held[i])
			za_free_pages(za, reach_held[i], 0);
	CHECK_EQ(dbg_free_pages(za), free0);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

int main(int argc, char **argv)
{
	tu_watchdog(240);
	pm_init(argc, argv, "debug_fault", 4);
	test_tunables();
	test_rules();
	test_verbose();
	test_threads();
	test_gate_flips();
	test_space_race();
	test_contig_reach();
	printf("debug_fault: ok\n");
	return 0;
}
