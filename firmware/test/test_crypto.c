/*
 * test_crypto: known-answer tests for every wg_crypto implementation built
 * (wg_crypto_portable, and wg_crypto_sodium under WG_WITH_SODIUM):
 *   - SHA-256 and SHA-512: the FIPS 180-4 / NIST example messages (empty,
 *     "abc", the 448- and 896-bit messages, one million 'a'), and every
 *     split of a multi-block message into two and three updates;
 *   - Ed25519: RFC 8032 section 7.1 tests 1, 2, 3 and SHA(abc), and the
 *     rejections the interface promises (S >= L, any flipped bit).
 * SHA-512 is internal to the portable code; it is also compared with
 * libsodium's when that is built.
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

#ifdef WG_WITH_SODIUM
#include <sodium.h>
#endif

/* ---- helpers ---------------------------------------------------------------- */

static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
    size_t n = 0;
    while (hex[0] && hex[1]) {
        unsigned v;
        assert_true(n < cap);
        assert_int_equal(sscanf(hex, "%2x", &v), 1);
        out[n++] = (uint8_t)v;
        hex += 2;
    }
    return n;
}

static void assert_hex_equal(const uint8_t *got, size_t len, const char *want_hex)
{
    uint8_t want[64];
    assert_int_equal(unhex(want, sizeof want, want_hex), len);
    assert_memory_equal(got, want, len);
}

static const wg_crypto *impl_of(void **state) { return *(const wg_crypto *const *)*state; }

static const wg_crypto *const impl_portable = &wg_crypto_portable;
#ifdef WG_WITH_SODIUM
static const wg_crypto *const impl_sodium = &wg_crypto_sodium;
#endif

/* ---- SHA-2 known answers (FIPS 180-4 examples, NIST CSRC) -------------------- */

static const char MSG_448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
static const char MSG_896[] =
    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
    "mnopqrstnopqrstu";

struct sha_case {
    const char *msg;  /* NULL: one million 'a' */
    const char *sha256;
    const char *sha512;
};

static const struct sha_case SHA_CASES[] = {
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
     "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"},
    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
    {MSG_448, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
     "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c335"
     "96fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445"},
    {MSG_896, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
     "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
     "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"},
    {NULL, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
     "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
     "de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b"},
};

#define MILLION 1000000u

static void test_sha256_fips(void **state)
{
    const wg_crypto *c = impl_of(state);
    uint8_t digest[32];
    size_t i;

    for (i = 0; i < sizeof SHA_CASES / sizeof SHA_CASES[0]; i++) {
        const struct sha_case *tc = &SHA_CASES[i];
        if (tc->msg != NULL) {
            wg_sha256(c, (const uint8_t *)tc->msg, strlen(tc->msg), digest);
        } else {
            /* one million 'a': in one call, then in uneven pieces */
            uint8_t *a = malloc(MILLION);
            wg_sha256_ctx ctx;
            size_t done = 0, piece = 1;
            assert_non_null(a);
            memset(a, 'a', MILLION);
            wg_sha256(c, a, MILLION, digest);
            assert_hex_equal(digest, 32, tc->sha256);
            c->sha256_init(&ctx);
            while (done < MILLION) {
                size_t n = piece < MILLION - done ? piece : MILLION - done;
                c->sha256_update(&ctx, a + done, n);
                done += n;
                piece = piece * 3 + 1;
                if (piece > 70000) piece = 1;
            }
            c->sha256_final(&ctx, digest);
            free(a);
        }
        assert_hex_equal(digest, 32, tc->sha256);
    }
}

/* A message of several blocks (1 to 5 of 64 bytes), hashed in two and in
 * three updates split at every offset, must hash as in one piece. */
