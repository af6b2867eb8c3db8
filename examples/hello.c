#include <stdio.h>
#include <string.h>
#include <zonealloc.h>
#include "hugemem.h" /* the memory, on huge pages if asked (examples/hugemem.h) */

int main(int argc, char **argv)
{
	int huge = argc == 2 && !strcmp(argv[1], "--hugepages");
	if (argc > 1 + huge) {
		fputs("usage: hello [--hugepages]\n", stderr);
		return 2;
	}
	struct za *za = za_create(NULL); /* all defaults */
	struct hugemem mem;              /* one 128 MiB block */
	if (!za || hugemem_map(&mem, 128u << 20, huge) ||
	    za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, mem.len >> 12, mem.base))
		return 1;
	if (huge)
		hugemem_describe(&mem, stdout); /* which kind it got */
	struct za_page *p = za_alloc_pages(za, ZA_GFP_KERNEL | ZA_GFP_ZERO, 2);
	char *buf = za_page_address(za, p); /* 16 KiB, zeroed */
	snprintf(buf, 64, "hello from pfn %lu", za_page_to_pfn(za, p));
	puts(buf);
	za_free_pages(za, p, 2);
	za_report(za, ZA_REPORT_BUDDYINFO, stdout);
	int bad = za_check(za, stderr);
	za_destroy(za);
	hugemem_unmap(&mem);
	return bad ? 1 : 0;
}
