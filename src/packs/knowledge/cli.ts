import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Command } from 'commander';
import type { PackCli, PackCliContext } from '../../catalog/pack-cli.js';
import { CODES } from '../../core/codes.js';
import { actorOfKeyId, signEnvelope } from '../../sdk/sign.js';
import { reindex } from './search-index.js';

interface AsOptions {
  key?: string;
  keyId?: string;
  tenant?: string;
}

/** Entries one KipCommit of `bootstrap` carries (the action's limit). */
const PER_COMMIT = 100;

function who(ctx: PackCliContext, cmd: Command, opts: AsOptions) {
  const tenant = opts.tenant ?? ctx.config(cmd).tenant;
  return { tenant, client: ctx.client(cmd, { ...opts, tenant }) };
}

async function read(ctx: PackCliContext, cmd: Command, opts: AsOptions, path: (tenant: string) => string): Promise<unknown> {
  const { tenant, client } = who(ctx, cmd, opts);
  const answer = await client.get(path(encodeURIComponent(tenant)));
  process.exitCode = ctx.exitCodeOf(answer);
  return answer.body;
}

async function submit(ctx: PackCliContext, cmd: Command, opts: AsOptions, action: string, payload: Record<string, unknown>) {
  const { tenant, client } = who(ctx, cmd, opts);
  const { envelope } = signEnvelope({ action, tenant, payload }, ctx.signer(cmd, opts));
  return client.submit(envelope);
}

/** A plain Markdown file gets front matter: its first heading (or file name) as title, type note. */
function asEntry(file: string, text: string): string {
  if (/^---\r?\n/.test(text)) return text;
  const heading = /^# (.+)$/m.exec(text)?.[1]?.trim();
  const title = heading ?? file.replace(/\.md$/, '').split('/').pop()!.replace(/[-_]/g, ' ');
  return `---\ntype: note\ntitle: ${JSON.stringify(title)}\nstatus: active\n---\n${text}`;
}

function markdownFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('.')) continue;
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.md')) out.push(relative(dir, full).split(sep).join('/'));
    }
  };
  walk(dir);
  return out;
}

/**
 * `writ knowledge …` (docs/knowledge.md, "Command line"): status, preview and inbox read through
 * the server; land, inbox --read and bootstrap submit signed commands (a landing waits for a
 * practitioner and the airlock); reindex rebuilds the search index offline, under the home's lock.
 */
