import type { FastifyInstance, FastifyReply } from 'fastify';
import { toBase64 } from '../../core/tlog/index.js';
import { WritError } from '../../core/errors.js';
import { PATTERNS } from '../../core/envelope.js';
import { buildReceipt, TLOG_PROOF_TYPE } from '../../ledger/receipts.js';
import { parseTilePath, TILE_WIDTH } from '../../ledger/tile-layout.js';
import type { CheckpointRow } from '../../store/port.js';
import type { Writ } from '../../writ.js';
import type { Queries } from '../queries.js';

const SCROLL = /^[a-z][a-z0-9-]{0,31}$/;
const NOTE_TYPE = 'text/plain; charset=utf-8';
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** An entry's length is a big-endian uint16 in a C2SP entry bundle. */
const MAX_BUNDLE_ENTRY = 0xffff;

function logOf(params: { tenant: string; scroll: string }): { tenant: string; scroll: string } {
  if (!PATTERNS.tenant.test(params.tenant) || !SCROLL.test(params.scroll)) throw new WritError('NOT_FOUND', 'no such log');
  return params;
}

function num(value: string | undefined, name: string): number {
  if (value === undefined || !/^(0|[1-9]\d{0,15})$/.test(value)) throw new WritError('INVALID_ENVELOPE', `query parameter ${name} must be a non-negative integer without leading zeros`);
  return Number(value);
}

/** The ledger and outcome queries, the integrator (checkpoints, proofs, anchors) and the log signer's name and key. */
type LogRouteDeps = Pick<Writ, 'config' | 'integrator' | 'signer'> & { readonly queries: Pick<Queries, 'ledger' | 'outcomes'> };

async function latestOrThrow(writ: LogRouteDeps, tenant: string, scroll: string): Promise<CheckpointRow> {
  const cp = await writ.queries.ledger.latestCheckpoint(tenant, scroll);
  if (!cp) throw new WritError('NOT_FOUND', `log ${tenant}/${scroll} has no checkpoint yet`);
  return cp;
}

/**
 * The verifiable-log read API (DESIGN §6): checkpoints, C2SP tlog-tiles (hash tiles and entry
 * bundles), inclusion and consistency proofs, and receipts as C2SP tlog-proof text. They are
 * public, like any transparency log's, so that anyone can verify offline, witnesses can follow and
 * caches can serve them; a leaf carries no payload (docs/security.md says what it does reveal).
 * Only receipts looked up by requestId (which reads stored outcomes) need a member of the tenant,
 * and a checkpoint on demand an admin.
 */
