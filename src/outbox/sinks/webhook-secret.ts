import { Webhook } from 'standardwebhooks';
import { insecureAdvice, PrivateFileError, readPrivateFile } from '../../util/private-file.js';

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
  if (!/^whsec_[A-Za-z0-9+/]{16,}={0,2}$/.test(text)) {
    throw new Error(`outbox sink ${sink}: ${path} does not hold a secret of the form whsec_<base64> (at least 12 bytes); generate one with \`echo whsec_$(openssl rand -base64 32)\``);
  }
  return new Webhook(text);
}
