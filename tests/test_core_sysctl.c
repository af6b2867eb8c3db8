/*
 * test_core_sysctl.c - za_sysctl_set / za_sysctl_get.
 *
 * For every tunable: its default, both ends of its range and one past
 * each, the text parser (white space, trailing garbage, signs, hex,
 * overflow, too many values), and that a rejected write changes nothing
 * (every value, every zone's watermarks and reserves, every page set and
 * the zoneinfo report are compared before and after). The effects:
 * min_free_kbytes and watermark_scale_factor recompute watermarks and
 * page-set sizes at once (checked against the kernel's arithmetic and in
 * the zoneinfo report), lowmem_reserve_ratio the reserves, a partial
 * write of it keeps the rest, percpu_pagelist_high_fraction fixes every
 * list's high, and a written min_free_kbytes survives memory hotplug.
 * Last, writers race CPU and memory hotplug and allocations (run under
 * TSan in the TSan build) and the allocator must stay consistent, every
 * page set with the sizes the final state gives (the one recompute, under
 * one lock, reads every input afresh). Before that, a CPU flip that finds
 * a write of each tunable holding tunables_lock (the writer stopped
 * there on purpose) must get its recompute when the writer lets go.
 */
#include "testutil.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <zonealloc.h>

#include "internal.h"

#define BLK 1024UL

static int cur_cpu;
static int get_cpu(void *ctx)
{
	(void)ctx;
	return __atomic_load_n(&cur_cpu, __ATOMIC_RELAXED);
}

static struct za *build(unsigned long mfk)
{
	struct za_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = 2;
	cfg.cpu_id = get_cpu;
	cfg.block_pages = BLK;
	cfg.max_pfn = 0x8000;
	cfg.min_free_kbytes = mfk;
	cfg.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	struct za *za = za_create(&cfg);
	CHECK(za != NULL);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_DMA, 0, 4 * BLK, NULL), 0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_DMA32, 4 * BLK, 8 * BLK, NULL),
	         0);
	return za;
}

static const char *get(struct za *za, const char *name)
{
	static char buf[ZA_SYSCTL_VALUE_MAX];
	CHECK_EQ(za_sysctl_get(za, name, buf, sizeof(buf)), 0);
	return buf;
}

static void expect_value(struct za *za, const char *name, const char *want)
{
	const char *got = get(za, name);
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "%s reads \"%s\", expected \"%s\"\n", name, got, want);
		exit(1);
	}
}

static void expect_set(struct za *za, const char *name, const char *value,
                       int want)
{
	int got = za_sysctl_set(za, name, value);
	if (got != want) {
		fprintf(stderr, "za_sysctl_set(%s, \"%s\") = %d, expected %d\n", name,
		        value, got, want);
		exit(1);
	}
}

/* ---- everything a write could change ---- */

struct state {
	struct za_zone_info zi[ZA_NR_ZONES];
	struct za_pcp_info pi[2][ZA_NR_ZONES];
	char values[32][ZA_SYSCTL_VALUE_MAX];
	char *zoneinfo;
};

static char *capture(struct za *za)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CHECK(f != NULL);
	CHECK_EQ(za_report(za, ZA_REPORT_ZONEINFO, f), 0);
	CHECK(fclose(f) == 0);
	return buf;
}

static void snap(struct za *za, struct state *s)
{
	memset(s, 0, sizeof(*s));
	for (int z = 0; z < ZA_NR_ZONES; z++) {
		CHECK_EQ(za_zone_info(za, 0, (enum za_zone_type)z, &s->zi[z]), 0);
		s->zi[z].free = 0; /* not a tunable's business, and folds move it */
		for (unsigned c = 0; c < 2; c++)
			CHECK_EQ(za_pcp_info(za, c, 0, (enum za_zone_type)z, &s->pi[c][z]),
			         0);
	}
	for (unsigned i = 0; za_sysctl_name(i); i++) {
		CHECK(i < 32);
		CHECK_EQ(za_sysctl_get(za, za_sysctl_name(i), s->values[i],
		                       sizeof(s->values[i])),
		         0);
	}
	s->zoneinfo = capture(za);
}

