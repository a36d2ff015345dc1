import { APPROVAL_TYPE, type ApprovalDoc } from '../../approvals/pending.js';
import type { Catalog } from '../../catalog/catalog.js';
import { declarativeEffect } from '../../catalog/effects.js';
import type { ActionDef, EffectContext } from '../../catalog/types.js';
import type { Envelope } from '../../core/envelope.js';
import { WritError } from '../../core/errors.js';
import { jcs } from '../../canonical/jcs.js';
import type { LedgerRecord } from '../../ledger/record.js';
import { carryErasure, keptFields, redactedBody, replayableRedacted } from '../../ledger/redaction/erase.js';
import type { EntityRow, EntityStore, LogStore } from '../../store/port.js';
import type { Writes } from './ledger-writer.js';
import type { Overlay } from './overlay.js';

/** Versions of one entity read at a time while following an erasure. */
const PAGE = 256;

export interface ErasureDeps {
  readonly store: EntityStore & LogStore;
  readonly catalog: Catalog;
  /** The version of an entity that a batch still being committed wrote, if one did. */
  readonly inFlight: (tenant: string, type: string, id: string) => EntityRow | undefined;
}

/** What a redaction erases besides the copies beside the body (src/store/sqlite/writer.ts). */
export interface Erasure {
  /** The bodies to erase: the entry's and, for a held command, its other record's; `body` is what stays (a redacted body, or null). */
  readonly bodies: ReadonlyArray<{ readonly scroll: string; readonly index: number; readonly body: string | null }>;
  /** Stored versions with their documents erased, each as it will be stored. */
  readonly versions: readonly EntityRow[];
  /** Of those, the ones that are their entity's current version (the applier's overlay takes them). */
  readonly current: readonly EntityRow[];
}

/**
 * Plans the erasure of the command whose record is (tenant, scroll, index). Its body is replaced by
 * a redacted body (src/ledger/redaction/erase.ts) and the state is recomputed as the ledger replay
 * will recompute it from that body: the versions the command wrote, by its own effect run on the
 * redacted payload, and every later version of those entities, by their commands' effects run on
 * the erased versions (a code handler's version: the erasure carried where it kept the value), until
 * a version comes out unchanged. A held command (either of its records) is erased whole: both
 * bodies, the envelope copy in every version of its approval, and what it wrote when it ran. A
 * command that cannot be replayed redacted (a code handler's, a withheld body) has its body erased
 * only, as before. Throws a WritError when the erasure cannot be planned now. It reads one log's
 * records of the command and, for a held one, the tenant's versions its PENDING record wrote (a
 * scan of the tenant's history): an admin's rare command, not the command path.
 */
export async function planErasure(deps: ErasureDeps, tenant: string, scroll: string, index: number): Promise<Erasure> {
  const record = await recordAt(deps.store, tenant, scroll, index);
  const body = await deps.store.readEnvelope(tenant, scroll, index);
  const action = deps.catalog.get(record.action);
  if (await deps.store.getRedaction(tenant, scroll, index)) throw new WritError('INVALID_STATE', `ledger entry ${scroll}/${index} was already erased with the held command it belongs to`);
  const env = parse(body);
  if (!env || !action || !replayableRedacted(action) || action.secretFields?.some((f) => Object.hasOwn(env.payload, f))) return { bodies: [{ scroll, index, body: null }], versions: [], current: [] };
  const redacted = redactedBody(env, keptFields(deps.catalog, action));
  const text = JSON.stringify(redacted);
  const out = { bodies: [{ scroll, index, body: text }], versions: [] as EntityRow[], current: [] as EntityRow[] };
  // A held command is one command with two records (PENDING, then its end): either entry erases both.
  const held = await heldRecords(deps, record);
  if (held) {
    const other = held.pending === record ? held.end : held.pending;
    out.bodies.push({ scroll: other.scroll, index: other.index, body: text });
    for (const row of await deps.store.entityVersionsOfRecord(tenant, held.pending.scroll, held.pending.index)) {
      if (row.type !== APPROVAL_TYPE) continue;
      await follow(deps, row, (v) => ({ ...v, doc: { ...(v.doc as ApprovalDoc), envelope: redacted } }), out);
    }
  }
  const ran = held ? held.end : record;
  // A declarative effect writes its target only: the version the record names.
  if (ran.outcome === 'OK' && ran.version !== null) {
    const [type, id] = split(ran.target);
    const mine = (await deps.store.entityVersions(tenant, type, id, ran.version - 1, 1))[0];
    if (mine && mine.scroll === ran.scroll && mine.index === ran.index) await followEffects(deps, mine, action, redacted.payload, out);
  }
  return out;
}

/**
 * The two records of a held command, when `record` is one of them: its PENDING record and the
 * record that ended it. Refuses one still held (its approval would run the erased body).
 */
async function heldRecords(deps: ErasureDeps, record: LedgerRecord): Promise<{ pending: LedgerRecord; end: LedgerRecord } | undefined> {
  const rows = (await deps.store.recordsOfCommand(record.tenant, record.scroll, record.actor, record.requestId)).map((r) => (r.index === record.index ? record : (JSON.parse(r.leaf.toString('utf8')) as LedgerRecord)));
  const same = rows.filter((r) => r.commandHash === record.commandHash);
  const pending = same.find((r) => r.outcome === 'PENDING' && r.index <= record.index);
  if (!pending) return undefined;
  const end = same.find((r) => r.index > pending.index);
  if (!end) throw new WritError('INVALID_STATE', `the command of ledger entry ${pending.scroll}/${pending.index} is still held for approval; reject it (writ.Reject) or let it end, then redact it`);
  return { pending, end };
}

