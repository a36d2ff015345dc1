import { readFileSync } from 'node:fs';
import type { EnvValue } from '../../../config/ops.js';

/**
 * Resolves `{file}` references at the moment of an execution, so a rotated secret is used at once
 * and its value lives only in the executor's environment or request. An unreadable file is named
 * (never its content) and fails the attempt.
 */
export function resolveValues(values: Readonly<Record<string, EnvValue>>, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(values)) {
    if (typeof v === 'string') {
      out[name] = v;
      continue;
    }
    try {
      out[name] = readFileSync(v.file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new Error(`the secret file of ${what} ${name} (${v.file}) cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  return out;
}
