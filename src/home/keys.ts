import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Writes a new Ed25519 key pair: PKCS#8 PEM private key (mode 0600) and SPKI PEM public key beside it. */
export function writeKeyPair(privatePath: string): { privatePath: string; publicPath: string; publicPem: string } {
  if (existsSync(privatePath)) throw new Error(`${privatePath} exists already; refusing to overwrite a key`);
  mkdirSync(dirname(privatePath), { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  writeFileSync(privatePath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  chmodSync(privatePath, 0o600);
  const publicPath = privatePath.replace(/\.key$/, '') + '.pub';
  writeFileSync(publicPath, publicPem, { mode: 0o644 });
  return { privatePath, publicPath, publicPem };
}
