import type { Catalog } from '../../catalog/catalog.js';
import type { EffectPlan } from '../../catalog/types.js';
import { WritError } from '../../core/errors.js';
import { DEPLOYMENT_SCOPE } from '../../state/scope.js';
import type { EntityRow } from '../../store/port.js';
import type { CommandContext } from '../context.js';

/** What planning a command reads: state as the batch sees it, and the time of its record. */
export interface PlanDeps {
  readonly catalog: Catalog;
  readonly now: () => number;
  /** Reads an entity as the command being planned must see it. */
  readonly read: (tenant: string, type: string, id: string) => Promise<EntityRow | null>;
  /** The actor of a key configured in auth.hmacKeys under this id, if there is one. */
  readonly configuredKey: (tenant: string, keyId: string) => { readonly actor: string } | undefined;
  /** Whether the tenant's log `scroll` holds a record at `index`. */
  readonly recordExists: (tenant: string, scroll: string, index: number) => Promise<boolean>;
}

/**
 * A command's effect: the expected-version check, then the action's handler. The one planning
 * function: the applier runs it for every command, and the ledger replay (src/state/replay.ts) runs
 * it again on the stored commands, so state and its recomputation cannot drift apart.
 */
export async function planCommand(deps: PlanDeps, ctx: CommandContext, current: EntityRow | null): Promise<EffectPlan> {
  const env = ctx.envelope;
  const version = current?.version ?? 0;
  if (env.expectedVersion !== undefined && env.expectedVersion !== version) {
    throw new WritError('VERSION_CONFLICT', `${ctx.target!.type} ${JSON.stringify(ctx.target!.id)} is at version ${version}, not ${env.expectedVersion}`, {
      details: { current: version, expected: env.expectedVersion },
    });
  }
  const plan = await deps.catalog.handler(ctx.action!.name)({
    envelope: env,
    payload: env.payload,
    target: ctx.target!,
    current,
    now: new Date(deps.now()).toISOString(),
    get: (type, id) => deps.read(env.tenant, type, id),
    getDeployment: (type, id) => deps.read(DEPLOYMENT_SCOPE, type, id),
    roles: (actor) => deps.catalog.rolesOf((type, id) => deps.read(env.tenant, type, id), actor),
    configuredKey: (keyId) => deps.configuredKey(env.tenant, keyId),
    recordExists: (scroll, index) => deps.recordExists(env.tenant, scroll, index),
  });
  if (plan.scroll !== undefined) checkPlanScroll(ctx.action!.scroll, plan.scroll, ctx.action!.name);
  return plan;
}

const SCROLL = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * A handler may send its record only to a scroll of its action's own (`<scroll>-<suffix>`), never
 * into another pack's log; the catalog refuses packs whose scrolls would overlap that way. A bad
 * choice is a bug of the handler, hence INTERNAL.
 */
function checkPlanScroll(own: string, chosen: string, action: string): void {
  if (chosen === own || (SCROLL.test(chosen) && chosen.startsWith(`${own}-`))) return;
  throw new WritError('INTERNAL', `the handler of ${action} chose log ${JSON.stringify(chosen)}, which is not ${own} or ${own}-<suffix>`);
}