static void test_sha256_splits(void **state)
{
    const wg_crypto *c = impl_of(state);
    uint8_t msg[300], whole[32], parts[32];
    size_t len, i, j;

    for (i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)(i * 131u + 7u);
    for (len = 0; len <= sizeof msg; len += (len < 130 ? 1 : 17)) {
        wg_sha256(c, msg, len, whole);
        for (i = 0; i <= len; i++) {
            wg_sha256_ctx ctx;
            c->sha256_init(&ctx);
            c->sha256_update(&ctx, msg, i);
            c->sha256_update(&ctx, msg + i, len - i);
            c->sha256_final(&ctx, parts);
            assert_memory_equal(parts, whole, 32);
        }
    }
    /* three pieces, every pair of cut points, across the 64- and 128-byte
     * boundaries */
    len = 140;
    wg_sha256(c, msg, len, whole);
    for (i = 0; i <= len; i++) {
        for (j = i; j <= len; j++) {
            wg_sha256_ctx ctx;
            c->sha256_init(&ctx);
            c->sha256_update(&ctx, msg, i);
            c->sha256_update(&ctx, msg + i, j - i);
            c->sha256_update(&ctx, msg + j, len - j);
            c->sha256_final(&ctx, parts);
            assert_memory_equal(parts, whole, 32);
        }
    }
    /* the context is not reused state: a fresh init hashes from scratch */
    {
        wg_sha256_ctx ctx;
        c->sha256_init(&ctx);
        c->sha256_update(&ctx, msg, 100);
        c->sha256_init(&ctx);
        c->sha256_update(&ctx, (const uint8_t *)"abc", 3);
        c->sha256_final(&ctx, parts);
        assert_hex_equal(parts, 32, SHA_CASES[1].sha256);
    }
}

static void sha512_oneshot(const uint8_t *m, size_t len, uint8_t out[64])
{
    wg_sha512_state s;
    wg_sha512_init(&s);
    wg_sha512_update(&s, m, len);
    wg_sha512_final(&s, out);
}

static void test_sha512_fips(void **state)
{
    uint8_t digest[64];
    size_t i;
    (void)state;

    for (i = 0; i < sizeof SHA_CASES / sizeof SHA_CASES[0]; i++) {
        const struct sha_case *tc = &SHA_CASES[i];
        if (tc->msg != NULL) {
            sha512_oneshot((const uint8_t *)tc->msg, strlen(tc->msg), digest);
        } else {
            uint8_t *a = malloc(MILLION);
            assert_non_null(a);
            memset(a, 'a', MILLION);
            sha512_oneshot(a, MILLION, digest);
            free(a);
        }
        assert_hex_equal(digest, 64, tc->sha512);
    }
}

static void test_sha512_splits(void **state)
{
    uint8_t msg[400], whole[64], parts[64];
    size_t len, i, j;
    (void)state;

    for (i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)(i * 37u + 11u);
    for (len = 0; len <= sizeof msg; len += (len < 260 ? 1 : 23)) {
        sha512_oneshot(msg, len, whole);
        for (i = 0; i <= len; i++) {
            wg_sha512_state s;
            wg_sha512_init(&s);
            wg_sha512_update(&s, msg, i);
            wg_sha512_update(&s, msg + i, len - i);
            wg_sha512_final(&s, parts);
            assert_memory_equal(parts, whole, 64);
        }
#ifdef WG_WITH_SODIUM
        crypto_hash_sha512(parts, msg, len);
        assert_memory_equal(parts, whole, 64);
#endif
    }
    len = 260;
    sha512_oneshot(msg, len, whole);
    for (i = 0; i <= len; i += 3) {
        for (j = i; j <= len; j++) {
            wg_sha512_state s;
            wg_sha512_init(&s);
            wg_sha512_update(&s, msg, i);
            wg_sha512_update(&s, msg + i, j - i);
            wg_sha512_update(&s, msg + j, len - j);
            wg_sha512_final(&s, parts);
            assert_memory_equal(parts, whole, 64);
        }
    }
}

#ifdef WG_WITH_SODIUM
/* Both SHA-256 implementations agree on every length up to a few blocks. */
static void test_sha256_portable_vs_sodium(void **state)
{
    uint8_t msg[520], a[32], b[32];
    size_t len;
    (void)state;
    for (len = 0; len < sizeof msg; len++) msg[len] = (uint8_t)(len ^ (len >> 3));
    for (len = 0; len <= sizeof msg; len++) {
        wg_sha256(&wg_crypto_portable, msg, len, a);
        wg_sha256(&wg_crypto_sodium, msg, len, b);
        assert_memory_equal(a, b, 32);
    }
}
#endif

