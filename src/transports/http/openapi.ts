import type { Catalog } from '../../catalog/catalog.js';
import { ALL_CODES, CODES } from '../../core/codes.js';
import { PATTERNS } from '../../core/envelope.js';
import { APPROVAL_STATUSES } from '../../approvals/pending.js';
import { SECURITY_SCHEMES } from './openapi-access.js';
import { consolePaths } from './openapi-console.js';
import { OUTBOX_SCHEMAS, outboxPaths } from './openapi-outbox.js';
import { HEADERS, READ_SCHEMAS, envelopeSchemas, header } from './openapi-schemas.js';
import { metricsPaths } from './metrics-routes.js';
import { tenantPaths } from './openapi-tenants.js';
import { mcpPaths } from '../mcp/openapi.js';
import { packPaths } from './openapi-packs.js';
import { policyPaths } from './openapi-policy.js';
import { RECORD_FILTER_PARAMS } from './record-filter.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const answer = (description: string) => ({ description, content: { 'application/json': { schema: ref('Answer') } } });
const json = (description: string, schema: unknown) => ({ description, content: { 'application/json': { schema } } });
const pathParam = (name: string, pattern?: string) => ({ name, in: 'path', required: true, schema: { type: 'string', ...(pattern ? { pattern } : {}) } });
const queryInt = (name: string, description: string) => ({ name, in: 'query', required: false, description, schema: { type: 'integer', minimum: 0 } });

/** Error answers grouped by HTTP status, from the registry. */
function errorResponses(): Record<string, unknown> {
  const byStatus = new Map<number, string[]>();
  for (const code of ALL_CODES) byStatus.set(CODES[code].http, [...(byStatus.get(CODES[code].http) ?? []), code]);
  return Object.fromEntries([...byStatus].map(([status, codes]) => [String(status), withRetryAfter(status, answer(`Codes: ${codes.join(', ')}`))]));
}

/** 429 and 503 answers carry Retry-After (server.ts sets it from the error's retryAfter). */
function withRetryAfter(status: number, response: Record<string, unknown>): Record<string, unknown> {
  return status === 429 || status === 503 ? { ...response, headers: { 'Retry-After': header('RetryAfter') } } : response;
}

const bytes = (description: string) => ({ description, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } });
const text = (description: string, type: string) => ({ description, content: { [type]: { schema: { type: 'string' } } } });
const proof = (description: string) => json(description, { type: 'object', properties: { hashes: { type: 'array', items: { type: 'string', contentEncoding: 'base64' } } } });

