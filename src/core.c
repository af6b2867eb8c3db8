/*
 * core.c - creating and destroying an allocator, resolving its
 * configuration, topology queries, and the one path every misuse report
 * takes to the user's error handler.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

_Noreturn void _za_assert_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "zonealloc: assertion failed: %s:%d: %s\n", file, line,
	        what);
	abort();
}

/* --- metadata allocation (injectable failure for tests) ------------------- */

/* Tests only: when >= 0, the metadata allocation that finds it at 0
 * fails (counting down across za_create, whose za has no knobs yet). */
long _za_fail_meta_after = -1;

bool za_meta_inject_fail(struct za *za)
{
	if (unlikely(za_load_relaxed(&_za_fail_meta_after) >= 0) &&
	    za_add_relaxed(&_za_fail_meta_after, -1) == -1)
		return true;
	if (za && unlikely(za_load_relaxed(&za->debug[ZA_DEBUG_FAIL_META]) > 0) &&
	    za_add_relaxed(&za->debug[ZA_DEBUG_FAIL_META], -1) >= 0)
		return true;
	return false;
}

void *za_meta_alloc(struct za *za, size_t size, size_t align)
{
	if (za_meta_inject_fail(za))
		return NULL;
	return za_os_alloc(size, align);
}

void za_meta_free(struct za *za, void *p)
{
	(void)za;
	za_os_free(p);
}

/* --- errors ------------------------------------------------------------------ */

static void default_error(void *ctx, int err, const char *msg)
{
	(void)ctx;
	(void)err;
	fprintf(stderr, "zonealloc: %s\n", msg);
}

/* Set while this thread runs an error handler: a misuse the handler
 * itself commits is reported on stderr instead of to the handler again, so
 * a handler that misuses the allocator cannot recurse without bound. */
static _Thread_local int in_error_handler;

void _za_report_misuse(struct za *za, int err, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	za_witness_assert_callback("error handler");
	za_add_relaxed(&za->nodes[0].zones[0].events[ZA_MISUSE], 1);
	za_spin_lock_raw(&za->error_lock);
	za_error_fn fn = za->error_fn;
	void *ctx = za->error_ctx;
	za_spin_unlock_raw(&za->error_lock);
	if (in_error_handler) {
		default_error(NULL, err, msg);
		return;
	}
	in_error_handler++;
	(fn ? fn : default_error)(ctx, err, msg);
	in_error_handler--;
}

/* --- the memory-hotplug lock ------------------------------------------------------ */

/* Which thread holds za->mem_hotplug_lock: the address of this
 * thread-local, unique per thread. Only the holder writes it, so a thread
 * that reads its own token knows it holds the lock. */
static _Thread_local char hotplug_token;

void mem_hotplug_lock(struct za *za)
{
	za_mutex_lock(&za->mem_hotplug_lock);
	za_store_relaxed(&za->mem_hotplug_owner, (void *)&hotplug_token);
	_za_compaction_exclude(za, true);
}

void mem_hotplug_unlock(struct za *za)
{
	_za_compaction_exclude(za, false);
	za_store_relaxed(&za->mem_hotplug_owner, NULL);
	za_mutex_unlock(&za->mem_hotplug_lock);
}

bool mem_hotplug_held_by_me(const struct za *za)
{
	return za_load_relaxed(&za->mem_hotplug_owner) == (void *)&hotplug_token ||
	       _za_in_compaction;
}

void za_set_error_handler(struct za *za, za_error_fn fn, void *ctx)
{
	if (!za)
		return;
	za_spin_lock_raw(&za->error_lock);
	za->error_fn = fn;
	za->error_ctx = ctx;
	za_spin_unlock_raw(&za->error_lock);
}

/* --- debugging knobs ------------------------------------------------------------- */

void _za_debug_yield(struct za *za)
{
	/* A cheap per-thread coin: yield about one time in four. */
	static _Thread_local uint32_t s = 2463534242u;
	s ^= s << 13;
	s ^= s >> 17;
	s ^= s << 5;
	ZA_DEBUG_POINT(za, ZA_DP_YIELD, NULL);
	if ((s & 3) == 0)
		za_yield();
}

int za_debug_set(struct za *za, enum za_debug_knob knob, long value)
{
	if (!za || (unsigned)knob >= ZA_NR_DEBUG_KNOBS)
		return -EINVAL;
	za_store_relaxed(&za->debug[knob], value);
	return 0;
}

/* --- configuration -------------------------------------------------------------- */

static bool is_pow2(unsigned long x) { return x && !(x & (x - 1)); }

