import { existsSync, readFileSync } from 'node:fs';
import { maskExecutorValues, opsConfigOf, type OpsConfig } from './ops.js';
import { isAbsolute, join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { redactUrl } from '../util/redact-url.js';
import { CONFIG_SCHEMA } from './schema.js';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8787;
/**
 * Most commands in flight over HTTP (received, not yet answered); past it writ answers 503
 * UNAVAILABLE with Retry-After before anything is recorded. An accepted command waits about
 * in-flight ÷ throughput, and a larger bound also lengthens the wait before the bound (bigger
 * batches planned on the event loop, more connections): chosen from alternated runs of the
 * back-pressure bench on two shared cores, where 32 kept accepted commands' p99 at 4× load within
 * 2× of its 1× value in every run and 64 in under half, for about a quarter less throughput under
 * overload (docs/operations.md, tuning the bound; docs/benchmarks.md).
 */
export const DEFAULT_HTTP_MAX_IN_FLIGHT = 32;
/** MCP sessions over HTTP (/mcp): open at once, per actor, and how long an unused one is kept (docs/mcp.md). */
export const DEFAULT_MCP_MAX_SESSIONS = 256;
export const DEFAULT_MCP_MAX_SESSIONS_PER_ACTOR = 8;
export const DEFAULT_MCP_SESSION_IDLE_SECONDS = 900;
/** Retry-After of a command refused because too many are in flight (seconds). */
export const BUSY_RETRY_AFTER_SECONDS = 1;
export const DEFAULT_TENANT = 'default';
export const DEFAULT_ADMIN = 'admin';
/** Reads are decided by policy; 'open' (no identity needed) is for a loopback development home. */
export const DEFAULT_READS = 'policy';
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;
export const DEFAULT_MAX_DEPTH = 32;
export const DEFAULT_SKEW_SECONDS = 300;
/** Longest a bearer token may live (exp − iat, or what is left of it): an hour, as OAuth access tokens. */
export const DEFAULT_JWT_MAX_LIFETIME_SECONDS = 3600;
export const DEFAULT_NONCE_CACHE_MAX = 1_000_000;
export const DEFAULT_RETENTION_SECONDS = 24 * 3600;
export const DEFAULT_RATE_LIMIT = 200;
export const DEFAULT_RATE_WINDOW_SECONDS = 60;
export const DEFAULT_MAX_BUCKETS = 100_000;
/** Most bytes of items one page of a list route holds (ledger records, entities, outbox events, approvals). */
export const DEFAULT_MAX_PAGE_BYTES = 1024 * 1024;
export const DEFAULT_MAX_BATCH = 512;
export const DEFAULT_ORIGIN_PREFIX = 'writ.local';
/** A grown log gets a new signed checkpoint this often. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 1000;
/** Longest a `?wait=true` receipt request waits for a checkpoint to cover its record. */
export const DEFAULT_RECEIPT_WAIT_MS = 10_000;
export const DEFAULT_NDJSON_ANCHOR = 'anchors/checkpoints.ndjson';
export const DEFAULT_WITNESS_TIMEOUT_MS = 5000;
export const DEFAULT_WITNESS_PORT = 8788;
/** How often the publish scheduler looks for due SchedulePublish entries. */
export const DEFAULT_SCHEDULER_INTERVAL_MS = 5000;
/** How often the approval sweeper looks for pending commands past their TTL. */
export const DEFAULT_SWEEP_INTERVAL_MS = 5000;
/** Signature-verification worker threads (0 verifies on the main thread). */
export const DEFAULT_VERIFY_WORKERS = 2;

/** The outbox dispatcher (DESIGN §7): poll for new events this often when idle. */
export const DEFAULT_OUTBOX_POLL_MS = 250;
/** The dispatcher writes cursors, the delivery log and dead letters at most this often. */
export const DEFAULT_OUTBOX_FLUSH_MS = 100;
export const DEFAULT_OUTBOX_MAX_ATTEMPTS = 10;
export const DEFAULT_OUTBOX_BACKOFF_BASE_MS = 500;
export const DEFAULT_OUTBOX_BACKOFF_CAP_MS = 60_000;
/** Delivery-log rows kept per sink (older ones are pruned). */
export const DEFAULT_DELIVERY_LOG_KEEP = 10_000;
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
export const DEFAULT_WEBHOOK_CONCURRENCY = 16;
export const DEFAULT_NATS_TIMEOUT_MS = 10_000;
export const DEFAULT_NATS_CONCURRENCY = 1024;
export const DEFAULT_EVENTS_STREAM = 'WRIT_EVENTS';
export const DEFAULT_EVENTS_SUBJECT_PREFIX = 'writ.events';
export const DEFAULT_COMMANDS_STREAM = 'WRIT_COMMANDS';
export const DEFAULT_COMMANDS_SUBJECT_PREFIX = 'writ.cmd';
export const DEFAULT_COMMANDS_DURABLE = 'writ-intake';
export const DEFAULT_RESULT_PREFIX = 'writ.result';
export const DEFAULT_NATS_MAX_IN_FLIGHT = 512;
export const DEFAULT_NATS_ACK_WAIT_MS = 30_000;
export const DEFAULT_NATS_NAK_DELAY_MS = 1000;

/** Which events a sink receives: an absent list lets every value through. */
export interface SinkFilter {
  readonly tenants?: readonly string[];
  readonly scrolls?: readonly string[];
  readonly actions?: readonly string[];
}

interface SinkCommon {
  readonly name: string;
  readonly filter: SinkFilter;
  /** Attempts before an event goes to the sink's dead-letter list. */
  readonly maxAttempts: number;
}

/** An HTTP endpoint, signed per Standard Webhooks with the `whsec_` secret kept in `secretFile`. */
export interface WebhookSinkConfig extends SinkCommon {
  readonly kind: 'webhook';
  readonly url: string;
  readonly secretFile: string;
  readonly timeoutMs: number;
  /** Requests in flight at once (to different entities; one entity's events go one at a time). */
  readonly concurrency: number;
}

/** A NATS JetStream stream (created if missing); subjects `<subjectPrefix>.<tenant>.<scroll>.<action>`. */
export interface NatsSinkConfig extends SinkCommon {
  readonly kind: 'nats';
  readonly url: string;
  readonly stream: string;
  readonly subjectPrefix: string;
  readonly timeoutMs: number;
  readonly concurrency: number;
}

/** An append-only NDJSON file: one event per line; `batch` fsyncs after every batch before it counts as delivered. */
export interface NdjsonSinkConfig extends SinkCommon {
  readonly kind: 'ndjson';
  readonly path: string;
  readonly fsync: 'batch' | 'never';
}

export type SinkConfig = WebhookSinkConfig | NatsSinkConfig | NdjsonSinkConfig;

export interface OutboxConfig {
  /** Whether this process runs the dispatcher (events are written to the outbox either way). */
  readonly enabled: boolean;
  readonly pollMs: number;
  readonly flushMs: number;
  readonly maxAttempts: number;
  readonly backoffBaseMs: number;
  readonly backoffCapMs: number;
  readonly deliveryLogKeep: number;
  readonly sinks: readonly SinkConfig[];
}

/** Command intake over a NATS JetStream work queue (`writ serve --nats URL`); off while `url` is null. */
export interface NatsIntakeConfig {
  readonly url: string | null;
  readonly stream: string;
  /** Commands are published on `<subjectPrefix>.<tenant>`. */
  readonly subjectPrefix: string;
  readonly durable: string;
  /** Answers of messages without a reply subject go to `<resultPrefix>.<tenant>.<requestId>`. */
  readonly resultPrefix: string;
  readonly maxInFlight: number;
  readonly ackWaitMs: number;
  /** Delay of a NAK when writ is saturated (back-pressure). */
  readonly nakDelayMs: number;
}

export type AuthRequire = 'signature' | 'jwt' | 'either';

export interface Config {
  readonly home: string;
  readonly tenant: string;
  /** The admin whose key (keys/<admin>.key, key id <admin>#1) the CLI signs with unless told --key. */
  readonly admin: string;
  readonly server: { readonly host: string; readonly port: number; readonly maxInFlight: number };
  /** The MCP endpoint's sessions (/mcp): bounded in number, per actor and in idle time. */
  readonly mcp: { readonly maxSessions: number; readonly maxSessionsPerActor: number; readonly sessionIdleSeconds: number };
  /** GET /metrics: besides operators, a Prometheus scraper holding the token in this file may read it (null: none). */
  readonly metrics: { readonly scrapeTokenFile: string | null };
  /** kind postgres: the database at `url`; `path` still places the home's local files (the search index). */
  readonly store: { readonly kind: 'sqlite' | 'postgres'; readonly path: string; readonly url: string | null };
  readonly auth: {
    readonly require: AuthRequire;
    /** Who may read: 'policy' (an identity, and Cedar decides) or 'open' (anyone; loopback development only). */
    readonly reads: 'policy' | 'open';
    readonly hmacKeys: ReadonlyArray<{ readonly tenant: string; readonly actor: string; readonly keyId: string; readonly secretFile: string }>;
    readonly jwt: { readonly hs256SecretFile?: string; readonly publicKeyFiles: readonly string[]; readonly issuer?: string; readonly audience?: string; readonly maxLifetimeSeconds: number };
  };
  readonly intake: { readonly maxBytes: number; readonly maxDepth: number };
  readonly freshness: { readonly skewSeconds: number; readonly nonceCacheMax: number };
  readonly idempotency: { readonly retentionSeconds: number };
  readonly limits: { readonly rate: number; readonly windowSeconds: number; readonly maxBuckets: number; readonly maxPageBytes: number };
  readonly ledger: { readonly originPrefix: string; readonly logKeyFile: string; readonly checkpointIntervalMs: number; readonly receiptWaitMs: number };
  /** Where checkpoints are anchored outside the database (null: that anchor is off). */
  readonly anchors: { readonly ndjson: string | null; readonly git: { readonly path: string; readonly remote: string | null } | null };
  /** Witnesses this deployment asks for cosignatures, and how many a checkpoint needs to count as witnessed. */
  readonly witnesses: {
    readonly list: ReadonlyArray<{ readonly name: string; readonly url: string; readonly vkey: string }>;
    readonly quorum: number;
    readonly timeoutMs: number;
  };
  /** The publish scheduler (SchedulePublish): whether it runs here, and how often it looks for due schedules. */
  readonly scheduler: { readonly enabled: boolean; readonly intervalMs: number };
  /** Human approval: the airlock's TOTP secret (server-side, mode 0600). */
  /** The airlock's TOTP secret; whether this process runs the approval sweeper, and how often. */
  readonly approvals: { readonly totpSecretFile: string; readonly sweepEnabled: boolean; readonly sweepIntervalMs: number };
  /** `writ witness serve`: this home acting as a witness for other logs. */
  readonly witness: {
    /** Its key name, when configured; null: `<namePrefix>-<8 hex of its public key's SHA-256>`, its own. */
    readonly name: string | null;
    readonly namePrefix: string;
    readonly keyFile: string;
    readonly statePath: string;
    readonly host: string;
    readonly port: number;
    readonly logs: ReadonlyArray<{ readonly origin?: string; readonly originPrefix?: string; readonly vkey: string }>;
  };
  /** The knowledge pack: the folder of its git repositories, one bare `<tenant>.git` each (docs/knowledge.md). */
  readonly knowledge: { readonly git: string };
  /** The ops pack's effector and executors (docs/ops.md). */
  readonly ops: OpsConfig;
  readonly outbox: OutboxConfig;
  readonly nats: NatsIntakeConfig;
  readonly apply: { readonly maxBatch: number };
  readonly verify: { readonly workers: number };
  readonly policiesDir: string;
  readonly packsDir: string;
}

/** Config as written in `<home>/config.json`: every field optional, paths relative to the home. */
/** Any part of a config, at any depth (arrays are given whole). */
type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;
export type ConfigInput = { [K in keyof Config]?: Config[K] extends object ? DeepPartial<Config[K]> : Config[K] };

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[], where: string) {
    super(`invalid configuration in ${where}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Loads `<home>/config.json` (when present), applies `overrides`, validates everything at once
 * (reporting every problem, not just the first), fills defaults and freezes the result.
 */
export function loadConfig(home: string, overrides: ConfigInput = {}): Config {
  const absHome = resolve(home);
  const file = join(absHome, 'config.json');
  let fromFile: ConfigInput = {};
  if (existsSync(file)) {
    try {
      fromFile = JSON.parse(readFileSync(file, 'utf8')) as ConfigInput;
    } catch (err) {
      throw new ConfigError([`not valid JSON: ${(err as Error).message}`], file);
    }
  }
  const merged = mergeInput(fromFile, overrides);
  const ajv = new Ajv({ allErrors: true, strict: true, useDefaults: false });
  const check = ajv.compile(CONFIG_SCHEMA);
  if (!check(merged)) {
    throw new ConfigError((check.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` "${String(e.params.additionalProperty)}"` : ''}${e.params && 'allowedValues' in e.params ? `: ${(e.params.allowedValues as unknown[]).join(', ')}` : ''}`), existsSync(file) ? file : 'overrides');
  }
  const at = (p: string) => (isAbsolute(p) ? p : join(absHome, p));
  const m = merged as Record<string, any>;
  const config: Config = {
    home: absHome,
    tenant: m.tenant ?? DEFAULT_TENANT,
    admin: m.admin ?? DEFAULT_ADMIN,
    server: { host: m.server?.host ?? DEFAULT_HOST, port: m.server?.port ?? DEFAULT_PORT, maxInFlight: m.server?.maxInFlight ?? DEFAULT_HTTP_MAX_IN_FLIGHT },
    mcp: {
      maxSessions: m.mcp?.maxSessions ?? DEFAULT_MCP_MAX_SESSIONS,
      maxSessionsPerActor: m.mcp?.maxSessionsPerActor ?? DEFAULT_MCP_MAX_SESSIONS_PER_ACTOR,
      sessionIdleSeconds: m.mcp?.sessionIdleSeconds ?? DEFAULT_MCP_SESSION_IDLE_SECONDS,
    },
    metrics: { scrapeTokenFile: m.metrics?.scrapeTokenFile ? at(m.metrics.scrapeTokenFile) : null },
    store: storeOf(m.store, at),
    auth: {
      require: m.auth?.require ?? 'signature',
      reads: m.auth?.reads ?? DEFAULT_READS,
      hmacKeys: (m.auth?.hmacKeys ?? []).map((k: any) => ({ ...k, secretFile: at(k.secretFile) })),
      jwt: {
        ...(m.auth?.jwt?.hs256SecretFile ? { hs256SecretFile: at(m.auth.jwt.hs256SecretFile) } : {}),
        publicKeyFiles: (m.auth?.jwt?.publicKeyFiles ?? []).map(at),
        ...(m.auth?.jwt?.issuer ? { issuer: m.auth.jwt.issuer } : {}),
        ...(m.auth?.jwt?.audience ? { audience: m.auth.jwt.audience } : {}),
        maxLifetimeSeconds: m.auth?.jwt?.maxLifetimeSeconds ?? DEFAULT_JWT_MAX_LIFETIME_SECONDS,
      },
    },
    intake: { maxBytes: m.intake?.maxBytes ?? DEFAULT_MAX_BODY_BYTES, maxDepth: m.intake?.maxDepth ?? DEFAULT_MAX_DEPTH },
    freshness: { skewSeconds: m.freshness?.skewSeconds ?? DEFAULT_SKEW_SECONDS, nonceCacheMax: m.freshness?.nonceCacheMax ?? DEFAULT_NONCE_CACHE_MAX },
    idempotency: { retentionSeconds: m.idempotency?.retentionSeconds ?? DEFAULT_RETENTION_SECONDS },
    limits: {
      rate: m.limits?.rate ?? DEFAULT_RATE_LIMIT,
      windowSeconds: m.limits?.windowSeconds ?? DEFAULT_RATE_WINDOW_SECONDS,
      maxBuckets: m.limits?.maxBuckets ?? DEFAULT_MAX_BUCKETS,
      maxPageBytes: m.limits?.maxPageBytes ?? DEFAULT_MAX_PAGE_BYTES,
    },
    ledger: {
      originPrefix: m.ledger?.originPrefix ?? DEFAULT_ORIGIN_PREFIX,
      logKeyFile: at(m.ledger?.logKeyFile ?? 'keys/log.key'),
      checkpointIntervalMs: m.ledger?.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS,
      receiptWaitMs: m.ledger?.receiptWaitMs ?? DEFAULT_RECEIPT_WAIT_MS,
    },
    anchors: {
      ndjson: m.anchors?.ndjson === false ? null : at(m.anchors?.ndjson ?? DEFAULT_NDJSON_ANCHOR),
      git: m.anchors?.git ? { path: at(m.anchors.git.path), remote: m.anchors.git.remote ?? null } : null,
    },
    witnesses: { list: m.witnesses?.list ?? [], quorum: m.witnesses?.quorum ?? 0, timeoutMs: m.witnesses?.timeoutMs ?? DEFAULT_WITNESS_TIMEOUT_MS },
    scheduler: { enabled: m.scheduler?.enabled ?? true, intervalMs: m.scheduler?.intervalMs ?? DEFAULT_SCHEDULER_INTERVAL_MS },
    approvals: {
      totpSecretFile: at(m.approvals?.totpSecretFile ?? 'keys/totp.secret'),
      sweepEnabled: m.approvals?.sweepEnabled ?? true,
      sweepIntervalMs: m.approvals?.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS,
    },
    witness: {
      name: m.witness?.name ?? null,
      namePrefix: `${m.ledger?.originPrefix ?? DEFAULT_ORIGIN_PREFIX}/witness`,
      keyFile: at(m.witness?.keyFile ?? 'keys/witness.key'),
      statePath: at(m.witness?.statePath ?? 'data/witness-state.json'),
      host: m.witness?.host ?? DEFAULT_HOST,
      port: m.witness?.port ?? DEFAULT_WITNESS_PORT,
      logs: m.witness?.logs ?? [],
    },
    knowledge: { git: at(m.knowledge?.git ?? 'knowledge.git') },
    ops: opsConfigOf(m.ops, at),
    outbox: outboxOf(m.outbox ?? {}, at),
    nats: {
      url: m.nats?.url ?? null,
      stream: m.nats?.stream ?? DEFAULT_COMMANDS_STREAM,
      subjectPrefix: m.nats?.subjectPrefix ?? DEFAULT_COMMANDS_SUBJECT_PREFIX,
      durable: m.nats?.durable ?? DEFAULT_COMMANDS_DURABLE,
      resultPrefix: m.nats?.resultPrefix ?? DEFAULT_RESULT_PREFIX,
      maxInFlight: m.nats?.maxInFlight ?? DEFAULT_NATS_MAX_IN_FLIGHT,
      ackWaitMs: m.nats?.ackWaitMs ?? DEFAULT_NATS_ACK_WAIT_MS,
      nakDelayMs: m.nats?.nakDelayMs ?? DEFAULT_NATS_NAK_DELAY_MS,
    },
    apply: { maxBatch: m.apply?.maxBatch ?? DEFAULT_MAX_BATCH },
    verify: { workers: m.verify?.workers ?? DEFAULT_VERIFY_WORKERS },
    policiesDir: at(m.policiesDir ?? 'policies'),
    packsDir: at(m.packsDir ?? 'packs'),
  };
  const problems: string[] = [];
  if (config.idempotency.retentionSeconds <= config.freshness.skewSeconds) {
    problems.push(`/idempotency/retentionSeconds (${config.idempotency.retentionSeconds}) must exceed /freshness/skewSeconds (${config.freshness.skewSeconds})`);
  }
  if (config.witnesses.quorum > config.witnesses.list.length) {
    problems.push(`/witnesses/quorum (${config.witnesses.quorum}) exceeds the number of witnesses listed (${config.witnesses.list.length})`);
  }
  const names = new Set<string>();
  for (const sink of config.outbox.sinks) {
    if (names.has(sink.name)) problems.push(`/outbox/sinks: two sinks are named ${JSON.stringify(sink.name)}; names must be unique`);
    names.add(sink.name);
    // fetch refuses such a URL (and its error would quote the password); deliveries are signed instead.
    if (sink.kind === 'webhook' && URL.canParse(sink.url) && (new URL(sink.url).username || new URL(sink.url).password)) {
      problems.push(`/outbox/sinks: the URL of webhook sink ${JSON.stringify(sink.name)} carries a user or password; remove it (receivers verify the webhook-signature header instead)`);
    }
  }
  if (config.outbox.backoffCapMs < config.outbox.backoffBaseMs) {
    problems.push(`/outbox/backoffCapMs (${config.outbox.backoffCapMs}) must be at least /outbox/backoffBaseMs (${config.outbox.backoffBaseMs})`);
  }
  if (problems.length) throw new ConfigError(problems, existsSync(file) ? file : 'overrides');
  return deepFreeze(config);
}

