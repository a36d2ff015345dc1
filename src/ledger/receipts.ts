import { formatTlogProof } from '../core/tlog/index.js';
import { WritError } from '../core/errors.js';
import type { CheckpointRow, LogStore } from '../store/port.js';
import type { TileReader } from './tile-reader.js';

/** Media type of a C2SP tlog-proof. */
export const TLOG_PROOF_TYPE = 'text/x.tlog-proof';

/**
 * The receipt of record `index`: a C2SP tlog-proof whose `extra` line carries the record's exact
 * leaf bytes, with the inclusion proof into `checkpoint` (which must cover the record) and the
 * checkpoint note verbatim, cosignatures included. It verifies offline with the log's verifier key.
 */
export async function buildReceipt(store: Pick<LogStore, 'readLedger'>, reader: TileReader, tenant: string, scroll: string, index: number, checkpoint: CheckpointRow): Promise<string> {
  if (checkpoint.size <= index) throw new WritError('RECEIPT_PENDING', `checkpoint ${checkpoint.size} does not cover record ${index} yet`);
  const [row] = await store.readLedger(tenant, scroll, index, 1);
  if (!row || row.index !== index) throw new WritError('NOT_FOUND', `log ${tenant}/${scroll} has no record ${index}`);
  const proof = await reader.inclusionProof(tenant, scroll, index, checkpoint.size);
  return formatTlogProof({ extra: new Uint8Array(row.leaf), index, proof, checkpoint: checkpoint.note });
}
