import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WritError } from '../src/core/errors.js';
import { entryPath, mirrorPath } from '../src/packs/ops/audit/names.js';

describe('the audit mirror keeps every repository inside its folder', () => {
  const folder = mkdtempSync(join(tmpdir(), 'writ-audit-names-'));

  it('names one bare repository per tenant and workspace under the folder', () => {
    assert.equal(mirrorPath(folder, 'acme', 'prod'), join(folder, 'acme', 'prod.git'));
  });

  for (const [tenant, workspace] of [
    ['acme', '../../etc'],
    ['acme', '..'],
    ['..', 'prod'],
    ['acme/../..', 'prod'],
    ['acme', 'prod/../../x'],
    ['acme', '/etc/passwd'],
    ['acme', 'prod\nfrom refs/heads/main'],
    ['acme', ''],
    ['', 'prod'],
    ['acme', 'Prod'],
    ['acme', 'x'.repeat(64)],
  ]) {
    it(`refuses tenant ${JSON.stringify(tenant)} with workspace ${JSON.stringify(workspace)} with a typed error, creating nothing`, () => {
      assert.throws(() => mirrorPath(folder, tenant, workspace), (err: unknown) => err instanceof WritError && err.code === 'INVALID_PAYLOAD');
      assert.deepEqual(readdirSync(folder), []);
    });
  }

  it('names an entry by op, ledger index and action, and refuses an op id or action that would leave ops/<op>/', () => {
    assert.equal(entryPath('dep-1', 7, 'SubmitOp'), 'ops/dep-1/7-SubmitOp.json');
    assert.equal(entryPath('dep-1', 9, 'writ.Approve'), 'ops/dep-1/9-writ.Approve.json');
    for (const [op, action] of [['../x', 'SubmitOp'], ['dep-1', '../../x'], ['dep-1\nM 100644', 'SubmitOp'], ['.', 'SubmitOp'], ['dep-1', 'Submit/Op']]) {
      assert.throws(() => entryPath(op, 1, action), (err: unknown) => err instanceof WritError && err.code === 'INVALID_PAYLOAD', `${op} ${action}`);
    }
  });
});
