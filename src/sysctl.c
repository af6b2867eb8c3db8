/*
 * sysctl.c - runtime tunables with the names, ranges and effects of the
 * kernel's /proc/sys/vm files: min_free_kbytes, watermark_scale_factor,
 * lowmem_reserve_ratio, percpu_pagelist_high_fraction (which act at once,
 * through tunables_update, the recompute memory and CPU hotplug and
 * reclaim pressure run too), and watermark_boost_factor,
 * compaction_proactiveness, extfrag_threshold (read by compaction.c when
 * it boosts, wakes kcompactd, and decides).
 *
 * A write parses and checks the whole value before it touches anything,
 * so a rejected write changes nothing. It then stores the value under
 * tunables_lock, the lock every recompute holds, so that no recompute
 * reads half a write and every recompute reads the tunables without
 * further locking, and recomputes (tunables_update). Like every holder
 * of tunables_lock it lets go through tunables_leave, which runs the
 * recompute a CPU flip left while the lock was busy. The values are
 * stored under sysctl_lock too, a leaf, which is all a read takes:
 * reading never waits for a recompute. Neither takes a hotplug lock, and
 * nobody holds tunables_lock while calling a client: a migrate callback
 * (under the memory-hotplug lock), a shrinker or an OOM handler may read
 * and write (tests/test_hostile_callbacks.c; the mutant
 * sysctl-write-takes-hotplug-lock).
 */
#include <string.h>

#include "internal.h"

enum sysctl_id {
	SC_MIN_FREE_KBYTES,
	SC_WATERMARK_SCALE_FACTOR,
	SC_WATERMARK_BOOST_FACTOR,
	SC_LOWMEM_RESERVE_RATIO,
	SC_PERCPU_PAGELIST_HIGH_FRACTION,
	SC_COMPACTION_PROACTIVENESS,
	SC_EXTFRAG_THRESHOLD,
	SC_NR
};

static const struct sysctl_def {
	const char *name;
	long min, max;      /* each value's range */
	unsigned nr_values; /* 1, or one per zone */
	bool recompute;     /* an input of tunables_update */
} defs[SC_NR] = {
	[SC_MIN_FREE_KBYTES] = { "min_free_kbytes", 0, INT_MAX, 1, true },
	[SC_WATERMARK_SCALE_FACTOR] = { "watermark_scale_factor", 1, 3000, 1,
	                                true },
	[SC_WATERMARK_BOOST_FACTOR] = { "watermark_boost_factor", 0, INT_MAX, 1,
	                                false },
	[SC_LOWMEM_RESERVE_RATIO] = { "lowmem_reserve_ratio", 0, INT_MAX,
	                              ZA_NR_ZONES, true },
	/* 1..7 are refused too (below): a list may not hold more than an
	 * eighth of its zone. */
	[SC_PERCPU_PAGELIST_HIGH_FRACTION] = { "percpu_pagelist_high_fraction", 0,
	                                       INT_MAX, 1, true },
	[SC_COMPACTION_PROACTIVENESS] = { "compaction_proactiveness", 0, 100, 1,
	                                  false },
	[SC_EXTFRAG_THRESHOLD] = { "extfrag_threshold", 0, 1000, 1, false },
};
#define MIN_HIGH_FRACTION 8

/* The kernel's defaults. */
#define DEFAULT_WATERMARK_SCALE_FACTOR 10    /* 0.1% of a zone */
#define DEFAULT_WATERMARK_BOOST_FACTOR 15000 /* 150% of the high mark */
#define DEFAULT_LOWMEM_RESERVE_RATIO                                          \
	{                                                                         \
		256, 256, 32, 0                                                       \
	}                               /* DMA..MOVABLE */
#define DEFAULT_PCP_HIGH_FRACTION 0 /* high sized by the low mark */
#define DEFAULT_COMPACTION_PROACTIVENESS 20
#define DEFAULT_EXTFRAG_THRESHOLD 500

void sysctl_init_defaults(struct za *za)
{
	static const unsigned ratio[ZA_NR_ZONES] = DEFAULT_LOWMEM_RESERVE_RATIO;
	za->watermark_scale_factor = DEFAULT_WATERMARK_SCALE_FACTOR;
	za->watermark_boost_factor = DEFAULT_WATERMARK_BOOST_FACTOR;
	memcpy(za->lowmem_reserve_ratio, ratio, sizeof(ratio));
	za->percpu_pagelist_high_fraction = DEFAULT_PCP_HIGH_FRACTION;
	za->compaction_proactiveness = DEFAULT_COMPACTION_PROACTIVENESS;
	za->extfrag_threshold = DEFAULT_EXTFRAG_THRESHOLD;
}

const char *za_sysctl_name(unsigned i)
{
	/* Then page-allocation fault injection's (fault_inject.c). */
	return i < SC_NR ? defs[i].name : _za_fail_sysctl_name(i - SC_NR);
}

