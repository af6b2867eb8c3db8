/*
 * test_hotplug_map_count.c - an offline never kills the process when the
 * OS refuses to take the block's metadata back (review 6, finding 1).
 *
 * Offline gives back the OS pages of page metadata (and of the page
 * owner's records) that no online block still uses: za_os_purge. It is
 * past its point of no return there, so the purge cannot fail: it must
 * not need anything the OS can refuse, such as a new mapping at
 * vm.max_map_count, and when the OS refuses anyway it zeroes the memory
 * and keeps it.
 *
 * (a) Fallback: with the OS's answer forced to a refusal
 *     (_za_os_purge_refuse), an offline of a block whose metadata was
 *     written returns 0, and once it is online again every byte of its
 *     metadata reads zero (a lazy block: pages that head nothing) and its
 *     page owner records are zero.
 * (b) The map count: four blocks online, page owner on, blocks 0 and 1
 *     allocated page by page and freed (metadata and owner records
 *     written), 2 and 3 lazy. The process's map count is then used up with
 *     one-page mappings (mprotect splits of one reservation, then single
 *     pages until mmap fails), and block 1 (touched) and block 2 (lazy) go
 *     offline, one call each: both return 0, za_check is clean, the owner
 *     records of both read zero. With the mappings freed, the two blocks
 *     come back online in one call, their metadata reads zero, and their
 *     pages can be allocated again (more than three blocks' worth: the
 *     watermarks keep a few).
 *
 * (b) runs in a child process, so that an abort (the old purge, an
 * mmap(MAP_FIXED) that called ZA_DIE when refused) is reported as the
 * broken rule rather than as a crash. It is skipped (77) when
 * /proc/sys/vm/max_map_count cannot be read or is too high to fill
 * quickly, and under AddressSanitizer and ThreadSanitizer, which need new
 * mappings of their own while the test leaves none to spare (both abort:
 * "Failed to mmap", "internal allocator is out of memory"); (a) runs
 * there too.
 */
#include "testutil.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zonealloc.h>

#include "internal.h"

#define PG 4096ul
#define BLK 1024ul
#define NBLK 4ul

/* AddressSanitizer and ThreadSanitizer map memory for their own
 * allocators and shadow as the program runs: at the map count they abort. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER "AddressSanitizer"
#elif defined(__SANITIZE_THREAD__)
#define SANITIZER "ThreadSanitizer"
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZER "AddressSanitizer"
#elif __has_feature(thread_sanitizer)
#define SANITIZER "ThreadSanitizer"
#endif
#endif

static struct za *make(void **basep)
{
	struct za_config c = { 0 };
	c.nr_cpus = 2;
	c.max_order = 10;
	c.block_pages = BLK;
	c.max_pfn = 16 * BLK;
	c.flags = ZA_CFG_PAGE_OWNER | ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *za = za_create(&c);
	CHECK(za != NULL);
	void *base = mmap(NULL, NBLK * BLK * PG, PROT_READ | PROT_WRITE,
	                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(base != MAP_FAILED);
	*basep = base;
	return za;
}

static void *block_base(void *base, unsigned long blk)
{
	return (char *)base + blk * BLK * PG;
}

/* Allocate the zone's pages one at a time until it refuses (the
 * watermarks keep a few), then free them all: the metadata and owner
 * records of nearly every page written. Returns how many. */
static unsigned long touch_all(struct za *za)
{
	unsigned long max = NBLK * BLK, n = 0;
	struct za_page **pages = malloc(max * sizeof(*pages));
	CHECK(pages != NULL);
	while (n < max &&
	       (pages[n] = za_alloc_pages(za, ZA_GFP_ATOMIC, 0)) != NULL)
		n++;
	for (unsigned long i = 0; i < n; i++)
		za_free_pages(za, pages[i], 0);
	free(pages);
	return n;
}

static bool zero_bytes(const void *p, size_t len)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

/* The page owner records of [pfn, pfn + nr) read zero. */
static bool owner_zero(struct za *za, unsigned long pfn, unsigned long nr)
{
	size_t rec = za->page_owner_bytes / za->max_pfn;
	return zero_bytes((const char *)za->page_owner + pfn * rec, nr * rec);
}

/* The page metadata of [pfn, pfn + nr) reads zero. */
static bool memmap_zero(struct za *za, unsigned long pfn, unsigned long nr)
{
	return zero_bytes(&za->memmap[pfn], nr * sizeof(struct za_page));
}

static void check_clean(struct za *za)
{
	RULE(za_check(za, stderr) == 0,
	     "za_check is clean after an offline at the OS's refusal");
}

/* --- (a) the fallback ------------------------------------------------------ */

