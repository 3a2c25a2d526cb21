// Verification worker: runs @sidian/core (TypeScript, through tsx) off the server's event loop, in
// a child process of its own (pool.ts), talking over the IPC channel.
import os from 'node:os';
import { register } from 'tsx/esm/api';

// the pool is gone: nothing is left to answer to
process.on('disconnect', () => process.exit(0));
const parentPort = { on: (e, f) => process.on(e, f), postMessage: (m) => process.send(m) };

// Below the server's main thread: on Linux the nice value is per thread, and 0 means this thread.
// CPU-heavy verifications then never starve the event loop that answers /api/health and the TSA.
try {
  os.setPriority(0, 10);
} catch {
  /* not permitted or not supported: run at normal priority */
}

register();
const { runJob } = await import('./job.ts');

parentPort.on('message', async (msg) => {
  try {
    const result = await runJob(msg);
    parentPort.postMessage({ id: msg.id, ok: true, result });
  } catch (e) {
    parentPort.postMessage({
      id: msg.id,
      ok: false,
      error: {
        name: e?.name ?? 'Error',
        code: typeof e?.code === 'string' ? e.code : undefined,
        message: String(e?.message ?? e),
      },
    });
  }
});
parentPort.postMessage({ ready: true });
