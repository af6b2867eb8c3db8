/*
 * test_core_virt.c - za_virt_to_page: from an address back to its page.
 *
 *  1. Hits: for blocks handed out at every order, the first byte, a byte
 *     inside and the last byte of every page of the block give that page;
 *     za_page_address and za_virt_to_page are inverses.
 *  2. Misses: NULL za or address, addresses below, between and past the
 *     online ranges, frame-only memory, memory of the process that is no
 *     allocator's.
 *  3. Runs: ranges onlined in pieces that continue each other merge into
 *     one run; an offline in the middle splits it, and addresses there
 *     miss until the block comes back; many ranges whose addresses run
 *     against their frame numbers are all found.
 *  4. Bad onlines: memory already online under other frames (-EEXIST) or
 *     a range that wraps the address space (-EINVAL) change nothing.
 *  5. A lookup thread races onlines and offlines of other blocks: its
 *     answers are always right.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"
#include "testutil.h"

#define PAGE 4096ul
#define BLOCK 1024ul /* pages: one max-order block */
#define NB 16        /* blocks of backing memory */

static struct za *za;
static char *mem; /* NB blocks of backing memory */

static char *blk_addr(unsigned b)
{
	return mem + (unsigned long)b * BLOCK * PAGE;
}

static struct za *make(void)
{
	struct za_config cfg = { 0 };
	cfg.nr_cpus = 2;
	cfg.block_pages = BLOCK;
	cfg.max_pfn = 64 * BLOCK;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *z = za_create(&cfg);
	CHECK(z);
	return z;
}

static void check_block(struct za_page *p, unsigned order)
{
	unsigned long pfn = za_page_to_pfn(za, p);
	char *a = za_page_address(za, p);
	CHECK(a);
	CHECK(za_virt_to_page(za, a) == p);
	for (unsigned long k = 0; k < (1ul << order); k++) {
		struct za_page *want = za_pfn_to_page(za, pfn + k);
		CHECK(want);
		char *pa = a + k * PAGE;
		CHECK(za_page_address(za, want) == pa);
		CHECK(za_virt_to_page(za, pa) == want);
		CHECK(za_virt_to_page(za, pa + 1) == want);
		CHECK(za_virt_to_page(za, pa + PAGE / 2 + 3) == want);
		CHECK(za_virt_to_page(za, pa + PAGE - 1) == want);
	}
}

static void test_hits(void)
{
	/* Blocks 0-3 at pfn 0, blocks 6-7 at pfn 8*BLOCK: two ranges with a
	 * gap between them in both spaces. */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 4 * BLOCK,
	                          blk_addr(0)),
	         0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 8 * BLOCK, 2 * BLOCK,
	                          blk_addr(6)),
	         0);
	CHECK_EQ(za->nr_vruns, 2);
	struct za_page *held[64];
	unsigned orders[64], n = 0;
	for (unsigned i = 0; i < 22; i++) {
		unsigned order = i % 11;
		struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, order);
		if (!p)
			continue;
		check_block(p, order);
		held[n] = p;
		orders[n++] = order;
	}
	CHECK(n >= 20);
	/* Pages of free memory map too: the answer is about frames. */
	CHECK(za_virt_to_page(za, blk_addr(0)) == za_pfn_to_page(za, 0));
	CHECK(za_virt_to_page(za, blk_addr(7) + BLOCK * PAGE - 1) ==
	      za_pfn_to_page(za, 10 * BLOCK - 1));
	for (unsigned i = 0; i < n; i++)
		za_free_pages(za, held[i], orders[i]);
	CHECK_EQ(za_check(za, stderr), 0);
}

static void test_misses(void)
{
	int on_stack;
	CHECK(za_virt_to_page(NULL, blk_addr(0)) == NULL);
	CHECK(za_virt_to_page(za, NULL) == NULL);
	CHECK(za_virt_to_page(za, mem - 1) == NULL);
	CHECK(za_virt_to_page(za, blk_addr(4)) == NULL);     /* gap */
	CHECK(za_virt_to_page(za, blk_addr(6) - 1) == NULL); /* gap */
	CHECK(za_virt_to_page(za, blk_addr(8)) == NULL);     /* past */
	CHECK(za_virt_to_page(za, &on_stack) == NULL);
	CHECK(za_virt_to_page(za, &za) == NULL);
	CHECK(za_virt_to_page(za, (void *)UINTPTR_MAX) == NULL);
	/* Frame-only memory has pages but no addresses. */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 20 * BLOCK, BLOCK, NULL),
	         0);
	CHECK(za_pfn_to_page(za, 20 * BLOCK));
	CHECK(za_page_address(za, za_pfn_to_page(za, 20 * BLOCK)) == NULL);
	CHECK_EQ(za->nr_vruns, 2);
	CHECK_EQ(za_memory_offline(za, 20 * BLOCK, BLOCK), 0);
}

