/*
 * hotline.c - reproduces why order-0 pairs do not scale from 1 to 2
 * threads: the cache line of the two CPUs' hottest pages.
 *
 * Two simulated CPUs (one pinned thread each) run alloc+free pairs. Each
 * CPU's per-CPU list hands the same page out again and again (LIFO), so
 * each CPU has one hot page whose 16-byte metadata it writes on every op.
 * By default both hot pages come from the same pageblock, and one of them
 * is the pageblock's first page, whose metadata also holds the pageblock's
 * migratetype: the other CPU reads that on every free, so the line bounces
 * between the cores. With "separate" CPU 1 first takes pages until it gets
 * one from another pageblock (keeping the rest) and frees only that one,
 * making it its hot page; nothing else changes.
 *
 *   build/bench/bench_hotline            # hot pages in one pageblock
 *   build/bench/bench_hotline separate   # in two pageblocks
 *   build/bench/bench_hotline atomics    # what one locked instruction
 *                                        # costs on this CPU, uncontended
 *   build/bench/bench_hotline floor      # the least a pair can cost with
 *                                        # the three locked instructions
 *                                        # the old rules needed, and
 *                                        # without them; and as an array
 *                                        # stack (tcmalloc's shape), with
 *                                        # and without the per-page state
 *                                        # the double-free invariant needs
 *   build/bench/bench_hotline fence      # what one CPU fence of the
 *                                        # restartable page sets costs
 *                                        # (membarrier), and a remote
 *                                        # drain that needs one
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zonealloc.h"

#define START_PFN 0x100000ul
#define NR_PAGES 65536ul /* 256 MiB */

static struct za *za;
static __thread int this_cpu;
static atomic_int go, stop;
static double ns_per_op[2];

static int cpu_id(void *ctx)
{
	(void)ctx;
	return this_cpu;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *worker(void *arg)
{
	int id = (int)(long)arg;
	cpu_set_t set;
	long n = 0;
	double t0;

	CPU_ZERO(&set);
	CPU_SET(id, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	this_cpu = id;
	while (!atomic_load(&go))
		;
	t0 = now();
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		for (int i = 0; i < 64; i++) {
			struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);

			__asm__ volatile("" : : "r"(p) : "memory");
			za_free_pages(za, p, 0);
		}
		n += 64;
	}
	ns_per_op[id] = (now() - t0) / (double)n * 1e9;
	return NULL;
}

/* The price of the fast path's atomics alone: an exchange plus a release
 * store (a try-lock and its unlock) and a one-byte compare-and-swap (a
 * page-state change), on a line no other CPU touches. */
static int atomics(void)
{
	static _Alignas(64) int lock;
	static _Alignas(64) unsigned char state;
	const long n = 50000000;
	double t;

	t = now();
	for (long i = 0; i < n; i++) {
		int v = __atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE);

		__asm__ volatile("" : : "r"(v));
		__atomic_store_n(&lock, 0, __ATOMIC_RELEASE);
	}
	printf("exchange + release store: %.2f ns\n", (now() - t) / n * 1e9);
	t = now();
	for (long i = 0; i < n; i++) {
		unsigned char e = 1;

		__atomic_compare_exchange_n(&state, &e, 1, 0, __ATOMIC_ACQ_REL,
		                            __ATOMIC_ACQUIRE);
	}
	printf("byte compare-and-swap:    %.2f ns\n", (now() - t) / n * 1e9);
	return 0;
}

/* The least an order-0 pair can cost under DESIGN.md's rules: a model of
 * the work alone, with no checks, no statistics and no zone - a per-CPU
 * set with a lock word and a LIFO list of 16-byte page records. The
 * allocation try-locks the set, pops, marks the page allocated and
 * unlocks; the free claims the page with a compare-and-swap of its state
 * (what catches a double free, even a concurrent one), try-locks, pushes
 * and unlocks. Run once with those three locked instructions and once
 * with plain loads and stores in their place (wrong under concurrency:
 * it only measures what the three cost). */
