/**
 * Loads a command of the built CLI from its CommonJS file with V8's code cache (both made by
 * scripts/build-cli.mjs). Node 20 compiles ES modules afresh at every start (a module compile
 * cache arrives with Node 22), and compiling the verify path's ~600 KB took about 50 ms of a
 * one-shot `sidian verify`; from the cache it takes under 10. Answers undefined when there is no
 * such file (running from the TypeScript sources): the caller imports the module itself. A cache
 * that V8 rejects (another Node version, other V8 flags) only costs the compile it would have saved.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

export function loadCachedCommand<T>(name: string, base: string): T | undefined {
  if (base.endsWith('.ts')) return undefined;
  const file = fileURLToPath(new URL(`./${name}.cjs`, base));
  if (!existsSync(file)) return undefined;
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(`${file}.cache`);
  } catch {
    cachedData = undefined;
  }
  // the file is one function expression (the build wraps the bundle as Node wraps CommonJS)
  const script = new Script(readFileSync(file, 'utf8'), { filename: file, cachedData });
  const wrapper = script.runInThisContext() as (
    exports: object,
    require: NodeJS.Require,
    module: { exports: object },
    filename: string,
    dirname: string,
  ) => void;
  const module = { exports: {} };
  wrapper(module.exports, createRequire(file), module, file, fileURLToPath(new URL('.', base)));
  return module.exports as T;
}
