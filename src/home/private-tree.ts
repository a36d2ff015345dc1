import { chmodSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Makes every folder under `root` (and `root`) 0700 and every file 0600: a backup or a restored
 * home holds the log key and every secret the home holds, so nobody else may read any of it.
 */
export function privateTree(root: string): void {
  chmodSync(root, 0o700);
  for (const name of readdirSync(root)) {
    const path = join(root, name);
    const st = lstatSync(path);
    if (st.isDirectory()) privateTree(path);
    else if (st.isFile()) chmodSync(path, 0o600);
  }
}