struct model_page {
	uint32_t next;
	uint8_t state;
	uint8_t pad[11];
};
struct model_set {
	_Alignas(64) int lock;
	int count;
	uint32_t head;
};
#define MODEL_PAGES 64
static struct model_page model_pages[MODEL_PAGES];
static struct model_set model_set;

static __attribute__((noinline)) struct model_page *model_alloc(int locked)
{
	struct model_set *s = &model_set;
	if (locked ? __atomic_exchange_n(&s->lock, 1, __ATOMIC_ACQUIRE)
	           : __atomic_load_n(&s->lock, __ATOMIC_RELAXED))
		return NULL;
	if (!locked)
		__atomic_store_n(&s->lock, 1, __ATOMIC_RELAXED);
	struct model_page *p = &model_pages[s->head];
	s->head = p->next;
	s->count--;
	__atomic_store_n(&p->state, 3, __ATOMIC_RELEASE);
	__atomic_store_n(&s->lock, 0, __ATOMIC_RELEASE);
	return p;
}

static __attribute__((noinline)) void model_free(struct model_page *p,
                                                 int locked)
{
	struct model_set *s = &model_set;
	unsigned char e = 3;
	if (locked
	        ? !__atomic_compare_exchange_n(&p->state, &e, 4, 0,
	                                       __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)
	        : __atomic_load_n(&p->state, __ATOMIC_RELAXED) != 3)
		abort();
	if (!locked)
		__atomic_store_n(&p->state, 4, __ATOMIC_RELAXED);
	if (locked ? __atomic_exchange_n(&s->lock, 1, __ATOMIC_ACQUIRE)
	           : __atomic_load_n(&s->lock, __ATOMIC_RELAXED))
		abort();
	if (!locked)
		__atomic_store_n(&s->lock, 1, __ATOMIC_RELAXED);
	p->next = s->head;
	s->head = (uint32_t)(p - model_pages);
	s->count++;
	__atomic_store_n(&p->state, 2, __ATOMIC_RELEASE);
	__atomic_store_n(&s->lock, 0, __ATOMIC_RELEASE);
}

/* The same pair in tcmalloc's shape: the set holds an array of the free
 * records' indices, popped and pushed by depth, so the list never goes
 * through a record. With state (what DESIGN.md's double-free invariant
 * needs: the free checks that the block is allocated, both sides write
 * its state) and without (tcmalloc's: it keeps no state a free could
 * check). Plain loads and stores, as the restartable sets' owner uses. */
struct model_stack {
	_Alignas(64) int busy;
	int depth;
	uint32_t slot[MODEL_PAGES];
};
static struct model_stack model_stack;

static __attribute__((noinline)) struct model_page *model_pop(int state)
{
	struct model_stack *s = &model_stack;
	if (__atomic_load_n(&s->busy, __ATOMIC_RELAXED) || !s->depth)
		return NULL;
	__atomic_store_n(&s->busy, 1, __ATOMIC_RELAXED);
	struct model_page *p = &model_pages[s->slot[--s->depth]];
	/* the allocation checks the state it takes: a racing double free
	 * is caught there at the latest */
	if (state && __atomic_load_n(&p->state, __ATOMIC_RELAXED) != 2)
		abort();
	if (state)
		__atomic_store_n(&p->state, 3, __ATOMIC_RELAXED);
	__atomic_store_n(&s->busy, 0, __ATOMIC_RELEASE);
	return p;
}

static __attribute__((noinline)) void model_push(struct model_page *p,
                                                 int state)
{
	struct model_stack *s = &model_stack;
	if (state && __atomic_load_n(&p->state, __ATOMIC_RELAXED) != 3)
		abort();
	if (__atomic_load_n(&s->busy, __ATOMIC_RELAXED) || s->depth == MODEL_PAGES)
		abort();
	__atomic_store_n(&s->busy, 1, __ATOMIC_RELAXED);
	s->slot[s->depth++] = (uint32_t)(p - model_pages);
	if (state)
		__atomic_store_n(&p->state, 2, __ATOMIC_RELAXED);
	__atomic_store_n(&s->busy, 0, __ATOMIC_RELEASE);
}

