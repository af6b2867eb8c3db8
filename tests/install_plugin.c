/*
 * install_plugin.c - a shared object that links libzonealloc.a and hands
 * its caller the API, as a plugin would: tests/install_check.sh and
 * tests/install_cmake_check.sh build it against a scratch install, and
 * the tree's shared_dlclose test loads it like libzonealloc.so, runs
 * restartable sequences, closes it and must survive the kernel's next
 * look at the thread (the archive asks for -z nodelete).
 *
 * SPDX-License-Identifier: MIT
 */
#include <zonealloc.h>

struct za *(*plugin_create)(const struct za_config *) = za_create;
int (*plugin_online)(struct za *, int, enum za_zone_type, unsigned long,
                     unsigned long, void *) = za_memory_online;
struct za_page *(*plugin_alloc)(struct za *, za_gfp_t,
                                unsigned) = za_alloc_pages;
void (*plugin_free)(struct za *, struct za_page *, unsigned) = za_free_pages;
void (*plugin_destroy)(struct za *) = za_destroy;
