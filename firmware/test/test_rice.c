/*
 * The Rice stream (docs/format.md 5.10) on its own: the worked example of
 * the spec, each error the decoder gives (and in which entry), the patch
 * applier's writer against the decoder, and the coded kernel (whose fast
 * path takes a whole entry from a 32-bit register) against the decoder an
 * entry at a time on random segments of every shape: dense (k = 0), sparse
 * (a large k), runs of zeros longer than the register, streams ending at
 * the end of their allocation (AddressSanitizer sees a read past it).
 *
 * The cursor is set up here by hand (what wg_cursor_open derives from a
 * manifest), so the decoder is tested on exact bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wg_internal.h"
#include "wg_patch_coder.h"

#ifdef WG_ARITH_INT
#define TEST_ARITH "int"
#else
#define TEST_ARITH "f32"
#endif

/* A Rice segment of `count` entries among `elements`: codebook-sparse with
 * `centroids` local centroids at `table`, or (centroids 0) dense-f32 whose
 * value block is the first 4 count bytes of data. Validating when `check`. */
static void rice_cursor(wg_cursor *c, const uint8_t *data, uint32_t len, uint32_t elements, uint32_t count,
                        uint32_t centroids, float *table, wg_reencoder *check)
{
    memset(c, 0, sizeof(*c));
    c->coding = CODING_RICE;
    c->kind = centroids ? ENC_CODEBOOK : ENC_DENSE_F32;
    c->elements = elements;
    c->channels = 1;
    c->centroid_count = centroids;
    c->code_bits = wg_code_bits(centroids);
    c->centroids = table;
    c->rice_k = (uint8_t)wg_rice_k(elements, count);
    c->data = data;
    c->len = len;
    c->count = c->remaining = count;
    c->previous = -1;
    c->value_index_end = c->byte_index = centroids ? 0u : 4u * count;
    c->check = check;
}

/* Decodes every entry; returns the first status that is not WG_OK, and
 * in *at the index of the entry that gave it (count when all did). */
static wg_status decode_all(wg_cursor *c, uint32_t *positions, uint32_t *raws, uint32_t *at)
{
    uint32_t n, count = c->count;
    for (n = 0; n < count; n++) {
        uint32_t p, raw;
        float v;
        wg_status st = wg_cursor_next(c, &p, &v, &raw);
        if (positions) positions[n] = p;
        if (raws) raws[n] = raw;
        if (st != WG_OK) {
            *at = n;
            return st;
        }
    }
    *at = count;
    return WG_OK;
}

/* The status of a 64-element, 4-entry, 2-bit-code stream (the example's
 * shape), and the entry that gave it. */
static wg_status example_status(const uint8_t *bytes, uint32_t len, uint32_t centroids, uint32_t *at)
{
    static float table[4] = {-0.5f, -0.25f, 0.25f, 0.5f};
    wg_cursor c;
    wg_reencoder check;
    uint8_t *copy = malloc(len ? len : 1u); /* exactly len: a read past it is an ASan error */
    wg_status st;
    memcpy(copy, bytes, len);
    rice_cursor(&c, copy, len, 64, 4, centroids, table, &check);
    st = decode_all(&c, NULL, NULL, at);
    free(copy);
    return st;
}

static const uint8_t example[4] = {0x9b, 0x03, 0xfb, 0xb0};

static void test_the_specs_example_decodes(void **state)
{
    static float table[4] = {-0.5f, -0.25f, 0.25f, 0.5f};
    static const uint32_t want_p[4] = {3, 4, 20, 50}, want_code[4] = {1, 0, 3, 2};
    uint32_t p[4], code[4], at;
    wg_cursor c;
    wg_reencoder check;
    (void)state;
    assert_int_equal(wg_rice_k(64, 4), 4);
    rice_cursor(&c, example, 4, 64, 4, 4, table, &check);
    assert_int_equal(decode_all(&c, p, code, &at), WG_OK);
    assert_memory_equal(p, want_p, sizeof(p));
    assert_memory_equal(code, want_code, sizeof(code));
}

typedef struct bytes_out {
    uint8_t b[1u << 16];
    uint32_t n;
} bytes_out;

static void collect(void *ctx, uint32_t byte)
{
    bytes_out *o = ctx;
    if (o->n < sizeof(o->b)) o->b[o->n] = (uint8_t)byte;
    o->n++;
}

