import type { Config } from '../config/config.js';
import type { ScrapedFamily } from '../metrics/scraped.js';
import type { Sink } from '../outbox/sink.js';
import type { ReadFacts, ReadKind } from '../policy/reads.js';
import type { EntityRow } from '../store/port.js';
import type { PackCli } from './pack-cli.js';
import type { PackRoute } from './pack-routes.js';
import type { Handler } from './types.js';

/**
 * What a pack adds to a running writ besides its actions.yaml and policies.cedar (DESIGN §4: the
 * built-in packs use this very API; docs/packs.md). Every part is optional.
 */
export interface PackModule {
  /** Code handlers by the name actions.yaml gives them (`effect: { handler: <name> }`). */
  readonly handlers?: Readonly<Record<string, Handler>>;
  /** Work done in the background while writ serves (scheduled publishing, an effector). */
  readonly jobs?: readonly BackgroundJob[];
  /** Called around each group commit of the applier. */
  readonly hooks?: ApplyHooks;
  /** The documents that give actors the roles policy sees (the access pack's `actor`). */
  readonly roles?: RoleDocuments;
  /**
   * How a read of an entity of the pack's types through the entity routes is put to policy (the
   * knowledge pack: a message is its recipient's); null leaves the default (`read:entity`).
   */
  entityRead?(type: string, id: string | undefined, reader: string | undefined): EntityReadPolicy | null;
  /**
   * Awaited once when writ opens, after the ledger is open and before anything is served or any job
   * runs: brings what the pack keeps beside state up to it (the knowledge pack moves its git refs).
   * A rejection stops writ from opening.
   */
  start?(reads: PackReads): Promise<void>;
  /** Awaited once at close, after the jobs stopped and the applier drained. */
  close?(): Promise<void>;
  /**
   * What the pack's own routes read from the running pack (PackRouteContext.service); opaque to writ.
   */
  readonly service?: unknown;
  /**
   * HTTP routes under `/v1/<pack>/`, each with its declared access and OpenAPI operation
   * (src/catalog/pack-routes.ts). Declared whatever `env` (a tool's catalog documents them too).
   */
  readonly routes?: readonly PackRoute[];
  /** Subcommands of `writ <pack>` (src/catalog/pack-cli.ts); the CLI sets packs up with a null env. */
  readonly cli?: PackCli;
}

/**
 * Builds a pack's module. `env` is null when the catalog is loaded by a tool (`writ policy`, the
 * OpenAPI document): such a catalog never runs jobs or hooks, but its handlers must exist.
 */
export type PackSetup = (env: PackEnvironment | null) => PackModule | Promise<PackModule>;

/** What a pack's setup is given. */
export interface PackEnvironment {
  /** The deployment's configuration (frozen; secrets are in files it names, never in it). */
  readonly config: Config;
  /** Whether writ serves `tenant` already (it has a log, or keys configured for it). */
  tenantExists(tenant: string): boolean;
}

/** Reads of committed state, for a pack's start and its jobs. */
export interface PackReads {
  /** writ's clock, ms since the epoch. */
  now(): number;
  /** The tenants with a log of `scroll`, or, without one, every tenant with a log. */
  tenants(scroll?: string): string[];
  /** One entity of committed state, or null. */
  get(tenant: string, type: string, id: string): Promise<EntityRow | null>;
  /** Entities of one type in id order, after `afterId` (null: from the first), at most `limit`. */
  list(tenant: string, type: string, afterId: string | null, limit: number): Promise<EntityRow[]>;
}

/** The answer of a system command: its HTTP status and the answer body (JSON text). */
export interface SystemAnswer {
  readonly httpStatus: number;
  readonly body: string;
}

