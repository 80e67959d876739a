#include <stddef.h>

/* jemalloc's control interface only: its full header also declares malloc and free, which would
   clash with Glibc's in Swift. Linking the library is what makes it the process's malloc. */
int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);
