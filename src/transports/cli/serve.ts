import { isAbsolute, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { openReadsWarning } from '../../access/open-reads.js';
import { describeConfig, loadConfig } from '../../config/config.js';
import { initHome, isInitialised, summary } from '../../home/init.js';
import { registerNatsFamilies } from '../../metrics/transport-families.js';
import { openWrit } from '../../writ.js';
import { buildServer } from '../http/server.js';
import type { NatsIntake } from '../nats/intake.js';
import { CliError, globals, parsePort as port, print } from './context.js';
import { reloadPolicyOnSighup } from './policy-signal.js';
import { asCliError, storeOption, storeOverride } from './store-option.js';

interface ServeOptions {
  host?: string;
  port?: number;
  nats?: string;
  forceOpenReads?: boolean;
  store?: string;
}

/**
 * The home as the banner shows it in commands to copy: an absolute --home as given, a relative one
 * relative to the working directory (where those commands are run from).
 */
export function shownHome(given: string): string {
  return isAbsolute(given) ? resolve(given) : relative(process.cwd(), resolve(given)) || '.';
}

async function serve(home: string, overrides: ServeOptions, banner: boolean): Promise<void> {
  const command = banner ? 'writ start' : 'writ serve';
  const config = loadConfig(home, {
    server: { ...(overrides.host ? { host: overrides.host } : {}), ...(overrides.port !== undefined ? { port: overrides.port } : {}) },
    ...(overrides.nats ? { nats: { url: overrides.nats } } : {}),
    ...storeOverride(overrides.store),
  });
  let warning: string | null;
  try {
    warning = openReadsWarning(config, overrides.forceOpenReads === true);
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
  // Loud on every start: open reads must never go unnoticed (docs/security.md).
  if (warning) process.stderr.write(`writ: ${warning}\n`);
  const writ = await openWrit(config, { command }).catch((err: unknown) => {
    throw asCliError(err);
  });
  let intake: NatsIntake | undefined;
  const app = buildServer(writ, { logger: !banner, health: config.nats.url ? { nats: () => intake?.status() ?? { state: 'starting' } } : {} });
  app.log.info({ config: describeConfig(config) }, 'effective configuration');
  const address = await app.listen({ host: config.server.host, port: config.server.port });
  if (config.nats.url) {
    try {
      // Loaded only when asked for: the NATS client is not needed by every `writ serve`.
      const { NatsIntake } = await import('../nats/intake.js');
      intake = await NatsIntake.start({ ...config.nats, url: config.nats.url, log: !banner }, writ.pipeline);
      writ.metrics.attach('nats', intake, registerNatsFamilies);
    } catch (err) {
      await app.close();
      await writ.close();
      throw new CliError(`the NATS command intake did not start: ${(err as Error).message}`, 2);
    }
  }
  const shutdown = async (signal: string) => {
    process.stderr.write(`writ: ${signal}, shutting down\n`);
    // The intake first: it stops taking commands and finishes (and acknowledges) those in flight.
    await Promise.all([intake?.close(), app.close()]);
    await writ.close();
    process.exit(0);
  };
  reloadPolicyOnSighup(writ);
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  const rel = shownHome(home);
  if (banner) {
    process.stdout.write(
      [
        `writ is serving at ${address}${intake ? `, taking commands from NATS ${intake.status().url} (${config.nats.subjectPrefix}.<tenant>)` : ''}`,
        `  home ${rel}, tenant ${config.tenant}, store ${writ.queries.health.durability}`,
        '',
        'Submit a first command from another terminal:',
        `  ./bin/writ submit --home ${rel} examples/upsert-product.json`,
        `  ./bin/writ get --home ${rel} /v1/entities/${config.tenant}/product/sku-1`,
        '',
        'Stop with Ctrl-C.',
        '',
      ].join('\n'),
    );
  } else {
    process.stdout.write(JSON.stringify({ msg: 'writ serving', url: address, home: config.home, store: writ.queries.health.durability, ...(intake ? { nats: intake.status().url } : {}) }) + '\n');
  }
}

export function registerServeCommands(program: Command): void {
  storeOption(program
    .command('init'))
    .description('create a writ home: config, data folder, log signing key and a first admin (prints a JSON summary)')
    .option('--tenant <tenant>', 'tenant of the first admin', 'default')
    .option('--admins <actors>', 'comma-separated admins to create, each with keys/<actor>.key and key id <actor>#1 (default: one admin, "admin"); granting admin later needs two other admins')
    .option('--host <host>', 'address the server will listen on', '127.0.0.1')
    .option('--port <port>', 'port the server will listen on', port)
    .action(async (opts: { tenant: string; admins?: string; host: string; port?: number; store?: string }, cmd: Command) => {
      const g = globals(cmd);
      let result;
      try {
        result = await initHome(g.home, { tenant: opts.tenant, admins: opts.admins, host: opts.host, port: opts.port, store: opts.store });
      } catch (err) {
        throw new CliError((err as Error).message, 2);
      }
      print(result);
      if (result.note) process.stderr.write(`writ: note: ${result.note}\n`);
    });

  storeOption(program
    .command('serve'))
    .description('run the HTTP server on an initialised home (and the NATS command intake with --nats)')
    .option('--host <host>', 'address to listen on (default from config: 127.0.0.1)')
    .option('--port <port>', 'port to listen on (default from config: 8787)', port)
    .option('--nats <url>', 'also take commands from this NATS JetStream server (default from config: nats.url, off)')
    .option('--force-open-reads', 'start even though auth.reads is "open" and the host is not loopback (anyone reaching it reads everything)')
    .action(async (opts: ServeOptions, cmd: Command) => {
      const g = globals(cmd);
      if (!isInitialised(g.home)) throw new CliError(`${g.home} is not a writ home; run \`writ init --home ${g.home}\` first`, 2);
      await serve(g.home, opts, false);
    });

  storeOption(program
    .command('start'))
    .description('initialise the home on first run, then serve, printing how to submit a first command')
    .option('--host <host>', 'address to listen on')
    .option('--port <port>', 'port to listen on', port)
    .option('--nats <url>', 'also take commands from this NATS JetStream server')
    .option('--force-open-reads', 'start even though auth.reads is "open" and the host is not loopback')
    .action(async (opts: ServeOptions, cmd: Command) => {
      const g = globals(cmd);
      if (!isInitialised(g.home)) {
        const created = await initHome(g.home, { host: opts.host, port: opts.port, store: opts.store });
        process.stdout.write(`Initialised a new writ home at ${created.home}\n  admin key ${created.keyFile} (key id ${created.keyId})\n${created.note ? `  note: ${created.note}\n` : ''}`);
      } else {
        const s = summary(loadConfig(g.home), false);
        process.stdout.write(`Using writ home ${s.home} (admin key id ${s.keyId})\n`);
      }
      await serve(g.home, opts, true);
    });
}
