import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { loadPrivateKey } from '../../src/core/signature.js';
import { ADMIN_KEY_ID, initHome } from '../../src/home/init.js';
import { signEnvelope, type Signer } from '../../src/sdk/sign.js';
import { openWrit, type Writ } from '../../src/writ.js';
import { newSigner } from '../../test/support/harness.js';

/** A command the soak's home holds already: what was sent (exact bytes) and how it was answered. */
export interface Seeded {
  readonly envelope: Record<string, any>;
  readonly bytes: Buffer;
  readonly status: number;
}

/** The soak's home: two tenants, their admins, a key holder with no role, a revoked key, seeds. */
export interface SoakHome {
  readonly home: string;
  readonly dbPath: string;
  readonly tenant: string;
  readonly otherTenant: string;
  readonly admin: Signer;
  readonly otherAdmin: Signer;
  /** Registered in `tenant`, holds no role. */
  readonly nobody: Signer;
  /** Registered in `tenant`, then revoked. */
  readonly revoked: Signer;
  /** The HS256 secret of bearer tokens (auth.require = either), to forge expired tokens with. */
  readonly jwtSecret: Buffer;
  /** Applied commands of `admin` in `tenant` (UpsertProduct): bytes to replay, nonces and request ids to reuse. */
  readonly seeded: readonly Seeded[];
  readonly approval: { readonly id: string; readonly commandHash: string };
  readonly ids: { readonly products: readonly string[]; readonly otherProducts: readonly string[] };
  dispose(): void;
}

export const OTHER_TENANT = 'rival';

async function submit(writ: Writ, envelope: Record<string, any>): Promise<Seeded> {
  const bytes = Buffer.from(JSON.stringify(envelope));
  const reply = await writ.pipeline.submit({ body: bytes, receivedAt: Date.now() });
  if (reply.httpStatus !== 200 && reply.httpStatus !== 202) throw new Error(`seeding ${envelope.action} failed: ${reply.body}`);
  return { envelope, bytes, status: reply.httpStatus };
}

/**
 * Creates the soak's home the way an operator would (`writ init`), with settings that open every
 * surface the soak attacks (bearer tokens beside signatures, an outbox sink so the operator routes
 * do their work) and defaults everywhere else (rate limits included: they are part of the defence).
 * A second tenant has no `writ init` of its own; its admin is bootstrapped as init does it, on
 * writ's own authority.
 */
export async function createSoakHome(): Promise<SoakHome> {
  const home = mkdtempSync(join(tmpdir(), 'writ-soak-'));
  const init = await initHome(home, { port: 0 });
  const jwtSecret = randomBytes(32);
  writeFileSync(join(home, 'keys', 'jwt.secret'), jwtSecret, { mode: 0o600 });
  const file = join(home, 'config.json');
  const config = JSON.parse(readFileSync(file, 'utf8'));
  Object.assign(config, {
    auth: { require: 'either', jwt: { hs256SecretFile: 'keys/jwt.secret' } },
    outbox: { sinks: [{ name: 'audit', kind: 'ndjson', path: 'outbox.ndjson' }] },
  });
  writeFileSync(file, JSON.stringify(config, null, 2));
  const admin: Signer = { key: loadPrivateKey(readFileSync(init.keyFile, 'utf8')), keyId: ADMIN_KEY_ID };
  // Same actor name and key id as the first tenant's admin, another key: keys must be per tenant.
  const otherAdmin = newSigner(ADMIN_KEY_ID);
  const nobody = newSigner('nobody#1');
  const revoked = newSigner('mallory#1');
  const writ = await openWrit(loadConfig(home));
  const tenant = init.tenant;
  const sign = (signer: Signer, t: string, action: string, payload: Record<string, unknown>) => signEnvelope({ action, payload }, signer, { tenant: t }).envelope as unknown as Record<string, any>;
  const products = ['p-0', 'p-1', 'p-2', 'p-3', 'p-4'];
  const otherProducts = ['b-0', 'b-1', 'b-2'];
  const seeded: Seeded[] = [];
  let approval: SoakHome['approval'];
  try {
    for (const [action, payload, requestId] of [
      ['writ.RegisterKey', { actor: 'admin', keyId: ADMIN_KEY_ID, alg: 'ed25519', publicKey: otherAdmin.publicPem }, 'soak-register-rival-admin'],
      ['AssignRole', { actor: 'admin', role: 'admin' }, 'soak-assign-rival-admin'],
    ] as const) {
      const reply = await writ.pipeline.system(OTHER_TENANT, action, payload, requestId);
      if (reply.httpStatus !== 200) throw new Error(`bootstrap of ${OTHER_TENANT} failed: ${reply.body}`);
    }
    for (const s of [nobody, revoked]) {
      await submit(writ, sign(admin, tenant, 'writ.RegisterKey', { actor: s.keyId.split('#')[0], keyId: s.keyId, alg: 'ed25519', publicKey: s.publicPem }));
    }
    await submit(writ, sign(admin, tenant, 'writ.RevokeKey', { keyId: revoked.keyId, reason: 'soak: a revoked key' }));
    for (const [i, sku] of products.entries()) {
      seeded.push(await submit(writ, sign(admin, tenant, 'UpsertProduct', { sku, name: `Product ${i}`, price: { amount: 100 + i, currency: 'EUR' } })));
    }
    for (const sku of otherProducts) await submit(writ, sign(otherAdmin, OTHER_TENANT, 'UpsertProduct', { sku, name: `Rival ${sku}`, price: { amount: 1, currency: 'USD' } }));
    // Making `nobody` an admin waits for two other admins: an approval the soak tries to force.
    const held = await submit(writ, sign(admin, tenant, 'AssignRole', { actor: 'nobody', role: 'admin' }));
    const stored = await writ.store.getOutcome(tenant, 'admin', held.envelope.requestId);
    const body = JSON.parse(stored!.response) as { approval: { id: string }; commandHash: string };
    approval = { id: body.approval.id, commandHash: body.commandHash };
  } finally {
    await writ.close();
  }
  return {
    home,
    dbPath: join(home, 'data', 'writ.db'),
    tenant,
    otherTenant: OTHER_TENANT,
    admin,
    otherAdmin,
    nobody,
    revoked,
    jwtSecret,
    seeded,
    approval,
    ids: { products, otherProducts },
    dispose: () => rmSync(home, { recursive: true, force: true }),
  };
}
