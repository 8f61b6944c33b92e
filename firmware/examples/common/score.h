/*
 * score.h: scoring the linked samples, shared by the classify and update
 * examples. Include it after weightgate.h, wg_board.h and the generated
 * classify_samples.h (CLASSIFY_SAMPLES, CLASSIFY_FEATURES, classify_samples,
 * classify_labels); its functions are static, one copy per program.
 */
#ifndef WG_EXAMPLES_SCORE_H
#define WG_EXAMPLES_SCORE_H

/* Runs every sample through `m`: how many it classified right, or -1 when
 * an invoke failed (its status in *failed_status). */
static int32_t score_samples(wg_model *m, wg_status *failed_status)
{
    uint32_t correct = 0;
    wg_result result;
    for (uint32_t s = 0; s < CLASSIFY_SAMPLES; ++s) {
        wg_status st = wg_invoke(m, &classify_samples[s * CLASSIFY_FEATURES], NULL, &result);
        if (st != WG_OK) {
            *failed_status = st;
            return -1;
        }
        correct += result.class_index == classify_labels[s];
    }
    return (int32_t)correct;
}

/* "accuracy 93.55 % (1871/2000), device-sim 93.55 %": what the checkers read. */
static void put_accuracy(uint32_t correct, uint32_t expected)
{
    board_puts("accuracy ");
    board_put_percent(correct, CLASSIFY_SAMPLES, 2);
    board_puts(" % (");
    board_put_u32(correct);
    board_putc('/');
    board_put_u32(CLASSIFY_SAMPLES);
    board_puts("), device-sim ");
    board_put_percent(expected, CLASSIFY_SAMPLES, 2);
    board_puts(" %\n");
}

#endif
