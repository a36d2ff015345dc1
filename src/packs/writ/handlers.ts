import { createPublicKey } from 'node:crypto';
import { WritError } from '../../core/errors.js';
import type { EffectContext, EffectPlan } from '../../catalog/types.js';
import { SYSTEM_ACTOR } from '../../pipeline/system.js';
import type { KeyDoc } from '../../state/documents.js';

export type { KeyDoc } from '../../state/documents.js';

/** One SPKI PEM block and nothing else (RFC 7468 §13, "PUBLIC KEY"). */
const SPKI_PEM = /^\s*-----BEGIN PUBLIC KEY-----[A-Za-z0-9+/=\s]+-----END PUBLIC KEY-----\s*$/;

export function keyTypeOf(pem: string): string | undefined {
  // createPublicKey also accepts a private key or a certificate and derives the public key from it;
  // a private key pasted here by mistake would then be stored and served as state, so refuse it.
  if (!SPKI_PEM.test(pem)) return undefined;
  try {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
    if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'es256';
    return key.asymmetricKeyType;
  } catch {
    return undefined;
  }
}

/** Roles whose holders add keys to themselves only: a key for them is the power to act as them. */
const SELF_KEYED_ROLES = ['admin', 'breakglass'];

/**
 * A key is a way to act as its actor. For a holder of admin or breakglass, a key registered by
 * someone else would let one admin supply a second admin's approval, or be both parties of a
 * break-glass, alone (docs/security.md). Such actors add keys to themselves, signed with a key they
 * hold; writ's own bootstrap (actor `writ`) is the exception. A lost admin key is revoked, and
 * admin granted to a new actor through the two-admin quorum.
 */
async function refuseKeyForAnotherPowerHolder(ctx: EffectContext, actor: string): Promise<void> {
  const signer = ctx.envelope.actor;
  if (signer === actor || signer === SYSTEM_ACTOR) return;
  const row = await ctx.get('actor', actor);
  const roles = row && !row.deleted ? ((row.doc as { roles?: string[] }).roles ?? []) : [];
  const held = roles.filter((r) => SELF_KEYED_ROLES.includes(r));
  if (held.length === 0) return;
  throw new WritError('FORBIDDEN', `${actor} holds ${held.join(' and ')}; only ${actor} may add a key to itself (sign writ.RegisterKey with its current key). If its key is lost, revoke it and grant the role to a new actor through the quorum`, {
    details: { actor, roles: held },
  });
}

export async function registerKey(ctx: EffectContext): Promise<EffectPlan> {
  const p = ctx.payload as { actor: string; keyId: string; alg: 'ed25519' | 'es256'; publicKey: string; notBefore?: string; notAfter?: string };
  if (ctx.current || ctx.configuredKey(p.keyId)) throw new WritError('INVALID_STATE', `key id ${JSON.stringify(p.keyId)} is already registered; key ids are never reused, choose another`);
  await refuseKeyForAnotherPowerHolder(ctx, p.actor);
  const kind = keyTypeOf(p.publicKey);
  if (kind === undefined) throw new WritError('INVALID_PAYLOAD', 'publicKey is not an SPKI PEM public key');
  if (kind !== p.alg) throw new WritError('INVALID_PAYLOAD', `publicKey is a ${kind} key but alg is ${p.alg}`);
  if (p.notBefore && p.notAfter && Date.parse(p.notAfter) <= Date.parse(p.notBefore)) {
    throw new WritError('INVALID_PAYLOAD', `notAfter (${p.notAfter}) must be later than notBefore (${p.notBefore})`);
  }
  // A key that expired before it was registered could never sign; registering one is a mistake
  // (a wrong year, a local time taken for UTC) that should surface now, not at its first use.
  if (p.notAfter && Date.parse(p.notAfter) <= Date.parse(ctx.now)) {
    throw new WritError('INVALID_PAYLOAD', `notAfter ${p.notAfter} is already past (now is ${ctx.now}); give a notAfter in the future, or leave it out`);
  }
  const doc: KeyDoc = { actor: p.actor, keyId: p.keyId, alg: p.alg, publicKey: p.publicKey, notBefore: p.notBefore ?? null, notAfter: p.notAfter ?? null, revokedAt: null };
  return { writes: [{ ...ctx.target, doc }], result: { keyId: p.keyId, actor: p.actor, alg: p.alg } };
}

export function revokeKey(ctx: EffectContext): EffectPlan {
  const keyId = ctx.payload.keyId as string;
  const configured = ctx.configuredKey(keyId);
  const doc = (ctx.current?.doc as KeyDoc | undefined) ?? (configured ? { actor: configured.actor, keyId, alg: 'hs256' as const, publicKey: null, notBefore: null, notAfter: null, revokedAt: null } : undefined);
  if (!doc) throw new WritError('NOT_FOUND', `key ${JSON.stringify(keyId)} is not registered`);
  if (doc.revokedAt) throw new WritError('INVALID_STATE', `key ${JSON.stringify(keyId)} was already revoked at ${doc.revokedAt}`);
  const next: KeyDoc = { ...doc, revokedAt: ctx.now, ...(ctx.payload.reason ? { revokeReason: ctx.payload.reason as string } : {}) };
  return { writes: [{ ...ctx.target, doc: next }], result: { keyId, revokedAt: ctx.now } };
}

/**
 * Erases the stored command body of one ledger record. Only the body kept beside the log goes: the
 * leaf (which names the commandHash, not the payload) is untouched, so every receipt and proof still
 * verifies. The target entity records who redacted what and why; an entry is redacted once.
 */
export async function redact(ctx: EffectContext): Promise<EffectPlan> {
  const p = ctx.payload as { entry: string; reason: string };
  const [scroll, indexText] = p.entry.split('/');
  const index = Number(indexText);
  if (ctx.current) throw new WritError('INVALID_STATE', `ledger entry ${p.entry} was already redacted`);
  if (!(await ctx.recordExists(scroll, index))) throw new WritError('NOT_FOUND', `log ${scroll} of this tenant has no record ${index}`);
  return {
    writes: [{ ...ctx.target, doc: { scroll, index, reason: p.reason, redactedAt: ctx.now, redactedBy: ctx.envelope.actor } }],
    redactions: [{ scroll, index, reason: p.reason }],
    result: { entry: p.entry, redacted: true },
  };
}
