/*
 * state_compat.c: the C state record against device-sim's, both ways (run
 * by state-compat.cmake with gen-state.ts).
 *
 *   state_compat check <dir>   reads the records device-sim wrote and the
 *                              expected.txt it wrote beside them
 *   state_compat write <dir>   writes records (encoded, and as state sectors
 *                              after real updates) and written.txt
 *
 * Line format: gen-state.ts. A host tool: stdio is fine here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_common.h"

#define LINE_MAX_BYTES 512

static int failures;

static int read_file(const char *dir, const char *name, uint8_t *out, size_t len) {
    char path[LINE_MAX_BYTES];
    FILE *f;
    size_t got;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (!f) return -1;
    got = fread(out, 1, len, f);
    fclose(f);
    return got == len ? 0 : -1;
}

static void write_file(const char *dir, const char *name, const uint8_t *bytes, size_t len) {
    char path[LINE_MAX_BYTES];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (!f || fwrite(bytes, 1, len, f) != len) {
        fprintf(stderr, "state_compat: cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

static void format_sha(char *out, const uint8_t sha[32]) {
    unsigned i, any = 0;
    for (i = 0; i < 32; i++) any |= sha[i];
    if (!any) {
        strcpy(out, "-");
        return;
    }
    for (i = 0; i < 32; i++) sprintf(out + 2 * i, "%02x", sha[i]);
}

/* The line gen-state.ts prints for `record` (NULL: invalid). */
static void format_record(char *out, size_t size, const char *name, const wg_state_record *r) {
    char a[65], b[65];
    if (!r) {
        snprintf(out, size, "record %s invalid", name);
        return;
    }
    format_sha(a, r->slots[0].sha256);
    format_sha(b, r->slots[1].sha256);
    snprintf(out, size, "record %s valid %lu %u %u %u %lu %lu %s %lu %lu %s", name, (unsigned long)r->sequence,
             r->active, r->confirmed, r->previous, (unsigned long)r->slots[0].version,
             (unsigned long)r->slots[0].bytes, a, (unsigned long)r->slots[1].version,
             (unsigned long)r->slots[1].bytes, b);
}

/* The record in force when the two state sectors begin with c0 and c1, as
 * wg_update_init finds it on a flash holding them. */
static void in_force(const uint8_t *c0, const uint8_t *c1, char *out, size_t size) {
    static uint8_t mem[4 * 4096];
    sim_flash flash;
    wg_update_layout layout;
    wg_updater u;
    sim_flash_init(&flash, mem, sizeof mem, 4096, 8, 1);
    wg_update_layout_default(sizeof mem, 4096, 0, &layout);
    memcpy(mem + layout.state_offset[0], c0, WG_STATE_RECORD_BYTES);
    memcpy(mem + layout.state_offset[1], c1, WG_STATE_RECORD_BYTES);
    if (wg_update_init(&u, &flash.driver, &layout, &wg_crypto_portable) != WG_UPDATE_OK) {
        snprintf(out, size, "error");
        return;
    }
    if (u.copy == 2) snprintf(out, size, "none");
    else snprintf(out, size, "%lu %u", (unsigned long)u.state.sequence, u.state.active);
}

static int check(const char *dir) {
    char path[LINE_MAX_BYTES], text[LINE_MAX_BYTES], got[2 * LINE_MAX_BYTES], name[128], f0[160], f1[160];
    FILE *list;
    unsigned cases = 0;
    snprintf(path, sizeof path, "%s/expected.txt", dir);
    list = fopen(path, "r");
    if (!list) {
        fprintf(stderr, "state_compat: no %s\n", path);
        return 1;
    }
    while (fgets(text, sizeof text, list)) {
        uint8_t bytes[WG_STATE_RECORD_BYTES], c0[WG_STATE_RECORD_BYTES], c1[WG_STATE_RECORD_BYTES];
        wg_state_record r;
        text[strcspn(text, "\n")] = 0;
        if (sscanf(text, "record %127s", name) == 1) {
            char file[160];
            int valid;
            snprintf(file, sizeof file, "%s.bin", name);
            if (read_file(dir, file, bytes, sizeof bytes) != 0) {
                fprintf(stderr, "%s: cannot read\n", file);
                failures++;
                continue;
            }
            valid = wg_state_decode(bytes, &r);
            format_record(got, sizeof got, name, valid ? &r : NULL);
            /* A record with zero reserved bytes and a 0/1 confirmed byte
             * encodes back to the same bytes. */
            if (valid && bytes[13] == 0 && bytes[14] == 0 && bytes[15] == 0 && bytes[7] <= 1) {
                uint8_t again[WG_STATE_RECORD_BYTES];
                wg_state_encode(&r, again);
                if (memcmp(again, bytes, sizeof again) != 0) {
                    fprintf(stderr, "%s: C re-encodes different bytes\n", name);
                    failures++;
                }
            }
        } else if (sscanf(text, "pick %127s %159s %159s", name, f0, f1) == 3) {
            char prefix[LINE_MAX_BYTES], force[64];
            if (read_file(dir, f0, c0, sizeof c0) != 0 || read_file(dir, f1, c1, sizeof c1) != 0) {
                fprintf(stderr, "%s: cannot read its copies\n", name);
                failures++;
                continue;
            }
            in_force(c0, c1, force, sizeof force);
            snprintf(prefix, sizeof prefix, "pick %s %s %s ", name, f0, f1);
            snprintf(got, sizeof got, "%s%s", prefix, force);
        } else {
            fprintf(stderr, "state_compat: unknown line \"%s\"\n", text);
            failures++;
            continue;
        }
        if (strcmp(got, text) != 0) {
            fprintf(stderr, "device-sim wrote \"%s\"\n          C reads \"%s\"\n", text, got);
            failures++;
        }
        cases++;
    }
    fclose(list);
    printf("state_compat: %u device-sim cases, %d read differently by C\n", cases, failures);
    return failures || cases == 0;
}

