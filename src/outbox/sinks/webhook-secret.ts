import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { Webhook } from 'standardwebhooks';

/**
 * Reads a webhook sink's `whsec_` secret (Standard Webhooks: `whsec_` + base64 of the key) from its
 * file. Like the TOTP secret, a file its group or others may read or write is refused, since anyone
 * who reads it can forge deliveries. Errors name the file and the fix, never the content.
 */
export function loadWebhookSecret(path: string, sink: string): Webhook {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new Error(`outbox sink ${sink}: cannot open its secret ${path} (${code}); write a whsec_ secret there with mode 0600`);
  }
  let text: string;
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new Error(`outbox sink ${sink}: its secret ${path} is not a regular file`);
    const loose = stat.mode & 0o077;
    if (loose !== 0 && process.platform !== 'win32') {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
      throw new Error(`outbox sink ${sink}: its secret ${path} is accessible to ${loose & 0o007 ? 'every user' : 'its group'} (mode ${mode}); make it private with \`chmod 600 ${path}\``);
    }
    text = readFileSync(fd, 'utf8').trim();
  } finally {
    closeSync(fd);
  }
  if (!/^whsec_[A-Za-z0-9+/]{16,}={0,2}$/.test(text)) {
    throw new Error(`outbox sink ${sink}: ${path} does not hold a secret of the form whsec_<base64> (at least 12 bytes); generate one with \`echo whsec_$(openssl rand -base64 32)\``);
  }
  return new Webhook(text);
}
