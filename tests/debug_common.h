/*
 * debug_common.h - shared by the tests of the debugging aids
 * (test_debug_*.c): a small backed allocator on simulated CPUs, and an
 * error handler that keeps the misuse reports.
 */
#ifndef ZA_DEBUG_COMMON_H
#define ZA_DEBUG_COMMON_H

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"
#include "testutil.h"

#define DBG_BLOCK 1024ul /* pages per hotplug block */
#define DBG_BLOCKS 4

static _Thread_local int dbg_cpu;
static int dbg_cpu_id(void *ctx)
{
	(void)ctx;
	return dbg_cpu;
}

/* Misuse reports, kept for the test to look at. */
static pthread_mutex_t dbg_msg_lock = PTHREAD_MUTEX_INITIALIZER;
static char dbg_last_msg[2048];
static unsigned dbg_nr_msgs;
static void dbg_error(void *ctx, int err, const char *msg)
{
	(void)ctx, (void)err;
	pthread_mutex_lock(&dbg_msg_lock);
	snprintf(dbg_last_msg, sizeof(dbg_last_msg), "%s", msg);
	dbg_nr_msgs++;
	pthread_mutex_unlock(&dbg_msg_lock);
}
static unsigned dbg_msgs(void)
{
	pthread_mutex_lock(&dbg_msg_lock);
	unsigned n = dbg_nr_msgs;
	pthread_mutex_unlock(&dbg_msg_lock);
	return n;
}

static void *dbg_map(unsigned long pages)
{
	void *m = mmap(NULL, pages << 12, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
	return m;
}

/* DBG_BLOCKS blocks of backed memory (frames only if !backed) in
 * ZONE_NORMAL of node 0, 4 simulated CPUs. */
static struct za *dbg_make(unsigned flags, int backed)
{
	struct za_config c;
	memset(&c, 0, sizeof(c));
#ifdef ZA_TEST_PCP_MODE_H
	pm_config(&c, 4, dbg_cpu_id); /* the run's mode (pcp_mode.h) */
#else
	c.nr_cpus = 4;
	c.cpu_id = dbg_cpu_id;
#endif
	c.block_pages = DBG_BLOCK;
	c.max_pfn = DBG_BLOCK * DBG_BLOCKS;
	c.flags = flags | ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER;
	c.error = dbg_error;
	struct za *za = za_create(&c);
	CHECK(za != NULL);
	void *base = backed ? dbg_map(DBG_BLOCK * DBG_BLOCKS) : NULL;
	CHECK_EQ(za_memory_online(za, 0, ZA_ZONE_NORMAL, 0, DBG_BLOCK * DBG_BLOCKS,
	                          base),
	         0);
	return za;
}

static __attribute__((unused)) unsigned long dbg_free_pages(struct za *za)
{
	za_drain_all_pages(za);
	za_vmstat_fold(za);
	return za_zone_free_pages(za, 0, ZA_ZONE_NORMAL);
}

#endif
