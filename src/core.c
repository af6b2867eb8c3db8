/*
 * core.c - creating and destroying an allocator, resolving its
 * configuration, topology queries, and the one path every misuse report
 * takes to the user's error handler.
 */
#include <stdarg.h>
#include <string.h>

#include "internal.h"

static void emit(const char *msg, int n, size_t cap)
{
	za_os_error_write(msg, n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1);
}

_Noreturn void _za_assert_fail(const char *file, int line, const char *what)
{
	char msg[512];
	int n = snprintf(msg, sizeof(msg),
	                 "zonealloc: assertion failed: %s:%d: %s\n", file, line,
	                 what);
	emit(msg, n, sizeof(msg));
	za_os_abort();
}

/* As _za_assert_fail, with the page's metadata (the kernel's
 * VM_BUG_ON_PAGE): which block, in which state, on which list. */
_Noreturn void _za_assert_page_fail(const char *file, int line,
                                    const char *what, const struct za *za,
                                    const struct za_page *page)
{
	char msg[512];
	int n = snprintf(msg, sizeof(msg),
	                 "zonealloc: page pfn %lu: state %u order %u mt %u "
	                 "zone_id %u next %u prev %u pcp_cpu %u gen %u/%u\n",
	                 page_pfn(za, page), page->state, page->order, page->mt,
	                 page->zone_id, page->next, page->prev, page->pcp_cpu,
	                 page->gen, page->free_gen);
	emit(msg, n, sizeof(msg));
	_za_assert_fail(file, line, what);
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
	za_err_printf("zonealloc: %s\n", msg);
}

/* The allocators whose error handler this thread runs: a misuse the
 * handler itself commits is reported on stderr instead of to the handler
 * again, so a handler that misuses the allocator cannot recurse without
 * bound. Per allocator: a misuse of another allocator goes to that one's
 * handler (the recursion is bounded by the number of allocators). */
static ZA_THREAD_LOCAL struct za_nest in_error_handler;

void _za_report_misuse(struct za *za, int err, const char *fmt, ...)
{
	char msg[1024]; /* room for the page owner's sites */
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
	/* Within its own handler (or nested too deep): stderr. */
	if (za_nest_in(&in_error_handler, za) ||
	    !za_nest_enter(&in_error_handler, za)) {
		default_error(NULL, err, msg);
		return;
	}
	(fn ? fn : default_error)(ctx, err, msg);
	za_nest_leave(&in_error_handler);
}

void _za_report_cut(struct za *za, unsigned long pfn, const char *what,
                    const char *list)
{
	char owner[600]; /* page owner's sites, "" when it is off */
	_za_debug_describe(za, pfn, owner, sizeof(owner));
	_za_report_misuse(za, -EINVAL,
	                  "pfn 0x%lx %s: two frees of it raced on two CPUs "
	                  "(double free); %s was cut and the pages on it are "
	                  "lost%s",
	                  pfn, what, list, owner);
}

void _za_report_cuts(struct za *za, const struct za_cuts *c, const char *what,
                     const char *lists)
{
	for (unsigned i = 0; i < c->n; i++) {
		char list[200];
		int len = snprintf(list, sizeof(list), "%s", lists);
		if (c->order[i] != ZA_CUT_NO_ORDER && len >= 0 &&
		    (size_t)len < sizeof(list))
			len += snprintf(list + len, sizeof(list) - (size_t)len,
			                " of order %u", (unsigned)c->order[i]);
		if (i == c->n - 1u && c->unnamed && len >= 0 &&
		    (size_t)len < sizeof(list))
			snprintf(list + len, sizeof(list) - (size_t)len,
			         " (and %u more of its lists, cut since, whose pfns "
			         "were not kept)",
			         (unsigned)c->unnamed);
		_za_report_cut(za, c->pfn[i], what, list);
	}
}

/* --- the memory-hotplug lock ------------------------------------------------------ */

/* Which thread holds za->mem_hotplug_lock: the address of this
 * thread-local, unique per thread. Only the holder writes it, so a thread
 * that reads its own token knows it holds the lock. */
static ZA_THREAD_LOCAL char hotplug_token;

/* The lock for free page reporting's batch (reporting.c), which must keep
 * memory offline and contiguous allocation out but not compaction: the
 * batch's blocks are on no list and in no one's use, which the scanners
 * skip, and a batch that kept compaction out for its callback made every
 * direct compaction meanwhile skip (review 9 finding 3). */
