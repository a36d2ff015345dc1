import type { WriteBatch } from '../port.js';

/**
 * A WriteBatch as the writer thread binds it: for each statement one flat array of its parameters,
 * row after row (STRIDE values per row, in the statement's column order), documents already JSON.
 * The batch crosses to the writer thread by structured clone, whose cost grows with the number of
 * values and property names it copies: flat rows carry no property names and no nested documents,
 * which made the copy about a seventh cheaper on the event loop (the JSON of documents included) and
 * about two thirds cheaper in the writer (v8.serialize / deserialize of batches like the HTTP benchmark's).
 */
export interface BatchRows {
  readonly entities: unknown[];
  readonly records: unknown[];
  readonly outbox: unknown[];
  readonly outcomes: unknown[];
  readonly outcomeUpdates: unknown[];
  readonly nonces: unknown[];
  readonly redactions: unknown[];
  readonly erasedVersions: unknown[];
}

/** Values per row of each array. */
export const STRIDE = { entities: 10, records: 11, outbox: 10, outcomes: 10, outcomeUpdates: 10, nonces: 5, redactions: 7, erasedVersions: 7 } as const;

export function toRows(batch: WriteBatch): BatchRows {
  const entities: unknown[] = [];
  for (const e of batch.entities) entities.push(e.tenant, e.type, e.id, e.version, e.deleted ? null : JSON.stringify(e.doc), e.deleted ? 1 : 0, e.updatedAt, e.updatedBy, e.scroll, e.index);
  const records: unknown[] = [];
  for (const { row: l, envelope } of batch.records) records.push(l.tenant, l.scroll, l.index, l.leaf, l.leafHash, l.requestId, l.actor, l.commandHash, l.outcome, l.code, envelope);
  const outbox: unknown[] = [];
  for (const e of batch.outbox) outbox.push(e.id, e.tenant, e.scroll, e.index, e.action, e.target, e.version, e.type, JSON.stringify(e.data), e.ts);
  const outcome = (into: unknown[], list: WriteBatch['outcomes'] | undefined) => {
    for (const o of list ?? []) into.push(o.tenant, o.actor, o.requestId, o.commandHash, o.sigDigest, o.httpStatus, o.response, o.createdAt, o.scroll, o.index);
    return into;
  };
  const nonces: unknown[] = [];
  for (const n of batch.nonces) nonces.push(n.tenant, n.actor, n.nonce, n.commandHash, n.expiresAt);
  const redactions: unknown[] = [];
  for (const r of batch.redactions ?? []) redactions.push(r.tenant, r.scroll, r.index, r.redactedAt, r.redactedBy, r.reason, r.body ?? null);
  const erasedVersions: unknown[] = [];
  for (const e of batch.erasedVersions ?? []) erasedVersions.push(JSON.stringify(e.doc), e.tenant, e.type, e.id, e.version, e.scroll, e.index);
  return { entities, records, outbox, outcomes: outcome([], batch.outcomes), outcomeUpdates: outcome([], batch.outcomeUpdates), nonces, redactions, erasedVersions };
}
