import { jcs } from '../../../canonical/jcs.js';
import type { VerifierKey } from '../../../core/tlog/index.js';
import { nodeHasher } from '../../../ledger/node-hasher.js';
import { buildReceipt } from '../../../ledger/receipts.js';
import { encodeRecord, type LedgerRecord } from '../../../ledger/record.js';
import { TileReader } from '../../../ledger/tile-reader.js';
import { leafHashHex } from '../../../core/hash.js';
import { verifyReceipt } from '../../../sdk/receipt.js';
import type { CheckpointRow, EntityStore, LogStore } from '../../../store/port.js';
import { differsFromRecord, parseEntry, type AuditEntry } from './check-entry.js';
import { missingEntries, type MissingEntry } from './missing.js';
import { readMirror } from './read-mirror.js';

export type AuditStore = Pick<LogStore, 'readLedger' | 'getTile' | 'latestCheckpoint' | 'readEnvelope'> & Pick<EntityStore, 'getEntity' | 'entityVersionsOfRecord'>;

export interface AuditReport {
  readonly ok: boolean;
  readonly repository: string;
  readonly commit: string;
  readonly tenant: string;
  readonly workspace: string;
  readonly entries: number;
  /** Entries proven in a signed checkpoint of their log and equal to the record there. */
  readonly verified: number;
  /** Entries past the latest signed checkpoint of their log: nothing proves them yet (not a failure). */
  readonly uncovered: ReadonlyArray<{ path: string; log: string; index: number }>;
  /** Files that are not what the ledger says, each named. */
  readonly problems: ReadonlyArray<{ path: string; message: string }>;
  /** Records the ledger has that belong in this mirror, before its last entry of their log, and are absent. */
  readonly missing: readonly MissingEntry[];
}

/**
 * `writ ops audit verify` (docs/ops.md, "Audit mirror"): checks every entry of a mirror against the
 * ledger with no server: the receipt of its record (built from the home's store, verified with the
 * log's verifier key like `writ verify RECEIPT`) proves the record in a signed checkpoint; the
 * entry's leaf hash must be that record's, and its event must say what the record hashes (and carry
 * the document version that record wrote). Then every record of those logs that belongs in the
 * mirror and lies before its last entry must have an entry.
 */
export async function verifyMirror(repo: string, names: { tenant: string; workspace: string }, deps: { store: AuditStore; originPrefix: string; logKey: VerifierKey; checkpoints?: readonly string[] }): Promise<AuditReport> {
  const { commit, files, committed } = await readMirror(repo);
  const { tenant, workspace } = names;
  const problems: Array<{ path: string; message: string }> = [];
  const uncovered: Array<{ path: string; log: string; index: number }> = [];
  const entries: Array<{ path: string; entry: AuditEntry }> = [];
  for (const f of files) {
    const parsed = parseEntry(f.path, f.bytes, { tenant, workspace, originPrefix: deps.originPrefix });
    if (typeof parsed === 'string') problems.push({ path: f.path, message: parsed });
    else entries.push({ path: f.path, entry: parsed });
  }
  const reader = new TileReader(deps.store, nodeHasher);
  const given = checkpointsGiven(deps.checkpoints ?? [], tenant);
  const checkpoints = new Map<string, Awaited<ReturnType<AuditStore['latestCheckpoint']>>>();
  let verified = 0;
  for (const { path, entry } of entries) {
    const scroll = entry.event.scroll;
    if (!checkpoints.has(scroll)) checkpoints.set(scroll, given.get(entry.log) ?? (await deps.store.latestCheckpoint(tenant, scroll)));
    const cp = checkpoints.get(scroll);
    if (!cp || cp.size <= entry.index) {
      // Past the latest checkpoint: unproven yet, unless the ledger has no such record at all (an invented entry).
      const [row] = await deps.store.readLedger(tenant, scroll, entry.index, 1);
      if (row?.index === entry.index) uncovered.push({ path, log: entry.log, index: entry.index });
      else problems.push({ path, message: `the ledger has no record ${entry.index} in ${entry.log}` });
      continue;
    }
    const problem = await checkEntry(entry, { ...deps, reader, tenant, checkpoint: cp });
    if (problem) problems.push({ path, message: problem });
    else verified++;
  }
  const missing = await missingEntries(deps.store, { tenant, workspace, originPrefix: deps.originPrefix }, entries.map((e) => e.entry), committed);
  return { ok: problems.length === 0 && missing.length === 0, repository: repo, commit, tenant, workspace, entries: entries.length, verified, uncovered, problems, missing };
}

/**
 * Signed checkpoints obtained elsewhere (a witness, a copy of the git anchor), by origin: the
 * receipts are then proven into these notes, whose signatures verifyReceipt checks, instead of
 * the store's latest, so a store rewritten with a new key's checkpoints does not pass.
 */
function checkpointsGiven(notes: readonly string[], tenant: string): Map<string, CheckpointRow> {
  const out = new Map<string, CheckpointRow>();
  for (const note of notes) {
    const [origin, size] = note.split('\n');
    const scroll = origin.slice(origin.lastIndexOf('/') + 1);
    out.set(origin, { tenant, scroll, size: Number(size), root: '', note, createdAt: '', cosignatures: 0 });
  }
  return out;
}

async function checkEntry(entry: AuditEntry, c: { store: AuditStore; reader: TileReader; logKey: VerifierKey; tenant: string; checkpoint: NonNullable<Awaited<ReturnType<AuditStore['latestCheckpoint']>>> }): Promise<string | null> {
  const scroll = entry.event.scroll;
  let record: Readonly<Record<string, unknown>>;
  try {
    const receipt = await buildReceipt(c.store, c.reader, c.tenant, scroll, entry.index, c.checkpoint);
    record = (await verifyReceipt(receipt, c.logKey)).record;
  } catch (err) {
    return `the ledger cannot prove record ${entry.index} of ${entry.log}: ${(err as Error).message}`;
  }
  const leafHash = leafHashHex(encodeRecord(record as unknown as LedgerRecord).leaf);
  if (leafHash !== entry.leafHash) return `its leaf hash ${entry.leafHash.slice(0, 16)}… is not that of record ${entry.index} of ${entry.log} in the signed log (${leafHash.slice(0, 16)}…)`;
  const differs = differsFromRecord(entry, record);
  if (differs) return `it differs from record ${entry.index} of ${entry.log}: ${differs}`;
  const doc = entry.event.data?.doc;
  if (doc !== undefined && entry.event.target) {
    const [type, id] = [entry.event.target.slice(0, entry.event.target.indexOf('/')), entry.event.target.slice(entry.event.target.indexOf('/') + 1)];
    const row = (await c.store.entityVersionsOfRecord(c.tenant, scroll, entry.index)).find((r) => r.type === type && r.id === id);
    // An erased version (writ.Redact) has no document left to compare.
    if (row && row.doc !== null && jcs(row.doc) !== jcs(doc)) return `its document is not the version ${row.version} of ${entry.event.target} that record ${entry.index} wrote`;
  }
  return null;
}
