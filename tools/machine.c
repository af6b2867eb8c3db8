/*
 * machine.c - reading the recorded machine back from a trace's header
 * (see machine.h), and checking that what it says can be true before a
 * replay builds zones from it.
 *
 * /proc/zoneinfo has one section per zone ("Node N, zone NAME"), with
 * "pages free", the watermarks, "spanned", "present", "managed", a
 * "pagesets" part with "cpu: C" followed by "count:", "high:", "batch:"
 * (and "high_min:", "high_max:" since Linux 6.7), and "start_pfn:". Other
 * lines (the node's and zone's statistics) are skipped, so any kernel
 * version since 4.x reads.
 *
 * SPDX-License-Identifier: MIT
 */
#include "machine.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static const char *const za_zone_names[ZA_NR_ZONES] = {
	[ZA_ZONE_DMA] = "DMA",
	[ZA_ZONE_DMA32] = "DMA32",
	[ZA_ZONE_NORMAL] = "Normal",
	[ZA_ZONE_MOVABLE] = "Movable",
};

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* A copy of [p, end) without leading and trailing blanks, NUL-terminated
 * in buf (cut to len - 1). */
static void copy_trim(char *buf, size_t len, const char *p, const char *end)
{
	size_t n;

	while (p < end && is_space(*p))
		p++;
	while (end > p && is_space(end[-1]))
		end--;
	n = (size_t)(end - p);
	if (n >= len)
		n = len - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
}

/* "KEY VALUE" or "KEY: VALUE" with a decimal value, as zoneinfo prints.
 * 1 and *v when line (trimmed) starts with key followed by blanks or ':'.
 * The value must be the whole rest of the line and fit a long, or *bad
 * says why not (1 is still returned: the line is key's, and wrong): a
 * kernel prints no "high: 1716abc", and reading it as 1716, or a number
 * past LONG_MAX as LONG_MAX, would build a machine the file does not
 * describe. */
static int key_num(const char *line, const char *key, long *v,
                   const char **bad)
{
	size_t n = strlen(key);
	char *end;

	while (is_space(*line))
		line++;
	if (strncmp(line, key, n) != 0)
		return 0;
	line += n;
	if (*line == ':')
		line++;
	if (!is_space(*line))
		return 0;
	errno = 0;
	*v = strtol(line, &end, 10);
	if (end == line || *end) {
		*v = 0;
		*bad = "is not a number";
	} else if (errno == ERANGE) {
		*v = 0;
		*bad = "is out of range";
	}
	return 1;
}

static int add_pcp(struct machine_zone *z, long cpu)
{
	struct machine_pcp *n;

	if ((z->nr_pcp & (z->nr_pcp + 1)) == 0 || !z->pcp) {
		/* grow at 0, 1, 3, 7, ...: capacity 2n+2 */
		n = realloc(z->pcp, (2 * (size_t)z->nr_pcp + 2) * sizeof(*n));
		if (!n)
			return -1;
		z->pcp = n;
	}
	n = &z->pcp[z->nr_pcp++];
	n->cpu = cpu;
	n->count = n->high = n->batch = n->high_min = n->high_max = -1;
	return 0;
}

void machine_zones_free(struct machine_zones *zs)
{
	unsigned k;

	for (k = 0; k < zs->nr; k++) {
		free(zs->z[k].pcp);
		zs->z[k].pcp = NULL;
		zs->z[k].nr_pcp = 0;
	}
	zs->nr = 0;
}

void machine_free(struct machine *m)
{
	machine_zones_free(&m->zones);
	machine_zones_free(&m->end_zones);
	machine_zones_free(&m->peak_zones);
}

/* A new zone of zs (which has room) for node nid called name: no lists,
 * its zonealloc type from the name (-1 for none). */
static struct machine_zone *zone_add(struct machine_zones *zs, int nid,
                                     const char *name)
{
	struct machine_zone *z = &zs->z[zs->nr++];
	int t;

	memset(z, 0, sizeof(*z));
	z->nid = nid;
	snprintf(z->name, sizeof(z->name), "%s", name);
	z->type = -1;
	for (t = 0; t < ZA_NR_ZONES; t++)
		if (!strcmp(name, za_zone_names[t]))
			z->type = t;
	return z;
}

/* The zone of zs called (nid, name), added when zs has none; NULL when
 * zs is full. */
