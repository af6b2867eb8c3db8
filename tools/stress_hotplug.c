/*
 * stress_hotplug.c - the hotplug drivers of `zonealloc stress`: one
 * thread that takes CPUs offline and back every few hundred microseconds
 * (never the last one), and one that offlines and re-onlines ZONE_MOVABLE
 * memory blocks in a loop while the workers allocate and free in them -
 * the situation of seed 004, where a page freed during the offline must
 * not be lost on a per-CPU list.
 *
 * After each successful offline the client checks that it holds no page
 * of the range (every one it held must have been migrated) and that the
 * range is really gone (za_pfn_to_page is NULL).
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stress.h"

static void sleep_us(unsigned us)
{
	struct timespec ts = { .tv_sec = us / 1000000,
		                   .tv_nsec = (long)(us % 1000000) * 1000 };
	nanosleep(&ts, NULL);
}

static int not_implemented(int err)
{
	return err == -ENOSYS || err == -EOPNOTSUPP;
}

static void record_notimpl(struct stress *st, const char *what, int err)
{
	pthread_mutex_lock(&st->msg_lock);
	if (!st->notimpl[0])
		snprintf(st->notimpl, sizeof(st->notimpl),
		         "%s is not implemented (returned %s)", what, strerror(-err));
	pthread_mutex_unlock(&st->msg_lock);
}

/* ---------------------------------------------------------------- */
/* CPU hotplug                                                       */

static void *cpu_driver(void *arg)
{
	struct stress *st = arg;
	unsigned ncpus = st->tp.o.cpus, c;
	uint64_t rng = mix64(st->seed ^ 0xc0ffeeull) | 1;
	int err;

	while (!__atomic_load_n(&st->stop_aux, __ATOMIC_ACQUIRE)) {
		sleep_us(100 + rng_below(&rng, 400));
		c = rng_below(&rng, ncpus);
		if (simcpu_is_online(c)) {
			if (simcpu_nr_online() <= 1)
				continue;
			/* The scheduler moves tasks off first; a thread that
			 * read this CPU a moment ago may still be using it. */
			simcpu_set_online(c, 0);
			err = za_cpu_offline(st->za, c);
			if (!err) {
				G_ADD(st, cpu_offline, 1);
				if (za_cpu_is_online(st->za, c))
					st_fail(st,
					        "CPU %u still online after "
					        "za_cpu_offline returned 0",
					        c);
				continue;
			}
			simcpu_set_online(c, 1);
			if (not_implemented(err)) {
				record_notimpl(st, "za_cpu_offline", err);
				break;
			}
			if (err == -EBUSY) {
				/* Only for the last online CPU, which we never
				 * offline: the library disagrees on the count. */
				G_ADD(st, cpu_ebusy, 1);
				st_fail(st,
				        "za_cpu_offline(%u) returned -EBUSY with %u "
				        "CPUs online",
				        c, simcpu_nr_online());
			} else {
				G_ADD(st, cpu_errors, 1);
				st_fail(st, "za_cpu_offline(%u) failed: %s", c,
				        strerror(-err));
			}
		} else {
			err = za_cpu_online(st->za, c);
			if (!err) {
				simcpu_set_online(c, 1);
				G_ADD(st, cpu_online, 1);
				continue;
			}
			if (not_implemented(err)) {
				record_notimpl(st, "za_cpu_online", err);
				break;
			}
			G_ADD(st, cpu_errors, 1);
			st_fail(st, "za_cpu_online(%u) failed: %s", c, strerror(-err));
		}
	}
	/* Leave every CPU online, so the final checks see a whole
	 * machine and the online path runs once more for each. */
	for (c = 0; c < ncpus; c++) {
		if (simcpu_is_online(c))
			continue;
		err = za_cpu_online(st->za, c);
		if (err) {
			G_ADD(st, cpu_errors, 1);
			st_fail(st, "za_cpu_online(%u) at the end failed: %s", c,
			        strerror(-err));
		} else {
			simcpu_set_online(c, 1);
			G_ADD(st, cpu_online, 1);
		}
	}
	return NULL;
}

/* ---------------------------------------------------------------- */
/* Memory hotplug                                                    */

