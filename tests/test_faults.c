/*
 * test_faults.c - fault injection: metadata allocations that fail (at
 * create, at memory online, during offline), a migrate callback and a
 * shrinker that fail at random. Each must give a clean error and leave
 * the allocator consistent (za_check) with nothing lost; under ASan the
 * error paths must not leak.
 */
#include <stdatomic.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

#define BLOCK 1024ul
static _Thread_local int cur_cpu;
static int cpu_cb(void *ctx)
{
	(void)ctx;
	return cur_cpu;
}

/* --- create fails at each of its metadata allocations ------------------ */
static void create_failures(void)
{
	struct za_config cfg = {
		.nr_cpus = 4, .nr_nodes = 2, .block_pages = BLOCK, .max_pfn = 8 * BLOCK
	};
	int failed = 0;
	for (long k = 0; k < 200; k++) {
		_za_fail_meta_after = k;
		errno = 0;
		struct za *za = za_create(&cfg);
		long left = _za_fail_meta_after;
		_za_fail_meta_after = -1;
		if (!za) {
			CHECK_EQ(errno, ENOMEM);
			failed++;
			continue;
		}
		/* Created: the countdown was not reached, so nothing failed. */
		CHECK(left >= 0);
		CHECK_EQ(za_memory_online(za, 1, ZA_ZONE_NORMAL, 0, BLOCK, NULL), 0);
		CHECK_EQ(za_check(za, stderr), 0);
		za_destroy(za);
		break;
	}
	printf("za_create failed cleanly at %d different allocations\n", failed);
	CHECK(failed >= 5);
}

/* --- online and offline with metadata failures ---------------------------- */
static void online_offline_failures(void)
{
	struct za_config cfg = { .nr_cpus = 2,
		                     .block_pages = BLOCK,
		                     .max_pfn = 4 * BLOCK,
		                     .cpu_id = cpu_cb,
		                     .flags = ZA_CFG_NO_KSWAPD };
	struct za *za = za_create(&cfg);
	CHECK(za);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, BLOCK, NULL), 0);
	struct za_zone_info before, after;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_MOVABLE, &before), 0);

	za_debug_set(za, ZA_DEBUG_FAIL_META, 1);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, BLOCK, BLOCK, NULL),
	         -ENOMEM);
	CHECK(za_pfn_to_page(za, BLOCK) == NULL);
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_MOVABLE, &after), 0);
	CHECK_EQ(after.managed, before.managed);
	CHECK_EQ(after.populated, 0);
	CHECK_EQ(za_check(za, stderr), 0);
	/* The knob was used up: now it works. */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, BLOCK, BLOCK, NULL), 0);

	/* Offline needs a little metadata too (saved pageblock types). */
	struct za_page *p = za_alloc_pages(za, ZA_GFP_MOVABLE, 0);
	CHECK(p);
	CHECK_EQ(za_page_zone(za, p), ZA_ZONE_MOVABLE);
	za_free_pages(za, p, 0);
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_MOVABLE, &before), 0);
	za_debug_set(za, ZA_DEBUG_FAIL_META, 1);
	CHECK_EQ(za_memory_offline(za, BLOCK, BLOCK), -ENOMEM);
	CHECK(za_pfn_to_page(za, BLOCK) != NULL);
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_MOVABLE, &after), 0);
	CHECK_EQ(after.managed, before.managed);
	CHECK_EQ(after.free + after.pcp_pages, before.free + before.pcp_pages);
	CHECK_EQ(za_check(za, stderr), 0);
	CHECK_EQ(za_memory_offline(za, BLOCK, BLOCK), 0);
	CHECK_EQ(za_check(za, stderr), 0);

	/* za_check's scratch memory comes from the metadata allocator too:
	 * a failure there is reported as such, and nothing changes. */
	za_debug_set(za, ZA_DEBUG_FAIL_META, 1);
	FILE *out = tmpfile();
	CHECK(out);
	CHECK_EQ(za_check(za, out), -ENOMEM);
	char line[256] = "";
	rewind(out);
	CHECK(fgets(line, sizeof(line), out));
	CHECK(strstr(line, "out of memory checking"));
	fclose(out);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);
}

/* --- a migrate callback that refuses at random --------------------------- */
#define NHELD 256
static struct za *mza;
static struct za_page *held[NHELD];
static uint64_t mrng = 42;
static int migrate_calls, migrate_refused;

static void fill(struct za_page *p, unsigned i)
{
	uint32_t *w = za_page_address(mza, p);
	for (size_t k = 0; k < 4096 / 4; k++)
		w[k] = i * 2654435761u + (uint32_t)k;
}
static void verify(struct za_page *p, unsigned i)
{
	uint32_t *w = za_page_address(mza, p);
	for (size_t k = 0; k < 4096 / 4; k++)
		CHECK_EQ(w[k], i * 2654435761u + (uint32_t)k);
}

