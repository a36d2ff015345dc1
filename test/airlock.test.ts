import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  airlockRules,
  DEFAULT_AIRLOCK_RULES,
  expired,
  land,
  OPEN,
  revert,
  stage,
  sweep,
  type AirlockContext,
  type AirlockDecision,
  type AirlockRules,
  type AirlockSubject,
} from '../src/approvals/airlock.js';
import { MemoryConsumedWindows, type AirlockPurpose } from '../src/approvals/consumed-windows.js';
import { TotpSecret } from '../src/approvals/totp.js';
import { refHotp } from './support/reference.js';

/**
 * The airlock state machine with a fixed secret and an injected clock. Codes come from an
 * independent RFC 6238 implementation written here on node:crypto, not from src/approvals/totp.ts.
 */
const KEY = Buffer.from('writ airlock test key, 32 bytes!', 'ascii');

/** RFC 6238, SHA-1, 6 digits, for window `window`: the independent HOTP of test/support/reference.ts. */
function refCode(window: number): string {
  return refHotp(KEY, window);
}

const S = 1000;
/** Window W of the tests, and a moment 5 s into it. */
const W = 56_666_700;
const T0 = W * 30 * S + 5 * S;
const at = (seconds: number) => T0 + seconds * S;

const hashOf = (name: string) => createHash('sha256').update(name).digest('hex');

/** A consumed-window record that counts the questions asked of it. */
class CountingWindows extends MemoryConsumedWindows {
  asked = 0;
  override has(purpose: AirlockPurpose, window: number): boolean {
    this.asked++;
    return super.has(purpose, window);
  }
}

function world(rules: AirlockRules = DEFAULT_AIRLOCK_RULES) {
  const consumed = new CountingWindows();
  const ctx: AirlockContext = { secret: TotpSecret.fromBytes(KEY), consumed, rules };
  const subjects = new Map<string, AirlockSubject>();
  const add = (approvalId: string, name = approvalId) => {
    const s = { approvalId, commandHash: hashOf(name), airlock: OPEN };
    subjects.set(approvalId, s);
    return s;
  };
  /** Applies a decision the way the pipeline must: state, consumed windows, expired reverts. */
  const apply = (d: AirlockDecision) => {
    if (d.expired) subjects.set(d.expired.approvalId, { ...subjects.get(d.expired.approvalId)!, airlock: OPEN });
    if (!d.ok) return d;
    subjects.set(d.approvalId, { ...subjects.get(d.approvalId)!, airlock: d.state });
    consumed.addAll(d.consume);
    return d;
  };
  const doStage = async (id: string, code: string, now: number) => apply(await stage(subjects.get(id), code, now, ctx));
  const doLand = async (prefix: string, code: string, now: number) => apply(await land(subjects.values(), prefix, code, now, ctx));
  const doRevert = (id: string, now: number) => apply(revert(subjects.get(id), now));
  return { ctx, consumed, subjects, add, doStage, doLand, doRevert, get: (id: string) => subjects.get(id)! };
}

function refused(d: AirlockDecision, code: string): Extract<AirlockDecision, { ok: false }> {
  assert.equal(d.ok, false, `expected ${code}, got success`);
  if (d.ok) throw new Error('unreachable');
  assert.equal(d.error.code, code, d.error.message);
  return d;
}

function accepted(d: AirlockDecision): Extract<AirlockDecision, { ok: true }> {
  if (!d.ok) assert.fail(`expected success, got ${d.error.code}: ${d.error.message}`);
  return d;
}

