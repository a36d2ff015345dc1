import { benchLedger } from './ledger.js';
import { rawSqlite } from './raw.js';

/** Runs only the ledger benchmarks: `node dist/bench/ledger-profile.js [records]` (also for `--cpu-prof`). */
await benchLedger(Number(process.argv[2] ?? 100_000), rawSqlite(300));
