/*
 * wg_image.c: the execution image (device-sim/exec-image.ts, 'WGX1').
 */
#include "wg_internal.h"

wg_status wg_image_layer(const wg_model *m, uint32_t l, const wg_layer_io *io)
{
    (void)m;
    (void)l;
    (void)io;
    return WG_E_UNSUPPORTED;
}
