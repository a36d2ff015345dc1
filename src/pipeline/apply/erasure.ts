import { APPROVAL_TYPE, type ApprovalDoc } from '../../approvals/pending.js';
import type { Catalog } from '../../catalog/catalog.js';
import type { Envelope } from '../../core/envelope.js';
import { WritError } from '../../core/errors.js';
import { jcs } from '../../canonical/jcs.js';
import type { LedgerRecord } from '../../ledger/record.js';
import { keptFields, redactedBody, replayedBody } from '../../ledger/redaction/erase.js';
import { erasedValues, markValues } from '../../ledger/redaction/markers.js';
import type { EntityRow, EntityStore, LogStore } from '../../store/port.js';
import { rerun, versionKey } from './erasure-rerun.js';
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
 * will recompute it from that body: the versions the command wrote, by its own effect (declarative
 * or a code handler) re-run on the redacted body, and every later version of those entities (and
 * of the entities those later commands wrote), by their commands re-run on the erased state, until
 * a version comes out unchanged (erasure-rerun.ts). Where a command cannot be re-run so, its
 * versions are erased in place (every erased value replaced wherever it sits) and the body says so
 * (ERASED_NOT_REPLAYABLE): `writ verify` then takes those versions as erased and counts them. A
 * held command (either of its records) is erased whole: both bodies, the envelope copy in every
 * version of its approval, and what it wrote when it ran. A body with secret fields withheld, or
 * one that is not an envelope, has its body erased only. Throws a WritError when the erasure cannot
 * be planned now. It reads one log's records of the command and, for a held one, the tenant's
 * versions its PENDING record wrote (a scan of the tenant's history): an admin's rare command,
 * not the command path.
 */
export async function planErasure(deps: ErasureDeps, tenant: string, scroll: string, index: number): Promise<Erasure> {
  const record = await recordAt(deps.store, tenant, scroll, index);
  const body = await deps.store.readEnvelope(tenant, scroll, index);
  const action = deps.catalog.get(record.action);
  if (await deps.store.getRedaction(tenant, scroll, index)) throw new WritError('INVALID_STATE', `ledger entry ${scroll}/${index} was already erased with the held command it belongs to`);
  const env = parse(body);
  if (!env || !action || action.secretFields?.some((f) => Object.hasOwn(env.payload, f))) return { bodies: [{ scroll, index, body: null }], versions: [], current: [] };
  const kept = keptFields(deps.catalog, action);
  const out = { bodies: [] as Array<Erasure['bodies'][number]>, versions: [] as EntityRow[], current: [] as EntityRow[] };
  // A held command is one command with two records (PENDING, then its end): either entry erases both.
  const held = await heldRecords(deps, record);
  const ran = held ? held.end : record;
  const replayable = ran.outcome !== 'OK' || (await followRecord(deps, ran, redactedBody(env, kept), erasedValues(env.payload, kept), out));
  const redacted = redactedBody(env, kept, replayable);
  const text = JSON.stringify(redacted);
  out.bodies.push({ scroll, index, body: text });
  if (held) {
    const other = held.pending === record ? held.end : held.pending;
    out.bodies.push({ scroll: other.scroll, index: other.index, body: text });
    for (const row of await deps.store.entityVersionsOfRecord(tenant, held.pending.scroll, held.pending.index)) {
      if (row.type !== APPROVAL_TYPE) continue;
      await follow(deps, row, (v) => ({ ...v, doc: { ...(v.doc as ApprovalDoc), envelope: redacted } }), out);
    }
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
 * Erases what record `ran` wrote (re-run on its redacted body `env`) and, entity by entity, the
 * later versions recomputed from the erased ones; `values` are the erased values, for versions
 * that cannot be recomputed (erased in place). Whether every version was recomputed (the body can
 * be replayed).
 */
async function followRecord(deps: ErasureDeps, ran: LedgerRecord, env: Envelope, values: ReadonlySet<string>, out: { versions: EntityRow[]; current: EntityRow[] }): Promise<boolean> {
  const erased = new Map<string, EntityRow>();
  let replayable = true;
  const erase = async (record: LedgerRecord, body: Envelope | null): Promise<EntityRow[]> => {
    const rows = (await deps.store.entityVersionsOfRecord(record.tenant, record.scroll, record.index)).filter((r) => r.type !== APPROVAL_TYPE);
    let docs = body ? await rerun(deps, record, body, rows, erased) : null;
    if (!docs) {
      replayable = false;
      docs = rows.map((r) => ({ ...r, doc: markValues(r.doc, values) }));
    }
    const before = new Map(rows.map((r) => [versionKey(r), r]));
    const changed = docs.filter((d) => jcs(d.doc ?? null) !== jcs(before.get(versionKey(d))?.doc ?? null));
    for (const d of changed) erased.set(versionKey(d), d);
    return changed;
  };
  const queue = await erase(ran, env);
  while (queue.length > 0) {
    const first = queue.shift()!;
    let last = first;
    let current = true;
    for (const next of await laterVersions(deps, first)) {
      const done = erased.get(versionKey(next));
      if (done) {
        last = done;
        continue;
      }
      const changed = await erase(await recordAt(deps.store, next.tenant, next.scroll, next.index), await replayableBody(deps, next));
      const mine = changed.find((c) => c.type === first.type && c.id === first.id);
      queue.push(...changed.filter((c) => c !== mine));
      if (!mine) {
        current = false;
        break;
      }
      last = mine;
    }
    if (current) out.current.push(last);
  }
  out.versions.push(...erased.values());
  return replayable;
}

/** Every version of `first`'s entity from `first` on, each passed through `erase`. */
async function follow(deps: ErasureDeps, first: EntityRow, erase: (v: EntityRow) => EntityRow, out: { versions: EntityRow[]; current: EntityRow[] }): Promise<void> {
  const rows = [first, ...(await laterVersions(deps, first))].map(erase);
  out.versions.push(...rows);
  out.current.push(rows[rows.length - 1]);
}

/** The stored body of the record that wrote `row`, when the replay runs it (its own, or a replayed redacted body). */
async function replayableBody(deps: ErasureDeps, row: EntityRow): Promise<Envelope | null> {
  const env = parse(await deps.store.readEnvelope(row.tenant, row.scroll, row.index));
  if (!env || !(await deps.store.getRedaction(row.tenant, row.scroll, row.index))) return env;
  return replayedBody(env) ? env : null;
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
