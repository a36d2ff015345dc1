import type { FastifyInstance } from 'fastify';
import { WritError } from '../../core/errors.js';
import { PATTERNS } from '../../core/envelope.js';
import { originOf } from '../../ledger/record.js';
import type { EntityRow } from '../../store/port.js';
import type { ReadKind } from '../../policy/reads.js';
import type { Writ } from '../../writ.js';
import type { Queries } from '../queries.js';
import type { Catalog } from '../../catalog/catalog.js';
import type { ReadOf } from './access.js';
import { bytePage, pageJson, PAGE_CHUNK } from './byte-page.js';
import { parseRecordFilter, RECORD_SCAN_WINDOW, recordMatches, type RecordQuery } from './record-filter.js';

const TYPE = /^[a-z][a-z0-9-]{0,63}$/;
const SCROLL = /^[a-z][a-z0-9-]{0,31}$/;
export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 100;
/**
 * Ledger rows read at a time when their stored envelopes are read too: one, since an envelope may be
 * intake.maxBytes long and reading 200 KB of one from SQLite's overflow pages takes a few milliseconds.
 */
const ENVELOPE_CHUNK = 1;

export function intParam(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,15}$/.test(value)) throw new WritError('INVALID_ENVELOPE', `query parameter ${name} must be a non-negative integer`);
  const n = Number(value);
  if (n < min || n > max) throw new WritError('INVALID_ENVELOPE', `query parameter ${name} must be between ${min} and ${max}`);
  return n;
}

export function entityView(e: EntityRow) {
  return { tenant: e.tenant, type: e.type, id: e.id, version: e.version, deleted: e.deleted, doc: e.doc, updatedAt: e.updatedAt, updatedBy: e.updatedBy, scroll: e.scroll, index: e.index };
}

/**
 * The read an entity route is: keys, roles and one-time codes (`key`, `actor`, `otp`) are their own kind; an `approval`
 * holds the command it waits with, so reading it raw is reading an envelope (GET /v1/approvals/{id}
 * shows it to the requester and the approvers as well).
 */
export function entityReadKind(type: string): ReadKind {
  if (type === 'key' || type === 'actor' || type === 'otp') return 'keys';
  return type === 'approval' ? 'envelope' : 'entity';
}

/** An entity read; one's own actor entity and keys are one's own (policy's `context.own`). */
const entityReadOf = (catalog: Catalog): ReadOf => (p, _q, { identity, access, tenant }) => {
  // A pack may say how its entities are read (kip-* are read as knowledge: a message is its recipient's).
  const byPack = catalog.entityRead(p.type, p.id, identity?.actor);
  if (byPack) return byPack;
  const owner = p.id === undefined ? undefined : p.type === 'actor' || p.type === 'otp' ? p.id : p.type === 'key' ? access.keyOwner(tenant, p.id) : undefined;
  return { kind: entityReadKind(p.type), resource: `${p.type}/${p.id ?? '*'}`, facts: { own: owner !== undefined && owner === identity?.actor } };
};

/** What the read routes and /healthz use: entity, ledger and store-health queries, and the status of the parts /healthz reports. */
export type ReadRouteDeps = Pick<Writ, 'config' | 'access' | 'catalog' | 'integrator' | 'applier' | 'idempotency' | 'pipeline'> & { readonly queries: Pick<Queries, 'entities' | 'ledger' | 'outboxStatus' | 'health'> };

