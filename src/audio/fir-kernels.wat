;; The inner loops of the two resamplers (upsampler-2x.ts, downsampler-3x.ts) in WebAssembly SIMD: two outputs
;; per 128-bit vector, eight per pass. Each output is the very sequence of float64 operations the plain JavaScript
;; loop performed (sum = 0, then sum += coef[k] * (newer + older) for k = 0, 1, ...; WebAssembly rounds every
;; operation and never fuses a multiply with an add), then Math.round and clamping to int16: the samples are bit for
;; bit the same (test/unit/audio/bit-exact.test.ts). fir-kernels.ts lays out the memory and calls these.
;; After a change: npx tsx scripts/build-fir-kernels.ts (writes fir-kernels-wasm.ts; a unit test checks it).
(module
  (memory (export "memory") 8)

  ;; int16 in[0, count) -> f64 line[0, count)
  (func $widen (param $in i32) (param $count i32) (param $line i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $in) (i32.shl (local.get $count) (i32.const 1))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $in) (local.get $end)))
        (f64.store (local.get $line) (f64.convert_i32_s (i32.load16_s (local.get $in))))
        (local.set $in (i32.add (local.get $in) (i32.const 2)))
        (local.set $line (i32.add (local.get $line) (i32.const 8)))
        (br $next))))

  ;; f64 sums[0, count) -> int16 at out, out + step, ...: Math.round (the nearest integer, halves toward
  ;; +Infinity), then clamped to int16. ceil(x) - 0.5 is exact for |x| < 2^52, so "ceil(x) - 0.5 > x" says
  ;; exactly when ceil(x) - 1 is the nearer integer. Two sums per pass: an odd count writes one more.
  (func $toInt16 (param $sums i32) (param $count i32) (param $out i32) (param $step i32)
    (local $end i32) (local $x v128) (local $up v128) (local $r v128)
    (local.set $end (i32.add (local.get $sums) (i32.shl (local.get $count) (i32.const 3))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $sums) (local.get $end)))
        (local.set $x (v128.load (local.get $sums)))
        (local.set $up (f64x2.ceil (local.get $x)))
        (local.set $r (i32x4.trunc_sat_f64x2_s_zero
          (f64x2.pmax (f64x2.splat (f64.const -32768)) (f64x2.pmin (f64x2.splat (f64.const 32767))
            (f64x2.sub (local.get $up) (v128.and
              (f64x2.gt (f64x2.sub (local.get $up) (f64x2.splat (f64.const 0.5))) (local.get $x))
              (f64x2.splat (f64.const 1))))))))
        (i32.store16 (local.get $out) (i32x4.extract_lane 0 (local.get $r)))
        (i32.store16 (i32.add (local.get $out) (local.get $step)) (i32x4.extract_lane 1 (local.get $r)))
        (local.set $sums (i32.add (local.get $sums) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.shl (local.get $step) (i32.const 1))))
        (br $next))))

  ;; ×2 half-band interpolator with `taps` folded even-phase coefficients at `coef` (f64).
  ;; in: int16 [history | n input], history = 2·taps − 1 samples. out: int16 [2n + 2]: output 2i is
  ;; sum over j of coef[j] · (line[history + i − j] + line[i + j]); output 2i + 1 is the centre tap alone, line[i + taps].
  ;; scratch: f64 [history + n + 8] (the line), then f64 [n + 8] (the sums).
  (func (export "upsample2x") (param $in i32) (param $n i32) (param $out i32) (param $scratch i32) (param $coef i32) (param $taps i32)
    (local $history i32) (local $sums i32) (local $coefEnd i32) (local $i i32) (local $k i32) (local $newer i32) (local $older i32)
    (local $c v128) (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local.set $history (i32.sub (i32.shl (local.get $taps) (i32.const 1)) (i32.const 1)))
    (local.set $coefEnd (i32.add (local.get $coef) (i32.shl (local.get $taps) (i32.const 3))))
    (call $widen (local.get $in) (i32.add (local.get $history) (local.get $n)) (local.get $scratch))
    (local.set $sums (i32.add (local.get $scratch) (i32.shl (i32.add (i32.add (local.get $history) (local.get $n)) (i32.const 8)) (i32.const 3))))
    (block $done
      (loop $block
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $s0 (v128.const f64x2 0 0))
        (local.set $s1 (v128.const f64x2 0 0))
        (local.set $s2 (v128.const f64x2 0 0))
        (local.set $s3 (v128.const f64x2 0 0))
        ;; outputs i, i + 1, ..., i + 7 at tap j: newer = line[history + i − j ...], older = line[i + j ...]
        (local.set $newer (i32.add (local.get $scratch) (i32.shl (i32.add (local.get $history) (local.get $i)) (i32.const 3))))
        (local.set $older (i32.add (local.get $scratch) (i32.shl (local.get $i) (i32.const 3))))
        (local.set $k (local.get $coef))
        (loop $tap
          (local.set $c (v128.load64_splat (local.get $k)))
          (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $c)
            (f64x2.add (v128.load (local.get $newer)) (v128.load (local.get $older))))))
          (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $c)
            (f64x2.add (v128.load offset=16 (local.get $newer)) (v128.load offset=16 (local.get $older))))))
          (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (local.get $c)
            (f64x2.add (v128.load offset=32 (local.get $newer)) (v128.load offset=32 (local.get $older))))))
          (local.set $s3 (f64x2.add (local.get $s3) (f64x2.mul (local.get $c)
            (f64x2.add (v128.load offset=48 (local.get $newer)) (v128.load offset=48 (local.get $older))))))
          (local.set $newer (i32.sub (local.get $newer) (i32.const 8)))
          (local.set $older (i32.add (local.get $older) (i32.const 8)))
          (local.set $k (i32.add (local.get $k) (i32.const 8)))
          (br_if $tap (i32.lt_u (local.get $k) (local.get $coefEnd))))
        (call $store4 (i32.add (local.get $sums) (i32.shl (local.get $i) (i32.const 3))) (local.get $s0) (local.get $s1) (local.get $s2) (local.get $s3))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $block)))
    (call $toInt16 (local.get $sums) (local.get $n) (local.get $out) (i32.const 4))
    ;; odd outputs, the centre tap alone: out[2i + 1] = line[history + i − (taps − 1)] = in[taps + i]
    (local.set $newer (i32.add (local.get $in) (i32.shl (local.get $taps) (i32.const 1))))
    (local.set $older (i32.add (local.get $out) (i32.const 2)))
    (local.set $i (i32.const 0))
    (block $copied
      (loop $next
        (br_if $copied (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store16 (local.get $older) (i32.load16_u (local.get $newer)))
        (local.set $newer (i32.add (local.get $newer) (i32.const 2)))
        (local.set $older (i32.add (local.get $older) (i32.const 4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; ÷3 decimator with `taps` folded coefficients at `coef` (f64). in: int16 [history | n input],
  ;; history = 2·taps − 1 samples. Output m (m < count) is the filter at input position first + 3m:
  ;; sum over k of coef[k] · (line[history + first + 3m − k] + line[first + 3m + k]).
  ;; scratch: three f64 phase arrays `stride` bytes apart (phase r holds line[3q + r] at q, so outputs m and m + 1
  ;; read neighbouring samples and one vector serves both), then f64 [count + 8] (the sums).
  (func (export "downsample3x") (param $in i32) (param $n i32) (param $first i32) (param $count i32)
      (param $out i32) (param $scratch i32) (param $stride i32) (param $coef i32) (param $taps i32)
    (local $history i32) (local $sums i32) (local $coefEnd i32) (local $m i32) (local $k i32) (local $q i32)
    (local $src i32) (local $end i32) (local $a i32) (local $b i32) (local $ra i32) (local $rb i32)
    (local $c v128) (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local.set $history (i32.sub (i32.shl (local.get $taps) (i32.const 1)) (i32.const 1)))
    (local.set $coefEnd (i32.add (local.get $coef) (i32.shl (local.get $taps) (i32.const 3))))
    (local.set $sums (i32.add (local.get $scratch) (i32.mul (local.get $stride) (i32.const 3))))
    ;; split and widen: line[3q + r] to phase r, sample q
    (local.set $src (local.get $in))
    (local.set $end (i32.add (local.get $in) (i32.shl (i32.add (local.get $history) (local.get $n)) (i32.const 1))))
    (local.set $q (local.get $scratch))
    (block $split
      (loop $sample
        (br_if $split (i32.ge_u (local.get $src) (local.get $end)))
        (f64.store (local.get $q) (f64.convert_i32_s (i32.load16_s (local.get $src))))
        (f64.store (i32.add (local.get $q) (local.get $stride)) (f64.convert_i32_s (i32.load16_s offset=2 (local.get $src))))
        (f64.store (i32.add (local.get $q) (i32.shl (local.get $stride) (i32.const 1))) (f64.convert_i32_s (i32.load16_s offset=4 (local.get $src))))
        (local.set $src (i32.add (local.get $src) (i32.const 6)))
        (local.set $q (i32.add (local.get $q) (i32.const 8)))
        (br $sample)))
    (block $done
      (loop $block
        (br_if $done (i32.ge_u (local.get $m) (local.get $count)))
        (local.set $s0 (v128.const f64x2 0 0))
        (local.set $s1 (v128.const f64x2 0 0))
        (local.set $s2 (v128.const f64x2 0 0))
        (local.set $s3 (v128.const f64x2 0 0))
        ;; tap 0 of outputs m ...: a at line[history + first + 3m], b at line[first + 3m]; r = phase
        (local.set $q (i32.add (local.get $first) (i32.mul (local.get $m) (i32.const 3))))
        (local.set $ra (i32.rem_u (i32.add (local.get $history) (local.get $q)) (i32.const 3)))
        (local.set $rb (i32.rem_u (local.get $q) (i32.const 3)))
        (local.set $a (call $phaseSample (local.get $scratch) (local.get $stride) (i32.add (local.get $history) (local.get $q))))
        (local.set $b (call $phaseSample (local.get $scratch) (local.get $stride) (local.get $q)))
        (local.set $k (local.get $coef))
        (loop $tap
          (local.set $c (v128.load64_splat (local.get $k)))
          (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $c)
            (f64x2.add (v128.load (local.get $a)) (v128.load (local.get $b))))))
          (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $c)
            (f64x2.add (v128.load offset=16 (local.get $a)) (v128.load offset=16 (local.get $b))))))
          (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (local.get $c)
            (f64x2.add (v128.load offset=32 (local.get $a)) (v128.load offset=32 (local.get $b))))))
          (local.set $s3 (f64x2.add (local.get $s3) (f64x2.mul (local.get $c)
            (f64x2.add (v128.load offset=48 (local.get $a)) (v128.load offset=48 (local.get $b))))))
          ;; the next tap: a one sample back (phase r − 1, or phase 2 of the sample before), b one on
          (local.set $a (select
            (i32.sub (local.get $a) (local.get $stride))
            (i32.add (local.get $a) (i32.sub (i32.shl (local.get $stride) (i32.const 1)) (i32.const 8)))
            (local.get $ra)))
          (local.set $ra (select (i32.sub (local.get $ra) (i32.const 1)) (i32.const 2) (local.get $ra)))
          (local.set $b (select
            (i32.add (local.get $b) (local.get $stride))
            (i32.sub (local.get $b) (i32.sub (i32.shl (local.get $stride) (i32.const 1)) (i32.const 8)))
            (i32.lt_u (local.get $rb) (i32.const 2))))
          (local.set $rb (select (i32.add (local.get $rb) (i32.const 1)) (i32.const 0) (i32.lt_u (local.get $rb) (i32.const 2))))
          (local.set $k (i32.add (local.get $k) (i32.const 8)))
          (br_if $tap (i32.lt_u (local.get $k) (local.get $coefEnd))))
        (call $store4 (i32.add (local.get $sums) (i32.shl (local.get $m) (i32.const 3))) (local.get $s0) (local.get $s1) (local.get $s2) (local.get $s3))
        (local.set $m (i32.add (local.get $m) (i32.const 8)))
        (br $block)))
    (call $toInt16 (local.get $sums) (local.get $count) (local.get $out) (i32.const 2)))

  ;; Where line[index] is in the phase arrays.
  (func $phaseSample (param $phases i32) (param $stride i32) (param $index i32) (result i32)
    (i32.add
      (i32.add (local.get $phases) (i32.mul (i32.rem_u (local.get $index) (i32.const 3)) (local.get $stride)))
      (i32.shl (i32.div_u (local.get $index) (i32.const 3)) (i32.const 3))))

  ;; Eight sums, in order, from four vectors.
  (func $store4 (param $at i32) (param $s0 v128) (param $s1 v128) (param $s2 v128) (param $s3 v128)
    (v128.store (local.get $at) (local.get $s0))
    (v128.store offset=16 (local.get $at) (local.get $s1))
    (v128.store offset=32 (local.get $at) (local.get $s2))
    (v128.store offset=48 (local.get $at) (local.get $s3)))
)
