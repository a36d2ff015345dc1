import { APPROVAL_TYPE, type ApprovalDoc, type HoldRequest } from '../../approvals/pending.js';
import type { Catalog } from '../../catalog/catalog.js';
import type { Envelope } from '../../core/envelope.js';
import { toWritError } from '../../core/errors.js';
import { ERASED } from '../redaction/erase.js';
import { sameWithMarkers } from '../redaction/markers.js';
import { Projection } from '../../state/replay.js';
import { DEPLOYMENT_SCOPE } from '../../state/scope.js';
import type { CommandStore, EntityRow, EntityStore, LogStore, OutboxStore } from '../../store/port.js';
import { originOf } from '../record.js';
import { checkAnswer } from './answers.js';
import { describeDiff, diffVersions, differingFields, forged, type VersionDiff } from './versions.js';
import { loadLedger, recordKey, type BodyCounts, type LoadedRecord, type Problem, type RecordIndex } from './stored-ledger.js';

/** Outbox events read per page (they give the commit order of every OK and PENDING record). */
const PAGE = 4096;

export interface StateReport {
  /** Stored command bodies: hashed to their commandHash, erased by a writ.Redact, or stored with secret fields withheld. */
  readonly bodies: BodyCounts;
  /**
   * Stored entity versions: recomputed by replaying the ledger, taken as given (written by a record
   * whose body cannot be replayed), or taken as erased (`erased`: written by a redacted command that
   * could not be re-run on its redacted body, or recomputed from such a version: erased in place,
   * src/pipeline/apply/erasure.ts), with the records that wrote them.
   */
  readonly versions: { replayed: number; unverifiable: number; erased: number; erasedBy: string[] };
  /** Stored answers (idempotency outcomes) checked against their records. */
  readonly answers: { checked: number };
}

export interface StateDeps {
  readonly store: LogStore & EntityStore & CommandStore & OutboxStore;
  readonly catalog: Catalog;
  readonly originPrefix: string;
  readonly configuredKey: (tenant: string, keyId: string) => { readonly actor: string } | undefined;
  /** Told how far each phase is: `what` names it. */
  readonly progress?: (what: string, done: number, total: number) => void;
}

/**
 * Checks what the database holds beside the log against the log: every stored command body
 * (bodies.ts), the entity state and its whole history (recomputed by replaying the ledger in
 * commit order through the applier's own code, src/state/replay.ts, and compared version by
 * version), and every stored answer (answers.ts). Each problem names the tenant, log, record index
 * and, where there is one, the entity or requestId.
 */
export async function verifyState(deps: StateDeps, problem: Problem): Promise<StateReport> {
  const progress = (what: string) => (done: number, total: number) => deps.progress?.(what, done, total);
  const { records, bodies } = await loadLedger(deps.store, deps.catalog, problem, progress('reading records and bodies'));
  const versions = await replayState(deps, records, problem, progress('replaying the ledger'));
  let checked = 0;
  await deps.store.scanOutcomes((o) => {
    checked++;
    const bad = checkAnswer(o, originOf(deps.originPrefix, o.tenant, o.scroll), records.get(recordKey(o.tenant, o.scroll, o.index)));
    if (bad) problem(o.tenant, o.scroll, o.index, `answer to ${o.actor}'s requestId ${o.requestId}: ${bad}`);
  });
  return { bodies, versions, answers: { checked } };
}

/** What a rebuild takes from the replay besides the problems: the state it recomputed and how it differs from the stored one. */
export interface ReplaySink {
  /** Entity versions of the recomputed state (replayed, or taken as given), in commit order. */
  rows(rows: readonly EntityRow[]): void;
  /** A stored version that differs from the replay (each is also reported as a problem). */
  diff(d: VersionDiff): void;
}

/**
 * Replays every OK and PENDING record in commit order (the outbox's) and compares the entity
 * versions each wrote with the stored ones; `sink` receives the recomputed state (`writ rebuild`).
 */
