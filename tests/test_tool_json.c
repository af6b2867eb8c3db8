/*
 * test_tool_json.c - the JSON writer of the `zonealloc` command
 * (tools/json.c): its strings stay JSON whatever bytes they are given.
 * Their text comes from the files the tool reads (a trace's path, a
 * recording's header: the recorded command's arguments, the kernel's
 * build string, cut to fit their fields), which need not be UTF-8; RFC
 * 8259 text is, and a strict reader (Python's json) refuses a report with
 * a stray byte (review 14, finding 5). Well-formed characters pass as
 * they are, every byte that starts none becomes U+FFFD.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "testutil.h"

/* The one string value of {"s": s} as the writer prints it. */
static char *written(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct jw w = { .f = f, .compact = 1 };

	CHECK(f != NULL);
	jw_open(&w, NULL, '{');
	jw_s(&w, "s", s);
	jw_close(&w, '}');
	fclose(f);
	CHECK(len > 7 && !strncmp(buf, "{\"s\":\"", 6));
	CHECK(!strcmp(buf + len - 2, "\"}"));
	memmove(buf, buf + 6, len - 6);
	buf[len - 8] = '\0';
	return buf;
}

/* Well-formed UTF-8, by the table of RFC 3629, written apart from the
 * writer's own check. */
static int valid_utf8(const unsigned char *s)
{
	while (*s) {
		unsigned c = *s, n, i, cp;
		if (c < 0x80) {
			s++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			n = 2, cp = c & 0x1f;
		else if ((c & 0xf0) == 0xe0)
			n = 3, cp = c & 0x0f;
		else if ((c & 0xf8) == 0xf0)
			n = 4, cp = c & 0x07;
		else
			return 0;
		for (i = 1; i < n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
		    (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		s += n;
	}
	return 1;
}

static void expect(const char *in, const char *out)
{
	char *got = written(in);

	RULE(valid_utf8((const unsigned char *)got),
	     "a JSON string of the tool is UTF-8 whatever its text: '%s'", got);
	if (strcmp(got, out)) {
		fprintf(stderr, "written '%s', expected '%s'\n", got, out);
		exit(1);
	}
	free(got);
}

int main(void)
{
	/* ASCII, escapes, and characters of two, three and four bytes */
	expect("make -j2", "make -j2");
	expect("a \"b\" \\ \n\t\x01", "a \\\"b\\\" \\\\ \\n\\t\\u0001");
	expect("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	       "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	expect("\xef\xbf\xbd\xf4\x8f\xbf\xbf", "\xef\xbf\xbd\xf4\x8f\xbf\xbf");
	/* Latin-1 file names, stray and missing continuation bytes */
	expect("fichier\xe9.c", "fichier\\ufffd.c");
	expect("a\xff\xfe"
	       "b",
	       "a\\ufffd\\ufffdb");
	expect("\x80x", "\\ufffdx");
	expect("\xc3", "\\ufffd");                       /* cut at the end */
	expect("\xe2\x82", "\\ufffd\\ufffd");            /* cut at the end */
	expect("\xe2\x82x", "\\ufffd\\ufffdx");          /* cut inside */
	expect("\xf0\x9f\x98", "\\ufffd\\ufffd\\ufffd"); /* cut at the end */
	/* overlong forms, surrogates, past U+10FFFF, five-byte forms */
	expect("\xc0\xaf", "\\ufffd\\ufffd");
	expect("\xe0\x80\xaf", "\\ufffd\\ufffd\\ufffd");
	expect("\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd");
	expect("\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd");
	expect("\xf8\x88\x80\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd");
	printf("test_tool_json: ok\n");
	return 0;
}
