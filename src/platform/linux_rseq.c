/*
 * linux_rseq.c - what the restartable page sets need from Linux: the
 * calling thread's rseq area (glibc's registration, or our own where glibc
 * has none), and membarrier's expedited rseq fence, registered once per
 * process. The sequence itself is in rseq-<arch>.h.
 *
 * Without any of these the allocator runs its page sets locked (pcp.c);
 * nothing here is needed for correctness, only for speed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "../platform.h"

/* Tests only: when non-zero, membarrier is refused with this errno, as a
 * seccomp filter would refuse it. */
int _za_os_membarrier_refuse;

#if ZA_HAVE_RSEQ_SEQ
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ZA_RSEQ_SIG, the signature before every abort stub, comes with the
 * sequence (rseq-<arch>.h). */
static long sys_membarrier(int cmd, unsigned flags, int cpu)
{
	if (_za_os_membarrier_refuse) {
		errno = _za_os_membarrier_refuse;
		return -1;
	}
	return syscall(__NR_membarrier, cmd, flags, cpu);
}

/* Our own registration, for a process whose glibc registered none
 * (glibc before 2.35, or GLIBC_TUNABLES=glibc.pthread.rseq=0). The kernel
 * stops writing to it when the thread exits, before its TLS goes away. */
/* Initial-exec, so that it sits at one offset from the thread pointer in
 * every thread (_za_rseq_off); cpu_id starts as "not registered", which
 * the fast paths read as "no CPU" until the slow path registers it. */
static _Thread_local struct rseq self_area
    __attribute__((aligned(32), tls_model("initial-exec"))) = {
	    .cpu_id = (uint32_t)-1, /* RSEQ_CPU_ID_UNINITIALIZED */
    };
static _Thread_local int self_state; /* 0 untried, 1 registered, -1 failed */
static _Thread_local int self_errno; /* the failed registration's errno */
static int said_thread; /* the one line about a failed registration */
long _za_rseq_off;

struct rseq *_za_os_rseq_area_self(void)
{
	if (likely(self_state > 0))
		return &self_area;
	if (self_state < 0)
		return NULL;
	memset(&self_area, 0, sizeof(self_area));
	self_area.cpu_id = (uint32_t)-1; /* RSEQ_CPU_ID_UNINITIALIZED */
	long r = syscall(__NR_rseq, &self_area, 32, 0, ZA_RSEQ_SIG);
	self_state = r == 0 ? 1 : -1;
	if (r != 0) {
		self_errno = errno;
		/* One line per process: this thread's page-set calls take the
		 * buddy lists instead. */
		if (!__atomic_exchange_n(&said_thread, 1, __ATOMIC_RELAXED))
			fprintf(stderr,
			        "zonealloc: rseq registration of a thread "
			        "failed (%s): its calls bypass the per-CPU lists\n",
			        strerror(errno));
		return NULL;
	}
	return &self_area;
}

static pthread_once_t setup_once = PTHREAD_ONCE_INIT;
static int setup_err;
static const char *setup_why;

static void setup(void)
{
	/* Failing here, the allocator says so itself (locked, and why). */
	bool quiet = __rseq_size == 0 && self_state == 0 &&
	             !__atomic_exchange_n(&said_thread, 1, __ATOMIC_RELAXED);
	struct rseq *rs = za_os_rseq_area();
	if (quiet && rs)
		__atomic_store_n(&said_thread, 0, __ATOMIC_RELAXED);
	if (!rs) {
		/* The kernel's answer (ENOSYS: no rseq; EPERM: a seccomp
		 * filter; EBUSY: another library registered the thread). */
		setup_err = self_errno ? -self_errno : -ENOSYS;
		setup_why = "the rseq registration of this thread failed";
		return;
	}
	long cmds = sys_membarrier(MEMBARRIER_CMD_QUERY, 0, 0);
	if (cmds < 0) {
		setup_err = -errno;
		setup_why = "membarrier is refused";
		return;
	}
	if (!(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ) ||
	    !(cmds & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ)) {
		setup_err = -ENOSYS;
		setup_why = "membarrier has no expedited rseq fence";
		return;
	}
	if (sys_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ, 0, 0)) {
		setup_err = -errno;
		setup_why = "membarrier refused to register the rseq fence";
		return;
	}
	__atomic_store_n(&_za_rseq_off,
	                 (long)((char *)rs - (char *)__builtin_thread_pointer()),
	                 __ATOMIC_RELAXED);
}

void za_os_rseq_default(void)
{
	long none = 0;
	long self = (long)((char *)&self_area -
	                   (char *)__builtin_thread_pointer());
	/* Only over "not set": setup's offset, once stored, stays. */
	__atomic_compare_exchange_n(&_za_rseq_off, &none, self, false,
	                            __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

int za_os_rseq_setup(const char **why)
{
	/* A test that refuses membarrier must see the refusal, not a
	 * registration an earlier allocator made. */
	if (_za_os_membarrier_refuse) {
		*why = "membarrier is refused";
		return -_za_os_membarrier_refuse;
	}
	pthread_once(&setup_once, setup);
	*why = setup_why;
	return setup_err;
}

int za_os_fence_cpu(int cpu)
{
	if (sys_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ,
	                   MEMBARRIER_CMD_FLAG_CPU, cpu) == 0)
		return 0;
	int err = errno;
	/* A kernel before 5.10 has no per-CPU fence: fence every CPU. */
	if (err == EINVAL &&
	    sys_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, 0, 0) == 0)
		return 0;
	return -(err == EINVAL ? errno : err);
}

#else /* no restartable sequences on this platform */

int za_os_rseq_setup(const char **why)
{
	*why = "no restartable sequences on this platform";
	return -ENOSYS;
}

int za_os_fence_cpu(int cpu)
{
	(void)cpu;
	return -ENOSYS;
}

#endif