function outboxOf(o: Record<string, any>, at: (p: string) => string): OutboxConfig {
  const maxAttempts = o.maxAttempts ?? DEFAULT_OUTBOX_MAX_ATTEMPTS;
  const sinks = ((o.sinks ?? []) as Array<Record<string, any>>).map((s): SinkConfig => {
    const common = { name: s.name as string, filter: (s.filter ?? {}) as SinkFilter, maxAttempts: (s.maxAttempts as number | undefined) ?? maxAttempts };
    switch (s.kind) {
      case 'webhook':
        return { ...common, kind: 'webhook', url: s.url, secretFile: at(s.secretFile), timeoutMs: s.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS, concurrency: s.concurrency ?? DEFAULT_WEBHOOK_CONCURRENCY };
      case 'nats':
        return {
          ...common,
          kind: 'nats',
          url: s.url,
          stream: s.stream ?? DEFAULT_EVENTS_STREAM,
          subjectPrefix: s.subjectPrefix ?? DEFAULT_EVENTS_SUBJECT_PREFIX,
          timeoutMs: s.timeoutMs ?? DEFAULT_NATS_TIMEOUT_MS,
          concurrency: s.concurrency ?? DEFAULT_NATS_CONCURRENCY,
        };
      default:
        return { ...common, kind: 'ndjson', path: at(s.path), fsync: s.fsync ?? 'batch' };
    }
  });
  return {
    enabled: o.enabled ?? true,
    pollMs: o.pollMs ?? DEFAULT_OUTBOX_POLL_MS,
    flushMs: o.flushMs ?? DEFAULT_OUTBOX_FLUSH_MS,
    maxAttempts,
    backoffBaseMs: o.backoffBaseMs ?? DEFAULT_OUTBOX_BACKOFF_BASE_MS,
    backoffCapMs: o.backoffCapMs ?? DEFAULT_OUTBOX_BACKOFF_CAP_MS,
    deliveryLogKeep: o.deliveryLogKeep ?? DEFAULT_DELIVERY_LOG_KEEP,
    sinks,
  };
}

