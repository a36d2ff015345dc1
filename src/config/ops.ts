/** The kinds of op (the ops pack's SubmitOp); executors are configured per kind (docs/ops.md). */
export const OP_KINDS = ['deploy', 'scale', 'restart', 'secret_update', 'drain'] as const;
export type OpKind = (typeof OP_KINDS)[number];

/**
 * The `ops` block of config.json (docs/ops.md, "Configuration"): the effector and one executor per
 * op kind. Values that are secrets are never written here, only the files that hold them
 * (`{"file": "…"}`), read at each execution.
 */
export type EnvValue = string | { readonly file: string };

interface ExecutorCommon {
  /** How long one attempt may take; the process is killed (the request aborted) after it. */
  readonly timeoutMs: number;
}
export interface CommandExecutor extends ExecutorCommon {
  readonly kind: 'command';
  /** The program, run with `args` directly (no shell); the op comes as JSON on its standard input. */
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string | null;
  /** The whole environment it gets (besides PATH and WRIT_* variables). */
  readonly env: Readonly<Record<string, EnvValue>>;
}
export interface HttpExecutor extends ExecutorCommon {
  readonly kind: 'http';
  readonly url: string;
  readonly method: 'POST' | 'PUT';
  readonly headers: Readonly<Record<string, EnvValue>>;
}
export interface McpExecutor extends ExecutorCommon {
  readonly kind: 'mcp';
  /** The downstream MCP server, started over stdio with `args` (no shell). */
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, EnvValue>>;
  /** The tool called with the op (its `arguments`). */
  readonly tool: string;
}
export type ExecutorSpec = CommandExecutor | HttpExecutor | McpExecutor;
export type ExecutorConfig = ExecutorSpec & { readonly inverse: ExecutorSpec | null };

export interface EffectorConfig {
  readonly enabled: boolean;
  /** The effector's own Ed25519 key (PEM); its key id `<actor>#<n>` names its actor. */
  readonly keyFile: string;
  readonly keyId: string;
  /** Attempts of one op before it is failed (each recorded). */
  readonly maxAttempts: number;
  readonly backoffMs: number;
  /** Added to the executor's timeout to make an attempt's deadline. */
  readonly graceMs: number;
  /** What happens to a running op past its deadline: attempt it again (within maxAttempts) or fail it. */
  readonly overdue: 'retry' | 'fail';
  readonly scanIntervalMs: number;
  readonly concurrency: number;
}

/** The audit mirror (docs/ops.md, "Audit mirror"): one bare git repository per tenant and workspace. */
export interface OpsAuditConfig {
  readonly enabled: boolean;
  /** Holds `<tenant>/<workspace>.git`; default `<home>/ops/audit`. */
  readonly folder: string;
  /** Entries committed together, at most. */
  readonly batchSize: number;
  /** How long the first entry of a batch waits for more before the batch is committed. */
  readonly batchIntervalMs: number;
  /** Author and committer email of the mirror's commits (the name is always `writ`). */
  readonly authorEmail: string;
}

export interface OpsConfig {
  readonly effector: EffectorConfig;
  readonly audit: OpsAuditConfig;
  readonly executors: Readonly<Partial<Record<OpKind, ExecutorConfig>>>;
}

const str = { type: 'string', minLength: 1, maxLength: 4096 } as const;
const int = (minimum: number, maximum: number) => ({ type: 'integer', minimum, maximum }) as const;
const envValue = { oneOf: [{ type: 'string', maxLength: 4096 }, { type: 'object', additionalProperties: false, required: ['file'], properties: { file: str } }] } as const;
const envMap = { type: 'object', maxProperties: 64, propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_-]{0,127}$' }, additionalProperties: envValue } as const;
const args = { type: 'array', maxItems: 64, items: { type: 'string', maxLength: 4096 } } as const;
const timeoutMs = int(100, 86_400_000);
const executorSpec = {
  oneOf: [
    { type: 'object', additionalProperties: false, required: ['kind', 'command'], properties: { kind: { const: 'command' }, command: str, args, cwd: str, env: envMap, timeoutMs } },
    { type: 'object', additionalProperties: false, required: ['kind', 'url'], properties: { kind: { const: 'http' }, url: { type: 'string', pattern: '^https?://', maxLength: 4096 }, method: { enum: ['POST', 'PUT'] }, headers: envMap, timeoutMs } },
    { type: 'object', additionalProperties: false, required: ['kind', 'command', 'tool'], properties: { kind: { const: 'mcp' }, command: str, args, env: envMap, tool: str, timeoutMs } },
  ],
} as const;
/** An executor with, optionally, its inverse (which RollbackOp runs); the inverse has none itself. */
const withInverse = { oneOf: executorSpec.oneOf.map((s) => ({ ...s, properties: { ...s.properties, inverse: executorSpec } })) } as const;

