import { signEnvelope, type Signer } from '../../src/sdk/sign.js';
import { newSigner } from '../../test/support/harness.js';
import type { SoakHome } from './home.js';
import { examplePayload, type CatalogAction } from './payloads.js';
import { commandBytes, type SoakRequest, type Target } from './requests.js';

type Env = Record<string, any>;

/** Builds `n` requests of one kind; `i` numbers them so that variants take turns. */
export type Build = (n: number) => SoakRequest[];

const iso = (ms: number) => new Date(ms).toISOString();

/** Timestamps that are not dates at all, or dates that do not exist (one of them rolls over to today). */
function impossibleDates(now: Date): string[] {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth(); // 0-based: the previous month is `m` in 1-based terms
  const prevYear = m === 0 ? y - 1 : y;
  const prevMonth = m === 0 ? 12 : m;
  const daysInPrev = new Date(Date.UTC(prevYear, prevMonth, 0)).getUTCDate();
  const rollsToToday = `${prevYear}-${String(prevMonth).padStart(2, '0')}-${daysInPrev + now.getUTCDate()}T${now.toISOString().slice(11, 19)}Z`;
  const today = now.toISOString().slice(0, 10);
  return [rollsToToday, `${y}-02-30T12:00:00Z`, `${y}-13-01T00:00:00Z`, `${today}T24:00:00Z`, `${today}T12:00:60Z`, '0000-00-00T00:00:00Z', '9999-99-99T99:99:99Z', `${today}T12:00:00.0000000001Z`];
}

/**
 * Envelopes whose signatures are real (pre-signed, since a signature costs tens of microseconds):
 * each kind is refused for one reason writ documents, whoever signed it. Admin signatures appear
 * only where the refusal must come from something other than policy (a tampered, stale, replayed,
 * reused or ambiguous envelope); everything else is signed by a key holder with no role, a revoked
 * key or a key writ does not know.
 */
