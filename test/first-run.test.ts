import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../src/config/config.js';
import { verifyNote } from '../src/core/tlog/index.js';
import { NoteSigner } from '../src/ledger/note-signer.js';
import { openWitness } from '../src/witness/index.js';
import { BIN, ROOT, runWrit } from './support/cli.js';

const pem = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/** Runs `writ start` until its banner is printed, then stops it; returns what it printed. */
function startBanner(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      if (out.includes('Stop with Ctrl-C')) child.kill('SIGTERM');
    });
    child.on('error', reject);
    child.on('close', () => (out.includes('Stop with Ctrl-C') ? resolve(out) : reject(new Error(`writ start printed no banner:\n${out}\n${err}`))));
  });
}

describe('first-run details', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'writ-first-run-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('prints an absolute --home as given in the writ start banner and in the commands to copy', async () => {
    const home = join(scratch, 'abs-home');
    const out = await startBanner(['--home', home, 'start', '--port', '0']);
    assert.match(out, new RegExp(`home ${home.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}, tenant default`));
    assert.match(out, new RegExp(`submit --home ${home.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} examples/upsert-product.json`));
  });

  it('explains the shipped example examples/publish.json, which names no actor, for the home\'s admin', async () => {
    const home = join(scratch, 'explain-home');
    assert.equal((await runWrit(['--home', home, 'init'])).code, 0);
    const run = await runWrit(['--home', home, 'policy', 'explain', 'examples/publish.json', '--roles', 'editor']);
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout);
    assert.equal(out.request.actor, 'admin');
    assert.equal(out.request.action, 'PublishPageVersion');
    assert.equal(out.decision, 'approval');
    const other = await runWrit(['--home', home, 'policy', 'explain', 'examples/publish.json', '--roles', 'viewer', '--actor', 'vic']);
    assert.equal(JSON.parse(other.stdout).request.actor, 'vic');
    assert.equal(JSON.parse(other.stdout).decision, 'deny');
  });

  it('gives a witness left at the defaults a key name of its own, not the name of the log it witnesses nor of another such witness', async () => {
    const names: string[] = [];
    for (const dir of ['w1', 'w2']) {
      const witness = await openWitness(loadConfig(join(scratch, dir)).witness);
      names.push(witness.name);
      assert.equal(readFileSync(join(scratch, dir, 'keys', 'witness.key'), 'utf8').includes('PRIVATE KEY'), true);
    }
    assert.match(names[0], /^writ\.local\/witness-[0-9a-f]{8}$/);
    assert.notEqual(names[0], names[1]);
    assert.notEqual(names[0], 'writ.local');
  });

  it('tells two keys of the same name apart in a wrong-key error, by their key IDs', async () => {
    const right = new NoteSigner('writ.local', pem());
    const wrong = new NoteSigner('writ.local', pem());
    const note = right.signNote('writ.local/default/writ\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n');
    await assert.rejects(verifyNote(note, [wrong.verifierKey]), (err: Error) => {
      const m = /expected (writ\.local\+[0-9a-f]{8}); found (writ\.local\+[0-9a-f]{8})/.exec(err.message);
      assert.ok(m, err.message);
      assert.notEqual(m[1], m[2]);
      return true;
    });
  });

  it('keeps the documentation self-contained: every relative link resolves inside the repository', () => {
    const files = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`), ...readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.md')).map((f) => `examples/${f}`)];
    const outside: string[] = [];
    for (const file of files) {
      for (const m of readFileSync(join(ROOT, file), 'utf8').matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1].split('#')[0];
        if (target === '' || /^[a-z]+:/.test(target)) continue;
        const path = resolve(dirname(join(ROOT, file)), target);
        if (!path.startsWith(ROOT + '/') || !existsSync(path)) outside.push(`${file}: ${m[1]}`);
      }
    }
    assert.deepEqual(outside, []);
  });
});
