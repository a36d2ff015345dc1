import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ApprovalSweeper } from './approvals/sweeper.js';
import { loadCatalog, type Catalog } from './catalog/catalog.js';
import { PackRuntime } from './catalog/pack-runtime.js';
import type { Config, SinkConfig } from './config/config.js';
import { openAnchors } from './ledger/anchors/open-anchors.js';
import { Integrator } from './ledger/integrator.js';
import { WritMetrics } from './metrics/metrics.js';
import { registerStateFamilies } from './metrics/state-families.js';
import { outboxStatus } from './outbox/status.js';
import { nodeHasher } from './ledger/node-hasher.js';
import { Dispatcher } from './outbox/dispatcher.js';
import type { Sink } from './outbox/sink.js';
import { NoteSigner } from './ledger/note-signer.js';
import { WitnessClient } from './ledger/witness-client.js';
// The registry of built-in packs, the one place that names them (src/packs/index.ts).
import { BUILTIN_PACKS } from './packs/index.js';
import { TenantBootstrapper } from './home/tenant-bootstrap.js';
import { SYSTEM_ACTOR } from './pipeline/system.js';
import { Applier } from './pipeline/apply/applier.js';
import { configuredHmacKeys } from './pipeline/authenticate/hmac-secret.js';
import { ReadAccess } from './access/reads.js';
import { JwtVerifier } from './pipeline/authenticate/jwt.js';
import { createVerifier, type Verifier } from './pipeline/authenticate/verifier.js';
import { Freshness } from './pipeline/freshness/freshness.js';
import { IntakePool } from './pipeline/intake/intake-pool.js';
import { identityHint } from './pipeline/intake/identity-hint.js';
import { Idempotency } from './pipeline/idempotency/idempotency.js';
import { KnownKeys } from './pipeline/idempotency/known-keys.js';
import { OutcomeCache } from './pipeline/idempotency/outcome-cache.js';
import { RateLimiter } from './pipeline/limits/limits.js';
import { Pipeline } from './pipeline/pipeline.js';
import { Policy } from './policy/cedar.js';
import { policySources } from './policy/files.js';
import { digestOf, LivePolicy } from './policy/live.js';
import { PolicyReload, RECORD_POLICY } from './policy/reload.js';
import { Directory, type KnownKey } from './state/directory.js';
import type { Store } from './store/port.js';
import type { Queries } from './transports/queries.js';
import { approvalQueries } from './approvals/queries.js';
import { openStore } from './store/open-store.js';
import { followRegistries, leaseReady, sharedOf, shareLease } from './store/shared.js';
import { leaseDispatcher } from './outbox/leased.js';
import { checkSinks } from './outbox/sinks/index.js';
import { openConsumer } from './outbox/consumer.js';
import { leafOf } from './ledger/leaf-of.js';
import { packageRoot } from './util/package-root.js';

/** A running writ: the store, the catalog and policy, and the pipeline over them. */
export interface Writ {
  readonly config: Config;
  /** Every role of the store: for this composition root, tests and benchmarks; the transports read `queries`. */
  readonly store: Store;
  /** What the transports read: narrow read-only views of the store (src/transports/queries.ts). */
  readonly queries: Queries;
  readonly catalog: Catalog;
  /** The policy set in force, and its reload without a restart (docs/policy.md, "Reloading"). */
  readonly policy: PolicyReload;
  readonly directory: Directory;
  /** Who may read what, and who operates the deployment (docs/security.md). */
  readonly access: ReadAccess;
  readonly pipeline: Pipeline;
  readonly applier: Applier;
  readonly freshness: Freshness;
  readonly idempotency: Idempotency;
  readonly limiter: RateLimiter;
  /** Signs checkpoints; its verifier key (`signer.vkey`) verifies every log of this deployment. */
  readonly signer: NoteSigner;
  readonly integrator: Integrator;
  /** The loaded packs' jobs, hooks and services (src/catalog/pack-module.ts; docs/packs.md). */
  readonly packs: PackRuntime;
  /** Expires commands held for approval past their TTL, as the system actor. */
  readonly sweeper: ApprovalSweeper;
  /** Gives tenants created by writ.CreateTenant their first admin (in their own logs). */
  readonly tenants: TenantBootstrapper;
  /** The outbox dispatcher, when this process delivers events (outbox.enabled and sinks configured). */
  readonly outbox: Dispatcher | null;
  /** The clock this writ runs on (OpenOptions.now). */
  readonly now: () => number;
  /** Prometheus metrics (GET /metrics; docs/metrics.md), in a registry of this writ's own. */
  readonly metrics: WritMetrics;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Clock, for tests of skew and expiry. */
  readonly now?: () => number;
  /** Opens outbox sinks instead of openSink (benchmarks wrap a real sink to time its deliveries). */
  readonly openSink?: (config: SinkConfig) => Sink;
  /** What this process is (`writ serve`, `writ init`, …): a second process on the home is told who holds it. */
  readonly command?: string;
}

