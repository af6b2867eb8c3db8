/*
 * test_trace_parse.c - the kmem ftrace line parser (tools/trace_parse.c) on the
 * line shapes of trace_pipe, `trace-cmd report` and `perf script`, with
 * and without page=, hex and decimal fields, odd task names, the lines it
 * must skip or count, malformed lines, and the kernel-to-zonealloc gfp
 * mapping.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "trace.h"

static enum trace_line_kind parse(const char *line, struct trace_event *ev)
{
	memset(ev, 0xa5, sizeof(*ev)); /* nothing may be left over */
	return trace_parse_line(line, strlen(line), ev, NULL, NULL, NULL);
}

static uint32_t gfp(const char *s)
{
	uint32_t k = 0xdeadbeef;
	CHECK_EQ(trace_gfp_parse(s, strlen(s), &k, NULL), 0);
	return k;
}

#define K_KERNEL                                                              \
	(TRACE_KGFP_DIRECT_RECLAIM | TRACE_KGFP_KSWAPD_RECLAIM | TRACE_KGFP_IO |  \
	 TRACE_KGFP_FS)

static void test_trace_pipe(void)
{
	struct trace_event ev;

	/* exactly as the shared trace has it (page= removed) */
	CHECK_EQ(parse("      capture.sh-2284    [001] .....  1937.576336: "
	               "mm_page_alloc: pfn=0x1187ab order=0 migratetype=1 "
	               "gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_COMP",
	               &ev),
	         TRACE_LINE_EVENT);
	CHECK_EQ(ev.type, TRACE_ALLOC);
	CHECK_EQ(ev.cpu, 1);
	CHECK_EQ(ev.pfn, 0x1187ab);
	CHECK_EQ(ev.order, 0);
	CHECK_EQ(ev.migratetype, 1);
	CHECK_EQ(ev.ts_ns, 1937576336000ull);
	CHECK_EQ(ev.flags, 0);
	CHECK_EQ(ev.kgfp, K_KERNEL | TRACE_KGFP_HARDWALL | TRACE_KGFP_HIGHMEM |
	                      TRACE_KGFP_MOVABLE | TRACE_KGFP_COMP);

	/* with the page pointer, hashed as trace_pipe prints it */
	CHECK_EQ(parse("bash-1234 [000] d..3. 100.000001: mm_page_alloc: "
	               "page=000000006bd3d1a4 pfn=0x12344 order=2 migratetype=0 "
	               "gfp_flags=GFP_KERNEL",
	               &ev),
	         TRACE_LINE_EVENT);
	CHECK_EQ(ev.pfn, 0x12344);
	CHECK_EQ(ev.order, 2);
	CHECK_EQ(ev.kgfp, K_KERNEL);
	CHECK_EQ(ev.flags & TRACE_EV_FAILED, 0);

	/* failed kernel allocations: no page */
	CHECK_EQ(parse("bash-1 [000] ..... 1.5: mm_page_alloc: "
	               "page=0000000000000000 pfn=0x0 order=3 migratetype=0 "
	               "gfp_flags=GFP_ATOMIC",
	               &ev),
	         TRACE_LINE_EVENT);
	CHECK(ev.flags & TRACE_EV_FAILED);
	CHECK_EQ(parse("bash-1 [000] ..... 1.5: mm_page_alloc: page=(null) "
	               "pfn=0x0 order=3 migratetype=0 gfp_flags=GFP_ATOMIC",
	               &ev),
	         TRACE_LINE_EVENT);
	CHECK(ev.flags & TRACE_EV_FAILED);
	/* without page=, pfn 0 is the failure mark */
	CHECK_EQ(parse("bash-1 [000] ..... 1.5: mm_page_alloc: pfn=0x0 order=3 "
	               "migratetype=0 gfp_flags=GFP_ATOMIC",
	               &ev),
	         TRACE_LINE_EVENT);
	CHECK(ev.flags & TRACE_EV_FAILED);
	/* a free of pfn 0 is just a free */
	CHECK_EQ(parse("bash-1 [000] ..... 1.5: mm_page_free: pfn=0x0 order=0",
	               &ev),
	         TRACE_LINE_EVENT);
	CHECK_EQ(ev.flags, 0);

	/* task names with spaces, dashes and brackets */
	CHECK_EQ(parse("  Web Content-[x] 1-99 [003] ..... 5.000000: "
	               "mm_page_free: pfn=0x10 order=1",
	               &ev),
	         TRACE_LINE_EVENT);
	CHECK_EQ(ev.type, TRACE_FREE);
	CHECK_EQ(ev.cpu, 3);
	CHECK_EQ(ev.pfn, 0x10);
	CHECK_EQ(ev.order, 1);
	CHECK_EQ(ev.migratetype, -1);
	CHECK_EQ(parse("<...>-7 [002] ..... 9.25: mm_page_free: pfn=0x11 "
	               "order=0",
	               &ev),
	         TRACE_LINE_EVENT);
	CHECK_EQ(ev.cpu, 2);
	CHECK_EQ(ev.ts_ns, 9250000000ull);

	/* no irq-info column; batched frees without order are order 0 */
	CHECK_EQ(parse("kworker/u8:2-123 [002] 12.345678: mm_page_free_batched: "
	               "pfn=0x77",
	               &ev),
	         TRACE_LINE_EVENT);
	CHECK_EQ(ev.type, TRACE_FREE_BATCHED);
	CHECK_EQ(ev.order, 0);
	CHECK_EQ(ev.pfn, 0x77);

	CHECK_EQ(parse("cc1-2292    [000] d..3.  1937.598709: "
	               "mm_page_alloc_zone_locked: pfn=0x11a41b order=0 "
	               "migratetype=1 percpu_refill=1",
	               &ev),
	         TRACE_LINE_EVENT);
	CHECK_EQ(ev.type, TRACE_ZONE_LOCKED);
	CHECK_EQ(ev.flags, TRACE_EV_REFILL | TRACE_EV_HAVE_REFILL);
	CHECK_EQ(parse("cc1-2292    [000] d..3.  1937.598709: "
	               "mm_page_alloc_zone_locked: pfn=0x11a418 order=3 "
	               "migratetype=0 percpu_refill=0",
	               &ev),
	         TRACE_LINE_EVENT);
	CHECK_EQ(ev.flags, TRACE_EV_HAVE_REFILL);
	CHECK_EQ(ev.order, 3);

	CHECK_EQ(parse("gzip-2291    [001] d..3.  1938.578294: "
	               "mm_page_pcpu_drain: pfn=0x111e36 order=0 migratetype=0\r",
	               &ev),
	         TRACE_LINE_EVENT);
	CHECK_EQ(ev.type, TRACE_PCPU_DRAIN);
	CHECK_EQ(ev.migratetype, 0);
}

