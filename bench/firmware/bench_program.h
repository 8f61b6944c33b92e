/*
 * bench_program.h: what a program measured by count.ts implements. The
 * harness (bench_main.c) calls bench_setup() once, then bench_classify() on
 * every sample of the samples header; count.ts counts the instructions of
 * bench_classify alone (callgrind --toggle-collect=bench_classify), and of
 * bench_setup in a separate run.
 *
 * Programs: prog_dense.c (the dense float32 reference). The weightgate
 * library's execution-image and coded paths are two more programs of this
 * shape: bench_setup opens the model (and builds the image), bench_classify
 * runs one inference.
 */
#ifndef BENCH_PROGRAM_H
#define BENCH_PROGRAM_H

/* 0 on success; anything else ends the run (reported, exit status 2). */
int bench_setup(void);

/* The class of one sample of WG_BENCH_FEATURES raw bytes; negative on error. */
int bench_classify(const unsigned char *raw);

#endif /* BENCH_PROGRAM_H */
