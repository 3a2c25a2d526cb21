/**
 * Peak RSS of `sidian serve` while it answers one hostile PDF (issue 14, bounded work): a fresh
 * server per bomb, the bomb posted to /api/verify with a normal verification posted 300 ms later;
 * prints the bomb's status and time, the normal one's, whether the server survived, and the server
 * process's peak RSS (VmHWM) before and after, and the peak of the server and its worker processes
 * together (sampled every 20 ms: verification workers are child processes since issue 14).
 *
 *   node --import tsx bench/bombs/rss.ts [xref|objstm-small|objstm]...
 */
import fs from 'node:fs';
import { freePort, spawnServer, stopChild, tempDir } from '../../server/src/test/harness';
import { minimalPdf, sealWith } from '../../server/src/test/pdfs';
import {
  objectStreamBomb,
  xrefSizeBomb,
  xrefSizeBombUpdate,
} from '../../packages/core/src/pdf/bombs.test-helpers';

const bombs: Record<string, (signed: Uint8Array) => Uint8Array> = {
  'xref-update': (signed) => xrefSizeBombUpdate(signed, 9_500_000),
  'xref-update-free': (signed) => xrefSizeBombUpdate(signed, 9_500_000, { free: true }),
  xref: () => xrefSizeBomb(9_500_000),
  'xref-free': () => xrefSizeBomb(9_500_000, { free: true }),
  'objstm-small': () => objectStreamBomb(6, 64 * 1024 * 1024),
  objstm: () => objectStreamBomb(40, 250 * 1024 * 1024),
};

const peakRss = (pid: number) => {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};

const rssOf = (pid: number) => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
};
const childrenOf = (pid: number): number[] => {
  try {
    return fs
      .readdirSync(`/proc/${pid}/task`)
      .flatMap((t) => fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/))
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
};
/** The peak of RSS summed over the process and its children, sampled until stopped. */
function sampleTree(pid: number) {
  let peak = 0;
  const t = setInterval(() => {
    const sum = rssOf(pid) + childrenOf(pid).reduce((n, c) => n + rssOf(c), 0);
    if (sum > peak) peak = sum;
  }, 20);
  return () => {
    clearInterval(t);
    return Math.round(peak);
  };
}

async function post(url: string, body: Uint8Array) {
  const t0 = performance.now();
  try {
    const r = await fetch(`${url}/api/verify`, { method: 'POST', body: body as BodyInit });
    const j = (await r.json()) as { status?: string; error?: string; message?: string };
    return {
      http: r.status,
      what: j.status ?? `${j.error}: ${j.message}`,
      ms: Math.round(performance.now() - t0),
    };
  } catch (e) {
    return { http: 0, what: String(e), ms: Math.round(performance.now() - t0) };
  }
}

for (const name of process.argv.slice(2)) {
  const dataDir = tempDir('sidian-bombs-');
  const { child, url } = await spawnServer(dataDir, await freePort());
  const normal = await sealWith(dataDir, minimalPdf());
  const bomb = bombs[name]!(normal);
  await post(url, normal); // warm
  const before = peakRss(child.pid!);
  const treeBefore = sampleTree(child.pid!);
  await new Promise((r) => setTimeout(r, 200));
  const idleTree = treeBefore();
  const stopTree = sampleTree(child.pid!);
  const b = post(url, bomb);
  await new Promise((r) => setTimeout(r, 300));
  const n = await post(url, normal);
  const bb = await b;
  const treePeak = stopTree();
  const alive = child.exitCode === null;
  const after = alive ? peakRss(child.pid!) : NaN;
  const health = alive
    ? await fetch(`${url}/api/health`).then(
        (r) => r.status,
        () => 0,
      )
    : 0;
  console.log(
    JSON.stringify({
      bomb: name,
      bytes: bomb.length,
      bombAnswer: bb,
      normalAnswer: n,
      serverAlive: alive,
      healthAfter: health,
      peakRssMbBefore: Math.round(before),
      peakRssMbAfter: Math.round(after),
      serverAndWorkersMbIdle: idleTree,
      serverAndWorkersPeakMb: treePeak,
    }),
  );
  await stopChild(child, 'SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
}
