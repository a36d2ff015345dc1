import type { PackSetup } from '../../catalog/pack-module.js';
import { airlockSecret } from '../../approvals/totp-secret.js';
import { airlockHandlers } from './airlock-handlers.js';
import { tenantHandlers } from './tenant-handlers.js';

/**
 * The system pack, bound to the deployment: the airlock's handlers to its TOTP secret (the spent
 * windows are in state), writ.CreateTenant to its home tenant and the tenants it serves. A tool's
 * catalog keeps the unbound handlers of src/packs/index.ts.
 */
export const writPack: PackSetup = (env) => {
  if (!env) return {};
  const { config } = env;
  return {
    handlers: {
      ...airlockHandlers({ secret: airlockSecret(config.approvals.totpSecretFile) }),
      // A tenant exists once it has a log, or keys configured for it (writ.CreateTenant refuses it then).
      ...tenantHandlers({ home: config.tenant, exists: (t) => env.tenantExists(t) }),
    },
  };
};