static void test_trace_cmd(void)
{
	struct trace_event ev;

	/* older kernels printed the pfn in decimal */
	CHECK_EQ(parse("            bash-1234  [002]  1234.567890: "
	               "mm_page_alloc:        page=0xffffea0004a3f5c0 "
	               "pfn=1215472 order=0 migratetype=0 "
	               "gfp_flags=GFP_KERNEL|__GFP_ZERO",
	               &ev),
	         TRACE_LINE_EVENT);
	CHECK_EQ(ev.cpu, 2);
	CHECK_EQ(ev.pfn, 1215472);
	CHECK_EQ(ev.kgfp, K_KERNEL | TRACE_KGFP_ZERO);
	CHECK_EQ(ev.flags, 0);

	/* nanosecond timestamps and the latency column */
	CHECK_EQ(parse("  cc1-2292 [000] d..3. 1937.598709123: mm_page_pcpu_drain: "
	               "page=0xffffea0000000040 pfn=0x11a41b order=0 "
	               "migratetype=1",
	               &ev),
	         TRACE_LINE_EVENT);
	CHECK_EQ(ev.ts_ns, 1937598709123ull);
	CHECK_EQ(ev.type, TRACE_PCPU_DRAIN);

	/* old mm_page_free_batched had cold= and no order */
	CHECK_EQ(parse("  kswapd0-50 [001] 3.000001: mm_page_free_batched: "
	               "page=ffffea0000001000 pfn=64 order=0 cold=1",
	               &ev),
	         TRACE_LINE_EVENT);
	CHECK_EQ(ev.pfn, 64);

	/* its header lines */
	CHECK_EQ(parse("cpus=2", &ev), TRACE_LINE_COMMENT);
	CHECK_EQ(parse("CPU 1 is empty", &ev), TRACE_LINE_COMMENT);
	CHECK_EQ(parse("version = 6", &ev), TRACE_LINE_COMMENT);
}

