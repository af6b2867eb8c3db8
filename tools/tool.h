/*
 * tool.h - what the parts of the `zonealloc` command share: the
 * subcommand entry points, option-parsing helpers that report errors the
 * same way everywhere, the topology options (nodes, memory, zones, CPUs)
 * and the code that turns them into a live allocator, and the simulated
 * CPUs that let a program with two cores drive a many-CPU allocator.
 *
 * Exit codes of every subcommand: 0 all held, 1 a run failed (broken
 * invariant, verify error, lost page, library error, output that could
 * not be written), 2 a usage error, 130 a stress run stopped by SIGINT.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef ZA_TOOL_H
#define ZA_TOOL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "zonealloc.h"

#define TOOL_NAME "zonealloc"
/* "0.1.0": the library's version (zonealloc_version.h, from CMake's
 * project version), which the tool shares. */
#define TOOL_STR_(x) #x
#define TOOL_STR(x) TOOL_STR_(x)
#define TOOL_VERSION                                                          \
	TOOL_STR(ZA_VERSION_MAJOR)                                                \
	"." TOOL_STR(ZA_VERSION_MINOR) "." TOOL_STR(ZA_VERSION_PATCH)
#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_INTERRUPTED 130 /* stress stopped by SIGINT, checks held */

/* Subcommands: argv[0] is the subcommand's name; each returns an exit
 * code. cmd_replay lives in replay.c (trace replay). */
