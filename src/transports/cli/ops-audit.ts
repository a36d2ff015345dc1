import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { CODES } from '../../core/codes.js';
import { WritError } from '../../core/errors.js';
import { parseVerifierKey } from '../../core/tlog/index.js';
import { mirrorStandings } from '../../packs/ops/audit/position.js';
import { namesOf } from '../../packs/ops/audit/names.js';
import { verifyMirror, type AuditStore } from '../../packs/ops/audit/verify.js';
import type { StoreLifecycle } from '../../store/port.js';
import { openStore } from '../../store/open-store.js';
import { openSigner } from '../../writ.js';
import { CliError, configOf, globals, print } from './context.js';
import { asCliError } from './store-option.js';

/** The standing of the tenant's audit mirrors, for `writ ops status` (read from the folder). */
export function auditStanding(cmd: Command, tenant: string) {
  return mirrorStandings(configOf(globals(cmd)).ops.audit, tenant);
}

/** `--vkey`: the key itself, or a file holding it. */
function vkeyOf(value: string) {
  return parseVerifierKey(existsSync(value) ? readFileSync(value, 'utf8').trim() : value);
}

/** `writ ops audit verify` (docs/ops.md, "Audit mirror"). */
export function registerOpsAuditCommands(ops: Command): void {
  const audit = ops.command('audit').description("the ops audit mirror: one git repository per tenant and workspace (ops.audit)");
  audit
    .command('verify')
    .description("check every entry of a mirror (or a clone of it) against the home's ledger, with no server: each proven in a signed checkpoint with the log's verifier key, equal to its record, none missing")
    .argument('<repo>', '<ops.audit.folder>/<tenant>/<workspace>.git, or a clone of it')
    .option('--tenant <tenant>', 'the tenant (default: from the repository path)')
    .option('--workspace <workspace>', 'the workspace (default: from the repository path)')
    .option('--vkey <vkey>', "the log verifier key, or a file holding it (default: the home's)")
    .option('--checkpoint <file...>', "signed checkpoints to prove entries into (GET /v1/logs/{t}/{scroll}/checkpoint, kept elsewhere) instead of the store's latest")
    .action(async (repo: string, opts: { tenant?: string; workspace?: string; vkey?: string; checkpoint?: string[] }, cmd: Command) => {
      const config = configOf(globals(cmd));
      const named = namesOf(repo);
      const tenant = opts.tenant ?? named?.tenant;
      const workspace = opts.workspace ?? named?.workspace;
      if (!tenant || !workspace) throw new CliError(`${repo} is not named <tenant>/<workspace>.git; give --tenant and --workspace`, 2);
      const logKey = opts.vkey ? vkeyOf(opts.vkey) : openSigner(config).verifierKey;
      const checkpoints = (opts.checkpoint ?? []).map((f) => {
        if (!existsSync(f)) throw new CliError(`${f} does not exist`, 2);
        return readFileSync(f, 'utf8').slice(0, 64 * 1024);
      });
      const store: AuditStore & Pick<StoreLifecycle, 'close'> = await openStore(config, { readOnly: true, command: 'writ ops audit verify' }).catch((err: unknown) => {
        throw asCliError(err);
      });
      let report;
      try {
        report = await verifyMirror(repo, { tenant, workspace }, { store, originPrefix: config.ledger.originPrefix, logKey, checkpoints });
      } catch (err) {
        if (err instanceof WritError) throw new CliError(err.message, CODES[err.code].exit);
        throw err;
      } finally {
        await store.close();
      }
      print(report);
      for (const p of report.problems) process.stderr.write(`writ: audit entry ${p.path} does NOT verify: ${p.message}\n`);
      for (const m of report.missing) process.stderr.write(`writ: audit entry missing: record ${m.index} of ${m.log} (${m.action} of op ${m.op}) is in the ledger, not in the mirror\n`);
      if (report.uncovered.length) process.stderr.write(`writ: ${report.uncovered.length} entries are past the latest signed checkpoint of their log and were not checked; run it again after the next checkpoint\n`);
      if (!report.ok) process.exitCode = CODES.LEDGER_INCONSISTENT.exit;
    });
}
