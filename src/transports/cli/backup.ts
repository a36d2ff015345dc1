import type { Command } from 'commander';
import { CODES } from '../../core/codes.js';
import { loadConfig } from '../../config/config.js';
import { backupHome, type ProgressOf } from '../../home/backup.js';
import { BackupError } from '../../home/manifest.js';
import { restoreHome } from '../../home/restore.js';
import { CliError, configOf, globals, print } from './context.js';
import { progressBar } from './progress.js';
import { verifyHome } from './verify-home.js';

/** Bytes below which no progress bar is drawn (the copy takes well under a second). */
const PROGRESS_FROM_BYTES = 64 * 1024 * 1024;
const MIB = 1024 * 1024;

function progressOf(enabled: boolean): ProgressOf {
  return (label) => progressBar({ enabled, label, unit: 'MiB', from: PROGRESS_FROM_BYTES, scale: MIB });
}

/** A refused backup or restore: a wrong folder is a usage error (2), a damaged backup PROOF_INVALID. */
async function refusing<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof BackupError) throw new CliError(err.message, err.kind === 'usage' ? 2 : CODES.PROOF_INVALID.exit);
    throw err;
  }
}

export function registerBackupCommands(program: Command): void {
  program
    .command('backup')
    .description('copy the home (database, keys, config, policies, packs, anchors) into a new folder while the server runs, with a manifest of SHA-256 hashes')
    .argument('<dest>', 'a new or empty folder (outside the home)')
    .option('--no-progress', 'no progress bar')
    .action(async (dest: string, opts: { progress: boolean }, cmd: Command) => {
      const config = configOf(globals(cmd));
      const warn = (message: string) => process.stderr.write(`writ: ${message}\n`);
      const manifest = await refusing(() => backupHome(config, dest, { progress: progressOf(opts.progress), warn }));
      const bytes = manifest.files.reduce((n, f) => n + f.bytes, 0);
      print({ ok: true, backup: dest, createdAt: manifest.createdAt, writ: manifest.writ, files: manifest.files.length, bytes, logs: manifest.logs.map(({ origin, records, checkpoint }) => ({ origin, records, checkpoint: checkpoint?.size ?? null })) });
    });

  program
    .command('restore')
    .description('check a backup against its manifest, copy it into a new or empty home (--home), then verify that home')
    .argument('<backup>', 'a folder written by `writ backup`')
    .option('--no-progress', 'no progress bar')
    .action(async (backup: string, opts: { progress: boolean }, cmd: Command) => {
      const { home } = globals(cmd);
      const restored = await refusing(() => restoreHome(backup, home, progressOf(opts.progress)));
      const report = await verifyHome(loadConfig(restored.home), { progress: opts.progress });
      print({ ok: report.ok, home: restored.home, files: restored.files, bytes: restored.bytes, backupCreatedAt: restored.manifest.createdAt, verify: report });
      if (!report.ok) {
        const first = report.problems[0];
        process.stderr.write(`writ: the restored home does NOT verify: ${first.log}${first.index === null ? '' : ` at index ${first.index}`}: ${first.message}\n`);
        process.exitCode = CODES.LEDGER_INCONSISTENT.exit;
      }
    });
}
