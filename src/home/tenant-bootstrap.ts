import type { SystemSubmit } from '../pipeline/system.js';
import type { Directory } from '../state/directory.js';
import type { EntityStore } from '../store/port.js';
import { TENANT_TYPE, type TenantDoc } from '../state/documents.js';
import { logError } from '../util/log.js';
import { bootstrapAdmins } from './bootstrap.js';

export interface TenantBootstrapDeps {
  readonly store: Pick<EntityStore, 'listEntities'>;
  readonly directory: Directory;
  /** The home tenant, whose `tenant` entities (writ.CreateTenant) name the tenants to bootstrap. */
  readonly home: string;
  readonly submit: SystemSubmit;
}

/** Whether a created tenant's first admin is in place: its key registered and the admin role held. */
export function tenantReady(directory: Directory, doc: Pick<TenantDoc, 'tenant' | 'admin' | 'keyId'>): boolean {
  return directory.key(doc.tenant, doc.keyId) !== undefined && directory.rolesOf(doc.tenant, doc.admin).includes('admin');
}

const PAGE = 500;

/**
 * Gives each tenant made by writ.CreateTenant its first admin, in the new tenant's own logs
 * (bootstrapAdmins, as `writ init`). Woken after the home tenant's `writ` log grows and once at
 * start, so a tenant whose bootstrap a crash interrupted is completed when writ opens again.
 * One pass at a time; a wake during a pass runs another after it.
 */
export class TenantBootstrapper {
  private running: Promise<void> | null = null;
  private again = false;
  private closed = false;
  /** Tenants found ready: not looked at again by this process. */
  private readonly done = new Set<string>();

  constructor(private readonly deps: TenantBootstrapDeps) {}

  wake(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Resolves when no pass is running or due (tests and the CLI's wait use the ready flag instead). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
  }

  private async pass(): Promise<void> {
    const { store, directory, home, submit } = this.deps;
    let after: string | null = null;
    try {
      do {
        const rows = await store.listEntities(home, TENANT_TYPE, after, PAGE);
        for (const row of rows) {
          const doc = row.doc as TenantDoc | null;
          if (row.deleted || !doc || this.done.has(doc.tenant)) continue;
          if (!tenantReady(directory, doc)) {
            await bootstrapAdmins(submit, doc.tenant, [{ actor: doc.admin, publicPem: doc.publicKey, alg: doc.alg }]);
          }
          this.done.add(doc.tenant);
        }
        after = rows.length < PAGE ? null : rows[rows.length - 1].id;
      } while (after !== null && !this.closed);
    } catch (err) {
      // Retried on the next wake (the next record of the home tenant's writ log, or the next start).
      logError('bootstrapping a created tenant failed', err);
    }
  }
}