/* ---- Ed25519, RFC 8032 section 7.1 -------------------------------------------- */

struct ed_case {
    const char *pk, *msg, *sig;
};

static const struct ed_case RFC8032[] = {
    /* TEST 1 */
    {"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    /* TEST 2 */
    {"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    /* TEST 3 */
    {"fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
     "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
    /* TEST SHA(abc): the message is SHA-512("abc") */
    {"ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
     "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
     "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"},
};

static void load_case(const struct ed_case *tc, uint8_t pk[32], uint8_t *msg, size_t *len, uint8_t sig[64])
{
    assert_int_equal(unhex(pk, 32, tc->pk), 32);
    *len = unhex(msg, 64, tc->msg);
    assert_int_equal(unhex(sig, 64, tc->sig), 64);
}

static void test_ed25519_rfc8032(void **state)
{
    const wg_crypto *c = impl_of(state);
    size_t i;

    for (i = 0; i < sizeof RFC8032 / sizeof RFC8032[0]; i++) {
        uint8_t pk[32], msg[64], sig[64];
        size_t len;
        load_case(&RFC8032[i], pk, msg, &len, sig);
        assert_int_equal(c->ed25519_verify(sig, msg, len, pk), 0);
        /* the wrong key, or another case's message, fails */
        pk[0] ^= 0x01;
        assert_int_not_equal(c->ed25519_verify(sig, msg, len, pk), 0);
    }
}

/* L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
static const char L_HEX[] = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";

/* Add two 256-bit little-endian numbers (no overflow for S + L). */
static void add256(uint8_t out[32], const uint8_t a[32], const uint8_t b[32])
{
    unsigned i, carry = 0;
    for (i = 0; i < 32; i++) {
        unsigned s = (unsigned)a[i] + b[i] + carry;
        out[i] = (uint8_t)s;
        carry = s >> 8;
    }
}

static void test_ed25519_rejects(void **state)
{
    const wg_crypto *c = impl_of(state);
    size_t i;

    for (i = 0; i < sizeof RFC8032 / sizeof RFC8032[0]; i++) {
        uint8_t pk[32], msg[65], sig[64], bad[64], l[32], badpk[32];
        size_t len, bit, stride = i == 0 ? 1 : 11;
        load_case(&RFC8032[i], pk, msg, &len, sig);
        unhex(l, 32, L_HEX);

        /* S + L: the same scalar mod L, non-canonical, must fail */
        memcpy(bad, sig, 64);
        add256(bad + 32, sig + 32, l);
        assert_int_not_equal(c->ed25519_verify(bad, msg, len, pk), 0);
        /* S = L */
        memcpy(bad + 32, l, 32);
        assert_int_not_equal(c->ed25519_verify(bad, msg, len, pk), 0);
        /* high bits of S set */
        memcpy(bad, sig, 64);
        bad[63] |= 0xe0;
        assert_int_not_equal(c->ed25519_verify(bad, msg, len, pk), 0);

        /* every flipped bit of the signature, the key and the message for
         * test 1; every 11th for the others (sanitized builds are slow) */
        for (bit = 0; bit < 512; bit += stride) {
            memcpy(bad, sig, 64);
            bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_int_not_equal(c->ed25519_verify(bad, msg, len, pk), 0);
        }
        for (bit = 0; bit < 256; bit += stride) {
            memcpy(badpk, pk, 32);
            badpk[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_int_not_equal(c->ed25519_verify(sig, msg, len, badpk), 0);
        }
        for (bit = 0; bit < len * 8; bit += stride) {
            msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_int_not_equal(c->ed25519_verify(sig, msg, len, pk), 0);
            msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        /* one byte more or less of message */
        if (len > 0) assert_int_not_equal(c->ed25519_verify(sig, msg, len - 1, pk), 0);
        msg[len] = 0;
        assert_int_not_equal(c->ed25519_verify(sig, msg, len + 1, pk), 0);
        /* and the untouched signature still verifies */
        assert_int_equal(c->ed25519_verify(sig, msg, len, pk), 0);
    }
}

/* Small-order keys are refused even where the cofactorless equation holds:
 * A = R = identity with S = 0 ([0]B = O + [k]O for every message), and the
 * all-zero key and signature (y = 0 is a point of order 4). */
static void test_ed25519_small_order_key(void **state)
{
    const wg_crypto *c = impl_of(state);
    uint8_t pk[32], sig[64];

    memset(pk, 0, 32);
    pk[0] = 1; /* the identity */
    memset(sig, 0, 64);
    sig[0] = 1; /* R = identity, S = 0: [0]B = O + [k]O holds */
    assert_int_not_equal(c->ed25519_verify(sig, (const uint8_t *)"x", 1, pk), 0);
    memset(pk, 0, 32); /* y = 0: order 4 */
    memset(sig, 0, 64);
    assert_int_not_equal(c->ed25519_verify(sig, (const uint8_t *)"", 0, pk), 0);
}

/* A test run on one implementation, named after both. */
#ifdef WG_WITH_SODIUM
/* Differential: signatures made by libsodium from deterministic seeds, and
 * random mutations of them (a flipped bit, a random R, a random key, a
 * random S below L), verified by both implementations: same verdicts. */
static void test_ed25519_portable_vs_sodium(void **state)
{
    unsigned i, accepted = 0;
    (void)state;
    assert_true(sodium_init() >= 0);
    for (i = 0; i < 300; i++) {
        uint8_t seed[32], pk[32], sk[64], sig[64], msg[200], h[64];
        size_t len = (i * 37u) % sizeof msg;
        int a, b;

        memset(seed, 0, sizeof seed);
        seed[0] = (uint8_t)i;
        seed[1] = (uint8_t)(i >> 8);
        crypto_hash_sha512(h, seed, sizeof seed); /* a stream of test bytes */
        crypto_sign_seed_keypair(pk, sk, seed);
        memcpy(msg, h, 64);
        memcpy(msg + 64, h, 64);
        memcpy(msg + 128, h, 64);
        crypto_sign_detached(sig, NULL, msg, len, sk);
        switch (i % 6) {
        case 0: break;                                                /* valid */
        case 1: sig[h[0] % 64] ^= (uint8_t)(1u << (h[1] % 8)); break; /* one bit */
        case 2: memcpy(sig, h + 8, 32); break;                        /* random R */
        case 3: memcpy(pk, h + 8, 32); break;                         /* random key */
        case 4: memcpy(sig + 32, h + 8, 32); sig[63] &= 0x0f; break;  /* random S < L */
        default: msg[len / 2] ^= 0x40; len += len == 0; break;        /* message */
        }
        a = wg_crypto_portable.ed25519_verify(sig, msg, len, pk) == 0;
        b = wg_crypto_sodium.ed25519_verify(sig, msg, len, pk) == 0;
        if (a != b) fail_msg("case %u: portable %d, sodium %d", i, a, b);
        accepted += (unsigned)a;
    }
    assert_int_equal(accepted, 50); /* exactly the unmutated ones */
}
#endif

#define FOR_IMPL(f, impl) {#impl ": " #f, f, NULL, NULL, (void *)&impl}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FOR_IMPL(test_sha256_fips, impl_portable),
        FOR_IMPL(test_sha256_splits, impl_portable),
        cmocka_unit_test(test_sha512_fips),
        cmocka_unit_test(test_sha512_splits),
        FOR_IMPL(test_ed25519_rfc8032, impl_portable),
        FOR_IMPL(test_ed25519_rejects, impl_portable),
        FOR_IMPL(test_ed25519_small_order_key, impl_portable),
#ifdef WG_WITH_SODIUM
        FOR_IMPL(test_sha256_fips, impl_sodium),
        FOR_IMPL(test_sha256_splits, impl_sodium),
        cmocka_unit_test(test_sha256_portable_vs_sodium),
        FOR_IMPL(test_ed25519_rfc8032, impl_sodium),
        FOR_IMPL(test_ed25519_rejects, impl_sodium),
        FOR_IMPL(test_ed25519_small_order_key, impl_sodium),
        cmocka_unit_test(test_ed25519_portable_vs_sodium),
#endif
    };
    return cmocka_run_group_tests_name("crypto", tests, NULL, NULL);
}
