/**
 * Bounded work (issue 14) against the real `sidian serve` over HTTP: declaration bombs posted
 * without login while a normal verification runs get a typed 422 and leave the server answering;
 * a real out-of-memory kills only its worker process; a job whose client has gone is cancelled.
 * Timing-bound (the normal verification answers within 2 s), so it runs alone
 * (vitest.isolated.config.ts).
 */
import { spawn as spawnChild, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  heapHogPdf,
  objectStreamBomb,
  xrefSizeBombUpdate,
} from '../../packages/core/src/pdf/bombs.test-helpers';
import { freePort, spawnServer, stopChild, tempDir } from './test/harness';
import { minimalPdf, sealWith } from './test/pdfs';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

const NORMAL_WITHIN_MS = 2_000;

async function start(env: Record<string, string>) {
  const dataDir = tempDir('sidian-bounded-');
  const s = await spawnServer(dataDir, await freePort(), env);
  children.push(s.child);
  const normal = await sealWith(dataDir, minimalPdf());
  // every worker process has loaded the verifier before anything is timed
  const workers = Number(env.SIDIAN_VERIFY_WORKERS ?? 2);
  for (let round = 0; round < 2; round++)
    await Promise.all(Array.from({ length: workers }, () => post(s.url, normal)));
  return { ...s, dataDir, normal };
}

async function post(url: string, body: Uint8Array, signal?: AbortSignal) {
  const t0 = performance.now();
  const r = await fetch(`${url}/api/verify`, { method: 'POST', body: body as BodyInit, signal });
  const json = (await r.json()) as { status?: string; error?: string; message?: string };
  return { http: r.status, json, ms: performance.now() - t0 };
}

const kb = (m: RegExpExecArray | null) => (m ? Math.round(Number(m[1]) / 1024) : NaN);
/** The server process's own peak RSS (MB). */
const peakRss = (pid: number) => kb(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8')));
const rss = (pid: number) => {
  try {
    return kb(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8')));
  } catch {
    return 0;
  }
};
/** The server's worker processes (its children). */
const workerPids = (pid: number): number[] =>
  fs
    .readdirSync(`/proc/${pid}/task`)
    .flatMap((t) => fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/))
    .filter(Boolean)
    .map(Number)
    .sort((a, b) => a - b);
/** CPU time a process has used (ms; utime + stime from /proc/PID/stat, at 100 ticks a second). */
const cpuMs = (pid: number) => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};
/** Samples the RSS of the server and its workers together; the stop function gives the peak (MB). */
function sampleTree(pid: number): () => number {
  let peak = 0;
  const t = setInterval(() => {
    try {
      peak = Math.max(peak, rss(pid) + workerPids(pid).reduce((n, c) => n + rss(c), 0));
    } catch {
      /* a worker exiting between the two reads */
    }
  }, 20);
  return () => {
    clearInterval(t);
    return peak;
  };
}