void mem_hotplug_lock_beside_compaction(struct za *za)
{
	za_mutex_lock(&za->mem_hotplug_lock);
	za_store_relaxed(&za->mem_hotplug_owner, (void *)&hotplug_token);
}

void mem_hotplug_unlock_beside_compaction(struct za *za)
{
	za_store_relaxed(&za->mem_hotplug_owner, NULL);
	za_mutex_unlock(&za->mem_hotplug_lock);
}

/* Everyone else's hold: the same, with compaction passes kept out. */
void mem_hotplug_lock(struct za *za)
{
	mem_hotplug_lock_beside_compaction(za);
	_za_compaction_exclude(za, true);
}

void mem_hotplug_unlock(struct za *za)
{
	_za_compaction_exclude(za, false);
	mem_hotplug_unlock_beside_compaction(za);
}

bool mem_hotplug_held_by_me(const struct za *za)
{
	return za_load_relaxed(&za->mem_hotplug_owner) == (void *)&hotplug_token ||
	       _za_in_compaction(za);
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
	static ZA_THREAD_LOCAL uint32_t s = 2463534242u;
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

/* What a zero field of struct za_config means (zonealloc.h), and the
 * bounds of the fields a config may set. */
#define DEFAULT_PAGE_SHIFT 12 /* 4 KiB pages */
#define MIN_PAGE_SHIFT 9
#define MAX_PAGE_SHIFT 30
#define DEFAULT_MAX_ORDER 10              /* the kernel's default MAX_ORDER */
#define DEFAULT_PAGEBLOCK_ORDER 9         /* 2 MiB with 4 KiB pages */
#define DEFAULT_BLOCK_BYTES (128ul << 20) /* memory hotplug block (x86-64) */
#define MAX_BLOCK_PAGES (1ul << 31)       /* frame numbers stay below 2^32 */
#define DEFAULT_MAX_PFN (1ul << 28)       /* 1 TiB of 4 KiB pages */
#define DEFAULT_OFFLINE_TIMEOUT_MS 5000
#define DEFAULT_VMSTAT_INTERVAL_MS 1000
#define LOCAL_DISTANCE 10 /* the kernel's (ACPI SLIT) scale */
#define REMOTE_DISTANCE 20

static bool is_pow2(unsigned long x)
{
	return x && !(x & (x - 1));
}

static int resolve_config(struct za *za, const struct za_config *cfg)
{
	static const struct za_config zero;
	if (!cfg)
		cfg = &zero;

	za->page_shift = cfg->page_shift ? cfg->page_shift : DEFAULT_PAGE_SHIFT;
	if (za->page_shift < MIN_PAGE_SHIFT || za->page_shift > MAX_PAGE_SHIFT)
		return -EINVAL;
	za->nr_nodes = cfg->nr_nodes ? cfg->nr_nodes : 1;
	if (za->nr_nodes > ZA_MAX_NODES)
		return -EINVAL;
	za->nr_cpus = cfg->nr_cpus ? cfg->nr_cpus : za_os_nr_cpus();
	if (za->nr_cpus > ZA_MAX_CPUS)
		return -EINVAL;
	za->max_order = cfg->max_order ? cfg->max_order : DEFAULT_MAX_ORDER;
	if (za->max_order > ZA_MAX_ORDER_LIMIT)
		return -EINVAL;
	if (cfg->pageblock_order > za->max_order)
		return -EINVAL;
	za->pageblock_order = cfg->pageblock_order
	                          ? cfg->pageblock_order
	                          : (za->max_order < DEFAULT_PAGEBLOCK_ORDER
	                                 ? za->max_order
	                                 : DEFAULT_PAGEBLOCK_ORDER);
	for (unsigned o = 0; o <= ZA_PCP_SMALL_ORDER; o++)
		za->order_pages[o] = 1 << o;

	/* A block holds whole max-order blocks and whole pageblocks. */
	unsigned long min_block = 1ul << za->max_order;
	if (cfg->block_pages) {
		/* Frame numbers stay below 2^32: so does a block. */
		if (!is_pow2(cfg->block_pages) || cfg->block_pages < min_block ||
		    cfg->block_pages > MAX_BLOCK_PAGES)
			return -EINVAL;
		za->block_pages = cfg->block_pages;
	} else {
		za->block_pages = DEFAULT_BLOCK_BYTES >> za->page_shift;
		if (za->block_pages < min_block)
			za->block_pages = min_block;
	}
	za->block_shift = (unsigned)__builtin_ctzl(za->block_pages);

	unsigned long max_pfn = cfg->max_pfn ? cfg->max_pfn : DEFAULT_MAX_PFN;
	/* Round up to whole blocks, then the limit: every frame number stays
	 * below ZA_NIL (2^32 - 1, a list's end), so the last block ends at
	 * 2^32 - block_pages at most. The test is of the rounded value: one
	 * that rounds up to an allowed end is allowed, one that rounds past
	 * it is not. */
	if (max_pfn > (1ul << 32) - za->block_pages)
		return -EINVAL;
	za->max_pfn = (max_pfn + za->block_pages - 1) & ~(za->block_pages - 1);
	za->nr_sections = za->max_pfn >> za->block_shift;

	unsigned online = cfg->online_cpus ? cfg->online_cpus : za->nr_cpus;
	if (online > za->nr_cpus)
		return -EINVAL;
	za->nr_online_cpus = online;

	if (cfg->flags &
	    ~(ZA_CFG_NO_PCP | ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER |
	      ZA_CFG_PCP_FIXED | ZA_CFG_PCP_LOCKED | ZA_CFG_STRICT_FREE |
	      ZA_CFG_PAGE_OWNER | ZA_CFG_POISON | ZA_CFG_INIT_ON_ALLOC |
	      ZA_CFG_NO_KCOMPACTD | ZA_CFG_NO_COMPACTION))
		return -EINVAL;
	za->flags = cfg->flags;
	/* The debugging aids add theirs in _za_debug_init. */
	za->nofast = (za->flags & ZA_CFG_NO_PCP) ? ZA_NOFAST_NO_PCP : 0;
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
	za->offline_timeout_ms = cfg->offline_timeout_ms
	                             ? cfg->offline_timeout_ms
	                             : DEFAULT_OFFLINE_TIMEOUT_MS;
	za->vmstat_interval_ms = cfg->vmstat_interval_ms
	                             ? cfg->vmstat_interval_ms
	                             : DEFAULT_VMSTAT_INTERVAL_MS;
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
			                      : (a == b ? LOCAL_DISTANCE
			                                : REMOTE_DISTANCE);
			/* A node is nearest to itself; distances are positive. */
			if (!d || (a != b && cfg->node_distance &&
			           d < cfg->node_distance[a * za->nr_nodes + a]))
				return -EINVAL;
			za->node_distance[a * za->nr_nodes + b] = d;
		}
	}
	for (unsigned c = 0; c < za->nr_cpus; c++) {
		int n = cfg->cpu_node
		            ? cfg->cpu_node[c]
		            : (int)((unsigned long)c * za->nr_nodes / za->nr_cpus);
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
	za_os_rseq_default();
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
			za_err_printf("zonealloc: per-CPU lists run locked: %s "
			              "(%s)\n",
			              lack, za_os_strerror(-err));
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
	z->id = zone_id_make(node->nid, type);
	za->zone_by_id[z->id] = z;
	for (unsigned o = 0; o <= za->max_order; o++)
		for (int mt = 0; mt < ZA_NR_MIGRATETYPES; mt++)
			z->free_head[o][mt] = ZA_NIL;
	z->lazy_head = ZA_NIL;
	memset(&z->cuts, 0, sizeof(z->cuts));
	z->pcp = za_pcp_of(za, z->id, 0);
	for (unsigned c = 0; c < za->nr_cpus; c++) {
		struct za_pcp *pcp = &z->pcp[c];
		for (int i = 0; i < ZA_NR_PCP_LISTS; i++)
			pcp->lists[i] = ZA_NIL;
		pcp->flags = za->cpu_online[c] ? 0 : ZA_PCP_OFF_CPU;
		pcp->batch = 1;
		pcp->cpu = (uint16_t)c;
		pcp->zone = z;
		pcp->numa_local = za->cpu_node[c] == node->nid;
		pcp->corrupt_pfn = ZA_NIL;
		for (int i = 0; i < ZA_PCP_CUTS_KEPT - 1; i++)
			pcp->corrupt_next[i] = ZA_NIL;
	}
	/* The dead set: off for good (the sequence of the leaves refuses
	 * it), its lists empty; nothing else ever touches it. */
	struct za_pcp *dead = za_pcp_dead(za, z->id);
	for (int i = 0; i < ZA_NR_PCP_LISTS; i++)
		dead->lists[i] = ZA_NIL;
	dead->flags = ZA_PCP_OFF_MASK;
	dead->cpu = (uint16_t)za->nr_cpus;
	dead->zone = z;
	dead->corrupt_pfn = ZA_NIL;
	for (int i = 0; i < ZA_PCP_CUTS_KEPT - 1; i++)
		dead->corrupt_next[i] = ZA_NIL;
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
	_za_debug_fini(za);
	_za_reporting_fini(za);
	memmap_fini(za);
	za_mutex_destroy(&za->mem_hotplug_lock);
	za_mutex_destroy(&za->compact_lock);
	za_cond_destroy(&za->compact_idle);
	za_mutex_destroy(&za->cpu_hotplug_lock);
	za_mutex_destroy(&za->drain_lock);
	za_mutex_destroy(&za->tunables_lock);
	za_mutex_destroy(&za->vmstat_lock);
	za_mutex_destroy(&za->sysctl_lock);
	za_cond_destroy(&za->vmstat_wait);
	za_meta_free(za, za->nodes);
	za_meta_free(za, za->pcp_all);
	za_meta_free(za, za->cpu_pcp);
	za_meta_free(za, za->rseq_pcp);
	za_meta_free(za, za->rseq_free_row);
	za_meta_free(za, za->rseq_none);
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
	za->pid = za_os_process_id();
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
		err = za_mutex_init(&za->tunables_lock, ZA_RANK_TUNABLES,
		                    "tunables_lock");
	if (!err)
		err = za_mutex_init(&za->drain_lock, ZA_RANK_DRAIN, "drain_lock");
	if (!err)
		err = za_mutex_init(&za->vmstat_lock, ZA_RANK_LEAF, "vmstat_lock");
	if (!err)
		err = za_mutex_init(&za->sysctl_lock, ZA_RANK_LEAF, "sysctl_lock");
	if (!err)
		err = za_cond_init(&za->vmstat_wait);
	/* The locks a client callback may run under are this allocator's
	 * (the witness orders locks per allocator; witness.c). The others
	 * are never held across a callback: without a domain, each is
	 * checked against every lock held. */
	za_mutex_set_domain(&za->mem_hotplug_lock, za);
	za_mutex_set_domain(&za->cpu_hotplug_lock, za);
	za_mutex_set_domain(&za->tunables_lock, za);
	za_mutex_set_domain(&za->drain_lock, za);
	if (!err) {
		za->nodes = za_meta_alloc(za, za->nr_nodes * sizeof(struct za_node),
		                          ZA_CACHELINE);
		/* A set for each zone id and CPU, and each zone id's dead set
		 * (struct za, dead_pcp) in the column past the last CPU. */
		size_t nr_sets = (size_t)za->nr_nodes * ZA_NR_ZONES *
		                 (za->nr_cpus + 1);
		za->pcp_all = za_meta_alloc(za, nr_sets * sizeof(struct za_pcp),
		                            ZA_CACHELINE);
		za->cpu_pcp = za_meta_alloc(za,
		                            (size_t)za->nr_cpus * ZA_CPU_PCP_STRIDE *
		                                sizeof(struct za_pcp *),
		                            0);
		/* Every CPU number the kernel may report; where it cannot be
		 * read, the most Linux supports. */
		unsigned slots = za_os_possible_cpus();
		if (!slots)
			slots = ZA_RSEQ_MAX_CPU_IDS;
		if (slots < za->nr_cpus)
			slots = za->nr_cpus;
		za->rseq_pcp_cpus = slots;
		/* What a closed gate's allocation leaf reads
		 * (fast_gates_update): dead_pcp for every CPU number. */
		za->rseq_none = za_meta_alloc(za,
		                              (size_t)slots * 16 * sizeof(uintptr_t),
		                              ZA_CACHELINE);
		if (za->pcp_rseq)
			za->rseq_pcp = za_meta_alloc(za,
			                             (size_t)slots * 16 *
			                                 sizeof(uintptr_t),
			                             ZA_CACHELINE);
		/* In every mode: the free leaf reads its row once the pointer
		 * passed its bound, which a closed gate makes 0 anyway. */
		za->rseq_free_row = za_meta_alloc(za, (size_t)slots * sizeof(char *),
		                                  ZA_CACHELINE);
		if (!za->nodes || !za->pcp_all || !za->cpu_pcp || !za->rseq_none ||
		    !za->rseq_free_row || (za->pcp_rseq && !za->rseq_pcp))
			err = -ENOMEM;
		za->pcp_zone_bytes = (size_t)(za->nr_cpus + 1) * sizeof(struct za_pcp);
		if (!err)
			za->dead_pcp = za_pcp_dead(za, 0);
		/* Every entry names dead_pcp until the zonelists name a set
		 * (write_rseq_pcp); a CPU number of no set keeps it. */
		for (size_t i = 0; !err && i < (size_t)slots * 16; i++) {
			za->rseq_none[i] = (uintptr_t)za->dead_pcp;
			if (za->rseq_pcp)
				za->rseq_pcp[i] = (uintptr_t)za->dead_pcp;
		}
		for (unsigned c = 0; !err && za->rseq_free_row && c < slots; c++)
			za->rseq_free_row[c] = c < za->nr_cpus ? (char *)&za->pcp_all[c]
			                                       : (char *)za->dead_pcp;
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
		err = _za_debug_init(za);
	if (!err)
		fast_gates_update(za);
	if (!err)
		err = reclaim_init(za);
	if (!err)
		err = _za_reporting_init(za);
	if (!err)
		err = _za_compaction_init(za);
	if (!err) {
		mem_hotplug_lock(za);
		tunables_update(za, TUNABLES_MEMORY);
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

/* Whether a background thread of za runs (kswapd, kcompactd, the
 * statistics worker, the reporting thread). */
static bool has_threads(const struct za *za)
{
	if (za->vmstat_started || _za_reporting_threaded(za))
		return true;
	for (unsigned n = 0; n < za->nr_nodes; n++)
		if (za->nodes[n].kswapd_started ||
		    za_load_relaxed(&za->nodes[n].kcompactd_started))
			return true;
	return false;
}

void za_destroy(struct za *za)
{
	if (!za)
		return;
	/* A child of fork() has none of its parent's threads: nothing there
	 * can stop or join them (pthread_join reads a stack the child may
	 * no longer have: SIGSEGV), and the waits and locks they were in at
	 * the fork never end in the child (destroying a condition variable
	 * kswapd waited on blocks for ever). The child's copy is left as it
	 * is: it goes with the child's exit or exec. Without background
	 * threads the copy is the child's own and goes normally. */
	if (za->pid != za_os_process_id() && has_threads(za)) {
		_za_report_misuse(za, -EINVAL,
		                  "za_destroy in process %d of an allocator with "
		                  "background threads that process %d created: a "
		                  "child of fork() may not use it; nothing released",
		                  za_os_process_id(), za->pid);
		return;
	}
	/* Reporting first: its batch in flight goes back to the lists. */
	_za_reporting_stop(za);
	za_store_relaxed(&za->stopping, true);
	vmstat_stop(za);
	reclaim_stop(za);
	_za_kcompactd_stop(za);
	/* Memory still online is the client's again: the NUMA preference
	 * online gave it goes (memory_hotplug.c; only with several nodes). */
	if (za->nr_nodes > 1)
		backing_unbind(za, 0, za->max_pfn);
	free_all(za);
}

/* --- topology queries ---------------------------------------------------------------- */

/* A NULL za answers 0 (the header's rule for NULL). */
unsigned za_nr_cpus(const struct za *za)
{
	return za ? za->nr_cpus : 0;
}
unsigned za_nr_nodes(const struct za *za)
{
	return za ? za->nr_nodes : 0;
}
unsigned za_max_order(const struct za *za)
{
	return za ? za->max_order : 0;
}
unsigned za_pageblock_order(const struct za *za)
{
	return za ? za->pageblock_order : 0;
}
unsigned long za_block_pages(const struct za *za)
{
	return za ? za->block_pages : 0;
}
unsigned za_page_shift(const struct za *za)
{
	return za ? za->page_shift : 0;
}
size_t za_page_meta_size(void)
{
	return sizeof(struct za_page);
}

int za_cpu_to_node(const struct za *za, unsigned cpu)
{
	if (!za || cpu >= za->nr_cpus)
		return -EINVAL;
	return za->cpu_node[cpu];
}
