import { WritError } from '../core/errors.js';
import type { EffectContext, EffectPlan, EffectSpec, Handler } from './types.js';

/** RFC 7396 JSON Merge Patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const base: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete base[key];
    else base[key] = mergePatch(base[key], value);
  }
  return base;
}

function live(ctx: EffectContext): Record<string, unknown> | null {
  return ctx.current && !ctx.current.deleted ? (ctx.current.doc as Record<string, unknown>) : null;
}

/** The declarative effects of DESIGN §4; `handler` effects are resolved by the catalog loader. */
export function declarativeEffect(spec: EffectSpec): Handler {
  switch (spec.kind) {
    case 'upsert':
      return (ctx): EffectPlan => ({ writes: [{ ...ctx.target, doc: ctx.payload }], result: { ...ctx.target, created: live(ctx) === null } });
    case 'merge':
      return (ctx): EffectPlan => ({ writes: [{ ...ctx.target, doc: mergePatch(live(ctx) ?? {}, ctx.payload) }], result: { ...ctx.target } });
    case 'delete':
      return (ctx): EffectPlan => {
        if (live(ctx) === null) throw new WritError('NOT_FOUND', `${ctx.target.type} ${JSON.stringify(ctx.target.id)} does not exist`);
        return { writes: [{ ...ctx.target, deleted: true }], result: { ...ctx.target, deleted: true } };
      };
    case 'transition':
      return (ctx): EffectPlan => {
        const doc = live(ctx);
        const state = doc?.[spec.field];
        if (doc === null || typeof state !== 'string' || !spec.from.includes(state)) {
          throw new WritError('INVALID_STATE', `${ctx.target.type} ${JSON.stringify(ctx.target.id)} is ${JSON.stringify(state ?? 'absent')}; this action needs ${spec.from.join(' or ')}`, {
            details: { field: spec.field, current: state ?? null, allowed: spec.from },
          });
        }
        return { writes: [{ ...ctx.target, doc: { ...doc, [spec.field]: spec.to } }], result: { ...ctx.target, [spec.field]: spec.to } };
      };
    case 'handler':
      throw new Error(`effect handler ${spec.name} must be resolved by the catalog`);
  }
}
