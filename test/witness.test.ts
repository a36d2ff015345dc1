import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '../src/config/config.js';
import { MemoryTree, formatCheckpoint, pureHasher, toBase64, type Hash } from '../src/core/tlog/index.js';
import { writeKeyPair } from '../src/home/keys.js';
import { NoteSigner } from '../src/ledger/note-signer.js';
import { WitnessClient } from '../src/ledger/witness-client.js';
import { packageRoot } from '../src/util/package-root.js';
import { buildWitnessServer, openWitness, type Witness } from '../src/witness/index.js';

/*
 * C2SP tlog-witness (https://c2sp.org/tlog-witness) and tlog-cosignature, both sides, over real
 * loopback sockets with real key and state files: a log made of a MemoryTree and a NoteSigner
 * submits checkpoints through WitnessClient to a witness served by buildWitnessServer.
 */

const utf8 = new TextEncoder();
const execFileAsync = promisify(execFile);
const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'writ-witness-'));
  dirs.push(d);
  return d;
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function newPem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** A log: leaves in memory, checkpoints signed with its note key (named after the origin prefix, as writ does). */
class TestLog {
  readonly leaves: Hash[] = [];
  readonly signer: NoteSigner;
  constructor(readonly origin: string, key: NoteSigner | string = newPem()) {
    this.signer = typeof key === 'string' ? new NoteSigner(origin.split('/')[0], key) : key;
  }
  append(n: number, tag = 'honest'): this {
    for (let i = 0; i < n; i++) this.leaves.push(pureHasher.leaf(utf8.encode(`${tag} ${this.origin} ${this.leaves.length}`)));
    return this;
  }
  text(size = this.leaves.length): string {
    return formatCheckpoint({ origin: this.origin, size, root: new MemoryTree(this.leaves).root(size), extensions: [] });
  }
  note(size = this.leaves.length): string {
    return this.signer.signNote(this.text(size));
  }
  proof(from: number, size = this.leaves.length): Hash[] {
    return new MemoryTree(this.leaves).consistencyProof(from, size);
  }
  /** The raw add-checkpoint body (C2SP tlog-witness). */
  body(old: number, size = this.leaves.length, proof = old === 0 || old === size ? [] : this.proof(old, size)): string {
    return `old ${old}\n${proof.map((h) => `${toBase64(h)}\n`).join('')}\n${this.note(size)}`;
  }
  cosign(client: WitnessClient, size = this.leaves.length): Promise<string[]> {
    return client.cosign(this.origin, this.note(size), size, async (from) => this.proof(from, size));
  }
  fork(keep: number): TestLog {
    const f = new TestLog(this.origin, this.signer);
    f.leaves.push(...this.leaves.slice(0, keep));
    return f;
  }
}

interface Served {
  readonly witness: Witness;
  readonly app: FastifyInstance;
  readonly url: string;
  readonly config: Config['witness'];
  readonly misbehaviour: string[];
}

function witnessConfig(dir: string, logs: Config['witness']['logs'], name = 'witness.test/w1'): Config['witness'] {
  return { name, namePrefix: 'witness.test/w', keyFile: join(dir, 'keys', 'witness.key'), statePath: join(dir, 'data', 'witness-state.json'), host: '127.0.0.1', port: 0, logs };
}

async function serve(config: Config['witness']): Promise<Served> {
  const misbehaviour: string[] = [];
  const witness = await openWitness(config, { onMisbehaviour: (_origin, why) => misbehaviour.push(why) });
  const app = buildWitnessServer(witness);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { witness, app, url, config, misbehaviour };
}

function clientOf(s: Served): WitnessClient {
  return new WitnessClient({ name: s.witness.name, url: s.url, vkey: s.witness.vkey, timeoutMs: 5000 });
}

async function post(url: string, body: string | Uint8Array<ArrayBuffer>): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(`${url}/add-checkpoint`, { method: 'POST', body });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** The size the witness holds for the log: what it answers to `old 0` with a valid checkpoint once it is past 0. */
async function storedSize(s: Served, log: TestLog): Promise<number> {
  const r = await post(s.url, log.body(0, log.leaves.length, []));
  if (r.status === 200) return 0;
  assert.equal(r.status, 409, r.text);
  assert.equal(r.type, 'text/x.tlog.size');
  return Number(r.text);
}

/**
 * Checks a cosignature line without writ's note code: key ID = SHA-256(name ‖ 0x0A ‖ 0x04 ‖ key)[:4]
 * and an Ed25519 signature over `cosignature/v1\ntime <t>\n<checkpoint>` (C2SP tlog-cosignature).
 */