export function signedKinds(home: SoakHome, target: Target, actions: readonly CatalogAction[]): Record<string, Build> {
  const A = home.tenant;
  const B = home.otherTenant;
  const sign = (signer: Signer, tenant: string, action: string, payload: Env, extra: Env = {}): Env =>
    signEnvelope({ action, payload, ...extra }, signer, { tenant }).envelope as unknown as Env;
  const product = (i: number) => ({ sku: `soak-${i % 97}`, name: `Soak ${i}`, price: { amount: i, currency: 'EUR' } });
  const post = (kind: string, env: Env | string | Buffer, headers?: Record<string, string>): SoakRequest => ({
    kind,
    mode: 'keepalive',
    bytes: commandBytes(target, Buffer.isBuffer(env) || typeof env === 'string' ? env : JSON.stringify(env), headers),
  });
  const range = (n: number, f: (i: number) => SoakRequest) => Array.from({ length: n }, (_, i) => f(i));
  const ghost = newSigner('ghost#1');
  const impostor = newSigner('admin#2');
  const roleless = (kind: string) => (n: number) =>
    range(n, (i) => {
      const a = actions[i % actions.length];
      return post(kind, sign(home.nobody, A, a.name, examplePayload(a.payload, home.approval)));
    });
  return {
    // Every catalog action, by a key holder with no role (approving and breaking glass on the held command included).
    'role-less': roleless('role-less'),
    // Retried while the first copy is in flight: the mix hands one envelope to several workers at once.
    'concurrent-retry': roleless('concurrent-retry'),
    revoked: (n) => range(n, (i) => post('revoked', sign(home.revoked, A, 'UpsertProduct', product(i)))),
    'unknown-key': (n) => range(n, (i) => post('unknown-key', i % 2 ? sign(ghost, A, 'UpsertProduct', product(i)) : sign(impostor, A, 'AssignRole', { actor: 'admin', role: 'admin' }))),
    'cross-tenant': (n) =>
      range(n, (i) => {
        const v = i % 3;
        // The first tenant's admin key speaks for the other tenant's admin (same actor and key id there).
        if (v === 0) return post('cross-tenant', sign(home.admin, B, 'UpsertProduct', product(i)));
        if (v === 1) return post('cross-tenant', sign(home.otherAdmin, A, 'writ.SetFlag', { subject: 'tenant', flag: 'blocked' }));
        return post('cross-tenant', sign(home.nobody, B, 'UpsertProduct', product(i)));
      }),
    'bad-signature': (n) =>
      range(n, (i) => {
        const env = sign(home.admin, A, 'UpsertProduct', product(i));
        const s = env.signature;
        const variants: Array<() => Env> = [
          () => ({ ...env, signature: { ...s, sig: (s.sig[0] === 'A' ? 'B' : 'A') + s.sig.slice(1) } }),
          () => ({ ...env, payload: { ...env.payload, price: { amount: 0, currency: 'EUR' } } }),
          () => ({ ...env, signature: { ...s, alg: 'es256' } }),
          () => ({ ...env, signature: { ...s, alg: 'hs256' } }),
          () => ({ ...env, signature: { ...s, sig: 'AAAA' } }),
          // The role-less holder's signature over the admin's envelope, presented under the admin's key id.
          () => ({ ...env, signature: { ...s, sig: sign(home.nobody, A, 'UpsertProduct', env.payload, { requestId: env.requestId, nonce: env.nonce, timestamp: env.timestamp, actor: 'admin' }).signature.sig } }),
        ];
        return post('bad-signature', variants[i % variants.length]());
      }),
    stale: (n) => {
      const now = Date.now();
      const stamps = [iso(now - 3600_000), iso(now - 301_000), iso(now + 3600_000), '2001-01-01T00:00:00Z', '1970-01-01T00:00:00Z'];
      return range(n, (i) => post('stale', sign(home.admin, A, 'UpsertProduct', product(i), { timestamp: stamps[i % stamps.length] })));
    },
    'impossible-date': (n) => {
      const stamps = impossibleDates(new Date());
      return range(n, (i) => post('impossible-date', sign(home.nobody, A, 'UpsertProduct', product(i), { timestamp: stamps[i % stamps.length] })));
    },
    // Pairs of envelopes with one nonce: whichever arrives second reuses it. Signed by the role-less
    // holder: an admin's new envelope with an old nonce, once that nonce's window has passed, is a
    // new command only the admin could sign (the soak's first version sent those and saw them
    // applied), and an attacker who captured an admin's envelope can only resend its exact bytes (`replay`).
    'nonce-replay': (n) =>
      range(n, (i) => {
        const nonce = `soak-nonce-${i >> 1}-${Date.now()}`;
        return post('nonce-replay', sign(home.nobody, A, i % 2 ? 'UpsertProduct' : 'AssignRole', i % 2 ? product(i) : { actor: 'nobody', role: 'editor' }, { nonce }));
      }),
    'idempotency-reuse': (n) =>
      range(n, (i) => {
        const s = home.seeded[i % home.seeded.length].envelope;
        return post('idempotency-reuse', sign(home.admin, A, 'UpsertProduct', { ...s.payload, name: `Changed ${i}` }, { requestId: s.requestId }));
      }),
    replay: (n) => range(n, (i) => post('replay', home.seeded[i % home.seeded.length].bytes)),
    'duplicate-keys': (n) =>
      range(n, (i) => {
        const text = JSON.stringify(sign(home.admin, A, 'UpsertProduct', product(i)));
        const variants = [`{"tenant":${JSON.stringify(B)},` + text.slice(1), `{"action":"writ.SetFlag",` + text.slice(1), text.replace('"payload":{', '"payload":{"sku":"evil",'), text.replace('"signature":{', '"signature":{"keyId":"nobody#1",')];
        return post('duplicate-keys', variants[i % variants.length]);
      }),
    bom: (n) =>
      range(n, (i) => {
        const text = JSON.stringify(sign(home.nobody, A, 'UpsertProduct', product(i)));
        const variants = [Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf]), Buffer.from(text)]), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]), Buffer.from(text.replace('{', '{\ufeff'))];
        return post('bom', variants[i % variants.length]);
      }),
    // A 250,000-character action name and a 250,000-character field: just under the default 256 KiB body limit.
    'huge-field': (n) =>
      range(Math.min(n, 8), (i) =>
        post('huge-field', i % 2 ? sign(home.nobody, A, 'A'.repeat(250_000), {}) : sign(home.nobody, A, 'UpsertProduct', { ...product(i), name: 'n'.repeat(250_000) })),
      ),
  };
}
