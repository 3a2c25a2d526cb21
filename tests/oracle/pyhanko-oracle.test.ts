/**
 * The pyHanko oracle in `npm test` (issue 14). CI has no pyHanko: this test reads the checked-in
 * table (tests/oracle/pyhanko-table.json, written by `npm run oracle:pyhanko`), runs Sidian as it is
 * now on the very bytes pyHanko judged, and fails on any disagreement on integrity, modifications or
 * the presence of a signature that the table gives no reason for. It also checks that the table
 * covers the current corpus and every file of the attack catalog, by hash.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS_DIR } from '../fixtures/paths';
import { makeTempDir, removeDir } from '../helpers/openssl-pki';
import { startOpensslTsa } from '../helpers/tsa-shim';
import { createTestPki } from '../verify/generator';
import { buildCatalog } from './catalog';
import {
  GENERATED_DIR,
  TABLE_FILE,
  compareFile,
  generatedFileName,
  loadTableFile,
  ourVerdicts,
  sha256,
  storedVerdict,
  tableReasons,
  type Table,
} from './pyhanko-table';

const table = JSON.parse(readFileSync(TABLE_FILE, 'utf8')) as Table;
const RERUN = 'run `npm run oracle:pyhanko` (see tests/oracle/README.md)';

describe('pyHanko oracle table', () => {
  it('was made by pyHanko at a pinned commit, over corpus and generated files', () => {
    expect(table.pyhanko.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(table.files.filter((f) => f.file.startsWith('corpus/')).length).toBeGreaterThan(20);
    expect(table.files.filter((f) => f.file.startsWith('generated/')).length).toBeGreaterThan(80);
  });

  it('covers every file of the corpus, by hash', () => {
    const manifest = JSON.parse(readFileSync(path.join(CORPUS_DIR, 'manifest.json'), 'utf8')) as {
      files: { file: string; sha256: string }[];
    };
    const byName = new Map(table.files.map((f) => [f.file, f.sha256]));
    const missing = manifest.files
      .filter((f) => byName.get(`corpus/${f.file}`) !== sha256(readFileSync(path.join(CORPUS_DIR, f.file))))
      .map((f) => f.file);
    expect(missing, `corpus files the table does not cover with their current bytes: ${RERUN}`).toEqual([]);
  });

  describe('covers every file of the attack catalog', () => {
    let dir: string;
    let close: (() => Promise<void>) | undefined;
    beforeAll(() => {
      dir = makeTempDir('sidian-pyhanko-table-');
    });
    afterAll(async () => {
      await close?.();
      removeDir(dir);
    });

    it('every recipe the catalog makes now has a stored file, hashed as the table says', async () => {
      const tsa = await startOpensslTsa(dir);
      close = () => tsa.close();
      const recipes = (await buildCatalog(await createTestPki(dir), tsa.url)).map(
        (c) => `generated/${c.name}`,
      );
      const inTable = new Map(
        table.files.filter((f) => f.file.startsWith('generated/')).map((f) => [f.file, f.sha256]),
      );
      expect(
        recipes.filter((r) => !inTable.has(r)),
        `catalog recipes missing from the table: ${RERUN}`,
      ).toEqual([]);
      expect(
        [...inTable.keys()].filter((r) => !recipes.includes(r)),
        `table entries the catalog no longer makes: ${RERUN}`,
      ).toEqual([]);
      for (const [name, hash] of inTable) {
        const stored = path.join(GENERATED_DIR, generatedFileName(name.slice('generated/'.length)));
        expect(existsSync(stored), stored).toBe(true);
        expect(sha256(loadTableFile(name)), name).toBe(hash);
      }
    }, 120_000);
  });

  it('Sidian, run now on the same bytes, disagrees with pyHanko only where the table says why', async () => {
    const reasons = tableReasons(table);
    const unexplained: string[] = [];
    let agree = 0;
    let explained = 0;
    for (const f of table.files) {
      const bytes = loadTableFile(f.file);
      expect(sha256(bytes), f.file).toBe(f.sha256);
      const ours = await ourVerdicts(bytes);
      const theirs = f.rows
        .filter((r) => r.pyhanko)
        .map((r) => ({ field: r.theirField ?? r.field, verdict: storedVerdict(r.pyhanko!) }));
      for (const r of compareFile(f.file, ours, theirs, reasons)) {
        if (!r.disagree.length) agree++;
        else if (r.disagree.every((a) => r.reasons[a])) explained++;
        else
          unexplained.push(
            `${f.file}#${r.field}: ${r.disagree.filter((a) => !r.reasons[a]).join(', ')}; Sidian ${JSON.stringify(r.ours)}, pyHanko ${JSON.stringify(r.pyhanko)}`,
          );
      }
    }
    console.log(
      `pyHanko oracle, Sidian now: agree ${agree}, disagree with a reason ${explained}, without ${unexplained.length}`,
    );
    expect(
      unexplained,
      'a disagreement with pyHanko needs a reason in tests/oracle/pyhanko-reasons.json (then `npm run oracle:pyhanko -- --reuse`), or a fix',
    ).toEqual([]);
    expect(agree).toBeGreaterThan(100);
  }, 120_000);

  it('a disagreement without a reason fails (the check itself)', () => {
    const f = table.files.find((x) => x.file === 'generated/classic/add-page')!;
    const ours = {
      error: null,
      signatures: f.rows.map((r) => ({
        field: r.field,
        verdict: { ...r.ours!, modificationsAfter: 'none' as const },
      })),
    };
    const theirs = f.rows.map((r) => ({ field: r.field, verdict: storedVerdict(r.pyhanko!) }));
    const rows = compareFile(f.file, ours, theirs, tableReasons(table));
    // a Sidian that stopped seeing the added page would disagree with pyHanko, with no reason on file
    expect(rows[0]!.disagree).toEqual(['modifications']);
    expect(rows[0]!.reasons).toEqual({});
  });
});
