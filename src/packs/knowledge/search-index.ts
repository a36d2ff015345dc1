import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../../config/config.js';
import { KnowledgeIndex } from '../../store/sqlite/knowledge-index.js';
import { KnowledgeRepos } from './repos.js';
import { SearchSync } from './search.js';

/** The search index: an SQLite file of its own beside the store, whatever store.kind is. */
export function openIndex(config: Config): KnowledgeIndex {
  return new KnowledgeIndex(join(dirname(config.store.path), 'knowledge-index.sqlite'));
}

/**
 * Rebuilds the search index from git, for `writ knowledge reindex` (run offline, under the home's
 * writer lock): every tenant with a repository, every ref. Answers how many of each it read.
 */
export async function reindex(config: Config): Promise<{ tenants: number; refs: number }> {
  const index = openIndex(config);
  try {
    index.clear();
    const tenants = existsSync(config.knowledge.git) ? readdirSync(config.knowledge.git).filter((n) => n.endsWith('.git')).map((n) => n.slice(0, -4)) : [];
    const refs = await new SearchSync(new KnowledgeRepos(config.knowledge.git), index).catchUp(tenants);
    return { tenants: tenants.length, refs };
  } finally {
    index.close();
  }
}