static struct machine_zone *zone_named(struct machine_zones *zs, int nid,
                                       const char *name)
{
	unsigned k;

	for (k = 0; k < zs->nr; k++)
		if (zs->z[k].nid == nid && !strcmp(zs->z[k].name, name))
			return &zs->z[k];
	if (zs->nr == MACHINE_MAX_ZONES)
		return NULL;
	return zone_add(zs, nid, name);
}

/* The list of z for cpu, added (every field -1) when z has none. */
static struct machine_pcp *pcp_of_cpu(struct machine_zone *z, long cpu)
{
	unsigned i;

	for (i = 0; i < z->nr_pcp; i++)
		if (z->pcp[i].cpu == cpu)
			return &z->pcp[i];
	if (add_pcp(z, cpu))
		return NULL;
	return &z->pcp[z->nr_pcp - 1];
}

int machine_zones_max(struct machine_zones *peak,
                      const struct machine_zones *sample)
{
	unsigned k, i;

	for (k = 0; k < sample->nr; k++) {
		const struct machine_zone *s = &sample->z[k];
		struct machine_zone *z;
		if (!s->nr_pcp)
			continue;
		z = zone_named(peak, s->nid, s->name);
		if (!z)
			continue; /* as many zones as the parser takes: none new */
		for (i = 0; i < s->nr_pcp; i++) {
			struct machine_pcp *p = pcp_of_cpu(z, s->pcp[i].cpu);
			if (!p)
				return -1;
			if (s->pcp[i].count > p->count)
				p->count = s->pcp[i].count;
			if (s->pcp[i].high > p->high)
				p->high = s->pcp[i].high;
		}
	}
	return 0;
}

/* "Node N, zone NAME, cpu C, count K, high H" (a pcp-peak line) into
 * m->peak_zones: 0, or -1 with the problem in err. */
static int parse_peak_line(struct machine *m, const char *v, char *err,
                           size_t errlen)
{
	struct machine_zone *z;
	struct machine_pcp *p;
	char name[16];
	long cpu, count, high;
	int nid, end = 0;

	if (sscanf(v, "Node %d, zone %15[^,], cpu %ld, count %ld, high %ld%n",
	           &nid, name, &cpu, &count, &high, &end) != 5 ||
	    v[end] != '\0') {
		snprintf(err, errlen, "a pcp-peak line that cannot be read: '%s'", v);
		return -1;
	}
	if (nid < 0 || nid >= ZA_MAX_NODES || cpu < 0 || cpu >= ZA_MAX_CPUS ||
	    count < 0 || high < 0 || count > INT_MAX || high > INT_MAX) {
		snprintf(err, errlen, "a pcp-peak line out of range: '%s'", v);
		return -1;
	}
	z = zone_named(&m->peak_zones, nid, name);
	if (!z) {
		snprintf(err, errlen, "more than %d zones in the pcp-peak lines",
		         MACHINE_MAX_ZONES);
		return -1;
	}
	p = pcp_of_cpu(z, cpu);
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->count = count;
	p->high = high;
	return 0;
}

int machine_parse_zoneinfo(const char *text, size_t len,
                           struct machine_zones *out, char *err, size_t errlen)
{
	const char *p = text, *end = text + len;
	struct machine_zone *z = NULL;
	unsigned lineno = 0;
	char line[512];

	memset(out, 0, sizeof(*out));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		long v = 0;
		int nid, pcp_field = 0;
		char name[16];
		const char *bad = NULL;

