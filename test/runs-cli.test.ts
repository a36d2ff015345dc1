import { strict as assert } from 'node:assert';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CODES } from '../src/core/codes.js';
import { runWrit, startServer, type ServerChild } from './support/cli.js';

function json(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`not JSON: ${text}`);
  }
}

/**
 * `writ run …` end to end: the spawned CLI against a spawned server, then `writ run verify` with no
 * server and no home — the folder, the run receipt and the verifier key only.
 */
describe('writ run, from contract to an offline check of the outputs', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'writ-runs-cli-'));
  const home = join(scratch, 'home');
  const out = join(scratch, 'outputs');
  const receipt = join(scratch, 'run.receipt.json');
  const vkeyFile = join(scratch, 'log.vkey');
  const runId = 'drill-2026-12-iot-ot';
  let server: ServerChild | undefined;
  let url = '';
  let root = '';
  const writ = (...args: string[]) => runWrit(['--home', home, '--url', url, ...args]);
  /** `writ run verify` from a folder that is not a home, with the server stopped. */
  const verify = (folder: string, receiptFile = receipt) => runWrit(['--home', join(scratch, 'no-home'), 'run', 'verify', folder, '--receipt', receiptFile, '--vkey', vkeyFile]);
  const put = (path: string, content: string) => {
    mkdirSync(dirname(join(out, path)), { recursive: true });
    writeFileSync(join(out, path), content);
  };

  before(async () => {
    const init = await runWrit(['--home', home, 'init', '--port', '0']);
    assert.equal(init.code, 0, init.stderr);
    writeFileSync(vkeyFile, json(init.stdout).verifierKey + '\n');
    server = startServer(home);
    url = await server.ready;
    put('recon/inventory.yaml', 'devices:\n  - cam-01\n  - plc-bridge\n');
    put('recon/notes/findings.md', '# Findings\nThe camera VLAN reaches the PLC.\n');
    put('ot-mapping/map.txt', 'plc-01 <- bridge <- cam-01\n');
  });
  after(async () => {
    await server?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('starts a run from the example contract and shows its first stage as next', async () => {
    const start = await writ('run', 'start', join('examples', 'run-contract.json'));
    assert.equal(start.code, 0, start.stdout + start.stderr);
    assert.match(json(start.stdout).receipt.log, /\/default\/runs-drills$/);
    const next = await writ('run', 'next', runId);
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual({ ...json(next.stdout).next, objective: undefined }, { position: 1, id: 'recon', skill: 'iot-wireless-security', workflow: 'IoT Device Recon and Fingerprinting', role: 'primary', objective: undefined });
  });

  it('refuses a stage out of order with INVALID_STATE and an outputs folder holding a hidden file before sending anything', async () => {
    const early = await writ('run', 'complete', runId, 'triage');
    assert.equal(early.code, CODES.INVALID_STATE.exit, early.stdout);
    assert.match(json(early.stdout).message, /next stage is recon/);
    const hidden = join(scratch, 'hidden');
    mkdirSync(hidden);
    writeFileSync(join(hidden, '.env'), 'SECRET=1');
    const refused = await writ('run', 'complete', runId, 'recon', '--outputs', hidden);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /"\.env" cannot be an output name/);
  });

  it('completes the stages with the manifests of their folders, seals the run and writes its receipt', async () => {
    for (const [stage, dir] of [['recon', join(out, 'recon')], ['ot-mapping', join(out, 'ot-mapping')], ['triage', undefined]] as const) {
      const done = await writ('run', 'complete', runId, stage, ...(dir ? ['--outputs', dir] : []), '--notes', `${stage} done`);
      assert.equal(done.code, 0, done.stdout + done.stderr);
    }
    const show = json((await writ('run', 'show', runId)).stdout);
    assert.equal(show.status, 'completed');
    const size = (p: string) => readFileSync(join(out, p)).length;
    assert.deepEqual(show.stages[0].outputs.map((o: any) => [o.name, o.size]), [['inventory.yaml', size('recon/inventory.yaml')], ['notes/findings.md', size('recon/notes/findings.md')]]);
    assert.equal(json((await writ('run', 'next', runId)).stdout).next, null);
    const seal = await writ('run', 'seal', runId);
    assert.equal(seal.code, 0, seal.stdout + seal.stderr);
    root = json(seal.stdout).result.root;
    assert.match(root, /^[0-9a-f]{64}$/);
    const r = await writ('run', 'receipt', runId, '-o', receipt);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(json(readFileSync(receipt, 'utf8')).proof, /^c2sp\.org\/tlog-proof@v1\nextra /);
    const proofOnly = join(scratch, 'seal.tlog-proof');
    assert.equal((await writ('run', 'receipt', runId, '--proof-only', '-o', proofOnly)).code, 0);
    const plain = await runWrit(['verify', proofOnly, '--vkey', readFileSync(vkeyFile, 'utf8').trim()]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(json(plain.stdout).record.action, 'SealRun');
    const again = await writ('run', 'complete', runId, 'triage');
    assert.equal(again.code, CODES.INVALID_STATE.exit, 'a sealed run takes no stage');
  });

  it('verifies the folder offline, with the server stopped and no home', async () => {
    await server!.stop();
    const check = await verify(out);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    const report = json(check.stdout);
    assert.equal(report.ok, true);
    assert.equal(report.root, root);
    assert.equal(report.checked, 3);
    assert.match(report.log, /\/default\/runs-drills$/);
  });

  it('names every missing, extra, resized and changed file and exits with RUN_OUTPUTS_MISMATCH', async () => {
    const bad = join(scratch, 'tampered');
    cpSync(out, bad, { recursive: true });
    const map = join(bad, 'ot-mapping', 'map.txt');
    writeFileSync(map, readFileSync(map, 'utf8').replace('plc-01', 'plc-02'));
    truncateSync(join(bad, 'recon', 'inventory.yaml'), 5);
    unlinkSync(join(bad, 'recon', 'notes', 'findings.md'));
    writeFileSync(join(bad, 'triage-extra.txt'), 'not sealed');
    symlinkSync(join(out, 'recon', 'notes', 'findings.md'), join(bad, 'recon', 'notes', 'link.md'));
    const check = await verify(bad);
    assert.equal(check.code, CODES.RUN_OUTPUTS_MISMATCH.exit, check.stdout + check.stderr);
    const report = json(check.stdout);
    assert.equal(report.ok, false);
    assert.deepEqual(report.missing, ['recon/notes/findings.md']);
    assert.deepEqual(report.extra, ['recon/notes/link.md', 'triage-extra.txt']);
    assert.deepEqual(report.resized, [{ path: 'recon/inventory.yaml', expected: readFileSync(join(out, 'recon', 'inventory.yaml')).length, actual: 5 }]);
    assert.deepEqual(report.changed.map((c: any) => c.path), ['ot-mapping/map.txt']);
    for (const line of ['missing: recon/notes/findings.md', 'extra: triage-extra.txt', 'resized: recon/inventory.yaml', 'changed: ot-mapping/map.txt']) assert.ok(check.stderr.includes(line), check.stderr);
  });

  it('refuses a receipt whose seal document was edited to match tampered files, and one checked with another key', async () => {
    const forged = json(readFileSync(receipt, 'utf8'));
    forged.seal.stages[1].outputs[0].sha256 = 'f'.repeat(64);
    const forgedFile = join(scratch, 'forged.json');
    writeFileSync(forgedFile, JSON.stringify(forged));
    const check = await verify(out, forgedFile);
    assert.equal(check.code, CODES.PROOF_INVALID.exit, check.stdout + check.stderr);
    assert.match(check.stderr, /does NOT verify: .*was changed/);
    const other = json((await runWrit(['--home', join(scratch, 'other-home'), 'init'])).stdout).verifierKey;
    const wrongKey = await runWrit(['run', 'verify', out, '--receipt', receipt, '--vkey', other, '--home', join(scratch, 'no-home')]);
    assert.equal(wrongKey.code, CODES.PROOF_INVALID.exit, wrongKey.stderr);
  });
});
