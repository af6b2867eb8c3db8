/*
 * libc_stub.c - the C library of the freestanding link check
 * (tests/freestanding.cmake): exactly the functions docs/ARCHITECTURE.md
 * ("Embedding") says an embedder supplies, declared by the stub headers
 * of include/, and an entry point. The core, tests/freestanding/
 * platform_stub.c and this file are linked with -nostdlib and libgcc
 * alone: a C library or platform function the core calls that the docs
 * and these stubs do not name is an undefined reference. Never run, so
 * the bodies are only as good as a link needs (formatting writes
 * nothing, qsort does not sort).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int errno;

void *memset(void *s, int c, size_t n)
{
	unsigned char *p = s;
	while (n--)
		*p++ = (unsigned char)c;
	return s;
}

void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
	unsigned char *a = d;
	const unsigned char *b = s;
	while (n--)
		*a++ = *b++;
	return d;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++)
		if (*a != *b || !*a)
			return (unsigned char)*a - (unsigned char)*b;
	return 0;
}

int strcmp(const char *a, const char *b)
{
	return strncmp(a, b, (size_t)-1);
}

int vsnprintf(char *restrict s, size_t n, const char *restrict fmt, va_list ap)
{
	(void)fmt, (void)ap;
	if (n)
		*s = 0;
	return 0;
}

int snprintf(char *restrict s, size_t n, const char *restrict fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(s, n, fmt, ap);
	va_end(ap);
	return r;
}

void qsort(void *base, size_t n, size_t size,
           int (*cmp)(const void *, const void *))
{
	(void)base, (void)n, (void)size, (void)cmp;
}

/* The entry point of the linked image (-nostdlib: no crt files). */
void _start(void);
void _start(void)
{
	for (;;)
		;
}