		lineno++;
		copy_trim(line, sizeof(line), p, le);
		p = nl ? nl + 1 : end;
		if (sscanf(line, "Node %d, zone %15s", &nid, name) == 2) {
			if (nid < 0 || nid >= ZA_MAX_NODES) {
				snprintf(err, errlen,
				         "zoneinfo line %u: node %d out of "
				         "range (0..%d)",
				         lineno, nid, ZA_MAX_NODES - 1);
				return -1;
			}
			if (out->nr == MACHINE_MAX_ZONES) {
				snprintf(err, errlen,
				         "zoneinfo line %u: more than %d "
				         "zones",
				         lineno, MACHINE_MAX_ZONES);
				return -1;
			}
			z = zone_add(out, nid, name);
			continue;
		}
		if (!z)
			continue;
		if (key_num(line, "pages free", &v, &bad)) {
			z->free = (unsigned long)v;
		} else if (key_num(line, "min", &v, &bad)) {
			z->min = (unsigned long)v;
		} else if (key_num(line, "low", &v, &bad)) {
			z->low = (unsigned long)v;
		} else if (key_num(line, "high", &v, &bad)) {
			/* "high" in a pageset is the CPU's, else the watermark */
			if (z->nr_pcp) {
				z->pcp[z->nr_pcp - 1].high = v;
				pcp_field = 1;
			} else {
				z->high = (unsigned long)v;
			}
		} else if (key_num(line, "spanned", &v, &bad)) {
			z->spanned = (unsigned long)v;
		} else if (key_num(line, "present", &v, &bad)) {
			z->present = (unsigned long)v;
		} else if (key_num(line, "managed", &v, &bad)) {
			z->managed = (unsigned long)v;
		} else if (key_num(line, "start_pfn", &v, &bad)) {
			z->start_pfn = (unsigned long)v;
			z->have_start = 1;
		} else if (key_num(line, "cpu", &v, &bad)) {
			if (v < 0 || v >= ZA_MAX_CPUS) {
				snprintf(err, errlen,
				         "zoneinfo line %u: cpu %ld out of "
				         "range",
				         lineno, v);
				return -1;
			}
			if (add_pcp(z, v)) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
		} else if (z->nr_pcp && key_num(line, "count", &v, &bad)) {
			z->pcp[z->nr_pcp - 1].count = v;
			pcp_field = 1;
		} else if (z->nr_pcp && key_num(line, "batch", &v, &bad)) {
			z->pcp[z->nr_pcp - 1].batch = v;
			pcp_field = 1;
		} else if (z->nr_pcp && key_num(line, "high_min", &v, &bad)) {
			z->pcp[z->nr_pcp - 1].high_min = v;
			pcp_field = 1;
		} else if (z->nr_pcp && key_num(line, "high_max", &v, &bad)) {
			z->pcp[z->nr_pcp - 1].high_max = v;
			pcp_field = 1;
		}
		if (bad) {
			snprintf(err, errlen, "zoneinfo line %u: '%s' %s", lineno, line,
			         bad);
			return -1;
		}
		/* A page set's count, high, batch, high_min and high_max are
		 * ints in the kernel (struct per_cpu_pages): a larger number
		 * (strtol stops at LONG_MAX) is not one it printed. */
		if (pcp_field && v > INT_MAX) {
			snprintf(err, errlen,
			         "zoneinfo line %u: '%s' out of range for a page "
			         "set (0..%d)",
			         lineno, line, INT_MAX);
			return -1;
		}
		if (v < 0) {
			snprintf(err, errlen,
			         "zoneinfo line %u: negative value in "
			         "'%s'",
			         lineno, line);
			return -1;
		}
	}
	return 0;
}

const struct machine_zone *machine_zone(const struct machine *m, int nid,
                                        int type)
{
	unsigned k;

	for (k = 0; k < m->zones.nr; k++)
		if (m->zones.z[k].nid == nid && m->zones.z[k].type == type)
			return &m->zones.z[k];
	return NULL;
}

/* Text after "# KEY: " when line is that, else NULL. */
static const char *hdr_value(const char *line, const char *key)
{
	size_t n = strlen(key);

	if (strncmp(line, "# ", 2) != 0 || strncmp(line + 2, key, n) != 0 ||
	    line[2 + n] != ':')
		return NULL;
	line += 3 + n;
	return *line == ' ' ? line + 1 : line;
}

/* The number of a "# KEY: VALUE" line, which must be a decimal integer
 * (blanks around it) between lo and hi: 0 and *out, or -1 with err
 * naming the key and the text as the file has it (a value past what a
 * long holds is out of range, not the long it would be cut to). */
static int hdr_num(const char *v, const char *key, long lo, long hi, long *out,
                   char *err, size_t errlen)
{
	char text[64], *end;
	long n;

	copy_trim(text, sizeof(text), v, v + strlen(v));
	errno = 0;
	n = strtol(text, &end, 10);
	if (end == text || *end) {
		snprintf(err, errlen, "%s: '%s' is not a number", key, text);
		return -1;
	}
	if (errno == ERANGE || n < lo || n > hi) {
		if (n < 0 && lo >= 0 && errno != ERANGE)
			snprintf(err, errlen, "%s: negative value %s", key, text);
		else
			snprintf(err, errlen, "%s: %s out of range (%ld..%ld)", key, text,
			         lo, hi);
		return -1;
	}
	*out = n;
	return 0;
}

