// Verification worker: runs @sidian/core (TypeScript, through tsx) off the server's event loop.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

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
      error: { name: e?.name ?? 'Error', code: typeof e?.code === 'string' ? e.code : undefined, message: String(e?.message ?? e) },
    });
  }
});
parentPort.postMessage({ ready: true });
