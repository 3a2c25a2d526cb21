/**
 * SM3 and SM2 in real Chromium, unchanged from Node: the standards' examples, a sign/verify round
 * trip and the browser digest path (no node:crypto, so digest.ts takes the JavaScript SM3).
 * Run: `npx wtr --files packages/core/src/gm/gm.browser-test.ts` (not part of the vitest run).
 */
import { executeServerCommand } from '@web/test-runner-commands';
import { digestChunks } from '../digest';
import { fromHex, toHex } from '../pki/der';
import { sm2Curve, sm2PublicKey, sm2RandomPrivateKey, sm2Sign, sm2SignRaw, sm2Verify } from './sm2';
import { setSm3Engine, sm3, sm3EngineInUse } from './sm3';

const g = globalThis as unknown as Record<string, (name: string, fn: () => unknown) => void>;
const it = g.it!;
function equal(actual: unknown, expected: unknown): void {
  if (actual !== expected) throw new Error(`expected ${String(expected)}, got ${String(actual)}`);
}
const utf8 = (s: string) => new TextEncoder().encode(s);
const big = (s: string) => BigInt('0x' + s.replace(/ /g, ''));

it('runs without Node (no process.getBuiltinModule)', () => {
  equal(typeof (globalThis as { process?: unknown }).process, 'undefined');
});

it('SM3 examples of GB/T 32905, directly and through digestChunks', async () => {
  equal(toHex(sm3(utf8('abc'))), '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
  const abcd = utf8('abcd'.repeat(16));
  const expected = 'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732';
  equal(toHex(sm3(abcd)), expected);
  equal(toHex(await digestChunks('SM3', [abcd.subarray(0, 10), abcd.subarray(10)])), expected);
});

const base64 = (b: Uint8Array) => btoa(Array.from(b, (c) => String.fromCharCode(c)).join(''));

it("SM3 in WebAssembly and in JavaScript equal Node's OpenSSL sm3 for lengths 0-300, whole and in three updates", async () => {
  equal(sm3EngineInUse(), 'wasm'); // no Node here: 'auto' takes WebAssembly
  const inputs = Array.from({ length: 301 }, (_, len) =>
    new Uint8Array(len).map((_, i) => (i * 131 + len) & 0xff),
  );
  inputs.push(new Uint8Array(200_003).map((_, i) => (i * 7) & 0xff)); // more than one 64 KiB wasm buffer
  const expected = await executeServerCommand<string[], { data: string[] }>('sidian-sm3', {
    data: inputs.map(base64),
  });
  for (const engine of ['wasm', 'js'] as const) {
    const previous = setSm3Engine(engine);
    try {
      equal(sm3EngineInUse(), engine);
      inputs.forEach((data, n) => {
        equal(toHex(sm3(data)), expected[n]);
        const [a, b] = [data.length >> 2, (data.length * 3) >> 2];
        const h = sm3
          .create()
          .update(data.subarray(0, a))
          .update(data.subarray(a, b))
          .update(data.subarray(b));
        equal(toHex(h.digest()), expected[n]);
      });
    } finally {
      setSm3Engine(previous);
    }
  }
});

it("under a CSP without 'wasm-unsafe-eval' SM3 falls back to JavaScript: same digest, one violation reported", async () => {
  const frame = document.createElement('iframe');
  const csp = "script-src 'self' 'unsafe-inline'";
  const done = new Promise<{ engine: string; digest: string; violations: string[] }>((resolve) => {
    addEventListener('message', function on(e: MessageEvent) {
      if (e.source !== frame.contentWindow) return;
      removeEventListener('message', on);
      resolve(e.data as { engine: string; digest: string; violations: string[] });
    });
  });
  frame.srcdoc = `<meta http-equiv="Content-Security-Policy" content="${csp}">
<script type="module">
  const violations = [];
  document.addEventListener('securitypolicyviolation', (e) => violations.push(e.effectiveDirective + ' ' + e.blockedURI));
  const m = await import('${new URL('./sm3.ts', import.meta.url).pathname}');
  const digest = Array.from(m.sm3(new TextEncoder().encode('abc')), (b) => b.toString(16).padStart(2, '0')).join('');
  await new Promise((r) => setTimeout(r, 100)); // violation events are queued as tasks
  parent.postMessage({ engine: m.sm3EngineInUse(), digest, violations }, '*');
</script>`;
  document.body.append(frame);
  try {
    const r = await done;
    equal(r.engine, 'js');
    equal(r.digest, '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
    equal(r.violations.join(';'), 'script-src wasm-eval');
  } finally {
    frame.remove();
  }
});

it('SM2 example of GM/T 0003.2 Appendix A.2 (fixed k) and a round trip on the recommended curve', () => {
  const curve = sm2Curve({
    p: big('8542D69E 4C044F18 E8B92435 BF6FF7DE 45728391 5C45517D 722EDB8B 08F1DFC3'),
    a: big('787968B4 FA32C3FD 2417842E 73BBFEFF 2F3C848B 6831D7E0 EC65228B 3937E498'),
    b: big('63E4C6D3 B23B0C84 9CF84241 484BFE48 F61D59A5 B16BA06E 6E12D1DA 27C5249A'),
    Gx: big('421DEBD6 1B62EAB6 746434EB C3CC315E 32220B3B ADD50BDC 4C4E6C14 7FEDD43D'),
    Gy: big('0680512B CBB42C07 D47349D2 153B70C4 E5D7FDFC BFA36EA1 A85841B9 E46E09A2'),
    n: big('8542D69E 4C044F18 E8B92435 BF6FF7DD 29772063 0485628D 5AE74EE7 C32E79B7'),
  });
  const d = fromHex('128B2FA8BD433C6C068C8D803DFF79792A519A55171B1B650C23661D15897263');
  const k = big('6CB28D99 385C175C 94F94E93 4817663F C176D925 DD72B727 260DBAAE 1FB2F96F');
  const { r, s } = sm2SignRaw(d, utf8('message digest'), { curve, id: 'ALICE123@YAHOO.COM', k });
  equal(r, big('40F1EC59 F793D9F4 9E09DCEF 49130D41 94F79FB1 EED2CAA5 5BACDB49 C4E755D1'));
  equal(s, big('6FC6DAC3 2C5D5CF1 0C77DFB2 0F7C2EB6 67A45787 2FB09EC5 6327A67E C7DEEBE7'));
  const key = sm2RandomPrivateKey();
  const sig = sm2Sign(key, utf8('四电'));
  equal(sm2Verify(sm2PublicKey(key), utf8('四电'), sig), true);
  equal(sm2Verify(sm2PublicKey(key), utf8('四電'), sig), false);
});