static void test_perf_script(void)
{
	struct trace_event ev;

	/* perf writes the system too, and raw hex gfp when it cannot decode */
	CHECK_EQ(parse("            perf  4567 [001]  5678.123456: "
	               "kmem:mm_page_alloc: page=0xffffea0004a3f5c0 pfn=0x128d7d "
	               "order=0 migratetype=1 gfp_flags=0x140cca",
	               &ev),
	         TRACE_LINE_EVENT);
	CHECK_EQ(ev.type, TRACE_ALLOC);
	CHECK_EQ(ev.cpu, 1);
	CHECK_EQ(ev.pfn, 0x128d7d);
	CHECK_EQ(ev.kgfp, 0x140cca);
	CHECK_EQ(ev.kgfp, gfp("GFP_HIGHUSER_MOVABLE|__GFP_COMP"));
	CHECK_EQ(trace_gfp_to_za(ev.kgfp, NULL), ZA_GFP_MOVABLE | ZA_GFP_NOWARN);

	/* pid/tid, and a sample period before the event */
	CHECK_EQ(parse("  gcc 1234/1235 [000] 10.000001: kmem:mm_page_free: "
	               "pfn=0x1 order=0",
	               &ev),
	         TRACE_LINE_EVENT);
	CHECK_EQ(ev.type, TRACE_FREE);
	CHECK_EQ(parse("  gcc  1234 [000] 10.000001:          1 "
	               "kmem:mm_page_free_batched: pfn=0x2",
	               &ev),
	         TRACE_LINE_EVENT);
	CHECK_EQ(ev.type, TRACE_FREE_BATCHED);
	CHECK_EQ(ev.pfn, 2);
	CHECK_EQ(parse("  as 77 [001] 11.5: kmem:mm_page_alloc_zone_locked: "
	               "page=0xffffea0000000040 pfn=0x1000 order=1 migratetype=1 "
	               "percpu_refill=1",
	               &ev),
	         TRACE_LINE_EVENT);
	CHECK_EQ(ev.type, TRACE_ZONE_LOCKED);
	CHECK_EQ(ev.order, 1);
}

static void test_skipped_and_unknown(void)
{
	struct trace_event ev;
	uint64_t lost = 5;

	CHECK_EQ(parse("", &ev), TRACE_LINE_BLANK);
	CHECK_EQ(parse("   \t \r", &ev), TRACE_LINE_BLANK);
	CHECK_EQ(parse("# tracer: nop", &ev), TRACE_LINE_COMMENT);
	CHECK_EQ(parse("#           TASK-PID     CPU#  |||||  TIMESTAMP  "
	               "FUNCTION",
	               &ev),
	         TRACE_LINE_COMMENT);
	/* other events are well-formed, just not ours */
	CHECK_EQ(parse("bash-1 [000] ..... 1.0: kmalloc: call_site=foo+0x1/0x2 "
	               "ptr=0 bytes_req=8",
	               &ev),
	         TRACE_LINE_OTHER);
	CHECK_EQ(parse("bash-1 [000] ..... 1.0: mm_page_alloc_extfrag: "
	               "page=0 pfn=0x1",
	               &ev),
	         TRACE_LINE_OTHER);
	CHECK_EQ(parse("perf 1 [000] 1.0: kmem:kfree: call_site=x ptr=0", &ev),
	         TRACE_LINE_OTHER);
	/* ftrace's overflow marker */
	CHECK_EQ(trace_parse_line("CPU:1 [LOST 123 EVENTS]", 23, &ev, &lost, NULL,
	                          NULL),
	         TRACE_LINE_LOST);
	CHECK_EQ(lost, 128);
	/* junk */
	CHECK_EQ(parse("hello world", &ev), TRACE_LINE_UNKNOWN);
	CHECK_EQ(parse("mm_page_alloc: pfn=0x1 order=0 gfp_flags=GFP_KERNEL", &ev),
	         TRACE_LINE_UNKNOWN);
	CHECK_EQ(parse("x [0] y", &ev), TRACE_LINE_UNKNOWN);
	CHECK_EQ(parse("x [0] 1.0 mm_page_free: pfn=1 order=0", &ev),
	         TRACE_LINE_UNKNOWN); /* no ':' after the time */
	CHECK_EQ(parse("x [12a] 1.0: mm_page_free: pfn=1 order=0", &ev),
	         TRACE_LINE_UNKNOWN);
	CHECK_EQ(parse("x [0]", &ev), TRACE_LINE_UNKNOWN);
	CHECK_EQ(parse("[", &ev), TRACE_LINE_UNKNOWN);
	{
		/* binary: NUL bytes inside */
		static const char bin[] = "a-1 [000] 1.0: mm_page_free: pfn=\0x1";
		CHECK_EQ(trace_parse_line(bin, sizeof(bin) - 1, &ev, NULL, NULL, NULL),
		         TRACE_LINE_UNKNOWN);
	}
	{
		/* the line need not be NUL-terminated: only len bytes count */
		const char *l = "a-1 [000] 1.0: mm_page_free: pfn=0x1 order=0 "
		                "XXXXXXXX";
		CHECK_EQ(trace_parse_line(l, strlen(l) - 9, &ev, NULL, NULL, NULL),
		         TRACE_LINE_EVENT);
		CHECK_EQ(ev.pfn, 1);
	}
}