int cmd_info(int argc, char **argv);
int cmd_stress(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_record(int argc, char **argv); /* record.c */

/* ---- messages and option parsing (options.c) ---- */

/* "zonealloc CMD: message" on stderr. */
void tool_err(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A usage error: the message, then a hint to run --help. Returns
 * EXIT_USAGE so callers can `return tool_usage_err(...)`. */
int tool_usage_err(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Matches argv[*i] against the option `name` ("--mem"), in either the
 * form "--mem 1G" or "--mem=1G". Returns 1 and sets *val (advancing *i
 * past a separate value word) on a match, 0 when argv[*i] is another
 * option, -1 after printing an error when the value is missing. */
int opt_value(const char *cmd, int argc, char **argv, int *i, const char *name,
              const char **val);
/* 1 when the argv word a names the option `name`, alone ("--mem") or
 * with its value ("--mem=1G"), without taking anything: which options
 * a command line gave. */
int opt_is(const char *a, const char *name);
/* 1 when argv[i] is exactly the flag `name`; a flag given a value
 * ("--json=1") is an error (-1, message printed). */
int opt_flag(const char *cmd, char **argv, int i, const char *name);

/*
 * One option stored in one step, for a parse loop that tries each option
 * of a command in turn:
 *
 *	if ((r = opt_uint(cmd, argc, argv, &i, "--jobs", 1, 64, &o->jobs)) ||
 *	    (r = opt_value(cmd, argc, argv, &i, "--rank", &o->rank)) ||
 *	    (r = opt_set(cmd, argv, i, "--json", &o->json, 1))) {
 *		if (r < 0)
 *			return EXIT_USAGE;
 *		continue;
 *	}
 *
 * Each returns 1 when argv[*i] was the option and its value is stored, 0
 * when it is another option (nothing stored), -1 after a usage message.
 * opt_uint and opt_ull take the value as parse_uint and parse_ull do (the
 * option's name in their messages); opt_set stores `value` for a flag.
 */
int opt_uint(const char *cmd, int argc, char **argv, int *i, const char *name,
             unsigned min, unsigned max, unsigned *out);
int opt_ull(const char *cmd, int argc, char **argv, int *i, const char *name,
            unsigned long long min, unsigned long long max,
            unsigned long long *out);
int opt_set(const char *cmd, char **argv, int i, const char *name, int *field,
            int value);
/* One word of an option that takes a word out of a list. */
struct opt_word {
	const char *word;
	int value;
};
/* The option takes one of words[] (ended by a NULL word) and stores its
 * value. Another word is a usage error whose message is `bad`, a printf
 * format with one %s, the word given. */
int opt_choice(const char *cmd, int argc, char **argv, int *i,
               const char *name, const struct opt_word *words, int *out,
               const char *bad);

/* Number parsers: print "invalid value for OPT" and return -1 on error. */
int parse_ull(const char *cmd, const char *opt, const char *s,
              unsigned long long min, unsigned long long max,
              unsigned long long *out);
int parse_uint(const char *cmd, const char *opt, const char *s, unsigned min,
               unsigned max, unsigned *out);
/* Sizes: a number with an optional K, M, G or T suffix (powers of 1024),
 * optionally followed by "B" or "iB". */
int parse_size(const char *cmd, const char *opt, const char *s,
               unsigned long long *out);
/* "256 MiB", "1 GiB", "12 KiB": for messages and tables. */
const char *fmt_size(unsigned long long bytes, char *buf, size_t len);

/* ---- topology (topo.c) ---- */

#define TOPO_MAX_RANGES (ZA_MAX_NODES * ZA_NR_ZONES)
#define TOPO_ZONE_BIT(z) (1u << (z))
#define TOPO_MAX_SYSCTL 32

/* What the user asked for; topo_opts_init gives the defaults. */
struct topo_opts {
	unsigned nodes;         /* --nodes, 1 */
	unsigned long long mem; /* --mem, bytes per node, 1 GiB */
	unsigned cpus;          /* --cpus, max(4, nproc) */
	unsigned zones_mask;    /* --zones, TOPO_ZONE_BIT()s */
	int zones_given;
	unsigned long long movable; /* --movable, bytes per node, 0 */
	int movable_given;
	unsigned long long block;      /* --block, bytes, 16 MiB */
	unsigned page_shift;           /* --page-shift, 12 */
	unsigned max_order;            /* --max-order, 0 = fitted to block */
	int frames_only;               /* --frames-only */
	int hugepages;                 /* --hugepages (examples/hugemem.h) */
	unsigned long min_free_kbytes; /* --min-free-kbytes, 0 = library's */
	/* --no-pcp, --no-kswapd, --page-owner, --poison, --init-on-alloc:
	 * ZA_CFG_* */
	unsigned cfg_flags;
	/* --sysctl NAME=VALUE, in order; checked when parsed, applied by
	 * topo_build once the memory is online. */
	const char *sysctl[TOPO_MAX_SYSCTL];
	unsigned nr_sysctl;
};

/* One contiguous run of pfns of one zone of one node, onlined by one
 * za_memory_online call. */
struct topo_range {
	int nid;
	enum za_zone_type zone;
	unsigned long start_pfn, nr_pages;
};

/* A built topology: the allocator and the memory behind it. */
struct topo {
	struct topo_opts o;
	struct za *za;
	unsigned long node_pages;  /* pages per node */
	unsigned long node_stride; /* pfn distance between node starts */
	unsigned long block_pages;
	unsigned long max_pfn;
	size_t page_size;
	void *base[ZA_MAX_NODES]; /* node memory; NULL with --frames-only */
	/* With --hugepages: each node's mapping (what to unmap) and the
	 * backing it got. */
	struct topo_huge {
		void *map;
		size_t map_len;
		int kind;       /* enum hugemem_kind */
		char desc[224]; /* hugemem_describe's line */
	} huge[ZA_MAX_NODES];
	struct topo_range range[TOPO_MAX_RANGES];
	unsigned nr_ranges;
};

void topo_opts_init(struct topo_opts *o);
/* Tries argv[*i] as a topology option: 1 consumed (and *i advanced past
 * its value), 0 not a topology option, -1 bad value (message printed). */
int topo_parse(struct topo_opts *o, const char *cmd, int argc, char **argv,
               int *i);
/* A tiny allocator (one CPU, 1024 frames, no background threads) made to
 * try a tunable's value with the library's own rules before the real
 * allocator exists. NULL with errno set; za_destroy it. */
struct za *topo_scratch_za(void);
/* The topology options for a subcommand's --help. */
void topo_usage(FILE *f, const char *mem_default);
/* Checks the options together and lays out the zones (fills node_pages,
 * ranges, ...) without creating anything. 0 or -1 (message printed). */
int topo_plan(struct topo *t, const struct topo_opts *o, const char *cmd);
/* Creates the allocator from a planned topology, brings its memory
 * online and applies the --sysctl settings. cfg carries what the caller wants besides topology (migrate
 * callback, error handler, timeouts); it may be NULL. The simulated-CPU
 * callback is installed unless cfg already sets cpu_id. 0, or -1 with
 * the reason printed (everything created is released again). */
int topo_build(struct topo *t, const struct za_config *cfg, const char *cmd);
/* za_destroy and unmap the memory. */
void topo_destroy(struct topo *t);
/* The address of pfn in the backing memory, NULL for frames-only. */
void *topo_pfn_address(const struct topo *t, int nid, unsigned long pfn);
/* Short names: "DMA", "DMA32", "Normal", "Movable". */
const char *topo_zone_name(enum za_zone_type z);
/* Prints the layout ("# node 0 DMA pfn ... ") as comment lines. */
void topo_describe(const struct topo *t, FILE *f);
void topo_describe_backing(const struct topo *t, FILE *f);
/* The huge pages node 0 got with --hugepages, as the JSON summaries say
 * it: "hugetlb", "thp", "base" (none came) or "off" (not asked for). */
const char *topo_backing_name(const struct topo *t);
/* Online CPUs of the machine running the tool (at least 1; options.c). */
unsigned tool_nproc(void);

/* ---- simulated CPUs (simcpu.c) ----
 *
 * The allocator asks "which CPU am I on?" through za_config.cpu_id. The
 * tool answers from a thread-local variable, so each thread can pretend to
 * run on any of many CPUs and move between them; several threads on one
 * simulated CPU, and a thread moving right after the question, are the
 * preemption and migration cases the allocator must survive. The tool's
 * own view of which CPUs are online (simcpu_set_online) is what threads
 * hop between: it goes down before za_cpu_offline, as the scheduler
 * moves tasks off a CPU before the allocator's offline callback runs. */
void simcpu_init(unsigned nr_cpus);
int simcpu_cpu_id(void *ctx); /* the za_config.cpu_id callback */
/* Enter a thread into the simulation on `cpu`, with its own random
 * stream; `jitter` = 1 in how many cpu_id calls moves the thread right
 * after answering (0: never). */
void simcpu_thread_start(unsigned cpu, uint64_t seed, unsigned jitter);
int simcpu_current(void); /* -1 outside the simulation */
void simcpu_move(unsigned cpu);
/* Moves the calling thread to a random online CPU; returns it. */
unsigned simcpu_hop(void);
/* 1 when the calling thread's CPU went offline (it should hop). */
int simcpu_stranded(void);
void simcpu_set_online(unsigned cpu, int online);
int simcpu_is_online(unsigned cpu);
unsigned simcpu_nr_online(void);

/* ---- small shared helpers ---- */

/* splitmix64: seeds the per-thread streams and derives fill patterns. */
static inline uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* xorshift64*: one stream per thread, never shared. */
static inline uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Uniform-enough value in [0, n). */
static inline unsigned rng_below(uint64_t *s, unsigned n)
{
	return n ? (unsigned)(((rng_next(s) >> 32) * (uint64_t)n) >> 32) : 0;
}

double now_seconds(void); /* CLOCK_MONOTONIC (options.c) */

#endif /* ZA_TOOL_H */
