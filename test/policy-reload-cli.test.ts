import { strict as assert } from 'node:assert';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CODES } from '../src/core/codes.js';
import { runWrit, servedHome } from './support/cli.js';

/** `writ policy reload` and SIGHUP on a real `writ serve` process (docs/policy.md, "Reloading"). */
describe('writ policy reload and SIGHUP on a running writ serve', () => {
  const { scratch, home, server, writ } = servedHome('writ-reload-cli-');
  const freeze = join(home, 'policies', 'freeze.cedar');
  const digest = async () => JSON.parse((await writ('get', '/v1/policy')).stdout).digest as string;

  it('answers unchanged when nothing changed', async () => {
    const run = await writ('policy', 'reload');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).status, 'unchanged');
  });

  it('exits 68 (POLICY_INVALID) on an invalid file and prints the problems; the set in force stays', async () => {
    const before = await digest();
    writeFileSync(join(home, 'policies', 'broken.cedar'), 'permit (principal, action, resource\n');
    try {
      const run = await writ('policy', 'reload');
      assert.equal(run.code, CODES.POLICY_INVALID.exit, run.stdout + run.stderr);
      const out = JSON.parse(run.stdout);
      assert.equal(out.code, 'POLICY_INVALID');
      assert.ok(out.details.problems.every((p: string) => p.startsWith('policies/broken.cedar')), run.stdout);
      assert.equal(await digest(), before);
    } finally {
      rmSync(join(home, 'policies', 'broken.cedar'));
    }
  });

  it('puts a forbid in force with `writ policy reload`, and lifts it again on SIGHUP', async () => {
    writeFileSync(freeze, 'forbid (principal, action == Writ::Action::"UpsertProduct", resource);\n');
    const run = await writ('policy', 'reload');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).status, 'reloaded');
    const refused = await writ('submit', 'examples/upsert-product.json');
    assert.equal(refused.code, CODES.FORBIDDEN.exit, refused.stdout + refused.stderr);

    const frozen = await digest();
    rmSync(freeze);
    server().child.kill('SIGHUP');
    for (let i = 0; (await digest()) === frozen; i++) {
      assert.ok(i < 100, `SIGHUP did not reload: ${server().stderr()}`);
      await sleep(50);
    }
    assert.match(server().stderr(), /SIGHUP: policy reloaded/);
    const ok = await writ('submit', 'examples/upsert-product.json');
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const entity = JSON.parse((await writ('get', '/v1/entities/default/policyset/in-force')).stdout);
    assert.equal(entity.doc.by, 'signal:SIGHUP');
  });

  it('leaves a ledger that writ verify replays, the writ.RecordPolicy records included', async () => {
    const anchored = await writ('anchor');
    assert.equal(anchored.code, 0, anchored.stderr);
    await server().stop();
    const run = await runWrit(['--home', home, 'verify']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
  });
});