/** The verifiable-log read API (C2SP tlog-tiles, tlog-checkpoint, tlog-proof). */
function logPaths(): Record<string, unknown> {
  const log = [pathParam('tenant'), pathParam('scroll')];
  const tilePath = { name: 'path', in: 'path', required: true, description: '<L>/<N>[.p/<W>] or entries/<N>[.p/<W>], N in 3-digit groups (x001/234)', schema: { type: 'string' } };
  return {
    '/v1/logs': { get: { summary: 'Every log: origin, size, latest checkpoint, problems; the verifier key; anchors and witnesses', responses: { '200': json('Logs', ref('Logs')) } } },
    '/v1/logs/{tenant}/{scroll}/checkpoint': {
      get: { summary: 'Latest signed checkpoint (C2SP signed note)', parameters: log, responses: { '200': text('The note', 'text/plain'), '404': answer('NOT_FOUND') } },
      post: { summary: 'Checkpoint now: integrate every durable record, answer the latest checkpoint', parameters: log, responses: { '200': text('The note', 'text/plain'), '404': answer('NOT_FOUND'), '500': answer('LEDGER_INCONSISTENT') } },
    },
    '/v1/logs/{tenant}/{scroll}/tile/{path}': { get: { summary: 'A C2SP tlog-tiles hash tile or entry bundle', parameters: [...log, tilePath], responses: { '200': bytes('Tile bytes'), '404': answer('NOT_FOUND') } } },
    '/v1/logs/{tenant}/{scroll}/proof/inclusion': {
      get: { summary: 'RFC 6962 inclusion proof', parameters: [...log, queryInt('index', 'leaf index'), queryInt('size', 'tree size (default: latest checkpoint)')], responses: { '200': proof('Proof'), '400': answer('INVALID_ENVELOPE'), '404': answer('NOT_FOUND') } },
    },
    '/v1/logs/{tenant}/{scroll}/proof/consistency': {
      get: { summary: 'RFC 6962 consistency proof', parameters: [...log, queryInt('from', 'older size'), queryInt('to', 'newer size (default: latest checkpoint)')], responses: { '200': proof('Proof'), '400': answer('INVALID_ENVELOPE'), '404': answer('NOT_FOUND') } },
    },
    '/v1/logs/{tenant}/{scroll}/receipts/{index}': {
      get: { summary: 'Receipt of the record at an index (C2SP tlog-proof)', parameters: [...log, pathParam('index'), { name: 'wait', in: 'query', required: false, schema: { enum: ['true', 'false'] } }], responses: { '200': text('The receipt', 'text/x.tlog-proof'), '404': answer('NOT_FOUND'), '409': answer('RECEIPT_PENDING') } },
    },
    '/v1/receipts/{tenant}/{requestId}': {
      get: {
        summary: "Receipt of a command's ledger record (C2SP tlog-proof); ?wait=true waits (bounded) for a checkpoint",
        parameters: [pathParam('tenant'), pathParam('requestId'), { name: 'actor', in: 'query', required: false, schema: { type: 'string' } }, { name: 'wait', in: 'query', required: false, schema: { enum: ['true', 'false'] } }],
        responses: { '200': text('The receipt', 'text/x.tlog-proof'), '404': answer('NOT_FOUND'), '409': answer('RECEIPT_PENDING or INVALID_STATE (several actors)') },
      },
    },
  };
}

/** Commands held for approval (docs/approvals.md, "Approvals"). */
function approvalPaths(): Record<string, unknown> {
  const tenant = { name: 'tenant', in: 'query', required: false, description: "the tenant (default: the server's)", schema: { type: 'string', pattern: PATTERNS.tenant.source } };
  return {
    '/v1/approvals': {
      get: {
        summary: "A tenant's commands held for approval, oldest first; pending ones come from an index of open approvals",
        parameters: [tenant, { name: 'status', in: 'query', required: false, schema: { enum: APPROVAL_STATUSES } }, { name: 'after', in: 'query', required: false, schema: { type: 'string' } }, queryInt('limit', 'most items per page (1..1000); a page also stops before limits.maxPageBytes of items, and next continues after its last item')],
        responses: {
          '200': { ...json('A page', { type: 'object', properties: { tenant: { type: 'string' }, items: { type: 'array', items: ref('Approval') }, next: { type: ['string', 'null'] } } }), headers: { ETag: { description: "the page's entity tag; send it back as If-None-Match to get 304 while the page is unchanged", schema: { type: 'string' } } } },
          '304': { description: 'Not Modified: the page is the one whose ETag was sent in If-None-Match' },
          '400': answer('INVALID_ENVELOPE (bad query)'),
        },
      },
    },
    '/v1/approvals/{id}': {
      get: {
        summary: 'One held command: the envelope, a preview of its effect on current state (while pending), the decisions so far, its deadline, and its final answer once it ended',
        parameters: [pathParam('id'), tenant],
        responses: {
          '200': json('The approval', { allOf: [ref('Approval'), { type: 'object', properties: { version: { type: 'integer' }, command: ref('Envelope'), pendingRecord: { type: 'object' }, preview: { type: ['object', 'null'] }, answer: { oneOf: [ref('Answer'), { type: 'null' }] } } }] }),
          '404': answer('NOT_FOUND'),
        },
      },
    },
  };
}

