/*
 * test_hotplug_common.c - helpers shared by the hotplug tests. It is not a
 * test of its own: each test_hotplug_*.c includes it (everything here is
 * static), the way the kernel's tools/testing includes the code it needs.
 *
 *  - the CPUs: simulated ones (a thread-local CPU number behind
 *    za_config.cpu_id, page sets locked), or in a restartable run
 *    (--rseq, pcp_mode.h) real ones the threads pin themselves to;
 *  - a clock in nanoseconds and milliseconds;
 *  - backing memory from mmap, so that page contents are real;
 *  - a client: tables of owned blocks (one mutex per table) filled with a
 *    pattern made of a per-block seed (not of the pfn, so that a block
 *    keeps its pattern when migration moves it), a reverse map from pfn to
 *    (table, slot), and the migrate callback of API.md that looks src up,
 *    verifies and copies its contents to dst and points the entry at dst;
 *  - a walk of every per-CPU list under its lock (internal.h) that looks
 *    for pages of a range without dereferencing them.
 *
 * The client serialises its own frees against migrate as API.md asks: an
 * entry leaves its table (under the table lock) before za_free_pages, and
 * no table lock is ever held across a call into the allocator.
 */
/* Not every test uses every helper. */
#pragma GCC diagnostic ignored "-Wunused-function"

#include "testutil.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <zonealloc.h>

#include "internal.h"
#include "pcp_mode.h"

#define HP_PAGE 4096ul

/* --- CPUs -------------------------------------------------------------- */

static __thread int hp_cpu;
static int hp_cpu_id(void *ctx)
{
	(void)ctx;
	return hp_cpu;
}

/* The CPUs the test's threads spread over: its own count of simulated
 * CPUs, or the real CPUs of a restartable run. */
static unsigned hp_ncpu;

/* Read the run's mode (pcp_mode.h) before anything else. */
static void hp_mode(int argc, char **argv, const char *name, unsigned ncpu)
{
	pm_init(argc, argv, name, ncpu);
	hp_ncpu = pm_cpus(ncpu);
}

/* Move the calling thread to CPU c: simulated, or pinned to a real one. */
static void hp_set_cpu(int c)
{
	pm_set_cpu(&hp_cpu, c);
}

/* The configuration's CPUs for the run's mode. */
static void hp_config_cpus(struct za_config *cfg, unsigned ncpu)
{
	pm_config(cfg, ncpu, hp_cpu_id);
}

/* --- time ---------------------------------------------------------------- */

static uint64_t hp_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double hp_ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* Sanitizer builds run fewer iterations (ZA_TEST_SCALE < 100) and each is
 * slower: pauses that let worker threads get work done grow with that. */
static unsigned hp_pace(unsigned us)
{
	long pct = tu_scale(100);
	return pct < 100 ? us * 4 : us;
}

static void hp_sleep_us(unsigned us)
{
	struct timespec ts = { us / 1000000u, (long)(us % 1000000u) * 1000L };
	nanosleep(&ts, NULL);
}

/* --- memory -------------------------------------------------------------- */

