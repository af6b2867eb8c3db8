/*
 * alloc_peer.c - the malloc back end of the benchmark (glibc, jemalloc,
 * tcmalloc, mimalloc): the same workloads call aligned_alloc / free.
 *
 * One binary per peer, linked against that peer's library so that it
 * really replaces malloc. At start the binary checks which allocator
 * actually answers: it resolves aligned_alloc, free and malloc the way the
 * program's own calls resolve them (RTLD_DEFAULT), asks dladdr() which
 * shared object defines them, and asks the peer for its version through
 * its own entry point (mallctl("version"), tc_version, mi_version). If
 * the expected allocator is not the one answering, it says so and the
 * binary exits non-zero.
 *
 * BENCH_PEER is the expected name: "glibc", "jemalloc", "tcmalloc" or
 * "mimalloc".
 *
 * SPDX-License-Identifier: MIT
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_alloc.h"

#ifndef BENCH_PEER
#error "BENCH_PEER must name the expected allocator"
#endif

static char version[160];

unsigned ba_nr_variants(void)
{
	return 1;
}

const char *ba_variant_name(unsigned v)
{
	(void)v;
	return BENCH_PEER;
}

const char *ba_version(void)
{
	return version;
}

/* The part of a shared object's file name that identifies each peer. */
static const char *peer_soname(const char *peer)
{
	if (!strcmp(peer, "glibc"))
		return "libc.so";
	if (!strcmp(peer, "jemalloc"))
		return "libjemalloc";
	if (!strcmp(peer, "tcmalloc"))
		return "libtcmalloc";
	if (!strcmp(peer, "mimalloc"))
		return "libmimalloc";
	return "?";
}

/* Which shared object defines sym for this program (NULL if unknown). */
static const char *defining_object(const char *sym)
{
	void *addr = dlsym(RTLD_DEFAULT, sym);
	Dl_info info;

	if (!addr || !dladdr(addr, &info) || !info.dli_fname)
		return NULL;
	return info.dli_fname;
}

/* Ask the allocator for its version through its own API, if present. */
static void peer_version(void)
{
	void *fn;

	snprintf(version, sizeof(version), "%s", BENCH_PEER);
	if ((fn = dlsym(RTLD_DEFAULT, "mallctl"))) {
		int (*mallctl)(const char *, void *, size_t *, void *,
		               size_t) = (int (*)(const char *, void *, size_t *,
		                                  void *, size_t))fn;
		const char *v = NULL;
		size_t len = sizeof(v);

		if (!mallctl("version", &v, &len, NULL, 0) && v)
			snprintf(version, sizeof(version), "jemalloc %s", v);
	} else if ((fn = dlsym(RTLD_DEFAULT, "tc_version"))) {
		const char *(*tc_version)(int *, int *, const char **) =
		    (const char *(*)(int *, int *, const char **))fn;
		int maj = 0, min = 0;
		const char *patch = NULL;
		const char *s = tc_version(&maj, &min, &patch);

		snprintf(version, sizeof(version), "%s", s ? s : "tcmalloc");
	} else if ((fn = dlsym(RTLD_DEFAULT, "mi_version"))) {
		int (*mi_version)(void) = (int (*)(void))fn;
		int v = mi_version();

		snprintf(version, sizeof(version), "mimalloc %d.%d.%d", v / 100,
		         (v / 10) % 10, v % 10);
	} else {
		void *gv = dlsym(RTLD_DEFAULT, "gnu_get_libc_version");

		if (gv)
			snprintf(version, sizeof(version), "glibc %s",
			         ((const char *(*)(void))gv)());
	}
}

int ba_check_active(FILE *out)
{
	static const char *const syms[] = { "aligned_alloc", "free", "malloc" };
	const char *want = peer_soname(BENCH_PEER);
	int ok = 1;

	peer_version();
	for (unsigned i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		const char *obj = defining_object(syms[i]);

		if (!obj || !strstr(obj, want)) {
			fprintf(out,
			        "allocator check: %s comes from %s, expected %s "
			        "(%s)\n",
			        syms[i], obj ? obj : "(unknown)", want, BENCH_PEER);
			ok = 0;
		}
	}
	/* The other peers' entry points must be absent for glibc. */
	if (!strcmp(BENCH_PEER, "glibc") &&
	    (dlsym(RTLD_DEFAULT, "mallctl") || dlsym(RTLD_DEFAULT, "tc_version") ||
	     dlsym(RTLD_DEFAULT, "mi_version"))) {
		fprintf(out, "allocator check: another malloc is loaded\n");
		ok = 0;
	}
	/* And the call itself must behave: page-aligned, usable. */
	void *p = aligned_alloc(BENCH_PAGE_SIZE, BENCH_PAGE_SIZE);
	if (!p || ((uintptr_t)p & (BENCH_PAGE_SIZE - 1))) {
		fprintf(out, "allocator check: aligned_alloc gave %p\n", p);
		ok = 0;
	}
	free(p);
	if (!ok) {
		fprintf(out, "allocator: NOT %s - refusing to measure\n", BENCH_PEER);
		return -1;
	}
	fprintf(out, "allocator: %s (aligned_alloc from %s)\n", version,
	        defining_object("aligned_alloc"));
	return 0;
}

int ba_setup(unsigned v, const struct bench_alloc_cfg *cfg)
{
	(void)v;
	(void)cfg;
	return 0;
}

void ba_teardown(void)
{
}

void ba_thread_start(unsigned idx)
{
	(void)idx;
}

void ba_stats(struct bench_alloc_stats *st)
{
	memset(st, 0, sizeof(*st));
}

int ba_quiesce(FILE *err)
{
	(void)err;
	return 0;
}
