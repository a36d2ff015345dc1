import { strict as assert } from 'node:assert';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { jcs } from '../src/canonical/jcs.js';
import { CODES, type Code } from '../src/core/codes.js';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_DEPTH } from '../src/config/config.js';
import { signEnvelope } from '../src/sdk/sign.js';
import { startHarness, type Harness } from './support/harness.js';
import {
  assertAppliedAtMostOnce,
  assertEntitiesFollowRecords,
  assertOnlyAuditedRecords,
  chainProblems,
  checkAnswer,
  entityVersions,
  readLedgerFromStore,
  readSince,
  storedLogSizes,
  type CheckedAnswer,
} from './support/robustness.js';

/**
 * Property tests that throw hostile input at POST /v1/commands (DESIGN §2, §3): the answer is never
 * a 5xx, always JSON in the §3 shape with a registered code, unauthenticated input leaves no ledger
 * record, and the ledger only gains OK records or audited rejections of commands this test signed.
 */

const MAX_BYTES = DEFAULT_MAX_BODY_BYTES;
const MAX_DEPTH = DEFAULT_MAX_DEPTH;
/** The rate limit would turn most signed commands into RATE_LIMITED rejections; lift it. */
const UNLIMITED = { limits: { rate: 100_000_000, windowSeconds: 60 } };
/** Runs per inject() property; the socket properties run fewer. */
const RUNS = Number(process.env.WRIT_FUZZ_RUNS ?? 400);
fc.configureGlobal({ includeErrorInReport: true });

interface Sent extends CheckedAnswer {
  readonly http: number;
  readonly text: string;
  readonly replayed: boolean;
}
type Transport = (body: string | Uint8Array, headers?: Record<string, string>) => Promise<{ status: number; contentType: unknown; text: string; replayed: boolean }>;

