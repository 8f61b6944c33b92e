/*
 * hang: never exits. The test runs it with a 2 s limit and expects
 * run-qemu.sh's timeout status, 124: a firmware that hangs fails its test
 * in seconds instead of stalling ctest.
 */
#include "wg_board.h"

int main(void)
{
    board_puts("spinning forever\n");
    for (;;) {
        __asm__ volatile("" ::: "memory");
    }
}