static void same(const struct state *a, const struct state *b,
                 const char *what)
{
	if (memcmp(a->zi, b->zi, sizeof(a->zi)) ||
	    memcmp(a->pi, b->pi, sizeof(a->pi)) ||
	    memcmp(a->values, b->values, sizeof(a->values)) ||
	    strcmp(a->zoneinfo, b->zoneinfo) != 0) {
		fprintf(stderr, "a rejected write changed the allocator: %s\n", what);
		exit(1);
	}
}

/* ---- the kernel's arithmetic, for the expected watermarks ---- */

static void expect_wmarks(struct za *za, unsigned long mfk, unsigned long wsf)
{
	struct za_zone_info dma, dma32;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_DMA, &dma), 0);
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_DMA32, &dma32), 0);
	unsigned long lowmem = dma.managed + dma32.managed;
	unsigned long pages_min = mfk >> 2; /* 4 KiB pages */
	const struct za_zone_info *zs[2] = { &dma, &dma32 };
	for (int i = 0; i < 2; i++) {
		unsigned long min = pages_min * zs[i]->managed / lowmem;
		unsigned long step = min / 4, scale = zs[i]->managed * wsf / 10000;
		if (scale > step)
			step = scale;
		if (zs[i]->min != min || zs[i]->low != min + step ||
		    zs[i]->high != min + 2 * step) {
			fprintf(stderr,
			        "zone %d: min/low/high %lu/%lu/%lu, expected "
			        "%lu/%lu/%lu (min_free_kbytes %lu, scale %lu)\n",
			        i, zs[i]->min, zs[i]->low, zs[i]->high, min, min + step,
			        min + 2 * step, mfk, wsf);
			exit(1);
		}
	}
	/* The report says the same. */
	char *text = capture(za), want[128];
	char *at = strstr(text, "zone    DMA32");
	CHECK(at != NULL);
	snprintf(want, sizeof(want),
	         "\n        min      %lu\n        low      %lu\n"
	         "        high     %lu\n",
	         dma32.min, dma32.low, dma32.high);
	if (!strstr(at, want)) {
		fprintf(stderr, "zoneinfo does not show DMA32's new marks:%s\n%s",
		        want, text);
		exit(1);
	}
	/* Page sets were resized at once: high_min is the low mark over the
	 * node's two CPUs (at least four batches). */
	struct za_pcp_info pi;
	CHECK_EQ(za_pcp_info(za, 0, 0, ZA_ZONE_DMA32, &pi), 0);
	unsigned long hmin = dma32.low / 2;
	if (hmin < 4ul * pi.batch)
		hmin = 4ul * pi.batch;
	snprintf(want, sizeof(want), "              high_min: %lu\n", hmin);
	at = strstr(at, "  pagesets\n");
	CHECK(at != NULL);
	if (!strstr(at, want)) {
		fprintf(stderr,
		        "zoneinfo: DMA32's page sets not resized (want %s)\n%s", want,
		        text);
		exit(1);
	}
	free(text);
}

/* ---- range and parser, per tunable ---- */

struct range {
	const char *name;
	const char *deflt; /* NULL: computed */
	const char *min, *below_min, *max, *above_max;
};

static const struct range ranges[] = {
	{ "min_free_kbytes", NULL, "0", "-1", "2147483647", "2147483648" },
	{ "watermark_scale_factor", "10", "1", "0", "3000", "3001" },
	{ "watermark_boost_factor", "15000", "0", "-1", "2147483647",
	  "2147483648" },
	{ "lowmem_reserve_ratio", "256 256 32 0", "0", "-1", "2147483647",
	  "2147483648" },
	{ "percpu_pagelist_high_fraction", "0", "8", "7", "2147483647",
	  "2147483648" },
	{ "compaction_proactiveness", "20", "0", "-1", "100", "101" },
	{ "extfrag_threshold", "500", "0", "-1", "1000", "1001" },
};
#define NR_RANGES (sizeof(ranges) / sizeof(ranges[0]))

