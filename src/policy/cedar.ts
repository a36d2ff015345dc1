import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { EntityJson } from '@cedar-policy/cedar-wasm/nodejs';

/**
 * The Cedar adapter (DESIGN §5). Entity model:
 *   principal  Writ::Actor::"<actor>"   attrs {tenant}; parents Writ::Role::"<role>" for each role held
 *   action     Writ::Action::"<name>"   parent Writ::Action::"pack:<pack>"
 *   resource   Writ::Resource::"<type>/<id>"
 *   context    {tenant}
 * Policy sets are parsed once (preparsed in the wasm module) and evaluated per command.
 */
export interface PolicySource {
  /** Where the text came from (file path), named in errors and in decision reasons. */
  readonly source: string;
  readonly text: string;
}

export interface PolicyRequest {
  readonly tenant: string;
  readonly actor: string;
  readonly roles: readonly string[];
  readonly action: string;
  readonly pack: string;
  readonly target: string;
}

export interface Decision {
  readonly allowed: boolean;
  /** The policies that decided, as `<source>#<n>`. */
  readonly reasons: readonly string[];
}

export class PolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyError';
  }
}

let nextSetId = 0;

/** Most memoised decisions kept; the oldest go first. */
export const DECISION_CACHE_MAX = 100_000;

/**
 * True when no policy can tell resources apart: every resource scope is unconstrained and no
 * condition mentions `resource`. Then, in writ's entity model (resources carry no attributes or
 * parents, context holds only the tenant), a decision is a function of tenant, actor, roles and
 * action alone, and may be memoised under exactly that key.
 */
function resourceIndependent(policies: Record<string, string>): boolean {
  for (const text of Object.values(policies)) {
    const json = cedar.policyToJson(text);
    if (json.type === 'failure') return false;
    if (json.json.resource.op !== 'All') return false;
    if (JSON.stringify(json.json.conditions).includes('"Var":"resource"')) return false;
  }
  return true;
}

export class Policy {
  private readonly setId: string;
  private readonly actionEntities = new Map<string, EntityJson>();
  private readonly decisions = new Map<string, Decision>();
  /** Whether decisions are memoised (see resourceIndependent). */
  readonly memoised: boolean;

  private constructor(setId: string, memoised: boolean) {
    this.setId = setId;
    this.memoised = memoised;
  }

  /** Parses every source; a syntax error names its source and line. */
  static load(sources: readonly PolicySource[]): Policy {
    const policies: Record<string, string> = {};
    for (const { source, text } of sources) {
      const parts = cedar.policySetTextToParts(text);
      if (parts.type === 'failure') throw new PolicyError(`${source}: ${describeErrors(text, parts.errors)}`);
      parts.policies.forEach((p, i) => {
        policies[`${source}#${i}`] = p;
      });
    }
    const policy = new Policy(`writ-${process.pid}-${nextSetId++}`, resourceIndependent(policies));
    const answer = cedar.preparsePolicySet(policy.setId, { staticPolicies: policies });
    if (answer.type === 'failure') throw new PolicyError(answer.errors.map((e) => e.message).join('; '));
    return policy;
  }

  authorize(req: PolicyRequest): Decision {
    if (!this.memoised) return this.evaluate(req);
    const key = `${req.tenant}\n${req.actor}\n${req.roles.join(',')}\n${req.action}`;
    let decision = this.decisions.get(key);
    if (!decision) {
      decision = this.evaluate(req);
      if (this.decisions.size >= DECISION_CACHE_MAX) this.decisions.delete(this.decisions.keys().next().value!);
      this.decisions.set(key, decision);
    }
    return decision;
  }

  /** One Cedar evaluation, without memoisation. */
  evaluate(req: PolicyRequest): Decision {
    const principal = { type: 'Writ::Actor', id: req.actor };
    const action = { type: 'Writ::Action', id: req.action };
    const answer = cedar.statefulIsAuthorized({
      principal,
      action,
      resource: { type: 'Writ::Resource', id: req.target },
      context: { tenant: req.tenant },
      preparsedPolicySetId: this.setId,
      entities: [
        { uid: principal, attrs: { tenant: req.tenant }, parents: req.roles.map((r) => ({ type: 'Writ::Role', id: r })) },
        this.actionEntity(req.action, req.pack),
      ],
    });
    if (answer.type === 'failure') return { allowed: false, reasons: answer.errors.map((e) => `error: ${e.message}`) };
    const { decision, diagnostics } = answer.response;
    return { allowed: decision === 'allow' && diagnostics.errors.length === 0, reasons: diagnostics.reason };
  }

  private actionEntity(name: string, pack: string): EntityJson {
    let e = this.actionEntities.get(name);
    if (!e) {
      e = { uid: { type: 'Writ::Action', id: name }, attrs: {}, parents: [{ type: 'Writ::Action', id: `pack:${pack}` }] };
      this.actionEntities.set(name, e);
    }
    return e;
  }
}

function describeErrors(text: string, errors: ReadonlyArray<{ message: string; sourceLocations?: ReadonlyArray<{ start: number }> }>): string {
  return errors
    .map((e) => {
      const at = e.sourceLocations?.[0]?.start;
      if (at === undefined) return e.message;
      const line = text.slice(0, at).split('\n').length;
      return `line ${line}: ${e.message}`;
    })
    .join('; ');
}