export function logRoutes(app: FastifyInstance, writ: LogRouteDeps): void {
  const reader = writ.integrator.reader;

  app.get('/v1/logs', { config: { access: { kind: 'public' } } }, async () => ({
    keyName: writ.signer.name,
    verifierKey: writ.signer.vkey,
    logs: writ.integrator.status(),
    anchors: writ.integrator.anchorStatus(),
    // With each witness's cosignature verifier key: what `writ verify RECEIPT --witness` needs.
    witnesses: writ.integrator.witnessing.status().map((w) => ({ ...w, vkey: writ.config.witnesses.list.find((l) => l.name === w.name)?.vkey ?? null })),
    witnessQuorum: writ.config.witnesses.quorum,
  }));

  app.get<{ Params: { tenant: string; scroll: string } }>('/v1/logs/:tenant/:scroll/checkpoint', { config: { access: { kind: 'public' } } }, async (request, reply) => {
    const { tenant, scroll } = logOf(request.params);
    const cp = await latestOrThrow(writ, tenant, scroll);
    return reply.type(NOTE_TYPE).header('Cache-Control', 'no-cache').send(cp.note);
  });

  // On demand: integrate what is durable now and answer with the (possibly new) latest checkpoint.
  app.post<{ Params: { tenant: string; scroll: string } }>('/v1/logs/:tenant/:scroll/checkpoint', { config: { access: { kind: 'admin', what: 'POST /v1/logs/{tenant}/{scroll}/checkpoint', tenantIn: 'params' } } }, async (request, reply) => {
    const { tenant, scroll } = logOf(request.params);
    const cp = await writ.integrator.checkpointNow(tenant, scroll).catch((err: Error) => {
      throw new WritError('LEDGER_INCONSISTENT', err.message);
    });
    if (!cp) throw new WritError('NOT_FOUND', `log ${tenant}/${scroll} is empty`);
    return reply.type(NOTE_TYPE).send(cp.note);
  });

  app.get<{ Params: { tenant: string; scroll: string; '*': string } }>('/v1/logs/:tenant/:scroll/tile/*', { config: { access: { kind: 'public' } } }, async (request, reply) => {
    const { tenant, scroll } = logOf(request.params);
    const path = parseTilePath(request.params['*']);
    if (!path) throw new WritError('NOT_FOUND', 'not a tile path: expected tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>] with N in 3-digit groups (x001/234)');
    const width = path.width ?? TILE_WIDTH;
    if (path.level === 'entries') return sendEntries(writ, reply, tenant, scroll, path.n, width, path.width === null);
    const tile = await writ.queries.ledger.getTile(tenant, scroll, path.level, path.n);
    if (!tile || tile.width < width) throw new WritError('NOT_FOUND', `tile ${path.level}/${path.n} of width ${width} does not exist (yet)`);
    if (path.width === null) reply.header('Cache-Control', IMMUTABLE);
    return reply.type('application/octet-stream').send(Buffer.from(tile.nodes.buffer, tile.nodes.byteOffset, width * 32));
  });

  app.get<{ Params: { tenant: string; scroll: string }; Querystring: { index?: string; size?: string } }>('/v1/logs/:tenant/:scroll/proof/inclusion', { config: { access: { kind: 'public' } } }, async (request) => {
    const { tenant, scroll } = logOf(request.params);
    const cp = await latestOrThrow(writ, tenant, scroll);
    const index = num(request.query.index, 'index');
    const size = request.query.size === undefined ? cp.size : num(request.query.size, 'size');
    if (size > cp.size) throw new WritError('NOT_FOUND', `size ${size} is beyond the latest checkpoint (${cp.size})`);
    if (index >= size) throw new WritError('INVALID_ENVELOPE', `index ${index} is not in a tree of size ${size}`);
    const hashes = await reader.inclusionProof(tenant, scroll, index, size);
    return { index, size, hashes: hashes.map(toBase64) };
  });

  app.get<{ Params: { tenant: string; scroll: string }; Querystring: { from?: string; to?: string } }>('/v1/logs/:tenant/:scroll/proof/consistency', { config: { access: { kind: 'public' } } }, async (request) => {
    const { tenant, scroll } = logOf(request.params);
    const cp = await latestOrThrow(writ, tenant, scroll);
    const from = num(request.query.from, 'from');
    const to = request.query.to === undefined ? cp.size : num(request.query.to, 'to');
    if (to > cp.size) throw new WritError('NOT_FOUND', `size ${to} is beyond the latest checkpoint (${cp.size})`);
    if (from > to) throw new WritError('INVALID_ENVELOPE', `from (${from}) must not exceed to (${to})`);
    const hashes = await reader.consistencyProof(tenant, scroll, from, to);
    return { from, to, hashes: hashes.map(toBase64) };
  });

  app.get<{ Params: { tenant: string; scroll: string; index: string }; Querystring: { wait?: string } }>('/v1/logs/:tenant/:scroll/receipts/:index', { config: { access: { kind: 'public' } } }, async (request, reply) => {
    const { tenant, scroll } = logOf(request.params);
    const index = num(request.params.index, 'index');
    return sendReceipt(writ, reply, tenant, scroll, index, request.query.wait === 'true');
  });

  app.get<{ Params: { tenant: string; requestId: string }; Querystring: { actor?: string; wait?: string } }>('/v1/receipts/:tenant/:requestId', { config: { access: { kind: 'tenant', tenantIn: 'params', read: () => ({ kind: 'ledger', resource: 'receipt/*' }) } } }, async (request, reply) => {
    const { tenant, requestId } = request.params;
    if (!PATTERNS.tenant.test(tenant) || !PATTERNS.requestId.test(requestId)) throw new WritError('NOT_FOUND', 'no such command');
    let found = await writ.queries.outcomes.findOutcomes(tenant, requestId);
    if (request.query.actor !== undefined) found = found.filter((o) => o.actor === request.query.actor);
    if (found.length === 0) {
      throw new WritError('NOT_FOUND', `no stored outcome for requestId ${JSON.stringify(requestId)} in tenant ${JSON.stringify(tenant)} (outcomes are kept for idempotency.retentionSeconds; GET /v1/logs/{tenant}/{scroll}/receipts/{index} works forever)`);
    }
    if (found.length > 1) throw new WritError('INVALID_STATE', `requestId ${JSON.stringify(requestId)} was used by several actors; add ?actor=`, { details: { actors: found.map((o) => o.actor) } });
    return sendReceipt(writ, reply, tenant, found[0].scroll, found[0].index, request.query.wait === 'true');
  });
}

