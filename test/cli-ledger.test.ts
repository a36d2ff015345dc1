import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

describe('the ledger commands of the writ command line', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'writ-cli-ledger-'));
  const home = join(scratch, 'home');
  let server: ServerChild;
  let url = '';
  let vkey = '';
  let requestId = '';
  const envelopeFile = join(scratch, 'signed.json');
  const receiptFile = join(scratch, 'r.tlog-proof');
  const writ = (...args: string[]) => runWrit(['--home', home, '--url', url, ...args]);

  before(async () => {
    const init = await runWrit(['--home', home, 'init', '--port', '0']);
    assert.equal(init.code, 0, init.stderr);
    vkey = json(init.stdout).verifierKey;
    assert.match(vkey, /^writ\.local\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$/);
    server = startServer(home);
    url = await server.ready;
    const signed = await writ('sign', '--key', join(home, 'keys', 'admin.key'), '--key-id', 'admin#1', join('examples', 'upsert-product.json'));
    assert.equal(signed.code, 0, signed.stderr);
    writeFileSync(envelopeFile, signed.stdout);
    requestId = json(signed.stdout).requestId;
    const submitted = await writ('submit', envelopeFile);
    assert.equal(submitted.code, 0, submitted.stdout + submitted.stderr);
  });
  after(async () => {
    await server?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('writ receipt writes a tlog-proof that writ verify checks offline with only the verifier key', async () => {
    const run = await writ('receipt', requestId, '-o', receiptFile);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(readFileSync(receiptFile, 'utf8'), /^c2sp\.org\/tlog-proof@v1\nextra /);
    // No home, no server: the file and the key only.
    const check = await runWrit(['verify', receiptFile, '--vkey', vkey]);
    assert.equal(check.code, 0, check.stderr);
    const out = json(check.stdout);
    assert.equal(out.ok, true);
    assert.equal(out.record.requestId, requestId);
    assert.equal(out.log, 'writ.local/default/commerce');
  });

  it('writ verify --envelope accepts the receipt of that envelope and refuses another', async () => {
    const same = await runWrit(['verify', receiptFile, '--vkey', vkey, '--envelope', envelopeFile]);
    assert.equal(same.code, 0, same.stderr);
    assert.equal(json(same.stdout).envelope.matches, true);
    const other = JSON.parse(readFileSync(envelopeFile, 'utf8'));
    other.payload.name = 'Another name';
    const otherFile = join(scratch, 'other.json');
    writeFileSync(otherFile, JSON.stringify(other));
    const refused = await runWrit(['verify', receiptFile, '--vkey', vkey, '--envelope', otherFile]);
    assert.equal(refused.code, CODES.PROOF_INVALID.exit);
    assert.match(refused.stderr, /not the one the record names/);
  });

  it('writ verify refuses a tampered receipt and a receipt checked with another key', async () => {
    const text = readFileSync(receiptFile, 'utf8');
    const bad = join(scratch, 'bad.tlog-proof');
    writeFileSync(bad, text.replace(/^index (\d+)$/m, (_, n) => `index ${Number(n) + 1}`));
    const tampered = await runWrit(['verify', bad, '--vkey', vkey]);
    assert.equal(tampered.code, CODES.PROOF_INVALID.exit);
    assert.match(tampered.stderr, /does NOT verify/);
    const otherHome = join(scratch, 'other');
    const otherKey = json((await runWrit(['--home', otherHome, 'init'])).stdout).verifierKey;
    const wrongKey = await runWrit(['verify', receiptFile, '--vkey', otherKey]);
    assert.equal(wrongKey.code, CODES.PROOF_INVALID.exit);
  });

  it('writ checkpoint prints a signed checkpoint and writ anchor reports the NDJSON anchor', async () => {
    const cp = await writ('checkpoint', '--scroll', 'commerce');
    assert.equal(cp.code, 0, cp.stdout + cp.stderr);
    assert.match(cp.stdout, /^writ\.local\/default\/commerce\n\d+\n[A-Za-z0-9+/=]{44}\n\n\u2014 writ\.local /);
    const anchor = await writ('anchor');
    assert.equal(anchor.code, 0, anchor.stderr);
    const status = json(anchor.stdout);
    assert.equal(status.verifierKey, vkey);
    const ndjson = status.anchors.find((a: any) => a.kind === 'ndjson');
    assert.ok(ndjson && ndjson.lastError === null && ndjson.lastAt, JSON.stringify(status.anchors));
  });

  it('writ redact erases the command body, and the receipt and writ verify still pass', async () => {
    const run = await writ('redact', 'default', requestId, '--reason', 'test of erasure');
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(json(run.stdout).status, 'OK');
    const again = await writ('redact', 'default', requestId, '--reason', 'twice');
    assert.equal(again.code, CODES.INVALID_STATE.exit);
    const check = await runWrit(['verify', receiptFile, '--vkey', vkey]);
    assert.equal(check.code, 0, check.stderr);
    const whole = await runWrit(['--home', home, 'verify']);
    assert.equal(whole.code, 0, whole.stderr);
    assert.equal(json(whole.stdout).ok, true);
  });

  it('writ receipt exits with NOT_FOUND\'s exit code for an unknown requestId', async () => {
    const run = await writ('receipt', 'never-submitted-42');
    assert.equal(run.code, CODES.NOT_FOUND.exit);
  });
});
