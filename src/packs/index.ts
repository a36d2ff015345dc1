import type { HandlerModule } from '../catalog/catalog.js';
import type { PackModule, PackSetup } from '../catalog/pack-module.js';
import { accessPack } from './access/pack.js';
import { contentPack } from './content/pack.js';
import { knowledgePack } from './knowledge/pack.js';
import { opsPack } from './ops/pack.js';
import { writPack } from './writ/pack.js';
import { assignRole, revokeRole } from './access/handlers.js';
import { otpHandlers } from './access/otp.js';
import { addDisputeEvidence, addShippingRate, addTaxRate, upsertInventory, upsertPriceRule } from './commerce/handlers.js';
import { approveContent, cancelSchedule, lockContent, publish, requestChanges, rollback, saveDraft, schedulePublish, submitForReview, unlockContent } from './content/handlers.js';
import { WritError } from '../core/errors.js';
import { airlockHandlers } from './writ/airlock-handlers.js';
import { approve, breakGlass, closeReview, expireApproval, reject } from './writ/approval-handlers.js';
import { redact, registerKey, revokeKey } from './writ/handlers.js';
import { abortRun, completeStage, sealRun, startRun } from './runs/handlers.js';
import { knowledgeHandlers } from './knowledge/handlers.js';
import { opsHandlers } from './ops/index.js';

/**
 * The airlock handlers without a TOTP secret, for loading the catalog outside a running writ (policy
 * tools, tests); openWrit replaces them with handlers bound to the deployment's secret.
 */
const unboundAirlock = airlockHandlers({
  secret: () => {
    throw new WritError('UNAVAILABLE', 'this catalog was loaded without the airlock secret');
  },
});

/** writ.CreateTenant outside a running writ: it needs the deployment (its home tenant and its logs). */
const unboundTenants: HandlerModule = {
  createTenant: () => {
    throw new WritError('UNAVAILABLE', 'this catalog was loaded outside a running writ; tenants are created through the server');
  },
};

/** The knowledge pack without its repositories; openCatalog binds it to the home's. */
const unboundKnowledge = knowledgeHandlers({
  repo: () => {
    throw new WritError('UNAVAILABLE', 'this catalog was loaded without the knowledge repositories');
  },
});

/** One-time codes without the bearer-token secret; openCatalog binds them to the home's. */
export const unboundOtp = otpHandlers({
  secret: () => {
    throw new WritError('UNAVAILABLE', 'this catalog was loaded without the bearer-token secret');
  },
});

/** Code handlers of the built-in packs, by pack name. Other packs ship a handlers.js of their own. */
export const BUILTIN_HANDLERS: Readonly<Record<string, HandlerModule>> = {
  content: { saveDraft, submitForReview, requestChanges, approveContent, publish, rollback, schedulePublish, cancelSchedule, lockContent, unlockContent },
  access: { assignRole, revokeRole, ...unboundOtp },
  commerce: { upsertInventory, upsertPriceRule, addShippingRate, addTaxRate, addDisputeEvidence },
  runs: { startRun, completeStage, abortRun, sealRun },
  knowledge: unboundKnowledge,
  ops: opsHandlers,
  writ: { registerKey, revokeKey, redact, approve, reject, breakGlass, expireApproval, closeReview, ...unboundAirlock, ...unboundTenants },
};

/** What the built-in packs add besides their unbound handlers: jobs, hooks, roles, bound handlers. */
const MODULES: Readonly<Record<string, PackSetup>> = { access: accessPack, content: contentPack, knowledge: knowledgePack, ops: opsPack, writ: writPack };

/**
 * The built-in packs' setups, by pack name: loadCatalog takes these where a home's pack has its
 * handlers.js and pack.js. A setup's handlers (bound to the deployment) replace the unbound ones.
 */
export const BUILTIN_PACKS: Readonly<Record<string, PackSetup>> = Object.fromEntries(
  Object.entries(BUILTIN_HANDLERS).map(([name, handlers]): [string, PackSetup] => [
    name,
    async (env) => {
      const module: PackModule = (await MODULES[name]?.(env)) ?? {};
      return { ...module, handlers: { ...handlers, ...module.handlers } };
    },
  ]),
);
