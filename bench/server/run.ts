/**
 * Server benchmark (autocannon): 50 concurrent clients posting a one-signature PDF to /api/verify for
 * 30 s, then 50 clients asking the TSA. Reports requests/s, p50/p99 latency, errors (must be 0) and
 * the server's peak RSS. Run: `node --import tsx bench/server/run.ts` (BENCH_DURATION=seconds).
 * Writes the Markdown table to stdout and to bench/server/results.md.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { freePort, SIDIAN_BIN, tempDir } from '../../server/src/test/harness';
import { minimalPdf, sealWith } from '../../server/src/test/pdfs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DURATION = Number(process.env.BENCH_DURATION ?? 30);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  total: number;
  peakRssMb: number;
}

function rssOf(pid: number): number {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

async function run(name: string, url: string, body: Buffer, contentType: string, pid: number): Promise<Row> {
  let peak = rssOf(pid);
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 200);
  const r = await autocannon({
    url,
    method: 'POST',
    body,
    headers: { 'content-type': contentType },
    connections: CONNECTIONS,
    duration: DURATION,
  });
  clearInterval(sampler);
  return {
    name,
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts + r.non2xx,
    total: r.requests.total,
    peakRssMb: peak,
  };
}

async function main() {
  const dataDir = tempDir('sidian-bench-');
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [SIDIAN_BIN, 'serve', '--dev', '--data', dataDir, '--port', String(port), '--quiet'],
    {
      env: { ...process.env, SIDIAN_TSA_PER_MINUTE: '100000000', SIDIAN_LOG: '0' },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${base}/api/health`)).ok) break;
      } catch {
        /* starting */
      }
      if (i > 600) throw new Error('server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const pdf = Buffer.from(await sealWith(dataDir, minimalPdf()));
    const check = (await (await fetch(`${base}/api/verify`, { method: 'POST', body: pdf })).json()) as {
      status: string;
    };
    if (check.status !== 'valid') throw new Error(`benchmark PDF does not verify: ${check.status}`);
    const data = path.join(dataDir, 'data.txt');
    fs.writeFileSync(data, 'benchmark');
    const tsq = path.join(dataDir, 'q.tsq');
    execFileSync('openssl', ['ts', '-query', '-data', data, '-sha256', '-cert', '-out', tsq], {
      stdio: 'pipe',
    });
    const query = fs.readFileSync(tsq);
    // warm up both paths
    await autocannon({ url: `${base}/api/verify`, method: 'POST', body: pdf, connections: 8, duration: 2 });
    await autocannon({
      url: `${base}/api/tsa`,
      method: 'POST',
      body: query,
      headers: { 'content-type': 'application/timestamp-query' },
      connections: 8,
      duration: 2,
    });

    const rows = [
      await run(
        `POST /api/verify (${(pdf.length / 1024).toFixed(0)} KB, 1 signature)`,
        `${base}/api/verify`,
        pdf,
        'application/pdf',
        child.pid!,
      ),
      await run(
        'POST /api/tsa (SHA-256, certReq)',
        `${base}/api/tsa`,
        query,
        'application/timestamp-query',
        child.pid!,
      ),
    ];
    const md = [
      `Server benchmark: ${CONNECTIONS} connections × ${DURATION} s, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), load average before ${os.loadavg()[0]!.toFixed(1)}, Node ${process.version}, SQLite.`,
      '',
      '| endpoint | requests/s | p50 ms | p99 ms | errors | requests | peak RSS MB |',
      '|---|---:|---:|---:|---:|---:|---:|',
      ...rows.map(
        (r) =>
          `| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.total} | ${r.peakRssMb.toFixed(0)} |`,
      ),
      '',
    ].join('\n');
    process.stdout.write(md + '\n');
    fs.writeFileSync(path.join(HERE, 'results.md'), md);
  } finally {
    child.kill('SIGTERM');
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
