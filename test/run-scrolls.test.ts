import { strict as assert } from 'node:assert';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { canonicalJson } from '../src/core/runs/canonical-json.js';
import { jcs } from '../src/canonical/jcs.js';
import { loadConfig } from '../src/config/config.js';
import { openWrit } from '../src/writ.js';
import { startHarness, type Harness } from './support/harness.js';
import { assertError, assertOk } from './support/stage-helpers.js';

/** A pack of the home whose handler names the log of its record (EffectPlan.scroll), as the runs pack does. */
function writePack(home: string, name: string, scroll: string, chosen: string): void {
  const dir = join(home, 'packs', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'actions.yaml'),
    [`pack: ${name}`, `scroll: ${scroll}`, 'actions:', `  Probe${name.replace(/-/g, '')}:`, '    description: Writes to the scroll its handler names.', '    entity: probe', '    id: "{id}"', '    effect: { handler: probe }', '    event: probe.done', '    payload: { type: object, required: [id], properties: { id: { type: string, pattern: "^[a-z0-9-]{1,32}$" } } }', ''].join('\n'),
  );
  writeFileSync(join(dir, 'handlers.js'), `export function probe(ctx) { return { writes: [{ ...ctx.target, doc: { ok: true } }], result: null, scroll: ${JSON.stringify(chosen)} }; }\n`);
  writeFileSync(join(dir, 'policies.cedar'), `permit (principal in Writ::Role::"admin", action in Writ::Action::"pack:${name}", resource);\n`);
}

describeEachBackend('a handler that names the log of its record', (backend) => {
  let h: Harness;
  before(async () => {
    h = await startHarness({}, { backend });
    writePack(h.home, 'sub', 'sub', 'sub-alpha');
    writePack(h.home, 'thief', 'thief', 'writ');
    await h.restart();
  });
  after(() => h.close());

  it('writes to a scroll of its own action, <scroll>-<suffix>', async () => {
    const body = assertOk(await h.post(h.sign('Probesub', { id: 'one' })));
    assert.equal(body.receipt.log, `writ.local/${h.tenant}/sub-alpha`);
    assert.equal((await h.get(`/v1/entities/${h.tenant}/probe/one`)).body.scroll, 'sub-alpha');
  });

  it("may not write into another pack's log: INTERNAL, recorded in its own scroll, nothing applied", async () => {
    const before = (await h.writ.store.readLedger(h.tenant, 'writ', 0, 10_000)).length;
    const res = await h.post(h.sign('Probethief', { id: 'two' }));
    assertError(res, 'INTERNAL');
    assert.equal(res.body.receipt.log, `writ.local/${h.tenant}/thief`);
    assert.equal((await h.writ.store.readLedger(h.tenant, 'writ', 0, 10_000)).length, before, 'the writ log did not grow');
    assert.equal((await h.get(`/v1/entities/${h.tenant}/probe/two`)).status, 404);
  });

  it("refuses to load a pack whose scroll begins with another pack's scroll and a dash", async () => {
    writePack(h.home, 'squatter', 'runs-drills', 'runs-drills');
    try {
      await assert.rejects(openWrit(loadConfig(h.home)), /scroll runs-drills of pack squatter begins with scroll runs- of pack runs/);
    } finally {
      rmSync(join(h.home, 'packs', 'squatter'), { recursive: true });
    }
  });
});

describe('the canonical JSON of a seal', () => {
  it('is byte for byte what RFC 8785 (the canonicalize library) gives, on random documents', () => {
    const rnd = (n: number) => Math.floor(Math.random() * n);
    const str = () => Array.from({ length: rnd(6) }, () => ['A', 'z', '\x7f', 'é', '\x1f', '"', '\\', '\u2028', '😀', '\u{10ffff}', '\x10', 'ö'][rnd(12)]).join('');
    const value = (depth: number): unknown => {
      const k = rnd(depth > 3 ? 4 : 6);
      if (k === 0) return str();
      if (k === 1) return rnd(2) ? -rnd(1e9) * rnd(1e6) : rnd(100);
      if (k === 2) return [true, false, null][rnd(3)];
      if (k === 3) return Number.MAX_SAFE_INTEGER - rnd(10);
      if (k === 4) return Array.from({ length: rnd(4) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: rnd(5) }, () => [str(), value(depth + 1)]));
    };
    for (let i = 0; i < 2000; i++) {
      const v = value(0);
      assert.equal(canonicalJson(v), jcs(v));
    }
  });

  it('refuses a fraction and a lone surrogate, which a seal never holds', () => {
    assert.throws(() => canonicalJson({ a: 1.5 }), /safe integers/);
    assert.throws(() => canonicalJson({ a: '\ud83d' }), /lone surrogates/);
  });
});
