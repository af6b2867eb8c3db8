/*
 * test_core_mt.c - multi-threaded stress with fill-and-verify.
 *
 * 4 threads on 8 simulated CPUs (the cpu_id callback reads a thread-local
 * CPU number that each thread changes now and then, so several threads
 * share a CPU's page set and a thread "migrates" between calls). Real
 * memory from mmap. Each thread allocates blocks of order 0..4 with mixed
 * gfp (KERNEL, NOWAIT, ATOMIC, MOVABLE, RECLAIMABLE, some with ZERO), fills
 * each with a pattern made of its pfn and a per-block seed, verifies the
 * pattern before freeing, and hands some blocks to other threads through a
 * mutex-protected exchange (cross-thread frees). ZA_GFP_ZERO blocks must
 * read zero. Checks on every block: aligned to its order, in the zone,
 * za_page_address matches the pfn. With the live set well under the
 * watermarks no allocation may fail. Runs about 3 s (scaled by
 * ZA_TEST_SCALE). At the end: everything freed, za_drain_all_pages,
 * za_check == 0, all pages back in the buddy lists, fully merged.
 *
 * With --rseq (ctest: core_mt_rseq) the page sets are restartable and the
 * CPUs real (pcp_mode.h): each "migration" pins the thread to a real CPU,
 * so owners on one CPU race the remote drains, folds and decay of the
 * others (seed 001's remote drain, with stop + fence in place of the
 * lock), and frees of blocks other threads allocated land on real CPUs'
 * lists.
 */
#include "testutil.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <zonealloc.h>

#include "pcp_mode.h"

#define NCPU 8
#define NTHR 4
#define BLK 1024UL
#define START 0x40000UL
#define NPAGES (32 * BLK) /* 128 MiB */
#define MAXLIVE 256
#define XCHG 64

static __thread int my_cpu;
static int get_cpu(void *ctx)
{
	(void)ctx;
	return my_cpu;
}

static struct za *za;
static unsigned char *mem;
static size_t page_size;

struct blk {
	struct za_page *p;
	unsigned order;
	uint64_t seed;
};

static pthread_mutex_t xlock = PTHREAD_MUTEX_INITIALIZER;
static struct blk xchg[XCHG];
static int nx;

static atomic_int stop;
static unsigned long long n_alloc[NTHR], n_fail[NTHR], n_cross[NTHR];

static uint64_t word(unsigned long pfn, uint64_t seed, size_t i)
{
	return (pfn * 0x9e3779b97f4a7c15ull) ^ seed ^ (i * 0x100000001b3ull);
}

static unsigned long pfn_of(struct za_page *p)
{
	return za_page_to_pfn(za, p);
}

static void fill(const struct blk *b)
{
	unsigned long pfn = pfn_of(b->p);
	unsigned char *a = za_page_address(za, b->p);
	for (unsigned long k = 0; k < (1UL << b->order); k++) {
		uint64_t *w = (uint64_t *)(a + k * page_size);
		for (size_t i = 0; i < page_size / 8; i++)
			w[i] = word(pfn + k, b->seed, i);
	}
}

static void verify(const struct blk *b)
{
	unsigned long pfn = pfn_of(b->p);
	unsigned char *a = za_page_address(za, b->p);
	for (unsigned long k = 0; k < (1UL << b->order); k++) {
		uint64_t *w = (uint64_t *)(a + k * page_size);
		for (size_t i = 0; i < page_size / 8; i++)
			if (w[i] != word(pfn + k, b->seed, i)) {
				fprintf(stderr,
				        "block pfn %#lx order %u: page %#lx word %zu "
				        "is %#llx, want %#llx (someone else wrote it)\n",
				        pfn, b->order, pfn + k, i, (unsigned long long)w[i],
				        (unsigned long long)word(pfn + k, b->seed, i));
				exit(1);
			}
	}
}

static void check_new(struct za_page *p, unsigned order, int zero)
{
	unsigned long pfn = pfn_of(p);
	unsigned long n = 1UL << order;
	CHECK(pfn >= START && pfn + n <= START + NPAGES);
	CHECK(pfn % n == 0);
	unsigned char *a = za_page_address(za, p);
	CHECK(a == mem + (pfn - START) * page_size);
	if (zero) {
		const uint64_t *w = (const uint64_t *)a;
		for (size_t i = 0; i < (n * page_size) / 8; i++)
			if (w[i] != 0) {
				fprintf(stderr,
				        "ZA_GFP_ZERO block pfn %#lx order %u: word "
				        "%zu is %#llx\n",
				        pfn, order, i, (unsigned long long)w[i]);
				exit(1);
			}
	}
}

static const za_gfp_t gfps[] = { ZA_GFP_KERNEL,
	                             ZA_GFP_KERNEL,
	                             ZA_GFP_NOWAIT,
	                             ZA_GFP_ATOMIC,
	                             ZA_GFP_MOVABLE,
	                             ZA_GFP_MOVABLE,
	                             ZA_GFP_KERNEL | ZA_GFP_RECLAIMABLE,
	                             ZA_GFP_KERNEL | ZA_GFP_ZERO,
	                             ZA_GFP_MOVABLE | ZA_GFP_ZERO };

