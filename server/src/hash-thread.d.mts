/** Types of hash-thread.mjs (plain JavaScript: server/bin/sidian.mjs loads it before the CLI). */
export declare const THREAD_HASH_MIN: number;

export interface HashThread {
  readonly hash: 'SM3';
  /** The digest of the whole file, then of `extra`; asked once. */
  digest(extra: Uint8Array[]): Promise<Uint8Array>;
  /** Stops the thread unless its digest was asked for. */
  cancel(): void;
}

/** SM3 of [0, size) of the open file `fd`, on a thread of its own. */
export declare function hashOnThread(fd: number, size: number, path: string): HashThread;

/** The input of `sidian sign`, opened and being hashed before the CLI loaded. */
export interface EarlyInput {
  readonly path: string;
  readonly fd: number;
  readonly size: number;
  readonly hasher: HashThread;
  /** Stops the thread and closes the file unless the command adopted them. */
  release(): void;
  /** The command takes the file and the thread: it closes and cancels them from now on. */
  adopt(): void;
}

export declare function startSignInputHash(argv: string[]): EarlyInput | undefined;
