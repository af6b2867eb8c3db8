/*
 * client_reports.c - writes a directory that looks like /proc to a
 * client: zonealloc's zoneinfo, buddyinfo, pagetypeinfo and vmstat of an
 * allocator with two nodes, all four zones (node 0: DMA, DMA32, Normal,
 * Movable; node 1: Normal, Movable), four CPUs and pages allocated of
 * several orders and kinds on every CPU, some freed again, statistics
 * folded. Beside them, expected.prom: what Prometheus' node exporter must
 * report for buddyinfo and zoneinfo, computed from the API (za_zone_info,
 * not the report text), one "metric{labels} value" line each.
 *
 * With --broken the zoneinfo written is wrong the way version 0.1's was:
 * a key repeated within one zone's block (nr_free_pages again, with the
 * node's total, after the zone's own). A client must then disagree with
 * expected.prom; tests/client_node_exporter.sh checks that it does.
 *
 * Usage: client_reports DIR [--broken]
 */
#include "testutil.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <zonealloc.h>

#define BLK 1024UL
#define NCPU 4

static int cur_cpu;
static int get_cpu(void *ctx)
{
	(void)ctx;
	return cur_cpu;
}

static const char *const zone_names[ZA_NR_ZONES] = { "DMA", "DMA32", "Normal",
	                                                 "Movable" };

static char *capture(struct za *za, enum za_report what)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CHECK(f != NULL);
	CHECK_EQ(za_report(za, what, f), 0);
	CHECK(fclose(f) == 0);
	return buf;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	fputs(text, f);
	CHECK(fclose(f) == 0);
}

/* The 0.1 kind of mistake: after node 0 DMA's "nr_free_pages" row, the
 * same key again with the node's total. */
static char *break_zoneinfo(const char *text, long node_total)
{
	const char *row = strstr(text, "\n      nr_free_pages ");
	CHECK(row != NULL);
	const char *eol = strchr(row + 1, '\n');
	CHECK(eol != NULL);
	char extra[64];
	int n = snprintf(extra, sizeof(extra), "\n      nr_free_pages %ld",
	                 node_total);
	size_t head = (size_t)(eol - text), len = strlen(text);
	char *out = malloc(len + (size_t)n + 1);
	CHECK(out != NULL);
	memcpy(out, text, head);
	memcpy(out + head, extra, (size_t)n);
	memcpy(out + head + (size_t)n, eol, len - head + 1);
	return out;
}

