import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { packageRoot } from '../src/util/package-root.js';
import { startHarness, type Harness } from './support/harness.js';
import { leaves, type Leaf } from './support/stage-helpers.js';

const PACK_API = pathToFileURL(join(packageRoot(), 'dist', 'src', 'catalog', 'pack-api.js')).href;

const ACTIONS = [
  'pack: ticker',
  'scroll: ticker',
  'actions:',
  '  Tick:',
  '    description: One tick of the pack\'s clock job.',
  '    entity: tick',
  '    id: "{clock}"',
  '    effect: upsert',
  '    event: tick.ticked',
  '    payload: { type: object, additionalProperties: false, required: [clock, n, at], properties: { clock: { type: string, pattern: "^[a-z]{1,16}$" }, n: { type: integer, minimum: 1, maximum: 1000000 }, at: { type: string, maxLength: 40 } } }',
  '  Report:',
  '    description: What the job was told when it reached beyond its pack.',
  '    entity: report',
  '    id: "{id}"',
  '    effect: upsert',
  '    event: report.made',
  '    payload: { type: object, additionalProperties: false, required: [id, code], properties: { id: { type: string, pattern: "^[a-z]{1,16}$" }, code: { type: string, maxLength: 64 } } }',
  '',
].join('\n');

/**
 * The pack.js a deployment writes (what `import { everyInterval } from 'writ/pack'` gives it): a
 * job that reads its last tick and submits the next one every 20 ms, which first tries to submit an
 * action of another pack and records the answer, and which leaves a mark when it is stopped.
 */
const packJs = (stoppedMark: string) => `import { writeFileSync } from 'node:fs';
import { everyInterval } from ${JSON.stringify(PACK_API)};
export default function setup(env) {
  if (!env) return {};
  const tenant = env.config.tenant;
  const clock = {
    name: 'clock',
    async run(ctx) {
      // Each attempt's answer (or the code it was refused with) is recorded as a Report.
      const attempt = async (id, submit) => {
        let code;
        try {
          const body = JSON.parse((await submit()).body);
          code = 'ANSWERED ' + body.status + ' ' + (body.code ?? '');
        } catch (err) {
          code = String(err.code);
        }
        await ctx.submit(tenant, 'Report', { id, code }, 'ticker-report-' + id);
      };
      await attempt('overreach', () => ctx.submit(tenant, 'writ.SetFlag', { subject: 'tenant', flag: 'blocked', reason: 'a job reaching beyond its pack' }, 'ticker-overreach'));
      await attempt('elsewhere', () => ctx.submit('nosuch', 'Report', { id: 'elsewhere', code: 'x' }, 'ticker-elsewhere'));
      await attempt('longid', () => ctx.submit(tenant, 'Report', { id: 'longid', code: 'x' }, 'r'.repeat(300)));
      await attempt('huge', () => ctx.submit(tenant, 'Report', { id: 'huge', code: 'x'.repeat(2 * 1024 * 1024) }, 'ticker-huge'));
      await everyInterval(ctx, 20, async () => {
        if (ctx.held(tenant)) return;
        const last = await ctx.get(tenant, 'tick', 'main');
        const n = (last ? last.doc.n : 0) + 1;
        await ctx.submit(tenant, 'Tick', { clock: 'main', n, at: new Date(ctx.now()).toISOString() }, 'ticker-tick-' + n);
      });
      writeFileSync(${JSON.stringify(stoppedMark)}, 'stopped');
    },
  };
  return { jobs: [clock] };
}
`;

/**
 * A pack in the home has the powers of a built-in one (DESIGN §4, STYLE §12): here a background job
 * (as the content pack's publish scheduler), loaded from the home's packs/<pack>/pack.js.
 */
describeEachBackend('a deployment pack with a background job', (backend) => {
  let h: Harness;
  let marks: string;
  before(async () => {
    h = await startHarness({}, { backend });
    marks = mkdtempSync(join(tmpdir(), 'writ-job-'));
    const dir = join(h.home, 'packs', 'ticker');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'actions.yaml'), ACTIONS);
    writeFileSync(join(dir, 'pack.js'), packJs(join(marks, 'stopped')));
    await h.restart();
  });
  after(async () => {
    await h.close();
    rmSync(marks, { recursive: true, force: true });
  });

  /** The ticker's log once it holds `n` ticks (bounded: a job that never submits fails here). */
  async function ticks(n: number): Promise<Leaf[]> {
    for (let i = 0; i < 500; i++) {
      const found = (await leaves(h, 'ticker')).filter((l) => l.action === 'Tick');
      if (found.length >= n) return found;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.fail(`the job did not submit ${n} ticks`);
  }

  it('submits its command on a timer as the system actor, and the command is in the ledger', async () => {
    const found = await ticks(3);
    for (const [i, l] of found.slice(0, 3).entries()) {
      assert.equal(l.actor, 'writ');
      assert.equal(l.outcome, 'OK');
      assert.equal(l.target, 'tick/main');
      assert.equal(l.requestId, `ticker-tick-${i + 1}`, 'each tick read the last one from state');
    }
    const state = await h.get(`/v1/entities/${h.tenant}/tick/main`);
    assert.equal(state.status, 200);
    assert.ok(state.body.doc.n >= 3);
  });

  const report = async (id: string) => {
    const r = await h.get(`/v1/entities/${h.tenant}/report/${id}`);
    assert.equal(r.status, 200, `the job reported ${id}`);
    return r.body.doc.code as string;
  };

  it('may submit only its own pack\'s actions: another pack\'s is refused FORBIDDEN and nothing of it is recorded', async () => {
    await ticks(1);
    assert.equal(await report('overreach'), 'FORBIDDEN');
    assert.equal((await leaves(h, 'writ')).filter((l) => l.requestId === 'ticker-overreach').length, 0);
    assert.equal((await h.get(`/v1/entities/${h.tenant}/flag/tenant`)).status, 404, 'no flag was set');
  });

  it('may submit only in tenants writ serves, with an envelope\'s bounds, before anything is recorded', async () => {
    await ticks(1);
    assert.equal(await report('elsewhere'), 'FORBIDDEN');
    assert.ok(!h.writ.applier.logSizes().some((l) => l.tenant === 'nosuch'), 'no log was opened for another tenant');
    assert.equal(await report('longid'), 'INVALID_ENVELOPE');
    assert.equal(await report('huge'), 'PAYLOAD_TOO_LARGE');
    const refused = (await leaves(h, 'ticker')).filter((l) => l.requestId.length > 128 || l.requestId === 'ticker-huge');
    assert.deepEqual(refused, [], 'the refused submissions left no record');
  });

  it('is stopped when writ closes, and started again when it opens', async () => {
    const before = (await ticks(1)).length;
    await h.restart();
    assert.ok(existsSync(join(marks, 'stopped')), 'the job saw its stop signal and ended');
    const again = await ticks(before + 1);
    assert.equal(again.at(-1)!.requestId, `ticker-tick-${again.length}`, 'the restarted job went on from state');
  });
});
