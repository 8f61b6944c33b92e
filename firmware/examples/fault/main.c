/*
 * fault: executes a permanently undefined instruction (UDF). That is a
 * UsageFault on v7-M, a HardFault on v6-M, and with no UsageFault handler
 * enabled both arrive at HardFault, whose handler must report it and exit
 * with BOARD_EXIT_FAULT rather than hang. (A read of an unmapped address
 * would not do: QEMU's microbit answers it with 0.)
 */
#include "wg_board.h"

int main(void)
{
    board_puts("executing UDF\n");
    __asm__ volatile("udf #0");
    board_puts("no fault\n");
    return 0;
}
