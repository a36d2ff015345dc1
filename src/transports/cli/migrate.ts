import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { isInitialised } from '../../home/init.js';
import { openPostgres } from '../../store/open-store.js';
import { redactUrl } from '../../util/redact-url.js';
import { CliError, globals, print } from './context.js';
import { asCliError, storeOption, storeOverride } from './store-option.js';

/**
 * `writ migrate`: brings a PostgreSQL database to this writ's schema (each migration in its own
 * transaction, recorded in schema_migrations) and prints what it did. `writ serve` migrates at start
 * too; this runs it ahead of a rolling upgrade, or against a database no home names yet.
 */
export function registerMigrateCommand(program: Command): void {
  storeOption(program.command('migrate').description('migrate the PostgreSQL store (--store, or the home\'s store.url) to this writ\'s schema; prints {store, from, to, applied}')).action(
    async (opts: { store?: string }, cmd: Command) => {
      const g = globals(cmd);
      let url = opts.store;
      if (url === undefined) {
        if (!isInitialised(g.home)) throw new CliError('give the database with --store postgres://user@host:5432/database, or --home of a home whose store is PostgreSQL', 2);
        const config = loadConfig(g.home);
        if (config.store.kind !== 'postgres') throw new CliError(`${g.home} keeps its store in SQLite (${config.store.path}), which migrates itself when writ opens it; writ migrate is for PostgreSQL (--store postgres://…)`, 2);
        url = config.store.url!;
      }
      storeOverride(url);
      let store: Awaited<ReturnType<typeof openPostgres>>;
      try {
        store = await openPostgres(url, { command: 'writ migrate' });
      } catch (err) {
        throw asCliError(err);
      }
      await store.close();
      print({ store: redactUrl(url), ...store.migration });
    },
  );
}
