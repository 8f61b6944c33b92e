/*
 * crypto_on_mcu: the portable crypto on an emulated Cortex-M (qemu-system-arm
 * with semihosting), bare metal, no libc beyond memcpy/memset/memcmp:
 *   - RFC 8032 section 7.1 tests 1, 2, 3 and SHA(abc) verify, and fail with
 *     a flipped bit; SHA-256 of "abc" and of one million 'a';
 *   - the stack peak of verify, by painting the free RAM below the stack
 *     and looking for the deepest word it overwrote;
 *   - instructions per verify, from SysTick under `-icount shift=0` (one
 *     instruction per virtual nanosecond) and the board's clock.
 * Exit status 0 when every check passes. Run by run.sh.
 */
#include <stdint.h>
#include <string.h>

#include "weightgate_crypto.h"

#ifndef CPU_HZ
#define CPU_HZ 25000000u /* MPS2 boards */
#endif

extern uint32_t __data_start, __data_end, __data_load, __bss_start, __bss_end, __stack_top;
int main(void);

/* ---- semihosting ---- */
static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}
static void put(const char *s) { semihost(0x04, s); } /* SYS_WRITE0 */
static void put_u(uint32_t v)
{
    char b[12];
    int i = 11;
    b[i] = '\0';
    do {
        b[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    put(b + i);
}
static void stop(int ok) { semihost(0x18, (const void *)(uintptr_t)(ok ? 0x20026 : 0x20023)); for (;;) {} }

/* ---- start-up ---- */
void reset_handler(void);
void fault_handler(void);
__attribute__((section(".vectors"), used)) static const void *const vectors[16] = {
    &__stack_top, (const void *)reset_handler, (const void *)fault_handler, (const void *)fault_handler,
};
void fault_handler(void)
{
    put("fault\n");
    stop(0);
}
void reset_handler(void)
{
    uint32_t *src = &__data_load, *dst = &__data_start;
    while (dst < &__data_end) *dst++ = *src++;
    for (dst = &__bss_start; dst < &__bss_end; dst++) *dst = 0;
    stop(main() == 0);
}

/* ---- SysTick ---- */
#define SYST_CSR (*(volatile uint32_t *)0xe000e010u)
#define SYST_RVR (*(volatile uint32_t *)0xe000e014u)
#define SYST_CVR (*(volatile uint32_t *)0xe000e018u)

/* ---- checks ---- */
static unsigned failures;
static void check(int cond, const char *what)
{
    if (!cond) {
        put("FAIL ");
        put(what);
        put("\n");
        failures++;
    }
}

static void unhex(uint8_t *out, const char *hex)
{
    while (hex[0] && hex[1]) {
        unsigned v = 0, i;
        for (i = 0; i < 2; i++) {
            char c = hex[i];
            v = v * 16u + (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
        }
        *out++ = (uint8_t)v;
        hex += 2;
    }
}

static const char *const RFC8032[][3] = {
    {"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
    {"ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
     "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"},
};

#define PAINT 0xa5a5a5a5u

int main(void)
{
    static uint8_t pk[32], msg[64], sig[64], digest[32], chunk[1000];
    uint32_t sp_now, *p, *lowest, peak = 0, ticks = 0;
    unsigned i;

    /* SHA-256 */
    wg_sha256(&wg_crypto_portable, (const uint8_t *)"abc", 3, digest);
    unhex(msg, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check(memcmp(digest, msg, 32) == 0, "sha256 abc");
    {
        wg_sha256_ctx ctx;
        memset(chunk, 'a', sizeof chunk);
        wg_crypto_portable.sha256_init(&ctx);
        for (i = 0; i < 1000; i++) wg_crypto_portable.sha256_update(&ctx, chunk, sizeof chunk);
        wg_crypto_portable.sha256_final(&ctx, digest);
        unhex(msg, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
        check(memcmp(digest, msg, 32) == 0, "sha256 million a");
    }

    for (i = 0; i < 4; i++) {
        size_t len = strlen(RFC8032[i][1]) / 2;
        uint32_t start;
        unhex(pk, RFC8032[i][0]);
        unhex(msg, RFC8032[i][1]);
        unhex(sig, RFC8032[i][2]);

        /* paint the free RAM from the end of .bss to just below here */
        __asm__ volatile("mov %0, sp" : "=r"(sp_now));
        for (p = &__bss_end; p < (uint32_t *)(sp_now - 64u); p++) *p = PAINT;

        SYST_RVR = 0xffffffu;
        SYST_CVR = 0;
        SYST_CSR = 5u; /* processor clock, enabled */
        start = SYST_CVR;
        check(wg_crypto_portable.ed25519_verify(sig, msg, len, pk) == 0, "rfc8032 verify");
        ticks = (start - SYST_CVR) & 0xffffffu;
        SYST_CSR = 0;

        for (lowest = &__bss_end; lowest < (uint32_t *)sp_now && *lowest == PAINT; lowest++) {}
        if (sp_now - (uint32_t)(uintptr_t)lowest > peak) peak = sp_now - (uint32_t)(uintptr_t)lowest;

        sig[i * 9] ^= 0x10;
        check(wg_crypto_portable.ed25519_verify(sig, msg, len, pk) != 0, "rfc8032 flipped");
    }

    put("verify stack peak: ");
    put_u(peak);
    put(" bytes\nverify (RFC 8032 test SHA(abc)): ");
    put_u(ticks);
    put(" SysTick ticks = ");
    put_u((uint32_t)((uint64_t)ticks * 1000000000u / CPU_HZ / 1000u));
    put(" thousand instructions under -icount shift=0\n");
    put(failures == 0 ? "crypto on mcu: all checks pass\n" : "crypto on mcu: FAILED\n");
    return failures == 0 ? 0 : 1;
}
