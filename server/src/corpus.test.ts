/**
 * POST /api/verify gives the same report as `sidian verify --json` for every file of the shared
 * corpus (tests/corpus), with the same trust anchors; unreadable files are 4xx JSON errors
 * with the code the CLI reports.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, startTestServer, type TestServer } from './test/harness';

const CORPUS = path.join(REPO_ROOT, 'tests', 'corpus');
const files = (
  JSON.parse(fs.readFileSync(path.join(CORPUS, 'manifest.json'), 'utf8')) as { files: { file: string }[] }
).files.map((f) => path.join(CORPUS, f.file));

/** The validation time defaults to "now", which differs between the two runs by a few seconds. */
const normalise = (r: unknown) =>
  JSON.parse(JSON.stringify(r).replace(/validation time \d{4}-\d\d-\d\dT[\d:.]+Z/g, 'validation time (now)'));

describe.skipIf(files.length === 0)(
  'POST /api/verify matches sidian verify --json on the corpus',
  { timeout: 240_000 },
  () => {
    let s: TestServer;
    let cli: Record<string, unknown>;
    beforeAll(async () => {
      s = await startTestServer();
      const trust = path.join(s.dataDir, 'pki', 'ca.pem');
      const r = runCli(['verify', '--json', '--trust', trust, ...files]);
      cli = JSON.parse(r.stdout) as Record<string, unknown>;
    });
    afterAll(async () => {
      await s?.close();
    });

    it(`all ${files.length} files`, async () => {
      let compared = 0;
      for (const file of files) {
        const r = await fetch(`${s.url}/api/verify`, {
          method: 'POST',
          body: fs.readFileSync(file),
          headers: { 'content-type': 'application/pdf' },
        });
        const body = (await r.json()) as Record<string, unknown>;
        const expected = cli[file] as Record<string, unknown>;
        expect(expected, file).toBeDefined();
        if ('error' in expected) {
          expect(r.status, file).toBeGreaterThanOrEqual(400);
          expect(r.status, file).toBeLessThan(500);
          expect(body.error, file).toBe(expected.error);
        } else {
          expect(r.status, file).toBe(200);
          expect(normalise(body), file).toEqual(normalise(expected));
        }
        compared++;
      }
      expect(compared).toBe(files.length);
    });
  },
);
