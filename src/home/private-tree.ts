import { chmodSync, lstatSync, readdirSync, rmSync } from 'node:fs';
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

/**
 * Removes what a failed backup or restore wrote into `folder`, which was new (`existed` false: it
 * goes) or empty (it is emptied), so that nothing half-written can pass for a backup or a home.
 */
export function discard(folder: string, existed: boolean): void {
  if (!existed) rmSync(folder, { recursive: true, force: true });
  else for (const name of readdirSync(folder)) rmSync(join(folder, name), { recursive: true, force: true });
}
