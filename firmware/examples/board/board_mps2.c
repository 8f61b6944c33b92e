/*
 * board_mps2.c: QEMU's MPS2 boards: mps2-an386 (Cortex-M4F, 25 MHz) and
 * mps2-an505 (Cortex-M33, 20 MHz; runs in the secure state, where it
 * boots). The build sets WG_BOARD_MPS2_NAME and WG_BOARD_CPU_HZ; the
 * defaults are the AN386's.
 *
 * Counter: SysTick on the processor clock (CLKSOURCE = 1), 24-bit,
 * extended to 64 bits by counting wraps in its interrupt. QEMU drives it
 * from virtual time; under -icount shift=0 that is 1 ns per instruction,
 * so one tick is 1e9 / CPU_HZ instructions (40 on the AN386, 50 on the
 * AN505).
 */
#include <stdint.h>

#include "wg_board.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

#define SYST_CSR_ENABLE (1u << 0)
#define SYST_CSR_TICKINT (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2)

#define SYSTICK_RELOAD 0x00FFFFFFu /* the full 24 bits: one wrap per 2^24 ticks */

#ifndef WG_BOARD_MPS2_NAME
#define WG_BOARD_MPS2_NAME "mps2-an386"
#endif
#ifndef WG_BOARD_CPU_HZ
#define WG_BOARD_CPU_HZ 25000000u
#endif
#define CPU_HZ WG_BOARD_CPU_HZ

static volatile uint32_t systick_wraps;

const char *board_name(void)
{
    return WG_BOARD_MPS2_NAME;
}

void wg_board_init(void)
{
}

void wg_board_systick_handler(void)
{
    ++systick_wraps;
}

void board_counter_start(void)
{
    SYST_CSR = 0;
    SYST_RVR = SYSTICK_RELOAD;
    SYST_CVR = 0; /* any write clears the count; it reloads on the next tick */
    systick_wraps = 0;
    SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE;
}

uint64_t board_ticks(void)
{
    if (!(SYST_CSR & SYST_CSR_ENABLE)) {
        return 0;
    }
    uint32_t wraps, val;
    /* Read until no wrap interrupt came between the two reads of `wraps`
     * (thread mode with interrupts on, so a wrap is counted at once). */
    do {
        wraps = systick_wraps;
        val = SYST_CVR;
    } while (wraps != systick_wraps);
    /* A period is RELOAD+1 ticks: RELOAD, ..., 1, 0; the wrap interrupt
     * comes on the step to 0, and the count is 0 right after the start. */
    uint32_t in_period = val == 0 ? 0u : SYSTICK_RELOAD + 1u - val;
    return (uint64_t)wraps * (SYSTICK_RELOAD + 1u) + in_period;
}

uint32_t board_tick_hz(void)
{
    return CPU_HZ;
}

uint64_t board_ticks_to_instructions(uint64_t ticks)
{
    return ticks * (1000000000u / CPU_HZ);
}