const struct machine_counter *machine_counter(const struct machine *m,
                                              const char *name)
{
	for (unsigned k = 0; k < m->nr_vmstat; k++)
		if (!strcmp(m->vmstat[k].name, name))
			return &m->vmstat[k];
	return NULL;
}

/* A "name value" vmstat line of the header (end: of its end). Lines that
 * are not that, and counters beyond MACHINE_MAX_VMSTAT, are skipped: the
 * counters are shown, nothing is built from them. */
static void add_vmstat(struct machine *m, const char *v, int end)
{
	char name[48];
	const char *sp = strchr(v, ' ');
	char *e;
	unsigned long long val;
	struct machine_counter *c;

	if (!sp || sp == v || (size_t)(sp - v) >= sizeof(name))
		return;
	val = strtoull(sp + 1, &e, 10);
	if (e == sp + 1)
		return;
	memcpy(name, v, (size_t)(sp - v));
	name[sp - v] = '\0';
	c = (struct machine_counter *)machine_counter(m, name);
	if (!c) {
		if (m->nr_vmstat >= MACHINE_MAX_VMSTAT)
			return;
		c = &m->vmstat[m->nr_vmstat++];
		memcpy(c->name, name, sizeof(name));
	}
	if (end) {
		c->end = val;
		c->have_end = 1;
	} else {
		c->start = val;
		c->have_start = 1;
	}
}

/* Append one zoneinfo line to a growing buffer. */
struct buf {
	char *p;
	size_t len, cap;
};

static int buf_add(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->len + n + 2 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16384;
		char *q;
		while (cap < b->len + n + 2)
			cap *= 2;
		q = realloc(b->p, cap);
		if (!q)
			return -1;
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len++] = '\n';
	return 0;
}

/* Everything a replay relies on, checked together. */
static int check_machine(struct machine *m, char *err, size_t errlen)
{
	const struct machine_zones *zs = &m->zones;
	unsigned i, j, k, populated = 0;

	if (m->page_size < 512 || (m->page_size & (m->page_size - 1)) ||
	    m->page_size > (1ul << 30)) {
		snprintf(err, errlen,
		         "page size %lu is not a power of two "
		         "between 512 and 1 GiB",
		         m->page_size);
		return -1;
	}
	if (m->cpus_possible == 0) {
		/* (a value out of range is refused where it is read) */
		snprintf(err, errlen, "no cpus-possible line (the CPU count)");
		return -1;
	}
	for (i = 0; i < zs->nr; i++) {
		const struct machine_zone *a = &zs->z[i];

		if (a->nid + 1 > (int)m->nr_nodes)
			m->nr_nodes = (unsigned)a->nid + 1;
		if (a->present > a->spanned) {
			snprintf(err, errlen,
			         "node %d zone %s: %lu present pages "
			         "in a span of %lu",
			         a->nid, a->name, a->present, a->spanned);
			return -1;
		}
		if (a->managed > a->present) {
			snprintf(err, errlen,
			         "node %d zone %s: %lu managed pages "
			         "of %lu present",
			         a->nid, a->name, a->managed, a->present);
			return -1;
		}
		if (!a->managed)
			continue;
		populated++;
		if (a->type < 0) {
			snprintf(err, errlen,
			         "node %d zone %s has memory, and "
			         "zonealloc has no zone %s",
			         a->nid, a->name, a->name);
			return -1;
		}
		if (!a->have_start) {
			snprintf(err, errlen, "node %d zone %s: no start_pfn", a->nid,
			         a->name);
			return -1;
		}
		if (a->min > a->low || a->low > a->high) {
			snprintf(err, errlen,
			         "node %d zone %s: watermarks out of "
			         "order (min %lu, low %lu, high %lu)",
			         a->nid, a->name, a->min, a->low, a->high);
			return -1;
		}
		if (a->high > a->managed) {
			snprintf(err, errlen,
			         "node %d zone %s: watermark high %lu is "
			         "above its %lu managed pages",
			         a->nid, a->name, a->high, a->managed);
			return -1;
		}
		if (a->start_pfn + a->spanned < a->start_pfn ||
		    a->start_pfn + a->spanned > 0xffffffffull) {
			snprintf(err, errlen,
			         "node %d zone %s: span %#lx + %lu "
			         "pages is past 2^32 page frames",
			         a->nid, a->name, a->start_pfn, a->spanned);
			return -1;
		}
		for (k = 0; k < a->nr_pcp; k++) {
			const struct machine_pcp *c = &a->pcp[k];
			if (c->cpu >= (long)m->cpus_possible) {
				snprintf(err, errlen,
				         "node %d zone %s: a page set of "
				         "CPU %ld, and the header says %u CPUs",
				         a->nid, a->name, c->cpu, m->cpus_possible);
				return -1;
			}
			if (c->batch < 1 && c->batch != -1) {
				snprintf(err, errlen,
				         "node %d zone %s CPU %ld: batch "
				         "%ld",
				         a->nid, a->name, c->cpu, c->batch);
				return -1;
			}
			if (c->high_min > c->high_max && c->high_max != -1) {
				snprintf(err, errlen,
				         "node %d zone %s CPU %ld: high_min "
				         "%ld above high_max %ld",
				         a->nid, a->name, c->cpu, c->high_min, c->high_max);
				return -1;
			}
		}
		for (j = 0; j < i; j++) {
			const struct machine_zone *b = &zs->z[j];
			if (!b->managed)
				continue;
			if (a->start_pfn < b->start_pfn + b->spanned &&
			    b->start_pfn < a->start_pfn + a->spanned) {
				snprintf(err, errlen,
				         "node %d zone %s (pfn %#lx-%#lx) "
				         "overlaps node %d zone %s (pfn %#lx-%#lx)",
				         a->nid, a->name, a->start_pfn,
				         a->start_pfn + a->spanned - 1, b->nid, b->name,
				         b->start_pfn, b->start_pfn + b->spanned - 1);
				return -1;
			}
			if (a->nid == b->nid && a->type == b->type) {
				snprintf(err, errlen, "node %d zone %s is listed twice",
				         a->nid, a->name);
				return -1;
			}
		}
	}
	if (!populated) {
		snprintf(err, errlen,
		         "the zoneinfo in it has no zone with "
		         "managed pages");
		return -1;
	}
	return 0;
}

