import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { packageRoot } from '../src/util/package-root.js';
import { startHarness, type Harness } from './support/harness.js';
import { assertOk } from './support/stage-helpers.js';

/** The example contracts docs/runs.md points to are contracts writ accepts, not prose. */
describeEachBackend('the example run contracts', (backend) => {
  const dir = join(packageRoot(), 'examples');
  const files = readdirSync(dir).filter((f) => /^run-contract.*\.json$/.test(f));
  let h: Harness;
  before(async () => {
    h = await startHarness({}, { backend });
  });
  after(() => h.close());

  it('exist, one in strict order and one in any order', () => {
    const orders = files.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')).stageOrder ?? 'strict');
    assert.deepEqual([...new Set(orders)].sort(), ['any', 'strict']);
  });

  for (const file of files) {
    it(`starts a run from examples/${file}`, async () => {
      const contract = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      const res = assertOk(await h.post(h.sign('StartRun', contract)));
      assert.match(res.receipt.log, new RegExp(`/runs-${contract.domain}$`));
    });
  }
});
