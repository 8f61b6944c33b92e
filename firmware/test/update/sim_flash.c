/* sim_flash.c: see sim_flash.h. */
#include "sim_flash.h"

#include <string.h>

/* Programs `value` into *cell as NOR does: bits only go from 1 to 0. */
static void nor_program(sim_flash *f, uint8_t *cell, uint8_t value) {
    if (*cell != 0xFF) f->violations++;
    *cell &= value;
}

static uint8_t ERASED[4096]; /* all 0xFF once sim_flash_init has run */
static uint8_t erased_ready;

/* nor_program over len bytes; erased cells (the rule: programming only
 * after an erase) take the whole run at once. The power-cut tests program
 * millions of bytes, and byte by byte under AddressSanitizer was a third
 * of their time. */
static void nor_program_run(sim_flash *f, uint8_t *cells, const uint8_t *data, uint32_t len) {
    uint32_t i, n;
    while (len > 0) {
        n = len < sizeof ERASED ? len : (uint32_t)sizeof ERASED;
        if (memcmp(cells, ERASED, n) == 0) {
            memcpy(cells, data, n);
        } else {
            for (i = 0; i < n; i++) nor_program(f, &cells[i], data[i]);
        }
        cells += n;
        data += n;
        len -= n;
    }
}

/* Decides whether this call is the one the power cut interrupts. */
static int cut_now(sim_flash *f) {
    if (f->dead) return 1;
    if (f->ops++ == f->cut_at) {
        f->dead = 1;
        return 1;
    }
    return 0;
}

static int sim_erase(void *ctx, uint32_t offset) {
    sim_flash *f = ctx;
    uint32_t s = f->driver.sector_bytes, done = s;
    if (offset % s || offset > f->bytes - s) {
        f->violations++;
        return -1;
    }
    if (cut_now(f)) {
        if (f->ops - 1 != f->cut_at || f->tear == SIM_TEAR_NOTHING) return -1;
        done = f->tear == SIM_TEAR_HALF ? s / 2 : s - 1;
        memset(f->mem + offset, 0xFF, done);
        f->mem[offset + done] |= 0xA5; /* a byte caught half erased */
        f->erases++;
        return -1;
    }
    memset(f->mem + offset, 0xFF, done);
    f->erases++;
    return 0;
}

static int sim_program(void *ctx, uint32_t offset, const uint8_t *data, uint32_t len) {
    sim_flash *f = ctx;
    uint32_t p = f->driver.program_bytes, s = f->driver.sector_bytes, done = len;
    if (len == 0 || offset % p || len % p || offset > f->bytes - len || offset / s != (offset + len - 1) / s) {
        f->violations++;
        return -1;
    }
    if (cut_now(f)) {
        if (f->ops - 1 != f->cut_at || f->tear == SIM_TEAR_NOTHING) return -1;
        done = f->tear == SIM_TEAR_HALF ? len / 2 : len - 1;
        nor_program_run(f, f->mem + offset, data, done);
        f->mem[offset + done] &= (uint8_t)(data[done] | 0x5A); /* some bits cleared, not all */
        f->programs++;
        return -1;
    }
    nor_program_run(f, f->mem + offset, data, len);
    f->programs++;
    return 0;
}

static int sim_read(void *ctx, uint32_t offset, uint8_t *out, uint32_t len) {
    sim_flash *f = ctx;
    if (offset > f->bytes || len > f->bytes - offset) return -1;
    memcpy(out, f->mem + offset, len);
    return 0;
}

void sim_flash_init(sim_flash *f, uint8_t *mem, uint32_t bytes, uint32_t sector_bytes, uint32_t program_bytes,
                    int mapped) {
    memset(f, 0, sizeof *f);
    if (!erased_ready) {
        memset(ERASED, 0xFF, sizeof ERASED);
        erased_ready = 1;
    }
    f->mem = mem;
    f->bytes = bytes;
    memset(mem, 0xFF, bytes);
    f->cut_at = SIM_NO_CUT;
    f->driver.ctx = f;
    f->driver.sector_bytes = sector_bytes;
    f->driver.program_bytes = program_bytes;
    f->driver.mapped = mapped ? mem : NULL;
    f->driver.erase = sim_erase;
    f->driver.program = sim_program;
    f->driver.read = sim_read;
}

void sim_flash_plan(sim_flash *f, uint32_t at, enum sim_tear tear) {
    f->ops = 0;
    f->cut_at = at;
    f->tear = tear;
    f->dead = 0;
}
