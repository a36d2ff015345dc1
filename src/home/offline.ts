/**
 * What the offline commands (`writ rebuild --swap`, `writ knowledge reindex`, `writ witness serve`)
 * do to a home's embedded files with no server running: take a file's writer lock (the same lock a
 * server holds, so each refuses while the other runs), swap rebuilt entity history into the
 * database, and rebuild the knowledge search index (an SQLite file of its own beside the store).
 *
 * The transports never name a store adapter (test/architecture.test.ts); this is the one door the
 * CLI's offline commands go through. Reads of a store go through the factory (openStore) instead.
 */
export { KnowledgeIndex } from '../store/sqlite/knowledge-index.js';
export { replaceEntityHistory } from '../store/sqlite/swap-entities.js';
export { WriterLock } from '../store/sqlite/writer-lock.js';
