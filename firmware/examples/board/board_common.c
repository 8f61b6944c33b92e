/*
 * board_common.c: console and exit over Arm semihosting, and the number
 * printers. Shared by every board; the counter lives in board_<name>.c.
 *
 * Semihosting on M-profile is "BKPT 0xAB" with the operation in r0 and its
 * argument (a pointer, or a value) in r1; the result comes back in r0.
 */
#include <stdint.h>

#include "wg_board.h"

enum {
    SYS_WRITEC = 0x03,
    SYS_WRITE0 = 0x04,
    SYS_EXIT = 0x18,
    SYS_EXIT_EXTENDED = 0x20,
};

/* Reason codes for SYS_EXIT / SYS_EXIT_EXTENDED. */
#define ADP_Stopped_ApplicationExit 0x20026u
#define ADP_Stopped_RunTimeErrorUnknown 0x20023u

static uintptr_t semihost(uintptr_t op, const void *arg)
{
    register uintptr_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void board_puts(const char *s)
{
    semihost(SYS_WRITE0, s);
}

void board_putc(char c)
{
    semihost(SYS_WRITEC, &c);
}

void board_put_u32(uint32_t v)
{
    char buf[11];
    char *p = buf + sizeof buf;
    *--p = '\0';
    do {
        *--p = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    board_puts(p);
}

void board_put_i32(int32_t v)
{
    if (v < 0) {
        board_putc('-');
        board_put_u32(0u - (uint32_t)v);
    } else {
        board_put_u32((uint32_t)v);
    }
}

void board_put_u64(uint64_t v)
{
    if (v <= 0xFFFFFFFFu) {
        board_put_u32((uint32_t)v); /* no 64-bit division on the common path */
        return;
    }
    char buf[21];
    char *p = buf + sizeof buf;
    *--p = '\0';
    do {
        *--p = (char)('0' + (unsigned)(v % 10u));
        v /= 10u;
    } while (v);
    board_puts(p);
}

void board_put_hex32(uint32_t v)
{
    static const char digits[] = "0123456789abcdef";
    char buf[9];
    for (int i = 7; i >= 0; --i) {
        buf[i] = digits[v & 0xFu];
        v >>= 4;
    }
    buf[8] = '\0';
    board_puts(buf);
}

static const uint32_t pow10_u32[10] = {
    1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u, 100000000u, 1000000000u,
};

/* ".ddd": `frac` < 10^decimals, zero-padded to `decimals` digits (1..9). */
static void put_fraction(uint32_t frac, unsigned decimals)
{
    char buf[11];
    buf[0] = '.';
    for (unsigned i = decimals; i > 0; --i) {
        buf[i] = (char)('0' + frac % 10u);
        frac /= 10u;
    }
    buf[decimals + 1] = '\0';
    board_puts(buf);
}

void board_put_fixed(int32_t scaled, unsigned decimals)
{
    if (decimals > 9) {
        decimals = 9;
    }
    uint32_t mag = scaled < 0 ? 0u - (uint32_t)scaled : (uint32_t)scaled;
    if (scaled < 0) {
        board_putc('-');
    }
    uint32_t unit = pow10_u32[decimals];
    board_put_u32(mag / unit);
    if (decimals == 0) {
        return;
    }
    put_fraction(mag % unit, decimals);
}

void board_put_percent(uint32_t num, uint32_t den, unsigned decimals)
{
    if (den == 0) {
        board_puts("n/a");
        return;
    }
    if (decimals > 4) {
        decimals = 4;
    }
    /* 100 * 10^decimals * num / den, rounded half up, in 64 bits:
     * num < 2^32 and the factor <= 10^6 cannot overflow. */
    uint64_t scaled = ((uint64_t)num * (100u * pow10_u32[decimals]) + den / 2u) / den;
    uint32_t unit = pow10_u32[decimals];
    board_put_u64(scaled / unit);
    if (decimals) {
        put_fraction((uint32_t)(scaled % unit), decimals);
    }
}

void board_exit(int status)
{
    /* A process exit status is 8 bits: 256 would read as 0 (success) on the
     * host, so anything outside 0..255 becomes 255. */
    if (status < 0 || status > 255) {
        status = 255;
    }
    /* SYS_EXIT_EXTENDED: the host's exit status is the subcode. */
    uint32_t block[2] = {ADP_Stopped_ApplicationExit, (uint32_t)status};
    semihost(SYS_EXIT_EXTENDED, block);
    /* Still here: the host lacks SYS_EXIT_EXTENDED. On AArch32 plain
     * SYS_EXIT takes the reason itself, which says only ok or not. */
    semihost(SYS_EXIT, (const void *)(uintptr_t)(status == 0 ? ADP_Stopped_ApplicationExit
                                                               : ADP_Stopped_RunTimeErrorUnknown));
    for (;;) {
        __asm__ volatile("wfi");
    }
}

void board_putn(const char *s, uint32_t n)
{
    for (uint32_t i = 0; i < n; ++i) {
        board_putc(s[i]);
    }
}

/* The stack: from the linker script (sections.ld.inc). */
extern uint32_t __stack_limit[];
extern uint32_t __stack_top[];
#define STACK_PAINT 0x57475354u /* "TSGW" */

void board_stack_paint(void)
{
    uint32_t *sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    /* leave 64 bytes below the frame alone: this function's own */
    for (volatile uint32_t *p = __stack_limit; p + 16 < sp; ++p) {
        *p = STACK_PAINT;
    }
}

uint32_t board_stack_used(void)
{
    const uint32_t *p = __stack_limit;
    while (p < __stack_top && *p == STACK_PAINT) {
        ++p;
    }
    return (uint32_t)((uintptr_t)__stack_top - (uintptr_t)p);
}

uint32_t board_stack_size(void)
{
    return (uint32_t)((uintptr_t)__stack_top - (uintptr_t)__stack_limit);
}
