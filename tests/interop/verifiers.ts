/**
 * The independent verifiers from Debian, run for real: poppler's pdfsig, MuPDF's `mutool sign -v`,
 * `qpdf --check`, and the byte ranges / CMS of a signed file extracted for `openssl cms`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ToolSignature {
  /** Whether the tool reports the signature's cryptography as intact. */
  valid: boolean;
  /** Signer name as the tool prints it. */
  signer: string;
  text: string;
}

function run(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** `pdfsig FILE`: one entry per signature block it prints. Blank blocks (unsigned fields) are kept. */
export function pdfsig(file: string): ToolSignature[] {
  const { stdout } = run('pdfsig', [file]);
  return stdout
    .split(/^Signature #\d+:$/m)
    .slice(1)
    .map((text) => ({
      valid: /Signature Validation: Signature is Valid\./.test(text),
      signer: /Signer Certificate Common Name: (.*)$/m.exec(text)?.[1]?.trim() ?? '',
      text,
    }));
}

/** `mutool sign -v FILE`: one entry per signed widget it verifies. */
export function mutoolSign(file: string): ToolSignature[] {
  const { stdout, stderr } = run('mutool', ['sign', '-v', file]);
  return (stdout + stderr)
    .split(/^Verifying signature \d+:$/m)
    .slice(1)
    .filter((text) => text.trim().length > 0)
    .map((text) => ({
      valid:
        /The document is unchanged since signing\.|The signature is valid but there have been edits since signing\./.test(text) &&
        !/Digest error|invalidated/.test(text),
      signer: /cn=([^,\n]*)/.exec(text)?.[1]?.trim() ?? '',
      text,
    }));
}

/** `qpdf --check`: exit 0 and no error or warning. */
export function qpdfCheck(file: string): { ok: boolean; output: string } {
  const r = run('qpdf', ['--check', file]);
  return { ok: r.status === 0 && /No syntax or stream encoding errors found/.test(r.stdout), output: r.stdout + r.stderr };
}

export interface ExtractedSignature {
  byteRange: [number, number, number, number];
  /** The CMS DER (without the zero padding of the reservation). */
  cms: Uint8Array;
  /** The signed bytes: [0, a) followed by [b, b + c). */
  signedBytes: Uint8Array;
}

/** Every signature in a file, in file order, by its /ByteRange (read textually, as other tools do). */
export function extractSignatures(file: string): ExtractedSignature[] {
  const bytes = new Uint8Array(readFileSync(file));
  const text = Buffer.from(bytes).toString('latin1');
  const out: ExtractedSignature[] = [];
  const re = /\/ByteRange\s*\[\s*0\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const [a, b, c] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const hex = text.slice(a + 1, b - 1);
    const der = Buffer.from(hex, 'hex');
    out.push({
      byteRange: [0, a, b, c],
      cms: new Uint8Array(der.subarray(0, derLength(der))),
      signedBytes: new Uint8Array(Buffer.concat([bytes.subarray(0, a), bytes.subarray(b, b + c)])),
    });
  }
  return out;
}

/** Total length of the first DER TLV in `b`. */
export function derLength(b: Uint8Array): number {
  const first = b[1]!;
  if (first < 0x80) return 2 + first;
  const n = first & 0x7f;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + b[2 + i]!;
  return 2 + n + len;
}
