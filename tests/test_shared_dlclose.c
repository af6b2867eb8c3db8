/*
 * test_shared_dlclose.c - the shared library, loaded with dlopen, used,
 * and closed with dlclose (argv[1]: its path).
 *
 * A restartable sequence leaves the thread's rseq area naming its
 * descriptor, which lives in the library; the kernel reads it at the
 * thread's next preemption or signal, before it clears the field. The
 * library is linked -z nodelete, so dlclose leaves it mapped and the
 * thread goes on; unmapped, the kernel kills the thread with SIGSEGV
 * (si_code SI_KERNEL) the next time it looks.
 */
#include "testutil.h"

#include <dlfcn.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zonealloc.h>

#include "platform.h" /* ZA_HAVE_RSEQ_SEQ, as the library was built */

#if ZA_HAVE_RSEQ_SEQ
/* glibc's rseq area of the calling thread (NULL without one). */
static struct rseq *glibc_area(void)
{
	return __rseq_size ? (struct rseq *)((char *)__builtin_thread_pointer() +
	                                     __rseq_offset)
	                   : NULL;
}
#endif

static void on_segv(int sig)
{
	(void)sig;
#if ZA_HAVE_RSEQ_SEQ
	/* The kernel would fail on the unmapped descriptor again at the
	 * next chance and kill the process before the message is out. */
	struct rseq *rs = glibc_area();
	if (rs)
		__atomic_store_n(&rs->rseq_cs, 0, __ATOMIC_RELAXED);
#endif
	static const char msg[] =
	    "RULE BROKEN: a thread that ran the library's restartable "
	    "sequence survives dlclose of the library (SIGSEGV: the kernel "
	    "read an unmapped rseq descriptor)\n";
	if (write(2, msg, sizeof(msg) - 1) < 0) {
		/* nothing more to do */
	}
	_exit(1);
}

static void on_usr1(int sig)
{
	(void)sig;
}

int main(int argc, char **argv)
{
	tu_watchdog(60);
	if (argc < 2) {
		fprintf(stderr, "usage: shared_dlclose LIBRARY\n");
		return 2;
	}
	signal(SIGSEGV, on_segv);
	signal(SIGUSR1, on_usr1);
	/* A few rounds: the kernel clears rseq_cs whenever the thread is
	 * preempted between the last call and dlclose, hiding the bug. */
	for (int round = 0; round < 20; round++) {
		void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
		CHECK(h);
		struct za *(*create)(const struct za_config *) =
		    (struct za * (*)(const struct za_config *)) dlsym(h, "za_create");
		int (*online)(struct za *, int, enum za_zone_type, unsigned long,
		              unsigned long,
		              void *) = (int (*)(struct za *, int, enum za_zone_type,
		                                 unsigned long, unsigned long,
		                                 void *))dlsym(h, "za_memory_online");
		struct za_page *(*alloc)(struct za *, za_gfp_t, unsigned) =
		    (struct za_page * (*)(struct za *, za_gfp_t, unsigned))
		        dlsym(h, "za_alloc_pages");
		void (*release)(struct za *, struct za_page *,
		                unsigned) = (void (*)(struct za *, struct za_page *,
		                                      unsigned))dlsym(h,
		                                                      "za_free_pages");
		void (*destroy)(
		    struct za *) = (void (*)(struct za *))dlsym(h, "za_destroy");
		CHECK(create && online && alloc && release && destroy);
		struct za_config cfg = {
			.block_pages = 1024,
			.max_pfn = 1024,
			.flags = ZA_CFG_NO_KSWAPD | ZA_CFG_NO_VMSTAT_WORKER,
		};
		struct za *za = create(&cfg);
		CHECK(za);
		CHECK_EQ(online(za, 0, ZA_ZONE_NORMAL, 0, 1024, NULL), 0);
		for (int i = 0; i < 1000; i++) {
			struct za_page *p = alloc(za, ZA_GFP_KERNEL, 0);
			CHECK(p);
			release(za, p, 0);
		}
		destroy(za);
		CHECK_EQ(dlclose(h), 0);
#if ZA_HAVE_RSEQ_SEQ
		/* Unless the kernel cleared it already (the thread was
		 * preempted since), the area names the last sequence's
		 * descriptor: it must still be mapped (msync fails with
		 * ENOMEM on an address that is not). */
		struct rseq *rs = glibc_area();
		uint64_t cs = rs ? __atomic_load_n(&rs->rseq_cs, __ATOMIC_RELAXED) : 0;
		if (cs) {
			long pg = sysconf(_SC_PAGESIZE);
			void *page = (void *)(uintptr_t)(cs & ~(uint64_t)(pg - 1));
			int mapped = msync(page, (size_t)pg, MS_ASYNC) == 0;
			__atomic_store_n(&rs->rseq_cs, 0, __ATOMIC_RELAXED);
			RULE(mapped, "after dlclose, the rseq descriptor a thread's "
			             "area names is still mapped (-z nodelete)");
		}
#endif
		/* Preempted or signalled: the kernel reads the area's rseq_cs. */
		raise(SIGUSR1);
		usleep(1000);
	}
	if (ZA_HAVE_RSEQ_SEQ) {
		void *h = dlopen(argv[1], RTLD_NOW | RTLD_NOLOAD);
		RULE(h != NULL, "dlclose leaves the library with the restartable "
		                "sequences' descriptors mapped (-z nodelete)");
		dlclose(h);
	}
	printf("1 passed, 0 failed\n");
	return 0;
}
