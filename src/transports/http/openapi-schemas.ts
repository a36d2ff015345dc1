import type { Catalog } from '../../catalog/catalog.js';
import { PATTERNS, SIGNATURE_ALGS } from '../../core/envelope.js';
import { PUSHBACK_CODES } from '../../core/codes.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const str = { type: 'string' } as const;
const int = { type: 'integer', minimum: 0 } as const;
const nullable = (schema: Record<string, unknown>) => ({ oneOf: [schema, { type: 'null' }] });
const hex64 = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;

/**
 * The answer headers writ sets (server.ts), declared once and referenced by each response that
 * carries them.
 */
export const HEADERS = {
  IdempotentReplayed: { description: 'Present (true) when the answer is the stored outcome of an earlier submission of the same command (same requestId and commandHash).', schema: { const: 'true' } },
  WritCommandStatus: { description: 'The HTTP status the command was first answered with (the body is that answer).', required: true, schema: { type: 'string', pattern: '^[1-5][0-9]{2}$' } },
  RetryAfter: { description: 'Seconds to wait before retrying (RFC 9110 §10.2.3): RATE_LIMITED, UNAVAILABLE, IDEMPOTENCY_IN_PROGRESS.', schema: { type: 'string', pattern: '^[0-9]+$' } },
} as const;

export const header = (name: keyof typeof HEADERS) => ({ $ref: `#/components/headers/${name}` });

/** The Envelope of one action: the common fields, `action` fixed, `payload` its action's schema. */
function envelopeOf(action: string): Record<string, unknown> {
  return { allOf: [ref('EnvelopeFields'), { type: 'object', properties: { action: { const: action }, payload: ref(`Payload.${action}`) } }] };
}

/**
 * The command envelope (DESIGN §2), per action: `Envelope` is one of `Envelope.<action>`, told apart
 * by `action` (the OpenAPI discriminator), each linking `payload` to `Payload.<action>`, the very
 * schema the validate stage checks it with.
 */
export function envelopeSchemas(catalog: Catalog): Record<string, unknown> {
  const names = catalog.actions().map((a) => a.name);
  return {
    Envelope: {
      oneOf: names.map((n) => ref(`Envelope.${n}`)),
      discriminator: { propertyName: 'action', mapping: Object.fromEntries(names.map((n) => [n, `#/components/schemas/Envelope.${n}`])) },
    },
    ...Object.fromEntries(names.map((n) => [`Envelope.${n}`, envelopeOf(n)])),
    EnvelopeFields: {
      type: 'object',
      additionalProperties: false,
      required: ['v', 'action', 'timestamp', 'payload'],
      properties: {
        v: { const: 1 },
        action: { type: 'string', pattern: PATTERNS.action.source },
        requestId: { type: 'string', pattern: PATTERNS.requestId.source },
        actor: { type: 'string', pattern: PATTERNS.actor.source },
        tenant: { type: 'string', pattern: PATTERNS.tenant.source },
        timestamp: { type: 'string', pattern: PATTERNS.timestamp.source },
        nonce: { type: 'string', pattern: PATTERNS.nonce.source },
        expectedVersion: { type: 'integer', minimum: 0 },
        target: { type: 'string', pattern: PATTERNS.target.source },
        payload: { type: 'object', description: 'Validated against the Payload.<action> schema' },
        signature: {
          type: 'object',
          additionalProperties: false,
          required: ['keyId', 'alg', 'sig'],
          properties: { keyId: { type: 'string', pattern: PATTERNS.keyId.source }, alg: { enum: SIGNATURE_ALGS }, sig: { type: 'string', contentEncoding: 'base64' } },
        },
      },
    },
  };
}

