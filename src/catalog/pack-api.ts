import type { Code } from '../core/codes.js';
import { WritError } from '../core/errors.js';

/**
 * The public entry `writ/pack` (package.json exports "./pack"): what the author of a pack's
 * handlers.js needs — the types of a handler, what it is given and what it returns, and the one
 * error it throws to refuse a command with a typed code — and what its pack.js needs to add
 * background jobs, apply hooks, role documents, HTTP routes and CLI commands (docs/packs.md). Names are listed one by one (no
 * `export *`); test/package-exports.test.ts pins the list.
 */
export type { EffectContext, EffectPlan, Handler } from './types.js';
export type { EntityRow } from '../store/port.js';
export type { Envelope } from '../core/envelope.js';
export type { Code } from '../core/codes.js';
export type { ApplyHooks, BackgroundJob, EntityReadPolicy, JobContext, PackEnvironment, PackModule, PackReads, PackSetup, RoleDocuments, SystemAnswer } from './pack-module.js';
export type { PackRequest, PackRoute, PackRouteAccess, PackRouteContext } from './pack-routes.js';
export type { PackCli, PackCliContext, PackSignerOptions } from './pack-cli.js';
export { everyInterval } from './every-interval.js';

/**
 * Codes a handler may refuse a command with: each says the command itself cannot run as sent (its
 * payload, the entity's state or version, a rule of the pack), never that writ failed.
 */
export const REFUSAL_CODES = ['INVALID_PAYLOAD', 'INVALID_STATE', 'NOT_FOUND', 'VERSION_CONFLICT', 'FORBIDDEN'] as const satisfies readonly Code[];
export type RefusalCode = (typeof REFUSAL_CODES)[number];

/**
 * Thrown by a handler to refuse a command: writ records the refusal in the ledger with this code,
 * answers the client with it (HTTP status, CLI exit code and hint from the registry,
 * docs/errors.md) and applies nothing. Any other exception is a bug and is recorded as INTERNAL with
 * a generic message. It is a WritError (name "WritError"), so a server running another copy of writ
 * than the one the handler imported still reads its code.
 */
export class HandlerRefusal extends WritError {
  constructor(code: RefusalCode, message: string, options: { details?: Record<string, unknown> } = {}) {
    if (!(REFUSAL_CODES as readonly string[]).includes(code)) {
      throw new TypeError(`a handler refuses with one of ${REFUSAL_CODES.join(', ')}, not ${String(code)}`);
    }
    super(code, message, options);
  }
}
