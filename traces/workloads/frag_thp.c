/*
 * frag_thp.c - transparent huge pages on fragmented memory, for recording
 * a trace in which the kernel compacts (traces/thp-compact.md).
 *
 * Two commands, run one after the other:
 *
 *   ./frag_thp fragment [--leave-mib M] [--keep K] [--max-mib X]
 *       Fragments memory and holds it: maps anonymous memory without huge
 *       pages (MADV_NOHUGEPAGE) and touches every 4 KiB page, in 64 MiB
 *       steps, until MemAvailable is down to M MiB (default 3072) or X MiB
 *       are mapped (default: no limit); then gives back all but one page
 *       of every K (default 4; MADV_DONTNEED), so that the free memory it
 *       leaves is single pages scattered over everything it touched, with
 *       one in-use movable page in every K. Prints "ready" and holds the
 *       rest until it is killed or its standard input closes.
 *
 *   ./frag_thp thp [--mib M] [--threads N] [--hold S]
 *       Maps M MiB (default 5120) split between N threads (default 2, one
 *       per CPU, pinned), madvise(MADV_HUGEPAGE), touches every 4 KiB page
 *       (each first touch of a 2 MiB range faults in a huge page: an
 *       order-9 allocation that, once the free order-9 blocks are used up,
 *       the kernel gets by compacting), holds it S seconds (default 1) and
 *       unmaps it. Prints how many 2 MiB ranges ended up huge.
 *
 * Build: cc -O2 -pthread -o frag_thp frag_thp.c
 * THP must be "madvise" or "always", and defrag "madvise" (or "always")
 * for the faults to compact directly.
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define HUGE (2ul << 20)
#define PAGE 4096ul
#define STEP (64ul << 20)

static long mem_available_mib(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb / 1024;
}

static unsigned long arg_ul(int argc, char **argv, const char *name,
                            unsigned long def)
{
	for (int i = 2; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			return strtoul(argv[i + 1], NULL, 10);
	return def;
}

static int fragment(int argc, char **argv)
{
	long leave = (long)arg_ul(argc, argv, "--leave-mib", 3072);
	unsigned long keep = arg_ul(argc, argv, "--keep", 4);
	unsigned long max = arg_ul(argc, argv, "--max-mib", 0);
	char **steps = NULL;
	size_t n = 0, cap = 0;

	if (keep < 2) {
		fprintf(stderr, "frag_thp: --keep must be at least 2\n");
		return 2;
	}
	for (;;) {
		long avail = mem_available_mib();
		if (avail < 0 || avail <= leave)
			break;
		if (max && (n + 1) * (STEP >> 20) > max)
			break;
		char *p = mmap(NULL, STEP, PROT_READ | PROT_WRITE,
		               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			break;
		madvise(p, STEP, MADV_NOHUGEPAGE);
		for (unsigned long o = 0; o < STEP; o += PAGE)
			p[o] = 1;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			steps = realloc(steps, cap * sizeof(*steps));
			if (!steps)
				return 1;
		}
		steps[n++] = p;
	}
	/* Give back all but one page of every `keep`. */
	for (size_t i = 0; i < n; i++)
		for (unsigned long o = 0; o < STEP; o += keep * PAGE)
			madvise(steps[i] + o + PAGE, (keep - 1) * PAGE, MADV_DONTNEED);
	printf("ready: %zu MiB touched, %zu MiB held, MemAvailable %ld MiB\n",
	       n * (STEP >> 20), n * (STEP >> 20) / keep, mem_available_mib());
	fflush(stdout);
	/* Hold until killed or stdin closes. */
	struct pollfd pfd = { .fd = 0, .events = POLLIN };
	char c;
	while (poll(&pfd, 1, -1) >= 0 && read(0, &c, 1) > 0)
		;
	return 0;
}

struct worker {
	unsigned cpu;
	size_t len;
	char *p;
	unsigned long huge;
	pthread_t th;
};

static void *thp_main(void *arg)
{
	struct worker *w = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	char *m = mmap(NULL, w->len + HUGE, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	w->p = (char *)(((uintptr_t)m + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
	madvise(w->p, w->len, MADV_HUGEPAGE);
	for (size_t o = 0; o < w->len; o += PAGE)
		w->p[o] = 1;
	/* How much became huge: AnonHugePages, read by the main thread. */
	return NULL;
}

static long anon_huge_mib(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb / 1024;
}

static int thp(int argc, char **argv)
{
	unsigned long mib = arg_ul(argc, argv, "--mib", 5120);
	unsigned long nth = arg_ul(argc, argv, "--threads", 2);
	unsigned long hold = arg_ul(argc, argv, "--hold", 1);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct worker *w = calloc(nth, sizeof(*w));

	if (!w || !nth)
		return 1;
	for (unsigned long t = 0; t < nth; t++) {
		w[t].cpu = (unsigned)(t % (unsigned long)(ncpu > 0 ? ncpu : 1));
		w[t].len = (mib / nth) << 20 & ~(HUGE - 1);
		pthread_create(&w[t].th, NULL, thp_main, &w[t]);
	}
	for (unsigned long t = 0; t < nth; t++)
		pthread_join(w[t].th, NULL);
	printf("thp: %lu MiB touched, %ld MiB in huge pages\n", mib,
	       anon_huge_mib());
	fflush(stdout);
	sleep((unsigned)hold);
	for (unsigned long t = 0; t < nth; t++)
		if (w[t].p)
			munmap(w[t].p, w[t].len);
	free(w);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "fragment"))
		return fragment(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "thp"))
		return thp(argc, argv);
	fprintf(stderr, "usage: frag_thp fragment [--leave-mib M] [--keep K] "
	        "[--max-mib X]\n       frag_thp thp [--mib M] [--threads N] "
	        "[--hold S]\n");
	return 2;
}