static int lookup(const char *name)
{
	for (int i = 0; i < SC_NR; i++)
		if (strcmp(name, defs[i].name) == 0)
			return i;
	return -1;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

/* Up to max decimal integers separated by white space. Returns how many
 * were read, -EINVAL for text that is not that, -ERANGE when one does not
 * fit in an int (the syntax of the whole text is checked first). */
static int parse_values(const char *s, long *v, unsigned max)
{
	unsigned n = 0;
	bool overflow = false;
	for (;;) {
		while (is_space(*s))
			s++;
		if (!*s)
			break;
		if (n == max)
			return -EINVAL; /* more values than the tunable has */
		bool neg = *s == '-';
		if (neg)
			s++;
		if (*s < '0' || *s > '9')
			return -EINVAL;
		long x = 0;
		for (; *s >= '0' && *s <= '9'; s++) {
			if (x > (long)INT_MAX)
				overflow = true; /* keep reading: syntax first */
			else
				x = x * 10 + (*s - '0');
		}
		if (*s && !is_space(*s))
			return -EINVAL; /* "12abc", "1.5", "0x10" */
		v[n++] = neg ? -x : x;
	}
	if (!n)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (v[i] > INT_MAX || v[i] < -(long)INT_MAX)
			overflow = true;
	return overflow ? -ERANGE : (int)n;
}

int za_sysctl_set(struct za *za, const char *name, const char *value)
{
	if (!za || !name || !value)
		return -EINVAL;
	if (!strncmp(name, ZA_FAIL_SYSCTL_PREFIX,
	             sizeof(ZA_FAIL_SYSCTL_PREFIX) - 1))
		return _za_fail_sysctl_set(za,
		                           name + sizeof(ZA_FAIL_SYSCTL_PREFIX) - 1,
		                           value);
	int id = lookup(name);
	if (id < 0)
		return -ENOENT;
	const struct sysctl_def *d = &defs[id];
	long v[ZA_NR_ZONES];
	int n = parse_values(value, v, d->nr_values);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++)
		if (v[i] < d->min || v[i] > d->max)
			return -ERANGE;
	if (id == SC_PERCPU_PAGELIST_HIGH_FRACTION && v[0] &&
	    v[0] < MIN_HIGH_FRACTION)
		return -ERANGE;

	bool poke = false;
	tunables_enter(za);
	za_mutex_lock(&za->sysctl_lock);
	switch (id) {
	case SC_MIN_FREE_KBYTES:
		za->min_free_kbytes_user = (unsigned long)v[0];
		za->min_free_kbytes_set = true;
		break;
	case SC_WATERMARK_SCALE_FACTOR:
		za->watermark_scale_factor = (unsigned)v[0];
		break;
	case SC_WATERMARK_BOOST_FACTOR:
		/* Read unlocked by the buddy code (compaction.c). */
		za_store_relaxed(&za->watermark_boost_factor, (unsigned)v[0]);
		break;
	case SC_LOWMEM_RESERVE_RATIO:
		for (int i = 0; i < n; i++)
			za->lowmem_reserve_ratio[i] = (unsigned)v[i];
		break;
	case SC_PERCPU_PAGELIST_HIGH_FRACTION:
		za->percpu_pagelist_high_fraction = (unsigned)v[0];
		break;
	case SC_COMPACTION_PROACTIVENESS:
		/* Read unlocked by kcompactd (compaction.c). */
		za_store_relaxed(&za->compaction_proactiveness, (unsigned)v[0]);
		poke = v[0] != 0;
		break;
	case SC_EXTFRAG_THRESHOLD:
		/* Read unlocked by direct compaction (compaction.c). */
		za_store_relaxed(&za->extfrag_threshold, (unsigned)v[0]);
		break;
	}
	za_mutex_unlock(&za->sysctl_lock);
	/* Also for a value no recompute reads: a CPU flip that found the
	 * lock busy left its recompute to us. */
	tunables_leave(za);
	/* As the kernel: kcompactd looks at the score at once. */
	if (poke)
		_za_kcompactd_poke(za);
	if (d->recompute)
		tunables_update(za, TUNABLES_SYSCTL);
	return 0;
}

int za_sysctl_get(struct za *za, const char *name, char *buf, size_t len)
{
	if (!za || !name || (!buf && len))
		return -EINVAL;
	if (!strncmp(name, ZA_FAIL_SYSCTL_PREFIX,
	             sizeof(ZA_FAIL_SYSCTL_PREFIX) - 1))
		return _za_fail_sysctl_get(za,
		                           name + sizeof(ZA_FAIL_SYSCTL_PREFIX) - 1,
		                           buf, len);
	int id = lookup(name);
	if (id < 0)
		return -ENOENT;
	char text[ZA_SYSCTL_VALUE_MAX];
	int k = 0;
	za_mutex_lock(&za->sysctl_lock);
	switch (id) {
	case SC_MIN_FREE_KBYTES:
		/* The value in effect, computed or written. */
		k = snprintf(text, sizeof(text), "%lu",
		             za_load_relaxed(&za->min_free_kbytes));
		break;
	case SC_WATERMARK_SCALE_FACTOR:
		k = snprintf(text, sizeof(text), "%u", za->watermark_scale_factor);
		break;
	case SC_WATERMARK_BOOST_FACTOR:
		k = snprintf(text, sizeof(text), "%u", za->watermark_boost_factor);
		break;
	case SC_LOWMEM_RESERVE_RATIO:
		for (int i = 0; i < ZA_NR_ZONES; i++)
			k += snprintf(text + k, sizeof(text) - (size_t)k, "%s%u",
			              i ? " " : "", za->lowmem_reserve_ratio[i]);
		break;
	case SC_PERCPU_PAGELIST_HIGH_FRACTION:
		k = snprintf(text, sizeof(text), "%u",
		             za->percpu_pagelist_high_fraction);
		break;
	case SC_COMPACTION_PROACTIVENESS:
		k = snprintf(text, sizeof(text), "%u", za->compaction_proactiveness);
		break;
	case SC_EXTFRAG_THRESHOLD:
		k = snprintf(text, sizeof(text), "%u", za->extfrag_threshold);
		break;
	}
	za_mutex_unlock(&za->sysctl_lock);
	return sysctl_copy_out(buf, len, text, k);
}

int sysctl_copy_out(char *buf, size_t len, const char *text, int k)
{
	if (k < 0 || (size_t)k >= len) {
		if (len)
			buf[0] = 0;
		return -ERANGE;
	}
	memcpy(buf, text, (size_t)k + 1);
	return 0;
}
