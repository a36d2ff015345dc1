import { jcsBytes } from '../../canonical/jcs.js';
import { checkEnvelopeShape, unsignedPart, type Envelope, type PartialEnvelope } from '../../core/envelope.js';
import { WritError } from '../../core/errors.js';
import { sha256Hex } from '../../core/hash.js';
import { verifySignature } from '../../core/signature.js';
import type { AuthRequire } from '../../config/config.js';
import type { Directory } from '../../state/directory.js';
import type { StoredOutcome } from '../../store/port.js';
import type { CommandContext, Intake, Submission } from '../context.js';
import type { JwtVerifier } from './jwt.js';
import type { Verifier } from './verifier.js';

export interface AuthenticateDeps {
  readonly require: AuthRequire;
  readonly directory: Directory;
  readonly verifier: Verifier;
  readonly jwt: JwtVerifier | undefined;
  readonly lookup: (tenant: string, actor: string, requestId: string) => Promise<StoredOutcome | null>;
  readonly now: () => number;
}

/**
 * Establishes who sent the command: an envelope signature checked against the key registry
 * (validity period, revocation), or a bearer token whose claims fill the missing identity fields.
 * A byte-identical retransmission of a command whose outcome is stored (same commandHash, same
 * signature bytes) was verified before and is not verified again (DESIGN §3).
 */
export async function authenticate(input: Intake, submission: Submission, deps: AuthenticateDeps): Promise<CommandContext> {
  const sig = input.envelope.signature;
  if (sig && deps.require !== 'jwt') return bySignature(input, submission, deps);
  if (submission.bearer !== undefined && deps.require !== 'signature') return byToken(input, submission, deps);
  if (sig) throw new WritError('UNAUTHENTICATED', 'this deployment accepts bearer tokens only (auth.require = jwt); send Authorization: Bearer');
  if (submission.bearer !== undefined) throw new WritError('UNAUTHENTICATED', 'this deployment accepts signed envelopes only (auth.require = signature); add a signature');
  throw new WritError('UNAUTHENTICATED', deps.require === 'jwt' ? 'no bearer token; send Authorization: Bearer' : 'the envelope has no signature; sign it with `writ sign`');
}

function context(envelope: Envelope, canonical: Buffer, commandHash: string, submission: Submission, auth: CommandContext['auth'], prior: StoredOutcome | null): CommandContext {
  return { submission, envelope, canonical, commandHash, auth, prior, nonceChecked: false, ownsKey: false, roles: [] };
}

async function bySignature(input: Intake, submission: Submission, deps: AuthenticateDeps): Promise<CommandContext> {
  // Intake checked the whole shape already unless a bearer token came along (identity fields could
  // then be missing); only that case needs the complete check here.
  const envelope = (submission.bearer === undefined ? input.envelope : checkEnvelopeShape(input.envelope, false)) as Envelope;
  const sig = envelope.signature!;
  const sigBytes = Buffer.from(sig.sig, 'base64');
  const sigDigest = sha256Hex(sigBytes);
  const prior = await deps.lookup(envelope.tenant, envelope.actor, envelope.requestId);
  if (prior && prior.commandHash === input.commandHash && prior.sigDigest === sigDigest) {
    return context(envelope, input.canonical, input.commandHash, submission, { method: 'stored', keyId: sig.keyId, sigDigest }, prior);
  }
  const key = deps.directory.usableKey(envelope.tenant, sig.keyId, envelope.actor, sig.alg, deps.now());
  const pre = input.verified;
  const ok =
    key.alg === 'hs256'
      ? verifySignature({ alg: 'hs256', secret: key.secret! }, input.canonical, sigBytes)
      : pre !== undefined && pre.keyDigest === key.digest
        ? pre.ok
        : await deps.verifier.verify({ alg: key.alg, spki: key.spki!, data: input.canonical, sig: sigBytes });
  if (!ok) throw new WritError('BAD_SIGNATURE', 'the signature does not verify over the canonical bytes of the envelope');
  return context(envelope, input.canonical, input.commandHash, submission, { method: 'signature', keyId: sig.keyId, sigDigest }, prior);
}

async function byToken(input: Intake, submission: Submission, deps: AuthenticateDeps): Promise<CommandContext> {
  if (!deps.jwt?.configured) throw new WritError('UNAUTHENTICATED', 'bearer tokens are not configured here (auth.jwt)');
  const claims = await deps.jwt.verify(submission.bearer!);
  const filled: Record<string, unknown> = { ...input.envelope };
  const fill = (field: keyof PartialEnvelope, value: string | undefined) => {
    if (value === undefined) return;
    if (filled[field] === undefined) filled[field] = value;
    else if (filled[field] !== value) throw new WritError('UNAUTHENTICATED', `the envelope's "${field}" does not match the bearer token`);
  };
  fill('actor', claims.sub);
  fill('tenant', claims.tenant);
  // A nonce claim binds the token to one command, so an explicit nonce must agree with it; the jti
  // only stands in for a missing nonce.
  fill('nonce', claims.nonce);
  if (filled.nonce === undefined) fill('nonce', claims.jti);
  if (filled.requestId === undefined) fill('requestId', claims.jti);
  delete filled.signature;
  const envelope = checkEnvelopeShape(filled, false) as Envelope;
  const canonical = jcsBytes(unsignedPart(envelope));
  const commandHash = sha256Hex(canonical);
  const prior = await deps.lookup(envelope.tenant, envelope.actor, envelope.requestId);
  return context(envelope, canonical, commandHash, submission, { method: 'jwt', keyId: null, sigDigest: null }, prior);
}
