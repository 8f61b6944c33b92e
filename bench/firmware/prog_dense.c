/*
 * prog_dense.c: the dense float32 reference as a bench program. The
 * network is the header export-dense.ts writes (dense_model.h).
 */
#include "bench_program.h"
#include "dense_model.h"
#include "dense_ref.h"

static float buf_a[WG_DENSE_MAX_WIDTH];
static float buf_b[WG_DENSE_MAX_WIDTH];

int bench_setup(void)
{
    return 0;
}

int bench_classify(const unsigned char *raw)
{
    return dense_ref_classify(wg_dense_layers, WG_DENSE_LAYERS, wg_dense_scale, wg_dense_offset, raw, buf_a, buf_b);
}