/** JSON Schema of the `ops` block (src/config/schema.ts includes it). */
export const OPS_CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    effector: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean' },
        keyFile: str,
        keyId: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}#[0-9]{1,6}$' },
        maxAttempts: int(1, 100),
        backoffMs: int(0, 3_600_000),
        graceMs: int(0, 3_600_000),
        overdue: { enum: ['retry', 'fail'] },
        scanIntervalMs: int(50, 3_600_000),
        concurrency: int(1, 256),
      },
    },
    executors: { type: 'object', additionalProperties: false, properties: Object.fromEntries(OP_KINDS.map((k) => [k, withInverse])) },
    audit: {
      type: 'object',
      additionalProperties: false,
      properties: { enabled: { type: 'boolean' }, folder: str, batchSize: int(1, 1000), batchIntervalMs: int(0, 600_000), authorEmail: { type: 'string', pattern: '^[^<>\\s]{1,254}$' } },
    },
  },
} as const;

export const DEFAULT_EFFECTOR_KEY_ID = 'effector#1';
const DEFAULT_TIMEOUT_MS = 30_000;

function specOf(s: Record<string, any>, at: (p: string) => string): ExecutorSpec {
  const timeout = (s.timeoutMs as number | undefined) ?? DEFAULT_TIMEOUT_MS;
  const env = (m: Record<string, EnvValue> | undefined) => Object.fromEntries(Object.entries(m ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : { file: at(v.file) }]));
  switch (s.kind) {
    case 'command':
      return { kind: 'command', command: s.command, args: s.args ?? [], cwd: s.cwd ? at(s.cwd) : null, env: env(s.env), timeoutMs: timeout };
    case 'http':
      return { kind: 'http', url: s.url, method: s.method ?? 'POST', headers: env(s.headers), timeoutMs: timeout };
    default:
      return { kind: 'mcp', command: s.command, args: s.args ?? [], env: env(s.env), tool: s.tool, timeoutMs: timeout };
  }
}

/** The effective `ops` block: defaults filled, paths resolved against the home (`at`). */
export function opsConfigOf(o: Record<string, any> | undefined, at: (p: string) => string): OpsConfig {
  const e = (o?.effector ?? {}) as Record<string, any>;
  const a = (o?.audit ?? {}) as Record<string, any>;
  const executors: Partial<Record<OpKind, ExecutorConfig>> = {};
  for (const [kind, s] of Object.entries((o?.executors ?? {}) as Record<string, Record<string, any>>)) {
    executors[kind as OpKind] = { ...specOf(s, at), inverse: s.inverse ? specOf(s.inverse, at) : null };
  }
  return {
    effector: {
      enabled: e.enabled ?? false,
      keyFile: at(e.keyFile ?? 'keys/effector-1.key'),
      keyId: e.keyId ?? DEFAULT_EFFECTOR_KEY_ID,
      maxAttempts: e.maxAttempts ?? 3,
      backoffMs: e.backoffMs ?? 500,
      graceMs: e.graceMs ?? 5000,
      overdue: e.overdue ?? 'retry',
      scanIntervalMs: e.scanIntervalMs ?? 1000,
      concurrency: e.concurrency ?? 4,
    },
    audit: {
      enabled: a.enabled ?? false,
      folder: at(a.folder ?? 'ops/audit'),
      batchSize: a.batchSize ?? 64,
      batchIntervalMs: a.batchIntervalMs ?? 200,
      authorEmail: a.authorEmail ?? 'writ@localhost',
    },
    executors,
  };
}

/**
 * For describeConfig (the effective config in logs): an executor's `env` and `headers` values
 * written inline may be secrets someone should have put in a file, so they are masked; `{file}`
 * references stay (a path is not a secret).
 */
export function maskExecutorValues(key: string, value: unknown): unknown {
  if ((key !== 'env' && key !== 'headers') || !value || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'string' ? '[inline value withheld]' : v]));
}
