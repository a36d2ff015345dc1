import type { HandlerModule } from '../../catalog/catalog.js';
import { recordOpResult, startOpAttempt } from './attempt-handlers.js';
import { rollbackOp, submitOp } from './handlers.js';

/** The ops pack's handlers, by the names its actions.yaml gives them. */
export const opsHandlers: HandlerModule = { submitOp, rollbackOp, startOpAttempt, recordOpResult };
