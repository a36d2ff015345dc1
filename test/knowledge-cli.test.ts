import { strict as assert } from 'node:assert';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { KeyObject } from 'node:crypto';
import { base32Encode } from '../src/approvals/totp.js';
import { CODES, PENDING_EXIT } from '../src/core/codes.js';
import type { Signer } from '../src/sdk/sign.js';
import { runWrit } from './support/cli.js';
import { startHarness, type Harness } from './support/harness.js';
import { git, refs } from './support/knowledge.js';
import { assertOk, ManualClock } from './support/stage-helpers.js';
import { refHotp } from './support/reference.js';

const KEY = Buffer.from('writ knowledge cli key, 32 bytes!', 'ascii');

/**
 * `writ knowledge …` against a real server: bootstrap seeds the canon through KipCommit, Propose
 * and a held Land; the practitioner lands it with `writ approvals approve` and the airlock codes
 * (docs/knowledge.md, "The practitioner's gate"); status, preview, inbox and reindex.
 */
describe('writ knowledge (command line)', () => {
  // The server's clock starts 150 s behind the CLI's (which signs with the real time), so that after
  // the review floor's 151 s it is still within the read tokens' 60 s and the envelopes' skew.
  const clock = new ManualClock(Math.floor((Date.now() - 150_000) / 30_000) * 30_000 + 5_000);
  const window = () => Math.floor(clock.ms / 30_000);
  let h: Harness;
  let url: string;
  let pia: Signer;
  let piaKey: string;
  let closed = false;
  const out: Record<string, any> = {};
  before(async () => {
    h = await startHarness({ approvals: { sweepEnabled: false } }, { now: clock.now });
    writeFileSync(join(h.home, 'keys', 'totp.secret'), base32Encode(KEY) + '\n', { mode: 0o600 });
    await h.restart();
    pia = await h.actor('pia', ['practitioner']);
    piaKey = join(h.home, 'pia.key');
    writeFileSync(piaKey, ((pia as unknown as { privateKey: KeyObject }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string), { mode: 0o600 });
    url = await h.listen();
  });
  after(async () => {
    if (!closed) await h.close();
    else rmSync(h.home, { recursive: true, force: true });
  });

  const writ = (...args: string[]) => runWrit(['--home', h.home, '--url', url, ...args]);
  const asPia = ['--key', '', '--key-id', 'pia#1'];

  it('bootstraps an empty canon from a folder: commits, proposes, and asks to land (held for a practitioner)', async () => {
    const dir = join(h.home, 'seed');
    mkdirSync(join(dir, 'guides'), { recursive: true });
    writeFileSync(join(dir, 'guides', 'start.md'), '# Getting started\n\nRead this first.\n');
    writeFileSync(join(dir, 'glossary.md'), '---\ntype: glossary\ntitle: Glossary\n---\nTerms.\n');
    const run = await writ('knowledge', 'bootstrap', dir);
    assert.equal(run.code, PENDING_EXIT, run.stdout + run.stderr);
    out.boot = JSON.parse(run.stdout);
    assert.equal(out.boot.entries, 2);
    assert.deepEqual(out.boot.land.requirement.roles, ['practitioner']);
  });

  it('shows the open proposal in status and previews what it changes', async () => {
    const status = JSON.parse((await writ('knowledge', 'status')).stdout);
    assert.deepEqual(status.canon, { seq: 0, head: null });
    assert.deepEqual(status.proposals.map((p: any) => p.id), [out.boot.proposalId]);
    const preview = JSON.parse((await writ('knowledge', 'preview', out.boot.proposalId)).stdout);
    assert.deepEqual(preview.changedPaths, ['glossary.md', 'guides/start.md']);
    assert.equal(preview.merges, true);
  });

  it('lands only when a practitioner approves and passes the airlock with two codes', async () => {
    asPia[1] = piaKey;
    const { approvalId, commandHash } = out.boot.land;
    const approve = await writ('approvals', 'approve', approvalId, ...asPia);
    assert.equal(approve.code, 0, approve.stdout + approve.stderr);
    assert.equal((await writ('knowledge', 'status')).stdout.includes('"seq": 0'), true, 'approval alone lands nothing');
    const stage = await writ('airlock', 'stage', approvalId, '--code', refHotp(KEY, window()), ...asPia);
    assert.equal(stage.code, 0, stage.stdout + stage.stderr);
    clock.advance(151_000);
    const land = await writ('airlock', 'land', commandHash.slice(0, 12), '--code', refHotp(KEY, window()), ...asPia);
    assert.equal(land.code, 0, land.stdout + land.stderr);
    const status = JSON.parse((await writ('knowledge', 'status')).stdout);
    assert.equal(status.canon.seq, 1);
    assert.equal(status.canon.head, (await refs(h))['refs/heads/canon']);
    assert.match(git(h, 'show', 'refs/heads/canon:guides/start.md') ?? '', /title: "Getting started"/);
  });

  it('refuses a second bootstrap once the canon has entries', async () => {
    const dir = join(h.home, 'seed');
    const run = await writ('knowledge', 'bootstrap', dir);
    assert.equal(run.code, CODES.INVALID_STATE.exit, run.stdout + run.stderr);
  });

  it('lists the inbox and marks a message read', async () => {
    assertOk(await h.post(h.sign('SendMessage', { messageId: 'hello', to: h.writ.config.admin, subject: 'Hi', body: 'from pia' }, { timestamp: clock.iso() }, pia)));
    const list = JSON.parse((await writ('knowledge', 'inbox')).stdout);
    assert.deepEqual(list.messages.map((m: any) => [m.from, m.subject]), [['pia', 'Hi']]);
    assert.equal((await writ('knowledge', 'inbox', '--read', 'hello')).code, 0);
    assert.deepEqual(JSON.parse((await writ('knowledge', 'inbox')).stdout).messages, []);
    assert.equal(JSON.parse((await writ('knowledge', 'inbox', '--all')).stdout).messages.length, 1);
  });

  it('refuses to reindex while the server runs, and rebuilds the index offline', async () => {
    const busy = await writ('knowledge', 'reindex');
    assert.equal(busy.code, CODES.UNAVAILABLE.exit, busy.stdout + busy.stderr);
    await h.app.close();
    await h.writ.close();
    closed = true;
    const run = await runWrit(['--home', h.home, 'knowledge', 'reindex']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.deepEqual(JSON.parse(run.stdout).reindexed.tenants, 1);
  });
});
