/**
 * One bench/sign case in a fresh process (so VmHWM is this case's peak):
 *
 *   node --import tsx bench/sign-worker.ts TOOL INPUT OUTPUT P12 PASSWORD SEAL_PNG WARM
 *
 * TOOL: sidian-seal | sidian-invisible | libpdf | signpdf | io-only (read and write, no signing).
 * Modules are imported and the signer is made first; then the baseline RSS is read, and the timed
 * window runs from reading INPUT to the signed file written. WARM more in-process signings of the
 * same input follow (after the peak was read) to show warmed-up in-process times. Prints one JSON line.
 *
 * Sidian runs as `sidian sign` does (`signFile`): the input is opened, not read; signing reads the
 * cross-reference and the objects it needs and hashes the rest from the file while the kernel copies
 * the input to the output; the update is appended. Its in-process time is the whole window (the
 * signing call itself reads the file), and its warm runs sign from the open file again.
 * The other tools read the input whole, sign in memory and write the result.
 */
import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { cpuMs, nowMs, procMemory } from './common';

export interface SignWorkerResult {
  tool: string;
  /** Read input to signed file written, ms. */
  totalMs: number;
  /** CPU time (user + system, all threads) in that window, ms. */
  cpuMs: number;
  /** In-process signing only (no file I/O), ms: the first (cold) signing in this process. */
  signMs: number;
  /** Further in-process signings of the same bytes in this process, ms. */
  warmMs: number[];
  readMs: number;
  writeMs: number;
  /** MiB: RSS before reading the input, and peak RSS (VmHWM) when the file was written. */
  baselineRss: number;
  peakRss: number;
  outputBytes: number;
}

type SignFn = (pdf: Uint8Array) => Promise<Uint8Array[]>;

/** A tool that signs files itself (Sidian): the window is one call; `again` is a warm in-process signing. */
interface FileTool {
  signFile(input: string, output: string): Promise<void>;
  again(input: string): Promise<void>;
}

function writeAll(fd: number, b: Uint8Array): void {
  let o = 0;
  while (o < b.length) o += writeSync(fd, b, o, b.length - o);
}

async function prepare(tool: string, p12: Uint8Array, password: string, seal: Uint8Array): Promise<SignFn | FileTool> {
  switch (tool) {
    case 'sidian-seal':
    case 'sidian-invisible': {
      const core = await import('@sidian/core');
      const { signFile } = await import('../server/src/cli/sign');
      const { openFile } = await import('../server/src/file-source');
      const signer = await core.signerFromPkcs12(p12, password);
      const image = tool === 'sidian-seal' ? seal : undefined;
      return {
        signFile: async (input, output) => void (await signFile(input, output, { signer, image })),
        again: async (input) => {
          const file = openFile(input);
          try {
            await core.signPdfUpdate(file, { signer, image });
          } finally {
            file.close();
          }
        },
      };
    }
    case 'libpdf': {
      const { PDF, P12Signer } = await import('@libpdf/core');
      const signer = await P12Signer.create(p12, password);
      // @libpdf/core 0.4 signs invisibly (its SignOptions have no appearance).
      return async (pdf) => {
        const doc = await PDF.load(pdf);
        const { bytes } = await doc.sign({ signer, reason: 'bench' });
        return [bytes];
      };
    }
    case 'signpdf': {
      const { PDFDocument } = await import('pdf-lib');
      const { pdflibAddPlaceholder } = await import('@signpdf/placeholder-pdf-lib');
      const { P12Signer } = await import('@signpdf/signer-p12');
      const mod = (await import('@signpdf/signpdf')) as unknown as {
        default: { sign?: unknown; default?: { sign: unknown } };
      };
      const signpdf = (typeof mod.default.sign === 'function' ? mod.default : mod.default.default) as {
        sign(pdf: Buffer, signer: unknown): Promise<Buffer>;
      };
      // The documented flow: pdf-lib load, pdflibAddPlaceholder, save, signpdf.sign. A P12Signer
      // is single-use (it consumes its forge buffer; the PKCS#12 is decrypted inside sign()).
      return async (pdf) => {
        const signer = new P12Signer(Buffer.from(p12), { passphrase: password });
        const doc = await PDFDocument.load(pdf);
        pdflibAddPlaceholder({
          pdfDoc: doc,
          reason: 'bench',
          contactInfo: 'bench@example.org',
          name: 'Bench',
          location: 'Bench',
        });
        const withPlaceholder = await doc.save();
        const signed = await signpdf.sign(
          Buffer.from(withPlaceholder.buffer, withPlaceholder.byteOffset, withPlaceholder.byteLength),
          signer,
        );
        return [signed];
      };
    }
    case 'io-only':
      // No signing: the read-whole-file-then-write cost that every in-memory signer pays.
      return async (pdf) => [pdf];
    default:
      throw new Error(`unknown tool ${tool}`);
  }
}

async function main(): Promise<void> {
  const [tool, input, output, p12File, password, sealFile, warmArg] = process.argv.slice(2);
  if (!tool || !input || !output || !p12File || password === undefined || !sealFile) {
    throw new Error('usage: sign-worker.ts TOOL INPUT OUTPUT P12 PASSWORD SEAL_PNG [WARM]');
  }
  const warm = Number(warmArg ?? 0);
  const sign = await prepare(
    tool,
    new Uint8Array(readFileSync(p12File)),
    password,
    new Uint8Array(readFileSync(sealFile)),
  );

  const baseline = procMemory();
  const c0 = cpuMs();
  const t0 = nowMs();
  let t1: number;
  let t2: number;
  let outputBytes: number;
  let pdf: Uint8Array | undefined;
  if (typeof sign === 'function') {
    pdf = readFileSync(input);
    t1 = nowMs();
    const parts = await sign(pdf);
    t2 = nowMs();
    const fd = openSync(output, 'w');
    for (const p of parts) writeAll(fd, p);
    closeSync(fd);
    outputBytes = parts.reduce((n, p) => n + p.length, 0);
  } else {
    await sign.signFile(input, output);
    t1 = t0;
    t2 = nowMs();
    outputBytes = statSync(output).size;
  }
  const t3 = nowMs();
  const c3 = cpuMs();
  const peak = procMemory();

  const warmMs: number[] = [];
  for (let i = 0; i < warm; i++) {
    const s = nowMs();
    if (typeof sign === 'function') await sign(pdf!);
    else await sign.again(input);
    warmMs.push(nowMs() - s);
  }
  const result: SignWorkerResult = {
    tool,
    totalMs: t3 - t0,
    cpuMs: c3 - c0,
    signMs: t2 - t1,
    warmMs,
    readMs: t1 - t0,
    writeMs: t3 - t2,
    baselineRss: baseline.rss,
    peakRss: peak.hwm,
    outputBytes,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
