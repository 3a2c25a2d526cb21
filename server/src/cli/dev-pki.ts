/** `sidian dev-pki --out DIR [--password PW]`: a demo CA, seal, citizen and TSA certificates as PEM/P12 files. */
import { parse, UsageError } from './args';
import { DEMO_DEPARTMENT, generateDevPki, writeDevPki } from '../pki/dev-pki';

export async function devPkiCommand(args: string[]): Promise<number> {
  const { values } = parse(args, { out: { type: 'string', short: 'o' }, password: { type: 'string' } });
  if (!values.out) throw new UsageError('dev-pki needs --out DIR');
  const set = await generateDevPki({ citizen: true, password: values.password });
  const files = writeDevPki(values.out, set);
  process.stdout.write(
    `development PKI for ${DEMO_DEPARTMENT.name} (${DEMO_DEPARTMENT.creditCode}) written to ${values.out}:\n` +
      files.map((f) => `  ${f}\n`).join('') +
      `PKCS#12 password in seal.p12.password and citizen.p12.password; sm2-*: the 国密 (SM2-with-SM3) set. For testing only.\n`,
  );
  return 0;
}
