// Node-side commands for bench/upload (executeServerCommand from the page):
//
//   'bench-upload-config' {}                   -> {sizesMb: number[], reps: number}
//       BENCH_UPLOAD_MB (comma-separated MiB, default 16,64,1024) and BENCH_UPLOAD_REPS (default 3,
//       the repetitions of every measurement of files up to 64 MiB; larger ones run once).
//   'bench-memory'        {action: 'start'}    -> {rss}   starts sampling every 20 ms
//                         {action: 'stop'}     -> {baseline, peak, peakProcessGrowth, samples}
//       Resident memory (VmRSS from /proc/<pid>/status) of every Chromium process started by this
//       run — the browser, the renderer, the GPU and utility processes — summed; measureUserAgent-
//       SpecificMemory needs cross-origin isolation, and RSS also counts what the browser process
//       holds for Blobs. `peakProcessGrowth` is the largest growth of one process.
//   'bench-load'          {}                   -> {load}  /proc/loadavg (1, 5, 15 minutes)
//   'bench-upload-result' {markdown}           -> {file}  writes bench/results/upload.md (or BENCH_UPLOAD_OUT)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Pids of every descendant of `root` whose command is Chromium. */
function chromiumPids(root = process.pid) {
  const parent = new Map();
  const comm = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      comm.set(Number(d), stat.slice(stat.indexOf('(') + 1, close));
      parent.set(Number(d), Number(stat.slice(close + 2).split(' ')[1]));
    } catch {
      /* gone */
    }
  }
  const out = [];
  for (const [pid] of parent) {
    let p = pid;
    for (let depth = 0; depth < 20 && p > 1; depth++) {
      p = parent.get(p) ?? 0;
      if (p === root) {
        if (/chrom/i.test(comm.get(pid) ?? '')) out.push(pid);
        break;
      }
    }
  }
  return out;
}

function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function benchUploadCommands() {
  let sampler;
  return {
    name: 'bench-upload-commands',
    async executeCommand({ command, payload }) {
      switch (command) {
        case 'bench-upload-config':
          return {
            sizesMb: (process.env.BENCH_UPLOAD_MB ?? '16,64,1024')
              .split(',')
              .map(Number)
              .filter((n) => n > 0),
            reps: Math.max(1, Number(process.env.BENCH_UPLOAD_REPS ?? 3)),
          };
        case 'bench-memory': {
          if (payload?.action === 'start') {
            clearInterval(sampler?.timer);
            const pids = chromiumPids();
            const baseline = new Map(pids.map((p) => [p, rssOf(p)]));
            const s = { pids, baseline, peakSum: 0, peakOne: 0, samples: 0 };
            const sample = () => {
              let sum = 0;
              for (const p of s.pids) {
                const r = rssOf(p);
                sum += r;
                s.peakOne = Math.max(s.peakOne, r - (s.baseline.get(p) ?? 0));
              }
              s.peakSum = Math.max(s.peakSum, sum);
              s.samples++;
            };
            s.base = [...baseline.values()].reduce((a, b) => a + b, 0);
            sample();
            s.timer = setInterval(sample, 20);
            sampler = s;
            return { rss: s.base, processes: pids.length };
          }
          const s = sampler;
          if (!s) return null;
          clearInterval(s.timer);
          sampler = undefined;
          return {
            baseline: s.base,
            peak: s.peakSum,
            peakProcessGrowth: s.peakOne,
            samples: s.samples,
            processes: s.pids.length,
          };
        }
        case 'bench-load':
          return { load: fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ') };
        case 'bench-upload-result': {
          const file = process.env.BENCH_UPLOAD_OUT ?? path.join(ROOT, 'bench', 'results', 'upload.md');
          fs.mkdirSync(path.dirname(file), { recursive: true });
          fs.writeFileSync(file, payload.markdown);
          return { file };
        }
        default:
          return undefined;
      }
    },
  };
}