/** OpenAPI 3.1, generated from the same schemas the server validates with, and from the error registry. */
export function buildOpenApi(catalog: Catalog): Record<string, unknown> {
  const payloads = Object.fromEntries(catalog.actions().map((a) => [`Payload.${a.name}`, { description: a.description, ...a.schema }]));
  return {
    openapi: '3.1.0',
    info: { title: 'writ', version: '1', description: 'A governed command ledger: signed commands in, verifiable outcomes out.' },
    paths: {
      // The packs' routes first: a core path of the same name (which the server refuses a pack) wins.
      ...packPaths(catalog),
      '/v1/commands': {
        post: {
          summary: 'Submit a signed command envelope',
          requestBody: { required: true, content: { 'application/json': { schema: ref('Envelope') } } },
          parameters: [{ name: 'Authorization', in: 'header', required: false, description: 'Bearer token, when auth.require allows it', schema: { type: 'string' } }],
          responses: {
            ...errorResponses(),
            '200': { ...answer('Applied (or replayed: header Idempotent-Replayed: true)'), headers: { 'Idempotent-Replayed': header('IdempotentReplayed') } },
            '202': { ...answer('Held for approval (PENDING_APPROVAL)'), headers: { 'Idempotent-Replayed': header('IdempotentReplayed') } },
          },
        },
      },
      '/v1/commands/{tenant}/{requestId}': {
        get: {
          summary: "A command's stored outcome (header Writ-Command-Status carries its original HTTP status)",
          parameters: [pathParam('tenant', PATTERNS.tenant.source), pathParam('requestId', PATTERNS.requestId.source), { name: 'actor', in: 'query', required: false, schema: { type: 'string' } }],
          responses: { '200': { ...answer('The stored answer'), headers: { 'Writ-Command-Status': header('WritCommandStatus') } }, '404': answer('NOT_FOUND'), '409': answer('INVALID_STATE: several actors used this requestId') },
        },
      },
      '/v1/entities/{tenant}/{type}/{id}': {
        get: {
          summary: 'An entity, now or at a ledger index of its scroll',
          parameters: [pathParam('tenant'), pathParam('type'), pathParam('id'), queryInt('at', 'ledger index (point-in-time read)')],
          responses: { '200': json('The entity version', ref('Entity')), '404': answer('NOT_FOUND'), '400': answer('INVALID_ENVELOPE (bad query)') },
        },
      },
      '/v1/entities/{tenant}/{type}/{id}/history': {
        get: {
          summary: 'Every version of an entity, oldest first, paged by version',
          parameters: [pathParam('tenant'), pathParam('type'), pathParam('id'), queryInt('after', 'the version to continue after (next of the previous page)'), queryInt('limit', 'most versions per page (1..1000); a page also stops before limits.maxPageBytes of items, and next continues after its last item')],
          responses: { '200': json('A page of versions', { type: 'object', properties: { versions: { type: 'array', items: ref('Entity') }, next: { type: ['integer', 'null'] } } }), '404': answer('NOT_FOUND'), '400': answer('INVALID_ENVELOPE (bad query)') },
        },
      },
      '/v1/entities/{tenant}/{type}': {
        get: {
          summary: 'Entities of a type, paged by id',
          parameters: [pathParam('tenant'), pathParam('type'), { name: 'after', in: 'query', required: false, schema: { type: 'string' } }, queryInt('limit', 'most items per page (1..1000); a page also stops before limits.maxPageBytes of items, and next continues after its last item')],
          responses: { '200': json('A page', { type: 'object', properties: { items: { type: 'array', items: ref('Entity') }, next: { type: ['string', 'null'] } } }), '404': answer('NOT_FOUND') },
        },
      },
      '/v1/actions': { get: { summary: 'The action catalog', responses: { '200': json('Actions with their payload schemas', { type: 'object' }) } } },
      '/v1/ledger/{tenant}/{scroll}/records': {
        get: {
          summary: 'Ledger records of one log, with their exact leaf bytes',
          parameters: [pathParam('tenant'), pathParam('scroll'), queryInt('from', 'first index'), { name: 'envelopes', in: 'query', required: false, description: 'true: each record also carries its stored command body (a separate read permission)', schema: { enum: ['true', 'false'] } }, queryInt('limit', 'most items per page (1..1000); a page also stops before limits.maxPageBytes of items, and next continues after its last item'), ...RECORD_FILTER_PARAMS],
          responses: { '200': json('Records', ref('LedgerRecords')), '404': answer('NOT_FOUND'), '400': answer('INVALID_ENVELOPE (bad query)') },
        },
      },
      ...approvalPaths(),
      ...logPaths(),
      ...outboxPaths(),
      ...metricsPaths(),
      ...tenantPaths(),
      ...mcpPaths(),
      ...consolePaths(),
      ...policyPaths(),
      '/openapi.json': { get: { summary: 'This document', responses: { '200': json('OpenAPI 3.1', { type: 'object' }) } } },
      '/healthz': { get: { summary: 'Liveness ({status}) for anyone; for an operator also the durability setting, the read mode, the logs, counters and each outbox sink\'s lag', responses: { '200': json('Health', ref('Health')), '503': withRetryAfter(503, answer('UNAVAILABLE: the store cannot write (SQLite: restart writ; PostgreSQL not answering: writ recovers by itself); why, for operators only')) } } },
    },
    components: {
      securitySchemes: SECURITY_SCHEMES,
      headers: HEADERS,
      responses: {
        Unauthenticated: answer('UNAUTHENTICATED, BAD_SIGNATURE, UNKNOWN_KEY, KEY_REVOKED: no identity, or its credential does not verify'),
        Forbidden: answer("FORBIDDEN: another tenant's data, or policy does not let this identity read it (docs/security.md)"),
      },
      schemas: {
        ...envelopeSchemas(catalog),
        Answer: {
          type: 'object',
          required: ['status', 'requestId', 'commandHash'],
          properties: {
            status: { enum: ['OK', 'PENDING_APPROVAL', 'ERROR'] },
            code: { enum: ALL_CODES },
            message: { type: 'string' },
            requestId: { type: ['string', 'null'] },
            commandHash: { type: ['string', 'null'] },
            result: {},
            details: { type: 'object' },
            receipt: { type: 'object', properties: { log: { type: 'string' }, index: { type: 'integer' }, leafHash: { type: 'string' } } },
            approval: { type: 'object' },
          },
        },
        Approval: {
          type: 'object',
          properties: {
            id: { type: 'string' }, status: { enum: APPROVAL_STATUSES }, tenant: { type: 'string' }, requester: { type: 'string' }, beneficiary: { type: 'string' }, requestId: { type: 'string' },
            commandHash: { type: 'string' }, action: { type: 'string' }, target: { type: 'string' }, requirement: { type: 'object' }, createdAt: { type: 'string' }, expiresAt: { type: 'string' },
            pending: { type: 'object' }, approvals: { type: 'array' }, rejections: { type: 'array' }, breakGlass: { type: 'object' }, settled: { type: 'object' }, deadlines: { type: 'object' },
          },
        },
        Entity: {
          type: 'object',
          properties: {
            tenant: { type: 'string' }, type: { type: 'string' }, id: { type: 'string' }, version: { type: 'integer' }, deleted: { type: 'boolean' },
            doc: {}, updatedAt: { type: 'string' }, updatedBy: { type: 'string' }, scroll: { type: 'string' }, index: { type: 'integer' },
          },
        },
        ...READ_SCHEMAS,
        ...OUTBOX_SCHEMAS,
        ...payloads,
      },
    },
    'x-writ-errors': ALL_CODES.map((code) => ({ code, status: CODES[code].http, exit: CODES[code].exit, hint: CODES[code].hint })),
  };
}
