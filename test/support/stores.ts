import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/store/port.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { dropDatabase, freshDatabase, type Backend } from './backends.js';

/** A store on a new, empty database of `backend`; `reopen` opens the same database again. */
export interface TestStore {
  readonly store: Store;
  reopen(): Promise<Store>;
  /** Closes the store and removes its database. */
  dispose(): Promise<void>;
}

export async function openTestStore(backend: Backend): Promise<TestStore> {
  let open: () => Promise<Store>;
  let remove: () => Promise<void>;
  if (backend === 'postgres') {
    const url = await freshDatabase();
    open = () => PostgresStore.open({ url });
    remove = () => dropDatabase(url);
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'writ-store-'));
    open = async () => new SqliteStore({ path: join(dir, 'writ.db') });
    remove = async () => rmSync(dir, { recursive: true, force: true });
  }
  let store = await open();
  return {
    get store() {
      return store;
    },
    async reopen() {
      await store.close();
      return (store = await open());
    },
    async dispose() {
      await store.close();
      await remove();
    },
  };
}
