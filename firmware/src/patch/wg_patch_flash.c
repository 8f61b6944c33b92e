/*
 * wg_patch_flash.c: a wg_patch_sink over the update half's slot writer:
 * begin opens the inactive slot for B's size (wg_update_begin_slot), write
 * is wg_flash_write. The caller finishes with wg_flash_finish(&f->writer).
 */
#include "weightgate_update.h"

#include "weightgate_patch.h"

static int flash_begin(void *ctx, uint32_t total_bytes)
{
    wg_patch_flash *f = (wg_patch_flash *)ctx;
    f->status = wg_update_begin_slot(f->updater, &f->writer, total_bytes);
    return f->status == WG_UPDATE_OK ? 0 : -1;
}

static int flash_write(void *ctx, const uint8_t *data, size_t len)
{
    wg_patch_flash *f = (wg_patch_flash *)ctx;
    f->status = wg_flash_write(&f->writer, data, (uint32_t)len);
    return f->status == WG_UPDATE_OK ? 0 : -1;
}

wg_patch_sink wg_patch_flash_sink(wg_patch_flash *f, wg_updater *u)
{
    wg_patch_sink sink;
    f->updater = u;
    f->status = WG_UPDATE_OK;
    sink.begin = flash_begin;
    sink.write = flash_write;
    sink.ctx = f;
    return sink;
}
