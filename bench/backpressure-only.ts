import { benchBackpressure } from './backpressure.js';

/**
 * Runs only the back-pressure benchmark:
 * `node dist/bench/backpressure-only.js [server.maxInFlight|default] [load seconds] [generator nice] [step seconds] [sustainable rate: given, not searched]`.
 */
const [bound, loadSeconds, nice, stepSeconds, rate] = process.argv.slice(2);
await benchBackpressure({
  bound: bound === undefined || bound === 'default' ? undefined : Number(bound),
  loadSeconds: Number(loadSeconds ?? 5),
  nice: Number(nice ?? 0),
  stepSeconds: Number(stepSeconds ?? 2),
  rate: rate === undefined ? undefined : Number(rate),
});
