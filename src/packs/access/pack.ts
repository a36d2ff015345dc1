import type { PackSetup } from '../../catalog/pack-module.js';
import type { ActorDoc } from './handlers.js';

/** The access pack gives actors their roles: an `actor/<actor>` entity (AssignRole, RevokeRole) is what Cedar sees. */
export const accessPack: PackSetup = () => ({
  roles: { type: 'actor', rolesOf: (doc) => (doc as ActorDoc).roles },
});
