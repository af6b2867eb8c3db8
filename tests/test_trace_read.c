/*
 * test_trace_read.c - reading trace files (tools/trace_reader.c): plain, gzip
 * and xz by their magic bytes, lines split across buffers, over-long
 * lines, a last line without newline; and the failures that must be clear
 * errors, never crashes: empty input, binary garbage, compressed streams
 * cut at every kind of place or corrupted, formats we do not read.
 *
 * The compressed files are made here with zlib and liblzma (when the build
 * has them), so the test needs no external tool.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef ZA_HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef ZA_HAVE_LZMA
#include <lzma.h>
#endif

#include "testutil.h"
#include "trace.h"

static char tmpdir[] = "/tmp/za_trace_read_XXXXXX";

static const char *tmp_path(const char *name)
{
	static char buf[4][256];
	static int k;
	char *p = buf[k++ & 3];
	snprintf(p, 256, "%s/%s", tmpdir, name);
	return p;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	CHECK(f != NULL);
	CHECK_EQ(fwrite(data, 1, len, f), len);
	CHECK_EQ(fclose(f), 0);
}

/* A synthetic trace text of n lines in the trace_pipe shape, with each
 * line's pfn its number so a reader's output can be checked line by line. */
static char *make_text(unsigned n, size_t *len)
{
	size_t cap = (size_t)n * 128 + 1, off = 0;
	char *s = malloc(cap);
	unsigned i;

	CHECK(s != NULL);
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(s + off, cap - off,
		                        "  task-%u [%03u] ..... %u.%06u: %s: pfn=0x%x "
		                        "order=0%s\n",
		                        i, i % 4, i / 1000, i % 1000000,
		                        i % 3 ? "mm_page_free" : "mm_page_alloc", i,
		                        i % 3 ? ""
		                              : " migratetype=0 "
		                                "gfp_flags=GFP_KERNEL");
	*len = off;
	return s;
}

/* Reads path to the end; returns lines read, or -1 on error (*err). */
static long read_all(const char *path, const char **check_text, char *err,
                     size_t errlen)
{
	struct trace_reader *r = trace_reader_open(path, err, errlen);
	const char *line, *expect = check_text ? *check_text : NULL;
	size_t len;
	long n = 0;
	int rc, cut;

	if (!r)
		return -1;
	while ((rc = trace_reader_line(r, &line, &len, &cut)) == 1) {
		if (expect) {
			const char *nl = strchr(expect, '\n');
			size_t el = nl ? (size_t)(nl - expect) : strlen(expect);
			CHECK_EQ(len, el);
			CHECK(memcmp(line, expect, len) == 0);
			expect = nl ? nl + 1 : expect + el;
		}
		n++;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s", trace_reader_error(r));
		n = -1;
	}
	trace_reader_close(r);
	return n;
}

static void test_plain(void)
{
	size_t len;
	char *text = make_text(20000, &len);
	const char *t = text;
	char err[256];
	char *big;
	struct trace tr;
	struct trace_load_opts lo = { 0 };

	write_file(tmp_path("plain.txt"), text, len);
	CHECK_EQ(read_all(tmp_path("plain.txt"), &t, err, sizeof(err)), 20000);

	/* last line without newline, CRLF line ends, a 10 KB line */
	big = malloc(20000);
	CHECK(big != NULL);
	memset(big, 'x', 10000);
	memcpy(big, "a-1 [000] 1.0: ", 15);
	len = 10000;
	len += (size_t)sprintf(big + len,
	                       "\r\n\r\na-1 [000] 1.0: mm_page_free: "
	                       "pfn=0x5 order=0\r\na-1 [001] 2.0: mm_page_free: "
	                       "pfn=0x6 order=1");
	write_file(tmp_path("odd.txt"), big, len);
	{
		struct trace_reader *r = trace_reader_open(tmp_path("odd.txt"), err,
		                                           sizeof(err));
		const char *line;
		size_t l;
		int cut;
		CHECK(r != NULL);
		CHECK_EQ(trace_reader_compression(r), TRACE_PLAIN);
		CHECK_EQ(trace_reader_line(r, &line, &l, &cut), 1);
		CHECK(cut);
		CHECK_EQ(l, TRACE_MAX_LINE);
		CHECK_EQ(trace_reader_line(r, &line, &l, &cut), 1);
		CHECK_EQ(l, 1); /* "\r" */
		CHECK_EQ(trace_reader_line(r, &line, &l, &cut), 1);
		CHECK_EQ(line[l - 1], '\r');
		CHECK_EQ(trace_reader_line(r, &line, &l, &cut), 1);
		CHECK(!cut);
		CHECK(memcmp(line + l - 7, "order=1", 7) == 0);
		CHECK_EQ(trace_reader_line(r, &line, &l, &cut), 0);
		CHECK_EQ(trace_reader_line(r, &line, &l, &cut), 0);
		trace_reader_close(r);
	}
	CHECK_EQ(trace_load(&tr, tmp_path("odd.txt"), NULL, err, sizeof(err)), 0);
	CHECK_EQ(tr.nr, 2);
	CHECK_EQ(tr.st.lines, 4);
	CHECK_EQ(tr.st.unknown, 1); /* the long line */
	CHECK_EQ(tr.st.unknown_line[0], 1);
	CHECK_EQ(tr.st.blank, 1);
	CHECK_EQ(tr.st.max_cpu, 1);
	CHECK_EQ(tr.st.max_pfn_end, 8);
	CHECK_EQ(tr.ev[1].line, 4);
	trace_free(&tr);

	/* --limit stops reading */
	lo.limit = 100;
	CHECK_EQ(trace_load(&tr, tmp_path("plain.txt"), &lo, err, sizeof(err)), 0);
	CHECK_EQ(tr.nr, 100);
	CHECK_EQ(tr.st.by_type[TRACE_ALLOC] + tr.st.by_type[TRACE_FREE], 100);
	trace_free(&tr);
	free(big);
	free(text);
}