/* A timestamp is read only when its nanoseconds fit, with room for the
 * replay's decay clock (a pass ahead of the time): a time of 11 or 12
 * digits of seconds could pass 2^64 ns and wrap around, and a trace whose
 * events all came in one second then read as 584 years apart (review 14,
 * finding 1: 5 million decay passes for 20000 events of one time). */
static void test_timestamps(void)
{
	static const char *const wraps[] = {
		"a-1 [000] ..... 99999999999.5: mm_page_free: pfn=0x1 order=0",
		"a-1 [000] ..... 18446744073.709551615: mm_page_free: pfn=0x1 "
		"order=0",
		"a-1 [000] ..... 18446744072.000000: mm_page_free: pfn=0x1 order=0",
		"a-1 [000] ..... 999999999999.000000: mm_page_free: pfn=0x1 "
		"order=0",
		"perf 1 [000] 18446744074.0: kmem:mm_page_free: pfn=0x1 order=0",
	};
	struct trace_event ev;
	size_t i;

	for (i = 0; i < sizeof(wraps) / sizeof(wraps[0]); i++) {
		const char *why = NULL;
		enum trace_line_kind k = trace_parse_line(wraps[i], strlen(wraps[i]),
		                                          &ev, NULL, &why, NULL);
		RULE(k == TRACE_LINE_MALFORMED && why && strstr(why, "timestamp"),
		     "a timestamp past what the nanoseconds (and the decay clock "
		     "a pass ahead) hold is a malformed line that says so, not "
		     "an event at a wrapped time: %s",
		     wraps[i]);
	}
	/* another event's line with such a time is still another event's */
	CHECK_EQ(parse("a-1 [000] ..... 99999999999.5: kmalloc: ptr=0", &ev),
	         TRACE_LINE_OTHER);
	/* ten digits, the most that is read, exactly */
	CHECK_EQ(parse("a-1 [000] ..... 9999999999.999999999: mm_page_free: "
	               "pfn=0x1 order=0",
	               &ev),
	         TRACE_LINE_EVENT);
	CHECK_EQ(ev.ts_ns, 9999999999999999999ull);
	CHECK(ev.ts_ns + 1000000000ull * 300 > ev.ts_ns);
}

static void expect_malformed(const char *line, const char *why_part)
{
	struct trace_event ev;
	const char *why = NULL;

	if (trace_parse_line(line, strlen(line), &ev, NULL, &why, NULL) !=
	    TRACE_LINE_MALFORMED) {
		fprintf(stderr, "not malformed: %s\n", line);
		exit(1);
	}
	CHECK(why != NULL);
	if (!strstr(why, why_part)) {
		fprintf(stderr, "reason '%s' for: %s\n", why, line);
		exit(1);
	}
}

