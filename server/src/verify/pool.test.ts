/** The worker pool: overruns are cut off and the worker replaced; the pool keeps serving. */
import { afterAll, describe, expect, it } from 'vitest';
import { minimalPdf } from '../test/pdfs';
import { WorkerPool } from './pool';

describe('WorkerPool', { timeout: 120_000 }, () => {
  const pool = new WorkerPool({ size: 1, maxQueue: 2 });
  afterAll(() => pool.close());

  it('answers, times out a job (replacing its worker), refuses when the queue is full, and recovers', async () => {
    await pool.warmup();
    const ok = await pool.run<{ status: string }>({ kind: 'verify', pdf: minimalPdf(), options: {} });
    expect(ok.status).toBe('unsigned');
    // A job that reliably outlasts 1 ms: a PDF without a cross-reference whose 5 MB of object markers
    // the reader must index to recover it (a small valid PDF now verifies in well under 1 ms).
    const slow = new TextEncoder().encode('%PDF-1.7\n' + '9 0 obj\n'.repeat(640_000));
    await expect(pool.run({ kind: 'verify', pdf: slow, options: {} }, 1)).rejects.toMatchObject({
      code: 'VERIFY_TIMEOUT',
      status: 422,
    });
    const many = Array.from({ length: 4 }, () =>
      pool.run({ kind: 'verify', pdf: minimalPdf(), options: {} }).then(
        () => 'ok',
        (e: { code: string }) => e.code,
      ),
    );
    const codes = await Promise.all(many);
    expect(codes).toContain('BUSY');
    expect(codes).toContain('ok');
    const again = await pool.run<{ status: string }>({ kind: 'verify', pdf: minimalPdf(), options: {} });
    expect(again.status).toBe('unsigned');
    await expect(
      pool.run({ kind: 'verify', pdf: new TextEncoder().encode('not a pdf'), options: {} }),
    ).rejects.toMatchObject({ code: 'PDF_NOT_PDF' });
  });

  it('the seal registry goes to a worker once per snapshot; a worker without it fails the job (503), never judges seals against nothing, and gets it again', async () => {
    const job = (digest: string, entries: string) =>
      pool.run<{ status: string }>({
        kind: 'verify',
        pdf: minimalPdf(),
        options: { sealRegistry: { digest, entries, ownMakerKeys: [] } },
      });
    expect((await job('snapshot-a', '[]')).status).toBe('unsigned');
    expect((await job('snapshot-a', '[]')).status).toBe('unsigned');
    // a snapshot the worker never got, without its entries
    await expect(job('snapshot-b', '')).rejects.toMatchObject({ code: 'UNAVAILABLE', status: 503 });
    expect((await job('snapshot-b', '[]')).status).toBe('unsigned');
  });

  it('a job whose caller gives up is cancelled: taken from the queue at once, or its worker killed and replaced', async () => {
    const slow = new TextEncoder().encode('%PDF-1.7\n' + '9 0 obj\n'.repeat(2_000_000));
    const running = new AbortController();
    const queued = new AbortController();
    const a = pool.run(
      { kind: 'verify', pdf: slow, options: { timeBudgetMs: 60_000 } },
      60_000,
      running.signal,
    );
    const b = pool.run({ kind: 'verify', pdf: minimalPdf(), options: {} }, 60_000, queued.signal);
    queued.abort();
    await expect(b).rejects.toMatchObject({ code: 'CLIENT_GONE' });
    await new Promise((r) => setTimeout(r, 200));
    const t0 = performance.now();
    running.abort();
    await expect(a).rejects.toMatchObject({ code: 'CLIENT_GONE' });
    expect(performance.now() - t0).toBeLessThan(1000);
    // the replacement worker answers
    const next = await pool.run<{ status: string }>({ kind: 'verify', pdf: minimalPdf(), options: {} });
    expect(next.status).toBe('unsigned');
  });
});
