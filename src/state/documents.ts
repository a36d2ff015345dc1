/**
 * Documents of the system pack `writ` that core code reads (the key registry, the tenants to
 * bootstrap). Core owns their shape and the pack's handlers write them, so core never imports a
 * pack; the roles an actor holds come from whichever pack provides RoleDocuments instead.
 */

/**
 * A registered public key, or the revocation of a key configured in auth.hmacKeys (alg hs256,
 * publicKey null): HS256 secrets never pass through commands; they live in files named by config.
 */
export interface KeyDoc {
  actor: string;
  keyId: string;
  alg: 'ed25519' | 'es256' | 'hs256';
  publicKey: string | null;
  notBefore: string | null;
  notAfter: string | null;
  revokedAt: string | null;
  revokeReason?: string;
}

/** A tenant created by writ.CreateTenant: an entity of the home tenant, type `tenant`, id its name. */
export interface TenantDoc {
  tenant: string;
  admin: string;
  keyId: string;
  alg: 'ed25519' | 'es256';
  publicKey: string;
  createdAt: string;
  createdBy: string;
}

export const TENANT_TYPE = 'tenant';
