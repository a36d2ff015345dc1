import { ZERO_HASH } from '../core/hash.js';
import type { LedgerRow, LogHead, LogStore } from '../store/port.js';
import { encodeRecord, type LedgerRecord } from './record.js';

/** A record as the apply stage drafts it: everything but its place in its log. */
export type RecordDraft = Omit<LedgerRecord, 'v' | 'index' | 'prev'>;

/** A record placed in its log: the record (with index and prev) and the row the store keeps of it. */
export interface Sequenced {
  readonly record: LedgerRecord;
  readonly row: LedgerRow;
}

/**
 * The log sequencer (DESIGN §6): it alone gives a record its index and its `prev` (the leaf hash of
 * the record before it), so every log stays dense and hash-chained. The apply stage asks it for the
 * next record of a log; the heads it holds run ahead of the store by the batches still committing.
 *
 * The heads come from the store (`load`, or `reload` with heads read elsewhere): at start, and again
 * after a failed commit, when the records placed since are gone. A backend with several writing
 * processes reloads the heads it read under the log's lock before placing records.
 */
export interface Sequencer {
  /** The head of every log known: loaded, or grown by a record placed since. */
  heads(): LogHead[];
  /** The index the next record of the log will have. */
  peek(tenant: string, scroll: string): number;
  /**
   * Places the draft as the next record of its log and advances the head. Throws RecordTooLarge
   * when the leaf would be too large; the head is then left as it was.
   */
  next(draft: RecordDraft): Sequenced;
  /** Places one log's head: the ledger replay re-derives each stored record where it stands. */
  seek(head: LogHead): void;
  /** Forgets every head and takes these (what the store holds). */
  reload(heads: Iterable<LogHead>): void;
  /** reload() with the heads the store holds now. */
  load(store: Pick<LogStore, 'logHeads'>): Promise<void>;
}

interface Head {
  size: number;
  last: string;
}

/** The sequencer of one writing process, holding every head in memory. */
export class LogSequencer implements Sequencer {
  private readonly byLog = new Map<string, Head>();

  heads(): LogHead[] {
    return [...this.byLog].map(([key, h]) => {
      const [tenant, scroll] = key.split('\n');
      return { tenant, scroll, size: h.size, lastLeafHash: h.last };
    });
  }

  peek(tenant: string, scroll: string): number {
    return this.head(tenant, scroll).size;
  }

  next(draft: RecordDraft): Sequenced {
    const head = this.head(draft.tenant, draft.scroll);
    const record: LedgerRecord = { v: 1, index: head.size, prev: head.last, ...draft };
    const { leaf, leafHash } = encodeRecord(record);
    head.size++;
    head.last = leafHash;
    const row: LedgerRow = { tenant: record.tenant, scroll: record.scroll, index: record.index, leaf, leafHash, requestId: record.requestId, actor: record.actor, commandHash: record.commandHash, outcome: record.outcome, code: record.code };
    return { record, row };
  }

  seek(head: LogHead): void {
    this.byLog.set(`${head.tenant}\n${head.scroll}`, { size: head.size, last: head.lastLeafHash });
  }

  reload(heads: Iterable<LogHead>): void {
    this.byLog.clear();
    for (const h of heads) this.seek(h);
  }

  async load(store: Pick<LogStore, 'logHeads'>): Promise<void> {
    this.reload(await store.logHeads());
  }

  private head(tenant: string, scroll: string): Head {
    const key = `${tenant}\n${scroll}`;
    let head = this.byLog.get(key);
    if (!head) {
      head = { size: 0, last: ZERO_HASH };
      this.byLog.set(key, head);
    }
    return head;
  }
}