static double floor_stack(int state, long n)
{
	for (unsigned i = 0; i < MODEL_PAGES; i++) {
		model_pages[i].state = 2;
		model_stack.slot[i] = i;
	}
	model_stack.depth = MODEL_PAGES;
	for (long i = 0; i < n / 10; i++) /* warm-up */
		model_push(model_pop(state), state);
	double t = now();
	for (long i = 0; i < n; i++) {
		struct model_page *p = model_pop(state);
		__asm__ volatile("" : : "r"(p) : "memory");
		model_push(p, state);
	}
	return (now() - t) / n * 1e9;
}

static int floor_model(void)
{
	const long n = 50000000;
	double ns[2];

	for (int locked = 1; locked >= 0; locked--) {
		for (unsigned i = 0; i < MODEL_PAGES; i++) {
			model_pages[i].next = i + 1;
			model_pages[i].state = 2;
		}
		model_set.head = 0;
		model_set.count = MODEL_PAGES;
		for (long i = 0; i < n / 10; i++) /* warm-up */
			model_free(model_alloc(locked), locked);
		double t = now();
		for (long i = 0; i < n; i++) {
			struct model_page *p = model_alloc(locked);
			__asm__ volatile("" : : "r"(p) : "memory");
			model_free(p, locked);
		}
		ns[locked] = (now() - t) / n * 1e9;
	}
	printf("pair, model with the three locked instructions: %.2f ns\n", ns[1]);
	printf("pair, model with plain loads and stores:        %.2f ns\n", ns[0]);
	printf("the three locked instructions in a pair:        %.2f ns\n",
	       ns[1] - ns[0]);
	double with = floor_stack(1, n), without = floor_stack(0, n);
	printf("pair, model as an array stack with page state:  %.2f ns\n", with);
	printf("pair, model as an array stack, no page state:   %.2f ns\n",
	       without);
	return 0;
}

/* The fence a remote user of a restartable page set issues: membarrier's
 * expedited rseq command aimed at one CPU (the other core, where a thread
 * spins in user space, as an allocating owner would). Then the whole
 * remote drain of a CPU's page set as za_drain_all_pages does it: stop,
 * fence, wait, flush a batch, restart. */
static atomic_int fence_stop;
static void pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}
static uint64_t now_ns(void)
{
	return (uint64_t)(now() * 1e9);
}
static void *spinner(void *arg)
{
	(void)arg;
	pin(1);
	while (!atomic_load_explicit(&fence_stop, memory_order_relaxed))
		;
	return NULL;
}

static int fence_cost(void)
{
#ifdef __linux__
	enum { REGISTER = 1 << 8, FENCE = 1 << 7, FLAG_CPU = 1 };
	const int n = 20000;
	pthread_t t;
	if (syscall(SYS_membarrier, REGISTER, 0, 0)) {
		perror("membarrier register (expedited rseq)");
		return 1;
	}
	pthread_create(&t, NULL, spinner, NULL);
	pin(0);
	usleep(10000);
	uint64_t t0 = now_ns();
	for (int i = 0; i < n; i++)
		if (syscall(SYS_membarrier, FENCE, FLAG_CPU, 1)) {
			perror("membarrier fence");
			return 1;
		}
	uint64_t t1 = now_ns();
	printf("one fence of another CPU (membarrier expedited rseq): %.0f ns\n",
	       (double)(t1 - t0) / n);
	t0 = now_ns();
	for (int i = 0; i < n; i++)
		syscall(SYS_membarrier, FENCE, FLAG_CPU, 0);
	t1 = now_ns();
	printf("one fence of the caller's own CPU:                    %.0f ns\n",
	       (double)(t1 - t0) / n);
	atomic_store(&fence_stop, 1);
	pthread_join(t, NULL);

	/* A remote drain of a set that holds pages, default configuration. */
	struct za_config zc;
	memset(&zc, 0, sizeof(zc));
	zc.block_pages = 32768;
	zc.max_pfn = START_PFN + NR_PAGES;
	struct za *z = za_create(&zc);
	if (!z ||
	    za_memory_online(z, 0, ZA_ZONE_NORMAL, START_PFN, NR_PAGES, NULL))
		return 1;
	struct za_pcp_info pi;
	za_pcp_info(z, 0, 0, ZA_ZONE_NORMAL, &pi);
	uint64_t total = 0;
	const int rounds = 2000;
	for (int r = 0; r < rounds; r++) {
		struct za_page *pg[64];
		pin(1);
		for (int i = 0; i < 64; i++)
			pg[i] = za_alloc_pages(z, ZA_GFP_KERNEL, 0);
		for (int i = 0; i < 64; i++)
			za_free_pages(z, pg[i], 0);
		pin(0);
		uint64_t a = now_ns();
		za_drain_all_pages(z);
		total += now_ns() - a;
	}
	printf("za_drain_all_pages with pages on one CPU's set (%s): %.0f ns\n",
	       pi.restartable ? "restartable" : "locked", (double)total / rounds);
	za_destroy(z);
	return 0;
#else
	printf("no membarrier on this platform\n");
	return 0;
#endif
}

