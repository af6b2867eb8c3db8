/*
 * trace.c - the kernel's kmem page-allocator ftrace text, read into memory
 * and turned into allocate/free operations (see trace.h).
 *
 * The three printers we read differ only in the prefix of a line:
 *   trace_pipe:       TASK-PID [CPU] FLAGS TIMESTAMP: EVENT: FIELDS
 *   trace-cmd report: TASK-PID [CPU] [FLAGS] TIMESTAMP: EVENT: FIELDS
 *   perf script:      TASK PID[/TID] [CPU] TIMESTAMP: kmem:EVENT: FIELDS
 * A task name may hold spaces, dashes and brackets, so the parser does not
 * split the prefix: it looks for the first "[digits]" that is followed by
 * an optional flags word and a "seconds.fraction:" timestamp, and reads
 * from there. Fields are key=value words in any order; unknown keys are
 * skipped so that other kernel versions (with page=, cold=, ...) parse.
 *
 * SPDX-License-Identifier: MIT
 */
#include "trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef ZA_HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef ZA_HAVE_LZMA
#include <lzma.h>
#endif

static const char *const type_names[TRACE_NR_TYPES] = {
	[TRACE_ALLOC] = "mm_page_alloc",
	[TRACE_FREE] = "mm_page_free",
	[TRACE_FREE_BATCHED] = "mm_page_free_batched",
	[TRACE_ZONE_LOCKED] = "mm_page_alloc_zone_locked",
	[TRACE_PCPU_DRAIN] = "mm_page_pcpu_drain",
};

const char *trace_type_name(enum trace_type t)
{
	return (unsigned)t < TRACE_NR_TYPES ? type_names[t] : "?";
}

/* ---- small lexing helpers over [p, end) ---- */

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	       c == '\f';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && is_space(*p))
		p++;
	return p;
}

static const char *word_end(const char *p, const char *end)
{
	while (p < end && !is_space(*p))
		p++;
	return p;
}

static int word_is(const char *p, size_t len, const char *s)
{
	return strlen(s) == len && memcmp(p, s, len) == 0;
}

