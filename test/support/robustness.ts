/**
 * Shared oracles for the robustness suites (fuzz, crash, concurrency): the DESIGN §3 answer shape,
 * a full read of every log (from the store or over HTTP) with an independent hash-chain check
 * (RFC 6962 §2.1 leaf hash, `prev` links, contiguous indexes), entity snapshots, and a real
 * `writ serve` child process.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CODES, isCode } from '../../src/core/codes.js';
import { readAuthorization, type ReadSigner } from '../../src/sdk/sign.js';
import type { Store } from '../../src/store/port.js';
import type { LeafRecord } from './reference.js';

export interface LedgerEntry {
  readonly tenant: string;
  readonly scroll: string;
  readonly index: number;
  readonly leafHash: string;
  readonly leaf: Buffer;
  readonly record: LeafRecord;
}

/** An answer checked against DESIGN §3. */
export interface CheckedAnswer {
  readonly status: 'OK' | 'PENDING_APPROVAL' | 'ERROR';
  readonly code?: string;
  readonly requestId: string | null;
  readonly commandHash: string | null;
  readonly receipt?: { log: string; index: number; leafHash: string };
  readonly details?: Record<string, unknown>;
  readonly [k: string]: unknown;
}

const ZERO = '0'.repeat(64);

/**
 * Asserts that an HTTP answer is never a 5xx, is JSON in the DESIGN §3 shape, and that an ERROR
 * carries a registered code whose HTTP status is the one sent.
 */
export function checkAnswer(status: number, contentType: unknown, text: string, what = 'answer'): CheckedAnswer {
  assert.ok(status < 500, `${what}: got HTTP ${status}: ${text.slice(0, 500)}`);
  assert.match(String(contentType ?? ''), /^application\/json/, `${what}: content-type ${String(contentType)} for ${text.slice(0, 200)}`);
  let body: CheckedAnswer;
  try {
    body = JSON.parse(text) as CheckedAnswer;
  } catch {
    assert.fail(`${what}: the body is not JSON: ${text.slice(0, 500)}`);
  }
  assert.ok(body !== null && typeof body === 'object' && !Array.isArray(body), `${what}: not a JSON object: ${text.slice(0, 500)}`);
  assert.ok(['OK', 'PENDING_APPROVAL', 'ERROR'].includes(body.status), `${what}: status ${String(body.status)}`);
  assert.ok(body.requestId === null || typeof body.requestId === 'string', `${what}: requestId ${String(body.requestId)}`);
  assert.ok(body.commandHash === null || /^[0-9a-f]{64}$/.test(String(body.commandHash)), `${what}: commandHash ${String(body.commandHash)}`);
  if (body.status === 'ERROR') {
    assert.ok(isCode(body.code), `${what}: code ${String(body.code)} is not in the registry`);
    assert.equal(status, CODES[body.code].http, `${what}: HTTP ${status} does not match ${body.code}`);
  } else {
    assert.equal(body.code, undefined, `${what}: a ${body.status} answer carries a code`);
    assert.ok(status === 200 || status === 202, `${what}: ${body.status} with HTTP ${status}`);
  }
  return body;
}

function parseLeaf(leaf: Buffer): LeafRecord {
  return JSON.parse(leaf.toString('utf8')) as LeafRecord;
}

/** Every record of every log, read through the store's read side. */
export async function readLedgerFromStore(store: Store): Promise<LedgerEntry[]> {
  const out: LedgerEntry[] = [];
  for (const head of await store.logHeads()) {
    for (let from = 0; ; ) {
      const rows = await store.readLedger(head.tenant, head.scroll, from, 1000);
      for (const r of rows) out.push({ tenant: r.tenant, scroll: r.scroll, index: r.index, leafHash: r.leafHash, leaf: r.leaf, record: parseLeaf(r.leaf) });
      if (rows.length < 1000) break;
      from += rows.length;
    }
  }
  return out;
}

/** A GET of a running server, signed by `reader` (a read token for exactly this path). */
export function signedGet(baseUrl: string, path: string, reader: ReadSigner): Promise<Response> {
  return fetch(new URL(path, baseUrl), { headers: { authorization: readAuthorization(reader, 'GET', path) } });
}

