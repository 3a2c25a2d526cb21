/**
 * `npm run bench [-- sign|verify ...]`: runs the benchmarks (all when none is named), prints each
 * Markdown table to stdout and writes it to bench/results/<name>.md. Progress goes to stderr.
 */
import { benchSign } from './sign';
import { benchVerify } from './verify';

const BENCHES: Record<string, () => Promise<string>> = { sign: benchSign, verify: benchVerify };

async function main(): Promise<void> {
  const names = process.argv.slice(2).filter((a) => a !== '--');
  const unknown = names.filter((n) => !(n in BENCHES));
  if (unknown.length) {
    process.stderr.write(
      `unknown benchmark(s): ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}\n`,
    );
    process.exit(2);
  }
  for (const name of names.length ? names : Object.keys(BENCHES)) {
    const md = await BENCHES[name]!();
    process.stdout.write(md + '\n');
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