/**
 * Erases version `first` of an entity (written by the redacted command, with `payload` redacted)
 * and the later versions that carry its values, recomputed as the replay recomputes them.
 */
async function followEffects(deps: ErasureDeps, first: EntityRow, action: ActionDef, payload: Record<string, unknown>, out: { versions: EntityRow[]; current: EntityRow[] }): Promise<void> {
  const prev = first.version > 1 ? ((await deps.store.entityVersions(first.tenant, first.type, first.id, first.version - 2, 1))[0] ?? null) : null;
  const erased = { ...first, doc: effectDoc(action, payload, first, erasedOrStored(prev, out.versions)) };
  if (jcs(erased.doc ?? null) === jcs(first.doc ?? null)) return;
  out.versions.push(erased);
  let before = first;
  let last: EntityRow = erased;
  for (const next of await laterVersions(deps, first)) {
    const doc = await recompute(deps, before, last, next);
    if (jcs(doc ?? null) === jcs(next.doc ?? null)) return;
    last = { ...next, doc };
    before = next;
    out.versions.push(last);
  }
  out.current.push(last);
}

/** Every version of `first`'s entity from `first` on, each passed through `erase`. */
async function follow(deps: ErasureDeps, first: EntityRow, erase: (v: EntityRow) => EntityRow, out: { versions: EntityRow[]; current: EntityRow[] }): Promise<void> {
  const rows = [first, ...(await laterVersions(deps, first))].map(erase);
  out.versions.push(...rows);
  out.current.push(rows[rows.length - 1]);
}

/** A later version, recomputed from the erased one before it: by its command's declarative effect (run on the payload the replay will run), else by carrying the erasure. */
async function recompute(deps: ErasureDeps, before: EntityRow, erased: EntityRow, next: EntityRow): Promise<unknown> {
  const record = await recordAt(deps.store, next.tenant, next.scroll, next.index);
  const action = deps.catalog.get(record.action);
  const env = parse(await deps.store.readEnvelope(next.tenant, next.scroll, next.index));
  if (!next.deleted && env && action && replayableRedacted(action) && record.target === `${next.type}/${next.id}`) return effectDoc(action, env.payload, next, erased);
  return next.deleted ? null : carryErasure(before.doc, erased.doc, next.doc);
}

/** The document a declarative effect writes to `row`'s entity on `current`. */
function effectDoc(action: ActionDef, payload: Record<string, unknown>, row: EntityRow, current: EntityRow | null): unknown {
  if (action.effect.kind === 'handler') throw new Error('a code handler is not recomputed here');
  const ctx = { payload, target: { type: row.type, id: row.id }, current } as unknown as EffectContext;
  const plan = declarativeEffect(action.effect)(ctx) as { writes: ReadonlyArray<{ doc?: unknown; deleted?: boolean }> };
  return plan.writes[0]?.deleted ? null : (plan.writes[0]?.doc ?? null);
}

/** The versions of `first`'s entity after it, committed and in flight; refuses while a batch still being committed writes it. */
async function laterVersions(deps: ErasureDeps, first: EntityRow): Promise<EntityRow[]> {
  const rows: EntityRow[] = [];
  for (let after = first.version; ; ) {
    const page = await deps.store.entityVersions(first.tenant, first.type, first.id, after, PAGE);
    rows.push(...page);
    if (page.length < PAGE) break;
    after = page[page.length - 1].version;
  }
  const flying = deps.inFlight(first.tenant, first.type, first.id);
  const top = rows.length ? rows[rows.length - 1].version : first.version;
  if (flying && flying.version > top) throw new WritError('UNAVAILABLE', `${first.type} ${JSON.stringify(first.id)} is being written; retry the redaction`, { retryAfter: 1 });
  return rows;
}

function erasedOrStored(row: EntityRow | null, erased: readonly EntityRow[]): EntityRow | null {
  if (!row) return null;
  return erased.find((e) => e.tenant === row.tenant && e.type === row.type && e.id === row.id && e.version === row.version) ?? row;
}

async function recordAt(store: Pick<LogStore, 'readLedger'>, tenant: string, scroll: string, index: number): Promise<LedgerRecord> {
  const row = (await store.readLedger(tenant, scroll, index, 1))[0];
  if (!row || row.index !== index) throw new WritError('NOT_FOUND', `log ${scroll} of this tenant has no record ${index}`);
  return JSON.parse(row.leaf.toString('utf8')) as LedgerRecord;
}

function parse(body: string | null): Envelope | null {
  if (body === null) return null;
  try {
    const env = JSON.parse(body) as Envelope;
    return env && typeof env === 'object' && env.payload && typeof env.payload === 'object' ? env : null;
  } catch {
    return null;
  }
}

function split(target: string | null): [string, string] {
  const at = (target ?? '').indexOf('/');
  return [(target ?? '').slice(0, at), (target ?? '').slice(at + 1)];
}


/**
 * Adds planned erasures to a batch's writes, after the writ.Redact record that made them (which
 * wrote one redaction row per entry from `start` on): each row with what stays of its body, a row
 * for a held command's other record, the erased versions; the overlay takes the erased current
 * versions, so that commands planned next carry the erasure forward, not the values.
 */
export function writeErasures(w: Writes, overlay: Overlay, start: number, erasures: readonly Erasure[]): void {
  const requested = w.redactions.splice(start);
  requested.forEach((r, i) => {
    for (const b of erasures[i]?.bodies ?? []) w.redactions.push({ ...r, scroll: b.scroll, index: b.index, body: b.body });
  });
  for (const e of erasures) {
    w.erasedVersions.push(...e.versions);
    for (const row of e.current) overlay.putEntity(row);
  }
}