const JSON_CT = { 'content-type': 'application/json' };
/** Content types and Authorization headers a client might send; the body is parsed the same way under all. */
const headerSets = fc.constantFrom<Record<string, string>>(
  JSON_CT,
  {},
  { 'content-type': 'text/plain' },
  { 'content-type': 'application/x-www-form-urlencoded' },
  { 'content-type': 'multipart/form-data; boundary=x' },
  { 'content-type': 'application/json; charset=utf-16' },
  { ...JSON_CT, authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.' },
  { ...JSON_CT, authorization: 'Basic YWRtaW46YWRtaW4=' },
  { ...JSON_CT, authorization: 'Bearer' },
);

/** Raw text with a value spliced in where the object held the marker. */
const MARK = '@@MARK@@';
function withMarker(obj: Record<string, any>, path: readonly (string | number)[], kind: 'key' | 'value'): string {
  const copy = structuredClone(obj);
  if (kind === 'key') {
    const parent = path.reduce<any>((o, k) => o[k], copy);
    const replaced = { [MARK]: 0, ...parent };
    if (path.length === 0) return JSON.stringify(replaced);
    path.slice(0, -1).reduce<any>((o, k) => o[k], copy)[path[path.length - 1]] = replaced;
  } else {
    path.slice(0, -1).reduce<any>((o, k) => o[k], copy)[path[path.length - 1]] = MARK;
  }
  return JSON.stringify(copy);
}
const spliceKey = (text: string, raw: string) => text.replace(`"${MARK}":0`, raw);
const spliceValue = (text: string, raw: string) => text.replace(`"${MARK}"`, raw);

/** A key as JSON text, with one of its characters written as a \u escape (variant > 0). */
function encodeKey(key: string, variant: number): string {
  if (variant === 0 || key.length === 0) return JSON.stringify(key);
  const i = variant % key.length;
  const esc = `\\u${key.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return `"${JSON.stringify(key.slice(0, i)).slice(1, -1)}${esc}${JSON.stringify(key.slice(i + 1)).slice(1, -1)}"`;
}

/** Deepest container nesting, counted as the strict parser counts it (top level = 1). */
function depthOf(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  const children = Array.isArray(v) ? v : Object.values(v);
  return 1 + children.reduce<number>((m, c) => Math.max(m, depthOf(c)), 0);
}

/** What the strict parser refuses besides depth: integers outside ±(2^53 − 1) and prototype keys. */
function strictJsonAccepts(v: unknown): boolean {
  if (typeof v === 'number') return !Number.isInteger(v) || Number.isSafeInteger(v);
  if (v === null || typeof v !== 'object') return true;
  if (Array.isArray(v)) return v.every(strictJsonAccepts);
  return Object.keys(v).every((k) => !['__proto__', 'constructor', 'prototype'].includes(k)) && Object.values(v).every(strictJsonAccepts);
}

function nestedText(depth: number, shape: 'array' | 'object' | 'mixed', inner: string): string {
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    const arr = shape === 'array' || (shape === 'mixed' && i % 3 !== 0);
    open += arr ? '[' : '{"a":';
    close = (arr ? ']' : '}') + close;
  }
  return open + inner + close;
}

function nested(depth: number, leaf: unknown): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { n: v };
  return v;
}

const SKUS = ['sku-a', 'sku-b', 'sku-c'];
const PAGES = ['home', 'about'];
const name = fc.string({ minLength: 0, maxLength: 20 });
const smallJson = fc.jsonValue({ maxDepth: 3 });
/** Payloads per action: valid ones, near misses (each field sometimes wrong), and anything at all. */
const validPayloads: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  UpsertProduct: fc.record({ sku: fc.constantFrom(...SKUS), name: fc.string({ minLength: 1, maxLength: 20 }), price: fc.record({ amount: fc.nat(10_000), currency: fc.constantFrom('EUR', 'USD') }) }),
  SaveDraftPage: fc.record({ pageId: fc.constantFrom(...PAGES), title: name, blocks: fc.array(fc.record({ type: fc.constantFrom('text', 'image'), body: smallJson }), { maxLength: 3 }) }, { requiredKeys: ['pageId', 'blocks'] }),
  SubmitForReview: fc.record({ pageId: fc.constantFrom(...PAGES) }),
  PublishPageVersion: fc.record({ pageId: fc.constantFrom(...PAGES) }),
  RollbackPage: fc.record({ pageId: fc.constantFrom(...PAGES), toVersion: fc.integer({ min: 1, max: 3 }) }),
  UpsertRoute: fc.record({ path: fc.constantFrom('/', '/a'), pageId: fc.constantFrom(...PAGES) }),
  DeleteRoute: fc.record({ path: fc.constantFrom('/', '/a') }),
  UpsertProfile: fc.record({ actor: fc.constantFrom('bob', 'carol'), displayName: name }, { requiredKeys: ['actor'] }),
  GrantEntitlement: fc.record({ subject: fc.constantFrom('bob', 'carol'), entitlement: fc.constantFrom('pro', 'beta') }),
  RevokeEntitlement: fc.record({ subject: fc.constantFrom('bob', 'carol'), entitlement: fc.constantFrom('pro', 'beta') }),
  AssignRole: fc.record({ actor: fc.constantFrom('bob', 'carol'), role: fc.constantFrom('editor', 'publisher', 'viewer') }),
  'writ.RegisterKey': fc.record({ actor: fc.constantFrom('bob', 'carol'), keyId: fc.string({ minLength: 1, maxLength: 12 }), alg: fc.constantFrom('ed25519', 'es256'), publicKey: fc.constantFrom('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n', 'junk') }),
  NoSuchAction: fc.constant({}),
};
const nearMisses: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  UpsertProduct: fc.record({ sku: fc.constantFrom(...SKUS, 'bad sku', ''), name, price: fc.record({ amount: fc.integer({ min: -3, max: 10_000 }), currency: fc.constantFrom('EUR', 'eur', 'EURO') }) }, { requiredKeys: ['sku', 'name'] }),
  PublishPageVersion: fc.record({ pageId: fc.constantFrom(...PAGES), versionId: fc.constantFrom('home@1', 'about@2', 'nope@1', 'home@0') }),
  RollbackPage: fc.record({ pageId: fc.constantFrom(...PAGES, 'ghost'), toVersion: fc.integer({ min: -1, max: 3 }) }),
  UpsertRoute: fc.record({ path: fc.constantFrom('no-slash', '/a b'), pageId: fc.constantFrom(...PAGES) }),
  UpsertProfile: fc.record({ actor: fc.constantFrom('bob', 'carol'), email: fc.constantFrom('bob@example.com', 'not-an-email') }),
  AssignRole: fc.record({ actor: fc.constantFrom('bob', 'carol'), role: fc.constantFrom('Bad Role', '') }),
};
const anyPayload = fc.dictionary(fc.string({ maxLength: 10 }), smallJson, { maxKeys: 5 });

describe('POST /v1/commands under hostile input', () => {
  let h: Harness;
  let socketUrl: string;
  const signedHashes = new Set<string>();
  const protoNames = Object.getOwnPropertyNames(Object.prototype).sort();
  let skuSeq = 0;

  before(async () => {
    h = await startHarness(UNLIMITED);
    socketUrl = await h.listen();
  });
  after(async () => {
    await h?.close();
  });

  function sign(action: string, payload: Record<string, unknown>, extra: Record<string, unknown> = {}): { envelope: Record<string, any>; commandHash: string } {
    const { envelope, commandHash } = signEnvelope({ action, payload, ...extra }, h.admin, { tenant: h.tenant });
    signedHashes.add(commandHash);
    return { envelope: envelope as unknown as Record<string, any>, commandHash };
  }

  /** A fresh, valid, signed command: a product with a new sku, or a page draft. */
  function validCommand(page = false): { envelope: Record<string, any>; commandHash: string } {
    if (page) return sign('SaveDraftPage', { pageId: `fz-${skuSeq++}`, title: 'T', blocks: [{ type: 'text', body: 'hi' }] });
    return sign('UpsertProduct', { sku: `fz-${skuSeq++}`, name: 'Tea', price: { amount: 450, currency: 'EUR' } }, { expectedVersion: 0 });
  }

  const viaInject: Transport = async (body, headers = JSON_CT) => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/commands', payload: typeof body === 'string' ? body : Buffer.from(body), headers });
    return { status: res.statusCode, contentType: res.headers['content-type'], text: res.body, replayed: res.headers['idempotent-replayed'] === 'true' };
  };
  const viaSocket: Transport = async (body, headers = JSON_CT) => {
    const res = await fetch(`${socketUrl}/v1/commands`, { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), headers });
    return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text(), replayed: res.headers.get('idempotent-replayed') === 'true' };
  };

  /**
   * Sends one body, checks the answer's shape, and checks what it left in the ledger: nothing when
   * `unauthenticated`, otherwise only audited records of commands this test signed.
   */
  async function probe(send: Transport, body: string | Uint8Array, opts: { headers?: Record<string, string>; unauthenticated?: boolean; expect?: readonly Code[] } = {}): Promise<Sent> {
    const sizes = await storedLogSizes(h.writ.store);
    const res = await send(body, opts.headers);
    const answer = checkAnswer(res.status, res.contentType, res.text, `answer to ${Buffer.from(typeof body === 'string' ? body : Buffer.from(body)).toString('utf8').slice(0, 160)}`);
    if (opts.expect) assert.ok(answer.code !== undefined && opts.expect.includes(answer.code as Code), `expected ${opts.expect.join(' or ')}, got ${res.status} ${res.text.slice(0, 300)}`);
    const added = await readSince(h.writ.store, sizes);
    if (opts.unauthenticated) assert.deepEqual(added.map((e) => e.record), [], `unauthenticated input left ledger records; answer ${res.text.slice(0, 300)}`);
    assertOnlyAuditedRecords(added, signedHashes);
    return { ...answer, http: res.status, text: res.text, replayed: res.replayed };
  }

  /** Runs a block and then checks the whole store: chain, at-most-once, entities, no pollution, alive. */
  async function audited(run: () => Promise<void>): Promise<void> {
    const sizes = await storedLogSizes(h.writ.store);
    const entitiesBefore = await entityVersions(h.writ.store);
    await run();
    const added = await readSince(h.writ.store, sizes);
    assertOnlyAuditedRecords(added, signedHashes);
    assertEntitiesFollowRecords(entitiesBefore, await entityVersions(h.writ.store), added);
    const all = await readLedgerFromStore(h.writ.store);
    assert.deepEqual(chainProblems(all), []);
    assertAppliedAtMostOnce(all);
    assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), protoNames, 'Object.prototype was modified');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    const health = await h.get('/healthz');
    assert.equal(health.status, 200);
    assert.equal(h.writ.idempotency.inFlight, 0, 'an idempotency claim leaked');
  }

  // ----- arbitraries over raw text -----

  const TOKENS = ['{', '}', '[', ']', ':', ',', '"', '"v"', '1', '-', '0', 'e', '.', '1e400', 'true', 'nul', 'null', '"\\u', '"\\ud800"', '"\\x"', ' ', '\t', '\u0000', '"payload"', '9007199254740993', '"requestId"', '\\', '\u2028'];
  const garbage = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 400 }),
    fc.uint8Array({ maxLength: 400 }),
    fc.array(fc.constantFrom(...TOKENS), { maxLength: 80 }).map((t) => t.join('')),
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  );
  const BAD_UTF8 = [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]];
  const corruption = fc.record({
    how: fc.constantFrom('truncate', 'badUtf8', 'loneSurrogate', 'trailing', 'comment', 'singleQuotes', 'nan', 'bigInteger', 'infinity', 'leadingZero', 'plusSign', 'hexNumber'),
    at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
    pick: fc.nat(),
  });

  /** Applies a corruption to a valid product envelope; every result is malformed JSON for writ. */
  function corrupt(text: string, c: { how: string; at: number; pick: number }): Uint8Array | string {
    const at = Math.floor(c.at * text.length);
    switch (c.how) {
      case 'truncate': return text.slice(0, at);
      case 'badUtf8': return Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from(BAD_UTF8[c.pick % BAD_UTF8.length]), Buffer.from(text.slice(at))]);
      case 'loneSurrogate': return text.replace('"name":"', `"name":"${['\\ud800', '\\udfff', 'x\\ud83d'][c.pick % 3]}`);
      case 'trailing': return text + [',', '}', 'x', '{}', '\u0000', '"'][c.pick % 6];
      case 'comment': return `/* writ */${text}`;
      case 'singleQuotes': return text.replace(/"/g, "'");
      case 'nan': return text.replace('"amount":450', '"amount":NaN');
      case 'bigInteger': return text.replace('"amount":450', '"amount":9007199254740993');
      case 'infinity': return text.replace('"amount":450', `"amount":${['1e400', '-1e400', 'Infinity'][c.pick % 3]}`);
      case 'leadingZero': return text.replace('"amount":450', '"amount":0450');
      case 'plusSign': return text.replace('"amount":450', '"amount":+450');
      default: return text.replace('"amount":450', '"amount":0x1c2');
    }
  }

  const fieldPaths: ReadonlyArray<readonly string[]> = [
    ['v'], ['action'], ['requestId'], ['actor'], ['tenant'], ['timestamp'], ['nonce'], ['expectedVersion'], ['target'], ['payload'], ['signature'],
    ['signature', 'keyId'], ['signature', 'alg'], ['signature', 'sig'], ['payload', 'sku'], ['payload', 'name'], ['payload', 'price'], ['payload', 'price', 'amount'], ['payload', 'price', 'currency'],
  ];
  const confusedValue = fc.oneof(
    fc.constantFrom('1e400', '-1e400', '9007199254740993', '-9007199254740993', '9007199254740992', '1.5', '-1', '-0', '0.0', '1e21', '1E2', '[]', '{}', 'null', 'true', '""', '"1"', '[1]', '{"a":1}', '"0"', `"${'x'.repeat(5000)}"`),
    fc.integer().map(String),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 40 }).map((s) => JSON.stringify(s)),
  );

  function sameCanonical(rawA: string, b: unknown): boolean {
    try {
      return jcs(JSON.parse(rawA)) === jcs(b);
    } catch {
      return false;
    }
  }

  // ----- the properties, parameterised by transport -----

  const properties = {
    garbage: (send: Transport, numRuns: number) =>
      fc.assert(fc.asyncProperty(garbage, headerSets, async (body, headers) => void (await probe(send, body, { headers, unauthenticated: true }))), { numRuns }),

    corruptedEnvelopes: (send: Transport, numRuns: number) =>
      fc.assert(
        fc.asyncProperty(corruption, async (c) => {
          const text = JSON.stringify(validCommand().envelope);
          await probe(send, corrupt(text, c), { unauthenticated: true, expect: ['INVALID_ENVELOPE'] });
        }),
        { numRuns },
      ),

    oversized: (send: Transport, numRuns: number) =>
      fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 64 * 1024 }), fc.constantFrom('whitespace', 'string', 'bytes'), async (extra, style) => {
          const { envelope } = validCommand();
          let body: string | Uint8Array;
          if (style === 'bytes') body = new Uint8Array(MAX_BYTES + extra).fill(0x7b);
          else if (style === 'whitespace') {
            const text = JSON.stringify(envelope);
            body = text + ' '.repeat(MAX_BYTES + extra - text.length);
          } else {
            const text = JSON.stringify({ ...envelope, payload: { ...envelope.payload, description: MARK } });
            body = spliceValue(text, JSON.stringify('d'.repeat(MAX_BYTES + extra - text.length + MARK.length)));
          }
          assert.equal(Buffer.byteLength(typeof body === 'string' ? body : Buffer.from(body)), MAX_BYTES + extra);
          await probe(send, body, { unauthenticated: true, expect: ['PAYLOAD_TOO_LARGE'] });
        }),
        { numRuns },
      ),
  };

  describe('over inject()', () => {
    it('answers arbitrary bytes, strings and JSON values with a registered client error and records nothing', () =>
      audited(() => properties.garbage(viaInject, RUNS)));

    it('refuses truncated, badly encoded and non-I-JSON variants of a valid envelope as INVALID_ENVELOPE', () =>
      audited(() => properties.corruptedEnvelopes(viaInject, RUNS)));

    it('refuses every body over the size limit with PAYLOAD_TOO_LARGE before reading it as JSON', () =>
      audited(() => properties.oversized(viaInject, 40)));

    it('accepts a validly signed body padded right up to the size limit', () =>
      audited(() =>
        fc.assert(
          fc.asyncProperty(fc.integer({ min: 0, max: 1000 }), async (short) => {
            const { envelope, commandHash } = validCommand();
            const text = JSON.stringify(envelope);
            const answer = await probe(viaInject, text + ' \n\t\r'.repeat(MAX_BYTES).slice(0, MAX_BYTES - short - text.length));
            assert.equal(answer.status, 'OK', answer.text);
            assert.equal(answer.commandHash, commandHash);
          }),
          { numRuns: 10 },
        ),
      ));

    it('accepts signed nesting up to the depth limit and refuses anything deeper as INVALID_ENVELOPE', () =>
      audited(() =>
        fc.assert(
          fc.asyncProperty(fc.integer({ min: 0, max: MAX_DEPTH + 8 }), smallJson, async (depth, leaf) => {
            const { envelope } = sign('SaveDraftPage', { pageId: `deep-${skuSeq++}`, blocks: [{ type: 'text', body: nested(depth, leaf) }] });
            const answer = await probe(viaInject, JSON.stringify(envelope));
            if (depthOf(envelope) <= MAX_DEPTH && strictJsonAccepts(leaf)) assert.equal(answer.status, 'OK', answer.text);
            else assert.equal(answer.code, 'INVALID_ENVELOPE', answer.text);
          }),
          { numRuns: 100 },
        ),
      ));

    it('refuses nesting far beyond the limit anywhere in the envelope without recording it', () =>
      audited(() =>
        fc.assert(
          fc.asyncProperty(
            fc.integer({ min: MAX_DEPTH, max: 50_000 }),
            fc.constantFrom<'array' | 'object' | 'mixed'>('array', 'object', 'mixed'),
            fc.constantFrom<readonly (string | number)[]>([], ['payload'], ['signature'], ['payload', 'blocks', 0]),
            fc.boolean(),
            async (depth, shape, path, bare) => {
              const inner = nestedText(depth, shape, '1');
              const body = bare ? inner : spliceKey(withMarker(validCommand(true).envelope, path, 'key'), `"deep":${inner},`);
              await probe(viaInject, body, { unauthenticated: true, expect: [Buffer.byteLength(body) > MAX_BYTES ? 'PAYLOAD_TOO_LARGE' : 'INVALID_ENVELOPE'] });
            },
          ),
          { numRuns: 150 },
        ),
      ));

    it('refuses duplicate keys at any depth, however the key is escaped', () =>
      audited(() =>
        fc.assert(
          fc.asyncProperty(fc.boolean(), fc.nat(), fc.option(fc.string({ maxLength: 8 })), fc.nat(), smallJson, async (page, where, fresh, variant, value) => {
            const { envelope } = validCommand(page);
            const objects: Array<readonly (string | number)[]> = [[], ['payload'], ['signature'], page ? ['payload', 'blocks', 0] : ['payload', 'price']];
            const path = objects[where % objects.length];
            const obj = path.reduce<any>((o, k) => o[k], envelope) as Record<string, unknown>;
            const keys = Object.keys(obj);
            const raw =
              fresh === null
                ? `${encodeKey(keys[where % keys.length], variant)}:${JSON.stringify(value)}`
                : `${encodeKey(fresh, variant)}:${JSON.stringify(value)},${JSON.stringify(fresh)}:${JSON.stringify(value)},`;
            await probe(viaInject, spliceKey(withMarker(envelope, path, 'key'), fresh === null ? raw + ',' : raw), { unauthenticated: true, expect: ['INVALID_ENVELOPE'] });
          }),
          { numRuns: RUNS },
        ),
      ));

    it('refuses __proto__, constructor and prototype keys at any depth and pollutes nothing', () =>
      audited(() =>
        fc.assert(
          fc.asyncProperty(
            fc.constantFrom('__proto__', 'constructor', 'prototype'),
            fc.nat(),
            fc.integer({ min: -1, max: 12 }),
            fc.constantFrom<readonly (string | number)[]>([], ['payload'], ['signature'], ['payload', 'blocks', 0]),
            fc.oneof(fc.constant({ polluted: true }), smallJson),
            async (key, variant, wrap, path, value) => {
              const forbidden = `{${encodeKey(key, variant)}:${JSON.stringify(value)}}`;
              const raw = wrap < 0 ? `${encodeKey(key, variant)}:${JSON.stringify(value)},` : `"x":${nestedText(wrap, 'mixed', forbidden)},`;
              await probe(viaInject, spliceKey(withMarker(validCommand(true).envelope, path, 'key'), raw), { unauthenticated: true, expect: ['INVALID_ENVELOPE'] });
            },
          ),
          { numRuns: RUNS },
        ),
      ));

    it('rejects type-confused fields, unless the replacement is canonically the same value', () =>
      audited(() =>
        fc.assert(
          fc.asyncProperty(fc.constantFrom(...fieldPaths), confusedValue, fc.boolean(), async (path, raw, withVersion) => {
            const { envelope } = withVersion ? validCommand() : sign('UpsertProduct', { sku: `tc-${skuSeq++}`, name: 'Tea', price: { amount: 450, currency: 'EUR' } });
            const original = path.reduce<any>((o, k) => (o === undefined ? undefined : o[k]), envelope);
            const answer = await probe(viaInject, spliceValue(withMarker(envelope, path, 'value'), raw));
            if (original === undefined || !sameCanonical(raw, original)) {
              assert.equal(answer.status, 'ERROR', `${path.join('.')} = ${raw} was accepted: ${answer.text}`);
              assert.ok(answer.http === 400 || answer.http === 401, `${path.join('.')} = ${raw}: ${answer.text}`);
            }
          }),
          { numRuns: RUNS },
        ),
      ));

    it('rejects non-base64, wrong-length and foreign signatures as unauthenticated', () =>
      audited(() =>
        fc.assert(
          fc.asyncProperty(
            fc.oneof(
              fc.string({ maxLength: 120 }),
              fc.base64String({ maxLength: 200 }),
              fc.uint8Array({ minLength: 64, maxLength: 64 }).map((b) => Buffer.from(b).toString('base64')),
              fc.uint8Array({ minLength: 0, maxLength: 128 }).map((b) => Buffer.from(b).toString('base64url')),
            ),
            fc.constantFrom('ed25519', 'es256', 'hs256'),
            fc.constantFrom('admin#1', 'admin#2', 'bob#1', ''),
            async (sig, alg, keyId) => {
              const { envelope } = validCommand();
              const body = JSON.stringify({ ...envelope, signature: { keyId, alg, sig } });
              await probe(viaInject, body, { unauthenticated: true, expect: ['INVALID_ENVELOPE', 'BAD_SIGNATURE', 'UNKNOWN_KEY'] });
            },
          ),
          { numRuns: RUNS },
        ),
      ));

    it('never applies a randomly mutated signed envelope unless its canonical bytes are unchanged', () =>
      audited(() => mutations(viaInject, RUNS)));

    it('applies validly signed envelopes with random payloads at most once, and replays every stored outcome byte for byte', () =>
      audited(async () => {
        const seen = new Map<string, number>();
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom(...Object.keys(validPayloads)).chain((action) => fc.tuple(fc.constant(action), fc.oneof({ weight: 4, arbitrary: validPayloads[action] }, { weight: 1, arbitrary: nearMisses[action] ?? anyPayload }, { weight: 1, arbitrary: anyPayload }))),
            fc.oneof(
              { weight: 12, arbitrary: fc.constant(null) },
              { weight: 4, arbitrary: fc.integer({ min: 0, max: 3 }) },
              { weight: 1, arbitrary: fc.constantFrom(Number.MAX_SAFE_INTEGER, 2 ** 31, -1, 0.5, 1e21, -0) },
            ),
            fc.oneof(
              { weight: 12, arbitrary: fc.constant(null) },
              { weight: 3, arbitrary: fc.constantFrom('product/sku-a', 'page/home', 'route/x') },
              { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map((id) => `product/${id}`) },
            ),
            fc.boolean(),
            async ([action, payload], expectedVersion, target, resend) => {
              const extra = { ...(expectedVersion === null ? {} : { expectedVersion }), ...(target === null ? {} : { target }) };
              const { envelope, commandHash } = sign(action, payload, extra);
              const text = JSON.stringify(envelope);
              const sizes = await storedLogSizes(h.writ.store);
              const first = await probe(viaInject, text);
              const outcome = first.status === 'OK' ? 'OK' : `${first.receipt ? 'recorded' : 'unrecorded'} ${first.code}`;
              seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
              const added = await readSince(h.writ.store, sizes);
              if (first.receipt) {
                assert.equal(first.commandHash, commandHash);
                const rec = added.find((e) => first.receipt!.log.endsWith(`/${e.tenant}/${e.scroll}`) && e.index === first.receipt!.index);
                assert.ok(rec, `no record at the receipt ${JSON.stringify(first.receipt)}`);
                assert.equal(rec.leafHash, first.receipt.leafHash);
                assert.equal(rec.record.commandHash, commandHash);
                assert.equal(rec.record.outcome, first.status === 'OK' ? 'OK' : 'REJECTED');
                assert.equal(rec.record.code, first.code ?? null);
              } else {
                assert.deepEqual(added, [], `an answer without a receipt left records: ${first.text}`);
              }
              const stored = await h.writ.store.getOutcome(envelope.tenant, envelope.actor, envelope.requestId);
              if (first.status === 'OK' || (first.receipt && !CODES[first.code as Code].transient && first.code !== 'NONCE_REPLAY')) {
                assert.ok(stored, `the outcome of ${first.text} was not stored`);
              }
              if (!resend) return;
              const second = await probe(viaInject, text);
              if (stored) {
                assert.equal(stored.response, first.text);
                assert.equal(second.text, first.text, 'a retransmission was not answered with the stored response');
                assert.equal(second.http, first.http);
                assert.equal(second.replayed, true);
              } else if (!first.receipt) {
                assert.equal(second.code, first.code);
              }
            },
          ),
          { numRuns: RUNS },
        );
        // The property means something only if both applied commands and recorded rejections occurred.
        const counts = Object.fromEntries(seen);
        if (process.env.WRIT_FUZZ_STATS) console.log(counts);
        assert.ok((seen.get('OK') ?? 0) > 0, `no command was applied: ${JSON.stringify(counts)}`);
        assert.ok([...seen.keys()].some((k) => k.startsWith('recorded')), `no rejection was recorded: ${JSON.stringify(counts)}`);
      }));
  });

  /** Random bit flips, byte changes, deletions and additions applied to a fresh signed envelope. */
  function mutations(send: Transport, numRuns: number): Promise<void> {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('byte' as const), at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), len: fc.integer({ min: 1, max: 8 }) }),
      fc.record({ kind: fc.constant('delete' as const), path: fc.constantFrom(...fieldPaths) }),
      fc.record({ kind: fc.constant('add' as const), where: fc.constantFrom<readonly string[]>([], ['payload'], ['signature'], ['payload', 'price']), key: fc.oneof(fc.constantFrom('v', 'extra', 'signature', 'expectedVersion', 'target', 'keyId'), fc.string({ maxLength: 6 })), value: smallJson }),
    );
    return fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 4 }), headerSets, async (ops, headers) => {
        const { envelope, commandHash } = validCommand();
        const obj = structuredClone(envelope);
        for (const o of ops) {
          if (o.kind === 'delete') {
            const parent = o.path.slice(0, -1).reduce<any>((x, k) => (x && typeof x === 'object' ? x[k] : undefined), obj);
            if (parent && typeof parent === 'object') delete parent[o.path[o.path.length - 1]];
          } else if (o.kind === 'add') {
            const parent = o.where.reduce<any>((x, k) => (x && typeof x === 'object' ? x[k] : undefined), obj);
            if (parent && typeof parent === 'object' && !Array.isArray(parent)) Object.defineProperty(parent, o.key, { value: o.value, enumerable: true, configurable: true, writable: true });
          }
        }
        const bytes = Buffer.from(JSON.stringify(obj));
        let out = bytes;
        for (const o of ops) {
          const at = 'at' in o ? Math.floor(o.at * out.length) : 0;
          if (o.kind === 'flip') out[at] ^= 1 << o.bit;
          else if (o.kind === 'byte') out[at] = o.byte;
          else if (o.kind === 'cut') out = Buffer.concat([out.subarray(0, at), out.subarray(at + o.len)]);
        }
        const answer = await probe(send, out, { headers });
        if (answer.status === 'OK') assert.equal(answer.commandHash, commandHash, 'a mutated envelope was applied as a different command');
      }),
      { numRuns },
    );
  }

  describe('over a real socket', () => {
    it('answers garbage bodies with registered client errors and records nothing', () => audited(() => properties.garbage(viaSocket, 100)));

    it('refuses corrupted envelopes as INVALID_ENVELOPE', () => audited(() => properties.corruptedEnvelopes(viaSocket, 60)));

    it('refuses oversized bodies, with or without a Content-Length, as PAYLOAD_TOO_LARGE', () =>
      audited(async () => {
        await properties.oversized(viaSocket, 10);
        const chunked = new ReadableStream<Uint8Array>({
          start(c) {
            for (let i = 0; i < 5; i++) c.enqueue(new Uint8Array(MAX_BYTES / 4).fill(0x20));
            c.close();
          },
        });
        const res = await fetch(`${socketUrl}/v1/commands`, { method: 'POST', body: chunked, headers: JSON_CT, duplex: 'half' } as RequestInit);
        const answer = checkAnswer(res.status, res.headers.get('content-type'), await res.text());
        assert.equal(answer.code, 'PAYLOAD_TOO_LARGE');
      }));

    it('never applies a mutated signed envelope as a different command', () => audited(() => mutations(viaSocket, 100)));

    it('survives malformed HTTP framing and keeps answering', () =>
      audited(async () => {
        const { port } = new URL(socketUrl);
        const framing = fc.oneof(
          fc.uint8Array({ minLength: 1, maxLength: 300 }),
          fc.tuple(fc.constantFrom('999999999999999999', '-1', 'abc', '1, 2', ''), fc.string({ maxLength: 50 })).map(([len, body]) => `POST /v1/commands HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${len}\r\n\r\n${body}`),
          fc.tuple(fc.constantFrom('zz', 'fffffffffffffffff', '-1', '5;x=' + 'y'.repeat(100)), fc.string({ maxLength: 50 })).map(([size, body]) => `POST /v1/commands HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${size}\r\n${body}\r\n0\r\n\r\n`),
          fc.string({ maxLength: 200 }).map((s) => `POST /v1/commands HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n${s}`),
        );
        await fc.assert(
          fc.asyncProperty(framing, async (raw) => {
            const sizes = await storedLogSizes(h.writ.store);
            await new Promise<void>((resolve) => {
              const sock = connect(Number(port), '127.0.0.1');
              const done = () => {
                clearTimeout(guard);
                sock.destroy();
                resolve();
              };
              // Safety bound only: a request the server still waits on is dropped after it.
              const guard = setTimeout(done, 2000);
              sock.on('error', done).on('close', done).on('data', done);
              sock.end(raw);
            });
            assert.deepEqual(await readSince(h.writ.store, sizes), []);
          }),
          { numRuns: 40 },
        );
        const alive = await fetch(`${socketUrl}/healthz`);
        assert.equal(alive.status, 200);
      }));
  });
});
