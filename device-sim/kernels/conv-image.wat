;; The execution image's spatial kernels (conv-image.ts and conv.ts hold their
;; reference in TypeScript), as WebAssembly with 128-bit SIMD: Conv2D and
;; DepthwiseConv2D read their kernel rows in place from the image, pooling,
;; global average pooling, and the first layer's preprocessing. Results equal
;; the TypeScript bit for bit: every product and every sum is one binary32
;; operation (f32x4.mul then f32x4.add, never fused), and each output value
;; gets its terms in the image's row order, as the reference adds them.
;;
;; One linear memory, imported: the device's address space (arena.ts), RAM at
;; 0 and the slot's execution image mapped at a flash window above it (at
;; least one 64 KiB page). All pointers are byte addresses in it.
;;
;; Feature maps here are planar, channel-major: value (y, x) of channel c at
;; (c * h + y) * w + x. A kernel row's taps then read and write runs of
;; neighbouring cells, four to a vector. conv-image-wasm.ts turns a map
;; into the NHWC layout where a Dense layer or the caller reads it.
;;
;; Why vectors over cells give the reference's bits: an output value's sum
;; starts at +0 and only ever adds binary32 values, so in round-to-nearest it
;; is never -0 (x + (-x) is +0). Adding a product x * w with x = ±0 and w
;; finite is then exactly a no-op, and computing it equals skipping it. So
;; a vector of four cells adds its products whether or not some of its
;; inputs are zero; the caller runs only layers whose weights are all
;; finite here. Lanes past the end of a run (and cells the tap does not
;; reach) get x = +0 the same way; their stores may land up to 12 bytes past
;; the output map, which the caller reserves.
;;
;; Four ways to run a convolution, each giving those bits (conv-image-wasm.ts
;; and graph-interpreter.ts pick one per layer):
;;   conv            row by row: each image row's entries added into every
;;                   output cell its tap reaches, the map read back and
;;                   rewritten per row (its entries optionally decoded first,
;;                   decodeEntries; its runs trimmed to nonzero inputs,
;;                   rowExtents).
;;   depthwiseDense  output-stationary, a depthwise layer whose rows hold all
;;                   their columns: sums kept in registers over the taps.
;;   convItems       output-stationary, a Conv2D without padding: each output
;;                   channel's entries listed once per inference (decodeItems).
;;   convPixels      a one-channel Conv2D read by a pool: its nonzero pixels
;;                   scattered into NHWC sums that poolNhwc finishes.
;;   convSpans       any other one-channel Conv2D: its rows' spans of nonzero
;;                   pixels scattered into NHWC sums a band of output rows at
;;                   a time, finishPlanar finishing each into the planar map.
;; Output-stationary kernels add an output value's terms in the same order
;; (rows ascending) and the bias last, so the sequence of binary32 additions
;; is the reference's. pool and globalAvgPool can add a convolution's bias and
;; activation as they read its sums, which conv then leaves (activation 3).
;;
;; Assembled by scripts/gen-wasm.mjs into gen/conv-image-wasm.ts (npm run gen).
(module
  (import "env" "memory" (memory 1))

  ;; x = fl32(fl32(raw * scale) + offset) for every byte of a [cells, channels]
  ;; sample, written planar (channel-major) or as it comes.
  (func (export "preprocess")
    (param $raw i32) (param $x i32) (param $cells i32) (param $channels i32)
    (param $scale f32) (param $offset f32) (param $planar i32)
    (local $n i32) (local $i i32) (local $cell i32) (local $k i32) (local $sv v128) (local $ov v128)
    (local.set $n (i32.mul (local.get $cells) (local.get $channels)))
    (if (i32.or (i32.eqz (local.get $planar)) (i32.eq (local.get $channels) (i32.const 1)))
      (then
        (local.set $sv (f32x4.splat (local.get $scale)))
        (local.set $ov (f32x4.splat (local.get $offset)))
        (block $done
          (loop $four
            (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $n)))
            (v128.store (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))
              (f32x4.add
                (f32x4.mul
                  (f32x4.convert_i32x4_u
                    (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32.add (local.get $raw) (local.get $i))))))
                  (local.get $sv))
                (local.get $ov)))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $four)))
        (block $done
          (loop $one
            (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
            (f32.store (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))
              (f32.add (f32.mul (f32.convert_i32_u (i32.load8_u (i32.add (local.get $raw) (local.get $i)))) (local.get $scale))
                (local.get $offset)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $one)))
        (return)))
    ;; several channels, planar: byte (cell, k) to x[k][cell]
    (block $cellsDone
      (loop $cell
        (br_if $cellsDone (i32.ge_u (local.get $cell) (local.get $cells)))
        (local.set $k (i32.const 0))
        (loop $channel
          (f32.store
            (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (local.get $k) (local.get $cells)) (local.get $cell)) (i32.const 2)))
            (f32.add (f32.mul (f32.convert_i32_u (i32.load8_u (i32.add (local.get $raw) (local.get $i)))) (local.get $scale))
              (local.get $offset)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $channel (i32.lt_u (local.get $k) (local.get $channels))))
        (local.set $cell (i32.add (local.get $cell) (i32.const 1)))
        (br $cell))))

  ;; Input value i of a run of `len` starting at `at`, `step` bytes apart; +0 past the run.
  (func $pick (param $at i32) (param $i i32) (param $step i32) (param $len i32) (result f32)
    (if (result f32) (i32.lt_s (local.get $i) (local.get $len))
      (then (f32.load (i32.add (local.get $at) (i32.mul (local.get $i) (local.get $step)))))
      (else (f32.const 0))))

  ;; Values 4j .. 4j+3 of such a run (strides above 2: no vector load reads them).
  (func $gather (param $at i32) (param $j i32) (param $step i32) (param $len i32) (result v128)
    (local $i i32)
    (local.set $i (i32.shl (local.get $j) (i32.const 2)))
    (f32x4.replace_lane 3
      (f32x4.replace_lane 2
        (f32x4.replace_lane 1
          (f32x4.splat (call $pick (local.get $at) (local.get $i) (local.get $step) (local.get $len)))
          (call $pick (local.get $at) (i32.add (local.get $i) (i32.const 1)) (local.get $step) (local.get $len)))
        (call $pick (local.get $at) (i32.add (local.get $i) (i32.const 2)) (local.get $step) (local.get $len)))
      (call $pick (local.get $at) (i32.add (local.get $i) (i32.const 3)) (local.get $step) (local.get $len))))

  ;; For every entry e < n, at dst + 8 e: its column's output plane offset
  ;; (column * planeBytes) and its weight, so that conv's entry loops read
  ;; both with two loads. Once per layer and inference.
  (func (export "decodeEntries")
    (param $entries i32) (param $entryBytes i32) (param $values i32) (param $perEntry i32) (param $colBits i32)
    (param $n i32) (param $planeBytes i32) (param $dst i32)
    (local $e i32) (local $packed i32) (local $mask i32) (local $at i32)
    (local.set $mask (i32.sub (i32.shl (i32.const 1) (local.get $colBits)) (i32.const 1)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $e) (local.get $n)))
        (local.set $packed
          (if (result i32) (i32.eq (local.get $entryBytes) (i32.const 2))
            (then (i32.load16_u (i32.add (local.get $entries) (i32.shl (local.get $e) (i32.const 1)))))
            (else (i32.load (i32.add (local.get $entries) (i32.shl (local.get $e) (i32.const 2)))))))
        (local.set $at (i32.add (local.get $dst) (i32.shl (local.get $e) (i32.const 3))))
        (i32.store (local.get $at) (i32.mul (i32.and (local.get $packed) (local.get $mask)) (local.get $planeBytes)))
        (f32.store offset=4 (local.get $at)
          (if (result f32) (local.get $perEntry)
            (then (f32.load (i32.add (local.get $values) (i32.shl (local.get $e) (i32.const 2)))))
            (else (f32.load (i32.add (local.get $values) (i32.shl (i32.shr_u (local.get $packed) (local.get $colBits)) (i32.const 2)))))))
        (local.set $e (i32.add (local.get $e) (i32.const 1)))
        (br $next))))

  ;; Each row of a planar map's `rows` rows (channels x height) of `width`:
  ;; its nonzero columns' span [c0, c1) (either sign of zero counts as zero;
  ;; c0 = c1 = 0 for a row of zeros), two i32 per row at dst. conv trims its
  ;; runs to them.
  (func (export "rowExtents") (param $in i32) (param $rows i32) (param $width i32) (param $dst i32)
    (local $r i32) (local $row i32) (local $c0 i32) (local $c1 i32) (local $vend i32)
    (local.set $vend (i32.and (local.get $width) (i32.const -4)))
    (block $done
      (loop $nextRow
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $row (i32.add (local.get $in) (i32.shl (i32.mul (local.get $r) (local.get $width)) (i32.const 2))))
        ;; c0: four at a time while all four are zeros, then one at a time
        (local.set $c0 (i32.const 0))
        (block $found
          (loop $four
            (br_if $found (i32.ge_u (local.get $c0) (local.get $vend)))
            (br_if $found
              (v128.any_true
                (v128.and (v128.load (i32.add (local.get $row) (i32.shl (local.get $c0) (i32.const 2))))
                  (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff))))
            (local.set $c0 (i32.add (local.get $c0) (i32.const 4)))
            (br $four)))
        (block $found
          (loop $one
            (br_if $found (i32.ge_u (local.get $c0) (local.get $width)))
            (br_if $found (i32.and (i32.load (i32.add (local.get $row) (i32.shl (local.get $c0) (i32.const 2)))) (i32.const 0x7fffffff)))
            (local.set $c0 (i32.add (local.get $c0) (i32.const 1)))
            (br $one)))
        ;; c1: back from the end one at a time (rows are short), not below c0
        (local.set $c1 (local.get $width))
        (block $found
          (loop $back
            (br_if $found (i32.le_u (local.get $c1) (local.get $c0)))
            (br_if $found
              (i32.and (i32.load (i32.add (local.get $row) (i32.shl (i32.sub (local.get $c1) (i32.const 1)) (i32.const 2)))) (i32.const 0x7fffffff)))
            (local.set $c1 (i32.sub (local.get $c1) (i32.const 1)))
            (br $back)))
        (if (i32.ge_u (local.get $c0) (local.get $width)) (then (local.set $c0 (i32.const 0)) (local.set $c1 (i32.const 0))))
        (i32.store (i32.add (local.get $dst) (i32.shl (local.get $r) (i32.const 3))) (local.get $c0))
        (i32.store offset=4 (i32.add (local.get $dst) (i32.shl (local.get $r) (i32.const 3))) (local.get $c1))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $nextRow))))

  ;; Conv2D (depthwise = 0) or DepthwiseConv2D (depthwise = 1) of a planar
  ;; [height, width, inC] map into a planar output of outC channels (outC =
  ;; units, or inC * units when depthwise), then its bias and activation
  ;; (0 linear, 1 relu, 2 relu6; 3 neither: pool adds them; any other the
  ;; caller applies). extents: rowExtents of the input (-1: none), which
  ;; trims each output row's run to the columns whose inputs are nonzero.
  ;; decoded: decodeEntries of the layer (-1: none), read instead of the
  ;; entries and their codebook.
  ;;
  ;; The image layer's rows are (ky, kx, ci), each with its entries
  ;; (column, weight): column = output channel, or the multiplier index m of
  ;; output channel ci * units + m. Order: rows ascending; in a row, output
  ;; rows oy of the tap's reach, blocks of up to 16 cells of it; in a block,
  ;; the row's entries in column order, each added to the block's cells of its
  ;; output channel. So every output value gets its terms in row order, as
  ;; conv-image.ts adds them. A block whose 16 inputs are all zero (either
  ;; sign) is skipped: blank pixels and ReLU zeros cost nothing.
  ;;
  ;; Image layout as rows.wat's: counts of countBytes per row, entries of
  ;; entryBytes (column | centroid << colBits), values the codebook or one
  ;; f32 per entry (perEntry), bias one f32 per output channel.
  (func (export "conv")
    (param $counts i32) (param $countBytes i32) (param $entries i32) (param $entryBytes i32)
    (param $values i32) (param $perEntry i32) (param $colBits i32) (param $bias i32)
    (param $in i32) (param $height i32) (param $width i32) (param $inC i32)
    (param $out i32) (param $oh i32) (param $ow i32)
    (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $pt i32) (param $pl i32)
    (param $units i32) (param $depthwise i32) (param $activation i32) (param $extents i32) (param $decoded i32)
    (local $kAt i32) (local $kEnd i32) (local $outC i32) (local $oxEnd i32) (local $extAt i32) (local $c i32) (local $planeBytes i32)
    (local $inPlaneBytes i32) (local $mask i32) (local $step i32)
    (local $rows i32) (local $r i32) (local $ky i32) (local $kx i32) (local $ci i32)
    (local $n i32) (local $e i32) (local $eEnd i32)
    (local $iyBase i32) (local $ixBase i32) (local $oy0 i32) (local $oy1 i32) (local $ox0 i32) (local $ox1 i32)
    (local $oy i32) (local $ox i32) (local $len i32) (local $inPlane i32) (local $inRow i32) (local $outPlane i32) (local $outRow i32)
    (local $at i32) (local $nv i32) (local $k i32) (local $packed i32) (local $d0 i32) (local $d i32)
    (local $w v128) (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local $run i32) (local $vpr i32) (local $blockRows i32) (local $rowsHere i32) (local $fast i32) (local $a i32)
    (local $reaches i32) (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $l0 i32) (local $l1 i32) (local $l2 i32) (local $l3 i32) (local $off0 i32) (local $off1 i32) (local $off2 i32) (local $off3 i32)
    (local $step4 i32) (local $inPitch i32) (local $outPitch i32)
    (local.set $outC
      (if (result i32) (local.get $depthwise)
        (then (i32.mul (local.get $inC) (local.get $units)))
        (else (local.get $units))))
    (local.set $planeBytes (i32.shl (i32.mul (local.get $oh) (local.get $ow)) (i32.const 2)))
    (local.set $inPlaneBytes (i32.shl (i32.mul (local.get $height) (local.get $width)) (i32.const 2)))
    (local.set $step (i32.shl (local.get $sw) (i32.const 2)))
    (local.set $step4 (i32.shl (local.get $step) (i32.const 2)))
    (local.set $inPitch (i32.shl (i32.mul (local.get $sh) (local.get $width)) (i32.const 2)))
    (local.set $outPitch (i32.shl (local.get $ow) (i32.const 2)))
    ;; the common layout (16-bit entries, a codebook) has its own entry loop
    (local.set $fast (i32.and (i32.eq (local.get $entryBytes) (i32.const 2)) (i32.eqz (local.get $perEntry))))
    (memory.fill (local.get $out) (i32.const 0) (i32.mul (local.get $outC) (local.get $planeBytes)))
    (local.set $mask (i32.sub (i32.shl (i32.const 1) (local.get $colBits)) (i32.const 1)))
    (local.set $rows (i32.mul (i32.mul (local.get $kh) (local.get $kw)) (local.get $inC)))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $n
          (if (result i32) (i32.eq (local.get $countBytes) (i32.const 1))
            (then (i32.load8_u (i32.add (local.get $counts) (local.get $r))))
            (else
              (if (result i32) (i32.eq (local.get $countBytes) (i32.const 2))
                (then (i32.load16_u (i32.add (local.get $counts) (i32.shl (local.get $r) (i32.const 1)))))
                (else (i32.load (i32.add (local.get $counts) (i32.shl (local.get $r) (i32.const 2)))))))))
        (local.set $eEnd (i32.add (local.get $e) (local.get $n)))
        ;; A tap's rows (ky, kx, ci) are consecutive: its geometry is worked out once, at ci = 0.
        (if (i32.eqz (local.get $ci))
          (then
            ;; the output cells this tap reaches: rows [oy0, oy1), columns [ox0, ox1)
            ;; (conv.ts's firstValid and endValid)
            (local.set $iyBase (i32.sub (local.get $ky) (local.get $pt)))
            (local.set $ixBase (i32.sub (local.get $kx) (local.get $pl)))
            (local.set $oy0
              (if (result i32) (i32.ge_s (local.get $iyBase) (i32.const 0))
                (then (i32.const 0))
                (else (i32.div_u (i32.sub (i32.sub (local.get $sh) (i32.const 1)) (local.get $iyBase)) (local.get $sh)))))
            (local.set $oy1
              (if (result i32) (i32.ge_s (local.get $iyBase) (local.get $height))
                (then (i32.const 0))
                (else
                  (i32.add (i32.div_u (i32.sub (i32.sub (local.get $height) (i32.const 1)) (local.get $iyBase)) (local.get $sh))
                    (i32.const 1)))))
            (if (i32.gt_s (local.get $oy1) (local.get $oh)) (then (local.set $oy1 (local.get $oh))))
            (local.set $ox0
              (if (result i32) (i32.ge_s (local.get $ixBase) (i32.const 0))
                (then (i32.const 0))
                (else (i32.div_u (i32.sub (i32.sub (local.get $sw) (i32.const 1)) (local.get $ixBase)) (local.get $sw)))))
            (local.set $ox1
              (if (result i32) (i32.ge_s (local.get $ixBase) (local.get $width))
                (then (i32.const 0))
                (else
                  (i32.add (i32.div_u (i32.sub (i32.sub (local.get $width) (i32.const 1)) (local.get $ixBase)) (local.get $sw))
                    (i32.const 1)))))
            (if (i32.gt_s (local.get $ox1) (local.get $ow)) (then (local.set $ox1 (local.get $ow))))
            ;; A run of up to 8 cells per output row leaves vectors free: a
            ;; block then takes 4 rows (a vector each) or 2 (two each).
            (local.set $run (i32.sub (local.get $ox1) (local.get $ox0)))
            (local.set $vpr
              (if (result i32) (i32.le_s (local.get $run) (i32.const 4))
                (then (i32.const 1))
                (else (if (result i32) (i32.le_s (local.get $run) (i32.const 8)) (then (i32.const 2)) (else (i32.const 0))))))
            (local.set $blockRows (if (result i32) (local.get $vpr) (then (i32.div_u (i32.const 4) (local.get $vpr))) (else (i32.const 1))))
            (local.set $reaches (i32.and (i32.lt_s (local.get $oy0) (local.get $oy1)) (i32.lt_s (local.get $ox0) (local.get $ox1))))))
        (if (local.get $n)
          (then
            (if (local.get $reaches)
              (then
                (local.set $inPlane (i32.add (local.get $in) (i32.mul (local.get $ci) (local.get $inPlaneBytes))))
                (local.set $outPlane
                  (if (result i32) (local.get $depthwise)
                    (then (i32.add (local.get $out) (i32.mul (i32.mul (local.get $ci) (local.get $units)) (local.get $planeBytes))))
                    (else (local.get $out))))
                (local.set $oy (local.get $oy0))
                (loop $outRows
                  (local.set $inRow
                    (i32.add (local.get $inPlane)
                      (i32.shl
                        (i32.add
                          (i32.mul (i32.add (i32.mul (local.get $oy) (local.get $sh)) (local.get $iyBase)) (local.get $width))
                          (local.get $ixBase))
                        (i32.const 2))))
                  (local.set $outRow (i32.add (local.get $outPlane) (i32.shl (i32.mul (local.get $oy) (local.get $ow)) (i32.const 2))))
                  (local.set $ox (local.get $ox0))
                  (local.set $oxEnd (local.get $ox1))
                  ;; One output row at a time (vpr = 0) with the input's row extents:
                  ;; only the output columns whose input is inside its row's nonzero
                  ;; columns [c0, c1) (the others' inputs are zeros, skipped as ever).
                  (if (i32.and (i32.eqz (local.get $vpr)) (i32.ge_s (local.get $extents) (i32.const 0)))
                    (then
                      (local.set $extAt
                        (i32.add (local.get $extents)
                          (i32.shl
                            (i32.add (i32.mul (local.get $ci) (local.get $height)) (i32.add (i32.mul (local.get $oy) (local.get $sh)) (local.get $iyBase)))
                            (i32.const 3))))
                      ;; first ox with ox * sw + ixBase >= c0, and the end of those with it < c1
                      (local.set $c (i32.sub (i32.load (local.get $extAt)) (local.get $ixBase)))
                      (if (i32.gt_s (local.get $c) (i32.const 0))
                        (then
                          (local.set $c (i32.div_u (i32.add (local.get $c) (i32.sub (local.get $sw) (i32.const 1))) (local.get $sw)))
                          (if (i32.gt_s (local.get $c) (local.get $ox)) (then (local.set $ox (local.get $c))))))
                      (local.set $c (i32.sub (i32.load offset=4 (local.get $extAt)) (local.get $ixBase)))
                      (local.set $c
                        (if (result i32) (i32.gt_s (local.get $c) (i32.const 0))
                          (then (i32.add (i32.div_u (i32.sub (local.get $c) (i32.const 1)) (local.get $sw)) (i32.const 1)))
                          (else (i32.const 0))))
                      (if (i32.lt_s (local.get $c) (local.get $oxEnd)) (then (local.set $oxEnd (local.get $c))))))
                  (block $rowDone
                  (br_if $rowDone (i32.ge_s (local.get $ox) (local.get $oxEnd)))
                  (loop $blocks
                    ;; where the block's four vectors are read (a0..a3, l0..l3 lanes of
                    ;; each, 0 for an unused one) and written (d0 + off0..off3)
                    (local.set $at (i32.add (local.get $inRow) (i32.mul (local.get $ox) (local.get $step))))
                    (local.set $d0 (i32.add (local.get $outRow) (i32.shl (local.get $ox) (i32.const 2))))
                    (if (i32.eqz (local.get $vpr))
                      (then
                        ;; 16 cells of one output row from ox
                        (local.set $len (i32.sub (local.get $oxEnd) (local.get $ox)))
                        (local.set $a0 (local.get $at))
                        (local.set $a1 (i32.add (local.get $at) (local.get $step4)))
                        (local.set $a2 (i32.add (local.get $a1) (local.get $step4)))
                        (local.set $a3 (i32.add (local.get $a2) (local.get $step4)))
                        (local.set $l0 (local.get $len))
                        ;; lanes of each vector, 0 past the run
                        (local.set $l1 (select (i32.sub (local.get $len) (i32.const 4)) (i32.const 0) (i32.gt_s (local.get $len) (i32.const 4))))
                        (local.set $l2 (select (i32.sub (local.get $len) (i32.const 8)) (i32.const 0) (i32.gt_s (local.get $len) (i32.const 8))))
                        (local.set $l3 (select (i32.sub (local.get $len) (i32.const 12)) (i32.const 0) (i32.gt_s (local.get $len) (i32.const 12))))
                        (local.set $off0 (i32.const 0))
                        (local.set $off1 (i32.const 16))
                        (local.set $off2 (i32.const 32))
                        (local.set $off3 (i32.const 48))
                        (local.set $ox (i32.add (local.get $ox) (i32.const 16))))
                      (else
                        ;; the whole run in blockRows output rows from oy (fewer at the end)
                        (local.set $rowsHere (i32.sub (local.get $oy1) (local.get $oy)))
                        (local.set $a0 (local.get $at))
                        (local.set $l0 (local.get $run))
                        (local.set $off0 (i32.const 0))
                        (if (i32.eq (local.get $vpr) (i32.const 1))
                          (then
                            (local.set $a1 (i32.add (local.get $at) (local.get $inPitch)))
                            (local.set $a2 (i32.add (local.get $a1) (local.get $inPitch)))
                            (local.set $a3 (i32.add (local.get $a2) (local.get $inPitch)))
                            (local.set $l1 (select (local.get $run) (i32.const 0) (i32.gt_s (local.get $rowsHere) (i32.const 1))))
                            (local.set $l2 (select (local.get $run) (i32.const 0) (i32.gt_s (local.get $rowsHere) (i32.const 2))))
                            (local.set $l3 (select (local.get $run) (i32.const 0) (i32.gt_s (local.get $rowsHere) (i32.const 3))))
                            (local.set $off1 (local.get $outPitch))
                            (local.set $off2 (i32.shl (local.get $outPitch) (i32.const 1)))
                            (local.set $off3 (i32.mul (local.get $outPitch) (i32.const 3))))
                          (else
                            (local.set $a1 (i32.add (local.get $at) (local.get $step4)))
                            (local.set $a2 (i32.add (local.get $at) (local.get $inPitch)))
                            (local.set $a3 (i32.add (local.get $a2) (local.get $step4)))
                            (local.set $l1 (i32.sub (local.get $run) (i32.const 4)))
                            (local.set $l2 (select (local.get $run) (i32.const 0) (i32.gt_s (local.get $rowsHere) (i32.const 1))))
                            (local.set $l3 (select (local.get $l1) (i32.const 0) (i32.gt_s (local.get $rowsHere) (i32.const 1))))
                            (local.set $off1 (i32.const 16))
                            (local.set $off2 (local.get $outPitch))
                            (local.set $off3 (i32.add (local.get $outPitch) (i32.const 16)))))
                        (local.set $ox (local.get $ox1))))
                    ;; unused vectors (no lanes) read from a0, a valid address, and are masked to +0
                    (if (i32.eqz (local.get $l1)) (then (local.set $a1 (local.get $a0))))
                    (if (i32.eqz (local.get $l2)) (then (local.set $a2 (local.get $a0))))
                    (if (i32.eqz (local.get $l3)) (then (local.set $a3 (local.get $a0))))
                    (local.set $nv
                      (i32.add (i32.add (i32.gt_s (local.get $l0) (i32.const 0)) (i32.gt_s (local.get $l1) (i32.const 0)))
                        (i32.add (i32.gt_s (local.get $l2) (i32.const 0)) (i32.gt_s (local.get $l3) (i32.const 0)))))
                    (if (i32.eq (local.get $sw) (i32.const 1))
                      (then
                        (local.set $x0 (v128.load (local.get $a0)))
                        (local.set $x1 (v128.load (local.get $a1)))
                        (local.set $x2 (v128.load (local.get $a2)))
                        (local.set $x3 (v128.load (local.get $a3))))
                      (else
                        (if (i32.eq (local.get $sw) (i32.const 2))
                          (then
                            (local.set $x0
                              (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                                (v128.load (local.get $a0)) (v128.load offset=16 (local.get $a0))))
                            (local.set $x1
                              (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                                (v128.load (local.get $a1)) (v128.load offset=16 (local.get $a1))))
                            (local.set $x2
                              (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                                (v128.load (local.get $a2)) (v128.load offset=16 (local.get $a2))))
                            (local.set $x3
                              (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                                (v128.load (local.get $a3)) (v128.load offset=16 (local.get $a3)))))
                          (else
                            (local.set $x0 (call $gather (local.get $a0) (i32.const 0) (local.get $step) (local.get $l0)))
                            (local.set $x1 (call $gather (local.get $a1) (i32.const 0) (local.get $step) (local.get $l1)))
                            (local.set $x2 (call $gather (local.get $a2) (i32.const 0) (local.get $step) (local.get $l2)))
                            (local.set $x3 (call $gather (local.get $a3) (i32.const 0) (local.get $step) (local.get $l3)))))))
                    ;; lanes past a vector's run read +0 (they add nothing); lane counts are
                    ;; >= 0, so their bitwise and is below 4 when one of them is
                    (if (i32.lt_s (i32.and (i32.and (local.get $l0) (local.get $l1)) (i32.and (local.get $l2) (local.get $l3))) (i32.const 4))
                      (then
                        (local.set $x0 (v128.and (local.get $x0) (i32x4.gt_s (i32x4.splat (local.get $l0)) (v128.const i32x4 0 1 2 3))))
                        (local.set $x1 (v128.and (local.get $x1) (i32x4.gt_s (i32x4.splat (local.get $l1)) (v128.const i32x4 0 1 2 3))))
                        (local.set $x2 (v128.and (local.get $x2) (i32x4.gt_s (i32x4.splat (local.get $l2)) (v128.const i32x4 0 1 2 3))))
                        (local.set $x3 (v128.and (local.get $x3) (i32x4.gt_s (i32x4.splat (local.get $l3)) (v128.const i32x4 0 1 2 3))))))
                    (if (v128.any_true
                          (v128.and
                            (v128.or (v128.or (local.get $x0) (local.get $x1)) (v128.or (local.get $x2) (local.get $x3)))
                            (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff)))
                      (then
                        (local.set $k (local.get $e))
                        (if (i32.ge_s (local.get $decoded) (i32.const 0))
                          (then
                            ;; entries decoded: (output plane offset, weight) 8 bytes each
                            (local.set $kAt (i32.add (local.get $decoded) (i32.shl (local.get $e) (i32.const 3))))
                            (local.set $kEnd (i32.add (local.get $decoded) (i32.shl (local.get $eEnd) (i32.const 3))))
                            (if (i32.eqz (local.get $vpr))
                              (then
                                (loop $decodedRow
                                  (local.set $w (v128.load32_splat offset=4 (local.get $kAt)))
                                  (local.set $d (i32.add (local.get $d0) (i32.load (local.get $kAt))))
                                  (block $v0
                                    (block $v1
                                      (block $v2
                                        (block $v3
                                          (br_table $v3 $v2 $v1 $v0 (i32.sub (i32.const 4) (local.get $nv))))
                                        (v128.store offset=48 (local.get $d)
                                          (f32x4.add (v128.load offset=48 (local.get $d)) (f32x4.mul (local.get $x3) (local.get $w)))))
                                      (v128.store offset=32 (local.get $d)
                                        (f32x4.add (v128.load offset=32 (local.get $d)) (f32x4.mul (local.get $x2) (local.get $w)))))
                                    (v128.store offset=16 (local.get $d)
                                      (f32x4.add (v128.load offset=16 (local.get $d)) (f32x4.mul (local.get $x1) (local.get $w)))))
                                  (v128.store (local.get $d) (f32x4.add (v128.load (local.get $d)) (f32x4.mul (local.get $x0) (local.get $w))))
                                  (local.set $kAt (i32.add (local.get $kAt) (i32.const 8)))
                                  (br_if $decodedRow (i32.lt_u (local.get $kAt) (local.get $kEnd)))))
                              (else
                                (loop $decodedBlock
                                  (local.set $w (v128.load32_splat offset=4 (local.get $kAt)))
                                  (local.set $d (i32.add (local.get $d0) (i32.load (local.get $kAt))))
                                  (block $v0
                                    (block $v1
                                      (block $v2
                                        (block $v3
                                          (br_table $v3 $v2 $v1 $v0 (i32.sub (i32.const 4) (local.get $nv))))
                                        (local.set $a (i32.add (local.get $d) (local.get $off3)))
                                        (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (f32x4.mul (local.get $x3) (local.get $w)))))
                                      (local.set $a (i32.add (local.get $d) (local.get $off2)))
                                      (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (f32x4.mul (local.get $x2) (local.get $w)))))
                                    (local.set $a (i32.add (local.get $d) (local.get $off1)))
                                    (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (f32x4.mul (local.get $x1) (local.get $w)))))
                                  (local.set $a (i32.add (local.get $d) (local.get $off0)))
                                  (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (f32x4.mul (local.get $x0) (local.get $w))))
                                  (local.set $kAt (i32.add (local.get $kAt) (i32.const 8)))
                                  (br_if $decodedBlock (i32.lt_u (local.get $kAt) (local.get $kEnd)))))))
                          (else
                        (if (i32.and (local.get $fast) (i32.eqz (local.get $vpr)))
                          (then
                            ;; one output row: its vectors 16 bytes apart
                              (loop $entryRow
                                (local.set $packed (i32.load16_u (i32.add (local.get $entries) (i32.shl (local.get $k) (i32.const 1)))))
                                (local.set $w
                                  (f32x4.splat
                                    (f32.load (i32.add (local.get $values) (i32.shl (i32.shr_u (local.get $packed) (local.get $colBits)) (i32.const 2))))))
                                (local.set $d (i32.add (local.get $d0) (i32.mul (i32.and (local.get $packed) (local.get $mask)) (local.get $planeBytes))))
                                (block $v0
                                  (block $v1
                                    (block $v2
                                      (block $v3
                                        (br_table $v3 $v2 $v1 $v0 (i32.sub (i32.const 4) (local.get $nv))))
                                      (v128.store offset=48 (local.get $d)
                                        (f32x4.add (v128.load offset=48 (local.get $d)) (f32x4.mul (local.get $x3) (local.get $w)))))
                                    (v128.store offset=32 (local.get $d)
                                      (f32x4.add (v128.load offset=32 (local.get $d)) (f32x4.mul (local.get $x2) (local.get $w)))))
                                  (v128.store offset=16 (local.get $d)
                                    (f32x4.add (v128.load offset=16 (local.get $d)) (f32x4.mul (local.get $x1) (local.get $w)))))
                                (v128.store (local.get $d) (f32x4.add (v128.load (local.get $d)) (f32x4.mul (local.get $x0) (local.get $w))))
                                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                                (br_if $entryRow (i32.lt_u (local.get $k) (local.get $eEnd)))))
                          (else
                        (if (local.get $fast)
                          (then
                              (loop $entry16
                                (local.set $packed (i32.load16_u (i32.add (local.get $entries) (i32.shl (local.get $k) (i32.const 1)))))
                                (local.set $w
                                  (f32x4.splat
                                    (f32.load (i32.add (local.get $values) (i32.shl (i32.shr_u (local.get $packed) (local.get $colBits)) (i32.const 2))))))
                                (local.set $d (i32.add (local.get $d0) (i32.mul (i32.and (local.get $packed) (local.get $mask)) (local.get $planeBytes))))
                                ;; the block's nv vectors, last first
                                (block $v0
                                  (block $v1
                                    (block $v2
                                      (block $v3
                                        (br_table $v3 $v2 $v1 $v0 (i32.sub (i32.const 4) (local.get $nv))))
                                      (local.set $a (i32.add (local.get $d) (local.get $off3)))
                                      (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (f32x4.mul (local.get $x3) (local.get $w)))))
                                    (local.set $a (i32.add (local.get $d) (local.get $off2)))
                                    (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (f32x4.mul (local.get $x2) (local.get $w)))))
                                  (local.set $a (i32.add (local.get $d) (local.get $off1)))
                                  (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (f32x4.mul (local.get $x1) (local.get $w)))))
                                (local.set $a (i32.add (local.get $d) (local.get $off0)))
                                (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (f32x4.mul (local.get $x0) (local.get $w))))
                                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                                (br_if $entry16 (i32.lt_u (local.get $k) (local.get $eEnd)))))
                          (else
                              (loop $entry
                                (local.set $packed (if (result i32) (i32.eq (local.get $entryBytes) (i32.const 2))
                                  (then (i32.load16_u (i32.add (local.get $entries) (i32.shl (local.get $k) (i32.const 1)))))
                                  (else (i32.load (i32.add (local.get $entries) (i32.shl (local.get $k) (i32.const 2)))))))
                                (local.set $w (f32x4.splat (if (result f32) (local.get $perEntry)
                                  (then (f32.load (i32.add (local.get $values) (i32.shl (local.get $k) (i32.const 2)))))
                                  (else
                                    (f32.load (i32.add (local.get $values) (i32.shl (i32.shr_u (local.get $packed) (local.get $colBits)) (i32.const 2))))))))
                                (local.set $d (i32.add (local.get $d0) (i32.mul (i32.and (local.get $packed) (local.get $mask)) (local.get $planeBytes))))
                                ;; the block's nv vectors, last first
                                (block $v0
                                  (block $v1
                                    (block $v2
                                      (block $v3
                                        (br_table $v3 $v2 $v1 $v0 (i32.sub (i32.const 4) (local.get $nv))))
                                      (local.set $a (i32.add (local.get $d) (local.get $off3)))
                                      (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (f32x4.mul (local.get $x3) (local.get $w)))))
                                    (local.set $a (i32.add (local.get $d) (local.get $off2)))
                                    (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (f32x4.mul (local.get $x2) (local.get $w)))))
                                  (local.set $a (i32.add (local.get $d) (local.get $off1)))
                                  (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (f32x4.mul (local.get $x1) (local.get $w)))))
                                (local.set $a (i32.add (local.get $d) (local.get $off0)))
                                (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (f32x4.mul (local.get $x0) (local.get $w))))
                                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                                (br_if $entry (i32.lt_u (local.get $k) (local.get $eEnd))))))))))))
                    (br_if $blocks (i32.lt_s (local.get $ox) (local.get $oxEnd)))))
                  (local.set $oy (i32.add (local.get $oy) (local.get $blockRows)))
                  (br_if $outRows (i32.lt_s (local.get $oy) (local.get $oy1))))))))
        (local.set $e (local.get $eEnd))
        ;; the next row's (ky, kx, ci)
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (local.set $ci (i32.add (local.get $ci) (i32.const 1)))
        (if (i32.eq (local.get $ci) (local.get $inC))
          (then
            (local.set $ci (i32.const 0))
            (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
            (if (i32.eq (local.get $kx) (local.get $kw))
              (then
                (local.set $kx (i32.const 0))
                (local.set $ky (i32.add (local.get $ky) (i32.const 1)))))))
        (br $row)))
    ;; activation 3: the sums as they are, for a pool that finishes them (pool's bias)
    (if (i32.ne (local.get $activation) (i32.const 3))
      (then (call $finish (local.get $out) (local.get $outC) (i32.mul (local.get $oh) (local.get $ow)) (local.get $bias) (local.get $activation)))))

  ;; ---- Dense depthwise layers, output-stationary ----------------------------
  ;;
  ;; A layer whose every row holds all its columns (conv-image-wasm.ts's
  ;; denseRows: the depthwise layers of the CNN presets) has entry e = r *
  ;; units + column, so the weight of (row, column) is found without walking
  ;; the rows. depthwiseDense keeps an output tile's sums in registers over
  ;; its taps instead of adding each row into the map in memory: the row
  ;; kernel above spends a block's setup on a single entry per row there.

  ;; dst[e] = the weight of entry e (the codebook value its index names), for
  ;; e < n: decoded once per layer and inference into a scratch buffer.
  (func (export "decodeWeights") (param $entries i32) (param $entryBytes i32) (param $table i32) (param $colBits i32) (param $n i32) (param $dst i32)
    (local $e i32) (local $packed i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $e) (local.get $n)))
        (local.set $packed
          (if (result i32) (i32.eq (local.get $entryBytes) (i32.const 2))
            (then (i32.load16_u (i32.add (local.get $entries) (i32.shl (local.get $e) (i32.const 1)))))
            (else (i32.load (i32.add (local.get $entries) (i32.shl (local.get $e) (i32.const 2)))))))
        (f32.store (i32.add (local.get $dst) (i32.shl (local.get $e) (i32.const 2)))
          (f32.load (i32.add (local.get $table) (i32.shl (i32.shr_u (local.get $packed) (local.get $colBits)) (i32.const 2)))))
        (local.set $e (i32.add (local.get $e) (i32.const 1)))
        (br $next))))

  ;; DepthwiseConv2D of a dense layer (denseRows), strides across 1 or 2,
  ;; planar in and out, output-stationary. Output channel o = ci * units +
  ;; m reads input channel ci; its weight at tap t is entry (t * inC + ci) *
  ;; units + m = t * outC + o of the decoded weights `w` (readable 12 bytes
  ;; past the last). Four output channels at a time share a tap's addresses
  ;; and lane masks; each keeps a tile of two vectors in registers over the
  ;; taps in row order, then adds the bias and applies the activation. A
  ;; tile is 8 cells of one output row, or, when rows are 4 cells or fewer,
  ;; two rows. A tap cell outside the input reads +0, which adds nothing
  ;; (the header's argument; a tap row outside it for the whole tile has no
  ;; terms and is skipped). Stores cover the map's cells only. Loads may
  ;; reach pl * 4 bytes below a plane (the caller keeps the input map at
  ;; least that far above address 0) and up to 64 bytes past a row.
  (func (export "depthwiseDense")
    (param $w i32) (param $bias i32) (param $in i32) (param $height i32) (param $width i32) (param $inC i32)
    (param $out i32) (param $oh i32) (param $ow i32)
    (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $pt i32) (param $pl i32)
    (param $units i32) (param $activation i32)
    (local $outC i32) (local $o0 i32) (local $g i32) (local $planeBytes i32) (local $inPlaneBytes i32) (local $tapBytes i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $last i32) (local $twoRows i32)
    (local $oy i32) (local $iyTop i32) (local $ox i32) (local $n0 i32) (local $n1 i32) (local $ixLeft i32) (local $ix i32)
    (local $iy0 i32) (local $iy1 i32) (local $ok0 i32) (local $ok1 i32) (local $bRows i32) (local $bColumns i32) (local $outB i32)
    (local $ky i32) (local $kx i32) (local $at0 i32) (local $at1 i32) (local $row0 i32) (local $row1 i32) (local $wAt i32)
    (local $outAt i32) (local $biasAt i32) (local $unit i32) (local $q i32)
    (local $iota v128) (local $widthV v128) (local $r0 v128) (local $r1 v128) (local $m0 v128) (local $m1 v128) (local $bv v128)
    (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (if (i32.or (i32.eqz (local.get $oh)) (i32.eqz (local.get $ow))) (then (return)))
    (local.set $outC (i32.mul (local.get $inC) (local.get $units)))
    (local.set $planeBytes (i32.shl (i32.mul (local.get $oh) (local.get $ow)) (i32.const 2)))
    (local.set $inPlaneBytes (i32.shl (i32.mul (local.get $height) (local.get $width)) (i32.const 2)))
    (local.set $tapBytes (i32.shl (local.get $outC) (i32.const 2)))
    (local.set $iota (i32x4.mul (v128.const i32x4 0 1 2 3) (i32x4.splat (local.get $sw))))
    (local.set $widthV (i32x4.splat (local.get $width)))
    (local.set $last (i32.sub (local.get $outC) (i32.const 1)))
    (local.set $unit (i32.eq (local.get $sw) (i32.const 1)))
    ;; the tile's second vector: the next output row (sh input rows down), or 4 cells on (4 * sw columns)
    (local.set $twoRows (i32.le_u (local.get $ow) (i32.const 4)))
    (local.set $bRows (select (local.get $sh) (i32.const 0) (local.get $twoRows)))
    (local.set $bColumns (select (i32.const 0) (i32.shl (local.get $sw) (i32.const 2)) (local.get $twoRows)))
    (local.set $outB (select (i32.shl (local.get $ow) (i32.const 2)) (i32.const 16) (local.get $twoRows)))
    (block $groupsDone
      (loop $group
        (br_if $groupsDone (i32.ge_u (local.get $o0) (local.get $outC)))
        (local.set $g (i32.sub (local.get $outC) (local.get $o0)))
        ;; each channel's input plane (past the last channel: the last's, computed and dropped)
        (local.set $p0 (i32.add (local.get $in) (i32.mul (i32.div_u (local.get $o0) (local.get $units)) (local.get $inPlaneBytes))))
        (local.set $p1
          (i32.add (local.get $in)
            (i32.mul (i32.div_u (select (i32.add (local.get $o0) (i32.const 1)) (local.get $last) (i32.gt_u (local.get $g) (i32.const 1))) (local.get $units))
              (local.get $inPlaneBytes))))
        (local.set $p2
          (i32.add (local.get $in)
            (i32.mul (i32.div_u (select (i32.add (local.get $o0) (i32.const 2)) (local.get $last) (i32.gt_u (local.get $g) (i32.const 2))) (local.get $units))
              (local.get $inPlaneBytes))))
        (local.set $p3
          (i32.add (local.get $in)
            (i32.mul (i32.div_u (select (i32.add (local.get $o0) (i32.const 3)) (local.get $last) (i32.gt_u (local.get $g) (i32.const 3))) (local.get $units))
              (local.get $inPlaneBytes))))
        (local.set $biasAt (i32.add (local.get $bias) (i32.shl (local.get $o0) (i32.const 2))))
        (local.set $oy (i32.const 0))
        (loop $outRow
          (local.set $iyTop (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $pt)))
          (local.set $ox (i32.const 0))
          (loop $tile
            ;; real cells of the two vectors (0 or less: none)
            (local.set $n0 (i32.sub (local.get $ow) (local.get $ox)))
            (if (i32.gt_s (local.get $n0) (i32.const 4)) (then (local.set $n0 (i32.const 4))))
            (local.set $n1
              (if (result i32) (local.get $twoRows)
                (then (select (local.get $n0) (i32.const 0) (i32.lt_u (i32.add (local.get $oy) (i32.const 1)) (local.get $oh))))
                (else (i32.sub (i32.sub (local.get $ow) (local.get $ox)) (i32.const 4)))))
            (if (i32.gt_s (local.get $n1) (i32.const 4)) (then (local.set $n1 (i32.const 4))))
            (local.set $ixLeft (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $pl)))
            (local.set $a0 (v128.const i32x4 0 0 0 0))
            (local.set $a1 (v128.const i32x4 0 0 0 0))
            (local.set $a2 (v128.const i32x4 0 0 0 0))
            (local.set $a3 (v128.const i32x4 0 0 0 0))
            (local.set $b0 (v128.const i32x4 0 0 0 0))
            (local.set $b1 (v128.const i32x4 0 0 0 0))
            (local.set $b2 (v128.const i32x4 0 0 0 0))
            (local.set $b3 (v128.const i32x4 0 0 0 0))
            (local.set $ky (i32.const 0))
            (loop $tapRow
              (local.set $iy0 (i32.add (local.get $iyTop) (local.get $ky)))
              (local.set $iy1 (i32.add (local.get $iy0) (local.get $bRows)))
              (local.set $ok0 (i32.lt_u (local.get $iy0) (local.get $height)))
              (local.set $ok1 (i32.and (i32.lt_u (local.get $iy1) (local.get $height)) (i32.gt_s (local.get $n1) (i32.const 0))))
              (if (i32.or (local.get $ok0) (local.get $ok1))
                (then
                  ;; a vector whose tap row is outside the input reads row 0, masked to +0
                  (local.set $row0 (i32.shl (i32.mul (select (local.get $iy0) (i32.const 0) (local.get $ok0)) (local.get $width)) (i32.const 2)))
                  (local.set $row1
                    (i32.shl
                      (i32.add (i32.mul (select (local.get $iy1) (i32.const 0) (local.get $ok1)) (local.get $width)) (local.get $bColumns))
                      (i32.const 2)))
                  (local.set $r0 (i32x4.splat (i32.sub (i32.const 0) (local.get $ok0))))
                  (local.set $r1 (i32x4.splat (i32.sub (i32.const 0) (local.get $ok1))))
                  (local.set $wAt
                    (i32.add (local.get $w)
                      (i32.shl (i32.add (i32.mul (i32.mul (local.get $ky) (local.get $kw)) (local.get $outC)) (local.get $o0)) (i32.const 2))))
                  (local.set $kx (i32.const 0))
                  (loop $tapColumn
                    (local.set $ix (i32.add (local.get $ixLeft) (local.get $kx)))
                    (local.set $at0 (i32.add (local.get $row0) (i32.shl (local.get $ix) (i32.const 2))))
                    (local.set $at1 (i32.add (local.get $row1) (i32.shl (local.get $ix) (i32.const 2))))
                    ;; lanes whose column is inside the row (as unsigned: below width), of a row inside the input
                    (local.set $m0
                      (v128.and (local.get $r0) (i32x4.lt_u (i32x4.add (i32x4.splat (local.get $ix)) (local.get $iota)) (local.get $widthV))))
                    (local.set $m1
                      (v128.and (local.get $r1)
                        (i32x4.lt_u (i32x4.add (i32x4.splat (i32.add (local.get $ix) (local.get $bColumns))) (local.get $iota)) (local.get $widthV))))
                    (local.set $w0 (v128.load32_splat (local.get $wAt)))
                    (local.set $w1 (v128.load32_splat offset=4 (local.get $wAt)))
                    (local.set $w2 (v128.load32_splat offset=8 (local.get $wAt)))
                    (local.set $w3 (v128.load32_splat offset=12 (local.get $wAt)))
                    (local.set $q (i32.add (local.get $p0) (local.get $at0)))
                    (local.set $a0
                      (f32x4.add (local.get $a0)
                        (f32x4.mul
                          (v128.and
                            (if (result v128) (local.get $unit)
                              (then (v128.load (local.get $q)))
                              (else
                                (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                                  (v128.load (local.get $q)) (v128.load offset=16 (local.get $q)))))
                            (local.get $m0))
                          (local.get $w0))))
                    (local.set $q (i32.add (local.get $p1) (local.get $at0)))
                    (local.set $a1
                      (f32x4.add (local.get $a1)
                        (f32x4.mul
                          (v128.and
                            (if (result v128) (local.get $unit)
                              (then (v128.load (local.get $q)))
                              (else
                                (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                                  (v128.load (local.get $q)) (v128.load offset=16 (local.get $q)))))
                            (local.get $m0))
                          (local.get $w1))))
                    (local.set $q (i32.add (local.get $p2) (local.get $at0)))
                    (local.set $a2
                      (f32x4.add (local.get $a2)
                        (f32x4.mul
                          (v128.and
                            (if (result v128) (local.get $unit)
                              (then (v128.load (local.get $q)))
                              (else
                                (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                                  (v128.load (local.get $q)) (v128.load offset=16 (local.get $q)))))
                            (local.get $m0))
                          (local.get $w2))))
                    (local.set $q (i32.add (local.get $p3) (local.get $at0)))
                    (local.set $a3
                      (f32x4.add (local.get $a3)
                        (f32x4.mul
                          (v128.and
                            (if (result v128) (local.get $unit)
                              (then (v128.load (local.get $q)))
                              (else
                                (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                                  (v128.load (local.get $q)) (v128.load offset=16 (local.get $q)))))
                            (local.get $m0))
                          (local.get $w3))))
                    (local.set $q (i32.add (local.get $p0) (local.get $at1)))
                    (local.set $b0
                      (f32x4.add (local.get $b0)
                        (f32x4.mul
                          (v128.and
                            (if (result v128) (local.get $unit)
                              (then (v128.load (local.get $q)))
                              (else
                                (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                                  (v128.load (local.get $q)) (v128.load offset=16 (local.get $q)))))
                            (local.get $m1))
                          (local.get $w0))))
                    (local.set $q (i32.add (local.get $p1) (local.get $at1)))
                    (local.set $b1
                      (f32x4.add (local.get $b1)
                        (f32x4.mul
                          (v128.and
                            (if (result v128) (local.get $unit)
                              (then (v128.load (local.get $q)))
                              (else
                                (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                                  (v128.load (local.get $q)) (v128.load offset=16 (local.get $q)))))
                            (local.get $m1))
                          (local.get $w1))))
                    (local.set $q (i32.add (local.get $p2) (local.get $at1)))
                    (local.set $b2
                      (f32x4.add (local.get $b2)
                        (f32x4.mul
                          (v128.and
                            (if (result v128) (local.get $unit)
                              (then (v128.load (local.get $q)))
                              (else
                                (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                                  (v128.load (local.get $q)) (v128.load offset=16 (local.get $q)))))
                            (local.get $m1))
                          (local.get $w2))))
                    (local.set $q (i32.add (local.get $p3) (local.get $at1)))
                    (local.set $b3
                      (f32x4.add (local.get $b3)
                        (f32x4.mul
                          (v128.and
                            (if (result v128) (local.get $unit)
                              (then (v128.load (local.get $q)))
                              (else
                                (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                                  (v128.load (local.get $q)) (v128.load offset=16 (local.get $q)))))
                            (local.get $m1))
                          (local.get $w3))))
                    (local.set $wAt (i32.add (local.get $wAt) (local.get $tapBytes)))
                    (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                    (br_if $tapColumn (i32.lt_u (local.get $kx) (local.get $kw))))))
              (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
              (br_if $tapRow (i32.lt_u (local.get $ky) (local.get $kh))))
            (local.set $outAt
              (i32.add (local.get $out)
                (i32.add (i32.mul (local.get $o0) (local.get $planeBytes))
                  (i32.shl (i32.add (i32.mul (local.get $oy) (local.get $ow)) (local.get $ox)) (i32.const 2)))))
            (if (i32.gt_u (local.get $g) (i32.const 0))
              (then
                (local.set $bv (v128.load32_splat offset=0 (local.get $biasAt)))
                (local.set $q (i32.add (local.get $outAt) (i32.mul (local.get $planeBytes) (i32.const 0))))
                (local.set $a0 (f32x4.add (local.get $a0) (local.get $bv)))
                (if (local.get $activation)
                  (then
                    (local.set $a0 (v128.andnot (local.get $a0) (f32x4.lt (local.get $a0) (v128.const f32x4 0 0 0 0))))
                    (if (i32.eq (local.get $activation) (i32.const 2))
                      (then
                        (local.set $a0
                          (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $a0) (f32x4.gt (local.get $a0) (v128.const f32x4 6 6 6 6))))))))
                (local.set $b0 (f32x4.add (local.get $b0) (local.get $bv)))
                (if (local.get $activation)
                  (then
                    (local.set $b0 (v128.andnot (local.get $b0) (f32x4.lt (local.get $b0) (v128.const f32x4 0 0 0 0))))
                    (if (i32.eq (local.get $activation) (i32.const 2))
                      (then
                        (local.set $b0
                          (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $b0) (f32x4.gt (local.get $b0) (v128.const f32x4 6 6 6 6))))))))
                (if (i32.ge_s (local.get $n0) (i32.const 4))
                  (then (v128.store (local.get $q) (local.get $a0)))
                  (else
                    (f32.store (local.get $q) (f32x4.extract_lane 0 (local.get $a0)))
                    (if (i32.ge_s (local.get $n0) (i32.const 2)) (then (f32.store offset=4 (local.get $q) (f32x4.extract_lane 1 (local.get $a0)))))
                    (if (i32.ge_s (local.get $n0) (i32.const 3)) (then (f32.store offset=8 (local.get $q) (f32x4.extract_lane 2 (local.get $a0)))))))
                (if (i32.gt_s (local.get $n1) (i32.const 0))
                  (then
                    (local.set $q (i32.add (local.get $q) (local.get $outB)))
                    (if (i32.ge_s (local.get $n1) (i32.const 4))
                      (then (v128.store (local.get $q) (local.get $b0)))
                      (else
                        (f32.store (local.get $q) (f32x4.extract_lane 0 (local.get $b0)))
                        (if (i32.ge_s (local.get $n1) (i32.const 2)) (then (f32.store offset=4 (local.get $q) (f32x4.extract_lane 1 (local.get $b0)))))
                        (if (i32.ge_s (local.get $n1) (i32.const 3)) (then (f32.store offset=8 (local.get $q) (f32x4.extract_lane 2 (local.get $b0)))))))))))
            (if (i32.gt_u (local.get $g) (i32.const 1))
              (then
                (local.set $bv (v128.load32_splat offset=4 (local.get $biasAt)))
                (local.set $q (i32.add (local.get $outAt) (i32.mul (local.get $planeBytes) (i32.const 1))))
                (local.set $a1 (f32x4.add (local.get $a1) (local.get $bv)))
                (if (local.get $activation)
                  (then
                    (local.set $a1 (v128.andnot (local.get $a1) (f32x4.lt (local.get $a1) (v128.const f32x4 0 0 0 0))))
                    (if (i32.eq (local.get $activation) (i32.const 2))
                      (then
                        (local.set $a1
                          (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $a1) (f32x4.gt (local.get $a1) (v128.const f32x4 6 6 6 6))))))))
                (local.set $b1 (f32x4.add (local.get $b1) (local.get $bv)))
                (if (local.get $activation)
                  (then
                    (local.set $b1 (v128.andnot (local.get $b1) (f32x4.lt (local.get $b1) (v128.const f32x4 0 0 0 0))))
                    (if (i32.eq (local.get $activation) (i32.const 2))
                      (then
                        (local.set $b1
                          (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $b1) (f32x4.gt (local.get $b1) (v128.const f32x4 6 6 6 6))))))))
                (if (i32.ge_s (local.get $n0) (i32.const 4))
                  (then (v128.store (local.get $q) (local.get $a1)))
                  (else
                    (f32.store (local.get $q) (f32x4.extract_lane 0 (local.get $a1)))
                    (if (i32.ge_s (local.get $n0) (i32.const 2)) (then (f32.store offset=4 (local.get $q) (f32x4.extract_lane 1 (local.get $a1)))))
                    (if (i32.ge_s (local.get $n0) (i32.const 3)) (then (f32.store offset=8 (local.get $q) (f32x4.extract_lane 2 (local.get $a1)))))))
                (if (i32.gt_s (local.get $n1) (i32.const 0))
                  (then
                    (local.set $q (i32.add (local.get $q) (local.get $outB)))
                    (if (i32.ge_s (local.get $n1) (i32.const 4))
                      (then (v128.store (local.get $q) (local.get $b1)))
                      (else
                        (f32.store (local.get $q) (f32x4.extract_lane 0 (local.get $b1)))
                        (if (i32.ge_s (local.get $n1) (i32.const 2)) (then (f32.store offset=4 (local.get $q) (f32x4.extract_lane 1 (local.get $b1)))))
                        (if (i32.ge_s (local.get $n1) (i32.const 3)) (then (f32.store offset=8 (local.get $q) (f32x4.extract_lane 2 (local.get $b1)))))))))))
            (if (i32.gt_u (local.get $g) (i32.const 2))
              (then
                (local.set $bv (v128.load32_splat offset=8 (local.get $biasAt)))
                (local.set $q (i32.add (local.get $outAt) (i32.mul (local.get $planeBytes) (i32.const 2))))
                (local.set $a2 (f32x4.add (local.get $a2) (local.get $bv)))
                (if (local.get $activation)
                  (then
                    (local.set $a2 (v128.andnot (local.get $a2) (f32x4.lt (local.get $a2) (v128.const f32x4 0 0 0 0))))
                    (if (i32.eq (local.get $activation) (i32.const 2))
                      (then
                        (local.set $a2
                          (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $a2) (f32x4.gt (local.get $a2) (v128.const f32x4 6 6 6 6))))))))
                (local.set $b2 (f32x4.add (local.get $b2) (local.get $bv)))
                (if (local.get $activation)
                  (then
                    (local.set $b2 (v128.andnot (local.get $b2) (f32x4.lt (local.get $b2) (v128.const f32x4 0 0 0 0))))
                    (if (i32.eq (local.get $activation) (i32.const 2))
                      (then
                        (local.set $b2
                          (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $b2) (f32x4.gt (local.get $b2) (v128.const f32x4 6 6 6 6))))))))
                (if (i32.ge_s (local.get $n0) (i32.const 4))
                  (then (v128.store (local.get $q) (local.get $a2)))
                  (else
                    (f32.store (local.get $q) (f32x4.extract_lane 0 (local.get $a2)))
                    (if (i32.ge_s (local.get $n0) (i32.const 2)) (then (f32.store offset=4 (local.get $q) (f32x4.extract_lane 1 (local.get $a2)))))
                    (if (i32.ge_s (local.get $n0) (i32.const 3)) (then (f32.store offset=8 (local.get $q) (f32x4.extract_lane 2 (local.get $a2)))))))
                (if (i32.gt_s (local.get $n1) (i32.const 0))
                  (then
                    (local.set $q (i32.add (local.get $q) (local.get $outB)))
                    (if (i32.ge_s (local.get $n1) (i32.const 4))
                      (then (v128.store (local.get $q) (local.get $b2)))
                      (else
                        (f32.store (local.get $q) (f32x4.extract_lane 0 (local.get $b2)))
                        (if (i32.ge_s (local.get $n1) (i32.const 2)) (then (f32.store offset=4 (local.get $q) (f32x4.extract_lane 1 (local.get $b2)))))
                        (if (i32.ge_s (local.get $n1) (i32.const 3)) (then (f32.store offset=8 (local.get $q) (f32x4.extract_lane 2 (local.get $b2)))))))))))
            (if (i32.gt_u (local.get $g) (i32.const 3))
              (then
                (local.set $bv (v128.load32_splat offset=12 (local.get $biasAt)))
                (local.set $q (i32.add (local.get $outAt) (i32.mul (local.get $planeBytes) (i32.const 3))))
                (local.set $a3 (f32x4.add (local.get $a3) (local.get $bv)))
                (if (local.get $activation)
                  (then
                    (local.set $a3 (v128.andnot (local.get $a3) (f32x4.lt (local.get $a3) (v128.const f32x4 0 0 0 0))))
                    (if (i32.eq (local.get $activation) (i32.const 2))
                      (then
                        (local.set $a3
                          (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $a3) (f32x4.gt (local.get $a3) (v128.const f32x4 6 6 6 6))))))))
                (local.set $b3 (f32x4.add (local.get $b3) (local.get $bv)))
                (if (local.get $activation)
                  (then
                    (local.set $b3 (v128.andnot (local.get $b3) (f32x4.lt (local.get $b3) (v128.const f32x4 0 0 0 0))))
                    (if (i32.eq (local.get $activation) (i32.const 2))
                      (then
                        (local.set $b3
                          (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $b3) (f32x4.gt (local.get $b3) (v128.const f32x4 6 6 6 6))))))))
                (if (i32.ge_s (local.get $n0) (i32.const 4))
                  (then (v128.store (local.get $q) (local.get $a3)))
                  (else
                    (f32.store (local.get $q) (f32x4.extract_lane 0 (local.get $a3)))
                    (if (i32.ge_s (local.get $n0) (i32.const 2)) (then (f32.store offset=4 (local.get $q) (f32x4.extract_lane 1 (local.get $a3)))))
                    (if (i32.ge_s (local.get $n0) (i32.const 3)) (then (f32.store offset=8 (local.get $q) (f32x4.extract_lane 2 (local.get $a3)))))))
                (if (i32.gt_s (local.get $n1) (i32.const 0))
                  (then
                    (local.set $q (i32.add (local.get $q) (local.get $outB)))
                    (if (i32.ge_s (local.get $n1) (i32.const 4))
                      (then (v128.store (local.get $q) (local.get $b3)))
                      (else
                        (f32.store (local.get $q) (f32x4.extract_lane 0 (local.get $b3)))
                        (if (i32.ge_s (local.get $n1) (i32.const 2)) (then (f32.store offset=4 (local.get $q) (f32x4.extract_lane 1 (local.get $b3)))))
                        (if (i32.ge_s (local.get $n1) (i32.const 3)) (then (f32.store offset=8 (local.get $q) (f32x4.extract_lane 2 (local.get $b3)))))))))))
            (local.set $ox (i32.add (local.get $ox) (i32.const 8)))
            (br_if $tile (i32.lt_u (local.get $ox) (local.get $ow))))
          (local.set $oy (i32.add (local.get $oy) (select (i32.const 2) (i32.const 1) (local.get $twoRows))))
          (br_if $outRow (i32.lt_u (local.get $oy) (local.get $oh))))
        (local.set $o0 (i32.add (local.get $o0) (i32.const 4)))
        (br $group))))

  ;; ---- Sparse convolutions without padding, output-stationary --------------
  ;;
  ;; A Conv2D whose every tap of every output cell lies inside the input (no
  ;; padding reaches a cell) reads, for output channel o, one list: its
  ;; entries in row order, each as (byte offset of its tap and input channel
  ;; from a cell's window corner, weight). decodeItems builds the lists once
  ;; per layer and inference (a counting sort by column); convItems then
  ;; keeps a tile of up to 16 cells of two output rows in registers over
  ;; the list, adds the bias and applies the activation, and stores it: each
  ;; output value gets the reference's terms in its order, and the map is
  ;; written once instead of read back and rewritten per row.

  ;; The lists at dst: starts (outC + 1 u32: channel o's items are [starts[o],
  ;; starts[o + 1])), then from dst + itemsAt the items, 8 bytes each (i32
  ;; offset, f32 weight). Rows (ky, kx, ci) ascending as in the image.
  (func (export "decodeItems")
    (param $counts i32) (param $countBytes i32) (param $entries i32) (param $entryBytes i32)
    (param $values i32) (param $perEntry i32) (param $colBits i32) (param $rows i32)
    (param $inC i32) (param $kw i32) (param $width i32) (param $inPlaneBytes i32) (param $outC i32) (param $dst i32) (param $itemsAt i32)
    (local $r i32) (local $n i32) (local $e i32) (local $eEnd i32) (local $mask i32) (local $packed i32) (local $col i32) (local $slot i32)
    (local $ci i32) (local $kx i32) (local $ky i32) (local $offset i32) (local $c i32) (local $sum i32) (local $count i32) (local $items i32)
    (local.set $mask (i32.sub (i32.shl (i32.const 1) (local.get $colBits)) (i32.const 1)))
    (local.set $items (i32.add (local.get $dst) (local.get $itemsAt)))
    (memory.fill (local.get $dst) (i32.const 0) (i32.shl (i32.add (local.get $outC) (i32.const 1)) (i32.const 2)))
    ;; count each column's entries into starts[column + 1]
    (local.set $eEnd (call $entriesOf (local.get $counts) (local.get $countBytes) (local.get $rows)))
    (block $done
      (loop $entry
        (br_if $done (i32.ge_u (local.get $e) (local.get $eEnd)))
        (local.set $col
          (i32.and
            (if (result i32) (i32.eq (local.get $entryBytes) (i32.const 2))
              (then (i32.load16_u (i32.add (local.get $entries) (i32.shl (local.get $e) (i32.const 1)))))
              (else (i32.load (i32.add (local.get $entries) (i32.shl (local.get $e) (i32.const 2))))))
            (local.get $mask)))
        (local.set $slot (i32.add (local.get $dst) (i32.shl (i32.add (local.get $col) (i32.const 1)) (i32.const 2))))
        (i32.store (local.get $slot) (i32.add (i32.load (local.get $slot)) (i32.const 1)))
        (local.set $e (i32.add (local.get $e) (i32.const 1)))
        (br $entry)))
    ;; prefix sums: starts[c] = the first item of column c
    (block $summed
      (loop $prefix
        (br_if $summed (i32.gt_u (local.get $c) (local.get $outC)))
        (local.set $slot (i32.add (local.get $dst) (i32.shl (local.get $c) (i32.const 2))))
        (local.set $sum (i32.add (local.get $sum) (i32.load (local.get $slot))))
        (i32.store (local.get $slot) (local.get $sum))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $prefix)))
    ;; place every entry at its column's cursor (starts[column], advanced), rows in order
    (local.set $e (i32.const 0))
    (block $placed
      (loop $row
        (br_if $placed (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $count
          (if (result i32) (i32.eq (local.get $countBytes) (i32.const 1))
            (then (i32.load8_u (i32.add (local.get $counts) (local.get $r))))
            (else
              (if (result i32) (i32.eq (local.get $countBytes) (i32.const 2))
                (then (i32.load16_u (i32.add (local.get $counts) (i32.shl (local.get $r) (i32.const 1)))))
                (else (i32.load (i32.add (local.get $counts) (i32.shl (local.get $r) (i32.const 2)))))))))
        (local.set $offset
          (i32.add (i32.mul (local.get $ci) (local.get $inPlaneBytes))
            (i32.shl (i32.add (i32.mul (local.get $ky) (local.get $width)) (local.get $kx)) (i32.const 2))))
        (local.set $eEnd (i32.add (local.get $e) (local.get $count)))
        (block $rowDone
          (loop $entry
            (br_if $rowDone (i32.ge_u (local.get $e) (local.get $eEnd)))
            (local.set $packed
              (if (result i32) (i32.eq (local.get $entryBytes) (i32.const 2))
                (then (i32.load16_u (i32.add (local.get $entries) (i32.shl (local.get $e) (i32.const 1)))))
                (else (i32.load (i32.add (local.get $entries) (i32.shl (local.get $e) (i32.const 2)))))))
            (local.set $slot (i32.add (local.get $dst) (i32.shl (i32.and (local.get $packed) (local.get $mask)) (i32.const 2))))
            (local.set $n (i32.add (local.get $items) (i32.shl (i32.load (local.get $slot)) (i32.const 3))))
            (i32.store (local.get $slot) (i32.add (i32.load (local.get $slot)) (i32.const 1)))
            (i32.store (local.get $n) (local.get $offset))
            (f32.store offset=4 (local.get $n)
              (if (result f32) (local.get $perEntry)
                (then (f32.load (i32.add (local.get $values) (i32.shl (local.get $e) (i32.const 2)))))
                (else (f32.load (i32.add (local.get $values) (i32.shl (i32.shr_u (local.get $packed) (local.get $colBits)) (i32.const 2)))))))
            (local.set $e (i32.add (local.get $e) (i32.const 1)))
            (br $entry)))
        ;; the next row's (ky, kx, ci)
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (local.set $ci (i32.add (local.get $ci) (i32.const 1)))
        (if (i32.eq (local.get $ci) (local.get $inC))
          (then
            (local.set $ci (i32.const 0))
            (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
            (if (i32.eq (local.get $kx) (local.get $kw))
              (then
                (local.set $kx (i32.const 0))
                (local.set $ky (i32.add (local.get $ky) (i32.const 1)))))))
        (br $row)))
    ;; each cursor now ends its column, where the next begins: shift them back to starts
    (local.set $c (local.get $outC))
    (block $shifted
      (loop $shift
        (br_if $shifted (i32.eqz (local.get $c)))
        (local.set $slot (i32.add (local.get $dst) (i32.shl (local.get $c) (i32.const 2))))
        (i32.store (local.get $slot) (i32.load (i32.sub (local.get $slot) (i32.const 4))))
        (local.set $c (i32.sub (local.get $c) (i32.const 1)))
        (br $shift)))
    (i32.store (local.get $dst) (i32.const 0)))

  ;; The number of entries of `rows` rows.
  (func $entriesOf (param $counts i32) (param $countBytes i32) (param $rows i32) (result i32)
    (local $r i32) (local $sum i32)
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $sum
          (i32.add (local.get $sum)
            (if (result i32) (i32.eq (local.get $countBytes) (i32.const 1))
              (then (i32.load8_u (i32.add (local.get $counts) (local.get $r))))
              (else
                (if (result i32) (i32.eq (local.get $countBytes) (i32.const 2))
                  (then (i32.load16_u (i32.add (local.get $counts) (i32.shl (local.get $r) (i32.const 1)))))
                  (else (i32.load (i32.add (local.get $counts) (i32.shl (local.get $r) (i32.const 2))))))))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row)))
    (local.get $sum))

  ;; Conv2D from decodeItems' lists at `lists` (items at lists + itemsAt),
  ;; planar in and out, strides across 1 or 2, no padding reaching a cell.
  ;; Loads may read up to 64 bytes past the input map (a tile's second row
  ;; past the last output row is neither loaded nor stored).
  (func (export "convItems")
    (param $lists i32) (param $itemsAt i32) (param $bias i32) (param $in i32) (param $width i32)
    (param $out i32) (param $oh i32) (param $ow i32) (param $sh i32) (param $sw i32) (param $outC i32) (param $activation i32)
    (local $o i32) (local $k i32) (local $k1 i32) (local $items i32) (local $oy i32) (local $ox i32) (local $n i32)
    (local $rowAt i32) (local $tileAt i32) (local $at i32) (local $outAt i32) (local $vec i32) (local $item i32)
    (local $unit i32) (local $q i32) (local $left i32) (local $two i32) (local $pitch i32)
    (local $bv v128) (local $wv v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (if (i32.or (i32.eqz (local.get $oh)) (i32.eqz (local.get $ow))) (then (return)))
    (local.set $items (i32.add (local.get $lists) (local.get $itemsAt)))
    (local.set $unit (i32.eq (local.get $sw) (i32.const 1)))
    ;; a tile's vectors start 4 cells apart: 4 * sw input columns
    (local.set $vec (i32.shl (local.get $sw) (i32.const 4)))
    ;; from one output row to the next: sh input rows
    (local.set $pitch (i32.shl (i32.mul (local.get $sh) (local.get $width)) (i32.const 2)))
    (block $channelsDone
      (loop $channel
        (br_if $channelsDone (i32.ge_u (local.get $o) (local.get $outC)))
        (local.set $bv (v128.load32_splat (i32.add (local.get $bias) (i32.shl (local.get $o) (i32.const 2)))))
        (local.set $k1 (i32.load offset=4 (i32.add (local.get $lists) (i32.shl (local.get $o) (i32.const 2)))))
        (local.set $oy (i32.const 0))
        (loop $outRow
          (local.set $rowAt
            (i32.add (local.get $in) (i32.shl (i32.mul (i32.mul (local.get $oy) (local.get $sh)) (local.get $width)) (i32.const 2))))
          (local.set $two (i32.lt_u (i32.add (local.get $oy) (i32.const 1)) (local.get $oh)))
          (local.set $ox (i32.const 0))
          (loop $tile
            (local.set $n (i32.sub (local.get $ow) (local.get $ox)))
            (if (i32.gt_s (local.get $n) (i32.const 16)) (then (local.set $n (i32.const 16))))
            (local.set $tileAt (i32.add (local.get $rowAt) (i32.shl (i32.mul (local.get $ox) (local.get $sw)) (i32.const 2))))
            (local.set $a0 (v128.const i32x4 0 0 0 0))
            (local.set $a1 (v128.const i32x4 0 0 0 0))
            (local.set $a2 (v128.const i32x4 0 0 0 0))
            (local.set $a3 (v128.const i32x4 0 0 0 0))
            (local.set $b0 (v128.const i32x4 0 0 0 0))
            (local.set $b1 (v128.const i32x4 0 0 0 0))
            (local.set $b2 (v128.const i32x4 0 0 0 0))
            (local.set $b3 (v128.const i32x4 0 0 0 0))
            (local.set $item
              (i32.add (local.get $items) (i32.shl (i32.load (i32.add (local.get $lists) (i32.shl (local.get $o) (i32.const 2)))) (i32.const 3))))
            (local.set $k (i32.add (local.get $items) (i32.shl (local.get $k1) (i32.const 3))))
            ;; unit stride, two rows of 9 to 12 cells (3 vectors each) or of 13 to 16 (4): every
            ;; vector without a test; lanes past the row read what lies there and are never stored
            (if (i32.and (i32.and (local.get $unit) (local.get $two)) (i32.gt_s (local.get $n) (i32.const 8)))
              (then
                (if (i32.le_s (local.get $n) (i32.const 12))
                  (then
                    (block $threeDone
                      (loop $threeItem
                        (br_if $threeDone (i32.ge_u (local.get $item) (local.get $k)))
                        (local.set $at (i32.add (local.get $tileAt) (i32.load (local.get $item))))
                        (local.set $q (i32.add (local.get $at) (local.get $pitch)))
                        (local.set $wv (v128.load32_splat offset=4 (local.get $item)))
                        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load offset=0 (local.get $at)) (local.get $wv))))
                        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load offset=16 (local.get $at)) (local.get $wv))))
                        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (v128.load offset=32 (local.get $at)) (local.get $wv))))
                        (local.set $b0 (f32x4.add (local.get $b0) (f32x4.mul (v128.load offset=0 (local.get $q)) (local.get $wv))))
                        (local.set $b1 (f32x4.add (local.get $b1) (f32x4.mul (v128.load offset=16 (local.get $q)) (local.get $wv))))
                        (local.set $b2 (f32x4.add (local.get $b2) (f32x4.mul (v128.load offset=32 (local.get $q)) (local.get $wv))))
                        (local.set $item (i32.add (local.get $item) (i32.const 8)))
                        (br $threeItem))))
                  (else
                    (block $fourDone
                      (loop $fourItem
                        (br_if $fourDone (i32.ge_u (local.get $item) (local.get $k)))
                        (local.set $at (i32.add (local.get $tileAt) (i32.load (local.get $item))))
                        (local.set $q (i32.add (local.get $at) (local.get $pitch)))
                        (local.set $wv (v128.load32_splat offset=4 (local.get $item)))
                        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load offset=0 (local.get $at)) (local.get $wv))))
                        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load offset=16 (local.get $at)) (local.get $wv))))
                        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (v128.load offset=32 (local.get $at)) (local.get $wv))))
                        (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (v128.load offset=48 (local.get $at)) (local.get $wv))))
                        (local.set $b0 (f32x4.add (local.get $b0) (f32x4.mul (v128.load offset=0 (local.get $q)) (local.get $wv))))
                        (local.set $b1 (f32x4.add (local.get $b1) (f32x4.mul (v128.load offset=16 (local.get $q)) (local.get $wv))))
                        (local.set $b2 (f32x4.add (local.get $b2) (f32x4.mul (v128.load offset=32 (local.get $q)) (local.get $wv))))
                        (local.set $b3 (f32x4.add (local.get $b3) (f32x4.mul (v128.load offset=48 (local.get $q)) (local.get $wv))))
                        (local.set $item (i32.add (local.get $item) (i32.const 8)))
                        (br $fourItem)))))))
            (block $itemsDone
              (loop $nextItem
                (br_if $itemsDone (i32.ge_u (local.get $item) (local.get $k)))
                (local.set $at (i32.add (local.get $tileAt) (i32.load (local.get $item))))
                (local.set $wv (v128.load32_splat offset=4 (local.get $item)))
                (local.set $q (local.get $at))
                (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul
                  (if (result v128) (local.get $unit)
                    (then (v128.load (local.get $q)))
                    (else
                      (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                        (v128.load (local.get $q)) (v128.load offset=16 (local.get $q)))))
                  (local.get $wv))))
                (if (i32.gt_s (local.get $n) (i32.const 4))
                  (then
                    (local.set $q (i32.add (local.get $at) (local.get $vec)))
                    (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul
                      (if (result v128) (local.get $unit)
                        (then (v128.load (local.get $q)))
                        (else
                          (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                            (v128.load (local.get $q)) (v128.load offset=16 (local.get $q)))))
                      (local.get $wv))))
                    (if (i32.gt_s (local.get $n) (i32.const 8))
                      (then
                        (local.set $q (i32.add (local.get $at) (i32.shl (local.get $vec) (i32.const 1))))
                        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul
                          (if (result v128) (local.get $unit)
                            (then (v128.load (local.get $q)))
                            (else
                              (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                                (v128.load (local.get $q)) (v128.load offset=16 (local.get $q)))))
                          (local.get $wv))))
                        (if (i32.gt_s (local.get $n) (i32.const 12))
                          (then
                            (local.set $q (i32.add (local.get $at) (i32.mul (local.get $vec) (i32.const 3))))
                            (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul
                              (if (result v128) (local.get $unit)
                                (then (v128.load (local.get $q)))
                                (else
                                  (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                                    (v128.load (local.get $q)) (v128.load offset=16 (local.get $q)))))
                              (local.get $wv))))))))))
                ;; the tile's second output row, sh input rows down
                (if (local.get $two)
                  (then
                    (local.set $q (i32.add (local.get $at) (local.get $pitch)))
                    (local.set $b0 (f32x4.add (local.get $b0) (f32x4.mul
                      (if (result v128) (local.get $unit)
                        (then (v128.load (local.get $q)))
                        (else
                          (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                            (v128.load (local.get $q)) (v128.load offset=16 (local.get $q)))))
                      (local.get $wv))))
                    (if (i32.gt_s (local.get $n) (i32.const 4))
                      (then
                        (local.set $q (i32.add (i32.add (local.get $at) (local.get $pitch)) (local.get $vec)))
                        (local.set $b1 (f32x4.add (local.get $b1) (f32x4.mul
                          (if (result v128) (local.get $unit)
                            (then (v128.load (local.get $q)))
                            (else
                              (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                                (v128.load (local.get $q)) (v128.load offset=16 (local.get $q)))))
                          (local.get $wv))))
                        (if (i32.gt_s (local.get $n) (i32.const 8))
                          (then
                            (local.set $q (i32.add (i32.add (local.get $at) (local.get $pitch)) (i32.shl (local.get $vec) (i32.const 1))))
                            (local.set $b2 (f32x4.add (local.get $b2) (f32x4.mul
                              (if (result v128) (local.get $unit)
                                (then (v128.load (local.get $q)))
                                (else
                                  (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                                    (v128.load (local.get $q)) (v128.load offset=16 (local.get $q)))))
                              (local.get $wv))))
                            (if (i32.gt_s (local.get $n) (i32.const 12))
                              (then
                                (local.set $q (i32.add (i32.add (local.get $at) (local.get $pitch)) (i32.mul (local.get $vec) (i32.const 3))))
                                (local.set $b3 (f32x4.add (local.get $b3) (f32x4.mul
                                  (if (result v128) (local.get $unit)
                                    (then (v128.load (local.get $q)))
                                    (else
                                      (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                                        (v128.load (local.get $q)) (v128.load offset=16 (local.get $q)))))
                                  (local.get $wv))))))))))))
                (local.set $item (i32.add (local.get $item) (i32.const 8)))
                (br $nextItem)))
            (local.set $outAt
              (i32.add (local.get $out)
                (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $o) (local.get $oh)) (local.get $oy)) (local.get $ow)) (local.get $ox)) (i32.const 2))))
                        (local.set $q (i32.add (local.get $outAt) (i32.const 0)))
            (local.set $left (i32.sub (local.get $n) (i32.const 0)))
            (local.set $a0 (f32x4.add (local.get $a0) (local.get $bv)))
            (if (local.get $activation)
              (then
                (local.set $a0 (v128.andnot (local.get $a0) (f32x4.lt (local.get $a0) (v128.const f32x4 0 0 0 0))))
                (if (i32.eq (local.get $activation) (i32.const 2))
                  (then
                    (local.set $a0
                      (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $a0) (f32x4.gt (local.get $a0) (v128.const f32x4 6 6 6 6))))))))
            (if (i32.ge_s (local.get $left) (i32.const 4))
              (then (v128.store (local.get $q) (local.get $a0)))
              (else
                (f32.store (local.get $q) (f32x4.extract_lane 0 (local.get $a0)))
                (if (i32.ge_s (local.get $left) (i32.const 2)) (then (f32.store offset=4 (local.get $q) (f32x4.extract_lane 1 (local.get $a0)))))
                (if (i32.ge_s (local.get $left) (i32.const 3)) (then (f32.store offset=8 (local.get $q) (f32x4.extract_lane 2 (local.get $a0)))))))
            (if (i32.gt_s (local.get $n) (i32.const 4))
              (then
                (local.set $q (i32.add (local.get $outAt) (i32.const 16)))
                (local.set $left (i32.sub (local.get $n) (i32.const 4)))
                (local.set $a1 (f32x4.add (local.get $a1) (local.get $bv)))
                (if (local.get $activation)
                  (then
                    (local.set $a1 (v128.andnot (local.get $a1) (f32x4.lt (local.get $a1) (v128.const f32x4 0 0 0 0))))
                    (if (i32.eq (local.get $activation) (i32.const 2))
                      (then
                        (local.set $a1
                          (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $a1) (f32x4.gt (local.get $a1) (v128.const f32x4 6 6 6 6))))))))
                (if (i32.ge_s (local.get $left) (i32.const 4))
                  (then (v128.store (local.get $q) (local.get $a1)))
                  (else
                    (f32.store (local.get $q) (f32x4.extract_lane 0 (local.get $a1)))
                    (if (i32.ge_s (local.get $left) (i32.const 2)) (then (f32.store offset=4 (local.get $q) (f32x4.extract_lane 1 (local.get $a1)))))
                    (if (i32.ge_s (local.get $left) (i32.const 3)) (then (f32.store offset=8 (local.get $q) (f32x4.extract_lane 2 (local.get $a1)))))))))
            (if (i32.gt_s (local.get $n) (i32.const 8))
              (then
                (local.set $q (i32.add (local.get $outAt) (i32.const 32)))
                (local.set $left (i32.sub (local.get $n) (i32.const 8)))
                (local.set $a2 (f32x4.add (local.get $a2) (local.get $bv)))
                (if (local.get $activation)
                  (then
                    (local.set $a2 (v128.andnot (local.get $a2) (f32x4.lt (local.get $a2) (v128.const f32x4 0 0 0 0))))
                    (if (i32.eq (local.get $activation) (i32.const 2))
                      (then
                        (local.set $a2
                          (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $a2) (f32x4.gt (local.get $a2) (v128.const f32x4 6 6 6 6))))))))
                (if (i32.ge_s (local.get $left) (i32.const 4))
                  (then (v128.store (local.get $q) (local.get $a2)))
                  (else
                    (f32.store (local.get $q) (f32x4.extract_lane 0 (local.get $a2)))
                    (if (i32.ge_s (local.get $left) (i32.const 2)) (then (f32.store offset=4 (local.get $q) (f32x4.extract_lane 1 (local.get $a2)))))
                    (if (i32.ge_s (local.get $left) (i32.const 3)) (then (f32.store offset=8 (local.get $q) (f32x4.extract_lane 2 (local.get $a2)))))))))
            (if (i32.gt_s (local.get $n) (i32.const 12))
              (then
                (local.set $q (i32.add (local.get $outAt) (i32.const 48)))
                (local.set $left (i32.sub (local.get $n) (i32.const 12)))
                (local.set $a3 (f32x4.add (local.get $a3) (local.get $bv)))
                (if (local.get $activation)
                  (then
                    (local.set $a3 (v128.andnot (local.get $a3) (f32x4.lt (local.get $a3) (v128.const f32x4 0 0 0 0))))
                    (if (i32.eq (local.get $activation) (i32.const 2))
                      (then
                        (local.set $a3
                          (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $a3) (f32x4.gt (local.get $a3) (v128.const f32x4 6 6 6 6))))))))
                (if (i32.ge_s (local.get $left) (i32.const 4))
                  (then (v128.store (local.get $q) (local.get $a3)))
                  (else
                    (f32.store (local.get $q) (f32x4.extract_lane 0 (local.get $a3)))
                    (if (i32.ge_s (local.get $left) (i32.const 2)) (then (f32.store offset=4 (local.get $q) (f32x4.extract_lane 1 (local.get $a3)))))
                    (if (i32.ge_s (local.get $left) (i32.const 3)) (then (f32.store offset=8 (local.get $q) (f32x4.extract_lane 2 (local.get $a3)))))))))
            (if (local.get $two)
              (then
                (local.set $q (i32.add (i32.add (local.get $outAt) (i32.shl (local.get $ow) (i32.const 2))) (i32.const 0)))
                (local.set $left (i32.sub (local.get $n) (i32.const 0)))
                (local.set $b0 (f32x4.add (local.get $b0) (local.get $bv)))
                (if (local.get $activation)
                  (then
                    (local.set $b0 (v128.andnot (local.get $b0) (f32x4.lt (local.get $b0) (v128.const f32x4 0 0 0 0))))
                    (if (i32.eq (local.get $activation) (i32.const 2))
                      (then
                        (local.set $b0
                          (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $b0) (f32x4.gt (local.get $b0) (v128.const f32x4 6 6 6 6))))))))
                (if (i32.ge_s (local.get $left) (i32.const 4))
                  (then (v128.store (local.get $q) (local.get $b0)))
                  (else
                    (f32.store (local.get $q) (f32x4.extract_lane 0 (local.get $b0)))
                    (if (i32.ge_s (local.get $left) (i32.const 2)) (then (f32.store offset=4 (local.get $q) (f32x4.extract_lane 1 (local.get $b0)))))
                    (if (i32.ge_s (local.get $left) (i32.const 3)) (then (f32.store offset=8 (local.get $q) (f32x4.extract_lane 2 (local.get $b0)))))))
                (if (i32.gt_s (local.get $n) (i32.const 4))
                  (then
                    (local.set $q (i32.add (i32.add (local.get $outAt) (i32.shl (local.get $ow) (i32.const 2))) (i32.const 16)))
                    (local.set $left (i32.sub (local.get $n) (i32.const 4)))
                    (local.set $b1 (f32x4.add (local.get $b1) (local.get $bv)))
                    (if (local.get $activation)
                      (then
                        (local.set $b1 (v128.andnot (local.get $b1) (f32x4.lt (local.get $b1) (v128.const f32x4 0 0 0 0))))
                        (if (i32.eq (local.get $activation) (i32.const 2))
                          (then
                            (local.set $b1
                              (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $b1) (f32x4.gt (local.get $b1) (v128.const f32x4 6 6 6 6))))))))
                    (if (i32.ge_s (local.get $left) (i32.const 4))
                      (then (v128.store (local.get $q) (local.get $b1)))
                      (else
                        (f32.store (local.get $q) (f32x4.extract_lane 0 (local.get $b1)))
                        (if (i32.ge_s (local.get $left) (i32.const 2)) (then (f32.store offset=4 (local.get $q) (f32x4.extract_lane 1 (local.get $b1)))))
                        (if (i32.ge_s (local.get $left) (i32.const 3)) (then (f32.store offset=8 (local.get $q) (f32x4.extract_lane 2 (local.get $b1)))))))))
                (if (i32.gt_s (local.get $n) (i32.const 8))
                  (then
                    (local.set $q (i32.add (i32.add (local.get $outAt) (i32.shl (local.get $ow) (i32.const 2))) (i32.const 32)))
                    (local.set $left (i32.sub (local.get $n) (i32.const 8)))
                    (local.set $b2 (f32x4.add (local.get $b2) (local.get $bv)))
                    (if (local.get $activation)
                      (then
                        (local.set $b2 (v128.andnot (local.get $b2) (f32x4.lt (local.get $b2) (v128.const f32x4 0 0 0 0))))
                        (if (i32.eq (local.get $activation) (i32.const 2))
                          (then
                            (local.set $b2
                              (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $b2) (f32x4.gt (local.get $b2) (v128.const f32x4 6 6 6 6))))))))
                    (if (i32.ge_s (local.get $left) (i32.const 4))
                      (then (v128.store (local.get $q) (local.get $b2)))
                      (else
                        (f32.store (local.get $q) (f32x4.extract_lane 0 (local.get $b2)))
                        (if (i32.ge_s (local.get $left) (i32.const 2)) (then (f32.store offset=4 (local.get $q) (f32x4.extract_lane 1 (local.get $b2)))))
                        (if (i32.ge_s (local.get $left) (i32.const 3)) (then (f32.store offset=8 (local.get $q) (f32x4.extract_lane 2 (local.get $b2)))))))))
                (if (i32.gt_s (local.get $n) (i32.const 12))
                  (then
                    (local.set $q (i32.add (i32.add (local.get $outAt) (i32.shl (local.get $ow) (i32.const 2))) (i32.const 48)))
                    (local.set $left (i32.sub (local.get $n) (i32.const 12)))
                    (local.set $b3 (f32x4.add (local.get $b3) (local.get $bv)))
                    (if (local.get $activation)
                      (then
                        (local.set $b3 (v128.andnot (local.get $b3) (f32x4.lt (local.get $b3) (v128.const f32x4 0 0 0 0))))
                        (if (i32.eq (local.get $activation) (i32.const 2))
                          (then
                            (local.set $b3
                              (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $b3) (f32x4.gt (local.get $b3) (v128.const f32x4 6 6 6 6))))))))
                    (if (i32.ge_s (local.get $left) (i32.const 4))
                      (then (v128.store (local.get $q) (local.get $b3)))
                      (else
                        (f32.store (local.get $q) (f32x4.extract_lane 0 (local.get $b3)))
                        (if (i32.ge_s (local.get $left) (i32.const 2)) (then (f32.store offset=4 (local.get $q) (f32x4.extract_lane 1 (local.get $b3)))))
                        (if (i32.ge_s (local.get $left) (i32.const 3)) (then (f32.store offset=8 (local.get $q) (f32x4.extract_lane 2 (local.get $b3)))))))))))
            (local.set $ox (i32.add (local.get $ox) (i32.const 16)))
            (br_if $tile (i32.lt_u (local.get $ox) (local.get $ow))))
          (local.set $oy (i32.add (local.get $oy) (i32.const 2)))
          (br_if $outRow (i32.lt_u (local.get $oy) (local.get $oh))))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $channel))))

  ;; out[c][cell] = act(fl32(out[c][cell] + bias[c])) over a planar map.
  (func $finish (param $out i32) (param $channels i32) (param $cells i32) (param $bias i32) (param $activation i32)
    (local $c i32) (local $p i32) (local $end i32) (local $vend i32) (local $b f32) (local $bv v128) (local $v v128) (local $s f32)
    (local.set $p (local.get $out))
    (block $done
      (loop $channel
        (br_if $done (i32.ge_u (local.get $c) (local.get $channels)))
        (local.set $b (f32.load (i32.add (local.get $bias) (i32.shl (local.get $c) (i32.const 2)))))
        (local.set $bv (f32x4.splat (local.get $b)))
        (local.set $end (i32.add (local.get $p) (i32.shl (local.get $cells) (i32.const 2))))
        (local.set $vend (i32.add (local.get $p) (i32.shl (i32.and (local.get $cells) (i32.const -4)) (i32.const 2))))
        (block $vdone
          (loop $four
            (br_if $vdone (i32.ge_u (local.get $p) (local.get $vend)))
            (local.set $v (f32x4.add (v128.load (local.get $p)) (local.get $bv)))
            (if (local.get $activation)
              (then
                ;; relu: v < 0 gives +0 (a -0 and a NaN stay); relu6 then v > 6 gives 6
                (local.set $v (v128.andnot (local.get $v) (f32x4.lt (local.get $v) (v128.const f32x4 0 0 0 0))))
                (if (i32.eq (local.get $activation) (i32.const 2))
                  (then
                    (local.set $v
                      (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $v)
                        (f32x4.gt (local.get $v) (v128.const f32x4 6 6 6 6))))))))
            (v128.store (local.get $p) (local.get $v))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (br $four)))
        (block $sdone
          (loop $one
            (br_if $sdone (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $s (f32.add (f32.load (local.get $p)) (local.get $b)))
            (if (local.get $activation)
              (then
                (if (f32.lt (local.get $s) (f32.const 0)) (then (local.set $s (f32.const 0))))
                (if (i32.and (i32.eq (local.get $activation) (i32.const 2)) (f32.gt (local.get $s) (f32.const 6)))
                  (then (local.set $s (f32.const 6))))))
            (f32.store (local.get $p) (local.get $s))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (br $one)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $channel))))

  ;; A planar [channels][cells] map to NHWC [cells][channels].
  (func (export "toNhwc") (param $src i32) (param $dst i32) (param $channels i32) (param $cells i32)
    (local $c i32) (local $cell i32) (local $from i32)
    (block $done
      (loop $channel
        (br_if $done (i32.ge_u (local.get $c) (local.get $channels)))
        (local.set $cell (i32.const 0))
        (local.set $from (i32.add (local.get $src) (i32.shl (i32.mul (local.get $c) (local.get $cells)) (i32.const 2))))
        (block $cellsDone
          (loop $next
            (br_if $cellsDone (i32.ge_u (local.get $cell) (local.get $cells)))
            (f32.store
              (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $cell) (local.get $channels)) (local.get $c)) (i32.const 2)))
              (f32.load (i32.add (local.get $from) (i32.shl (local.get $cell) (i32.const 2)))))
            (local.set $cell (i32.add (local.get $cell) (i32.const 1)))
            (br $next)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $channel))))

  ;; Max (kind 0) or average (kind 1) pooling of a planar [height, width,
  ;; channels] map, as conv.ts's maxPool2d and avgPool2d: per output value,
  ;; the window's cells inside the input, row-major; max: m = -inf, then
  ;; v > m takes v (a NaN never wins; a select, not f32x4.max, which differs
  ;; on NaN and on -0 against +0); avg: fl32 sums from +0, then
  ;; fl32(sum / cells). Output planar, or NHWC when outPlanar is 0. Four
  ;; output columns at a time where their windows lie inside the input's
  ;; columns; one at a time at the edges. bias, activation: see $poolPairs,
  ;; the only case that takes them (activation -1: none).
  (func (export "pool")
    (param $kind i32) (param $in i32) (param $height i32) (param $width i32) (param $channels i32)
    (param $out i32) (param $oh i32) (param $ow i32)
    (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $pt i32) (param $pl i32) (param $outPlanar i32)
    (param $bias i32) (param $activation i32)
    (local $c i32) (local $oy i32) (local $ox i32) (local $top i32)
    (local $y0 i32) (local $y1 i32) (local $y i32) (local $dx i32)
    (local $plane i32) (local $rowAt i32) (local $at i32) (local $dst i32)
    (local $cellStep i32) (local $channelStep i32) (local $step i32)
    (local $vx0 i32) (local $vx1 i32) (local $m v128) (local $v v128)
    ;; 2-wide windows 2 apart (2x2 pooling), every window inside the input: pairs
    (if (i32.and
          (i32.and (i32.eq (local.get $kw) (i32.const 2)) (i32.eq (local.get $sw) (i32.const 2)))
          (i32.and
            (i32.and (i32.eqz (local.get $pt)) (i32.eqz (local.get $pl)))
            (i32.and
              (i32.le_s (i32.add (i32.shl (local.get $ow) (i32.const 1)) (i32.const 0)) (local.get $width))
              (i32.le_s (i32.add (i32.mul (i32.sub (local.get $oh) (i32.const 1)) (local.get $sh)) (local.get $kh)) (local.get $height)))))
      (then
        (call $poolPairs (local.get $kind) (local.get $in) (local.get $height) (local.get $width) (local.get $channels) (local.get $out)
          (local.get $oh) (local.get $ow) (local.get $kh) (local.get $sh) (local.get $outPlanar) (local.get $bias) (local.get $activation))
        (return)))
    ;; output strides in bytes: planar, cells 4 apart; NHWC, channels 4 apart
    (if (local.get $outPlanar)
      (then
        (local.set $cellStep (i32.const 4))
        (local.set $channelStep (i32.shl (i32.mul (local.get $oh) (local.get $ow)) (i32.const 2))))
      (else
        (local.set $cellStep (i32.shl (local.get $channels) (i32.const 2)))
        (local.set $channelStep (i32.const 4))))
    (local.set $step (i32.shl (local.get $sw) (i32.const 2)))
    ;; output columns [vx0, vx1) have their whole window inside the input's columns
    (local.set $vx0 (i32.div_u (i32.add (local.get $pl) (i32.sub (local.get $sw) (i32.const 1))) (local.get $sw)))
    (local.set $vx1
      (if (result i32) (i32.lt_s (i32.add (i32.sub (local.get $width) (local.get $kw)) (local.get $pl)) (i32.const 0))
        (then (i32.const 0))
        (else (i32.add (i32.div_u (i32.add (i32.sub (local.get $width) (local.get $kw)) (local.get $pl)) (local.get $sw)) (i32.const 1)))))
    (if (i32.gt_s (local.get $vx1) (local.get $ow)) (then (local.set $vx1 (local.get $ow))))
    (if (i32.lt_s (local.get $vx1) (local.get $vx0)) (then (local.set $vx1 (local.get $vx0))))
    ;; only whole groups of four
    (local.set $vx1 (i32.add (local.get $vx0) (i32.and (i32.sub (local.get $vx1) (local.get $vx0)) (i32.const -4))))
    (block $channelsDone
      (loop $channel
        (br_if $channelsDone (i32.ge_u (local.get $c) (local.get $channels)))
        (local.set $plane (i32.add (local.get $in) (i32.shl (i32.mul (i32.mul (local.get $c) (local.get $height)) (local.get $width)) (i32.const 2))))
        (local.set $oy (i32.const 0))
        (block $rowsDone
          (loop $outRow
            (br_if $rowsDone (i32.ge_u (local.get $oy) (local.get $oh)))
            (local.set $top (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $pt)))
            (local.set $y0 (select (local.get $top) (i32.const 0) (i32.gt_s (local.get $top) (i32.const 0))))
            (local.set $y1 (i32.add (local.get $top) (local.get $kh)))
            (if (i32.gt_s (local.get $y1) (local.get $height)) (then (local.set $y1 (local.get $height))))
            (local.set $ox (i32.const 0))
            (block $colsDone
              (loop $outCol
                (br_if $colsDone (i32.ge_u (local.get $ox) (local.get $ow)))
                (local.set $dst
                  (i32.add (local.get $out)
                    (i32.add (i32.mul (local.get $c) (local.get $channelStep))
                      (i32.mul (i32.add (i32.mul (local.get $oy) (local.get $ow)) (local.get $ox)) (local.get $cellStep)))))
                (if (i32.and (i32.ge_s (local.get $ox) (local.get $vx0)) (i32.lt_s (local.get $ox) (local.get $vx1)))
                  (then
                    ;; four columns: lanes ox .. ox + 3
                    (local.set $m
                      (if (result v128) (local.get $kind)
                        (then (v128.const f32x4 0 0 0 0))
                        (else (v128.const f32x4 -inf -inf -inf -inf))))
                    (local.set $y (local.get $y0))
                    (block $windowDone
                      (loop $windowRow
                        (br_if $windowDone (i32.ge_s (local.get $y) (local.get $y1)))
                        (local.set $rowAt
                          (i32.add (local.get $plane)
                            (i32.shl
                              (i32.add (i32.mul (local.get $y) (local.get $width))
                                (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $pl)))
                              (i32.const 2))))
                        (local.set $dx (i32.const 0))
                        (loop $windowCol
                          (local.set $at (i32.add (local.get $rowAt) (i32.shl (local.get $dx) (i32.const 2))))
                          (local.set $v
                            (if (result v128) (i32.eq (local.get $sw) (i32.const 1))
                              (then (v128.load (local.get $at)))
                              (else
                                (if (result v128) (i32.eq (local.get $sw) (i32.const 2))
                                  (then
                                    (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                                      (v128.load (local.get $at)) (v128.load offset=16 (local.get $at))))
                                  (else (call $gather (local.get $at) (i32.const 0) (local.get $step) (i32.const 4)))))))
                          (local.set $m
                            (if (result v128) (local.get $kind)
                              (then (f32x4.add (local.get $m) (local.get $v)))
                              (else (v128.bitselect (local.get $v) (local.get $m) (f32x4.gt (local.get $v) (local.get $m))))))
                          (local.set $dx (i32.add (local.get $dx) (i32.const 1)))
                          (br_if $windowCol (i32.lt_s (local.get $dx) (local.get $kw))))
                        (local.set $y (i32.add (local.get $y) (i32.const 1)))
                        (br $windowRow)))
                    (if (local.get $kind)
                      (then
                        (local.set $m
                          (f32x4.div (local.get $m)
                            (f32x4.splat (f32.convert_i32_s (i32.mul (i32.sub (local.get $y1) (local.get $y0)) (local.get $kw))))))))
                    (if (local.get $outPlanar)
                      (then (v128.store (local.get $dst) (local.get $m)))
                      (else
                        (f32.store (local.get $dst) (f32x4.extract_lane 0 (local.get $m)))
                        (f32.store (i32.add (local.get $dst) (local.get $cellStep)) (f32x4.extract_lane 1 (local.get $m)))
                        (f32.store (i32.add (local.get $dst) (i32.shl (local.get $cellStep) (i32.const 1))) (f32x4.extract_lane 2 (local.get $m)))
                        (f32.store (i32.add (local.get $dst) (i32.mul (local.get $cellStep) (i32.const 3))) (f32x4.extract_lane 3 (local.get $m)))))
                    (local.set $ox (i32.add (local.get $ox) (i32.const 4))))
                  (else
                    (f32.store (local.get $dst)
                      (call $poolOne (local.get $kind) (local.get $plane) (local.get $width) (local.get $y0) (local.get $y1)
                        (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $pl)) (local.get $kw)))
                    (local.set $ox (i32.add (local.get $ox) (i32.const 1)))))
                (br $outCol)))
            (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
            (br $outRow)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $channel))))

  ;; pool's 2x2-like case: windows kh x 2, 2 columns apart, all inside the
  ;; input. Four output columns at a time, each output row's last group too:
  ;; its lanes past the row read on (at most 32 bytes past the map, in the
  ;; address space) and are not stored. A window row's two cells come from
  ;; two loads as its even and odd columns, taken in that order (row-major).
  ;; With activation >= 0 (0 linear, 1 relu, 2 relu6) the input is a
  ;; convolution's sums (conv with activation 3): each value read becomes
  ;; act(fl32(v + bias[c])) first, the bits the convolution's $finish gives.
  (func $poolPairs
    (param $kind i32) (param $in i32) (param $height i32) (param $width i32) (param $channels i32) (param $out i32)
    (param $oh i32) (param $ow i32) (param $kh i32) (param $sh i32) (param $outPlanar i32) (param $bias i32) (param $activation i32)
    (local $bv v128) (local $c i32) (local $oy i32) (local $ox i32) (local $y i32) (local $n i32) (local $plane i32) (local $rowAt i32) (local $at i32)
    (local $dst i32) (local $cellStep i32) (local $channelStep i32) (local $lo v128) (local $hi v128) (local $v v128) (local $m v128) (local $div v128)
    (if (local.get $outPlanar)
      (then
        (local.set $cellStep (i32.const 4))
        (local.set $channelStep (i32.shl (i32.mul (local.get $oh) (local.get $ow)) (i32.const 2))))
      (else
        (local.set $cellStep (i32.shl (local.get $channels) (i32.const 2)))
        (local.set $channelStep (i32.const 4))))
    (local.set $div (f32x4.splat (f32.convert_i32_s (i32.shl (local.get $kh) (i32.const 1)))))
    (block $channelsDone
      (loop $channel
        (br_if $channelsDone (i32.ge_u (local.get $c) (local.get $channels)))
        (local.set $plane (i32.add (local.get $in) (i32.shl (i32.mul (i32.mul (local.get $c) (local.get $height)) (local.get $width)) (i32.const 2))))
        (if (i32.ge_s (local.get $activation) (i32.const 0))
          (then (local.set $bv (v128.load32_splat (i32.add (local.get $bias) (i32.shl (local.get $c) (i32.const 2)))))))
        (local.set $oy (i32.const 0))
        (block $rowsDone
          (loop $outRow
            (br_if $rowsDone (i32.ge_u (local.get $oy) (local.get $oh)))
            (local.set $ox (i32.const 0))
            (block $colsDone
              (loop $outCols
                (br_if $colsDone (i32.ge_u (local.get $ox) (local.get $ow)))
                (local.set $m
                  (if (result v128) (local.get $kind) (then (v128.const f32x4 0 0 0 0)) (else (v128.const f32x4 -inf -inf -inf -inf))))
                (local.set $rowAt
                  (i32.add (local.get $plane)
                    (i32.shl (i32.add (i32.mul (i32.mul (local.get $oy) (local.get $sh)) (local.get $width)) (i32.shl (local.get $ox) (i32.const 1)))
                      (i32.const 2))))
                (local.set $y (i32.const 0))
                (loop $windowRow
                  (local.set $lo (v128.load (local.get $rowAt)))
                  (local.set $hi (v128.load offset=16 (local.get $rowAt)))
                  ;; a convolution's sums: its bias and activation first, as its $finish would
                  (if (i32.ge_s (local.get $activation) (i32.const 0))
                    (then
                      (local.set $lo (f32x4.add (local.get $lo) (local.get $bv)))
                      (local.set $hi (f32x4.add (local.get $hi) (local.get $bv)))
                      (if (local.get $activation)
                        (then
                          (local.set $lo (v128.andnot (local.get $lo) (f32x4.lt (local.get $lo) (v128.const f32x4 0 0 0 0))))
                          (local.set $hi (v128.andnot (local.get $hi) (f32x4.lt (local.get $hi) (v128.const f32x4 0 0 0 0))))
                          (if (i32.eq (local.get $activation) (i32.const 2))
                            (then
                              (local.set $lo
                                (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $lo) (f32x4.gt (local.get $lo) (v128.const f32x4 6 6 6 6))))
                              (local.set $hi
                                (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $hi) (f32x4.gt (local.get $hi) (v128.const f32x4 6 6 6 6))))))))))
                  (local.set $v (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $lo) (local.get $hi)))
                  (local.set $m
                    (if (result v128) (local.get $kind)
                      (then (f32x4.add (local.get $m) (local.get $v)))
                      (else (v128.bitselect (local.get $v) (local.get $m) (f32x4.gt (local.get $v) (local.get $m))))))
                  (local.set $v (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $lo) (local.get $hi)))
                  (local.set $m
                    (if (result v128) (local.get $kind)
                      (then (f32x4.add (local.get $m) (local.get $v)))
                      (else (v128.bitselect (local.get $v) (local.get $m) (f32x4.gt (local.get $v) (local.get $m))))))
                  (local.set $rowAt (i32.add (local.get $rowAt) (i32.shl (local.get $width) (i32.const 2))))
                  (local.set $y (i32.add (local.get $y) (i32.const 1)))
                  (br_if $windowRow (i32.lt_u (local.get $y) (local.get $kh))))
                (if (local.get $kind) (then (local.set $m (f32x4.div (local.get $m) (local.get $div)))))
                (local.set $dst
                  (i32.add (local.get $out)
                    (i32.add (i32.mul (local.get $c) (local.get $channelStep))
                      (i32.mul (i32.add (i32.mul (local.get $oy) (local.get $ow)) (local.get $ox)) (local.get $cellStep)))))
                (local.set $n (i32.sub (local.get $ow) (local.get $ox)))
                (if (i32.and (local.get $outPlanar) (i32.ge_s (local.get $n) (i32.const 4)))
                  (then (v128.store (local.get $dst) (local.get $m)))
                  (else
                    (f32.store (local.get $dst) (f32x4.extract_lane 0 (local.get $m)))
                    (if (i32.ge_s (local.get $n) (i32.const 2))
                      (then (f32.store (i32.add (local.get $dst) (local.get $cellStep)) (f32x4.extract_lane 1 (local.get $m)))))
                    (if (i32.ge_s (local.get $n) (i32.const 3))
                      (then (f32.store (i32.add (local.get $dst) (i32.shl (local.get $cellStep) (i32.const 1))) (f32x4.extract_lane 2 (local.get $m)))))
                    (if (i32.ge_s (local.get $n) (i32.const 4))
                      (then (f32.store (i32.add (local.get $dst) (i32.mul (local.get $cellStep) (i32.const 3))) (f32x4.extract_lane 3 (local.get $m)))))))
                (local.set $ox (i32.add (local.get $ox) (i32.const 4)))
                (br $outCols)))
            (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
            (br $outRow)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $channel))))

  ;; One pooled value: rows [y0, y1) of a plane, the window's columns from
  ;; `left` (kw of them) clipped to the plane.
  (func $poolOne (param $kind i32) (param $plane i32) (param $width i32) (param $y0 i32) (param $y1 i32) (param $left i32) (param $kw i32)
    (result f32)
    (local $x0 i32) (local $x1 i32) (local $y i32) (local $x i32) (local $rowAt i32) (local $v f32) (local $m f32)
    (local.set $x0 (select (local.get $left) (i32.const 0) (i32.gt_s (local.get $left) (i32.const 0))))
    (local.set $x1 (i32.add (local.get $left) (local.get $kw)))
    (if (i32.gt_s (local.get $x1) (local.get $width)) (then (local.set $x1 (local.get $width))))
    (local.set $m (if (result f32) (local.get $kind) (then (f32.const 0)) (else (f32.const -inf))))
    (local.set $y (local.get $y0))
    (block $windowDone
      (loop $windowRow
        (br_if $windowDone (i32.ge_s (local.get $y) (local.get $y1)))
        (local.set $rowAt (i32.add (local.get $plane) (i32.shl (i32.mul (local.get $y) (local.get $width)) (i32.const 2))))
        (local.set $x (local.get $x0))
        (block $cellsDone
          (loop $windowCol
            (br_if $cellsDone (i32.ge_s (local.get $x) (local.get $x1)))
            (local.set $v (f32.load (i32.add (local.get $rowAt) (i32.shl (local.get $x) (i32.const 2)))))
            (if (local.get $kind)
              (then (local.set $m (f32.add (local.get $m) (local.get $v))))
              (else (if (f32.gt (local.get $v) (local.get $m)) (then (local.set $m (local.get $v))))))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br $windowCol)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $windowRow)))
    (if (result f32) (local.get $kind)
      (then
        (f32.div (local.get $m)
          (f32.convert_i32_s (i32.mul (i32.sub (local.get $y1) (local.get $y0)) (i32.sub (local.get $x1) (local.get $x0))))))
      (else (local.get $m))))

  ;; out[c] = fl32(sum / cells), the sum of channel c's cells of a planar map
  ;; in row-major order from +0 (conv.ts's globalAvgPool2d). With activation
  ;; >= 0 (0 linear, 1 relu, 2 relu6) the map is a convolution's sums (conv
  ;; with activation 3) and each value read becomes act(fl32(v + bias[c]))
  ;; first, the bits the convolution's $finish gives. Four channels at a
  ;; time when cells is a multiple of 4: each channel's four next cells
  ;; loaded as a vector, the four vectors transposed so that one vector adds
  ;; one cell of each channel, cells in order; the rest one channel at a time.
  (func (export "globalAvgPool") (param $in i32) (param $cells i32) (param $channels i32) (param $out i32) (param $bias i32) (param $activation i32)
    (local $c i32) (local $p i32) (local $end i32) (local $n f32) (local $plane i32) (local $s f32) (local $v f32) (local $b f32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $lo v128) (local $hi v128) (local $sum v128) (local $bv v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128) (local $six v128)
    (local.set $n (f32.convert_i32_u (local.get $cells)))
    (local.set $six (v128.const f32x4 6 6 6 6))
    (local.set $plane (i32.shl (local.get $cells) (i32.const 2)))
    (if (i32.eqz (i32.and (local.get $cells) (i32.const 3)))
      (then
        (block $groupsDone
          (loop $group
            (br_if $groupsDone (i32.gt_u (i32.add (local.get $c) (i32.const 4)) (local.get $channels)))
            (local.set $p (i32.add (local.get $in) (i32.mul (local.get $c) (local.get $plane))))
            (local.set $end (i32.add (local.get $p) (local.get $plane)))
            (local.set $sum (v128.const i32x4 0 0 0 0))
            ;; the four channels' biases, each across a vector
            (if (i32.ge_s (local.get $activation) (i32.const 0))
              (then
                (local.set $bv (v128.load (i32.add (local.get $bias) (i32.shl (local.get $c) (i32.const 2)))))
                (local.set $b0 (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $bv) (local.get $bv)))
                (local.set $b1 (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $bv) (local.get $bv)))
                (local.set $b2 (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $bv) (local.get $bv)))
                (local.set $b3 (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $bv) (local.get $bv)))))
            (loop $cells4
              (local.set $v0 (v128.load (local.get $p)))
              (local.set $v1 (v128.load (i32.add (local.get $p) (local.get $plane))))
              (local.set $v2 (v128.load (i32.add (local.get $p) (i32.shl (local.get $plane) (i32.const 1)))))
              (local.set $v3 (v128.load (i32.add (local.get $p) (i32.mul (local.get $plane) (i32.const 3)))))
              (if (i32.ge_s (local.get $activation) (i32.const 0))
                (then
                  (local.set $v0 (f32x4.add (local.get $v0) (local.get $b0)))
                  (local.set $v1 (f32x4.add (local.get $v1) (local.get $b1)))
                  (local.set $v2 (f32x4.add (local.get $v2) (local.get $b2)))
                  (local.set $v3 (f32x4.add (local.get $v3) (local.get $b3)))
                  (if (local.get $activation)
                    (then
                      (local.set $v0 (v128.andnot (local.get $v0) (f32x4.lt (local.get $v0) (v128.const f32x4 0 0 0 0))))
                      (local.set $v1 (v128.andnot (local.get $v1) (f32x4.lt (local.get $v1) (v128.const f32x4 0 0 0 0))))
                      (local.set $v2 (v128.andnot (local.get $v2) (f32x4.lt (local.get $v2) (v128.const f32x4 0 0 0 0))))
                      (local.set $v3 (v128.andnot (local.get $v3) (f32x4.lt (local.get $v3) (v128.const f32x4 0 0 0 0))))
                      (if (i32.eq (local.get $activation) (i32.const 2))
                        (then
                          (local.set $v0 (v128.bitselect (local.get $six) (local.get $v0) (f32x4.gt (local.get $v0) (local.get $six))))
                          (local.set $v1 (v128.bitselect (local.get $six) (local.get $v1) (f32x4.gt (local.get $v1) (local.get $six))))
                          (local.set $v2 (v128.bitselect (local.get $six) (local.get $v2) (f32x4.gt (local.get $v2) (local.get $six))))
                          (local.set $v3 (v128.bitselect (local.get $six) (local.get $v3) (f32x4.gt (local.get $v3) (local.get $six))))))))))
              ;; transpose: lo = (v0[0], v1[0], v0[1], v1[1]) and (v2, v3) alike, then cells 0 and 1 of the four
              (local.set $lo (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v0) (local.get $v1)))
              (local.set $hi (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v2) (local.get $v3)))
              (local.set $sum (f32x4.add (local.get $sum) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $lo) (local.get $hi))))
              (local.set $sum (f32x4.add (local.get $sum) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $lo) (local.get $hi))))
              (local.set $lo (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v0) (local.get $v1)))
              (local.set $hi (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v2) (local.get $v3)))
              (local.set $sum (f32x4.add (local.get $sum) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $lo) (local.get $hi))))
              (local.set $sum (f32x4.add (local.get $sum) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $lo) (local.get $hi))))
              (local.set $p (i32.add (local.get $p) (i32.const 16)))
              (br_if $cells4 (i32.lt_u (local.get $p) (local.get $end))))
            (v128.store (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2))) (f32x4.div (local.get $sum) (f32x4.splat (local.get $n))))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $group)))))
    (block $done
      (loop $channel
        (br_if $done (i32.ge_u (local.get $c) (local.get $channels)))
        (local.set $p (i32.add (local.get $in) (i32.mul (local.get $c) (local.get $plane))))
        (local.set $end (i32.add (local.get $p) (local.get $plane)))
        (if (i32.ge_s (local.get $activation) (i32.const 0))
          (then (local.set $b (f32.load (i32.add (local.get $bias) (i32.shl (local.get $c) (i32.const 2)))))))
        (local.set $s (f32.const 0))
        (block $sumDone
          (loop $cell
            (br_if $sumDone (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $v (f32.load (local.get $p)))
            (if (i32.ge_s (local.get $activation) (i32.const 0))
              (then
                (local.set $v (f32.add (local.get $v) (local.get $b)))
                (if (local.get $activation)
                  (then
                    (if (f32.lt (local.get $v) (f32.const 0)) (then (local.set $v (f32.const 0))))
                    (if (i32.and (i32.eq (local.get $activation) (i32.const 2)) (f32.gt (local.get $v) (f32.const 6)))
                      (then (local.set $v (f32.const 6))))))))
            (local.set $s (f32.add (local.get $s) (local.get $v)))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (br $cell)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2))) (f32.div (local.get $s) (local.get $n)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $channel))))

  ;; ---- One-channel Conv2D from its nonzero pixels, NHWC sums ---------------
  ;;
  ;; A first convolution reads one channel, mostly blank on images (MNIST
  ;; digits are ~80% zeros). convPixels scatters each nonzero input pixel,
  ;; in raster order, into every output cell its taps reach; a zero pixel
  ;; (either sign) costs a test, as it is skipped in the reference too.
  ;; Why the order is the reference's: output (oy, ox) reads pixel (oy * sh -
  ;; pt + ky, ox * sw - pl + kx) through tap (ky, kx), one tap per pixel, and
  ;; those pixels' raster order is (ky, kx) ascending (the row grows with ky,
  ;; the column with kx within a row, columns staying inside the row). With
  ;; one input channel a row of the image is a tap, so each output value
  ;; gets its terms in row order. All a cell's channels go at once, a vector
  ;; per four: sums are NHWC with `channels` (a multiple of 4) per cell.

  ;; dst: per tap (ky, kx), `channels` weights then as many masks (all ones
  ;; where the row holds the column). Missing weights are +0 and masked:
  ;; a product x * 0 of an infinite or NaN pixel is NaN, where the reference
  ;; adds nothing; and-ing it with the mask gives +0, which adds nothing.
  (func (export "decodeTaps")
    (param $counts i32) (param $countBytes i32) (param $entries i32) (param $entryBytes i32)
    (param $values i32) (param $perEntry i32) (param $colBits i32) (param $taps i32) (param $channels i32) (param $dst i32)
    (local $r i32) (local $e i32) (local $eEnd i32) (local $packed i32) (local $mask i32) (local $tapAt i32) (local $at i32) (local $tapBytes i32)
    (local.set $mask (i32.sub (i32.shl (i32.const 1) (local.get $colBits)) (i32.const 1)))
    (local.set $tapBytes (i32.shl (local.get $channels) (i32.const 3)))
    (memory.fill (local.get $dst) (i32.const 0) (i32.mul (local.get $taps) (local.get $tapBytes)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $taps)))
        (local.set $eEnd
          (i32.add (local.get $e)
            (if (result i32) (i32.eq (local.get $countBytes) (i32.const 1))
              (then (i32.load8_u (i32.add (local.get $counts) (local.get $r))))
              (else
                (if (result i32) (i32.eq (local.get $countBytes) (i32.const 2))
                  (then (i32.load16_u (i32.add (local.get $counts) (i32.shl (local.get $r) (i32.const 1)))))
                  (else (i32.load (i32.add (local.get $counts) (i32.shl (local.get $r) (i32.const 2))))))))))
        (local.set $tapAt (i32.add (local.get $dst) (i32.mul (local.get $r) (local.get $tapBytes))))
        (block $rowDone
          (loop $entry
            (br_if $rowDone (i32.ge_u (local.get $e) (local.get $eEnd)))
            (local.set $packed
              (if (result i32) (i32.eq (local.get $entryBytes) (i32.const 2))
                (then (i32.load16_u (i32.add (local.get $entries) (i32.shl (local.get $e) (i32.const 1)))))
                (else (i32.load (i32.add (local.get $entries) (i32.shl (local.get $e) (i32.const 2)))))))
            (local.set $at (i32.add (local.get $tapAt) (i32.shl (i32.and (local.get $packed) (local.get $mask)) (i32.const 2))))
            (f32.store (local.get $at)
              (if (result f32) (local.get $perEntry)
                (then (f32.load (i32.add (local.get $values) (i32.shl (local.get $e) (i32.const 2)))))
                (else (f32.load (i32.add (local.get $values) (i32.shl (i32.shr_u (local.get $packed) (local.get $colBits)) (i32.const 2)))))))
            (i32.store (i32.add (local.get $at) (i32.shl (local.get $channels) (i32.const 2))) (i32.const -1))
            (local.set $e (i32.add (local.get $e) (i32.const 1)))
            (br $entry)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; The sums (no bias) of a one-channel Conv2D into NHWC `out` (channels
  ;; per cell, a multiple of 4), from decodeTaps' `taps`, for output rows
  ;; [oy0, oy1) only (a band: out holds its rows, from row oy0). Any strides
  ;; and padding: tap (ky, kx) of pixel (iy, ix) reaches output row oy where
  ;; oy * sh = iy + pt - ky (none when not a multiple), columns alike. A band
  ;; reads only the input rows that reach it, still in raster order.
  (func (export "convPixels")
    (param $taps i32) (param $in i32) (param $height i32) (param $width i32) (param $out i32) (param $oh i32) (param $ow i32)
    (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $pt i32) (param $pl i32) (param $channels i32)
    (param $oy0 i32) (param $oy1 i32)
    (local $iy i32) (local $ix i32) (local $ky i32) (local $kx i32) (local $t i32) (local $u i32) (local $oy i32) (local $ox i32)
    (local $rowAt i32) (local $cellBytes i32) (local $tapBytes i32) (local $maskOff i32) (local $outRow i32) (local $wAt i32) (local $d i32)
    (local $g i32) (local $bits i32) (local $vend i32) (local $xv v128) (local $fast i32) (local $q i32) (local $q1 i32) (local $q2 i32) (local $rowBytes i32)
    (local $bandRows i32) (local $iyEnd i32) (local $ky0 i32) (local $oyTop i32) (local $kx0 i32) (local $oxTop i32) (local $tapRowAt i32)
    (local.set $cellBytes (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $tapBytes (i32.shl (local.get $channels) (i32.const 3)))
    (local.set $maskOff (local.get $cellBytes))
    (local.set $bandRows (i32.sub (local.get $oy1) (local.get $oy0)))
    (memory.fill (local.get $out) (i32.const 0) (i32.mul (i32.mul (local.get $bandRows) (local.get $ow)) (local.get $cellBytes)))
    (local.set $vend (i32.and (local.get $width) (i32.const -4)))
    (local.set $rowBytes (i32.mul (local.get $ow) (local.get $cellBytes)))
    ;; from here on `out` is where output row 0 would be (rows outside the band are never addressed)
    (local.set $out (i32.sub (local.get $out) (i32.mul (local.get $oy0) (local.get $rowBytes))))
    (local.set $fast
      (i32.and
        (i32.and (i32.and (i32.eq (local.get $kh) (i32.const 3)) (i32.eq (local.get $kw) (i32.const 3))) (i32.eq (local.get $channels) (i32.const 8)))
        (i32.and (i32.and (i32.eq (local.get $sh) (i32.const 1)) (i32.eq (local.get $sw) (i32.const 1)))
          (i32.and (i32.ge_s (local.get $bandRows) (i32.const 3)) (i32.ge_s (local.get $ow) (i32.const 3))))))
    ;; input rows iy + pt - ky = oy * sh for some oy in the band and ky < kh
    (local.set $iy (i32.sub (i32.mul (local.get $oy0) (local.get $sh)) (local.get $pt)))
    (if (i32.lt_s (local.get $iy) (i32.const 0)) (then (local.set $iy (i32.const 0))))
    (local.set $iyEnd (i32.add (i32.sub (i32.mul (i32.sub (local.get $oy1) (i32.const 1)) (local.get $sh)) (local.get $pt)) (local.get $kh)))
    (if (i32.gt_s (local.get $iyEnd) (local.get $height)) (then (local.set $iyEnd (local.get $height))))
    (block $rowsDone
      (loop $pixelRow
        (br_if $rowsDone (i32.ge_s (local.get $iy) (local.get $iyEnd)))
        ;; the tap rows of this input row: ky0, ky0 + sh, ..., reaching oyTop, oyTop - 1, ...
        (local.set $ky0 (i32.rem_u (i32.add (local.get $iy) (local.get $pt)) (local.get $sh)))
        (local.set $oyTop (i32.div_u (i32.add (local.get $iy) (local.get $pt)) (local.get $sh)))
        (local.set $rowAt (i32.add (local.get $in) (i32.shl (i32.mul (local.get $iy) (local.get $width)) (i32.const 2))))
        (local.set $ix (i32.const 0))
        (block $pixelsDone
          (loop $pixel
            (br_if $pixelsDone (i32.ge_u (local.get $ix) (local.get $width)))
            ;; four blank pixels (either sign of zero) at once
            (if (i32.and (i32.eqz (i32.and (local.get $ix) (i32.const 3))) (i32.lt_u (local.get $ix) (local.get $vend)))
              (then
                (if (i32.eqz
                      (v128.any_true
                        (v128.and (v128.load (i32.add (local.get $rowAt) (i32.shl (local.get $ix) (i32.const 2))))
                          (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff))))
                  (then
                    (local.set $ix (i32.add (local.get $ix) (i32.const 4)))
                    (br $pixel)))))
            (local.set $bits (i32.load (i32.add (local.get $rowAt) (i32.shl (local.get $ix) (i32.const 2)))))
            (local.set $xv (v128.load32_splat (i32.add (local.get $rowAt) (i32.shl (local.get $ix) (i32.const 2)))))
            ;; 3x3, stride 1, 8 channels, a finite pixel whose nine taps all reach the map (most
            ;; of a digit): no masks (x * 0 is a zero, adding nothing), tap (ky, kx) at cell (iy +
            ;; pt - ky, ix + pl - kx), q the cell of tap (2, 2) and q1, q2 one and two rows below
            (if (i32.and
                  (i32.and (local.get $fast) (i32.ne (i32.and (local.get $bits) (i32.const 0x7f800000)) (i32.const 0x7f800000)))
                  (i32.and
                    (i32.lt_u (i32.sub (i32.add (local.get $iy) (local.get $pt)) (i32.add (local.get $oy0) (i32.const 2)))
                      (i32.sub (local.get $bandRows) (i32.const 2)))
                    (i32.lt_u (i32.sub (i32.add (local.get $ix) (local.get $pl)) (i32.const 2)) (i32.sub (local.get $ow) (i32.const 2)))))
              (then
                (if (i32.and (local.get $bits) (i32.const 0x7fffffff))
                  (then
                    (local.set $q
                      (i32.add (local.get $out)
                        (i32.shl
                          (i32.add (i32.mul (i32.sub (i32.add (local.get $iy) (local.get $pt)) (i32.const 2)) (local.get $ow))
                            (i32.sub (i32.add (local.get $ix) (local.get $pl)) (i32.const 2)))
                          (i32.const 5))))
                    (local.set $q1 (i32.add (local.get $q) (local.get $rowBytes)))
                    (local.set $q2 (i32.add (local.get $q1) (local.get $rowBytes)))
                    (v128.store offset=64 (local.get $q2)
                      (f32x4.add (v128.load offset=64 (local.get $q2)) (f32x4.mul (local.get $xv) (v128.load offset=0 (local.get $taps)))))
                    (v128.store offset=80 (local.get $q2)
                      (f32x4.add (v128.load offset=80 (local.get $q2)) (f32x4.mul (local.get $xv) (v128.load offset=16 (local.get $taps)))))
                    (v128.store offset=32 (local.get $q2)
                      (f32x4.add (v128.load offset=32 (local.get $q2)) (f32x4.mul (local.get $xv) (v128.load offset=64 (local.get $taps)))))
                    (v128.store offset=48 (local.get $q2)
                      (f32x4.add (v128.load offset=48 (local.get $q2)) (f32x4.mul (local.get $xv) (v128.load offset=80 (local.get $taps)))))
                    (v128.store offset=0 (local.get $q2)
                      (f32x4.add (v128.load offset=0 (local.get $q2)) (f32x4.mul (local.get $xv) (v128.load offset=128 (local.get $taps)))))
                    (v128.store offset=16 (local.get $q2)
                      (f32x4.add (v128.load offset=16 (local.get $q2)) (f32x4.mul (local.get $xv) (v128.load offset=144 (local.get $taps)))))
                    (v128.store offset=64 (local.get $q1)
                      (f32x4.add (v128.load offset=64 (local.get $q1)) (f32x4.mul (local.get $xv) (v128.load offset=192 (local.get $taps)))))
                    (v128.store offset=80 (local.get $q1)
                      (f32x4.add (v128.load offset=80 (local.get $q1)) (f32x4.mul (local.get $xv) (v128.load offset=208 (local.get $taps)))))
                    (v128.store offset=32 (local.get $q1)
                      (f32x4.add (v128.load offset=32 (local.get $q1)) (f32x4.mul (local.get $xv) (v128.load offset=256 (local.get $taps)))))
                    (v128.store offset=48 (local.get $q1)
                      (f32x4.add (v128.load offset=48 (local.get $q1)) (f32x4.mul (local.get $xv) (v128.load offset=272 (local.get $taps)))))
                    (v128.store offset=0 (local.get $q1)
                      (f32x4.add (v128.load offset=0 (local.get $q1)) (f32x4.mul (local.get $xv) (v128.load offset=320 (local.get $taps)))))
                    (v128.store offset=16 (local.get $q1)
                      (f32x4.add (v128.load offset=16 (local.get $q1)) (f32x4.mul (local.get $xv) (v128.load offset=336 (local.get $taps)))))
                    (v128.store offset=64 (local.get $q)
                      (f32x4.add (v128.load offset=64 (local.get $q)) (f32x4.mul (local.get $xv) (v128.load offset=384 (local.get $taps)))))
                    (v128.store offset=80 (local.get $q)
                      (f32x4.add (v128.load offset=80 (local.get $q)) (f32x4.mul (local.get $xv) (v128.load offset=400 (local.get $taps)))))
                    (v128.store offset=32 (local.get $q)
                      (f32x4.add (v128.load offset=32 (local.get $q)) (f32x4.mul (local.get $xv) (v128.load offset=448 (local.get $taps)))))
                    (v128.store offset=48 (local.get $q)
                      (f32x4.add (v128.load offset=48 (local.get $q)) (f32x4.mul (local.get $xv) (v128.load offset=464 (local.get $taps)))))
                    (v128.store offset=0 (local.get $q)
                      (f32x4.add (v128.load offset=0 (local.get $q)) (f32x4.mul (local.get $xv) (v128.load offset=512 (local.get $taps)))))
                    (v128.store offset=16 (local.get $q)
                      (f32x4.add (v128.load offset=16 (local.get $q)) (f32x4.mul (local.get $xv) (v128.load offset=528 (local.get $taps)))))))
                (local.set $ix (i32.add (local.get $ix) (i32.const 1)))
                (br $pixel)))
            ;; any other finite nonzero pixel: no masks either, only the taps its strides let
            ;; reach a cell: rows ky0 + j sh reach oyTop - j, columns kx0 + i sw reach oxTop - i
            (if (i32.and (i32.ne (i32.and (local.get $bits) (i32.const 0x7f800000)) (i32.const 0x7f800000))
                  (i32.ne (i32.and (local.get $bits) (i32.const 0x7fffffff)) (i32.const 0)))
              (then
                ;; (a division per pixel costs more than its taps: strides 1 and 2 shift)
                (local.set $u (i32.add (local.get $ix) (local.get $pl)))
                (if (i32.eq (local.get $sw) (i32.const 1))
                  (then (local.set $kx0 (i32.const 0)) (local.set $oxTop (local.get $u)))
                  (else
                    (if (i32.eq (local.get $sw) (i32.const 2))
                      (then (local.set $kx0 (i32.and (local.get $u) (i32.const 1))) (local.set $oxTop (i32.shr_u (local.get $u) (i32.const 1))))
                      (else (local.set $kx0 (i32.rem_u (local.get $u) (local.get $sw))) (local.set $oxTop (i32.div_u (local.get $u) (local.get $sw)))))))
                (local.set $ky (local.get $ky0))
                (local.set $oy (local.get $oyTop))
                (block $rowsOut
                  (loop $tapRowF
                    (br_if $rowsOut (i32.ge_u (local.get $ky) (local.get $kh)))
                    ;; oy falls as ky grows: once below the band no later tap row reaches it
                    (br_if $rowsOut (i32.lt_s (local.get $oy) (local.get $oy0)))
                    (if (i32.lt_s (local.get $oy) (local.get $oy1))
                      (then
                        (local.set $outRow (i32.add (local.get $out) (i32.mul (local.get $oy) (local.get $rowBytes))))
                        (local.set $tapRowAt (i32.add (local.get $taps) (i32.mul (i32.mul (local.get $ky) (local.get $kw)) (local.get $tapBytes))))
                        (local.set $kx (local.get $kx0))
                        (local.set $ox (local.get $oxTop))
                        (block $colsOut
                          (loop $tapColF
                            (br_if $colsOut (i32.ge_u (local.get $kx) (local.get $kw)))
                            (br_if $colsOut (i32.lt_s (local.get $ox) (i32.const 0)))
                            (if (i32.lt_s (local.get $ox) (local.get $ow))
                              (then
                                (local.set $d (i32.add (local.get $outRow) (i32.mul (local.get $ox) (local.get $cellBytes))))
                                (local.set $wAt (i32.add (local.get $tapRowAt) (i32.mul (local.get $kx) (local.get $tapBytes))))
                                (local.set $g (i32.const 0))
                                ;; four vectors a step when the channels are a multiple of 16, else one
                                (if (i32.and (local.get $cellBytes) (i32.const 63))
                                  (then
                                    (loop $groupF
                                      (v128.store (local.get $d)
                                        (f32x4.add (v128.load (local.get $d)) (f32x4.mul (local.get $xv) (v128.load (local.get $wAt)))))
                                      (local.set $d (i32.add (local.get $d) (i32.const 16)))
                                      (local.set $wAt (i32.add (local.get $wAt) (i32.const 16)))
                                      (local.set $g (i32.add (local.get $g) (i32.const 16)))
                                      (br_if $groupF (i32.lt_u (local.get $g) (local.get $cellBytes)))))
                                  (else
                                    (loop $groupF4
                                      (v128.store (local.get $d)
                                        (f32x4.add (v128.load (local.get $d)) (f32x4.mul (local.get $xv) (v128.load (local.get $wAt)))))
                                      (v128.store offset=16 (local.get $d)
                                        (f32x4.add (v128.load offset=16 (local.get $d)) (f32x4.mul (local.get $xv) (v128.load offset=16 (local.get $wAt)))))
                                      (v128.store offset=32 (local.get $d)
                                        (f32x4.add (v128.load offset=32 (local.get $d)) (f32x4.mul (local.get $xv) (v128.load offset=32 (local.get $wAt)))))
                                      (v128.store offset=48 (local.get $d)
                                        (f32x4.add (v128.load offset=48 (local.get $d)) (f32x4.mul (local.get $xv) (v128.load offset=48 (local.get $wAt)))))
                                      (local.set $d (i32.add (local.get $d) (i32.const 64)))
                                      (local.set $wAt (i32.add (local.get $wAt) (i32.const 64)))
                                      (local.set $g (i32.add (local.get $g) (i32.const 64)))
                                      (br_if $groupF4 (i32.lt_u (local.get $g) (local.get $cellBytes))))))))
                            (local.set $kx (i32.add (local.get $kx) (local.get $sw)))
                            (local.set $ox (i32.sub (local.get $ox) (i32.const 1)))
                            (br $tapColF)))))
                    (local.set $ky (i32.add (local.get $ky) (local.get $sh)))
                    (local.set $oy (i32.sub (local.get $oy) (i32.const 1)))
                    (br $tapRowF)))
                (local.set $ix (i32.add (local.get $ix) (i32.const 1)))
                (br $pixel)))
            ;; an infinite or NaN pixel: every tap, masked
            (if (i32.and (local.get $bits) (i32.const 0x7fffffff))
              (then
                (local.set $ky (i32.const 0))
                (loop $tapRow
                  (local.set $t (i32.sub (i32.add (local.get $iy) (local.get $pt)) (local.get $ky)))
                  (local.set $oy (local.get $t))
                  (if (i32.ne (local.get $sh) (i32.const 1))
                    (then
                      (local.set $oy
                        (select (i32.div_s (local.get $t) (local.get $sh)) (i32.const -1) (i32.eqz (i32.rem_s (local.get $t) (local.get $sh)))))))
                  (if (i32.and (i32.ge_s (local.get $t) (i32.const 0)) (i32.lt_u (i32.sub (local.get $oy) (local.get $oy0)) (local.get $bandRows)))
                    (then
                      (local.set $outRow (i32.add (local.get $out) (i32.mul (local.get $oy) (local.get $rowBytes))))
                      (local.set $kx (i32.const 0))
                      (loop $tapColumn
                        (local.set $u (i32.sub (i32.add (local.get $ix) (local.get $pl)) (local.get $kx)))
                        (local.set $ox (local.get $u))
                        (if (i32.ne (local.get $sw) (i32.const 1))
                          (then
                            (local.set $ox
                              (select (i32.div_s (local.get $u) (local.get $sw)) (i32.const -1) (i32.eqz (i32.rem_s (local.get $u) (local.get $sw)))))))
                        (if (i32.and (i32.ge_s (local.get $u) (i32.const 0)) (i32.lt_u (local.get $ox) (local.get $ow)))
                          (then
                            (local.set $d (i32.add (local.get $outRow) (i32.mul (local.get $ox) (local.get $cellBytes))))
                            (local.set $wAt
                              (i32.add (local.get $taps) (i32.mul (i32.add (i32.mul (local.get $ky) (local.get $kw)) (local.get $kx)) (local.get $tapBytes))))
                            (local.set $g (i32.const 0))
                            (loop $group
                              (v128.store (local.get $d)
                                (f32x4.add (v128.load (local.get $d))
                                  (v128.and (f32x4.mul (local.get $xv) (v128.load (local.get $wAt)))
                                    (v128.load (i32.add (local.get $wAt) (local.get $maskOff))))))
                              (local.set $d (i32.add (local.get $d) (i32.const 16)))
                              (local.set $wAt (i32.add (local.get $wAt) (i32.const 16)))
                              (local.set $g (i32.add (local.get $g) (i32.const 16)))
                              (br_if $group (i32.lt_u (local.get $g) (local.get $cellBytes))))))
                        (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                        (br_if $tapColumn (i32.lt_u (local.get $kx) (local.get $kw))))))
                  (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
                  (br_if $tapRow (i32.lt_u (local.get $ky) (local.get $kh))))))
            (local.set $ix (i32.add (local.get $ix) (i32.const 1)))
            (br $pixel)))
        (local.set $iy (i32.add (local.get $iy) (i32.const 1)))
        (br $pixelRow))))

;; convPixels' sums (same parameters, same band) another way, for layers
  ;; without its unrolled case: per input row, the span from its first to its
  ;; last nonzero pixel, every pixel of it scattered, zeros too (their
  ;; products add nothing, the header's argument): no branch per pixel on
  ;; whether it is zero, which costs more than the zeros' products on a
  ;; digit. Per row, tap rows ky (those its stride lets reach the band), then
  ;; tap columns kx ascending, then the output columns whose pixel lies in the
  ;; span: an output value gets its terms in (ky, kx) order, rows ascending,
  ;; as convPixels gives them. A span holding an infinite or NaN pixel takes
  ;; every product masked (decodeTaps' masks).
  (func (export "convSpans")
    (param $taps i32) (param $in i32) (param $height i32) (param $width i32) (param $out i32) (param $oh i32) (param $ow i32)
    (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $pt i32) (param $pl i32) (param $channels i32)
    (param $oy0 i32) (param $oy1 i32)
    (local $iy i32) (local $iyEnd i32) (local $rowAt i32) (local $c0 i32) (local $c1 i32) (local $i i32) (local $masked i32)
    (local $ky i32) (local $kx i32) (local $oy i32) (local $ox i32) (local $oxEnd i32) (local $a i32) (local $b i32)
    (local $cellBytes i32) (local $tapBytes i32) (local $rowBytes i32) (local $outRow i32) (local $tapAt i32)
    (local $p i32) (local $pStep i32) (local $d i32) (local $wAt i32) (local $g i32) (local $xv v128)
    (local.set $cellBytes (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $tapBytes (i32.shl (local.get $channels) (i32.const 3)))
    (local.set $rowBytes (i32.mul (local.get $ow) (local.get $cellBytes)))
    (local.set $pStep (i32.shl (local.get $sw) (i32.const 2)))
    (memory.fill (local.get $out) (i32.const 0) (i32.mul (i32.sub (local.get $oy1) (local.get $oy0)) (local.get $rowBytes)))
    ;; from here on `out` is where output row 0 would be (rows outside the band are never addressed)
    (local.set $out (i32.sub (local.get $out) (i32.mul (local.get $oy0) (local.get $rowBytes))))
    (local.set $iy (i32.sub (i32.mul (local.get $oy0) (local.get $sh)) (local.get $pt)))
    (if (i32.lt_s (local.get $iy) (i32.const 0)) (then (local.set $iy (i32.const 0))))
    (local.set $iyEnd (i32.add (i32.sub (i32.mul (i32.sub (local.get $oy1) (i32.const 1)) (local.get $sh)) (local.get $pt)) (local.get $kh)))
    (if (i32.gt_s (local.get $iyEnd) (local.get $height)) (then (local.set $iyEnd (local.get $height))))
    (block $rowsDone
      (loop $pixelRow
        (br_if $rowsDone (i32.ge_s (local.get $iy) (local.get $iyEnd)))
        (local.set $rowAt (i32.add (local.get $in) (i32.shl (i32.mul (local.get $iy) (local.get $width)) (i32.const 2))))
        ;; the span [c0, c1): four zeros (either sign) at a time, then one; back from the end one at a time
        (local.set $c0 (i32.const 0))
        (block $found
          (loop $four
            (br_if $found (i32.gt_u (i32.add (local.get $c0) (i32.const 4)) (local.get $width)))
            (br_if $found
              (v128.any_true
                (v128.and (v128.load (i32.add (local.get $rowAt) (i32.shl (local.get $c0) (i32.const 2))))
                  (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff))))
            (local.set $c0 (i32.add (local.get $c0) (i32.const 4)))
            (br $four)))
        (block $found
          (loop $one
            (br_if $found (i32.ge_u (local.get $c0) (local.get $width)))
            (br_if $found (i32.and (i32.load (i32.add (local.get $rowAt) (i32.shl (local.get $c0) (i32.const 2)))) (i32.const 0x7fffffff)))
            (local.set $c0 (i32.add (local.get $c0) (i32.const 1)))
            (br $one)))
        (if (i32.lt_u (local.get $c0) (local.get $width))
          (then
            (local.set $c1 (local.get $width))
            (block $found
              (loop $back
                (br_if $found
                  (i32.and (i32.load (i32.add (local.get $rowAt) (i32.shl (i32.sub (local.get $c1) (i32.const 1)) (i32.const 2)))) (i32.const 0x7fffffff)))
                (local.set $c1 (i32.sub (local.get $c1) (i32.const 1)))
                (br $back)))
            (local.set $masked (i32.const 0))
            (local.set $i (local.get $c0))
            (loop $finite
              (if (i32.eq (i32.and (i32.load (i32.add (local.get $rowAt) (i32.shl (local.get $i) (i32.const 2)))) (i32.const 0x7f800000))
                    (i32.const 0x7f800000))
                (then (local.set $masked (i32.const 1))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $finite (i32.lt_u (local.get $i) (local.get $c1))))
            ;; tap rows ky0, ky0 + sh, ... reach output rows oyTop, oyTop - 1, ...
            (local.set $ky (i32.rem_u (i32.add (local.get $iy) (local.get $pt)) (local.get $sh)))
            (local.set $oy (i32.div_u (i32.add (local.get $iy) (local.get $pt)) (local.get $sh)))
            (block $tapRowsDone
              (loop $tapRow
                (br_if $tapRowsDone (i32.ge_u (local.get $ky) (local.get $kh)))
                (br_if $tapRowsDone (i32.lt_s (local.get $oy) (local.get $oy0)))
                (if (i32.lt_s (local.get $oy) (local.get $oy1))
                  (then
                    (local.set $outRow (i32.add (local.get $out) (i32.mul (local.get $oy) (local.get $rowBytes))))
                    (local.set $kx (i32.const 0))
                    (loop $tapColumn
                      ;; output columns ox with pixel ox * sw - pl + kx in [c0, c1): from ceil(a / sw) to floor(b / sw)
                      (local.set $a (i32.sub (i32.add (local.get $c0) (local.get $pl)) (local.get $kx)))
                      (local.set $b (i32.sub (i32.sub (i32.add (local.get $c1) (local.get $pl)) (local.get $kx)) (i32.const 1)))
                      (if (i32.ge_s (local.get $b) (i32.const 0))
                        (then
                          (if (i32.lt_s (local.get $a) (i32.const 0)) (then (local.set $a (i32.const 0))))
                          ;; (a division per tap column costs more than a digit row's cells: strides 1 and 2 shift)
                          (local.set $a (i32.add (local.get $a) (i32.sub (local.get $sw) (i32.const 1))))
                          (if (i32.eq (local.get $sw) (i32.const 1))
                            (then (local.set $ox (local.get $a)) (local.set $oxEnd (local.get $b)))
                            (else
                              (if (i32.eq (local.get $sw) (i32.const 2))
                                (then
                                  (local.set $ox (i32.shr_u (local.get $a) (i32.const 1)))
                                  (local.set $oxEnd (i32.shr_u (local.get $b) (i32.const 1))))
                                (else
                                  (local.set $ox (i32.div_u (local.get $a) (local.get $sw)))
                                  (local.set $oxEnd (i32.div_u (local.get $b) (local.get $sw)))))))
                          (local.set $oxEnd (i32.add (local.get $oxEnd) (i32.const 1)))
                          (if (i32.gt_s (local.get $oxEnd) (local.get $ow)) (then (local.set $oxEnd (local.get $ow))))
                          (local.set $tapAt
                            (i32.add (local.get $taps) (i32.mul (i32.add (i32.mul (local.get $ky) (local.get $kw)) (local.get $kx)) (local.get $tapBytes))))
                          (local.set $p
                            (i32.add (local.get $rowAt)
                              (i32.shl (i32.add (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $pl)) (local.get $kx)) (i32.const 2))))
                          (local.set $d (i32.add (local.get $outRow) (i32.mul (local.get $ox) (local.get $cellBytes))))
                          (block $cellsDone
                            (loop $cell
                              (br_if $cellsDone (i32.ge_s (local.get $ox) (local.get $oxEnd)))
                              (local.set $xv (v128.load32_splat (local.get $p)))
                              (local.set $wAt (local.get $tapAt))
                              (local.set $g (i32.const 0))
                              (if (local.get $masked)
                                (then
                                  (loop $groupM
                                    (v128.store (local.get $d)
                                      (f32x4.add (v128.load (local.get $d))
                                        (v128.and (f32x4.mul (local.get $xv) (v128.load (local.get $wAt)))
                                          (v128.load (i32.add (local.get $wAt) (local.get $cellBytes))))))
                                    (local.set $d (i32.add (local.get $d) (i32.const 16)))
                                    (local.set $wAt (i32.add (local.get $wAt) (i32.const 16)))
                                    (local.set $g (i32.add (local.get $g) (i32.const 16)))
                                    (br_if $groupM (i32.lt_u (local.get $g) (local.get $cellBytes)))))
                                (else
                                  (if (i32.and (local.get $cellBytes) (i32.const 63))
                                    (then
                                      (loop $group
                                        (v128.store (local.get $d)
                                          (f32x4.add (v128.load (local.get $d)) (f32x4.mul (local.get $xv) (v128.load (local.get $wAt)))))
                                        (local.set $d (i32.add (local.get $d) (i32.const 16)))
                                        (local.set $wAt (i32.add (local.get $wAt) (i32.const 16)))
                                        (local.set $g (i32.add (local.get $g) (i32.const 16)))
                                        (br_if $group (i32.lt_u (local.get $g) (local.get $cellBytes)))))
                                    (else
                                      (loop $group4
                                        (v128.store (local.get $d)
                                          (f32x4.add (v128.load (local.get $d)) (f32x4.mul (local.get $xv) (v128.load (local.get $wAt)))))
                                        (v128.store offset=16 (local.get $d)
                                          (f32x4.add (v128.load offset=16 (local.get $d)) (f32x4.mul (local.get $xv) (v128.load offset=16 (local.get $wAt)))))
                                        (v128.store offset=32 (local.get $d)
                                          (f32x4.add (v128.load offset=32 (local.get $d)) (f32x4.mul (local.get $xv) (v128.load offset=32 (local.get $wAt)))))
                                        (v128.store offset=48 (local.get $d)
                                          (f32x4.add (v128.load offset=48 (local.get $d)) (f32x4.mul (local.get $xv) (v128.load offset=48 (local.get $wAt)))))
                                        (local.set $d (i32.add (local.get $d) (i32.const 64)))
                                        (local.set $wAt (i32.add (local.get $wAt) (i32.const 64)))
                                        (local.set $g (i32.add (local.get $g) (i32.const 64)))
                                        (br_if $group4 (i32.lt_u (local.get $g) (local.get $cellBytes))))))))
                              (local.set $p (i32.add (local.get $p) (local.get $pStep)))
                              (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
                              (br $cell)))))
                      (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                      (br_if $tapColumn (i32.lt_u (local.get $kx) (local.get $kw))))))
                (local.set $ky (i32.add (local.get $ky) (local.get $sh)))
                (local.set $oy (i32.sub (local.get $oy) (i32.const 1)))
                (br $tapRow)))))
        (local.set $iy (i32.add (local.get $iy) (i32.const 1)))
        (br $pixelRow))))

  ;; A band of convPixels' NHWC sums, `cells` cells of `channels` (a multiple
  ;; of 4), finished into a planar map: out[c * planeBytes + 4 cell] =
  ;; act(fl32(sum + bias[c])) (activation 0 linear, 1 relu, 2 relu6), the bits
  ;; $finish gives. Four cells by four channels at a time, transposed in
  ;; registers so each channel's four cells go out as one vector; the last
  ;; cells (fewer than four) one lane at a time.
  (func (export "finishPlanar")
    (param $sums i32) (param $cells i32) (param $channels i32) (param $bias i32) (param $activation i32) (param $out i32) (param $planeBytes i32)
    (local $cell i32) (local $g i32) (local $cellBytes i32) (local $at i32) (local $dst i32) (local $bv v128)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $cellBytes (i32.shl (local.get $channels) (i32.const 2)))
    (block $quadsDone
      (loop $quad
        (br_if $quadsDone (i32.gt_u (i32.add (local.get $cell) (i32.const 4)) (local.get $cells)))
        (local.set $g (i32.const 0))
        (loop $group
          (local.set $bv (v128.load (i32.add (local.get $bias) (local.get $g))))
          (local.set $at (i32.add (i32.add (local.get $sums) (local.get $g)) (i32.mul (local.get $cell) (local.get $cellBytes))))
          (local.set $a (f32x4.add (v128.load (local.get $at)) (local.get $bv)))
          (if (local.get $activation)
            (then
              (local.set $a (v128.andnot (local.get $a) (f32x4.lt (local.get $a) (v128.const f32x4 0 0 0 0))))
              (if (i32.eq (local.get $activation) (i32.const 2))
                (then (local.set $a (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $a) (f32x4.gt (local.get $a) (v128.const f32x4 6 6 6 6))))))))
          (local.set $at (i32.add (local.get $at) (local.get $cellBytes)))
          (local.set $b (f32x4.add (v128.load (local.get $at)) (local.get $bv)))
          (if (local.get $activation)
            (then
              (local.set $b (v128.andnot (local.get $b) (f32x4.lt (local.get $b) (v128.const f32x4 0 0 0 0))))
              (if (i32.eq (local.get $activation) (i32.const 2))
                (then (local.set $b (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $b) (f32x4.gt (local.get $b) (v128.const f32x4 6 6 6 6))))))))
          (local.set $at (i32.add (local.get $at) (local.get $cellBytes)))
          (local.set $c (f32x4.add (v128.load (local.get $at)) (local.get $bv)))
          (if (local.get $activation)
            (then
              (local.set $c (v128.andnot (local.get $c) (f32x4.lt (local.get $c) (v128.const f32x4 0 0 0 0))))
              (if (i32.eq (local.get $activation) (i32.const 2))
                (then (local.set $c (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $c) (f32x4.gt (local.get $c) (v128.const f32x4 6 6 6 6))))))))
          (local.set $at (i32.add (local.get $at) (local.get $cellBytes)))
          (local.set $d (f32x4.add (v128.load (local.get $at)) (local.get $bv)))
          (if (local.get $activation)
            (then
              (local.set $d (v128.andnot (local.get $d) (f32x4.lt (local.get $d) (v128.const f32x4 0 0 0 0))))
              (if (i32.eq (local.get $activation) (i32.const 2))
                (then (local.set $d (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $d) (f32x4.gt (local.get $d) (v128.const f32x4 6 6 6 6))))))))
          ;; lanes are channels; interleave to lanes of cells
          (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a) (local.get $b)))
          (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a) (local.get $b)))
          (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $c) (local.get $d)))
          (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $c) (local.get $d)))
          (local.set $dst
            (i32.add (i32.add (local.get $out) (i32.shl (local.get $cell) (i32.const 2)))
              (i32.mul (i32.shr_u (local.get $g) (i32.const 2)) (local.get $planeBytes))))
          (v128.store (local.get $dst) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
          (local.set $dst (i32.add (local.get $dst) (local.get $planeBytes)))
          (v128.store (local.get $dst) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
          (local.set $dst (i32.add (local.get $dst) (local.get $planeBytes)))
          (v128.store (local.get $dst) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
          (local.set $dst (i32.add (local.get $dst) (local.get $planeBytes)))
          (v128.store (local.get $dst) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
          (local.set $g (i32.add (local.get $g) (i32.const 16)))
          (br_if $group (i32.lt_u (local.get $g) (local.get $cellBytes))))
        (local.set $cell (i32.add (local.get $cell) (i32.const 4)))
        (br $quad)))
    (block $done
      (loop $one
        (br_if $done (i32.ge_u (local.get $cell) (local.get $cells)))
        (local.set $g (i32.const 0))
        (loop $group
          (local.set $a (f32x4.add (v128.load (i32.add (i32.add (local.get $sums) (local.get $g)) (i32.mul (local.get $cell) (local.get $cellBytes))))
            (v128.load (i32.add (local.get $bias) (local.get $g)))))
          (if (local.get $activation)
            (then
              (local.set $a (v128.andnot (local.get $a) (f32x4.lt (local.get $a) (v128.const f32x4 0 0 0 0))))
              (if (i32.eq (local.get $activation) (i32.const 2))
                (then (local.set $a (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $a) (f32x4.gt (local.get $a) (v128.const f32x4 6 6 6 6))))))))
          (local.set $dst
            (i32.add (i32.add (local.get $out) (i32.shl (local.get $cell) (i32.const 2)))
              (i32.mul (i32.shr_u (local.get $g) (i32.const 2)) (local.get $planeBytes))))
          (f32.store (local.get $dst) (f32x4.extract_lane 0 (local.get $a)))
          (local.set $dst (i32.add (local.get $dst) (local.get $planeBytes)))
          (f32.store (local.get $dst) (f32x4.extract_lane 1 (local.get $a)))
          (local.set $dst (i32.add (local.get $dst) (local.get $planeBytes)))
          (f32.store (local.get $dst) (f32x4.extract_lane 2 (local.get $a)))
          (local.set $dst (i32.add (local.get $dst) (local.get $planeBytes)))
          (f32.store (local.get $dst) (f32x4.extract_lane 3 (local.get $a)))
          (local.set $g (i32.add (local.get $g) (i32.const 16)))
          (br_if $group (i32.lt_u (local.get $g) (local.get $cellBytes))))
        (local.set $cell (i32.add (local.get $cell) (i32.const 1)))
        (br $one))))

  ;; Max (kind 0) or average (kind 1) pooling of convPixels' NHWC sums,
  ;; every window inside the map: each value read becomes act(fl32(v +
  ;; bias[c])) first (activation 0 linear, 1 relu, 2 relu6), the bits the
  ;; convolution's $finish gives, then the window's cells are taken in
  ;; row-major order as conv.ts's pools do. Output planar or NHWC (the
  ;; sums' channels, a multiple of 4, as the map's).
  (func (export "poolNhwc")
    (param $kind i32) (param $in i32) (param $width i32) (param $channels i32) (param $out i32) (param $oh i32) (param $ow i32)
    (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $outPlanar i32) (param $bias i32) (param $activation i32)
    (local $oy i32) (local $ox i32) (local $g i32) (local $y i32) (local $x i32) (local $cellBytes i32) (local $rowAt i32) (local $at i32)
    (local $dst i32) (local $planeBytes i32) (local $pairs i32) (local $pitch i32) (local $m v128) (local $v v128) (local $bv v128) (local $div v128)
    (local.set $cellBytes (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $planeBytes (i32.shl (i32.mul (local.get $oh) (local.get $ow)) (i32.const 2)))
    (local.set $div (f32x4.splat (f32.convert_i32_s (i32.mul (local.get $kh) (local.get $kw)))))
    (local.set $pairs (i32.and (i32.eqz (local.get $kind)) (i32.and (i32.eq (local.get $kh) (i32.const 2)) (i32.eq (local.get $kw) (i32.const 2)))))
    (local.set $pitch (i32.mul (local.get $width) (local.get $cellBytes)))
    (if (i32.or (i32.eqz (local.get $oh)) (i32.eqz (local.get $ow))) (then (return)))
    (block $rowsDone
      (loop $outRow
        (br_if $rowsDone (i32.ge_u (local.get $oy) (local.get $oh)))
        (local.set $ox (i32.const 0))
        (loop $outCell
          (local.set $g (i32.const 0))
          (loop $group
            (local.set $bv (v128.load (i32.add (local.get $bias) (local.get $g))))
            (local.set $m
              (if (result v128) (local.get $kind) (then (v128.const f32x4 0 0 0 0)) (else (v128.const f32x4 -inf -inf -inf -inf))))
            (local.set $rowAt
              (i32.add (i32.add (local.get $in) (local.get $g))
                (i32.mul (i32.add (i32.mul (i32.mul (local.get $oy) (local.get $sh)) (local.get $width)) (i32.mul (local.get $ox) (local.get $sw)))
                  (local.get $cellBytes))))
            (if (local.get $pairs)
              (then
                ;; a 2x2 max window: its four cells in row-major order
                (local.set $m (v128.const f32x4 -inf -inf -inf -inf))
                (local.set $v (f32x4.add (v128.load (local.get $rowAt)) (local.get $bv)))
                (if (local.get $activation)
                  (then
                    (local.set $v (v128.andnot (local.get $v) (f32x4.lt (local.get $v) (v128.const f32x4 0 0 0 0))))
                    (if (i32.eq (local.get $activation) (i32.const 2))
                      (then (local.set $v (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $v) (f32x4.gt (local.get $v) (v128.const f32x4 6 6 6 6))))))))
                (local.set $m (v128.bitselect (local.get $v) (local.get $m) (f32x4.gt (local.get $v) (local.get $m))))
                (local.set $v (f32x4.add (v128.load (i32.add (local.get $rowAt) (local.get $cellBytes))) (local.get $bv)))
                (if (local.get $activation)
                  (then
                    (local.set $v (v128.andnot (local.get $v) (f32x4.lt (local.get $v) (v128.const f32x4 0 0 0 0))))
                    (if (i32.eq (local.get $activation) (i32.const 2))
                      (then (local.set $v (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $v) (f32x4.gt (local.get $v) (v128.const f32x4 6 6 6 6))))))))
                (local.set $m (v128.bitselect (local.get $v) (local.get $m) (f32x4.gt (local.get $v) (local.get $m))))
                (local.set $at (i32.add (local.get $rowAt) (local.get $pitch)))
                (local.set $v (f32x4.add (v128.load (local.get $at)) (local.get $bv)))
                (if (local.get $activation)
                  (then
                    (local.set $v (v128.andnot (local.get $v) (f32x4.lt (local.get $v) (v128.const f32x4 0 0 0 0))))
                    (if (i32.eq (local.get $activation) (i32.const 2))
                      (then (local.set $v (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $v) (f32x4.gt (local.get $v) (v128.const f32x4 6 6 6 6))))))))
                (local.set $m (v128.bitselect (local.get $v) (local.get $m) (f32x4.gt (local.get $v) (local.get $m))))
                (local.set $v (f32x4.add (v128.load (i32.add (local.get $at) (local.get $cellBytes))) (local.get $bv)))
                (if (local.get $activation)
                  (then
                    (local.set $v (v128.andnot (local.get $v) (f32x4.lt (local.get $v) (v128.const f32x4 0 0 0 0))))
                    (if (i32.eq (local.get $activation) (i32.const 2))
                      (then (local.set $v (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $v) (f32x4.gt (local.get $v) (v128.const f32x4 6 6 6 6))))))))
                (local.set $m (v128.bitselect (local.get $v) (local.get $m) (f32x4.gt (local.get $v) (local.get $m)))))
              (else
            (local.set $y (i32.const 0))
            (loop $windowRow
              (local.set $at (local.get $rowAt))
              (local.set $x (i32.const 0))
              (loop $windowCol
                (local.set $v (f32x4.add (v128.load (local.get $at)) (local.get $bv)))
                (if (local.get $activation)
                  (then
                    (local.set $v (v128.andnot (local.get $v) (f32x4.lt (local.get $v) (v128.const f32x4 0 0 0 0))))
                    (if (i32.eq (local.get $activation) (i32.const 2))
                      (then
                        (local.set $v
                          (v128.bitselect (v128.const f32x4 6 6 6 6) (local.get $v) (f32x4.gt (local.get $v) (v128.const f32x4 6 6 6 6))))))))
                (local.set $m
                  (if (result v128) (local.get $kind)
                    (then (f32x4.add (local.get $m) (local.get $v)))
                    (else (v128.bitselect (local.get $v) (local.get $m) (f32x4.gt (local.get $v) (local.get $m))))))
                (local.set $at (i32.add (local.get $at) (local.get $cellBytes)))
                (local.set $x (i32.add (local.get $x) (i32.const 1)))
                (br_if $windowCol (i32.lt_u (local.get $x) (local.get $kw))))
              (local.set $rowAt (i32.add (local.get $rowAt) (i32.mul (local.get $width) (local.get $cellBytes))))
              (local.set $y (i32.add (local.get $y) (i32.const 1)))
              (br_if $windowRow (i32.lt_u (local.get $y) (local.get $kh))))))
            (if (local.get $kind) (then (local.set $m (f32x4.div (local.get $m) (local.get $div)))))
            (if (local.get $outPlanar)
              (then
                ;; channel c of cell (oy, ox) at (c * oh + oy) * ow + ox
                (local.set $dst
                  (i32.add (local.get $out)
                    (i32.add (i32.mul (i32.shr_u (local.get $g) (i32.const 2)) (local.get $planeBytes))
                      (i32.shl (i32.add (i32.mul (local.get $oy) (local.get $ow)) (local.get $ox)) (i32.const 2)))))
                (f32.store (local.get $dst) (f32x4.extract_lane 0 (local.get $m)))
                (local.set $dst (i32.add (local.get $dst) (local.get $planeBytes)))
                (f32.store (local.get $dst) (f32x4.extract_lane 1 (local.get $m)))
                (local.set $dst (i32.add (local.get $dst) (local.get $planeBytes)))
                (f32.store (local.get $dst) (f32x4.extract_lane 2 (local.get $m)))
                (local.set $dst (i32.add (local.get $dst) (local.get $planeBytes)))
                (f32.store (local.get $dst) (f32x4.extract_lane 3 (local.get $m))))
              (else
                (v128.store
                  (i32.add (local.get $out)
                    (i32.add (i32.mul (i32.add (i32.mul (local.get $oy) (local.get $ow)) (local.get $ox)) (local.get $cellBytes)) (local.get $g)))
                  (local.get $m))))
            (local.set $g (i32.add (local.get $g) (i32.const 16)))
            (br_if $group (i32.lt_u (local.get $g) (local.get $cellBytes))))
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (br_if $outCell (i32.lt_u (local.get $ox) (local.get $ow))))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $outRow))))
)