static void *worker(void *arg)
{
	int id = (int)(long)arg;
	uint64_t s = 0x1234567ull + (uint64_t)id * 0x9876543ull;
	struct blk live[MAXLIVE];
	int nlive = 0;
	const unsigned ncpu = pm_cpus(NCPU);
	pm_set_cpu(&my_cpu, (int)((unsigned)id % ncpu));

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t r = tu_rand(&s);
		if (r % 64 == 0)
			pm_set_cpu(&my_cpu, (int)((r >> 8) % ncpu)); /* "migrate" */
		if (r % 1024 == 1)
			za_drain_local_pages(za);
		if (r % 4096 == 2)
			za_drain_all_pages(za);
		unsigned op = (unsigned)((r >> 16) % 10);
		if (op < 5 && nlive < MAXLIVE) {
			unsigned order = (unsigned)((r >> 24) % 8);
			order = order < 4 ? 0 : order - 3; /* 0 half the time, 1..4 */
			za_gfp_t gfp = gfps[(r >> 32) % (sizeof(gfps) / sizeof(gfps[0]))];
			struct za_page *p = za_alloc_pages(za, gfp, order);
			if (!p) {
				n_fail[id]++;
				continue;
			}
			n_alloc[id]++;
			check_new(p, order, (gfp & ZA_GFP_ZERO) != 0);
			live[nlive].p = p;
			live[nlive].order = order;
			live[nlive].seed = tu_rand(&s);
			fill(&live[nlive]);
			nlive++;
		} else if (op < 7 && nlive > 0) {
			/* give one away, or take one from the exchange */
			int k = (int)((r >> 24) % (unsigned)nlive);
			pthread_mutex_lock(&xlock);
			if (nx < XCHG && (r >> 40) % 2) {
				xchg[nx++] = live[k];
				live[k] = live[--nlive];
			} else if (nx > 0 && nlive < MAXLIVE) {
				live[nlive++] = xchg[--nx];
				n_cross[id]++;
			}
			pthread_mutex_unlock(&xlock);
		} else if (nlive > 0) {
			int k = (int)((r >> 24) % (unsigned)nlive);
			verify(&live[k]);
			za_free_pages(za, live[k].p, live[k].order);
			live[k] = live[--nlive];
		}
	}
	while (nlive > 0) {
		nlive--;
		verify(&live[nlive]);
		za_free_pages(za, live[nlive].p, live[nlive].order);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pm_init(argc, argv, "core_mt", NCPU);
	tu_watchdog(60);
	page_size = 4096;
	mem = mmap(NULL, NPAGES * page_size, PROT_READ | PROT_WRITE,
	           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(mem != MAP_FAILED);
	memset(mem, 0xa5, NPAGES * page_size); /* ZERO must really zero */

	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	pm_config(&cfg, NCPU, get_cpu);
	cfg.block_pages = BLK;
	cfg.max_pfn = START + NPAGES + BLK;
	cfg.min_free_kbytes = 2048;
	cfg.vmstat_interval_ms = 50; /* the periodic fold runs during the test */
	za = za_create(&cfg);
	CHECK(za != NULL);
	pm_check_mode(za, "core_mt");
	CHECK_EQ(za_page_shift(za), 12);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, START, NPAGES, mem), 0);

	pthread_t th[NTHR];
	for (long i = 0; i < NTHR; i++)
		CHECK(pthread_create(&th[i], NULL, worker, (void *)i) == 0);
	long ms = tu_scale(3000);
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
	atomic_store(&stop, 1);
	for (int i = 0; i < NTHR; i++)
		CHECK(pthread_join(th[i], NULL) == 0);

	/* the exchange */
	for (int i = 0; i < nx; i++) {
		verify(&xchg[i]);
		za_free_pages(za, xchg[i].p, xchg[i].order);
	}
	unsigned long long allocs = 0, fails = 0, cross = 0;
	for (int i = 0; i < NTHR; i++) {
		allocs += n_alloc[i];
		fails += n_fail[i];
		cross += n_cross[i];
	}
	printf("%llu allocations, %llu failures, %llu cross-thread\n", allocs,
	       fails, cross);
	CHECK(allocs > 1000);
	CHECK(cross > 0);
	/* live set <= 4 * 256 * 16 + 64 * 16 pages, far above the watermarks:
	 * no request may fail */
	CHECK_EQ(fails, 0);

	za_drain_all_pages(za);
	pm_check_fenced(za, "core_mt");
	CHECK_EQ(za_check(za, stderr), 0);
	struct za_zone_info zi;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_NORMAL, &zi), 0);
	CHECK_EQ(zi.pcp_pages, 0);
	CHECK_EQ(zi.free, NPAGES);
	unsigned mo = za_max_order(za);
	CHECK_EQ(zi.nr_free[mo] << mo, NPAGES);
	za_vmstat_fold(za);
	CHECK_EQ(za_zone_stat(za, 0, ZA_ZONE_NORMAL, ZA_NR_FREE_PAGES), NPAGES);
	CHECK_EQ(za_event_count(za, ZA_PGALLOC), za_event_count(za, ZA_PGFREE));
	za_destroy(za);
	munmap(mem, NPAGES * page_size);
	printf("core_mt: ok\n");
	return 0;
}