static int resolve_config(struct za *za, const struct za_config *cfg)
{
	static const struct za_config zero;
	if (!cfg)
		cfg = &zero;

	za->page_shift = cfg->page_shift ? cfg->page_shift : 12;
	if (za->page_shift < 9 || za->page_shift > 30)
		return -EINVAL;
	za->nr_nodes = cfg->nr_nodes ? cfg->nr_nodes : 1;
	if (za->nr_nodes > ZA_MAX_NODES)
		return -EINVAL;
	za->nr_cpus = cfg->nr_cpus ? cfg->nr_cpus : za_os_nr_cpus();
	if (za->nr_cpus > ZA_MAX_CPUS)
		return -EINVAL;
	za->max_order = cfg->max_order ? cfg->max_order : 10;
	if (za->max_order > ZA_MAX_ORDER_LIMIT)
		return -EINVAL;
	if (cfg->pageblock_order > za->max_order)
		return -EINVAL;
	za->pageblock_order = cfg->pageblock_order
		? cfg->pageblock_order
		: (za->max_order < 9 ? za->max_order : 9);

	/* A block holds whole max-order blocks and whole pageblocks. */
	unsigned long min_block = 1ul << za->max_order;
	if (cfg->block_pages) {
		/* Frame numbers stay below 2^32: so does a block. */
		if (!is_pow2(cfg->block_pages) || cfg->block_pages < min_block ||
		    cfg->block_pages > (1ul << 31))
			return -EINVAL;
		za->block_pages = cfg->block_pages;
	} else {
		za->block_pages = (128ul << 20) >> za->page_shift;
		if (za->block_pages < min_block)
			za->block_pages = min_block;
	}
	za->block_shift = (unsigned)__builtin_ctzl(za->block_pages);

	unsigned long max_pfn = cfg->max_pfn ? cfg->max_pfn : 1ul << 28;
	if (max_pfn > 0xfffffffful - za->block_pages)
		return -EINVAL;
	/* Round up to whole blocks. */
	za->max_pfn = (max_pfn + za->block_pages - 1) & ~(za->block_pages - 1);
	za->nr_sections = za->max_pfn >> za->block_shift;

	unsigned online = cfg->online_cpus ? cfg->online_cpus : za->nr_cpus;
	if (online > za->nr_cpus)
		return -EINVAL;
	za->nr_online_cpus = online;

	if (cfg->flags & ~(ZA_CFG_NO_PCP | ZA_CFG_NO_KSWAPD |
	                   ZA_CFG_NO_VMSTAT_WORKER | ZA_CFG_PCP_FIXED |
	                   ZA_CFG_PCP_LOCKED | ZA_CFG_STRICT_FREE |
	                   ZA_CFG_NO_KCOMPACTD | ZA_CFG_NO_COMPACTION))
		return -EINVAL;
	za->flags = cfg->flags;
	/* Debug builds claim every free atomically (DESIGN.md invariants). */
	za->strict_free = za_debug || (za->flags & ZA_CFG_STRICT_FREE);
	if (za->flags & ZA_CFG_PCP_FIXED) {
		if (!cfg->pcp_batch || cfg->pcp_high < cfg->pcp_batch ||
		    cfg->pcp_high > ZA_PCP_FIXED_MAX)
			return -EINVAL;
		za->pcp_high_cfg = cfg->pcp_high;
		za->pcp_batch_cfg = cfg->pcp_batch;
	}
	za->cpu_id = cfg->cpu_id;
	za->cpu_ctx = cfg->cpu_ctx;
	za->migrate = cfg->migrate;
	za->migrate_ctx = cfg->migrate_ctx;
	za->min_free_kbytes_cfg = cfg->min_free_kbytes;
	sysctl_init_defaults(za);
	za->offline_timeout_ms = cfg->offline_timeout_ms ? cfg->offline_timeout_ms
	                                                 : 5000;
	za->vmstat_interval_ms = cfg->vmstat_interval_ms ? cfg->vmstat_interval_ms
	                                                 : 1000;
	za->error_fn = cfg->error;
	za->error_ctx = cfg->error_ctx;

	za->node_distance = za_meta_alloc(za, za->nr_nodes * za->nr_nodes, 1);
	za->cpu_node = za_meta_alloc(za, za->nr_cpus * sizeof(int), 0);
	za->cpu_online = za_meta_alloc(za, za->nr_cpus, 1);
	if (!za->node_distance || !za->cpu_node || !za->cpu_online)
		return -ENOMEM;
	for (unsigned a = 0; a < za->nr_nodes; a++) {
		for (unsigned b = 0; b < za->nr_nodes; b++) {
			unsigned char d = cfg->node_distance
				? cfg->node_distance[a * za->nr_nodes + b]
				: (a == b ? 10 : 20);
			/* A node is nearest to itself; distances are positive. */
			if (!d || (a != b && cfg->node_distance &&
			           d < cfg->node_distance[a * za->nr_nodes + a]))
				return -EINVAL;
			za->node_distance[a * za->nr_nodes + b] = d;
		}
	}
	for (unsigned c = 0; c < za->nr_cpus; c++) {
		int n = cfg->cpu_node ? cfg->cpu_node[c]
		                      : (int)((unsigned long)c * za->nr_nodes /
		                              za->nr_cpus);
		if (n < 0 || (unsigned)n >= za->nr_nodes)
			return -EINVAL;
		za->cpu_node[c] = n;
		za->cpu_online[c] = c < online;
	}
	return 0;
}

