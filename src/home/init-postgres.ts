import { checkStoreUrl as checkUrl, openPostgres } from '../store/open-store.js';
import { redactUrl } from '../util/redact-url.js';

/**
 * The store section `writ init --store <url>` writes, once the database is known to take it: reachable,
 * writable, migrated, and empty. A database that already holds logs belongs to another home, whose
 * log key signs its checkpoints: a second home would sign the same logs with another key, so the
 * machines of one deployment share the first home's config.json and keys/ instead (docs/deploy.md).
 */
export async function postgresStoreSection(url: string): Promise<{ kind: 'postgres'; url: string; path: string }> {
  checkUrl(url);
  if (new URL(url).password) {
    throw new Error(`--store ${redactUrl(url)} carries a password, which config.json would keep in clear; leave it out of the URL and give it through PGPASSWORD or ~/.pgpass`);
  }
  const store = await openPostgres(url, { command: 'writ init' });
  try {
    const logs = await store.logHeads();
    if (logs.length > 0) {
      throw new Error(`the database at ${redactUrl(url)} already holds a writ deployment (${logs.length} logs); copy config.json and keys/ of the home that created it instead of running writ init again (docs/deploy.md)`);
    }
  } finally {
    await store.close();
  }
  return { kind: 'postgres', url, path: 'data/writ.db' };
}
