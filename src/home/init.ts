import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_ADMIN, DEFAULT_HOST, DEFAULT_PORT, DEFAULT_TENANT, loadConfig, type Config } from '../config/config.js';
import { PATTERNS } from '../core/envelope.js';
import { openSigner, openWrit } from '../writ.js';
import { bootstrapAdmins, firstKeyId } from './bootstrap.js';
import { writeKeyPair } from './keys.js';

export interface InitResult {
  readonly home: string;
  readonly tenant: string;
  /** The admin the CLI signs with by default (the first of --admins). */
  readonly adminActor: string;
  readonly keyId: string;
  readonly keyFile: string;
  readonly publicKeyFile: string;
  /** Every admin of the new home, each with its own key. */
  readonly admins: ReadonlyArray<{ readonly actor: string; readonly keyId: string; readonly keyFile: string }>;
  readonly logKeyFile: string;
  /** C2SP verifier key of the log key: verifies every checkpoint and receipt of this deployment. */
  readonly verifierKey: string;
  readonly url: string;
  readonly created: boolean;
  /** Said when the home has one admin: it can run everything but grant admin (docs/approvals.md). */
  readonly note?: string;
}

export const ADMIN_ACTOR = DEFAULT_ADMIN;
export const ADMIN_KEY_ID = firstKeyId(ADMIN_ACTOR);
/** Most admins `writ init --admins` registers: a quorum, not a directory import. */
export const MAX_INIT_ADMINS = 16;

/** The private key file of an admin made by `writ init` or `writ tenants create`. */
export function adminKeyFile(home: string, actor: string): string {
  return join(resolve(home), 'keys', `${actor}.key`);
}

export function isInitialised(home: string): boolean {
  return existsSync(join(resolve(home), 'config.json'));
}

export const SINGLE_ADMIN_NOTE =
  'this home has one admin: it runs everything except granting admin (AssignRole admin waits for two other admins, and nobody can give them). Use `writ init --admins a,b,c` to start with three admins, or see docs/approvals.md';

/** The names given to --admins, checked: actor names, no repeats, at most MAX_INIT_ADMINS. */
export function parseAdmins(list: string | undefined): string[] {
  if (list === undefined) return [ADMIN_ACTOR];
  const admins = list.split(',').map((a) => a.trim()).filter(Boolean);
  if (admins.length === 0) throw new Error('--admins names no actor; give comma-separated actor names, e.g. --admins alice,bob,carol');
  if (admins.length > MAX_INIT_ADMINS) throw new Error(`--admins names ${admins.length} actors; at most ${MAX_INIT_ADMINS} (add more later through the quorum)`);
  for (const a of admins) {
    if (!PATTERNS.actor.test(a) || a.includes(':') || a === 'writ') throw new Error(`--admins: ${JSON.stringify(a)} is not an admin name (letters, digits, . _ @ -; not "writ")`);
  }
  const repeated = admins.find((a, i) => admins.indexOf(a) !== i);
  if (repeated) throw new Error(`--admins names ${repeated} twice`);
  return admins;
}

export function summary(config: Config, created: boolean, admins: readonly string[] = [config.admin]): InitResult {
  const keyFile = adminKeyFile(config.home, config.admin);
  return {
    home: config.home,
    tenant: config.tenant,
    adminActor: config.admin,
    keyId: firstKeyId(config.admin),
    keyFile,
    publicKeyFile: keyFile.replace(/\.key$/, '.pub'),
    admins: admins.map((actor) => ({ actor, keyId: firstKeyId(actor), keyFile: adminKeyFile(config.home, actor) })),
    logKeyFile: config.ledger.logKeyFile,
    verifierKey: openSigner(config).vkey,
    url: `http://${config.server.host}:${config.server.port}`,
    created,
    ...(created && admins.length === 1 ? { note: SINGLE_ADMIN_NOTE } : {}),
  };
}

/**
 * Creates a home: config, data folder, the log signing key and its first admins, whose keys and
 * roles are registered by ledger records (writ.RegisterKey, AssignRole) on writ's own authority
 * (bootstrapAdmins, which `writ tenants create` uses too). Non-interactive; refuses to touch a home
 * that is already initialised.
 */
export async function initHome(homeArg: string, options: { tenant?: string; host?: string; port?: number; admins?: string; store?: string } = {}): Promise<InitResult> {
  const home = resolve(homeArg);
  if (isInitialised(home)) throw new Error(`${home} is already a writ home (config.json exists); use it with --home, or choose another folder`);
  const admins = parseAdmins(options.admins);
  // A PostgreSQL store (--store) is checked before anything is written to the home.
  const store = options.store ? await (await import('./init-postgres.js')).postgresStoreSection(options.store) : { path: 'data/writ.db' };
  mkdirSync(join(home, 'data'), { recursive: true, mode: 0o700 });
  mkdirSync(join(home, 'keys'), { recursive: true, mode: 0o700 });
  mkdirSync(join(home, 'policies'), { recursive: true });
  const tenant = options.tenant ?? DEFAULT_TENANT;
  const fileConfig = {
    tenant,
    ...(admins[0] !== DEFAULT_ADMIN ? { admin: admins[0] } : {}),
    server: { host: options.host ?? DEFAULT_HOST, port: options.port ?? DEFAULT_PORT },
    store,
    ledger: { logKeyFile: 'keys/log.key' },
  };
  const config = loadConfig(home, fileConfig);
  writeKeyPair(config.ledger.logKeyFile);
  const pairs = admins.map((actor) => ({ actor, publicPem: writeKeyPair(adminKeyFile(home, actor)).publicPem }));
  writeFileSync(join(home, 'config.json'), JSON.stringify(fileConfig, null, 2) + '\n');
  const writ = await openWrit(config, { command: 'writ init' });
  try {
    await bootstrapAdmins((t, a, p, r) => writ.pipeline.system(t, a, p, r), tenant, pairs);
  } finally {
    await writ.close();
  }
  return summary(config, true, admins);
}