static int flaky_migrate(void *ctx, struct za_page *dst, struct za_page *src,
                         unsigned order)
{
	(void)ctx;
	CHECK_EQ(order, 0);
	migrate_calls++;
	if (tu_rand(&mrng) % 2) {
		migrate_refused++;
		return -EBUSY;
	}
	for (unsigned i = 0; i < NHELD; i++) {
		if (held[i] == src) {
			memcpy(za_page_address(mza, dst), za_page_address(mza, src), 4096);
			held[i] = dst;
			return 0;
		}
	}
	return -ENOENT;
}

static void migrate_failures(void)
{
	size_t bytes = 2 * BLOCK * 4096;
	char *mem = aligned_alloc(4096, bytes);
	CHECK(mem);
	struct za_config cfg = { .nr_cpus = 2,
		                     .block_pages = BLOCK,
		                     .max_pfn = 2 * BLOCK,
		                     .cpu_id = cpu_cb,
		                     .migrate = flaky_migrate,
		                     .offline_timeout_ms = 50,
		                     .flags = ZA_CFG_NO_KSWAPD };
	mza = za_create(&cfg);
	CHECK(mza);
	CHECK_EQ(za_memory_online(mza, 0, ZA_ZONE_NORMAL, 0, BLOCK, mem), 0);
	int ok = 0, again = 0;
	for (int round = 0; round < tu_scale(40); round++) {
		CHECK_EQ(za_memory_online(mza, 0, ZA_ZONE_MOVABLE, BLOCK, BLOCK,
		                          mem + BLOCK * 4096),
		         0);
		for (unsigned i = 0; i < NHELD; i++) {
			held[i] = za_alloc_pages(mza, ZA_GFP_MOVABLE, 0);
			CHECK(held[i]);
			fill(held[i], i);
		}
		int r = za_memory_offline(mza, BLOCK, BLOCK);
		CHECK(r == 0 || r == -EAGAIN);
		if (r == 0)
			ok++;
		else
			again++;
		for (unsigned i = 0; i < NHELD; i++) {
			verify(held[i], i);
			za_free_pages(mza, held[i], 0);
		}
		CHECK_EQ(za_check(mza, stderr), 0);
		if (r == -EAGAIN)
			CHECK_EQ(za_memory_offline(mza, BLOCK, BLOCK), 0);
		CHECK_EQ(za_check(mza, stderr), 0);
	}
	printf("offline with a flaky migrate: %d ok, %d -EAGAIN, %d of %d "
	       "migrations refused\n",
	       ok, again, migrate_refused, migrate_calls);
	CHECK(ok > 0);
	CHECK(migrate_refused > 0);
	za_drain_all_pages(mza);
	CHECK_EQ(za_zone_free_pages(mza, 0, ZA_ZONE_NORMAL), BLOCK);
	za_destroy(mza);
	free(mem);
}

/* --- a shrinker that fails at random -------------------------------------- */
static struct za *sza;
static struct za_page *cache[4096];
static unsigned ncache;
static uint64_t srng = 7;
static unsigned long s_count(void *ctx, int nid)
{
	(void)ctx;
	(void)nid;
	return ncache;
}
static unsigned long s_scan(void *ctx, int nid, unsigned long nr)
{
	(void)ctx;
	(void)nid;
	if (tu_rand(&srng) % 3 == 0)
		return 0; /* cannot give anything back this time */
	unsigned long done = 0;
	while (done < nr && ncache) {
		za_free_pages(sza, cache[--ncache], 0);
		done++;
	}
	return done;
}

static void shrinker_failures(void)
{
	struct za_config cfg = { .nr_cpus = 1,
		                     .block_pages = BLOCK,
		                     .max_pfn = BLOCK,
		                     .cpu_id = cpu_cb,
		                     .flags = ZA_CFG_NO_KSWAPD };
	sza = za_create(&cfg);
	CHECK(sza);
	CHECK_EQ(za_memory_online(sza, 0, ZA_ZONE_NORMAL, 0, BLOCK, NULL), 0);
	struct za_shrinker sh = { .count = s_count, .scan = s_scan };
	CHECK_EQ(za_register_shrinker(sza, &sh), 0);
	unsigned got = 0, failed = 0;
	for (int i = 0; i < tu_scale(20000); i++) {
		struct za_page *p = za_alloc_pages(sza, ZA_GFP_KERNEL | ZA_GFP_NOWARN,
		                                   0);
		if (!p) {
			failed++;
			continue;
		}
		got++;
		if (ncache < 4096)
			cache[ncache++] = p;
		else
			za_free_pages(sza, p, 0);
	}
	printf("with a flaky shrinker: %u allocations, %u failed\n", got, failed);
	CHECK(got > BLOCK); /* the cache gave memory back */
	za_unregister_shrinker(sza, &sh);
	while (ncache)
		za_free_pages(sza, cache[--ncache], 0);
	za_drain_all_pages(sza);
	CHECK_EQ(za_check(sza, stderr), 0);
	CHECK_EQ(za_zone_free_pages(sza, 0, ZA_ZONE_NORMAL), BLOCK);
	za_destroy(sza);
}

int main(void)
{
	create_failures();
	online_offline_failures();
	migrate_failures();
	shrinker_failures();
	printf("4 passed, 0 failed\n");
	return 0;
}
