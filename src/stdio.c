/*
 * stdio.c - the FILE * front ends of the public API (za_report,
 * za_check): a writer that fwrites to the stream. Hosted builds only; a
 * freestanding embedder leaves this file out and calls za_report_write /
 * za_check_write with a writer of its own.
 */
#include <stdio.h>

#include "internal.h"

static void file_write(void *ctx, const char *s, size_t n)
{
	/* A report is written as it is made, some of it under the
	 * allocator's locks: fwrite may be a cancellation point. */
	int c = za_os_cancel_hold();
	fwrite(s, 1, n, (FILE *)ctx);
	za_os_cancel_restore(c);
}

int za_report(struct za *za, enum za_report what, FILE *out)
{
	if (!out)
		return -EINVAL;
	int err = za_report_write(za, what, file_write, out);
	if (err)
		return err;
	/* What sits in the stream's buffer has not been written yet: a full
	 * device shows only on the flush. */
	if (fflush(out) != 0 || ferror(out))
		return -EIO;
	return 0;
}

int za_check(struct za *za, FILE *out)
{
	return za_check_write(za, out ? file_write : NULL, out);
}