/* Decimal, whole word, no overflow past 2^63. */
static int parse_dec(const char *p, const char *end, uint64_t *out)
{
	uint64_t v = 0;
	if (p == end)
		return -1;
	for (; p < end; p++) {
		if (!is_digit(*p) || v > (UINT64_MAX / 2 - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return 0;
}

/* Hex digits (no prefix), whole word, at most 16 digits. */
static int parse_hex_digits(const char *p, const char *end, uint64_t *out)
{
	uint64_t v = 0;
	if (p == end || end - p > 16)
		return -1;
	for (; p < end; p++) {
		int d = hexval(*p);
		if (d < 0)
			return -1;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return 0;
}

/* "0x..." as hex, otherwise decimal: the kernel has printed pfn both ways. */
static int parse_num(const char *p, const char *end, uint64_t *out)
{
	if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		return parse_hex_digits(p + 2, end, out);
	return parse_dec(p, end, out);
}

/* "seconds[.fraction]:" -> nanoseconds. Returns 0 when [p, end) is one. */
static int parse_timestamp(const char *p, const char *end, uint64_t *ns)
{
	uint64_t sec = 0, frac = 0;
	int nfrac = 0;
	const char *q;

	if (end - p < 2 || end[-1] != ':')
		return -1;
	end--;
	for (q = p; q < end && is_digit(*q); q++)
		;
	if (q == p || q - p > 12 || parse_dec(p, q, &sec))
		return -1;
	if (q < end) {
		if (*q != '.')
			return -1;
		for (q++; q < end; q++) {
			if (!is_digit(*q))
				return -1;
			if (nfrac < 9) { /* finer than ns is dropped */
				frac = frac * 10 + (uint64_t)(*q - '0');
				nfrac++;
			}
		}
	}
	while (nfrac++ < 9)
		frac *= 10;
	*ns = sec * 1000000000ull + frac;
	return 0;
}

/* ---- gfp flags ---- */

#define K_RECLAIM (TRACE_KGFP_DIRECT_RECLAIM | TRACE_KGFP_KSWAPD_RECLAIM)
#define K_KERNEL (K_RECLAIM | TRACE_KGFP_IO | TRACE_KGFP_FS)
#define K_USER (K_KERNEL | TRACE_KGFP_HARDWALL)
#define K_HIGHUSER_MOVABLE (K_USER | TRACE_KGFP_HIGHMEM | TRACE_KGFP_MOVABLE)
#define K_THP_LIGHT                                                          \
	((K_HIGHUSER_MOVABLE | TRACE_KGFP_COMP | TRACE_KGFP_NOMEMALLOC |         \
	  TRACE_KGFP_NOWARN) & ~K_RECLAIM)

/* The names show_gfp_flags() prints, composite masks first as it does.
 * Names of flags that mean nothing to an allocator without KASAN or lockdep
 * map to 0 so that they are known, not "unknown". */
static const struct {
	const char *name;
	uint32_t bits;
} gfp_names[] = {
	{"GFP_TRANSHUGE", K_THP_LIGHT | TRACE_KGFP_DIRECT_RECLAIM},
	{"GFP_TRANSHUGE_LIGHT", K_THP_LIGHT},
	{"GFP_HIGHUSER_MOVABLE", K_HIGHUSER_MOVABLE},
	{"GFP_HIGHUSER", K_USER | TRACE_KGFP_HIGHMEM},
	{"GFP_USER", K_USER},
	{"GFP_KERNEL_ACCOUNT", K_KERNEL | TRACE_KGFP_ACCOUNT},
	{"GFP_KERNEL", K_KERNEL},
	{"GFP_NOFS", K_RECLAIM | TRACE_KGFP_IO},
	{"GFP_NOIO", K_RECLAIM},
	{"GFP_ATOMIC", TRACE_KGFP_HIGH | TRACE_KGFP_KSWAPD_RECLAIM},
	{"GFP_NOWAIT", TRACE_KGFP_KSWAPD_RECLAIM},
	{"GFP_DMA", TRACE_KGFP_DMA},
	{"GFP_DMA32", TRACE_KGFP_DMA32},
	{"GFP_TEMPORARY", K_KERNEL | TRACE_KGFP_RECLAIMABLE}, /* before 4.14 */
	{"GFP_IOFS", TRACE_KGFP_IO | TRACE_KGFP_FS},          /* before 4.4 */
	{"__GFP_DMA", TRACE_KGFP_DMA},
	{"__GFP_HIGHMEM", TRACE_KGFP_HIGHMEM},
	{"__GFP_DMA32", TRACE_KGFP_DMA32},
	{"__GFP_MOVABLE", TRACE_KGFP_MOVABLE},
	{"__GFP_RECLAIMABLE", TRACE_KGFP_RECLAIMABLE},
	{"__GFP_HIGH", TRACE_KGFP_HIGH},
	{"__GFP_IO", TRACE_KGFP_IO},
	{"__GFP_FS", TRACE_KGFP_FS},
	{"__GFP_ZERO", TRACE_KGFP_ZERO},
	{"__GFP_ATOMIC", TRACE_KGFP_ATOMIC},
	{"__GFP_RECLAIM", K_RECLAIM},
	{"__GFP_DIRECT_RECLAIM", TRACE_KGFP_DIRECT_RECLAIM},
	{"__GFP_KSWAPD_RECLAIM", TRACE_KGFP_KSWAPD_RECLAIM},
	{"__GFP_WAIT", TRACE_KGFP_DIRECT_RECLAIM}, /* before 4.4 */
	{"__GFP_WRITE", TRACE_KGFP_WRITE},
	{"__GFP_NOWARN", TRACE_KGFP_NOWARN},
	{"__GFP_RETRY_MAYFAIL", TRACE_KGFP_RETRY_MAYFAIL},
	{"__GFP_REPEAT", TRACE_KGFP_RETRY_MAYFAIL}, /* before 4.13 */
	{"__GFP_NOFAIL", TRACE_KGFP_NOFAIL},
	{"__GFP_NORETRY", TRACE_KGFP_NORETRY},
	{"__GFP_MEMALLOC", TRACE_KGFP_MEMALLOC},
	{"__GFP_COMP", TRACE_KGFP_COMP},
	{"__GFP_NOMEMALLOC", TRACE_KGFP_NOMEMALLOC},
	{"__GFP_HARDWALL", TRACE_KGFP_HARDWALL},
	{"__GFP_THISNODE", TRACE_KGFP_THISNODE},
	{"__GFP_ACCOUNT", TRACE_KGFP_ACCOUNT},
	{"__GFP_ZEROTAGS", TRACE_KGFP_ZEROTAGS},
	{"__GFP_SKIP_ZERO", 0},
	{"__GFP_SKIP_KASAN", 0},
	{"__GFP_SKIP_KASAN_POISON", 0},
	{"__GFP_SKIP_KASAN_UNPOISON", 0},
	{"__GFP_NOLOCKDEP", 0},
	{"__GFP_NO_OBJ_EXT", 0},
	{"__GFP_NOTRACK", 0},
	{"__GFP_COLD", 0},
	{"__GFP_OTHER_NODE", 0},
	{"__GFP_NOACCOUNT", 0},
};

/* A flag name of the kernel's shape: optional underscores, GFP_, then
 * capitals, digits and underscores. */
static int looks_like_gfp_name(const char *p, const char *end)
{
	while (p < end && *p == '_')
		p++;
	if (end - p < 5 || memcmp(p, "GFP_", 4) != 0)
		return 0;
	for (p += 4; p < end; p++)
		if (!((*p >= 'A' && *p <= 'Z') || is_digit(*p) || *p == '_'))
			return 0;
	return 1;
}

/* A trace repeats a few dozen gfp strings a million times: remember the
 * last one parsed (per thread, so parsing stays reentrant). */
static _Thread_local struct {
	char text[192];
	size_t len;
	uint32_t bits;
	uint64_t unknown;
} gfp_memo;

static int gfp_parse_uncached(const char *s, size_t len, uint32_t *kgfp,
                              uint64_t *unknown);

int trace_gfp_parse(const char *s, size_t len, uint32_t *kgfp,
                    uint64_t *unknown)
{
	uint64_t unk = 0;

	if (len && len == gfp_memo.len && memcmp(s, gfp_memo.text, len) == 0) {
		*kgfp = gfp_memo.bits;
		if (unknown)
			*unknown += gfp_memo.unknown;
		return 0;
	}
	if (gfp_parse_uncached(s, len, kgfp, &unk))
		return -1;
	if (unknown)
		*unknown += unk;
	if (len < sizeof(gfp_memo.text)) {
		memcpy(gfp_memo.text, s, len);
		gfp_memo.len = len;
		gfp_memo.bits = *kgfp;
		gfp_memo.unknown = unk;
	}
	return 0;
}

static int gfp_parse_uncached(const char *s, size_t len, uint32_t *kgfp,
                              uint64_t *unknown)
{
	const char *p = s, *end = s + len;
	uint64_t v;
	uint32_t bits = 0;

	p = skip_space(p, end);
	while (end > p && is_space(end[-1]))
		end--;
	if (p == end)
		return -1;
	if (is_digit(*p)) { /* "0xcc0" or decimal: raw bits */
		if (parse_num(p, end, &v) || v > UINT32_MAX)
			return -1;
		*kgfp = (uint32_t)v;
		return 0;
	}
	if (word_is(p, (size_t)(end - p), "none")) {
		*kgfp = 0;
		return 0;
	}
	while (p < end) {
		const char *q = memchr(p, '|', (size_t)(end - p));
		size_t i, n;
		if (!q)
			q = end;
		n = (size_t)(q - p);
		if (n == 0)
			return -1;
		for (i = 0; i < sizeof(gfp_names) / sizeof(gfp_names[0]); i++)
			if (word_is(p, n, gfp_names[i].name))
				break;
		if (i < sizeof(gfp_names) / sizeof(gfp_names[0])) {
			bits |= gfp_names[i].bits;
		} else if (is_digit(*p)) {
			/* __print_flags prints leftover bits as a hex tail */
			if (parse_num(p, q, &v) || v > UINT32_MAX)
				return -1;
			bits |= (uint32_t)v;
		} else if (looks_like_gfp_name(p, q)) {
			(*unknown)++;
		} else {
			return -1;
		}
		p = q < end ? q + 1 : q;
		if (q < end && p == end)
			return -1; /* trailing '|' */
	}
	*kgfp = bits;
	return 0;
}

za_gfp_t trace_gfp_to_za(uint32_t k, uint64_t *nofail_stripped)
{
	/* The replayer counts failures itself; a warning per failure would
	 * only flood stderr. */
	za_gfp_t g = ZA_GFP_NOWARN;

	/* Zone: the kernel's gfp_zone() picks the highest zone allowed. */
	if (k & TRACE_KGFP_DMA)
		g |= ZA_GFP_DMA;
	else if (k & TRACE_KGFP_DMA32)
		g |= ZA_GFP_DMA32;
	/* Mobility. The kernel allows ZONE_MOVABLE only with HIGHMEM too;
	 * zonealloc ties both to one bit, and a replay has no movable zone,
	 * so only the migratetype it selects matters. */
	if (k & TRACE_KGFP_MOVABLE)
		g |= ZA___GFP_MOVABLE;
	else if (k & TRACE_KGFP_RECLAIMABLE)
		g |= ZA___GFP_RECLAIMABLE;
	/* Reserves: __GFP_HIGH dips into them; a request that cannot block
	 * goes deeper (what GFP_ATOMIC means since Linux 6.4, and what the old
	 * __GFP_ATOMIC bit said before), unless it said NOMEMALLOC. */
	if (k & TRACE_KGFP_HIGH)
		g |= ZA___GFP_HIGH;
	if ((k & TRACE_KGFP_ATOMIC) ||
	    ((k & TRACE_KGFP_HIGH) && !(k & TRACE_KGFP_DIRECT_RECLAIM) &&
	     !(k & TRACE_KGFP_NOMEMALLOC)))
		g |= ZA___GFP_ATOMIC_RES;
	if (k & TRACE_KGFP_DIRECT_RECLAIM)
		g |= ZA___GFP_DIRECT_RECLAIM;
	if (k & TRACE_KGFP_KSWAPD_RECLAIM)
		g |= ZA___GFP_KSWAPD_RECLAIM;
	if (k & TRACE_KGFP_ZERO)
		g |= ZA_GFP_ZERO;
	if (k & TRACE_KGFP_NORETRY)
		g |= ZA_GFP_NORETRY;
	if (k & TRACE_KGFP_THISNODE)
		g |= ZA_GFP_THISNODE;
	/* Never NOFAIL: the replay has nothing to reclaim, so a NOFAIL request
	 * that cannot be met would retry forever. */
	if ((k & TRACE_KGFP_NOFAIL) && nofail_stripped)
		(*nofail_stripped)++;
	return g;
}

/* ---- one line ---- */

/* Where the fields start, once the prefix up to "EVENT:" is read. */
struct prefix {
	unsigned long cpu;
	uint64_t ts_ns;
	const char *ev, *ev_end; /* event name without "system:" and ':' */
	const char *fields;
};

/* Try to read "[CPU] [FLAGS] TIMESTAMP: [SYS:]EVENT:" from the '[' at p. */
static int parse_prefix_at(const char *p, const char *end, struct prefix *px)
{
	const char *q = p + 1, *w, *we;
	uint64_t cpu;

	while (q < end && is_digit(*q))
		q++;
	if (q == p + 1 || q - p > 6 || q >= end || *q != ']' ||
	    parse_dec(p + 1, q, &cpu))
		return -1;
	q++;
	if (q >= end || !is_space(*q))
		return -1;
	w = skip_space(q, end);
	we = word_end(w, end);
	if (parse_timestamp(w, we, &px->ts_ns)) {
		/* not the time: the irq/preempt flags word, then the time */
		if (we == w)
			return -1;
		w = skip_space(we, end);
		we = word_end(w, end);
		if (parse_timestamp(w, we, &px->ts_ns))
			return -1;
	}
	w = skip_space(we, end);
	we = word_end(w, end);
	if (w < we && is_digit(*w) && we[-1] != ':') {
		/* perf script may print the sample period before the event */
		w = skip_space(we, end);
		we = word_end(w, end);
	}
	if (we - w < 2 || we[-1] != ':')
		return -1;
	px->ev_end = we - 1;
	/* perf writes "kmem:mm_page_alloc:": keep the part after the last ':' */
	px->ev = px->ev_end;
	while (px->ev > w && px->ev[-1] != ':')
		px->ev--;
	if (px->ev == px->ev_end)
		return -1;
	px->cpu = (unsigned long)cpu;
	px->fields = we;
	return 0;
}

static int lost_marker(const char *p, const char *end, uint64_t *lost)
{
	/* ftrace writes "CPU:1 [LOST 1234 EVENTS]" where its buffer overflowed */
	static const char tag[] = "[LOST ";
	const char *q;
	uint64_t n;

	for (q = p; end - q >= (long)sizeof(tag) - 1; q++) {
		const char *d, *de;
		if (memcmp(q, tag, sizeof(tag) - 1) != 0)
			continue;
		d = q + sizeof(tag) - 1;
		de = word_end(d, end);
		if (parse_dec(d, de, &n))
			return 0;
		de = skip_space(de, end);
		if (end - de < 7 || memcmp(de, "EVENTS]", 7) != 0)
			return 0;
		if (lost)
			*lost += n;
		return 1;
	}
	return 0;
}

/* trace-cmd report's header lines: "cpus=2", "CPU 3 is empty",
 * "version = 6". */
static int header_line(const char *p, const char *end)
{
	size_t n = (size_t)(end - p);
	const char *q;

	if (n > 5 && memcmp(p, "cpus=", 5) == 0)
		return 1;
	if (n > 10 && memcmp(p, "version = ", 10) == 0)
		return 1;
	if (n > 4 && memcmp(p, "CPU ", 4) == 0) {
		for (q = p + 4; q < end && is_digit(*q); q++)
			;
		if (q > p + 4 && end - q == 9 && memcmp(q, " is empty", 9) == 0)
			return 1;
	}
	return 0;
}

enum trace_line_kind trace_parse_line(const char *line, size_t len,
                                      struct trace_event *ev, uint64_t *lost,
                                      const char **why,
                                      uint64_t *unknown_gfp)
{
	const char *p = line, *end = line + len, *b;
	struct prefix px;
	int type = -1, t;
	int have_pfn = 0, have_order = 0, have_gfp = 0, have_page = 0;
	int null_page = 0;
	uint64_t v;
	uint64_t unknown = 0;
	const char *dummy;

	if (!why)
		why = &dummy;
	while (end > p && is_space(end[-1]))
		end--;
	p = skip_space(p, end);
	if (p == end)
		return TRACE_LINE_BLANK;
	if (*p == '#' || header_line(p, end))
		return TRACE_LINE_COMMENT;
	if (memchr(p, '\0', (size_t)(end - p)))
		return TRACE_LINE_UNKNOWN; /* binary */

	for (b = p; (b = memchr(b, '[', (size_t)(end - b))) != NULL; b++)
		if (parse_prefix_at(b, end, &px) == 0)
			break;
	if (!b)
		return lost_marker(p, end, lost) ? TRACE_LINE_LOST
		                                 : TRACE_LINE_UNKNOWN;

	for (t = 0; t < TRACE_NR_TYPES; t++)
		if (word_is(px.ev, (size_t)(px.ev_end - px.ev), type_names[t]))
			type = t;
	if (type < 0)
		return TRACE_LINE_OTHER;

	memset(ev, 0, sizeof(*ev));
	ev->type = (uint8_t)type;
	ev->ts_ns = px.ts_ns;
	ev->migratetype = -1;
	if (px.cpu >= ZA_MAX_CPUS) {
		*why = "cpu number out of range";
		return TRACE_LINE_MALFORMED;
	}
	ev->cpu = (uint16_t)px.cpu;

	for (p = px.fields; (p = skip_space(p, end)) < end;) {
		const char *we = word_end(p, end);
		const char *eq = memchr(p, '=', (size_t)(we - p));
		const char *k = p, *val;
		size_t kl;

		p = we;
		if (!eq)
			continue; /* a word that is not key=value: skip it */
		kl = (size_t)(eq - k);
		val = eq + 1;
		if (word_is(k, kl, "pfn")) {
			if (parse_num(val, we, &v) || v >= (1ull << 52)) {
				*why = "bad pfn";
				return TRACE_LINE_MALFORMED;
			}
			ev->pfn = v;
			have_pfn = 1;
		} else if (word_is(k, kl, "order")) {
			if (parse_dec(val, we, &v) || v > TRACE_MAX_ORDER) {
				*why = "bad order";
				return TRACE_LINE_MALFORMED;
			}
			ev->order = (uint8_t)v;
			have_order = 1;
		} else if (word_is(k, kl, "migratetype")) {
			int neg = val < we && *val == '-';
			if (parse_dec(val + neg, we, &v) || v > 63) {
				*why = "bad migratetype";
				return TRACE_LINE_MALFORMED;
			}
			ev->migratetype = (int8_t)(neg ? -(int)v : (int)v);
		} else if (word_is(k, kl, "gfp_flags")) {
			if (trace_gfp_parse(val, (size_t)(we - val), &ev->kgfp,
			                    &unknown)) {
				*why = "bad gfp_flags";
				return TRACE_LINE_MALFORMED;
			}
			have_gfp = 1;
		} else if (word_is(k, kl, "percpu_refill")) {
			if (parse_dec(val, we, &v) || v > 1) {
				*why = "bad percpu_refill";
				return TRACE_LINE_MALFORMED;
			}
			ev->flags |= TRACE_EV_HAVE_REFILL;
			if (v)
				ev->flags |= TRACE_EV_REFILL;
		} else if (word_is(k, kl, "page")) {
			/* a (hashed) pointer; only "no page" matters */
			have_page = 1;
			if (word_is(val, (size_t)(we - val), "(null)")) {
				null_page = 1;
			} else {
				if (we - val > 2 && val[0] == '0' &&
				    (val[1] == 'x' || val[1] == 'X'))
					val += 2;
				if (parse_hex_digits(val, we, &v)) {
					*why = "bad page";
					return TRACE_LINE_MALFORMED;
				}
				null_page = v == 0;
			}
		}
	}
	if (!have_pfn) {
		*why = "no pfn";
		return TRACE_LINE_MALFORMED;
	}
	/* batched frees are order 0 and old kernels did not print it */
	if (!have_order && type != TRACE_FREE_BATCHED) {
		*why = "no order";
		return TRACE_LINE_MALFORMED;
	}
	if (type == TRACE_ALLOC) {
		if (!have_gfp) {
			*why = "no gfp_flags";
			return TRACE_LINE_MALFORMED;
		}
		/* A failed allocation is traced too, with no page and pfn 0 (the
		 * kernel never hands out pfn 0 on x86, which reserves it). */
		if (have_page ? null_page : ev->pfn == 0)
			ev->flags |= TRACE_EV_FAILED;
	}
	if (unknown_gfp)
		*unknown_gfp += unknown;
	return TRACE_LINE_EVENT;
}

/* ---- reading a file ---- */

const char *trace_compression_name(enum trace_compression c)
{
	switch (c) {
	case TRACE_GZIP:
		return "gzip";
	case TRACE_XZ:
		return "xz";
	default:
		return "plain";
	}
}

#define IN_SIZE (1u << 16)
#define OUT_SIZE (1u << 18)

struct trace_reader {
	FILE *f;
	int own; /* fclose at the end (not stdin) */
	enum trace_compression comp;
	unsigned char in[IN_SIZE];
	size_t in_pos, in_len;
	int in_eof;
	char *out;           /* text not yet returned as lines */
	size_t out_pos, out_len;
	int out_eof;         /* no more text will come */
	char line[TRACE_MAX_LINE + 1];
	uint64_t bytes_in, bytes_out;
	int failed;
	char err[256];
#ifdef ZA_HAVE_ZLIB
	z_stream zs;
	int zs_init, zs_member_done;
#endif
#ifdef ZA_HAVE_LZMA
	lzma_stream xs;
	int xs_init;
#endif
};

static int fail(struct trace_reader *r, const char *fmt, const char *arg)
{
	snprintf(r->err, sizeof(r->err), fmt, arg);
	r->failed = 1;
	return -1;
}

/* Refill r->in when empty. 0, or -1 on a read error. */
static int fill_in(struct trace_reader *r)
{
	size_t n;
	if (r->in_pos < r->in_len || r->in_eof)
		return 0;
	n = fread(r->in, 1, sizeof(r->in), r->f);
	r->in_pos = 0;
	r->in_len = n;
	r->bytes_in += n;
	if (n == 0) {
		if (ferror(r->f))
			return fail(r, "read error: %s", strerror(errno));
		r->in_eof = 1;
	}
	return 0;
}

/* Produce more text in r->out (after moving what is left to the front).
 * 0 (r->out_eof set at the end), or -1 with r->err. */
static int fill_out(struct trace_reader *r)
{
	size_t left = r->out_len - r->out_pos;

	memmove(r->out, r->out + r->out_pos, left);
	r->out_pos = 0;
	r->out_len = left;
	while (r->out_len < OUT_SIZE && !r->out_eof) {
		if (fill_in(r))
			return -1;
		switch (r->comp) {
		case TRACE_PLAIN: {
			size_t n = r->in_len - r->in_pos;
			if (n > OUT_SIZE - r->out_len)
				n = OUT_SIZE - r->out_len;
			memcpy(r->out + r->out_len, r->in + r->in_pos, n);
			r->in_pos += n;
			r->out_len += n;
			if (r->in_eof)
				r->out_eof = 1;
			break;
		}
#ifdef ZA_HAVE_ZLIB
		case TRACE_GZIP: {
			int rc;
			if (r->zs_member_done) {
				/* gzip files may hold several members back to back,
				 * then zero padding; anything else after a member is
				 * an error, as after an xz stream (docs/REPLAY.md) */
				if (r->in_eof) {
					r->out_eof = 1;
					break;
				}
				if (r->zs_member_done == 2 || r->in[r->in_pos] == 0) {
					while (r->in_pos < r->in_len && r->in[r->in_pos] == 0)
						r->in_pos++;
					r->zs_member_done = 2; /* in the padding */
					if (r->in_pos == r->in_len)
						break;
					return fail(r, "%s", "trailing garbage after the "
					                     "gzip data");
				}
				if (r->in[r->in_pos] != 0x1f)
					return fail(r, "%s", "trailing garbage after the "
					                     "gzip data");
				inflateReset(&r->zs);
				r->zs_member_done = 0;
			}
			/* at the end of input inflate may still hold output */
			r->zs.next_in = r->in + r->in_pos;
			r->zs.avail_in = (uInt)(r->in_len - r->in_pos);
			r->zs.next_out = (Bytef *)r->out + r->out_len;
			r->zs.avail_out = (uInt)(OUT_SIZE - r->out_len);
			rc = inflate(&r->zs, Z_NO_FLUSH);
			r->in_pos = r->in_len - r->zs.avail_in;
			r->out_len = OUT_SIZE - r->zs.avail_out;
			if (rc == Z_STREAM_END)
				r->zs_member_done = 1;
			else if (rc == Z_BUF_ERROR && r->in_eof)
				/* no progress possible and no more input */
				return fail(r, "%s", "truncated gzip stream (unexpected "
				                     "end of input)");
			else if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT)
				return fail(r, "corrupt gzip data: %s",
				            r->zs.msg ? r->zs.msg : "bad data");
			else if (rc == Z_MEM_ERROR)
				return fail(r, "%s", "out of memory in zlib");
			else if (rc != Z_OK && rc != Z_BUF_ERROR)
				return fail(r, "%s", "gzip decompression failed");
			break;
		}
#endif
#ifdef ZA_HAVE_LZMA
		case TRACE_XZ: {
			lzma_ret rc;
			r->xs.next_in = r->in + r->in_pos;
			r->xs.avail_in = r->in_len - r->in_pos;
			r->xs.next_out = (uint8_t *)r->out + r->out_len;
			r->xs.avail_out = OUT_SIZE - r->out_len;
			/* LZMA_CONCATENATED decoders learn the end from FINISH */
			rc = lzma_code(&r->xs, r->in_eof ? LZMA_FINISH : LZMA_RUN);
			r->in_pos = r->in_len - r->xs.avail_in;
			r->out_len = OUT_SIZE - r->xs.avail_out;
			if (rc == LZMA_STREAM_END) {
				r->out_eof = 1;
			} else if (rc == LZMA_BUF_ERROR) {
				/* liblzma says this when the input ended mid-stream */
				return fail(r, "%s", "truncated xz stream (unexpected end "
				                     "of input)");
			} else if (rc == LZMA_DATA_ERROR || rc == LZMA_FORMAT_ERROR ||
			           rc == LZMA_OPTIONS_ERROR) {
				return fail(r, "%s", "corrupt xz data");
			} else if (rc == LZMA_MEM_ERROR) {
				return fail(r, "%s", "out of memory in liblzma");
			} else if (rc != LZMA_OK) {
				return fail(r, "%s", "xz decompression failed");
			}
			break;
		}
#endif
		default:
			return fail(r, "%s", "unsupported compression");
		}
	}
	return 0;
}

struct trace_reader *trace_reader_open(const char *path, char *err,
                                       size_t errlen)
{
	struct trace_reader *r = calloc(1, sizeof(*r));
	const unsigned char *m;
	size_t have;

	if (!r || !(r->out = malloc(OUT_SIZE))) {
		snprintf(err, errlen, "%s: out of memory", path);
		free(r);
		return NULL;
	}
	if (strcmp(path, "-") == 0) {
		r->f = stdin;
	} else {
		r->f = fopen(path, "rb");
		r->own = 1;
		if (!r->f) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
	}
	/* Read until the magic bytes can be judged (a pipe may give less). */
	while (!r->in_eof && r->in_len < 6) {
		size_t n = fread(r->in + r->in_len, 1, sizeof(r->in) - r->in_len,
		                 r->f);
		if (n == 0) {
			if (ferror(r->f)) {
				snprintf(err, errlen, "%s: read error: %s", path,
				         strerror(errno));
				goto fail;
			}
			r->in_eof = 1;
		}
		r->in_len += n;
		r->bytes_in += n;
	}
	m = r->in;
	have = r->in_len;
	if (have >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
		r->comp = TRACE_GZIP;
	} else if (have >= 6 && memcmp(m, "\xfd" "7zXZ\0", 6) == 0) {
		r->comp = TRACE_XZ;
	} else if (have >= 3 && memcmp(m, "BZh", 3) == 0) {
		snprintf(err, errlen, "%s: bzip2 input is not supported; "
		         "decompress it first (bzip2 -dc FILE | zonealloc replay -)",
		         path);
		goto fail;
	} else if (have >= 4 && memcmp(m, "\x28\xb5\x2f\xfd", 4) == 0) {
		snprintf(err, errlen, "%s: zstd input is not supported; "
		         "decompress it first (zstd -dc FILE | zonealloc replay -)",
		         path);
		goto fail;
	}
	if (r->comp == TRACE_GZIP) {
#ifdef ZA_HAVE_ZLIB
		/* 15 + 32: the largest window, gzip or zlib header detected */
		if (inflateInit2(&r->zs, 15 + 32) != Z_OK) {
			snprintf(err, errlen, "%s: cannot start zlib", path);
			goto fail;
		}
		r->zs_init = 1;
#else
		snprintf(err, errlen, "%s: gzip input, but this zonealloc was "
		         "built without zlib; use: gzip -dc FILE | zonealloc replay -",
		         path);
		goto fail;
#endif
	}
	if (r->comp == TRACE_XZ) {
#ifdef ZA_HAVE_LZMA
		lzma_stream init = LZMA_STREAM_INIT;
		r->xs = init;
		if (lzma_stream_decoder(&r->xs, UINT64_MAX, LZMA_CONCATENATED) !=
		    LZMA_OK) {
			snprintf(err, errlen, "%s: cannot start liblzma", path);
			goto fail;
		}
		r->xs_init = 1;
#else
		snprintf(err, errlen, "%s: xz input, but this zonealloc was "
		         "built without liblzma; use: xz -dc FILE | zonealloc replay -",
		         path);
		goto fail;
#endif
	}
	return r;
fail:
	trace_reader_close(r);
	return NULL;
}

int trace_reader_line(struct trace_reader *r, const char **line,
                      size_t *len, int *cut)
{
	size_t used = 0;
	int too_long = 0;

	if (r->failed)
		return -1;
	for (;;) {
		char *s = r->out + r->out_pos;
		size_t avail = r->out_len - r->out_pos;
		char *nl = memchr(s, '\n', avail);
		size_t n = nl ? (size_t)(nl - s) : avail;

		if (nl && used == 0 && n <= TRACE_MAX_LINE) {
			/* the usual case: the whole line is in the buffer */
			r->out_pos += n + 1;
			r->bytes_out += n + 1;
			*line = s;
			*len = n;
			if (cut)
				*cut = 0;
			return 1;
		}
		/* the line spans buffers or is too long: gather it */
		if (used + n > TRACE_MAX_LINE) {
			too_long = 1;
			memcpy(r->line + used, s, TRACE_MAX_LINE - used);
			used = TRACE_MAX_LINE;
		} else {
			memcpy(r->line + used, s, n);
			used += n;
		}
		r->out_pos += n + (nl ? 1 : 0);
		r->bytes_out += n + (nl ? 1 : 0);
		if (nl)
			break;
		if (r->out_eof) {
			if (used == 0 && !too_long)
				return 0;
			break; /* a last line without newline */
		}
		if (fill_out(r))
			return -1;
		if (r->out_len == 0 && r->out_eof && used == 0)
			return 0;
	}
	*line = r->line;
	*len = used;
	if (cut)
		*cut = too_long;
	return 1;
}

const char *trace_reader_error(const struct trace_reader *r)
{
	return r->failed ? r->err : NULL;
}

enum trace_compression trace_reader_compression(const struct trace_reader *r)
{
	return r->comp;
}

uint64_t trace_reader_bytes_in(const struct trace_reader *r)
{
	return r->bytes_in;
}

uint64_t trace_reader_bytes_out(const struct trace_reader *r)
{
	return r->bytes_out;
}

void trace_reader_close(struct trace_reader *r)
{
	if (!r)
		return;
#ifdef ZA_HAVE_ZLIB
	if (r->zs_init)
		inflateEnd(&r->zs);
#endif
#ifdef ZA_HAVE_LZMA
	if (r->xs_init)
		lzma_end(&r->xs);
#endif
	if (r->own && r->f)
		fclose(r->f);
	free(r->out);
	free(r);
}

/* ---- a whole trace ---- */

static void note_line(uint64_t *lines, uint64_t count, uint64_t lineno)
{
	if (count <= TRACE_FIRST_LINES)
		lines[count - 1] = lineno;
}

/* Keep a comment that may belong to a recording's header or end. */
static void keep_header_line(struct trace *t, const char *line, size_t len,
                             int *nomem)
{
	static const char end1[] = "# zonealloc-trace-end";
	static const char end2[] = "# end-zoneinfo";

	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	if (len < 2 || line[0] != '#' || line[1] != ' ')
		return;
	if (t->nr && !(len >= sizeof(end1) - 1 &&
	               !memcmp(line, end1, sizeof(end1) - 1)) &&
	    !(len >= sizeof(end2) - 1 && !memcmp(line, end2, sizeof(end2) - 1)))
		return;
	if (t->header_len + len + 1 > TRACE_MAX_HEADER)
		return;
	if (t->header_len + len + 2 > t->header_cap) {
		size_t cap = t->header_cap ? t->header_cap * 2 : 65536;
		char *n;
		while (cap < t->header_len + len + 2)
			cap *= 2;
		n = realloc(t->header, cap);
		if (!n) {
			*nomem = 1;
			return;
		}
		t->header = n;
		t->header_cap = cap;
	}
	memcpy(t->header + t->header_len, line, len);
	t->header_len += len;
	t->header[t->header_len++] = '\n';
	t->header[t->header_len] = '\0';
}

int trace_count_line(struct trace *t, const char *line, size_t len,
                     struct trace_event *evp, int *nomem)
{
	struct trace_stats *st = &t->st;
	struct trace_event ev;
	const char *why = NULL;
	uint64_t lineno = ++st->lines;
	uint64_t end;

	switch (trace_parse_line(line, len, &ev, &st->lost_events, &why,
	                         &st->unknown_gfp_names)) {
	case TRACE_LINE_BLANK:
		st->blank++;
		return 0;
	case TRACE_LINE_COMMENT:
		st->comment++;
		keep_header_line(t, line, len, nomem);
		return 0;
	case TRACE_LINE_LOST:
		return 0;
	case TRACE_LINE_OTHER:
		st->other++;
		return 0;
	case TRACE_LINE_UNKNOWN:
		st->unknown++;
		note_line(st->unknown_line, st->unknown, lineno);
		return 0;
	case TRACE_LINE_MALFORMED:
		st->malformed++;
		if (st->malformed <= TRACE_FIRST_LINES)
			st->malformed_why[st->malformed - 1] = why;
		note_line(st->malformed_line, st->malformed, lineno);
		return 0;
	case TRACE_LINE_EVENT:
		break;
	}
	ev.line = lineno > UINT32_MAX ? UINT32_MAX : (uint32_t)lineno;
	*evp = ev;

	st->by_type[ev.type]++;
	st->pages_by_type[ev.type] += 1ull << ev.order;
	if (ev.type == TRACE_ZONE_LOCKED &&
	    (ev.flags & TRACE_EV_REFILL || !(ev.flags & TRACE_EV_HAVE_REFILL))) {
		/* kernels before percpu_refill= only traced pcp refills here */
		st->refill_events++;
		st->refill_pages += 1ull << ev.order;
	}
	if (ev.type == TRACE_ALLOC) {
		if (ev.flags & TRACE_EV_FAILED) {
			st->kernel_alloc_failed++;
			return 1; /* its pfn 0 says nothing about memory size */
		}
		st->alloc_by_order[ev.order]++;
	}
	if ((int)ev.cpu > st->max_cpu)
		st->max_cpu = ev.cpu;
	if (ev.order > st->max_order)
		st->max_order = ev.order;
	end = ev.pfn + (1ull << ev.order);
	if (end > st->max_pfn_end)
		st->max_pfn_end = end;
	return 1;
}

void trace_add_line(struct trace *t, const char *line, size_t len,
                    int *nomem)
{
	struct trace_event ev;

	if (!trace_count_line(t, line, len, &ev, nomem))
		return;
	if (t->nr == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 4096;
		struct trace_event *n = realloc(t->ev, cap * sizeof(*n));
		if (!n) {
			*nomem = 1;
			return;
		}
		t->ev = n;
		t->cap = cap;
	}
	t->ev[t->nr++] = ev;
}

int trace_load(struct trace *t, const char *path,
               const struct trace_load_opts *opts, char *err, size_t errlen)
{
	struct trace_reader *r;
	const char *line;
	size_t len;
	int rc, nomem = 0, cut;
	uint64_t limit = opts ? opts->limit : 0;

	memset(t, 0, sizeof(*t));
	t->st.max_cpu = -1;
	r = trace_reader_open(path, err, errlen);
	if (!r)
		return -1;
	t->comp = trace_reader_compression(r);
	while ((rc = trace_reader_line(r, &line, &len, &cut)) == 1) {
		if (cut) {
			/* a line of over 4 KiB is nothing these printers write */
			t->st.lines++;
			t->st.unknown++;
			note_line(t->st.unknown_line, t->st.unknown, t->st.lines);
		} else {
			trace_add_line(t, line, len, &nomem);
		}
		if (nomem) {
			snprintf(err, errlen, "%s: out of memory after %zu events",
			         path, t->nr);
			break;
		}
		if (opts && opts->progress && (t->st.lines & 0xffff) == 0) {
			t->bytes_in = trace_reader_bytes_in(r);
			t->bytes_out = trace_reader_bytes_out(r);
			opts->progress(opts->ctx, t);
		}
		if (limit && t->nr >= limit)
			break;
	}
	t->bytes_in = trace_reader_bytes_in(r);
	t->bytes_out = trace_reader_bytes_out(r);
	if (rc < 0)
		snprintf(err, errlen, "%s: %s (after %llu lines)", path,
		         trace_reader_error(r), (unsigned long long)t->st.lines);
	trace_reader_close(r);
	if (rc < 0 || nomem)
		return -1;
	if (t->bytes_out == 0) {
		snprintf(err, errlen, "%s: empty input%s", path,
		         t->comp == TRACE_PLAIN ? "" : " (after decompression)");
		return -1;
	}
	if (t->nr == 0) {
		snprintf(err, errlen,
		         "%s: no kmem page-allocator event found in %llu lines "
		         "(%llu not understood, %llu malformed); is this ftrace text "
		         "of kmem:mm_page_alloc/mm_page_free?",
		         path, (unsigned long long)t->st.lines,
		         (unsigned long long)t->st.unknown,
		         (unsigned long long)t->st.malformed);
		return -1;
	}
	return 0;
}

void trace_free(struct trace *t)
{
	free(t->ev);
	t->ev = NULL;
	free(t->header);
	t->header = NULL;
	t->header_len = t->header_cap = 0;
	t->nr = t->cap = 0;
}

void trace_lock_batches(const struct trace *t, size_t nr_events,
                        struct trace_lock_batches *out)
{
	/* what the last event of each CPU was: 0 other, 1 refill, 2 drain */
	static _Thread_local unsigned char last[ZA_MAX_CPUS];
	size_t i;

	memset(out, 0, sizeof(*out));
	memset(last, 0, sizeof(last));
	if (nr_events > t->nr)
		nr_events = t->nr;
	for (i = 0; i < nr_events; i++) {
		const struct trace_event *e = &t->ev[i];
		unsigned char now = 0;

		if (e->type == TRACE_ZONE_LOCKED) {
			if (e->flags & TRACE_EV_REFILL ||
			    !(e->flags & TRACE_EV_HAVE_REFILL))
				now = 1;
			else
				out->direct++;
		} else if (e->type == TRACE_PCPU_DRAIN) {
			now = 2;
		}
		if (now == 1 && last[e->cpu] != 1)
			out->refill_batches++;
		if (now == 2 && last[e->cpu] != 2)
			out->drain_batches++;
		last[e->cpu] = now;
	}
}

/* ---- pairing frees with allocations ---- */

/* pfn -> record, open addressing with linear probing. Deletion shifts
 * later entries back, so there are no tombstones to slow lookups down
 * as a million pages come and go. */
struct pmap {
	uint64_t *key;
	uint32_t *val;
	size_t cap, n; /* cap a power of two */
};

#define PMAP_EMPTY UINT64_MAX

static size_t pmap_home(uint64_t k, size_t mask)
{
	k *= 0x9e3779b97f4a7c15ull;
	return (size_t)(k ^ (k >> 29)) & mask;
}

static int pmap_init(struct pmap *m, size_t cap)
{
	size_t i;
	m->cap = cap;
	m->n = 0;
	m->key = malloc(cap * sizeof(*m->key));
	m->val = malloc(cap * sizeof(*m->val));
	if (!m->key || !m->val)
		return -1;
	for (i = 0; i < cap; i++)
		m->key[i] = PMAP_EMPTY;
	return 0;
}

static void pmap_destroy(struct pmap *m)
{
	free(m->key);
	free(m->val);
}

/* Slot of k, or -1. */
static long pmap_find(const struct pmap *m, uint64_t k)
{
	size_t mask = m->cap - 1, i = pmap_home(k, mask);
	while (m->key[i] != PMAP_EMPTY) {
		if (m->key[i] == k)
			return (long)i;
		i = (i + 1) & mask;
	}
	return -1;
}

static int pmap_put(struct pmap *m, uint64_t k, uint32_t v);

static int pmap_grow(struct pmap *m)
{
	struct pmap bigger;
	size_t i;
	if (pmap_init(&bigger, m->cap * 2)) {
		pmap_destroy(&bigger);
		return -1;
	}
	for (i = 0; i < m->cap; i++)
		if (m->key[i] != PMAP_EMPTY)
			pmap_put(&bigger, m->key[i], m->val[i]);
	pmap_destroy(m);
	*m = bigger;
	return 0;
}

/* Insert k (not present). 0 or -1 when out of memory. */
static int pmap_put(struct pmap *m, uint64_t k, uint32_t v)
{
	size_t mask, i;
	if ((m->n + 1) * 2 > m->cap && pmap_grow(m))
		return -1;
	mask = m->cap - 1;
	for (i = pmap_home(k, mask); m->key[i] != PMAP_EMPTY; i = (i + 1) & mask)
		;
	m->key[i] = k;
	m->val[i] = v;
	m->n++;
	return 0;
}

static void pmap_del_slot(struct pmap *m, size_t i)
{
	size_t mask = m->cap - 1, j = i;
	for (;;) {
		size_t h;
		j = (j + 1) & mask;
		if (m->key[j] == PMAP_EMPTY)
			break;
		h = pmap_home(m->key[j], mask);
		/* move j back into the hole at i unless its home lies in (i, j] */
		if ((i <= j) ? (h <= i || h > j) : (h <= i && h > j)) {
			m->key[i] = m->key[j];
			m->val[i] = m->val[j];
			i = j;
		}
	}
	m->key[i] = PMAP_EMPTY;
	m->n--;
}

struct matcher {
	struct pmap live;   /* every page held by a record */
	uint64_t *rec_pfn;
	uint32_t *rec_left; /* pages of the record not yet released */
	uint8_t *rec_order;
	struct trace_ops *out;
};

static void emit(struct matcher *mt, uint32_t rec, uint32_t ev, za_gfp_t gfp,
                 uint16_t cpu, enum trace_op_kind kind)
{
	struct trace_op *op = &mt->out->op[mt->out->nr++];
	op->rec = rec;
	op->ev = ev;
	op->gfp = gfp;
	op->cpu = cpu;
	op->kind = (uint8_t)kind;
	op->order = mt->rec_order[rec];
}

/* Release the live pages of [pfn, pfn + 2^order). Emits a free op for each
 * record whose last page goes. Returns the pages released; *first is the
 * first record touched, *several says whether others were. */
static uint64_t release_range(struct matcher *mt, uint64_t pfn,
                              unsigned order, uint32_t evi, uint16_t cpu,
                              uint32_t *first, int *several,
                              uint64_t *completed)
{
	uint64_t p, released = 0;
	*first = UINT32_MAX;
	*several = 0;
	if (mt->live.n == 0)
		return 0;
	for (p = pfn; p < pfn + (1ull << order); p++) {
		long s = pmap_find(&mt->live, p);
		uint32_t r;
		if (s < 0)
			continue;
		r = mt->live.val[s];
		pmap_del_slot(&mt->live, (size_t)s);
		released++;
		if (*first == UINT32_MAX)
			*first = r;
		else if (r != *first)
			*several = 1;
		if (--mt->rec_left[r] == 0) {
			emit(mt, r, evi, 0, cpu, TRACE_OP_FREE);
			(*completed)++;
		}
	}
	return released;
}

int trace_match(const struct trace *t, size_t nr_events, struct trace_ops *out)
{
	struct matcher mt;
	struct trace_match_stats *st = &out->st;
	size_t i, nallocs = 0;
	uint32_t r;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&mt, 0, sizeof(mt));
	if (nr_events > t->nr)
		nr_events = t->nr;
	for (i = 0; i < nr_events; i++)
		nallocs += t->ev[i].type == TRACE_ALLOC;
	if (nallocs >= UINT32_MAX)
		return -1;
	mt.out = out;
	/* each record makes at most one alloc op and one free op */
	out->op = malloc((2 * nallocs + 1) * sizeof(*out->op));
	mt.rec_pfn = malloc((nallocs + 1) * sizeof(*mt.rec_pfn));
	mt.rec_left = malloc((nallocs + 1) * sizeof(*mt.rec_left));
	mt.rec_order = malloc(nallocs + 1);
	if (!out->op || !mt.rec_pfn || !mt.rec_left || !mt.rec_order ||
	    pmap_init(&mt.live, 1u << 16))
		goto out;

	for (i = 0; i < nr_events; i++) {
		const struct trace_event *e = &t->ev[i];
		uint32_t first;
		int several;
		uint64_t released, completed = 0, p;

		if (e->type == TRACE_ALLOC) {
			st->alloc_events++;
			if (e->flags & TRACE_EV_FAILED) {
				st->kernel_failed++;
				continue;
			}
			/* Pages the kernel hands out again were freed, whatever
			 * the trace says: a free event was lost. */
			release_range(&mt, e->pfn, e->order, (uint32_t)i, e->cpu,
			              &first, &several, &completed);
			st->implicit_frees += completed;
			r = out->nr_recs++;
			mt.rec_pfn[r] = e->pfn;
			mt.rec_order[r] = e->order;
			mt.rec_left[r] = 1u << e->order;
			for (p = e->pfn; p < e->pfn + (1ull << e->order); p++)
				if (pmap_put(&mt.live, p, r))
					goto out;
			emit(&mt, r, (uint32_t)i,
			     trace_gfp_to_za(e->kgfp, &st->nofail_stripped), e->cpu,
			     TRACE_OP_ALLOC);
			st->allocs++;
		} else if (e->type == TRACE_FREE || e->type == TRACE_FREE_BATCHED) {
			st->free_events++;
			released = release_range(&mt, e->pfn, e->order, (uint32_t)i,
			                         e->cpu, &first, &several, &completed);
			st->free_ops += completed;
			if (released == 0)
				st->frees_unmatched++;
			else if (!several && completed == 1 &&
			         mt.rec_pfn[first] == e->pfn &&
			         mt.rec_order[first] == e->order &&
			         released == 1ull << e->order)
				st->frees_exact++;
			else
				st->frees_partial++;
		}
	}
	for (r = 0; r < out->nr_recs; r++) {
		if (mt.rec_left[r]) {
			st->never_freed++;
			st->never_freed_pages += 1ull << mt.rec_order[r];
		}
	}
	rc = 0;
out:
	pmap_destroy(&mt.live);
	free(mt.rec_pfn);
	free(mt.rec_left);
	free(mt.rec_order);
	if (rc)
		trace_ops_free(out);
	return rc;
}

void trace_ops_free(struct trace_ops *ops)
{
	free(ops->op);
	ops->op = NULL;
	ops->nr = 0;
}
