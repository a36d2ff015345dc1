import { join } from 'node:path';
import { ConfigError, type Config } from '../config/config.js';
import type { Store } from './port.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { MigrationResult } from './postgres/migrate.js';

export { StoreOpenError } from './postgres/errors.js';
export { checkUrl as checkStoreUrl } from './postgres/connect.js';
export type { MigrationResult };

export interface OpenStoreOptions {
  /** What this process is (`writ serve`, `writ init`, …): a second process on the home is told who holds it. */
  readonly command?: string;
  /** Reads only, beside a server that may be running (`writ verify`, `writ rebuild`): takes no writer lock. */
  readonly readOnly?: boolean;
}

type Backend = (config: Config, options: OpenStoreOptions) => Store | Promise<Store>;

/**
 * The backends writ runs on, by `store.kind` (DESIGN §8). Adding one is a line here (and its kind
 * in the config schema, src/config/schema.ts); nothing else names an adapter, so the rest of writ
 * stays typed on the port's roles.
 */
const BACKENDS: Readonly<Record<string, Backend>> = {
  // Takes the home's writer lock: a second writ on the same store is refused here, naming the first.
  sqlite: (config, options) => new SqliteStore({ path: config.store.path, command: options.command, readOnly: options.readOnly }),
  // Shared by design (docs/deploy.md): migrated when opened for writes, and checked to take them.
  postgres: (config, options) => openPostgres(config.store.url ?? '', options),
};

/**
 * A PostgreSQL store by its URL (`writ migrate`, `writ init --store`, or store.kind "postgres"), with
 * what its migration did. The driver is loaded only here, when a PostgreSQL store is asked for.
 */
export async function openPostgres(url: string, options: OpenStoreOptions = {}): Promise<Store & { readonly migration: MigrationResult }> {
  const { PostgresStore } = await import('./postgres/postgres-store.js');
  return PostgresStore.open({ url, command: options.command, readOnly: options.readOnly });
}

/** The kinds of store this build knows. */
export const STORE_KINDS: readonly string[] = Object.keys(BACKENDS);

/** Opens the store the configuration names; an unknown kind is a ConfigError naming the known ones. */
export async function openStore(config: Config, options: OpenStoreOptions = {}): Promise<Store> {
  const kind: string = config.store.kind;
  const open = Object.hasOwn(BACKENDS, kind) ? BACKENDS[kind] : undefined;
  if (!open) throw new ConfigError([`/store/kind ${JSON.stringify(kind)} is not a store this writ knows; use one of: ${STORE_KINDS.join(', ')}`], join(config.home, 'config.json'));
  return open(config, options);
}
