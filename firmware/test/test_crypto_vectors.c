/*
 * test_crypto_vectors: every wg_crypto implementation built against the
 * vectors firmware/test/crypto/gen-vectors.ts writes with node:crypto
 * (SHA-256, SHA-512, and Ed25519 verdicts including the edge cases).
 *
 * The file is named by the environment variable WG_CRYPTO_VECTORS, else by
 * the path CMake compiled in (WG_CRYPTO_VECTORS_FILE); without a file the
 * test skips. Each Ed25519 line carries node's verdict and the expected one:
 * they differ only where the firmware follows libsodium (small-order and
 * non-canonical keys, small-order R), and the test prints, per class, what
 * node, the portable code and libsodium said.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "weightgate_crypto.h"
#include "wg_crypto_internal.h"

#ifndef WG_CRYPTO_VECTORS_FILE
#define WG_CRYPTO_VECTORS_FILE ""
#endif

#define MAX_FIELDS 8
#define MAX_CLASSES 48

struct impl {
    const char *name;
    const wg_crypto *crypto;
};

static const struct impl IMPLS[] = {
    {"portable", &wg_crypto_portable},
#ifdef WG_WITH_SODIUM
    {"sodium", &wg_crypto_sodium},
#endif
};
#define N_IMPLS (sizeof IMPLS / sizeof IMPLS[0])

struct class_tally {
    char name[40];
    unsigned n, node, expect, accepted[N_IMPLS];
};

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long size;
    if (f == NULL) return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = malloc((size_t)size + 1);
    if (buf != NULL) {
        if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
            free(buf);
            buf = NULL;
        } else {
            buf[size] = '\0';
        }
    }
    fclose(f);
    return buf;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes a hex field ("-" is empty) into a fresh buffer; *len its length. */
static uint8_t *field_bytes(const char *hex, size_t *len)
{
    size_t n = strcmp(hex, "-") == 0 ? 0 : strlen(hex), i;
    uint8_t *out = malloc(n / 2 + 1);
    assert_non_null(out);
    assert_true(n % 2 == 0);
    for (i = 0; i < n / 2; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        assert_true(hi >= 0 && lo >= 0);
        out[i] = (uint8_t)(hi * 16 + lo);
    }
    *len = n / 2;
    return out;
}

static struct class_tally *tally_for(struct class_tally *t, unsigned *count, const char *name)
{
    unsigned i;
    for (i = 0; i < *count; i++)
        if (strcmp(t[i].name, name) == 0) return &t[i];
    assert_true(*count < MAX_CLASSES);
    assert_true(strlen(name) < sizeof t[0].name);
    memset(&t[*count], 0, sizeof t[0]);
    strcpy(t[*count].name, name);
    return &t[(*count)++];
}

static void check_sha(const char *kind, const char *digest_hex, const char *msg_hex)
{
    size_t dlen, mlen, i;
    uint8_t *want = field_bytes(digest_hex, &dlen);
    uint8_t *msg = field_bytes(msg_hex, &mlen);
    uint8_t got[64];

    if (strcmp(kind, "sha256") == 0) {
        assert_int_equal(dlen, 32);
        for (i = 0; i < N_IMPLS; i++) {
            const wg_crypto *c = IMPLS[i].crypto;
            wg_sha256_ctx ctx;
            wg_sha256(c, msg, mlen, got);
            assert_memory_equal(got, want, 32);
            /* the same in two updates, cut in the middle */
            c->sha256_init(&ctx);
            c->sha256_update(&ctx, msg, mlen / 2);
            c->sha256_update(&ctx, msg + mlen / 2, mlen - mlen / 2);
            c->sha256_final(&ctx, got);
            assert_memory_equal(got, want, 32);
        }
    } else {
        wg_sha512_state s;
        assert_int_equal(dlen, 64);
        wg_sha512_init(&s);
        wg_sha512_update(&s, msg, mlen);
        wg_sha512_final(&s, got);
        assert_memory_equal(got, want, 64);
    }
    free(want);
    free(msg);
}

