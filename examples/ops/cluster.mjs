#!/usr/bin/env node
// An example executor (docs/ops.md): a "cluster" kept in a JSON file, changed by ops. It reads the
// op writ's effector gives on standard input, and is idempotent: an op whose idempotency key it
// has applied already is not applied again (it answers as before), which is what makes the
// effector's at-least-once delivery harmless. `--inverse` undoes the op named by WRIT_ROLLBACK_OF
// from the state it saved before applying it.
//
//   node cluster.mjs <state.json> [--inverse] [--fail] [--sleep-ms N]
//
// --fail makes every run fail (exit 3) after counting it; --sleep-ms waits before answering (a
// long-running op, to stop writ during it). Every invocation is appended to <state.json>.calls.
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

const [path, ...flags] = process.argv.slice(2);
const flag = (f) => flags.includes(f);
const sleepMs = flags.includes('--sleep-ms') ? Number(flags[flags.indexOf('--sleep-ms') + 1]) : 0;
const op = JSON.parse(readFileSync(0, 'utf8'));
appendFileSync(`${path}.calls`, `${JSON.stringify({ op: op.op, key: op.idempotencyKey, attempt: op.attempt, inverse: flag('--inverse') })}\n`);

const empty = { resources: {}, applied: {}, before: {} };
const state = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : empty;
const save = () => {
  writeFileSync(`${path}.tmp`, JSON.stringify(state, null, 2));
  renameSync(`${path}.tmp`, path);
};
if (flag('--fail')) {
  process.stderr.write(`refusing ${op.op} (attempt ${op.attempt})\n`);
  process.exit(3);
}
if (process.env.REQUIRE_TOKEN && process.env.TOKEN !== process.env.REQUIRE_TOKEN) {
  process.stderr.write('the deploy token is missing or wrong\n');
  process.exit(4);
}
const name = `${op.workspace}/${op.resource}`;
if (state.applied[op.idempotencyKey]) {
  process.stdout.write(`already applied ${op.op}: ${JSON.stringify(state.resources[name] ?? null)}\n`);
} else {
  const current = state.resources[name] ?? { version: null, replicas: 1, restarts: 0, secretRef: null, drained: [] };
  if (flag('--inverse')) {
    state.resources[name] = state.before[op.rollbackOf] ?? current;
  } else {
    state.before[op.op] = current;
    const p = op.parameters;
    const next = { ...current };
    if (op.kind === 'deploy') next.version = p.version;
    if (op.kind === 'scale') next.replicas = p.replicas;
    if (op.kind === 'restart') next.restarts = current.restarts + 1;
    if (op.kind === 'secret_update') next.secretRef = p.secretRef;
    if (op.kind === 'drain') next.drained = [...current.drained, p.node];
    state.resources[name] = next;
  }
  state.applied[op.idempotencyKey] = op.op;
  save();
  process.stdout.write(`applied ${op.op}: ${JSON.stringify(state.resources[name])}\n`);
}
if (sleepMs > 0) await new Promise((r) => setTimeout(r, sleepMs));
