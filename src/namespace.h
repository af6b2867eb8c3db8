/* SPDX-License-Identifier: MIT */
/*
 * namespace.h - the library's private namespace.
 *
 * Inside src/ the shared internal functions keep the short names the
 * kernel's readers know (get_page_from_freelist, free_one_page, ...).
 * A program that embeds the library - a kernel, a unikernel, another
 * allocator - may well define the same names, so every one of them is
 * renamed here to _za_<name> before any declaration is seen: the objects
 * only ever define symbols that start with za_ (the public API) or _za_.
 *
 * internal.h and platform.h include this file first. A new function or
 * variable shared between files of src/ gets a line here (or a _za_ name
 * of its own); the `symbols` test runs nm over both libraries and prints
 * the line to add for anything outside the namespace.
 */
#ifndef ZA_NAMESPACE_H
#define ZA_NAMESPACE_H

#define alloc_general _za_alloc_general
#define alloc_pages_slow _za_alloc_pages_slow
#define backing_unbind _za_backing_unbind
#define buddy_add_lazy_range _za_buddy_add_lazy_range
#define buddy_add_locked _za_buddy_add_locked
#define buddy_alloc_locked _za_buddy_alloc_locked
#define buddy_del_locked _za_buddy_del_locked
#define buddy_free_locked _za_buddy_free_locked
#define buddy_free_range _za_buddy_free_range
#define buddy_report_corrupt_slow _za_buddy_report_corrupt_slow
#define buddy_materialize_range _za_buddy_materialize_range
#define buddy_inside_block _za_buddy_inside_block
#define buddy_move_locked _za_buddy_move_locked
#define buddy_on_list_locked _za_buddy_on_list_locked
#define buddy_refile_locked _za_buddy_refile_locked
#define buddy_set_pageblock_mt_locked _za_buddy_set_pageblock_mt_locked
#define buddy_take_lazy_range _za_buddy_take_lazy_range
#define buddy_unisolate_locked _za_buddy_unisolate_locked
#define build_all_zonelists _za_build_all_zonelists
#define call_oom_handler _za_call_oom_handler
#define direct_reclaim _za_direct_reclaim
#define free_one_page _za_free_one_page
#define free_pages_slow _za_free_pages_slow
#define get_page_from_freelist _za_get_page_from_freelist
#define isolate_range _za_isolate_range
#define mem_hotplug_held_by_me _za_mem_hotplug_held_by_me
#define mem_hotplug_lock _za_mem_hotplug_lock
#define mem_hotplug_lock_beside_compaction                                    \
	_za_mem_hotplug_lock_beside_compaction
#define mem_hotplug_unlock _za_mem_hotplug_unlock
#define mem_hotplug_unlock_beside_compaction                                  \
	_za_mem_hotplug_unlock_beside_compaction
#define memmap_fini _za_memmap_fini
#define memmap_init _za_memmap_init
#define memmap_init_pages _za_memmap_init_pages
#define memmap_offline_range _za_memmap_offline_range
#define memmap_online_range _za_memmap_online_range
#define memmap_range_online _za_memmap_range_online
#define migrate_range _za_migrate_range
#define pcp_alloc _za_pcp_alloc
#define pcp_alloc_bulk _za_pcp_alloc_bulk
#define pcp_cpu_off _za_pcp_cpu_off
#define pcp_cpu_report _za_pcp_cpu_report
#define pcp_cut_locked _za_pcp_cut_locked
#define pcp_decay_all _za_pcp_decay_all
#define pcp_drain_cpu_zone _za_pcp_drain_cpu_zone
#define pcp_drain_zone _za_pcp_drain_zone
#define pcp_finish_deferred _za_pcp_finish_deferred
#define pcp_flags_slow _za_pcp_flags_slow
#define pcp_flush_locked _za_pcp_flush_locked
#define pcp_free_over_high_locked _za_pcp_free_over_high_locked
#define pcp_mid_room_locked _za_pcp_mid_room_locked
#define pcp_lock _za_pcp_lock
#define pcp_lock_nested _za_pcp_lock_nested
#define pcp_pressure_trim_locked _za_pcp_pressure_trim_locked
#define pcp_publish_sizes_locked _za_pcp_publish_sizes_locked
#define pcp_report_corrupt_all _za_pcp_report_corrupt_all
#define pcp_report_corrupt_slow _za_pcp_report_corrupt_slow
#define pcp_set_flag _za_pcp_set_flag
#define pcp_sizes_now _za_pcp_sizes_now
#define pcp_trylock _za_pcp_trylock
#define pcp_unlock _za_pcp_unlock
#define pcp_unlock_nested _za_pcp_unlock_nested
#define pcp_zone_disable _za_pcp_zone_disable
#define pcp_zone_enable _za_pcp_zone_enable
#define range_all_free_isolated _za_range_all_free_isolated
#define reclaim_fini _za_reclaim_fini
#define reclaim_init _za_reclaim_init
#define reclaim_start _za_reclaim_start
#define reclaim_stop _za_reclaim_stop
#define reserve_highatomic_pageblock _za_reserve_highatomic_pageblock
#define sysctl_copy_out _za_sysctl_copy_out
#define sysctl_init_defaults _za_sysctl_init_defaults
#define take_range _za_take_range
#define take_range_off_lists _za_take_range_off_lists
#define tunables_enter _za_tunables_enter
#define tunables_leave _za_tunables_leave
#define tunables_update _za_tunables_update
#define unisolate_range _za_unisolate_range
#define unreserve_highatomic_pageblock _za_unreserve_highatomic_pageblock
#define vmstat_fold_all _za_vmstat_fold_all
#define vmstat_fold_cpu_zone _za_vmstat_fold_cpu_zone
#define vmstat_fold_zone _za_vmstat_fold_zone
#define vmstat_kick _za_vmstat_kick
#define vmstat_start _za_vmstat_start
#define vmstat_stop _za_vmstat_stop
#define vmstat_update_thresholds_locked _za_vmstat_update_thresholds_locked
#define vmstat_v0_events _za_vmstat_v0_events
#define vmstat_v0_nr_events _za_vmstat_v0_nr_events
#define vmstat_v0_nr_zone_stats _za_vmstat_v0_nr_zone_stats
#define vmstat_v0_zone_stats _za_vmstat_v0_zone_stats
#define vrun_add _za_vrun_add
#define vrun_check _za_vrun_check
#define vrun_remove _za_vrun_remove
#define wakeup_kswapd _za_wakeup_kswapd
#define write_rseq_pcp _za_write_rseq_pcp
#define zero_block _za_zero_block
#define zone_fast_refresh _za_zone_fast_refresh
#define zone_free_counted _za_zone_free_counted
#define zone_free_estimate _za_zone_free_estimate
#define zone_stat_global _za_zone_stat_global
#define zone_stat_snapshot _za_zone_stat_snapshot
#define zone_watermark_ok _za_zone_watermark_ok

#endif /* ZA_NAMESPACE_H */
