/*
 * board_microbit.c: QEMU microbit (nRF51822, Cortex-M0, 16 MHz).
 *
 * Counter: the nRF51 has no SysTick (QEMU models one anyway; real parts do
 * not), so the counter is TIMER0 in 32-bit timer mode at 16 MHz
 * (PRESCALER 0), read through TASKS_CAPTURE[0] / CC[0]. It wraps after
 * 2^32 ticks (268 s of board time); that is far beyond any benchmark run,
 * so no interrupt extends it. Under QEMU -icount shift=0 (1 ns per
 * instruction) one tick is 62.5 instructions.
 */
#include <stdint.h>

#include "wg_board.h"

#define NRF_TIMER0 0x40008000u
#define TIMER_REG(off) (*(volatile uint32_t *)(NRF_TIMER0 + (off)))
#define TASKS_START TIMER_REG(0x000)
#define TASKS_STOP TIMER_REG(0x004)
#define TASKS_CLEAR TIMER_REG(0x00C)
#define TASKS_CAPTURE0 TIMER_REG(0x040)
#define MODE TIMER_REG(0x504)
#define BITMODE TIMER_REG(0x508)
#define PRESCALER TIMER_REG(0x510)
#define CC0 TIMER_REG(0x540)

#define TIMER_HZ 16000000u

static int counter_running;

const char *board_name(void)
{
    return "microbit";
}

void wg_board_init(void)
{
}

void wg_board_systick_handler(void)
{
}

void board_counter_start(void)
{
    TASKS_STOP = 1;
    MODE = 0;      /* timer */
    BITMODE = 3;   /* 32 bit */
    PRESCALER = 0; /* 16 MHz */
    TASKS_CLEAR = 1;
    TASKS_START = 1;
    counter_running = 1;
}

uint64_t board_ticks(void)
{
    if (!counter_running) {
        return 0;
    }
    TASKS_CAPTURE0 = 1;
    return CC0;
}

uint32_t board_tick_hz(void)
{
    return TIMER_HZ;
}

uint64_t board_ticks_to_instructions(uint64_t ticks)
{
    return ticks * 125u / 2u; /* 1e9 / 16e6 = 62.5 ns per tick */
}