/* Restartable or locked page sets (DESIGN.md "Rules of concurrency").
 * Locked when asked, when the embedder names the CPU (its CPU numbers
 * need not be real ones, and a sequence must run on the set's real CPU),
 * under ThreadSanitizer (it cannot follow a sequence), and when the
 * platform lacks rseq or the membarrier fence: the last with one line on
 * stderr, once per process. */
static void choose_pcp_mode(struct za *za)
{
	const char *why = NULL;
	za->pcp_rseq = false;
	if (za->flags & ZA_CFG_PCP_LOCKED)
		why = "ZA_CFG_PCP_LOCKED";
	else if (za->cpu_id)
		why = "a cpu_id callback names the CPUs";
#if defined(__SANITIZE_THREAD__)
	else
		why = "ThreadSanitizer build";
#endif
	if (!why) {
		const char *lack = NULL;
		int err = za_os_rseq_setup(&lack);
		if (!err) {
			za->pcp_rseq = true;
			za->pcp_mode_why = "";
			return;
		}
		why = lack;
		static int said;
		if (!za_xchg_acquire(&said, 1))
			fprintf(stderr, "zonealloc: per-CPU lists run locked: %s "
			        "(%s)\n", lack, strerror(-err));
	}
	za->pcp_mode_why = why;
}

static int init_zone(struct za *za, struct za_node *node, int type)
{
	struct za_zone *z = &node->zones[type];
	z->za = za;
	z->node = node;
	z->nid = node->nid;
	z->type = type;
	z->id = (uint8_t)((node->nid << 2) | type);
	za->zone_by_id[z->id] = z;
	for (unsigned o = 0; o <= za->max_order; o++)
		for (int mt = 0; mt < ZA_NR_MIGRATETYPES; mt++)
			z->free_head[o][mt] = ZA_NIL;
	z->lazy_head = ZA_NIL;
	z->pcp = za_pcp_of(za, z->id, 0);
	for (unsigned c = 0; c < za->nr_cpus; c++) {
		struct za_pcp *pcp = &z->pcp[c];
		for (int i = 0; i < ZA_NR_PCP_LISTS; i++)
			pcp->lists[i] = ZA_NIL;
		pcp->flags = za->cpu_online[c] ? 0 : ZA_PCP_OFF_CPU;
		pcp->batch = 1;
		pcp->cpu = (uint16_t)c;
		pcp->zone = z;
		pcp->corrupt_pfn = ZA_NIL;
	}
	return 0;
}

static void free_all(struct za *za)
{
	if (za->nodes) {
		for (unsigned n = 0; n < za->nr_nodes; n++) {
			struct za_node *node = &za->nodes[n];
			za_meta_free(za, node->zonelist[0]);
			za_meta_free(za, node->zonelist[1]);
		}
	}
	_za_compaction_fini(za);
	reclaim_fini(za);
	_za_reporting_fini(za);
	memmap_fini(za);
	za_mutex_destroy(&za->mem_hotplug_lock);
	za_mutex_destroy(&za->compact_lock);
	za_cond_destroy(&za->compact_idle);
	za_mutex_destroy(&za->cpu_hotplug_lock);
	za_mutex_destroy(&za->drain_lock);
	za_mutex_destroy(&za->vmstat_lock);
	za_mutex_destroy(&za->sysctl_lock);
	za_cond_destroy(&za->vmstat_wait);
	za_meta_free(za, za->nodes);
	za_meta_free(za, za->pcp_all);
	za_meta_free(za, za->cpu_pcp);
	za_meta_free(za, za->node_distance);
	za_meta_free(za, za->cpu_node);
	za_meta_free(za, za->cpu_online);
	za_os_free(za);
}