static void test_the_writer_makes_the_example(void **state)
{
    static const uint32_t p[4] = {3, 4, 20, 50}, code[4] = {1, 0, 3, 2};
    wg_rice_enc e;
    bytes_out o;
    int32_t previous = -1;
    uint32_t i;
    (void)state;
    o.n = 0;
    wg_rice_enc_init(&e, wg_rice_k(64, 4), collect, &o);
    for (i = 0; i < 4; i++) {
        wg_rice_enc_entry(&e, (uint32_t)((int32_t)p[i] - previous), code[i], 2);
        previous = (int32_t)p[i];
    }
    wg_rice_enc_finish(&e);
    assert_int_equal(o.n, 4);
    assert_memory_equal(o.b, example, 4);
}

static void test_errors(void **state)
{
    uint8_t b[8];
    uint32_t at;
    (void)state;
    /* the last byte missing: the fourth entry reads past the end (no virtual bytes) */
    assert_int_equal(example_status(example, 3, 4, &at), WG_E_TRUNCATED);
    assert_int_equal(at, 3);
    assert_int_equal(example_status(example, 0, 4, &at), WG_E_TRUNCATED);
    assert_int_equal(at, 0);
    /* a trailing byte, even a zero one, and a one in the pad bits: not the writer's */
    memcpy(b, example, 4);
    b[4] = 0;
    assert_int_equal(example_status(b, 5, 4, &at), WG_E_BAD_VALUE);
    assert_int_equal(at, 3);
    for (at = 0; at < 3; at++) {
        uint32_t entry;
        memcpy(b, example, 4);
        b[3] = (uint8_t)(b[3] | (1u << at));
        assert_int_equal(example_status(b, 4, 4, &entry), WG_E_BAD_VALUE);
        assert_int_equal(entry, 3);
    }
    /* q over 64 >> 4 = 4: five zero bits are OUT_OF_BOUNDS, not a wait for a one */
    b[0] = 0x07;
    b[1] = 0xff;
    assert_int_equal(example_status(b, 2, 4, &at), WG_E_OUT_OF_BOUNDS);
    assert_int_equal(at, 0);
    b[0] = 0x00;
    assert_int_equal(example_status(b, 1, 4, &at), WG_E_OUT_OF_BOUNDS);
    /* q = 4 is allowed, and its gap 1 + 64 + 15 passes the tensor: OUT_OF_BOUNDS */
    b[0] = 0x0f; /* 0000 1 111 | 1 then the code */
    b[1] = 0x80;
    assert_int_equal(example_status(b, 2, 4, &at), WG_E_OUT_OF_BOUNDS);
    assert_int_equal(at, 0);
    /* the position checks before the code is read: position 0 (1 0000 00),
     * then 000 1 1111 (gap 64) with one bit of its code: OUT_OF_BOUNDS, not TRUNCATED */
    b[0] = 0x80;
    b[1] = 0x3e;
    assert_int_equal(example_status(b, 2, 4, &at), WG_E_OUT_OF_BOUNDS);
    assert_int_equal(at, 1);
    /* a code past the local codebook: with 3 centroids, the third entry's 3 */
    assert_int_equal(example_status(example, 4, 3, &at), WG_E_BAD_VALUE);
    assert_int_equal(at, 2);
    /* the code itself cut off (000 1 0000: position 48, then no code): TRUNCATED */
    b[0] = 0x10;
    assert_int_equal(example_status(b, 1, 4, &at), WG_E_TRUNCATED);
    assert_int_equal(at, 0);
    /* and the low bits (1 00): TRUNCATED */
    b[0] = 0x9b;
    b[1] = 0x03;
    assert_int_equal(example_status(b, 2, 4, &at), WG_E_TRUNCATED);
    assert_int_equal(at, 2);
}

/* A run of zeros within the bound but past the stream: TRUNCATED. */
static void test_a_long_run_that_ends_is_truncated(void **state)
{
    static float table[1] = {1.0f};
    uint8_t *zeros = calloc(2, 1);
    wg_cursor c;
    wg_reencoder check;
    uint32_t at;
    (void)state;
    /* 64 entries among 64: k = 0, q up to 64 */
    rice_cursor(&c, zeros, 2, 64, 64, 1, table, &check);
    assert_int_equal(decode_all(&c, NULL, NULL, &at), WG_E_TRUNCATED);
    assert_int_equal(at, 0);
    free(zeros);
}

