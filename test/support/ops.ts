import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Signer } from '../../src/sdk/sign.js';
import { packageRoot } from '../../src/util/package-root.js';
import { rid, startHarness, type Harness } from './harness.js';

/** The example executor shipped with writ (examples/ops/cluster.mjs): a file-backed "cluster". */
export const CLUSTER_SCRIPT = join(packageRoot(), 'examples', 'ops', 'cluster.mjs');

export type Mode = 'auto' | 'manual' | 'hybrid';

/** The example policy of a mode, as shipped (examples/ops/<mode>.cedar). */
export function modePolicy(mode: Mode): string {
  return readFileSync(join(packageRoot(), 'examples', 'ops', `${mode}.cedar`), 'utf8');
}

/** The cluster executor for `kind` on state file `state`, with its inverse (for rollbacks). */
export function clusterExecutor(state: string, extra: string[] = [], more: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind: 'command',
    command: process.execPath,
    args: [CLUSTER_SCRIPT, state, ...extra],
    timeoutMs: 10_000,
    ...more,
    inverse: { kind: 'command', command: process.execPath, args: [CLUSTER_SCRIPT, state, '--inverse'], timeoutMs: 10_000 },
  };
}

export interface OpsHome {
  readonly h: Harness;
  readonly operator: Signer;
  readonly approvers: readonly Signer[];
  readonly effector: Signer;
  /** Cluster state file the cluster executor changes. */
  readonly state: string;
}

/**
 * A harness whose home has an effector (key registered, role effector, key file in keys/), the
 * mode's example policy in policies/ops.cedar, and `executors` (built with the state file's path);
 * an operator and three ops-approvers. writ is restarted once to start the effector.
 */
export async function startOpsHome(mode: Mode, executors: (state: string) => Record<string, unknown>, effector: Record<string, unknown> = {}): Promise<OpsHome> {
  const h = await startHarness({ limits: { rate: 100_000, windowSeconds: 60 } });
  const eff = await h.actor('effector', ['effector']);
  writeFileSync(join(h.home, 'keys', 'effector-1.key'), (eff as unknown as { privateKey: { export(o: object): string } }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
  const operator = await h.actor('olga', ['operator']);
  const approvers = [await h.actor('ann', ['ops-approver']), await h.actor('bob', ['ops-approver']), await h.actor('cid', ['ops-approver'])];
  const state = join(h.home, 'cluster.json');
  setOps(h, mode, executors(state), effector);
  await h.restart();
  return { h, operator, approvers, effector: eff, state };
}

/** Replaces the home's mode policy with the shipped example of `mode` (in force at the next reload or restart). */
export function setMode(h: Harness, mode: Mode): void {
  writeFileSync(join(h.home, 'policies', 'ops.cedar'), modePolicy(mode));
}

/** Writes the mode's policy and the ops block into the home (takes effect at the next restart). */
export function setOps(h: Harness, mode: Mode, executors: Record<string, unknown>, effector: Record<string, unknown> = {}): void {
  setMode(h, mode);
  const file = join(h.home, 'config.json');
  const config = JSON.parse(readFileSync(file, 'utf8'));
  config.ops = { effector: { enabled: true, keyId: 'effector#1', backoffMs: 20, graceMs: 2000, scanIntervalMs: 100, ...effector }, executors };
  writeFileSync(file, JSON.stringify(config, null, 2));
}

/** Submits an op as `signer`; returns the answer. */
export async function submitOp(h: Harness, signer: Signer, payload: Record<string, unknown>, requestId = rid()) {
  return h.post(h.sign('SubmitOp', payload, { requestId }, signer));
}

export async function opDoc(h: Harness, id: string): Promise<any> {
  const res = await h.get(`/v1/entities/${h.tenant}/op/${id}`);
  return res.status === 200 ? res.body.doc : null;
}

/** Waits until the op reaches one of `statuses` (the effector works in the background). */
export async function opEnds(h: Harness, id: string, statuses: readonly string[] = ['succeeded', 'failed'], ms = 20_000): Promise<any> {
  const until = Date.now() + ms;
  for (;;) {
    const doc = await opDoc(h, id);
    if (doc && statuses.includes(doc.status)) return doc;
    if (Date.now() > until) assert.fail(`op ${id} did not reach ${statuses.join('|')} in ${ms} ms: ${JSON.stringify(doc)}`);
    await sleep(25);
  }
}

/** The cluster executor's invocations (one line per run, written before it acts). */
export function calls(state: string): Array<{ op: string; key: string; attempt: number; inverse: boolean }> {
  const f = `${state}.calls`;
  return existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
}

export function cluster(state: string): any {
  return JSON.parse(readFileSync(state, 'utf8'));
}

/** Approves a held command as `signer`. */
export async function approve(h: Harness, signer: Signer, approvalId: string, commandHash: string) {
  return h.post(h.sign('writ.Approve', { approvalId, commandHash }, {}, signer));
}