static void test_runs(void)
{
	/* Block 4 continues blocks 0-3 in both spaces: one run. */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 4 * BLOCK, BLOCK,
	                          blk_addr(4)),
	         0);
	CHECK_EQ(za->nr_vruns, 2);
	/* Block 5 closes the gap in addresses but not in frames (blocks 6-7
	 * are at pfn 8 * BLOCK): stays a run of its own. */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 5 * BLOCK, BLOCK,
	                          blk_addr(5)),
	         0);
	CHECK_EQ(za->nr_vruns, 2); /* joins the first, not the second */
	CHECK(za_virt_to_page(za, blk_addr(5) + 7) ==
	      za_pfn_to_page(za, 5 * BLOCK));
	CHECK(za_virt_to_page(za, blk_addr(6)) == za_pfn_to_page(za, 8 * BLOCK));

	/* Offline block 2: a hole in the middle of the first run. */
	CHECK_EQ(za_memory_offline(za, 2 * BLOCK, BLOCK), 0);
	CHECK_EQ(za->nr_vruns, 3);
	CHECK(za_virt_to_page(za, blk_addr(2)) == NULL);
	CHECK(za_virt_to_page(za, blk_addr(2) + 5 * PAGE) == NULL);
	CHECK(za_virt_to_page(za, blk_addr(1) + BLOCK * PAGE - 1) ==
	      za_pfn_to_page(za, 2 * BLOCK - 1));
	CHECK(za_virt_to_page(za, blk_addr(3)) == za_pfn_to_page(za, 3 * BLOCK));
	/* Offline the front and the back of runs. */
	CHECK_EQ(za_memory_offline(za, 0, BLOCK), 0);
	CHECK(za_virt_to_page(za, blk_addr(0)) == NULL);
	CHECK(za_virt_to_page(za, blk_addr(1)) == za_pfn_to_page(za, BLOCK));
	CHECK_EQ(za_memory_offline(za, 9 * BLOCK, BLOCK), 0);
	CHECK(za_virt_to_page(za, blk_addr(7)) == NULL);
	CHECK(za_virt_to_page(za, blk_addr(6)) == za_pfn_to_page(za, 8 * BLOCK));
	/* Back again: the runs merge. */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 2 * BLOCK, BLOCK,
	                          blk_addr(2)),
	         0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, BLOCK, blk_addr(0)),
	         0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 9 * BLOCK, BLOCK,
	                          blk_addr(7)),
	         0);
	CHECK_EQ(za->nr_vruns, 2);
	for (unsigned b = 0; b < 8; b++) {
		unsigned long pfn = b < 6 ? b * BLOCK : (b + 2) * BLOCK;
		CHECK(za_virt_to_page(za, blk_addr(b) + 3 * PAGE + 9) ==
		      za_pfn_to_page(za, pfn + 3));
	}
	CHECK_EQ(za_memory_offline(za, 0, 6 * BLOCK), 0);
	CHECK_EQ(za_memory_offline(za, 8 * BLOCK, 2 * BLOCK), 0);
	CHECK_EQ(za->nr_vruns, 0);
	CHECK(za_virt_to_page(za, blk_addr(3)) == NULL);

	/* Each block alone, addresses running against frames: NB runs. */
	for (unsigned b = 0; b < NB; b++)
		CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, (30 + b) * BLOCK,
		                          BLOCK, blk_addr(NB - 1 - b)),
		         0);
	CHECK_EQ(za->nr_vruns, NB);
	for (unsigned b = 0; b < NB; b++)
		for (unsigned long k = 0; k < BLOCK; k += 97)
			CHECK(za_virt_to_page(za, blk_addr(NB - 1 - b) + k * PAGE + 1) ==
			      za_pfn_to_page(za, (30 + b) * BLOCK + k));
	CHECK(za_virt_to_page(za, blk_addr(NB)) == NULL);
	CHECK_EQ(za_check(za, stderr), 0);
	for (unsigned b = 0; b < NB; b++)
		CHECK_EQ(za_memory_offline(za, (30 + b) * BLOCK, BLOCK), 0);
	CHECK_EQ(za->nr_vruns, 0);
}

