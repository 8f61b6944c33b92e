/*
 * bench_board_main.c: bench_main.c for a QEMU board (firmware/examples'
 * board layer). Classifies every sample once, timing the whole loop with
 * the board counter, and prints
 *
 *   bench: samples N agree A accuracy C instructions I
 *
 * where I counts guest instructions of the loop (valid only under QEMU
 * -icount shift=0: run-qemu.sh with ICOUNT=1). Exit status as bench_main.c.
 */
#include "bench_program.h"
#include "wg_board.h"
#include WG_BENCH_SAMPLES_HEADER

int main(void)
{
    int status = bench_setup();
    if (status != 0) {
        board_puts("bench: setup failed\n");
        return 2;
    }
    unsigned agree = 0, correct = 0;
    board_counter_start();
    uint64_t t0 = board_ticks();
    for (unsigned s = 0; s < WG_BENCH_SAMPLES; ++s) {
        int cls = bench_classify(&wg_bench_raw[s * WG_BENCH_FEATURES]);
        if (cls < 0) {
            board_puts("bench: a sample failed\n");
            return 2;
        }
        agree += cls == wg_bench_expected[s];
        correct += cls == wg_bench_label[s];
    }
    uint64_t t1 = board_ticks();
    board_puts("bench: samples ");
    board_put_u32(WG_BENCH_SAMPLES);
    board_puts(" agree ");
    board_put_u32(agree);
    board_puts(" accuracy ");
    board_put_u32(correct);
    board_puts(" instructions ");
    board_put_u64(board_ticks_to_instructions(t1 - t0));
    board_puts("\n");
#ifdef WG_BENCH_STRICT
    if (agree != WG_BENCH_SAMPLES) {
        return 1;
    }
#endif
    return 0;
}