/** GET /v1/logs, GET /healthz and the records route (read-routes.ts, log-routes.ts). */
export const READ_SCHEMAS = {
  LedgerRecord: {
    type: 'object',
    description: 'The ledger record, the leaf of a log (DESIGN §6), as its RFC 8785 bytes parse',
    additionalProperties: false,
    required: ['v', 'index', 'ts', 'tenant', 'scroll', 'actor', 'action', 'requestId', 'commandHash', 'outcome', 'code', 'target', 'version', 'resultHash', 'prev'],
    properties: {
      v: { const: 1 }, index: int, ts: str, tenant: str, scroll: str, actor: str, action: str, requestId: str, commandHash: hex64,
      outcome: { enum: ['OK', 'REJECTED', 'PENDING'] }, code: nullable(str), target: nullable(str), version: nullable(int), resultHash: nullable(hex64), prev: hex64,
    },
  },
  LedgerRecords: {
    type: 'object',
    additionalProperties: false,
    required: ['log', 'records', 'next'],
    properties: {
      log: { type: 'string', description: 'The log origin, <prefix>/<tenant>/<scroll>' },
      records: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['index', 'leafHash', 'record', 'leaf'],
          properties: {
            index: int,
            leafHash: hex64,
            record: ref('LedgerRecord'),
            leaf: { type: 'string', contentEncoding: 'base64', description: 'The exact leaf bytes' },
            envelope: { description: 'With ?envelopes=true: the stored command body as its JSON text (the exact bytes signed over), or null once redacted', oneOf: [str, { type: 'null' }] },
            redacted: { type: 'object', required: ['at', 'by', 'reason'], properties: { at: str, by: str, reason: str } },
          },
        },
      },
      next: nullable(int),
    },
  },
  LogStatus: {
    type: 'object',
    required: ['tenant', 'scroll', 'origin', 'size', 'checkpointSize', 'cosignatures', 'problem'],
    properties: { tenant: str, scroll: str, origin: str, size: int, checkpointSize: int, cosignatures: int, problem: nullable(str) },
  },
  Logs: {
    type: 'object',
    required: ['keyName', 'verifierKey', 'logs', 'anchors', 'witnesses', 'witnessQuorum'],
    properties: {
      keyName: str,
      verifierKey: { type: 'string', description: 'The log verifier key (C2SP signed-note vkey) that checks every checkpoint and receipt' },
      logs: { type: 'array', items: ref('LogStatus') },
      anchors: {
        type: 'array',
        items: {
          type: 'object',
          required: ['kind', 'target', 'anchored', 'lastError', 'lastAt'],
          properties: { kind: { enum: ['git', 'ndjson'] }, target: str, anchored: int, lastError: nullable(str), lastAt: nullable(str), pushed: int, pushError: nullable(str) },
        },
      },
      witnesses: { type: 'array', items: { type: 'object', required: ['name', 'lastSize', 'lastError', 'lastAt'], properties: { name: str, lastSize: nullable(int), lastError: nullable(str), lastAt: nullable(str) } } },
      witnessQuorum: int,
    },
  },
  Health: {
    type: 'object',
    description: 'Anyone gets {status}; an operator gets every other field too (and extra sections such as nats)',
    required: ['status'],
    properties: {
      status: { const: 'ok' },
      reads: { enum: ['policy', 'open'] },
      store: { type: 'string', description: 'The store and its durability setting' },
      logs: { type: 'array', items: ref('LogStatus') },
      ledgerProblems: { type: 'array', items: str },
      pending: int,
      inFlight: int,
      apply: { type: 'object', required: ['batches', 'commands', 'largestBatch'], properties: { batches: int, commands: int, largestBatch: int } },
      unauthenticated: int,
      repeatedRejections: int,
      pushback: { type: 'object', required: [...PUSHBACK_CODES], properties: Object.fromEntries(PUSHBACK_CODES.map((c) => [c, int])), additionalProperties: false },
      outbox: {
        type: 'object',
        required: ['running', 'head', 'sinks'],
        properties: {
          running: { type: 'boolean' },
          head: {},
          sinks: { type: 'array', items: { type: 'object', required: ['name', 'lagEvents', 'lagMs', 'deadLetters', 'disabled'], properties: { name: str, lagEvents: int, lagMs: int, deadLetters: int, disabled: { type: 'boolean' } } } },
        },
      },
    },
  },
} as const;
