/**
 * `npm run oracle:pyhanko`: runs pyHanko's validator beside Sidian on every corpus file
 * (tests/corpus/manifest.json) and every file of the attack catalog (tests/oracle/catalog.ts), and
 * writes tests/oracle/pyhanko-table.json with its view pyhanko-table.md. The generated files it
 * judged are stored (gzip) under tests/oracle/generated/ so that the table names them by hash and
 * the test can re-run Sidian on the same bytes. pyHanko is built by scripts/pyhanko-oracle/setup.sh.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { generateImages } from '../fixtures/images';
import { CORPUS_DIR, IMAGES_DIR, INPUTS_DIR, REPO_ROOT } from '../fixtures/paths';
import { generateInputPdfs } from '../fixtures/pdfs';
import { makeTempDir, removeDir } from '../helpers/openssl-pki';
import { startOpensslTsa } from '../helpers/tsa-shim';
import { createTestPki } from '../verify/generator';
import { buildCatalog } from './catalog';
import {
  GENERATED_DIR,
  REASONS_FILE,
  TABLE_FILE,
  TABLE_VIEW,
  compareFile,
  countRows,
  generatedFileName,
  loadTableFile,
  storedVerdict,
  ourVerdicts,
  sha256,
  tableMarkdown,
  theirVerdicts,
  type PyhankoFile,
  type TheirVerdict,
  type Table,
  type TableFile,
} from './pyhanko-table';

const PYHANKO_TIMEOUT_MS = 60_000;
const PYHANKO_MEMORY_KB = 2_000_000;
const setup = path.join(REPO_ROOT, 'scripts', 'pyhanko-oracle', 'setup.sh');
const pins = readFileSync(setup, 'utf8');
const commit = /PYHANKO_COMMIT=([0-9a-f]{40})/.exec(pins)![1]!;
const uritools = /URITOOLS_COMMIT=([0-9a-f]{40})/.exec(pins)![1]!;

/**
 * `npm run oracle:pyhanko -- --reuse`: keep pyHanko's verdicts and the stored files of the current
 * table and re-run only Sidian and the reasons (pyHanko takes minutes; Sidian and the reasons
 * change more often).
 */
const reuse = process.argv.includes('--reuse');

await Promise.all([generateInputPdfs(INPUTS_DIR), generateImages(IMAGES_DIR)]);
const work = makeTempDir('sidian-pyhanko-oracle-');
const tsa = await startOpensslTsa(work);
try {
  const files: { name: string; pdf: Uint8Array; onDisk: string }[] = [];
  const theirs = new Map<
    string,
    { error: string | null; signatures: { field: string; verdict: TheirVerdict }[] }
  >();
  if (reuse) {
    const old = JSON.parse(readFileSync(TABLE_FILE, 'utf8')) as Table;
    for (const f of old.files) {
      files.push({ name: f.file, pdf: loadTableFile(f.file), onDisk: f.file });
      theirs.set(f.file, {
        error: f.pyhankoError,
        signatures: f.rows
          .filter((r) => r.pyhanko)
          .map((r) => ({ field: r.theirField ?? r.field, verdict: storedVerdict(r.pyhanko!) })),
      });
    }
  } else {
    // the files: the corpus as carried, the catalog freshly generated and stored
    const manifest = JSON.parse(readFileSync(path.join(CORPUS_DIR, 'manifest.json'), 'utf8')) as {
      files: { file: string }[];
    };
    for (const f of manifest.files)
      files.push({
        name: `corpus/${f.file}`,
        pdf: new Uint8Array(readFileSync(path.join(CORPUS_DIR, f.file))),
        onDisk: path.join(CORPUS_DIR, f.file),
      });
    const pki = await createTestPki(work);
    const catalog = await buildCatalog(pki, tsa.url);
    rmSync(GENERATED_DIR, { recursive: true, force: true });
    mkdirSync(GENERATED_DIR, { recursive: true });
    const plain = path.join(work, 'plain');
    mkdirSync(plain);
    for (const c of catalog) {
      writeFileSync(path.join(GENERATED_DIR, generatedFileName(c.name)), gzipSync(c.pdf, { level: 9 }));
      const onDisk = path.join(plain, generatedFileName(c.name).replace(/\.gz$/, ''));
      writeFileSync(onDisk, c.pdf);
      files.push({ name: `generated/${c.name}`, pdf: c.pdf, onDisk });
    }

    // pyHanko, one process per file, bounded: hostile files (a cross-reference stream declaring
    // 2^31 entries) make it allocate without end; such a file is reported as pyHanko's error
    const python = execFileSync('bash', [setup], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
      .trim()
      .split('\n')
      .pop()!;
    const validate = path.join(REPO_ROOT, 'scripts', 'pyhanko-oracle', 'validate.py');
    const judge = (f: { name: string; onDisk: string }): Promise<void> =>
      new Promise((resolve) => {
        execFile(
          'bash',
          ['-c', `ulimit -v ${PYHANKO_MEMORY_KB}; exec "$0" "$@"`, python, validate, f.onDisk],
          { encoding: 'utf8', timeout: PYHANKO_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
          (err, stdout) => {
            const line = stdout.split('\n').find((l) => l.startsWith('{'));
            const py: PyhankoFile = line
              ? (JSON.parse(line) as PyhankoFile)
              : {
                  file: f.onDisk,
                  error: `pyHanko did not finish (${err?.killed ? 'timeout' : 'out of memory or crashed'})`,
                  signatures: [],
                };
            theirs.set(f.name, { error: py.error, signatures: theirVerdicts(py) });
            resolve();
          },
        );
      });
    const queue = [...files];
    await Promise.all(
      [0, 1].map(async () => {
        for (let f = queue.shift(); f; f = queue.shift()) await judge(f);
      }),
    );
  }

  const reasons: Record<string, string> = existsSync(REASONS_FILE)
    ? JSON.parse(readFileSync(REASONS_FILE, 'utf8'))
    : {};
  const tableFiles: TableFile[] = [];
  for (const f of files) {
    const py = theirs.get(f.name);
    if (!py) throw new Error(`pyHanko gave no answer for ${f.name}`);
    const ours = await ourVerdicts(f.pdf);
    tableFiles.push({
      file: f.name,
      sha256: sha256(f.pdf),
      oursError: ours.error,
      pyhankoError: py.error,
      rows: compareFile(f.name, ours, py.signatures, reasons),
    });
  }
  const table: Table = {
    pyhanko: { repository: 'github.com/MatthiasValvekens/pyHanko', commit, uritools },
    ranAt: new Date().toISOString(),
    counts: countRows(tableFiles),
    files: tableFiles,
  };
  writeFileSync(TABLE_FILE, JSON.stringify(table, null, 1) + '\n');
  writeFileSync(TABLE_VIEW, tableMarkdown(table));
  const c = table.counts;
  console.log(
    `pyHanko oracle: ${c.files} files, ${c.signatures} signatures: agree ${c.agree}, disagree with a reason ${c.disagreeWithReason}, disagree without a reason ${c.disagreeWithoutReason}`,
  );
  for (const f of tableFiles)
    for (const r of f.rows)
      for (const a of r.disagree)
        if (!r.reasons[a])
          console.log(
            `  no reason: "${f.file}#${r.field}:${a}"  Sidian ${JSON.stringify(r.ours)}  pyHanko ${JSON.stringify(r.pyhanko)}`,
          );
} finally {
  await tsa.close();
  removeDir(work);
}