static void check_ranges(void)
{
	/* Each tunable on a fresh allocator: the extremes are harmless to
	 * the rest of the test. */
	for (size_t i = 0; i < NR_RANGES; i++) {
		const struct range *r = &ranges[i];
		struct za *za = build(1024);
		char old[ZA_SYSCTL_VALUE_MAX];
		if (r->deflt)
			expect_value(za, r->name, r->deflt);
		else
			expect_value(za, r->name, "1024");
		strcpy(old, get(za, r->name));
		struct state before, after;
		snap(za, &before);

		/* Out of range, syntax errors: rejected, nothing changes. */
		static const char *const bad_syntax[] = {
			"",
			" ",
			"\n",
			"abc",
			"12abc",
			"1.5",
			"0x10",
			"+5",
			"--1",
			"-",
			"1,2",
			"1;",
			"5 x",
			"99999999999999999999999x",
			"\x01"
			"1",
		};
		expect_set(za, r->name, r->below_min, -ERANGE);
		expect_set(za, r->name, r->above_max, -ERANGE);
		expect_set(za, r->name, "99999999999999999999999", -ERANGE);
		expect_set(za, r->name, "-99999999999999999999999", -ERANGE);
		for (size_t k = 0; k < sizeof(bad_syntax) / sizeof(bad_syntax[0]); k++)
			expect_set(za, r->name, bad_syntax[k], -EINVAL);
		/* A scalar takes one value; the ratio one per zone. */
		if (strcmp(r->name, "lowmem_reserve_ratio") == 0) {
			expect_set(za, r->name, "1 2 3 4 5", -EINVAL);
			expect_set(za, r->name, "1 2 3 -4", -ERANGE);
			expect_set(za, r->name, "1 2 3 x", -EINVAL);
		} else {
			expect_set(za, r->name, "10 20", -EINVAL);
		}
		snap(za, &after);
		same(&before, &after, r->name);
		free(after.zoneinfo);
		expect_value(za, r->name, old);

		/* Both ends are accepted and read back. */
		expect_set(za, r->name, r->min, 0);
		if (strcmp(r->name, "lowmem_reserve_ratio") == 0)
			expect_value(za, r->name, "0 256 32 0");
		else
			expect_value(za, r->name, r->min);
		expect_set(za, r->name, r->max, 0);
		if (strcmp(r->name, "lowmem_reserve_ratio") == 0)
			expect_value(za, r->name, "2147483647 256 32 0");
		else
			expect_value(za, r->name, r->max);
		/* White space around the value, as `echo` writes it. */
		char text[64];
		snprintf(text, sizeof(text), " \t%s\n", r->min);
		expect_set(za, r->name, text, 0);
		if (strcmp(r->name, "lowmem_reserve_ratio") != 0)
			expect_value(za, r->name, r->min);
		CHECK_EQ(za_check(za, stderr), 0);
		free(before.zoneinfo);
		za_destroy(za);
	}
}

/* ---- writers against hotplug, readers and allocations ---- */

/* After the race, every page set has the sizes the final state gives
 * (batch, high_min, high_max from the kernel's arithmetic, DESIGN:
 * docs/RECLAIM.md section 7): no recompute, however it interleaved with
 * another, left a stale one behind. frac: the final
 * percpu_pagelist_high_fraction. */