async function sendReceipt(writ: LogRouteDeps, reply: FastifyReply, tenant: string, scroll: string, index: number, wait: boolean): Promise<FastifyReply> {
  if (wait) await writ.integrator.waitFor(tenant, scroll, index, writ.config.ledger.receiptWaitMs);
  const cp = await writ.queries.ledger.latestCheckpoint(tenant, scroll);
  if (!cp || cp.size <= index) {
    const [row] = await writ.queries.ledger.readLedger(tenant, scroll, index, 1);
    if (!row || row.index !== index) throw new WritError('NOT_FOUND', `log ${tenant}/${scroll} has no record ${index}`);
    throw new WritError('RECEIPT_PENDING', `record ${index} of ${tenant}/${scroll} is not covered by a checkpoint yet`, { retryAfter: 1 });
  }
  const text = await buildReceipt(writ.queries.ledger, writ.integrator.reader, tenant, scroll, index, cp);
  return reply.type(TLOG_PROOF_TYPE).send(text);
}

/** A C2SP entry bundle: each record's exact leaf bytes behind a big-endian uint16 length. */
async function sendEntries(writ: LogRouteDeps, reply: FastifyReply, tenant: string, scroll: string, n: number, width: number, full: boolean): Promise<FastifyReply> {
  const cp = await writ.queries.ledger.latestCheckpoint(tenant, scroll);
  const start = n * TILE_WIDTH;
  if (!cp || cp.size < start + width) throw new WritError('NOT_FOUND', `entry bundle ${n} of width ${width} is not covered by a checkpoint (yet)`);
  const rows = await writ.queries.ledger.readLedger(tenant, scroll, start, width);
  const parts: Buffer[] = [];
  for (const r of rows) {
    // Only a record written before writ bounded leaves (MAX_LEAF_BYTES) can be this large.
    if (r.leaf.length > MAX_BUNDLE_ENTRY) {
      throw new WritError('NOT_FOUND', `entry bundle ${n} cannot be served: record ${r.index} is ${r.leaf.length} bytes, over the 65535 bytes an entry may have (C2SP tlog-tiles); read it with GET /v1/ledger/${tenant}/${scroll}/records?from=${r.index}&limit=1`);
    }
    const len = Buffer.alloc(2);
    len.writeUInt16BE(r.leaf.length);
    parts.push(len, r.leaf);
  }
  if (full) reply.header('Cache-Control', IMMUTABLE);
  return reply.type('application/octet-stream').send(Buffer.concat(parts));
}
