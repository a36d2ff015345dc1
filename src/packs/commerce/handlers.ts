import { WritError } from '../../core/errors.js';
import type { EffectContext, EffectPlan } from '../../catalog/types.js';

/** Pieces of evidence one dispute may hold: each is a stored copy of its payload, so the list is bounded. */
export const MAX_DISPUTE_EVIDENCE = 100;

/** Hex digits of a digest, by algorithm: a hash of another length cannot be what it claims. */
const HASH_HEX: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

interface Money {
  amount: number;
  currency: string;
}

/** INVALID_PAYLOAD naming the field, in the shape the validate stage gives schema errors. */
function invalid(action: string, path: string, problem: string): WritError {
  return new WritError('INVALID_PAYLOAD', `payload of ${action} is invalid: ${path} ${problem}`, { details: { errors: [{ path, message: problem }] } });
}

function live(ctx: EffectContext): Record<string, unknown> | null {
  return ctx.current && !ctx.current.deleted ? (ctx.current.doc as Record<string, unknown>) : null;
}

/** The payload as the entity's document, replacing the last one: the declarative upsert, after the handler's checks. */
function upsert(ctx: EffectContext): EffectPlan {
  return { writes: [{ ...ctx.target, doc: ctx.payload }], result: { ...ctx.target, created: live(ctx) === null } };
}

/** `from` must come before `until` when both are given (RFC 3339, compared as instants). */
function checkOrder(action: string, p: Record<string, unknown>, from: string, until: string): void {
  const a = p[from];
  const b = p[until];
  if (typeof a === 'string' && typeof b === 'string' && Date.parse(b) <= Date.parse(a)) throw invalid(action, `/${until}`, `must be later than ${from}`);
}

export function upsertInventory(ctx: EffectContext): Promise<EffectPlan> | EffectPlan {
  const p = ctx.payload as { sku: string; onHand: number; reserved?: number };
  if (p.reserved !== undefined && p.reserved > p.onHand) throw invalid('UpsertInventory', '/reserved', `must not exceed onHand (${p.onHand})`);
  return ctx.get('product', p.sku).then((product) => {
    // Stock of a product writ does not know is a typo more often than not.
    if (!product || product.deleted) throw new WritError('NOT_FOUND', `product ${JSON.stringify(p.sku)} does not exist; create it with UpsertProduct first`);
    return upsert(ctx);
  });
}

export function upsertPriceRule(ctx: EffectContext): EffectPlan {
  const p = ctx.payload as { percentOff?: number; amountOff?: Money; skus: string[] };
  if ((p.percentOff === undefined) === (p.amountOff === undefined)) throw invalid('UpsertPriceRule', '', 'must have exactly one of percentOff and amountOff');
  if (p.skus.includes('*') && p.skus.length > 1) throw invalid('UpsertPriceRule', '/skus', 'must be ["*"] alone or a list of skus');
  checkOrder('UpsertPriceRule', ctx.payload, 'startsAt', 'endsAt');
  return upsert(ctx);
}

export function addShippingRate(ctx: EffectContext): EffectPlan {
  const p = ctx.payload as { price: Money; freeAbove?: Money; minWeightGrams?: number; maxWeightGrams?: number };
  if (p.minWeightGrams !== undefined && p.maxWeightGrams !== undefined && p.maxWeightGrams <= p.minWeightGrams) throw invalid('AddShippingRate', '/maxWeightGrams', 'must be more than minWeightGrams');
  if (p.freeAbove && p.freeAbove.currency !== p.price.currency) throw invalid('AddShippingRate', '/freeAbove/currency', `must be the price's currency (${p.price.currency})`);
  return upsert(ctx);
}

export function addTaxRate(ctx: EffectContext): EffectPlan {
  const p = ctx.payload as { country: string; region?: string };
  if (p.region !== undefined && !p.region.startsWith(`${p.country}-`)) throw invalid('AddTaxRate', '/region', `must be a subdivision of ${p.country} (${p.country}-…)`);
  checkOrder('AddTaxRate', ctx.payload, 'validFrom', 'validUntil');
  return upsert(ctx);
}

interface Evidence {
  url?: string;
  hash?: string;
  hashAlgo?: string;
  type: string;
  note?: string;
  fileName?: string;
}

/** A payment dispute's evidence, oldest first, each with who added it and when. */
export interface DisputeDoc {
  disputeId: string;
  evidence: Array<Evidence & { addedBy: string; addedAt: string }>;
}

export function addDisputeEvidence(ctx: EffectContext): EffectPlan {
  const { disputeId, evidence } = ctx.payload as { disputeId: string; evidence: Evidence };
  if (evidence.url === undefined && evidence.hash === undefined) throw invalid('AddDisputeEvidence', '/evidence', 'must have a url or a hash (or both)');
  if ((evidence.hash === undefined) !== (evidence.hashAlgo === undefined)) throw invalid('AddDisputeEvidence', '/evidence', 'must have hashAlgo with hash, and hash with hashAlgo');
  if (evidence.hash !== undefined && evidence.hash.length !== HASH_HEX[evidence.hashAlgo!]) {
    throw invalid('AddDisputeEvidence', '/evidence/hash', `must be ${HASH_HEX[evidence.hashAlgo!]} hex digits for ${evidence.hashAlgo}`);
  }
  const prev = (live(ctx) as DisputeDoc | null)?.evidence ?? [];
  if (prev.length >= MAX_DISPUTE_EVIDENCE) {
    throw new WritError('INVALID_STATE', `dispute ${JSON.stringify(disputeId)} already holds ${MAX_DISPUTE_EVIDENCE} pieces of evidence, the most it may; bundle further documents and add one piece that links to the bundle`, {
      details: { count: prev.length, max: MAX_DISPUTE_EVIDENCE },
    });
  }
  const doc: DisputeDoc = { disputeId, evidence: [...prev, { ...evidence, addedBy: ctx.envelope.actor, addedAt: ctx.now }] };
  return { writes: [{ ...ctx.target, doc }], result: { ...ctx.target, pieces: doc.evidence.length } };
}
