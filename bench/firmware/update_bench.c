/*
 * update_bench.c: one update through the C library on the update half's
 * simulated NOR flash (firmware/test/update/sim_flash.c, 4 KiB sectors,
 * 8-byte program unit, device-sim's default layout: the download staged in
 * the inactive slot's tail), counting erases and programs:
 *
 *   patch   the source installed; the .wgp downloaded into staging, then
 *           wg_patch_apply into the inactive slot (wg_patch_flash_sink),
 *           finish, check (wg_open), switch, confirm
 *   whole   the source installed; the target written whole into the
 *           inactive slot, finish, check, switch, confirm
 *
 * and the applier's working memory (wg_patch_plan; the apply runs with
 * exactly that). Prints one JSON object. bench/firmware/update.ts builds
 * and runs it.
 *
 *   update_bench SOURCE.wgm PATCH.wgp TARGET.wgm
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_flash.h"
#include "weightgate.h"
#include "weightgate_crypto.h"
#include "weightgate_update.h"

#include "weightgate_patch.h"

#define SECTOR 4096u
#define ARENA_BYTES (1u << 20)

static uint8_t arena[ARENA_BYTES];

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *bytes;
    long n;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    bytes = malloc((size_t)n + 1u);
    if (!bytes || fread(bytes, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(bytes);
        return NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return bytes;
}

static int verify_open(void *ctx, unsigned slot, const uint8_t *artifact, uint32_t bytes, const uint8_t sha256[32])
{
    wg_model m;
    (void)ctx;
    (void)slot;
    (void)sha256;
    if (!artifact) return 1;
    return wg_open(&m, artifact, bytes, NULL, &wg_crypto_portable, WG_OPEN_ALLOW_UNSIGNED, arena, sizeof arena) == WG_OK
               ? 0
               : 1;
}

/* The sim's program call, wrapped to count the bytes programmed. */
static int (*sim_program)(void *ctx, uint32_t offset, const uint8_t *data, uint32_t len);
static uint32_t programmed_bytes;

static int count_program(void *ctx, uint32_t offset, const uint8_t *data, uint32_t len)
{
    programmed_bytes += len;
    return sim_program(ctx, offset, data, len);
}

static void die(const char *what, int status)
{
    fprintf(stderr, "update_bench: %s failed (%d)\n", what, status);
    exit(1);
}

typedef struct rig {
    sim_flash flash;
    uint8_t *mem;
    uint32_t bytes;
    wg_update_layout layout;
    wg_updater u;
    wg_update_hooks hooks;
} rig;

static void finish_switch(rig *r, wg_flash_writer *w, uint32_t version, uint32_t bytes)
{
    wg_slot_entry entry;
    unsigned slot = wg_update_inactive_slot(&r->u);
    wg_update_status st = wg_flash_finish(w, entry.sha256);
    if (st != WG_UPDATE_OK) die("wg_flash_finish", (int)st);
    entry.version = version;
    entry.bytes = bytes;
    if (wg_update_check_slot(&r->u, slot, &entry, &r->hooks) != WG_SLOT_OK) die("wg_update_check_slot", 0);
    if ((st = wg_update_switch(&r->u, slot, &entry)) != WG_UPDATE_OK) die("wg_update_switch", (int)st);
    if ((st = wg_update_confirm(&r->u)) != WG_UPDATE_OK) die("wg_update_confirm", (int)st);
}

static void install_whole(rig *r, const uint8_t *artifact, size_t len, uint32_t version)
{
    wg_flash_writer w;
    wg_update_status st = wg_update_begin_slot(&r->u, &w, (uint32_t)len);
    if (st != WG_UPDATE_OK) die("wg_update_begin_slot", (int)st);
    if ((st = wg_flash_write(&w, artifact, (uint32_t)len)) != WG_UPDATE_OK) die("wg_flash_write", (int)st);
    finish_switch(r, &w, version, (uint32_t)len);
}

/* A blank flash with `src` installed and running; the counters at zero. */
static void setup(rig *r, const uint8_t *src, size_t src_len, uint32_t version)
{
    wg_boot_result boot;
    sim_flash_init(&r->flash, r->mem, r->bytes, SECTOR, 8, 1);
    sim_program = r->flash.driver.program;
    r->flash.driver.program = count_program;
    if (wg_update_layout_default(r->bytes, SECTOR, 0, &r->layout) != WG_UPDATE_OK) die("wg_update_layout_default", 0);
    memset(&r->hooks, 0, sizeof r->hooks);
    r->hooks.verify = verify_open;
    if (wg_update_init(&r->u, &r->flash.driver, &r->layout, &wg_crypto_portable) != WG_UPDATE_OK) die("wg_update_init", 0);
    install_whole(r, src, src_len, version);
    if (wg_update_init(&r->u, &r->flash.driver, &r->layout, &wg_crypto_portable) != WG_UPDATE_OK) die("wg_update_init", 0);
    if (wg_update_boot(&r->u, &r->hooks, &boot) != WG_UPDATE_OK || boot.version != version) die("wg_update_boot", 0);
    r->flash.erases = r->flash.programs = 0;
    programmed_bytes = 0;
}

