/**
 * A thread that hashes a whole file with SM3 beside the main thread, then takes the bytes
 * of a signature's update and answers the digest: the first ByteRange of an incremental signature
 * runs from byte 0 over the whole input (ISO 32000-1 §12.8.1), so its hash is most of the
 * signature's work and needs no key.
 *
 * Plain JavaScript (no TypeScript), because `sidian sign` starts it from server/bin/sidian.mjs
 * before the CLI is even loaded (`startSignInputHash`): the file is hashed while Node loads the
 * command, reads the key and plans the signature, which otherwise came first. The thread's code is
 * CommonJS run with `eval`, so it needs no file of its own whether it runs from the sources or from
 * a bundle. Types: hash-thread.d.mts.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

/** Inputs from this size are hashed on a thread: below, the thread's start costs more than it saves. */
export const THREAD_HASH_MIN = 4 << 20;

/**
 * Starts hashing [0, size) of the open file `fd` with SM3 on a thread of its own. SM3 only: at
 * about 4 ms per MB (OpenSSL's C, no assembly) it gains from a thread; SHA-256, about 1 ms per MB,
 * gains less than the thread's start costs (it compiles Node's own modules afresh: 50-100 ms of
 * CPU on 2 cores here). The thread does not keep the process alive until its digest is asked for.
 */
export function hashOnThread(fd, size, path) {
  const worker = new Worker(HASH_THREAD_SOURCE, { eval: true, workerData: { fd, size, path } });
  worker.unref();
  const result = new Promise((resolve, reject) => {
    worker.once('message', (m) =>
      m.digest ? resolve(new Uint8Array(m.digest)) : reject(new Error(m.error)),
    );
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the hashing thread of ${path} stopped (${code})`)));
  });
  result.catch(() => undefined); // seen where it is used
  let asked = false;
  return {
    hash: 'SM3',
    digest(extra) {
      if (asked) throw new Error('a hash is finished once');
      asked = true;
      worker.ref(); // the process now waits for the answer
      worker.postMessage(extra);
      return result;
    },
    cancel() {
      if (!asked) void worker.terminate();
    },
  };
}

/**
 * `sidian sign IN.pdf --key SM2.pem …` as the first thing the process does: opens IN.pdf and starts
 * hashing it with SM3 on a thread. The command adopts it when its own parse of the arguments names the
 * same file (server/src/file-source.ts `openFile`); anything else (a usage error, `--help`, a small
 * file, a file that cannot be opened) gets undefined here, or the command's own message later.
 */
export function startSignInputHash(argv) {
  if (argv[0] !== 'sign') return undefined;
  let input;
  let sm3 = false;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      if (input !== undefined || argv.length !== i + 2) return undefined;
      input = argv[i + 1];
      break;
    }
    if (a.startsWith('-') && a !== '-') {
      const name = a.split('=', 1)[0];
      if (name === '--help' || name === '-h') return undefined;
      if (name === '--key') sm3 = true;
      // every other option of `sign` takes a value, in the next argument unless given with =
      if (!a.includes('=')) i++;
      continue;
    }
    if (input !== undefined) return undefined; // two inputs: the command refuses them
    input = a;
  }
  // SHA-256 (a PKCS#12 key) stays on the main thread (hashOnThread)
  if (input === undefined || !sm3) return undefined;
  let fd;
  try {
    fd = openSync(input, 'r');
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size < THREAD_HASH_MIN) {
      closeSync(fd);
      return undefined;
    }
    const hasher = hashOnThread(fd, stat.size, input);
    let open = true;
    return {
      path: input,
      fd,
      size: stat.size,
      hasher,
      /** Stops the thread and closes the file unless the command adopted them. */
      release() {
        if (!open) return;
        open = false;
        hasher.cancel();
        closeSync(fd);
      },
      /** The command takes the file and the thread: it closes and cancels them from now on. */
      adopt() {
        open = false;
      },
    };
  } catch {
    if (fd !== undefined) closeSync(fd);
    return undefined; // the command reports it in words
  }
}

const HASH_THREAD_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { readSync } = require('node:fs');
const { createHash } = require('node:crypto');
const { fd, size, path } = workerData;
let error;
let h;
try {
  h = createHash('sm3');
  const buf = Buffer.allocUnsafe(1 << 20);
  for (let at = 0; at < size; ) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, size - at), at);
    if (n === 0) throw new Error(path + ' ended early at byte ' + at + ' (did it change while being read?)');
    h.update(n === buf.length ? buf : buf.subarray(0, n));
    at += n;
  }
} catch (e) {
  error = String((e && e.message) || e);
}
parentPort.once('message', (extra) => {
  if (error) return parentPort.postMessage({ error });
  for (const e of extra) h.update(e);
  parentPort.postMessage({ digest: h.digest() });
});
`;
