import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding writ's package.json, whether running from src/ or from the compiled dist/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src', 'packs'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the writ package root (package.json beside src/packs)');
    dir = up;
  }
}
