import './wasm-calls.js';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { EntityJson } from '@cedar-policy/cedar-wasm/nodejs';
import { analyse, type RequestUse } from './analysis.js';
import { compareDemand, requirementOf, type ApprovalRequirement, type Decision } from './requirement.js';
import { readAction, READS_GROUP, type ReadFacts, type ReadKind } from './reads.js';
import { factsOf, factValue, validateAgainstSchema, type Facts, type PolicyCatalog } from './schema.js';
import { formatProblems, lineOf, splitSource, type LocatedPolicy, type PolicySource, type Problem } from './sources.js';

export type { Decision } from './requirement.js';
export type { PolicySource } from './sources.js';

/**
 * The Cedar adapter (DESIGN §5). Entity model (docs/policy.md):
 *   principal  Writ::Actor::"<actor>"   attrs {tenant}; parents Writ::Role::"<role>" for each role held
 *   action     Writ::Action::"<name>"   parent Writ::Action::"pack:<pack>"
 *   resource   Writ::Resource::"<type>/<id>"
 *   context    {tenant, payload: {<the payload facts policies read>}}
 * Policy sets are parsed and validated once (preparsed in the wasm module) and evaluated per command.
 */
export interface PolicyRequest {
  readonly tenant: string;
  readonly actor: string;
  readonly roles: readonly string[];
  readonly action: string;
  readonly pack: string;
  readonly target: string;
  /** The command's payload; policies see its top-level string, integer and boolean fields. */
  readonly payload?: Readonly<Record<string, unknown>>;
}

/** A read (policy/reads.ts): who reads what kind of thing, in which tenant. */
export interface ReadRequest {
  readonly tenant: string;
  readonly actor: string;
  readonly roles: readonly string[];
  readonly kind: ReadKind;
  /** The resource read, `<type>/<id>` (e.g. `product/sku-1`, `ledger/commerce`, `outbox/events`). */
  readonly resource: string;
  readonly facts?: ReadFacts;
}