static void test_bad_online(void)
{
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 4 * BLOCK,
	                          blk_addr(2)),
	         0);
	/* The same memory, or part of it, under other frames. */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 10 * BLOCK, BLOCK,
	                          blk_addr(2)),
	         -EEXIST);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 10 * BLOCK, 2 * BLOCK,
	                          blk_addr(1)),
	         -EEXIST);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 10 * BLOCK, BLOCK,
	                          blk_addr(5) + 4 * PAGE),
	         -EEXIST);
	/* Wrapping the address space. */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 10 * BLOCK, BLOCK,
	                          (void *)(UINTPTR_MAX - 8 * PAGE + 1)),
	         -EINVAL);
	CHECK(za_pfn_to_page(za, 10 * BLOCK) == NULL);
	CHECK_EQ(za->nr_vruns, 1);
	/* Right before and right after are fine. */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 10 * BLOCK, BLOCK,
	                          blk_addr(1)),
	         0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 12 * BLOCK, BLOCK,
	                          blk_addr(6)),
	         0);
	CHECK(za_virt_to_page(za, blk_addr(1)) == za_pfn_to_page(za, 10 * BLOCK));
	CHECK(za_virt_to_page(za, blk_addr(6)) == za_pfn_to_page(za, 12 * BLOCK));
	CHECK_EQ(za_check(za, stderr), 0);
	CHECK_EQ(za_memory_offline(za, 0, 4 * BLOCK), 0);
	CHECK_EQ(za_memory_offline(za, 10 * BLOCK, BLOCK), 0);
	CHECK_EQ(za_memory_offline(za, 12 * BLOCK, BLOCK), 0);
	CHECK_EQ(za->nr_vruns, 0);
}

/* A reader looks up addresses of block 0 (always online) and block 1
 * (coming and going) while the main thread onlines and offlines block 1
 * and others around it. */
static int stop;
static unsigned long bad;

static void *reader(void *arg)
{
	(void)arg;
	uint64_t seed = 7;
	struct za_page *p0 = za_pfn_to_page(za, 0);
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		unsigned long k = tu_rand(&seed) % BLOCK;
		if (za_virt_to_page(za, blk_addr(0) + k * PAGE + 5) != p0 + k)
			__atomic_add_fetch(&bad, 1, __ATOMIC_RELAXED);
		struct za_page *q = za_virt_to_page(za, blk_addr(1) + k * PAGE);
		if (q && q != za->memmap + BLOCK + k)
			__atomic_add_fetch(&bad, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_race(void)
{
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, BLOCK, blk_addr(0)),
	         0);
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, reader, NULL), 0);
	long rounds = tu_scale(300);
	for (long i = 0; i < rounds; i++) {
		/* Block 1 joins block 0's run, then leaves it; blocks 3.. come
		 * and go in runs of their own, shifting the array. */
		CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, BLOCK, BLOCK,
		                          blk_addr(1)),
		         0);
		unsigned b = 3 + (unsigned)(i % (NB - 3));
		CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, (40 + b) * BLOCK,
		                          BLOCK, blk_addr(b)),
		         0);
		CHECK_EQ(za_memory_offline(za, BLOCK, BLOCK), 0);
		CHECK_EQ(za_memory_offline(za, (40 + b) * BLOCK, BLOCK), 0);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	CHECK_EQ(bad, 0);
	CHECK_EQ(za_memory_offline(za, 0, BLOCK), 0);
	CHECK_EQ(za_check(za, stderr), 0);
}

int main(void)
{
	tu_watchdog(120);
	mem = mmap(NULL, NB * BLOCK * PAGE, PROT_READ | PROT_WRITE,
	           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(mem != MAP_FAILED);
	za = make();
	test_hits();
	test_misses();
	test_runs();
	test_bad_online();
	test_race();
	za_destroy(za);
	munmap(mem, NB * BLOCK * PAGE);
	printf("virt: ok\n");
	return 0;
}
