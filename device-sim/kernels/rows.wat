;; The execution image's Dense kernels (see exec-image.ts and sparse-rows.ts,
;; their reference in TypeScript), as WebAssembly: what a device compiles to
;; native code, the simulator runs as wasm. The arithmetic is docs/arithmetic.md's
;; f32 path: every product and every sum is one binary32 operation (f32.mul,
;; f32.add, never fused), x = fl32(fl32(raw * scale) + offset), so outputs are
;; the reference's and the C library's bit for bit.
;;
;; One linear memory, imported: the device's address space (arena.ts), RAM
;; at 0 and the slot's execution image mapped at a flash window above it.
;; All pointers are byte addresses in it.
;;
;; Layout the kernels read (one layer; rowsTable* take the first widths,
;; rowsGeneric any of them):
;;   counts   u8 (u16, u32) per input row: kept weights in the row
;;   entries  u16 (u32) per weight, rows in order: column | (centroid << colBits),
;;            or the column alone when weights are stored per entry
;;   table    f32 per centroid, or values: f32 per entry
;;   bias     f32 per unit
;; Rows whose input is zero are skipped whole. The row loop is written out in
;; both kernels: a call per row costs more than the row (784 rows, ~1 kept
;; weight each).
;;
;; Assembled by scripts/gen-wasm.mjs into rows-wasm.ts (npm run gen).
(module
  (import "env" "memory" (memory 1))

  ;; out[u] = sum over rows i with x_i != 0, ascending, of x_i * table[centroid],
  ;; then + bias[u]; x_i = fl32(fl32(raw[i] * scale) + offset): the first layer,
  ;; on raw sensor bytes.
  ;; When a zero byte means x = 0 (offset 0), four zero bytes in a row (a
  ;; blank stretch of image) skip four rows with one load.
  (func (export "rowsTableRaw")
    (param $counts i32) (param $entries i32) (param $table i32) (param $bias i32)
    (param $raw i32) (param $inputs i32) (param $units i32) (param $colBits i32)
    (param $scale f32) (param $offset f32) (param $out i32)
    (local $i i32) (local $x f32) (local $byte i32) (local $n i32) (local $w i32)
    (local $end i32) (local $packed i32) (local $mask i32) (local $dst i32) (local $zeroSkips i32)
    (call $clear (local.get $out) (local.get $units))
    (local.set $mask (i32.sub (i32.shl (i32.const 1) (local.get $colBits)) (i32.const 1)))
    (local.set $zeroSkips (f32.eq (local.get $offset) (f32.const 0)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $i) (local.get $inputs)))
        ;; four zero bytes: advance past their four rows' entries
        (if (i32.and (local.get $zeroSkips)
              (i32.and (i32.le_u (i32.add (local.get $i) (i32.const 4)) (local.get $inputs))
                       (i32.eqz (i32.load (i32.add (local.get $raw) (local.get $i))))))
          (then
            (local.set $w (i32.load (i32.add (local.get $counts) (local.get $i))))
            (local.set $w (i32.add (i32.and (local.get $w) (i32.const 0x00ff00ff))
                                   (i32.and (i32.shr_u (local.get $w) (i32.const 8)) (i32.const 0x00ff00ff))))
            (local.set $n (i32.add (i32.and (local.get $w) (i32.const 0xffff)) (i32.shr_u (local.get $w) (i32.const 16))))
            (local.set $entries (i32.add (local.get $entries) (i32.shl (local.get $n) (i32.const 1))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $row)))
        (local.set $n (i32.load8_u (i32.add (local.get $counts) (local.get $i))))
        (local.set $byte (i32.load8_u (i32.add (local.get $raw) (local.get $i))))
        (local.set $x
          (f32.add (f32.mul (f32.convert_i32_u (local.get $byte)) (local.get $scale)) (local.get $offset)))
        (local.set $end (i32.add (local.get $entries) (i32.shl (local.get $n) (i32.const 1))))
        (if (f32.ne (local.get $x) (f32.const 0))
          (then
            (block $rowDone
              (loop $entry
                (br_if $rowDone (i32.ge_u (local.get $entries) (local.get $end)))
                (local.set $packed (i32.load16_u (local.get $entries)))
                (local.set $dst
                  (i32.add (local.get $out) (i32.shl (i32.and (local.get $packed) (local.get $mask)) (i32.const 2))))
                (f32.store (local.get $dst)
                  (f32.add
                    (f32.load (local.get $dst))
                    (f32.mul (local.get $x)
                      (f32.load (i32.add (local.get $table)
                        (i32.shl (i32.shr_u (local.get $packed) (local.get $colBits)) (i32.const 2)))))))
                (local.set $entries (i32.add (local.get $entries) (i32.const 2)))
                (br $entry)))))
        (local.set $entries (local.get $end))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $row)))
    (call $addBias (local.get $out) (local.get $bias) (local.get $units)))

  ;; The same on float32 activations (every later layer).
  (func (export "rowsTableF32")
    (param $counts i32) (param $entries i32) (param $table i32) (param $bias i32)
    (param $input i32) (param $inputs i32) (param $units i32) (param $colBits i32) (param $out i32)
    (local $i i32) (local $x f32) (local $n i32)
    (local $end i32) (local $packed i32) (local $mask i32) (local $dst i32)
    (call $clear (local.get $out) (local.get $units))
    (local.set $mask (i32.sub (i32.shl (i32.const 1) (local.get $colBits)) (i32.const 1)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $i) (local.get $inputs)))
        (local.set $n (i32.load8_u (i32.add (local.get $counts) (local.get $i))))
        (local.set $x (f32.load (i32.add (local.get $input) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $end (i32.add (local.get $entries) (i32.shl (local.get $n) (i32.const 1))))
        (if (f32.ne (local.get $x) (f32.const 0))
          (then
            (block $rowDone
              (loop $entry
                (br_if $rowDone (i32.ge_u (local.get $entries) (local.get $end)))
                (local.set $packed (i32.load16_u (local.get $entries)))
                (local.set $dst
                  (i32.add (local.get $out) (i32.shl (i32.and (local.get $packed) (local.get $mask)) (i32.const 2))))
                (f32.store (local.get $dst)
                  (f32.add
                    (f32.load (local.get $dst))
                    (f32.mul (local.get $x)
                      (f32.load (i32.add (local.get $table)
                        (i32.shl (i32.shr_u (local.get $packed) (local.get $colBits)) (i32.const 2)))))))
                (local.set $entries (i32.add (local.get $entries) (i32.const 2)))
                (br $entry)))))
        (local.set $entries (local.get $end))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $row)))
    (call $addBias (local.get $out) (local.get $bias) (local.get $units)))

  ;; Any other layer of an image: counts of 1, 2 or 4 bytes, entries of 2 or
  ;; 4 bytes, weights from the codebook table or one f32 per entry (int8 and
  ;; dense-f32 kernels), input raw bytes or f32. The layout branches are the
  ;; same for every entry, so they cost little; the common case keeps the
  ;; specialised kernels above.
  (func (export "rowsGeneric")
    (param $counts i32) (param $countBytes i32) (param $entries i32) (param $entryBytes i32)
    (param $values i32) (param $perEntry i32) (param $bias i32)
    (param $input i32) (param $rawInput i32) (param $inputs i32) (param $units i32) (param $colBits i32)
    (param $scale f32) (param $offset f32) (param $out i32)
    (local $i i32) (local $x f32) (local $n i32) (local $e i32) (local $end i32)
    (local $packed i32) (local $mask i32) (local $column i32) (local $weight f32)
    (call $clear (local.get $out) (local.get $units))
    (local.set $mask
      (if (result i32) (i32.ge_u (local.get $colBits) (i32.const 32))
        (then (i32.const -1))
        (else (i32.sub (i32.shl (i32.const 1) (local.get $colBits)) (i32.const 1)))))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $i) (local.get $inputs)))
        (local.set $n
          (if (result i32) (i32.eq (local.get $countBytes) (i32.const 1))
            (then (i32.load8_u (i32.add (local.get $counts) (local.get $i))))
            (else
              (if (result i32) (i32.eq (local.get $countBytes) (i32.const 2))
                (then (i32.load16_u (i32.add (local.get $counts) (i32.shl (local.get $i) (i32.const 1)))))
                (else (i32.load (i32.add (local.get $counts) (i32.shl (local.get $i) (i32.const 2)))))))))
        (local.set $x
          (if (result f32) (local.get $rawInput)
            (then
              (f32.add
                (f32.mul (f32.convert_i32_u (i32.load8_u (i32.add (local.get $input) (local.get $i)))) (local.get $scale))
                (local.get $offset)))
            (else (f32.load (i32.add (local.get $input) (i32.shl (local.get $i) (i32.const 2)))))))
        (local.set $end (i32.add (local.get $e) (local.get $n)))
        (if (f32.ne (local.get $x) (f32.const 0))
          (then
            (block $rowDone
              (loop $entry
                (br_if $rowDone (i32.ge_u (local.get $e) (local.get $end)))
                (local.set $packed
                  (if (result i32) (i32.eq (local.get $entryBytes) (i32.const 2))
                    (then (i32.load16_u (i32.add (local.get $entries) (i32.shl (local.get $e) (i32.const 1)))))
                    (else (i32.load (i32.add (local.get $entries) (i32.shl (local.get $e) (i32.const 2)))))))
                (local.set $column (i32.and (local.get $packed) (local.get $mask)))
                (local.set $weight
                  (if (result f32) (local.get $perEntry)
                    (then (f32.load (i32.add (local.get $values) (i32.shl (local.get $e) (i32.const 2)))))
                    (else
                      (f32.load (i32.add (local.get $values)
                        (i32.shl (i32.shr_u (local.get $packed) (local.get $colBits)) (i32.const 2)))))))
                (f32.store (i32.add (local.get $out) (i32.shl (local.get $column) (i32.const 2)))
                  (f32.add
                    (f32.load (i32.add (local.get $out) (i32.shl (local.get $column) (i32.const 2))))
                    (f32.mul (local.get $x) (local.get $weight))))
                (local.set $e (i32.add (local.get $e) (i32.const 1)))
                (br $entry)))))
        (local.set $e (local.get $end))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $row)))
    (call $addBias (local.get $out) (local.get $bias) (local.get $units)))

  ;; out[u] = max(out[u], 0)
  (func (export "relu") (param $out i32) (param $units i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $units) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (if (f32.lt (f32.load (local.get $out)) (f32.const 0))
          (then (f32.store (local.get $out) (f32.const 0))))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $next))))

  (func $clear (param $out i32) (param $units i32)
    (memory.fill (local.get $out) (i32.const 0) (i32.shl (local.get $units) (i32.const 2))))

  ;; out[u] = fl32(out[u] + bias[u]) for every u (0 where no bias entry is held).
  (func $addBias (param $out i32) (param $bias i32) (param $units i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $units) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (f32.store (local.get $out)
          (f32.add (f32.load (local.get $out)) (f32.load (local.get $bias))))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $bias (i32.add (local.get $bias) (i32.const 4)))
        (br $next))))
)
