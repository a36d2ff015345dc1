import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Anchor, CheckpointToAnchor } from '../src/ledger/anchors/anchor.js';
import { GitAnchor } from '../src/ledger/anchors/git-anchor.js';
import { NdjsonAnchor } from '../src/ledger/anchors/ndjson-anchor.js';

const scratch = mkdtempSync(join(tmpdir(), 'writ-anchors-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let folders = 0;
const fresh = (name: string) => join(scratch, `${name}-${++folders}`);

/**
 * A well-formed but unsigned checkpoint (C2SP tlog-checkpoint text as a C2SP signed note with one
 * fake signature of keyID ‖ 64 bytes); anchors read only its first three lines, so nothing needs to verify.
 */
function checkpoint(tenant: string, scroll: string, size: number, salt = ''): CheckpointToAnchor {
  const origin = `writ.example/${tenant}/${scroll}`;
  const rootBase64 = createHash('sha256').update(`${origin} ${size}${salt}`).digest('base64');
  const sig = Buffer.concat([Buffer.from([1, 2, 3, 4]), createHash('sha512').update(rootBase64).digest()]).toString('base64');
  const note = `${origin}\n${size}\n${rootBase64}\n\n— writ.example/log ${sig}\n`;
  return { tenant, scroll, origin, size, rootBase64, note, at: new Date(Date.UTC(2025, 0, 1, 0, 0, size)).toISOString() };
}

const git = (repo: string, ...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' });

// The contract is the same for every anchor; each opens over a folder so that reopening is the same call.
const KINDS: ReadonlyArray<readonly [string, (folder: string) => Promise<Anchor>]> = [
  ['git', (folder) => GitAnchor.open({ path: folder })],
  ['ndjson', (folder) => NdjsonAnchor.open({ path: join(folder, 'checkpoints.ndjson') })],
];

for (const [kind, openAnchor] of KINDS) {
  describe(`${kind} anchor`, () => {
    it('reads back the checkpoints of two logs published over several calls, in order, with the exact note bytes', async () => {
      const anchor = await openAnchor(fresh(kind));
      const published = [checkpoint('t', 's', 1), checkpoint('u', 'orders', 2), checkpoint('t', 's', 3), checkpoint('t', 's', 7), checkpoint('u', 'orders', 9)];
      await anchor.publish(published.slice(0, 2));
      await anchor.publish(published.slice(2, 4));
      await anchor.publish(published.slice(4));
      const read = await anchor.readAll();
      for (const origin of ['writ.example/t/s', 'writ.example/u/orders']) {
        assert.deepEqual(read.filter((c) => c.origin === origin).map((c) => [c.size, c.note]), published.filter((c) => c.origin === origin).map((c) => [c.size, c.note]));
      }
      assert.equal(read.length, 5);
      assert.equal(anchor.status().anchored, 5);
      assert.equal(anchor.status().lastError, null);
      await anchor.close();
    });

    it('refuses a checkpoint smaller than the anchored one, or the same size with another root', async () => {
      const anchor = await openAnchor(fresh(kind));
      await anchor.publish([checkpoint('t', 's', 10)]);
      await assert.rejects(anchor.publish([checkpoint('t', 's', 9)]), { code: 'LEDGER_INCONSISTENT', message: /size 9 is smaller than the anchored size 10/ });
      assert.match(anchor.status().lastError ?? '', /size 9 is smaller/);
      await assert.rejects(anchor.publish([checkpoint('t', 's', 10, 'fork')]), { code: 'LEDGER_INCONSISTENT', message: /already anchored with another root/ });
      assert.deepEqual((await anchor.readAll()).map((c) => c.size), [10]);
      await anchor.close();
    });

    it('skips a checkpoint it already holds when it is sent again, and refuses an older one it does not hold', async () => {
      const folder = fresh(kind);
      const first = await openAnchor(folder);
      await first.publish([checkpoint('t', 's', 1), checkpoint('t', 's', 2), checkpoint('t', 's', 3)]);
      await first.close();
      const anchor = await openAnchor(folder);
      // A batch sent again after a partial failure, merged with a catch-up: old, new and repeated checkpoints.
      await anchor.publish([checkpoint('t', 's', 2), checkpoint('t', 's', 3), checkpoint('t', 's', 4), checkpoint('t', 's', 3), checkpoint('t', 's', 5)]);
      assert.deepEqual((await anchor.readAll()).map((c) => c.size), [1, 2, 3, 4, 5]);
      assert.equal(anchor.status().anchored, 2);
      await assert.rejects(anchor.publish([checkpoint('t', 's', 2, 'fork')]), { code: 'LEDGER_INCONSISTENT', message: /size 2 is smaller than the anchored size 5, and not a checkpoint anchored before/ });
      await assert.rejects(anchor.publish([checkpoint('u', 'v', 3), checkpoint('u', 'v', 2)]), { code: 'LEDGER_INCONSISTENT' });
      await anchor.close();
    });

    it('continues its history when reopened', async () => {
      const folder = fresh(kind);
      const first = await openAnchor(folder);
      await first.publish([checkpoint('t', 's', 1), checkpoint('t', 's', 2)]);
      await first.close();
      const second = await openAnchor(folder);
      await assert.rejects(second.publish([checkpoint('t', 's', 1, 'fork')]), { code: 'LEDGER_INCONSISTENT' });
      await second.publish([checkpoint('t', 's', 3)]);
      assert.deepEqual((await second.readAll()).map((c) => c.size), [1, 2, 3]);
      await second.close();
    });

    it('reports the largest checkpoint per origin', async () => {
      const anchor = await openAnchor(fresh(kind));
      await anchor.publish([checkpoint('t', 's', 1), checkpoint('t', 's', 8), checkpoint('acme.', 'x', 2)]);
      const latest = await anchor.latest();
      assert.deepEqual([...latest].map(([origin, c]) => [origin, c.size]).sort(), [['writ.example/acme./x', 2], ['writ.example/t/s', 8]]);
      assert.equal(latest.get('writ.example/t/s')?.note, checkpoint('t', 's', 8).note);
      await anchor.close();
    });
  });
}

describe('git anchor', () => {
  it('creates a bare repository when the folder is missing', async () => {
    const path = join(fresh('git'), 'nested', 'anchors.git');
    const anchor = await GitAnchor.open({ path });
    assert.equal(git(path, 'rev-parse', '--is-bare-repository').trim(), 'true');
    assert.deepEqual(await anchor.readAll(), []);
    assert.deepEqual(anchor.status(), { kind: 'git', target: path, anchored: 0, lastError: null, lastAt: null });
    await anchor.close();
  });

  it('keeps one ref per log whose history is its checkpoints, readable with plain git', async () => {
    const path = fresh('git');
    const anchor = await GitAnchor.open({ path, authorEmail: 'ledger@writ.example' });
    const last = checkpoint('t', 's', 5);
    await anchor.publish([checkpoint('t', 's', 2), checkpoint('t', 's', 4), checkpoint('acme.', 'x', 1)]);
    await anchor.publish([last]);
    assert.match((await anchor.readAll())[1].where, /^git refs\/writ\/checkpoints\/t\/s @ [0-9a-f]{12}$/);
    await anchor.close();
    // 'acme.' is no valid ref component (git-check-ref-format), so its dot is percent-encoded.
    assert.equal(git(path, 'for-each-ref', '--format=%(refname)'), 'refs/writ/checkpoints/acme%2E/x\nrefs/writ/checkpoints/t/s\n');
    assert.equal(git(path, 'show', 'refs/writ/checkpoints/t/s:checkpoint'), last.note);
    assert.equal(git(path, 'rev-list', '--count', 'refs/writ/checkpoints/t/s').trim(), '3');
    assert.equal(git(path, 'ls-tree', '--name-only', 'refs/writ/checkpoints/t/s'), 'checkpoint\n');
    assert.equal(git(path, 'log', '-1', '--format=%s|%an <%ae>|%aI|%cI', 'refs/writ/checkpoints/t/s').trim(), `${last.origin} 5|writ <ledger@writ.example>|2025-01-01T00:00:05+00:00|2025-01-01T00:00:05+00:00`);
  });

  it('never loses history when another writer moved the ref since it was read', async () => {
    const path = fresh('git');
    const stale = await GitAnchor.open({ path });
    const other = await GitAnchor.open({ path });
    await other.publish([checkpoint('t', 's', 4)]);
    await assert.rejects(stale.publish([checkpoint('t', 's', 3)]), { code: 'UNAVAILABLE', message: /another process/ });
    // It has re-read the ref, so it now refuses to go below what the other writer anchored.
    await assert.rejects(stale.publish([checkpoint('t', 's', 3)]), { code: 'LEDGER_INCONSISTENT' });
    await stale.publish([checkpoint('t', 's', 5)]);
    assert.deepEqual((await other.readAll()).map((c) => c.size), [4, 5]);
    await Promise.all([stale.close(), other.close()]);
  });

  it('pushes the checkpoint refs to a second repository', async () => {
    const remote = fresh('remote');
    execFileSync('git', ['init', '--bare', '--quiet', remote]);
    const anchor = await GitAnchor.open({ path: fresh('git'), push: { remote } });
    await anchor.publish([checkpoint('t', 's', 1), checkpoint('u', 'v', 1)]);
    await anchor.publish([checkpoint('t', 's', 2)]);
    await anchor.close(); // waits for the push
    assert.equal(anchor.status().pushError, null);
    assert.equal(anchor.status().pushed, 3);
    assert.equal(git(remote, 'show', 'refs/writ/checkpoints/t/s:checkpoint'), checkpoint('t', 's', 2).note);
    assert.equal(git(remote, 'rev-list', '--count', 'refs/writ/checkpoints/t/s').trim(), '2');
  });

  it('records a failing push in status without rejecting publish', async () => {
    const anchor = await GitAnchor.open({ path: fresh('git'), push: { remote: join(scratch, 'no-such-remote.git') } });
    await anchor.publish([checkpoint('t', 's', 1)]);
    await anchor.close();
    const status = anchor.status();
    assert.equal(status.anchored, 1);
    assert.equal(status.lastError, null);
    assert.equal(status.pushed, 0);
    assert.match(status.pushError ?? '', /push to .*no-such-remote\.git failed/);
  });

  it('names git as what to install when the git command is missing', async () => {
    const path = process.env.PATH;
    process.env.PATH = join(scratch, 'no-bin');
    try {
      await assert.rejects(GitAnchor.open({ path: fresh('git') }), { code: 'UNAVAILABLE', message: /install git/ });
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('ndjson anchor file', () => {
  it('creates the file and its folder, one JSON line per checkpoint with its line number as location', async () => {
    const path = join(fresh('ndjson'), 'deep', 'checkpoints.ndjson');
    const anchor = await NdjsonAnchor.open({ path });
    assert.ok(existsSync(path));
    await anchor.publish([checkpoint('t', 's', 1), checkpoint('u', 'v', 3)]);
    await anchor.publish([checkpoint('t', 's', 2)]);
    assert.deepEqual((await anchor.readAll()).map((c) => c.where), [`ndjson ${path}:1`, `ndjson ${path}:2`, `ndjson ${path}:3`]);
    const first = JSON.parse(readFileSync(path, 'utf8').split('\n')[0]);
    assert.deepEqual(first, { origin: 'writ.example/t/s', tenant: 't', scroll: 's', size: 1, root: checkpoint('t', 's', 1).rootBase64, note: checkpoint('t', 's', 1).note, at: '2025-01-01T00:00:01.000Z' });
    assert.deepEqual(Object.keys(first), ['origin', 'tenant', 'scroll', 'size', 'root', 'note', 'at']);
    await anchor.close();
  });

  it('ignores and reports a torn last line', async () => {
    const path = join(fresh('ndjson'), 'c.ndjson');
    const anchor = await NdjsonAnchor.open({ path });
    await anchor.publish([checkpoint('t', 's', 1)]);
    appendFileSync(path, '{"origin":"writ.example/t/s","si');
    assert.deepEqual((await anchor.readAll()).map((c) => c.size), [1]);
    assert.match(anchor.status().lastError ?? '', /c\.ndjson:2: torn last line/);
    assert.ok(anchor.warnings.some((w) => w.includes(':2: torn last line')));
    await anchor.close();
  });

  it('rejects a corrupt line in the middle, naming its line number', async () => {
    const path = join(fresh('ndjson'), 'c.ndjson');
    const anchor = await NdjsonAnchor.open({ path });
    await anchor.publish([checkpoint('t', 's', 1)]);
    await anchor.close();
    appendFileSync(path, '{"origin":"writ.example/t/s","size":"two"}\n');
    appendFileSync(path, JSON.stringify({ origin: 'o', tenant: 't', scroll: 's', size: 4, root: 'r', note: 'n', at: 'a' }) + '\n');
    const reopened = await NdjsonAnchor.open({ path });
    await assert.rejects(reopened.readAll(), { code: 'LEDGER_INCONSISTENT', message: /c\.ndjson:2: not a checkpoint line \(missing or mistyped fields\)/ });
    // Publishing first reads the file, so it refuses too rather than append after damage.
    await assert.rejects(reopened.publish([checkpoint('t', 's', 5)]), { code: 'LEDGER_INCONSISTENT', message: /c\.ndjson:2/ });
    await reopened.close();
  });

  it('appends on a fresh line after reopening a file that ends in a torn line, keeping the torn bytes aside', async () => {
    const folder = fresh('ndjson');
    const path = join(folder, 'c.ndjson');
    const first = await NdjsonAnchor.open({ path });
    await first.publish([checkpoint('t', 's', 1)]);
    await first.close();
    appendFileSync(path, '{"origin":"writ.exa');
    const second = await NdjsonAnchor.open({ path });
    assert.match(second.status().lastError ?? '', /torn line of 19 bytes/);
    await second.publish([checkpoint('t', 's', 2)]);
    assert.deepEqual((await second.readAll()).map((c) => [c.size, c.where]), [[1, `ndjson ${path}:1`], [2, `ndjson ${path}:2`]]);
    assert.equal(second.status().lastError, null);
    const aside = readdirSync(folder).filter((f) => f.startsWith('c.ndjson.torn-'));
    assert.equal(aside.length, 1);
    assert.equal(readFileSync(join(folder, aside[0]), 'utf8'), '{"origin":"writ.exa');
    await second.close();
  });
});
