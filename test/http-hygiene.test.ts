import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { CODES } from '../src/core/codes.js';
import { ADMIN_KEY_ID, initHome } from '../src/home/init.js';
import { loadPrivateKey } from '../src/core/signature.js';
import { WritClient } from '../src/sdk/client.js';
import type { ReadSigner } from '../src/sdk/sign.js';
import { BIN, ROOT, startServer } from './support/cli.js';
import { startHarness, type Harness } from './support/harness.js';
import { checkAnswer } from './support/robustness.js';

/** Sends raw bytes on a fresh connection and returns everything the server wrote before closing it. */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const guard = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer to ${JSON.stringify(bytes.slice(0, 80))}`));
    }, 5000);
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearTimeout(guard);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    sock.write(bytes);
  });
}

function parseResponse(raw: string): { status: number; contentType: string; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  assert.ok(split > 0, `not an HTTP response: ${JSON.stringify(raw.slice(0, 200))}`);
  const head = raw.slice(0, split).split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head[0])?.[1]);
  const contentType = head.find((l) => /^content-type:/i.test(l))?.split(':')[1].trim() ?? '';
  return { status, contentType, body: raw.slice(split + 4) };
}

describe('HTTP framing errors get the answer shape and a registered code', () => {
  let h: Harness;
  let port: number;

  before(async () => {
    h = await startHarness();
    port = Number(new URL(await h.listen()).port);
  });
  after(async () => {
    await h.close();
  });

  const cases: Array<[string, string, keyof typeof CODES, RegExp]> = [
    ['a Content-Length that is not a number', 'POST /v1/commands HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}', 'INVALID_ENVELOPE', /Content-Length/],
    ['two different Content-Lengths', 'POST /v1/commands HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}', 'INVALID_ENVELOPE', /Content-Length/],
    ['a chunk size that is not hexadecimal', 'POST /v1/commands HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n', 'INVALID_ENVELOPE', /chunked/],
    ['a garbage request line', 'GARBAGE\r\n\r\n', 'INVALID_ENVELOPE', /request line/],
    ['headers beyond the size limit', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 'PAYLOAD_TOO_LARGE', /headers/],
  ];
  for (const [what, bytes, code, message] of cases) {
    it(`answers ${what} with ${code}`, async () => {
      const res = parseResponse(await rawExchange(port, bytes));
      const answer = checkAnswer(res.status, res.contentType, res.body, what);
      assert.equal(answer.code, code);
      assert.match(String(answer.message), message);
    });
  }

  it('goes on serving afterwards', async () => {
    assert.equal((await h.get('/healthz')).status, 200);
  });
});

/** Corrupts a stored entity's document, so that reading it fails inside writ (a 500). */
function corruptProduct(home: string): void {
  const db = new Database(join(home, 'data', 'writ.db'));
  try {
    db.prepare("INSERT INTO entity_history (tenant, type, id, version, doc, deleted, updated_at, updated_by, scroll, idx) VALUES ('default', 'product', 'broken', 1, '{not json', 0, '2026-01-01T00:00:00Z', 'admin', 'commerce', 0)").run();
  } finally {
    db.close();
  }
}

/** Starts `writ start` (the banner, no request log) and resolves with its URL and its stderr so far. */
function startStart(home: string) {
  const child = spawn(process.execPath, [BIN, '--home', home, 'start', '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const ready = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /writ is serving at (http:\/\/\S+?)[,\s]/.exec(line + ' ');
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`writ start exited (${code}):\n${err}`)));
  });
  return { child, ready, stderr: () => err };
}

describe('INTERNAL answers are logged on stderr by `writ serve` and `writ start`', () => {
  let home: string;
  let admin: ReadSigner;

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'writ-500-'));
    const init = await initHome(home, { port: 0 });
    admin = { key: loadPrivateKey(readFileSync(init.keyFile, 'utf8')), keyId: ADMIN_KEY_ID, tenant: init.tenant };
    corruptProduct(home);
  });
  after(() => {
    rmSync(home, { recursive: true, force: true });
  });

  for (const command of ['serve', 'start'] as const) {
    it(`writ ${command}: one JSON line per INTERNAL answer, naming the route, without the body`, async () => {
      const server = command === 'serve' ? startServer(home) : startStart(home);
      try {
        const url = await server.ready;
        // Read as the home's admin (reads need an identity); the corrupted row then fails inside the route.
        const res = await new WritClient(url, admin).get('/v1/entities/default/product/broken');
        assert.equal(res.status, 500);
        assert.equal((res.body as { code: string }).code, 'INTERNAL');
        let line: Record<string, unknown> | undefined;
        for (let i = 0; i < 100 && !line; i++) {
          line = server
            .stderr()
            .split('\n')
            .filter((l) => l.startsWith('{'))
            .map((l) => JSON.parse(l) as Record<string, unknown>)
            .find((l) => l.level === 'error');
          if (!line) await new Promise((r) => setTimeout(r, 50));
        }
        assert.ok(line, `nothing logged on stderr:\n${server.stderr()}`);
        assert.equal(line.method, 'GET');
        assert.equal(line.route, '/v1/entities/:tenant/:type/:id');
        assert.ok(!JSON.stringify(line).includes('{not json'), 'the stored document is not logged');
      } finally {
        server.child.kill('SIGTERM');
        await new Promise((r) => (server.child.exitCode !== null ? r(null) : server.child.once('exit', r)));
      }
    });
  }
});