/** The store: SQLite at `path` unless kind is postgres (which needs `url`). */
function storeOf(s: { kind?: string; path?: string; url?: string } | undefined, at: (p: string) => string): Config['store'] {
  const kind = s?.kind === 'postgres' ? 'postgres' : 'sqlite';
  if (kind === 'postgres' && !s?.url) throw new ConfigError(['/store kind "postgres" needs url (postgres://user@host:5432/database)'], 'store');
  if (kind === 'sqlite' && s?.url) throw new ConfigError(['/store url is set but kind is not "postgres"; set kind "postgres" or remove url'], 'store');
  return { kind, path: at(s?.path ?? 'data/writ.db'), url: kind === 'postgres' ? s!.url! : null };
}

function mergeInput(a: ConfigInput, b: ConfigInput): ConfigInput {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object' ? { ...prev, ...v } : v;
  }
  return out as ConfigInput;
}

/**
 * The effective config for logs: file paths stay, secrets never appear (they live only in files,
 * except a user and password written into a URL such as nats.url, which are masked here).
 */
export function describeConfig(config: Config): Record<string, unknown> {
  return JSON.parse(JSON.stringify(config), (key, value: unknown) => (key === 'url' && typeof value === 'string' ? redactUrl(value) : maskExecutorValues(key, value))) as Record<string, unknown>;
}