static uint32_t round_up(size_t n) { return (uint32_t)((n + SECTOR - 1u) / SECTOR * SECTOR); }

int main(int argc, char **argv)
{
    size_t src_len, patch_len, dst_len;
    uint8_t *src, *patch, *dst, *work;
    wg_patch_info plan, info;
    rig r;
    wg_flash_writer staged;
    wg_patch_flash f;
    wg_patch_sink sink;
    wg_boot_result boot;
    wg_status st;
    uint32_t patch_erases, patch_programs, patch_bytes_programmed, download_erases, download_programs, download_bytes;
    if (argc != 4) {
        fprintf(stderr, "usage: update_bench SOURCE.wgm PATCH.wgp TARGET.wgm\n");
        return 2;
    }
    src = read_file(argv[1], &src_len);
    patch = read_file(argv[2], &patch_len);
    dst = read_file(argv[3], &dst_len);
    if (!src || !patch || !dst) die("reading the files", 0);
    st = wg_patch_plan(src, src_len, patch, patch_len, &wg_crypto_portable, NULL, 0, &plan);
    if (st == WG_E_ARENA_TOO_SMALL) {
        work = malloc(plan.work_bytes);
        st = wg_patch_plan(src, src_len, patch, patch_len, &wg_crypto_portable, work, plan.work_bytes, &plan);
        free(work);
    }
    if (st != WG_OK) die("wg_patch_plan", (int)st);
    if (plan.target_bytes != dst_len) die("the planned target size", (int)plan.target_bytes);

    /* two state sectors and two slots, each holding the larger artifact and the download */
    r.bytes = 2u * SECTOR + 2u * (round_up(src_len > dst_len ? src_len : dst_len) + round_up(patch_len) + SECTOR);
    r.mem = malloc(r.bytes);

    /* the patch: download into staging, apply into the inactive slot */
    setup(&r, src, src_len, plan.from_version);
    if (wg_update_begin_staging(&r.u, &staged, (uint32_t)patch_len) != WG_UPDATE_OK) die("wg_update_begin_staging", 0);
    if (wg_flash_write(&staged, patch, (uint32_t)patch_len) != WG_UPDATE_OK) die("staging the download", 0);
    if (wg_flash_finish(&staged, NULL) != WG_UPDATE_OK) die("finishing the download", 0);
    download_erases = r.flash.erases;
    download_programs = r.flash.programs;
    download_bytes = programmed_bytes;
    if (wg_update_boot(&r.u, &r.hooks, &boot) != WG_UPDATE_OK) die("wg_update_boot", 0);
    work = malloc(plan.work_bytes ? plan.work_bytes : 1u); /* exactly the plan */
    sink = wg_patch_flash_sink(&f, &r.u);
    st = wg_patch_apply(r.mem + r.layout.slot_offset[boot.slot], boot.bytes, r.mem + r.u.staged_offset, r.u.staged_bytes,
                        NULL, &wg_crypto_portable, &sink, work, plan.work_bytes, &info);
    free(work);
    if (st != WG_OK) die("wg_patch_apply", (int)st);
    finish_switch(&r, &f.writer, info.to_version, info.target_bytes);
    if (memcmp(r.mem + r.layout.slot_offset[wg_update_inactive_slot(&r.u) ^ 1u], dst, dst_len) != 0)
        die("the patched slot equals the target", 0);
    if (r.flash.violations) die("the NOR rules", (int)r.flash.violations);
    patch_erases = r.flash.erases;
    patch_programs = r.flash.programs;
    patch_bytes_programmed = programmed_bytes;

    /* the whole target */
    setup(&r, src, src_len, plan.from_version);
    install_whole(&r, dst, dst_len, plan.to_version);
    if (r.flash.violations) die("the NOR rules", (int)r.flash.violations);

    printf("{\"sourceBytes\":%u,\"targetBytes\":%u,\"patchBytes\":%u,\"planWorkBytes\":%u,\"applyWorkBytes\":%u,"
           "\"ops\":{\"reused\":%u,\"whole\":%u,\"byteDelta\":%u,\"entryDelta\":%u},"
           "\"patch\":{\"erases\":%u,\"programs\":%u,\"programmedBytes\":%u,"
           "\"download\":{\"erases\":%u,\"programs\":%u,\"programmedBytes\":%u}},"
           "\"whole\":{\"erases\":%u,\"programs\":%u,\"programmedBytes\":%u}}\n",
           (unsigned)src_len, (unsigned)dst_len, (unsigned)patch_len, (unsigned)plan.work_bytes, (unsigned)info.work_bytes,
           (unsigned)info.reused, (unsigned)info.whole, (unsigned)info.byte_delta, (unsigned)info.entry_delta,
           (unsigned)patch_erases, (unsigned)patch_programs, (unsigned)patch_bytes_programmed, (unsigned)download_erases,
           (unsigned)download_programs, (unsigned)download_bytes, (unsigned)r.flash.erases, (unsigned)r.flash.programs,
           (unsigned)programmed_bytes);
    free(r.mem);
    free(src);
    free(patch);
    free(dst);
    return 0;
}