static void test_node_vectors(void **state)
{
    const char *path = getenv("WG_CRYPTO_VECTORS");
    struct class_tally tally[MAX_CLASSES];
    unsigned classes = 0, n_ed = 0, n_sha = 0, disagree_node = 0, line_no = 0, i, k;
    char *text, *line, *next;
    (void)state;

    if (path == NULL || path[0] == '\0') path = WG_CRYPTO_VECTORS_FILE;
    text = path[0] ? read_file(path) : NULL;
    if (text == NULL) {
        print_message("no vector file (%s): run firmware/test/crypto/gen-vectors.ts with npx tsx "
                      "and set WG_CRYPTO_VECTORS to its output\n",
                      path[0] ? path : "none compiled in");
        skip();
    }

    for (line = text; line != NULL && *line; line = next) {
        char *f[MAX_FIELDS];
        unsigned nf = 0;
        char *p = line;

        line_no++;
        next = strchr(line, '\n');
        if (next != NULL) *next++ = '\0';
        if (line[0] == '#' || line[0] == '\0') continue;
        while (*p && nf < MAX_FIELDS) {
            while (*p == ' ') *p++ = '\0';
            if (!*p) break;
            f[nf++] = p;
            while (*p && *p != ' ') p++;
        }

        if (strcmp(f[0], "sha256") == 0 || strcmp(f[0], "sha512") == 0) {
            assert_int_equal(nf, 3);
            check_sha(f[0], f[1], f[2]);
            n_sha++;
        } else if (strcmp(f[0], "ed25519") == 0) {
            size_t pklen, siglen, mlen;
            uint8_t *pk, *sig, *msg;
            int node, expect;
            struct class_tally *t;

            assert_int_equal(nf, 7);
            node = atoi(f[2]);
            expect = atoi(f[3]);
            pk = field_bytes(f[4], &pklen);
            sig = field_bytes(f[5], &siglen);
            msg = field_bytes(f[6], &mlen);
            assert_int_equal(pklen, 32);
            assert_int_equal(siglen, 64);
            t = tally_for(tally, &classes, f[1]);
            t->n++;
            t->node += (unsigned)node;
            t->expect += (unsigned)expect;
            for (i = 0; i < N_IMPLS; i++) {
                int ok = IMPLS[i].crypto->ed25519_verify(sig, msg, mlen, pk) == 0;
                t->accepted[i] += (unsigned)ok;
                if (ok != expect) {
                    fail_msg("line %u (%s): %s says %s, expected %s (node %s)", line_no, f[1], IMPLS[i].name,
                             ok ? "valid" : "invalid", expect ? "valid" : "invalid", node ? "valid" : "invalid");
                }
            }
            if (node != expect) disagree_node++;
            n_ed++;
            free(pk);
            free(sig);
            free(msg);
        } else {
            fail_msg("line %u: unknown vector kind '%s'", line_no, f[0]);
        }
    }
    free(text);

    assert_true(n_ed > 0);
    assert_true(n_sha > 0);
    print_message("%u SHA-2 vectors and %u Ed25519 vectors pass (%u where the firmware, like libsodium, "
                  "rejects what node accepts)\n",
                  n_sha, n_ed, disagree_node);
    print_message("%-24s %5s %5s %6s", "class", "count", "node", "expect");
    for (i = 0; i < N_IMPLS; i++) print_message(" %8s", IMPLS[i].name);
    print_message("\n");
    for (k = 0; k < classes; k++) {
        print_message("%-24s %5u %5u %6u", tally[k].name, tally[k].n, tally[k].node, tally[k].expect);
        for (i = 0; i < N_IMPLS; i++) print_message(" %8u", tally[k].accepted[i]);
        print_message("\n");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_node_vectors),
    };
    return cmocka_run_group_tests_name("crypto node:crypto vectors", tests, NULL, NULL);
}
