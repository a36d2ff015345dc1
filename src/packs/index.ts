import type { HandlerModule } from '../catalog/catalog.js';
import { assignRole, revokeRole } from './access/handlers.js';
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

/** Code handlers of the built-in packs, by pack name. Other packs ship a handlers.js of their own. */
export const BUILTIN_HANDLERS: Readonly<Record<string, HandlerModule>> = {
  content: { saveDraft, submitForReview, requestChanges, approveContent, publish, rollback, schedulePublish, cancelSchedule, lockContent, unlockContent },
  access: { assignRole, revokeRole },
  commerce: { upsertInventory, upsertPriceRule, addShippingRate, addTaxRate, addDisputeEvidence },
  runs: { startRun, completeStage, abortRun, sealRun },
  knowledge: unboundKnowledge,
  ops: opsHandlers,
  writ: { registerKey, revokeKey, redact, approve, reject, breakGlass, expireApproval, closeReview, ...unboundAirlock, ...unboundTenants },
};
