import { strict as assert } from 'node:assert';
import { createPublicKey, verify } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CODES } from '../src/core/codes.js';
import { runWrit, startServer, type ServerChild } from './support/cli.js';
import { refCommandHash, refJcs } from './support/reference.js';

function json(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`not JSON: ${text}`);
  }
}

describe('the writ command line', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'writ-cli-'));
  const home = join(scratch, 'home');
  let server: ServerChild | undefined;
  let url = '';
  let bob: { actor: string; keyId: string; keyFile: string; publicKeyFile: string };

  /** Runs a client command against the server child. */
  const writ = (...args: string[]) => runWrit(['--home', home, '--url', url, ...args]);
  const file = (name: string, value: unknown) => {
    const path = join(scratch, name);
    writeFileSync(path, JSON.stringify(value));
    return path;
  };

  after(async () => {
    await server?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  describe('writ init', () => {
    it('creates a home and prints its JSON summary', async () => {
      const run = await runWrit(['--home', home, 'init']);
      assert.equal(run.code, 0, run.stderr);
      const summary = json(run.stdout);
      for (const field of ['home', 'tenant', 'adminActor', 'keyId', 'keyFile', 'url']) assert.ok(field in summary, `summary has ${field}`);
      assert.equal(summary.home, home);
      assert.equal(summary.tenant, 'default');
      assert.equal(summary.adminActor, 'admin');
      assert.equal(summary.keyId, 'admin#1');
      assert.equal(summary.keyFile, join(home, 'keys', 'admin.key'));
      assert.equal(summary.url, 'http://127.0.0.1:8787');
      assert.ok(existsSync(join(home, 'config.json')));
    });

    it('writes the admin private key with mode 0600', () => {
      const mode = statSync(join(home, 'keys', 'admin.key')).mode & 0o777;
      assert.equal(mode, 0o600, `mode is ${mode.toString(8)}`);
      assert.match(readFileSync(join(home, 'keys', 'admin.key'), 'utf8'), /BEGIN PRIVATE KEY/);
    });

    it('refuses to initialise the same home twice, with a clear message and a non-zero exit', async () => {
      const before = readFileSync(join(home, 'keys', 'admin.key'), 'utf8');
      const run = await runWrit(['--home', home, 'init']);
      assert.notEqual(run.code, 0);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /already a writ home/);
      assert.equal(run.stdout, '');
      assert.equal(readFileSync(join(home, 'keys', 'admin.key'), 'utf8'), before, 'the admin key is untouched');
    });

    it('takes the tenant from --tenant', async () => {
      const run = await runWrit(['--home', join(scratch, 'acme-home'), 'init', '--tenant', 'acme']);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(json(run.stdout).tenant, 'acme');
    });

    it('explains what to do when a command needs a home that does not exist', async () => {
      const run = await runWrit(['--home', join(scratch, 'nowhere'), 'status', 'some-request-id']);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /not a writ home.*writ init/);
    });
  });

  describe('against a running writ serve', () => {
    before(async () => {
      server = startServer(home);
      url = await server.ready;
    });

    it('serves on the port the OS chose and prints its URL as a JSON line', async () => {
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.notEqual(new URL(url).port, '0');
      const health = await fetch(`${url}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok' }, 'an anonymous caller learns liveness only');
    });

    it('writ submit signs an example with the admin key and exits 0', async () => {
      const run = await writ('submit', 'examples/upsert-product.json');
      assert.equal(run.code, 0, run.stdout + run.stderr);
      const answer = json(run.stdout);
      assert.equal(answer.status, 'OK');
      assert.equal(answer.receipt.log, 'writ.local/default/commerce');
      const get = await writ('get', '/v1/entities/default/product/sku-1');
      assert.equal(get.code, 0, get.stdout + get.stderr);
      assert.equal(json(get.stdout).doc.name, 'Green tea, 100 g');
      assert.equal((await fetch(`${url}/v1/entities/default/product/sku-1`)).status, 401, 'without a signature the read is refused');
    });

    it('writ submit exits with the registry\'s exit code for a refused command', async () => {
      const run = await writ('submit', file('bad-payload.json', { action: 'UpsertProduct', payload: { sku: 'x' } }));
      assert.equal(run.code, CODES.INVALID_PAYLOAD.exit);
      assert.equal(json(run.stdout).code, 'INVALID_PAYLOAD');
    });

    it('writ keys new generates, registers and grants roles to a key, printing actor, keyId and keyFile', async () => {
      const run = await writ('keys', 'new', '--actor', 'bob', '--roles', 'editor');
      assert.equal(run.code, 0, run.stdout + run.stderr);
      bob = json(run.stdout);
      assert.equal(bob.actor, 'bob');
      assert.equal(bob.keyId, 'bob#1');
      assert.ok(existsSync(bob.keyFile));
      assert.equal(statSync(bob.keyFile).mode & 0o777, 0o600);
      assert.deepEqual(json(run.stdout).roles, ['editor']);
      const actor = json((await writ('get', '/v1/entities/default/actor/bob')).stdout);
      assert.deepEqual(actor.doc.roles, ['editor']);
    });

    it('writ keys new picks the next free key id for an actor that has one', async () => {
      const run = await writ('keys', 'new', '--actor', 'bob');
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.equal(json(run.stdout).keyId, 'bob#2');
    });

    it('writ submit exits with FORBIDDEN\'s exit code when policy refuses the command', async () => {
      const run = await writ('submit', '--key', bob.keyFile, '--key-id', bob.keyId, file('assign.json', { action: 'AssignRole', payload: { actor: 'bob', role: 'admin' } }));
      assert.equal(run.code, CODES.FORBIDDEN.exit, run.stdout + run.stderr);
      const answer = json(run.stdout);
      assert.equal(answer.code, 'FORBIDDEN');
    });

    it('writ submit with another actor\'s key applies what its roles allow', async () => {
      const run = await writ('submit', '--key', bob.keyFile, '--key-id', bob.keyId, file('bob-product.json', { action: 'UpsertProduct', payload: { sku: 'bob-1', name: 'Bob tea', price: { amount: 1, currency: 'EUR' } } }));
      assert.equal(run.code, 0, run.stdout + run.stderr);
    });

    it('writ keys list prints every registered key of the tenant', async () => {
      const run = await writ('keys', 'list');
      assert.equal(run.code, 0, run.stderr);
      const keys = json(run.stdout) as Array<{ keyId: string; actor: string; alg: string; revokedAt: string | null }>;
      assert.deepEqual(keys.map((k) => k.keyId).sort(), ['admin#1', 'bob#1', 'bob#2']);
      const b = keys.find((k) => k.keyId === 'bob#1')!;
      assert.equal(b.actor, 'bob');
      assert.equal(b.alg, 'ed25519');
      assert.equal(b.revokedAt, null);
    });

    let signed: Record<string, any>;
    it('writ sign completes an envelope and signs it verifiably', async () => {
      const run = await writ('sign', '--key', bob.keyFile, '--key-id', bob.keyId, file('to-sign.json', { action: 'UpsertProduct', payload: { sku: 'signed-1', name: 'Signed', price: { amount: 2, currency: 'EUR' } } }));
      assert.equal(run.code, 0, run.stderr);
      signed = json(run.stdout);
      assert.equal(signed.v, 1);
      assert.match(signed.requestId, /^[A-Za-z0-9._:-]{8,128}$/);
      assert.match(signed.nonce, /^[A-Za-z0-9._:+/=-]{8,128}$/);
      assert.ok(!Number.isNaN(Date.parse(signed.timestamp)));
      assert.equal(signed.actor, 'bob');
      assert.equal(signed.signature.keyId, 'bob#1');
      assert.equal(signed.signature.alg, 'ed25519');
      const { signature, ...unsigned } = signed;
      const publicKey = createPublicKey(readFileSync(bob.publicKeyFile, 'utf8'));
      assert.equal(verify(null, Buffer.from(refJcs(unsigned), 'utf8'), publicKey, Buffer.from(signature.sig, 'base64')), true, 'the signature verifies over JCS of the unsigned envelope');
      const tampered = { ...unsigned, payload: { ...unsigned.payload, name: 'Tampered' } };
      assert.equal(verify(null, Buffer.from(refJcs(tampered), 'utf8'), publicKey, Buffer.from(signature.sig, 'base64')), false);
    });

    it('writ sign fills the tenant from the home when the envelope has none', async () => {
      assert.equal(signed.tenant, 'default');
    });

    it('writ sign takes --tenant', async () => {
      const run = await writ('sign', '--tenant', 'acme', '--key', bob.keyFile, '--key-id', bob.keyId, file('to-sign-acme.json', { action: 'UpsertProduct', payload: {} }));
      assert.equal(run.code, 0, run.stderr);
      assert.equal(json(run.stdout).tenant, 'acme');
    });

    it('writ sign reads standard input when no file is given', async () => {
      const run = await runWrit(['--home', home, 'sign', '--tenant', 'default', '--key', bob.keyFile, '--key-id', bob.keyId], { input: JSON.stringify({ action: 'UpsertProduct', payload: {} }) });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(json(run.stdout).action, 'UpsertProduct');
    });

    it('writ submit sends an envelope that writ sign signed, unchanged', async () => {
      const run = await writ('submit', file('signed.json', signed));
      assert.equal(run.code, 0, run.stdout + run.stderr);
      const answer = json(run.stdout);
      assert.equal(answer.requestId, signed.requestId);
      assert.equal(answer.commandHash, refCommandHash(signed));
    });

    it('writ status prints the stored outcome of a requestId', async () => {
      const run = await writ('status', signed.requestId);
      assert.equal(run.code, 0, run.stderr);
      const answer = json(run.stdout);
      assert.equal(answer.status, 'OK');
      assert.equal(answer.requestId, signed.requestId);
    });

    it('writ status exits with NOT_FOUND\'s exit code for an unknown requestId', async () => {
      const run = await writ('status', 'never-submitted-123');
      assert.equal(run.code, CODES.NOT_FOUND.exit);
      assert.equal(json(run.stdout).code, 'NOT_FOUND');
    });

    it('writ ledger tail prints the last records of every log as JSON lines', async () => {
      const run = await writ('ledger', 'tail');
      assert.equal(run.code, 0, run.stderr);
      const lines = run.stdout.trim().split('\n').map(json);
      const logs = new Set(lines.map((l) => l.log));
      assert.ok(logs.has('writ.local/default/commerce'));
      assert.ok(logs.has('writ.local/default/writ'));
      assert.ok(logs.has('writ.local/default/access'));
      for (const l of lines) {
        assert.match(l.leafHash, /^[0-9a-f]{64}$/);
        assert.equal(typeof l.index, 'number');
        assert.equal(typeof l.action, 'string');
        assert.match(l.prev, /^[0-9a-f]{64}$/);
      }
    });

    it('writ ledger tail --scroll -n prints exactly the last n records of one log, in order', async () => {
      const run = await writ('ledger', 'tail', '--scroll', 'commerce', '-n', '2');
      assert.equal(run.code, 0, run.stderr);
      const lines = run.stdout.trim().split('\n').map(json);
      assert.equal(lines.length, 2);
      assert.equal(lines[1].index, lines[0].index + 1);
      assert.equal(lines[1].prev, lines[0].leafHash);
      assert.equal(lines[1].requestId, signed.requestId, 'the last commerce record is the last commerce command');
    });

    it('writ ledger tail refuses a bad --lines with a usage exit code', async () => {
      const run = await writ('ledger', 'tail', '-n', '0');
      assert.equal(run.code, 2);
      assert.match(run.stderr, /--lines/);
    });

    it('writ keys revoke revokes a key, and the key is refused from then on', async () => {
      const run = await writ('keys', 'revoke', bob.keyId, '--reason', 'rotated');
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.equal(json(run.stdout).status, 'OK');
      const list = json((await writ('keys', 'list')).stdout) as Array<{ keyId: string; revokedAt: string | null }>;
      assert.ok(list.find((k) => k.keyId === bob.keyId)?.revokedAt);
      const refused = await writ('submit', '--key', bob.keyFile, '--key-id', bob.keyId, file('after-revoke.json', { action: 'UpsertProduct', payload: { sku: 'bob-2', name: 'x', price: { amount: 1, currency: 'EUR' } } }));
      assert.equal(refused.code, CODES.KEY_REVOKED.exit, refused.stdout);
      assert.equal(json(refused.stdout).code, 'KEY_REVOKED');
    });

    it('writ keys revoke of a key already revoked exits with INVALID_STATE\'s exit code', async () => {
      const run = await writ('keys', 'revoke', bob.keyId);
      assert.equal(run.code, CODES.INVALID_STATE.exit);
    });

    it('says how to reach the server when it cannot', async () => {
      const run = await runWrit(['--home', home, '--url', 'http://127.0.0.1:1', 'submit', 'examples/upsert-product.json']);
      assert.equal(run.code, 1);
      assert.match(run.stderr, /cannot reach writ at http:\/\/127\.0\.0\.1:1.*writ serve/);
    });

    it('stops cleanly on SIGTERM', async () => {
      await server!.stop();
      assert.equal(server!.child.exitCode, 0, server!.stderr());
      assert.match(server!.stderr(), /SIGTERM, shutting down/);
    });
  });
});
