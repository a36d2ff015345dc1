/**
 * What the offline commands (`writ rebuild --swap`, `writ witness serve`, a pack's offline command
 * such as `writ knowledge reindex`) do to a home's embedded files with no server running: take a
 * file's writer lock (the same lock a server holds, so each refuses while the other runs) and swap
 * rebuilt entity history into the database.
 *
 * The transports never name a store adapter (test/architecture.test.ts); this is the one door the
 * CLI's offline commands go through. Reads of a store go through the factory (openStore) instead.
 */
export { replaceEntityHistory } from '../store/sqlite/swap-entities.js';
export { WriterLock } from '../store/sqlite/writer-lock.js';
