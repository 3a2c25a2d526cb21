/**
 * A reader thread that reads a file's ranges ahead of the thread that hashes them, through a ring
 * of page-aligned shared buffers. It serves `RandomAccessFile.readRanges` for files opened with
 * `openFile`, which @sidian/core's digest uses when it is there.
 *
 * Why not libuv's thread pool (fs.read)? Measured on this project's 2-core VM (bench/verify (b),
 * 100 MB): every pooled read costs the hashing thread a submission (waking a pool thread, 40–500 µs
 * when the other core sleeps) and a turn of the event loop to collect the result, 10–25 ms in all
 * beside 74 ms of hashing. The reader thread here stays awake while a job runs and the hashing
 * thread only loads and stores two counters per chunk: the same 100 MB then hashes in 76–80 ms
 * instead of 90–110.
 *
 * The thread starts at a process's second request (or at `readAheadReady()`): a command that
 * hashes one file does not pay for starting it (some 30–70 ms of CPU and 14 MiB). One job at a
 * time: while the reader is busy (another digest runs) or not started yet, `readRanges` answers
 * undefined and the caller reads the ranges itself.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { pageAlignedMemory } from '../../packages/core/src/digest';

/** Ring slots: 4 x 1 MiB. The first reads of a job are 256 and 512 KiB, so hashing starts early. */
const SLOT = 1 << 20;
const SLOTS = 4;
const FIRST_READ = 256 * 1024;
/** How long a cancelled job may take to stop (one read in progress) before the reader is dropped. */
const CANCEL_WAIT_MS = 5000;
/** Ranges one job takes (a PDF signature has 2). */
const MAX_RANGES = 64;

// Control words (Int32Array indices).
const JOB = 0; // bumped by the hashing thread to start a job; -1 stops the reader
const PRODUCED = 1; // chunks the reader has filled
const CONSUMED = 2; // chunks the hashing thread is done with
const MAIN_WAITS = 3; // the hashing thread sleeps on PRODUCED
const READER_WAITS = 4; // the reader sleeps on CONSUMED
const STATE = 5; // of the job: RUNNING, DONE, FAILED, CANCELLED
const FD = 6;
const RANGES = 7;
const CANCEL = 8; // set by the hashing thread to end a job early
const LENGTHS = 16; // LENGTHS + slot: bytes in that slot
const ERROR_LENGTH = 15; // bytes of the UTF-8 error message
const CTL_WORDS = LENGTHS + SLOTS;

const RUNNING = 1;
const DONE = 2;
const FAILED = 3;
const CANCELLED = 4;

/**
 * The reader's code (CommonJS, run with `eval`, so that it needs no file of its own whether the
 * server runs from TypeScript through tsx or from a bundle).
 */
