/*
 * hello: the smallest weightgate board program. Prints one line naming
 * the board, checks the number printers and that floating point works,
 * and exits 0 (the host sees the status through semihosting; run-qemu.sh
 * returns it).
 */
#include "wg_board.h"

int main(void)
{
    board_puts("weightgate hello from ");
    board_puts(board_name());
    board_puts("\n");

    /* The printers, on values whose text is known; the ctest checks it. */
    board_puts("numbers: ");
    board_put_u32(4294967295u);
    board_putc(' ');
    board_put_i32(-42);
    board_putc(' ');
    board_put_fixed(9355, 2);
    board_putc(' ');
    board_put_fixed(-5, 3);
    board_putc(' ');
    board_put_percent(1871, 2000, 2);
    board_putc(' ');
    board_put_u64(18446744073709551615ull);
    board_putc(' ');
    board_put_hex32(0xC0FFEE42u);
    board_puts("\n");

    /* One float multiply the compiler cannot fold: on M4F and M33 it is an
     * FPU instruction, which faults unless startup enabled the FPU. */
    volatile float a = 1.5f, b = 2.25f;
    board_puts("float: ");
    board_put_fixed((int32_t)(a * b * 1000.0f), 3);
    board_puts("\n");
    return 0;
}