describe('airlock: stage', () => {
  it('freezes an open command with the current code, fixing its deadlines and spending the stage window', async () => {
    const w = world();
    w.add('ap-1');
    const d = accepted(await w.doStage('ap-1', refCode(W), T0));
    assert.deepEqual(d.state, { status: 'staged', stagedAtMs: T0, stageWindow: W, landableAtMs: at(120), expiresAtMs: at(7200) });
    assert.deepEqual(d.consume, [{ purpose: 'stage', window: W }]);
    assert.deepEqual(d.event, { kind: 'staged', approvalId: 'ap-1', commandHash: hashOf('ap-1'), window: W, stagedAtMs: T0, landableAtMs: at(120), expiresAtMs: at(7200) });
  });

  it('accepts a code from the window before or after the current one, and refuses two away', async () => {
    const w = world();
    for (const id of ['a', 'b', 'c', 'd']) w.add(id);
    assert.equal(accepted(await w.doStage('a', refCode(W - 1), T0)).consume[0].window, W - 1);
    assert.equal(accepted(await w.doStage('b', refCode(W + 1), T0)).consume[0].window, W + 1);
    refused(await w.doStage('c', refCode(W - 2), T0), 'TOTP_INVALID');
    refused(await w.doStage('d', refCode(W + 2), T0), 'TOTP_INVALID');
  });

  it('refuses a command that is staged already', async () => {
    const w = world();
    w.add('ap-1');
    accepted(await w.doStage('ap-1', refCode(W), T0));
    refused(await w.doStage('ap-1', refCode(W + 2), at(60)), 'INVALID_STATE');
  });

  it('refuses a window already spent on staging, even for another command', async () => {
    const w = world();
    w.add('a');
    w.add('b');
    accepted(await w.doStage('a', refCode(W), T0));
    const d = refused(await w.doStage('b', refCode(W), at(1)), 'TOTP_REPLAY');
    assert.deepEqual(d.error.details, { purpose: 'stage', window: W });
  });

  it('answers NOT_FOUND for no command and INVALID_STATE for a landed one', async () => {
    const w = world({ floorSeconds: 0, ceilingSeconds: 7200 });
    refused(await w.doStage('nobody', refCode(W), T0), 'NOT_FOUND');
    w.add('a');
    accepted(await w.doStage('a', refCode(W), T0));
    accepted(await w.doLand(hashOf('a').slice(0, 8), refCode(W + 1), at(30)));
    refused(await w.doStage('a', refCode(W + 2), at(60)), 'INVALID_STATE');
  });
});