function register(k: Command, ctx: PackCliContext): void {
  const as = (c: Command) => ctx.signerOptions(c);
  const print = (v: unknown) => ctx.print(v);
  const exitCodeOf = (a: Parameters<PackCliContext['exitCodeOf']>[0]) => ctx.exitCodeOf(a);

  as(k.command('status')).description('canon head and seq, open proposals, perspectives').action(async (opts: AsOptions, cmd: Command) => print(await read(ctx, cmd, opts, (t) => `/v1/knowledge/${t}/status`)));

  as(k.command('preview')).argument('<proposalId>').description('what landing the proposal now would change, and its conflicts')
    .action(async (id: string, opts: AsOptions, cmd: Command) => print(await read(ctx, cmd, opts, (t) => `/v1/knowledge/${t}/proposals/${encodeURIComponent(id)}/preview`)));

  as(k.command('land')).argument('<proposalId>').description('ask to land a proposal into the canon (held for a practitioner\'s approval and the airlock)')
    .action(async (id: string, opts: AsOptions, cmd: Command) => {
      const preview = (await read(ctx, cmd, opts, (t) => `/v1/knowledge/${t}/proposals/${encodeURIComponent(id)}/preview`)) as { head?: string; conflicts?: string[] };
      if (process.exitCode) return print(preview);
      if (preview.conflicts?.length) ctx.fail(`proposal ${id} conflicts with canon on ${preview.conflicts.join(', ')}; nothing was submitted`, CODES.INVALID_STATE.exit);
      const answer = await submit(ctx, cmd, opts, 'Land', { proposalId: id, head: preview.head });
      print(answer.status === 202 ? { ...ctx.heldReport(`Land ${id}`, answer), commandHash: (answer.body as { commandHash?: string }).commandHash, airlock: 'after approval: `writ airlock stage <approvalId> --code C`, review, then `writ airlock land <hashPrefix> --code C2`' } : answer.body);
      process.exitCode = exitCodeOf(answer);
    });

  as(k.command('inbox')).option('--all', 'include messages already read').option('--to <who>', 'whose inbox (default: yours; practitioner: the practitioners\')').option('--read <messageId>', 'mark this message read')
    .description('list an inbox, or mark a message read')
    .action(async (opts: AsOptions & { all?: boolean; to?: string; read?: string }, cmd: Command) => {
      if (opts.read) {
        const to = opts.to ?? ctx.config(cmd).admin;
        const answer = await submit(ctx, cmd, opts, 'MarkRead', { messageId: opts.read, to });
        print(answer.body);
        process.exitCode = exitCodeOf(answer);
        return;
      }
      const q = new URLSearchParams({ ...(opts.to ? { to: opts.to } : {}), ...(opts.all ? { all: 'true' } : {}) });
      print(await read(ctx, cmd, opts, (t) => `/v1/knowledge/${t}/inbox?${q}`));
    });

  k.command('reindex').description('rebuild the search index from git (refused while a server runs on this home)').action(async (_o: unknown, cmd: Command) => {
    print({ reindexed: await ctx.offline(cmd, 'writ knowledge reindex', (config) => reindex(config)) });
  });

  as(k.command('bootstrap')).argument('<dir>', 'a folder of .md entries').description('seed an empty canon from a folder: commits the entries, proposes them and asks to land (held for a practitioner)')
    .action(async (dir: string, opts: AsOptions, cmd: Command) => {
      if (!existsSync(dir) || !statSync(dir).isDirectory()) ctx.fail(`${dir} is not a folder`, 2);
      const seq = (await read(ctx, cmd, opts, (t) => `/v1/knowledge/${t}/seq`)) as { seq?: number };
      if (process.exitCode) return print(seq);
      if (seq.seq !== 0) ctx.fail('the canon is not empty; add entries through KipCommit, Propose and Land, not bootstrap', CODES.INVALID_STATE.exit);
      const files = markdownFiles(dir);
      if (files.length === 0) ctx.fail(`no .md files under ${dir}`, 2);
      const me = actorOfKeyId(ctx.signer(cmd, opts).keyId);
      if (!me) ctx.fail('the signing key id does not name its actor (<actor>#<n>); pass --key-id in that form', 2);
      for (let i = 0; i < files.length; i += PER_COMMIT) {
        const writes = files.slice(i, i + PER_COMMIT).map((f) => ({ path: f, content: asEntry(f, readFileSync(join(dir, f), 'utf8')) }));
        const answer = await submit(ctx, cmd, opts, 'KipCommit', { perspective: me, message: `Bootstrap entries ${i + 1}-${i + writes.length}`, writes });
        if (exitCodeOf(answer) !== 0) {
          print(answer.body);
          process.exitCode = exitCodeOf(answer);
          return;
        }
        process.stderr.write(`committed ${i + writes.length}/${files.length} entries\n`);
      }
      const proposalId = `bootstrap-${Date.now()}`;
      const proposed = await submit(ctx, cmd, opts, 'Propose', { proposalId, title: 'Bootstrap canon' });
      if (exitCodeOf(proposed) !== 0) {
        print(proposed.body);
        process.exitCode = exitCodeOf(proposed);
        return;
      }
      const head = (proposed.body as { result: { head: string } }).result.head;
      const answer = await submit(ctx, cmd, opts, 'Land', { proposalId, head });
      print({ entries: files.length, proposalId, land: answer.status === 202 ? { ...ctx.heldReport(`Land ${proposalId}`, answer), commandHash: (answer.body as { commandHash?: string }).commandHash } : answer.body });
      process.exitCode = exitCodeOf(answer);
    });
}

/** `writ knowledge …`, contributed through the pack CLI API (PackModule.cli). */
export const knowledgeCli: PackCli = { description: 'the knowledge canon: status, proposals, landing, inbox, search index', register };
