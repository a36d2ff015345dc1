import type { PackSetup } from '../../catalog/pack-module.js';
import type { ActorDoc } from './handlers.js';
import { otpHandlers } from './otp.js';
import { otpSecret } from './otp-code.js';

/**
 * The access pack gives actors their roles: an `actor/<actor>` entity (AssignRole, RevokeRole) is
 * what Cedar sees. Bound to a deployment, its one-time codes use the bearer-token secret that signs
 * the tokens they are exchanged for (a tool's catalog keeps the unbound ones of src/packs/index.ts).
 */
export const accessPack: PackSetup = (env) => ({
  roles: { type: 'actor', rolesOf: (doc) => (doc as ActorDoc).roles },
  ...(env ? { handlers: otpHandlers({ secret: otpSecret(env.config.auth.jwt) }) } : {}),
});
