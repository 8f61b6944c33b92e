/*
 * bench_main.c: the host harness for count.ts. Classifies every sample of
 * the samples header (export-dense.ts) once with the program linked in,
 * compares each class with the one export-dense.ts's float32 forward pass
 * gave, and prints one summary line:
 *
 *   bench: samples N agree A accuracy C
 *
 * Exit status: 0; 1 when WG_BENCH_STRICT is defined and some class
 * disagrees (the dense reference must agree exactly; a program on another
 * arithmetic path may differ on near-ties); 2 when bench_setup or
 * bench_classify fails.
 */
#include <stdio.h>

#include "bench_program.h"
#include WG_BENCH_SAMPLES_HEADER

int main(void)
{
    int status = bench_setup();
    if (status != 0) {
        fprintf(stderr, "bench: setup failed (%d)\n", status);
        return 2;
    }
    unsigned agree = 0, correct = 0;
    for (unsigned s = 0; s < WG_BENCH_SAMPLES; ++s) {
        int cls = bench_classify(&wg_bench_raw[s * WG_BENCH_FEATURES]);
        if (cls < 0) {
            fprintf(stderr, "bench: sample %u failed (%d)\n", s, cls);
            return 2;
        }
        agree += cls == wg_bench_expected[s];
        correct += cls == wg_bench_label[s];
    }
    printf("bench: samples %u agree %u accuracy %u\n", (unsigned)WG_BENCH_SAMPLES, agree, correct);
#ifdef WG_BENCH_STRICT
    if (agree != WG_BENCH_SAMPLES) {
        fprintf(stderr, "bench: %u of %u classes differ from export-dense.ts's forward pass\n",
                (unsigned)WG_BENCH_SAMPLES - agree, (unsigned)WG_BENCH_SAMPLES);
        return 1;
    }
#endif
    return 0;
}
