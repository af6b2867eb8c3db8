/*
 * output.c - formatted text into a writer (za_write_fn).
 *
 * Reports, za_check and the library's messages format through here, so
 * the core needs no stdio: only snprintf-style formatting, which a kernel
 * or unikernel has. The FILE * front ends of the public API live in
 * stdio.c, built in hosted builds only.
 */
#include <stdarg.h>

#include "internal.h"

void za_out_write(struct za_out *o, const char *s, size_t n)
{
	if (o->write && n)
		o->write(o->ctx, s, n);
}

void za_out_puts(struct za_out *o, const char *s)
{
	za_out_write(o, s, strlen(s));
}

void za_out_putc(struct za_out *o, char c)
{
	za_out_write(o, &c, 1);
}

void za_out_vprintf(struct za_out *o, const char *fmt, va_list ap)
{
	char buf[256];
	va_list again;
	if (!o->write)
		return;
	va_copy(again, ap);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0) {
		va_end(again);
		return;
	}
	if ((size_t)n < sizeof(buf)) {
		za_out_write(o, buf, (size_t)n);
	} else {
		/* Longer than any report line: format it once more into
		 * memory of its size (or truncate when there is none). */
		char *big = za_os_alloc((size_t)n + 1, 1);
		if (big) {
			vsnprintf(big, (size_t)n + 1, fmt, again);
			za_out_write(o, big, (size_t)n);
			za_os_free(big);
		} else {
			za_out_write(o, buf, sizeof(buf) - 1);
		}
	}
	va_end(again);
}

void za_out_printf(struct za_out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	za_out_vprintf(o, fmt, ap);
	va_end(ap);
}

/* The platform's error output as a writer. */
static void error_write(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	za_os_error_write(s, n);
}

void za_err_printf(const char *fmt, ...)
{
	struct za_out o = { error_write, NULL };
	va_list ap;
	va_start(ap, fmt);
	za_out_vprintf(&o, fmt, ap);
	va_end(ap);
}