static void offline_one(struct stress *st, struct mblock *b)
{
	unsigned long nr = st->tp.block_pages;
	double t0, dt;
	uint64_t us;
	unsigned long held;
	int err;

	t0 = now_seconds();
	err = za_memory_offline(st->za, b->pfn, nr);
	dt = now_seconds() - t0;
	us = (uint64_t)(dt * 1e6);
	G_ADD(st, mem_tried, 1);
	G_ADD(st, mem_latency_total_us, us);
	if (us > G_GET(st, mem_latency_worst_us))
		__atomic_store_n(&st->g.mem_latency_worst_us, us, __ATOMIC_RELAXED);

	switch (err) {
	case 0:
		break;
	case -EBUSY:
		/* ZONE_MOVABLE holds only movable data, which the client
		 * can always move (DESIGN.md: that is what lets it go
		 * offline), so -EBUSY means something unmovable got in. */
		G_ADD(st, mem_ebusy, 1);
		st_fail(st,
		        "za_memory_offline(pfn %#lx, %lu pages) of a ZONE_MOVABLE "
		        "block returned -EBUSY (an unmovable page in ZONE_MOVABLE?)",
		        b->pfn, nr);
		return;
	case -EAGAIN:
		G_ADD(st, mem_eagain, 1);
		return;
	case -ENOMEM:
		G_ADD(st, mem_enomem, 1);
		return;
	default:
		if (not_implemented(err)) {
			record_notimpl(st, "za_memory_offline", err);
			__atomic_store_n(&st->stop_aux, 1, __ATOMIC_RELEASE);
			return;
		}
		G_ADD(st, mem_other, 1);
		st_fail(st, "za_memory_offline(pfn %#lx, %lu pages) failed: %s",
		        b->pfn, nr, strerror(-err));
		return;
	}

	G_ADD(st, mem_ok, 1);
	held = work_owned_in(st, b->pfn, nr);
	if (held)
		st_fail(st,
		        "memory offline of pfn %#lx-%#lx succeeded while the client "
		        "still holds %lu of its pages",
		        b->pfn, b->pfn + nr - 1, held);
	if (za_pfn_to_page(st->za, b->pfn) ||
	    za_pfn_to_page(st->za, b->pfn + nr - 1))
		st_fail(st, "pfn %#lx is still online after za_memory_offline",
		        b->pfn);

	sleep_us(200);
	err = za_memory_online(st->za, b->nid, ZA_ZONE_MOVABLE, b->pfn, nr,
	                       b->base);
	if (err) {
		b->offline = 1;
		G_ADD(st, mem_online_fail, 1);
		st_fail(st,
		        "za_memory_online(node %d, Movable, pfn %#lx, %lu pages) "
		        "after offline failed: %s",
		        b->nid, b->pfn, nr, strerror(-err));
	}
}

static void *mem_driver(void *arg)
{
	struct stress *st = arg;
	uint64_t rng = mix64(st->seed ^ 0xb10cull) | 1;

	while (!__atomic_load_n(&st->stop_aux, __ATOMIC_ACQUIRE)) {
		struct mblock *b = &st->mblocks[rng_below(&rng, st->nr_mblocks)];
		if (!b->offline)
			offline_one(st, b);
		sleep_us(200 + rng_below(&rng, 800));
	}
	return NULL;
}

/* ---------------------------------------------------------------- */

int hotplug_start(struct stress *st)
{
	unsigned k, n = 0;
	int err;

	if (st->sc == SC_HOTPLUG && st->tp.o.cpus < 2)
		st_note(st, "one CPU: CPU hotplug not exercised (give --cpus)");
	if (st->sc == SC_HOTPLUG && st->tp.o.cpus > 1) {
		err = pthread_create(&st->cpu_thread, NULL, cpu_driver, st);
		if (err) {
			tool_err("stress", "cannot start the CPU hotplug thread: %s",
			         strerror(err));
			return -1;
		}
		st->cpu_thread_on = 1;
	}
	if (st->sc != SC_HOTPLUG && st->sc != SC_OFFLINE)
		return 0;

	for (k = 0; k < st->tp.nr_ranges; k++)
		if (st->tp.range[k].zone == ZA_ZONE_MOVABLE)
			n += (unsigned)(st->tp.range[k].nr_pages / st->tp.block_pages);
	if (!n) {
		st_note(st, "no ZONE_MOVABLE memory: memory offline not exercised "
		            "(give --movable)");
		return 0;
	}
	st->mblocks = calloc(n, sizeof(*st->mblocks));
	if (!st->mblocks)
		return -1;
	for (k = 0; k < st->tp.nr_ranges; k++) {
		const struct topo_range *r = &st->tp.range[k];
		unsigned long pfn;
		if (r->zone != ZA_ZONE_MOVABLE)
			continue;
		for (pfn = r->start_pfn; pfn < r->start_pfn + r->nr_pages;
		     pfn += st->tp.block_pages) {
			struct mblock *b = &st->mblocks[st->nr_mblocks++];
			b->nid = r->nid;
			b->pfn = pfn;
			b->base = topo_pfn_address(&st->tp, r->nid, pfn);
		}
	}
	err = pthread_create(&st->mem_thread, NULL, mem_driver, st);
	if (err) {
		tool_err("stress", "cannot start the memory hotplug thread: %s",
		         strerror(err));
		return -1;
	}
	st->mem_thread_on = 1;
	return 0;
}

void hotplug_stop(struct stress *st)
{
	__atomic_store_n(&st->stop_aux, 1, __ATOMIC_RELEASE);
	if (st->cpu_thread_on)
		pthread_join(st->cpu_thread, NULL);
	if (st->mem_thread_on)
		pthread_join(st->mem_thread, NULL);
	st->cpu_thread_on = st->mem_thread_on = 0;
	free(st->mblocks);
	st->mblocks = NULL;
	st->nr_mblocks = 0;
}
