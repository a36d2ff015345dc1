import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CODES } from '../../core/codes.js';
import { parseStrictJson } from '../../core/strict-json.js';
import { parseVerifierKey, type VerifierKey } from '../../core/tlog/index.js';
import { openSigner } from '../../writ.js';
import { commandHashOf, verifyReceipt } from '../../sdk/receipt.js';
import { signEnvelope } from '../../sdk/sign.js';
import { CliError, clientOf, configOf, exitCodeOf, globals, print, signerOf } from './context.js';
import { verifyHome } from './verify-home.js';

function tenantOf(opts: { tenant?: string }, cmd: Command): string {
  return opts.tenant ?? configOf(globals(cmd)).tenant;
}

function keysOf(list: readonly string[] | undefined, what: string): VerifierKey[] {
  try {
    return (list ?? []).map(parseVerifierKey);
  } catch (err) {
    throw new CliError(`${what}: ${(err as Error).message}`, CODES.PROOF_INVALID.exit);
  }
}

/** `writ verify RECEIPT`: offline, with nothing but the file and the verifier key. */
async function verifyReceiptFile(file: string, opts: { vkey?: string; envelope?: string; witness?: string[]; quorum?: string }, cmd: Command): Promise<void> {
  if (!existsSync(file)) throw new CliError(`${file} does not exist`, 2);
  let vkey = opts.vkey;
  if (!vkey) {
    try {
      vkey = openSigner(configOf(globals(cmd))).vkey;
    } catch {
      throw new CliError('give the log verifier key with --vkey (GET /v1/logs prints it; so does `writ init`)', 2);
    }
  }
  const [logKey] = keysOf([vkey], '--vkey');
  const witnesses = keysOf(opts.witness, '--witness');
  const quorum = opts.quorum === undefined ? 0 : Number(opts.quorum);
  let commandHash: string | undefined;
  if (opts.envelope) {
    if (!existsSync(opts.envelope)) throw new CliError(`${opts.envelope} does not exist`, 2);
    try {
      commandHash = commandHashOf(parseStrictJson(readFileSync(opts.envelope), { maxDepth: 64 }));
    } catch (err) {
      throw new CliError(`${opts.envelope} is not a command envelope: ${(err as Error).message}`, 2);
    }
  }
  let proved;
  try {
    proved = await verifyReceipt(readFileSync(file, 'utf8'), logKey, { witnesses, witnessQuorum: quorum, commandHash });
  } catch (err) {
    throw new CliError(`${file} does NOT verify: ${(err as Error).message}`, CODES.PROOF_INVALID.exit);
  }
  const envelope = opts.envelope ? { file: opts.envelope, commandHash, matches: true } : undefined;
  print({ ok: true, ...proved, ...(envelope ? { envelope } : {}) });
}

/** Problems printed on stderr after the first; the JSON report lists every one. */
const MORE_PROBLEMS = 20;

