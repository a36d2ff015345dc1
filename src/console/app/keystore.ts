import { importSigningKey, pkcs8Alg, pkcs8FromPem } from '../../core/web-signature.js';
import type { WebSigner } from '../../sdk/sign-web.js';

/**
 * The operator's key, kept in this browser only: imported from the PKCS#8 file `writ keys new`
 * wrote as a non-extractable WebCrypto key (the page can sign with it, never read it back), stored
 * in IndexedDB (a CryptoKey is stored as such, still non-extractable). It is never sent anywhere.
 */
const DB = 'writ-console';
const STORE = 'keys';
const SLOT = 'operator';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function tx<T>(mode: IDBTransactionMode, run: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const req = run(db.transaction(STORE, mode).objectStore(STORE));
      req.onsuccess = () => resolve(req.result as T);
      req.onerror = () => reject(req.error);
    });
  } finally {
    db.close();
  }
}

export async function loadSigner(): Promise<WebSigner | null> {
  return (await tx<WebSigner | undefined>('readonly', (s) => s.get(SLOT))) ?? null;
}

/** Imports the PEM text as the operator's key for `keyId` in `tenant`, replacing any other. */
export async function importSigner(pem: string, keyId: string, tenant: string): Promise<WebSigner> {
  const der = pkcs8FromPem(pem);
  const alg = pkcs8Alg(der);
  const signer: WebSigner = { keyId, tenant, alg, key: await importSigningKey(der, alg) };
  await tx('readwrite', (s) => s.put(signer, SLOT));
  return signer;
}

export async function forgetSigner(): Promise<void> {
  await tx('readwrite', (s) => s.delete(SLOT));
}
