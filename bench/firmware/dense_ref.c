/*
 * dense_ref.c: a dense float32 MLP the way a firmware engineer writes one
 * with no library: every weight stored, every multiply done, loops over
 * rows and columns, no SIMD, no skipping of zero weights or inputs.
 *
 * One output at a time, its sum in a register, over a contiguous row of
 * the kernel stored [units][inputs] (TFLite Micro's fully-connected
 * layout; export-dense.ts transposes Keras' [inputs][units]): the fastest
 * plain loop, so the comparison is not against a strawman.
 *
 * Each out[j] sums in the execution image's order (docs/arithmetic.md):
 * 0, then fl32(x[i] * w) for rows i ascending, then the bias. Built with
 * -ffp-contract=off it gives the same binary32 logits as export-dense.ts's
 * forward pass, so the classes can be checked.
 */
#include "dense_ref.h"

static void dense_layer_forward(const struct dense_layer *layer, const float *x, float *out)
{
    const unsigned inputs = layer->inputs;
    const unsigned units = layer->units;
    const float *w = layer->kernel;

    for (unsigned j = 0; j < units; ++j) {
        float acc = 0.0f;
        for (unsigned i = 0; i < inputs; ++i) {
            acc += x[i] * w[i];
        }
        w += inputs;
        acc += layer->bias[j];
        if (layer->relu && acc < 0.0f) {
            acc = 0.0f;
        }
        out[j] = acc;
    }
}

int dense_ref_classify(const struct dense_layer *layers, int n_layers, float scale, float offset,
                       const uint8_t *raw, float *buf_a, float *buf_b)
{
    float *x = buf_a;
    float *y = buf_b;
    for (unsigned i = 0; i < layers[0].inputs; ++i) {
        x[i] = (float)raw[i] * scale + offset;
    }
    for (int l = 0; l < n_layers; ++l) {
        dense_layer_forward(&layers[l], x, y);
        float *t = x;
        x = y;
        y = t;
    }
    const unsigned outputs = layers[n_layers - 1].units;
    unsigned best = 0;
    for (unsigned j = 1; j < outputs; ++j) {
        if (x[j] > x[best]) {
            best = j;
        }
    }
    return (int)best;
}
