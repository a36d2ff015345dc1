import type { HandlerModule } from '../../catalog/catalog.js';
import type { EffectContext, EffectPlan } from '../../catalog/types.js';
import { WritError } from '../../core/errors.js';
import { firstKeyId } from '../../home/bootstrap.js';
import { TENANT_TYPE, type TenantDoc } from '../../state/documents.js';
import { keyTypeOf } from './handlers.js';

export { TENANT_TYPE, type TenantDoc } from '../../state/documents.js';

export interface TenantDeps {
  /** The deployment's home tenant (config.tenant): tenants are created from it only. */
  readonly home: string;
  /** Whether writ already serves `tenant` (it has a log, or keys configured in auth.hmacKeys). */
  readonly exists: (tenant: string) => boolean;
}

/**
 * writ.CreateTenant, bound to the deployment (openWrit): it records the new tenant and its first
 * admin's public key in the home tenant; the tenant bootstrapper then registers that key and
 * assigns admin in the new tenant's own logs, on writ's authority, as `writ init` does.
 */
export function tenantHandlers(deps: TenantDeps): HandlerModule {
  return {
    createTenant(ctx: EffectContext): EffectPlan {
      const p = ctx.payload as { tenant: string; admin: string; alg: 'ed25519' | 'es256'; publicKey: string };
      if (ctx.envelope.tenant !== deps.home) {
        throw new WritError('FORBIDDEN', `tenants are created from the deployment's home tenant ${JSON.stringify(deps.home)} by its admins, not from tenant ${JSON.stringify(ctx.envelope.tenant)}`);
      }
      if (ctx.current || p.tenant === deps.home || deps.exists(p.tenant)) {
        throw new WritError('INVALID_STATE', `tenant ${JSON.stringify(p.tenant)} exists already; \`writ tenants list\` shows the tenants, choose another name`, { details: { tenant: p.tenant } });
      }
      const kind = keyTypeOf(p.publicKey);
      if (kind === undefined) throw new WritError('INVALID_PAYLOAD', 'publicKey is not an SPKI PEM public key');
      if (kind !== p.alg) throw new WritError('INVALID_PAYLOAD', `publicKey is a ${kind} key but alg is ${p.alg}`);
      const doc: TenantDoc = { tenant: p.tenant, admin: p.admin, keyId: firstKeyId(p.admin), alg: p.alg, publicKey: p.publicKey, createdAt: ctx.now, createdBy: ctx.envelope.actor };
      return { writes: [{ ...ctx.target, doc }], result: { tenant: p.tenant, admin: p.admin, keyId: doc.keyId } };
    },
  };
}