static void fallback(void)
{
	void *base;
	struct za *za = make(&base);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 2 * BLK, base), 0);
	CHECK(touch_all(za) > BLK);
	CHECK(!memmap_zero(za, BLK, BLK));
	_za_os_purge_refuse = ENOMEM;
	int r = za_memory_offline(za, BLK, BLK);
	_za_os_purge_refuse = 0;
	RULE(r == 0, "offline returns 0 when the OS refuses the metadata (%d)", r);
	check_clean(za);
	RULE(owner_zero(za, BLK, BLK),
	     "an offline block's page owner records read zero (purge fallback)");
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, BLK, BLK,
	                          block_base(base, 1)),
	         0);
	RULE(memmap_zero(za, BLK, BLK),
	     "a block onlined again has zero metadata (purge fallback)");
	CHECK(touch_all(za) > BLK);
	check_clean(za);
	za_destroy(za);
	munmap(base, NBLK * BLK * PG);
}

/* --- (b) at vm.max_map_count ---------------------------------------------- */

static long max_map_count(void)
{
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
	long n = -1;
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}

/* Mappings that use up the map count, and how to free them. */
struct filler {
	void *region;
	size_t region_len;
	void *single[256];
	int nsingle;
};

static void fill_map_count(struct filler *f, long limit)
{
	/* One reservation split page by page: every other page made readable
	 * is two more mappings, none of which can merge with its neighbour. */
	f->region_len = (size_t)(2 * limit + 8) * PG;
	f->region = mmap(NULL, f->region_len, PROT_NONE,
	                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(f->region != MAP_FAILED);
	size_t i;
	for (i = 1; (i + 1) * PG < f->region_len; i += 2)
		if (mprotect((char *)f->region + i * PG, PG, PROT_READ))
			break;
	CHECK((i + 1) * PG < f->region_len && errno == ENOMEM);
	/* The last slot or two: single pages, until mmap fails. */
	for (f->nsingle = 0;; f->nsingle++) {
		CHECK(f->nsingle < 256);
		void *m = mmap(NULL, PG, (f->nsingle & 1) ? PROT_READ : PROT_NONE,
		               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			break;
		f->single[f->nsingle] = m;
	}
	CHECK(errno == ENOMEM);
}

static void free_map_count(struct filler *f)
{
	for (int i = 0; i < f->nsingle; i++)
		munmap(f->single[i], PG);
	munmap(f->region, f->region_len);
}

static int at_map_count(long limit)
{
	void *base;
	struct za *za = make(&base);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 2 * BLK, base), 0);
	CHECK(touch_all(za) > BLK);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 2 * BLK, 2 * BLK,
	                          block_base(base, 2)),
	         0);
	CHECK(!memmap_zero(za, BLK, BLK) && !owner_zero(za, BLK, BLK));

	struct filler f;
	fill_map_count(&f, limit);
	int r1 = za_memory_offline(za, BLK, BLK);     /* touched */
	int r2 = za_memory_offline(za, 2 * BLK, BLK); /* lazy */
	int chk = za_check(za, stderr);
	bool owners = owner_zero(za, BLK, 2 * BLK);
	free_map_count(&f);

	RULE(r1 == 0 && r2 == 0,
	     "offline at vm.max_map_count returns 0 (touched %d, lazy %d)", r1,
	     r2);
	RULE(chk == 0, "za_check is clean after offlines at vm.max_map_count");
	RULE(owners, "offlined blocks' page owner records read zero");
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, BLK, 2 * BLK,
	                          block_base(base, 1)),
	         0);
	RULE(memmap_zero(za, BLK, 2 * BLK),
	     "blocks onlined again after an offline at vm.max_map_count have "
	     "zero metadata");
	CHECK(touch_all(za) > 3 * BLK);
	check_clean(za);
	za_destroy(za);
	munmap(base, NBLK * BLK * PG);
	return 0;
}

int main(void)
{
	setvbuf(stderr, NULL, _IONBF, 0);
	fallback();

	long limit = max_map_count();
	if (limit <= 0 || limit > 1000000) {
		printf("SKIP: map count filling: vm.max_map_count %ld (unreadable "
		       "or too high to fill quickly)\n",
		       limit);
		return 77;
	}
#ifdef SANITIZER
	printf("SKIP: map count filling under " SANITIZER " (it needs mappings "
	       "of its own and aborts at the limit); the fallback ran\n");
	return 77;
#endif
	fflush(stdout);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (!pid)
		_exit(at_map_count(limit));
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	RULE(!WIFSIGNALED(st),
	     "offline at vm.max_map_count returns 0 or an errno and never kills "
	     "the process (child killed by signal %d)",
	     WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
	printf("ok: offline at vm.max_map_count %ld, and the purge fallback\n",
	       limit);
	return 0;
}
