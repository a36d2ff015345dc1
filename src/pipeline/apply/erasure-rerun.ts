import { APPROVAL_TYPE } from '../../approvals/pending.js';
import type { Catalog } from '../../catalog/catalog.js';
import type { EffectPlan } from '../../catalog/types.js';
import { jcs } from '../../canonical/jcs.js';
import type { Envelope } from '../../core/envelope.js';
import { sha256Hex } from '../../core/hash.js';
import type { LedgerRecord } from '../../ledger/record.js';
import { sameWithMarkers } from '../../ledger/redaction/markers.js';
import { DEPLOYMENT_SCOPE } from '../../state/scope.js';
import type { EntityRow, EntityStore, LogStore } from '../../store/port.js';

export interface RerunDeps {
  readonly store: EntityStore & LogStore;
  readonly catalog: Catalog;
}

/** `tenant/type/id/version`: one stored entity version. */
export function versionKey(row: Pick<EntityRow, 'tenant' | 'type' | 'id' | 'version'>): string {
  return `${row.tenant}\n${row.type}\n${row.id}\n${row.version}`;
}

/**
 * The versions a record wrote, recomputed as the ledger replay will recompute them once a command
 * before it (or this one) is redacted: its action's effect — a code handler as much as a
 * declarative effect — run on `env` (a redacted body, or its own body) against the erased state
 * (`erased`: versions already erased, by versionKey). Null when it cannot be re-run so: the effect
 * throws on the erased values (a check of a hash's length), writes other entities, answers another
 * result, or computes a document that is not the stored one with markers in place
 * (markers.ts sameWithMarkers: a value derived from an erased one, not copied). The replay would
 * then not reproduce the versions, so they are taken as erased instead (the caller's fallback).
 *
 * Reads of other entities (`ctx.get`) see the committed state as it is now, erased where erased:
 * a handler whose output depends on how another entity was then comes out different and is
 * therefore refused, never wrongly passed.
 */
export async function rerun(deps: RerunDeps, record: LedgerRecord, env: Envelope, stored: readonly EntityRow[], erased: ReadonlyMap<string, EntityRow>): Promise<EntityRow[] | null> {
  const action = deps.catalog.get(record.action);
  if (!action) return null;
  const tenant = record.tenant;
  const seen = async (row: EntityRow | null) => (row ? (erased.get(versionKey(row)) ?? row) : null);
  const read = async (t: string, type: string, id: string) => seen(await deps.store.getEntity(t, type, id));
  let plan: EffectPlan;
  try {
    const target = deps.catalog.target(action, env.payload, env.target);
    const mine = stored.find((r) => r.type === target.type && r.id === target.id);
    const current = mine ? (mine.version > 1 ? await seen((await deps.store.entityVersions(tenant, target.type, target.id, mine.version - 2, 1))[0] ?? null) : null) : await read(tenant, target.type, target.id);
    plan = await deps.catalog.handler(action.name)({
      envelope: env,
      payload: env.payload,
      target,
      current,
      now: record.ts,
      get: (type, id) => read(tenant, type, id),
      getDeployment: (type, id) => read(DEPLOYMENT_SCOPE, type, id),
      configuredKey: () => undefined,
      roles: (actor) => deps.catalog.rolesOf((type, id) => read(tenant, type, id), actor),
      recordExists: async (scroll, index) => (await deps.store.readLedger(tenant, scroll, index, 1))[0]?.index === index,
    });
  } catch {
    return null;
  }
  if ((plan.scroll ?? action.scroll) !== record.scroll || sha256Hex(jcs(plan.result ?? null)) !== record.resultHash) return null;
  // The approval a decision writes is followed on its own (erasure.ts), as are the deployment's rows, which no body holds.
  const writes = plan.writes.filter((w) => w.scope !== 'deployment' && w.type !== APPROVAL_TYPE);
  if (writes.length !== stored.length) return null;
  const out: EntityRow[] = [];
  for (const w of writes) {
    const row = stored.find((r) => r.type === w.type && r.id === w.id);
    const doc = w.deleted ? null : (w.doc ?? null);
    if (!row || Boolean(w.deleted) !== row.deleted || !sameWithMarkers(doc, row.doc ?? null)) return null;
    out.push({ ...row, doc });
  }
  return out;
}