static void expect_load_error(const char *path, const char *what)
{
	struct trace tr;
	char err[512] = "";

	if (trace_load(&tr, path, NULL, err, sizeof(err)) == 0) {
		fprintf(stderr, "%s loaded, expected '%s'\n", path, what);
		exit(1);
	}
	trace_free(&tr);
	if (!strstr(err, what)) {
		fprintf(stderr, "%s: error '%s', expected '%s'\n", path, err, what);
		exit(1);
	}
}

static void test_bad_input(void)
{
	char zeros[70000];
	unsigned char junk[50000];
	uint64_t s = 7;
	size_t i;

	write_file(tmp_path("empty"), "", 0);
	expect_load_error(tmp_path("empty"), "empty input");

	memset(zeros, 0, sizeof(zeros));
	write_file(tmp_path("zeros"), zeros, sizeof(zeros));
	expect_load_error(tmp_path("zeros"), "no kmem page-allocator event");

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)tu_rand(&s);
	junk[0] = 'J'; /* not a magic number by chance */
	write_file(tmp_path("junk"), junk, sizeof(junk));
	expect_load_error(tmp_path("junk"), "no kmem page-allocator event");

	write_file(tmp_path("text"), "just\nsome text\n", 15);
	expect_load_error(tmp_path("text"), "no kmem page-allocator event");

	write_file(tmp_path("bz"), "BZh91AY&SY", 10);
	expect_load_error(tmp_path("bz"), "bzip2");
	write_file(tmp_path("zst"), "\x28\xb5\x2f\xfd\0\0", 6);
	expect_load_error(tmp_path("zst"), "zstd");

	expect_load_error(tmp_path("does-not-exist"), "No such file");
}

#ifdef ZA_HAVE_ZLIB
static unsigned char *gzip_buf(const char *text, size_t len, size_t *out_len)
{
	z_stream zs;
	size_t cap = len + len / 10 + 1024;
	unsigned char *out = malloc(cap);

	CHECK(out != NULL);
	memset(&zs, 0, sizeof(zs));
	CHECK_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY),
	         Z_OK);
	zs.next_in = (Bytef *)text;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	CHECK_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*out_len = cap - zs.avail_out;
	deflateEnd(&zs);
	return out;
}

static void test_gzip(void)
{
	size_t len, glen, g2len;
	char *text = make_text(30000, &len);
	unsigned char *gz = gzip_buf(text, len, &glen);
	unsigned char *two;
	const char *t = text;
	char err[256];
	size_t cutlen;

	write_file(tmp_path("t.gz"), gz, glen);
	CHECK_EQ(read_all(tmp_path("t.gz"), &t, err, sizeof(err)), 30000);

	/* two members back to back read as one text (as gzip -d does) */
	{
		unsigned char *b = gzip_buf(text, len, &g2len);
		two = malloc(glen + g2len);
		memcpy(two, gz, glen);
		memcpy(two + glen, b, g2len);
		write_file(tmp_path("two.gz"), two, glen + g2len);
		CHECK_EQ(read_all(tmp_path("two.gz"), NULL, err, sizeof(err)), 60000);
		free(b);
		free(two);
	}

	/* after the last member: zero padding is fine, anything else is an
	 * error, as after an xz stream (one rule for both, REPLAY.md) */
	{
		unsigned char *b = malloc(glen + 4100);
		memcpy(b, gz, glen);
		memset(b + glen, 0, 4100);
		write_file(tmp_path("pad.gz"), b, glen + 4100);
		CHECK_EQ(read_all(tmp_path("pad.gz"), NULL, err, sizeof(err)), 30000);
		memcpy(b + glen, "garbage\n", 8);
		write_file(tmp_path("tail.gz"), b, glen + 8);
		CHECK_EQ(read_all(tmp_path("tail.gz"), NULL, err, sizeof(err)), -1);
		CHECK(strstr(err, "trailing garbage after the gzip data") != NULL);
		b[glen + 4000] = 'x'; /* zeros, then garbage */
		memset(b + glen, 0, 8);
		write_file(tmp_path("tail.gz"), b, glen + 4100);
		CHECK_EQ(read_all(tmp_path("tail.gz"), NULL, err, sizeof(err)), -1);
		CHECK(strstr(err, "trailing garbage") != NULL);
		free(b);
	}

	/* cut anywhere, from inside the header to the last trailer byte */
	/* (one byte is too short to be gzip's magic: that is plain text) */
	for (cutlen = 2; cutlen < glen;
	     cutlen += cutlen < 64 ? 1 : glen / 50 + 1) {
		write_file(tmp_path("cut.gz"), gz, cutlen);
		CHECK_EQ(read_all(tmp_path("cut.gz"), NULL, err, sizeof(err)), -1);
		CHECK(strstr(err, "gzip") != NULL);
	}
	write_file(tmp_path("cut.gz"), gz, glen - 1);
	CHECK_EQ(read_all(tmp_path("cut.gz"), NULL, err, sizeof(err)), -1);
	CHECK(strstr(err, "truncated gzip") != NULL);
	expect_load_error(tmp_path("cut.gz"), "truncated gzip stream");

	/* corrupt the middle */
	gz[glen / 2] ^= 0x55;
	gz[glen / 2 + 1] ^= 0xaa;
	write_file(tmp_path("bad.gz"), gz, glen);
	CHECK_EQ(read_all(tmp_path("bad.gz"), NULL, err, sizeof(err)), -1);

	/* an empty member */
	free(gz);
	gz = gzip_buf("", 0, &glen);
	write_file(tmp_path("empty.gz"), gz, glen);
	expect_load_error(tmp_path("empty.gz"), "empty input (after "
	                                        "decompression)");
	free(gz);
	free(text);
}
#endif