export async function replayState(deps: StateDeps, records: RecordIndex, problem: Problem, progress: (done: number, total: number) => void, sink?: ReplaySink): Promise<StateReport['versions']> {
  const counts = { replayed: 0, unverifiable: 0, erased: 0, erasedBy: [] as string[] };
  // Entities (`tenant\ntype/id`) holding a version erased in place: later versions may differ from their replay.
  const tainted = new Set<string>();
  const takeAsErased = (r: LoadedRecord['record'], rows: readonly EntityRow[]) => {
    projection.replace(rows);
    sink?.rows(rows);
    counts.erased += rows.length;
    counts.erasedBy.push(`${r.tenant} ${r.scroll}/${r.index}`);
    for (const x of rows) tainted.add(`${x.tenant}\n${x.type}/${x.id}`);
  };
  const stored = new Map<string, EntityRow[]>();
  const deployment: EntityRow[] = [];
  await deps.store.scanEntityHistory((row) => {
    if (row.tenant === DEPLOYMENT_SCOPE) return void deployment.push(row);
    const key = recordKey(row.tenant, row.scroll, row.index);
    const rows = stored.get(key);
    if (rows) rows.push(row);
    else stored.set(key, [row]);
  });
  const projection = new Projection({
    catalog: deps.catalog,
    originPrefix: deps.originPrefix,
    configuredKey: deps.configuredKey,
    recordExists: (t, s, i) => records.has(recordKey(t, s, i)),
    finalOf: (t, s, i) => records.get(recordKey(t, s, i))?.final,
  });
  // Deployment-scope rows (the airlock's spent TOTP windows) are written only by writ.Stage and
  // writ.Land, whose codes are withheld from the stored bodies: they cannot be recomputed.
  projection.accept(deployment);
  sink?.rows(deployment);
  counts.unverifiable += deployment.length;
  const take = (key: string) => {
    const rows = stored.get(key) ?? [];
    stored.delete(key);
    return rows;
  };
  const done = new Set<string>();
  const last = new Map<string, number>();
  const total = [...records.values()].filter((r) => r.record.outcome !== 'REJECTED').length;
  let after = 0;
  for (;;) {
    const events = await deps.store.readStoredOutbox(after, PAGE);
    if (events.length === 0) break;
    after = events[events.length - 1].seq;
    for (const e of events) {
      const key = recordKey(e.tenant, e.scroll, e.index);
      const at = records.get(key);
      if (!at || done.has(key) || at.record.outcome === 'REJECTED') continue;
      const r = at.record;
      const log = `${r.tenant}\n${r.scroll}`;
      if ((last.get(log) ?? -1) > r.index) problem(r.tenant, r.scroll, r.index, `record ${r.scroll}/${r.index}: the outbox places it after record ${last.get(log)} of its log (commit order broken)`);
      last.set(log, r.index);
      done.add(key);
      if (!at.envelope && at.erasedInPlace) {
        const rows = take(key);
        if (await rerunsExactly(projection, at, at.erasedInPlace, rows)) problem(r.tenant, r.scroll, r.index, `record ${r.scroll}/${r.index} (${command(at)}): its body says it could not be re-run redacted, but it re-runs on its redacted body to the stored versions (the mark was changed, so that its versions would be taken as erased)`);
        takeAsErased(r, rows);
        continue;
      }
      if (!at.envelope) {
        const rows = take(key);
        projection.accept(rows);
        sink?.rows(rows);
        counts.unverifiable += rows.length;
        continue;
      }
      try {
        const unit = await projection.replay(at, holdOf(at, stored.get(key)));
        const units = unit.records.map((rec) => {
          const k = recordKey(rec.tenant, rec.scroll, rec.index);
          done.add(k);
          const mine = records.get(k);
          if (!mine || !mine.leaf.equals(rec.leaf)) {
            problem(rec.tenant, rec.scroll, rec.index, `record ${rec.scroll}/${rec.index}: replaying ${r.actor}'s ${r.action} (requestId ${r.requestId}) yields another record (${mine ? differingFields(mine.leaf, rec.leaf) : 'none is stored'})`);
          }
          const produced = unit.entities.filter((x) => x.scroll === rec.scroll && x.index === rec.index);
          const rows = take(k);
          return { rec, mine, produced, rows, diffs: diffVersions(produced, rows) };
        });
        const diffs = units.flatMap((u) => u.diffs);
        // Recomputed from a version erased in place, a version is erased in place too (erasure.ts): only there may it differ.
        if (diffs.length > 0 && units.every((u) => u.diffs.every((d) => erasedOnly(d, u.produced, u.rows, tainted)))) {
          takeAsErased(r, units.flatMap((u) => u.rows));
        } else {
          sink?.rows(unit.entities);
          for (const u of units) {
            counts.replayed += u.produced.length;
            for (const d of u.diffs) {
              sink?.diff(d);
              problem(u.rec.tenant, u.rec.scroll, u.rec.index, `${describeDiff(d)}; ${command(u.mine ?? at)}`);
            }
          }
        }
      } catch (err) {
        const rows = take(key);
        if (rows.some((x) => tainted.has(`${x.tenant}\n${x.type}/${x.id}`))) {
          takeAsErased(r, rows);
          continue;
        }
        const e2 = toWritError(err);
        problem(r.tenant, r.scroll, r.index, `record ${r.scroll}/${r.index} (${r.actor}'s ${r.action}, requestId ${r.requestId}): its command does not apply to the state the ledger implies (${e2.code}: ${e2.message})`);
        projection.accept(rows);
        sink?.rows(rows);
        counts.unverifiable += rows.length;
      }
      if (done.size % 1024 === 0) progress(done.size, total);
    }
  }
  progress(done.size, total);
  for (const [key, at] of records) {
    const r = at.record;
    if (r.outcome !== 'REJECTED' && !done.has(key)) problem(r.tenant, r.scroll, r.index, `record ${r.scroll}/${r.index} (${r.outcome}) has no outbox event, so its place in commit order is unknown: it was not replayed`);
  }
  for (const rows of stored.values()) {
    for (const x of rows) {
      const by = records.get(recordKey(x.tenant, x.scroll, x.index));
      sink?.diff(forged(x));
      problem(x.tenant, x.scroll, x.index, `${x.type}/${x.id} version ${x.version} claims record ${x.scroll}/${x.index}, but no record wrote it (a forged or misplaced entity version)${by ? `; that record is ${command(by)}, ${by.record.outcome}` : ''}`);
    }
  }
  return counts;
}

