/*
 * libc_min.c: the four string.h functions a freestanding build still needs.
 *
 * The examples link with -nostdlib (no newlib: no stdio, no syscalls, no
 * heap), but GCC emits calls to memcpy/memset/memmove/memcmp for struct
 * copies and initialisers whatever the source says, and the weightgate
 * library uses them too. Byte loops: small and obviously right; none of
 * this is on an inference hot path.
 *
 * GCC would turn these loops back into calls to themselves (loop
 * distribution recognises memcpy/memset patterns, -ffreestanding or not):
 * the pragma turns that off here whatever flags the file is built with.
 */
#include <stddef.h>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--) {
        *d++ = *s++;
    }
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s) {
        while (n--) {
            *d++ = *s++;
        }
    } else if (d > s) {
        d += n;
        s += n;
        while (n--) {
            *--d = *--s;
        }
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    while (n--) {
        *d++ = (unsigned char)c;
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n; --n, ++x, ++y) {
        if (*x != *y) {
            return *x < *y ? -1 : 1;
        }
    }
    return 0;
}
