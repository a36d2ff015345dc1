import { OPS_CONFIG_SCHEMA } from './ops.js';

const str = { type: 'string', minLength: 1 } as const;
const int = (minimum: number, maximum: number) => ({ type: 'integer', minimum, maximum }) as const;

const NATS_NAME = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } as const;
const NATS_SUBJECT = { type: 'string', pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$' } as const;
const list = { type: 'array', items: str, minItems: 1 } as const;
/** Fields every outbox sink has: a name (unique) and filters (absent: every value passes). */
const SINK_COMMON = {
  name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' },
  kind: str,
  filter: { type: 'object', additionalProperties: false, properties: { tenants: list, scrolls: list, actions: list } },
  maxAttempts: int(1, 1000),
} as const;

/** JSON Schema of `<home>/config.json`; unknown fields are errors so typos do not pass silently. */
export const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    tenant: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' },
    admin: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$' },
    server: { type: 'object', additionalProperties: false, properties: { host: str, port: int(0, 65535), maxInFlight: int(1, 1_000_000) } },
    mcp: { type: 'object', additionalProperties: false, properties: { maxSessions: int(1, 100_000), maxSessionsPerActor: int(1, 1000), sessionIdleSeconds: int(1, 86400) } },
    metrics: { type: 'object', additionalProperties: false, properties: { scrapeTokenFile: str } },
    store: {
      type: 'object',
      additionalProperties: false,
      // kind postgres: `url` (postgres://…) names the database; `path` still places the home's local files.
      properties: { kind: { enum: ['sqlite', 'postgres'] }, path: str, url: { type: 'string', pattern: '^postgres(ql)?://' } },
    },
    auth: {
      type: 'object',
      additionalProperties: false,
      properties: {
        require: { enum: ['signature', 'jwt', 'either'] },
        reads: { enum: ['policy', 'open'] },
        hmacKeys: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['tenant', 'actor', 'keyId', 'secretFile'],
            properties: { tenant: str, actor: str, keyId: str, secretFile: str },
          },
        },
        jwt: {
          type: 'object',
          additionalProperties: false,
          properties: { hs256SecretFile: str, publicKeyFiles: { type: 'array', items: str }, issuer: str, audience: str, maxLifetimeSeconds: int(60, 30 * 86400) },
        },
      },
    },
    intake: { type: 'object', additionalProperties: false, properties: { maxBytes: int(1024, 64 * 1024 * 1024), maxDepth: int(2, 256) } },
    freshness: { type: 'object', additionalProperties: false, properties: { skewSeconds: int(1, 86400), nonceCacheMax: int(1000, 100_000_000) } },
    idempotency: { type: 'object', additionalProperties: false, properties: { retentionSeconds: int(60, 365 * 86400) } },
    limits: { type: 'object', additionalProperties: false, properties: { rate: int(1, 100_000_000), windowSeconds: int(1, 86400), maxBuckets: int(100, 100_000_000), maxPageBytes: int(16 * 1024, 64 * 1024 * 1024) } },
    ledger: {
      type: 'object',
      additionalProperties: false,
      properties: {
        originPrefix: { type: 'string', pattern: '^[A-Za-z0-9.-]+(/[A-Za-z0-9._-]+)*$' },
        logKeyFile: str,
        checkpointIntervalMs: int(10, 3_600_000),
        receiptWaitMs: int(0, 600_000),
      },
    },
    anchors: {
      type: 'object',
      additionalProperties: false,
      properties: {
        ndjson: { anyOf: [str, { const: false }] },
        git: { type: 'object', additionalProperties: false, required: ['path'], properties: { path: str, remote: str } },
      },
    },
    witnesses: {
      type: 'object',
      additionalProperties: false,
      properties: {
        list: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'url', 'vkey'],
            properties: { name: str, url: { type: 'string', pattern: '^https?://' }, vkey: str },
          },
        },
        quorum: int(0, 64),
        timeoutMs: int(100, 120_000),
      },
    },
    scheduler: { type: 'object', additionalProperties: false, properties: { enabled: { type: 'boolean' }, intervalMs: int(100, 3_600_000) } },
    knowledge: { type: 'object', additionalProperties: false, properties: { git: str } },
    approvals: { type: 'object', additionalProperties: false, properties: { totpSecretFile: str, sweepEnabled: { type: 'boolean' }, sweepIntervalMs: int(100, 3_600_000) } },
    witness: {
      type: 'object',
      additionalProperties: false,
      properties: {
        name: str,
        keyFile: str,
        statePath: str,
        host: str,
        port: int(0, 65535),
        logs: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['vkey'],
            properties: { origin: str, originPrefix: str, vkey: str },
            oneOf: [
              { required: ['origin'], properties: { origin: str } },
              { required: ['originPrefix'], properties: { originPrefix: str } },
            ],
          },
        },
      },
    },
    outbox: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean' },
        pollMs: int(10, 60_000),
        flushMs: int(10, 60_000),
        maxAttempts: int(1, 1000),
        backoffBaseMs: int(1, 3_600_000),
        backoffCapMs: int(1, 86_400_000),
        deliveryLogKeep: int(0, 100_000_000),
        sinks: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name', 'kind'],
            properties: { kind: { enum: ['webhook', 'nats', 'ndjson'] } },
            oneOf: [
              {
                additionalProperties: false,
                required: ['name', 'kind', 'url', 'secretFile'],
                properties: {
                  ...SINK_COMMON,
                  kind: { const: 'webhook' },
                  url: { type: 'string', pattern: '^https?://' },
                  secretFile: str,
                  timeoutMs: int(10, 600_000),
                  concurrency: int(1, 1024),
                },
              },
              {
                additionalProperties: false,
                required: ['name', 'kind', 'url'],
                properties: { ...SINK_COMMON, kind: { const: 'nats' }, url: str, stream: NATS_NAME, subjectPrefix: NATS_SUBJECT, timeoutMs: int(10, 600_000), concurrency: int(1, 65_536) },
              },
              {
                additionalProperties: false,
                required: ['name', 'kind', 'path'],
                properties: { ...SINK_COMMON, kind: { const: 'ndjson' }, path: str, fsync: { enum: ['batch', 'never'] } },
              },
            ],
          },
        },
      },
    },
    nats: {
      type: 'object',
      additionalProperties: false,
      properties: {
        url: str,
        stream: NATS_NAME,
        subjectPrefix: NATS_SUBJECT,
        durable: NATS_NAME,
        resultPrefix: NATS_SUBJECT,
        maxInFlight: int(1, 65_536),
        ackWaitMs: int(1000, 3_600_000),
        nakDelayMs: int(10, 600_000),
      },
    },
    // The ops pack's effector and executors (docs/ops.md).
    ops: OPS_CONFIG_SCHEMA,
    apply: { type: 'object', additionalProperties: false, properties: { maxBatch: int(1, 100_000) } },
    verify: { type: 'object', additionalProperties: false, properties: { workers: int(0, 64) } },
    policiesDir: str,
    packsDir: str,
  },
} as const;