function verifyByHand(line: string, vkey: string, checkpointText: string): number {
  // name+keyid+key: base64 may hold '+' too, so only the first two separate fields.
  const [name, hexId] = vkey.split('+', 2);
  const keyB64 = vkey.slice(name.length + hexId.length + 2);
  const material = Buffer.from(keyB64, 'base64');
  assert.equal(material[0], 0x04, 'a witness key has type 0x04');
  const raw = material.subarray(1);
  const m = /^\u2014 (\S+) (\S+)\n$/.exec(line);
  assert.ok(m, `not a signature line: ${JSON.stringify(line)}`);
  assert.equal(m[1], name);
  const sig = Buffer.from(m[2], 'base64');
  assert.equal(sig.length, 4 + 8 + 64);
  const keyId = createHash('sha256').update(Buffer.concat([Buffer.from(name), Buffer.from([0x0a, 0x04]), raw])).digest().subarray(0, 4);
  assert.deepEqual(sig.subarray(0, 4), keyId);
  const time = sig.readBigUInt64BE(4);
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
  assert.ok(verify(null, Buffer.from(`cosignature/v1\ntime ${time}\n${checkpointText}`), publicKey, sig.subarray(12)), 'the cosignature verifies');
  return Number(time);
}

describe('a writ witness (C2SP tlog-witness) over loopback HTTP', () => {
  const log = new TestLog('writ.test/acme/orders');
  const stranger = new TestLog('writ.test/acme/other');
  let dir: string;
  let s: Served;

  before(async () => {
    dir = tempDir();
    s = await serve(witnessConfig(dir, [{ originPrefix: 'writ.test', vkey: log.signer.vkey }, { origin: 'elsewhere.test/log', vkey: log.signer.vkey }]));
  });
  after(() => s.app.close());

  it('creates its key (mode 0600) on first start and says who it is at GET /', async () => {
    assert.equal(statSync(s.config.keyFile).mode & 0o777, 0o600);
    const res = await fetch(s.url);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { name: string; vkey: string; logs: unknown[] };
    assert.equal(body.name, 'witness.test/w1');
    assert.equal(body.vkey, s.witness.vkey);
    assert.deepEqual(body.logs, [{ originPrefix: 'writ.test', vkey: log.signer.vkey }, { origin: 'elsewhere.test/log', vkey: log.signer.vkey }]);
    assert.equal((await fetch(`${s.url}/witness`)).status, 200);
  });

  it('cosigns growing checkpoints; each cosignature verifies by hand with node:crypto', async () => {
    const client = clientOf(s);
    const before = Math.floor(Date.now() / 1000);
    for (const grow of [1, 1, 3, 0, 250, 7]) {
      log.append(grow);
      const lines = await log.cosign(client);
      assert.equal(lines.length, 1);
      const t = verifyByHand(lines[0], s.witness.vkey, log.text());
      assert.ok(t >= before && t <= Math.floor(Date.now() / 1000) + 1, 'the timestamp is now, in seconds');
    }
    assert.equal(await storedSize(s, log), log.leaves.length);
    const file = JSON.parse(readFileSync(s.config.statePath, 'utf8'));
    assert.deepEqual(file.logs[log.origin], { size: log.leaves.length, root: toBase64(new MemoryTree(log.leaves).root()) });
  });

  it('recovers from a 409 size answer: a client that does not know the witness size retries once from it', async () => {
    log.append(5);
    const fresh = clientOf(s);
    const lines = await log.cosign(fresh);
    verifyByHand(lines[0], s.witness.vkey, log.text());
    // The raw protocol: a stale old size gets the stored size as text/x.tlog.size.
    const r = await post(s.url, log.append(1).body(3));
    assert.deepEqual([r.status, r.type, r.text], [409, 'text/x.tlog.size', `${log.leaves.length - 1}\n`]);
  });

  it('keeps its state across a restart and refuses to go back to a smaller tree', async () => {
    const size = await storedSize(s, log);
    const vkey = s.witness.vkey;
    await s.app.close();
    s = await serve(s.config);
    assert.equal(s.witness.vkey, vkey, 'the key file is reused');
    assert.equal(await storedSize(s, log), size);
    await assert.rejects(log.cosign(clientOf(s), size - 2), (err: Error) => /seen a larger tree/.test(err.message) && /split view/.test(err.message));
    log.append(2);
    verifyByHand((await log.cosign(clientOf(s)))[0], s.witness.vkey, log.text());
  });

  it('refuses a split view: a non-extension gets 422, the same size with another root 409, neither is cosigned', async () => {
    const size = await storedSize(s, log);
    const fork = log.fork(size - 3).append(10, 'forked');
    const r422 = await post(s.url, fork.body(size));
    assert.equal(r422.status, 422, r422.text);
    assert.equal(JSON.parse(r422.text).code, 'PROOF_INVALID');
    const sameSize = log.fork(size - 1).append(1, 'forked');
    const r409 = await post(s.url, sameSize.body(size));
    assert.deepEqual([r409.status, r409.type, JSON.parse(r409.text).code], [409, 'application/json; charset=utf-8', 'WITNESS_CONFLICT']);
    await assert.rejects(sameSize.cosign(clientOf(s)), /split view/);
    assert.equal(await storedSize(s, log), size, 'nothing was recorded');
    assert.ok(s.misbehaviour.length >= 2, 'the refusals are reported as possible misbehaviour');
    log.append(1);
    verifyByHand((await log.cosign(clientOf(s)))[0], s.witness.vkey, log.text());
  });

  it('answers 404 for an origin it does not follow and 403 for a checkpoint no trusted log key signed', async () => {
    const unknown = new TestLog('unknown.test/acme/orders').append(2);
    const r404 = await post(s.url, unknown.body(0));
    assert.deepEqual([r404.status, JSON.parse(r404.text).code], [404, 'WITNESS_UNKNOWN_LOG']);
    await assert.rejects(unknown.cosign(clientOf(s)), (err: Error) => /answered 404/.test(err.message) && /add the origin/.test(err.message));
    stranger.append(2);
    const r403 = await post(s.url, stranger.body(0));
    assert.deepEqual([r403.status, JSON.parse(r403.text).code], [403, 'WITNESS_UNTRUSTED']);
    await assert.rejects(stranger.cosign(clientOf(s)), /answered 403/);
  });

  it('answers 400 to malformed bodies, listed and fuzzed, and never a 5xx', async () => {
    const good = new TestLog('writ.test/acme/fuzz', log.signer).append(3);
    const note = good.note();
    const hash = toBase64(new Uint8Array(32));
    const cases: Array<{ description: string; body: string | Uint8Array<ArrayBuffer>; expect: number }> = [
      { description: 'empty body', body: '', expect: 400 },
      { description: 'no newline after the old line', body: 'old 0', expect: 400 },
      { description: 'leading zero', body: `old 00\n\n${note}`, expect: 400 },
      { description: 'negative size', body: `old -1\n\n${note}`, expect: 400 },
      { description: 'two spaces', body: `old  0\n\n${note}`, expect: 400 },
      { description: 'upper case', body: `OLD 0\n\n${note}`, expect: 400 },
      { description: 'size beyond 2^53', body: `old 9007199254740993\n\n${note}`, expect: 400 },
      { description: 'no empty line before the checkpoint', body: `old 0\n${note}`, expect: 400 },
      { description: 'proof line not base64', body: `old 0\nnot base64!\n\n${note}`, expect: 400 },
      { description: 'proof line of 31 bytes', body: `old 0\n${toBase64(new Uint8Array(31))}\n\n${note}`, expect: 400 },
      { description: '64 proof lines', body: `old 1\n${`${hash}\n`.repeat(64)}\n${note}`, expect: 400 },
      { description: 'unsigned checkpoint', body: `old 0\n\n${good.text()}`, expect: 400 },
      { description: 'CRLF line ends', body: `old 0\r\n\r\n${note.replaceAll('\n', '\r\n')}`, expect: 400 },
      { description: 'old size above the checkpoint size', body: `old 4\n\n${note}`, expect: 400 },
      { description: 'invalid UTF-8', body: new Uint8Array([...utf8.encode('old 0\n\n'), 0xff, 0xfe, 0x0a]), expect: 400 },
      { description: 'a body over 64 KiB', body: `old 0\n\n${note}${'x'.repeat(70_000)}`, expect: 413 },
      { description: 'a proof when old is 0', body: `old 0\n${hash}\n\n${note}`, expect: 422 },
    ];
    for (const c of cases) {
      const r = await post(s.url, c.body);
      assert.equal(r.status, c.expect, `${c.description}: ${r.text}`);
      assert.equal(JSON.parse(r.text).status, 'ERROR', c.description);
    }
    const valid = good.body(0);
    const mutated = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.tuple(fc.nat(valid.length), fc.nat(20), fc.string({ maxLength: 12 })).map(([at, cut, insert]) => valid.slice(0, at) + insert + valid.slice(at + cut)),
    );
    await fc.assert(
      fc.asyncProperty(mutated, async (body) => {
        const r = await post(s.url, body);
        assert.ok(r.status < 500, `${r.status} for ${JSON.stringify(body)}: ${r.text}`);
        if (!body.startsWith('old ')) assert.equal(r.status, 400);
      }),
      { numRuns: 200 },
    );
  });

  it('never rolls back the stored size under concurrent add-checkpoint requests', async () => {
    for (let round = 0; round < 3; round++) {
      const from = await storedSize(s, log);
      log.append(20);
      // Twenty requests from the same old size: exactly one may win, the others must see its size.
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => post(s.url, log.body(from, from + i + 1))));
      const won = answers.map((a, i) => ({ ...a, size: from + i + 1 })).filter((a) => a.status === 200);
      assert.equal(won.length, 1, 'one request wins the old size');
      for (const a of answers) if (a.status !== 200) assert.deepEqual([a.status, a.text], [409, `${won[0].size}\n`]);
      assert.equal(await storedSize(s, log), won[0].size);
    }
    // Clients racing from any sizes: the witness ends at the largest size it cosigned.
    const clients = Array.from({ length: 4 }, () => clientOf(s));
    log.append(30);
    const sizes = Array.from({ length: 16 }, (_, i) => log.leaves.length - 15 + i);
    const results = await Promise.allSettled(sizes.map((n, i) => log.cosign(clients[i % 4], n)));
    const cosigned = sizes.filter((_, i) => results[i].status === 'fulfilled');
    assert.ok(cosigned.length > 0);
    assert.equal(await storedSize(s, log), Math.max(...cosigned));
  });
});

