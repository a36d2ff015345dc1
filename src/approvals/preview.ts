import type { Catalog } from '../catalog/catalog.js';
import { WritError, toWritError } from '../core/errors.js';
import type { Directory } from '../state/directory.js';
import { DEPLOYMENT_SCOPE } from '../state/scope.js';
import type { EntityRow, EntityStore, LogStore } from '../store/port.js';
import type { ApprovalDoc } from './pending.js';

/** What a held command would do if it ran now. */
export type Preview =
  | {
      readonly ok: true;
      /** Each entity it would write, with the version it would get (a deleted one: `deleted: true`). */
      readonly writes: ReadonlyArray<{ readonly type: string; readonly id: string; readonly version: number; readonly doc?: unknown; readonly deleted?: true }>;
      readonly result: unknown;
    }
  | { readonly ok: false; readonly code: string; readonly message: string; readonly details?: unknown };

export interface PreviewDeps {
  readonly catalog: Catalog;
  readonly store: Pick<EntityStore, 'getEntity'> & Pick<LogStore, 'readLedger'>;
  readonly directory: Directory;
  readonly now: () => number;
}

/**
 * Plans a held command against committed state without writing anything: its expected-version
 * check and its action's effect, exactly as the applier would run them now (policy and flags are
 * re-checked only when it really runs). A refusal is a preview too: the code it would end with.
 */
export async function previewOf(doc: ApprovalDoc, deps: PreviewDeps): Promise<Preview> {
  const env = doc.envelope;
  const slash = doc.target.indexOf('/');
  const target = { type: doc.target.slice(0, slash), id: doc.target.slice(slash + 1) };
  const read = (type: string, id: string) => deps.store.getEntity(env.tenant, type, id);
  try {
    const action = deps.catalog.get(env.action);
    if (!action) throw new WritError('UNKNOWN_ACTION', `there is no action ${JSON.stringify(env.action)} any more`);
    const current = await read(target.type, target.id);
    const version = current?.version ?? 0;
    if (env.expectedVersion !== undefined && env.expectedVersion !== version) {
      throw new WritError('VERSION_CONFLICT', `${target.type} ${JSON.stringify(target.id)} is at version ${version}, not ${env.expectedVersion}`, { details: { current: version, expected: env.expectedVersion } });
    }
    const plan = await deps.catalog.handler(action.name)({
      envelope: env,
      payload: env.payload,
      target,
      current,
      now: new Date(deps.now()).toISOString(),
      get: read,
      getDeployment: (type, id) => deps.store.getEntity(DEPLOYMENT_SCOPE, type, id),
      roles: (actor) => deps.catalog.rolesOf(read, actor),
      configuredKey: (keyId) => deps.directory.configured(env.tenant, keyId),
      recordExists: async (scroll, index) => (await deps.store.readLedger(env.tenant, scroll, index, 1))[0]?.index === index,
    });
    const writes = [];
    for (const w of plan.writes) {
      const cur: EntityRow | null =
        w.scope === 'deployment' ? await deps.store.getEntity(DEPLOYMENT_SCOPE, w.type, w.id) : w.type === target.type && w.id === target.id ? current : await read(w.type, w.id);
      writes.push({ type: w.type, id: w.id, version: (cur?.version ?? 0) + 1, ...(w.deleted ? { deleted: true as const } : { doc: w.doc }) });
    }
    return { ok: true, writes, result: plan.result ?? null };
  } catch (err) {
    const e = toWritError(err);
    return { ok: false, code: e.code, message: e.code === 'INTERNAL' ? 'the effect failed unexpectedly' : e.message, ...(e.details ? { details: e.details } : {}) };
  }
}
