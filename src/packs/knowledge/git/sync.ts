import { open } from 'node:fs/promises';

/** At most this many fsyncs at once: libuv's thread pool has four threads, which other I/O shares. */
const PARALLEL = 8;

/** fsync of each file or folder in `paths` (a folder's fsync makes the names in it durable). */
export async function syncPaths(paths: Iterable<string>): Promise<void> {
  const list = [...paths];
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      const handle = await open(list[next++]!, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, list.length) }, worker));
}
