/* Freestanding stub (tests/freestanding): the string functions the core
 * calls, as a kernel or unikernel provides them. */
#ifndef ZA_STUB_STRING_H
#define ZA_STUB_STRING_H
#include <stddef.h>
void *memset(void *s, int c, size_t n);
void *memcpy(void *restrict d, const void *restrict s, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
#endif
