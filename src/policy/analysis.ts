import type { PolicyJson } from '@cedar-policy/cedar-wasm/nodejs';

/**
 * What the policies read of a request beyond principal and action, found by walking their JSON
 * form. It decides what a request must carry (only the payload facts some policy reads) and what
 * a memoised decision's key must hold (DESIGN §5: parse once, decide cheaply).
 */
export interface RequestUse {
  /** Some policy constrains or reads `resource`. */
  readonly resource: boolean;
  /**
   * Payload facts the policies read as `context.payload.<field>` or `context.payload has <field>`;
   * 'all' when some policy uses `context` in any other way (e.g. `context has payload`).
   */
  readonly payload: ReadonlySet<string> | 'all';
}

type Node = unknown;

const CONTEXT_FACTS = new Set(['tenant', 'own', 'decides']);

const isVar = (n: Node, name: string) => typeof n === 'object' && n !== null && (n as { Var?: unknown }).Var === name;
const isPayload = (n: Node) => {
  const dot = typeof n === 'object' && n !== null ? (n as { '.'?: { left: Node; attr: string } })['.'] : undefined;
  return dot !== undefined && isVar(dot.left, 'context') && dot.attr === 'payload';
};

export function analyse(policies: Iterable<PolicyJson>): RequestUse {
  let resource = false;
  let all = false;
  const fields = new Set<string>();

  /** Walks an expression; `context.tenant|own|decides` and `context.payload.<f>` are the understood uses. */
  function walk(n: Node): void {
    if (Array.isArray(n)) return n.forEach(walk);
    if (typeof n !== 'object' || n === null) return;
    const o = n as Record<string, any>;
    if (o.Var === 'resource') resource = true;
    if (o.Var === 'context') all = true; // a use of the whole context not matched below
    const access = o['.'] ?? o.has;
    if (access && typeof access.attr === 'string') {
      // The tenant, and a read's own and decides (policy/reads.ts), are no payload facts.
      if (isVar(access.left, 'context') && CONTEXT_FACTS.has(access.attr) && o['.']) return;
      if (isPayload(access.left)) {
        fields.add(access.attr);
        return;
      }
    }
    if (isPayload(n)) {
      all = true;
      return;
    }
    for (const v of Object.values(o)) walk(v);
  }

  for (const p of policies) {
    if (p.resource.op !== 'All') resource = true;
    walk(p.conditions);
  }
  return { resource, payload: all ? 'all' : fields };
}
