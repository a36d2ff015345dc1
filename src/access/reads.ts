import { WritError } from '../core/errors.js';
import type { PolicyDecider } from '../policy/live.js';
import type { ReadFacts, ReadKind } from '../policy/reads.js';
import type { Directory } from '../state/directory.js';
import { identify, type IdentifyDeps, type Identity, type RequestLine } from './identity.js';

export type ReadsMode = 'policy' | 'open';

export interface ReadAccessDeps extends IdentifyDeps {
  readonly policy: PolicyDecider;
  readonly directory: Directory;
  /** config.tenant: the deployment's home tenant, whose admins and auditors operate it. */
  readonly home: string;
  /** auth.reads: 'policy' decides every read; 'open' lets anyone read (a loopback development home). */
  readonly mode: ReadsMode;
}

/**
 * Who may read what (docs/security.md, "Reads: who may see what"), for every transport: an
 * identity is resolved from the request's credential (identity.ts); a read of a tenant other than
 * the reader's is refused here, before policy, without saying whether the tenant or the thing
 * exists; within its tenant, Cedar decides (`Writ::Action::"read:<kind>"`, policy/reads.ts).
 * Operator actions (outbox retry and redrive, checkpoints on demand) need the admin role.
 */
export class ReadAccess {
  constructor(private readonly deps: ReadAccessDeps) {}

  get mode(): ReadsMode {
    return this.deps.mode;
  }

  get home(): string {
    return this.deps.home;
  }

  identify(authorization: string | undefined, line: RequestLine): Promise<Identity | null> {
    return identify(authorization, line, this.deps);
  }

  /** The identity, or UNAUTHENTICATED when there is none (unless reads are open). */
  required(identity: Identity | null): Identity | null {
    if (identity === null && this.deps.mode === 'policy') {
      throw new WritError('UNAUTHENTICATED', 'this route needs a caller identity: send "Authorization: WritSig <read token>" signed with your registered key (WritClient, `writ get <path>`) or "Authorization: Bearer <JWT>"');
    }
    return identity;
  }

  /** Refuses a read of `tenant` by an identity of another tenant (FORBIDDEN, nothing about the tenant's data). */
  sameTenant(identity: Identity | null, tenant: string): void {
    if (this.deps.mode === 'open' || identity === null || identity.tenant === tenant) return;
    throw new WritError('FORBIDDEN', `${identity.actor} of tenant ${JSON.stringify(identity.tenant)} may not read tenant ${JSON.stringify(tenant)}; use an identity of that tenant`);
  }

  /** Whether `identity` may read a thing of `kind` in `tenant` (always, when reads are open). */
  may(identity: Identity | null, kind: ReadKind, tenant: string, resource: string, facts: ReadFacts = {}): boolean {
    if (this.deps.mode === 'open') return true;
    if (identity === null || identity.tenant !== tenant) return false;
    return this.deps.policy.mayRead({ tenant, actor: identity.actor, roles: this.roles(identity), kind, resource, facts });
  }

  /** Like may(), but refuses with FORBIDDEN, naming what could not be read. */
  require(identity: Identity | null, kind: ReadKind, tenant: string, resource: string, facts: ReadFacts = {}): void {
    this.sameTenant(identity, tenant);
    if (this.may(identity, kind, tenant, resource, facts)) return;
    throw new WritError('FORBIDDEN', `${identity?.actor ?? 'an anonymous caller'} may not read ${kind === 'envelope' ? 'command envelopes' : kind} (${resource}) in tenant ${JSON.stringify(tenant)}; policy allows it to admins and auditors (docs/security.md)`);
  }

  /** Whether `identity` operates the deployment: may read the outbox of the home tenant. */
  operator(identity: Identity | null): boolean {
    return this.may(identity, 'outbox', this.deps.home, 'outbox/deployment');
  }

  /**
   * Refuses an operator action unless `identity` holds the admin role in the home tenant, or in
   * `tenant` when the action concerns that tenant only (a checkpoint of its own log). Open reads
   * do not open operator actions.
   */
  requireAdmin(identity: Identity | null, what: string, tenant?: string): void {
    if (identity === null) throw new WritError('UNAUTHENTICATED', `${what} is an operator action: sign it with an admin key (Authorization: WritSig)`);
    const admin = (t: string) => identity.tenant === t && this.roles(identity).includes('admin');
    if (admin(this.deps.home) || (tenant !== undefined && admin(tenant))) return;
    throw new WritError('FORBIDDEN', `${what} needs the admin role of the deployment's home tenant${tenant ? ` or of tenant ${JSON.stringify(tenant)}` : ''}; ${identity.actor} of tenant ${JSON.stringify(identity.tenant)} does not hold it`);
  }

  /** The actor a registered key belongs to, if it is registered in `tenant`. */
  keyOwner(tenant: string, keyId: string): string | undefined {
    return this.deps.directory.key(tenant, keyId)?.actor;
  }

  /** The roles `identity` holds in state (AssignRole); a JWT's role claims give none. */
  roles(identity: Identity): readonly string[] {
    return this.deps.directory.rolesOf(identity.tenant, identity.actor);
  }
}
