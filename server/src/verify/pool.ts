/**
 * A small pool of worker processes for jobs that parse untrusted PDFs (verification, licence
 * inspection). One job per worker at a time; a bounded queue; a job that overruns its time budget,
 * whose client has gone, or that runs out of memory has its worker killed and replaced, so a
 * hostile file cannot hold the server.
 *
 * Processes, not worker threads: a worker thread's resourceLimits stop most heap exhaustion, but
 * not all of it. Measured on Node 20.20: a thread whose array outgrows a 256 MB heap limit ("Reached
 * heap limit Allocation failed") aborts the whole process (exit 134), and a string flattened past it
 * likewise; only a pool process with its own --max-old-space-size dies alone.
 */
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { HttpError } from '../errors';
import type { SerializableVerifyOptions } from './job';

type JobInput =
  | { kind: 'warmup' }
  | {
      kind: 'verify' | 'licence';
      pdf: Uint8Array;
      options: SerializableVerifyOptions;
      /** The caller gives the buffer away. (Unused since workers are processes: they get a copy.) */
      transferOk?: boolean;
    };

interface Pending {
  id: number;
  input: JobInput;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  timeoutMs: number;
  signal?: AbortSignal;
  onAbort?: () => void;
}

interface Slot {
  worker: ChildProcess;
  ready: Promise<void>;
  job?: Pending;
  timer?: NodeJS.Timeout;
  /** The seal registry snapshot this worker holds (job.ts parses each once): not sent again. */
  registryDigest?: string;
}

export interface PoolOptions {
  size?: number;
  maxQueue?: number;
  /** Hard limit per job (default 30 s); the worker is replaced when it is exceeded. */
  jobTimeoutMs?: number;
  /** Each worker process's V8 heap (--max-old-space-size, default 1024 MB). */
  maxOldGenerationSizeMb?: number;
}

const WORKER_PATH = fileURLToPath(new URL('./worker.mjs', import.meta.url));

/** The client went away before its answer: nothing will read this (logged as 499 by convention). */
export const clientGone = () => new HttpError(499, 'CLIENT_GONE', 'the client closed the connection');

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
    const worker = fork(WORKER_PATH, [], {
      // not the server's own flags (loaders, inspector): the worker registers tsx itself
      execArgv: [`--max-old-space-size=${this.o.maxOldGenerationSizeMb ?? 1024}`],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    worker.unref();
    worker.channel?.unref();
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
        // the worker did not hold the snapshot after all: send it in full next time
        if (m.error?.code === 'SEAL_REGISTRY_MISSING') slot.registryDigest = undefined;
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
    worker.on('exit', (code, signal) => {
      if (this.closed || !this.slots.includes(slot)) return;
      // V8 aborts a process whose heap is exhausted (SIGABRT, exit 134): the job asked for more
      // memory than a verification may have
      const oom = signal === 'SIGABRT' || code === 134;
      this.replace(
        slot,
        oom
          ? new HttpError(
              422,
              'LIMIT_EXCEEDED',
              'verifying the document needed more memory than this server allows for one document',
            )
          : new HttpError(422, 'VERIFY_UNREADABLE', 'the document could not be processed'),
      );
    });
    return slot;
  }

  private finish(slot: Slot) {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    const job = slot.job;
    if (job?.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    slot.job = undefined;
  }

  private replace(slot: Slot, err: unknown) {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    const job = slot.job;
    this.finish(slot);
    this.slots.splice(i, 1);
    slot.worker.kill('SIGKILL');
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
        const sent = (e: Error | null) => {
          if (e && slot.job === job)
            this.replace(slot, new HttpError(503, 'UNAVAILABLE', 'the verifier could not take the document'));
        };
        if (job.input.kind === 'warmup') slot.worker.send({ id: job.id, kind: 'warmup' }, sent);
        else {
          const { kind, pdf, options } = job.input;
          // the registry (hundreds of KB for thousands of seals) only when this worker lacks it
          const registry = options.sealRegistry;
          const has = registry && slot.registryDigest === registry.digest;
          const o = has ? { ...options, sealRegistry: { ...registry, entries: '' } } : options;
          slot.worker.send({ id: job.id, kind, pdf, options: o }, (e) => {
            if (!e && registry) slot.registryDigest = registry.digest;
            sent(e);
          });
        }
      });
    }
  }

  /**
   * Runs a job; `signal` cancels it (the client has gone): a queued job leaves the queue, a running
   * one has its worker killed and replaced.
   */
  run<T>(input: JobInput, timeoutMs = this.o.jobTimeoutMs ?? 30_000, signal?: AbortSignal): Promise<T> {
    if (this.closed) return Promise.reject(new HttpError(503, 'UNAVAILABLE', 'the server is shutting down'));
    if (signal?.aborted) return Promise.reject(clientGone());
    if (this.queue.length >= (this.o.maxQueue ?? 256)) {
      return Promise.reject(
        new HttpError(503, 'BUSY', 'too many documents are waiting for verification; try again shortly'),
      );
    }
    // the bytes are copied once, into the IPC message (a view of shared memory too: measured)
    return new Promise<T>((resolve, reject) => {
      const job: Pending = {
        id: this.nextId++,
        input,
        resolve: resolve as (v: unknown) => void,
        reject,
        timeoutMs,
        signal,
      };
      if (signal) {
        job.onAbort = () => {
          const q = this.queue.indexOf(job);
          if (q >= 0) {
            this.queue.splice(q, 1);
            reject(clientGone());
            return;
          }
          const slot = this.slots.find((s) => s.job === job);
          if (slot) this.replace(slot, clientGone());
        };
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.queue.push(job);
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
      this.slots.map(async (s) => {
        s.job?.reject(new HttpError(503, 'UNAVAILABLE', 'the server is shutting down'));
        this.finish(s);
        if (s.worker.exitCode !== null || s.worker.signalCode !== null) return;
        const exited = new Promise<void>((r) => s.worker.once('exit', () => r()));
        // workers are unref'd so they never keep a process alive; waiting for one to exit must,
        // or a command that closes its server (sidian renew-timestamps) ends with its await unsettled
        s.worker.ref();
        s.worker.kill('SIGKILL');
        await exited;
      }),
    );
    this.slots.length = 0;
  }
}

function toError(e: { name: string; code?: string; message: string }): Error {
  if (e.code === 'NOT_IMPLEMENTED') return new HttpError(501, 'NOT_IMPLEMENTED', e.message);
  if (e.code === 'SEAL_REGISTRY_MISSING')
    return new HttpError(503, 'UNAVAILABLE', 'the verifier lost the seal registry; try again');
  if (e.name === 'SidianError' && e.code)
    return Object.assign(new Error(e.message), { name: 'SidianError', code: e.code });
  return new HttpError(422, 'VERIFY_UNREADABLE', 'the document could not be processed');
}