struct za *za_create(const struct za_config *cfg)
{
	struct za *za = za_os_alloc(sizeof(*za), ZA_CACHELINE);
	int err;
	if (!za) {
		errno = ENOMEM;
		return NULL;
	}
	err = resolve_config(za, cfg);
	if (!err)
		choose_pcp_mode(za);
	if (!err)
		err = za_mutex_init(&za->mem_hotplug_lock, ZA_RANK_MEM_HOTPLUG,
		                    "mem_hotplug_lock");
	if (!err)
		err = za_mutex_init(&za->compact_lock, ZA_RANK_LEAF, "compact_lock");
	if (!err)
		err = za_cond_init(&za->compact_idle);
	if (!err)
		err = za_mutex_init(&za->cpu_hotplug_lock, ZA_RANK_CPU_HOTPLUG,
		                    "cpu_hotplug_lock");
	if (!err)
		err = za_mutex_init(&za->drain_lock, ZA_RANK_DRAIN, "drain_lock");
	if (!err)
		err = za_mutex_init(&za->vmstat_lock, ZA_RANK_LEAF, "vmstat_lock");
	if (!err)
		err = za_mutex_init(&za->sysctl_lock, ZA_RANK_LEAF, "sysctl_lock");
	if (!err)
		err = za_cond_init(&za->vmstat_wait);
	if (!err) {
		za->nodes = za_meta_alloc(za, za->nr_nodes * sizeof(struct za_node),
		                          ZA_CACHELINE);
		size_t nr_sets = (size_t)za->nr_nodes * ZA_NR_ZONES * za->nr_cpus;
		za->pcp_all = za_meta_alloc(za, nr_sets * sizeof(struct za_pcp),
		                            ZA_CACHELINE);
		za->cpu_pcp = za_meta_alloc(za, (size_t)za->nr_cpus * ZA_NR_ZONES *
		                                    sizeof(struct za_pcp *), 0);
		if (!za->nodes || !za->pcp_all || !za->cpu_pcp)
			err = -ENOMEM;
	}
	for (unsigned n = 0; !err && n < za->nr_nodes; n++) {
		struct za_node *node = &za->nodes[n];
		size_t zl = (za->nr_nodes * ZA_NR_ZONES + 1) *
		            sizeof(struct za_zoneref);
		node->nid = (int)n;
		node->zonelist[0] = za_meta_alloc(za, zl, 0);
		node->zonelist[1] = za_meta_alloc(za, zl, 0);
		if (!node->zonelist[0] || !node->zonelist[1])
			err = -ENOMEM;
		for (int t = 0; !err && t < ZA_NR_ZONES; t++)
			err = init_zone(za, node, t);
	}
	if (!err)
		err = memmap_init(za);
	if (!err)
		err = reclaim_init(za);
	if (!err)
		err = _za_reporting_init(za);
	if (!err)
		err = _za_compaction_init(za);
	if (!err) {
		mem_hotplug_lock(za);
		setup_per_zone_wmarks(za);
		build_all_zonelists(za);
		mem_hotplug_unlock(za);
	}
	if (!err && !(za->flags & ZA_CFG_NO_KSWAPD))
		err = reclaim_start(za);
	/* kcompactd is kswapd's partner: no background reclaim, no
	 * background compaction either. */
	if (!err && !(za->flags & (ZA_CFG_NO_KSWAPD | ZA_CFG_NO_KCOMPACTD |
	                           ZA_CFG_NO_COMPACTION)))
		err = _za_kcompactd_start(za);
	if (!err && !(za->flags & ZA_CFG_NO_VMSTAT_WORKER))
		err = vmstat_start(za);
	if (err) {
		za_store_relaxed(&za->stopping, true);
		vmstat_stop(za);
		reclaim_stop(za);
		_za_kcompactd_stop(za);
		free_all(za);
		errno = -err;
		return NULL;
	}
	return za;
}

void za_destroy(struct za *za)
{
	if (!za)
		return;
	/* Reporting first: its batch in flight goes back to the lists. */
	_za_reporting_stop(za);
	za_store_relaxed(&za->stopping, true);
	vmstat_stop(za);
	reclaim_stop(za);
	_za_kcompactd_stop(za);
	free_all(za);
}

/* --- topology queries ---------------------------------------------------------------- */

/* A NULL za answers 0 (the header's rule for NULL). */
unsigned za_nr_cpus(const struct za *za) { return za ? za->nr_cpus : 0; }
unsigned za_nr_nodes(const struct za *za) { return za ? za->nr_nodes : 0; }
unsigned za_max_order(const struct za *za) { return za ? za->max_order : 0; }
unsigned za_pageblock_order(const struct za *za)
{
	return za ? za->pageblock_order : 0;
}
unsigned long za_block_pages(const struct za *za)
{
	return za ? za->block_pages : 0;
}
unsigned za_page_shift(const struct za *za) { return za ? za->page_shift : 0; }
size_t za_page_meta_size(void) { return sizeof(struct za_page); }

int za_cpu_to_node(const struct za *za, unsigned cpu)
{
	if (!za || cpu >= za->nr_cpus)
		return -EINVAL;
	return za->cpu_node[cpu];
}
