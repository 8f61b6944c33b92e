/*
 * sim_flash.h: a NOR flash in RAM for the update tests. Erase sets a sector
 * to 0xFF, program only clears bits (and counts a violation when it meets a
 * byte that was not erased, or a misaligned or sector-crossing call). A
 * power cut can be planned at any erase or program call: that call is left
 * partly done (tear modes below) and every later erase or program fails
 * without touching the flash, as if the device had lost power.
 */
#ifndef SIM_FLASH_H
#define SIM_FLASH_H

#include <stdint.h>

#include "weightgate_update.h"

#define SIM_NO_CUT 0xFFFFFFFFu

enum sim_tear {
    SIM_TEAR_NOTHING = 0, /* the call in flight changes nothing */
    SIM_TEAR_HALF,        /* half done; the next byte half programmed / erased */
    SIM_TEAR_ALMOST,      /* all but the last byte done; that one partly */
    SIM_TEAR_MODES
};

typedef struct sim_flash {
    uint8_t *mem;
    uint32_t bytes;
    uint32_t ops;        /* erase + program calls so far */
    uint32_t cut_at;     /* the call that the power cut interrupts, or SIM_NO_CUT */
    enum sim_tear tear;
    int dead;            /* the power is gone */
    uint32_t violations; /* NOR or alignment rule broken by the library */
    uint32_t erases, programs;
    wg_flash driver;     /* the wg_flash over this sim */
} sim_flash;

/* mem is the caller's buffer of `bytes`; set to 0xFF. */
void sim_flash_init(sim_flash *f, uint8_t *mem, uint32_t bytes, uint32_t sector_bytes, uint32_t program_bytes,
                    int mapped);

/* Plans a cut at call number `at` (0-based; SIM_NO_CUT: none) and powers up. */
void sim_flash_plan(sim_flash *f, uint32_t at, enum sim_tear tear);

#endif