/** What a background job may do: read, submit its pack's commands as the system actor, watch the clock, stop. */
export interface JobContext extends PackReads {
  /** Aborted when writ closes; the job's run MUST then settle soon. */
  readonly signal: AbortSignal;
  /**
   * Submits a command of the job's own pack as the system actor `writ`, through the pipeline from
   * validation on (no signature, no policy: writ's own authority), recorded in the ledger like any
   * command. The same requestId is answered from the stored outcome, never applied twice. Refused
   * (thrown) before anything is recorded: an action that is not the job's pack's, or a tenant
   * without a log (FORBIDDEN); a requestId an envelope could not carry (INVALID_ENVELOPE); a payload
   * over intake.maxBytes canonical bytes (PAYLOAD_TOO_LARGE).
   */
  submit(tenant: string, action: string, payload: Record<string, unknown>, requestId: string): Promise<SystemAnswer>;
  /** The stored answer of the system actor's command `requestId` in `tenant`, or null. */
  answered(tenant: string, requestId: string): Promise<SystemAnswer | null>;
  /**
   * Whether a `blocked` or `readonly` flag on the tenant or on actor `writ` holds the system actor's
   * commands there: submit does not run the limits stage, so a job asks (and waits) itself.
   */
  held(tenant: string): boolean;
  /**
   * Submits a signed envelope (its JSON bytes) through the whole pipeline, exactly as an HTTP caller
   * would: authenticated (the job signs with a key of its own, registered like any other), decided by
   * policy, held when policy says so. It gives a job no power its key does not have.
   */
  submitSigned(body: Buffer): Promise<SystemAnswer>;
  /**
   * Hands the outbox's events of `actions` to `sink` from a cursor of its own, `name` (persisted like
   * a configured sink's, so a restart goes on where it stopped): at least once, in order per entity,
   * woken on every commit. Runs until `close` (or until writ closes).
   */
  consume(name: string, actions: readonly string[], sink: Sink): Promise<EventConsumer>;
  /** Adds a family to /metrics, read at each scrape (name it `writ_<pack>_…`). */
  metric(family: ScrapedFamily): void;
  /** Record `index` of log (tenant, scroll): its log's origin and its leaf hash, or null when there is none. */
  leaf(tenant: string, scroll: string, index: number): Promise<{ readonly origin: string; readonly leafHash: string } | null>;
}

/** A job's outbox consumer (JobContext.consume). */
export interface EventConsumer {
  close(): Promise<void>;
}

/** A pack's background job. */
export interface BackgroundJob {
  /** Unique within its pack; named `<pack>/<name>` in logs. */
  readonly name: string;
  /**
   * Started once, when writ opens; the promise MUST settle soon after `ctx.signal` aborts (writ waits
   * for it before closing the store). A rejection is logged and the job is not restarted.
   * `everyInterval` (writ/pack) runs a tick on a timer until the signal aborts.
   */
  run(ctx: JobContext): Promise<void>;
}

/** Called on the applier's commit path, for every pack, in pack order. */
export interface ApplyHooks {
  /**
   * Awaited before each batch's transaction: what must be durable before the ledger names it (the
   * knowledge pack fsyncs its new git objects). A rejection fails the batch (its callers are
   * answered UNAVAILABLE and may retry).
   */
  beforeCommit?(): Promise<void>;
  /**
   * Told each durable batch's entity writes, in commit order. Runs on the commit path: it MUST NOT
   * block (queue follow-up work) and an exception is logged, never passed on.
   */
  afterCommit?(rows: readonly EntityRow[]): void;
}

/** What Cedar decides an entity read on: `read:<kind>` on `resource`, with `facts` in its context. */
export interface EntityReadPolicy {
  readonly kind: ReadKind;
  readonly resource: string;
  readonly facts: ReadFacts;
}

/** How one entity type gives actors roles (at most one loaded pack provides it). */
export interface RoleDocuments {
  /** The entity type, keyed by actor id (`actor/<actor>`). */
  readonly type: string;
  /** The roles a (not deleted) document of that type holds. */
  rolesOf(doc: unknown): readonly string[];
}
