;; LSH projections with WASM SIMD (f32x4): out[j] = Σ_i planes[j·d + i] · q[i] for j < nproj.
;; Addresses are byte offsets into the exported memory; planes are row-major (nproj × d) float32.
;; Four planes share each load of q (four independent accumulator chains) and are reduced together
;; by shuffles; d mod 4 and nproj mod 4 are finished one lane / one plane at a time. Results are float32: the caller (near-index.ts)
;; re-computes in float64 any projection whose sign the float32 rounding could have flipped.
;; Built by scripts/build-wasm.mjs (wabt's wat2wasm); the .wasm and its base64 module are committed.
(module
  (memory (export "memory") 1)

  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  (func $project (export "project") (param $planes i32) (param $q i32) (param $out i32) (param $nproj i32) (param $d i32)
    (local $j i32) (local $i i32) (local $vecBytes i32) (local $rowBytes i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $qv v128)
    (local $s0 f32) (local $qs f32) (local $o i32)
    (local.set $rowBytes (i32.shl (local.get $d) (i32.const 2)))
    (local.set $vecBytes (i32.shl (i32.and (local.get $d) (i32.const -4)) (i32.const 2)))
    ;; four planes at a time
    (block $groupsDone
      (loop $groups
        (br_if $groupsDone (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $nproj)))
        (local.set $p0 (i32.add (local.get $planes) (i32.mul (local.get $j) (local.get $rowBytes))))
        (local.set $p1 (i32.add (local.get $p0) (local.get $rowBytes)))
        (local.set $p2 (i32.add (local.get $p1) (local.get $rowBytes)))
        (local.set $p3 (i32.add (local.get $p2) (local.get $rowBytes)))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $a2 (v128.const i32x4 0 0 0 0))
        (local.set $a3 (v128.const i32x4 0 0 0 0))
        (local.set $i (i32.const 0))
        (block $vecDone
          (loop $vec
            (br_if $vecDone (i32.ge_u (local.get $i) (local.get $vecBytes)))
            (local.set $qv (v128.load (i32.add (local.get $q) (local.get $i))))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load (i32.add (local.get $p0) (local.get $i))) (local.get $qv))))
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load (i32.add (local.get $p1) (local.get $i))) (local.get $qv))))
            (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (v128.load (i32.add (local.get $p2) (local.get $i))) (local.get $qv))))
            (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (v128.load (i32.add (local.get $p3) (local.get $i))) (local.get $qv))))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $vec)))
        ;; the four horizontal sums at once: pairwise lane sums, then one vector [Σa0, Σa1, Σa2, Σa3]
        (local.set $a0
          (f32x4.add
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a0) (local.get $a1))
            (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a0) (local.get $a1))))
        (local.set $a2
          (f32x4.add
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a2) (local.get $a3))
            (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a2) (local.get $a3))))
        (v128.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2)))
          (f32x4.add
            (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a0) (local.get $a2))
            (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a0) (local.get $a2))))
        ;; the last d mod 4 elements
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $i) (local.get $rowBytes)))
            (local.set $qs (f32.load (i32.add (local.get $q) (local.get $i))))
            (local.set $o (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))))
            (f32.store (local.get $o)
              (f32.add (f32.load (local.get $o)) (f32.mul (f32.load (i32.add (local.get $p0) (local.get $i))) (local.get $qs))))
            (f32.store offset=4 (local.get $o)
              (f32.add (f32.load offset=4 (local.get $o)) (f32.mul (f32.load (i32.add (local.get $p1) (local.get $i))) (local.get $qs))))
            (f32.store offset=8 (local.get $o)
              (f32.add (f32.load offset=8 (local.get $o)) (f32.mul (f32.load (i32.add (local.get $p2) (local.get $i))) (local.get $qs))))
            (f32.store offset=12 (local.get $o)
              (f32.add (f32.load offset=12 (local.get $o)) (f32.mul (f32.load (i32.add (local.get $p3) (local.get $i))) (local.get $qs))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $tail)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $groups)))
    ;; the last nproj mod 4 planes, one at a time
    (block $restDone
      (loop $rest
        (br_if $restDone (i32.ge_u (local.get $j) (local.get $nproj)))
        (local.set $p0 (i32.add (local.get $planes) (i32.mul (local.get $j) (local.get $rowBytes))))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $i (i32.const 0))
        (block $vecDone1
          (loop $vec1
            (br_if $vecDone1 (i32.ge_u (local.get $i) (local.get $vecBytes)))
            (local.set $a0
              (f32x4.add (local.get $a0)
                (f32x4.mul (v128.load (i32.add (local.get $p0) (local.get $i))) (v128.load (i32.add (local.get $q) (local.get $i))))))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $vec1)))
        (local.set $s0 (call $hsum (local.get $a0)))
        (block $tailDone1
          (loop $tail1
            (br_if $tailDone1 (i32.ge_u (local.get $i) (local.get $rowBytes)))
            (local.set $s0
              (f32.add (local.get $s0)
                (f32.mul (f32.load (i32.add (local.get $p0) (local.get $i))) (f32.load (i32.add (local.get $q) (local.get $i))))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $tail1)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $s0))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $rest))))

  ;; The LSH signature of v (d float32 at $v): q = v / ‖v‖ (float64 norm, rounded to float32 as the
  ;; JS reference does), out = planes · q, and per table t the code whose bit b is out[t·bits + b] ≥ 0.
  ;; Returns -1 for a zero vector, else the number of projections with |out[j]| ≤ margins[j] (float64
  ;; at $margins): their sign is uncertain and the caller recomputes the codes when it is not 0.
  (func (export "signature") (param $planes i32) (param $v i32) (param $q i32) (param $out i32) (param $margins i32)
    (param $codes i32) (param $nproj i32) (param $d i32) (param $tables i32) (param $bits i32) (result i32)
    (local $i i32) (local $nn f64) (local $inv f64) (local $x f64) (local $m f64) (local $j i32) (local $t i32)
    (local $b i32) (local $c i32) (local $uncertain i32)
    (block $normDone
      (loop $norm
        (br_if $normDone (i32.ge_u (local.get $i) (local.get $d)))
        (local.set $x (f64.promote_f32 (f32.load (i32.add (local.get $v) (i32.shl (local.get $i) (i32.const 2))))))
        (local.set $nn (f64.add (local.get $nn) (f64.mul (local.get $x) (local.get $x))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $norm)))
    (if (f64.eq (local.get $nn) (f64.const 0)) (then (return (i32.const -1))))
    (local.set $inv (f64.div (f64.const 1) (f64.sqrt (local.get $nn))))
    (local.set $i (i32.const 0))
    (block $scaleDone
      (loop $scale
        (br_if $scaleDone (i32.ge_u (local.get $i) (local.get $d)))
        (f32.store (i32.add (local.get $q) (i32.shl (local.get $i) (i32.const 2)))
          (f32.demote_f64
            (f64.mul (f64.promote_f32 (f32.load (i32.add (local.get $v) (i32.shl (local.get $i) (i32.const 2))))) (local.get $inv))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scale)))
    (call $project (local.get $planes) (local.get $q) (local.get $out) (local.get $nproj) (local.get $d))
    (block $tablesDone
      (loop $eachTable
        (br_if $tablesDone (i32.ge_u (local.get $t) (local.get $tables)))
        (local.set $c (i32.const 0))
        (local.set $b (i32.const 0))
        (block $bitsDone
          (loop $eachBit
            (br_if $bitsDone (i32.ge_u (local.get $b) (local.get $bits)))
            (local.set $x (f64.promote_f32 (f32.load (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $m (f64.load (i32.add (local.get $margins) (i32.shl (local.get $j) (i32.const 3)))))
            (if (f64.le (f64.abs (local.get $x)) (local.get $m))
              (then (local.set $uncertain (i32.add (local.get $uncertain) (i32.const 1)))))
            (if (f64.ge (local.get $x) (f64.const 0))
              (then (local.set $c (i32.or (local.get $c) (i32.shl (i32.const 1) (local.get $b))))))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $eachBit)))
        (i32.store (i32.add (local.get $codes) (i32.shl (local.get $t) (i32.const 2))) (local.get $c))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $eachTable)))
    (local.get $uncertain))
)
