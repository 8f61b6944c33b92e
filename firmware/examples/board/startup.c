/*
 * startup.c: vector table and reset handler for the QEMU boards.
 *
 * The linker script (mps2-an386.ld, mps2-an505.ld, microbit.ld) provides:
 *   __stack_top                 initial SP (top of RAM)
 *   __data_load                 where .data's initial bytes sit in flash
 *   __data_start, __data_end    .data in RAM
 *   __bss_start, __bss_end      .bss in RAM
 * all 4-byte aligned, so the copy and clear loops move whole words.
 *
 * WG_BOARD_IRQS (set by the build per board) is the number of external
 * interrupt vectors; none of them is used, each points at the default
 * handler, which reports and exits.
 */
#include <stdint.h>

#include "wg_board.h"

#ifndef WG_BOARD_IRQS
#define WG_BOARD_IRQS 32
#endif

extern uint32_t __stack_top;
extern uint32_t __data_load, __data_start, __data_end;
extern uint32_t __bss_start, __bss_end;

int main(void);
void wg_board_init(void);           /* board_*.c: anything before main */
void wg_board_systick_handler(void); /* board_*.c: counter wrap (or nothing) */

void reset_handler(void) __attribute__((noreturn, used));
static void default_handler(void);
static void hardfault_handler(void);

void reset_handler(void)
{
#if defined(__ARM_FP)
    /* CPACR: full access to CP10 and CP11 (the FPU) before any FP instruction.
     * Nothing above this line may touch a floating-point register. */
    volatile uint32_t *const cpacr = (volatile uint32_t *)0xE000ED88u;
    *cpacr |= (0xFu << 20);
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif

    uint32_t *src = &__data_load;
    uint32_t *dst = &__data_start;
    while (dst < &__data_end) {
        *dst++ = *src++;
    }
    for (dst = &__bss_start; dst < &__bss_end; ++dst) {
        *dst = 0;
    }

    wg_board_init();
    board_exit(main());
}

static void default_handler(void)
{
    board_puts("\nwg_board: unexpected interrupt\n");
    board_exit(BOARD_EXIT_FAULT);
}

static void hardfault_handler(void)
{
    board_puts("\nwg_board: HardFault\n");
    board_exit(BOARD_EXIT_FAULT);
}

typedef void (*vector_fn)(void);

/* Cortex-M vector table: initial SP, then 15 system exceptions, then IRQs.
 * On ARMv6-M (microbit) the MemManage/BusFault/UsageFault/DebugMon slots
 * are reserved; pointing them at a handler is harmless. */
__attribute__((section(".vectors"), used))
const vector_fn wg_vector_table[16 + WG_BOARD_IRQS] = {
    [0] = (vector_fn)(uintptr_t)&__stack_top,
    [1] = reset_handler,
    [2] = default_handler,   /* NMI */
    [3] = hardfault_handler, /* HardFault */
    [4] = hardfault_handler, /* MemManage */
    [5] = hardfault_handler, /* BusFault */
    [6] = hardfault_handler, /* UsageFault */
    [11] = default_handler,  /* SVCall */
    [12] = default_handler,  /* DebugMon */
    [14] = default_handler,  /* PendSV */
    [15] = wg_board_systick_handler,
    [16 ... 16 + WG_BOARD_IRQS - 1] = default_handler,
};
