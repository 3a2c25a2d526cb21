/**
 * `sidian extend IN.pdf -o OUT.pdf --ltv [--tsa URL] [--trust PEM]... [--crl FILE]... [--ocsp FILE]... [--offline]`
 * PAdES B-LT (a DSS with the chains and their CRLs / OCSP responses, fetched from the
 * certificates' distribution points and OCSP responders, or given) and, with --tsa, B-LTA (a
 * document time-stamp). Incremental: IN is a byte-exact prefix of OUT. Writes nothing unless it succeeds.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { extendPdf } from '@sidian/core';
import { pemToDer } from '../../../packages/core/src/verify/trust';
import { UsageError, parse } from './args';

export async function extendCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    output: { type: 'string', short: 'o' },
    ltv: { type: 'boolean' },
    tsa: { type: 'string' },
    trust: { type: 'string', multiple: true },
    crl: { type: 'string', multiple: true },
    ocsp: { type: 'string', multiple: true },
    offline: { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (positionals.length !== 1)
    throw new UsageError('请给出一个输入文件 extend takes exactly one input file');
  if (!values.output) throw new UsageError('请用 -o 指定输出文件 extend needs -o OUT.pdf');
  if (!values.ltv)
    throw new UsageError('请给出 --ltv extend needs --ltv (the only kind of extension so far)');
  if (values.tsa !== undefined && !/^https?:\/\//i.test(values.tsa))
    throw new UsageError(`--tsa 不是 http(s) 地址 is not an http(s) URL: ${values.tsa}`);
  const pdf = new Uint8Array(readFileSync(positionals[0]!));
  const certificates = (values.trust ?? []).flatMap((f) => pemToDer(readFileSync(f, 'utf8')));
  // CRLs and OCSP responses: DER or PEM files
  const derOrPem = (f: string) => {
    const b = new Uint8Array(readFileSync(f));
    return b[0] === 0x2d /* - */ ? pemToDer(new TextDecoder().decode(b)) : [b];
  };
  const result = await extendPdf(pdf, {
    tsa: values.tsa,
    certificates,
    crls: (values.crl ?? []).flatMap(derOrPem),
    ocsps: (values.ocsp ?? []).flatMap(derOrPem),
    fetch: values.offline ? false : undefined,
  });
  const out = values.output;
  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, result.pdf);
    renameSync(tmp, out);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  const { added } = result;
  if (values.json) process.stdout.write(JSON.stringify({ output: out, level: result.level, added }) + '\n');
  else
    process.stdout.write(
      `${out}: ${result.level} — 长期验证数据已添加 long-term validation data added ` +
        `(${added.certificates} certificate(s), ${added.crls} CRL(s), ${added.ocsps} OCSP response(s)` +
        `${added.fetched.length ? `; fetched ${added.fetched.join(', ')}` : ''})\n`,
    );
  return 0;
}
