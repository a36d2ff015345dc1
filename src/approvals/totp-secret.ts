import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { WritError } from '../core/errors.js';
import { insecureAdvice, PrivateFileError, readPrivateFile } from '../util/private-file.js';
import { TotpSecret } from './totp.js';

/**
 * The airlock's TOTP secret lives in one file on the server (`approvals.totpSecretFile`, relative
 * to the home): base32 on one line, mode 0600. It never enters the ledger, a log line or an error
 * message: errors here name the file and what to do, never its content.
 */

/** Default of `approvals.totpSecretFile`, relative to the home. */
export const DEFAULT_TOTP_SECRET_FILE = 'keys/totp.secret';

export type TotpSecretProblem = 'missing' | 'insecure' | 'not-a-file' | 'malformed';

/** The secret file is missing, readable by others, or does not hold a usable secret. */
export class TotpSecretError extends Error {
  constructor(readonly problem: TotpSecretProblem, readonly path: string, message: string) {
    super(message);
    this.name = 'TotpSecretError';
  }
}

/**
 * The absolute path of the secret file: `approvals.totpSecretFile` of the config when it has one
 * (relative paths are read against the home), else `keys/totp.secret` in the home.
 */
export function totpSecretPath(config: { readonly home: string; readonly approvals?: { readonly totpSecretFile?: string } }): string {
  const file = config.approvals?.totpSecretFile ?? DEFAULT_TOTP_SECRET_FILE;
  return isAbsolute(file) ? file : join(config.home, file);
}

/**
 * Reads the secret. Refuses a file that its group or others may read or write (like ssh does with
 * private keys), since anyone who can read it can produce every code.
 * @throws TotpSecretError naming the path and the fix
 */
export function loadTotpSecret(path: string): TotpSecret {
  let text: string;
  try {
    text = readPrivateFile(path);
  } catch (err) {
    if (!(err instanceof PrivateFileError)) throw err;
    const p = err.problem;
    if (p.kind === 'cannot-open' && p.code === 'ENOENT') throw new TotpSecretError('missing', path, `no TOTP secret at ${path}; create it with \`writ totp provision\``);
    if (p.kind === 'cannot-open') throw new TotpSecretError('not-a-file', path, `cannot open the TOTP secret ${path}: ${p.code}`);
    if (p.kind === 'not-a-file') throw new TotpSecretError('not-a-file', path, `the TOTP secret ${path} is not a regular file`);
    throw new TotpSecretError('insecure', path, `the TOTP secret ${path} ${insecureAdvice(path, p)}`);
  }
  try {
    return TotpSecret.fromBase32(text);
  } catch (err) {
    // The message of fromBase32 never quotes the text.
    throw new TotpSecretError('malformed', path, `the TOTP secret ${path} is not a usable base32 secret (${(err as Error).message}); replace it with \`writ totp provision\` after moving it away`);
  }
}

/**
 * Loads the secret, creating it first if the file does not exist: 160 random bits, base32, written
 * with mode 0600 (created exclusively, so two provisioners cannot both write), in a folder created
 * with mode 0700 when missing.
 * @returns the secret and whether this call created it
 * @throws TotpSecretError when an existing file is insecure or malformed
 */
export function provisionTotpSecret(path: string): { readonly secret: TotpSecret; readonly created: boolean } {
  const secret = TotpSecret.generate();
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    writeFileSync(path, secret.toBase32() + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { secret: loadTotpSecret(path), created: false };
    throw err;
  }
  // The mode given to open is narrowed by the umask, never widened; chmod states it exactly.
  chmodSync(path, 0o600);
  return { secret, created: true };
}

/**
 * The airlock's secret as the running writ reads it: loaded on first use (so a home without an
 * airlock needs no secret), kept once loaded, and a failure turned into UNAVAILABLE that names the
 * file and the fix, never the secret. A failure is not kept: provisioning the file needs no restart.
 */
export function airlockSecret(path: string): () => TotpSecret {
  let loaded: TotpSecret | undefined;
  return () => {
    if (loaded) return loaded;
    try {
      loaded = loadTotpSecret(path);
      return loaded;
    } catch (err) {
      if (err instanceof TotpSecretError) throw new WritError('UNAVAILABLE', `the airlock cannot check codes: ${err.message}`, { retryAfter: 60 });
      throw err;
    }
  };
}
