#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

uint8_t *test_read_file(const char *dir, const char *name, size_t *len)
{
    char path[1024];
    FILE *f;
    long size;
    uint8_t *buf;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)size + 1u);
    if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)size;
    return buf;
}

int test_read_index(const char *dir, test_record **records)
{
    char path[1024], line[2048];
    FILE *f;
    int n = 0, cap = 64;
    snprintf(path, sizeof(path), "%s/index.txt", dir);
    f = fopen(path, "r");
    *records = NULL;
    if (!f) return -1;
    *records = calloc((size_t)cap, sizeof(test_record));
    while (fgets(line, sizeof(line), f)) {
        char *hash = strchr(line, '#'), *word;
        test_record *r;
        if (hash) *hash = 0;
        if (n == cap) {
            cap *= 2;
            *records = realloc(*records, (size_t)cap * sizeof(test_record));
        }
        r = &(*records)[n];
        memset(r, 0, sizeof(*r));
        for (word = strtok(line, " \t\r\n"); word && r->count < 8; word = strtok(NULL, " \t\r\n")) {
            snprintf(r->words[r->count++], 256, "%s", word);
        }
        if (r->count > 0) n++;
    }
    fclose(f);
    return n;
}

int test_hex(const char *hex, uint8_t *out, size_t n)
{
    size_t i;
    if (strlen(hex) != 2 * n) return -1;
    for (i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

int test_status_by_name(const char *name)
{
    int s;
    for (s = 0; s <= (int)WG_E_WRITE_FAILED; s++) {
        if (strcmp(wg_status_str((wg_status)s), name) == 0) return s;
    }
    return -1;
}
