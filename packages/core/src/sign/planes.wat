;; Splits PNG scanlines with an alpha channel into a colour plane and an alpha plane, keeping each
;; row's filter-type byte in both (see splitAlphaFiltered in image.ts). Compiled by
;; scripts/build-wasm.mjs into planes-wasm.ts; a first signing runs this in WebAssembly's baseline
;; compiler instead of interpreted JavaScript.
;;
;; Memory (imported, sized by the caller) layout: src at 0 (height rows of 1 + width * channels bytes), then the
;; colour plane at $col (height rows of 1 + width * (channels - 1) bytes, plus 1 spare byte: the
;; RGBA loop stores 4 bytes per pixel, the last one overwritten by the next pixel), then the alpha
;; plane at $alp (height rows of 1 + width bytes). Returns 0, or 1 when a filter type is above 4.
(module
  (import "env" "memory" (memory 1))
  (func (export "split") (param $col i32) (param $alp i32) (param $h i32) (param $w i32) (param $ch i32) (result i32)
    (local $src i32) (local $x i32) (local $t i32) (local $v i32)
    (block $done
      (loop $row
        (br_if $done (i32.eqz (local.get $h)))
        (local.set $t (i32.load8_u (local.get $src)))
        (if (i32.gt_u (local.get $t) (i32.const 4)) (then (return (i32.const 1))))
        (i32.store8 (local.get $col) (local.get $t))
        (i32.store8 (local.get $alp) (local.get $t))
        (local.set $src (i32.add (local.get $src) (i32.const 1)))
        (local.set $col (i32.add (local.get $col) (i32.const 1)))
        (local.set $alp (i32.add (local.get $alp) (i32.const 1)))
        (local.set $x (local.get $w))
        (if (i32.eq (local.get $ch) (i32.const 4))
          (then
            (block $end4
              (loop $px4
                (br_if $end4 (i32.eqz (local.get $x)))
                (local.set $v (i32.load align=1 (local.get $src)))
                (i32.store align=1 (local.get $col) (local.get $v))
                (i32.store8 (local.get $alp) (i32.shr_u (local.get $v) (i32.const 24)))
                (local.set $src (i32.add (local.get $src) (i32.const 4)))
                (local.set $col (i32.add (local.get $col) (i32.const 3)))
                (local.set $alp (i32.add (local.get $alp) (i32.const 1)))
                (local.set $x (i32.sub (local.get $x) (i32.const 1)))
                (br $px4))))
          (else
            (block $end2
              (loop $px2
                (br_if $end2 (i32.eqz (local.get $x)))
                (local.set $v (i32.load16_u align=1 (local.get $src)))
                (i32.store8 (local.get $col) (local.get $v))
                (i32.store8 (local.get $alp) (i32.shr_u (local.get $v) (i32.const 8)))
                (local.set $src (i32.add (local.get $src) (i32.const 2)))
                (local.set $col (i32.add (local.get $col) (i32.const 1)))
                (local.set $alp (i32.add (local.get $alp) (i32.const 1)))
                (local.set $x (i32.sub (local.get $x) (i32.const 1)))
                (br $px2)))))
        (local.set $h (i32.sub (local.get $h) (i32.const 1)))
        (br $row)))
    (i32.const 0)))
