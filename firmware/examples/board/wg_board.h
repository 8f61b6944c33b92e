/*
 * wg_board.h: the little a weightgate example needs from a board, and
 * nothing more: text out, numbers out without printf, an exit status the
 * host can read, and a counter for timing.
 *
 * Implemented for QEMU's mps2-an386 (Cortex-M4F), mps2-an505 (Cortex-M33)
 * and microbit (nRF51, Cortex-M0) over Arm semihosting: run QEMU with
 *   -semihosting-config enable=on,target=native
 * (run-qemu.sh does). Without semihosting the BKPT these functions use
 * faults, so a firmware built on this board layer needs a debugger or QEMU.
 *
 * Startup (startup.c) copies .data, zeroes .bss, turns the FPU on where the
 * build uses it, then calls main(); main's return value goes to
 * board_exit().
 */
#ifndef WG_BOARD_H
#define WG_BOARD_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Exit statuses the board layer itself uses (main's own are its business). */
#define BOARD_EXIT_FAULT 70u /* a fault handler ran (EX_SOFTWARE) */

/* Board name as the build knows it ("mps2-an386", "mps2-an505", "microbit"). */
const char *board_name(void);

/* Text to the host console (semihosting SYS_WRITE0 / SYS_WRITEC). */
void board_puts(const char *s);          /* no newline added */
void board_putc(char c);
void board_put_u32(uint32_t v);          /* decimal */
void board_put_i32(int32_t v);           /* decimal, '-' when negative */
void board_put_hex32(uint32_t v);        /* 8 hex digits, no prefix */
void board_put_u64(uint64_t v);          /* decimal */
void board_putn(const char *s, uint32_t n); /* n bytes of s */

/*
 * A fixed-point number: `scaled` / 10^decimals, printed with exactly
 * `decimals` digits after the point (0..9). board_put_fixed(9355, 2)
 * prints "93.55", board_put_fixed(-5, 3) prints "-0.005".
 */
void board_put_fixed(int32_t scaled, unsigned decimals);

/*
 * 100 * num / den rounded to `decimals` digits (0..4), e.g. an accuracy:
 * board_put_percent(9355, 10000, 2) prints "93.55". den == 0 prints "n/a".
 */
void board_put_percent(uint32_t num, uint32_t den, unsigned decimals);

/*
 * Ends the program with `status` as QEMU's process exit status
 * (SYS_EXIT_EXTENDED, ADP_Stopped_ApplicationExit + subcode); a status
 * outside 0..255 becomes 255, never a wrapped 0. Where the
 * host lacks SYS_EXIT_EXTENDED it falls back to SYS_EXIT, which can only
 * say 0 (status == 0) or 1 (anything else). Never returns.
 */
void board_exit(int status) __attribute__((noreturn));

/*
 * Stack high-water mark: board_stack_paint() fills the unused stack below
 * the caller's frame with a pattern (call it first thing in main);
 * board_stack_used() is then the deepest the stack has reached, in bytes
 * from its top (the linker script's __stack_top).
 */
void board_stack_paint(void);
uint32_t board_stack_used(void);
uint32_t board_stack_size(void); /* the whole stack, in bytes */

/*
 * Counter. board_ticks() counts up from the first call to board_counter_start()
 * (64 bits, wraps are handled by an interrupt) at board_tick_hz() ticks per
 * second of the board's time. It is 0 when the board has no counter.
 *
 * On QEMU this is virtual time. Run QEMU with -icount shift=0 (run-qemu.sh
 * with ICOUNT=1) and virtual time advances exactly 1 ns per guest
 * instruction, so
 *   instructions = ticks * 1e9 / board_tick_hz()
 * to within one tick (board_ticks_to_instructions() does this). Without
 * -icount the ticks follow host time and mean little. DWT CYCCNT is not
 * emulated by QEMU, so it is not used.
 */
void board_counter_start(void);
uint64_t board_ticks(void);
uint32_t board_tick_hz(void);
uint64_t board_ticks_to_instructions(uint64_t ticks); /* valid under -icount shift=0 */

#ifdef __cplusplus
}
#endif

#endif /* WG_BOARD_H */
