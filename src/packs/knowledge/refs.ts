import type { EntityRow, EntityStore } from '../../store/port.js';
import { logError } from '../../util/log.js';
import { killPoint } from './kill-points.js';
import type { KnowledgeRepos } from './repos.js';
import { PERSPECTIVE, REF_TYPES, refOf } from './state.js';

/** What start-up found: refs moved to the ledger's state, and perspectives ahead of it by commits made outside writ. */
export interface RefRepair {
  readonly moved: Array<{ tenant: string; ref: string; from: string | null; to: string | null }>;
  readonly outside: Array<{ tenant: string; perspective: string; recorded: string | null; ref: string }>;
}

/**
 * Git refs follow the ledger (docs/knowledge.md, "Crash safety"). The order of a knowledge write:
 * (1) its git objects are written while the command is planned (content-addressed: harmless if
 * nothing ever names them); (2) the ledger transaction records the commit ids in state; (3) only
 * once that transaction is durable are the refs moved here. A crash before (2) leaves unreferenced
 * objects; a crash between (2) and (3) leaves refs behind state, which `repair` at start-up moves.
 * So nothing ever needs `reconcile` after a crash of writ itself.
 */
export class RefSync {
  /** Per tenant, the moves in commit order: one git transaction after another. */
  private readonly chains = new Map<string, Promise<void>>();
  /** Told of every ref move once done (the search index follows the refs). */
  onMoved?: (tenant: string, moves: ReadonlyArray<{ ref: string; oid: string | null }>) => void;

  constructor(private readonly repos: KnowledgeRepos) {}

  /** Moves the refs a durable batch wrote (the applier's onApplied). */
  afterCommit(rows: readonly EntityRow[]): void {
    const byTenant = new Map<string, Map<string, string | null>>();
    for (const row of rows) {
      const r = refOf(row);
      if (!r) continue;
      if (!byTenant.has(row.tenant)) byTenant.set(row.tenant, new Map());
      byTenant.get(row.tenant)!.set(r.ref, r.oid);
    }
    for (const [tenant, refs] of byTenant) {
      const moves = [...refs].map(([ref, oid]) => ({ ref, oid }));
      const prev = this.chains.get(tenant) ?? Promise.resolve();
      const next = prev.then(async () => {
        killPoint('ledger');
        await (await this.repos.repo(tenant)).moveRefs(moves);
        killPoint('refs');
        this.onMoved?.(tenant, moves);
      }).catch((err) => logError('knowledge refs could not be moved after a durable commit; start-up moves them to the ledger state', err, { tenant }));
      this.chains.set(tenant, next);
    }
  }

  /** Resolves once every move handed over so far is done. */
  async settled(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }

  /**
   * At start-up: every knowledge ref is moved to what committed state (the ledger) says. A
   * perspective ref that extends its recorded head by commits made outside writ is left for
   * `Reconcile`; any other difference is overwritten (the ledger is the truth). `tenants`: those
   * with a knowledge log.
   */
  async repair(store: Pick<EntityStore, 'listEntities'>, tenants: readonly string[]): Promise<RefRepair> {
    const want = new Map<string, Map<string, string | null>>();
    const perspectiveOfRef = new Map<string, string>();
    for (const tenant of tenants) for (const type of REF_TYPES) {
      for await (const row of allOf(store, tenant, type)) {
        const r = refOf(row);
        if (!r) continue;
        if (!want.has(row.tenant)) want.set(row.tenant, new Map());
        want.get(row.tenant)!.set(r.ref, r.oid);
        if (type === PERSPECTIVE) perspectiveOfRef.set(`${row.tenant}\0${r.ref}`, row.id);
      }
    }
    const result: RefRepair = { moved: [], outside: [] };
    for (const [tenant, refs] of want) {
      const repo = await this.repos.repo(tenant);
      const have = await repo.refs('refs/');
      const moves: Array<{ ref: string; oid: string | null }> = [];
      for (const [ref, oid] of refs) {
        const current = have.get(ref) ?? null;
        if (current === oid) continue;
        const perspective = perspectiveOfRef.get(`${tenant}\0${ref}`);
        if (perspective !== undefined && current !== null && (oid === null || (await repo.isAncestor(oid, current)))) {
          result.outside.push({ tenant, perspective, recorded: oid, ref: current });
          continue;
        }
        if (oid !== null && !repo.has(oid) && !(await repo.commit(oid))) {
          logError('a knowledge head the ledger names is missing from the repository; its ref is left as it is', new Error(`missing commit ${oid}`), { tenant, ref });
          continue;
        }
        moves.push({ ref, oid });
        result.moved.push({ tenant, ref, from: current, to: oid });
      }
      await repo.moveRefs(moves);
      if (moves.length) this.onMoved?.(tenant, moves);
    }
    return result;
  }
}

/** Every current entity of `type` in `tenant`, page by page. */
async function* allOf(store: Pick<EntityStore, 'listEntities'>, tenant: string, type: string): AsyncGenerator<EntityRow> {
  let after: string | null = null;
  for (;;) {
    const page = await store.listEntities(tenant, type, after, 500);
    yield* page;
    if (page.length < 500) return;
    after = page[page.length - 1].id;
  }
}