export function builtinPacksDir(): string {
  return join(packageRoot(), 'src', 'packs');
}

// Where policy texts come from (packs, then <home>/policies), for the CLI's policy tools too.
export { policySources };

/** The log signing key: its note name is the origin prefix, so one verifier key covers every log. */
export function openSigner(config: Config): NoteSigner {
  if (!existsSync(config.ledger.logKeyFile)) {
    throw new Error(`the log signing key ${config.ledger.logKeyFile} is missing; restore it from a backup (checkpoints must keep verifying) or set ledger.logKeyFile`);
  }
  return new NoteSigner(config.ledger.originPrefix, readFileSync(config.ledger.logKeyFile, 'utf8'));
}

/**
 * The built-in packs and the home's, set up for this deployment (`writ verify` replays the ledger
 * through their handlers). `exists` tells writ.CreateTenant which tenants have logs already; a
 * replay passes none (the tenant entity in the home tenant still refuses a second creation).
 */
export async function openCatalog(config: Config, exists: (tenant: string) => boolean = () => false): Promise<Catalog> {
  const tenantExists = (t: string) => exists(t) || config.auth.hmacKeys.some((k) => k.tenant === t);
  return loadCatalog([builtinPacksDir(), config.packsDir], BUILTIN_PACKS, { config, tenantExists });
}

/** The packs of a home (or the built-in ones only) as a tool reads them: actions and policies, no deployment (PackSetup). */
export function toolCatalog(packsDir?: string): Promise<Catalog> {
  return loadCatalog([builtinPacksDir(), ...(packsDir ? [packsDir] : [])], BUILTIN_PACKS);
}

