import { join } from 'node:path';
import { packageRoot } from '../util/package-root.js';

/** Where the console's bundle is built (src/console/build.ts) and served from (GET /console). */
export function consoleDir(root = packageRoot()): string {
  return join(root, 'dist', 'console');
}
