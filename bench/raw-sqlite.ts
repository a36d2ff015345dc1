import Database from 'better-sqlite3';

/** A bare table for measuring the disk's durable commit rate with the store's own settings. */
export function openRawSqlite(path: string): { insertOne(id: number, v: Buffer): unknown; insertMany(from: number, n: number, v: Buffer): void; close(): void } {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)');
  const insert = db.prepare('INSERT INTO t (id, v) VALUES (?, ?)');
  const many = db.transaction((from: number, n: number, v: Buffer) => {
    for (let i = 0; i < n; i++) insert.run(from + i, v);
  });
  return {
    insertOne: (id: number, v: Buffer) => insert.run(id, v),
    insertMany: (from: number, n: number, v: Buffer) => many(from, n, v),
    close: () => {
      db.close();
    },
  };
}
