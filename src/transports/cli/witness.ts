import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { ConfigError, loadConfig, type Config, type ConfigInput } from '../../config/config.js';
import { WriterLock } from '../../home/offline.js';
import { buildWitnessServer, openWitness } from '../../witness/index.js';
import { CliError, globals, parsePort as port } from './context.js';

/** The witness part of the home's config; a witness-only home needs no `writ init`, only a config.json with witness.logs. */
function witnessConfig(home: string, overrides: ConfigInput['witness'] = {}): Config['witness'] {
  try {
    return loadConfig(resolve(home), { witness: overrides }).witness;
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 2);
    throw err;
  }
}

async function serveWitness(home: string, opts: { host?: string; port?: number }): Promise<void> {
  const config = witnessConfig(home, { ...(opts.host ? { host: opts.host } : {}), ...(opts.port !== undefined ? { port: opts.port } : {}) });
  if (config.logs.length === 0) {
    process.stderr.write(`writ: the witness follows no log yet; add {"origin" or "originPrefix", "vkey"} entries to witness.logs in ${resolve(home)}/config.json (until then every add-checkpoint gets 404)\n`);
  }
  // One witness process per state file: two would each keep their own latest cosigned checkpoint
  // in memory and could cosign two views of one log. Held until shutdown (and referenced until
  // then: a collected lock would close its connection and drop the lock).
  mkdirSync(dirname(config.statePath), { recursive: true, mode: 0o700 });
  let lock: WriterLock;
  try {
    lock = WriterLock.take(config.statePath, 'writ witness serve');
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
  let app: FastifyInstance | undefined;
  const witness = await openWitness(config, {
    // Refused checkpoints signed by a trusted key may be evidence of a split view: keep them in the log.
    onMisbehaviour: (origin, why, note) => app?.log.warn({ origin, note }, why),
  });
  app = buildWitnessServer(witness, { logger: true });
  const url = await app.listen({ host: config.host, port: config.port });
  const shutdown = async (signal: string) => {
    process.stderr.write(`writ: ${signal}, witness shutting down\n`);
    await app?.close();
    lock.release();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.stdout.write(JSON.stringify({ msg: 'writ witness serving', name: witness.name, vkey: witness.vkey, url, logs: config.logs.length }) + '\n');
}

/**
 * `writ witness serve` runs this home as a C2SP tlog-witness for the logs in its `witness.logs`;
 * `writ witness key` prints the witness verifier key that logs put in their `witnesses.list`.
 * The witness key is created (mode 0600) the first time either runs.
 */
export function registerWitnessCommands(program: Command): void {
  const witness = program.command('witness').description('run this home as a C2SP tlog-witness that cosigns other logs\u2019 checkpoints');

  witness
    .command('serve')
    .description('serve POST /add-checkpoint until SIGINT/SIGTERM (prints a JSON line with name, vkey and url)')
    .option('--host <host>', 'address to listen on (default from config: 127.0.0.1)')
    .option('--port <port>', 'port to listen on (default from config: 8788)', port)
    .action(async (opts: { host?: string; port?: number }, cmd: Command) => {
      await serveWitness(globals(cmd).home, opts);
    });

  witness
    .command('key')
    .description('print the witness verifier key (type 0x04) for the witnesses.list of the logs it cosigns; creates the key if missing')
    .action(async (_opts: unknown, cmd: Command) => {
      const w = await openWitness(witnessConfig(globals(cmd).home));
      process.stdout.write(`${w.vkey}\n`);
    });
}