int main(int argc, char **argv)
{
	tu_watchdog(60);
	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "--broken"))) {
		fprintf(stderr, "usage: %s DIR [--broken]\n", argv[0]);
		return 2;
	}
	const char *dir = argv[1];
	int broken = argc == 3;
	if (mkdir(dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "cannot make %s: %s\n", dir, strerror(errno));
		return 1;
	}

	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_nodes = 2;
	cfg.nr_cpus = NCPU; /* CPUs 0, 1 on node 0; 2, 3 on node 1 */
	cfg.cpu_id = get_cpu;
	cfg.block_pages = BLK;
	cfg.max_pfn = 0x20000;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	/* node 0: 16 MiB DMA, 48 MiB DMA32, 32 MiB Normal, 16 MiB Movable */
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_DMA, 0, 4 * BLK, NULL), 0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_DMA32, 4 * BLK, 12 * BLK, NULL),
	         0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 16 * BLK, 8 * BLK, NULL),
	         0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_MOVABLE, 24 * BLK, 4 * BLK, NULL),
	         0);
	/* node 1: 64 MiB Normal, 32 MiB Movable */
	CHECK_EQ(za_memory_online(za, 1, ZA_ZONE_NORMAL, 64 * BLK, 16 * BLK, NULL),
	         0);
	CHECK_EQ(za_memory_online(za, 1, ZA_ZONE_MOVABLE, 80 * BLK, 8 * BLK, NULL),
	         0);

	/* Allocations of every kind on every CPU; every third one freed. */
	static const za_gfp_t kinds[] = {
		ZA_GFP_KERNEL,
		ZA_GFP_MOVABLE,
		ZA_GFP_KERNEL | ZA_GFP_DMA,
		ZA_GFP_KERNEL | ZA_GFP_DMA32,
		ZA_GFP_ATOMIC,
		ZA_GFP_KERNEL | ZA_GFP_RECLAIMABLE,
	};
	unsigned kept = 0;
	for (int i = 0; i < 1200; i++) {
		cur_cpu = i % NCPU;
		unsigned order = (unsigned)(i % 7 == 0 ? 4 : i % 4);
		za_gfp_t gfp = kinds[i % (sizeof(kinds) / sizeof(kinds[0]))];
		struct za_page *p = za_alloc_pages_node(za, (i / 6) % 2, gfp, order);
		CHECK(p != NULL);
		if (i % 3 == 0)
			za_free_pages(za, p, order);
		else
			kept++;
	}
	za_vmstat_fold(za);
	CHECK_EQ(za_check(za, stderr), 0);

	/* Every zone has pages out. */
	long node_free[2] = { 0, 0 };
	FILE *ex;
	char path[4096];
	snprintf(path, sizeof(path), "%s/expected.prom", dir);
	ex = fopen(path, "w");
	CHECK(ex != NULL);
	for (int n = 0; n < 2; n++) {
		for (int z = 0; z < ZA_NR_ZONES; z++) {
			struct za_zone_info zi;
			CHECK_EQ(za_zone_info(za, n, (enum za_zone_type)z, &zi), 0);
			const char *zn = zone_names[z];
			fprintf(ex,
			        "node_zoneinfo_min_pages{node=\"%d\",zone=\"%s\"} %lu\n",
			        n, zn, zi.min);
			fprintf(ex,
			        "node_zoneinfo_low_pages{node=\"%d\",zone=\"%s\"} %lu\n",
			        n, zn, zi.low);
			fprintf(ex,
			        "node_zoneinfo_high_pages{node=\"%d\",zone=\"%s\"} %lu\n",
			        n, zn, zi.high);
			fprintf(ex,
			        "node_zoneinfo_spanned_pages{node=\"%d\",zone=\"%s\"} %lu\n",
			        n, zn, zi.spanned);
			fprintf(ex,
			        "node_zoneinfo_present_pages{node=\"%d\",zone=\"%s\"} %lu\n",
			        n, zn, zi.present);
			fprintf(ex,
			        "node_zoneinfo_managed_pages{node=\"%d\",zone=\"%s\"} %lu\n",
			        n, zn, zi.managed);
			for (int j = 0; j < ZA_NR_ZONES; j++)
				fprintf(ex,
				        "node_zoneinfo_protection_%d{node=\"%d\",zone=\"%s\"} "
				        "%lu\n",
				        j, n, zn, zi.lowmem_reserve[j]);
			if (!zi.populated)
				continue;
			if (zi.free >= zi.managed)
				fprintf(stderr, "node %d %s: no page out\n", n, zn);
			CHECK(zi.free < zi.managed); /* pages allocated here */
			node_free[n] += (long)zi.free;
			fprintf(ex,
			        "node_zoneinfo_nr_free_pages{node=\"%d\",zone=\"%s\"} "
			        "%lu\n",
			        n, zn, zi.free);
			for (unsigned o = 0; o <= za_max_order(za); o++)
				fprintf(ex,
				        "node_buddyinfo_blocks{node=\"%d\",size=\"%u\","
				        "zone=\"%s\"} %lu\n",
				        n, o, zn, zi.nr_free[o]);
		}
	}
	CHECK(fclose(ex) == 0);

	char *zoneinfo = capture(za, ZA_REPORT_ZONEINFO);
	if (broken) {
		char *b = break_zoneinfo(zoneinfo, node_free[0]);
		free(zoneinfo);
		zoneinfo = b;
	}
	write_file(dir, "zoneinfo", zoneinfo);
	char *t;
	write_file(dir, "buddyinfo", t = capture(za, ZA_REPORT_BUDDYINFO));
	free(t);
	write_file(dir, "pagetypeinfo", t = capture(za, ZA_REPORT_PAGETYPEINFO));
	free(t);
	write_file(dir, "vmstat", t = capture(za, ZA_REPORT_VMSTAT));
	free(t);
	free(zoneinfo);
	printf("client_reports: %s: 2 nodes, 6 zones, %u blocks held%s\n", dir,
	       kept, broken ? ", zoneinfo broken on purpose" : "");
	za_destroy(za);
	return 0;
}
