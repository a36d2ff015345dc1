import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { base32Encode } from '../src/approvals/totp.js';
import { jcs } from '../src/canonical/jcs.js';
import { sha256Hex } from '../src/core/hash.js';
import { runWrit } from './support/cli.js';
import { entry, git, refs } from './support/knowledge.js';
import { call, httpClient, startMcpHome, stdioClient, type McpHome } from './support/mcp.js';
import { refHotp } from './support/reference.js';
import { ManualClock } from './support/stage-helpers.js';

const KEY = Buffer.from('writ knowledge mcp key, 32 bytes', 'ascii');
const PATH = 'notes/retry-budgets.md';

/**
 * Issue 13's end-to-end: two AI instances as MCP clients (the SDK's Client; `writ mcp` over stdio
 * with ana's key, `/mcp` with a bearer JWT for ben) keep their own perspectives; ana proposes and
 * asks to land, cannot approve it herself; the practitioner lands it from the command line with the
 * airlock's codes (an independent RFC 6238 implementation); both read the new canon.
 */
describe('two AI instances and a practitioner share a canon over MCP', () => {
  // As in knowledge-cli: the server's clock starts 150 s behind the signers' real time, so that
  // after the airlock's review floor (151 s) every signature is still fresh.
  const clock = new ManualClock(Math.floor((Date.now() - 150_000) / 30_000) * 30_000 + 5_000);
  const window = () => Math.floor(clock.ms / 30_000);
  let m: McpHome;
  let ana: Client;
  let ben: Client;
  let asPia: string[];
  const s: Record<string, any> = {};

  before(async () => {
    m = await startMcpHome({ approvals: { sweepEnabled: false } }, undefined, { now: clock.now }, (home) =>
      writeFileSync(join(home, 'keys', 'totp.secret'), base32Encode(KEY) + '\n', { mode: 0o600 }),
    );
    const anaKey = await m.agent('ana', ['instance']);
    await m.agent('ben', ['instance']);
    const pia = await m.agent('pia', ['practitioner']);
    asPia = ['--key', pia.keyFile, '--key-id', pia.keyId];
    ana = await stdioClient(m, anaKey);
    ben = await httpClient(m, await m.token('ben'));
  });
  after(async () => {
    await ana?.close();
    await ben?.close();
    await m?.close();
  });
  const writ = (...args: string[]) => runWrit(['--home', m.h.home, '--url', m.url, ...args]);
  const ok = async (client: Client, tool: string, args: Record<string, unknown> = {}) => {
    const r = await call(client, tool, args);
    assert.equal(r.isError, false, `${tool}: ${r.text}`);
    return r.value;
  };

  it('lets each instance commit to its own perspective and read it, but not write or read the other\'s', async () => {
    s.anaCommit = (await ok(ana, 'submit', { action: 'KipCommit', payload: { perspective: 'ana', message: 'Retry budgets', writes: [{ path: PATH, content: entry('Retry budgets', 'Spend at most 10% on retries.') }] } })).result.commit;
    await ok(ben, 'submit', { action: 'KipCommit', payload: { perspective: 'ben', message: 'Timeouts', writes: [{ path: 'notes/timeouts.md', content: entry('Timeouts') }] } });
    const own = await ok(ana, 'kip_get', { ref: 'perspective/ana', path: PATH });
    assert.equal(own.commit, s.anaCommit);
    assert.match(own.content, /at most 10%/);
    const intrude = await call(ben, 'submit', { action: 'KipCommit', payload: { perspective: 'ana', message: 'x', writes: [{ path: PATH, content: entry('Mine') }] } });
    assert.equal(intrude.value.error.code, 'FORBIDDEN', intrude.text);
    const peek = await call(ben, 'kip_get', { ref: 'perspective/ana', path: PATH });
    assert.equal(peek.value.error.code, 'FORBIDDEN', peek.text);
    assert.equal((await ok(ben, 'canon_seq')).seq, 0);
  });

  it('refuses arguments outside the tools\' schemas before any read', async () => {
    for (const [tool, args] of [['kip_get', { path: '../x.md' }], ['kip_get', { path: PATH, ref: 'refs/heads/canon' }], ['search', { q: 'x'.repeat(257) }], ['kip_log', { limit: 201 }], ['canon_seq', { extra: 1 }]] as const) {
      const r = await call(ana, tool, args);
      assert.equal(r.isError, true, `${tool} ${JSON.stringify(args)}`);
      assert.equal(r.value.error.code, 'INVALID_PAYLOAD', r.text);
    }
  });

  it('holds ana\'s Land for a practitioner, and refuses her own approval of it', async () => {
    const proposed = await ok(ana, 'submit', { action: 'Propose', payload: { proposalId: 'retry', title: 'Retry budgets' } });
    assert.deepEqual(proposed.result.changedPaths, [PATH]);
    const preview = await ok(ben, 'proposal_preview', { proposalId: 'retry' });
    assert.equal(preview.merges, true);
    const held = await ok(ana, 'submit', { action: 'Land', payload: { proposalId: 'retry', head: s.anaCommit } });
    assert.equal(held.status, 'PENDING_APPROVAL');
    s.land = { requestId: held.requestId, approvalId: held.approval.id, commandHash: held.commandHash };
    const self = await call(ana, 'submit', { action: 'writ.Approve', payload: { approvalId: s.land.approvalId, commandHash: s.land.commandHash } });
    assert.equal(self.value.error.code, 'SELF_APPROVAL', self.text);
    const peer = await call(ben, 'submit', { action: 'writ.Approve', payload: { approvalId: s.land.approvalId, commandHash: s.land.commandHash } });
    assert.equal(peer.isError, true, 'another instance is no practitioner');
    assert.equal((await ok(ana, 'canon_seq')).seq, 0, 'nothing landed');
  });

  it('lands when the practitioner approves from the command line and passes the airlock', async () => {
    const approve = await writ('approvals', 'approve', s.land.approvalId, ...asPia);
    assert.equal(approve.code, 0, approve.stdout + approve.stderr);
    const stage = await writ('airlock', 'stage', s.land.approvalId, '--code', refHotp(KEY, window()), ...asPia);
    assert.equal(stage.code, 0, stage.stdout + stage.stderr);
    clock.advance(151_000);
    const land = await writ('airlock', 'land', s.land.commandHash.slice(0, 12), '--code', refHotp(KEY, window()), ...asPia);
    assert.equal(land.code, 0, land.stdout + land.stderr);
  });

  it('shows both instances the new canon and the advanced seq', async () => {
    for (const client of [ana, ben]) {
      const seq = await ok(client, 'canon_seq');
      assert.equal(seq.seq, 1);
      const canon = await ok(client, 'kip_get', { path: PATH });
      assert.equal(canon.commit, seq.head);
      assert.match(canon.content, /at most 10%/);
      const hits = await ok(client, 'search', { q: 'retry budg', ref: 'canon' });
      assert.deepEqual(hits.hits.map((x: any) => x.path), [PATH]);
    }
    s.head = (await ok(ben, 'canon_seq')).head;
    const log = await ok(ben, 'kip_log', {});
    assert.deepEqual(log.commits.map((c: any) => c.commit), [s.head, s.anaCommit], 'the landing, then the proposal it merged');
    assert.deepEqual((await ok(ben, 'kip_log', { path: PATH })).commits.map((c: any) => c.commit), [s.anaCommit], 'the commit that wrote the entry');
    const before = await ok(ben, 'kip_get', { path: PATH, ref: 'perspective/ben', at: s.head }).catch(() => null);
    assert.equal(before, null, 'a canon commit is not in the history of ben\'s perspective');
    const status = await ok(ana, 'knowledge_status');
    assert.deepEqual(status.canon, { seq: 1, head: s.head });
    assert.deepEqual((await ok(ana, 'inbox')).messages, []);
  });

  it('agrees with git and the ledger: the Land record names the merged commit, and writ verify is clean', async () => {
    assert.equal((await refs(m.h))['refs/heads/canon'], s.head);
    const [line] = (git(m.h, 'log', '--format=%H %P', 'refs/heads/canon') ?? '').split('\n');
    const [commit, ...parents] = line!.split(' ');
    assert.equal(commit, s.head);
    assert.equal(parents.at(-1), s.anaCommit, 'the landing commit\'s last parent is the proposal');
    assert.equal(git(m.h, 'show', `${s.head}:${PATH}`), (await ok(ana, 'kip_get', { path: PATH })).content.trimEnd());
    const answer = await ok(ana, 'get_command', { requestId: s.land.requestId });
    assert.equal(answer.answer.result.commit, s.head);
    assert.equal(answer.answer.result.seq, 1);
    const page = await m.h.get(`/v1/ledger/${m.h.tenant}/knowledge/records?from=0&limit=100`);
    const lands = page.body.records.map((r: any) => r.record).filter((r: any) => r.action === 'Land' && r.outcome === 'OK');
    assert.equal(lands.length, 1);
    assert.equal(lands[0].requestId, s.land.requestId);
    assert.equal(lands[0].resultHash, sha256Hex(jcs(answer.answer.result)), 'the record commits to the result naming the merged commit');
    const verify = await writ('verify', '--no-progress');
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  });
});
