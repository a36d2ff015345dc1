import type { PackReads, PackSetup } from '../../catalog/pack-module.js';
import type { Config } from '../../config/config.js';
import { logError } from '../../util/log.js';
import { knowledgeCli } from './cli.js';
import { knowledgeHandlers } from './handlers.js';
import { knowledgeEntityRead } from './read-access.js';
import { RefSync } from './refs.js';
import { KnowledgeRepos } from './repos.js';
import { KNOWLEDGE_ROUTES } from './routes.js';
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

/**
 * The knowledge pack bound to the home's repositories: handlers (a replay reads their objects),
 * the fsync of new git objects before each commit, the refs moved after it, the repair at start.
 */
export const knowledgePack: PackSetup = (env) => {
  // Knowledge entities (kip-*) are read as knowledge through the entity routes too; the routes and
  // the CLI are declared for a tool's catalog as well (the OpenAPI document, `writ knowledge`).
  const surface = { entityRead: knowledgeEntityRead, routes: KNOWLEDGE_ROUTES, cli: knowledgeCli };
  if (!env) return surface;
  const k = new KnowledgeRuntime(env.config);
  return {
    ...surface,
    handlers: knowledgeHandlers({ repo: (t) => k.repos.repo(t) }),
    hooks: {
      // New git objects are fsynced before the ledger names them (docs/knowledge.md, "Crash safety").
      beforeCommit: () => k.repos.flush(),
      afterCommit: (rows) => k.refs.afterCommit(rows),
    },
    start: (reads) => k.start(reads),
    close: () => k.close(),
    service: k,
  };
};