/** Every record of every log a running server lists (GET /v1/logs), paged through GET …/records as `reader`. */
export async function readLedgerOverHttp(baseUrl: string, reader: ReadSigner): Promise<LedgerEntry[]> {
  const health = (await (await fetch(`${baseUrl}/v1/logs`)).json()) as { logs: Array<{ tenant: string; scroll: string; size: number }> };
  const out: LedgerEntry[] = [];
  for (const log of health.logs) {
    let from: number | null = 0;
    while (from !== null) {
      const res: Response = await signedGet(baseUrl, `/v1/ledger/${log.tenant}/${log.scroll}/records?from=${from}&limit=1000`, reader);
      assert.equal(res.status, 200, `reading ${log.tenant}/${log.scroll} from ${from}`);
      const page = (await res.json()) as { records: Array<{ index: number; leafHash: string; leaf: string }>; next: number | null };
      for (const r of page.records) {
        const leaf = Buffer.from(r.leaf, 'base64');
        out.push({ tenant: log.tenant, scroll: log.scroll, index: r.index, leafHash: r.leafHash, leaf, record: parseLeaf(leaf) });
      }
      from = page.next;
    }
    assert.ok(out.filter((e) => e.tenant === log.tenant && e.scroll === log.scroll).length >= log.size, `log ${log.tenant}/${log.scroll} is shorter than /v1/logs says`);
  }
  return out;
}

/** `${tenant}/${scroll}` → size, straight from the store. */
export async function storedLogSizes(store: Store): Promise<Map<string, number>> {
  return new Map((await store.logHeads()).map((h) => [`${h.tenant}/${h.scroll}`, h.size]));
}

/** The records appended since `sizes` were taken. */
export async function readSince(store: Store, sizes: ReadonlyMap<string, number>): Promise<LedgerEntry[]> {
  const out: LedgerEntry[] = [];
  for (const head of await store.logHeads()) {
    const from = sizes.get(`${head.tenant}/${head.scroll}`) ?? 0;
    if (head.size <= from) continue;
    for (const r of await store.readLedger(head.tenant, head.scroll, from, head.size - from)) {
      out.push({ tenant: r.tenant, scroll: r.scroll, index: r.index, leafHash: r.leafHash, leaf: r.leaf, record: parseLeaf(r.leaf) });
    }
  }
  return out;
}

/** RFC 6962 §2.1 leaf hash, computed here independently of src/. */
export function leafHash(leaf: Uint8Array): string {
  return createHash('sha256').update(Uint8Array.of(0)).update(leaf).digest('hex');
}

/**
 * Verifies every log: indexes contiguous from 0, each stored leaf hash equal to SHA-256(0x00‖leaf),
 * the record's own index/tenant/scroll equal to where it is stored, and each `prev` equal to the
 * previous leaf hash (64 zeros for the first). Returns the problems found (empty when all verify).
 */
export function chainProblems(entries: readonly LedgerEntry[]): string[] {
  const problems: string[] = [];
  for (const [log, list] of groupByLog(entries)) {
    let prev = ZERO;
    list.forEach((e, i) => {
      const where = `${log}#${e.index}`;
      if (e.index !== i) problems.push(`${where}: expected index ${i}`);
      if (leafHash(e.leaf) !== e.leafHash) problems.push(`${where}: stored leaf hash does not match SHA-256(0x00‖leaf)`);
      if (e.record.index !== e.index || `${e.record.tenant}/${e.record.scroll}` !== log) problems.push(`${where}: the leaf names ${e.record.tenant}/${e.record.scroll}#${e.record.index}`);
      if (e.record.prev !== prev) problems.push(`${where}: prev ${e.record.prev} is not the previous leaf hash ${prev}`);
      prev = e.leafHash;
    });
  }
  return problems;
}

export function groupByLog(entries: readonly LedgerEntry[]): Map<string, LedgerEntry[]> {
  const logs = new Map<string, LedgerEntry[]>();
  for (const e of entries) {
    const key = `${e.tenant}/${e.scroll}`;
    let list = logs.get(key);
    if (!list) logs.set(key, (list = []));
    list.push(e);
  }
  for (const list of logs.values()) list.sort((a, b) => a.index - b.index);
  return logs;
}

/** Entity types the built-in packs write. */
export const ENTITY_TYPES = ['product', 'page', 'page-version', 'route', 'profile', 'entitlement', 'key', 'actor', 'flag'] as const;

/** `${tenant}/${type}/${id}` → current version, for every entity of the given types. */
export async function entityVersions(store: Store, types: readonly string[] = ENTITY_TYPES): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const type of types) for (const e of await store.allEntitiesOfType(type)) out.set(`${e.tenant}/${e.type}/${e.id}`, e.version);
  return out;
}

