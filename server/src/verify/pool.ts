/**
 * A small pool of worker threads for jobs that parse untrusted PDFs (verification, licence
 * inspection). One job per worker at a time; a bounded queue; a job that overruns its time budget
 * has its worker terminated and replaced, so a hostile file cannot hold the server.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { HttpError } from '../errors';
import type { SerializableVerifyOptions } from './job';

type JobInput =
  | { kind: 'warmup' }
  | {
      kind: 'verify' | 'licence';
      pdf: Uint8Array;
      options: SerializableVerifyOptions;
      /** The caller gives the buffer away: it is moved to the worker, not copied (and unusable afterwards). */
      transferOk?: boolean;
    };

interface Pending {
  id: number;
  input: JobInput;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  timeoutMs: number;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  job?: Pending;
  timer?: NodeJS.Timeout;
}

export interface PoolOptions {
  size?: number;
  maxQueue?: number;
  /** Hard limit per job (default 30 s); the worker is replaced when it is exceeded. */
  jobTimeoutMs?: number;
  maxOldGenerationSizeMb?: number;
}

const WORKER_URL = new URL('./worker.mjs', import.meta.url);

export class WorkerPool {
  readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly o: PoolOptions = {}) {
    this.size = Math.max(1, o.size ?? Math.min(4, os.availableParallelism?.() ?? os.cpus().length));
    for (let i = 0; i < this.size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_URL, {
      resourceLimits: { maxOldGenerationSizeMb: this.o.maxOldGenerationSizeMb ?? 1024 },
      stdout: false,
      stderr: false,
    });
    worker.unref();
    const slot: Slot = { worker, ready: Promise.resolve() };
    slot.ready = new Promise<void>((resolve) => {
      const onMsg = (m: { ready?: boolean }) => {
        if (m?.ready) {
          worker.off('message', onMsg);
          resolve();
        }
      };
      worker.on('message', onMsg);
      worker.once('error', () => resolve());
    });
    worker.on(
      'message',
      (m: {
        id?: number;
        ok?: boolean;
        result?: unknown;
        error?: { name: string; code?: string; message: string };
      }) => {
        if (m.id === undefined || !slot.job || slot.job.id !== m.id) return;
        const job = slot.job;
        this.finish(slot);
        if (m.ok) job.resolve(m.result);
        else job.reject(toError(m.error!));
        this.pump();
      },
    );
    worker.on('error', (e) =>
      this.replace(
        slot,
        new HttpError(422, 'VERIFY_UNREADABLE', `the document could not be processed (${e.message})`),
      ),
    );
    worker.on('exit', () => {
      if (!this.closed && this.slots.includes(slot))
        this.replace(slot, new HttpError(422, 'VERIFY_UNREADABLE', 'the document could not be processed'));
    });
    return slot;
  }

  private finish(slot: Slot) {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.job = undefined;
  }

  private replace(slot: Slot, err: unknown) {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    const job = slot.job;
    this.finish(slot);
    this.slots.splice(i, 1);
    void slot.worker.terminate();
    if (!this.closed) this.slots.push(this.spawn());
    job?.reject(err);
    this.pump();
  }

  private pump() {
    for (const slot of this.slots) {
      if (slot.job) continue;
      const job = this.queue.shift();
      if (!job) return;
      slot.job = job;
      slot.timer = setTimeout(
        () =>
          this.replace(
            slot,
            new HttpError(422, 'VERIFY_TIMEOUT', 'verification took longer than this server allows'),
          ),
        job.timeoutMs,
      );
      void slot.ready.then(() => {
        if (slot.job !== job) return;
        if (job.input.kind === 'warmup') slot.worker.postMessage({ id: job.id, kind: 'warmup' });
        else {
          const { kind, pdf, options } = job.input;
          // shared memory is seen by the worker as it is; anything else is moved there
          const transfer = pdf.buffer instanceof ArrayBuffer ? [pdf.buffer] : [];
          slot.worker.postMessage({ id: job.id, kind, pdf, options }, transfer);
        }
      });
    }
  }

  run<T>(input: JobInput, timeoutMs = this.o.jobTimeoutMs ?? 30_000): Promise<T> {
    if (this.closed) return Promise.reject(new HttpError(503, 'UNAVAILABLE', 'the server is shutting down'));
    if (this.queue.length >= (this.o.maxQueue ?? 256)) {
      return Promise.reject(
        new HttpError(503, 'BUSY', 'too many documents are waiting for verification; try again shortly'),
      );
    }
    if (input.kind !== 'warmup') {
      // share the bytes when they are in shared memory (large bodies read by readBody: the caller
      // keeps them too), move them when the caller gives them away; otherwise copy
      const pdf = input.pdf;
      const owns = pdf.byteOffset === 0 && pdf.byteLength === pdf.buffer.byteLength;
      const shared = pdf.buffer instanceof SharedArrayBuffer;
      if (!owns || (!shared && input.transferOk !== true)) {
        const copy = new Uint8Array(pdf.length);
        copy.set(pdf);
        input = { ...input, pdf: copy };
      }
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        id: this.nextId++,
        input,
        resolve: resolve as (v: unknown) => void,
        reject,
        timeoutMs,
      });
      this.pump();
    });
  }

  async warmup(): Promise<void> {
    await Promise.all(this.slots.map(() => this.run({ kind: 'warmup' }).catch(() => undefined)));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.queue.splice(0))
      j.reject(new HttpError(503, 'UNAVAILABLE', 'the server is shutting down'));
    await Promise.all(
      this.slots.map((s) => {
        s.job?.reject(new HttpError(503, 'UNAVAILABLE', 'the server is shutting down'));
        this.finish(s);
        return s.worker.terminate();
      }),
    );
    this.slots.length = 0;
  }
}

function toError(e: { name: string; code?: string; message: string }): Error {
  if (e.code === 'NOT_IMPLEMENTED') return new HttpError(501, 'NOT_IMPLEMENTED', e.message);
  if (e.name === 'SidianError' && e.code)
    return Object.assign(new Error(e.message), { name: 'SidianError', code: e.code });
  return new HttpError(422, 'VERIFY_UNREADABLE', 'the document could not be processed');
}