#ifdef ZA_HAVE_LZMA
static void test_xz(void)
{
	size_t len, xlen = 0, cutlen;
	char *text = make_text(30000, &len);
	size_t cap = len + 4096;
	unsigned char *xz = malloc(cap);
	const char *t = text;
	char err[256];
	struct trace tr;

	CHECK(xz != NULL);
	CHECK_EQ(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL,
	                                 (const uint8_t *)text, len, xz, &xlen,
	                                 cap),
	         LZMA_OK);
	write_file(tmp_path("t.xz"), xz, xlen);
	CHECK_EQ(read_all(tmp_path("t.xz"), &t, err, sizeof(err)), 30000);
	CHECK_EQ(trace_load(&tr, tmp_path("t.xz"), NULL, err, sizeof(err)), 0);
	CHECK_EQ(tr.comp, TRACE_XZ);
	CHECK_EQ(tr.nr, 30000);
	CHECK_EQ(tr.st.by_type[TRACE_ALLOC], 10000);
	CHECK_EQ(tr.st.max_cpu, 3);
	CHECK_EQ(tr.bytes_in, xlen);
	CHECK_EQ(tr.bytes_out, len);
	trace_free(&tr);

	/* (below six bytes it is not xz's magic: plain text) */
	for (cutlen = 6; cutlen < xlen;
	     cutlen += cutlen < 64 ? 1 : xlen / 50 + 1) {
		write_file(tmp_path("cut.xz"), xz, cutlen);
		CHECK_EQ(read_all(tmp_path("cut.xz"), NULL, err, sizeof(err)), -1);
		CHECK(strstr(err, "xz") != NULL);
	}
	/* the last byte of the stream footer */
	write_file(tmp_path("cut.xz"), xz, xlen - 1);
	expect_load_error(tmp_path("cut.xz"), "xz");
	write_file(tmp_path("cut.xz"), xz, xlen / 2);
	expect_load_error(tmp_path("cut.xz"), "truncated xz stream");

	/* garbage after the stream: an error, as after gzip data */
	{
		unsigned char *b = malloc(xlen + 8);
		memcpy(b, xz, xlen);
		memcpy(b + xlen, "garbage\n", 8);
		write_file(tmp_path("tail.xz"), b, xlen + 8);
		CHECK_EQ(read_all(tmp_path("tail.xz"), NULL, err, sizeof(err)), -1);
		free(b);
	}

	xz[xlen / 2] ^= 0x55;
	write_file(tmp_path("bad.xz"), xz, xlen);
	CHECK_EQ(read_all(tmp_path("bad.xz"), NULL, err, sizeof(err)), -1);
	free(xz);
	free(text);
}
#endif

int main(void)
{
	CHECK(mkdtemp(tmpdir) != NULL);
	test_plain();
	test_bad_input();
#ifdef ZA_HAVE_ZLIB
	test_gzip();
#else
	printf("test_trace_read: no zlib, gzip part skipped\n");
#endif
#ifdef ZA_HAVE_LZMA
	test_xz();
#else
	printf("test_trace_read: no liblzma, xz part skipped\n");
#endif
	/* best effort: the files are small */
	{
		static const char *names[] = {
			"plain.txt", "odd.txt", "empty",  "zeros",  "junk",   "text",
			"bz",        "zst",     "t.gz",   "two.gz", "cut.gz", "bad.gz",
			"empty.gz",  "t.xz",    "cut.xz", "bad.xz"
		};
		size_t i;
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			unlink(tmp_path(names[i]));
		rmdir(tmpdir);
	}
	printf("test_trace_read: ok\n");
	return 0;
}