/* ---- random segments: writer, decoder and kernel agree ---- */

static uint32_t rng = 12345;
static uint32_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

typedef struct segment {
    uint32_t elements, units, count, centroids;
    uint32_t *positions, *raws;
    uint8_t *bytes;
    uint32_t len;
} segment;

/* `count` positions among `elements`, ascending: uniform, or clustered
 * (long gaps between clusters: runs of zeros past a register). */
static void make_segment(segment *s, uint32_t elements, uint32_t units, uint32_t count, uint32_t centroids, int clustered)
{
    uint8_t *mark = calloc(elements, 1);
    bytes_out *o = malloc(sizeof(*o));
    wg_rice_enc e;
    uint32_t i, n = 0, values = centroids ? 0u : 4u * count;
    int32_t previous = -1;
    s->elements = elements;
    s->units = units;
    s->count = count;
    s->centroids = centroids;
    s->positions = malloc(4u * count);
    s->raws = malloc(4u * count);
    while (n < count) {
        uint32_t p = next_random() % elements;
        if (clustered && n > 0 && (next_random() & 7u) != 0) p = s->positions[n - 1] + 1u + next_random() % 3u;
        if (p >= elements || mark[p]) continue;
        mark[p] = 1;
        s->positions[n++] = p;
    }
    for (i = 0, n = 0; i < elements; i++) {
        if (mark[i]) s->positions[n++] = i;
    }
    o->n = 0;
    wg_rice_enc_init(&e, wg_rice_k(elements, count), collect, o);
    for (i = 0; i < count; i++) {
        uint32_t raw = centroids ? next_random() % centroids : 0x3f800000u + (next_random() & 0x7fffffu);
        if (!centroids && (next_random() & 1u)) raw |= 0x80000000u;
        s->raws[i] = raw;
        wg_rice_enc_entry(&e, (uint32_t)((int32_t)s->positions[i] - previous), centroids ? raw : 0u,
                          wg_code_bits(centroids));
        previous = (int32_t)s->positions[i];
    }
    wg_rice_enc_finish(&e);
    assert_true(o->n <= sizeof(o->b));
    s->len = values + o->n;
    s->bytes = malloc(s->len ? s->len : 1u); /* exactly: ASan sees a read past it */
    for (i = 0; i < count && !centroids; i++) memcpy(s->bytes + 4u * i, &s->raws[i], 4);
    memcpy(s->bytes + values, o->b, o->n);
    free(o);
    free(mark);
}

static void free_segment(segment *s)
{
    free(s->positions);
    free(s->raws);
    free(s->bytes);
}

/* The decoder (validating) gives back the writer's entries. */
static void check_decodes(const segment *s, float *table)
{
    wg_cursor c;
    wg_reencoder check;
    uint32_t *p = malloc(4u * s->count), *raw = malloc(4u * s->count), at;
    rice_cursor(&c, s->bytes, s->len, s->elements, s->count, s->centroids, table, &check);
    assert_int_equal(decode_all(&c, p, raw, &at), WG_OK);
    assert_memory_equal(p, s->positions, 4u * s->count);
    assert_memory_equal(raw, s->raws, 4u * s->count);
    free(p);
    free(raw);
}

