/*
 * status: returns a non-zero status so the tests can see it reach the host
 * unchanged (through SYS_EXIT_EXTENDED, QEMU and run-qemu.sh).
 */
#include "wg_board.h"

int main(void)
{
    board_puts("exiting with status 42\n");
    return 42;
}