static void test_malformed(void)
{
	expect_malformed("a-1 [000] ..... 1.0: mm_page_free: pfn=0x1 order=abc",
	                 "order");
	expect_malformed("a-1 [000] ..... 1.0: mm_page_free: pfn=0x1 order=21",
	                 "order");
	expect_malformed("a-1 [000] ..... 1.0: mm_page_free: pfn=0x1 order=-1",
	                 "order");
	expect_malformed("a-1 [000] ..... 1.0: mm_page_free: order=0", "pfn");
	expect_malformed("a-1 [000] ..... 1.0: mm_page_free: pfn=0xZZ order=0",
	                 "pfn");
	expect_malformed("a-1 [000] ..... 1.0: mm_page_free: pfn= order=0", "pfn");
	expect_malformed("a-1 [000] ..... 1.0: mm_page_free: pfn=0x "
	                 "order=0",
	                 "pfn");
	expect_malformed("a-1 [000] ..... 1.0: mm_page_free: "
	                 "pfn=0xffffffffffffff order=0",
	                 "pfn");
	expect_malformed("a-1 [000] ..... 1.0: mm_page_free: pfn=0x1", "order");
	expect_malformed("a-1 [000] ..... 1.0: mm_page_alloc: pfn=0x1 order=0 "
	                 "migratetype=0",
	                 "gfp");
	expect_malformed("a-1 [000] ..... 1.0: mm_page_alloc: pfn=0x1 order=0 "
	                 "migratetype=0 gfp_flags=foo",
	                 "gfp");
	expect_malformed("a-1 [000] ..... 1.0: mm_page_alloc: pfn=0x1 order=0 "
	                 "migratetype=0 gfp_flags=GFP_KERNEL|",
	                 "gfp");
	expect_malformed("a-1 [000] ..... 1.0: mm_page_alloc: pfn=0x1 order=0 "
	                 "migratetype=0 gfp_flags=GFP_KERNEL||__GFP_ZERO",
	                 "gfp");
	expect_malformed("a-1 [000] ..... 1.0: mm_page_alloc: pfn=0x1 order=0 "
	                 "migratetype=0 gfp_flags=0x1ffffffff",
	                 "gfp");
	expect_malformed("a-1 [000] ..... 1.0: mm_page_alloc: pfn=0x1 order=0 "
	                 "migratetype=x gfp_flags=GFP_KERNEL",
	                 "migratetype");
	expect_malformed("a-1 [000] ..... 1.0: mm_page_alloc_zone_locked: "
	                 "pfn=0x1 order=0 migratetype=0 percpu_refill=2",
	                 "percpu_refill");
	expect_malformed("a-1 [000] ..... 1.0: mm_page_free: page=xyz pfn=0x1 "
	                 "order=0",
	                 "page");
	expect_malformed("a-1 [99999] ..... 1.0: mm_page_free: pfn=0x1 order=0",
	                 "cpu");
	/* a block at a pfn that is no multiple of its size (review 14,
	 * finding 7): the kernel prints none, and --stream could not pair it */
	{
		static const char *const unaligned[] = {
			"a-1 [000] ..... 1.0: mm_page_alloc: pfn=0x11a500 order=9 "
			"migratetype=1 gfp_flags=GFP_TRANSHUGE",
			"a-1 [000] ..... 1.0: mm_page_free: pfn=0x1001 order=1",
			"a-1 [000] ..... 1.0: mm_page_pcpu_drain: pfn=0x6 order=2 "
			"migratetype=0",
		};
		size_t i;
		for (i = 0; i < sizeof(unaligned) / sizeof(unaligned[0]); i++) {
			struct trace_event ev;
			const char *why = NULL;
			RULE(trace_parse_line(unaligned[i], strlen(unaligned[i]), &ev,
			                      NULL, &why, NULL) == TRACE_LINE_MALFORMED &&
			         why && strstr(why, "aligned"),
			     "a block at a pfn that is no multiple of 2^order is a "
			     "malformed line that says so: %s",
			     unaligned[i]);
		}
	}
}