/** Every problem found while loading policies, each as `<file>:<line>: message`. */
export class PolicyError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid policies:\n  ${problems.join('\n  ')}`);
    this.name = 'PolicyError';
  }
}

/** One loaded policy: where it is, its effect, and what it asks for (permits only). */
export interface PolicyInfo extends LocatedPolicy {
  readonly effect: 'permit' | 'forbid';
  readonly requirement: ApprovalRequirement | null;
}

export interface PolicyOptions {
  /** Validate every policy against the schema generated from this catalog (strongly advised). */
  readonly catalog?: PolicyCatalog;
  /** Memoise decisions when they cannot depend on the resource (default true; off for benchmarks). */
  readonly memoise?: boolean;
}

let nextSetId = 0;

/** Most memoised decisions kept; the oldest go first. */
export const DECISION_CACHE_MAX = 100_000;

export class Policy {
  private readonly actionEntities = new Map<string, EntityJson>();
  private readonly decisions = new Map<string, Decision>();
  /**
   * Whether decisions are memoised: only when no policy can tell resources apart. Then, in writ's
   * entity model (resources carry no attributes or parents, the actor only its tenant), a decision
   * is a function of tenant, actor, roles, action and the payload facts policies read, which is
   * exactly the key (see key()).
   */
  readonly memoised: boolean;
  /** Validator warnings (e.g. a policy that can never apply), as `<file>:<line>: message`. */
  readonly warnings: readonly string[];

  private constructor(
    private readonly setId: string,
    private readonly byId: ReadonlyMap<string, PolicyInfo>,
    private readonly use: RequestUse,
    /** Payload facts per action, when loaded with a catalog. */
    private readonly facts: ReadonlyMap<string, Facts> | null,
    memoise: boolean,
    warnings: readonly string[],
  ) {
    this.memoised = memoise && !use.resource;
    this.warnings = warnings;
  }

  /**
   * Parses every source, reads the approval annotations of each permit and, given a catalog,
   * validates every policy against the schema generated from it. Throws a PolicyError listing every
   * problem (syntax, annotation, unknown action, type error), each naming its file and line.
   */
  static load(sources: readonly PolicySource[], options: PolicyOptions = {}): Policy {
    const problems: Problem[] = [];
    const byId = new Map<string, PolicyInfo>();
    for (const src of sources) {
      for (const p of splitSource(src, problems)) {
        const annotationProblems: string[] = [];
        const requirement = requirementOf(p.json.annotations ?? {}, p.id, annotationProblems);
        if (p.json.effect === 'forbid' && requirement) annotationProblems.push('@approval and @airlock apply to permits only; a forbid always denies');
        for (const message of annotationProblems) problems.push({ source: p.source, line: lineOf(p, message.startsWith('@airlock') ? '@airlock' : '@approval'), message });
        byId.set(p.id, { ...p, effect: p.json.effect, requirement: p.json.effect === 'permit' ? requirement : null });
      }
    }
    const staticPolicies = Object.fromEntries([...byId].map(([id, p]) => [id, p.text]));
    const warnings: Problem[] = [];
    let facts: Map<string, Facts> | null = null;
    if (options.catalog) {
      facts = new Map(options.catalog.actions().map((a) => [a.name, factsOf(a.schema)]));
      validateAgainstSchema(options.catalog, byId, problems, warnings);
    }
    if (problems.length > 0) throw new PolicyError(formatProblems(problems, sources));
    const use = analyse([...byId.values()].map((p) => p.json));
    const policy = new Policy(`writ-${process.pid}-${nextSetId++}`, byId, use, facts, options.memoise ?? true, formatProblems(warnings, sources));
    const answer = cedar.preparsePolicySet(policy.setId, { staticPolicies });
    if (answer.type === 'failure') throw new PolicyError(answer.errors.map((e) => e.message));
    return policy;
  }

  /** Every loaded policy, in load order. */
  policies(): PolicyInfo[] {
    return [...this.byId.values()];
  }

  info(id: string): PolicyInfo | undefined {
    return this.byId.get(id);
  }

  authorize(req: PolicyRequest): Decision {
    if (!this.memoised) return this.evaluate(req);
    const key = this.key(req);
    let decision = this.decisions.get(key);
    if (!decision) {
      decision = this.evaluate(req);
      this.remember(key, decision);
    }
    return decision;
  }

  private remember(key: string, decision: Decision): void {
    if (this.decisions.size >= DECISION_CACHE_MAX) this.decisions.delete(this.decisions.keys().next().value!);
    this.decisions.set(key, decision);
  }

  /**
   * Whether policy lets the reader read: a permit without annotations matches and no forbid does.
   * A permit that asks for approval does not grant a read (a read cannot wait for one).
   */
  mayRead(req: ReadRequest): boolean {
    const own = req.facts?.own === true;
    const decides = req.facts?.decides === true;
    const key = this.memoised ? `read\n${req.tenant}\n${req.actor}\n${req.roles.join(',')}\n${req.kind}\n${own}\n${decides}` : null;
    const cached = key === null ? undefined : this.decisions.get(key);
    const decision = cached ?? this.decide(req.tenant, req.actor, req.roles, readAction(req.kind), READS_GROUP, req.resource, { tenant: req.tenant, own, decides, payload: {} });
    if (key !== null && cached === undefined) this.remember(key, decision);
    return decision.allowed && decision.requirement === null;
  }

  /** One Cedar evaluation, without memoisation. */
  evaluate(req: PolicyRequest): Decision {
    return this.decide(req.tenant, req.actor, req.roles, req.action, `pack:${req.pack}`, req.target, { tenant: req.tenant, payload: this.payloadFacts(req) });
  }

  private decide(tenant: string, actor: string, roles: readonly string[], action: string, group: string, resource: string, context: Record<string, string | boolean | Record<string, unknown>>): Decision {
    const principal = { type: 'Writ::Actor', id: actor };
    const answer = cedar.statefulIsAuthorized({
      principal,
      action: { type: 'Writ::Action', id: action },
      resource: { type: 'Writ::Resource', id: resource },
      context: context as never,
      preparsedPolicySetId: this.setId,
      entities: [
        { uid: principal, attrs: { tenant }, parents: roles.map((r) => ({ type: 'Writ::Role', id: r })) },
        this.actionEntity(action, group),
      ],
    });
    if (answer.type === 'failure') return deny(answer.errors.map((e) => `error: ${e.message}`));
    const { decision, diagnostics } = answer.response;
    // A policy that errors is skipped by Cedar; writ fails closed instead.
    if (decision !== 'allow' || diagnostics.errors.length > 0) {
      return deny([...diagnostics.reason, ...diagnostics.errors.map((e) => `error: ${e.policyId}: ${e.error.message}`)]);
    }
    return Object.freeze({ allowed: true, reasons: Object.freeze(diagnostics.reason), requirement: this.leastDemanding(diagnostics.reason) });
  }

  /** null when some matching permit has no annotation (auto); else the least demanding requirement. */
  private leastDemanding(permits: readonly string[]): ApprovalRequirement | null {
    let best: ApprovalRequirement | null = null;
    for (const id of permits) {
      const r = this.byId.get(id)?.requirement ?? null;
      if (r === null) return null;
      if (best === null || compareDemand(r, best) < 0) best = r;
    }
    return best;
  }

  /** The payload facts policies read (all of them if a policy uses the context as a whole). */
  private payloadFacts(req: PolicyRequest): Record<string, string | number | boolean> {
    const out: Record<string, string | number | boolean> = {};
    if (!req.payload) return out;
    const declared = this.facts?.get(req.action);
    const wanted = this.use.payload === 'all' ? (declared ? declared.keys() : Object.keys(req.payload)) : this.use.payload;
    for (const field of wanted) {
      if (!Object.hasOwn(req.payload, field)) continue;
      if (this.facts && !declared?.has(field)) continue;
      const value = factValue(declared?.get(field)?.type, req.payload[field]);
      if (value !== undefined) out[field] = value;
    }
    return out;
  }

  /** Everything a memoised decision depends on (see `memoised`). */
  private key(req: PolicyRequest): string {
    const read = this.use.payload === 'all' || this.use.payload.size > 0;
    return `${req.tenant}\n${req.actor}\n${req.roles.join(',')}\n${req.action}${read ? `\n${JSON.stringify(this.payloadFacts(req))}` : ''}`;
  }

  private actionEntity(name: string, group: string): EntityJson {
    let e = this.actionEntities.get(name);
    if (!e) {
      e = { uid: { type: 'Writ::Action', id: name }, attrs: {}, parents: [{ type: 'Writ::Action', id: group }] };
      this.actionEntities.set(name, e);
    }
    return e;
  }
}

function deny(reasons: string[]): Decision {
  return Object.freeze({ allowed: false, reasons: Object.freeze(reasons), requirement: null });
}
