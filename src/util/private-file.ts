import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';

/** Why a secret file was not read. */
export type PrivateFileProblem =
  | { readonly kind: 'cannot-open'; readonly code: string }
  | { readonly kind: 'not-a-file' }
  /** Its group or others may read or write it: `who` and the octal `mode` for the message. */
  | { readonly kind: 'insecure'; readonly who: 'every user' | 'its group'; readonly mode: string };

export class PrivateFileError extends Error {
  constructor(readonly path: string, readonly problem: PrivateFileProblem) {
    super(`${path}: ${problem.kind}`);
    this.name = 'PrivateFileError';
  }
}

/**
 * Reads a file that holds a secret, refusing one that its group or others may read or write (as ssh
 * does with private keys): anyone who can read it holds the secret. The mode is read from the open
 * descriptor, so it is the mode of the file that is read. Callers word the message (naming the file
 * and the fix, never the content).
 * @throws PrivateFileError
 */
export function readPrivateFile(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new PrivateFileError(path, { kind: 'cannot-open', code: (err as NodeJS.ErrnoException).code ?? 'error' });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new PrivateFileError(path, { kind: 'not-a-file' });
    const loose = stat.mode & 0o077;
    if (loose !== 0 && process.platform !== 'win32') {
      throw new PrivateFileError(path, { kind: 'insecure', who: loose & 0o007 ? 'every user' : 'its group', mode: (stat.mode & 0o777).toString(8).padStart(4, '0') });
    }
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** The end of an "insecure" message: who may reach the file, and the command that fixes it. */
export function insecureAdvice(path: string, problem: Extract<PrivateFileProblem, { kind: 'insecure' }>): string {
  return `is accessible to ${problem.who} (mode ${problem.mode}); make it private with \`chmod 600 ${path}\``;
}