static void test_gfp(void)
{
	uint32_t k;
	uint64_t unknown = 0, stripped = 0;
	za_gfp_t g;

	CHECK_EQ(gfp("GFP_KERNEL"), 0xcc0); /* the well-known value */
	CHECK_EQ(gfp("0xcc0"), 0xcc0);
	CHECK_EQ(gfp("3264"), 0xcc0);
	CHECK_EQ(gfp("none"), 0);
	CHECK_EQ(gfp("GFP_KERNEL_ACCOUNT|__GFP_ZERO|__GFP_COMP"),
	         0xcc0 | TRACE_KGFP_ACCOUNT | TRACE_KGFP_ZERO | TRACE_KGFP_COMP);
	CHECK_EQ(gfp("GFP_NOFS|__GFP_HIGHMEM|__GFP_MOVABLE|__GFP_NOWARN|"
	             "__GFP_NORETRY|__GFP_COMP|__GFP_HARDWALL"),
	         0xc40 | 0x2 | 0x8 | 0x2000 | 0x10000 | 0x40000 | 0x100000);
	/* __print_flags leaves unnamed bits as a hex tail */
	CHECK_EQ(gfp("GFP_KERNEL|0x4000000"), 0xcc0 | 0x4000000);

	/* unknown names are counted, not errors */
	CHECK_EQ(trace_gfp_parse("GFP_KERNEL|__GFP_NEWTHING", 25, &k, &unknown),
	         0);
	CHECK_EQ(k, 0xcc0);
	CHECK_EQ(unknown, 1);
	/* the memo of the last string must still count them */
	CHECK_EQ(trace_gfp_parse("GFP_KERNEL|__GFP_NEWTHING", 25, &k, &unknown),
	         0);
	CHECK_EQ(unknown, 2);
	CHECK(trace_gfp_parse("", 0, &k, NULL) < 0);
	CHECK(trace_gfp_parse("gfp_kernel", 10, &k, NULL) < 0);
	CHECK(trace_gfp_parse("|GFP_KERNEL", 11, &k, NULL) < 0);

	/* onto zonealloc */
	CHECK_EQ(trace_gfp_to_za(gfp("GFP_KERNEL"), NULL),
	         ZA_GFP_KERNEL | ZA_GFP_NOWARN);
	CHECK_EQ(trace_gfp_to_za(gfp("GFP_ATOMIC"), NULL),
	         ZA_GFP_ATOMIC | ZA_GFP_NOWARN);
	CHECK_EQ(trace_gfp_to_za(0xa20, NULL), /* 5.x GFP_ATOMIC */
	         ZA_GFP_ATOMIC | ZA_GFP_NOWARN);
	CHECK_EQ(trace_gfp_to_za(gfp("GFP_NOWAIT"), NULL),
	         ZA_GFP_NOWAIT | ZA_GFP_NOWARN);
	CHECK_EQ(trace_gfp_to_za(gfp("GFP_HIGHUSER_MOVABLE"), NULL),
	         ZA_GFP_MOVABLE | ZA_GFP_NOWARN);
	CHECK_EQ(trace_gfp_to_za(gfp("GFP_DMA"), NULL),
	         ZA_GFP_DMA | ZA_GFP_NOWARN);
	CHECK_EQ(trace_gfp_to_za(gfp("GFP_KERNEL|__GFP_DMA32"), NULL),
	         ZA_GFP_KERNEL | ZA_GFP_DMA32 | ZA_GFP_NOWARN);
	CHECK_EQ(trace_gfp_to_za(gfp("GFP_KERNEL|__GFP_RECLAIMABLE|__GFP_ZERO|"
	                             "__GFP_NORETRY|__GFP_THISNODE"),
	                         NULL),
	         ZA_GFP_KERNEL | ZA_GFP_RECLAIMABLE | ZA_GFP_ZERO |
	             ZA_GFP_NORETRY | ZA_GFP_THISNODE | ZA_GFP_NOWARN);
	/* NOMEMALLOC keeps an atomic request out of the deeper reserves */
	g = trace_gfp_to_za(gfp("GFP_ATOMIC|__GFP_NOMEMALLOC"), NULL);
	CHECK(g & ZA___GFP_HIGH);
	CHECK(!(g & ZA___GFP_ATOMIC_RES));
	/* a request that may sleep is never "atomic" */
	g = trace_gfp_to_za(gfp("GFP_KERNEL|__GFP_HIGH"), NULL);
	CHECK(!(g & ZA___GFP_ATOMIC_RES));
	/* NOFAIL never reaches zonealloc */
	g = trace_gfp_to_za(gfp("GFP_NOFS|__GFP_NOFAIL|__GFP_COMP"), &stripped);
	CHECK(!(g & ZA_GFP_NOFAIL));
	CHECK_EQ(stripped, 1);
	CHECK(g & ZA___GFP_DIRECT_RECLAIM);
	/* transparent huge pages do not reclaim in the light form */
	g = trace_gfp_to_za(gfp("GFP_TRANSHUGE_LIGHT"), NULL);
	CHECK(!(g & (ZA___GFP_DIRECT_RECLAIM | ZA___GFP_KSWAPD_RECLAIM)));
	CHECK(g & ZA___GFP_MOVABLE);
	CHECK(trace_gfp_to_za(gfp("GFP_TRANSHUGE"), NULL) &
	      ZA___GFP_DIRECT_RECLAIM);
	/* whatever comes in, only bits zonealloc knows go out */
	for (k = 0; k < 32; k++)
		CHECK_EQ(trace_gfp_to_za(1u << k, NULL) & ~ZA_GFP_ALL_BITS, 0);
	CHECK_EQ(trace_gfp_to_za(0xffffffffu, &stripped) & ZA_GFP_NOFAIL, 0);
}

