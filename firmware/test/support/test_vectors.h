/* The vectors' index (docs/firmware.md): lookups shared by the tests. */
#ifndef TEST_VECTORS_H
#define TEST_VECTORS_H

#include "test_support.h"

typedef struct test_vectors {
    const char *dir;
    test_record *records;
    int count;
    uint8_t key[32];
} test_vectors;

/* Loads DIR/index.txt from the environment variable `env`; 0 when absent. */
int test_vectors_load(test_vectors *v, const char *env);
/* The first record of `kind` whose name is `name` (NULL: any name) after index `from`. */
const test_record *test_vectors_find(const test_vectors *v, const char *kind, const char *name);
/* The wg_plan_info of a model's `plan` record. */
#ifdef WG_ARITH_INT
#define TEST_ARITH "int"
#else
#define TEST_ARITH "f32"
#endif

#endif
