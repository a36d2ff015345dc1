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

export class Policy {
  private readonly setId: string;
  private readonly actionEntities = new Map<string, EntityJson>();

  private constructor(setId: string) {
    this.setId = setId;
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
    const policy = new Policy(`writ-${process.pid}-${nextSetId++}`);
    const answer = cedar.preparsePolicySet(policy.setId, { staticPolicies: policies });
    if (answer.type === 'failure') throw new PolicyError(answer.errors.map((e) => e.message).join('; '));
    return policy;
  }

  authorize(req: PolicyRequest): Decision {
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