describe('two writ homes that witness each other', () => {
  it("cosign each other's logs and refuse their own", async () => {
    const homes = ['a.test', 'b.test'].map((prefix) => {
      const home = tempDir();
      writeKeyPair(join(home, 'keys', 'log.key'));
      return { prefix, home, log: new TestLog(`${prefix}/acme/orders`, readFileSync(join(home, 'keys', 'log.key'), 'utf8')).append(9) };
    });
    const served: Served[] = [];
    for (const [i, h] of homes.entries()) {
      const other = homes[1 - i];
      const config = { ledger: { originPrefix: h.prefix }, witness: { name: `${h.prefix}/witness`, logs: [{ originPrefix: other.prefix, vkey: other.log.signer.vkey }] } };
      writeFileSync(join(h.home, 'config.json'), JSON.stringify(config));
      served.push(await serve({ ...loadConfig(h.home).witness, port: 0 }));
    }
    try {
      for (const [i, h] of homes.entries()) {
        const theirs = served[1 - i];
        for (const grow of [0, 4]) {
          h.log.append(grow);
          verifyByHand((await h.log.cosign(clientOf(theirs)))[0], theirs.witness.vkey, h.log.text());
        }
        await assert.rejects(h.log.cosign(clientOf(served[i])), /answered 404/);
      }
    } finally {
      await Promise.all(served.map((s) => s.app.close()));
    }
  });
});

describe('writ witness key', () => {
  it('prints the witness verifier key, creating the key on first use and reusing it after', async () => {
    const home = tempDir();
    // A child process, as `writ witness key` runs; main.ts wires the command in, this runs it alone.
    const entry = join(packageRoot(), 'dist', 'src', 'transports', 'cli', 'witness.js');
    const script = `import { Command } from 'commander'; import { registerWitnessCommands } from ${JSON.stringify(pathToFileURL(entry).href)};
      const program = new Command('writ').option('--home <dir>'); registerWitnessCommands(program); await program.parseAsync(process.argv.slice(1), { from: 'user' });`;
    const run = async (): Promise<string> => (await execFileAsync(process.execPath, ['--input-type=module', '-e', script, 'witness', 'key', '--home', home], { cwd: packageRoot() })).stdout;
    const first = await run();
    // Its own name (the prefix and a digest of its key), never the bare name of the log it witnesses.
    assert.match(first, /^writ\.local\/witness-[0-9a-f]{8}\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*\n$/);
    assert.equal(statSync(join(home, 'keys', 'witness.key')).mode & 0o777, 0o600);
    assert.equal(await run(), first);
  });
});