static void expect_pcp_sizes(struct za *za, unsigned long frac)
{
	static const char *const zname[] = { "DMA", "DMA32" };
	char *text = capture(za);
	for (int t = ZA_ZONE_DMA; t <= ZA_ZONE_DMA32; t++) {
		struct za_zone_info zi;
		CHECK_EQ(za_zone_info(za, 0, (enum za_zone_type)t, &zi), 0);
		unsigned long b = zi.managed >> 10, cap = 256;
		if (b > cap)
			b = cap;
		b /= 4;
		if (b < 1)
			b = 1;
		unsigned long batch = 1;
		while (batch * 2 <= b + b / 2)
			batch *= 2;
		batch = batch - 1 ? batch - 1 : 1;
		unsigned long lo = (frac ? zi.managed / frac : zi.low) / 2;
		unsigned long hi = zi.managed / 8 / 2;
		if (lo < 4 * batch)
			lo = 4 * batch;
		if (frac || hi < lo)
			hi = lo;
		char head[64], want[256];
		snprintf(head, sizeof(head), "zone %8s\n", zname[t]);
		const char *at = strstr(text, head);
		CHECK(at != NULL);
		for (unsigned c = 0; c < 2; c++) {
			struct za_pcp_info pi;
			CHECK_EQ(za_pcp_info(za, c, 0, (enum za_zone_type)t, &pi), 0);
			snprintf(want, sizeof(want),
			         "    cpu: %u\n              count:    %u\n"
			         "              high:     %u\n              batch:    %lu\n"
			         "              high_min: %lu\n              high_max: %lu\n",
			         c, pi.count, pi.high, batch, lo, hi);
			if (!strstr(at, want) || pi.high < lo || pi.high > hi) {
				fprintf(stderr,
				        "zone %s cpu %u: stale page-set sizes, want\n%s"
				        "in\n%s",
				        zname[t], c, want, text);
				exit(1);
			}
		}
	}
	free(text);
}

static struct za *rza;
static int rounds;

static void *writer(void *arg)
{
	(void)arg;
	static const char *const mfk[] = { "2048", "4096" },
	                         *const wsf[] = { "10", "200" },
	                         *const frac[] = { "0", "8" },
	                         *const ratio[] = { "256 256 32 0", "32 64" };
	for (int i = 0; i < rounds; i++) {
		CHECK_EQ(za_sysctl_set(rza, "min_free_kbytes", mfk[i & 1]), 0);
		CHECK_EQ(za_sysctl_set(rza, "watermark_scale_factor",
		                       wsf[(i >> 1) & 1]),
		         0);
		CHECK_EQ(za_sysctl_set(rza, "percpu_pagelist_high_fraction",
		                       frac[(i >> 2) & 1]),
		         0);
		CHECK_EQ(za_sysctl_set(rza, "lowmem_reserve_ratio",
		                       ratio[(i >> 3) & 1]),
		         0);
		CHECK_EQ(za_sysctl_set(rza, "min_free_kbytes", "-1"), -ERANGE);
	}
	return NULL;
}

static void *hotplug(void *arg)
{
	(void)arg;
	for (int i = 0; i < rounds; i++) {
		CHECK_EQ(za_cpu_offline(rza, 1), 0);
		CHECK_EQ(za_cpu_online(rza, 1), 0);
		CHECK_EQ(za_memory_online(rza, 0, ZA_ZONE_NORMAL, 12 * BLK, BLK, NULL),
		         0);
		int err;
		while ((err = za_memory_offline(rza, 12 * BLK, BLK)) == -EBUSY ||
		       err == -EAGAIN)
			;
		CHECK_EQ(err, 0);
	}
	return NULL;
}

static void *reader(void *arg)
{
	(void)arg;
	char buf[ZA_SYSCTL_VALUE_MAX];
	for (int i = 0; i < rounds * 4; i++)
		for (unsigned k = 0; za_sysctl_name(k); k++)
			CHECK_EQ(za_sysctl_get(rza, za_sysctl_name(k), buf, sizeof(buf)),
			         0);
	return NULL;
}