int machine_parse_header(const char *text, size_t len, struct machine *m,
                         char *err, size_t errlen)
{
	const char *p = text, *end = text + len;
	struct buf zi = { 0 }, ezi = { 0 };
	int in_header = 0, header_done = 0, rc = -1;
	char line[4200], zerr[256];
	const char *v;

	memset(m, 0, sizeof(*m));
	m->min_free_kbytes = m->watermark_scale_factor = -1;
	m->percpu_pagelist_high_fraction = m->watermark_boost_factor = -1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t n = (size_t)(le - p);

		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl ? nl + 1 : end;

		if ((v = hdr_value(line, "zonealloc-trace"))) {
			if (in_header || header_done) {
				snprintf(err, errlen, "two zonealloc headers");
				goto out;
			}
			long f;
			if (hdr_num(v, "zonealloc-trace", 0, INT_MAX, &f, err, errlen))
				goto out;
			if (f != MACHINE_FORMAT) {
				snprintf(err, errlen,
				         "header format '%s' is not one this "
				         "zonealloc reads (%d)",
				         v, MACHINE_FORMAT);
				goto out;
			}
			m->format = (int)f;
			in_header = 1;
			continue;
		}
		if ((v = hdr_value(line, "zonealloc-trace-end"))) {
			unsigned long long a = 0, b = 0;
			const char *s;
			m->have_end = 1;
			if ((s = strstr(v, "lines=")))
				a = strtoull(s + 6, NULL, 10);
			if ((s = strstr(v, "lost=")))
				b = strtoull(s + 5, NULL, 10);
			if ((s = strstr(v, "seconds=")))
				m->end_seconds = strtod(s + 8, NULL);
			if ((s = strstr(v, "stop=")))
				copy_trim(m->end_stop, sizeof(m->end_stop), s + 5,
				          s + 5 + strcspn(s + 5, " "));
			m->end_lines = a;
			m->end_lost = b;
			continue;
		}
		if ((v = hdr_value(line, "end-zoneinfo"))) {
			if (buf_add(&ezi, v))
				goto nomem;
			continue;
		}
		if ((v = hdr_value(line, "end-vmstat"))) {
			add_vmstat(m, v, 1);
			continue;
		}
		if ((v = hdr_value(line, "pcp-peak"))) {
			if (parse_peak_line(m, v, err, errlen))
				goto out;
			continue;
		}
		if ((v = hdr_value(line, "pcp-peak-samples"))) {
			unsigned looks = 0, ms = 0;
			if (sscanf(v, "%u every %u ms", &looks, &ms) != 2) {
				snprintf(err, errlen,
				         "a pcp-peak-samples line that cannot be "
				         "read: '%s'",
				         v);
				goto out;
			}
			m->peak_samples = looks;
			m->peak_interval_ms = ms;
			continue;
		}
		if (!in_header)
			continue;
		if (!strcmp(line, "# header-end")) {
			in_header = 0;
			header_done = 1;
		} else if ((v = hdr_value(line, "zoneinfo"))) {
			if (buf_add(&zi, v))
				goto nomem;
		} else if ((v = hdr_value(line, "vmstat"))) {
			add_vmstat(m, v, 0);
		} else if ((v = hdr_value(line, "kernel"))) {
			copy_trim(m->kernel, sizeof(m->kernel), v, v + strlen(v));
		} else if ((v = hdr_value(line, "kernel-build"))) {
			copy_trim(m->kernel_build, sizeof(m->kernel_build), v,
			          v + strlen(v));
		} else if ((v = hdr_value(line, "arch"))) {
			copy_trim(m->arch, sizeof(m->arch), v, v + strlen(v));
		} else if ((v = hdr_value(line, "page-size"))) {
			long ps;
			if (hdr_num(v, "page-size", 512, 1l << 30, &ps, err, errlen))
				goto out;
			m->page_size = (unsigned long)ps;
		} else if ((v = hdr_value(line, "cpus-possible"))) {
			long c;
			if (hdr_num(v, "cpus-possible", 1, ZA_MAX_CPUS, &c, err, errlen))
				goto out;
			m->cpus_possible = (unsigned)c;
		} else if ((v = hdr_value(line, "cpus-online"))) {
			long c;
			if (hdr_num(v, "cpus-online", 1, ZA_MAX_CPUS, &c, err, errlen))
				goto out;
			m->cpus_online = (unsigned)c;
		} else if ((v = hdr_value(line, "vm.min_free_kbytes"))) {
			/* these are ints in the kernel, never negative */
			if (hdr_num(v, "vm.min_free_kbytes", 0, INT_MAX,
			            &m->min_free_kbytes, err, errlen))
				goto out;
		} else if ((v = hdr_value(line, "vm.watermark_scale_factor"))) {
			if (hdr_num(v, "vm.watermark_scale_factor", 0, INT_MAX,
			            &m->watermark_scale_factor, err, errlen))
				goto out;
		} else if ((v = hdr_value(line, "vm.watermark_boost_factor"))) {
			if (hdr_num(v, "vm.watermark_boost_factor", 0, INT_MAX,
			            &m->watermark_boost_factor, err, errlen))
				goto out;
		} else if ((v = hdr_value(line, "vm.percpu_pagelist_high_fraction"))) {
			if (hdr_num(v, "vm.percpu_pagelist_high_fraction", 0, INT_MAX,
			            &m->percpu_pagelist_high_fraction, err, errlen))
				goto out;
		} else if ((v = hdr_value(line, "vm.lowmem_reserve_ratio"))) {
			copy_trim(m->lowmem_reserve_ratio, sizeof(m->lowmem_reserve_ratio),
			          v, v + strlen(v));
		} else if ((v = hdr_value(line, "command"))) {
			copy_trim(m->command, sizeof(m->command), v, v + strlen(v));
		} else if ((v = hdr_value(line, "started"))) {
			copy_trim(m->started, sizeof(m->started), v, v + strlen(v));
		}
	}
	if (!m->format) {
		rc = 0; /* not a recording */
		goto out;
	}
	if (!header_done) {
		snprintf(err, errlen,
		         "the header has no '# header-end' line: "
		         "a truncated recording");
		goto out;
	}
	if (!zi.len) {
		snprintf(err, errlen, "the header holds no zoneinfo");
		goto out;
	}
	if (machine_parse_zoneinfo(zi.p, zi.len, &m->zones, zerr, sizeof(zerr))) {
		snprintf(err, errlen, "header %s", zerr);
		goto out;
	}
	if (ezi.len && machine_parse_zoneinfo(ezi.p, ezi.len, &m->end_zones, zerr,
	                                      sizeof(zerr))) {
		snprintf(err, errlen, "end-of-recording %s", zerr);
		goto out;
	}
	if (check_machine(m, err, errlen))
		goto out;
	rc = 1;
	goto out;
nomem:
	snprintf(err, errlen, "out of memory reading the header");
out:
	free(zi.p);
	free(ezi.p);
	if (rc < 0)
		machine_free(m);
	return rc;
}
