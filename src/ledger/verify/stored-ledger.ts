import type { Catalog } from '../../catalog/catalog.js';
import type { Envelope } from '../../core/envelope.js';
import type { LogStore } from '../../store/port.js';
import type { LedgerRecord } from '../record.js';
import { keptFields } from '../redaction/erase.js';
import { checkBody, type RedactRecords } from './bodies.js';

/** Records read per page. */
const PAGE = 8192;

/** One stored record with what the state checks need of it. */
export interface LoadedRecord {
  readonly record: LedgerRecord;
  readonly leaf: Buffer;
  readonly leafHash: string;
  /** Its stored body, when it hashes to the record's commandHash, or what stays of it once redacted (a redacted body); null when it cannot be replayed. */
  envelope: Envelope | null;
  /** Its stored body was erased by a writ.Redact (checked): its answer's result may be erased too. */
  redacted?: boolean;
  /** Redacted, and its command could not be re-run on the redacted body: the versions it wrote were erased in place and are taken as erased; the body that stays. */
  erasedInPlace?: Envelope;
  /** For a PENDING record: the record that ended the held command (its next record in the same log with the same key). */
  final?: LoadedRecord;
}

export type Problem = (tenant: string, scroll: string, index: number | null, message: string) => void;

export interface BodyCounts {
  checked: number;
  redacted: number;
  withheld: number;
}

/** Every record of the deployment by `recordKey`, as the state checks read them. */
export type RecordIndex = ReadonlyMap<string, LoadedRecord>;

export function recordKey(tenant: string, scroll: string, index: number): string {
  return `${tenant}\n${scroll}\n${index}`;
}

/**
 * Reads every record of every log (the log scan has checked their bytes, chain and tree), links
 * each PENDING record to the record that ended its command, and checks every stored body against
 * its record (bodies.ts). A body that fails is reported and left out of the replay.
 */
export async function loadLedger(store: LogStore, catalog: Catalog, problem: Problem, progress: (done: number, total: number) => void): Promise<{ records: RecordIndex; bodies: BodyCounts }> {
  const records = new Map<string, LoadedRecord>();
  const redacts = new Map<string, LedgerRecord>();
  const heads = await store.logHeads();
  const total = heads.reduce((n, h) => n + h.size, 0);
  let done = 0;
  for (const head of heads) {
    const open = new Map<string, LoadedRecord>();
    for (let from = 0; ; ) {
      const rows = await store.readLedger(head.tenant, head.scroll, from, PAGE);
      if (rows.length === 0) break;
      for (const row of rows) {
        let record: LedgerRecord;
        try {
          record = JSON.parse(row.leaf.toString('utf8')) as LedgerRecord;
        } catch {
          continue; // reported by the log scan
        }
        const loaded: LoadedRecord = { record, leaf: row.leaf, leafHash: row.leafHash, envelope: null };
        records.set(recordKey(head.tenant, head.scroll, row.index), loaded);
        const key = `${record.actor}\n${record.requestId}\n${record.commandHash}`;
        if (record.outcome === 'PENDING') open.set(key, loaded);
        else if (open.has(key)) {
          open.get(key)!.final = loaded;
          open.delete(key);
        }
        if (record.outcome === 'OK' && record.action === 'writ.Redact' && record.target?.startsWith('redaction/')) {
          redacts.set(`${record.tenant}\n${record.target.slice('redaction/'.length)}`, record);
        }
      }
      from = rows[rows.length - 1].index + 1;
      progress((done += rows.length), total * 2);
    }
  }
  // A held command is erased whole: a writ.Redact of either of its records erases both bodies (src/pipeline/apply/erasure.ts).
  for (const loaded of records.values()) {
    const end = loaded.final?.record;
    if (!end) continue;
    const [a, b] = [`${end.tenant}\n${loaded.record.scroll}/${loaded.record.index}`, `${end.tenant}\n${end.scroll}/${end.index}`];
    const by = redacts.get(a) ?? redacts.get(b);
    if (by) for (const k of [a, b]) if (!redacts.has(k)) redacts.set(k, by);
  }
  return { records, bodies: await checkBodies(store, catalog, records, redacts, problem, (n) => progress(total + n, total * 2)) };
}

async function checkBodies(store: LogStore, catalog: Catalog, records: Map<string, LoadedRecord>, redacts: RedactRecords, problem: Problem, progress: (done: number) => void): Promise<BodyCounts> {
  const counts: BodyCounts = { checked: 0, redacted: 0, withheld: 0 };
  let done = 0;
  for (const loaded of records.values()) {
    const r = loaded.record;
    const body = await store.readEnvelope(r.tenant, r.scroll, r.index);
    // A body is redacted only where a writ.Redact record says so; anywhere else it must hash to its commandHash.
    const redaction = body === null || redacts.has(`${r.tenant}\n${r.scroll}/${r.index}`) ? await store.getRedaction(r.tenant, r.scroll, r.index) : null;
    const action = catalog.get(r.action);
    const verdict = checkBody(r, body, redaction, redacts, action, action && keptFields(catalog, action));
    if (verdict.kind === 'ok') {
      loaded.envelope = verdict.envelope;
      counts.checked++;
    } else if (verdict.kind === 'bad') problem(r.tenant, r.scroll, r.index, `record ${r.scroll}/${r.index} (${r.actor}'s ${r.action}, requestId ${r.requestId}): ${verdict.message}`);
    else {
      if (verdict.kind === 'redacted') {
        loaded.redacted = true;
        loaded.envelope = verdict.envelope;
        loaded.erasedInPlace = verdict.inPlace;
      }
      counts[verdict.kind]++;
    }
    if (++done % 1024 === 0) progress(done);
  }
  progress(done);
  return counts;
}
