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

static void str(struct jw *w, const char *s)
{
	fputc('"', w->f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
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
