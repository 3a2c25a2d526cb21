/**
 * 国密 speed: SM3 over 100 MB (Sidian's JavaScript SM3 as browsers run it, and Node's native
 * OpenSSL sm3 that digest.ts uses in Node) and SM2 sign/verify per operation (Sidian on
 * @noble/curves). Compare with `openssl speed -evp sm3` and `openssl speed sm2`.
 *
 *   npx tsx bench/gm/gm.bench.ts
 */
import { createHash } from 'node:crypto';
import { sm2PublicKey, sm2RandomPrivateKey, sm2Sign, sm2Verify } from '../../packages/core/src/gm/sm2';
import { sm3 } from '../../packages/core/src/gm/sm3';

const MB = 1024 * 1024;
const data = new Uint8Array(100 * MB).map((_, i) => i & 0xff);

function time(label: string, f: () => void, runs = 3): number {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    f();
    ms.push(performance.now() - t);
  }
  const best = Math.min(...ms);
  console.log(`${label}: best of ${runs} ${best.toFixed(0)} ms (${ms.map((m) => m.toFixed(0)).join(', ')})`);
  return best;
}

const js = time('SM3 100 MB, JavaScript (browsers)', () => {
  const h = sm3.create();
  for (let i = 0; i < data.length; i += MB) h.update(data.subarray(i, i + MB));
  h.digest();
});
console.log(`  = ${((100 / js) * 1000).toFixed(0)} MB/s`);
const native = time('SM3 100 MB, Node native (OpenSSL)', () => {
  const h = createHash('sm3');
  for (let i = 0; i < data.length; i += MB) h.update(data.subarray(i, i + MB));
  h.digest();
});
console.log(`  = ${((100 / native) * 1000).toFixed(0)} MB/s`);

const d = sm2RandomPrivateKey();
const P = sm2PublicKey(d);
const msg = new Uint8Array(200).fill(7); // about the size of PAdES signed attributes
const sig = sm2Sign(d, msg, { publicKey: P });
for (let i = 0; i < 20; i++) sm2Verify(P, msg, sm2Sign(d, msg, { publicKey: P })); // warm-up
const N = 200;
const s = time(
  `SM2 sign x${N}`,
  () => {
    for (let i = 0; i < N; i++) sm2Sign(d, msg, { publicKey: P });
  },
  1,
);
console.log(`  = ${((s / N) * 1000).toFixed(0)} µs/op`);
const v = time(
  `SM2 verify x${N}`,
  () => {
    for (let i = 0; i < N; i++) if (!sm2Verify(P, msg, sig)) throw new Error('verify failed');
  },
  1,
);
console.log(`  = ${((v / N) * 1000).toFixed(0)} µs/op`);
