import { benchBackpressure } from './backpressure.js';

/** Runs only the back-pressure benchmark: `node dist/bench/backpressure-only.js [sustained commands] [overload seconds] [clients]`. */
await benchBackpressure(Number(process.argv[2] ?? 8000), Number(process.argv[3] ?? 3), Number(process.argv[4] ?? 64));
