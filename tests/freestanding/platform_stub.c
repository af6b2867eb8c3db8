/*
 * platform_stub.c - a platform layer with no operating system under it,
 * for the freestanding build check (tests/freestanding.cmake): every
 * function of src/platform.h the core calls, compiled with -ffreestanding
 * -nostdinc against the stub headers of include/ and linked with the core
 * and libc_stub.c alone, so a platform function the core calls and this
 * file lacks fails the build. It shows what an embedder writes
 * (docs/ARCHITECTURE.md, "Embedding"): here the answers of a single-CPU
 * machine with one static arena and no threads.
 */
#include "platform.h"

#include <errno.h>
#include <stdio.h>

int _za_os_membarrier_refuse;
int _za_os_purge_refuse;

void za_spin_lock_slow(za_spinlock_t *l)
{
	while (!za_spin_trylock_raw(l))
		za_cpu_relax();
}

int za_mutex_init(za_mutex_t *m, enum za_lock_rank rank, const char *name)
{
	m->impl = (void *)0;
	m->rank = rank;
	m->name = name;
	m->domain = (void *)0;
	return 0;
}
void za_mutex_destroy(za_mutex_t *m)
{
	(void)m;
}
void za_mutex_lock(za_mutex_t *m)
{
	za_witness_acquire_in(m->domain, m->rank, m->name, m);
}
bool za_mutex_trylock(za_mutex_t *m)
{
	za_mutex_lock(m);
	return true;
}
void za_mutex_unlock(za_mutex_t *m)
{
	za_witness_release(m->rank);
}
int za_cond_init(za_cond_t *c)
{
	c->impl = (void *)0;
	return 0;
}
void za_cond_destroy(za_cond_t *c)
{
	(void)c;
}
bool za_cond_wait(za_cond_t *c, za_mutex_t *m, uint64_t timeout_ns)
{
	(void)c, (void)m, (void)timeout_ns;
	return false;
}
void za_cond_broadcast(za_cond_t *c)
{
	(void)c;
}
int za_thread_start(za_thread_t *t, void *(*fn)(void *), void *arg,
                    const char *name)
{
	(void)t, (void)fn, (void)arg, (void)name;
	return -ENOSYS; /* no background threads: reclaim runs inline */
}
void za_thread_join(za_thread_t *t)
{
	(void)t;
}

static uint64_t ticks;
uint64_t za_now_ns(void)
{
	return ticks += 1000;
}
void za_sleep_ns(uint64_t ns)
{
	ticks += ns;
}
void za_cpu_relax(void)
{
}
void za_yield(void)
{
}
int za_os_current_cpu_slow(void)
{
	return 0;
}
unsigned za_os_nr_cpus(void)
{
	return 1;
}
unsigned za_os_possible_cpus(void)
{
	return 1;
}
int za_os_rseq_setup(const char **why)
{
	*why = "no restartable sequences";
	return -ENOSYS;
}
int za_os_fence_cpu(int cpu)
{
	(void)cpu;
	return -ENOSYS;
}

size_t za_os_page_size(void)
{
	return 4096;
}
void *za_os_reserve(size_t size)
{
	(void)size;
	return (void *)0;
}
void za_os_release(void *p, size_t size)
{
	(void)p, (void)size;
}
int za_os_commit(void *p, size_t size)
{
	(void)p, (void)size;
	return -ENOMEM;
}
void za_os_purge(void *p, size_t size)
{
	/* Nothing to give back to: zero it, as the contract asks. */
	volatile unsigned char *b = p;
	for (size_t i = 0; i < size; i++)
		b[i] = 0;
}
int za_os_bind_node(void *p, size_t size, int node)
{
	(void)p, (void)size, (void)node;
	return -ENOSYS;
}
int za_os_unbind_node(void *p, size_t size)
{
	(void)p, (void)size;
	return -ENOSYS;
}

void *za_os_alloc(size_t size, size_t align)
{
	(void)size, (void)align;
	return (void *)0;
}
void za_os_free(void *p)
{
	(void)p;
}

int za_os_thread_id(void)
{
	return 1;
}
int za_os_process_id(void)
{
	return 1;
}
const char *za_os_process_name(void)
{
	return "";
}
char *za_os_symbolize(const void *addr, char *buf, size_t len)
{
	/* No symbol table here: the bare address, as the contract allows. */
	if (len)
		snprintf(buf, len, "%p", addr);
	return buf;
}

void za_os_error_write(const char *s, size_t n)
{
	(void)s, (void)n;
}
_Noreturn void za_os_abort(void)
{
	for (;;)
		__builtin_trap();
}
const char *za_os_strerror(int err)
{
	(void)err;
	return "error";
}
_Noreturn void za_die(const char *file, int line, const char *what, int err)
{
	(void)file, (void)line, (void)what, (void)err;
	za_os_abort();
}
