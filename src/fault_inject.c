/*
 * fault_inject.c - page-allocation fault injection with the knobs and the
 * rules of the kernel's fail_page_alloc (Documentation/fault-injection),
 * set through za_sysctl_set as "fail_page_alloc.<knob>":
 *
 *   probability        percent of the calls that pass the other tests
 *                      that fail (0..100; 0: never)
 *   interval           only every interval-th such call may fail
 *                      (0 and 1: every call)
 *   times              failures left, -1: no limit (default 1, as the
 *                      kernel's; it counts down with each failure)
 *   space              pages let through before failures start (each
 *                      call's 2^order pages are taken off it first)
 *   min-order          only requests of this order or more fail
 *                      (default 1, as the kernel's: order 0 never fails)
 *   ignore-gfp-wait    Y: requests that may wait (direct reclaim:
 *                      ZA_GFP_KERNEL, ZA_GFP_MOVABLE) never fail, only
 *                      ZA_GFP_NOWAIT and ZA_GFP_ATOMIC ones (default Y)
 *   ignore-gfp-atomic  Y: ZA_GFP_ATOMIC requests never fail (the kernel's
 *                      ignore-gfp-highmem, which has no meaning here;
 *                      default Y)
 *   verbose            0: quiet; 1: a line on stderr per failure; 2: the
 *                      line names the call site (default 2). A request
 *                      with ZA_GFP_NOWARN fails quietly.
 *
 * ZA_GFP_NOFAIL requests never fail. A failed request returns NULL with
 * errno = ENOMEM at once, before the allocator looks at its lists (the
 * kernel's should_fail_alloc_page in prepare_alloc_pages).
 *
 * Armed (probability > 0 and times != 0), it sets ZA_NOFAST_FAULT in
 * za.nofast, so every allocation takes the general path, which asks
 * _za_should_fail_alloc; disarmed, nothing looks at it.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

enum fail_knob {
	FK_PROBABILITY,
	FK_INTERVAL,
	FK_TIMES,
	FK_SPACE,
	FK_MIN_ORDER,
	FK_IGNORE_WAIT,
	FK_IGNORE_ATOMIC,
	FK_VERBOSE,
	FK_NR
};

static const struct fail_def {
	const char *name; /* with the prefix, as za_sysctl_name lists it */
	long min, max;
	bool boolean; /* Y/N (1/0 accepted), read back as Y or N */
} defs[FK_NR] = {
	[FK_PROBABILITY] = { ZA_FAIL_SYSCTL_PREFIX "probability", 0, 100, false },
	[FK_INTERVAL] = { ZA_FAIL_SYSCTL_PREFIX "interval", 0, INT_MAX, false },
	[FK_TIMES] = { ZA_FAIL_SYSCTL_PREFIX "times", -1, INT_MAX, false },
	[FK_SPACE] = { ZA_FAIL_SYSCTL_PREFIX "space", 0, INT_MAX, false },
	[FK_MIN_ORDER] = { ZA_FAIL_SYSCTL_PREFIX "min-order", 0,
	                   ZA_MAX_ORDER_LIMIT, false },
	[FK_IGNORE_WAIT] = { ZA_FAIL_SYSCTL_PREFIX "ignore-gfp-wait", 0, 1, true },
	[FK_IGNORE_ATOMIC] = { ZA_FAIL_SYSCTL_PREFIX "ignore-gfp-atomic", 0, 1,
	                       true },
	[FK_VERBOSE] = { ZA_FAIL_SYSCTL_PREFIX "verbose", 0, 2, false },
};

void _za_fail_init(struct za *za)
{
	struct za_fail_attr *f = &za->fail;
	memset(f, 0, sizeof(*f));
	f->interval = 1;
	f->times = 1;
	f->ignore_gfp_wait = true;
	f->ignore_gfp_atomic = true;
	f->min_order = 1;
	f->verbose = 2;
}

const char *_za_fail_sysctl_name(unsigned i)
{
	return i < FK_NR ? defs[i].name : NULL;
}