describe('airlock: land', () => {
  it('lands after the floor with a later window, bound to the staged hash', async () => {
    const w = world();
    w.add('ap-1');
    accepted(await w.doStage('ap-1', refCode(W), T0));
    const d = accepted(await w.doLand(hashOf('ap-1').slice(0, 8), refCode(W + 4), at(121)));
    assert.deepEqual(d.state, { status: 'landed', stagedAtMs: T0, stageWindow: W, landedAtMs: at(121), landWindow: W + 4 });
    assert.deepEqual(d.consume, [{ purpose: 'land', window: W + 4 }]);
    assert.equal(d.event.kind, 'landed');
  });

  it('accepts a landing code from the window before or after the current one', async () => {
    const w = world();
    w.add('a');
    w.add('b');
    accepted(await w.doStage('a', refCode(W), T0));
    accepted(await w.doStage('b', refCode(W + 1), at(1)));
    // At 150 s the server is in window W + 5.
    assert.equal(accepted(await w.doLand(hashOf('a').slice(0, 8), refCode(W + 4), at(150))).consume[0].window, W + 4);
    assert.equal(accepted(await w.doLand(hashOf('b').slice(0, 8), refCode(W + 6), at(150))).consume[0].window, W + 6);
  });

  it('refuses a landing code from the staging window or before it', async () => {
    // A floor of 0 is below what airlockRules allows; it is the only way to reach the window check.
    const w = world({ floorSeconds: 0, ceilingSeconds: 7200 });
    w.add('a');
    accepted(await w.doStage('a', refCode(W), T0));
    const same = refused(await w.doLand(hashOf('a').slice(0, 8), refCode(W), at(1)), 'TOTP_REPLAY');
    assert.deepEqual(same.error.details, { purpose: 'land', window: W, stageWindow: W });
    refused(await w.doLand(hashOf('a').slice(0, 8), refCode(W - 1), at(1)), 'TOTP_REPLAY');
    accepted(await w.doLand(hashOf('a').slice(0, 8), refCode(W + 1), at(1)));
  });

  it('refuses before the floor without looking at the code, so the window stays free', async () => {
    const w = world({ floorSeconds: 30, ceilingSeconds: 7200 });
    w.add('a');
    accepted(await w.doStage('a', refCode(W), T0));
    const asked = w.consumed.asked;
    const early = refused(await w.doLand(hashOf('a').slice(0, 8), refCode(W + 1), at(20)), 'REVIEW_FLOOR_NOT_MET');
    assert.equal(early.error.retryAfter, 10);
    refused(await w.doLand(hashOf('a').slice(0, 8), '000000', at(20)), 'REVIEW_FLOOR_NOT_MET');
    assert.equal(w.consumed.asked, asked, 'no consumed window was even looked up');
    // The very same code lands once the floor has passed: its window was not burnt.
    accepted(await w.doLand(hashOf('a').slice(0, 8), refCode(W + 1), at(31)));
  });

  it('refuses a wrong hash prefix before the code, so the window stays free', async () => {
    const w = world();
    w.add('a');
    accepted(await w.doStage('a', refCode(W), T0));
    refused(await w.doLand(hashOf('other').slice(0, 8), refCode(W + 4), at(125)), 'NOT_FOUND');
    accepted(await w.doLand(hashOf('a').slice(0, 8), refCode(W + 4), at(125)));
  });

  it('refuses a window already spent on landing, even for another command', async () => {
    const w = world();
    w.add('a');
    w.add('b');
    accepted(await w.doStage('a', refCode(W), T0));
    accepted(await w.doStage('b', refCode(W + 1), at(1)));
    accepted(await w.doLand(hashOf('a').slice(0, 8), refCode(W + 5), at(150)));
    const d = refused(await w.doLand(hashOf('b').slice(0, 8), refCode(W + 5), at(151)), 'TOTP_REPLAY');
    assert.deepEqual(d.error.details, { purpose: 'land', window: W + 5 });
  });

  it('spends a window once per purpose: one window may stage one command and land another', async () => {
    const w = world();
    w.add('a');
    w.add('b');
    accepted(await w.doStage('a', refCode(W), T0));
    accepted(await w.doLand(hashOf('a').slice(0, 8), refCode(W + 5), at(150)));
    accepted(await w.doStage('b', refCode(W + 5), at(151)));
    assert.ok(w.consumed.has('stage', W + 5) && w.consumed.has('land', W + 5));
  });

  it('refuses a prefix shorter than 8 hex digits, or not hex', async () => {
    const w = world();
    w.add('a');
    accepted(await w.doStage('a', refCode(W), T0));
    for (const prefix of [hashOf('a').slice(0, 7), 'xyz12345', '', hashOf('a') + '0']) {
      refused(await w.doLand(prefix, refCode(W + 4), at(125)), 'INVALID_PAYLOAD');
    }
    accepted(await w.doLand(hashOf('a').slice(0, 12).toUpperCase(), refCode(W + 4), at(125)));
  });

  it('refuses a prefix shared by two staged commands, and accepts a longer one', async () => {
    const w = world();
    const shared = 'abcdef01';
    w.subjects.set('a', { approvalId: 'a', commandHash: shared + '1'.repeat(56), airlock: OPEN });
    w.subjects.set('b', { approvalId: 'b', commandHash: shared + '2'.repeat(56), airlock: OPEN });
    accepted(await w.doStage('a', refCode(W), T0));
    accepted(await w.doStage('b', refCode(W + 1), at(1)));
    const d = refused(await w.doLand(shared, refCode(W + 5), at(150)), 'INVALID_PAYLOAD');
    assert.equal(d.error.details?.matches, 2);
    assert.equal(accepted(await w.doLand(shared + '2', refCode(W + 5), at(150))).approvalId, 'b');
  });

  it('counts only staged commands: a prefix of an open or landed one is INVALID_STATE', async () => {
    const w = world();
    w.add('a');
    refused(await w.doLand(hashOf('a').slice(0, 8), refCode(W), T0), 'INVALID_STATE');
  });
});

