/*
 * json.h - the one JSON writer of the `zonealloc` command: keys in the
 * order they are written, commas placed for the caller, strings escaped.
 * Two layouts: pretty (the default: one value a line, two spaces an
 * indent level; replay and its sweep) and compact (.compact = 1: one
 * line, no spaces; stress, whose objects are glued into one document).
 *
 *	struct jw w = { .f = stdout };
 *	jw_open(&w, NULL, '{');
 *	jw_u(&w, "pages", 512);
 *	jw_close(&w, '}');
 *
 * A NULL key writes a bare value (an array element, or the top level).
 * Values may be nested JW_MAX_DEPTH deep. Not thread-safe per writer.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ZA_TOOLS_JSON_H
#define ZA_TOOLS_JSON_H

#include <stdio.h>

#define JW_MAX_DEPTH 15

struct jw {
	FILE *f;
	int compact; /* 0: pretty, 1: one line */
	int depth;
	int first[JW_MAX_DEPTH + 1]; /* nothing written yet at that level */
};

/* Opens an object ('{') or an array ('['), closes it ('}' or ']'). */
void jw_open(struct jw *w, const char *key, char c);
void jw_close(struct jw *w, char c);
void jw_u(struct jw *w, const char *key, unsigned long long v);
void jw_i(struct jw *w, const char *key, long long v);
/* A number with four decimals. */
void jw_d(struct jw *w, const char *key, double v);
/* A number with `decimals` decimals. */
void jw_fixed(struct jw *w, const char *key, double v, int decimals);
/* A string, escaped; NULL writes null. */
void jw_s(struct jw *w, const char *key, const char *s);
void jw_b(struct jw *w, const char *key, int v);
/* JSON text written as it is: a value made by another writer. */
void jw_raw(struct jw *w, const char *key, const char *text);

#endif
