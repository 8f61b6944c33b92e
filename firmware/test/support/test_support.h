/* Host test helpers: crypto over libsodium, files, the vectors' index. */
#ifndef TEST_SUPPORT_H
#define TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "weightgate.h"

#ifdef WG_TEST_PORTABLE_CRYPTO
/* the crypto helper's own C99 code (wg_crypto), when it is in the tree */
#define wg_test_crypto wg_crypto_portable
#else
extern const wg_crypto wg_test_crypto;
#endif

/* Reads a whole file (malloc'd; host only); NULL when missing. */
uint8_t *test_read_file(const char *dir, const char *name, size_t *len);

/* One line of index.txt, split on spaces: up to 8 words. */
typedef struct test_record {
    char words[8][256];
    int count;
} test_record;

/* Reads DIR/index.txt; returns the number of records (malloc'd array). */
int test_read_index(const char *dir, test_record **records);

/* Hex to bytes; 0 on success. */
int test_hex(const char *hex, uint8_t *out, size_t n);

/* A status by name ("WG_E_HASH_MISMATCH"), -1 when unknown. */
int test_status_by_name(const char *name);

#endif
