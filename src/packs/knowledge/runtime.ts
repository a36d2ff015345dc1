import type { PackReads } from '../../catalog/pack-module.js';
import type { Config } from '../../config/config.js';
import { logError } from '../../util/log.js';
import { RefSync } from './refs.js';
import { KnowledgeRepos } from './repos.js';
import { SearchSync } from './search.js';
import { openIndex } from './search-index.js';

/**
 * The knowledge pack running in a writ: its repositories, the refs that follow the ledger and the
 * search index that follows the refs (docs/knowledge.md). Its routes read it as the pack's service.
 */
export class KnowledgeRuntime {
  readonly repos: KnowledgeRepos;
  readonly refs: RefSync;
  private sync: SearchSync | undefined;

  constructor(private readonly config: Config) {
    this.repos = new KnowledgeRepos(config.knowledge.git);
    this.refs = new RefSync(this.repos);
  }

  /** The search index's follower; opened by start, so a catalog loaded to replay the ledger opens no index. */
  get search(): SearchSync {
    if (!this.sync) throw new Error('the knowledge search index is opened when writ starts');
    return this.sync;
  }

  /** Git refs follow the ledger: a crash after a commit and before its refs moved is repaired here; then the index catches up. */
  async start(reads: PackReads): Promise<void> {
    const search = new SearchSync(this.repos, openIndex(this.config));
    this.sync = search;
    this.refs.onMoved = (tenant, moves) => void search.moved(tenant, moves).catch((err) => logError('the knowledge search index could not follow a ref; `writ knowledge reindex` rebuilds it', err, { tenant }));
    const tenants = reads.tenants('knowledge');
    await this.refs.repair({ listEntities: (t, type, after, limit) => reads.list(t, type, after, limit) }, tenants);
    // A lost index is rebuilt here.
    await search.catchUp(tenants);
  }

  async close(): Promise<void> {
    await this.refs.settled();
    if (!this.sync) return;
    await this.sync.settled();
    this.sync.index.close();
  }
}

/** The knowledge pack's service (PackRouteContext.service), or the running writ's. */
export function knowledgeOf(from: unknown): KnowledgeRuntime {
  const k = from instanceof KnowledgeRuntime ? from : (from as { packs?: { service(pack: string): unknown } } | null)?.packs?.service('knowledge');
  if (!(k instanceof KnowledgeRuntime)) throw new Error('the knowledge pack is not running in this writ');
  return k;
}