export async function openWrit(config: Config, options: OpenOptions = {}): Promise<Writ> {
  const now = options.now ?? Date.now;
  // The applier, opened below, knows which tenants have logs.
  let served: () => Array<{ tenant: string }> = () => [];
  // The data folder is private (0700) when writ creates it: the database holds every envelope (and
  // beside PostgreSQL, a machine's copy of a home may come without it: config and keys only); the
  // knowledge pack keeps its search index there.
  mkdirSync(dirname(config.store.path), { recursive: true, mode: 0o700 });
  const catalog = await openCatalog(config, (t) => served().some((l) => l.tenant === t));
  const packs = new PackRuntime(catalog);
  const readPolicies = () => policySources(catalog, config.policiesDir);
  const sources = readPolicies();
  const policy = new LivePolicy({ policy: Policy.load(sources, { catalog }), ...digestOf(sources) });
  const signer = openSigner(config);
  // The store `store.kind` names; an embedded one takes the home's writer lock here.
  const store = await openStore(config, { command: options.command });
  // Several processes on one database take turns writing and elect one signer and one dispatcher.
  const shared = sharedOf(store);
  let verifier: Verifier | undefined;
  let unfollow: (() => void) | undefined;
  let intakePool: IntakePool | undefined;
  let integrator: Integrator | undefined;
  let dispatcher: Dispatcher | null = null;
  try {
    const directory = await Directory.load(store, configuredHmacKeys(config), catalog.roleDocs);
    // Beside other processes, keys, roles and flags they change reach this one within a second.
    if (shared) unfollow = followRegistries(shared, () => directory.reload(store));
    verifier = createVerifier(config.verify.workers);
    const jwt = new JwtVerifier(config.auth.jwt, { skewSeconds: config.freshness.skewSeconds, now });
    const access = new ReadAccess({ policy, directory, jwt, verifier, now, skewSeconds: config.freshness.skewSeconds, home: config.tenant, mode: config.auth.reads });
    const freshness = new Freshness({ skewSeconds: config.freshness.skewSeconds, cacheMax: config.freshness.nonceCacheMax }, store);
    await freshness.preload(now());
    const idempotency = new Idempotency();
    const retentionMs = config.idempotency.retentionSeconds * 1000;
    const outcomes = new OutcomeCache(retentionMs);
    // Only a sole writer sees every stored key, which the filter needs to answer "absent".
    const known = store.exclusive ? new KnownKeys(retentionMs, now()) : undefined;
    if (known) await store.scanOutcomeKeys((t, a, r) => known.add(t, a, r, now()));
    /** False when the key certainly has no stored outcome; true when it may (or nobody knows). */
    const mayHaveOutcome = (t: string, a: string, r: string) => !known || known.mayContain(t, a, r, now());
    if (config.verify.workers > 0) {
      // Bodies that look like retries of stored commands skip the workers' signature check.
      const pool = new IntakePool(config.verify.workers, config.intake, (body) => {
        const id = known && identityHint(body);
        return id ? mayHaveOutcome(id.tenant, id.actor, id.requestId) : false;
      });
      const replicate = (keys: KnownKey[]) =>
        pool.setKeys(keys.map((k) => ({ tenant: k.tenant, keyId: k.keyId, alg: k.alg as 'ed25519' | 'es256', spki: k.spki!, digest: k.digest! })));
      replicate(directory.publicKeys());
      directory.onKeysChanged = replicate;
      intakePool = pool;
    }
    const limiter = new RateLimiter(config.limits);
    const metrics = new WritMetrics();
    let toIntegrator: Integrator | undefined;
    let bootstrapper: TenantBootstrapper | undefined;
    const applier = await Applier.open({
      store,
      catalog,
      policy,
      directory,
      originPrefix: config.ledger.originPrefix,
      maxBatch: config.apply.maxBatch,
      nonceExpiry: (ctx) => freshness.expiryOf(ctx),
      onStored: (o, replaced) => {
        outcomes.put(o, now(), replaced);
        known?.add(o.tenant, o.actor, o.requestId, now());
      },
      onDurable: (tenant, scroll, size) => {
        toIntegrator?.noteDurable(tenant, scroll, size);
        dispatcher?.wake();
        packs.wake();
        if (tenant === config.tenant && scroll === 'writ') bootstrapper?.wake();
      },
      mayHaveOutcome,
      onCommitted: (commands, seconds) => metrics.batch(commands, seconds),
      onApplied: (rows) => packs.afterCommit(rows),
      beforeCommit: () => packs.beforeCommit(),
      now,
      ...(shared ? { turn: shared.turn } : {}),
    });
    const tenantsWith = (scroll?: string) => [...new Set(applier.logSizes().filter((l) => scroll === undefined || l.scroll === scroll).map((l) => l.tenant))];
    const reads = {
      now,
      tenants: tenantsWith,
      get: (t: string, type: string, id: string) => store.getEntity(t, type, id),
      list: (t: string, type: string, after: string | null, limit: number) => store.listEntities(t, type, after, limit),
    };
    // What packs keep beside state is brought up to it before anything is served (the knowledge refs).
    await packs.start(reads);
    integrator = await Integrator.open(
      {
        store,
        signer,
        hasher: nodeHasher,
        originPrefix: config.ledger.originPrefix,
        intervalMs: config.ledger.checkpointIntervalMs,
        anchors: await openAnchors(config),
        cosigners: config.witnesses.list.map((w) => new WitnessClient({ ...w, timeoutMs: config.witnesses.timeoutMs })),
        witnessQuorum: config.witnesses.quorum,
        now,
        ...(shared ? { lease: await leaseReady(shared.lease('signer')) } : {}),
      },
      applier.logSizes(),
    );
    toIntegrator = integrator;
    served = () => applier.logSizes();
    integrator.start();
    let leased: { close(): Promise<void> } | undefined;
    // A sink that cannot be set up stops the start of every process, not only the lease holder's.
    if (shared && config.outbox.enabled) await checkSinks(config.outbox.sinks);
    // Beside other processes, one process delivers the outbox: to the configured sinks and to the
    // packs' consumers (an effector must act once), each following the one outbox lease.
    const outboxLease = shared ? shareLease(await leaseReady(shared.lease('outbox'))) : undefined;
    if (config.outbox.enabled && config.outbox.sinks.length > 0) {
      const open = (term?: number) => Dispatcher.open({ store, config: config.outbox, now, open: options.openSink, term });
      if (outboxLease) leased = leaseDispatcher(outboxLease(), open, (d) => (dispatcher = d));
      else {
        dispatcher = await open();
        dispatcher.start();
      }
    }
    const pipeline = new Pipeline({
      intake: config.intake,
      intakePool,
      auth: {
        require: config.auth.require,
        directory,
        verifier,
        jwt,
        lookup: async (t, a, r) => {
          const cached = outcomes.get(t, a, r, now());
          if (cached) return cached;
          if (!mayHaveOutcome(t, a, r)) return null;
          const found = await store.getOutcome(t, a, r);
          if (found) outcomes.put(found, now());
          return found;
        },
      },
      freshness,
      idempotency,
      limiter,
      directory,
      catalog,
      policy,
      applier,
      now,
      observer: metrics,
    });
    packs.startJobs({
      ...reads,
      maxBytes: config.intake.maxBytes,
      submit: (t, a, p, r) => pipeline.system(t, a, p, r),
      answered: async (t, r) => {
        const o = await store.getOutcome(t, SYSTEM_ACTOR, r);
        return o ? { httpStatus: o.httpStatus, body: o.response } : null;
      },
      // A flag on the system actor (or its tenant) holds its jobs' commands until it is lifted.
      held: (t) => directory.flagOf(t, SYSTEM_ACTOR) !== undefined,
      submitSigned: async (body) => {
        const reply = await pipeline.submit({ body, receivedAt: now() });
        return { httpStatus: reply.httpStatus, body: reply.body };
      },
      // A job's consumer is a sink of its own: its cursor is kept like a configured sink's. Its
      // maxAttempts bounds deliveries writ itself refused (closing); the job bounds its own work.
      consume: (name, actions, sink) => openConsumer({ store, outbox: config.outbox, now, lease: outboxLease?.() }, name, actions, sink),
      metric: (family) => metrics.family(family),
      leaf: leafOf(store, config.ledger.originPrefix),
    });
    const sweeper = new ApprovalSweeper({
      store,
      submit: (t, a, p, r) => pipeline.system(t, a, p, r),
      tenants: () => applier.logSizes().map((l) => l.tenant),
      keep: (t, a, r) => known?.add(t, a, r, now()),
      now,
      intervalMs: config.approvals.sweepIntervalMs,
    });
    if (config.approvals.sweepEnabled) sweeper.start();
    const policyReload = new PolicyReload({
      live: policy,
      read: readPolicies,
      load: (s) => Policy.load(s, { catalog }),
      record: (p, r) => pipeline.system(config.tenant, RECORD_POLICY, p, r),
      recorded: async () => ((await store.getEntity(config.tenant, 'policyset', 'in-force'))?.doc as { digest?: string } | undefined)?.digest ?? null,
    });
    await policyReload.noteStart();
    bootstrapper = new TenantBootstrapper({ store, directory, home: config.tenant, submit: (t, a, p, r) => pipeline.system(t, a, p, r) });
    // A tenant whose bootstrap an earlier process did not finish gets its admin now.
    bootstrapper.wake();
    const tenantBootstrapper = bootstrapper;
    const pruner = setInterval(() => void store.prune(now(), retentionMs).catch(() => undefined), 60_000);
    pruner.unref();
    const it = integrator;
    registerStateFamilies(metrics, {
      counters: pipeline.counters,
      applier,
      idempotency,
      logs: () => it.status(),
      checkpoints: () => store.latestCheckpoints(),
      outbox: () => outboxStatus(store, config.outbox, dispatcher, now()),
      now,
    });
    const v = verifier;
    const ip = intakePool;
    const queries: Queries = {
      entities: store,
      ledger: store,
      outcomes: store,
      outbox: store,
      outboxStatus: () => outboxStatus(store, config.outbox, dispatcher, now()),
      approvals: approvalQueries({ store, catalog, directory, now }),
      health: store,
    };
    return {
      config,
      store,
      queries,
      catalog,
      policy: policyReload,
      directory,
      access,
      pipeline,
      applier,
      freshness,
      idempotency,
      limiter,
      signer,
      integrator: it,
      packs,
      sweeper,
      tenants: tenantBootstrapper,
      // A getter: with a shared store the dispatcher comes and goes with the outbox lease.
      get outbox() {
        return dispatcher;
      },
      now,
      metrics,
      async close() {
        clearInterval(pruner);
        unfollow?.();
        await tenantBootstrapper.close();
        await packs.stopJobs();
        await sweeper.close();
        while (applier.pending > 0) await new Promise((r) => setTimeout(r, 5));
        await packs.close();
        await leased?.close();
        await dispatcher?.close();
        await it.close();
        await v.close();
        await ip?.close();
        await store.close();
      },
    };
  } catch (err) {
    unfollow?.();
    await packs.stopJobs();
    await packs.close().catch(() => undefined);
    await dispatcher?.close();
    await integrator?.close();
    await verifier?.close();
    await intakePool?.close();
    await store.close();
    throw err;
  }
}