int main(int argc, char **argv)
{
	int separate = argc > 1 && !strcmp(argv[1], "separate");
	struct za_config zc;
	struct za_page *p;
	unsigned long pfn0, pfn1, pb = 1ul << 9;
	void *mem;

	if (argc > 1 && !strcmp(argv[1], "atomics"))
		return atomics();
	if (argc > 1 && !strcmp(argv[1], "floor"))
		return floor_model();
	if (argc > 1 && !strcmp(argv[1], "fence"))
		return fence_cost();
	memset(&zc, 0, sizeof(zc));
	zc.nr_cpus = 2;
	zc.cpu_id = cpu_id;
	zc.block_pages = 32768;
	zc.max_pfn = START_PFN + NR_PAGES;
	zc.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	za = za_create(&zc);
	mem = mmap(NULL, NR_PAGES << 12, PROT_READ | PROT_WRITE,
	           MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (!za || mem == MAP_FAILED ||
	    za_memory_online(za, 0, ZA_ZONE_NORMAL, START_PFN, NR_PAGES, mem)) {
		fprintf(stderr, "set-up failed\n");
		return 1;
	}
	pb = 1ul << za_pageblock_order(za);

	this_cpu = 0;
	p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	pfn0 = za_page_to_pfn(za, p);
	za_free_pages(za, p, 0);
	this_cpu = 1;
	p = za_alloc_pages(za, ZA_GFP_KERNEL, 0);
	pfn1 = za_page_to_pfn(za, p);
	while (separate && pfn1 / pb == pfn0 / pb) {
		p = za_alloc_pages(za, ZA_GFP_KERNEL, 0); /* the others stay out */
		pfn1 = za_page_to_pfn(za, p);
	}
	za_free_pages(za, p, 0);
	printf("hot pages: CPU 0 pfn %#lx (offset %lu in its pageblock), CPU 1 "
	       "pfn %#lx (offset %lu): %s pageblock\n",
	       pfn0, pfn0 % pb, pfn1, pfn1 % pb,
	       pfn0 / pb == pfn1 / pb ? "same" : "different");

	for (int nt = 1; nt <= 2; nt++) {
		pthread_t t[2];
		struct timespec d = { 0, 500000000 };
		double mops = 0;

		atomic_store(&go, 0);
		atomic_store(&stop, 0);
		for (long i = 0; i < nt; i++)
			pthread_create(&t[i], NULL, worker, (void *)i);
		atomic_store(&go, 1);
		nanosleep(&d, NULL);
		atomic_store(&stop, 1);
		for (int i = 0; i < nt; i++) {
			pthread_join(t[i], NULL);
			mops += 1e3 / ns_per_op[i];
		}
		printf("%d thread(s): %.2f ns per pair per thread, %.1f Mops/s\n", nt,
		       nt == 1 ? ns_per_op[0] : (ns_per_op[0] + ns_per_op[1]) / 2,
		       mops);
	}
	za_destroy(za);
	return 0;
}
