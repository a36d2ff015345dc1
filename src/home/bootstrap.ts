import { sha256Hex } from '../core/hash.js';
import type { SystemSubmit } from '../pipeline/system.js';

/** A tenant's first admin: its key is registered and the admin role assigned on writ's authority. */
export interface FirstAdmin {
  readonly actor: string;
  readonly publicPem: string;
  /** Default ed25519 (the keys writ makes). */
  readonly alg?: 'ed25519' | 'es256';
}

/** Key id of an actor's first key (`alice#1`): what `writ init` and `writ tenants create` register. */
export function firstKeyId(actor: string): string {
  return `${actor}#1`;
}

/**
 * Bootstraps admins of a tenant: a writ.RegisterKey and an AssignRole record each, in the tenant's
 * own logs, applied on writ's own authority (the only way a tenant without an admin gets one).
 * The requestIds are fixed per actor, so running it again (after a crash between the two) answers
 * the stored outcome instead of applying twice; a key or role that is already there (its outcome
 * pruned) counts as done.
 */
export async function bootstrapAdmins(submit: SystemSubmit, tenant: string, admins: readonly FirstAdmin[]): Promise<void> {
  for (const admin of admins) {
    // From a digest: an actor name may hold characters (`@`) and a length a requestId may not.
    const who = sha256Hex(admin.actor).slice(0, 40);
    const steps = [
      ['writ.RegisterKey', { actor: admin.actor, keyId: firstKeyId(admin.actor), alg: admin.alg ?? 'ed25519', publicKey: admin.publicPem }, `bootstrap-key-${who}`],
      ['AssignRole', { actor: admin.actor, role: 'admin' }, `bootstrap-admin-${who}`],
    ] as const;
    for (const [action, payload, requestId] of steps) {
      const reply = await submit(tenant, action, payload, requestId);
      if (reply.httpStatus === 200) continue;
      const code = (JSON.parse(reply.body) as { code?: string }).code;
      if (code === 'INVALID_STATE') continue;
      throw new Error(`bootstrapping admin ${admin.actor} of tenant ${tenant}: ${action} failed: ${reply.body}`);
    }
  }
}
