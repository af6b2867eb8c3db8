/*
 * json.c - the JSON writer of the `zonealloc` command (json.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "json.h"

static void indent(struct jw *w)
{
	int d;

	fputc('\n', w->f);
	for (d = 0; d < w->depth; d++)
		fputs("  ", w->f);
}

/* Before a value: the comma after its elder sibling, the line break. */
static void sep(struct jw *w)
{
	if (w->depth == 0)
		return;
	if (!w->first[w->depth])
		fputc(',', w->f);
	w->first[w->depth] = 0;
	if (!w->compact)
		indent(w);
}

/* Bytes of the well-formed UTF-8 character at s (1..4), or 0 when s does
 * not start one (a stray continuation byte, an overlong form, a
 * surrogate, past U+10FFFF, or a sequence cut short: the NUL at the end
 * is no continuation byte). */
static unsigned utf8_len(const unsigned char *s)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	unsigned n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0; /* overlong */
	else if (c == 0xed)
		hi = 0x9f; /* surrogates */
	else if (c == 0xf0)
		lo = 0x90; /* overlong */
	else if (c == 0xf4)
		hi = 0x8f; /* past U+10FFFF */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* A JSON string. Its text is the file's (a path, a recording's header
 * lines: a command's arguments, the kernel's build string) and need not
 * be UTF-8, or was cut in the middle of a character to fit its field:
 * a byte that starts no well-formed character goes out as U+FFFD, so
 * that the report stays JSON (RFC 8259 text is UTF-8) for every reader,
 * not only the lenient ones. */
static void str(struct jw *w, const char *s)
{
	fputc('"', w->f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		unsigned n = utf8_len((const unsigned char *)s);
		if (n == 0) {
			fputs("\\ufffd", w->f);
		} else if (n > 1) {
			fwrite(s, 1, n, w->f);
			s += n - 1;
		} else if (c == '"' || c == '\\')
			fprintf(w->f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", w->f);
		else if (c == '\t')
			fputs("\\t", w->f);
		else if (c < 0x20)
			fprintf(w->f, "\\u%04x", c);
		else
			fputc(c, w->f);
	}
	fputc('"', w->f);
}

static void key(struct jw *w, const char *k)
{
	sep(w);
	if (k) {
		str(w, k);
		fputs(w->compact ? ":" : ": ", w->f);
	}
}

void jw_open(struct jw *w, const char *k, char c)
{
	key(w, k);
	fputc(c, w->f);
	if (w->depth < JW_MAX_DEPTH)
		w->depth++;
	w->first[w->depth] = 1;
}

void jw_close(struct jw *w, char c)
{
	int empty = w->first[w->depth];

	if (w->depth > 0)
		w->depth--;
	if (!empty && !w->compact)
		indent(w);
	fputc(c, w->f);
}

void jw_u(struct jw *w, const char *k, unsigned long long v)
{
	key(w, k);
	fprintf(w->f, "%llu", v);
}

void jw_i(struct jw *w, const char *k, long long v)
{
	key(w, k);
	fprintf(w->f, "%lld", v);
}

void jw_fixed(struct jw *w, const char *k, double v, int decimals)
{
	key(w, k);
	fprintf(w->f, "%.*f", decimals, v);
}

void jw_d(struct jw *w, const char *k, double v)
{
	jw_fixed(w, k, v, 4);
}

void jw_s(struct jw *w, const char *k, const char *s)
{
	key(w, k);
	if (s)
		str(w, s);
	else
		fputs("null", w->f);
}

void jw_b(struct jw *w, const char *k, int v)
{
	key(w, k);
	fputs(v ? "true" : "false", w->f);
}

void jw_raw(struct jw *w, const char *k, const char *text)
{
	key(w, k);
	fputs(text, w->f);
}
