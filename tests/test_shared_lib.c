/*
 * test_shared_lib.c - links against the shared library, which exports only
 * the za_ API (everything else is hidden): a program that uses the API
 * from libzonealloc.so builds and runs.
 */
#include <stdio.h>
#include <zonealloc.h>

int main(void)
{
	struct za_config cfg = { .nr_cpus = 2,
		                     .block_pages = 1024,
		                     .max_pfn = 1024 };
	struct za *za = za_create(&cfg);
	if (!za || za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, 1024, NULL))
		return 1;
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL, 3);
	if (!p || za_page_to_pfn(za, p) % 8)
		return 1;
	za_free_pages(za, p, 3);
	za_drain_all_pages(za);
	int r = za_check(za, stderr);
	za_destroy(za);
	printf("%s\n", r ? "1 passed, 1 failed" : "1 passed, 0 failed");
	return r ? 1 : 0;
}
