import type { Catalog } from '../../catalog/catalog.js';
import { WritError } from '../../core/errors.js';
import type { CommandContext } from '../context.js';

/** The action must exist in the catalog and the payload must match its JSON Schema (2020-12). */
export function validate(ctx: CommandContext, catalog: Catalog): void {
  const action = catalog.get(ctx.envelope.action);
  if (!action) throw new WritError('UNKNOWN_ACTION', `there is no action ${JSON.stringify(ctx.envelope.action)}; GET /v1/actions lists them`);
  ctx.action = action;
  if (!action.validate(ctx.envelope.payload)) {
    const errors = (action.validate.errors ?? []).slice(0, 20).map((e) => ({ path: e.instancePath || '/', message: e.message ?? 'is invalid', ...(e.params && Object.keys(e.params).length ? { params: e.params } : {}) }));
    const first = errors[0];
    throw new WritError('INVALID_PAYLOAD', `payload of ${action.name} is invalid: ${first ? `${first.path} ${first.message}` : 'schema mismatch'}`, { details: { errors } });
  }
  ctx.target = catalog.target(action, ctx.envelope.payload, ctx.envelope.target);
}
