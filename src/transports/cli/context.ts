import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { CODES, PENDING_EXIT, isCode } from '../../core/codes.js';
import { loadPrivateKey } from '../../core/signature.js';
import { loadConfig, type Config } from '../../config/config.js';
import { firstKeyId } from '../../home/bootstrap.js';
import { adminKeyFile } from '../../home/init.js';
import type { Signer } from '../../sdk/sign.js';
import { WritClient, type HttpAnswer } from '../../sdk/client.js';

/** An error that ends the CLI with a message and an exit code. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export interface GlobalOptions {
  readonly home: string;
  readonly url?: string;
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

export function configOf(opts: GlobalOptions): Config {
  const home = resolve(opts.home);
  if (!existsSync(join(home, 'config.json'))) throw new CliError(`${home} is not a writ home; create one with \`writ init --home ${opts.home}\``, 2);
  return loadConfig(home);
}

/** Whose key signs a command's reads: --key/--key-id and --tenant when the command has them. */
export interface ReaderOptions {
  readonly key?: string;
  readonly keyId?: string;
  readonly tenant?: string;
}

/**
 * A client of the home's server (or --url) whose reads and operator actions are signed with the
 * key the command uses anyway (the home's admin key unless --key/--key-id), as an actor of
 * --tenant (default: the home's tenant). Without a home and without --key, reads go anonymous.
 */
export function clientOf(opts: GlobalOptions, who: ReaderOptions = {}): WritClient {
  const home = existsSync(join(resolve(opts.home), 'config.json')) ? configOf(opts) : undefined;
  // configOf() explains what is wrong when there is neither --url nor a home.
  const server = opts.url ? undefined : (home ?? configOf(opts)).server;
  const url = opts.url ?? `http://${server!.host}:${server!.port}`;
  if (!who.key && !(home && existsSync(adminKeyFile(home.home, home.admin)))) return new WritClient(url);
  const tenant = who.tenant ?? home?.tenant;
  if (!tenant) throw new CliError('--tenant is needed to sign reads outside a writ home (the tenant your key is registered in)', 2);
  return new WritClient(url, { ...signerOf(who, opts), tenant });
}

/** The admin the home's CLI signs as unless told --key: config `admin` (default `admin`). */
function homeAdmin(global: GlobalOptions): string {
  return existsSync(join(resolve(global.home), 'config.json')) ? configOf(global).admin : 'admin';
}

/** The signer named by --key/--key-id, or the home's admin key (keys/<admin>.key, key id <admin>#1). */
export function signerOf(opts: { key?: string; keyId?: string }, global: GlobalOptions): Signer {
  const admin = opts.key ? undefined : homeAdmin(global);
  const file = opts.key ?? adminKeyFile(global.home, admin!);
  const keyId = opts.keyId ?? (admin ? firstKeyId(admin) : undefined);
  if (!keyId) throw new CliError('--key needs --key-id (the id the key was registered under)', 2);
  if (!existsSync(file)) throw new CliError(`key file ${file} does not exist`, 2);
  try {
    return { key: loadPrivateKey(readFileSync(file, 'utf8')), keyId };
  } catch (err) {
    throw new CliError(`${file}: ${(err as Error).message}`, 2);
  }
}

/** The options of a command that signs as someone: `--key`, `--key-id` (default: the home's admin key) and `--tenant`. */
export function signerOptions(c: Command): Command {
  return c.option('--key <file>', "private key that signs (default: the home's admin key)").option('--key-id <id>', 'key id of --key').option('--tenant <tenant>', 'tenant (default from config)');
}

/** Reads a JSON document from a file or standard input ('-' or absent). */
export async function readJsonInput(file: string | undefined): Promise<Record<string, unknown>> {
  let text: string;
  if (file === undefined || file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    text = Buffer.concat(chunks).toString('utf8');
  } else {
    if (!existsSync(file)) throw new CliError(`${file} does not exist`, 2);
    text = readFileSync(file, 'utf8');
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (err) {
    throw new CliError(`${file ?? 'stdin'} is not a JSON object: ${(err as Error).message}`, 2);
  }
}

/** The registry's exit code for an answer: 0 for OK, PENDING_EXIT when held for approval, the code's exit code otherwise. */
export function exitCodeOf(answer: Pick<HttpAnswer, 'status' | 'body'>): number {
  const body = answer.body && typeof answer.body === 'object' ? (answer.body as { code?: unknown; status?: unknown }) : {};
  if (isCode(body.code)) return CODES[body.code].exit;
  if (body.status === 'PENDING_APPROVAL') return PENDING_EXIT;
  return answer.status < 400 ? 0 : 1;
}

export function print(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Commander parser of a `--port` value (0 = any free port). */
export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliError(`--port must be 0..65535, got ${value}`, 2);
  return n;
}

/** What the CLI says of a command held for approval: its approval, and how to follow it. */
export function heldReport(what: string, answer: Pick<HttpAnswer, 'body'>): Record<string, unknown> {
  const approval = (answer.body as { approval?: { id?: string; requirement?: unknown; expiresAt?: string } } | undefined)?.approval ?? {};
  return {
    held: what,
    status: 'PENDING_APPROVAL',
    approvalId: approval.id ?? null,
    requirement: approval.requirement ?? null,
    expiresAt: approval.expiresAt ?? null,
    next: approval.id ? `it runs once approved: \`writ approvals show ${approval.id}\`, then approvers run \`writ approvals approve ${approval.id}\`` : 'it runs once approved (`writ approvals list`)',
  };
}
