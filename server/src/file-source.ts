/**
 * A file on disk as @sidian/core's RandomAccessFile: signing and verifying read only the parts of
 * it they need, and hash the rest in chunks straight from the file, read ahead on a thread of
 * their own (read-ahead.ts).
 */
import { closeSync, fstatSync, openSync, read, readSync } from 'node:fs';
import type { RandomAccessFile } from '@sidian/core';
import { readRangesAhead } from './read-ahead';

export interface OpenFile extends RandomAccessFile {
  close(): void;
}

export function openFile(path: string): OpenFile {
  const fd = openSync(path, 'r');
  let size: number;
  try {
    size = fstatSync(fd).size;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  const short = (position: number) => new Error(`${path} ended early at byte ${position} (did it change while being read?)`);
  return {
    size,
    readSync(into, position) {
      let o = 0;
      while (o < into.length) {
        const n = readSync(fd, into, o, into.length - o, position + o);
        if (n === 0) throw short(position + o);
        o += n;
      }
    },
    async read(into, position) {
      let o = 0;
      while (o < into.length) {
        const n = await new Promise<number>((resolve, reject) =>
          read(fd, into, o, into.length - o, position + o, (err, bytes) => (err ? reject(err) : resolve(bytes))),
        );
        if (n === 0) throw short(position + o);
        o += n;
      }
    },
    readRanges(ranges, each) {
      return readRangesAhead(fd, size, ranges, each);
    },
    close() {
      closeSync(fd);
    },
  };
}
