import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type ConfigInput } from '../../src/config/config.js';
import { initHome, ADMIN_KEY_ID, type InitResult } from '../../src/home/init.js';
import { loadPrivateKey } from '../../src/core/signature.js';
import { signEnvelope, readAuthorization, type ReadSigner, type Signer } from '../../src/sdk/sign.js';
import { buildServer } from '../../src/transports/http/server.js';
import { openWrit, type OpenOptions, type Writ } from '../../src/writ.js';
import { readFileSync } from 'node:fs';
import { dropDatabase, freshDatabase, type Backend } from './backends.js';

/** A temporary writ home with a running in-process writ and an HTTP server (inject() or a real socket). */
export interface Harness {
  readonly home: string;
  /** The store backend the harness runs on (a fresh PostgreSQL database per harness for postgres). */
  readonly backend: Backend;
  readonly init: InitResult;
  readonly writ: Writ;
  readonly app: FastifyInstance;
  readonly admin: Signer;
  /** The admin as a read signer of the home tenant: `new WritClient(url, h.reader)` reads as the CLI does. */
  readonly reader: ReadSigner;
  readonly tenant: string;
  /** Signs an envelope (defaults filled) with `signer` (admin by default) and returns it. */
  sign(action: string, payload: Record<string, unknown>, extra?: Record<string, unknown>, signer?: Signer): Record<string, any>;
  /** POSTs an envelope (object or raw text) through inject(). */
  post(envelope: unknown, headers?: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; body: any; raw: string }>;
  /** GETs through inject() as the admin (a signed read token), as the CLI reads. */
  get(path: string): Promise<{ status: number; headers: Record<string, unknown>; body: any }>;
  /**
   * A request through inject() as `signer` (of `tenant`, the home's by default), or anonymous when
   * `signer` is null.
   */
  getAs(path: string, signer: Signer | null, options?: { method?: 'GET' | 'POST'; tenant?: string }): Promise<{ status: number; headers: Record<string, unknown>; body: any }>;
  /** The `Authorization` value of a read token for `method` and `path`, signed by `signer` (admin by default). */
  readAuth(method: string, path: string, signer?: Signer, tenant?: string): string;
  /** Registers a new Ed25519 actor with roles via signed admin commands; returns its signer. */
  actor(name: string, roles?: readonly string[]): Promise<Signer>;
  /** Listens on 127.0.0.1 on a free port; returns the base URL. */
  listen(): Promise<string>;
  /** Closes and reopens writ on the same home (a clean restart). */
  restart(options?: OpenOptions): Promise<void>;
  close(): Promise<void>;
}

export function newSigner(keyId: string, alg: 'ed25519' | 'es256' = 'ed25519'): Signer & { publicPem: string; privateKey: KeyObject } {
  const pair = alg === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { key: { alg, key: pair.privateKey }, keyId, publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKey: pair.privateKey };
}

/** How a harness opens writ: writ's own options, and the store backend (SQLite by default). */
export interface HarnessOptions extends OpenOptions {
  readonly backend?: Backend;
}

export async function startHarness(overrides: ConfigInput = {}, { backend = 'sqlite', ...options }: HarnessOptions = {}): Promise<Harness> {
  const home = mkdtempSync(join(tmpdir(), 'writ-test-'));
  const database = backend === 'postgres' ? await freshDatabase() : null;
  const init = await initHome(home, { port: 0, ...(database ? { store: database } : {}) });
  if (Object.keys(overrides).length) {
    const file = join(home, 'config.json');
    const current = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...current, ...overrides }, null, 2));
  }
  const admin: Signer = { key: loadPrivateKey(readFileSync(init.keyFile, 'utf8')), keyId: ADMIN_KEY_ID };
  let writ = await openWrit(loadConfig(home), options);
  let clock = options.now ?? Date.now;
  let app = buildServer(writ);
  const h: Harness = {
    home,
    backend,
    init,
    get writ() {
      return writ;
    },
    get app() {
      return app;
    },
    admin,
    reader: { ...admin, tenant: init.tenant },
    tenant: init.tenant,
    sign(action, payload, extra = {}, signer = admin) {
      return signEnvelope({ action, payload, ...extra }, signer, { tenant: init.tenant }).envelope as unknown as Record<string, any>;
    },
    async post(envelope, headers = {}) {
      const res = await app.inject({ method: 'POST', url: '/v1/commands', payload: typeof envelope === 'string' || Buffer.isBuffer(envelope) ? envelope : JSON.stringify(envelope), headers: { 'content-type': 'application/json', ...headers } });
      let body: any = res.body;
      try {
        body = JSON.parse(res.body);
      } catch {
        /* keep text */
      }
      return { status: res.statusCode, headers: res.headers, body, raw: res.body };
    },
    readAuth(method, path, signer = admin, tenant = init.tenant) {
      // Signed on writ's clock, so tests that move time keep a valid token.
      return readAuthorization({ ...signer, tenant }, method, path, { now: new Date(clock()) });
    },
    get(path) {
      return h.getAs(path, admin);
    },
    async getAs(path, signer, { method = 'GET', tenant = init.tenant } = {}) {
      const headers = signer ? { authorization: h.readAuth(method, path, signer, tenant) } : {};
      const res = await app.inject({ method, url: path, headers });
      let body: any = res.body;
      try {
        body = JSON.parse(res.body);
      } catch {
        /* keep text */
      }
      return { status: res.statusCode, headers: res.headers, body };
    },
    async actor(name, roles = []) {
      const signer = newSigner(`${name}#1`);
      const reg = await h.post(h.sign('writ.RegisterKey', { actor: name, keyId: signer.keyId, alg: 'ed25519', publicKey: signer.publicPem }));
      if (reg.status !== 200) throw new Error(`registering ${name}: ${reg.raw}`);
      for (const role of roles) {
        // Granting admin or breakglass needs the approval of two other admins (access policy); the harness grants them on writ's own authority.
        const r = role === 'admin' || role === 'breakglass' ? await writ.pipeline.system(init.tenant, 'AssignRole', { actor: name, role }, rid()).then((a) => ({ status: a.httpStatus, raw: a.body })) : await h.post(h.sign('AssignRole', { actor: name, role }));
        if (r.status !== 200) throw new Error(`assigning ${role} to ${name}: ${r.raw}`);
      }
      return signer;
    },
    async listen() {
      return app.listen({ host: '127.0.0.1', port: 0 });
    },
    async restart(opts = options) {
      await app.close();
      await writ.close();
      writ = await openWrit(loadConfig(home), opts);
      clock = opts.now ?? Date.now;
      app = buildServer(writ);
    },
    async close() {
      await app.close();
      await writ.close();
      rmSync(home, { recursive: true, force: true });
      if (database) await dropDatabase(database);
    },
  };
  return h;
}

export function rid(): string {
  return randomUUID();
}