const READER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { readSync } = require('node:fs');
const { ctl, ranges, data, error, C } = workerData;
const bytes = new Uint8Array(data);
// Spinning while the ring is full keeps this core awake, so the hashing thread never pays to wake
// it; with one core it would only steal the hashing thread's time.
const spinMs = C.SPIN_MS;
function fail(message) {
  const n = new TextEncoder().encodeInto(String(message), error).written;
  Atomics.store(ctl, C.ERROR_LENGTH, n);
}
function waitForSlot(produced) {
  let spins = 0;
  let since = 0;
  for (;;) {
    const consumed = Atomics.load(ctl, C.CONSUMED);
    if (produced - consumed < C.SLOTS) return true;
    if (Atomics.load(ctl, C.CANCEL)) return false;
    if ((++spins & 1023) === 0) {
      const now = performance.now();
      if (!since) since = now;
      else if (now - since > spinMs) {
        Atomics.store(ctl, C.READER_WAITS, 1);
        if (produced - Atomics.load(ctl, C.CONSUMED) >= C.SLOTS && !Atomics.load(ctl, C.CANCEL)) Atomics.wait(ctl, C.CONSUMED, consumed, 50);
        Atomics.store(ctl, C.READER_WAITS, 0);
      }
    }
  }
}
function run() {
  const fd = Atomics.load(ctl, C.FD);
  const n = Atomics.load(ctl, C.RANGES);
  let produced = 0;
  let step = C.FIRST_READ;
  for (let r = 0; r < n; r++) {
    let p = ranges[2 * r];
    const end = ranges[2 * r + 1];
    while (p < end) {
      if (!waitForSlot(produced)) return C.CANCELLED;
      const slot = produced % C.SLOTS;
      const len = Math.min(step, end - p);
      let o = 0;
      while (o < len) {
        const got = readSync(fd, bytes, slot * C.SLOT + o, len - o, p + o);
        if (got === 0) throw new Error('the file ended early at byte ' + (p + o) + ' (did it change while being read?)');
        o += got;
      }
      Atomics.store(ctl, C.LENGTHS + slot, len);
      Atomics.store(ctl, C.PRODUCED, ++produced);
      if (Atomics.load(ctl, C.MAIN_WAITS)) Atomics.notify(ctl, C.PRODUCED);
      p += len;
      step = Math.min(C.SLOT, step * 2);
    }
  }
  return C.DONE;
}
parentPort.postMessage('ready');
let job = 0;
for (;;) {
  Atomics.wait(ctl, C.JOB, job);
  job = Atomics.load(ctl, C.JOB);
  if (job < 0) break;
  let state;
  try {
    state = run();
  } catch (e) {
    fail(e && e.message ? e.message : e);
    state = C.FAILED;
  }
  Atomics.store(ctl, C.STATE, state);
  Atomics.notify(ctl, C.STATE);
  Atomics.notify(ctl, C.PRODUCED);
}
`;

interface Reader {
  worker: Worker;
  ctl: Int32Array;
  ranges: Float64Array;
  data: Uint8Array;
  error: Uint8Array;
  ready: boolean;
  /** Resolves true when the reader takes jobs, false when it died first. */
  started: Promise<boolean>;
  broken: boolean;
  busy: boolean;
  job: number;
}

let reader: Reader | undefined;
/** Requests seen before the reader started. */
let requests = 0;

function startReader(): Reader | undefined {
  // page-aligned: see pageAlignedMemory
  const memory = pageAlignedMemory(SLOT * SLOTS, true);
  if (!memory) return undefined;
  const ctl = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
  const ranges = new Float64Array(new SharedArrayBuffer(MAX_RANGES * 2 * 8));
  const error = new Uint8Array(new SharedArrayBuffer(1024));
  const C = {
    SLOT,
    SLOTS,
    FIRST_READ,
    CONSUMED,
    PRODUCED,
    MAIN_WAITS,
    READER_WAITS,
    STATE,
    FD,
    RANGES,
    CANCEL,
    LENGTHS,
    ERROR_LENGTH,
    JOB,
    DONE,
    FAILED,
    CANCELLED,
    SPIN_MS: availableParallelism() > 1 ? 5 : 0,
  };
  let worker: Worker;
  try {
    worker = new Worker(READER_SOURCE, {
      eval: true,
      // plain JavaScript: none of the parent's flags (a loader, --input-type) apply to it
      execArgv: [],
      workerData: { ctl, ranges, data: memory, error, C },
    });
  } catch {
    // no threads here (a permission model without --allow-worker, say): read in the caller
    return undefined;
  }
  let started!: (ok: boolean) => void;
  const r: Reader = {
    worker,
    ctl,
    ranges,
    data: new Uint8Array(memory),
    error,
    ready: false,
    started: new Promise((resolve) => (started = resolve)),
    broken: false,
    busy: false,
    job: 0,
  };
  worker.unref();
  worker.once('message', () => {
    r.ready = true;
    started(true);
  });
  const down = () => {
    r.broken = true;
    r.ready = false;
    started(false);
    // wake a hashing thread that waits for this reader
    Atomics.notify(ctl, PRODUCED);
  };
  worker.once('error', down);
  worker.once('exit', down);
  return r;
}

/**
 * Starts the reader thread if it is not running (it takes some 30–70 ms to start here, alongside other
 * work); resolves true once it takes jobs, false when it cannot run here.
 */
export function readAheadReady(): Promise<boolean> {
  reader ??= startReader();
  return reader ? reader.started : Promise.resolve(false);
}

/**
 * Calls `each` with the bytes of `ranges` of the file open as `fd`, in order, in chunks (each one
 * valid only during its call), read ahead by the reader thread. Undefined when the reader is busy,
 * still starting or unavailable: the caller reads the ranges itself then.
 */
export function readRangesAhead(
  fd: number,
  size: number,
  ranges: [number, number][],
  each: (chunk: Uint8Array) => void,
): Promise<void> | undefined {
  if (!reader && ++requests < 2) return undefined;
  reader ??= startReader();
  const r = reader;
  if (!r || !r.ready || r.broken || r.busy || ranges.length > MAX_RANGES) return undefined;
  for (const [a, b] of ranges) {
    if (!(Number.isSafeInteger(a) && Number.isSafeInteger(b) && 0 <= a && a <= b && b <= size)) {
      return Promise.reject(new RangeError(`range [${a}, ${b}) is not inside the file (${size} bytes)`));
    }
  }
  r.busy = true;
  // a pending Atomics.waitAsync does not keep Node alive: the reader does while it works
  r.worker.ref();
  return consume(r, fd, ranges, each).finally(() => {
    r.busy = false;
    r.worker.unref();
  });
}

async function consume(
  r: Reader,
  fd: number,
  ranges: [number, number][],
  each: (chunk: Uint8Array) => void,
): Promise<void> {
  const { ctl } = r;
  ranges.forEach(([a, b], i) => {
    r.ranges[2 * i] = a;
    r.ranges[2 * i + 1] = b;
  });
  Atomics.store(ctl, FD, fd);
  Atomics.store(ctl, RANGES, ranges.length);
  Atomics.store(ctl, PRODUCED, 0);
  Atomics.store(ctl, CONSUMED, 0);
  Atomics.store(ctl, CANCEL, 0);
  Atomics.store(ctl, ERROR_LENGTH, 0);
  Atomics.store(ctl, STATE, RUNNING);
  Atomics.store(ctl, JOB, ++r.job);
  Atomics.notify(ctl, JOB);
  let consumed = 0;
  try {
    for (;;) {
      const produced = Atomics.load(ctl, PRODUCED);
      if (produced === consumed) {
        const state = Atomics.load(ctl, STATE);
        if (state === FAILED)
          throw new Error(new TextDecoder().decode(r.error.slice(0, Atomics.load(ctl, ERROR_LENGTH))));
        if (state !== RUNNING) {
          if (Atomics.load(ctl, PRODUCED) !== consumed) continue;
          if (state === DONE) return;
          throw new Error('the read-ahead job was cancelled');
        }
        if (r.broken) throw new Error('the read-ahead thread stopped');
        await nextChunk(r, consumed);
        continue;
      }
      const slot = consumed % SLOTS;
      const len = Atomics.load(ctl, LENGTHS + slot);
      each(r.data.subarray(slot * SLOT, slot * SLOT + len));
      Atomics.store(ctl, CONSUMED, ++consumed);
      if (Atomics.load(ctl, READER_WAITS)) Atomics.notify(ctl, CONSUMED);
    }
  } finally {
    // never return while the reader may still write into the ring or read the descriptor
    if (Atomics.load(ctl, STATE) === RUNNING) {
      Atomics.store(ctl, CANCEL, 1);
      Atomics.notify(ctl, CONSUMED);
      // (blocking: this thread cannot run the worker's 'exit' event now, hence the bound)
      const giveUp = performance.now() + CANCEL_WAIT_MS;
      while (Atomics.load(ctl, STATE) === RUNNING && !r.broken) {
        if (performance.now() > giveUp)
          r.broken = true; // never reused: it may still hold the ring
        else Atomics.wait(ctl, STATE, RUNNING, 20);
      }
    }
  }
}

/**
 * Waits until the reader fills chunk `consumed` (or the job ends): a short spin first (a chunk is
 * usually a few microseconds away), then asleep without blocking the event loop.
 */
async function nextChunk(r: Reader, consumed: number): Promise<void> {
  const { ctl } = r;
  const until = performance.now() + 0.2;
  for (let spins = 1; ; spins++) {
    if (Atomics.load(ctl, PRODUCED) !== consumed || Atomics.load(ctl, STATE) !== RUNNING) return;
    if ((spins & 255) === 0 && performance.now() > until) break;
  }
  Atomics.store(ctl, MAIN_WAITS, 1);
  try {
    if (Atomics.load(ctl, PRODUCED) !== consumed || Atomics.load(ctl, STATE) !== RUNNING || r.broken) return;
    const w = waitAsync(ctl, PRODUCED, consumed, 100);
    if (w.async) await w.value;
  } finally {
    Atomics.store(ctl, MAIN_WAITS, 0);
  }
}

/** Atomics.waitAsync (Node 16+; typed only from TypeScript's ES2024 library, beyond our ES2023). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      a: Int32Array,
      index: number,
      value: number,
      timeoutMs: number,
    ): { async: boolean; value: Promise<string> | string };
  }
).waitAsync;
