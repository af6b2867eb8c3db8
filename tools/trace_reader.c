/*
 * trace_reader.c - the reader layer of the trace reader (trace.h): a
 * plain, gzip or xz file (or standard input) turned into lines, and a
 * whole trace read into a compact event array with counts of what was and
 * was not understood. zlib and liblzma are optional (ZA_HAVE_ZLIB,
 * ZA_HAVE_LZMA): without them a .gz or .xz input is refused by name.
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
	char *out; /* text not yet returned as lines */
	size_t out_pos, out_len;
	int out_eof; /* no more text will come */
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
					return fail(r, "%s",
					            "trailing garbage after the "
					            "gzip data");
				}
				if (r->in[r->in_pos] != 0x1f)
					return fail(r, "%s",
					            "trailing garbage after the "
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
				return fail(r, "%s",
				            "truncated gzip stream (unexpected "
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
				return fail(r, "%s",
				            "truncated xz stream (unexpected end "
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
	} else if (have >= 6 && memcmp(m,
	                               "\xfd"
	                               "7zXZ\0",
	                               6) == 0) {
		r->comp = TRACE_XZ;
	} else if (have >= 3 && memcmp(m, "BZh", 3) == 0) {
		snprintf(err, errlen,
		         "%s: bzip2 input is not supported; "
		         "decompress it first (bzip2 -dc FILE | zonealloc replay -)",
		         path);
		goto fail;
	} else if (have >= 4 && memcmp(m, "\x28\xb5\x2f\xfd", 4) == 0) {
		snprintf(err, errlen,
		         "%s: zstd input is not supported; "
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
		snprintf(err, errlen,
		         "%s: gzip input, but this zonealloc was "
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
		snprintf(err, errlen,
		         "%s: xz input, but this zonealloc was "
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

int trace_reader_line(struct trace_reader *r, const char **line, size_t *len,
                      int *cut)
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
	static const char end3[] = "# end-vmstat";
	static const char end4[] = "# pcp-peak"; /* -samples too */

	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	if (len < 2 || line[0] != '#' || line[1] != ' ')
		return;
	if (t->nr &&
	    !(len >= sizeof(end1) - 1 && !memcmp(line, end1, sizeof(end1) - 1)) &&
	    !(len >= sizeof(end2) - 1 && !memcmp(line, end2, sizeof(end2) - 1)) &&
	    !(len >= sizeof(end3) - 1 && !memcmp(line, end3, sizeof(end3) - 1)) &&
	    !(len >= sizeof(end4) - 1 && !memcmp(line, end4, sizeof(end4) - 1)))
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

void trace_add_line(struct trace *t, const char *line, size_t len, int *nomem)
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
			snprintf(err, errlen, "%s: out of memory after %zu events", path,
			         t->nr);
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
		char first[160] = "";
		/* lines of the five events, all malformed: say what is wrong */
		if (t->st.malformed && t->st.malformed_why[0])
			snprintf(first, sizeof(first), ", the first at line %llu: %s",
			         (unsigned long long)t->st.malformed_line[0],
			         t->st.malformed_why[0]);
		snprintf(err, errlen,
		         "%s: no kmem page-allocator event found in %llu lines "
		         "(%llu not understood, %llu malformed%s); is this ftrace "
		         "text of kmem:mm_page_alloc/mm_page_free?",
		         path, (unsigned long long)t->st.lines,
		         (unsigned long long)t->st.unknown,
		         (unsigned long long)t->st.malformed, first);
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
