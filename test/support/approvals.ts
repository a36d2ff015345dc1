import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { base32Encode } from '../../src/approvals/totp.js';
import type { Signer } from '../../src/sdk/sign.js';
import type { Backend } from './backends.js';
import { startHarness, type Harness } from './harness.js';
import type { ManualClock } from './stage-helpers.js';

/** Helpers for the tests of commands held for approval. */

export type Post = (signer: Signer, action: string, payload: Record<string, unknown>, extra?: Record<string, unknown>) => ReturnType<Harness['post']>;

/** Posts as `signer`, stamped with the (manual) clock's time. */
export function poster(h: Harness, clock: ManualClock): Post {
  return (signer, action, payload, extra = {}) => h.post(h.sign(action, payload, { timestamp: clock.iso(), ...extra }, signer));
}

/** A held command: its envelope, its 202 answer, its approval id and commandHash. */
export interface Held {
  readonly envelope: Record<string, any>;
  readonly answer: any;
  readonly id: string;
  readonly hash: string;
}

/** Submits a command that policy holds; asserts the 202 answer. */
export async function held(h: Harness, clock: ManualClock, signer: Signer, action: string, payload: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<Held> {
  const envelope = h.sign(action, payload, { timestamp: clock.iso(), ...extra }, signer);
  const res = await h.post(envelope);
  assert.equal(res.status, 202, res.raw);
  return { envelope, answer: res.body, id: res.body.approval.id, hash: res.body.commandHash };
}

/** The approval entity's document. */
export async function approvalDoc(h: Harness, id: string): Promise<any> {
  const res = await h.get(`/v1/entities/${h.tenant}/approval/${id}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.doc;
}

/** The stored outcome of the held command's requestId (what GET /v1/commands answers). */
export async function finalOutcome(h: Harness, held: Held): Promise<{ status: number; commandStatus: string; body: any }> {
  const res = await h.get(`/v1/commands/${h.tenant}/${held.envelope.requestId}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { status: res.status, commandStatus: String(res.headers['writ-command-status']), body: res.body };
}

/**
 * A harness on `clock` with `key` as the airlock's TOTP secret and a home policy under which an
 * UpsertProduct by role merch needs one publisher's approval and the airlock (floor 120 s, ceiling
 * 600 s); the sweeper is off, so the tests decide when time passes.
 */
export async function startAirlockHarness(clock: ManualClock, key: Buffer, backend: Backend = 'sqlite'): Promise<Harness> {
  const h = await startHarness({ approvals: { sweepEnabled: false } }, { now: clock.now, backend });
  writeFileSync(join(h.home, 'keys', 'totp.secret'), base32Encode(key) + '\n', { mode: 0o600 });
  writeFileSync(
    join(h.home, 'policies', 'airlock.cedar'),
    '@approval("quorum=1 roles=publisher")\n@airlock("floor=120 ceiling=600")\npermit (principal in Writ::Role::"merch", action == Writ::Action::"UpsertProduct", resource);\n',
  );
  await h.restart();
  return h;
}

