#include <stdio.h>
#include <stdlib.h>
#include <zonealloc.h>

int main(void)
{
	struct za *za = za_create(NULL); /* all defaults */
	size_t size = 128u << 20;        /* one 128 MiB block */
	void *mem = aligned_alloc(4096, size);
	if (!za || !mem ||
	    za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, size >> 12, mem))
		return 1;
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_ZERO, 2);
	char *buf = za_page_address(za, p); /* 16 KiB, zeroed */
	snprintf(buf, 64, "hello from pfn %lu", za_page_to_pfn(za, p));
	puts(buf);
	za_free_pages(za, p, 2);
	za_report(za, ZA_REPORT_BUDDYINFO, stdout);
	int bad = za_check(za, stderr);
	za_destroy(za);
	free(mem);
	return bad ? 1 : 0;
}