static int lookup(const char *name)
{
	for (int i = 0; i < FK_NR; i++)
		if (strcmp(name, defs[i].name + sizeof(ZA_FAIL_SYSCTL_PREFIX) - 1) ==
		    0)
			return i;
	return -1;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

/* One value: a decimal integer (a leading '-' allowed) or, for the Y/N
 * knobs, Y, y, N or n; white space around it ignored. 0, -EINVAL or
 * -ERANGE (too large for an int). */
static int parse_value(const char *s, bool boolean, long *v)
{
	while (is_space(*s))
		s++;
	if (boolean && (*s == 'Y' || *s == 'y' || *s == 'N' || *s == 'n')) {
		*v = *s == 'Y' || *s == 'y';
		s++;
	} else {
		bool neg = *s == '-';
		if (neg)
			s++;
		if (*s < '0' || *s > '9')
			return -EINVAL;
		long x = 0;
		bool overflow = false;
		for (; *s >= '0' && *s <= '9'; s++) {
			if (x > (long)INT_MAX)
				overflow = true;
			else
				x = x * 10 + (*s - '0');
		}
		if (x > (long)INT_MAX)
			overflow = true;
		while (is_space(*s))
			s++;
		if (*s)
			return -EINVAL;
		if (overflow)
			return -ERANGE;
		*v = neg ? -x : x;
		return 0;
	}
	while (is_space(*s))
		s++;
	return *s ? -EINVAL : 0;
}

/* Set or clear ZA_NOFAST_FAULT from the knobs. sysctl_lock held. */
static void rearm_locked(struct za *za)
{
	struct za_fail_attr *f = &za->fail;
	if (za_load_relaxed(&f->probability) > 0 && za_load_relaxed(&f->times))
		__atomic_fetch_or(&za->nofast, ZA_NOFAST_FAULT, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&za->nofast, (uint8_t)~ZA_NOFAST_FAULT,
		                   __ATOMIC_RELAXED);
	fast_gates_update(za);
}

int _za_fail_sysctl_set(struct za *za, const char *name, const char *value)
{
	int id = lookup(name);
	if (id < 0)
		return -ENOENT;
	long v;
	int err = parse_value(value, defs[id].boolean, &v);
	if (err)
		return err;
	if (v < defs[id].min || v > defs[id].max)
		return -ERANGE;
	struct za_fail_attr *f = &za->fail;
	za_mutex_lock(&za->sysctl_lock);
	switch (id) {
	case FK_PROBABILITY:
		za_store_relaxed(&f->probability, (int)v);
		break;
	case FK_INTERVAL:
		za_store_relaxed(&f->interval, (int)v);
		break;
	case FK_TIMES:
		za_store_relaxed(&f->times, v);
		break;
	case FK_SPACE:
		za_store_relaxed(&f->space, v);
		break;
	case FK_MIN_ORDER:
		za_store_relaxed(&f->min_order, (unsigned)v);
		break;
	case FK_IGNORE_WAIT:
		za_store_relaxed(&f->ignore_gfp_wait, v != 0);
		break;
	case FK_IGNORE_ATOMIC:
		za_store_relaxed(&f->ignore_gfp_atomic, v != 0);
		break;
	case FK_VERBOSE:
		za_store_relaxed(&f->verbose, (int)v);
		break;
	}
	rearm_locked(za);
	za_mutex_unlock(&za->sysctl_lock);
	return 0;
}

int _za_fail_sysctl_get(struct za *za, const char *name, char *buf, size_t len)
{
	int id = lookup(name);
	if (id < 0)
		return -ENOENT;
	struct za_fail_attr *f = &za->fail;
	long v = 0;
	switch (id) {
	case FK_PROBABILITY:
		v = za_load_relaxed(&f->probability);
		break;
	case FK_INTERVAL:
		v = za_load_relaxed(&f->interval);
		break;
	case FK_TIMES:
		v = za_load_relaxed(&f->times);
		break;
	case FK_SPACE:
		v = za_load_relaxed(&f->space);
		break;
	case FK_MIN_ORDER:
		v = za_load_relaxed(&f->min_order);
		break;
	case FK_IGNORE_WAIT:
		v = za_load_relaxed(&f->ignore_gfp_wait);
		break;
	case FK_IGNORE_ATOMIC:
		v = za_load_relaxed(&f->ignore_gfp_atomic);
		break;
	case FK_VERBOSE:
		v = za_load_relaxed(&f->verbose);
		break;
	}
	char text[32];
	int k = defs[id].boolean
	            ? snprintf(text, sizeof(text), "%s", v ? "Y" : "N")
	            : snprintf(text, sizeof(text), "%ld", v);
	return sysctl_copy_out(buf, len, text, k);
}

/* A per-thread xorshift: cheap, and good enough for a percentage. */
static unsigned random_percent(void)
{
	static _Thread_local uint64_t s;
	if (!s)
		s = (za_now_ns() ^ ((uint64_t)(unsigned)za_os_thread_id() << 32)) | 1;
	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return (unsigned)((s >> 11) % 100);
}

/* Take one failure off times (not below 0; -1 means no limit). The last
 * one disarms, under the lock a writer takes, so that a concurrent write
 * of new knobs is not undone. */
static bool take_time(struct za *za)
{
	struct za_fail_attr *f = &za->fail;
	long t = za_load_relaxed(&f->times);
	do {
		if (t == 0)
			return false;
		if (t < 0)
			return true;
	} while (!__atomic_compare_exchange_n(&f->times, &t, t - 1, 0,
	                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	if (t == 1) {
		za_mutex_lock(&za->sysctl_lock);
		rearm_locked(za);
		za_mutex_unlock(&za->sysctl_lock);
	}
	return true;
}

bool _za_should_fail_alloc(struct za *za, za_gfp_t gfp, unsigned order,
                           const void *site)
{
	struct za_fail_attr *f = &za->fail;
	if (order < za_load_relaxed(&f->min_order) || (gfp & ZA___GFP_NOFAIL))
		return false;
	if (za_load_relaxed(&f->ignore_gfp_atomic) && (gfp & ZA___GFP_ATOMIC_RES))
		return false;
	if (za_load_relaxed(&f->ignore_gfp_wait) &&
	    (gfp & ZA___GFP_DIRECT_RECLAIM))
		return false;
	if (za_load_relaxed(&f->times) == 0)
		return false;
	/* The space budget first, as the kernel spends it. Taken by
	 * compare-and-swap: two calls that both read a budget larger than
	 * their pages but not than both would otherwise both pass and leave
	 * it below zero (out of its range, and more pages let through than
	 * it held). */
	long need = 1l << order;
	long space = za_load_relaxed(&f->space);
	while (space > need) {
		ZA_DEBUG_POINT(za, ZA_DP_FAIL_SPACE, NULL);
		if (__atomic_compare_exchange_n(&f->space, &space, space - need, 0,
		                                __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return false;
	}
	int interval = za_load_relaxed(&f->interval);
	if (interval > 1 && za_add_relaxed(&f->calls, 1) % (unsigned long)interval)
		return false;
	if ((unsigned)za_load_relaxed(&f->probability) <= random_percent())
		return false;
	if (!take_time(za))
		return false;
	int verbose = za_load_relaxed(&f->verbose);
	if (verbose && !(gfp & ZA___GFP_NOWARN)) {
		char where[256];
		za_err_printf("zonealloc: FAULT_INJECTION: forcing a failure: "
		              "fail_page_alloc order %u gfp %#x (probability %d, "
		              "interval %d, space %ld, times %ld)%s%s\n",
		              order, gfp, za_load_relaxed(&f->probability), interval,
		              za_load_relaxed(&f->space), za_load_relaxed(&f->times),
		              verbose > 1 ? " at " : "",
		              verbose > 1 ? za_os_symbolize(site, where, sizeof(where))
		                          : "");
	}
	return true;
}
