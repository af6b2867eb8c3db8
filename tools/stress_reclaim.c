/*
 * stress_reclaim.c - the reclaimable side of the pressure scenario: a
 * page cache (one per node) that workers put pages into instead of
 * freeing them, a shrinker that gives cached pages back when the
 * allocator asks (kswapd or direct reclaim), and an out-of-memory handler
 * that counts its calls and frees whatever cache is left anywhere.
 *
 * Cached pages stay the client's: they keep their fill pattern (checked
 * when the shrinker frees them) and the migrate callback finds them in
 * their cache box like any other page.
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "stress.h"

#define SHRINK_CHUNK 64u

void cache_put(struct stress *st, const struct slot *s)
{
	int nid = za_page_nid(st->za, s->page);
	struct box *b;

	if (nid < 0 || (unsigned)nid >= st->tp.o.nodes || !st->cache[nid]) {
		st_fail(st, "pfn %#lx has no node (za_page_nid %d)", s->pfn, nid);
		work_release(st, s);
		return;
	}
	b = st->cache[nid];
	pthread_mutex_lock(&b->lock);
	box_add_locked(st, b, s);
	pthread_mutex_unlock(&b->lock);
	G_ADD(st, cache_in, 1);
}

/* Frees up to nr cached pages of one node; returns how many. The cache
 * lock is never held across za_free_pages: the allocator may call back
 * into migrate, which takes it. */
static unsigned long shrink_node(struct stress *st, unsigned nid,
                                 unsigned long nr)
{
	struct box *b = st->cache[nid];
	struct slot s[SHRINK_CHUNK];
	unsigned long done = 0;

	while (done < nr) {
		unsigned k = 0, i;

		pthread_mutex_lock(&b->lock);
		while (k < SHRINK_CHUNK && done + k < nr && b->n)
			box_take_locked(st, b, b->n - 1, &s[k++]);
		pthread_mutex_unlock(&b->lock);
		if (!k)
			break;
		for (i = 0; i < k; i++)
			work_release(st, &s[i]);
		done += k;
	}
	return done;
}

static unsigned long cache_pages(struct stress *st, int nid)
{
	unsigned long n = 0;
	unsigned i;

	for (i = 0; i < st->tp.o.nodes; i++)
		if (nid < 0 || (unsigned)nid == i)
			n += __atomic_load_n(&st->cache[i]->pages, __ATOMIC_RELAXED);
	return n;
}

static unsigned long sh_count(void *ctx, int nid)
{
	struct stress *st = ctx;

	G_ADD(st, shrink_count_calls, 1);
	if (nid >= (int)st->tp.o.nodes)
		return 0;
	return cache_pages(st, nid);
}

static unsigned long sh_scan(void *ctx, int nid, unsigned long nr)
{
	struct stress *st = ctx;
	unsigned long freed = 0;
	unsigned i;

	G_ADD(st, shrink_scans, 1);
	if (nid >= 0 && (unsigned)nid < st->tp.o.nodes) {
		freed = shrink_node(st, (unsigned)nid, nr);
	} else {
		for (i = 0; i < st->tp.o.nodes && freed < nr; i++)
			freed += shrink_node(st, i, nr - freed);
	}
	G_ADD(st, shrink_freed, freed);
	return freed;
}

/* Reclaim found nothing on nid: free cache from any node, the nearest
 * first, enough for the request and a little slack. */
static unsigned long oom_handler(void *ctx, int nid, unsigned order)
{
	struct stress *st = ctx;
	unsigned long want = (2ul << order) + 32, freed = 0;
	unsigned i, nodes = st->tp.o.nodes;
	unsigned start = nid >= 0 && (unsigned)nid < nodes ? (unsigned)nid : 0;

	G_ADD(st, oom_calls, 1);
	for (i = 0; i < nodes && freed < want; i++)
		freed += shrink_node(st, (start + i) % nodes, want - freed);
	G_ADD(st, oom_freed, freed);
	return freed;
}

int reclaim_setup(struct stress *st)
{
	int err;

	memset(&st->shrinker, 0, sizeof(st->shrinker));
	st->shrinker.count = sh_count;
	st->shrinker.scan = sh_scan;
	st->shrinker.ctx = st;
	err = za_register_shrinker(st->za, &st->shrinker);
	if (err == -ENOSYS || err == -EOPNOTSUPP) {
		snprintf(st->notimpl, sizeof(st->notimpl),
		         "za_register_shrinker is not implemented (%s)",
		         strerror(-err));
		return -1;
	}
	if (err) {
		st_fail(st, "za_register_shrinker failed: %s", strerror(-err));
		return -1;
	}
	st->shrinker_registered = 1;
	za_set_oom_handler(st->za, oom_handler, st);
	return 0;
}

void reclaim_teardown(struct stress *st)
{
	if (!st->shrinker_registered)
		return;
	za_set_oom_handler(st->za, NULL, NULL);
	za_unregister_shrinker(st->za, &st->shrinker);
	st->shrinker_registered = 0;
}
