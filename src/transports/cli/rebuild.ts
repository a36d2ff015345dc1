import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { CODES } from '../../core/codes.js';
import { rebuildState } from '../../ledger/verify/rebuild.js';
import type { StateDeps } from '../../ledger/verify/state.js';
import { describeDiff } from '../../ledger/verify/versions.js';
import { originOf } from '../../ledger/record.js';
import type { StoreLifecycle } from '../../store/port.js';
import { replaceEntityHistory, WriterLock } from '../../home/offline.js';
import { openStore } from '../../store/open-store.js';
import { CliError, configOf, globals, print } from './context.js';
import { phasedProgress, replayDeps } from './verify-home.js';

/** Differences printed on stderr; the JSON report on stdout lists every one. */
const SHOWN = 20;

/**
 * `writ rebuild [--swap]`: recomputes the entity state from the ledger (the replay `writ verify`
 * runs) and reports every difference from the stored state. With --swap, the rebuilt state replaces
 * the stored one, which needs the home to itself: the writer lock is taken before anything is read,
 * so a running server (or another writer) makes it refuse, and none can start until it is done.
 */
async function rebuild(opts: { swap?: boolean; progress: boolean }, cmd: Command): Promise<void> {
  const config = configOf(globals(cmd));
  const path = config.store.path;
  const sqlite = config.store.kind === 'sqlite';
  if (sqlite && !existsSync(path)) throw new CliError(`no database at ${path}; nothing to rebuild`, 2);
  // --swap holds the home's writer lock while it rewrites the SQLite file; other processes may be
  // writing a PostgreSQL database, so there it compares only (docs/deploy.md, Limits).
  if (opts.swap && !sqlite) throw new CliError('rebuild --swap replaces the state of an SQLite home only; nothing was changed. On PostgreSQL, `writ rebuild` reports the differences; repair them from a backup', 2);
  let lock: WriterLock | undefined;
  if (opts.swap) {
    try {
      lock = WriterLock.take(path, 'writ rebuild --swap');
    } catch (err) {
      throw new CliError(`rebuild --swap replaces the entity state and needs the home to itself; nothing was changed. ${(err as Error).message}`, CODES.UNAVAILABLE.exit);
    }
  }
  try {
    const started = Date.now();
    const bar = phasedProgress(opts.progress);
    const store: StateDeps['store'] & Pick<StoreLifecycle, 'close'> = await openStore(config, { readOnly: true });
    let result;
    try {
      result = await rebuildState({ store, originPrefix: config.ledger.originPrefix, ...(await replayDeps(config)), progress: bar });
    } finally {
      await store.close();
    }
    const { differences, problems } = result;
    // Problems beyond the differences are the ledger's own (a body failing its hash, a command that
    // does not apply): the rebuilt state is then in doubt too, so it is never swapped in.
    const ledgerInDoubt = problems.length > differences.length;
    let swapped = false;
    if (lock && differences.length > 0 && !ledgerInDoubt) {
      replaceEntityHistory(lock, path, result.rows, (done, total) => bar('swapping the state in', done, total));
      swapped = true;
    }
    const ms = Date.now() - started;
    print({
      ok: problems.length === 0,
      records: result.records,
      versions: { stored: result.stored, rebuilt: result.rows.length },
      differences,
      problems: problems.map((p) => ({ log: originOf(config.ledger.originPrefix, p.tenant, p.scroll), index: p.index, message: p.message })),
      swapped,
      ms,
    });
    process.stderr.write(`writ: rebuilt ${result.rows.length} entity versions from ${result.records} records in ${ms} ms; ${differences.length} differ from the stored state\n`);
    for (const d of differences.slice(0, SHOWN)) process.stderr.write(`writ:   ${d.tenant}: ${describeDiff(d)}\n`);
    if (differences.length > SHOWN) process.stderr.write(`writ:   and ${differences.length - SHOWN} more (see the report)\n`);
    if (swapped) process.stderr.write('writ: the rebuilt state was swapped in; run `writ verify` to check the home\n');
    else if (lock && ledgerInDoubt) process.stderr.write('writ: NOT swapped: the ledger itself has problems (see the report, and run `writ verify`)\n');
    else if (differences.length > 0) process.stderr.write('writ: nothing was changed; `writ rebuild --swap` (with the server stopped) replaces the stored state with the rebuilt one\n');
    if (!swapped && problems.length > 0) process.exitCode = CODES.LEDGER_INCONSISTENT.exit;
  } finally {
    lock?.release();
  }
}

export function registerRebuildCommand(program: Command): void {
  program
    .command('rebuild')
    .description('replay the ledger into fresh entity state, compare it with the stored state and report every difference; --swap replaces the stored state (server stopped)')
    .option('--swap', 'replace the stored entity state with the rebuilt one (needs the home to itself: stop the server)')
    .option('--no-progress', 'no progress bar')
    .action(rebuild);
}
