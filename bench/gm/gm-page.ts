/**
 * The Chromium half of bench/gm: bundled by gm.bench.ts with esbuild and run in a page. SM3 over
 * 100 MB (Sidian's SM3 in WebAssembly, what browsers use, and its JavaScript fallback) and SM2 sign/verify per operation, Sidian
 * (@noble/curves) beside sm-crypto.
 */
import { sm2PublicKey, sm2RandomPrivateKey, sm2Sign, sm2Verify } from '../../packages/core/src/gm/sm2';
import { setSm3Engine, sm3, sm3EngineInUse } from '../../packages/core/src/gm/sm3';
import smCrypto from 'sm-crypto';

const { sm2: smCryptoSm2, sm3: smCryptoSm3 } = smCrypto;

const MB = 1024 * 1024;
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

function best(runs: number, f: () => void): number {
  let min = Infinity;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    f();
    min = Math.min(min, performance.now() - t);
  }
  return min;
}

(globalThis as { gmBench?: () => unknown }).gmBench = () => {
  const data = new Uint8Array(100 * MB);
  for (let i = 0; i < data.length; i++) data[i] = i & 0xff;
  const sm3With = (engine: 'wasm' | 'js') => {
    setSm3Engine(engine);
    if (sm3EngineInUse() !== engine) throw new Error(`SM3 engine ${engine} unavailable`);
    const ms = best(3, () => {
      const h = sm3.create();
      for (let i = 0; i < data.length; i += MB) h.update(data.subarray(i, i + MB));
      h.digest();
    });
    setSm3Engine('auto');
    return ms;
  };
  const sm3WasmMs = sm3With('wasm');
  const sm3Ms = sm3With('js');
  const small = Array.from(data.subarray(0, 4 * MB));
  const smCryptoSm3Ms = best(1, () => smCryptoSm3(small as unknown as string)) * 25; // scaled to 100 MB

  const d = sm2RandomPrivateKey();
  const P = sm2PublicKey(d);
  const msg = new Uint8Array(200).fill(7);
  const sig = sm2Sign(d, msg, { publicKey: P });
  for (let i = 0; i < 30; i++) sm2Verify(P, msg, sm2Sign(d, msg, { publicKey: P }));
  const N = 200;
  const signMs =
    best(1, () => {
      for (let i = 0; i < N; i++) sm2Sign(d, msg, { publicKey: P });
    }) / N;
  const verifyMs =
    best(1, () => {
      for (let i = 0; i < N; i++) if (!sm2Verify(P, msg, sig)) throw new Error('verify failed');
    }) / N;
  // each signature under a key not seen before (no key table): the first verification of a seal
  const fresh = Array.from({ length: 30 }, () => {
    const k = sm2RandomPrivateKey();
    const pk = sm2PublicKey(k);
    return { pk, sig: sm2Sign(k, msg, { publicKey: pk }) };
  });
  const verifyNewKeyMs =
    best(1, () => {
      for (const f of fresh) if (!sm2Verify(f.pk, msg, f.sig)) throw new Error('verify failed');
    }) / fresh.length;

  const text = 'x'.repeat(200);
  const keys = smCryptoSm2.generateKeyPairHex();
  const scSig = smCryptoSm2.doSignature(text, keys.privateKey, { hash: true });
  for (let i = 0; i < 10; i++) smCryptoSm2.doVerifySignature(text, scSig, keys.publicKey, { hash: true });
  const M = 50;
  const scSignMs =
    best(1, () => {
      for (let i = 0; i < M; i++) smCryptoSm2.doSignature(text, keys.privateKey, { hash: true });
    }) / M;
  const scVerifyMs =
    best(1, () => {
      for (let i = 0; i < M; i++)
        if (!smCryptoSm2.doVerifySignature(text, scSig, keys.publicKey, { hash: true }))
          throw new Error('sm-crypto verify failed');
    }) / M;
  return {
    userAgent: navigator.userAgent,
    sm3MBps: 100 / (sm3Ms / 1000),
    sm3WasmMBps: 100 / (sm3WasmMs / 1000),
    verifyNewKeyMs,
    smCryptoSm3MBps: 100 / (smCryptoSm3Ms / 1000),
    check: hex(sm3(new TextEncoder().encode('abc'))),
    signMs,
    verifyMs,
    scSignMs,
    scVerifyMs,
  };
};