describe('sidian serve under declaration bombs', { timeout: 300_000 }, () => {
  it('the xref-size bomb and the object-stream bomb, posted while a normal verification runs: 422 LIMIT_EXCEEDED each, the normal one valid within 2 s, the server alive', async () => {
    const s = await start({ SIDIAN_VERIFY_WORKERS: '3' });
    const xref = xrefSizeBombUpdate(s.normal, 9_500_000);
    const objstm = objectStreamBomb(8, 128 * 1024 * 1024);
    const before = peakRss(s.child.pid!);
    const stop = sampleTree(s.child.pid!);
    const [a, b, n] = await Promise.all([
      post(s.url, xref),
      post(s.url, objstm),
      new Promise((r) => setTimeout(r, 50)).then(() => post(s.url, s.normal)),
    ]);
    const treePeak = stop();
    console.log(
      `[bombs] xref ${(xref.length / 1024).toFixed(0)} KB: ${a.http} in ${a.ms.toFixed(0)} ms; objstm ${(objstm.length / 1024).toFixed(0)} KB: ${b.http} in ${b.ms.toFixed(0)} ms; ` +
        `normal: ${n.json.status} in ${n.ms.toFixed(0)} ms; server peak RSS ${before} -> ${peakRss(s.child.pid!)} MB; server + workers peak ${treePeak} MB`,
    );
    for (const bomb of [a, b]) {
      expect(bomb.http).toBe(422);
      expect(bomb.json.error).toBe('LIMIT_EXCEEDED');
      expect(bomb.json.message).toMatch(/MB this file may decode/);
      expect(Object.keys(bomb.json).sort()).toEqual(['error', 'message']);
    }
    expect(n.http).toBe(200);
    expect(n.json.status).toBe('valid');
    expect(n.ms).toBeLessThan(NORMAL_WITHIN_MS);
    expect(s.child.exitCode).toBeNull();
    expect((await fetch(`${s.url}/api/health`)).status).toBe(200);
    // the whole server, workers included, never came near what the bombs declare (~1.1 GB)
    expect(treePeak).toBeLessThan(900);
    await stopChild(s.child);
  });

  it('a real out-of-memory kills only its worker: 422 LIMIT_EXCEEDED, a new worker takes its place, normal verifications answer throughout', async () => {
    const s = await start({ SIDIAN_VERIFY_WORKERS: '2', SIDIAN_VERIFY_HEAP_MB: '64' });
    const workers = workerPids(s.child.pid!);
    expect(workers).toHaveLength(2);
    // 16 million numbers in one array: ~130 MB of heap from a 32 MB file (no stream to budget)
    const hog = post(s.url, heapHogPdf(16_000_000));
    await new Promise((r) => setTimeout(r, 300));
    const during = await post(s.url, s.normal);
    const h = await hog;
    console.log(
      `[oom] hog: ${h.http} ${JSON.stringify(h.json)} in ${h.ms.toFixed(0)} ms; normal during it: ${during.json.status} in ${during.ms.toFixed(0)} ms`,
    );
    expect(h.http).toBe(422);
    expect(h.json.error).toBe('LIMIT_EXCEEDED');
    expect(during.json.status).toBe('valid');
    expect(during.ms).toBeLessThan(NORMAL_WITHIN_MS);
    expect(s.child.exitCode).toBeNull();
    const after = workerPids(s.child.pid!);
    expect(after).toHaveLength(2);
    expect(after.filter((p) => !workers.includes(p))).toHaveLength(1); // one replaced, one kept
    const again = await post(s.url, s.normal);
    expect(again.json.status).toBe('valid');
    await stopChild(s.child);
  });

  it('a verification whose client has gone is cancelled: its worker is stopped and the next document does not wait for it', async () => {
    const s = await start({ SIDIAN_VERIFY_WORKERS: '1' });
    const [worker] = workerPids(s.child.pid!);
    // a file the reader must rebuild from 6 million object markers: seconds of work
    const slow = new TextEncoder().encode('%PDF-1.7\n' + '9 0 obj\n'.repeat(6_000_000));
    const file = `${s.dataDir}/slow.pdf`;
    fs.writeFileSync(file, slow);
    // a client that sends the file and hangs up before any answer (curl, killed) once the worker
    // has spent 300 ms of CPU on it
    const cpu0 = cpuMs(worker!);
    const client = spawnChild('curl', ['-sS', '--data-binary', `@${file}`, `${s.url}/api/verify`], {
      stdio: 'ignore',
    });
    children.push(client);
    while (cpuMs(worker!) - cpu0 < 300) await new Promise((r) => setTimeout(r, 20));
    await stopChild(client, 'SIGKILL');
    const t0 = performance.now();
    while (workerPids(s.child.pid!)[0] === worker && performance.now() - t0 < 5_000)
      await new Promise((r) => setTimeout(r, 50));
    const replacedAfter = performance.now() - t0;
    const n = await post(s.url, s.normal);
    console.log(
      `[cancel] worker replaced ${replacedAfter.toFixed(0)} ms after the client hung up; next verification ${n.json.status} in ${n.ms.toFixed(0)} ms`,
    );
    expect(workerPids(s.child.pid!)).not.toContain(worker);
    expect(n.json.status).toBe('valid');
    // one worker: had the abandoned job run on, this one would have waited for it
    expect(n.ms).toBeLessThan(NORMAL_WITHIN_MS * 3);
    await stopChild(s.child);
  });
});
