;; The SM3 compression function (GB/T 32905-2016 §5.3) in WebAssembly, compiled by
;; scripts/build-wasm.mjs into sm3-wasm.ts and used by sm3.ts where WebAssembly may be compiled.
;; The same algorithm as compress() in sm3.ts; here V8 keeps the 16 working words in registers and
;; i32.rotl is one instruction, which JavaScript's (x << n) | (x >>> 32 - n) is not always.
;;
;; Memory layout (2 pages, exported): the chaining state V (8 words) at 0, the message expansion
;; W_0..W_67 (§5.3.2) at 64, the constants T_j <<< j (64 words, written by sm3.ts) at 512, and the
;; caller's blocks from BUFFER = 1024 on. Words in memory are native i32 (little-endian); the message
;; is read big-endian (§5.3.1).
(module
  (memory (export "memory") 2)
  ;; compress($n blocks of 64 bytes at $p) into V at 0
  (func (export "compress") (param $p i32) (param $n i32)
    (local $a i32) (local $b i32) (local $c i32) (local $d i32)
    (local $e i32) (local $f i32) (local $g i32) (local $h i32)
    (local $A i32) (local $B i32) (local $C i32) (local $D i32)
    (local $E i32) (local $F i32) (local $G i32) (local $H i32)
    (local $j i32) (local $x i32) (local $a12 i32) (local $ss1 i32) (local $wj i32)
    (local $tt1 i32) (local $tt2 i32)
    (local.set $a (i32.load offset=0 (i32.const 0)))
    (local.set $b (i32.load offset=4 (i32.const 0)))
    (local.set $c (i32.load offset=8 (i32.const 0)))
    (local.set $d (i32.load offset=12 (i32.const 0)))
    (local.set $e (i32.load offset=16 (i32.const 0)))
    (local.set $f (i32.load offset=20 (i32.const 0)))
    (local.set $g (i32.load offset=24 (i32.const 0)))
    (local.set $h (i32.load offset=28 (i32.const 0)))
    (block $done
      (loop $block
        (br_if $done (i32.eqz (local.get $n)))
        ;; W_0..W_15: the block's words, big-endian (byte swap by two masked rotations)
        (local.set $j (i32.const 0))
        (loop $load
          (local.set $x (i32.load align=1 (i32.add (local.get $p) (local.get $j))))
          (i32.store offset=64 (local.get $j)
            (i32.or
              (i32.rotl (i32.and (local.get $x) (i32.const 0x00ff00ff)) (i32.const 24))
              (i32.rotl (i32.and (local.get $x) (i32.const 0xff00ff00)) (i32.const 8))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br_if $load (i32.lt_u (local.get $j) (i32.const 64))))
        ;; W_16..W_67 (§5.3.2): $j = 4 * (k - 16), so W_(k-16) is at 64 + $j
        (local.set $j (i32.const 0))
        (loop $expand
          ;; x = W_(k-16) ^ W_(k-9) ^ (W_(k-3) <<< 15)
          (local.set $x
            (i32.xor
              (i32.xor (i32.load offset=64 (local.get $j)) (i32.load offset=92 (local.get $j)))
              (i32.rotl (i32.load offset=116 (local.get $j)) (i32.const 15))))
          ;; W_k = P1(x) ^ (W_(k-13) <<< 7) ^ W_(k-6), P1(x) = x ^ (x <<< 15) ^ (x <<< 23)
          (i32.store offset=128 (local.get $j)
            (i32.xor
              (i32.xor
                (i32.xor (local.get $x) (i32.rotl (local.get $x) (i32.const 15)))
                (i32.rotl (local.get $x) (i32.const 23)))
              (i32.xor
                (i32.rotl (i32.load offset=76 (local.get $j)) (i32.const 7))
                (i32.load offset=104 (local.get $j)))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br_if $expand (i32.lt_u (local.get $j) (i32.const 208))))
        (local.set $A (local.get $a)) (local.set $B (local.get $b))
        (local.set $C (local.get $c)) (local.set $D (local.get $d))
        (local.set $E (local.get $e)) (local.set $F (local.get $f))
        (local.set $G (local.get $g)) (local.set $H (local.get $h))
        ;; rounds 0-15 (§5.3.3): FF = GG = X ^ Y ^ Z; $j = 4 * round
        (local.set $j (i32.const 0))
        (loop $low
          (local.set $a12 (i32.rotl (local.get $A) (i32.const 12)))
          (local.set $ss1
            (i32.rotl
              (i32.add (i32.add (local.get $a12) (local.get $E)) (i32.load offset=512 (local.get $j)))
              (i32.const 7)))
          (local.set $wj (i32.load offset=64 (local.get $j)))
          (local.set $tt1
            (i32.add
              (i32.add (i32.xor (i32.xor (local.get $A) (local.get $B)) (local.get $C)) (local.get $D))
              (i32.add
                (i32.xor (local.get $ss1) (local.get $a12))
                (i32.xor (local.get $wj) (i32.load offset=80 (local.get $j))))))
          (local.set $tt2
            (i32.add
              (i32.add (i32.xor (i32.xor (local.get $E) (local.get $F)) (local.get $G)) (local.get $H))
              (i32.add (local.get $ss1) (local.get $wj))))
          (local.set $D (local.get $C))
          (local.set $C (i32.rotl (local.get $B) (i32.const 9)))
          (local.set $B (local.get $A))
          (local.set $A (local.get $tt1))
          (local.set $H (local.get $G))
          (local.set $G (i32.rotl (local.get $F) (i32.const 19)))
          (local.set $F (local.get $E))
          ;; P0(x) = x ^ (x <<< 9) ^ (x <<< 17)
          (local.set $E
            (i32.xor
              (i32.xor (local.get $tt2) (i32.rotl (local.get $tt2) (i32.const 9)))
              (i32.rotl (local.get $tt2) (i32.const 17))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br_if $low (i32.lt_u (local.get $j) (i32.const 64))))
        ;; rounds 16-63: FF = majority = (X & (Y | Z)) | (Y & Z), GG = choose = Z ^ (X & (Y ^ Z))
        (loop $high
          (local.set $a12 (i32.rotl (local.get $A) (i32.const 12)))
          (local.set $ss1
            (i32.rotl
              (i32.add (i32.add (local.get $a12) (local.get $E)) (i32.load offset=512 (local.get $j)))
              (i32.const 7)))
          (local.set $wj (i32.load offset=64 (local.get $j)))
          (local.set $tt1
            (i32.add
              (i32.add
                (i32.or
                  (i32.and (local.get $A) (i32.or (local.get $B) (local.get $C)))
                  (i32.and (local.get $B) (local.get $C)))
                (local.get $D))
              (i32.add
                (i32.xor (local.get $ss1) (local.get $a12))
                (i32.xor (local.get $wj) (i32.load offset=80 (local.get $j))))))
          (local.set $tt2
            (i32.add
              (i32.add
                (i32.xor (local.get $G) (i32.and (local.get $E) (i32.xor (local.get $F) (local.get $G))))
                (local.get $H))
              (i32.add (local.get $ss1) (local.get $wj))))
          (local.set $D (local.get $C))
          (local.set $C (i32.rotl (local.get $B) (i32.const 9)))
          (local.set $B (local.get $A))
          (local.set $A (local.get $tt1))
          (local.set $H (local.get $G))
          (local.set $G (i32.rotl (local.get $F) (i32.const 19)))
          (local.set $F (local.get $E))
          (local.set $E
            (i32.xor
              (i32.xor (local.get $tt2) (i32.rotl (local.get $tt2) (i32.const 9)))
              (i32.rotl (local.get $tt2) (i32.const 17))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br_if $high (i32.lt_u (local.get $j) (i32.const 256))))
        (local.set $a (i32.xor (local.get $a) (local.get $A)))
        (local.set $b (i32.xor (local.get $b) (local.get $B)))
        (local.set $c (i32.xor (local.get $c) (local.get $C)))
        (local.set $d (i32.xor (local.get $d) (local.get $D)))
        (local.set $e (i32.xor (local.get $e) (local.get $E)))
        (local.set $f (i32.xor (local.get $f) (local.get $F)))
        (local.set $g (i32.xor (local.get $g) (local.get $G)))
        (local.set $h (i32.xor (local.get $h) (local.get $H)))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $block)))
    (i32.store offset=0 (i32.const 0) (local.get $a))
    (i32.store offset=4 (i32.const 0) (local.get $b))
    (i32.store offset=8 (i32.const 0) (local.get $c))
    (i32.store offset=12 (i32.const 0) (local.get $d))
    (i32.store offset=16 (i32.const 0) (local.get $e))
    (i32.store offset=20 (i32.const 0) (local.get $f))
    (i32.store offset=24 (i32.const 0) (local.get $g))
    (i32.store offset=28 (i32.const 0) (local.get $h))))