export function registerLedgerCommands(program: Command): void {
  program
    .command('verify')
    .description('verify the whole deployment (records, hash chain, tree, checkpoints, anchors), or one receipt offline')
    .argument('[receipt]', 'a .tlog-proof file to verify offline')
    .option('--vkey <vkey>', 'the log verifier key (default: the home\'s)')
    .option('--envelope <file>', 'check that the receipt is for this command envelope (its commandHash)')
    .option('--witness <vkey...>', 'witness verifier keys whose cosignatures count')
    .option('--quorum <n>', 'cosignatures required from --witness keys', undefined)
    .option('--no-progress', 'no progress bar')
    .action(async (receipt: string | undefined, opts: { vkey?: string; envelope?: string; witness?: string[]; quorum?: string; progress: boolean }, cmd: Command) => {
      if (receipt) return verifyReceiptFile(receipt, opts, cmd);
      const report = await verifyHome(configOf(globals(cmd)), { vkey: opts.vkey, progress: opts.progress });
      print(report);
      const erased = report.state?.versions.erased ?? 0;
      // Not a failure, and not a silent pass either: these versions could not be recomputed.
      if (erased > 0) process.stderr.write(`writ: redacted, not replayable: ${erased} version${erased === 1 ? '' : 's'} taken as erased (written or carried forward by ${report.state!.versions.erasedBy.join(', ')})\n`);
      if (!report.ok) {
        const where = (p: (typeof report.problems)[number]) => `${p.log}${p.index === null ? '' : ` at index ${p.index}`}: ${p.message}`;
        const [first, ...rest] = report.problems;
        process.stderr.write(`writ: verification FAILED: ${where(first)}\n`);
        // The rest too (the JSON report on stdout holds them all): an edit often shows in several places.
        for (const p of rest.slice(0, MORE_PROBLEMS)) process.stderr.write(`writ:   also ${where(p)}\n`);
        if (rest.length > MORE_PROBLEMS) process.stderr.write(`writ:   and ${rest.length - MORE_PROBLEMS} more problems (see the report)\n`);
        process.exitCode = CODES.LEDGER_INCONSISTENT.exit;
      }
    });

  program
    .command('receipt')
    .description("fetch a command's receipt (C2SP tlog-proof) from the server")
    .argument('<requestId>')
    .option('--tenant <tenant>', 'tenant (default from config)')
    .option('--actor <actor>', 'the actor, when several used the requestId')
    .option('--no-wait', 'do not wait for a checkpoint to cover the record')
    .option('-o, --out <file>', 'write the receipt to a file instead of standard output')
    .action(async (requestId: string, opts: { tenant?: string; actor?: string; wait: boolean; out?: string }, cmd: Command) => {
      const query = new URLSearchParams({ ...(opts.actor ? { actor: opts.actor } : {}), wait: String(opts.wait) });
      const answer = await clientOf(globals(cmd), opts).get(`/v1/receipts/${encodeURIComponent(tenantOf(opts, cmd))}/${encodeURIComponent(requestId)}?${query}`);
      if (answer.status !== 200) {
        print(answer.body);
        process.exitCode = CODES[(answer.body?.code as keyof typeof CODES) ?? 'INTERNAL']?.exit ?? 1;
        return;
      }
      if (opts.out) writeFileSync(opts.out, answer.body as string);
      else process.stdout.write(answer.body as string);
    });

  program
    .command('redact')
    .description("erase the stored body of a command (admin, audited as a writ.Redact record); every proof still verifies")
    .argument('<tenant>')
    .argument('<requestId>')
    .requiredOption('--reason <text>', 'why (kept in the ledger)')
    .option('--actor <actor>', 'the actor, when several used the requestId')
    .option('--key <file>', 'PKCS#8 PEM private key of an admin (default: the home\'s admin key)')
    .option('--key-id <id>', 'key id of --key')
    .action(async (tenant: string, requestId: string, opts: { reason: string; actor?: string; key?: string; keyId?: string }, cmd: Command) => {
      const g = globals(cmd);
      const client = clientOf(g, { ...opts, tenant });
      const status = await client.get(`/v1/commands/${encodeURIComponent(tenant)}/${encodeURIComponent(requestId)}${opts.actor ? `?actor=${encodeURIComponent(opts.actor)}` : ''}`);
      const receipt = status.body?.receipt as { log?: string; index?: number } | undefined;
      if (status.status !== 200 || !receipt?.log || receipt.index === undefined) {
        print(status.body);
        throw new CliError(`cannot find the ledger record of ${requestId} in ${tenant}`, CODES.NOT_FOUND.exit);
      }
      const scroll = receipt.log.split('/').at(-1)!;
      const { envelope } = signEnvelope({ action: 'writ.Redact', payload: { entry: `${scroll}/${receipt.index}`, reason: opts.reason } }, signerOf(opts, g), { tenant });
      const answer = await client.submit(envelope);
      print(answer.body);
      process.exitCode = exitCodeOf(answer);
    });

  program
    .command('checkpoint')
    .description('checkpoint a log now and print its latest signed checkpoint')
    .option('--tenant <tenant>', 'tenant (default from config)')
    .requiredOption('--scroll <scroll>', 'which log')
    .action(async (opts: { tenant?: string; scroll: string }, cmd: Command) => {
      const answer = await clientOf(globals(cmd)).post(`/v1/logs/${encodeURIComponent(tenantOf(opts, cmd))}/${encodeURIComponent(opts.scroll)}/checkpoint`);
      if (answer.status !== 200) {
        print(answer.body);
        process.exitCode = CODES[(answer.body?.code as keyof typeof CODES) ?? 'INTERNAL']?.exit ?? 1;
        return;
      }
      process.stdout.write(answer.body as string);
    });

  program
    .command('anchor')
    .description('checkpoint every log now, then show where checkpoints are anchored (git, NDJSON, witnesses) and how far each got')
    .action(async (_opts: unknown, cmd: Command) => {
      const client = clientOf(globals(cmd));
      const before = await client.get('/v1/logs');
      if (before.status !== 200) throw new CliError(`cannot read /v1/logs: ${before.status}`, 1);
      for (const l of before.body.logs as Array<{ tenant: string; scroll: string }>) {
        await client.post(`/v1/logs/${encodeURIComponent(l.tenant)}/${encodeURIComponent(l.scroll)}/checkpoint`);
      }
      // Anchoring follows each checkpoint in the background; give it a moment before reporting.
      await new Promise((r) => setTimeout(r, 500));
      const { logs, anchors, witnesses, witnessQuorum, verifierKey } = (await client.get('/v1/logs')).body;
      print({ verifierKey, logs, anchors, witnesses, witnessQuorum });
    });
}
