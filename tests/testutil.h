/*
 * testutil.h - tiny helpers shared by the tests: checks that print where
 * they failed and exit non-zero, a deterministic PRNG, and the iteration
 * scale that sanitizer builds turn down (ZA_TEST_SCALE, percent).
 */
#ifndef ZA_TESTUTIL_H
#define ZA_TESTUTIL_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                           \
	do {                                                                      \
		if (!(cond)) {                                                        \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,  \
			        #cond);                                                   \
			exit(1);                                                          \
		}                                                                     \
	} while (0)

#define CHECK_EQ(a, b)                                                        \
	do {                                                                      \
		long long _a = (long long)(a), _b = (long long)(b);                   \
		if (_a != _b) {                                                       \
			fprintf(stderr,                                                   \
			        "%s:%d: CHECK_EQ failed: %s == %lld, %s == %lld\n",       \
			        __FILE__, __LINE__, #a, _a, #b, _b);                      \
			exit(1);                                                          \
		}                                                                     \
	} while (0)

/* A broken rule: print the message (naming the rule, a printf format)
 * and fail. scripts/mutants.sh counts "RULE BROKEN" as an assertion. */
#define RULE(cond, ...)                                                       \
	do {                                                                      \
		if (!(cond)) {                                                        \
			fprintf(stderr, "%s:%d: RULE BROKEN: ", __FILE__, __LINE__);      \
			fprintf(stderr, __VA_ARGS__);                                     \
			fputc('\n', stderr);                                              \
			exit(1);                                                          \
		}                                                                     \
	} while (0)

/* xorshift64*: deterministic per seed. */
static inline uint64_t tu_rand(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Scale an iteration count by ZA_TEST_SCALE percent (at least 1). */
static inline long tu_scale(long n)
{
	const char *e = getenv("ZA_TEST_SCALE");
	long pct = e ? atol(e) : 100;
	if (pct <= 0)
		pct = 100;
	n = n * pct / 100;
	return n > 0 ? n : 1;
}

/* Watchdog: if the test is still running after seconds, print why and
 * exit non-zero (a deadlock shows up as a failure, not as a ctest
 * timeout). Call once near the start of main(); 0 disables it. */
#include <signal.h>
#include <string.h>
#include <unistd.h>
static inline void tu_watchdog_fire_(int sig)
{
	static const char msg[] = "watchdog: test did not finish in time "
	                          "(deadlock or livelock?)\n";
	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0) {
		/* nothing more to do */
	}
	_exit(2);
}
static inline void tu_watchdog(unsigned seconds)
{
	signal(SIGALRM, tu_watchdog_fire_);
	alarm(seconds);
}

/* A time budget for a loop of fixed work in a long stress test. Such a
 * loop runs its rounds, but stops early once the budget is spent and at
 * least min rounds are done: on a slow machine (the emulated Arm guest of
 * `make test-aarch64-vm`, a host busy with other builds) it does fewer
 * rounds instead of letting the watchdog take slowness for a deadlock.
 * A round that hangs still trips the watchdog. The test prints the rounds
 * it ran. */
#include <stdbool.h>
#include <time.h>
struct tu_budget {
	struct timespec t0;
	double seconds;
};
static inline struct tu_budget tu_budget(double seconds)
{
	struct tu_budget b = { .seconds = seconds };
	clock_gettime(CLOCK_MONOTONIC, &b.t0);
	return b;
}
static inline bool tu_budget_spent(const struct tu_budget *b, long done,
                                   long min)
{
	if (done < min)
		return false;
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	double dt = (double)(t.tv_sec - b->t0.tv_sec) +
	            (double)(t.tv_nsec - b->t0.tv_nsec) / 1e9;
	return dt >= b->seconds;
}

/* Death tests: run fn in a forked child; the signal that ended it, or 0
 * when it returned. */
#include <sys/wait.h>
static inline int tu_run_child(void (*fn)(void))
{
	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		fn();
		_exit(0);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

#endif
