/** Content-addressed blob store on the filesystem: `<data>/blobs/sha256/ab/cd/<hex>`, one copy per content. */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

export const SHA256_HEX = /^[0-9a-f]{64}$/;

export class BlobStore {
  readonly root: string;
  private readonly tmp: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'blobs', 'sha256');
    this.tmp = path.join(dataDir, 'blobs', 'tmp');
    fs.mkdirSync(this.root, { recursive: true, mode: 0o700 });
    fs.mkdirSync(this.tmp, { recursive: true, mode: 0o700 });
    for (const d of [dataDir, path.dirname(this.root), this.root, this.tmp]) fs.chmodSync(d, 0o700);
  }

  /**
   * Start-up: temporary files that a killed process left behind. Only stale ones (not written for
   * `staleMs`): another server process on the same data folder may be writing the fresh ones.
   */
  removeStaleTemporaries(staleMs = 15 * 60_000): number {
    let n = 0;
    const before = Date.now() - staleMs;
    for (const f of fs.readdirSync(this.tmp)) {
      const p = path.join(this.tmp, f);
      try {
        if (fs.statSync(p).mtimeMs < before) {
          fs.rmSync(p, { force: true });
          n++;
        }
      } catch {
        /* gone meanwhile */
      }
    }
    return n;
  }

  /** Removes a blob's file (the caller has checked that nothing refers to it any more). */
  async remove(sha256: string): Promise<void> {
    await fs.promises.rm(this.pathOf(sha256), { force: true });
  }

  pathOf(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new Error('not a SHA-256 hex digest');
    return path.join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  has(sha256: string): boolean {
    return SHA256_HEX.test(sha256) && fs.existsSync(this.pathOf(sha256));
  }

  size(sha256: string): number | undefined {
    try {
      return fs.statSync(this.pathOf(sha256)).size;
    } catch {
      return undefined;
    }
  }

  /** Stores bytes; returns their SHA-256. */
  async putBytes(data: Uint8Array): Promise<{ sha256: string; size: number }> {
    const sha256 = createHash('sha256').update(data).digest('hex');
    if (!this.has(sha256)) {
      const t = path.join(this.tmp, randomUUID());
      await fs.promises.writeFile(t, data, { mode: 0o600 });
      await this.commit(t, sha256);
    }
    return { sha256, size: data.length };
  }

  /** Hashes a file and moves it into the store (or drops it when the content is already there). */
  async adoptFile(file: string): Promise<{ sha256: string; size: number }> {
    const { sha256, size } = await hashFile(file);
    if (this.has(sha256)) await fs.promises.rm(file, { force: true });
    else await this.commit(file, sha256);
    return { sha256, size };
  }

  /**
   * Hashes a file and puts it into the store as a hard link (no copy; a copy across file systems),
   * leaving the original in place.
   */
  async linkFile(file: string): Promise<{ sha256: string; size: number }> {
    const { sha256, size } = await hashFile(file);
    if (!this.has(sha256)) {
      const dest = this.pathOf(sha256);
      await fs.promises.mkdir(path.dirname(dest), { recursive: true, mode: 0o700 });
      await fs.promises.chmod(file, 0o600); // one inode: the blob gets the mode too
      try {
        await fs.promises.link(file, dest);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') return { sha256, size };
        if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP') throw e;
        const t = path.join(this.tmp, randomUUID());
        await fs.promises.copyFile(file, t);
        await this.commit(t, sha256);
      }
    }
    return { sha256, size };
  }

  /** Hashes a file and copies it into the store, leaving the original. */
  async copyFile(file: string): Promise<{ sha256: string; size: number }> {
    const t = path.join(this.tmp, randomUUID());
    await fs.promises.copyFile(file, t);
    return this.adoptFile(t);
  }

  private async commit(tmpFile: string, sha256: string): Promise<void> {
    const dest = this.pathOf(sha256);
    await fs.promises.mkdir(path.dirname(dest), { recursive: true, mode: 0o700 });
    const fd = await fs.promises.open(tmpFile, 'r+');
    try {
      await fd.chmod(0o600);
      await fd.sync();
    } finally {
      await fd.close();
    }
    await fs.promises.rename(tmpFile, dest);
  }

  read(sha256: string): Promise<Buffer> {
    return fs.promises.readFile(this.pathOf(sha256));
  }

  stream(sha256: string): fs.ReadStream {
    return fs.createReadStream(this.pathOf(sha256));
  }
}

export async function hashFile(file: string): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  await pipeline(
    fs.createReadStream(file, { highWaterMark: 1024 * 1024 }),
    async function (src: AsyncIterable<Buffer>) {
      for await (const chunk of src) {
        h.update(chunk);
        size += chunk.length;
      }
    },
  );
  return { sha256: h.digest('hex'), size };
}