/* Real lines with a few bytes changed, cut short or run together: the
 * parser must classify every one and never read outside it (the
 * sanitizer builds run this too). */
static void test_mutations(void)
{
	static const char *const base[] = {
		"      capture.sh-2284    [001] .....  1937.576336: mm_page_alloc: "
		"pfn=0x1187ab order=0 migratetype=1 "
		"gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_COMP",
		"cc1-2292    [000] d..3.  1937.598709: mm_page_alloc_zone_locked: "
		"pfn=0x11a41b order=0 migratetype=1 percpu_refill=1",
		"            perf  4567 [001]  5678.123456: kmem:mm_page_alloc: "
		"page=0xffffea0004a3f5c0 pfn=0x128d7d order=0 migratetype=1 "
		"gfp_flags=0x140cca",
		"CPU:1 [LOST 123 EVENTS]",
	};
	static const char alphabet[] = "0x9[]:=| .-_aAzZ\0\n\tGFP_";
	uint64_t s = 99, lost = 0, unknown = 0;
	long i, n = tu_scale(300000);
	char buf[256];

	for (i = 0; i < n; i++) {
		const char *b = base[tu_rand(&s) % 4];
		size_t len = strlen(b), k, m = 1 + tu_rand(&s) % 4;
		struct trace_event ev;
		const char *why = NULL;
		enum trace_line_kind kind;
		char *heap;

		memcpy(buf, b, len);
		for (k = 0; k < m; k++) {
			size_t at = tu_rand(&s) % len;
			if (tu_rand(&s) % 2)
				buf[at] = alphabet[tu_rand(&s) % (sizeof(alphabet) - 1)];
			else
				buf[at] = (char)tu_rand(&s);
		}
		if (tu_rand(&s) % 4 == 0)
			len = tu_rand(&s) % (len + 1);
		/* an exact-size copy, so reading past len would be caught */
		heap = malloc(len ? len : 1);
		CHECK(heap != NULL);
		memcpy(heap, buf, len);
		kind = trace_parse_line(heap, len, &ev, &lost, &why, &unknown);
		free(heap);
		CHECK(kind <= TRACE_LINE_MALFORMED);
		if (kind == TRACE_LINE_MALFORMED)
			CHECK(why != NULL);
		if (kind == TRACE_LINE_EVENT) {
			CHECK(ev.type < TRACE_NR_TYPES);
			CHECK(ev.order <= TRACE_MAX_ORDER);
			CHECK(ev.cpu < ZA_MAX_CPUS);
			CHECK(ev.pfn < (1ull << 52));
		}
	}
}

int main(void)
{
	test_trace_pipe();
	test_trace_cmd();
	test_perf_script();
	test_skipped_and_unknown();
	test_timestamps();
	test_malformed();
	test_gfp();
	test_mutations();
	printf("test_trace_parse: ok\n");
	return 0;
}
