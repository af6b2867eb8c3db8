/* Freestanding stub (tests/freestanding): formatting only - the core
 * never sees a FILE (it writes through za_write_fn). */
#ifndef ZA_STUB_STDIO_H
#define ZA_STUB_STDIO_H
#include <stdarg.h>
#include <stddef.h>
int snprintf(char *restrict s, size_t n, const char *restrict fmt, ...)
    __attribute__((format(printf, 3, 4)));
int vsnprintf(char *restrict s, size_t n, const char *restrict fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
#endif
