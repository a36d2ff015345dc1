import type { HandlerModule } from '../catalog/catalog.js';
import { assignRole, revokeRole } from './access/handlers.js';
import { publish, rollback, saveDraft } from './content/handlers.js';
import { redact, registerKey, revokeKey } from './writ/handlers.js';

/** Code handlers of the built-in packs, by pack name. Other packs ship a handlers.js of their own. */
export const BUILTIN_HANDLERS: Readonly<Record<string, HandlerModule>> = {
  content: { saveDraft, publish, rollback },
  access: { assignRole, revokeRole },
  writ: { registerKey, revokeKey, redact },
};