/* The kernel's sums equal the same terms added an entry at a time. */
static wg_status check_kernel(const segment *s, float *table, int is_bias)
{
    uint32_t inputs = s->elements / s->units, i, n, at;
    wg_acc *in = malloc(sizeof(wg_acc) * inputs), *out = calloc(s->units, sizeof(wg_acc));
    wg_acc *want = calloc(s->units, sizeof(wg_acc));
    float *t1 = malloc(4u * (s->centroids + 1u)), *t2 = malloc(4u * (s->centroids + 1u));
    wg_layer_io io;
    wg_model m;
    wg_cursor c;
    wg_status st, st2;
    memset(&io, 0, sizeof(io));
    memset(&m, 0, sizeof(m));
    for (i = 0; i < inputs; i++) {
#ifdef WG_ARITH_INT
        in[i] = (next_random() & 3u) == 0 ? 0 : (int32_t)(next_random() % 2001u) - 1000;
#else
        in[i] = (next_random() & 3u) == 0 ? 0.0f : (float)((int32_t)(next_random() % 2001u) - 1000) / 256.0f;
#endif
    }
    io.in = in;
    io.inputs = inputs;
    io.units = s->units;
    io.fw = 6;
    io.fb = 20;
    io.fa = 10;
    memcpy(t1, table, 4u * s->centroids);
    memcpy(t2, table, 4u * s->centroids);
    /* an entry at a time */
    rice_cursor(&c, s->bytes, s->len, s->elements, s->count, s->centroids, t1, NULL);
    io.out = want;
    st = WG_OK;
    for (n = 0; n < s->count && st == WG_OK; n++) {
        uint32_t p, raw, row;
        float w;
        st = wg_cursor_next(&c, &p, &w, &raw);
        if (st != WG_OK) break;
        row = p / s->units;
        if (is_bias) {
            wg_add_bias(&io, p, w);
        } else if (in[row] != 0) {
            wg_add_term(&io, p - row * s->units, in[row], w);
        }
    }
    /* the kernel (a bias: one row whose input is 1) */
    rice_cursor(&c, s->bytes, s->len, s->elements, s->count, s->centroids, t2, NULL);
    io.out = out;
    if (is_bias) {
        static const wg_acc one = 1;
        io.in = &one;
        st2 = wg_cursor_run(&c, &m, &io, s->units, 1, 1);
    } else {
        st2 = wg_cursor_run(&c, &m, &io, s->units, inputs, 0);
    }
    assert_int_equal(st2, st);
    if (st == WG_OK) assert_memory_equal(out, want, sizeof(wg_acc) * s->units);
    (void)at;
    free(t1);
    free(t2);
    free(in);
    free(out);
    free(want);
    return st;
}

static void test_random_segments(void **state)
{
    /* (elements, units): a small kernel, the paper's first layer, a bias */
    static const uint32_t shapes[][2] = {{64, 8}, {1000, 10}, {4096, 64}, {100352, 128}, {300, 300}, {1u << 20, 1024}};
    float table[256];
    uint32_t i, trial = 0;
    (void)state;
    for (i = 0; i < 256; i++) table[i] = (float)((int32_t)i - 128) / 64.0f + 1.0f / 512.0f;
    for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        uint32_t elements = shapes[i][0], units = shapes[i][1], d;
        /* densities from one entry to all of them */
        static const uint32_t per_mille[] = {0, 1, 10, 70, 200, 500, 800, 1000};
        for (d = 0; d < sizeof(per_mille) / sizeof(per_mille[0]); d++) {
            uint32_t count = (uint32_t)((uint64_t)elements * per_mille[d] / 1000u), clustered;
            if (count == 0) count = 1;
            if (count > 20000u) count = 20000u;
            for (clustered = 0; clustered < 2u; clustered++) {
                static const uint32_t centroid_counts[] = {0, 1, 2, 3, 16, 200, 256};
                uint32_t cc = centroid_counts[trial++ % 7u];
                segment s;
                make_segment(&s, elements, units, count, cc, (int)clustered);
                check_decodes(&s, table);
                assert_int_equal(check_kernel(&s, table, 0), WG_OK);
                if (elements == units) assert_int_equal(check_kernel(&s, table, 1), WG_OK);
                free_segment(&s);
            }
        }
    }
}

/* Damaged random streams: the kernel refuses each with the status the
 * decoder gives an entry at a time (it does not make the end check). */
static void test_damaged_streams_agree(void **state)
{
    float table[16];
    uint32_t i, refused = 0;
    (void)state;
    for (i = 0; i < 16; i++) table[i] = (float)i - 7.5f;
    for (i = 0; i < 400; i++) {
        segment s;
        uint32_t count = 1u + next_random() % 300u, at;
        make_segment(&s, 4096, 64, count, 1u + next_random() % 16u, (int)(i & 1u));
        if (s.len > 0) {
            at = next_random() % s.len;
            s.bytes[at] ^= (uint8_t)(1u << (next_random() % 8u));
            if (i % 5u == 0) s.len = at; /* and cut there */
        }
        refused += check_kernel(&s, table, 0) != WG_OK;
        free_segment(&s);
    }
    print_message("%u of 400 damaged streams refused by both\n", refused);
    assert_true(refused > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_specs_example_decodes),
        cmocka_unit_test(test_the_writer_makes_the_example),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_a_long_run_that_ends_is_truncated),
        cmocka_unit_test(test_random_segments),
        cmocka_unit_test(test_damaged_streams_agree),
    };
    return cmocka_run_group_tests_name("rice_" TEST_ARITH, tests, NULL, NULL);
}
