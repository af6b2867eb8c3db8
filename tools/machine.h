/*
 * machine.h - the header `zonealloc record` writes at the top of a trace,
 * and its reading back: what a faithful replay needs to know about the
 * recorded machine (its /proc/zoneinfo: zones, spans, watermarks, per-CPU
 * list high and batch; page size, CPU count, kernel version and the vm
 * sysctls that size watermarks and per-CPU lists).
 *
 * The header is ftrace-comment text, so every other reader of ftrace text
 * (and a replayer that knows nothing of it) skips it:
 *
 *   # zonealloc-trace: 1
 *   # kernel: 6.18.44 ...            (KEY: VALUE lines, see machine.c)
 *   # zoneinfo: Node 0, zone      DMA   (the file, one line per line)
 *   # vmstat: compact_stall 12        (/proc/vmstat's compact_*, thp_*,
 *                                      pgmigrate_* lines; recordings
 *                                      made since they were added)
 *   # header-end
 *   ...the events...
 *   # zonealloc-trace-end: lines=N lost=M seconds=S stop=REASON
 *   # end-zoneinfo: ...               (/proc/zoneinfo when it stopped)
 *   # end-vmstat: compact_stall 15    (the same lines when it stopped)
 *   # pcp-peak-samples: 183 every 100 ms
 *   # pcp-peak: Node 0, zone Normal, cpu 0, count 34065, high 40127
 *                                     (the most pages each kernel list
 *                                      held, and its highest high, over
 *                                      record's looks at zoneinfo during
 *                                      the recording; recordings made
 *                                      since they were added)
 *
 * A recording without its end line was cut short: replay refuses it.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ZA_TOOLS_MACHINE_H
#define ZA_TOOLS_MACHINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "zonealloc.h"

#define MACHINE_FORMAT 1
#define MACHINE_MAX_ZONES (ZA_MAX_NODES * 6)
#define MACHINE_MAX_VMSTAT 128 /* kernel counters kept from the header */

/* One CPU's page set of a zone, as zoneinfo prints it (-1: not printed). */
struct machine_pcp {
	long cpu, count, high, batch, high_min, high_max;
};

struct machine_zone {
	int nid;
	char name[16]; /* "DMA", "Normal", "Device"... */
	int type;      /* enum za_zone_type, -1 for zones zonealloc
	                         * has no equivalent of (Device, HighMem) */
	unsigned long start_pfn, spanned, present, managed, free;
	unsigned long min, low, high;
	int have_start; /* start_pfn was printed (populated zones) */
	struct machine_pcp *pcp;
	unsigned nr_pcp;
};

/* A /proc/vmstat counter of the recorded machine at the start and the
 * end of the recording. */
struct machine_counter {
	char name[48];
	unsigned long long start, end;
	int have_start, have_end;
};

struct machine_zones {
	struct machine_zone z[MACHINE_MAX_ZONES];
	unsigned nr;
};

struct machine {
	int format;
	char kernel[128];       /* uname -r */
	char kernel_build[192]; /* uname -v */
	char arch[32];
	unsigned long page_size;
	unsigned cpus_possible, cpus_online;
	long min_free_kbytes, watermark_scale_factor; /* -1: not recorded */
	long percpu_pagelist_high_fraction, watermark_boost_factor;
	char lowmem_reserve_ratio[96];
	char command[256];
	char started[64];
	struct machine_zones zones; /* at the start of the recording */
	unsigned nr_nodes;
	/* the end line */
	int have_end;
	uint64_t end_lines, end_lost;
	double end_seconds;
	char end_stop[64];
	struct machine_zones end_zones; /* may be empty */
	/* The most pages each kernel list held (count) and the highest high
	 * it had, over record's looks at zoneinfo while it recorded (the
	 * start and the end among them): lower bounds of the true peaks,
	 * which fall between looks. Empty when the recording has none. */
	struct machine_zones peak_zones;
	unsigned peak_samples, peak_interval_ms;
	/* the kernel's compact_*, thp_*, pgmigrate_* counters, in the
	 * order of the header (none in older recordings) */
	struct machine_counter vmstat[MACHINE_MAX_VMSTAT];
	unsigned nr_vmstat;
};

/*
 * Parse /proc/zoneinfo text (len bytes). Returns 0, or -1 with the reason
 * in err (a line that says something impossible, too many zones, out of
 * memory). Zones without a "start_pfn:" line keep have_start 0.
 */
int machine_parse_zoneinfo(const char *text, size_t len,
                           struct machine_zones *out, char *err,
                           size_t errlen);

/*
 * Parse a header (the comment lines a trace_load() collected, "# " and
 * all, one per line). Returns 1 and fills *m when the text is a zonealloc
 * recording's header; 0 when there is none (m zeroed); -1 with the
 * problem in err when the header is there but cannot be true: spans that
 * overlap, watermarks above a zone's managed pages, more managed than
 * present pages, no zone, a page size that is not a power of two, a
 * header without its "# header-end", an unknown format, a CPU count
 * outside 1..ZA_MAX_CPUS, a vm sysctl that is negative or past an int, a
 * zoneinfo figure that is not a whole decimal number or past a long, a
 * page set's count, high, batch, high_min or high_max past an int (the
 * kernel's types): err names the field and the value as the file has it.
 */
int machine_parse_header(const char *text, size_t len, struct machine *m,
                         char *err, size_t errlen);

/*
 * Fold sample into peak: each list's count and high in peak become the
 * larger of the two (zones and lists that peak does not have yet are
 * added, matched by node, zone name and CPU). 0, or -1 when out of memory
 * (peak then holds what was folded so far).
 */
int machine_zones_max(struct machine_zones *peak,
                      const struct machine_zones *sample);

/* The zone of *m that zonealloc calls (nid, type), or NULL. */
const struct machine_zone *machine_zone(const struct machine *m, int nid,
                                        int type);

/* The recorded kernel counter called name, or NULL. */
const struct machine_counter *machine_counter(const struct machine *m,
                                              const char *name);

void machine_free(struct machine *m);
void machine_zones_free(struct machine_zones *z);

#endif
