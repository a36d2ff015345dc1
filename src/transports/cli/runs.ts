import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CODES, isCode } from '../../core/codes.js';
import { checkOutputs, isClean } from '../../core/runs/outputs-check.js';
import type { RunDoc } from '../../core/runs/run-doc.js';
import { formatRunReceipt, verifyRunReceipt } from '../../core/runs/run-receipt.js';
import { nextView, sealOfRun } from '../../core/runs/run-views.js';
import { WritError } from '../../core/errors.js';
import { parseVerifierKey } from '../../core/tlog/index.js';
import type { WritClient } from '../../sdk/client.js';
import { signEnvelope } from '../../sdk/sign.js';
import { clientOf, CliError, configOf, exitCodeOf, globals, print, readJsonInput, signerOf, signerOptions } from './context.js';
import { hashFile, listFolder, manifestOf } from './run-outputs.js';

interface AsOptions {
  key?: string;
  keyId?: string;
  tenant?: string;
}

function tenantOf(opts: AsOptions, cmd: Command): string {
  return opts.tenant ?? configOf(globals(cmd)).tenant;
}

/** Signs a runs-pack command and submits it through the server, like every CLI command that writes. */
async function submit(cmd: Command, opts: AsOptions, action: string, payload: Record<string, unknown>): Promise<void> {
  const g = globals(cmd);
  const tenant = tenantOf(opts, cmd);
  const { envelope } = signEnvelope({ action, tenant, payload }, signerOf(opts, g));
  const answer = await clientOf(g, { ...opts, tenant }).submit(envelope);
  print(answer.body);
  process.exitCode = exitCodeOf(answer);
}

/** The run entity (a signed read, authorised like every read), with the log and index of its last version. */
async function readRun(client: WritClient, tenant: string, id: string): Promise<{ doc: RunDoc; scroll: string; index: number }> {
  const answer = await client.get(`/v1/entities/${encodeURIComponent(tenant)}/run/${encodeURIComponent(id)}`);
  if (answer.status !== 200) {
    print(answer.body);
    const code = answer.body?.code;
    throw new CliError(typeof answer.body?.message === 'string' ? answer.body.message : `cannot read run ${id}`, isCode(code) ? CODES[code].exit : 1);
  }
  if (answer.body.deleted || !answer.body.doc) throw new CliError(`run ${id} does not exist`, CODES.NOT_FOUND.exit);
  return { doc: answer.body.doc as RunDoc, scroll: answer.body.scroll as string, index: answer.body.index as number };
}

/** A refusal of the shared run views, with its code's exit status. */
function cliErrorOf<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof WritError) throw new CliError(err.message, CODES[err.code].exit);
    throw err;
  }
}

/** --vkey: a file holding the verifier key, or the key itself. */
function verifierKeyOf(value: string) {
  const text = existsSync(value) ? readFileSync(value, 'utf8').trim() : value;
  try {
    return parseVerifierKey(text);
  } catch (err) {
    throw new CliError(`--vkey: ${(err as Error).message} (give the log verifier key printed by \`writ init\` or GET /v1/logs, or a file holding it)`, 2);
  }
}

/** `writ run verify`: offline, with nothing but the folder, the run receipt and the verifier key. */
async function verifyFolder(folder: string, opts: { receipt: string; vkey: string }): Promise<void> {
  if (!existsSync(opts.receipt)) throw new CliError(`${opts.receipt} does not exist`, 2);
  if (!existsSync(folder)) throw new CliError(`${folder} does not exist`, 2);
  const key = verifierKeyOf(opts.vkey);
  let proved;
  try {
    proved = await verifyRunReceipt(readFileSync(opts.receipt, 'utf8'), key);
  } catch (err) {
    throw new CliError(`${opts.receipt} does NOT verify: ${(err as Error).message}`, CODES.PROOF_INVALID.exit);
  }
  const { files, others } = listFolder(folder);
  const report = await checkOutputs(proved.seal, files, (path) => hashFile(join(folder, path)));
  report.extra.push(...others);
  report.extra.sort();
  const clean = isClean(report);
  print({ ok: clean, run: proved.seal.run, tenant: proved.seal.tenant, root: proved.root, log: proved.log, index: proved.index, treeSize: proved.treeSize, ...report });
  if (clean) return;
  for (const p of report.missing) process.stderr.write(`writ: missing: ${p}\n`);
  for (const p of report.extra) process.stderr.write(`writ: extra: ${p}\n`);
  for (const r of report.resized) process.stderr.write(`writ: resized: ${r.path} (${r.actual} bytes, sealed ${r.expected})\n`);
  for (const c of report.changed) process.stderr.write(`writ: changed: ${c.path} (SHA-256 ${c.actual}, sealed ${c.expected})\n`);
  process.exitCode = CODES.RUN_OUTPUTS_MISMATCH.exit;
}

