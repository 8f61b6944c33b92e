/*
 * dense_ref.h: a plain dense float32 MLP, the yardstick the weightgate
 * library is measured against (bench/firmware/count.ts).
 */
#ifndef DENSE_REF_H
#define DENSE_REF_H

#include <stdint.h>

struct dense_layer {
    uint16_t inputs;
    uint16_t units;
    uint8_t relu;        /* 1: relu; 0: linear (or a softmax last layer: argmax only) */
    const float *kernel; /* [units][inputs], row-major: row j feeds output j */
    const float *bias;   /* [units] */
};

/*
 * Classifies one sample of raw bytes (x = raw * scale + offset): runs every
 * layer and returns the argmax of the last one (first index on ties).
 * buf_a and buf_b are caller scratch of max(inputs, units) floats each.
 */
int dense_ref_classify(const struct dense_layer *layers, int n_layers, float scale, float offset,
                       const uint8_t *raw, float *buf_a, float *buf_b);

#endif /* DENSE_REF_H */
