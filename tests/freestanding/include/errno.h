/* Freestanding stub (tests/freestanding): the errno values the core
 * returns. An embedder supplies its own (a kernel's uapi errno.h). */
#ifndef ZA_STUB_ERRNO_H
#define ZA_STUB_ERRNO_H
/* The API reports some failures as NULL + errno: an lvalue, per thread
 * where there are threads. */
extern int errno;
#define EPERM 1
#define ENOENT 2
#define EAGAIN 11
#define ENOMEM 12
#define EBUSY 16
#define EEXIST 17
#define EINVAL 22
#define ENOSPC 28
#define ERANGE 34
#define EDEADLK 35
#define ENOSYS 38
#define EUCLEAN 117
#endif
