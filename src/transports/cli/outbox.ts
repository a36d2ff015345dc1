import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import type { Command } from 'commander';
import type { HttpAnswer, WritClient } from '../../sdk/client.js';
import { CliError, clientOf, exitCodeOf, globals, print } from './context.js';

const PAGE = 1000;

/** The answer's body, or a CliError with the server's code and message. */
function ok(answer: HttpAnswer, what: string): any {
  if (answer.status === 200) return answer.body;
  const code = answer.body?.code ?? answer.status;
  throw new CliError(`${what}: ${code} ${answer.body?.message ?? ''}`.trim(), exitCodeOf(answer) || 1);
}

const q = (params: Record<string, string | undefined>) => {
  const s = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined)).toString();
  return s ? `?${s}` : '';
};

/** The seq to export after: `--from` is an event id or a seq (1-based, inclusive). */
async function startAfter(client: WritClient, from: string | undefined): Promise<number> {
  if (from === undefined) return 0;
  if (/^\d{1,15}$/.test(from)) return Math.max(0, Number(from) - 1);
  const row = ok(await client.get(`/v1/outbox/events/${encodeURIComponent(from)}`), `--from ${from}`);
  return (row.seq as number) - 1;
}

/** Streams events as NDJSON to stdout or a file (synced at the end), progress on stderr. */
async function exportEvents(client: WritClient, opts: { from?: string; to?: string }): Promise<void> {
  let after = await startAfter(client, opts.from);
  const fd = opts.to ? openSync(opts.to, 'w', 0o640) : -1;
  const write = async (chunk: string) => {
    if (fd >= 0) writeSync(fd, chunk);
    else await new Promise<void>((resolve, reject) => process.stdout.write(chunk, (err) => (err ? reject(err) : resolve())));
  };
  const started = after;
  let written = 0;
  let lastReport = Date.now();
  const progress = process.stderr.isTTY || opts.to !== undefined;
  try {
    for (;;) {
      const page = ok(await client.get(`/v1/outbox/events${q({ after: String(after), limit: String(PAGE) })}`), 'reading the outbox');
      const items = page.items as Array<{ seq: number }>;
      if (items.length) await write(items.map((e) => JSON.stringify(e) + '\n').join(''));
      written += items.length;
      if (items.length) after = items[items.length - 1].seq;
      if (progress && Date.now() - lastReport > 1000) {
        const total = Math.max(1, (page.head as number) - started);
        process.stderr.write(`writ outbox export: ${written} events (${Math.min(100, Math.round((100 * written) / total))} %)\n`);
        lastReport = Date.now();
      }
      if (page.next === null) break;
    }
    if (opts.to) fsyncSync(fd);
  } finally {
    if (opts.to) closeSync(fd);
  }
  process.stderr.write(`writ outbox export: ${written} events${opts.to ? ` written to ${opts.to}` : ''}, last seq ${after}\n`);
}

export function registerOutboxCommands(program: Command): void {
  const outbox = program.command('outbox').description('the outbox: export events, sink status, retry, dead letters (through the running server)');

  outbox
    .command('export')
    .description('write outbox events as NDJSON, in commit order (progress on stderr)')
    .option('--from <id|seq>', 'start at this event id, or at this seq (1 = the first event)')
    .option('--to <file>', 'write to this file instead of stdout')
    .action(async (opts: { from?: string; to?: string }, cmd: Command) => exportEvents(clientOf(globals(cmd)), opts));

  outbox
    .command('status')
    .description('per sink: cursor, lag in events and age, last error, dead letters, disabled')
    .action(async (_opts: unknown, cmd: Command) => {
      const status = ok(await clientOf(globals(cmd)).get('/v1/outbox/sinks'), 'outbox status');
      print(status);
      if (Array.isArray(status.sinks) && status.sinks.length === 0) {
        process.stderr.write('writ: no outbox sinks are configured; events stay in the outbox (writ outbox export reads them). Add sinks under "outbox.sinks" in config.json (docs/outbox.md) and restart writ.\n');
      } else if (status.enabled === false) {
        process.stderr.write('writ: this server does not run the dispatcher ("outbox.enabled": false); events wait in the outbox until a writ with it enabled runs.\n');
      }
    });

  outbox
    .command('retry')
    .description('retry now: events waiting for their backoff are sent at once; a sink disabled by 410 Gone is enabled')
    .option('--sink <name>', 'only this sink')
    .action(async (opts: { sink?: string }, cmd: Command) => print(ok(await clientOf(globals(cmd)).post(`/v1/outbox/retry${q({ sink: opts.sink })}`), 'outbox retry')));

  const dlq = outbox.command('dlq').description('dead letters: events a sink gave up on after its attempts');
  dlq
    .command('list')
    .description('list dead letters')
    .option('--sink <name>', 'only this sink')
    .option('--limit <n>', 'at most this many (1..1000)', '100')
    .action(async (opts: { sink?: string; limit: string }, cmd: Command) => print(ok(await clientOf(globals(cmd)).get(`/v1/outbox/dead-letters${q({ sink: opts.sink, limit: opts.limit })}`), 'dead letters')));
  dlq
    .command('redrive')
    .description('put dead letters back into delivery (all, one sink, or one event)')
    .option('--sink <name>', 'only this sink')
    .option('--id <eventId>', 'only this event')
    .action(async (opts: { sink?: string; id?: string }, cmd: Command) => print(ok(await clientOf(globals(cmd)).post(`/v1/outbox/dead-letters/redrive${q({ sink: opts.sink, id: opts.id })}`), 'redrive')));
}