describe('airlock: revert and the ceiling', () => {
  it('reverts a staged command without a code or a window', async () => {
    const w = world();
    w.add('a');
    accepted(await w.doStage('a', refCode(W), T0));
    const d = accepted(w.doRevert('a', at(10)));
    assert.deepEqual(d.state, OPEN);
    assert.deepEqual(d.consume, []);
    assert.equal(d.event.kind === 'reverted' && d.event.reason, 'manual');
    // Open again: it may be staged anew with a fresh window.
    accepted(await w.doStage('a', refCode(W + 1), at(30)));
  });

  it('refuses to revert what is not staged', async () => {
    const w = world({ floorSeconds: 0, ceilingSeconds: 7200 });
    refused(w.doRevert('nobody', T0), 'NOT_FOUND');
    w.add('a');
    refused(w.doRevert('a', T0), 'INVALID_STATE');
    accepted(await w.doStage('a', refCode(W), T0));
    accepted(await w.doLand(hashOf('a').slice(0, 8), refCode(W + 1), at(30)));
    refused(w.doRevert('a', at(31)), 'INVALID_STATE');
  });

  it('decides the ceiling revert lazily and for a sweeper, once past the ceiling', async () => {
    const w = world();
    w.add('a');
    w.add('b');
    accepted(await w.doStage('a', refCode(W), T0));
    assert.equal(expired(w.get('a'), at(7200)), null);
    assert.equal(expired(w.get('b'), at(9000)), null, 'an open command never expires here');
    const due = expired(w.get('a'), at(7201));
    assert.deepEqual(due, { kind: 'reverted', approvalId: 'a', commandHash: hashOf('a'), reason: 'ceiling', stagedAtMs: T0, expiresAtMs: at(7200), atMs: at(7201) });
    assert.deepEqual(sweep(w.subjects.values(), at(7201)), [due]);
  });

  it('refuses to land past the ceiling without looking at the code, and hands back the revert', async () => {
    const w = world();
    w.add('a');
    accepted(await w.doStage('a', refCode(W), T0));
    const asked = w.consumed.asked;
    const late = at(7300);
    const d = refused(await w.doLand(hashOf('a').slice(0, 8), refCode(W + 243), late), 'APPROVAL_EXPIRED');
    assert.equal(w.consumed.asked, asked);
    assert.equal(d.expired?.reason, 'ceiling');
    assert.deepEqual(w.get('a').airlock, OPEN, 'the caller recorded the revert');
  });

  it('stages anew a command whose staging outlived its ceiling, recording that revert too', async () => {
    const w = world();
    w.add('a');
    accepted(await w.doStage('a', refCode(W), T0));
    const later = at(7300);
    const window = Math.floor(later / 30_000);
    const d = accepted(await w.doStage('a', refCode(window), later));
    assert.equal(d.expired?.reason, 'ceiling');
    assert.equal(d.state.status === 'staged' && d.state.stageWindow, window);
  });

  it('reports a revert asked for after the ceiling as the ceiling revert it already was', async () => {
    const w = world();
    w.add('a');
    accepted(await w.doStage('a', refCode(W), T0));
    const d = accepted(w.doRevert('a', at(8000)));
    assert.equal(d.event.kind === 'reverted' && d.event.reason, 'ceiling');
  });
});

describe('airlock: secrecy and rules', () => {
  it('never puts the code or the secret into a decision', async () => {
    const w = world();
    w.add('a');
    const code = refCode(W);
    const decisions = [await stage(w.get('a'), code, T0, w.ctx), await stage(undefined, code, T0, w.ctx), await land(w.subjects.values(), hashOf('a').slice(0, 8), code, T0, w.ctx)];
    w.consumed.add('stage', W);
    decisions.push(await stage(w.get('a'), code, T0, w.ctx), await stage(w.get('a'), '999999', T0, w.ctx));
    const secret = TotpSecret.fromBytes(KEY).toBase32();
    for (const d of decisions) {
      const text = JSON.stringify(d) + (d.ok ? '' : d.error.message + JSON.stringify(d.error.details));
      assert.ok(!text.includes(code), text);
      assert.ok(!text.includes(secret), text);
    }
  });

  it('validates rules: floor at least a code life (90 s), ceiling above the floor', () => {
    assert.deepEqual(airlockRules(), { floorSeconds: 120, ceilingSeconds: 7200 });
    assert.deepEqual(airlockRules({ floorSeconds: 90, ceilingSeconds: 91 }), { floorSeconds: 90, ceilingSeconds: 91 });
    assert.throws(() => airlockRules({ floorSeconds: 89 }), /at least 90/);
    assert.throws(() => airlockRules({ floorSeconds: 120, ceilingSeconds: 120 }), /above the floor/);
    assert.throws(() => airlockRules({ floorSeconds: 120.5 }), RangeError);
  });
});
