/*
 * trace_parse.c - the parse layer of the trace reader (trace.h): one line
 * of the kernel's kmem page-allocator ftrace text into a trace_event, and
 * the kernel's gfp flags into zonealloc's.
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

#include <string.h>

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

/* Most digits of a timestamp's seconds. The clocks ftrace and perf print
 * count from boot, and ten digits are over 300 years. Eleven could already
 * pass 2^64 nanoseconds (584 years) and wrap around to any small time; ten
 * keep every time, and the replay's decay clock a pass ahead of it, far
 * below the wrap. */
#define TS_MAX_SEC_DIGITS 10

/* "seconds[.fraction]:" -> nanoseconds. Returns 0 when [p, end) is one, 1
 * when it has that shape but more seconds than TS_MAX_SEC_DIGITS (*ns 0:
 * the caller calls the line malformed rather than not understood), -1
 * when it is no timestamp. */
static int parse_timestamp(const char *p, const char *end, uint64_t *ns)
{
	uint64_t sec = 0, frac = 0;
	int nfrac = 0;
	const char *q, *sec_end;

	if (end - p < 2 || end[-1] != ':')
		return -1;
	end--;
	for (q = p; q < end && is_digit(*q); q++)
		;
	if (q == p)
		return -1;
	sec_end = q;
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
	if (sec_end - p > TS_MAX_SEC_DIGITS || parse_dec(p, sec_end, &sec)) {
		*ns = 0;
		return 1;
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
#define K_THP_LIGHT                                                           \
	((K_HIGHUSER_MOVABLE | TRACE_KGFP_COMP | TRACE_KGFP_NOMEMALLOC |          \
	  TRACE_KGFP_NOWARN) &                                                    \
	 ~K_RECLAIM)

/* The names show_gfp_flags() prints, composite masks first as it does.
 * Names of flags that mean nothing to an allocator without KASAN or lockdep
 * map to 0 so that they are known, not "unknown". */
static const struct {
	const char *name;
	uint32_t bits;
} gfp_names[] = {
	{ "GFP_TRANSHUGE", K_THP_LIGHT | TRACE_KGFP_DIRECT_RECLAIM },
	{ "GFP_TRANSHUGE_LIGHT", K_THP_LIGHT },
	{ "GFP_HIGHUSER_MOVABLE", K_HIGHUSER_MOVABLE },
	{ "GFP_HIGHUSER", K_USER | TRACE_KGFP_HIGHMEM },
	{ "GFP_USER", K_USER },
	{ "GFP_KERNEL_ACCOUNT", K_KERNEL | TRACE_KGFP_ACCOUNT },
	{ "GFP_KERNEL", K_KERNEL },
	{ "GFP_NOFS", K_RECLAIM | TRACE_KGFP_IO },
	{ "GFP_NOIO", K_RECLAIM },
	{ "GFP_ATOMIC", TRACE_KGFP_HIGH | TRACE_KGFP_KSWAPD_RECLAIM },
	{ "GFP_NOWAIT", TRACE_KGFP_KSWAPD_RECLAIM },
	{ "GFP_DMA", TRACE_KGFP_DMA },
	{ "GFP_DMA32", TRACE_KGFP_DMA32 },
	{ "GFP_TEMPORARY", K_KERNEL | TRACE_KGFP_RECLAIMABLE }, /* before 4.14 */
	{ "GFP_IOFS", TRACE_KGFP_IO | TRACE_KGFP_FS },          /* before 4.4 */
	{ "__GFP_DMA", TRACE_KGFP_DMA },
	{ "__GFP_HIGHMEM", TRACE_KGFP_HIGHMEM },
	{ "__GFP_DMA32", TRACE_KGFP_DMA32 },
	{ "__GFP_MOVABLE", TRACE_KGFP_MOVABLE },
	{ "__GFP_RECLAIMABLE", TRACE_KGFP_RECLAIMABLE },
	{ "__GFP_HIGH", TRACE_KGFP_HIGH },
	{ "__GFP_IO", TRACE_KGFP_IO },
	{ "__GFP_FS", TRACE_KGFP_FS },
	{ "__GFP_ZERO", TRACE_KGFP_ZERO },
	{ "__GFP_ATOMIC", TRACE_KGFP_ATOMIC },
	{ "__GFP_RECLAIM", K_RECLAIM },
	{ "__GFP_DIRECT_RECLAIM", TRACE_KGFP_DIRECT_RECLAIM },
	{ "__GFP_KSWAPD_RECLAIM", TRACE_KGFP_KSWAPD_RECLAIM },
	{ "__GFP_WAIT", TRACE_KGFP_DIRECT_RECLAIM }, /* before 4.4 */
	{ "__GFP_WRITE", TRACE_KGFP_WRITE },
	{ "__GFP_NOWARN", TRACE_KGFP_NOWARN },
	{ "__GFP_RETRY_MAYFAIL", TRACE_KGFP_RETRY_MAYFAIL },
	{ "__GFP_REPEAT", TRACE_KGFP_RETRY_MAYFAIL }, /* before 4.13 */
	{ "__GFP_NOFAIL", TRACE_KGFP_NOFAIL },
	{ "__GFP_NORETRY", TRACE_KGFP_NORETRY },
	{ "__GFP_MEMALLOC", TRACE_KGFP_MEMALLOC },
	{ "__GFP_COMP", TRACE_KGFP_COMP },
	{ "__GFP_NOMEMALLOC", TRACE_KGFP_NOMEMALLOC },
	{ "__GFP_HARDWALL", TRACE_KGFP_HARDWALL },
	{ "__GFP_THISNODE", TRACE_KGFP_THISNODE },
	{ "__GFP_ACCOUNT", TRACE_KGFP_ACCOUNT },
	{ "__GFP_ZEROTAGS", TRACE_KGFP_ZEROTAGS },
	{ "__GFP_SKIP_ZERO", 0 },
	{ "__GFP_SKIP_KASAN", 0 },
	{ "__GFP_SKIP_KASAN_POISON", 0 },
	{ "__GFP_SKIP_KASAN_UNPOISON", 0 },
	{ "__GFP_NOLOCKDEP", 0 },
	{ "__GFP_NO_OBJ_EXT", 0 },
	{ "__GFP_NOTRACK", 0 },
	{ "__GFP_COLD", 0 },
	{ "__GFP_OTHER_NODE", 0 },
	{ "__GFP_NOACCOUNT", 0 },
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
	int bad_ts; /* a timestamp of too many seconds (parse_timestamp) */
};

/* Try to read "[CPU] [FLAGS] TIMESTAMP: [SYS:]EVENT:" from the '[' at p. */
static int parse_prefix_at(const char *p, const char *end, struct prefix *px)
{
	const char *q = p + 1, *w, *we;
	uint64_t cpu;
	int ts;

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
	ts = parse_timestamp(w, we, &px->ts_ns);
	if (ts < 0) {
		/* not the time: the irq/preempt flags word, then the time */
		if (we == w)
			return -1;
		w = skip_space(we, end);
		we = word_end(w, end);
		ts = parse_timestamp(w, we, &px->ts_ns);
		if (ts < 0)
			return -1;
	}
	px->bad_ts = ts > 0;
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
                                      const char **why, uint64_t *unknown_gfp)
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
	if (px.bad_ts) {
		*why = "timestamp out of range (over ten digits of seconds)";
		return TRACE_LINE_MALFORMED;
	}

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
	/* The buddy allocator's blocks are aligned to their size: no kernel
	 * prints a block of order n at a pfn that is not a multiple of 2^n.
	 * Read, such a block paired page by page in a whole replay and not
	 * at all in --stream, which looks for a live block at the aligned
	 * starts that could cover a pfn. */
	if (ev->pfn & ((1ull << ev->order) - 1)) {
		*why = "pfn not aligned to its order";
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