static void *hp_map(unsigned long pages)
{
	void *p = mmap(NULL, pages * HP_PAGE, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	return p;
}

/* --- the pattern ----------------------------------------------------------- */

/* One word in every cache line: enough to tell whether a block's contents
 * arrived whole and in the right place, at an eighth of the cost (which
 * keeps the threads busy under the sanitizers too). */
#define HP_STRIDE 8

static uint64_t hp_word(uint64_t seed, unsigned long page, size_t i)
{
	uint64_t x = seed ^ (page * 0x9e3779b97f4a7c15ull) ^
	             (i * 0x100000001b3ull);
	x ^= x >> 29;
	return x * 0xbf58476d1ce4e5b9ull;
}

static void hp_fill(struct za *za, struct za_page *p, unsigned order,
                    uint64_t seed)
{
	uint64_t *w = za_page_address(za, p);
	CHECK(w != NULL);
	for (unsigned long k = 0; k < (1ul << order); k++)
		for (size_t i = 0; i < HP_PAGE / 8; i += HP_STRIDE)
			w[k * (HP_PAGE / 8) + i] = hp_word(seed, k, i);
}

/* Returns the number of wrong words (0: intact); prints the first. */
static unsigned long hp_verify(struct za *za, struct za_page *p,
                               unsigned order, uint64_t seed, const char *when)
{
	const uint64_t *w = za_page_address(za, p);
	unsigned long bad = 0;
	CHECK(w != NULL);
	for (unsigned long k = 0; k < (1ul << order); k++)
		for (size_t i = 0; i < HP_PAGE / 8; i += HP_STRIDE) {
			uint64_t want = hp_word(seed, k, i);
			uint64_t got = w[k * (HP_PAGE / 8) + i];
			if (got != want && bad++ == 0)
				fprintf(stderr,
				        "%s: block pfn %#lx order %u: page %lu word "
				        "%zu is %#llx, want %#llx\n",
				        when, za_page_to_pfn(za, p), order, k, i,
				        (unsigned long long)got, (unsigned long long)want);
		}
	return bad;
}

/* --- the client ------------------------------------------------------------ */

#define HP_SLOT_BITS 16

struct hp_ent {
	struct za_page *p;
	unsigned order;
	uint64_t seed;
};

struct hp_table {
	pthread_mutex_t lock;
	struct hp_ent *e;
	unsigned n, cap;
} __attribute__((aligned(64)));

struct hp_client {
	struct za *za;
	unsigned ntab;
	struct hp_table *tab;
	_Atomic uint32_t *owner; /* [max_pfn]: (tab << 16 | slot) + 1, 0 none */
	unsigned long max_pfn;
	int verify_on_migrate; /* check src's pattern before copying */
	int refuse;            /* return this (negative) instead of moving */
	/* Figures (atomic: bumped from the offlining thread and read later). */
	atomic_ulong migrated, enoent, refused, bad_order, corrupt;
	atomic_ulong migrated_by_order[ZA_MAX_ORDER_LIMIT + 1];
};

static void hp_client_init(struct hp_client *c, unsigned ntab, unsigned cap,
                           unsigned long max_pfn)
{
	memset(c, 0, sizeof(*c));
	CHECK(cap < (1u << HP_SLOT_BITS));
	c->ntab = ntab;
	/* Tables sit on their own cache lines (no false sharing between
	 * threads): aligned_alloc, since calloc does not promise 64. */
	c->tab = aligned_alloc(64, ntab * sizeof(*c->tab));
	CHECK(c->tab != NULL);
	memset(c->tab, 0, ntab * sizeof(*c->tab));
	for (unsigned t = 0; t < ntab; t++) {
		CHECK(pthread_mutex_init(&c->tab[t].lock, NULL) == 0);
		c->tab[t].e = calloc(cap, sizeof(struct hp_ent));
		CHECK(c->tab[t].e != NULL);
		c->tab[t].cap = cap;
	}
	c->max_pfn = max_pfn;
	c->owner = calloc(max_pfn, sizeof(*c->owner));
	CHECK(c->owner != NULL);
	c->verify_on_migrate = 1;
}

static void hp_client_fini(struct hp_client *c)
{
	for (unsigned t = 0; t < c->ntab; t++) {
		pthread_mutex_destroy(&c->tab[t].lock);
		free(c->tab[t].e);
	}
	free(c->tab);
	free((void *)c->owner);
}

static uint32_t hp_code(unsigned t, unsigned slot)
{
	return ((uint32_t)t << HP_SLOT_BITS | slot) + 1;
}

/* Take ownership of a block that is already filled. Returns false when
 * the table is full (the caller keeps the block). */
static bool hp_insert(struct hp_client *c, unsigned t, struct za_page *p,
                      unsigned order, uint64_t seed)
{
	struct hp_table *tb = &c->tab[t];
	bool ok = false;
	pthread_mutex_lock(&tb->lock);
	if (tb->n < tb->cap) {
		unsigned s = tb->n++;
		tb->e[s] = (struct hp_ent){ p, order, seed };
		atomic_store(&c->owner[za_page_to_pfn(c->za, p)], hp_code(t, s));
		ok = true;
	}
	pthread_mutex_unlock(&tb->lock);
	return ok;
}

/* Give up ownership of the entry in slot s (or of a random one when s is
 * out of range): it leaves the table under the lock, so that migrate can
 * no longer move it; the caller then verifies and frees it. */
static bool hp_remove(struct hp_client *c, unsigned t, unsigned s,
                      struct hp_ent *out)
{
	struct hp_table *tb = &c->tab[t];
	bool ok = false;
	pthread_mutex_lock(&tb->lock);
	if (tb->n) {
		if (s >= tb->n)
			s %= tb->n;
		*out = tb->e[s];
		atomic_store(&c->owner[za_page_to_pfn(c->za, out->p)], 0);
		unsigned last = --tb->n;
		if (s != last) {
			tb->e[s] = tb->e[last];
			atomic_store(&c->owner[za_page_to_pfn(c->za, tb->e[s].p)],
			             hp_code(t, s));
		}
		ok = true;
	}
	pthread_mutex_unlock(&tb->lock);
	return ok;
}

/* The client's two steps, as every test takes them: keep a block just
 * allocated (filled with a fresh pattern and recorded in table t), and
 * give back the block in slot s of table t (pattern verified, then
 * freed). hp_drop returns whether the slot held a block. */
static void hp_keep(struct za *za, struct hp_client *c, unsigned t,
                    struct za_page *p, unsigned order, uint64_t *rng)
{
	uint64_t seed = tu_rand(rng);
	hp_fill(za, p, order, seed);
	CHECK(hp_insert(c, t, p, order, seed));
}

static bool hp_drop(struct za *za, struct hp_client *c, unsigned t, unsigned s)
{
	struct hp_ent e;
	if (!hp_remove(c, t, s, &e))
		return false;
	CHECK_EQ(hp_verify(za, e.p, e.order, e.seed, "client"), 0);
	za_free_pages(za, e.p, e.order);
	return true;
}

static unsigned hp_count(struct hp_client *c, unsigned t)
{
	pthread_mutex_lock(&c->tab[t].lock);
	unsigned n = c->tab[t].n;
	pthread_mutex_unlock(&c->tab[t].lock);
	return n;
}

/* za_config.migrate. Called by the allocator with none of its locks held. */
static int hp_migrate(void *ctx, struct za_page *dst, struct za_page *src,
                      unsigned order)
{
	struct hp_client *c = ctx;
	unsigned long spfn = za_page_to_pfn(c->za, src);
	unsigned long dpfn = za_page_to_pfn(c->za, dst);
	if (c->refuse) {
		atomic_fetch_add(&c->refused, 1);
		return c->refuse;
	}
	CHECK(spfn < c->max_pfn && dpfn < c->max_pfn);
	uint32_t code = atomic_load(&c->owner[spfn]);
	if (!code) {
		atomic_fetch_add(&c->enoent, 1);
		return -ENOENT;
	}
	unsigned t = (code - 1) >> HP_SLOT_BITS,
	         s = (code - 1) & ((1u << HP_SLOT_BITS) - 1);
	CHECK(t < c->ntab);
	struct hp_table *tb = &c->tab[t];
	pthread_mutex_lock(&tb->lock);
	if (s >= tb->n || tb->e[s].p != src) {
		/* Freed (or moved to another slot and freed) meanwhile. */
		pthread_mutex_unlock(&tb->lock);
		atomic_fetch_add(&c->enoent, 1);
		return -ENOENT;
	}
	struct hp_ent *e = &tb->e[s];
	if (e->order != order)
		atomic_fetch_add(&c->bad_order, 1);
	if (c->verify_on_migrate &&
	    hp_verify(c->za, src, e->order, e->seed, "migrate: source"))
		atomic_fetch_add(&c->corrupt, 1);
	void *from = za_page_address(c->za, src),
	     *to = za_page_address(c->za, dst);
	CHECK(from && to);
	memcpy(to, from, HP_PAGE << e->order);
	e->p = dst;
	atomic_store(&c->owner[dpfn], code);
	atomic_store(&c->owner[spfn], 0);
	pthread_mutex_unlock(&tb->lock);
	atomic_fetch_add(&c->migrated, 1);
	atomic_fetch_add(&c->migrated_by_order[order], 1);
	return 0;
}

/* Verify and free everything the client owns. Returns blocks freed. */
static unsigned long hp_free_all(struct hp_client *c, const char *when)
{
	unsigned long n = 0;
	struct hp_ent e;
	for (unsigned t = 0; t < c->ntab; t++)
		while (hp_remove(c, t, 0, &e)) {
			CHECK_EQ(hp_verify(c->za, e.p, e.order, e.seed, when), 0);
			za_free_pages(c->za, e.p, e.order);
			n++;
		}
	return n;
}

/* Verify every owned block in place (at a quiescent point). */
static void hp_verify_all(struct hp_client *c, const char *when)
{
	for (unsigned t = 0; t < c->ntab; t++) {
		struct hp_table *tb = &c->tab[t];
		pthread_mutex_lock(&tb->lock);
		for (unsigned s = 0; s < tb->n; s++) {
			CHECK_EQ(hp_verify(c->za, tb->e[s].p, tb->e[s].order,
			                   tb->e[s].seed, when),
			         0);
			CHECK_EQ(atomic_load(&c->owner[za_page_to_pfn(c->za, tb->e[s].p)]),
			         hp_code(t, s));
		}
		pthread_mutex_unlock(&tb->lock);
	}
}

/* --- internals -------------------------------------------------------------- */

/* Pages of [start, start + nr) on any per-CPU list of any zone, each list
 * walked under its lock. A range page is counted, never dereferenced (its
 * metadata may be gone). */
static unsigned long hp_pcp_pages_in_range(struct za *za, unsigned long start,
                                           unsigned long nr)
{
	unsigned long found = 0;
	for (unsigned n = 0; n < za->nr_nodes; n++)
		for (int t = 0; t < ZA_NR_ZONES; t++) {
			struct za_zone *z = &za->nodes[n].zones[t];
			for (unsigned c = 0; c < za->nr_cpus; c++) {
				struct za_pcp *pcp = zone_pcp(z, (int)c);
				if (pcp_lock(za, pcp) != 0)
					continue;
				for (int i = 0; i < ZA_NR_PCP_LISTS; i++)
					for (uint32_t h = pcp->lists[i]; h != ZA_NIL;) {
						if (h >= start && h < start + nr) {
							found++;
							break;
						}
						h = pfn_page(za, h)->next;
					}
				pcp_unlock(za, pcp);
			}
		}
	return found;
}

/* At a quiescent point with nothing allocated: every managed page of every
 * zone is back on the buddy lists, and the checker agrees. */
static void hp_all_pages_back(struct za *za)
{
	za_drain_all_pages(za);
	za_vmstat_fold(za);
	CHECK_EQ(za_check(za, stderr), 0);
	for (unsigned n = 0; n < za_nr_nodes(za); n++)
		for (int t = 0; t < ZA_NR_ZONES; t++) {
			struct za_zone_info zi;
			CHECK_EQ(za_zone_info(za, (int)n, (enum za_zone_type)t, &zi), 0);
			CHECK_EQ(zi.pcp_pages, 0);
			CHECK_EQ(zi.isolated_free, 0);
			CHECK_EQ(zi.free, zi.managed);
			CHECK_EQ(za_zone_stat(za, (int)n, (enum za_zone_type)t,
			                      ZA_NR_ZONE_ALLOCATED),
			         0);
		}
}

/* A pause the worker threads honour at the top of their loops, so that the
 * main thread can check invariants at a quiescent point. */
struct hp_pause {
	atomic_int request;
	atomic_int parked;
};

static void hp_pause_point(struct hp_pause *pz)
{
	if (!atomic_load(&pz->request))
		return;
	atomic_fetch_add(&pz->parked, 1);
	while (atomic_load(&pz->request))
		hp_sleep_us(50);
	atomic_fetch_sub(&pz->parked, 1);
}

static void hp_pause_all(struct hp_pause *pz, int nthreads)
{
	atomic_store(&pz->request, 1);
	while (atomic_load(&pz->parked) < nthreads)
		hp_sleep_us(50);
}

static void hp_resume_all(struct hp_pause *pz)
{
	atomic_store(&pz->request, 0);
}

/* --- stress scaffolding ------------------------------------------------------ */

/* The allocator of a stress test. The caller has set cfg's layout
 * (block_pages, max_pfn), flags and timeouts; cfg gets the run's CPUs
 * (hp_mode) and, unless the caller set one, the client's migrate callback
 * (hp_migrate, with the client as its context); the client gets ntab
 * tables of cap blocks; yields at the race points are on (debug builds).
 * name is the test's, for pm_check_mode. */
static struct za *hp_create(struct za_config *cfg, unsigned ncpu,
                            struct hp_client *cl, unsigned ntab, unsigned cap,
                            const char *name)
{
	hp_config_cpus(cfg, ncpu);
	if (!cfg->migrate)
		cfg->migrate = hp_migrate;
	cfg->migrate_ctx = cl;
	hp_client_init(cl, ntab, cap, cfg->max_pfn);
	struct za *za = za_create(cfg);
	CHECK(za != NULL);
	cl->za = za;
	pm_check_mode(za, name);
	za_debug_set(za, ZA_DEBUG_RANDOM_YIELD, 1);
	return za;
}

/* Online frames [start, start + n) in node 0's zone, backed by the
 * mapping mem at the same offset (hp_map(max_pfn) maps every frame). */
static int hp_online(struct za *za, unsigned char *mem, enum za_zone_type zone,
                     unsigned long start, unsigned long n)
{
	return za_memory_online(za, 0, zone, start, n, mem + start * HP_PAGE);
}

/* The churn of a client thread, from one random draw r: whether a thread
 * holding n of at most cap blocks allocates one (else it frees one), and
 * the order it asks for (0 mostly, 1..3 now and then). */
static bool hp_churn_allocates(unsigned n, unsigned cap, uint64_t r)
{
	return n < cap / 2 || (n < cap && (r >> 16) % 2);
}

static unsigned hp_churn_order(uint64_t r)
{
	unsigned o = (unsigned)((r >> 20) % 8);
	return o < 5 ? 0 : o - 4;
}

/* Start n threads running fn, each given its index; join them. */
static void hp_start(pthread_t *th, unsigned n, void *(*fn)(void *))
{
	for (unsigned long i = 0; i < n; i++)
		CHECK(pthread_create(&th[i], NULL, fn, (void *)i) == 0);
}

static void hp_join(pthread_t *th, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		CHECK(pthread_join(th[i], NULL) == 0);
}

/* The end of a stress run, the threads joined: every block the client
 * holds kept its contents, goes back, and then every page is free and
 * za_check passes; a restartable run fenced CPUs. Destroys the allocator,
 * the client and the mapping of max_pfn frames. */
static void hp_finish(struct za *za, struct hp_client *cl, unsigned char *mem,
                      unsigned long max_pfn, const char *name)
{
	hp_verify_all(cl, "end");
	hp_free_all(cl, "end");
	hp_all_pages_back(za);
	pm_check_fenced(za, name);
	za_destroy(za);
	hp_client_fini(cl);
	munmap(mem, max_pfn * HP_PAGE);
}
