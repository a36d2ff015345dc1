import { loadCatalog } from '../src/catalog/catalog.js';
import { BUILTIN_PACKS } from '../src/packs/index.js';
import { Policy, type PolicyRequest } from '../src/policy/cedar.js';
import { factsOf } from '../src/policy/schema.js';
import { builtinPacksDir, policySources } from '../src/writ.js';
import { emit, percentile, round } from './support.js';

/** Who asks: the shipped roles alone and combined, an unknown role, and no role at all. */
const ROLE_SETS: readonly (readonly string[])[] = [['admin'], ['editor'], ['publisher'], ['editor', 'publisher'], ['merch'], []];
const ROLES_GRANTED = ['admin', 'editor', 'publisher', 'breakglass'];

/**
 * Realistic requests over the whole shipped catalog: every action, by actors holding each role
 * set, on distinct targets, with payload facts filled in (AssignRole/RevokeRole cycle through the
 * roles, so both the auto and the approval permits of the access pack are exercised).
 */
async function requests(count: number): Promise<{ policy: (memoise: boolean) => Policy; list: PolicyRequest[] }> {
  const catalog = await loadCatalog([builtinPacksDir()], BUILTIN_PACKS);
  const sources = policySources(catalog, '/nonexistent');
  const actions = catalog.actions();
  const list: PolicyRequest[] = [];
  for (let i = 0; i < count; i++) {
    const a = actions[i % actions.length];
    const payload: Record<string, unknown> = {};
    for (const [name, fact] of factsOf(a.schema)) payload[name] = fact.type === 'Long' ? i : fact.type === 'Boolean' ? i % 2 === 0 : `v${i}`;
    if ('role' in payload) payload.role = ROLES_GRANTED[i % ROLES_GRANTED.length];
    const actor = `actor-${i % 50}`;
    list.push({ tenant: `t${i % 3}`, actor, roles: ROLE_SETS[(i * 7) % ROLE_SETS.length], action: a.name, pack: a.pack, target: `${a.entity}/item-${i}`, payload });
  }
  return { policy: (memoise) => Policy.load(sources, { catalog, memoise }), list };
}

function measure(policy: Policy, list: readonly PolicyRequest[]): { seconds: number; us: number[]; allowed: number; approval: number } {
  const us = new Float64Array(list.length);
  let allowed = 0;
  let approval = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < list.length; i++) {
    const t = process.hrtime.bigint();
    const d = policy.authorize(list[i]);
    us[i] = Number(process.hrtime.bigint() - t) / 1000;
    if (d.allowed) allowed++;
    if (d.requirement) approval++;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { seconds, us: Array.from(us.sort()), allowed, approval };
}

/**
 * `{"bench":"policy"}`: Cedar decisions per second and their latency, first with memoisation off
 * (every call is one Cedar evaluation in the wasm module: what Cedar itself costs), then on (what
 * the authorize stage pays for repeated tenant/actor/roles/action/fact combinations).
 */
export async function benchPolicy(count: number): Promise<void> {
  const { policy, list } = await requests(count);
  for (const memoise of [false, true]) {
    const p = policy(memoise);
    measure(p, list.slice(0, Math.min(2000, list.length))); // warm the wasm module and the JIT
    const r = measure(p, list);
    emit({
      bench: 'policy',
      memoised: p.memoised,
      decisions: list.length,
      decisions_per_s: Math.round(list.length / r.seconds),
      us_p50: round(percentile(r.us, 50)),
      us_p99: round(percentile(r.us, 99)),
      policies: p.policies().length,
      allowed_share: round(r.allowed / list.length, 3),
      approval_share: round(r.approval / list.length, 3),
    });
  }
}
