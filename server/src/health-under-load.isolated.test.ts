/**
 * The event loop stays free on a fresh server's first verification (no one-time work left for it)
 * and while large verifications run in the worker pool: `/api/health` answers within 100 ms
 * throughout. Timing-bound, so it runs alone (vitest.isolated.config.ts, after the other suites in
 * `npm test`): nothing but this test loads the machine.
 */
import { execFile, spawn as spawnChild, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, spawnServer, stopChild, tempDir } from './test/harness';
import { bigPdf, sealWith } from './test/pdfs';

const execFileAsync = promisify(execFile);
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

async function spawn(dataDir: string) {
  const s = await spawnServer(dataDir, await freePort(), {}, {});
  children.push(s.child);
  return s;
}

/**
 * Bound on the server's event-loop delay from listen through the first verification. Measured on
 * the shared 2-core development box (load average 2-5): 18-27 ms, once 45 ms; the same test before
 * the server measured from listen and signed its CRLs up front read 47-156 ms (sealRoutes making
 * the seal authority, the route set being registered, in one synchronous stretch).
 */
const FIRST_VERIFICATION_MAX_MS = 60;

describe('sidian serve under verification load', { timeout: 300_000 }, () => {
  it(`the first verification on a fresh server stalls the event loop under ${FIRST_VERIFICATION_MAX_MS} ms; while 8 large verifications run, /api/health answers within 100 ms`, async () => {
    const dataDir = tempDir();
    const { child, url } = await spawn(dataDir);
    const big = await sealWith(dataDir, bigPdf(12 * 1024 * 1024));
    // the first verification on the fresh server (it also warms up the workers)
    expect(
      (await (await fetch(`${url}/api/verify`, { method: 'POST', body: big as BodyInit })).json()).status,
    ).toBe('valid');
    // The server's event-loop figure (for operators: a department API key) is the max over its
    // last 10-20 s since it listens, so here it holds the start-up after listen and the first
    // verification: one-time work left for them (a module loaded, a key or CRL made, a table built
    // on first use) would show as one long stall.
    const { apiKey: operatorKey } = JSON.parse(
      fs.readFileSync(path.join(dataDir, 'dev-department.json'), 'utf8'),
    ) as { apiKey: string };
    const health = async () =>
      (await (await fetch(`${url}/api/health`, { headers: { 'x-api-key': operatorKey } })).json()) as {
        uptimeSeconds: number;
        eventLoopDelayMs: { max: number };
      };
    const firstVerification = await health();
    console.log(
      `[verify-load] event-loop delay max since listen, over start-up and the first verification: ${firstVerification.eventLoopDelayMs.max} ms`,
    );
    // the figure is the max over the last 10-20 s: under 20 s after listen it covers all since then
    expect(firstVerification.uptimeSeconds).toBeLessThan(20);
    expect(firstVerification.eventLoopDelayMs.max).toBeLessThan(FIRST_VERIFICATION_MAX_MS);
    // probe from a separate process (curl), so the test's own HTTP client does not colour the numbers
    const probeFile = path.join(dataDir, 'probe.txt');
    const prober = spawnChild(
      'bash',
      [
        '-c',
        `while true; do curl -s -o /dev/null -w '%{time_total}\\n' ${url}/api/health >> ${probeFile}; sleep 0.02; done`,
      ],
      {
        stdio: 'ignore',
      },
    );
    children.push(prober);
    await new Promise((r) => setTimeout(r, 300));
    const baseline = fs.existsSync(probeFile)
      ? fs.readFileSync(probeFile, 'utf8').trim().split('\n').length
      : 0;
    // Eight clients post the PDF at once, each its own curl process below normal priority: on two
    // cores the clients' own sending would otherwise compete with the server for the CPU, which
    // says nothing about the server (its clients are elsewhere).
    const bigFile = path.join(dataDir, 'big.pdf');
    fs.writeFileSync(bigFile, big);
    const t0 = performance.now();
    const statuses = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const { stdout } = await execFileAsync(
          'nice',
          [
            '-n',
            '10',
            'curl',
            '-sS',
            '--data-binary',
            `@${bigFile}`,
            '-H',
            'content-type: application/pdf',
            `${url}/api/verify`,
          ],
          { maxBuffer: 64 * 1024 * 1024 },
        );
        return (JSON.parse(stdout) as { status: string }).status;
      }),
    );
    const elapsed = performance.now() - t0;
    await stopChild(prober, 'SIGKILL');
    const loop = (await health()).eventLoopDelayMs;
    const latencies = fs
      .readFileSync(probeFile, 'utf8')
      .trim()
      .split('\n')
      .slice(baseline)
      .map((x) => Number(x) * 1000);
    await stopChild(child);
    expect(statuses).toEqual(Array(8).fill('valid'));
    latencies.sort((a, b) => a - b);
    console.log(
      `[verify-load] load average ${os.loadavg()[0]!.toFixed(1)}; 8 × ${(big.length / 1e6).toFixed(1)} MB verified in ${elapsed.toFixed(0)} ms; /api/health ${latencies.length} probes, ` +
        `median ${latencies[latencies.length >> 1]!.toFixed(1)} ms, max ${latencies[latencies.length - 1]!.toFixed(1)} ms; server event-loop delay max ${loop.max} ms; ` +
        JSON.stringify(latencies.map((x) => Math.round(x))),
    );
    expect(latencies.length).toBeGreaterThan(5);
    expect(latencies[latencies.length >> 1]!).toBeLessThan(100);
    // The hard bound, unconditionally: this file runs alone (vitest.isolated.config.ts), after the
    // other suites, so only this test's own load is on the machine.
    expect(latencies[latencies.length - 1]!).toBeLessThan(100);
    // the server's own measure: its event loop never stalled for 100 ms while the workers verified
    expect(loop.max).toBeLessThan(100);
  });
});
