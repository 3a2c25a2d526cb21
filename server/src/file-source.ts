/**
 * A file on disk as @sidian/core's RandomAccessFile: signing and verifying read only the parts of
 * it they need, and hash the rest in chunks straight from the file, read ahead on a thread of
 * their own (read-ahead.ts).
 */
import { closeSync, fstatSync, openSync, read, readSync } from 'node:fs';
import type { RandomAccessFile } from '@sidian/core';
import { readAheadReady, readRangesAhead } from './read-ahead';

export interface OpenFile extends RandomAccessFile {
  close(): void;
}

/** Files from this size up start the read-ahead thread when opened (smaller ones are read whole). */
const READ_AHEAD_FROM = 4 * 1024 * 1024;

export function openFile(path: string): OpenFile {
  const fd = openSync(path, 'r');
  let size: number;
  try {
    size = fstatSync(fd).size;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  // a file this large is hashed from the reader thread: let it start while the file is parsed
  if (size >= READ_AHEAD_FROM) void readAheadReady();
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