/** `writ run start|next|complete|abort|seal|show|receipt|verify` (docs/runs.md). */
export function registerRunCommands(program: Command): void {
  const run = program.command('run').description('runs of a contract: start, complete stages, seal, and verify their outputs offline');
  const as = signerOptions;

  as(run.command('start'))
    .description('start a run of a contract (a JSON file; see examples/run-contract.json)')
    .argument('<contract>', 'contract JSON file, or - for standard input')
    .action(async (file: string, opts: AsOptions, cmd: Command) => submit(cmd, opts, 'StartRun', await readJsonInput(file)));

  as(run.command('complete'))
    .description("record a stage's outcome and the manifest of its outputs folder (names, sizes, SHA-256; the files stay where they are)")
    .argument('<runId>')
    .argument('<stageId>')
    .option('--outputs <dir>', "the stage's outputs folder; keep it as <run folder>/<stageId> for writ run verify")
    .option('--outcome <outcome>', 'passed, failed or skipped', 'passed')
    .option('--notes <text>', 'what happened')
    .action(async (runId: string, stageId: string, opts: AsOptions & { outputs?: string; outcome: string; notes?: string }, cmd: Command) => {
      const outputs = opts.outputs ? await manifestOf(opts.outputs) : [];
      await submit(cmd, opts, 'CompleteStage', { runId, stageId, outcome: opts.outcome, ...(opts.notes ? { notes: opts.notes } : {}), outputs });
    });

  as(run.command('abort'))
    .description('end a run early; it can still be sealed')
    .argument('<runId>')
    .requiredOption('--reason <text>', 'why (kept in the ledger)')
    .action((runId: string, opts: AsOptions & { reason: string }, cmd: Command) => submit(cmd, opts, 'AbortRun', { runId, reason: opts.reason }));

  as(run.command('seal'))
    .description('seal a completed or aborted run: its contract, state and manifests hashed into one root in its log runs-<domain>')
    .argument('<runId>')
    .action((runId: string, opts: AsOptions, cmd: Command) => submit(cmd, opts, 'SealRun', { runId }));

  as(run.command('show'))
    .description('print a run: its contract, status, stages and manifests')
    .argument('<runId>')
    .action(async (runId: string, opts: AsOptions, cmd: Command) => {
      const tenant = tenantOf(opts, cmd);
      const { doc, scroll, index } = await readRun(clientOf(globals(cmd), { ...opts, tenant }), tenant, runId);
      print({ ...doc, record: { scroll, index } });
    });

  as(run.command('next'))
    .description('print the next stage to do (its contract entry), or why there is none')
    .argument('<runId>')
    .action(async (runId: string, opts: AsOptions, cmd: Command) => {
      const tenant = tenantOf(opts, cmd);
      const { doc } = await readRun(clientOf(globals(cmd), { ...opts, tenant }), tenant, runId);
      print(nextView(doc));
    });

  as(run.command('receipt'))
    .description('write the run receipt of a sealed run: its seal document and the C2SP tlog-proof of its SealRun record')
    .argument('<runId>')
    .option('--no-wait', 'do not wait for a checkpoint to cover the seal')
    .option('-o, --out <file>', 'write the receipt to a file instead of standard output')
    .option('--proof-only', 'write only the C2SP tlog-proof of the SealRun record (what writ verify RECEIPT checks)')
    .action(async (runId: string, opts: AsOptions & { wait: boolean; out?: string; proofOnly?: boolean }, cmd: Command) => {
      const tenant = tenantOf(opts, cmd);
      const client = clientOf(globals(cmd), { ...opts, tenant });
      const { doc, scroll, index } = await readRun(client, tenant, runId);
      const seal = cliErrorOf(() => sealOfRun(tenant, doc));
      const answer = await client.get(`/v1/logs/${encodeURIComponent(tenant)}/${encodeURIComponent(scroll)}/receipts/${index}?wait=${String(opts.wait)}`);
      if (answer.status !== 200) {
        print(answer.body);
        throw new CliError(`no receipt for the seal of run ${runId} (${scroll}/${index}) yet`, isCode(answer.body?.code) ? CODES[answer.body.code as keyof typeof CODES].exit : 1);
      }
      const text = opts.proofOnly ? (answer.body as string) : formatRunReceipt(seal, answer.body as string);
      if (opts.out) writeFileSync(opts.out, text);
      else process.stdout.write(text);
    });

  run
    .command('verify')
    .description("check a folder of outputs (<folder>/<stageId>/<name>) against a sealed run's manifests, offline: no server, no home")
    .argument('<folder>')
    .requiredOption('--receipt <file>', 'the run receipt (writ run receipt)')
    .requiredOption('--vkey <file>', 'the log verifier key, or a file holding it')
    .action((folder: string, opts: { receipt: string; vkey: string }) => verifyFolder(folder, opts));
}
