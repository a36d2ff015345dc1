import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import type { PackCliContext } from '../../catalog/pack-cli.js';
import { CODES } from '../../core/codes.js';
import { WritError } from '../../core/errors.js';
import { parseVerifierKey } from '../../core/tlog/index.js';
import { mirrorStandings } from './audit/position.js';
import { namesOf } from './audit/names.js';
import { verifyMirror } from './audit/verify.js';

/** The standing of the tenant's audit mirrors, for `writ ops status` (read from the folder). */
export function auditStanding(ctx: PackCliContext, cmd: Command, tenant: string) {
  return mirrorStandings(ctx.config(cmd).ops.audit, tenant);
}

/** `--vkey`: the key itself, or a file holding it. */
function vkeyOf(value: string) {
  return parseVerifierKey(existsSync(value) ? readFileSync(value, 'utf8').trim() : value);
}

/** `writ ops audit verify` (docs/ops.md, "Audit mirror"). */
export function registerOpsAuditCommands(ops: Command, ctx: PackCliContext): void {
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
      ctx.config(cmd); // a --home that is no writ home is the first thing said (exit 2)
      const named = namesOf(repo);
      const tenant = opts.tenant ?? named?.tenant;
      const workspace = opts.workspace ?? named?.workspace;
      if (!tenant || !workspace) ctx.fail(`${repo} is not named <tenant>/<workspace>.git; give --tenant and --workspace`, 2);
      const logKey = opts.vkey ? vkeyOf(opts.vkey) : ctx.logVerifierKey(cmd);
      const checkpoints = (opts.checkpoint ?? []).map((f) => {
        if (!existsSync(f)) ctx.fail(`${f} does not exist`, 2);
        return readFileSync(f, 'utf8').slice(0, 64 * 1024);
      });
      const report = await ctx.readStore(cmd, 'writ ops audit verify', async (store, config) => {
        try {
          return await verifyMirror(repo, { tenant, workspace }, { store, originPrefix: config.ledger.originPrefix, logKey, checkpoints });
        } catch (err) {
          if (err instanceof WritError) ctx.fail(err.message, CODES[err.code].exit);
          throw err;
        }
      });
      ctx.print(report);
      for (const p of report.problems) process.stderr.write(`writ: audit entry ${p.path} does NOT verify: ${p.message}\n`);
      for (const m of report.missing) process.stderr.write(`writ: audit entry missing: record ${m.index} of ${m.log} (${m.action} of op ${m.op}) is in the ledger, not in the mirror\n`);
      if (report.uncovered.length) process.stderr.write(`writ: ${report.uncovered.length} entries are past the latest signed checkpoint of their log and were not checked; run it again after the next checkpoint\n`);
      if (!report.ok) process.exitCode = CODES.LEDGER_INCONSISTENT.exit;
    });
}