/**
 * Whether a body marked not replayable re-runs, as a replayed redacted body, to exactly the stored
 * versions: then the erasure would have been recomputed (erasure.ts decides the mark the same
 * way), and the mark was changed. The projection is left for the caller to overwrite.
 */
async function rerunsExactly(projection: Projection, at: LoadedRecord, body: Envelope, rows: readonly EntityRow[]): Promise<boolean> {
  try {
    const unit = await projection.replay({ ...at, envelope: { ...body, nonce: ERASED } }, holdOf(at, rows));
    const mine = unit.records.find((x) => x.scroll === at.record.scroll && x.index === at.record.index);
    const produced = unit.entities.filter((x) => x.scroll === at.record.scroll && x.index === at.record.index);
    return !!mine && mine.leaf.equals(at.leaf) && diffVersions(produced, rows).length === 0;
  } catch {
    return false;
  }
}

/**
 * Whether a stored version may differ from its replay as a version erased in place does: on an
 * entity holding such a version (`tainted`), in its document only, and only where the stored
 * document holds the marker (the replay ran on erased state and kept what it could).
 */
function erasedOnly(d: VersionDiff, produced: readonly EntityRow[], stored: readonly EntityRow[], tainted: ReadonlySet<string>): boolean {
  if (d.kind !== 'changed' || !tainted.has(`${d.tenant}\n${d.type}/${d.id}`) || d.fields.some((f) => f !== 'doc')) return false;
  const at = (rows: readonly EntityRow[]) => rows.find((x) => x.tenant === d.tenant && x.type === d.type && x.id === d.id && x.version === d.version);
  return sameWithMarkers(at(stored)?.doc ?? null, at(produced)?.doc ?? null);
}

/** Names a record's command for a message. */
function command(at: LoadedRecord): string {
  return `${at.record.actor}'s ${at.record.action}, requestId ${at.record.requestId}`;
}

/** The approval a PENDING record was held under, from the approval entity written with it (its resultHash then binds id, requirement and deadline). */
function holdOf(at: LoadedRecord, rows: readonly EntityRow[] | undefined): HoldRequest | undefined {
  if (at.record.outcome !== 'PENDING') return undefined;
  const doc = rows?.find((x) => x.type === APPROVAL_TYPE)?.doc as ApprovalDoc | undefined;
  if (!doc) return undefined;
  return { approvalId: doc.id, requirement: doc.requirement, createdAtMs: Date.parse(doc.createdAt), expiresAtMs: Date.parse(doc.expiresAt) };
}
