import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_HOST, DEFAULT_PORT, DEFAULT_TENANT, loadConfig, type Config } from '../config/config.js';
import { openSigner, openWrit } from '../writ.js';
import { writeKeyPair } from './keys.js';

export interface InitResult {
  readonly home: string;
  readonly tenant: string;
  readonly adminActor: string;
  readonly keyId: string;
  readonly keyFile: string;
  readonly publicKeyFile: string;
  readonly logKeyFile: string;
  /** C2SP verifier key of the log key: verifies every checkpoint and receipt of this deployment. */
  readonly verifierKey: string;
  readonly url: string;
  readonly created: boolean;
}

export const ADMIN_ACTOR = 'admin';
export const ADMIN_KEY_ID = 'admin#1';

export function isInitialised(home: string): boolean {
  return existsSync(join(resolve(home), 'config.json'));
}

export function summary(config: Config, created: boolean): InitResult {
  return {
    home: config.home,
    tenant: config.tenant,
    adminActor: ADMIN_ACTOR,
    keyId: ADMIN_KEY_ID,
    keyFile: join(config.home, 'keys', 'admin.key'),
    publicKeyFile: join(config.home, 'keys', 'admin.pub'),
    logKeyFile: config.ledger.logKeyFile,
    verifierKey: openSigner(config).vkey,
    url: `http://${config.server.host}:${config.server.port}`,
    created,
  };
}

/**
 * Creates a home: config, data folder, the log signing key and a first admin whose key and role are
 * registered by ledger records (writ.RegisterKey, AssignRole) on writ's own authority.
 * Non-interactive; refuses to touch a home that is already initialised.
 */
export async function initHome(homeArg: string, options: { tenant?: string; host?: string; port?: number } = {}): Promise<InitResult> {
  const home = resolve(homeArg);
  if (isInitialised(home)) throw new Error(`${home} is already a writ home (config.json exists); use it with --home, or choose another folder`);
  mkdirSync(join(home, 'data'), { recursive: true, mode: 0o700 });
  mkdirSync(join(home, 'keys'), { recursive: true, mode: 0o700 });
  mkdirSync(join(home, 'policies'), { recursive: true });
  const tenant = options.tenant ?? DEFAULT_TENANT;
  const fileConfig = { tenant, server: { host: options.host ?? DEFAULT_HOST, port: options.port ?? DEFAULT_PORT }, store: { path: 'data/writ.db' }, ledger: { logKeyFile: 'keys/log.key' } };
  const config = loadConfig(home, fileConfig);
  writeKeyPair(config.ledger.logKeyFile);
  const admin = writeKeyPair(join(home, 'keys', 'admin.key'));
  writeFileSync(join(home, 'config.json'), JSON.stringify(fileConfig, null, 2) + '\n');
  const writ = await openWrit(config, { command: 'writ init' });
  try {
    for (const [action, payload, requestId] of [
      ['writ.RegisterKey', { actor: ADMIN_ACTOR, keyId: ADMIN_KEY_ID, alg: 'ed25519', publicKey: admin.publicPem }, 'init-register-admin-key'],
      ['AssignRole', { actor: ADMIN_ACTOR, role: 'admin' }, 'init-assign-admin-role'],
    ] as const) {
      const reply = await writ.pipeline.system(tenant, action, payload, requestId);
      if (reply.httpStatus !== 200) throw new Error(`bootstrap ${action} failed: ${reply.body}`);
    }
  } finally {
    await writ.close();
  }
  return summary(config, true);
}