/**
 * Asserts that entities changed only through the OK records among `added`: every entity that is the
 * target of a record moved up by exactly the number of OK records naming it, and every other
 * entity is untouched (page versions may appear only beside an OK PublishPageVersion).
 */
export function assertEntitiesFollowRecords(before: Map<string, number>, after: Map<string, number>, added: readonly LedgerEntry[]): void {
  const okByTarget = new Map<string, number>();
  for (const e of added) if (e.record.outcome === 'OK' && e.record.target) okByTarget.set(`${e.tenant}/${e.record.target}`, (okByTarget.get(`${e.tenant}/${e.record.target}`) ?? 0) + 1);
  const published = added.some((e) => e.record.outcome === 'OK' && e.record.action === 'PublishPageVersion');
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const delta = (after.get(key) ?? 0) - (before.get(key) ?? 0);
    const expected = okByTarget.get(key) ?? 0;
    if (key.includes('/page-version/')) {
      assert.ok(delta === 0 || (published && delta === 1), `${key} changed by ${delta} without an OK PublishPageVersion record`);
      continue;
    }
    assert.equal(delta, expected, `${key} moved by ${delta} versions, but ${expected} OK records name it`);
  }
}

/**
 * Asserts the audit rule of DESIGN §3 for records added while the test sent commands: each one is
 * either OK or REJECTED with a registered code, and belongs to a command the test signed (so
 * unauthenticated garbage left no trace).
 */
export function assertOnlyAuditedRecords(added: readonly LedgerEntry[], signedHashes: ReadonlySet<string>): void {
  for (const e of added) {
    const where = `${e.tenant}/${e.scroll}#${e.index} (${e.record.action} ${e.record.outcome} ${e.record.code ?? ''})`;
    assert.ok(signedHashes.has(e.record.commandHash), `${where}: the record belongs to no command the test signed`);
    if (e.record.outcome === 'OK') assert.equal(e.record.code, null, `${where}: an OK record carries a code`);
    else {
      assert.equal(e.record.outcome, 'REJECTED', `${where}: unknown outcome`);
      assert.ok(isCode(e.record.code), `${where}: code ${String(e.record.code)} is not in the registry`);
    }
  }
}

/** Asserts that no (tenant, actor, requestId) has more than one OK record in the whole ledger. */
export function assertAppliedAtMostOnce(all: readonly LedgerEntry[]): void {
  const applied = new Set<string>();
  for (const e of all) {
    if (e.record.outcome !== 'OK') continue;
    const key = `${e.tenant}\n${e.record.actor}\n${e.record.requestId}`;
    assert.ok(!applied.has(key), `requestId ${e.record.requestId} of ${e.record.actor} was applied twice`);
    applied.add(key);
  }
}

const BIN = fileURLToPath(new URL('../../../bin/writ', import.meta.url));

/** A `writ serve` child process on 127.0.0.1 and a free port, with its stdout drained. */
export class ServerProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
    private readonly tail: string[],
  ) {}

  /** Starts `node bin/writ --home <home> serve --port 0 [...args]` and waits for its `writ serving` line. */
  static async start(home: string, timeoutMs = 20_000, args: readonly string[] = []): Promise<ServerProcess> {
    const child = spawn(process.execPath, [BIN, '--home', home, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const keep = (line: string) => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
    };
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    createInterface({ input: child.stderr! }).on('line', keep);
    const lines = createInterface({ input: child.stdout! });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`writ serve did not start within ${timeoutMs} ms:\n${tail.join('\n')}`)), timeoutMs);
      void exited.then(({ code, signal }) => reject(new Error(`writ serve exited (${code ?? signal}) before serving:\n${tail.join('\n')}`)));
      // The Fastify logger also writes JSON lines to stdout; every line is read so the pipe never fills.
      lines.on('line', (line) => {
        keep(line);
        try {
          const msg = JSON.parse(line) as { msg?: string; url?: string };
          if (msg.msg === 'writ serving' && typeof msg.url === 'string') {
            clearTimeout(timer);
            resolve(msg.url);
          }
        } catch {
          /* not a JSON line */
        }
      });
    }).catch((err: unknown) => {
      child.kill('SIGKILL');
      throw err;
    });
    return new ServerProcess(child, url, exited, tail);
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines the child printed, for failure messages. */
  get output(): string {
    return this.tail.join('\n');
  }

  /** SIGKILL: no shutdown hook runs; whatever was not durable is lost. */
  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM: a clean shutdown. */
  async stop(): Promise<void> {
    if (this.alive) this.child.kill('SIGTERM');
    await this.exited;
  }
}
