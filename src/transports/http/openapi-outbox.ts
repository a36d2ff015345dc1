import { header } from './openapi-schemas.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const answer = (description: string) => ({ description, content: { 'application/json': { schema: ref('Answer') } } });
const json = (description: string, schema: unknown) => ({ description, content: { 'application/json': { schema } } });
const query = (name: string, description: string, schema: Record<string, unknown> = { type: 'string' }) => ({ name, in: 'query', required: false, description, schema });
const limit = query('limit', 'page size (1..1000)', { type: 'integer', minimum: 1, maximum: 1000 });
const sink = query('sink', 'a sink name (default: every sink)');

/** The outbox paths and schemas (docs/outbox.md). */
export function outboxPaths(): Record<string, unknown> {
  return {
    '/v1/outbox/sinks': {
      get: { summary: 'Each sink: cursor, lag in events and age, dead letters, disabled, last error', responses: { '200': json('Outbox status', ref('OutboxStatus')) } },
    },
    '/v1/outbox/events': {
      get: {
        summary: 'Outbox events in commit order (seq), after a seq',
        parameters: [query('after', 'return events with seq > after', { type: 'integer', minimum: 0 }), limit],
        responses: { '200': json('A page', { type: 'object', properties: { head: { type: 'integer' }, items: { type: 'array', items: ref('OutboxEvent') }, next: { type: ['integer', 'null'] } } }), '400': answer('INVALID_ENVELOPE (bad query)') },
      },
    },
    '/v1/outbox/events/{id}': {
      get: { summary: 'One outbox event by id', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': json('The event', ref('OutboxEvent')), '404': answer('NOT_FOUND') } },
    },
    '/v1/outbox/dead-letters': {
      get: { summary: 'Dead letters (events a sink gave up on), by sink and seq', parameters: [sink, limit], responses: { '200': json('Dead letters', { type: 'object', properties: { items: { type: 'array', items: ref('DeadLetter') } } }), '404': answer('NOT_FOUND (no such sink)') } },
    },
    '/v1/outbox/dead-letters/redrive': {
      post: {
        summary: 'Put dead letters (of a sink, or one event) back into delivery',
        parameters: [sink, query('id', 'one event id')],
        responses: { '200': json('How many were marked', { type: 'object', properties: { marked: { type: 'integer' } } }), '404': answer('NOT_FOUND'), '503': { ...answer('UNAVAILABLE: this process does not run the dispatcher'), headers: { 'Retry-After': header('RetryAfter') } } },
      },
    },
    '/v1/outbox/retry': {
      post: {
        summary: 'Retry now: events waiting for their backoff are due at once; a sink disabled by 410 Gone is enabled again',
        parameters: [sink],
        responses: { '200': json('The sinks retried', { type: 'object', properties: { retried: { type: 'array', items: { type: 'string' } } } }), '404': answer('NOT_FOUND'), '503': { ...answer('UNAVAILABLE: this process does not run the dispatcher'), headers: { 'Retry-After': header('RetryAfter') } } },
      },
    },
    '/v1/outbox/sinks/{sink}/deliveries': {
      get: { summary: "A sink's delivery log, newest first", parameters: [{ name: 'sink', in: 'path', required: true, schema: { type: 'string' } }, limit], responses: { '200': json('Attempts', { type: 'object' }), '404': answer('NOT_FOUND') } },
    },
  };
}

export const OUTBOX_SCHEMAS = {
  OutboxEvent: {
    type: 'object',
    description: 'The body of every delivery (webhook POST, NATS message, NDJSON line)',
    properties: {
      id: { type: 'string', description: 'UUIDv7; the same on every delivery of the event' }, seq: { type: 'integer', description: 'commit order in the outbox' },
      tenant: { type: 'string' }, scroll: { type: 'string' }, index: { type: 'integer' }, action: { type: 'string' }, target: { type: ['string', 'null'] },
      version: { type: ['integer', 'null'] }, type: { type: 'string' }, data: {}, ts: { type: 'string' },
    },
  },
  DeadLetter: {
    type: 'object',
    properties: { sink: { type: 'string' }, seq: { type: 'integer' }, eventId: { type: 'string' }, attempts: { type: 'integer' }, lastError: { type: 'string' }, deadAt: { type: 'string' }, redrive: { type: 'boolean' } },
  },
  OutboxStatus: {
    type: 'object',
    properties: {
      enabled: { type: 'boolean' }, running: { type: 'boolean' }, head: { type: 'integer' }, lastFlushError: { type: ['string', 'null'] },
      sinks: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            name: { type: 'string' }, kind: { enum: ['webhook', 'nats', 'ndjson'] }, cursor: { type: 'integer' }, lagEvents: { type: 'integer' }, lagMs: { type: 'number' },
            deadLetters: { type: 'integer' }, disabled: { type: ['object', 'null'] }, lastError: { type: ['object', 'null'] }, live: { type: ['object', 'null'] },
          },
        },
      },
    },
  },
} as const;