/** Read-only routes: entities (current, point-in-time and history), the catalog, ledger records, health. */
export function readRoutes(app: FastifyInstance, writ: ReadRouteDeps, extras: Readonly<Record<string, () => unknown>> = {}): void {
  const entityRead = entityReadOf(writ.catalog);
  app.get<{ Params: { tenant: string; type: string; id: string }; Querystring: { at?: string } }>('/v1/entities/:tenant/:type/:id', { config: { access: { kind: 'tenant', tenantIn: 'params', read: entityRead } } }, async (request) => {
    const { tenant, type, id } = request.params;
    if (!PATTERNS.tenant.test(tenant) || !TYPE.test(type)) throw new WritError('NOT_FOUND', 'no such entity');
    const at = request.query.at === undefined ? undefined : intParam(request.query.at, 'at', 0, 0, Number.MAX_SAFE_INTEGER);
    const row = await writ.queries.entities.getEntity(tenant, type, id, at);
    if (!row) throw new WritError('NOT_FOUND', `${type} ${JSON.stringify(id)} does not exist in tenant ${JSON.stringify(tenant)}${at === undefined ? '' : ` at index ${at}`}`);
    return entityView(row);
  });

  app.get<{ Params: { tenant: string; type: string }; Querystring: { after?: string; limit?: string } }>('/v1/entities/:tenant/:type', { config: { access: { kind: 'tenant', tenantIn: 'params', read: entityRead } } }, async (request, reply) => {
    const { tenant, type } = request.params;
    if (!PATTERNS.tenant.test(tenant) || !TYPE.test(type)) throw new WritError('NOT_FOUND', 'no such entity type');
    const limit = intParam(request.query.limit, 'limit', DEFAULT_PAGE, 1, MAX_PAGE);
    const page = await bytePage(request.query.after ?? null, limit, writ.config.limits.maxPageBytes, async (after, n) => {
      const rows = await writ.queries.entities.listEntities(tenant, type, after, n);
      return { items: rows.map((r) => ({ value: entityView(r), cursor: r.id })), next: rows.length < n ? null : rows[rows.length - 1].id };
    });
    return reply.type('application/json').send(pageJson({}, 'items', page));
  });

  // Every version of one entity, oldest first; `after` is a version number (the cursor `next` gives).
  app.get<{ Params: { tenant: string; type: string; id: string }; Querystring: { after?: string; limit?: string } }>('/v1/entities/:tenant/:type/:id/history', { config: { access: { kind: 'tenant', tenantIn: 'params', read: entityRead } } }, async (request, reply) => {
    const { tenant, type, id } = request.params;
    if (!PATTERNS.tenant.test(tenant) || !TYPE.test(type)) throw new WritError('NOT_FOUND', 'no such entity');
    const after = intParam(request.query.after, 'after', 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = intParam(request.query.limit, 'limit', DEFAULT_PAGE, 1, MAX_PAGE);
    const page = await bytePage(after, limit, writ.config.limits.maxPageBytes, async (v, n) => {
      const rows = await writ.queries.entities.entityVersions(tenant, type, id, v, n);
      return { items: rows.map((r) => ({ value: entityView(r), cursor: r.version })), next: rows.length < n ? null : rows[rows.length - 1].version };
    });
    // An entity that never existed is not found; past its last version a page is merely empty.
    if (page.texts.length === 0 && after === 0) throw new WritError('NOT_FOUND', `${type} ${JSON.stringify(id)} does not exist in tenant ${JSON.stringify(tenant)}`);
    return reply.type('application/json').send(pageJson({}, 'versions', page));
  });

  app.get('/v1/actions', { config: { access: { kind: 'identified' } } }, async () => ({
    actions: writ.catalog.actions().map((a) => ({ name: a.name, pack: a.pack, scroll: a.scroll, description: a.description, entity: a.entity, id: a.id, effect: a.effect.kind, event: a.event, payload: a.schema })),
  }));

  app.get<{ Params: { tenant: string; scroll: string }; Querystring: RecordQuery & { from?: string; limit?: string; envelopes?: string } }>('/v1/ledger/:tenant/:scroll/records', { config: { access: { kind: 'tenant', tenantIn: 'params', read: (p) => ({ kind: 'ledger', resource: `ledger/${p.scroll}` }) } } }, async (request, reply) => {
    const { tenant, scroll } = request.params;
    if (!PATTERNS.tenant.test(tenant) || !SCROLL.test(scroll)) throw new WritError('NOT_FOUND', 'no such log');
    const from = intParam(request.query.from, 'from', 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = intParam(request.query.limit, 'limit', DEFAULT_PAGE, 1, MAX_PAGE);
    const filter = parseRecordFilter(request.query);
    const withEnvelopes = request.query.envelopes === 'true';
    if (withEnvelopes) writ.access.require(request.identity, 'envelope', tenant, `ledger/${scroll}`);
    // A filtered read scans at most RECORD_SCAN_WINDOW rows from `from` (record-filter.ts).
    const windowEnd = Math.min(from + RECORD_SCAN_WINDOW, Number.MAX_SAFE_INTEGER);
    const page = await bytePage(from, limit, writ.config.limits.maxPageBytes, async (at, chunk) => {
      // Filtered: PAGE_CHUNK rows a turn, however few match (a page of sparse matches must still cross its window).
      const n = filter ? PAGE_CHUNK : withEnvelopes ? Math.min(chunk, ENVELOPE_CHUNK) : chunk;
      const rows = filter ? await writ.queries.ledger.readLedgerWhere(tenant, scroll, at, windowEnd, filter.store, n) : await writ.queries.ledger.readLedger(tenant, scroll, at, n);
      const items = [];
      let next = rows.length < n ? null : rows[rows.length - 1].index + 1;
      for (const r of rows) {
        const record = JSON.parse(r.leaf.toString('utf8')) as Record<string, unknown>;
        if (filter && !recordMatches(filter, record)) continue;
        const view: Record<string, unknown> = { index: r.index, leafHash: r.leafHash, record, leaf: r.leaf.toString('base64') };
        if (withEnvelopes) {
          // The stored command body beside the leaf, or who erased it and why (writ.Redact).
          const redaction = await writ.queries.ledger.getRedaction(tenant, scroll, r.index);
          view.envelope = redaction ? null : await writ.queries.ledger.readEnvelope(tenant, scroll, r.index);
          if (redaction) view.redacted = { at: redaction.redactedAt, by: redaction.redactedBy, reason: redaction.reason };
        }
        items.push({ value: view, cursor: r.index + 1 });
        // At most ENVELOPE_CHUNK envelopes a turn, filtered or not.
        if (withEnvelopes && items.length === ENVELOPE_CHUNK) {
          next = r.index + 1;
          break;
        }
      }
      return { items, next };
    });
    // A filtered scan that ended at its window, not at the end of the log, says where to read on.
    const next = filter && page.next === null && (await writ.queries.ledger.readLedger(tenant, scroll, windowEnd, 1)).length > 0 ? windowEnd : page.next;
    return reply.type('application/json').send(pageJson({ log: originOf(writ.config.ledger.originPrefix, tenant, scroll) }, 'records', { texts: page.texts, next }));
  });

  // Liveness for anyone; the details (logs, counters, outbox lag, extras) for operators only.
  app.get('/healthz', { config: { access: { kind: 'public', identify: true } } }, async (request, reply) => {
    const problem = writ.queries.health.problem();
    const operator = writ.access.operator(request.identity);
    // A store that cannot write fails liveness, so that a supervisor or load balancer acts on it. Why
    // (a path, a host and port, a driver's error) is for operators only.
    if (problem) throw new WritError('UNAVAILABLE', operator ? `the store cannot accept writes: ${problem}` : 'the store cannot accept writes; an operator reading /healthz sees why', { retryAfter: 5 });
    if (!operator) return reply.send({ status: 'ok' });
    const sections = Object.fromEntries(Object.entries(extras).map(([name, read]) => [name, read()]));
    return reply.send({ ...(await health(writ)), ...sections });
  });
}

async function health(writ: ReadRouteDeps) {
  const logs = writ.integrator.status();
  const outbox = await writ.queries.outboxStatus();
  return {
    status: 'ok',
    // 'open': anyone may read everything (a loopback development home; docs/security.md).
    reads: writ.config.auth.reads,
    store: writ.queries.health.durability,
    logs,
    // A log the integrator refuses to sign (its database disagrees with a signed or anchored checkpoint).
    ledgerProblems: logs.flatMap((l) => (l.problem ? [l.problem] : [])),
    pending: writ.applier.pending,
    inFlight: writ.idempotency.inFlight,
    apply: writ.applier.stats,
    unauthenticated: writ.pipeline.counters.unauthenticated,
    repeatedRejections: writ.pipeline.counters.repeatedRejections,
    // Refusals answered and not recorded (RATE_LIMITED, IDEMPOTENCY_IN_PROGRESS, UNAVAILABLE), per code.
    pushback: writ.pipeline.counters.pushback,
    // Each sink's lag: events after its cursor and the age of the oldest (docs/outbox.md).
    outbox: { running: outbox.running, head: outbox.head, sinks: outbox.sinks.map((s) => ({ name: s.name, lagEvents: s.lagEvents, lagMs: s.lagMs, deadLetters: s.deadLetters, disabled: s.disabled !== null })) },
  };
}
