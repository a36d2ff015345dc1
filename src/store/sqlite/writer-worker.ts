import { parentPort, workerData } from 'node:worker_threads';
import type { IntegrationBatch, OutboxProgress } from '../port.js';
import type { BatchRows } from './batch-rows.js';
import { SqliteWriter } from './writer.js';

/**
 * The writer thread. Messages are handled one at a time, in order. After a failed commit every
 * later commit is refused until 'recover', because later batches may build on the failed one.
 */
export type WriterRequest =
  | { readonly id: number; readonly op: 'commit'; readonly rows: BatchRows }
  | { readonly id: number; readonly op: 'integrate'; readonly batch: IntegrationBatch }
  | { readonly id: number; readonly op: 'cosign'; readonly tenant: string; readonly scroll: string; readonly size: number; readonly note: string; readonly cosignatures: number }
  | { readonly id: number; readonly op: 'prune'; readonly now: number; readonly retentionMs: number }
  | { readonly id: number; readonly op: 'outbox'; readonly progress: OutboxProgress }
  | { readonly id: number; readonly op: 'redrive'; readonly sink: string | null; readonly eventId: string | null }
  | { readonly id: number; readonly op: 'recover' }
  | { readonly id: number; readonly op: 'close' };

export type WriterReply = { readonly id: number; readonly ok: true; readonly value?: unknown } | { readonly id: number; readonly ok: false; readonly error: string };

const writer = new SqliteWriter((workerData as { path: string }).path);
let failed: string | undefined;

parentPort?.on('message', (req: WriterRequest) => {
  let reply: WriterReply;
  try {
    switch (req.op) {
      case 'commit':
        if (failed) throw new Error(`an earlier batch failed (${failed}); refusing batches until recovery`);
        try {
          writer.commit(req.rows);
        } catch (err) {
          failed = (err as Error).message;
          throw err;
        }
        reply = { id: req.id, ok: true };
        break;
      case 'integrate':
        writer.integrate(req.batch);
        reply = { id: req.id, ok: true };
        break;
      case 'cosign':
        writer.addCosignatures(req.tenant, req.scroll, req.size, req.note, req.cosignatures);
        reply = { id: req.id, ok: true };
        break;
      case 'prune':
        reply = { id: req.id, ok: true, value: writer.prune(req.now, req.retentionMs) };
        break;
      case 'outbox':
        writer.saveOutboxProgress(req.progress);
        reply = { id: req.id, ok: true };
        break;
      case 'redrive':
        reply = { id: req.id, ok: true, value: writer.requestRedrive(req.sink, req.eventId) };
        break;
      case 'recover':
        failed = undefined;
        reply = { id: req.id, ok: true };
        break;
      case 'close':
        writer.close();
        reply = { id: req.id, ok: true };
        break;
    }
  } catch (err) {
    reply = { id: req.id, ok: false, error: (err as Error).message };
  }
  parentPort?.postMessage(reply);
});