static void race(void)
{
	rza = build(4096);
	rounds = (int)tu_scale(200);
	pthread_t t[3];
	CHECK_EQ(pthread_create(&t[0], NULL, writer, NULL), 0);
	CHECK_EQ(pthread_create(&t[1], NULL, hotplug, NULL), 0);
	CHECK_EQ(pthread_create(&t[2], NULL, reader, NULL), 0);
	static struct za_page *held[64];
	for (int i = 0; i < rounds * 20; i++) {
		int k = i % 64;
		if (held[k])
			za_free_pages(rza, held[k], 0);
		held[k] = za_alloc_pages(rza, ZA_GFP_KERNEL, 0);
	}
	/* Give the pages back before waiting: one of them may lie in the
	 * block the hotplug thread keeps trying to take offline (it is
	 * unmovable: -EBUSY until it is freed). */
	for (int k = 0; k < 64; k++)
		za_free_pages(rza, held[k], 0);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(pthread_join(t[i], NULL), 0);
	expect_value(rza, "min_free_kbytes", "4096");
	expect_pcp_sizes(rza, ((rounds - 1) >> 2) & 1 ? 8 : 0);
	CHECK_EQ(za_check(rza, stderr), 0);
	za_destroy(rza);
}

/* A CPU flip beside a sysctl write. The flip only tries tunables_lock;
 * finding it held, it leaves a mark (tunables_dirty) and returns, and
 * whoever holds the lock recomputes for it as it lets go
 * (tunables_leave). The writer is stopped inside its hold of
 * tunables_lock: the test holds sysctl_lock, which the writer takes
 * next (the raw mutex, outside the witness). Then a CPU goes offline
 * (and, the second time, online), and the writer is let go. For every
 * tunable, an input of the recompute or not, the published page-set
 * sizes must then be those of the new number of online CPUs, as a fresh
 * recompute gives them. */
static struct za *fza;
static const char *fname, *fvalue;

static void *flip_writer(void *arg)
{
	(void)arg;
	CHECK_EQ(za_sysctl_set(fza, fname, fvalue), 0);
	return NULL;
}

static struct za_pcp_sizes published(void)
{
	const struct za_zone *z = &fza->nodes[0].zones[ZA_ZONE_DMA32];
	struct za_pcp_sizes s = {
		za_load_relaxed(&z->pcp_sizes.batch),
		za_load_relaxed(&z->pcp_sizes.high_min),
		za_load_relaxed(&z->pcp_sizes.high_max),
		0,
	};
	return s;
}

static void flip_beside_write(bool online)
{
	pthread_mutex_t *sysctl_lock = fza->sysctl_lock.impl;
	pthread_mutex_t *tunables_lock = fza->tunables_lock.impl;
	pthread_t t;
	pthread_mutex_lock(sysctl_lock);
	CHECK_EQ(pthread_create(&t, NULL, flip_writer, NULL), 0);
	/* Until the writer holds tunables_lock (and waits for sysctl_lock
	 * inside that hold). */
	while (pthread_mutex_trylock(tunables_lock) == 0) {
		pthread_mutex_unlock(tunables_lock);
		sched_yield();
	}
	if (online)
		CHECK_EQ(za_cpu_online(fza, 1), 0);
	else
		CHECK_EQ(za_cpu_offline(fza, 1), 0);
	/* The flip found the lock held and left its mark. */
	CHECK_EQ(za_load_relaxed(&fza->tunables_dirty), 1);
	pthread_mutex_unlock(sysctl_lock);
	CHECK_EQ(pthread_join(t, NULL), 0);
	struct za_pcp_sizes got = published();
	/* Any recompute now reads the CPUs as they are. */
	CHECK_EQ(za_sysctl_set(fza, "watermark_scale_factor", "10"), 0);
	struct za_pcp_sizes want = published();
	RULE(got.batch == want.batch && got.high_min == want.high_min &&
	         got.high_max == want.high_max,
	     "tunables: a CPU flip that finds tunables_lock held gets its "
	     "recompute when the holder lets go: after CPU 1 went %s beside a "
	     "write of %s, DMA32's published high_min/high_max are %d/%d, "
	     "%d/%d for %u online CPUs",
	     online ? "online" : "offline", fname, got.high_min, got.high_max,
	     want.high_min, want.high_max, za_load_relaxed(&fza->nr_online_cpus));
}

