import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { KnowledgeRepo } from './git/repo.js';

/**
 * The knowledge repositories of a deployment: one bare repository per tenant,
 * `<knowledge.git>/<tenant>.git`, created on first use. A tenant never reads another's objects.
 */
export class KnowledgeRepos {
  private readonly open = new Map<string, Promise<KnowledgeRepo>>();

  constructor(readonly dir: string) {}

  repo(tenant: string): Promise<KnowledgeRepo> {
    let r = this.open.get(tenant);
    if (!r) {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      r = KnowledgeRepo.open(join(this.dir, `${tenant}.git`));
      // A failed open is tried again on the next use rather than remembered.
      r.catch(() => this.open.delete(tenant));
      this.open.set(tenant, r);
    }
    return r;
  }

  /** Flushes the new objects of every open repository (KnowledgeRepo.flush); the applier calls it before each group commit. */
  async flush(): Promise<void> {
    const repos = await Promise.allSettled([...this.open.values()]);
    await Promise.all(repos.map((r) => (r.status === 'fulfilled' ? r.value.flush() : undefined)));
  }
}
