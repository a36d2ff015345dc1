import { parseArgs } from 'node:util';
import { emit } from './support.js';
import { runSoak } from './soak/run.js';

/**
 * `npm run soak [-- --requests N --concurrency C --seed S]`: a million hostile requests against a
 * fresh home (docs/benchmarks.md, "Soak"). Not part of `npm test`: it takes minutes. Prints one JSON
 * line; exits 1 when any answer was a 5xx or any request changed state.
 */
const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '1000000' },
    concurrency: { type: 'string', default: '64' },
    seed: { type: 'string', default: '1' },
  },
});
const number = (name: string, value: string, min: number): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) {
    process.stderr.write(`--${name} must be an integer of at least ${min}, not ${JSON.stringify(value)}\n`);
    process.exit(2);
  }
  return n;
};
const result = await runSoak({
  requests: number('requests', values.requests!, 1),
  concurrency: number('concurrency', values.concurrency!, 1),
  seed: number('seed', values.seed!, 0),
  progress: (line) => process.stderr.write(line + '\n'),
});
emit({ ...result });
if (result.status_5xx > 0 || result.state_changes > 0) {
  process.stderr.write(`soak failed: ${result.status_5xx} answers were 5xx, ${result.state_changes} state changes\n`);
  process.exitCode = 1;
}
