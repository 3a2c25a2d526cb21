/**
 * CPU profile of Sidian's signing call only (no module loading, no file I/O), in a fresh process:
 *
 *   node --import tsx bench/profile-sign.ts [INPUT] [seal|invisible] [WARM]
 *
 * Defaults: bench/.generated/large-1000.pdf, seal, 20. Profiles the first (cold) signPdfUpdate and,
 * separately, the last WARM/2 of WARM further calls (warmed up), through node:inspector; prints
 * the top self-time functions (all, and those in packages/core) and writes the .cpuprofile files
 * to bench/.generated/prof/ (open them in Chrome DevTools).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { signerFromPkcs12, signPdfUpdate } from '@sidian/core';
import { benchPki, GEN_DIR, nowMs, sealPng, signInputs } from './common';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function top(profile: Profile, filter: (url: string) => boolean, n: number): string[] {
  const byId = new Map(profile.nodes.map((x) => [x.id, x]));
  const agg = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    total += us;
    const cf = byId.get(id)!.callFrame;
    if (!filter(cf.url)) return;
    const where = cf.url
      ? cf.url.replace(/^.*\/(packages|node_modules)\//, '$1/').replace(/^file:\/\//, '')
      : '';
    const key = `${cf.functionName || '(anonymous)'}${where ? `  ${where}` : ''}`;
    agg.set(key, (agg.get(key) ?? 0) + us);
  });
  return [...agg]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(
      ([k, us]) =>
        `${(us / 1000).toFixed(1).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`,
    );
}

async function main(): Promise<void> {
  const [inputArg, kind = 'seal', warmArg = '20'] = process.argv.slice(2);
  const input = inputArg ?? (await signInputs()).find((i) => i.name === '1000 pages')!.file;
  const pki = benchPki();
  const signer = await signerFromPkcs12(new Uint8Array(readFileSync(pki.p12File)), pki.password);
  const image = kind === 'seal' ? new Uint8Array(readFileSync(await sealPng())) : undefined;
  const pdf = new Uint8Array(readFileSync(input));
  const warm = Number(warmArg);

  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  const dir = path.join(GEN_DIR, 'prof');
  mkdirSync(dir, { recursive: true });

  const profileCall = async (label: string, calls: number): Promise<void> => {
    await session.post('Profiler.start');
    const times: number[] = [];
    for (let i = 0; i < calls; i++) {
      const t = nowMs();
      await signPdfUpdate(pdf, { signer, image });
      times.push(nowMs() - t);
    }
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile };
    const file = path.join(dir, `sign-${kind}-${label}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    console.log(
      `\n## ${label}: ${calls} call(s), ms: ${times.map((t) => t.toFixed(1)).join(', ')}  (${path.relative(process.cwd(), file)})`,
    );
    console.log('top self time, all:');
    for (const l of top(profile, () => true, 15)) console.log(l);
    console.log('top self time, packages/core:');
    for (const l of top(profile, (u) => u.includes('packages/core/'), 15)) console.log(l);
  };

  console.log(`# ${path.basename(input)}, ${kind}`);
  await profileCall('cold', 1);
  for (let i = 0; i < Math.ceil(warm / 2); i++) await signPdfUpdate(pdf, { signer, image });
  await profileCall('warm', Math.floor(warm / 2));
  session.disconnect();
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
