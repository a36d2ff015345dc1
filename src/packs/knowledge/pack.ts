import type { PackSetup } from '../../catalog/pack-module.js';
import { knowledgeCli } from './cli.js';
import { knowledgeHandlers } from './handlers.js';
import { knowledgeEntityRead } from './read-access.js';
import { KNOWLEDGE_ROUTES } from './routes.js';
import { KnowledgeRuntime } from './runtime.js';

// Tests reach the running pack through its setup's module.
export { knowledgeOf } from './runtime.js';

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
