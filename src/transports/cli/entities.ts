import type { Command } from 'commander';
import { CODES, isCode } from '../../core/codes.js';
import type { WritClient } from '../../sdk/client.js';
import { CliError, clientOf, configOf, globals, print, type ReaderOptions } from './context.js';

interface EntityOptions extends ReaderOptions {
  readonly tenant?: string;
}

/** Pages a list route until `next` is null (or `limit` items were printed); each page is one signed read. */
export async function allPages(client: WritClient, path: string, key: string, cursor: string, start: string | undefined, limit: number | undefined): Promise<unknown[]> {
  const out: unknown[] = [];
  let next: string | number | null | undefined = start;
  do {
    const query = new URLSearchParams(next === undefined || next === null ? {} : { [cursor]: String(next) });
    if (limit !== undefined) query.set('limit', String(Math.min(1000, limit - out.length)));
    const page = await client.get(`${path}${query.size ? `?${query}` : ''}`);
    if (page.status !== 200) fail(page.body);
    out.push(...(page.body[key] as unknown[]));
    next = page.body.next as string | number | null;
  } while (next !== null && (limit === undefined || out.length < limit));
  return out;
}

/** Prints a refusal and ends with its code's exit code. */
function fail(body: any): never {
  print(body);
  const code = body && typeof body === 'object' ? body.code : undefined;
  throw new CliError(typeof body?.message === 'string' ? body.message : 'the server refused the read', isCode(code) ? CODES[code].exit : 1);
}

function limitOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`--limit must be a positive integer, got ${value}`, 2);
  return n;
}

function reads(cmd: Command, opts: EntityOptions): { client: WritClient; base: string } {
  const g = globals(cmd);
  const tenant = opts.tenant ?? configOf(g).tenant;
  return { client: clientOf(g, { ...opts, tenant }), base: `/v1/entities/${encodeURIComponent(tenant)}` };
}

/** `writ entity get|history|list`: entity reads through the server, signed like every CLI read. */
export function registerEntityCommands(program: Command): void {
  const entity = program.command('entity').description('read entities: the current version, its history, or all of a type');
  const common = (c: Command) =>
    c
      .option('--tenant <tenant>', 'tenant (default from config)')
      .option('--key <file>', "PKCS#8 PEM private key that signs the reads (default: the home's admin key)")
      .option('--key-id <id>', 'key id of --key');

  common(entity.command('get').description('print an entity (now, or as it stood at a ledger index of its log)').argument('<type>').argument('<id>').option('--at <index>', 'ledger index (point-in-time read)')).action(
    async (type: string, id: string, opts: EntityOptions & { at?: string }, cmd: Command) => {
      const { client, base } = reads(cmd, opts);
      const answer = await client.get(`${base}/${encodeURIComponent(type)}/${encodeURIComponent(id)}${opts.at === undefined ? '' : `?at=${encodeURIComponent(opts.at)}`}`);
      if (answer.status !== 200) fail(answer.body);
      print(answer.body);
    },
  );

  common(entity.command('history').description('print every version of an entity, oldest first').argument('<type>').argument('<id>').option('--after <version>', 'start after this version').option('--limit <n>', 'at most n versions')).action(
    async (type: string, id: string, opts: EntityOptions & { after?: string; limit?: string }, cmd: Command) => {
      const { client, base } = reads(cmd, opts);
      print({ versions: await allPages(client, `${base}/${encodeURIComponent(type)}/${encodeURIComponent(id)}/history`, 'versions', 'after', opts.after, limitOf(opts.limit)) });
    },
  );

  common(entity.command('list').description('print the current entities of a type, by id').argument('<type>').option('--after <id>', 'start after this id').option('--limit <n>', 'at most n entities')).action(
    async (type: string, opts: EntityOptions & { after?: string; limit?: string }, cmd: Command) => {
      const { client, base } = reads(cmd, opts);
      print({ items: await allPages(client, `${base}/${encodeURIComponent(type)}`, 'items', 'after', opts.after, limitOf(opts.limit)) });
    },
  );
}
