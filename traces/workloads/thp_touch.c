/*
 * thp_touch.c - a workload heavy in transparent huge pages, for recording
 * traces with `zonealloc record` (traces/thp-madvise.md).
 *
 * One thread per CPU (pinned; default 2) loops for --seconds: map a region
 * (default 128 MiB, 2 MiB-aligned), madvise(MADV_HUGEPAGE) it, touch one
 * byte in every 4 KiB page (each first touch of a 2 MiB range faults in a
 * huge page: an order-9 allocation), then give it back. Every other round
 * first unmaps the second half of every 2 MiB range, which splits the huge
 * pages and frees their tails page by page, then unmaps the rest; the
 * others unmap the region whole, which frees whole huge pages.
 *
 * Build: cc -O2 -pthread -o thp_touch thp_touch.c
 * Run:   ./thp_touch [--threads N] [--mib M] [--seconds S]
 * THP must be "madvise" or "always" in
 * /sys/kernel/mm/transparent_hugepage/enabled.
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define HUGE (2ul << 20)

static unsigned long region_mib = 128;
static double seconds = 5.0;

struct worker {
	unsigned cpu;
	unsigned long rounds, faults;
	pthread_t th;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A 2 MiB-aligned anonymous region of len bytes, or NULL. */
static char *map_aligned(size_t len)
{
	char *p = mmap(NULL, len + HUGE, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *a;

	if (p == MAP_FAILED)
		return NULL;
	a = (char *)(((uintptr_t)p + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	munmap(a + len, (size_t)(p + len + HUGE - (a + len)));
	return a;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	size_t len = region_mib << 20;
	double end = now() + seconds;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	sched_setaffinity(0, sizeof(set), &set); /* best effort */
	while (now() < end) {
		char *p = map_aligned(len);
		size_t off;

		if (!p) {
			perror("mmap");
			break;
		}
		if (madvise(p, len, MADV_HUGEPAGE))
			perror("madvise(MADV_HUGEPAGE)");
		for (off = 0; off < len; off += 4096)
			p[off] = (char)(off >> 12);
		w->faults += len / HUGE;
		if (w->rounds & 1)
			for (off = 0; off < len; off += HUGE)
				munmap(p + off + HUGE / 2, HUGE / 2);
		for (off = 0; off < len; off += HUGE)
			munmap(p + off, (w->rounds & 1) ? HUGE / 2 : HUGE);
		w->rounds++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned threads = 2, t;
	struct worker *w;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			threads = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--mib") && i + 1 < argc)
			region_mib = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = strtod(argv[++i], NULL);
		else {
			fprintf(stderr, "usage: %s [--threads N] [--mib M] "
			        "[--seconds S]\n", argv[0]);
			return 2;
		}
	}
	if (!threads || !region_mib || region_mib % 2 || !(seconds > 0)) {
		fprintf(stderr, "%s: threads and seconds above 0, an even --mib\n",
		        argv[0]);
		return 2;
	}
	w = calloc(threads, sizeof(*w));
	if (!w)
		return 1;
	for (t = 0; t < threads; t++) {
		w[t].cpu = t % (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
		if (pthread_create(&w[t].th, NULL, run, &w[t])) {
			fprintf(stderr, "%s: cannot start a thread\n", argv[0]);
			return 1;
		}
	}
	for (t = 0; t < threads; t++) {
		pthread_join(w[t].th, NULL);
		printf("thread %u (CPU %u): %lu rounds, %lu huge-page ranges "
		       "touched\n", t, w[t].cpu, w[t].rounds, w[t].faults);
	}
	free(w);
	return 0;
}