static void flips_beside_writes(void)
{
	/* Each tunable with the value it has (the defaults, and build's
	 * min_free_kbytes): only the CPUs change the sizes. */
	static const struct {
		const char *name, *value;
	} writes[] = {
		{ "watermark_boost_factor", "15000" },
		{ "compaction_proactiveness", "20" },
		{ "extfrag_threshold", "500" },
		{ "min_free_kbytes", "4096" },
		{ "watermark_scale_factor", "10" },
		{ "lowmem_reserve_ratio", "256 256 32 0" },
		{ "percpu_pagelist_high_fraction", "0" },
	};
	for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
		fza = build(4096);
		fname = writes[i].name;
		fvalue = writes[i].value;
		struct za_pcp_sizes two = published();
		flip_beside_write(false);
		CHECK(published().high_min != two.high_min);
		flip_beside_write(true);
		CHECK_EQ(published().high_min, two.high_min);
		CHECK_EQ(za_check(fza, stderr), 0);
		za_destroy(fza);
	}
}

int main(void)
{
	tu_watchdog(120);

	/* Names, arguments, buffers. */
	struct za *za = build(4096);
	char buf[ZA_SYSCTL_VALUE_MAX];
	unsigned nnames = 0;
	/* The vm tunables; fault injection's (fail_page_alloc.*) follow them
	 * and have a test of their own (debug_fault). */
	while (za_sysctl_name(nnames) &&
	       strncmp(za_sysctl_name(nnames), "fail_page_alloc.", 16) != 0)
		nnames++;
	CHECK_EQ(nnames, NR_RANGES);
	for (size_t i = 0; i < NR_RANGES; i++) {
		unsigned k;
		for (k = 0; k < nnames; k++)
			if (strcmp(za_sysctl_name(k), ranges[i].name) == 0)
				break;
		CHECK(k < nnames);
	}
	expect_set(za, "min_free_kbyte", "10", -ENOENT);
	expect_set(za, "", "10", -ENOENT);
	expect_set(za, "vm.min_free_kbytes", "10", -ENOENT);
	CHECK_EQ(za_sysctl_get(za, "swappiness", buf, sizeof(buf)), -ENOENT);
	CHECK_EQ(za_sysctl_set(NULL, "min_free_kbytes", "10"), -EINVAL);
	CHECK_EQ(za_sysctl_set(za, NULL, "10"), -EINVAL);
	CHECK_EQ(za_sysctl_set(za, "min_free_kbytes", NULL), -EINVAL);
	CHECK_EQ(za_sysctl_get(NULL, "min_free_kbytes", buf, sizeof(buf)),
	         -EINVAL);
	CHECK_EQ(za_sysctl_get(za, NULL, buf, sizeof(buf)), -EINVAL);
	CHECK_EQ(za_sysctl_get(za, "min_free_kbytes", NULL, 8), -EINVAL);
	/* "4096" needs 5 bytes: 4 is too small and leaves "", 5 fits. */
	memset(buf, 'x', sizeof(buf));
	CHECK_EQ(za_sysctl_get(za, "min_free_kbytes", buf, 4), -ERANGE);
	CHECK_EQ(buf[0], 0);
	CHECK_EQ(za_sysctl_get(za, "min_free_kbytes", NULL, 0), -ERANGE);
	CHECK_EQ(za_sysctl_get(za, "min_free_kbytes", buf, 5), 0);
	CHECK(strcmp(buf, "4096") == 0);
	/* The longest value fits in ZA_SYSCTL_VALUE_MAX. */
	expect_set(za, "lowmem_reserve_ratio",
	           "2147483647 2147483647 2147483647 2147483647", 0);
	expect_value(za, "lowmem_reserve_ratio",
	             "2147483647 2147483647 2147483647 2147483647");
	expect_set(za, "lowmem_reserve_ratio", "256 256 32 0", 0);

	/* Effects. */
	expect_wmarks(za, 4096, 10);
	expect_set(za, "min_free_kbytes", "8192\n", 0);
	expect_value(za, "min_free_kbytes", "8192");
	expect_wmarks(za, 8192, 10);
	expect_set(za, "watermark_scale_factor", "1000", 0);
	expect_wmarks(za, 8192, 1000);
	expect_set(za, "min_free_kbytes", "0", 0);
	expect_value(za, "min_free_kbytes", "0");
	expect_wmarks(za, 0, 1000);
	expect_set(za, "watermark_scale_factor", "10", 0);
	expect_set(za, "min_free_kbytes", "2048", 0);
	expect_wmarks(za, 2048, 10);

	/* lowmem_reserve_ratio: DMA keeps DMA32's pages over its ratio from
	 * requests that could use DMA32; a partial write keeps the rest. */
	struct za_zone_info dma, dma32;
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_DMA32, &dma32), 0);
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_DMA, &dma), 0);
	CHECK_EQ(dma.lowmem_reserve[ZA_ZONE_DMA32], dma32.managed / 256);
	expect_set(za, "lowmem_reserve_ratio", "64", 0);
	expect_value(za, "lowmem_reserve_ratio", "64 256 32 0");
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_DMA, &dma), 0);
	CHECK_EQ(dma.lowmem_reserve[ZA_ZONE_DMA32], dma32.managed / 64);
	CHECK_EQ(dma.lowmem_reserve[ZA_ZONE_NORMAL], dma32.managed / 64);
	expect_set(za, "lowmem_reserve_ratio", "0 0", 0);
	CHECK_EQ(za_zone_info(za, 0, ZA_ZONE_DMA, &dma), 0);
	CHECK_EQ(dma.lowmem_reserve[ZA_ZONE_DMA32], 0);
	expect_set(za, "lowmem_reserve_ratio", "256\t256\t32\t0\n", 0);

	/* percpu_pagelist_high_fraction: every list's high fixed at the
	 * fraction of its zone over the node's CPUs; 0 brings self-sizing
	 * back. */
	expect_set(za, "percpu_pagelist_high_fraction", "8", 0);
	for (unsigned c = 0; c < 2; c++) {
		struct za_pcp_info pi;
		CHECK_EQ(za_pcp_info(za, c, 0, ZA_ZONE_DMA32, &pi), 0);
		unsigned long want = dma32.managed / 8 / 2;
		if (want < 4ul * pi.batch)
			want = 4ul * pi.batch;
		CHECK_EQ(pi.high, want);
	}
	char *text = capture(za);
	char want[160];
	snprintf(want, sizeof(want),
	         "              high_min: %lu\n"
	         "              high_max: %lu\n",
	         dma32.managed / 16, dma32.managed / 16);
	CHECK(strstr(strstr(text, "zone    DMA32"), want) != NULL);
	free(text);
	expect_set(za, "percpu_pagelist_high_fraction", "1000", 0);
	struct za_pcp_info pi;
	CHECK_EQ(za_pcp_info(za, 0, 0, ZA_ZONE_DMA32, &pi), 0);
	CHECK_EQ(pi.high, 4 * pi.batch); /* the floor: four batches */
	expect_set(za, "percpu_pagelist_high_fraction", "0", 0);
	expect_wmarks(za, 2048, 10); /* high_min from the low mark again */

	/* A written min_free_kbytes stays across memory hotplug. */
	expect_set(za, "min_free_kbytes", "3000", 0);
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 12 * BLK, 4 * BLK, NULL),
	         0);
	expect_value(za, "min_free_kbytes", "3000");
	CHECK_EQ(za_memory_offline(za, 12 * BLK, 4 * BLK), 0);
	expect_value(za, "min_free_kbytes", "3000");
	expect_wmarks(za, 3000, 10);
	CHECK_EQ(za_check(za, stderr), 0);
	za_destroy(za);

	check_ranges();
	flips_beside_writes();
	race();
	printf("core_sysctl: ranges, parser, effects ok\n");
	return 0;
}
