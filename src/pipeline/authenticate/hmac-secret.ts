import { readFileSync } from 'node:fs';
import type { Config } from '../../config/config.js';
import type { KnownKey } from '../../state/directory.js';

/**
 * Shortest HS256 secret writ accepts, in bytes. RFC 7518 §3.2: "A key of the same size as the hash
 * output (for instance, 256 bits for "HS256") or larger MUST be used with this algorithm."
 */
export const MIN_HMAC_SECRET_BYTES = 32;

/**
 * Reads an HS256 secret (auth.hmacKeys, auth.jwt.hs256SecretFile) as raw bytes, refusing a short one
 * at start: anyone who guesses it signs as every actor it covers. `what` names the setting; the
 * message names the file and its length, never its content.
 */
export function readHmacSecret(path: string, what: string): Buffer {
  const secret = readFileSync(path);
  if (secret.length < MIN_HMAC_SECRET_BYTES) {
    throw new Error(
      `${what}: ${path} holds ${secret.length} bytes; an HS256 secret must be at least ${MIN_HMAC_SECRET_BYTES} bytes (RFC 7518 §3.2). ` +
        `Generate one with \`openssl rand ${MIN_HMAC_SECRET_BYTES} > ${path} && chmod 600 ${path}\` and give it to every party that signs with it`,
    );
  }
  return secret;
}

/** The HS256 keys of config.json (auth.hmacKeys), their secrets read and checked (readHmacSecret). */
export function configuredHmacKeys(config: Pick<Config, 'auth'>): KnownKey[] {
  return config.auth.hmacKeys.map((k) => ({
    tenant: k.tenant,
    actor: k.actor,
    keyId: k.keyId,
    alg: 'hs256' as const,
    secret: readHmacSecret(k.secretFile, `auth.hmacKeys (keyId ${k.keyId})`),
    notBefore: null,
    notAfter: null,
    revokedAt: null,
  }));
}
