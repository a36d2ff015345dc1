import type { Policy, PolicyRequest } from './cedar.js';
import { describeRequirement, type ApprovalRequirement } from './requirement.js';

/** One policy that took part in a decision. */
export interface MatchedPolicy {
  readonly policy: string;
  readonly file: string;
  readonly line: number;
  readonly effect: 'permit' | 'forbid';
  /** What the permit asks for; null for a forbid or an un-annotated permit. */
  readonly requirement: ApprovalRequirement | null;
}

/** `writ policy explain`: the decision for one request, the policies behind it, and why. */
export interface Explanation {
  /** allow: runs outright; approval: runs once approved; deny: refused. */
  readonly decision: 'allow' | 'approval' | 'deny';
  readonly matched: readonly MatchedPolicy[];
  readonly requirement: ApprovalRequirement | null;
  /** Evaluation errors (a policy that fails to evaluate makes writ deny). */
  readonly errors: readonly string[];
  readonly why: string;
}

const where = (m: MatchedPolicy) => `${m.file}:${m.line}`;

/** Explains one request, always evaluated afresh (never from the memo). */
export function explain(policy: Policy, req: PolicyRequest): Explanation {
  const d = policy.evaluate(req);
  const errors = d.reasons.filter((r) => r.startsWith('error: ')).map((r) => r.slice(7));
  const reasons = new Set(d.reasons);
  const matched: MatchedPolicy[] = policy
    .policies()
    .filter((p) => reasons.has(p.id))
    .map((p) => ({ policy: p.id, file: p.source, line: p.line, effect: p.effect, requirement: p.requirement }));
  const who = `${req.actor} (${req.roles.length ? `roles ${req.roles.join(', ')}` : 'no roles'})`;
  let why: string;
  if (!d.allowed) {
    const forbids = matched.filter((m) => m.effect === 'forbid');
    if (forbids.length) why = `denied: ${forbids.map(where).join(', ')} forbid${forbids.length === 1 ? 's' : ''} it, and a matching forbid always wins`;
    else if (errors.length) why = `denied: a policy failed to evaluate, and writ fails closed (${errors.join('; ')})`;
    else why = `denied: no permit matches ${who} running ${req.action}`;
    return { decision: 'deny', matched, requirement: null, errors, why };
  }
  const auto = matched.find((m) => m.requirement === null);
  if (auto || !d.requirement) {
    why = `allowed outright: ${auto ? where(auto) : 'a matching permit'} permits ${who} to run ${req.action} without @approval or @airlock`;
    return { decision: 'allow', matched, requirement: null, errors, why };
  }
  const from = matched.find((m) => m.policy === d.requirement!.policy);
  why =
    `needs approval: every permit that matches asks for approval; ` +
    (matched.length > 1 ? `the least demanding of the ${matched.length} (no airlock, then smaller quorum, then more eligible roles…) is ` : '') +
    `${from ? where(from) : d.requirement.policy}: ${describeRequirement(d.requirement)}`;
  return { decision: 'approval', matched, requirement: d.requirement, errors, why };
}
