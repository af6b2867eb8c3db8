/* Freestanding stub (tests/freestanding): the one stdlib function the
 * core uses, qsort (page owner's summary by call site); a kernel has its
 * own sort of the same shape. No malloc, no abort: those go through the
 * platform. */
#ifndef ZA_STUB_STDLIB_H
#define ZA_STUB_STDLIB_H
#include <stddef.h>
void qsort(void *base, size_t n, size_t size,
           int (*cmp)(const void *, const void *));
#endif
