import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { packClis, type PackCliContext } from '../../catalog/pack-cli.js';
import { PackSurfaceError } from '../../catalog/pack-routes.js';
import { loadConfig } from '../../config/config.js';
import { CODES } from '../../core/codes.js';
import { WriterLock } from '../../home/offline.js';
import { BUILTIN_PACKS } from '../../packs/index.js';
import { openStore } from '../../store/open-store.js';
import { builtinPacksDir, openSigner } from '../../writ.js';
import { clientOf, CliError, configOf, exitCodeOf, globals, heldReport, print, signerOf, signerOptions } from './context.js';
import { asCliError } from './store-option.js';

/** What a pack's commands are given: the helpers of writ's own commands (context.ts). */
const CONTEXT: PackCliContext = {
  globals: (cmd) => globals(cmd),
  config: (cmd) => configOf(globals(cmd)),
  client: (cmd, who = {}) => clientOf(globals(cmd), who),
  signer: (cmd, who = {}) => signerOf(who, globals(cmd)),
  signerOptions,
  print,
  exitCodeOf,
  heldReport,
  fail(message, exit = 1) {
    throw new CliError(message, exit);
  },
  async offline(cmd, what, work) {
    const config = configOf(globals(cmd));
    let lock: WriterLock;
    try {
      lock = WriterLock.take(config.store.path, what);
    } catch (err) {
      throw new CliError(`${what} needs the home to itself (a running server holds it and keeps what the command rebuilds current); nothing was changed. ${(err as Error).message}`, CODES.UNAVAILABLE.exit);
    }
    try {
      return await work(config);
    } finally {
      lock.release();
    }
  },
  async readStore(cmd, what, work) {
    const config = configOf(globals(cmd));
    const store = await openStore(config, { readOnly: true, command: what }).catch((err: unknown) => {
      throw asCliError(err);
    });
    try {
      return await work(store, config);
    } finally {
      await store.close();
    }
  },
  logVerifierKey: (cmd) => openSigner(configOf(globals(cmd))).verifierKey,
};

/** Global options that take a value (main.ts): skipped when looking for the command word. */
const VALUED = new Set(['--home', '--url']);

/** The command word of `argv` (the first argument that is no global option or its value), and the home named. */
function invocation(argv: readonly string[]): { word: string | undefined; home: string } {
  let home = process.env.WRIT_HOME || '.writ';
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i];
    if (VALUED.has(arg)) {
      if (arg === '--home' && argv[i + 1] !== undefined) home = argv[i + 1];
      i++;
    } else if (arg.startsWith('--home=')) home = arg.slice('--home='.length);
    else if (!arg.startsWith('-')) return { word: arg, home };
  }
  return { word: undefined, home };
}

/**
 * Adds `writ <pack> …` for every pack that contributes a command line (PackModule.cli): the
 * built-in packs' and those of the home named by --home (or WRIT_HOME). Writ's own commands come
 * first and win: an invocation of one loads no pack, and a pack named like one is refused.
 */
export async function registerPackCommands(program: Command, argv: readonly string[]): Promise<void> {
  const own = new Set(program.commands.flatMap((c) => [c.name(), ...c.aliases()]));
  const { word, home } = invocation(argv);
  if (word !== undefined && own.has(word)) return;
  const dir = resolve(home);
  const packsDir = existsSync(join(dir, 'config.json')) ? loadConfig(dir).packsDir : undefined;
  const all = word === undefined || word === 'help';
  const clis = await packClis([builtinPacksDir(), ...(packsDir ? [packsDir] : [])], BUILTIN_PACKS, (pack) => all || pack === word);
  for (const { pack, cli } of clis) {
    if (own.has(pack)) throw new PackSurfaceError(pack, `writ ${pack}`, `pack ${pack} may not add the command \`writ ${pack}\`: it is one of writ's own; rename the pack`);
    cli.register(program.command(pack).description(cli.description), CONTEXT);
  }
}
