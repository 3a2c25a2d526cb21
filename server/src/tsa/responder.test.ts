/** The TSA's hand-written DER, read back by an independent decoder (pkijs) and by openssl. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as pkijs from 'pkijs';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateDevPki, sm2TsaSigner, writeDevPki, type DevPkiSet } from '../pki/dev-pki';
import { tempDir } from '../test/harness';
import { blockSerials, TsaResponder } from './responder';

let pki: DevPkiSet;
let dir: string;
beforeAll(async () => {
  pki = await generateDevPki();
  dir = tempDir('sidian-tsa-');
  writeDevPki(dir, pki);
});

const query = (args: string[]) => {
  const f = path.join(dir, `q${Math.random()}.tsq`);
  fs.writeFileSync(path.join(dir, 'd.txt'), 'data');
  execFileSync('openssl', ['ts', '-query', '-data', path.join(dir, 'd.txt'), ...args, '-out', f], {
    stdio: 'pipe',
  });
  return new Uint8Array(fs.readFileSync(f));
};

describe('TsaResponder', () => {
  it('an SM3 request (openssl ts -query -sm3): an SM2 token when an SM2 TSA is configured, else badAlg; pkijs reads the SM2 token', async () => {
    const without = new TsaResponder({
      signer: { certificate: pki.tsa.der, chain: [pki.ca.der], key: pki.tsa.key },
      nextSerial: async () => 1n,
    });
    const refused = await without.respond(query(['-sm3']));
    expect([refused.granted, refused.failure]).toEqual([false, 'badAlg']);

    const withSm2 = new TsaResponder({
      signer: { certificate: pki.tsa.der, chain: [pki.ca.der], key: pki.tsa.key },
      sm2Signer: sm2TsaSigner(pki.sm2.tsa, pki.sm2.ca),
      nextSerial: async () => 2n,
    });
    const res = await withSm2.respond(query(['-sm3', '-cert']));
    expect(res.granted).toBe(true);
    const resp = pkijs.TimeStampResp.fromBER(res.reply.slice().buffer);
    const sd = new pkijs.SignedData({ schema: resp.timeStampToken!.content });
    expect(sd.signerInfos[0]!.digestAlgorithm.algorithmId).toBe('1.2.156.10197.1.401');
    expect(sd.signerInfos[0]!.signatureAlgorithm.algorithmId).toBe('1.2.156.10197.1.501');
    expect(new Uint8Array(sd.certificates![0]!.toSchema().toBER())).toEqual(pki.sm2.tsa.der);
    // openssl ts -reply -text reads it (its verification would need the SM2 ID, which ts has no option for)
    const f = path.join(dir, 'sm2.tsr');
    fs.writeFileSync(f, res.reply);
    const text = execFileSync('openssl', ['ts', '-reply', '-in', f, '-text'], { encoding: 'utf8' });
    expect(text).toMatch(/Hash Algorithm: sm3/);
    expect(text).toMatch(/Status: Granted/);
  });

  it('pkijs reads the reply; large serials and fixed times come out right; openssl verifies', async () => {
    const serial = 2n ** 70n + 5n;
    const tsa = new TsaResponder({
      signer: { certificate: pki.tsa.der, chain: [pki.ca.der], key: pki.tsa.key },
      nextSerial: async () => serial,
      now: () => new Date('2026-03-04T05:06:07.890Z'),
      includeChain: true,
    });
    const res = await tsa.respond(query(['-sha512', '-cert']));
    expect(res.granted).toBe(true);
    const resp = pkijs.TimeStampResp.fromBER(res.reply.slice().buffer);
    expect(resp.status.status).toBe(pkijs.PKIStatus.granted);
    const sd = new pkijs.SignedData({ schema: resp.timeStampToken!.content });
    expect(sd.certificates).toHaveLength(2);
    const tst = pkijs.TSTInfo.fromBER(sd.encapContentInfo.eContent!.valueBlock.valueHexView.slice().buffer);
    expect(tst.serialNumber.toBigInt()).toBe(serial);
    expect(tst.genTime.toISOString()).toBe('2026-03-04T05:06:07.000Z');
    expect(tst.messageImprint.hashAlgorithm.algorithmId).toBe('2.16.840.1.101.3.4.2.3');
    const f = path.join(dir, 'r.tsr');
    fs.writeFileSync(f, res.reply);
    const out = execFileSync(
      'openssl',
      ['ts', '-verify', '-data', path.join(dir, 'd.txt'), '-in', f, '-CAfile', path.join(dir, 'ca.pem')],
      { stdio: 'pipe' },
    );
    expect(out.toString()).toContain('Verification: OK');
  });

  it('block serials never repeat, even with concurrent callers and a failing source', async () => {
    let stored = 0n;
    let fail = false;
    const next = blockSerials(async (n) => {
      if (fail) throw new Error('db down');
      const first = stored + 1n;
      stored += BigInt(n);
      return first;
    }, 8);
    const a = await Promise.all(Array.from({ length: 50 }, () => next()));
    expect(new Set(a).size).toBe(50);
    fail = true;
    const rest = await Promise.allSettled(Array.from({ length: 20 }, () => next()));
    fail = false;
    const b = await Promise.all(Array.from({ length: 10 }, () => next()));
    const all = [...a, ...rest.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])), ...b];
    expect(new Set(all).size).toBe(all.length);
  });
});