static void sha_of(const char *text, uint8_t out[32]) {
    wg_sha256(&wg_crypto_portable, (const uint8_t *)text, strlen(text), out);
}

static int write(const char *dir) {
    static uint8_t mem[4 * 4096 + 2 * 16384];
    static uint8_t art[8192];
    char path[LINE_MAX_BYTES], text[LINE_MAX_BYTES], name[64];
    FILE *list;
    wg_state_record r;
    uint8_t bytes[WG_STATE_RECORD_BYTES];
    sim_flash flash;
    wg_update_layout layout;
    wg_updater u;
    wg_update_hooks hooks;
    test_hooks_ctx ctx;
    wg_boot_result boot;
    unsigned i, n = 0;
    snprintf(path, sizeof path, "%s/written.txt", dir);
    list = fopen(path, "w");
    if (!list) {
        fprintf(stderr, "state_compat: cannot write %s\n", path);
        return 1;
    }
    /* Encoded records of every shape. */
    for (i = 0; i < 6; i++) {
        memset(&r, 0, sizeof r);
        r.sequence = i == 5 ? 0xFFFFFFFFu : i * 1000u + 1u;
        r.active = (uint8_t)(i == 0 ? WG_NO_SLOT : i % 2);
        r.confirmed = (uint8_t)(i % 3 != 2);
        r.previous = (uint8_t)(r.confirmed ? WG_NO_SLOT : 1u - (i % 2));
        if (i > 0) {
            r.slots[0].version = i;
            r.slots[0].bytes = 1000u * i;
            sha_of(i % 2 ? "one" : "two", r.slots[0].sha256);
        }
        if (i > 2) {
            r.slots[1].version = 0xFFFFFFF0u + i;
            r.slots[1].bytes = 0x7FFFFFFFu;
            sha_of("three", r.slots[1].sha256);
        }
        snprintf(name, sizeof name, "c-record-%u", i);
        wg_state_encode(&r, bytes);
        write_file(dir, strcat(strcpy(path, name), ".bin"), bytes, sizeof bytes);
        format_record(text, sizeof text, name, &r);
        fprintf(list, "%s\n", text);
        n++;
    }
    /* State sectors as real updates leave them: install, trial, confirm,
     * roll back, fall back. */
    sim_flash_init(&flash, mem, sizeof mem, 4096, 8, 1);
    wg_update_layout_default(sizeof mem, 4096, 0, &layout);
    test_hooks(&hooks, &ctx, &flash, &layout);
    wg_update_init(&u, &flash.driver, &layout, &wg_crypto_portable);
    for (i = 0; i < 6; i++) {
        char f0[64], f1[64];
        fake_artifact(i + 1, 2000 + 1000 * i, art);
        ctx.fail_self_test_version = 4;
        if (i == 3) {
            test_install(&u, art, 2000 + 1000 * i, i + 1, i, 64, 0);
            wg_update_rollback(&u);
        } else if (i == 5) {
            mem[layout.slot_offset[u.state.active] + 20] ^= 1; /* damage the active slot */
            wg_update_init(&u, &flash.driver, &layout, &wg_crypto_portable);
            wg_update_boot(&u, &hooks, &boot);
        } else {
            test_install(&u, art, 2000 + 1000 * i, i + 1, i, 64, i != 4);
        }
        snprintf(f0, sizeof f0, "c-flash-%u-0.bin", i);
        snprintf(f1, sizeof f1, "c-flash-%u-1.bin", i);
        write_file(dir, f0, mem + layout.state_offset[0], WG_STATE_RECORD_BYTES);
        write_file(dir, f1, mem + layout.state_offset[1], WG_STATE_RECORD_BYTES);
        fprintf(list, "pick c-flash-%u %s %s %lu %u\n", i, f0, f1, (unsigned long)u.state.sequence, u.state.active);
        snprintf(name, sizeof name, "c-flash-%u-%u", i, u.copy);
        write_file(dir, strcat(strcpy(path, name), ".bin"), mem + layout.state_offset[u.copy], WG_STATE_RECORD_BYTES);
        format_record(text, sizeof text, name, &u.state);
        fprintf(list, "%s\n", text);
        n += 2;
    }
    fclose(list);
    printf("state_compat: wrote %u C cases into %s\n", n, dir);
    return flash.violations != 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "check") == 0) return check(argv[2]);
    if (argc == 3 && strcmp(argv[1], "write") == 0) return write(argv[2]);
    fprintf(stderr, "usage: state_compat check|write <dir>\n");
    return 2;
}
