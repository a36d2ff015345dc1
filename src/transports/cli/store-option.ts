import type { Command } from 'commander';
import type { ConfigInput } from '../../config/config.js';
import { checkStoreUrl as checkUrl, StoreOpenError } from '../../store/open-store.js';
import { CliError } from './context.js';

/** `--store <url>`: a PostgreSQL database instead of the home's configured store. */
export function storeOption(c: Command): Command {
  return c.option('--store <url>', 'use the PostgreSQL database at this postgres:// URL (give the password through PGPASSWORD or ~/.pgpass)');
}

/** The config override `--store` makes (none without it); a bad URL ends the CLI with exit 2. */
export function storeOverride(url: string | undefined): ConfigInput {
  if (url === undefined) return {};
  try {
    return { store: { kind: 'postgres', url: checkUrl(url) } };
  } catch (err) {
    throw asCliError(err);
  }
}

/** A store that cannot be opened is a usage problem (exit 2) whose message says what to do. */
export function asCliError(err: unknown): unknown {
  return err instanceof StoreOpenError ? new CliError(err.message, 2) : err;
}
