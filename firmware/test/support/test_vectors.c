#include <stdlib.h>
#include <string.h>

#include "test_vectors.h"

int test_vectors_load(test_vectors *v, const char *env)
{
    const test_record *key;
    memset(v, 0, sizeof(*v));
    v->dir = getenv(env);
    if (!v->dir || !*v->dir) return 0;
    v->count = test_read_index(v->dir, &v->records);
    if (v->count <= 0) return 0;
    key = test_vectors_find(v, "key", NULL);
    if (!key || test_hex(key->words[1], v->key, 32) != 0) return 0;
    return 1;
}

const test_record *test_vectors_find(const test_vectors *v, const char *kind, const char *name)
{
    int i;
    for (i = 0; i < v->count; i++) {
        const test_record *r = &v->records[i];
        if (strcmp(r->words[0], kind) != 0) continue;
        if (name && (r->count < 2 || strcmp(r->words[1], name) != 0)) continue;
        return r;
    }
    return NULL;
}
