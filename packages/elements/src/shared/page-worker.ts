/**
 * One module Web Worker shared by every element of a kind on the page, started on first use. When it
 * cannot be constructed, or fails to load (a CSP without `worker-src`, a missing file), it is marked
 * broken and `onBroken` lets the caller finish its pending jobs on the main thread.
 *
 * `create` is written at the call site as `new Worker(new URL('./x-worker.ts', import.meta.url), …)`,
 * the form the bundler recognises to emit the worker's chunk.
 */
export class PageWorker<Reply> {
  private url: string | URL | undefined;
  private worker: Worker | undefined;
  private broken = false;

  constructor(
    private readonly create: (url: string | URL | undefined) => Worker,
    private readonly onReply: (reply: Reply) => void,
    private readonly onBroken: () => void,
  ) {}

  /** Serve the worker from `url` from now on (a page that hosts the bundle's files elsewhere). */
  configure(url: string | URL): void {
    this.url = url;
    this.worker?.terminate();
    this.worker = undefined;
    this.broken = false;
  }

  /** The running worker, started if needed; undefined where none can run. */
  get(): Worker | undefined {
    if (this.worker || this.broken || typeof Worker === 'undefined') return this.worker;
    try {
      this.worker = this.create(this.url);
    } catch {
      this.broken = true;
      return undefined;
    }
    this.worker.onmessage = (e: MessageEvent<Reply>) => this.onReply(e.data);
    this.worker.onerror = () => {
      this.broken = true;
      this.worker?.terminate();
      this.worker = undefined;
      this.onBroken();
    };
    return this.worker;
  }
}
