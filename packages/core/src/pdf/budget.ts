/**
 * The work one job may do on one file (PADES-NOTES "Bounded work on hostile input"): a budget of
 * bytes that the file's declarations make us allocate — decoded streams, all together, and the
 * cross-reference tables — and a deadline. Both are checked inside the loops that spend them
 * (inflate, table building), so a bomb stops as soon as it is over, not after it has been expanded.
 */
import { SidianError } from '../errors';

/** The default budget: a multiple of the file's size, with a floor for small files and a cap. */
export const DECODE_BUDGET = {
  /** Decoded bytes allowed per byte of file (structure compresses ~3-10x; images are not decoded). */
  perFileByte: 16,
  floor: 32 * 1024 * 1024,
  cap: 512 * 1024 * 1024,
};

export class WorkBudget {
  private spentBytes = 0;
  /** The first overrun: kept, so that a caller that swallowed it can still end the job. */
  private failure?: SidianError;

  constructor(
    /** Bytes that decoding and tables may allocate in all. */
    readonly limitBytes: number,
    /** Date.now() after which work stops (Infinity: none). */
    readonly deadline = Number.POSITIVE_INFINITY,
  ) {}

  /** The default budget for a file of `size` bytes; `limitBytes` overrides the size rule. */
  static forFile(size: number, o: { limitBytes?: number; deadline?: number } = {}): WorkBudget {
    const bySize = Math.min(
      DECODE_BUDGET.cap,
      Math.max(DECODE_BUDGET.floor, size * DECODE_BUDGET.perFileByte),
    );
    return new WorkBudget(o.limitBytes ?? bySize, o.deadline);
  }

  get spent(): number {
    return this.spentBytes;
  }

  /** Bytes still allowed (0 once over). */
  get remaining(): number {
    return Math.max(0, this.limitBytes - this.spentBytes);
  }

  /** Counts `n` more bytes; over the budget a LIMIT_EXCEEDED error naming `what`. */
  charge(n: number, what: string): void {
    this.spentBytes += n;
    if (this.spentBytes > this.limitBytes) {
      throw (this.failure ??= new SidianError(
        'LIMIT_EXCEEDED',
        `the document's ${what} need more than the ${Math.round(this.limitBytes / 1048576)} MB this file may decode`,
        { limitBytes: this.limitBytes },
      ));
    }
  }

  /** Past the deadline: LIMIT_EXCEEDED. */
  checkTime(): void {
    if (Date.now() > this.deadline) {
      throw (this.failure ??= new SidianError('LIMIT_EXCEEDED', 'verification exceeded its time budget'));
    }
  }

  /** Throws the first overrun again, if there was one (whoever caught it first). */
  rethrow(): void {
    if (this.failure) throw this.failure;
  }
}
