import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { Config } from '../config/config.js';
import type { VerifierKey } from '../core/tlog/index.js';
import type { HttpAnswer, WritClient } from '../sdk/client.js';
import type { Signer } from '../sdk/sign.js';
import type { EntityStore, LogStore } from '../store/port.js';
import { packModule } from './catalog.js';
import type { PackSetup } from './pack-module.js';
import { PACK_SCHEMA } from './pack-schema.js';

const PACK_NAME = new RegExp(PACK_SCHEMA.properties.pack.pattern);

/**
 * A pack's command line (PackModule.cli): `writ <pack> …`. writ creates the `<pack>` command (with
 * `description`) and hands it to `register`, which adds subcommands with commander's API. A pack
 * whose name is one of writ's own commands is refused.
 */
export interface PackCli {
  readonly description: string;
  register(command: Command, context: PackCliContext): void;
}

/** Whose key signs: `--key`/`--key-id` and `--tenant` when the command has them (signerOptions). */
export interface PackSignerOptions {
  readonly key?: string;
  readonly keyId?: string;
  readonly tenant?: string;
}

/** What a pack's command may read of the home's store: its entities and ledger, no writes. */
export type PackReadStore = EntityStore & Omit<LogStore, 'integrate' | 'addCosignatures'>;

/**
 * What the CLI gives a pack's commands: the same helpers writ's own commands use
 * (src/transports/cli/context.ts). Each takes the running subcommand (the last argument of a
 * commander action) to read the global --home and --url.
 */
export interface PackCliContext {
  /** The global options: the home folder and the server URL, if given. */
  globals(command: Command): { readonly home: string; readonly url?: string };
  /** The home's configuration; fails (exit 2) when --home is not a writ home. */
  config(command: Command): Config;
  /** A client of the home's server (or --url) whose reads are signed with `who`'s key (default: the home's admin key). */
  client(command: Command, who?: PackSignerOptions): WritClient;
  /** The signer `who` names (--key/--key-id), or the home's admin key. */
  signer(command: Command, who?: PackSignerOptions): Signer;
  /** Adds --key, --key-id and --tenant to a command. */
  signerOptions(command: Command): Command;
  /** Prints a value as indented JSON on stdout. */
  print(value: unknown): void;
  /** The exit code for an answer: 0, the pending exit (held for approval), or the code's exit code. */
  exitCodeOf(answer: Pick<HttpAnswer, 'status' | 'body'>): number;
  /** What to print of a command held for approval (its approval id, and how to follow it). */
  heldReport(what: string, answer: Pick<HttpAnswer, 'body'>): Record<string, unknown>;
  /** Ends the command: `message` on stderr, exit code `exit` (default 1). */
  fail(message: string, exit?: number): never;
  /**
   * Runs `work` with the home to itself: under the home's writer lock, which a running server holds,
   * so the command is refused (UNAVAILABLE's exit code, nothing changed) while one runs.
   */
  offline<T>(command: Command, what: string, work: (config: Config) => Promise<T>): Promise<T>;
  /**
   * Runs `work` with the home's store opened read-only (through the store factory; closed after,
   * whatever happens), for a command that checks the ledger with no server. A store that cannot
   * be opened ends the command with exit 2 and what to do.
   */
  readStore<T>(command: Command, what: string, work: (store: PackReadStore, config: Config) => Promise<T>): Promise<T>;
  /** The home's log verifier key (from ledger.logKeyFile): it verifies the home's signed checkpoints. */
  logVerifierKey(command: Command): VerifierKey;
}

/**
 * The command lines of the packs under `dirs` whose name `wanted` accepts, set up as a tool's
 * (env null; PackSetup): only a pack's name is read from its actions.yaml, and only the packs
 * wanted are imported, so `writ <pack> …` loads that pack's code and no other's.
 */
export async function packClis(dirs: readonly string[], builtins: Readonly<Record<string, PackSetup>>, wanted: (pack: string) => boolean): Promise<Array<{ readonly pack: string; readonly cli: PackCli }>> {
  const found = new Map<string, string>();
  const clis: Array<{ pack: string; cli: PackCli }> = [];
  for (const root of dirs) {
    if (!existsSync(root)) continue;
    for (const folder of readdirSync(root).sort()) {
      const dir = join(root, folder);
      const yamlPath = join(dir, 'actions.yaml');
      if (!existsSync(yamlPath)) continue;
      const pack = (parseYaml(readFileSync(yamlPath, 'utf8')) as { pack?: unknown } | null)?.pack;
      if (typeof pack !== 'string' || !PACK_NAME.test(pack)) throw new Error(`${yamlPath}: pack must be a name matching ${PACK_NAME.source}`);
      const other = found.get(pack);
      if (other !== undefined) throw new Error(`two packs are named ${pack} (${other} and ${dir}); rename one in its actions.yaml`);
      found.set(pack, dir);
      if (!wanted(pack)) continue;
      const cli = (await packModule(dir, builtins[pack], null)).cli;
      if (cli !== undefined && (typeof cli.description !== 'string' || typeof cli.register !== 'function')) throw new Error(`pack ${pack}: its cli must be { description, register(command, context) }`);
      if (cli) clis.push({ pack, cli });
    }
  }
  return clis;
}
