import { benchHttp } from './http.js';
import { rawVerifyPerSecond } from './raw.js';
import { emit } from './support.js';

/**
 * Runs only the HTTP benchmark, between two measurements of the raw verify rate:
 * `node dist/bench/http-only.js [commands] [clients] [server node flags…]` (e.g. `--cpu-prof`).
 */
const count = Number(process.argv[2] ?? 20000);
const clients = Number(process.argv[3] ?? 64);
const before = rawVerifyPerSecond(4000);
await benchHttp(count, clients, process.argv.slice(4));
emit({ bench: 'raw', raw_verify_per_s: Math.round((before + rawVerifyPerSecond(4000)) / 2) });
