import type { Command } from 'commander';
import { signEnvelope } from '../../sdk/sign.js';
import { clientOf, configOf, exitCodeOf, globals, print, signerOf, signerOptions } from './context.js';

interface AsOptions {
  key?: string;
  keyId?: string;
  tenant?: string;
}

async function submit(cmd: Command, opts: AsOptions, action: string, payload: Record<string, unknown>): Promise<void> {
  const g = globals(cmd);
  const tenant = opts.tenant ?? configOf(g).tenant;
  const { envelope } = signEnvelope({ action, tenant, payload }, signerOf(opts, g));
  const answer = await clientOf(g).submit(envelope);
  print(answer.body);
  process.exitCode = exitCodeOf(answer);
}

/**
 * `writ airlock stage|land|revert`: the TOTP airlock of an approved command (docs/approvals.md,
 * "Airlock"), as signed writ.Stage / writ.Land / writ.Revert commands. A code is spent by the step
 * that uses it and dies within 90 s; writ never keeps it (the stored command body withholds it).
 */
export function registerAirlockCommands(program: Command): void {
  const airlock = program.command('airlock').description('stage, land or revert an approved command in the TOTP airlock');
  const as = signerOptions;

  as(airlock.command('stage'))
    .description('freeze the approved command with a code from the authenticator; it may land after the review floor')
    .argument('<approvalId>')
    .requiredOption('--code <code>', 'the current 6-digit code')
    .action((approvalId: string, opts: AsOptions & { code: string }, cmd: Command) => submit(cmd, opts, 'writ.Stage', { approvalId, code: opts.code }));

  as(airlock.command('land'))
    .description('run the staged command whose commandHash starts with the prefix, with a later code than the staging one')
    .argument('<hashPrefix>', '8 to 64 hex digits of the staged command\'s commandHash')
    .requiredOption('--code <code>', 'the current 6-digit code')
    .action((hashPrefix: string, opts: AsOptions & { code: string }, cmd: Command) => submit(cmd, opts, 'writ.Land', { hashPrefix, code: opts.code }));

  as(airlock.command('revert'))
    .description('unfreeze a staged command (no code needed); it may be staged again')
    .argument('<approvalId>')
    .action((approvalId: string, opts: AsOptions, cmd: Command) => submit(cmd, opts, 'writ.Revert', { approvalId }));
}
