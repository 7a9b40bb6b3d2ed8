;; LSH projections with WASM SIMD (f32x4): out[j] = Σ_i planes[j·d + i] · q[i] for j < nproj.
;; Addresses are byte offsets into the exported memory; planes are row-major (nproj × d) float32.
;; Four planes share each load of q (four independent accumulator chains); d mod 4 and nproj mod 4
;; are finished one lane / one plane at a time. Results are float32: the caller (near-index.ts)
;; re-computes in float64 any projection whose sign the float32 rounding could have flipped.
;; Built by scripts/build-wasm.mjs (wabt's wat2wasm); the .wasm and its base64 module are committed.
(module
  (memory (export "memory") 1)

  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  (func (export "project") (param $planes i32) (param $q i32) (param $out i32) (param $nproj i32) (param $d i32)
    (local $j i32) (local $i i32) (local $vecBytes i32) (local $rowBytes i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $qv v128)
    (local $s0 f32) (local $s1 f32) (local $s2 f32) (local $s3 f32) (local $qs f32)
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
        (local.set $s0 (call $hsum (local.get $a0)))
        (local.set $s1 (call $hsum (local.get $a1)))
        (local.set $s2 (call $hsum (local.get $a2)))
        (local.set $s3 (call $hsum (local.get $a3)))
        ;; the last d mod 4 elements
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $i) (local.get $rowBytes)))
            (local.set $qs (f32.load (i32.add (local.get $q) (local.get $i))))
            (local.set $s0 (f32.add (local.get $s0) (f32.mul (f32.load (i32.add (local.get $p0) (local.get $i))) (local.get $qs))))
            (local.set $s1 (f32.add (local.get $s1) (f32.mul (f32.load (i32.add (local.get $p1) (local.get $i))) (local.get $qs))))
            (local.set $s2 (f32.add (local.get $s2) (f32.mul (f32.load (i32.add (local.get $p2) (local.get $i))) (local.get $qs))))
            (local.set $s3 (f32.add (local.get $s3) (f32.mul (f32.load (i32.add (local.get $p3) (local.get $i))) (local.get $qs))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $tail)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $s0))
        (f32.store offset=4 (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $s1))
        (f32.store offset=8 (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $s2))
        (f32.store offset=12 (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $s3))
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
)
