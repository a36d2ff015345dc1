import { Webhook } from 'standardwebhooks';
import { insecureAdvice, PrivateFileError, readPrivateFile } from '../../util/private-file.js';

/** Standard Webhooks (Signature scheme, symmetric): secrets are "between 24 bytes (192 bits) and 64 bytes (512 bits)". */
export const MIN_WEBHOOK_SECRET_BYTES = 24;

/**
 * Reads a webhook sink's `whsec_` secret (Standard Webhooks: `whsec_` + base64 of the key) from its
 * file. Like the TOTP secret, a file its group or others may read or write is refused, since anyone
 * who reads it can forge deliveries. Errors name the file and the fix, never the content.
 */
export function loadWebhookSecret(path: string, sink: string): Webhook {
  let text: string;
  try {
    text = readPrivateFile(path).trim();
  } catch (err) {
    if (!(err instanceof PrivateFileError)) throw err;
    const p = err.problem;
    if (p.kind === 'cannot-open') throw new Error(`outbox sink ${sink}: cannot open its secret ${path} (${p.code}); write a whsec_ secret there with mode 0600`);
    if (p.kind === 'not-a-file') throw new Error(`outbox sink ${sink}: its secret ${path} is not a regular file`);
    throw new Error(`outbox sink ${sink}: its secret ${path} ${insecureAdvice(path, p)}`);
  }
  const make = `generate one with \`echo whsec_$(openssl rand -base64 32) > ${path}\``;
  if (!/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(text)) throw new Error(`outbox sink ${sink}: ${path} does not hold a secret of the form whsec_<base64>; ${make}`);
  const bytes = Buffer.from(text.slice('whsec_'.length), 'base64').length;
  if (bytes < MIN_WEBHOOK_SECRET_BYTES) {
    throw new Error(`outbox sink ${sink}: the secret in ${path} is ${bytes} bytes; Standard Webhooks asks for at least ${MIN_WEBHOOK_SECRET_BYTES} bytes (24 to 64); ${make}`);
  }
  return new Webhook(text);
}
